//! The one request path: every method, JSON, form and streamed bodies, extra headers,
//! and the retry policy.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use ureq::SendBody;
use ureq::http::{HeaderName, HeaderValue};
use url::Url;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::classify::{
    classify_request_error, jitter_seed, parse_retry_after, retry_delay, should_retry,
};
use crate::http::response::{ResponseBody, parse_json_body, read_bounded};
use crate::http::{Http, MAX_BODY_BYTES};
use crate::lenient::{self, ShapeError};
use crate::manage::MANAGE_TOKEN_HEADER;
use crate::secret::Token;
use crate::storage::STORAGE_TOKEN_HEADER;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

enum Body<'a> {
    Empty,
    /// A body held in memory, so a retry can send it again.
    Bytes {
        content_type: &'static str,
        bytes: Cow<'a, [u8]>,
    },
    /// Read while sending; such a request is never retried, the reader is used up.
    Stream {
        content_type: String,
        length: Option<u64>,
        reader: Box<dyn Read + Send + 'a>,
    },
}

/// One API request, built step by step and sent by one of the `send*`/`fetch*` methods.
///
/// Retries: a GET is retried on transient failures (connect errors, timeouts, 429 and
/// 5xx other than 501); a PUT or DELETE only after [`RequestBuilder::idempotent`]; a
/// POST or PATCH never; and no request whose body is streamed.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder<'a> {
    http: &'a Http,
    method: Method,
    url: Result<Url, ApiError>,
    auth: Option<(&'static str, &'a Token)>,
    /// Put before the token in its header (`Bearer `).
    auth_prefix: &'static str,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Body<'a>,
    idempotent: bool,
    /// A header that could not be added; reported when the request is sent.
    invalid: Option<ApiError>,
}

impl fmt::Debug for RequestBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.url.as_ref().map(Url::path).unwrap_or(""))
            .finish_non_exhaustive()
    }
}

impl<'a> RequestBuilder<'a> {
    pub(crate) fn new(http: &'a Http, method: Method, url: Result<Url, ApiError>) -> Self {
        RequestBuilder {
            http,
            method,
            url,
            auth: None,
            auth_prefix: "",
            headers: Vec::new(),
            body: Body::Empty,
            idempotent: false,
            invalid: None,
        }
    }

    /// Adds the client's [`crate::HttpConfig::default_headers`] (requests to Keboola only).
    pub(crate) fn with_default_headers(mut self) -> Self {
        self.headers
            .extend(self.http.default_headers().iter().cloned());
        self
    }

    /// Authenticates with a Storage token (`X-StorageApi-Token`), as the Storage API and
    /// most services expect.
    pub fn storage_token(mut self, token: &'a Token) -> Self {
        self.auth = Some((STORAGE_TOKEN_HEADER, token));
        self
    }

    /// Authenticates with a Manage token (`X-KBC-ManageApiToken`).
    pub fn manage_token(mut self, token: &'a Token) -> Self {
        self.auth = Some((MANAGE_TOKEN_HEADER, token));
        self
    }

    /// Authenticates with an OAuth access token (`Authorization: Bearer`), as Google
    /// Cloud Storage expects.
    pub(crate) fn bearer_token(mut self, token: &'a Token) -> Self {
        self.auth = Some(("authorization", token));
        self.auth_prefix = "Bearer ";
        self
    }

    /// A body held in memory, so a retry can send it again.
    pub(crate) fn body_bytes(mut self, content_type: &'static str, bytes: Vec<u8>) -> Self {
        self.body = Body::Bytes {
            content_type,
            bytes: Cow::Owned(bytes),
        };
        self
    }

    /// A borrowed body (an upload part in a buffer the caller reuses), retried like
    /// [`RequestBuilder::body_bytes`].
    pub(crate) fn body_slice(mut self, content_type: &'static str, bytes: &'a [u8]) -> Self {
        self.body = Body::Bytes {
            content_type,
            bytes: Cow::Borrowed(bytes),
        };
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        if let Ok(url) = &mut self.url {
            url.query_pairs_mut().append_pair(key, value);
        }
        self
    }

