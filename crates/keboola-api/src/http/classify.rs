//! Retry timing and the mapping of ureq's failures to [`ApiError`]s.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::time::Duration;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::HttpConfig;

pub(crate) fn should_retry(err: &ApiError) -> bool {
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
pub(crate) fn jitter_seed() -> u64 {
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

pub(crate) fn classify_request_error(
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

pub(crate) fn classify_body_error(
    err: &ureq::Error,
    cfg: &HttpConfig,
    method: &str,
    path: &str,
) -> ApiError {
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
}
