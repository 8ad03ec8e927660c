//! The shared HTTP layer: connection pools, timeouts, TLS roots, proxy routing, the
//! per-stack service directory, and the one request path with its retry policy.

mod classify;
mod proxy;
mod request;
mod response;
pub(crate) mod target;
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ureq::http::{HeaderName, HeaderValue};
use ureq::tls::TlsConfig;
use url::Url;

use crate::error::ApiError;
use crate::services::ServiceCache;
use crate::stack::StackUrl;

pub use proxy::ProxySettings;
pub use request::{Method, RequestBuilder};
pub use response::ResponseBody;

/// Largest response body read into memory.
pub(crate) const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// Settings for [`Http`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Limit for resolving the host and establishing the connection, TLS included.
    pub connect_timeout: Duration,
    /// Limit for each phase after connecting: sending the request, receiving the
    /// response headers, and receiving the whole body. Each phase gets the full budget,
    /// so a response may take up to about twice this long in total. Streamed bodies
    /// (see [`RequestBuilder::body_reader`] and [`RequestBuilder::send_streaming`]) have
    /// no limit for the body itself.
    pub read_timeout: Duration,
    /// Total tries for a GET (or a PUT or DELETE marked idempotent) that fails
    /// transiently. Other requests are sent once.
    pub max_attempts: u32,
    /// First retry delay; later ones double (base, 2*base, 4*base, ...) plus jitter.
    pub backoff_base: Duration,
    /// Upper bound for any retry delay, including a server's `Retry-After`.
    pub max_retry_after: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// A PEM bundle trusted in addition to the bundled Mozilla roots (for TLS-
    /// intercepting corporate proxies). At most 4 MiB.
    pub extra_ca_file: Option<PathBuf>,
    /// The HTTP proxy; by default read from `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`
    /// (and their lower-case forms) with `NO_PROXY`. Loopback hosts are never proxied.
    pub proxy: Option<ProxySettings>,
    /// Headers sent on every request to Keboola (the stack and its services, through
    /// [`Http::request`] and [`Http::service_request`]), such as `X-Conversation-ID`.
    /// Never sent to object stores ([`Http::request_url`] to a presigned or cloud URL):
    /// they are not Keboola's, and the header would only tell a third party about the
    /// session. Not for secrets.
    pub default_headers: Vec<(String, String)>,
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
            proxy: ProxySettings::from_env(),
            default_headers: Vec::new(),
        }
    }
}

/// A configured HTTP client. Cheap to clone; clones share the connection pools and the
/// service directory cache.
#[derive(Clone)]
pub struct Http {
    /// Connects to the server itself: loopback and `NO_PROXY` hosts, or everything when
    /// no proxy is configured.
    direct: ureq::Agent,
    /// Goes through the proxy; `None` without one.
    proxied: Option<(ureq::Agent, Arc<ProxySettings>)>,
    config: Arc<HttpConfig>,
    /// [`HttpConfig::default_headers`], checked once.
    default_headers: Arc<[(HeaderName, HeaderValue)]>,
    services: Arc<Mutex<HashMap<StackUrl, Arc<ServiceCache>>>>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// Builds the client. Fails with [`crate::ApiErrorKind::Config`] when the extra CA
    /// file cannot be read, is too large or holds no certificate, the proxy URL is
    /// invalid, or the user agent is not a valid header.
    pub fn new(cfg: HttpConfig) -> Result<Http, ApiError> {
        if HeaderValue::from_str(&cfg.user_agent).is_err() {
            return Err(ApiError::config(
                "the User-Agent contains characters not allowed in a header",
            ));
        }
        let default_headers = cfg
            .default_headers
            .iter()
            .map(|(name, value)| {
                match (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    (Ok(name), Ok(value)) => Ok((name, value)),
                    // The value is not repeated: the caller's message names the source.
                    _ => Err(ApiError::config(format!(
                        "the default header {name:?} is not a valid header"
                    ))),
                }
            })
            .collect::<Result<Arc<[_]>, _>>()?;
        let mut tls = TlsConfig::builder();
        if let Some(path) = &cfg.extra_ca_file {
            tls = tls.root_certs(tls::roots_with_extra_ca(path)?);
        }
        let tls = tls.build();
        let direct = build_agent(&cfg, tls.clone(), None);
        let proxied = match &cfg.proxy {
            Some(settings) => {
                let proxy = settings.to_ureq()?;
                Some((
                    build_agent(&cfg, tls, Some(proxy)),
                    Arc::new(settings.clone()),
                ))
            }
            None => None,
        };
        Ok(Http {
            direct,
            proxied,
            config: Arc::new(cfg),
            default_headers,
            services: Arc::default(),
        })
    }

