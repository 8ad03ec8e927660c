//! Encryption API: `POST /encrypt?componentId=&projectId=[&configId=]`. No token needed.
//!
//! Ciphertexts stay opaque random bytes on the wire; what each decrypts to, and the scope
//! it was made for, is kept in the metadata database (`secrets`) so the Job Queue can hand
//! a job its plain values, as Keboola's runner does, and only when the scope matches.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::Value;

use crate::crypto::cipher;
use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Shared;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS secrets (
    cipher TEXT PRIMARY KEY,
    plain TEXT NOT NULL,
    component_id TEXT,
    project_id INTEGER,
    config_id TEXT
);";

/// What a cipher was made for; `None` parts are not bound (the prefix tells which).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub component_id: Option<String>,
    pub project_id: Option<u64>,
    pub config_id: Option<String>,
}

/// A cipher with its plain text. No `Debug`: the plain text must not reach any output.
#[derive(Clone)]
pub(crate) struct Secret {
    pub cipher: String,
    pub plain: String,
    pub scope: Scope,
}

impl Secret {
    /// Encrypts `plain` for `scope` (the prefix follows the scope's parts).
    pub fn new(rng: &mut impl rand::Rng, scope: Scope, plain: &str) -> Self {
        let prefix = match (&scope.component_id, scope.project_id, &scope.config_id) {
            (Some(_), Some(_), Some(_)) => "ConfigSecure",
            (Some(_), Some(_), None) => "ProjectSecure",
            (Some(_), None, _) => "ComponentSecure",
            (None, _, _) => "ProjectWideSecure",
        };
        Self {
            cipher: cipher(rng, prefix, plain),
            plain: plain.to_owned(),
            scope,
        }
    }
}

pub(crate) fn save(conn: &Connection, s: &Secret) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO secrets (cipher, plain, component_id, project_id, config_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            s.cipher,
            s.plain,
            s.scope.component_id,
            s.scope.project_id,
            s.scope.config_id
        ],
    )?;
    Ok(())
}

fn lookup(conn: &Connection, cipher: &str) -> rusqlite::Result<Option<(String, Scope)>> {
    conn.query_row(
        "SELECT plain, component_id, project_id, config_id FROM secrets WHERE cipher = ?1",
        [cipher],
        |r| {
            Ok((
                r.get(0)?,
                Scope {
                    component_id: r.get(1)?,
                    project_id: r.get(2)?,
                    config_id: r.get(3)?,
                },
            ))
        },
    )
    .optional()
}

/// Why a value could not be decrypted for a job: the key it sat under.
#[derive(Debug)]
pub(crate) struct DecryptError {
    pub key: String,
}

/// Decrypts, in place, every cipher under a `#` key of `value` for a job of `component`
/// in `project` (configuration `config`). A cipher that is unknown or bound to another
/// component, project or configuration fails, as Keboola's runner does.
pub(crate) fn decrypt_for_job(
    conn: &Connection,
    component: &str,
    project: u64,
    config: Option<&str>,
    value: &mut Value,
) -> Result<(), DecryptError> {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key.starts_with('#') && s.starts_with("KBC::") => {
                        let fail = || DecryptError { key: key.clone() };
                        let (plain, scope) = lookup(conn, s).ok().flatten().ok_or_else(fail)?;
                        let fits = scope.component_id.as_deref().is_none_or(|c| c == component)
                            && scope.project_id.is_none_or(|p| p == project)
                            && scope.config_id.as_deref().is_none_or(|c| Some(c) == config);
                        if !fits {
                            return Err(fail());
                        }
                        *v = Value::String(plain);
                    }
                    _ => decrypt_for_job(conn, component, project, config, v)?,
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| decrypt_for_job(conn, component, project, config, v)),
        _ => Ok(()),
    }
}

fn service_error(status: StatusCode, message: &str) -> ApiError {
    ApiError::service(status, message)
}

fn scope_of(
    component: Option<&str>,
    project: Option<&str>,
    config: Option<&str>,
) -> Result<Scope, ApiError> {
    if config.is_some() && project.is_none() {
        return Err(service_error(
            StatusCode::BAD_REQUEST,
            "The configId parameter requires the projectId parameter.",
        ));
    }
    if component.is_none() && (project.is_none() || config.is_some()) {
        return Err(service_error(
            StatusCode::BAD_REQUEST,
            "The componentId parameter is required.",
        ));
    }
    // A project id that is not a number binds to no project the emulator has.
    let project_id = project.map(|p| p.parse().unwrap_or(0));
    Ok(Scope {
        component_id: component.map(str::to_owned),
        project_id,
        config_id: config.map(str::to_owned),
    })
}

