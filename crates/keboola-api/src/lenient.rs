//! Serde helpers for Keboola's loose typing, used with `#[serde(deserialize_with = ...)]`.
//!
//! PHP services send ids as strings or numbers, booleans as `true`, `1` or `"1"`, an empty
//! map as `[]`, and `null` where a value is missing. These helpers accept all of that and
//! never put a received value into an error message (it could be a secret).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id sent as a non-empty string or a number. Required.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(D::Error::custom("expected a string or numeric id")),
    }
}

/// A non-negative integer sent as a number or a numeric string. Required.
pub(crate) fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    as_uint(&Value::deserialize(d)?)
        .ok_or_else(|| D::Error::custom("expected a non-negative integer"))
}

/// Like [`uint`], but anything else (or `null`) is `None`.
pub(crate) fn opt_uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(as_uint(&Value::deserialize(d)?))
}

/// A string, or a number written as one; anything else is `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(as_text(Value::deserialize(d)?))
}

/// Like [`opt_string`], with `""` for anything that is not text.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// `true`/`false`, `1`/`0`, `"1"`/`"0"`/`"true"`/`"false"`; anything else is false.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_u64().is_some_and(|n| n != 0),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true"),
        _ => false,
    })
}

/// A list of strings (numbers are written as text); `null` or a non-list is empty.
pub(crate) fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(as_text).collect(),
        _ => Vec::new(),
    })
}

/// `{"key": "text"}`, where `[]` (PHP's empty map) and `null` mean empty.
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| as_text(v).map(|v| (k, v)))
            .collect(),
        _ => BTreeMap::new(),
    })
}

/// An optional nested object: `null`, `[]`, `{}` and a block that does not decode (for
/// example one without its id) are all `None`.
pub(crate) fn block<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(map) if !map.is_empty() => {
            Ok(serde_json::from_value(Value::Object(map)).ok())
        }
        _ => Ok(None),
    }
}

/// A list of `T`; `null` or a non-list is empty, an item that does not decode is an error.
pub(crate) fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| decode(item).map_err(D::Error::custom))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// The numeric `id` of a nested object such as `organization`; `None` when absent.
pub(crate) fn nested_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map.get("id").and_then(as_uint),
        _ => None,
    })
}

/// Any JSON, with `null` treated as absent.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Some(Value::deserialize(d)?).filter(|v| !v.is_null()))
}

fn as_uint(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why a JSON value did not fit a model. Says which field, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShapeError(pub(crate) String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ShapeError {
    /// A serde error with any quoted value in it removed: serde reports an unexpected
    /// string as `invalid type: string "<the value>"`, and that value may be a secret.
    pub(crate) fn from_serde(err: &serde_json::Error) -> ShapeError {
        let text = err.to_string();
        let mut out = String::with_capacity(text.len());
        let mut quoted = false;
        for c in text.chars() {
            if c == '"' {
                if !quoted {
                    out.push_str("(value hidden)");
                }
                quoted = !quoted;
            } else if !quoted {
                out.push(c);
            }
        }
        ShapeError(crate::secret::mask_secrets_in(&out, None))
    }
}

/// Decodes `value` as `T`, with a value-free error.
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ShapeError> {
    serde_json::from_value(value).map_err(|e| ShapeError::from_serde(&e))
}

/// Removes every `token` key at any depth: the secret of a token object, and of any token
/// object nested in it (such as `creatorToken.token`).
pub(crate) fn strip_all_tokens(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("token");
            map.values_mut().for_each(strip_all_tokens);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_all_tokens),
        _ => {}
    }
}

/// Removes the `token` key of every nested token object (a key ending in `Token`, such as
/// `creatorToken`), at any depth, and leaves other data (configuration contents) alone.
pub(crate) fn strip_nested_tokens(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key.ends_with("Token") {
                    strip_all_tokens(child);
                } else {
                    strip_nested_tokens(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nested_tokens),
        _ => {}
    }
}

