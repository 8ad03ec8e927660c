//! Editing a configuration body: dotted paths (`--set`), JSON merge patches (`--merge`,
//! RFC 7386), the list of changes between two bodies, and masking of plain-text secrets
//! in anything shown.
//!
//! Path syntax: keys joined by `.`; `\.` is a dot inside a key and `\\` a backslash; a
//! number addresses an element of an array (`tasks.0.enabled`), and the index one past the
//! end appends. Missing objects on the way are created.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{CliError, CliResult};

/// Shown instead of a plain-text value under a `#` key (it is encrypted before any write).
pub(crate) const MASK: &str = "***";

/// Splits a dotted path into keys.
pub(crate) fn parse_path(path: &str) -> CliResult<Vec<String>> {
    let mut keys = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('.' | '\\')) => keys.last_mut().unwrap_or(&mut String::new()).push(e),
                _ => {
                    return Err(CliError::invalid_argument(format!(
                        "Invalid path '{}': a backslash escapes only '.' or '\\'",
                        path.escape_debug()
                    )));
                }
            },
            '.' => keys.push(String::new()),
            c => {
                if let Some(k) = keys.last_mut() {
                    k.push(c);
                }
            }
        }
    }
    if keys.iter().any(String::is_empty) {
        return Err(CliError::invalid_argument(format!(
            "Invalid path '{}': empty key (write a dot inside a key as '\\.')",
            path.escape_debug()
        )));
    }
    Ok(keys)
}

/// The dotted form of `keys`, escaped so that [`parse_path`] reads it back.
pub(crate) fn render_path(keys: &[String]) -> String {
    keys.iter()
        .map(|k| k.replace('\\', "\\\\").replace('.', "\\."))
        .collect::<Vec<_>>()
        .join(".")
}

/// `PATH=VALUE` of `--set`: the value is JSON when it parses as JSON, otherwise the text.
pub(crate) fn parse_assignment(text: &str) -> CliResult<(Vec<String>, Value)> {
    let Some((path, raw)) = text.split_once('=') else {
        return Err(CliError::invalid_argument(format!(
            "Invalid --set '{}': expected PATH=VALUE",
            text.escape_debug()
        )));
    };
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    Ok((parse_path(path)?, value))
}

/// Sets `keys` in `body` to `value`.
pub(crate) fn set_path(body: &mut Value, keys: &[String], value: Value) -> CliResult<()> {
    let Some((last, parents)) = keys.split_last() else {
        return Ok(());
    };
    let mut node = body;
    for (depth, key) in parents.iter().enumerate() {
        node = child(node, key, &keys[..=depth], true)?;
    }
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let i = index(last, items.len(), keys)?;
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
            Ok(())
        }
        _ => Err(not_container(&keys[..keys.len() - 1])),
    }
}

fn child<'v>(
    node: &'v mut Value,
    key: &str,
    at: &[String],
    create: bool,
) -> CliResult<&'v mut Value> {
    match node {
        Value::Object(map) => {
            if create && !map.get(key).is_some_and(|v| v.is_object() || v.is_array()) {
                if map.get(key).is_some_and(|v| !v.is_null()) {
                    return Err(not_container(at));
                }
                map.insert(key.to_owned(), Value::Object(Map::new()));
            }
            map.get_mut(key).ok_or_else(|| not_container(at))
        }
        Value::Array(items) => {
            let len = items.len();
            let i = index(key, len, at)?;
            if i == len {
                items.push(Value::Object(Map::new()));
            }
            Ok(&mut items[i])
        }
        _ => Err(not_container(&at[..at.len() - 1])),
    }
}

fn index(key: &str, len: usize, at: &[String]) -> CliResult<usize> {
    match key.parse::<usize>() {
        Ok(i) if i <= len => Ok(i),
        _ => Err(CliError::invalid_argument(format!(
            "Invalid path '{}': '{key}' is not an index of the array there (0..={len})",
            render_path(at)
        ))),
    }
}

