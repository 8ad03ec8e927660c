//! The shared HTTP layer: one connection pool, timeouts, TLS roots and the retry policy.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::http::HeaderValue;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use url::Url;

use crate::error::{ApiError, ApiErrorKind};
use crate::secret::Token;

/// Largest response body read into memory.
const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// Settings for [`Http`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Limit for resolving the host and establishing the connection, TLS included.
    pub connect_timeout: Duration,
    /// Limit for each phase after connecting: sending the request, receiving the
    /// response headers, and receiving the whole body. Each phase gets the full budget,
    /// so a response may take up to about twice this long in total.
    pub read_timeout: Duration,
    /// Total tries for a GET that fails transiently. POST, PUT and DELETE are sent once.
    pub max_attempts: u32,
    /// First retry delay; later ones double (base, 2*base, 4*base, ...) plus jitter.
    pub backoff_base: Duration,
    /// Upper bound for any retry delay, including a server's `Retry-After`.
    pub max_retry_after: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// A PEM bundle trusted in addition to the bundled Mozilla roots (for TLS-
    /// intercepting corporate proxies).
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            max_attempts: 3,
            backoff_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
            user_agent: format!("kbagent/{}", env!("CARGO_PKG_VERSION")),
            extra_ca_file: None,
        }
    }
}

