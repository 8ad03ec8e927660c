//! Which Keboola service answers a request: by `Host` (`queue.<hostname>`, ...) when the
//! emulator has a host name, else by path prefix (`/queue/...`) on its own origin.
//!
//! Connection (`connection.<hostname>`, or any other host) serves the Storage API under
//! `/v2/storage`, the Manage API under `/manage` and, for clients that call it there, the
//! Encryption API's `/encrypt`. Every sibling service is also reachable as `/<id>/...`.

use axum::body::Body;
use axum::http::{Response, StatusCode};

use crate::http::{ApiError, ApiRequest, ApiResult};
use crate::state::Shared;
use crate::{ai, encryption, manage, oauth, objects, query, queue, storage};

type Handler = fn(&Shared, &ApiRequest, &[&str]) -> ApiResult;

/// A service beside Connection. `id` is both its id in the Storage index `services` list
/// and the first label of its host name.
pub(crate) struct Sibling {
    pub id: &'static str,
    /// `None`: routed, listed in the index, but answered with 501 until it is emulated.
    handler: Option<Handler>,
}

/// Services listed in the Storage index and served by the emulator. Ids as on real stacks
/// (`query`, `ai`: UNCERTAIN whether real stacks list them; clients derive them anyway).
pub(crate) const SIBLINGS: &[Sibling] = &[
    Sibling {
        id: "encryption",
        handler: Some(encryption::handle),
    },
    Sibling {
        id: "oauth",
        handler: Some(oauth::handle),
    },
    Sibling {
        id: "queue",
        handler: Some(queue::handle),
    },
    Sibling {
        id: "scheduler",
        handler: None,
    },
    Sibling {
        id: "sync-actions",
        handler: None,
    },
    Sibling {
        id: "sandboxes",
        handler: None,
    },
    Sibling {
        id: "query",
        handler: Some(query::handle),
    },
    Sibling {
        id: "ai",
        handler: Some(ai::handle),
    },
];

/// The host label of the Connection service itself.
pub(crate) const CONNECTION: &str = "connection";

fn sibling(id: &str) -> Option<&'static Sibling> {
    SIBLINGS.iter().find(|s| s.id == id)
}

/// Where a request goes, from its `Host`.
enum Target {
    Connection,
    Sibling(&'static Sibling),
    Unknown,
}

/// `queue.keboola.local:8443` under host name `keboola.local` is the queue. The bare host
/// name, `connection.<hostname>` and every host outside it (`127.0.0.1`) are Connection.
fn target(hostname: Option<&str>, host: Option<&str>) -> Target {
    let (Some(hostname), Some(host)) = (hostname, host) else {
        return Target::Connection;
    };
    let host = host.trim().to_ascii_lowercase();
    if host.starts_with('[') {
        // An IPv6 literal: never a service host name.
        return Target::Connection;
    }
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host.as_str(), |(name, _)| name)
        .trim_end_matches('.');
    let Some(label) = name
        .strip_suffix(hostname)
        .and_then(|rest| rest.strip_suffix('.'))
    else {
        return Target::Connection;
    };
    if label == CONNECTION {
        return Target::Connection;
    }
    sibling(label).map_or(Target::Unknown, Target::Sibling)
}

