//! Components with their configurations: `/v2/storage/branch/{branch}/components`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::configurations::Configuration;

/// A component with its configurations in one branch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self")]
pub struct Component {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub r#type: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub configurations: Vec<Configuration>,
    /// The component definition as received, without `configurations`.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(
    Component,
    lenient::strip_nested_tokens,
    |raw: &mut Value| {
        if let Some(o) = raw.as_object_mut() {
            o.remove("configurations");
        }
    }
);

/// Filters for [`StorageClient::list_components`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentsQuery {
    /// Branch id; `None` is the default branch.
    pub branch: Option<String>,
    /// For example `extractor`, `writer`, `application`.
    pub component_type: Option<String>,
    /// Include configuration rows.
    pub include_rows: bool,
}

impl StorageClient {
    /// `GET /v2/storage/branch/{branch|default}/components?include=configuration[,rows]`,
    /// optionally filtered by `componentType`.
    pub fn list_components(&self, q: &ComponentsQuery) -> Result<Vec<Component>, ApiError> {
        let branch = q.branch.as_deref().unwrap_or("default");
        let include = if q.include_rows {
            "configuration,rows"
        } else {
            "configuration"
        };
        let mut call = self
            .call(Method::Get, &["branch", branch, "components"])
            .query("include", include);
        if let Some(component_type) = &q.component_type {
            call = call.query("componentType", component_type);
        }
        call.fetch()
    }
}

/// A component of the stack's catalogue (the Storage API index, or its public detail).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct CatalogueComponent {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub r#type: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub long_description: String,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub flags: Vec<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub categories: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub documentation_url: Option<String>,
    /// JSON Schema of the configuration's `parameters`; absent, `null` or `{}` when unknown.
    #[serde(default, deserialize_with = "lenient::present")]
    pub configuration_schema: Option<Value>,
    #[serde(default, deserialize_with = "lenient::present")]
    pub configuration_row_schema: Option<Value>,
    /// The component as received.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(CatalogueComponent, lenient::strip_nested_tokens);

/// The flag of components whose configurations are authorized through OAuth.
pub const OAUTH_FLAG: &str = "genericDockerUI-authorization";

impl CatalogueComponent {
    /// Whether configurations of this component are authorized through an OAuth flow.
    pub fn uses_oauth(&self) -> bool {
        self.flags.iter().any(|f| f == OAUTH_FLAG)
    }
}

#[derive(Deserialize)]
struct CatalogueIndex {
    #[serde(default, deserialize_with = "lenient::list")]
    components: Vec<CatalogueComponent>,
}

impl StorageClient {
    /// The stack's whole component catalogue, from the Storage API index
    /// (`GET /v2/storage?exclude=componentDetails`: no schemas, a far smaller answer).
    pub fn component_catalogue(&self) -> Result<Vec<CatalogueComponent>, ApiError> {
        let index: CatalogueIndex = self
            .call(Method::Get, &[])
            .query("exclude", "componentDetails")
            .fetch()?;
        Ok(index.components)
    }

    /// `GET /v2/storage/components/{id}`: one component of the catalogue, with its schemas.
    pub fn component_detail(&self, id: &str) -> Result<CatalogueComponent, ApiError> {
        self.call(Method::Get, &["components", id]).fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn components_decode_with_rows() {
        let value = json!({"id":"keboola.ex-db-mysql","type":"extractor","name":"MySQL","flags":[],
            "configurations":[{"id":"123","name":"Prod DB","description":"","created":"2024-01-01T10:00:00+0100",
                "creatorToken":{"id":5,"description":"me"},"version":4,"changeDescription":"edit",
                "isDeleted":false,"isDisabled":true,"currentVersion":{"versionIdentifier":"x"},
                "configuration":{"#password":"KBC::ProjectSecure::abc"},
                "rows":[{"id":"r1"}]}]});
        let c: Component = serde_json::from_value(value).unwrap();
        assert_eq!(
            (c.id.as_str(), c.name.as_str(), c.r#type.as_str()),
            ("keboola.ex-db-mysql", "MySQL", "extractor")
        );
        assert!(c.raw.get("configurations").is_none());
        assert_eq!(c.raw["flags"], json!([]));
        let cfg = &c.configurations[0];
        assert_eq!(cfg.id, "123");
        assert_eq!(cfg.version, Some(4));
        assert!(cfg.is_disabled && !cfg.is_deleted);
        assert_eq!(cfg.change_description.as_deref(), Some("edit"));
        assert_eq!(cfg.rows.as_ref().map(Vec::len), Some(1));
        assert_eq!(cfg.creator_token.as_ref().unwrap()["id"], 5);
        assert_eq!(
            cfg.raw["configuration"]["#password"],
            "KBC::ProjectSecure::abc"
        );
        let bare: Component =
            serde_json::from_value(json!({"id":"x","configurations":[{"id":7}]})).unwrap();
        assert_eq!(bare.configurations[0].id, "7");
        assert_eq!(bare.configurations[0].rows, None);
    }

    #[test]
    fn catalogue_component_decodes_flags_and_schema() {
        let c: CatalogueComponent = serde_json::from_value(json!({"id":"keboola.ex-google-drive",
            "type":"extractor","name":"Google Drive","flags":["genericDockerUI","genericDockerUI-authorization"],
            "configurationSchema":{"type":"object"},"longDescription":"Sheets","documentationUrl":null}))
        .unwrap();
        assert!(c.uses_oauth());
        assert_eq!(c.long_description, "Sheets");
        assert_eq!(c.documentation_url, None);
        assert_eq!(c.configuration_schema, Some(json!({"type":"object"})));
        assert_eq!(c.configuration_row_schema, None);
        let plain: CatalogueComponent =
            serde_json::from_value(json!({"id":"keboola.ex-http","flags":"bogus"})).unwrap();
        assert!(!plain.uses_oauth());
    }
}