/// A configured HTTP client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    config: Arc<HttpConfig>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// Builds the client. Fails with [`ApiErrorKind::Config`] when the extra CA file
    /// cannot be read or holds no certificate, or the user agent is not a valid header.
    pub fn new(cfg: HttpConfig) -> Result<Http, ApiError> {
        if HeaderValue::from_str(&cfg.user_agent).is_err() {
            return Err(ApiError::config(
                "the User-Agent contains characters not allowed in a header",
            ));
        }
        let mut tls = TlsConfig::builder();
        if let Some(path) = &cfg.extra_ca_file {
            tls = tls.root_certs(roots_with_extra_ca(path)?);
        }
        let read = Some(cfg.read_timeout);
        let agent = ureq::Agent::config_builder()
            // Every status comes back as a response, so error bodies can be decoded.
            .http_status_as_error(false)
            // Redirects are never followed: ureq would carry our custom token header to
            // whatever host the Location names.
            .max_redirects(0)
            .user_agent(cfg.user_agent.as_str())
            .accept("application/json")
            .timeout_resolve(Some(cfg.connect_timeout))
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_send_request(read)
            .timeout_send_body(read)
            .timeout_recv_response(read)
            .timeout_recv_body(read)
            .tls_config(tls.build())
            // Each open connection owns these buffers, and a fan-out keeps dozens open at
            // once. Keboola's requests are small JSON documents, and the input buffer only
            // has to hold a response head (capped at 64 KiB anyway); bodies stream through.
            .input_buffer_size(64 * 1024)
            .output_buffer_size(16 * 1024)
            .build()
            .new_agent();
        Ok(Http {
            agent,
            config: Arc::new(cfg),
        })
    }

    /// Sends a request, retrying a GET on transient failures, and returns the body of
    /// a 2xx response. Any other outcome is an [`ApiError`].
    pub(crate) fn send(&self, request: &Request<'_>) -> Result<Vec<u8>, ApiError> {
        let max_attempts = self.config.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let mut result = self.attempt(request, attempt);
            if let Err(err) = &mut result {
                err.set_attempts(attempt);
                let retry = request.method == Method::Get
                    && attempt < max_attempts
                    && should_retry_get(err);
                if retry {
                    let delay =
                        retry_delay(&self.config, attempt, err.retry_after(), jitter_seed());
                    tracing::debug!(
                        method = request.method.as_str(),
                        path = request.url.path(),
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

    /// Sends `request` and decodes its JSON answer with `decode`; a body of the wrong shape
    /// is an invalid response.
    pub(crate) fn fetch<T>(
        &self,
        request: &Request<'_>,
        decode: impl FnOnce(Value) -> Result<T, crate::models::ShapeError>,
    ) -> Result<T, ApiError> {
        let value = self.send_json(request)?;
        decode(value).map_err(|e| {
            ApiError::invalid_response(request.method.as_str(), request.url.path(), e.to_string())
        })
    }

    /// Sends a request and parses the 2xx body as JSON.
    pub(crate) fn send_json(&self, request: &Request<'_>) -> Result<Value, ApiError> {
        let body = self.send(request)?;
        parse_json_body(&body, request)
    }

    fn attempt(&self, request: &Request<'_>, attempt: u32) -> Result<Vec<u8>, ApiError> {
        let method = request.method.as_str();
        let path = request.url.path();
        let started = Instant::now();
        let outcome = self.exchange(request);
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok((status, _, _)) => {
                tracing::debug!(method, path, attempt, status, elapsed_ms, "http response");
            }
            Err(err) => {
                tracing::debug!(method, path, attempt, error = ?err.kind(), elapsed_ms, "http request failed");
            }
        }
        let (status, retry_after, body) = outcome?;
        if (200..300).contains(&status) {
            return body;
        }
        // An unreadable error body is no reason to hide the status.
        let body = body.unwrap_or_default();
        let retry_after = retry_after.and_then(|v| parse_retry_after(&v, jiff::Timestamp::now()));
        Err(ApiError::from_response(
            method,
            path,
            status,
            retry_after,
            &body,
            request.auth.as_ref().map(|a| a.token),
        ))
    }

    /// One HTTP exchange: status, raw `Retry-After`, and the body (or why it could not
    /// be read).
    #[allow(clippy::type_complexity, reason = "a private tuple used in one place")]
    fn exchange(
        &self,
        request: &Request<'_>,
    ) -> Result<(u16, Option<String>, Result<Vec<u8>, ApiError>), ApiError> {
        let method = request.method.as_str();
        let path = request.url.path();
        let url = request.url.as_str();
        let auth = match &request.auth {
            Some(auth) => {
                let mut value = HeaderValue::from_str(auth.token.expose()).map_err(|_| {
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
                Some((auth.header, value))
            }
            None => None,
        };
        let response = match request.method {
            Method::Get => {
                let mut builder = self.agent.get(url);
                if let Some((name, value)) = auth {
                    builder = builder.header(name, value);
                }
                builder.call()
            }
            Method::Delete => {
                let mut builder = self.agent.delete(url);
                if let Some((name, value)) = auth {
                    builder = builder.header(name, value);
                }
                builder.call()
            }
            Method::Post => {
                let mut builder = self.agent.post(url);
                if let Some((name, value)) = auth {
                    builder = builder.header(name, value);
                }
                match &request.json_body {
                    Some(body) => builder
                        .content_type("application/json")
                        .send(body.as_slice()),
                    None => builder.send_empty(),
                }
            }
        };
        let mut response =
            response.map_err(|e| classify_request_error(&e, &self.config, method, path))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| classify_body_error(&e, &self.config, method, path));
        Ok((status, retry_after, body))
    }
}

fn should_retry_get(err: &ApiError) -> bool {
    match err.kind() {
        ApiErrorKind::Connect | ApiErrorKind::Timeout => true,
        ApiErrorKind::Http { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
        _ => false,
    }
}

/// The delay before retry number `attempt` (1-based: the delay after the first try).
/// A server's `Retry-After` wins over the exponential backoff; either is capped at
/// `max_retry_after`. Jitter (up to a fifth of the backoff) spreads out clients that
/// failed together; it is not added to a `Retry-After`.
pub(crate) fn retry_delay(
    cfg: &HttpConfig,
    attempt: u32,
    retry_after: Option<Duration>,
    jitter_seed: u64,
) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(cfg.max_retry_after);
    }
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    let backoff = cfg.backoff_base.saturating_mul(factor);
    let jitter_span = u64::try_from(backoff.as_nanos() / 5).unwrap_or(u64::MAX);
    let jitter = if jitter_span == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(jitter_seed % jitter_span)
    };
    backoff.saturating_add(jitter).min(cfg.max_retry_after)
}

/// A random number without a RNG dependency: every `RandomState` gets fresh keys.
fn jitter_seed() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// `Retry-After` is either delay seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

fn parse_json_body(body: &[u8], request: &Request<'_>) -> Result<Value, ApiError> {
    let method = request.method.as_str();
    let path = request.url.path();
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

fn classify_request_error(
    err: &ureq::Error,
    cfg: &HttpConfig,
    method: &str,
    path: &str,
) -> ApiError {
    use ureq::Error as E;
    let (kind, sent, detail): (ApiErrorKind, bool, String) = match err {
        E::Timeout(t) => {
            let connecting = matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect);
            let detail = if connecting {
                format!(
                    "could not connect within {}",
                    show_duration(cfg.connect_timeout)
                )
            } else {
                format!("no response within {}", show_duration(cfg.read_timeout))
            };
            (ApiErrorKind::Timeout, !connecting, detail)
        }
        E::HostNotFound => (ApiErrorKind::Connect, false, "host not found".to_owned()),
        E::ConnectionFailed => (ApiErrorKind::Connect, false, "connection failed".to_owned()),
        E::ConnectProxyFailed(_) | E::InvalidProxyUrl => {
            (ApiErrorKind::Connect, false, format!("proxy error ({err})"))
        }
        E::Io(io_err) => classify_io_error(io_err),
        E::Tls(_) | E::Pem(_) | E::Rustls(_) | E::TlsRequired => {
            (ApiErrorKind::Tls, false, err.to_string())
        }
        E::Protocol(_) | E::LargeResponseHeader(..) | E::TooManyRedirects | E::RedirectFailed => (
            ApiErrorKind::InvalidResponse,
            true,
            format!("malformed HTTP response ({err})"),
        ),
        E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) => (
            ApiErrorKind::Config,
            false,
            "the request could not be built".to_owned(),
        ),
        _ => (ApiErrorKind::Connect, true, err.to_string()),
    };
    ApiError::transport(kind, method, path, detail, sent)
}