    /// A request to `stack` plus path segments, each percent-encoded on its own.
    pub fn request(
        &self,
        method: Method,
        stack: &StackUrl,
        segments: &[&str],
    ) -> RequestBuilder<'_> {
        RequestBuilder::new(
            self,
            method,
            target::build_url(&stack.to_url(), segments, method),
        )
        .with_default_headers()
    }

    /// A request to a base URL plus path segments, without the
    /// [`HttpConfig::default_headers`]: for object stores (presigned and cloud URLs).
    /// Keboola's services go through [`Http::service_request`]. The URL must be https,
    /// or http to a loopback host.
    pub fn request_url(&self, method: Method, base: &Url, segments: &[&str]) -> RequestBuilder<'_> {
        let url = target::check_scheme(base, method)
            .and_then(|()| target::build_url(base, segments, method));
        RequestBuilder::new(self, method, url)
    }

    pub(crate) fn default_headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.default_headers
    }

    /// Whether a request to `url` goes through the proxy.
    pub fn uses_proxy(&self, url: &Url) -> bool {
        self.proxied
            .as_ref()
            .is_some_and(|(_, settings)| settings.applies_to(url))
    }

    pub(crate) fn agent_for(&self, url: &Url) -> &ureq::Agent {
        match &self.proxied {
            Some((agent, settings)) if settings.applies_to(url) => agent,
            _ => &self.direct,
        }
    }

    pub(crate) fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The cache slot of one stack's service directory.
    pub(crate) fn service_cache(&self, stack: &StackUrl) -> Arc<ServiceCache> {
        let mut all = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(all.entry(stack.clone()).or_default())
    }
}

fn build_agent(cfg: &HttpConfig, tls: TlsConfig, proxy: Option<ureq::Proxy>) -> ureq::Agent {
    let read = Some(cfg.read_timeout);
    ureq::Agent::config_builder()
        // Every status comes back as a response, so error bodies can be decoded.
        .http_status_as_error(false)
        // Redirects are never followed: ureq would carry our custom token header to
        // whatever host the Location names.
        .max_redirects(0)
        .user_agent(cfg.user_agent.as_str())
        .accept("application/json")
        // Set explicitly: without it ureq reads the proxy variables itself, for every
        // host, loopback included.
        .proxy(proxy)
        .timeout_resolve(Some(cfg.connect_timeout))
        .timeout_connect(Some(cfg.connect_timeout))
        .timeout_send_request(read)
        .timeout_send_body(read)
        .timeout_recv_response(read)
        .timeout_recv_body(read)
        .tls_config(tls)
        // Each open connection owns these buffers, and a fan-out keeps dozens open at
        // once. Keboola's requests are small JSON documents, and the input buffer only
        // has to hold a response head (capped at 64 KiB anyway); bodies stream through.
        .input_buffer_size(64 * 1024)
        .output_buffer_size(16 * 1024)
        .build()
        .new_agent()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiErrorKind;

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

    #[test]
    fn only_non_loopback_requests_use_the_proxy() {
        let http = Http::new(HttpConfig {
            proxy: Some(ProxySettings {
                url: "http://127.0.0.1:9".to_owned(),
                no_proxy: vec!["corp.example".to_owned()],
            }),
            ..HttpConfig::default()
        })
        .unwrap();
        let uses = |u: &str| http.uses_proxy(&Url::parse(u).unwrap());
        assert!(!uses("http://127.0.0.1:8080/v2/storage"));
        assert!(!uses("http://localhost/v2/storage"));
        assert!(!uses("https://a.corp.example/v2/storage"));
        assert!(uses("https://connection.keboola.com/v2/storage"));
        let direct = Http::new(HttpConfig {
            proxy: None,
            ..HttpConfig::default()
        })
        .unwrap();
        assert!(!direct.uses_proxy(&Url::parse("https://connection.keboola.com").unwrap()));
    }

    #[test]
    fn an_invalid_proxy_url_is_a_config_error_that_hides_it() {
        let err = Http::new(HttpConfig {
            proxy: Some(ProxySettings {
                url: "http://user:s3cretpw@[bad".to_owned(),
                no_proxy: Vec::new(),
            }),
            ..HttpConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.kind(), &ApiErrorKind::Config);
        assert!(!err.to_string().contains("s3cretpw"), "{err}");
    }
}