fn not_container(at: &[String]) -> CliError {
    CliError::invalid_argument(format!(
        "Invalid path: '{}' holds a value, not an object or array, so nothing can be set inside it",
        render_path(at)
    ))
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes a key, anything
/// else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (k, v) in patch {
            if v.is_null() {
                map.remove(k);
            } else {
                merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// One difference between two bodies: `old` absent for an added key, `new` for a removed
/// one. Arrays are compared whole.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct Change {
    /// Dotted path (the `--set` syntax).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The differences from `old` to `new`, paths prefixed with `prefix`, secrets masked.
pub(crate) fn diff(prefix: &[String], old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk_diff(&mut prefix.to_vec(), old, new, &mut out);
    out
}

fn walk_diff(at: &mut Vec<String>, old: &Value, new: &Value, out: &mut Vec<Change>) {
    if let (Value::Object(a), Value::Object(b)) = (old, new) {
        let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
        for k in keys {
            at.push(k.clone());
            match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => walk_diff(at, x, y, out),
                (x, y) => out.push(change(at, x, y)),
            }
            at.pop();
        }
    } else if old != new {
        out.push(change(at, Some(old), Some(new)));
    }
}

fn change(at: &[String], old: Option<&Value>, new: Option<&Value>) -> Change {
    let secret = at.last().is_some_and(|k| k.starts_with('#'));
    let show = |v: &Value| {
        if secret { mask_scalar(v) } else { masked(v) }
    };
    Change {
        path: render_path(at),
        old: old.map(show),
        new: new.map(show),
    }
}

fn mask_scalar(v: &Value) -> Value {
    match v {
        Value::String(s) if keboola_api::is_encrypted(s) => v.clone(),
        Value::Object(_) | Value::Array(_) => masked(v),
        Value::Null => Value::Null,
        _ => Value::String(MASK.to_owned()),
    }
}

/// `value` with every plain-text value under a `#` key replaced by [`MASK`] (ciphers are
/// kept: they are safe to show).
pub(crate) fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k.starts_with('#') {
                        mask_scalar(v)
                    } else {
                        masked(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(p: &str) -> Vec<String> {
        parse_path(p).unwrap()
    }

    #[test]
    fn paths_split_on_unescaped_dots_and_render_back() {
        assert_eq!(keys("a.b.c"), ["a", "b", "c"]);
        assert_eq!(keys(r"a\.b.c"), ["a.b", "c"]);
        assert_eq!(keys(r"a\\.b"), [r"a\", "b"]);
        for p in ["a.b", r"x\.y.z", r"back\\slash.k"] {
            assert_eq!(render_path(&keys(p)), p);
        }
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("").is_err());
        assert!(parse_path(r"a\b").is_err());
    }

    #[test]
    fn set_creates_objects_indexes_arrays_and_refuses_scalars() {
        let mut body = json!({"parameters": {"db": {"host": "h"}}, "tasks": [{"on": true}]});
        set_path(&mut body, &keys("parameters.db.port"), json!(5432)).unwrap();
        set_path(&mut body, &keys("parameters.new.deep"), json!("x")).unwrap();
        set_path(&mut body, &keys("tasks.0.on"), json!(false)).unwrap();
        set_path(&mut body, &keys("tasks.1"), json!({"on": true})).unwrap();
        assert_eq!(
            body,
            json!({"parameters": {"db": {"host": "h", "port": 5432}, "new": {"deep": "x"}},
                   "tasks": [{"on": false}, {"on": true}]})
        );
        assert!(set_path(&mut body, &keys("parameters.db.host.x"), json!(1)).is_err());
        assert!(set_path(&mut body, &keys("tasks.5"), json!(1)).is_err());
    }

    #[test]
    fn assignments_parse_json_else_text() {
        assert_eq!(parse_assignment("a=1").unwrap().1, json!(1));
        assert_eq!(
            parse_assignment("a={\"b\":true}").unwrap().1,
            json!({"b": true})
        );
        assert_eq!(parse_assignment("a=SELECT 1").unwrap().1, json!("SELECT 1"));
        assert_eq!(parse_assignment("a=x=y").unwrap().1, json!("x=y"));
        assert!(parse_assignment("novalue").is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        // Examples from RFC 7386, Appendix A.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut target, patch, want) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, want, "patch {patch}");
        }
    }

    #[test]
    fn diff_lists_changed_added_and_removed_paths_and_masks_plain_secrets() {
        let old = json!({"p": {"a": 1, "gone": true, "#pw": "KBC::ProjectSecure::old", "l": [1]}});
        let new = json!({"p": {"a": 2, "#pw": "hunter2", "l": [1, 2], "k\\.": 0}});
        let changes = diff(&["configuration".into()], &old, &new);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "configuration.p.a",
                "configuration.p.gone",
                "configuration.p.#pw",
                "configuration.p.l",
                r"configuration.p.k\\\.",
            ]
        );
        assert_eq!(changes[1].new, None);
        assert_eq!(changes[2].old, Some(json!("KBC::ProjectSecure::old")));
        assert_eq!(changes[2].new, Some(json!(MASK)));
        assert_eq!(changes[4].old, None);
        assert!(!serde_json::to_string(&changes).unwrap().contains("hunter2"));
        assert_eq!(
            masked(&json!({"x": [{"#s": "plain", "#n": 5, "ok": "v"}]})),
            json!({"x": [{"#s": MASK, "#n": MASK, "ok": "v"}]})
        );
    }
}
