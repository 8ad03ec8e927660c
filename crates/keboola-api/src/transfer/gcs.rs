//! Google Cloud Storage (JSON API) with the file's OAuth access token: a media upload
//! and an `alt=media` download. The endpoint can be replaced (`STORAGE_EMULATOR_HOST`).

use std::io::Read;

use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, ResponseBody};
use crate::secret::Token;
use crate::storage::files::FileCredentials;
use crate::transfer::{TransferConfig, TransferError, required, store_error, stream_up};

const GOOGLE: &str = "https://storage.googleapis.com";

fn endpoint(cfg: &TransferConfig) -> Result<Url, ApiError> {
    match &cfg.gcs_endpoint {
        Some(url) => Ok(url.clone()),
        None => Url::parse(GOOGLE).map_err(|_| ApiError::config("invalid GCS endpoint")),
    }
}

fn access_token(creds: &FileCredentials, at: &str) -> Result<Token, ApiError> {
    Token::new(required(creds, at)?)
        .map_err(|_| ApiError::config("the file's GCS access token is not a valid header value"))
}

/// `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name={key}`, streamed.
pub(crate) fn upload(
    http: &Http,
    creds: &FileCredentials,
    data: &mut (dyn Read + Send),
    size: Option<u64>,
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let bucket = required(creds, "/gcsUploadParams/bucket")?;
    let key = required(creds, "/gcsUploadParams/key")?;
    let token = access_token(creds, "/gcsUploadParams/access_token")?;
    let base = endpoint(cfg)?;
    let call = http
        .request_url(
            Method::Post,
            &base,
            &["upload", "storage", "v1", "b", bucket, "o"],
        )
        .query("uploadType", "media")
        .query("name", key)
        .bearer_token(&token);
    stream_up(call, "application/octet-stream", data, size)
}

/// `GET /storage/v1/b/{bucket}/o/{key}?alt=media` (the key as one encoded segment),
/// with the download token (`gcsCredentials`, else the upload one).
pub(crate) fn get(
    http: &Http,
    creds: &FileCredentials,
    bucket: &str,
    key: &str,
    cfg: &TransferConfig,
) -> Result<ResponseBody, ApiError> {
    let at = if creds.get("gcsCredentials").is_some() {
        "/gcsCredentials/access_token"
    } else {
        "/gcsUploadParams/access_token"
    };
    let token = access_token(creds, at)?;
    let base = endpoint(cfg)?;
    http.request_url(
        Method::Get,
        &base,
        &["storage", "v1", "b", bucket, "o", key],
    )
    .query("alt", "media")
    .bearer_token(&token)
    .send_streaming()
    .map_err(store_error)
}
