//! Plain-text values under `#` keys are encrypted through the Encryption API before any
//! configuration write, so Storage never receives them in clear. A failed encryption
//! aborts the write.

use keboola_api::{EncryptionClient, EncryptionScope, is_encrypted};
use serde_json::{Map, Value};

use super::body::render_path;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::Project;

/// Where a plain secret sits: its JSON Pointer (to write the cipher back) and its dotted
/// path (to report it).
struct Plain {
    pointer: String,
    path: String,
    value: Value,
}

fn collect(value: &Value, keys: &mut Vec<String>, out: &mut Vec<Plain>) {
    let pointer = |keys: &[String]| {
        keys.iter()
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect::<String>()
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                keys.push(k.clone());
                let plain = k.starts_with('#')
                    && match v {
                        Value::String(s) => !is_encrypted(s),
                        Value::Number(_) | Value::Bool(_) => true,
                        _ => false,
                    };
                if plain {
                    out.push(Plain {
                        pointer: pointer(keys),
                        path: render_path(keys),
                        value: v.clone(),
                    });
                } else {
                    collect(v, keys, out);
                }
                keys.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                keys.push(i.to_string());
                collect(v, keys, out);
                keys.pop();
            }
        }
        _ => {}
    }
}

/// The dotted paths of the plain-text secrets in `body`, as in a configuration object
/// (`configuration.` first).
pub(crate) fn plain_paths(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(body, &mut Vec::new(), &mut out);
    out.into_iter().map(|p| in_configuration(&p.path)).collect()
}

fn in_configuration(path: &str) -> String {
    format!("configuration.{path}")
}

/// The project's numeric id: from the registration, else from the token.
pub(crate) fn project_id(ctx: &Ctx<'_>, project: &Project) -> CliResult<u64> {
    if let Some(id) = project.entry.project_id {
        return Ok(id);
    }
    let info = ctx
        .storage(project)?
        .verify()
        .map_err(|e| project.api_error(&e))?;
    info.owner
        .map(|o| o.id)
        .ok_or_else(|| CliError::unexpected("The token's project id is unknown"))
}

/// Encrypts every plain-text secret of `body` in place for `scope` and returns their
/// dotted paths (`configuration.` first). Only the secrets are sent, under generated keys.
pub(crate) fn encrypt_in_place(
    ctx: &Ctx<'_>,
    project: &Project,
    scope: &EncryptionScope,
    body: &mut Value,
) -> CliResult<Vec<String>> {
    let mut plain = Vec::new();
    collect(body, &mut Vec::new(), &mut plain);
    if plain.is_empty() {
        return Ok(Vec::new());
    }
    let request: Map<String, Value> = plain
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("#{i}"), p.value.clone()))
        .collect();
    let client = EncryptionClient::new(ctx.http()?, &project.entry.stack_url);
    let answer = client.encrypt(scope, &request).map_err(|e| {
        project
            .api_error(&e)
            .reworded(|m| format!("Encrypting the secrets failed, so nothing was written: {m}"))
    })?;
    for (i, p) in plain.iter().enumerate() {
        let cipher = answer
            .get(&format!("#{i}"))
            .and_then(Value::as_str)
            .filter(|c| is_encrypted(c))
            .ok_or_else(|| {
                CliError::unexpected(format!(
                    "The Encryption API returned no cipher for '{}'; nothing was written",
                    p.path
                ))
            })?;
        if let Some(slot) = body.pointer_mut(&p.pointer) {
            *slot = Value::String(cipher.to_owned());
        }
    }
    Ok(plain
        .into_iter()
        .map(|p| in_configuration(&p.path))
        .collect())
}
