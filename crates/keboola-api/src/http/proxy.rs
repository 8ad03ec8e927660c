//! Which requests go through an HTTP proxy.
//!
//! ureq applies its proxy to every host, loopback included, so a proxy variable set for
//! the internet would also see the token of a local emulator in clear text. Here the
//! decision is ours: loopback hosts always connect directly, `NO_PROXY` is honoured for
//! the rest, and only what is left goes through the proxy.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use url::{Host, Url};

use crate::error::ApiError;

/// An HTTP proxy and the hosts that bypass it.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// `http://[user:password@]host:port` (also `https://`, `socks5://`).
    pub url: String,
    /// `NO_PROXY` entries: `*` (every host), `example.com` or `.example.com` (the domain
    /// and its subdomains), `*.example.com` (the same), or an IP address. An entry's
    /// `:port` is ignored.
    pub no_proxy: Vec<String>,
}

/// Proxy variables in the order ureq reads them.
const PROXY_VARS: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

impl ProxySettings {
    /// The first non-empty proxy variable, with `NO_PROXY` (or `no_proxy`).
    pub fn from_env() -> Option<ProxySettings> {
        let url = PROXY_VARS
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))?;
        let no_proxy = ["NO_PROXY", "no_proxy"]
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .map(|list| parse_no_proxy(&list))
            .unwrap_or_default();
        Some(ProxySettings {
            url: url.trim().to_owned(),
            no_proxy,
        })
    }

    /// Whether a request to `url` goes through this proxy: never for a loopback host or
    /// one that `no_proxy` lists.
    pub fn applies_to(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return false;
        };
        if is_loopback(&host) {
            return false;
        }
        let name = match &host {
            Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        !self
            .no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, &name))
    }

    pub(crate) fn to_ureq(&self) -> Result<ureq::Proxy, ApiError> {
        // The URL is not repeated: it may hold a password.
        ureq::Proxy::new(&self.url).map_err(|_| {
            ApiError::config(
                "the proxy URL (from ALL_PROXY, HTTPS_PROXY or HTTP_PROXY) is not valid",
            )
        })
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("url", &without_password(&self.url))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The proxy URL with any credentials replaced, for Debug output.
fn without_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match rest.rfind('@') {
        Some(at) if !rest[..at].contains('/') => format!("{scheme}://***{}", &rest[at..]),
        _ => url.to_owned(),
    }
}

/// A comma-separated `NO_PROXY` value as trimmed, lower-case entries.
pub(crate) fn parse_no_proxy(list: &str) -> Vec<String> {
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect()
}

fn no_proxy_matches(entry: &str, host: &str) -> bool {
    if entry == "*" {
        return true;
    }
    let entry = strip_port(entry);
    let entry = entry.trim_start_matches('*').trim_start_matches('.');
    if entry.is_empty() {
        return false;
    }
    if let (Ok(a), Ok(b)) = (entry.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        return a == b;
    }
    host == entry
        || host
            .strip_suffix(entry)
            .is_some_and(|head| head.ends_with('.'))
}

/// `host:port` -> `host`, `[::1]:8080` -> `::1`; a bare IPv6 address is left alone.
fn strip_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    if entry.parse::<Ipv6Addr>().is_ok() {
        return entry;
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => entry,
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(no_proxy: &str) -> ProxySettings {
        ProxySettings {
            url: "http://user:pw@proxy.example:3128".to_owned(),
            no_proxy: parse_no_proxy(no_proxy),
        }
    }

    fn proxied(s: &ProxySettings, url: &str) -> bool {
        s.applies_to(&Url::parse(url).unwrap())
    }

    #[test]
    fn loopback_is_never_proxied() {
        let s = settings("");
        for url in [
            "http://127.0.0.1:5000/v2/storage",
            "http://127.8.9.10",
            "http://[::1]:8080",
            "http://localhost:1",
            "https://LOCALHOST",
            "http://localhost.:80",
        ] {
            assert!(!proxied(&s, url), "{url}");
        }
        for url in [
            "https://connection.keboola.com",
            "http://example.invalid",
            "https://10.0.0.1",
            "https://localhost.example.com",
            "https://[2001:db8::1]",
        ] {
            assert!(proxied(&s, url), "{url}");
        }
    }

    #[test]
    fn no_proxy_entries() {
        let s =
            settings(" .internal , keboola.com:443,*.corp.example, 10.0.0.5, [2001:db8::1]:80 ,");
        for url in [
            "https://connection.keboola.com",
            "https://keboola.com",
            "https://a.b.internal",
            "https://internal",
            "https://x.corp.example",
            "https://10.0.0.5",
            "https://[2001:db8::1]",
        ] {
            assert!(!proxied(&s, url), "{url}");
        }
        for url in [
            "https://notkeboola.com",
            "https://keboola.com.evil.example",
            "https://10.0.0.50",
            "https://corp.example.org",
        ] {
            assert!(proxied(&s, url), "{url}");
        }
        assert!(!proxied(&settings("*"), "https://anything.example"));
        assert!(proxied(&settings("*.,."), "https://anything.example"));
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let shown = format!("{:?}", settings(""));
        assert!(!shown.contains("pw"), "{shown}");
        assert!(shown.contains("proxy.example:3128"), "{shown}");
    }
}
