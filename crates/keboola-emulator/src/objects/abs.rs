//! Azure Blob Storage, path-style as Azurite serves it:
//! `/_abs/<account>/<container>/<blob>?<SAS>`. Put Blob, Put Block, Put Block List, Get
//! Blob (with ranges) and Get Blob Properties. The SAS `sig` must be one a file was given.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode};

use crate::http::ApiRequest;
use crate::objects::{
    authorized, body_response, etag, http_date, log_internal, xml_escape, xml_response,
};
use crate::state::Shared;
use crate::storage::files::ABS_ACCOUNT;

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut resp = xml_response(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{}</Message></Error>",
            xml_escape(message)
        ),
    );
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-ms-error-code", v);
    }
    with_ms_headers(resp)
}

fn with_ms_headers(mut resp: Response<Body>) -> Response<Body> {
    let h = resp.headers_mut();
    h.insert("x-ms-version", HeaderValue::from_static("2021-08-06"));
    if let Ok(v) = HeaderValue::from_str(&crate::http::exception_id()) {
        h.insert("x-ms-request-id", v);
    }
    resp
}

fn created(meta_etag: Option<String>, now: jiff::Timestamp) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::CREATED;
    let h = resp.headers_mut();
    if let Some(e) = meta_etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        h.insert("etag", e);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        h.insert("last-modified", v);
    }
    h.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    with_ms_headers(resp)
}

/// Block ids of a Put Block List body, in order, whatever list each is taken from.
fn block_ids(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        if matches!(tag, "Latest" | "Committed" | "Uncommitted") {
            let after = &rest[end + 1..];
            if let Some(close) = after.find("</") {
                out.push(after[..close].trim().to_owned());
            }
        }
    }
    out
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> Response<Body> {
    let [account, container, blob @ ..] = rest else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        );
    };
    if *account != ABS_ACCOUNT || blob.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "The specified resource does not exist.",
        );
    }
    let path = format!("{container}/{}", blob.join("/"));
    let store = shared.store();
    let sig = req.query_param("sig").unwrap_or("");
    if authorized(&store, sig, &path).is_none() {
        return error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        );
    }
    let now = shared.now();
    let conn = &store.db;
    let blobs = &store.blobs;
    let upload_id = format!("abs:{path}");
    let content_type = req
        .header("x-ms-blob-content-type")
        .or_else(|| req.header("content-type"))
        .unwrap_or("application/octet-stream")
        .to_owned();
    let internal = |e: &dyn std::fmt::Display| {
        log_internal("abs", req, e);
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The server encountered an internal error.",
        )
    };
    match (&req.method, req.query_param("comp")) {
        (m, None) if m == Method::PUT => {
            if req
                .header("x-ms-blob-type")
                .is_some_and(|t| t != "BlockBlob")
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidHeaderValue",
                    "Only BlockBlob is supported.",
                );
            }
            match blobs.put(conn, &path, &req.body, &content_type, now) {
                Ok(meta) => created(Some(etag(&meta)), now),
                Err(e) => internal(&e),
            }
        }
        (m, Some("block")) if m == Method::PUT => {
            let Some(block) = req.query_param("blockid").filter(|b| !b.is_empty()) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidQueryParameterValue",
                    "blockid is required.",
                );
            };
            let staged = blobs
                .begin(conn, &upload_id, &path, &content_type)
                .map_err(anyhow::Error::from)
                .and_then(|()| blobs.stage(conn, &upload_id, block, &req.body));
            match staged {
                Ok(()) => created(None, now),
                Err(e) => internal(&e),
            }
        }
        (m, Some("blocklist")) if m == Method::PUT => {
            let ids = block_ids(&String::from_utf8_lossy(&req.body));
            match blobs.commit(conn, &upload_id, &path, &ids, &content_type, now) {
                Ok(Some(meta)) => created(Some(etag(&meta)), now),
                Ok(None) => error(
                    StatusCode::BAD_REQUEST,
                    "InvalidBlockList",
                    "The specified block list is invalid.",
                ),
                Err(e) => internal(&e),
            }
        }
        (m, None) if m == Method::GET || m == Method::HEAD => match blobs.read(conn, &path) {
            Ok(Some((meta, bytes))) => {
                let mut resp = body_response(req, &meta, bytes, m == Method::HEAD);
                resp.headers_mut()
                    .insert("x-ms-blob-type", HeaderValue::from_static("BlockBlob"));
                resp.headers_mut()
                    .insert("x-ms-server-encrypted", HeaderValue::from_static("true"));
                with_ms_headers(resp)
            }
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                "BlobNotFound",
                "The specified blob does not exist.",
            ),
            Err(e) => internal(&e),
        },
        _ => error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "The emulator serves Put Blob, Put Block, Put Block List and Get Blob only.",
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn block_lists_keep_their_order() {
        let xml = "<?xml version=\"1.0\"?><BlockList><Latest>QQ==</Latest><Uncommitted>Qg==</Uncommitted><Committed>Qw==</Committed></BlockList>";
        assert_eq!(super::block_ids(xml), vec!["QQ==", "Qg==", "Qw=="]);
    }
}
