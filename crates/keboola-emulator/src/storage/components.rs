//! Components: the emulated catalogue, its JSON shape and `GET /components`.

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::configurations;
use crate::storage::tokens::StorageToken;

pub(crate) const OAUTH_COMPONENT: &str = "keboola.ex-google-drive";

/// A component of the stack's catalogue (what the Developer Portal publishes).
#[derive(Clone, Debug)]
pub(crate) struct Component {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub long_description: String,
    pub flags: Vec<String>,
    pub categories: Vec<String>,
    /// JSON Schema of the configuration's `parameters`; `{}` when the component has none.
    pub configuration_schema: Value,
    pub configuration_row_schema: Value,
}

impl Component {
    pub fn uses_oauth(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f == "genericDockerUI-authorization")
    }
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS components (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    long_description TEXT NOT NULL,
    -- JSON lists of strings
    flags TEXT NOT NULL,
    categories TEXT NOT NULL,
    -- JSON objects
    configuration_schema TEXT NOT NULL,
    configuration_row_schema TEXT NOT NULL
);";

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn save(conn: &Connection, c: &Component) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO components (id, type, name, description, long_description,
             flags, categories, configuration_schema, configuration_row_schema)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            c.id,
            c.kind,
            c.name,
            c.description,
            c.long_description,
            json_list(&c.flags),
            json_list(&c.categories),
            c.configuration_schema.to_string(),
            c.configuration_row_schema.to_string()
        ],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT id, type, name, description, long_description, flags, categories,
    configuration_schema, configuration_row_schema FROM components";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Component> {
    let list = |text: String| serde_json::from_str(&text).unwrap_or_default();
    let object = |text: String| serde_json::from_str(&text).unwrap_or_else(|_| json!({}));
    Ok(Component {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        long_description: r.get(4)?,
        flags: list(r.get(5)?),
        categories: list(r.get(6)?),
        configuration_schema: object(r.get(7)?),
        configuration_row_schema: object(r.get(8)?),
    })
}

/// The whole catalogue in id order.
pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<Component>> {
    conn.prepare(&format!("{SELECT} ORDER BY id"))?
        .query_map([], from_row)?
        .collect()
}

pub(crate) fn by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Component>> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
        .optional()
}

pub(crate) fn component(def: &Component, base_url: &str) -> Map<String, Value> {
    let ico = format!("{base_url}/static/icons/{}.png", def.id);
    let mut o = Map::new();
    o.insert("id".into(), json!(def.id));
    o.insert("type".into(), json!(def.kind));
    o.insert("name".into(), json!(def.name));
    o.insert("description".into(), json!(def.description));
    o.insert("longDescription".into(), json!(def.long_description));
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
    o.insert(
        "configurationSchema".into(),
        def.configuration_schema.clone(),
    );
    o.insert(
        "configurationRowSchema".into(),
        def.configuration_row_schema.clone(),
    );
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
pub(crate) fn index_components(catalogue: &[Component], base_url: &str, details: bool) -> Value {
    let list: Vec<Value> = catalogue
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
    // `isDeleted`: the components with configurations in the trash, and those only.
    let deleted = req
        .query_param("isDeleted")
        .is_some_and(|d| matches!(d, "1" | "true"));
    let configs = if deleted {
        configurations::trashed(&store.db, ctx.branch_id, None)?
    } else {
        configurations::of_branch(&store.db, ctx.branch_id, None)?
    };
    let mut out = Vec::new();
    for def in all(&store.db)? {
        if kind.is_some_and(|k| k != def.kind) || !ctx.me.can_use_component(&def.id) {
            continue;
        }
        let configs: Vec<Value> = configs
            .iter()
            .filter(|c| c.component_id == def.id)
            .map(|c| {
                let mut v = configurations::render(c, with_body, with_rows);
                if deleted {
                    v["isDeleted"] = Value::Bool(true);
                }
                v
            })
            .collect();
        // Components appear only while they have a configuration in the branch.
        if configs.is_empty() {
            continue;
        }
        let mut o = component(&def, ctx.base_url);
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

/// `GET /v2/storage/components/{id}`: one component of the stack's catalogue, whether or
/// not the project has configurations of it.
pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    require_some_component_access(ctx.me)?;
    let def = by_id(&store.db, id)?.ok_or_else(|| component_not_found(id))?;
    ok_json(&Value::Object(component(&def, ctx.base_url)))
}
