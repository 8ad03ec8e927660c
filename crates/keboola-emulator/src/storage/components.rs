//! Components: the emulated catalogue, its JSON shape and `GET /components`.

use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::configurations;
use crate::storage::tokens::StorageToken;

pub(crate) const OAUTH_COMPONENT: &str = "keboola.ex-google-drive";

#[derive(Clone, Debug)]
pub(crate) struct ComponentDef {
    pub id: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub flags: &'static [&'static str],
    pub categories: &'static [&'static str],
}

impl ComponentDef {
    pub fn uses_oauth(&self) -> bool {
        self.flags.contains(&"genericDockerUI-authorization")
    }
}

pub(crate) const COMPONENTS: &[ComponentDef] = &[
    ComponentDef {
        id: "keboola.ex-db-snowflake",
        kind: "extractor",
        name: "Snowflake",
        description: "Cloud data warehouse",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    ComponentDef {
        id: "keboola.ex-google-drive",
        kind: "extractor",
        name: "Google Drive",
        description: "Import spreadsheets from Google Drive",
        flags: &["genericDockerUI", "genericDockerUI-authorization"],
        categories: &["Files"],
    },
    ComponentDef {
        id: "keboola.ex-http",
        kind: "extractor",
        name: "HTTP",
        description: "Download CSV files from a URL",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    ComponentDef {
        id: "keboola.snowflake-transformation",
        kind: "transformation",
        name: "Snowflake SQL",
        description: "Transform data with Snowflake SQL",
        flags: &["genericCodeBlocksUI", "genericVariablesUI"],
        categories: &[],
    },
    ComponentDef {
        id: "keboola.flow",
        kind: "other",
        name: "Flow",
        description: "Run components in phases",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
];

pub(crate) fn component_def(id: &str) -> Option<&'static ComponentDef> {
    COMPONENTS.iter().find(|c| c.id == id)
}

pub(crate) fn component(def: &ComponentDef, base_url: &str) -> Map<String, Value> {
    let ico = format!("{base_url}/static/icons/{}.png", def.id);
    let mut o = Map::new();
    o.insert("id".into(), json!(def.id));
    o.insert("type".into(), json!(def.kind));
    o.insert("name".into(), json!(def.name));
    o.insert("description".into(), json!(def.description));
    o.insert(
        "longDescription".into(),
        json!(format!("{} (emulated component).", def.description)),
    );
    o.insert("version".into(), json!(1));
    o.insert("complexity".into(), json!("medium"));
    o.insert("categories".into(), json!(def.categories));
    o.insert("hasUI".into(), json!(false));
    o.insert("hasRun".into(), json!(true));
    o.insert("ico32".into(), json!(ico));
    o.insert("ico64".into(), json!(ico));
    o.insert("ico128".into(), json!(ico));
    o.insert(
        "data".into(),
        json!({"definition": {"type": "aws-ecr", "uri": format!("keboola/{}", def.id), "tag": "1.0.0"}}),
    );
    o.insert("flags".into(), json!(def.flags));
    o.insert("configurationSchema".into(), json!({}));
    o.insert("configurationRowSchema".into(), json!({}));
    o.insert("emptyConfiguration".into(), json!({}));
    o.insert("emptyConfigurationRow".into(), json!({}));
    o.insert("uiOptions".into(), json!({}));
    o.insert("configurationDescription".into(), json!(""));
    o.insert("features".into(), json!([]));
    o.insert("expiredOn".into(), Value::Null);
    o.insert("uri".into(), json!(format!("{base_url}/docker/{}", def.id)));
    o.insert(
        "documentationUrl".into(),
        json!(format!("https://help.keboola.com/components/{}/", def.id)),
    );
    o
}

/// The `components` list of the Storage API index.
pub(crate) fn index_components(base_url: &str, details: bool) -> Value {
    let list: Vec<Value> = COMPONENTS
        .iter()
        .map(|def| {
            let full = component(def, base_url);
            if details {
                Value::Object(full)
            } else {
                let keep = [
                    "id",
                    "name",
                    "type",
                    "ico64",
                    "ico128",
                    "description",
                    "features",
                    "flags",
                    "categories",
                ];
                Value::Object(
                    full.into_iter()
                        .filter(|(k, _)| keep.contains(&k.as_str()))
                        .collect(),
                )
            }
        })
        .collect();
    Value::Array(list)
}

/// A non-master token needs `canManageBuckets` or `componentAccess` for any component endpoint.
pub(crate) fn require_some_component_access(me: &StorageToken) -> Result<(), ApiError> {
    if me.can_use_some_component() {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

pub(crate) fn require_component_access(me: &StorageToken, component: &str) -> Result<(), ApiError> {
    if me.can_use_component(component) {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    require_some_component_access(ctx.me)?;
    let include: Vec<&str> = req
        .query_param("include")
        .map(|i| i.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let with_body = include.contains(&"configuration");
    let with_rows = include.contains(&"rows");
    let kind = req.query_param("componentType").filter(|k| !k.is_empty());
    let configs = configurations::of_branch(&store.db, ctx.branch_id, None)?;
    let mut ids: Vec<&str> = COMPONENTS.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    let mut out = Vec::new();
    for def in ids.into_iter().filter_map(component_def) {
        if kind.is_some_and(|k| k != def.kind) || !ctx.me.can_use_component(def.id) {
            continue;
        }
        let configs: Vec<Value> = configs
            .iter()
            .filter(|c| c.component_id == def.id)
            .map(|c| configurations::render(c, with_body, with_rows))
            .collect();
        // Components appear only while they have a configuration in the branch.
        if configs.is_empty() {
            continue;
        }
        let mut o = component(def, ctx.base_url);
        o.insert("configurations".into(), Value::Array(configs));
        out.push(Value::Object(o));
    }
    ok_json(&Value::Array(out))
}

pub(crate) fn component_not_found(component: &str) -> ApiError {
    ApiError::not_found(
        &format!("Component {component} not found"),
        "storage.components.notFound",
    )
}
