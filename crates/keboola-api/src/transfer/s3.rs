//! S3: PutObject, multipart upload and GetObject, signed (SigV4, presigned in the query)
//! with the file's federation credentials and sent through our [`Http`].

use std::io::Read;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, ResponseBody};
use crate::storage::files::{FileCredentials, StorageFile};
use crate::transfer::{
    TransferConfig, TransferError, drain, fill_part, raw_request, required, store_error,
};

/// Lifetime of each signature: a request is signed right before it is sent.
const SIGNATURE_TTL: Duration = Duration::from_secs(3600);

struct Target {
    bucket: Bucket,
    credentials: Credentials,
}

fn target(
    file: &StorageFile,
    bucket: &str,
    credentials_at: &str,
    cfg: &TransferConfig,
) -> Result<Target, ApiError> {
    let creds = &file.credentials;
    let region = file
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let endpoint = match &cfg.s3_endpoint {
        Some(url) => url.clone(),
        None => Url::parse(&format!("https://s3.{region}.amazonaws.com"))
            .map_err(|_| ApiError::config("the file's region is not a valid host name"))?,
    };
    let bucket = Bucket::new(endpoint, UrlStyle::Path, bucket.to_owned(), region)
        .map_err(|_| ApiError::config("the S3 endpoint or bucket name is not valid"))?;
    let key_id = required(creds, &format!("{credentials_at}/AccessKeyId"))?;
    let secret = required(creds, &format!("{credentials_at}/SecretAccessKey"))?;
    let credentials = match creds.text(&format!("{credentials_at}/SessionToken")) {
        Some(token) => Credentials::new_with_token(key_id, secret, token),
        None => Credentials::new(key_id, secret),
    };
    Ok(Target {
        bucket,
        credentials,
    })
}

/// Signed headers of an upload: the ACL and server-side encryption Storage asks for.
fn upload_headers(creds: &FileCredentials) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    if let Some(acl) = creds.text("/uploadParams/acl") {
        headers.push(("x-amz-acl", acl.to_owned()));
    }
    if let Some(sse) = creds.text("/uploadParams/x-amz-server-side-encryption") {
        headers.push(("x-amz-server-side-encryption", sse.to_owned()));
    }
    headers
}

fn sign<'a>(mut action: impl S3Action<'a>, headers: &'a [(&'static str, String)]) -> Url {
    for (name, value) in headers {
        action.headers_mut().insert(*name, value.as_str());
    }
    action.sign(SIGNATURE_TTL)
}

pub(crate) fn upload(
    http: &Http,
    file: &StorageFile,
    data: &mut (dyn Read + Send),
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let creds = &file.credentials;
    let bucket = required(creds, "/uploadParams/bucket")?;
    let key = required(creds, "/uploadParams/key")?;
    let t = target(file, bucket, "/uploadParams/credentials", cfg)?;
    let headers = upload_headers(creds);
    let part_size = cfg.part_size.max(1);
    // One buffer for every part: sized once, refilled in place.
    let mut part = Vec::with_capacity(part_size);
    let ended = fill_part(data, &mut part, part_size).map_err(TransferError::Local)?;
    if ended {
        let url = sign(t.bucket.put_object(Some(&t.credentials), key), &headers);
        let sent = part.len() as u64;
        let mut call = raw_request(http, Method::Put, url)?.idempotent();
        for (name, value) in &headers {
            call = call.header(name, value);
        }
        drain(
            call.body_slice("application/octet-stream", &part)
                .send_streaming()
                .map_err(store_error)?,
        )?;
        return Ok(sent);
    }
    multipart(http, &t, key, &headers, data, part, cfg)
}

fn multipart(
    http: &Http,
    t: &Target,
    key: &str,
    headers: &[(&'static str, String)],
    data: &mut (dyn Read + Send),
    mut part: Vec<u8>,
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let url = sign(
        t.bucket.create_multipart_upload(Some(&t.credentials), key),
        headers,
    );
    let mut call = raw_request(http, Method::Post, url)?;
    for (name, value) in headers {
        call = call.header(name, value);
    }
    let answer = drain(call.send_streaming().map_err(store_error)?)?;
    let answer = String::from_utf8_lossy(&answer);
    let created = rusty_s3::actions::CreateMultipartUpload::parse_response(&answer)
        .map_err(|_| ApiError::invalid_response("POST", "", "S3 sent no multipart upload id"))?;
    let upload_id = created.upload_id().to_owned();
    let result = upload_parts(http, t, key, &upload_id, data, &mut part, cfg);
    if result.is_err() {
        // Best effort: an abandoned upload only costs storage until S3's lifecycle rules.
        let url = t
            .bucket
            .abort_multipart_upload(Some(&t.credentials), key, &upload_id)
            .sign(SIGNATURE_TTL);
        if let Ok(call) = raw_request(http, Method::Delete, url) {
            let _ = call.send();
        }
    }
    result
}

fn upload_parts(
    http: &Http,
    t: &Target,
    key: &str,
    upload_id: &str,
    data: &mut (dyn Read + Send),
    part: &mut Vec<u8>,
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let mut etags = Vec::new();
    let mut total = 0u64;
    loop {
        let number = u16::try_from(etags.len() + 1)
            .map_err(|_| ApiError::config("the file needs more than 65535 parts"))?;
        let url = t
            .bucket
            .upload_part(Some(&t.credentials), key, number, upload_id)
            .sign(SIGNATURE_TTL);
        total += part.len() as u64;
        let body = raw_request(http, Method::Put, url)?
            .idempotent()
            .body_slice("application/octet-stream", part.as_slice())
            .send_streaming()
            .map_err(store_error)?;
        let etag = body
            .etag
            .clone()
            .ok_or_else(|| ApiError::invalid_response("PUT", "", "S3 sent no ETag for a part"))?;
        drain(body)?;
        etags.push(etag);
        // After the last (shorter) part this reads nothing and ends the loop.
        fill_part(data, part, cfg.part_size.max(1)).map_err(TransferError::Local)?;
        if part.is_empty() {
            break;
        }
    }
    let complete = t.bucket.complete_multipart_upload(
        Some(&t.credentials),
        key,
        upload_id,
        etags.iter().map(String::as_str),
    );
    let url = complete.sign(SIGNATURE_TTL);
    let xml = complete.body();
    let answer = drain(
        raw_request(http, Method::Post, url)?
            .body_bytes("application/xml", xml.into_bytes())
            .send_streaming()
            .map_err(store_error)?,
    )?;
    // S3 can answer 200 and still report a failure in the body.
    if String::from_utf8_lossy(&answer).contains("<Error>") {
        return Err(ApiError::invalid_response(
            "POST",
            "",
            "S3 refused to complete the multipart upload",
        )
        .into());
    }
    Ok(total)
}

/// GetObject of `bucket`/`key` with the file's download credentials (`credentials`,
/// else the upload ones).
pub(crate) fn get(
    http: &Http,
    file: &StorageFile,
    bucket: &str,
    key: &str,
    cfg: &TransferConfig,
) -> Result<ResponseBody, ApiError> {
    let at = if file.credentials.get("credentials").is_some() {
        "/credentials"
    } else {
        "/uploadParams/credentials"
    };
    let t = target(file, bucket, at, cfg)?;
    let url = t
        .bucket
        .get_object(Some(&t.credentials), key)
        .sign(SIGNATURE_TTL);
    raw_request(http, Method::Get, url)?
        .send_streaming()
        .map_err(store_error)
}