    /// Adds a header, such as `X-Conversation-ID`. Not for secrets: use the token methods.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => self.headers.push((name, value)),
            _ => {
                // The value is not repeated: it may be sensitive.
                let message = format!("the header {name:?} is not valid");
                self.invalid = Some(self.config_error(&message));
            }
        }
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Body::Bytes {
                    content_type: "application/json",
                    bytes: Cow::Owned(bytes),
                }
            }
            Err(_) => self.invalid = Some(self.config_error("the JSON body cannot be encoded")),
        }
        self
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        let mut encoder = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            encoder.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Body::Bytes {
            content_type: "application/x-www-form-urlencoded",
            bytes: Cow::Owned(encoder.finish().into_bytes()),
        };
        self
    }

    /// A body streamed from `reader` (a file upload of any size). With `length` it is
    /// sent with `Content-Length`, otherwise chunked. No time limit applies to sending
    /// it, and the request is never retried.
    pub fn body_reader(
        mut self,
        content_type: &str,
        length: Option<u64>,
        reader: impl Read + Send + 'a,
    ) -> Self {
        self.body = Body::Stream {
            content_type: content_type.to_owned(),
            length,
            reader: Box::new(reader),
        };
        self
    }

    /// Lets a PUT or DELETE be retried like a GET. Only for calls that have the same
    /// effect however often they arrive; it changes nothing for POST and PATCH.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends the request and returns the body of the 2xx response (at most 32 MiB).
    pub fn send(self) -> Result<Vec<u8>, ApiError> {
        let (method, path) = self.describe();
        let http = self.http;
        let response = self.run(false)?;
        read_bounded(response, http.config(), &method, &path)
    }

    /// Sends the request and parses the 2xx body as JSON.
    pub fn send_json(self) -> Result<Value, ApiError> {
        let (method, path) = self.describe();
        let body = self.send()?;
        parse_json_body(&body, &method, &path)
    }

    /// Sends the request and decodes the JSON answer as `T`; a body of the wrong shape
    /// is an invalid response.
    pub fn fetch<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        self.fetch_with(lenient::decode)
    }

    /// Like [`RequestBuilder::fetch`], with an empty body (a 204) as `None`.
    pub(crate) fn fetch_optional<T: DeserializeOwned>(self) -> Result<Option<T>, ApiError> {
        let (method, path) = self.describe();
        let body = self.send()?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value = parse_json_body(&body, &method, &path)?;
        lenient::decode(value)
            .map(Some)
            .map_err(|e| ApiError::invalid_response(&method, &path, e.to_string()))
    }

    /// Like [`RequestBuilder::fetch`] with a decoder of our own.
    pub(crate) fn fetch_with<T>(
        self,
        decode: impl FnOnce(Value) -> Result<T, ShapeError>,
    ) -> Result<T, ApiError> {
        let (method, path) = self.describe();
        let value = self.send_json()?;
        decode(value).map_err(|e| ApiError::invalid_response(&method, &path, e.to_string()))
    }

    /// Sends the request and returns the 2xx body as a reader, for downloads of any
    /// size: nothing is buffered beyond ureq's read buffer, and no time limit applies
    /// to the body. A non-2xx answer is an [`ApiError`] as usual.
    pub fn send_streaming(self) -> Result<ResponseBody, ApiError> {
        let response = self.run(true)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let content_length = header("content-length").and_then(|v| v.trim().parse().ok());
        let etag = header("etag");
        let location = header("location");
        Ok(ResponseBody {
            content_type,
            content_length,
            etag,
            location,
            reader: response.into_body().into_reader(),
        })
    }

    fn describe(&self) -> (String, String) {
        let path = self
            .url
            .as_ref()
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        (self.method.as_str().to_owned(), path)
    }

    fn config_error(&self, detail: &str) -> ApiError {
        let (method, path) = self.describe();
        ApiError::transport(ApiErrorKind::Config, &method, &path, detail, false)
    }

    fn retryable(&self) -> bool {
        let replayable = !matches!(self.body, Body::Stream { .. });
        let method_ok = match self.method {
            Method::Get => true,
            Method::Put | Method::Delete => self.idempotent,
            Method::Post | Method::Patch => false,
        };
        replayable && method_ok
    }

    /// Sends with retries and returns a 2xx response whose body is still unread.
    fn run(mut self, streaming: bool) -> Result<ureq::http::Response<ureq::Body>, ApiError> {
        if let Some(err) = self.invalid.take() {
            return Err(err);
        }
        let url = std::mem::replace(&mut self.url, Err(ApiError::config("")))?;
        let max_attempts = if self.retryable() {
            self.http.config().max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let mut result = self.attempt(&url, attempt, streaming);
            if let Err(err) = &mut result {
                err.set_attempts(attempt);
                if attempt < max_attempts && should_retry(err) {
                    let cfg = self.http.config();
                    let delay = retry_delay(cfg, attempt, err.retry_after(), jitter_seed());
                    tracing::debug!(
                        method = self.method.as_str(),
                        path = url.path(),
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying after a transient failure"
                    );
                    std::thread::sleep(delay);
                    attempt += 1;
                    continue;
                }
            }
            return result;
        }
    }

    fn attempt(
        &mut self,
        url: &Url,
        attempt: u32,
        streaming: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, ApiError> {
        let method = self.method.as_str();
        let path = url.path();
        let started = Instant::now();
        let outcome = self.exchange(url, streaming);
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut response = match outcome {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!(method, path, attempt, error = ?err.kind(), elapsed_ms, "http request failed");
                return Err(err);
            }
        };
        let status = response.status().as_u16();
        tracing::debug!(method, path, attempt, status, elapsed_ms, "http response");
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
        // An unreadable error body is no reason to hide the status.
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .unwrap_or_default();
        Err(ApiError::from_response(
            method,
            path,
            status,
            retry_after,
            &body,
            self.auth.map(|(_, token)| token),
        ))
    }

    /// One HTTP exchange up to the response head.
    fn exchange(
        &mut self,
        url: &Url,
        streaming: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, ApiError> {
        let method = self.method.as_str();
        let path = url.path();
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url.as_str());
        if let Some((name, token)) = self.auth {
            let raw = format!("{}{}", self.auth_prefix, token.expose());
            let mut value = HeaderValue::from_str(&raw).map_err(|_| {
                ApiError::transport(
                    ApiErrorKind::Config,
                    method,
                    path,
                    "the token is not a valid header value",
                    false,
                )
            })?;
            // Marks the value as secret for the http crate's Debug output.
            value.set_sensitive(true);
            builder = builder.header(name, value);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let agent = self.http.agent_for(url);
        let cfg = self.http.config();
        let error = |e: ureq::Error| classify_request_error(&e, cfg, method, path);
        let unbuildable = |_| {
            ApiError::transport(
                ApiErrorKind::Config,
                method,
                path,
                "the request could not be built",
                false,
            )
        };
        match &mut self.body {
            Body::Empty => {
                let request = builder.body(()).map_err(unbuildable)?;
                run(agent, request, false, streaming).map_err(error)
            }
            Body::Bytes {
                content_type,
                bytes,
            } => {
                let request = builder
                    .header("content-type", *content_type)
                    .body(bytes.as_ref())
                    .map_err(unbuildable)?;
                run(agent, request, false, streaming).map_err(error)
            }
            Body::Stream {
                content_type,
                length,
                reader,
            } => {
                builder = builder.header("content-type", content_type.as_str());
                if let Some(length) = length {
                    builder = builder.header("content-length", *length);
                }
                let request = builder
                    .body(SendBody::from_reader(&mut **reader))
                    .map_err(unbuildable)?;
                run(agent, request, true, streaming).map_err(error)
            }
        }
    }
}

/// Runs one request; streamed bodies in either direction get no time limit of their own.
fn run<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    request: ureq::http::Request<S>,
    unlimited_send: bool,
    unlimited_recv: bool,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    let mut config = agent.configure_request(request);
    if unlimited_send {
        config = config.timeout_send_body(None);
    }
    if unlimited_recv {
        config = config.timeout_recv_body(None);
    }
    agent.run(config.build())
}
