//! Google Cloud Storage under `/_gcs` (what `STORAGE_EMULATOR_HOST` points at): the JSON
//! API's media, multipart and resumable uploads (`/upload/storage/v1/b/<b>/o`), object
//! metadata and `alt=media` downloads (`/storage/v1/b/<b>/o/<object>`, also under
//! `/download`), and the XML API's `PUT`/`GET /<bucket>/<key>`. Requests carry the file's
//! access token as `Authorization: Bearer`, or come through a signed URL.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::http::{ApiRequest, json_response, time};
use crate::objects::{BlobMeta, authorized, body_response, log_internal};
use crate::state::{Shared, Store};
use crate::storage::files::{self, File};

const TOKEN_PREFIX: &str = "ya29.c.";

fn error(status: StatusCode, reason: &str, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"code": status.as_u16(), "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
    )
}

/// The object name of an upload: its metadata's `name`, else the `name` query parameter.
fn object_name(meta: &Value, req: &ApiRequest) -> Option<String> {
    meta["name"]
        .as_str()
        .or_else(|| req.query_param("name"))
        .map(str::to_owned)
}

fn name_required() -> Response<Body> {
    error(
        StatusCode::BAD_REQUEST,
        "required",
        "Required parameter: name",
    )
}

fn authenticate(store: &Store, req: &ApiRequest, path: &str) -> Option<File> {
    if let Some(auth) = req.header("authorization") {
        let token = auth.strip_prefix("Bearer ")?.trim();
        return authorized(store, token.strip_prefix(TOKEN_PREFIX)?, path);
    }
    authorized(store, req.query_param("X-Goog-Signature")?, path)
}

