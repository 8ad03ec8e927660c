//! Helpers every provider uses: presigned URLs, token-less requests, draining and
//! part buffers, and object-store errors stripped of signed text.

use std::io::{self, Read};

use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, RequestBuilder, ResponseBody, target};
use crate::storage::files::FileCredentials;

/// Longest manifest read.
pub(super) const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// A presigned or object-store URL: https, or http to a loopback host (an emulator).
pub(super) fn parse_presigned(text: &str, method: Method) -> Result<Url, ApiError> {
    let url =
        Url::parse(text).map_err(|_| ApiError::config("a file transfer URL is not a valid URL"))?;
    target::check_scheme(&url, method)?;
    Ok(url)
}

/// A request to a full URL (with its query), sent without any Keboola token.
pub(super) fn raw_request(
    http: &Http,
    method: Method,
    url: Url,
) -> Result<RequestBuilder<'_>, ApiError> {
    target::check_scheme(&url, method)?;
    Ok(RequestBuilder::new(http, method, Ok(url)))
}

/// Reads an object store's (small) answer to the end, so the connection can be reused.
pub(super) fn drain(body: ResponseBody) -> Result<Vec<u8>, ApiError> {
    let mut text = Vec::new();
    body.take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut text)
        .map_err(|_| ApiError::invalid_response("", "", "an upload answer could not be read"))?;
    Ok(text)
}

/// Fills `buf` from `data` up to its capacity; returns whether `data` ended first.
pub(super) fn fill_part(
    data: &mut (dyn Read + Send),
    buf: &mut Vec<u8>,
    size: usize,
) -> io::Result<bool> {
    buf.clear();
    let read = data.take(size as u64).read_to_end(buf)?;
    Ok(read < size)
}

/// An object store's error, without anything its body may repeat of the signed request:
/// only an XML `<Code>` and `<Message>` are kept.
pub(super) fn store_error(err: ApiError) -> ApiError {
    let Some(message) = err.api_message().map(str::to_owned) else {
        return err;
    };
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = message.find(&open)? + open.len();
        let end = message[start..].find("</")?;
        Some(message[start..start + end].to_owned())
    };
    let kept = match (tag("Code"), tag("Message")) {
        (Some(code), Some(text)) => Some(format!("{code}: {text}")),
        (Some(code), None) => Some(code),
        (None, Some(text)) => Some(text),
        (None, None) if message.starts_with('<') => None,
        (None, None) => Some(message),
    };
    let kept = kept.filter(|m| !looks_signed(m));
    err.with_api_message(kept)
}

/// Text that carries a signature or credential (`sig=`, `X-Amz-...`, `Signature`).
fn looks_signed(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "sig=",
        "x-amz-",
        "signature=",
        "sessiontoken",
        "access_token",
        "bearer ",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// The text at `pointer` in the file's credentials, or a configuration error naming it.
pub(super) fn required<'c>(creds: &'c FileCredentials, pointer: &str) -> Result<&'c str, ApiError> {
    creds.text(pointer).ok_or_else(|| {
        ApiError::config(format!(
            "the file's transfer parameters lack {}",
            pointer.trim_start_matches('/')
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_code_and_message_only() {
        let err = ApiError::from_response(
            "PUT",
            "/bucket/key",
            403,
            None,
            b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>Bad sig</Message><CanonicalRequest>PUT /k X-Amz-Security-Token=SECRETTOKEN</CanonicalRequest></Error>",
            None,
        );
        let err = store_error(err);
        assert_eq!(err.api_message(), Some("SignatureDoesNotMatch: Bad sig"));
        let err = ApiError::from_response(
            "GET",
            "/c/b",
            403,
            None,
            b"denied for sv=2020&sig=ABCDEF",
            None,
        );
        assert_eq!(store_error(err).api_message(), None);
    }
}
