//! The one error type of this crate.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::secret::{Token, mask_secrets_in};

/// Longest server-provided message kept in an error.
const MAX_API_MESSAGE_CHARS: usize = 500;
/// Longest excerpt kept from a body that is not JSON.
const MAX_EXCERPT_CHARS: usize = 200;

/// A failed API call.
///
/// `Display` is one line with the method and URL path. It never contains query
/// strings, headers, bodies other than the server's (masked, truncated) message, or a
/// token.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ApiErrorKind,
    method: String,
    url_path: String,
    api_code: Option<String>,
    exception_id: Option<String>,
    api_message: Option<String>,
    /// Our own description of a failure that had no usable response.
    detail: Option<String>,
    attempts: u32,
    /// Whether the request may have reached the server. False only when the
    /// connection was never established.
    request_sent: bool,
    /// The Storage job whose `error` this is, with its operation name.
    failed_job: Option<(String, String)>,
    /// A Storage file that was uploaded before the failure, so the caller can load it
    /// without uploading again.
    file_id: Option<String>,
}

/// What went wrong, coarsely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The server answered with a non-2xx status.
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Connecting or waiting for the response took too long.
    Timeout,
    /// No response: DNS failure, connection refused, or the connection was closed or
    /// reset before a response arrived.
    Connect,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// A response arrived but could not be used: malformed or truncated body, empty
    /// body where JSON was expected, or JSON of the wrong shape.
    InvalidResponse,
    /// The client was misconfigured (unreadable CA file, invalid identifier, ...).
    Config,
}

