//! The root URL of a Keboola stack, normalized and checked.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

use crate::secret::mask_token;

/// A stack root such as `https://connection.keboola.com`.
///
/// Always `scheme://host[:port]`: https, or http only for a loopback host; no
/// credentials, path, query or fragment; lowercase host; default port omitted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StackUrl {
    text: String,
    /// The same URL parsed, kept so request URLs can be built without re-parsing.
    url: Url,
}

/// Why a stack URL was refused. Messages never repeat the whole input, which could
/// hold credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidStackUrl {
    #[error("the stack URL is empty")]
    Empty,
    #[error("the stack URL cannot be parsed: {0}")]
    Unparsable(String),
    #[error("unsupported URL scheme {0:?}: https is required")]
    UnsupportedScheme(String),
    #[error("plain http is allowed only for loopback hosts, {0} needs https")]
    InsecureHttp(String),
    #[error("the stack URL must not contain credentials")]
    Credentials,
    #[error("the stack URL has no host")]
    MissingHost,
    /// The host name has the shape of a Storage or Manage token. Refused before anything
    /// could resolve it, which would send the token to a DNS server. Holds the masked form.
    #[error(
        "the stack URL looks like an API token ({0}): the token and the URL seem swapped; pass the stack URL as the URL and the token separately"
    )]
    LooksLikeToken(String),
}

impl StackUrl {
    /// Parses and normalizes a stack URL (see the type docs for the rules).
    pub fn parse(input: &str) -> Result<StackUrl, InvalidStackUrl> {
        let input = input.trim();
        if input.is_empty() {
            return Err(InvalidStackUrl::Empty);
        }
        let with_scheme = if has_scheme(input) {
            let (scheme, rest) = input.split_once("://").unwrap_or_default();
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "https" && scheme != "http" {
                return Err(InvalidStackUrl::UnsupportedScheme(scheme));
            }
            // WHATWG parsing would read `https:///v2` as host `v2`.
            if rest.starts_with(['/', '\\']) {
                return Err(InvalidStackUrl::MissingHost);
            }
            input.to_owned()
        } else {
            format!("https://{input}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| match e {
            url::ParseError::EmptyHost => InvalidStackUrl::MissingHost,
            other => InvalidStackUrl::Unparsable(other.to_string()),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidStackUrl::Credentials);
        }
        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(InvalidStackUrl::UnsupportedScheme(scheme.to_owned()));
        }
        let Some(host) = url.host() else {
            return Err(InvalidStackUrl::MissingHost);
        };
        let host_text = match &host {
            Host::Domain("") => return Err(InvalidStackUrl::MissingHost),
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => format!("[{ip}]"),
        };
        if let Host::Domain(_) = &host
            && host_looks_like_token(&host_text)
        {
            return Err(InvalidStackUrl::LooksLikeToken(mask_token(&host_text)));
        }
        if scheme == "http" && !host_is_loopback(&host) {
            return Err(InvalidStackUrl::InsecureHttp(host_text));
        }
        // `Url::port` is already None for the scheme's default port.
        let normalized = match url.port() {
            Some(port) => format!("{scheme}://{host_text}:{port}"),
            None => format!("{scheme}://{host_text}"),
        };
        let url =
            Url::parse(&normalized).map_err(|e| InvalidStackUrl::Unparsable(e.to_string()))?;
        Ok(StackUrl {
            text: normalized,
            url,
        })
    }

    /// The normalized URL, `scheme://host[:port]`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.url.host().is_some_and(|h| host_is_loopback(&h))
    }

    /// The stack root as a `Url`, ready for path segments to be appended.
    pub(crate) fn to_url(&self) -> Url {
        self.url.clone()
    }
}

impl fmt::Debug for StackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StackUrl").field(&self.text).finish()
    }
}

