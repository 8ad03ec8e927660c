//! Reading responses: bounded bodies for JSON, a reader for streamed downloads.

use std::fmt;
use std::io::{self, Read};

use serde_json::Value;
use ureq::BodyReader;

use crate::error::ApiError;
use crate::http::classify::classify_body_error;
use crate::http::{HttpConfig, MAX_BODY_BYTES};

/// A streamed 2xx response body.
pub struct ResponseBody {
    pub(crate) content_type: Option<String>,
    pub(crate) content_length: Option<u64>,
    /// The `ETag` header, which object stores answer an uploaded part with.
    pub(crate) etag: Option<String>,
    /// The `Location` header (a resumable upload's session URL: a secret).
    pub(crate) location: Option<String>,
    pub(crate) reader: BodyReader<'static>,
}

impl ResponseBody {
    /// The `Content-Type` header, if sent.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The `Content-Length` header, if sent.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

pub(crate) fn read_bounded(
    mut response: ureq::http::Response<ureq::Body>,
    cfg: &HttpConfig,
    method: &str,
    path: &str,
) -> Result<Vec<u8>, ApiError> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| classify_body_error(&e, cfg, method, path))
}

pub(crate) fn parse_json_body(body: &[u8], method: &str, path: &str) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_response(
            method,
            path,
            "the response body is empty, JSON was expected",
        ));
    }
    // serde_json's messages give a position, never the content, so nothing leaks.
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_response(
            method,
            path,
            format!("the response is not valid JSON ({e})"),
        )
    })
}