fn encrypt_value(conn: &Connection, scope: &Scope, value: &mut Value) -> rusqlite::Result<()> {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                // Scalars under `#` keys are encrypted (numbers and booleans as their text,
                // null as ""); objects and arrays are walked into, ciphers kept.
                let plain = match v {
                    _ if !key.starts_with('#') => None,
                    Value::String(s) if s.starts_with("KBC::") => None,
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Null => Some(String::new()),
                    Value::Object(_) | Value::Array(_) => None,
                };
                match plain {
                    Some(text) => *v = Value::String(remember(conn, scope, &text)?),
                    None => encrypt_value(conn, scope, v)?,
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| encrypt_value(conn, scope, v)),
        _ => Ok(()),
    }
}

/// A new cipher of `plain`, kept with its scope.
fn remember(conn: &Connection, scope: &Scope, plain: &str) -> rusqlite::Result<String> {
    let secret = Secret::new(&mut rand::rng(), scope.clone(), plain);
    save(conn, &secret)?;
    Ok(secret.cipher)
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    match rest {
        ["encrypt"] if req.method == Method::POST => encrypt(shared, req),
        ["encrypt"] => Err(service_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
        )),
        _ => Err(service_error(StatusCode::NOT_FOUND, "Route not found.")),
    }
}

fn encrypt(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let param = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    let scope = scope_of(param("componentId"), param("projectId"), param("configId"))?;
    let content_type = req
        .header(header::CONTENT_TYPE.as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| service_error(StatusCode::BAD_REQUEST, "Body is not valid UTF-8"))?;
    if content_type.starts_with("text/plain") {
        let out = if text.starts_with("KBC::") {
            text.to_owned()
        } else {
            remember(&shared.store().db, &scope, text)?
        };
        let mut resp = Response::new(Body::from(out));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        return Ok(resp);
    }
    let mut value: Value = serde_json::from_str(text)
        .map_err(|_| service_error(StatusCode::BAD_REQUEST, "Request body is not valid JSON."))?;
    if !value.is_object() {
        return Err(service_error(
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON object.",
        ));
    }
    encrypt_value(&shared.store().db, &scope, &mut value)?;
    ok_json(&value)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use serde_json::json;

    use super::*;

    fn scope(component: Option<&str>, project: Option<u64>, config: Option<&str>) -> Scope {
        Scope {
            component_id: component.map(str::to_owned),
            project_id: project,
            config_id: config.map(str::to_owned),
        }
    }

    #[test]
    fn a_cipher_decrypts_only_for_the_component_project_and_configuration_it_names() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let cases = [
            (scope(Some("ex"), None, None), "KBC::ComponentSecure::"),
            (scope(Some("ex"), Some(1), None), "KBC::ProjectSecure::"),
            (scope(Some("ex"), Some(1), Some("9")), "KBC::ConfigSecure::"),
            (scope(None, Some(1), None), "KBC::ProjectWideSecure::"),
        ];
        // (component, project, config) of a job, and which of the four ciphers it may use.
        let jobs = [
            (("ex", 1, Some("9")), [true, true, true, true]),
            (("ex", 1, Some("8")), [true, true, false, true]),
            (("ex", 2, Some("9")), [true, false, false, false]),
            (("other", 1, Some("9")), [false, false, false, true]),
            (("ex", 1, None), [true, true, false, true]),
        ];
        let secrets: Vec<Secret> = cases
            .iter()
            .map(|(s, prefix)| {
                let secret = Secret::new(&mut rng, s.clone(), "plain");
                assert!(secret.cipher.starts_with(prefix), "{}", secret.cipher);
                assert!(!secret.cipher.contains("plain"));
                save(&conn, &secret).unwrap();
                secret
            })
            .collect();
        for ((component, project, config), allowed) in jobs {
            for (secret, ok) in secrets.iter().zip(allowed) {
                let mut v = json!({"parameters": {"nested": [{"#key": secret.cipher}]}});
                let got = decrypt_for_job(&conn, component, project, config, &mut v);
                assert_eq!(
                    got.is_ok(),
                    ok,
                    "{component} {project} {config:?} {}",
                    secret.cipher
                );
                if ok {
                    assert_eq!(v["parameters"]["nested"][0]["#key"], "plain");
                } else {
                    assert_eq!(got.unwrap_err().key, "#key");
                }
            }
        }
        // Unknown ciphers fail; ciphers outside `#` keys and plain values stay as they are.
        let mut unknown = json!({"#p": "KBC::ProjectSecure::AAAA"});
        assert!(decrypt_for_job(&conn, "ex", 1, None, &mut unknown).is_err());
        let mut other = json!({"p": secrets[0].cipher, "#q": "typed in"});
        let before = other.clone();
        decrypt_for_job(&conn, "ex", 1, None, &mut other).unwrap();
        assert_eq!(other, before);
    }
}
