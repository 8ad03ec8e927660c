//! Component configurations: `/v2/storage/branch/{branch}/components/{id}/configs`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// A component configuration as listed with the component.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Configuration {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub version: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub change_description: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_disabled: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_deleted: bool,
    #[serde(default, deserialize_with = "lenient::present")]
    pub current_version: Option<Value>,
    #[serde(default, deserialize_with = "lenient::present")]
    pub creator_token: Option<Value>,
    /// Present when rows were requested.
    #[serde(default, deserialize_with = "rows")]
    pub rows: Option<Vec<Value>>,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(Configuration, lenient::strip_nested_tokens);

fn rows<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<Value>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(items),
        _ => None,
    })
}

impl StorageClient {
    /// `GET /v2/storage/branch/{branch|default}/components/{component}/configs/{id}`,
    /// returned as received.
    pub fn get_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> Result<Value, ApiError> {
        let branch = branch.unwrap_or("default");
        self.call(
            Method::Get,
            &[
                "branch",
                branch,
                "components",
                component_id,
                "configs",
                config_id,
            ],
        )
        .send_json()
    }
}
