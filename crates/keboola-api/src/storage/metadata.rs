//! Metadata entries, shared by buckets, tables and columns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient;

/// One metadata entry (`KBC.description`, `KBC.datatype.type`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub value: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub provider: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub timestamp: Option<String>,
}

/// A metadata entry to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataEntry {
    pub key: String,
    pub value: String,
}

impl MetadataEntry {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> MetadataEntry {
        MetadataEntry {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A list of entries; `null` or a non-list is empty, entries that do not decode are left out.
pub(crate) fn entries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Metadata>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| lenient::decode(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// `{"column": [entries]}`, where `[]` (PHP's empty map) and `null` mean empty.
pub(crate) fn by_column<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<Metadata>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map
            .into_iter()
            .map(|(column, items)| {
                let items = match items {
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|item| lenient::decode(item).ok())
                        .collect(),
                    _ => Vec::new(),
                };
                (column, items)
            })
            .collect(),
        _ => BTreeMap::new(),
    })
}

/// The value of `key` in `entries`, the last one written winning.
pub fn metadata_value<'a>(entries: &'a [Metadata], key: &str) -> Option<&'a str> {
    entries
        .iter()
        .rev()
        .find(|m| m.key == key)
        .map(|m| m.value.as_str())
}
