//! Component configurations: `/v2/storage/branch/{branch}/components/{id}/configs`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::{Method, RequestBuilder};
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::metadata::{self, Metadata, MetadataEntry};

/// The metadata key under which the UI files a configuration into a folder.
pub const FOLDER_METADATA_KEY: &str = "KBC.configuration.folderName";

/// A configuration found by the metadata search, with its matching entries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationMetadata {
    #[serde(default, deserialize_with = "lenient::string")]
    pub id_component: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub configuration_id: String,
    #[serde(default, deserialize_with = "metadata::entries")]
    pub metadata: Vec<Metadata>,
}

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

    /// `GET /v2/storage/branch/{branch|default}/search/component-configurations` with
    /// `metadataKeys[]` and `include=filteredMetadata`: the configurations that have any of
    /// `keys`, each with its entries of those keys.
    pub fn search_configuration_metadata(
        &self,
        branch: Option<&str>,
        keys: &[&str],
    ) -> Result<Vec<ConfigurationMetadata>, ApiError> {
        let branch = branch.unwrap_or("default");
        let mut call = self.call(
            Method::Get,
            &["branch", branch, "search", "component-configurations"],
        );
        for key in keys {
            call = call.query("metadataKeys[]", key);
        }
        call.query("include", "filteredMetadata").fetch()
    }

    /// `GET /v2/storage/branch/{branch|default}/components/{c}/configs/{id}/metadata`.
    pub fn configuration_metadata(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> Result<Vec<Metadata>, ApiError> {
        self.metadata_call(Method::Get, branch, component_id, config_id)
            .fetch()
    }

    /// `POST .../components/{c}/configs/{id}/metadata` with `{"metadata": entries}`:
    /// sets the entries (replacing the values of existing keys) and returns them all.
    /// Not retried (a POST).
    pub fn set_configuration_metadata(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
        entries: &[MetadataEntry],
    ) -> Result<Vec<Metadata>, ApiError> {
        self.metadata_call(Method::Post, branch, component_id, config_id)
            .json(&serde_json::json!({ "metadata": entries }))
            .fetch()
    }

    fn metadata_call(
        &self,
        method: Method,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> RequestBuilder<'_> {
        let branch = branch.unwrap_or("default");
        let path = [
            "branch",
            branch,
            "components",
            component_id,
            "configs",
            config_id,
            "metadata",
        ];
        self.call(method, &path)
    }
}
