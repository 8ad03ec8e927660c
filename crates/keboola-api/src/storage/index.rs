//! The Storage API index (`GET /v2/storage`): the stack's services and features.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// The Storage API index (`GET /v2/storage`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self")]
pub struct StackIndex {
    /// Entries without an `id` or `url` are left out.
    #[serde(default, deserialize_with = "services")]
    pub services: Vec<ServiceEntry>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub features: Vec<String>,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(StackIndex, lenient::strip_nested_tokens);

/// One service of the stack, such as `queue` or `encryption`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceEntry {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(deserialize_with = "lenient::id")]
    pub url: String,
}

fn services<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ServiceEntry>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| lenient::decode(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

impl StackIndex {
    /// The base URL of the service with this id, if the stack lists it.
    pub fn service_url(&self, id: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.url.as_str())
    }
}

impl StorageClient {
    /// `GET /v2/storage?exclude=components`: the stack's services and features. Sent
    /// without the token, which this endpoint does not need. Answered from the per-stack
    /// cache when the index was already fetched.
    pub fn index(&self) -> Result<StackIndex, ApiError> {
        Ok(self.services()?.index().clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn index_decodes() {
        let index: StackIndex = serde_json::from_value(json!({"api":"storage","version":"v2",
            "services":[{"id":"queue","url":"https://queue.keboola.com"},{"id":"encryption","url":"https://encryption.keboola.com"},{"bogus":1}],
            "features":["a","b"]})).unwrap();
        assert_eq!(
            index.service_url("queue"),
            Some("https://queue.keboola.com")
        );
        assert_eq!(
            index.service_url("encryption"),
            Some("https://encryption.keboola.com")
        );
        assert_eq!(index.service_url("scheduler"), None);
        assert_eq!(index.services.len(), 2);
        assert_eq!(index.features, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(index.raw["api"], "storage");
    }
}
