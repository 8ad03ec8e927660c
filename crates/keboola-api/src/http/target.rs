//! Request URLs: path segments that cannot escape, and which base URLs may get a token.

use url::Url;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::Method;

/// `base` with its path replaced by `segments`, each percent-encoded on its own so an id
/// can never add segments, a query or a fragment. Empty, `.` and `..` segments are
/// refused: the URL library drops dot segments, which would silently address another
/// resource.
pub(crate) fn build_url(base: &Url, segments: &[&str], method: Method) -> Result<Url, ApiError> {
    let mut url = base.clone();
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || **s == "." || **s == "..")
    {
        return Err(ApiError::transport(
            ApiErrorKind::Config,
            method.as_str(),
            &format!("/{}", segments.join("/")),
            format!("{bad:?} is not a valid identifier"),
            false,
        ));
    }
    let Ok(mut path) = url.path_segments_mut() else {
        return Err(ApiError::transport(
            ApiErrorKind::Config,
            method.as_str(),
            "",
            "the URL cannot take a path",
            false,
        ));
    };
    path.pop_if_empty().extend(segments);
    drop(path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A base URL that may carry a token: https, or http only to a loopback host.
pub(crate) fn check_scheme(base: &Url, method: Method) -> Result<(), ApiError> {
    let loopback = match base.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match base.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ApiError::transport(
            ApiErrorKind::Config,
            method.as_str(),
            base.path(),
            "the service URL must use https (plain http only for a loopback host)",
            false,
        )),
    }
}
