//! Global search, `GET /v2/storage/global-search`: names of buckets, tables,
//! configurations, flows and transformations, for projects with the `global-search`
//! feature (others get 404).

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// The project feature that enables [`StorageClient::global_search`].
pub const GLOBAL_SEARCH_FEATURE: &str = "global-search";

/// The most items one global search returns.
pub const GLOBAL_SEARCH_MAX_LIMIT: u32 = 100;

/// Parameters of [`StorageClient::global_search`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalSearchQuery {
    pub query: String,
    /// `projectIds[]`; usually the token's own project.
    pub project_ids: Vec<u64>,
    /// `types[]`: `bucket`, `table`, `configuration`, `configuration-row`, `flow`,
    /// `transformation`, ...; empty for every type.
    pub types: Vec<String>,
    /// At most [`GLOBAL_SEARCH_MAX_LIMIT`].
    pub limit: u32,
    pub offset: u32,
    /// `branchTypes[]=production` when set.
    pub production_only: bool,
}

/// One hit of a global search.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct SearchItem {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub r#type: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub component_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub project_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub project_name: String,
    /// Column names that matched, for tables.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub matched_columns: Vec<String>,
    /// Where the item lives: `project`, `branch`, `component`, `bucket`, `configuration`.
    #[serde(default)]
    pub full_path: Value,
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(SearchItem, lenient::strip_nested_tokens);

impl SearchItem {
    /// The description, when the answer carries one (`fullPath.description`).
    pub fn description(&self) -> Option<&str> {
        self.full_path.get("description").and_then(Value::as_str)
    }

    /// The id of the configuration a `configuration-row` belongs to.
    pub fn parent_configuration_id(&self) -> Option<String> {
        match self.full_path.pointer("/configuration/id")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// The answer of a global search.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GlobalSearchResult {
    /// How many items matched in all (the page may hold fewer).
    #[serde(default, deserialize_with = "lenient::uint")]
    pub all: u64,
    #[serde(default, deserialize_with = "lenient::list")]
    pub items: Vec<SearchItem>,
}

impl StorageClient {
    /// `GET /v2/storage/global-search?query=...&projectIds[]=...&types[]=...&limit=&offset=`.
    pub fn global_search(&self, q: &GlobalSearchQuery) -> Result<GlobalSearchResult, ApiError> {
        let mut call = self
            .call(Method::Get, &["global-search"])
            .query("query", &q.query)
            .query(
                "limit",
                &q.limit.clamp(1, GLOBAL_SEARCH_MAX_LIMIT).to_string(),
            )
            .query("offset", &q.offset.to_string());
        for id in &q.project_ids {
            call = call.query("projectIds[]", &id.to_string());
        }
        for t in &q.types {
            call = call.query("types[]", t);
        }
        if q.production_only {
            call = call.query("branchTypes[]", "production");
        }
        call.fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn search_items_decode() {
        let r: GlobalSearchResult = serde_json::from_value(json!({"all": 2, "items": [
            {"id": 7, "type": "configuration-row", "name": "Orders", "componentId": "keboola.ex-db-pgsql",
             "projectId": "10", "projectName": "P", "fullPath": {"configuration": {"id": 12, "name": "DB"}}},
            {"id": "in.c-crm.orders", "type": "table", "name": "orders", "matchedColumns": ["order_id"]}
        ]}))
        .unwrap();
        assert_eq!(r.all, 2);
        assert_eq!(r.items[0].id, "7");
        assert_eq!(r.items[0].project_id, Some(10));
        assert_eq!(r.items[0].parent_configuration_id().as_deref(), Some("12"));
        assert_eq!(r.items[1].matched_columns, vec!["order_id".to_owned()]);
        assert_eq!(r.items[1].description(), None);
    }
}
