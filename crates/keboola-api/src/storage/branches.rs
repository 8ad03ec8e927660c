//! Development branches: `/v2/storage/dev-branches`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// A development branch; the default branch has `is_default` set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct DevBranch {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_default: bool,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(DevBranch, lenient::strip_nested_tokens);

impl StorageClient {
    /// `GET /v2/storage/dev-branches`, including the default branch.
    pub fn list_dev_branches(&self) -> Result<Vec<DevBranch>, ApiError> {
        self.call(Method::Get, &["dev-branches"]).fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dev_branches_decode() {
        let list = lenient::decode::<Vec<DevBranch>>(
            json!([{"id":123,"name":"My branch","isDefault":false,"creatorToken":{"id":267}},
                   {"id":"5","name":"Main","isDefault":true,"creatorToken":[]}]),
        )
        .unwrap();
        assert_eq!(list[0].id, 123);
        assert!(!list[0].is_default);
        assert_eq!(list[1].id, 5);
        assert!(list[1].is_default);
        assert_eq!(list[1].raw["creatorToken"], json!([]));
        assert!(lenient::decode::<Vec<DevBranch>>(json!({"id":1})).is_err());
    }
}
