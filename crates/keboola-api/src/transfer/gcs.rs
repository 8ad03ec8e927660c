//! Google Cloud Storage (JSON API) with the file's OAuth access token: a streamed media
//! upload when the size is known, a resumable upload in parts otherwise, and an
//! `alt=media` download. The endpoint can be replaced (`STORAGE_EMULATOR_HOST`).

use std::io::Read;

use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, ResponseBody};
use crate::secret::Token;
use crate::storage::files::FileCredentials;
use crate::transfer::{
    TransferConfig, TransferError, drain, fill_part, parse_presigned, raw_request, required,
    store_error, stream_up,
};

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

/// Resumable parts must be multiples of this, all but the last.
const RESUMABLE_QUANTUM: usize = 256 * 1024;

/// `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name={key}`, streamed with
/// `Content-Length`; without a known size, a resumable upload.
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
        .query("name", key)
        .bearer_token(&token);
    match size {
        Some(size) => stream_up(
            call.query("uploadType", "media"),
            "application/octet-stream",
            data,
            Some(size),
        ),
        None => resumable(
            http,
            call.query("uploadType", "resumable"),
            &token,
            data,
            cfg,
        ),
    }
}

/// Starts a session (its URL comes in `Location`), then sends parts with
/// `Content-Range`; the server answers 308 until the last one.
fn resumable(
    http: &Http,
    start: crate::http::RequestBuilder<'_>,
    token: &Token,
    data: &mut (dyn Read + Send),
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let answer = start
        .body_bytes("application/json", b"{}".to_vec())
        .send_streaming()
        .map_err(store_error)?;
    let session = answer.location.clone().ok_or_else(|| {
        ApiError::invalid_response("POST", "", "Cloud Storage sent no upload session URL")
    })?;
    drain(answer)?;
    let session = parse_presigned(&session, Method::Put)?;
    let part_size = cfg.part_size.max(1).div_ceil(RESUMABLE_QUANTUM) * RESUMABLE_QUANTUM;
    // One buffer for every part: sized once, refilled in place.
    let mut part = Vec::with_capacity(part_size);
    let mut offset = 0u64;
    loop {
        let ended = fill_part(data, &mut part, part_size).map_err(TransferError::Local)?;
        let len = part.len() as u64;
        let range = match (ended, len) {
            (true, 0) => format!("bytes */{offset}"),
            (true, _) => format!("bytes {offset}-{}/{}", offset + len - 1, offset + len),
            (false, _) => format!("bytes {offset}-{}/*", offset + len - 1),
        };
        let result = raw_request(http, Method::Put, session.clone())?
            .bearer_token(token)
            .header("content-range", &range)
            .idempotent()
            .body_slice("application/octet-stream", &part)
            .send_streaming();
        offset += len;
        match result {
            Ok(body) => {
                drain(body)?;
                if ended {
                    return Ok(offset);
                }
                return Err(ApiError::invalid_response(
                    "PUT",
                    "",
                    "Cloud Storage finished the upload before the last part",
                )
                .into());
            }
            // 308 Resume Incomplete: the part was stored, send the next.
            Err(e) if e.status() == Some(308) && !ended => {}
            Err(e) => return Err(store_error(e).into()),
        }
    }
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