/// Where a request goes, with the path left for the service to route.
enum Route<'a> {
    Storage(&'a [&'a str]),
    Manage(&'a [&'a str]),
    /// The cloud object protocols behind File Storage: `abs`, `s3`, `gcs`.
    Objects(&'static str, &'a [&'a str]),
    Sibling(&'static Sibling, &'a [&'a str]),
    UnknownHost,
    NotFound,
}

fn route<'a>(shared: &Shared, req: &ApiRequest, segs: &'a [&'a str]) -> Route<'a> {
    match target(shared.urls.hostname(), req.host.as_deref()) {
        Target::Sibling(service) => Route::Sibling(service, segs),
        Target::Unknown => Route::UnknownHost,
        Target::Connection => match segs {
            ["v2", "storage", rest @ ..] => Route::Storage(rest),
            ["manage", rest @ ..] => Route::Manage(rest),
            ["_abs", rest @ ..] => Route::Objects("abs", rest),
            ["_s3", rest @ ..] => Route::Objects("s3", rest),
            ["_gcs", rest @ ..] => Route::Objects("gcs", rest),
            // Clients that call Encryption on the stack URL itself.
            ["encrypt"] => {
                sibling("encryption").map_or(Route::NotFound, |s| Route::Sibling(s, segs))
            }
            [first, rest @ ..] => {
                sibling(first).map_or(Route::NotFound, |s| Route::Sibling(s, rest))
            }
            [] => Route::NotFound,
        },
    }
}

/// The id of the service a request is for (`storage`, `manage`, `queue`, ...), for the
/// request log and fault matching.
pub(crate) fn service_of(shared: &Shared, req: &ApiRequest) -> Option<&'static str> {
    match route(shared, req, &req.segs()) {
        Route::Storage(_) => Some("storage"),
        Route::Manage(_) => Some("manage"),
        Route::Objects(service, _) => Some(service),
        Route::Sibling(service, _) => Some(service.id),
        Route::UnknownHost | Route::NotFound => None,
    }
}

/// Routes an API request to the service that owns it.
pub(crate) fn dispatch(shared: &Shared, req: &ApiRequest) -> Response<Body> {
    let segs = req.segs();
    let result = match route(shared, req, &segs) {
        Route::Storage(rest) => storage::handle(shared, req, rest),
        Route::Manage(rest) => manage::handle(shared, req, rest),
        Route::Objects(service, rest) => Ok(objects::handle(shared, req, service, rest)),
        Route::Sibling(service, rest) => serve(service, shared, req, rest),
        Route::UnknownHost => Err(ApiError::service(
            StatusCode::NOT_FOUND,
            "No Keboola service is served under this host name.",
        )),
        Route::NotFound => Err(ApiError::route_not_found()),
    };
    result.unwrap_or_else(ApiError::into_response)
}

fn serve(service: &Sibling, shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    match service.handler {
        Some(handler) => handler(shared, req, rest),
        None => Err(ApiError::service(
            StatusCode::NOT_IMPLEMENTED,
            &format!(
                "The {} service is not emulated yet (keboola-emulator {}).",
                service.id,
                env!("CARGO_PKG_VERSION")
            ),
        )),
    }
}

/// The URLs the emulator is reached under, for the index and the ready line.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    /// `http://127.0.0.1:PORT`: the listener itself.
    pub origin: String,
    scheme: &'static str,
    /// `:PORT`, empty on the scheme's default port.
    port_suffix: String,
    hostname: Option<String>,
}

impl Urls {
    pub fn new(scheme: &'static str, ip: &str, port: u16, hostname: Option<String>) -> Self {
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port_suffix = if port == default_port {
            String::new()
        } else {
            format!(":{port}")
        };
        Self {
            origin: format!("{scheme}://{ip}:{port}"),
            scheme,
            port_suffix,
            hostname,
        }
    }

    /// Where a service answers: `<scheme>://<id>.<hostname>[:port]` with a host name,
    /// `<origin>/<id>` without.
    pub fn service(&self, id: &str) -> String {
        match &self.hostname {
            Some(h) => format!("{}://{id}.{h}{}", self.scheme, self.port_suffix),
            None => format!("{}/{id}", self.origin),
        }
    }

    /// The host name sibling services are addressed under, when set.
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// The stack URL clients are given: Connection.
    pub fn connection(&self) -> String {
        match &self.hostname {
            Some(_) => self.service(CONNECTION),
            None => self.origin.clone(),
        }
    }
}

/// A host name is lower-case DNS labels, without scheme, port or trailing dot.
pub(crate) fn check_hostname(name: &str) -> anyhow::Result<String> {
    let name = name.trim().to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() > 200 || !name.split('.').all(label_ok) {
        anyhow::bail!(
            "host name {name:?} is not valid: give DNS labels such as keboola.local (no scheme or port)"
        );
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hostname: Option<&str>, host: Option<&str>) -> &'static str {
        match target(hostname, host) {
            Target::Connection => CONNECTION,
            Target::Sibling(s) => s.id,
            Target::Unknown => "unknown",
        }
    }

    #[test]
    fn hosts_pick_services() {
        let h = Some("keboola.local");
        assert_eq!(id(h, Some("queue.keboola.local:8080")), "queue");
        assert_eq!(id(h, Some("Sync-Actions.Keboola.Local.")), "sync-actions");
        assert_eq!(id(h, Some("connection.keboola.local")), CONNECTION);
        assert_eq!(id(h, Some("keboola.local")), CONNECTION);
        assert_eq!(id(h, Some("127.0.0.1:8080")), CONNECTION);
        assert_eq!(id(h, Some("[::1]:8080")), CONNECTION);
        assert_eq!(id(h, Some("nope.keboola.local")), "unknown");
        assert_eq!(id(h, Some("queuekeboola.local")), CONNECTION);
        assert_eq!(id(None, Some("queue.keboola.local")), CONNECTION);
        assert_eq!(id(h, None), CONNECTION);
    }

    #[test]
    fn urls_follow_the_host_name() {
        let u = Urls::new("http", "127.0.0.1", 8080, None);
        assert_eq!(u.service("queue"), "http://127.0.0.1:8080/queue");
        assert_eq!(u.connection(), "http://127.0.0.1:8080");
        let u = Urls::new("https", "127.0.0.1", 443, Some("keboola.local".into()));
        assert_eq!(u.service("queue"), "https://queue.keboola.local");
        assert_eq!(u.connection(), "https://connection.keboola.local");
        let u = Urls::new("http", "127.0.0.1", 8080, Some("keboola.local".into()));
        assert_eq!(u.service("ai"), "http://ai.keboola.local:8080");
    }

    #[test]
    fn host_names_are_checked() {
        assert_eq!(check_hostname("Keboola.Local").unwrap(), "keboola.local");
        assert!(check_hostname("http://keboola.local").is_err());
        assert!(check_hostname("keboola.local:443").is_err());
        assert!(check_hostname("").is_err());
        assert!(check_hostname("a..b").is_err());
    }
}