/// Whether the input starts with `scheme://`, so `localhost:8080` is not mistaken for
/// a URL with scheme `localhost`.
fn has_scheme(input: &str) -> bool {
    let Some((scheme, _)) = input.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Real stack hosts have dots (`connection.keboola.com`) or are short names such as
/// `localhost`. A dotless host shaped like `<digits>-<digits>-<secret>`, `<digits>-<secret>`
/// or `kbc_...`, or any dotless host longer than 30 characters, is taken for a token.
fn host_looks_like_token(host: &str) -> bool {
    !host.contains('.') && (host.len() > 30 || crate::secret::looks_like_token(host))
}

fn host_is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl fmt::Display for StackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for StackUrl {
    type Err = InvalidStackUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StackUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_inputs_normalize() {
        let cases = [
            (
                "https://connection.keboola.com",
                "https://connection.keboola.com",
            ),
            ("connection.keboola.com", "https://connection.keboola.com"),
            (
                "  connection.keboola.com\n",
                "https://connection.keboola.com",
            ),
            (
                "https://connection.keboola.com/",
                "https://connection.keboola.com",
            ),
            (
                "https://connection.north-europe.azure.keboola.com/v2/storage",
                "https://connection.north-europe.azure.keboola.com",
            ),
            (
                "https://connection.keboola.com/v2/storage/?exclude=components#x",
                "https://connection.keboola.com",
            ),
            (
                "HTTPS://Connection.KEBOOLA.com",
                "https://connection.keboola.com",
            ),
            (
                "https://connection.keboola.com:443",
                "https://connection.keboola.com",
            ),
            (
                "https://connection.keboola.com:8443",
                "https://connection.keboola.com:8443",
            ),
            ("http://localhost", "http://localhost"),
            ("http://LocalHost:8080/v2/storage", "http://localhost:8080"),
            ("http://localhost:80", "http://localhost"),
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("http://127.8.9.10:5000", "http://127.8.9.10:5000"),
            ("http://[::1]:5000/", "http://[::1]:5000"),
            ("http://[0:0:0:0:0:0:0:1]", "http://[::1]"),
            ("https://[2001:DB8::1]:8443", "https://[2001:db8::1]:8443"),
            ("localhost:8080", "https://localhost:8080"),
            ("127.0.0.1:9000", "https://127.0.0.1:9000"),
            ("https://10.0.0.5", "https://10.0.0.5"),
        ];
        for (input, want) in cases {
            let got = StackUrl::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.as_str(), want, "input {input:?}");
            assert_eq!(got.to_string(), want);
            assert_eq!(input.parse::<StackUrl>().as_ref(), Ok(&got));
        }
    }

    #[test]
    fn rejected_inputs() {
        use InvalidStackUrl as E;
        let cases = [
            ("", E::Empty),
            ("   \t\n", E::Empty),
            (
                "http://connection.keboola.com",
                E::InsecureHttp("connection.keboola.com".into()),
            ),
            ("http://10.0.0.5:8080", E::InsecureHttp("10.0.0.5".into())),
            (
                "http://[2001:db8::1]",
                E::InsecureHttp("[2001:db8::1]".into()),
            ),
            (
                "http://localhost.example.com",
                E::InsecureHttp("localhost.example.com".into()),
            ),
            ("http://128.0.0.1", E::InsecureHttp("128.0.0.1".into())),
            (
                "ftp://connection.keboola.com",
                E::UnsupportedScheme("ftp".into()),
            ),
            ("file:///etc/passwd", E::UnsupportedScheme("file".into())),
            ("ws://localhost", E::UnsupportedScheme("ws".into())),
            ("https://user:pass@connection.keboola.com", E::Credentials),
            ("https://user@connection.keboola.com", E::Credentials),
            ("user:secret@connection.keboola.com", E::Credentials),
            ("https://:pw@localhost", E::Credentials),
            ("https://", E::MissingHost),
            ("https:///v2/storage", E::MissingHost),
        ];
        for (input, want) in cases {
            assert_eq!(StackUrl::parse(input), Err(want), "input {input:?}");
        }
        for input in [
            "https://conn ection.keboola.com",
            "https://host:99999",
            "https://[::1",
        ] {
            assert!(
                matches!(StackUrl::parse(input), Err(E::Unparsable(_))),
                "{input:?} -> {:?}",
                StackUrl::parse(input)
            );
        }
    }

    #[test]
    fn a_token_given_as_the_url_is_refused_without_echoing_it() {
        let secret = "460300c259ec3fcba4b95d1d5c14a8419268bc2b";
        for input in [
            format!("578-67319-{secret}"),
            format!("https://578-67319-{secret}"),
            format!("http://578-67319-{secret}:80/v2/storage"),
            format!("  578-67319-{}\n", secret.to_uppercase()),
            format!("7919-{secret}"),
            "kbc_at_0123456789abcdef0123".to_owned(),
            "abcdefghijklmnopqrstuvwxyz0123456789".to_owned(),
        ] {
            let err = StackUrl::parse(&input).unwrap_err();
            assert!(
                matches!(err, InvalidStackUrl::LooksLikeToken(_)),
                "{input:?}: {err:?}"
            );
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(&secret[..36]), "{shown}");
            assert!(
                !shown.to_lowercase().contains("0123456789abcdef0123"),
                "{shown}"
            );
            assert!(shown.contains("swapped"), "{shown}");
        }
        // Ordinary hosts, short dotless names and long names with dots still parse.
        for input in [
            "http://localhost:8080",
            "https://kbc-stack",
            "https://keboola-emulator-in-a-container-01.internal",
            "https://connection.north-europe.azure.keboola.com",
            "https://123-456",
        ] {
            assert!(StackUrl::parse(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn errors_do_not_echo_credentials() {
        let err = StackUrl::parse("https://admin:hunter2secret@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = StackUrl::parse("http://admin:hunter2secret@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn the_https_requirement_is_spelled_out() {
        let err = StackUrl::parse("http://connection.keboola.com").unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
        let err = StackUrl::parse("gopher://x").unwrap_err();
        assert!(err.to_string().contains("https is required"), "{err}");
    }

    #[test]
    fn loopback_detection() {
        for (input, want) in [
            ("http://localhost:1", true),
            ("https://localhost", true),
            ("http://127.0.0.1", true),
            ("http://127.255.255.254", true),
            ("http://[::1]", true),
            ("https://connection.keboola.com", false),
            ("https://10.0.0.1", false),
            ("https://[2001:db8::1]", false),
        ] {
            assert_eq!(
                StackUrl::parse(input).unwrap().is_loopback(),
                want,
                "{input}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_is_idempotent(
            scheme in proptest::sample::select(vec!["", "https://", "http://", "HTTPS://"]),
            host in proptest::sample::select(vec![
                "connection.keboola.com", "Connection.EU-Central-1.Keboola.com", "localhost",
                "127.0.0.1", "127.1.2.3", "[::1]", "[2001:db8::AB]", "10.1.2.3", "xn--bcher-kva.de",
            ]),
            port in proptest::option::of(1u16..),
            tail in proptest::sample::select(vec!["", "/", "/v2/storage", "/v2/storage?x=1", "#frag"]),
        ) {
            let input = match port {
                Some(p) => format!("{scheme}{host}:{p}{tail}"),
                None => format!("{scheme}{host}{tail}"),
            };
            if let Ok(first) = StackUrl::parse(&input) {
                let second = StackUrl::parse(first.as_str());
                proptest::prop_assert_eq!(second.as_ref(), Ok(&first));
            }
        }
    }
}