fn classify_io_error(err: &io::Error) -> (ApiErrorKind, bool, String) {
    if let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return (ApiErrorKind::Tls, false, tls.to_string());
    }
    use io::ErrorKind as K;
    match err.kind() {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            (ApiErrorKind::Connect, false, err.to_string())
        }
        K::TimedOut | K::WouldBlock => (ApiErrorKind::Timeout, true, err.to_string()),
        K::UnexpectedEof => (
            ApiErrorKind::Connect,
            true,
            "the server closed the connection without a response".to_owned(),
        ),
        _ => (ApiErrorKind::Connect, true, err.to_string()),
    }
}

fn classify_body_error(err: &ureq::Error, cfg: &HttpConfig, method: &str, path: &str) -> ApiError {
    use ureq::Error as E;
    let timed_out = match err {
        E::Timeout(_) => true,
        E::Io(io_err) => io_err.kind() == io::ErrorKind::TimedOut,
        _ => false,
    };
    if timed_out {
        return ApiError::transport(
            ApiErrorKind::Timeout,
            method,
            path,
            format!(
                "the response body did not arrive within {}",
                show_duration(cfg.read_timeout)
            ),
            true,
        );
    }
    match err {
        E::BodyExceedsLimit(limit) => ApiError::invalid_response(
            method,
            path,
            format!(
                "the response body is larger than {} MiB",
                limit / (1024 * 1024)
            ),
        ),
        E::Decompress(..) => {
            ApiError::invalid_response(method, path, "the gzip response body is corrupt")
        }
        _ => ApiError::invalid_response(
            method,
            path,
            "the response body was cut short or unreadable",
        ),
    }
}

fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The bundled Mozilla roots plus every certificate in the PEM file at `path`.
fn roots_with_extra_ca(path: &std::path::Path) -> Result<RootCerts, ApiError> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| ApiError::config(format!("cannot read the CA file {shown}: {e}")))?;
    let mut extra = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => extra.push(cert),
            Ok(_) => {}
            Err(e) => {
                return Err(ApiError::config(format!(
                    "cannot parse the CA file {shown}: {e}"
                )));
            }
        }
    }
    if extra.is_empty() {
        return Err(ApiError::config(format!(
            "the CA file {shown} contains no PEM certificate"
        )));
    }
    let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect();
    all.extend(extra);
    Ok(RootCerts::new_with_certs(&all))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

pub(crate) struct Auth<'a> {
    pub(crate) header: &'static str,
    pub(crate) token: &'a Token,
}

pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) auth: Option<Auth<'a>>,
    pub(crate) json_body: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(base_ms: u64, cap_ms: u64) -> HttpConfig {
        HttpConfig {
            backoff_base: Duration::from_millis(base_ms),
            max_retry_after: Duration::from_millis(cap_ms),
            ..HttpConfig::default()
        }
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let c = cfg(500, 60_000);
        for seed in [0, 1, 12345, u64::MAX / 3, u64::MAX] {
            for (attempt, base_ms) in [(1u32, 500u64), (2, 1000), (3, 2000), (4, 4000)] {
                let d = retry_delay(&c, attempt, None, seed);
                let base = Duration::from_millis(base_ms);
                assert!(
                    d >= base && d <= base + base / 5,
                    "attempt {attempt} seed {seed}: {d:?}"
                );
            }
        }
        assert_eq!(retry_delay(&c, 1, None, 0), Duration::from_millis(500));
        assert_ne!(
            retry_delay(&c, 1, None, 7),
            retry_delay(&c, 1, None, 99_999_999)
        );
    }

    #[test]
    fn backoff_is_capped() {
        let c = cfg(500, 3000);
        assert_eq!(retry_delay(&c, 10, None, 42), Duration::from_secs(3));
        assert_eq!(retry_delay(&c, u32::MAX, None, 42), Duration::from_secs(3));
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let c = cfg(500, 30_000);
        assert_eq!(
            retry_delay(&c, 1, Some(Duration::from_secs(7)), 5),
            Duration::from_secs(7)
        );
        assert_eq!(retry_delay(&c, 3, Some(Duration::ZERO), 5), Duration::ZERO);
        assert_eq!(
            retry_delay(&c, 1, Some(Duration::from_secs(3600)), 5),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_formats() {
        let now: jiff::Timestamp = "2024-05-06T08:49:30Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Mon, 06 May 2024 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Mon, 06 May 2024 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let err = Http::new(HttpConfig {
            extra_ca_file: Some(PathBuf::from("/nonexistent/kbagent-test-ca.pem")),
            ..HttpConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.kind(), &ApiErrorKind::Config);
        assert!(
            err.to_string().contains("/nonexistent/kbagent-test-ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn bad_user_agent_is_a_config_error() {
        let err = Http::new(HttpConfig {
            user_agent: "kbagent\n/1.0".to_owned(),
            ..HttpConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.kind(), &ApiErrorKind::Config);
    }

    #[test]
    fn default_config() {
        let c = HttpConfig::default();
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.read_timeout, Duration::from_secs(30));
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.backoff_base, Duration::from_millis(500));
        assert_eq!(c.max_retry_after, Duration::from_secs(30));
        assert_eq!(
            c.user_agent,
            format!("kbagent/{}", env!("CARGO_PKG_VERSION"))
        );
        assert!(c.extra_ca_file.is_none());
    }
}