/// Implements `Deserialize` for a model whose derive uses `#[serde(remote = "Self")]`:
/// the object is decoded through `serde_json::Value`, the derived field decoding runs on
/// it, and the object itself (after `$strip` removed secrets) is kept in the `raw` field;
/// `$trim`, when given, then removes parts kept elsewhere (a component's configurations).
///
/// A new model is the derive, `#[serde(remote = "Self")]`, a `#[serde(skip)] raw: Value`
/// field, `deserialize_with` helpers from this module, and one `keep_raw!` line. (The
/// derive also leaves an inherent `deserialize` that fills every field but `raw`.)
macro_rules! keep_raw {
    ($ty:ty, $strip:path) => {
        $crate::lenient::keep_raw!($ty, $strip, |_: &mut serde_json::Value| {});
    };
    ($ty:ty, $strip:path, $trim:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let mut value = serde_json::Value::deserialize(d)?;
                // Derived decoding would also take a list, as a tuple of the fields.
                if !value.is_object() {
                    return Err(D::Error::custom("expected a JSON object"));
                }
                $strip(&mut value);
                let mut this = <$ty>::deserialize(&value)
                    .map_err(|e| D::Error::custom($crate::lenient::ShapeError::from_serde(&e)))?;
                #[allow(clippy::redundant_closure_call, reason = "the macro takes a closure")]
                ($trim)(&mut value);
                this.raw = value;
                Ok(this)
            }
        }
    };
}
pub(crate) use keep_raw;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "id")]
        id: String,
        #[serde(default, deserialize_with = "opt_uint")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "flag")]
        on: bool,
        #[serde(default, deserialize_with = "string_map")]
        map: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "strings")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "opt_string")]
        text: Option<String>,
    }

    #[test]
    fn loose_values_decode() {
        let s: Sample = decode(
            json!({"id": 5, "n": "12", "on": "1", "map": [], "list": ["a", 2, null], "text": 3}),
        )
        .unwrap();
        assert_eq!(s.id, "5");
        assert_eq!(s.n, Some(12));
        assert!(s.on);
        assert!(s.map.is_empty());
        assert_eq!(s.list, vec!["a".to_owned(), "2".to_owned()]);
        assert_eq!(s.text.as_deref(), Some("3"));
        let s: Sample = decode(json!({"id": "x", "n": null, "on": "0", "text": null})).unwrap();
        assert_eq!((s.n, s.on, s.text), (None, false, None));
        for (v, want) in [
            (json!(true), true),
            (json!(1), true),
            (json!("true"), true),
            (json!("false"), false),
            (json!(0), false),
            (json!(null), false),
            (json!(""), false),
        ] {
            let s: Sample = decode(json!({"id": "1", "on": v})).unwrap();
            assert_eq!(s.on, want, "{v}");
        }
    }

    #[test]
    fn errors_never_carry_values() {
        let secret = "578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b";
        let err = decode::<Sample>(json!({"id": {"x": secret}})).unwrap_err();
        assert!(!err.0.contains("460300c259"), "{err}");
        let err = decode::<Sample>(
            json!({"id": "1", "n": [], "list": {}, "text": secret, "map": secret}),
        )
        .map(|_| ());
        assert!(err.is_ok());
        #[derive(Debug, Deserialize)]
        #[allow(dead_code, reason = "only the error matters")]
        struct Strict {
            n: u64,
        }
        let err = decode::<Strict>(json!({"n": secret})).unwrap_err();
        assert!(!err.0.contains("460300c259"), "{err}");
        assert!(err.0.contains("(value hidden)"), "{err}");
        let err = decode::<Sample>(json!({})).unwrap_err();
        assert!(err.0.contains("id"), "{err}");
    }

    #[test]
    fn token_stripping() {
        let mut v = json!({"token": "a", "creatorToken": {"id": 1, "token": "b"},
            "items": [{"adminToken": {"token": "c", "deep": {"token": "d"}}}], "configuration": {"token": "keep"}});
        let mut nested = v.clone();
        strip_nested_tokens(&mut nested);
        assert_eq!(
            nested,
            json!({"token": "a", "creatorToken": {"id": 1},
            "items": [{"adminToken": {"deep": {}}}], "configuration": {"token": "keep"}})
        );
        strip_all_tokens(&mut v);
        assert!(!v.to_string().contains("\"token\""), "{v}");
    }
}