impl ApiError {
    /// The kind of failure.
    pub fn kind(&self) -> &ApiErrorKind {
        &self.kind
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            ApiErrorKind::Http { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Keboola's error `code` (for example `storage.tokenInvalid`), when it was a
    /// non-empty string.
    pub fn api_code(&self) -> Option<&str> {
        self.api_code.as_deref()
    }

    /// Keboola's `exceptionId`, useful when reporting a server error.
    pub fn exception_id(&self) -> Option<&str> {
        self.exception_id.as_deref()
    }

    /// The server's message (`error`, `message`, `reason` or Manage `errors[]`), or an
    /// excerpt of a body that is not JSON. At most 500 characters, tokens masked.
    pub fn api_message(&self) -> Option<&str> {
        self.api_message.as_deref()
    }

    /// Whether trying again later may succeed without duplicating work: the failure is
    /// transient (connect error, timeout, 408, 429, 5xx other than 501) and either the
    /// request was a GET or the server provably did not process it (no connection was
    /// made, 429, 503).
    pub fn retryable(&self) -> bool {
        if !self.is_transient() {
            return false;
        }
        if self.method == "GET" {
            return true;
        }
        match self.kind {
            ApiErrorKind::Connect | ApiErrorKind::Timeout => !self.request_sent,
            ApiErrorKind::Http { status, .. } => status == 429 || status == 503,
            _ => false,
        }
    }

    /// How many times the request was sent (or tried) in total.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The HTTP method, e.g. `GET`. Empty for configuration errors.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request path without the query, e.g. `/v2/storage/tokens/verify`.
    pub fn url_path(&self) -> &str {
        &self.url_path
    }

    /// The id of the Storage job that ended in `error`, when this error is that job's.
    /// Such an error has the kind `Http` with status 422 (the request was accepted but
    /// could not be carried out) and Keboola's `code`, `message` and `exceptionId`.
    pub fn failed_job_id(&self) -> Option<&str> {
        self.failed_job.as_ref().map(|(id, _)| id.as_str())
    }

    /// The id of a Storage file uploaded before this failure: importing it again (with
    /// `dataFileId`) needs no new upload.
    pub fn file_id(&self) -> Option<&str> {
        self.file_id.as_deref()
    }

    pub(crate) fn with_file_id(mut self, file_id: &str) -> ApiError {
        self.file_id = Some(file_id.to_owned());
        self
    }

    /// Replaces the server's message (for object stores, whose error bodies may repeat
    /// the signed request).
    pub(crate) fn with_api_message(mut self, message: Option<String>) -> ApiError {
        self.api_message = message;
        self
    }

    /// A Storage job that finished with `status: error`.
    pub(crate) fn job_failed(
        job_id: &str,
        operation: &str,
        code: Option<&str>,
        message: Option<&str>,
        exception_id: Option<&str>,
    ) -> ApiError {
        let clean = |s: Option<&str>| {
            s.map(|s| clean_server_text(s, None, MAX_API_MESSAGE_CHARS))
                .filter(|s| !s.is_empty())
        };
        ApiError {
            kind: ApiErrorKind::Http {
                status: 422,
                retry_after: None,
            },
            method: "GET".to_owned(),
            url_path: format!("/v2/storage/jobs/{job_id}"),
            api_code: clean(code),
            exception_id: clean(exception_id),
            api_message: clean(message).or_else(|| Some("the job failed".to_owned())),
            detail: None,
            attempts: 1,
            request_sent: true,
            failed_job: Some((job_id.to_owned(), operation.to_owned())),
            file_id: None,
        }
    }

    pub(crate) fn is_transient(&self) -> bool {
        match self.kind {
            ApiErrorKind::Timeout | ApiErrorKind::Connect => true,
            ApiErrorKind::Http { status, .. } => {
                status == 408 || status == 429 || ((500..600).contains(&status) && status != 501)
            }
            _ => false,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ApiErrorKind::Http { retry_after, .. } => retry_after,
            _ => None,
        }
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }

    /// An error with no HTTP context, such as a bad CA file.
    pub(crate) fn config(detail: impl Into<String>) -> ApiError {
        ApiError::transport(ApiErrorKind::Config, "", "", detail, false)
    }

    /// A failure without a usable response.
    pub(crate) fn transport(
        kind: ApiErrorKind,
        method: &str,
        url_path: &str,
        detail: impl Into<String>,
        request_sent: bool,
    ) -> ApiError {
        ApiError {
            kind,
            method: method.to_owned(),
            url_path: url_path.to_owned(),
            api_code: None,
            exception_id: None,
            api_message: None,
            detail: Some(one_line(&detail.into())),
            attempts: 1,
            request_sent,
            failed_job: None,
            file_id: None,
        }
    }

    pub(crate) fn invalid_response(
        method: &str,
        url_path: &str,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError::transport(
            ApiErrorKind::InvalidResponse,
            method,
            url_path,
            detail,
            true,
        )
    }

    /// A non-2xx response, with Keboola's error body decoded when possible.
    pub(crate) fn from_response(
        method: &str,
        url_path: &str,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
        token: Option<&Token>,
    ) -> ApiError {
        let decoded = decode_error_body(body);
        let clean = |s: String| clean_server_text(&s, token, MAX_API_MESSAGE_CHARS);
        ApiError {
            kind: ApiErrorKind::Http {
                status,
                retry_after,
            },
            method: method.to_owned(),
            url_path: url_path.to_owned(),
            api_code: decoded.code.map(clean).filter(|s| !s.is_empty()),
            exception_id: decoded.exception_id.map(clean).filter(|s| !s.is_empty()),
            api_message: decoded.message.map(clean).filter(|s| !s.is_empty()),
            detail: None,
            attempts: 1,
            request_sent: true,
            failed_job: None,
            file_id: None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((id, operation)) = &self.failed_job {
            if operation.is_empty() {
                write!(f, "storage job {id} failed")?;
            } else {
                write!(f, "storage job {id} ({operation}) failed")?;
            }
        } else if self.kind == ApiErrorKind::Config && self.method.is_empty() {
            write!(f, "invalid client configuration")?;
        } else {
            write!(f, "{} {}", self.method, self.url_path)?;
            match &self.kind {
                ApiErrorKind::Http { status, .. } => {
                    write!(f, " failed with HTTP {status}")?;
                    if let Some(reason) = reason_phrase(*status) {
                        write!(f, " {reason}")?;
                    }
                }
                ApiErrorKind::Timeout => write!(f, " timed out")?,
                ApiErrorKind::Connect => write!(f, " failed: no response from the server")?,
                ApiErrorKind::Tls => write!(f, " failed: TLS error")?,
                ApiErrorKind::InvalidResponse => write!(f, " returned an invalid response")?,
                ApiErrorKind::Config => write!(f, " was not sent: invalid request")?,
            }
        }
        if let Some(message) = &self.api_message {
            write!(f, ": {message}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        match (&self.api_code, &self.exception_id) {
            (Some(code), Some(id)) => write!(f, " (code {code}, exception {id})")?,
            (Some(code), None) => write!(f, " (code {code})")?,
            (None, Some(id)) => write!(f, " (exception {id})")?,
            (None, None) => {}
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(file_id) = &self.file_id {
            write!(f, "; the data was uploaded as file {file_id}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

#[derive(Debug, Default, PartialEq)]
struct DecodedErrorBody {
    message: Option<String>,
    code: Option<String>,
    exception_id: Option<String>,
}

/// Reads Keboola's error envelopes: Storage `{error, code, exceptionId, status}`,
/// the shared service envelope (integer `code`), maintenance `{status, reason}` and
/// Manage `{error, errors: [{key, message}]}`. Anything else yields an excerpt.
fn decode_error_body(body: &[u8]) -> DecodedErrorBody {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return DecodedErrorBody::default();
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) else {
        return DecodedErrorBody {
            message: Some(truncate_chars(&one_line(&text), MAX_EXCERPT_CHARS)),
            ..DecodedErrorBody::default()
        };
    };
    let non_empty_str = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // The Query Service puts its message in `exception` (and the status in `error`).
    let headline = non_empty_str("error")
        .or_else(|| non_empty_str("exception"))
        .or_else(|| non_empty_str("message"))
        .or_else(|| non_empty_str("reason"));
    let details: Vec<String> = map
        .get("errors")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(describe_error_item).collect())
        .unwrap_or_default();
    let message = match (headline, details.is_empty()) {
        (Some(h), true) => Some(h),
        (Some(h), false) => Some(format!("{h} ({})", details.join("; "))),
        (None, false) => Some(details.join("; ")),
        (None, true) => None,
    };
    DecodedErrorBody {
        message,
        code: non_empty_str("code"),
        exception_id: non_empty_str("exceptionId"),
    }
}

fn describe_error_item(item: &Value) -> Option<String> {
    match item {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Object(o) => {
            let message = o.get("message").and_then(Value::as_str)?.trim();
            match o.get("key").and_then(Value::as_str) {
                Some(key) if !key.is_empty() => Some(format!("{key}: {message}")),
                _ => Some(message.to_owned()),
            }
        }
        _ => None,
    }
}

/// Server text made safe for an error message: tokens masked, single line, bounded.
/// Masking happens before truncation so a cut never leaves a partial token visible.
fn clean_server_text(text: &str, token: Option<&Token>, max_chars: usize) -> String {
    let masked = mask_secrets_in(text, token);
    truncate_chars(&one_line(&masked), max_chars)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str) -> ApiError {
        ApiError::from_response(
            "GET",
            "/v2/storage/tokens/verify",
            status,
            None,
            body.as_bytes(),
            None,
        )
    }

    #[test]
    fn storage_invalid_token_body() {
        let err = http(
            401,
            r#"{"error":"Invalid access token","code":"storage.tokenInvalid","status":"error","exceptionId":"exception-abc123"}"#,
        );
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.api_code(), Some("storage.tokenInvalid"));
        assert_eq!(err.api_message(), Some("Invalid access token"));
        assert_eq!(err.exception_id(), Some("exception-abc123"));
        assert_eq!(
            err.to_string(),
            "GET /v2/storage/tokens/verify failed with HTTP 401 Unauthorized: Invalid access token \
             (code storage.tokenInvalid, exception exception-abc123)"
        );
        assert!(!err.retryable());
    }

    #[test]
    fn empty_code_and_integer_code_are_not_api_codes() {
        let err = http(401, r#"{"error":"Access token must be set","code":""}"#);
        assert_eq!(err.api_code(), None);
        assert_eq!(err.api_message(), Some("Access token must be set"));
        let err = http(400, r#"{"error":"Bad","code":400,"status":"error"}"#);
        assert_eq!(err.api_code(), None);
    }

    #[test]
    fn manage_validation_errors_are_joined() {
        let err = http(
            422,
            r#"{"error":"Validation failed","errors":[{"key":"name","message":"is required"},{"key":"type","message":"bad"}]}"#,
        );
        assert_eq!(
            err.api_message(),
            Some("Validation failed (name: is required; type: bad)")
        );
        let err = http(400, r#"{"errors":[{"message":"only message"}, "plain"]}"#);
        assert_eq!(err.api_message(), Some("only message; plain"));
    }

    #[test]
    fn maintenance_reason_is_the_message() {
        let err = ApiError::from_response(
            "GET",
            "/v2/storage/tokens/verify",
            503,
            Some(Duration::from_secs(60)),
            br#"{"status":"maintenance","reason":"Upgrading storage","estimatedEndTime":"2024-01-01T10:00:00+0100"}"#,
            None,
        );
        assert_eq!(err.api_message(), Some("Upgrading storage"));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        assert!(err.retryable());
    }

    #[test]
    fn non_json_body_gives_a_masked_one_line_excerpt() {
        let err = http(
            502,
            "<html>\n<body>Bad gateway for 578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b</body></html>",
        );
        assert_eq!(
            err.api_message(),
            Some("<html> <body>Bad gateway for 578-...bc2b</body></html>")
        );
        let long = "x".repeat(5000);
        let err = http(500, &long);
        assert_eq!(
            err.api_message().unwrap().chars().count(),
            MAX_EXCERPT_CHARS
        );
    }

    #[test]
    fn long_messages_are_truncated_to_500_chars() {
        let body = serde_json::json!({"error": "é".repeat(2000)}).to_string();
        let err = http(400, &body);
        let message = err.api_message().unwrap();
        assert_eq!(message.chars().count(), 500);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn empty_body_has_no_message() {
        let err = http(404, "");
        assert_eq!(err.api_message(), None);
        assert_eq!(
            err.to_string(),
            "GET /v2/storage/tokens/verify failed with HTTP 404 Not Found"
        );
    }

    #[test]
    fn echoed_token_is_masked_everywhere() {
        let token = Token::new("my_weird_token_value_1").unwrap();
        let err = ApiError::from_response(
            "POST",
            "/v2/storage/tokens",
            400,
            None,
            br#"{"error":"bad token my_weird_token_value_1","code":"my_weird_token_value_1","exceptionId":"x my_weird_token_value_1"}"#,
            Some(&token),
        );
        let all = format!("{err} {err:?}");
        assert!(!all.contains("my_weird_token_value_1"), "{all}");
    }

    #[test]
    fn retryable_rules() {
        let get = |status| http(status, "");
        let post =
            |status| ApiError::from_response("POST", "/v2/storage/tokens", status, None, b"", None);
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(get(status).retryable(), "GET {status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!get(status).retryable(), "GET {status}");
        }
        for status in [429, 503] {
            assert!(post(status).retryable(), "POST {status}");
        }
        for status in [400, 408, 500, 501, 502, 504] {
            assert!(!post(status).retryable(), "POST {status}");
        }
        let refused = ApiError::transport(ApiErrorKind::Connect, "POST", "/x", "refused", false);
        assert!(refused.retryable());
        let dropped = ApiError::transport(ApiErrorKind::Connect, "POST", "/x", "reset", true);
        assert!(!dropped.retryable());
        let timeout = ApiError::transport(ApiErrorKind::Timeout, "DELETE", "/x", "t", true);
        assert!(!timeout.retryable());
        let timeout = ApiError::transport(ApiErrorKind::Timeout, "GET", "/x", "t", true);
        assert!(timeout.retryable());
        let invalid = ApiError::invalid_response("GET", "/x", "bad json");
        assert!(!invalid.retryable());
        let tls = ApiError::transport(ApiErrorKind::Tls, "GET", "/x", "bad cert", false);
        assert!(!tls.retryable());
    }
}
