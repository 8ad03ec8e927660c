//! S3, path-style: `/_s3/<bucket>/<key>`. PutObject, GetObject, HeadObject, DeleteObject
//! and multipart uploads (create, upload part, complete, abort). Requests carry SigV4: an
//! `Authorization` header of the right shape naming the file's access key, with the
//! session token in `x-amz-security-token`; the same signature in the query string
//! (`X-Amz-Credential`, `X-Amz-Security-Token`, ...); or a presigned URL the emulator
//! handed out. Signatures are checked for shape, not recomputed.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode};

use crate::http::ApiRequest;
use crate::objects::{
    authorized, body_response, etag, log_internal, xml_escape, xml_response, xml_values,
};
use crate::state::{Shared, Store};
use crate::storage::files::File;

const TOKEN_PREFIX: &str = "FwoGZXIvYXdzEEmulator";

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    xml_response(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
            xml_escape(message),
            crate::http::exception_id()
        ),
    )
}

fn denied() -> Response<Body> {
    error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=<64 hex>`: the access key id, when well formed.
fn sigv4_access_key(auth: &str) -> Option<&str> {
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed_headers = false;
    let mut signature = false;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = credential_access_key(v),
            "SignedHeaders" => signed_headers = v.split(';').any(|h| h == "host"),
            "Signature" => signature = is_signature(v),
            _ => {}
        }
    }
    (signed_headers && signature).then_some(credential?)
}

/// The file the request's credentials belong to, when they cover `path`.
fn authenticate(store: &Store, req: &ApiRequest, path: &str) -> Option<File> {
    if let Some(auth) = req.header("authorization") {
        let key_id = sigv4_access_key(auth)?;
        let token = req.header("x-amz-security-token")?;
        let secret = token.strip_prefix(TOKEN_PREFIX)?;
        let file = authorized(store, secret, path)?;
        return (file.aws_access_key_id() == key_id).then_some(file);
    }
    let signature = req.query_param("X-Amz-Signature")?;
    let token = req.query_param("X-Amz-Security-Token")?;
    // The emulator's own presigned URL carries the file's secret as its signature.
    if let Some(file) = authorized(store, signature, path) {
        return (token == file.aws_session_token()).then_some(file);
    }
    // A client's own query-string SigV4 signature, as real S3 accepts it.
    let key_id = query_sigv4_access_key(req)?;
    let secret = token.strip_prefix(TOKEN_PREFIX)?;
    let file = authorized(store, secret, path)?;
    (file.aws_access_key_id() == key_id).then_some(file)
}

/// The access key id of a query-signed request (`X-Amz-Algorithm`, `X-Amz-Credential`,
/// `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`), when every
/// part is well formed.
fn query_sigv4_access_key(req: &ApiRequest) -> Option<&str> {
    let param = |name| req.query_param(name);
    let credential = credential_access_key(param("X-Amz-Credential")?)?;
    let date = param("X-Amz-Date")?;
    let expires = param("X-Amz-Expires")?.parse::<u32>().ok()?;
    let shaped = param("X-Amz-Algorithm")? == "AWS4-HMAC-SHA256"
        && date.len() == 16
        && date.ends_with('Z')
        && (1..=604_800).contains(&expires)
        && param("X-Amz-SignedHeaders")?
            .split(';')
            .any(|h| h == "host")
        && is_signature(param("X-Amz-Signature")?);
    shaped.then_some(credential)
}

/// `AKID/20260101/us-east-1/s3/aws4_request`: the access key id.
fn credential_access_key(v: &str) -> Option<&str> {
    let fields: Vec<&str> = v.split('/').collect();
    (fields.len() == 5 && fields[3] == "s3" && fields[4] == "aws4_request").then(|| fields[0])
}

fn is_signature(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Undoes `aws-chunked` content encoding (what SDKs send for streaming uploads).
fn decode_body(req: &ApiRequest) -> Option<Vec<u8>> {
    let streaming = req
        .header("x-amz-content-sha256")
        .is_some_and(|v| v.starts_with("STREAMING-"))
        || req
            .header("content-encoding")
            .is_some_and(|v| v.contains("aws-chunked"));
    if !streaming {
        return Some(req.body.to_vec());
    }
    let mut out = Vec::new();
    let mut rest = &req.body[..];
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..)?;
    }
}

fn ok_with_etag(status: StatusCode, tag: &str) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(tag) {
        resp.headers_mut().insert("etag", v);
    }
    resp
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> Response<Body> {
    let [bucket, key @ ..] = rest else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "A bucket and key are required.",
        );
    };
    if key.is_empty() {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "Bucket operations are not emulated.",
        );
    }
    let key = key.join("/");
    let path = format!("{bucket}/{key}");
    let store = shared.store();
    if authenticate(&store, req, &path).is_none() {
        return denied();
    }
    let now = shared.now();
    let conn = &store.db;
    let blobs = &store.blobs;
    let internal = |e: &dyn std::fmt::Display| {
        log_internal("s3", req, e);
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    };
    let content_type = req
        .header("content-type")
        .unwrap_or("binary/octet-stream")
        .to_owned();
    let upload_id = req.query_param("uploadId").map(str::to_owned);
    let m = &req.method;
    if *m == Method::POST && req.query_param("uploads").is_some() {
        let id = format!("s3-{}", crate::crypto::random_alnum(&mut rand::rng(), 32));
        if let Err(e) = blobs.begin(conn, &id, &path, &content_type) {
            return internal(&e);
        }
        return xml_response(
            StatusCode::OK,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>",
                xml_escape(bucket),
                xml_escape(&key)
            ),
        );
    }
    if let Some(upload_id) = upload_id {
        let upload = match blobs.upload(conn, &upload_id) {
            Ok(Some((p, ct))) if p == path => (p, ct),
            Ok(_) => {
                return error(
                    StatusCode::NOT_FOUND,
                    "NoSuchUpload",
                    "The specified upload does not exist.",
                );
            }
            Err(e) => return internal(&e),
        };
        if *m == Method::PUT {
            let Some(part) = req
                .query_param("partNumber")
                .and_then(|p| p.parse::<u32>().ok())
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "partNumber is required.",
                );
            };
            let Some(body) = decode_body(req) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "IncompleteBody",
                    "The aws-chunked body is malformed.",
                );
            };
            let name = format!("{part:05}");
            return match blobs.stage(conn, &upload_id, &name, &body) {
                Ok(()) => ok_with_etag(StatusCode::OK, &format!("\"{upload_id}-{part}\"")),
                Err(e) => internal(&e),
            };
        }
        if *m == Method::POST {
            let xml = String::from_utf8_lossy(&req.body);
            let parts: Vec<String> = xml_values(&xml, "PartNumber")
                .iter()
                .filter_map(|p| p.parse::<u32>().ok())
                .map(|p| format!("{p:05}"))
                .collect();
            return match blobs.commit(conn, &upload_id, &upload.0, &parts, &upload.1, now) {
                Ok(Some(meta)) => xml_response(
                    StatusCode::OK,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>{}/_s3/{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                        xml_escape(&shared.base_url),
                        xml_escape(&path),
                        xml_escape(bucket),
                        xml_escape(&key),
                        xml_escape(&etag(&meta))
                    ),
                ),
                Ok(None) => error(
                    StatusCode::BAD_REQUEST,
                    "InvalidPart",
                    "One or more of the specified parts could not be found.",
                ),
                Err(e) => internal(&e),
            };
        }
        if *m == Method::DELETE {
            return match blobs.abort(conn, &upload_id) {
                Ok(()) => ok_with_etag(StatusCode::NO_CONTENT, ""),
                Err(e) => internal(&e),
            };
        }
    }
    match m.as_str() {
        "PUT" => {
            let Some(body) = decode_body(req) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "IncompleteBody",
                    "The aws-chunked body is malformed.",
                );
            };
            match blobs.put(conn, &path, &body, &content_type, now) {
                Ok(meta) => ok_with_etag(StatusCode::OK, &etag(&meta)),
                Err(e) => internal(&e),
            }
        }
        "GET" | "HEAD" => match blobs.read(conn, &path) {
            Ok(Some((meta, bytes))) => body_response(req, &meta, bytes, *m == Method::HEAD),
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            ),
            Err(e) => internal(&e),
        },
        "DELETE" => match blobs.delete_prefix(conn, &path) {
            Ok(()) => ok_with_etag(StatusCode::NO_CONTENT, ""),
            Err(e) => internal(&e),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{credential_access_key, is_signature, sigv4_access_key};

    #[test]
    fn sigv4_headers_are_checked_for_shape() {
        let sig = "a".repeat(64);
        let good = format!(
            "AWS4-HMAC-SHA256 Credential=ASIAKEY/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
        );
        assert_eq!(sigv4_access_key(&good), Some("ASIAKEY"));
        assert_eq!(sigv4_access_key("Bearer x"), None);
        let short = good.replace(&sig, "abc");
        assert_eq!(sigv4_access_key(&short), None);
    }

    #[test]
    fn query_credentials_are_checked_for_shape() {
        assert_eq!(
            credential_access_key("ASIAKEY/20260101/us-east-1/s3/aws4_request"),
            Some("ASIAKEY")
        );
        assert_eq!(
            credential_access_key("ASIAKEY/20260101/us-east-1/sts/aws4_request"),
            None
        );
        assert!(is_signature(&"0f".repeat(32)));
        assert!(!is_signature(&"zz".repeat(32)));
    }
}