/// CRC32C (Castagnoli), which GCS clients check uploads against.
fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, b| {
        TABLE[usize::from(crc.to_le_bytes()[0] ^ b)] ^ (crc >> 8)
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn object_json(bucket: &str, name: &str, meta: &BlobMeta, bytes: &[u8]) -> Value {
    json!({
        "crc32c": base64(&crc32c(bytes).to_be_bytes()),
        "kind": "storage#object",
        "id": format!("{bucket}/{name}/1"),
        "name": name,
        "bucket": bucket,
        "generation": "1",
        "metageneration": "1",
        "contentType": meta.content_type,
        "size": meta.size.to_string(),
        "timeCreated": time(meta.created),
        "updated": time(meta.created),
        "storageClass": "STANDARD",
    })
}

/// The metadata and media parts of a `multipart/related` upload.
fn multipart(req: &ApiRequest) -> Option<(Value, String, Vec<u8>)> {
    let ct = req.header("content-type")?;
    let boundary = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &req.body[..];
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut parts = Vec::new();
    let mut pos = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    while let Some(next) = find(body, delimiter.as_bytes(), pos) {
        let part = &body[pos..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n", 0)?;
        let headers = String::from_utf8_lossy(&part[..split]).to_ascii_lowercase();
        let content_type = headers
            .lines()
            .find_map(|l| l.strip_prefix("content-type:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        parts.push((content_type, part[split + 4..].to_vec()));
        pos = next + delimiter.len();
    }
    let [(_, meta), (content_type, media), ..] = parts.as_slice() else {
        return None;
    };
    let meta: Value = serde_json::from_slice(meta).ok()?;
    Some((meta, content_type.clone(), media.clone()))
}

fn stored(
    shared: &Shared,
    store: &Store,
    req: &ApiRequest,
    bucket: &str,
    name: &str,
    bytes: &[u8],
    content_type: &str,
) -> Response<Body> {
    match store.blobs.put(
        &store.db,
        &format!("{bucket}/{name}"),
        bytes,
        content_type,
        shared.now(),
    ) {
        Ok(meta) => json_response(StatusCode::OK, &object_json(bucket, name, &meta, bytes)),
        Err(e) => internal(req, &e),
    }
}

/// Google's 500, after logging the cause on stderr.
fn internal(req: &ApiRequest, e: &dyn std::fmt::Display) -> Response<Body> {
    log_internal("gcs", req, e);
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "backendError",
        "Backend Error",
    )
}

fn upload(shared: &Shared, req: &ApiRequest, bucket: &str) -> Response<Body> {
    let store = shared.store();
    let content_type = req
        .header("content-type")
        .unwrap_or("application/octet-stream")
        .to_owned();
    let denied = || {
        error(
            StatusCode::UNAUTHORIZED,
            "required",
            "Anonymous caller does not have storage.objects.create access.",
        )
    };
    match req.query_param("uploadType").unwrap_or("media") {
        "media" => {
            let Some(name) = req.query_param("name") else {
                return name_required();
            };
            if authenticate(&store, req, &format!("{bucket}/{name}")).is_none() {
                return denied();
            }
            stored(shared, &store, req, bucket, name, &req.body, &content_type)
        }
        "multipart" => {
            let Some((meta, media_type, media)) = multipart(req) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "Malformed multipart body.",
                );
            };
            let Some(name) = object_name(&meta, req) else {
                return name_required();
            };
            if authenticate(&store, req, &format!("{bucket}/{name}")).is_none() {
                return denied();
            }
            let ct = meta["contentType"]
                .as_str()
                .map_or(media_type, str::to_owned);
            stored(shared, &store, req, bucket, &name, &media, &ct)
        }
        "resumable" => resumable(shared, &store, req, bucket),
        _ => error(StatusCode::BAD_REQUEST, "invalid", "Invalid uploadType."),
    }
}

/// Resumable uploads: the POST opens a session (its URL in `Location`); each PUT sends a
/// chunk with `Content-Range: bytes a-b/total` (`*` while the total is unknown); 308 until
/// the last byte arrives.
fn resumable(shared: &Shared, store: &Store, req: &ApiRequest, bucket: &str) -> Response<Body> {
    let conn = &store.db;
    let denied = || error(StatusCode::UNAUTHORIZED, "required", "Invalid Credentials");
    let Some(upload_id) = req.query_param("upload_id") else {
        let meta: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let Some(name) = object_name(&meta, req) else {
            return name_required();
        };
        let path = format!("{bucket}/{name}");
        if authenticate(store, req, &path).is_none() {
            return denied();
        }
        let content_type = meta["contentType"]
            .as_str()
            .or_else(|| req.header("x-upload-content-type"))
            .unwrap_or("application/octet-stream");
        let id = format!("gcs-{}", crate::crypto::random_alnum(&mut rand::rng(), 32));
        if let Err(e) = store.blobs.begin(conn, &id, &path, content_type) {
            return internal(req, &e);
        }
        let location = format!(
            "{}/_gcs/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={id}",
            shared.base_url
        );
        let mut resp = json_response(StatusCode::OK, &json!({}));
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    };
    let Ok(Some((path, content_type))) = store.blobs.upload(conn, upload_id) else {
        return error(StatusCode::NOT_FOUND, "notFound", "No such upload session.");
    };
    if authenticate(store, req, &path).is_none() {
        return denied();
    }
    let parts = store.blobs.parts(conn, upload_id).unwrap_or_default();
    let received: u64 = parts.iter().map(|(_, s)| s).sum();
    let range = req.header("content-range").unwrap_or("").trim().to_owned();
    let spec = range.strip_prefix("bytes ").unwrap_or("*/*");
    let (span, total) = spec.split_once('/').unwrap_or(("*", "*"));
    if span != "*" && !req.body.is_empty() {
        let start: u64 = span
            .split('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(received);
        if start != received {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid",
                "Chunk does not start where the last one ended.",
            );
        }
        if let Err(e) = store
            .blobs
            .stage(conn, upload_id, &format!("{start:020}"), &req.body)
        {
            return internal(req, &e);
        }
    }
    let received = received
        + if span == "*" {
            0
        } else {
            req.body.len() as u64
        };
    if total.parse::<u64>().ok() == Some(received) {
        let names: Vec<String> = store
            .blobs
            .parts(conn, upload_id)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let name = path
            .split_once('/')
            .map_or(path.as_str(), |(_, k)| k)
            .to_owned();
        return match store
            .blobs
            .commit(conn, upload_id, &path, &names, &content_type, shared.now())
        {
            Ok(Some(_)) => match store.blobs.read(conn, &path) {
                Ok(Some((meta, bytes))) => {
                    json_response(StatusCode::OK, &object_json(bucket, &name, &meta, &bytes))
                }
                Ok(None) => internal(req, &"the committed object is missing"),
                Err(e) => internal(req, &e),
            },
            Ok(None) => internal(req, &"a staged chunk is missing"),
            Err(e) => internal(req, &e),
        };
    }
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if received > 0
        && let Ok(v) = HeaderValue::from_str(&format!("bytes=0-{}", received - 1))
    {
        resp.headers_mut().insert(header::RANGE, v);
    }
    resp
}

fn download(
    shared: &Shared,
    req: &ApiRequest,
    bucket: &str,
    name: &str,
    media: bool,
) -> Response<Body> {
    let store = shared.store();
    let path = format!("{bucket}/{name}");
    if authenticate(&store, req, &path).is_none() {
        return error(
            StatusCode::UNAUTHORIZED,
            "required",
            "Anonymous caller does not have storage.objects.get access.",
        );
    }
    match store.blobs.read(&store.db, &path) {
        Ok(Some((meta, bytes))) if media => {
            body_response(req, &meta, bytes, req.method == Method::HEAD)
        }
        Ok(Some((meta, bytes))) => {
            json_response(StatusCode::OK, &object_json(bucket, name, &meta, &bytes))
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "notFound",
            &format!("No such object: {path}"),
        ),
        Err(e) => internal(req, &e),
    }
}

/// `GET /storage/v1/b/<bucket>`: the bucket's metadata, for a token of a file in it.
fn bucket(shared: &Shared, req: &ApiRequest, bucket: &str) -> Response<Body> {
    let store = shared.store();
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| t.trim().strip_prefix(TOKEN_PREFIX));
    let file = token.and_then(|t| files::by_secret(&store.db, t).ok().flatten());
    if file.is_none_or(|f| f.bucket != bucket) {
        return error(StatusCode::UNAUTHORIZED, "required", "Invalid Credentials");
    }
    json_response(
        StatusCode::OK,
        &json!({"kind": "storage#bucket", "id": bucket, "name": bucket,
                "projectNumber": "0", "location": "US-EAST4", "storageClass": "STANDARD"}),
    )
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> Response<Body> {
    let media = req.query_param("alt") == Some("media");
    match rest {
        ["storage", "v1", "b", name] if req.method == Method::GET => bucket(shared, req, name),
        ["upload", "storage", "v1", "b", bucket, "o"]
            if matches!(req.method.as_str(), "POST" | "PUT") =>
        {
            upload(shared, req, bucket)
        }
        ["storage", "v1", "b", bucket, "o", name @ ..]
        | ["download", "storage", "v1", "b", bucket, "o", name @ ..]
            if !name.is_empty() && matches!(req.method.as_str(), "GET" | "HEAD") =>
        {
            let media = media || rest[0] == "download";
            download(shared, req, bucket, &name.join("/"), media)
        }
        [bucket, key @ ..] if !key.is_empty() => {
            let name = key.join("/");
            match req.method.as_str() {
                "PUT" => {
                    let store = shared.store();
                    if authenticate(&store, req, &format!("{bucket}/{name}")).is_none() {
                        return error(StatusCode::UNAUTHORIZED, "required", "Invalid Credentials");
                    }
                    let ct = req
                        .header("content-type")
                        .unwrap_or("application/octet-stream")
                        .to_owned();
                    stored(shared, &store, req, bucket, &name, &req.body, &ct)
                }
                "GET" | "HEAD" => download(shared, req, bucket, &name, true),
                _ => error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "invalid",
                    "Method not allowed",
                ),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "notFound", "Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::{base64, crc32c};

    #[test]
    fn checksums_match_the_reference_values() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(&crc32c(b"").to_be_bytes()), "AAAAAA==");
    }
}
