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
}
