//! Configurations and their rows: state, JSON shape, list, detail and update.

pub(crate) mod metadata;
mod table;
pub(crate) mod writes;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json, param_bool, param_str, time};
use crate::manage::projects::Role;
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::components::{
    self, component_not_found, require_component_access, require_some_component_access,
};
use crate::storage::tokens::{Creator, creator};
use writes::object_param;

pub(crate) use table::{SCHEMA, SEQUENCE, count_in_branch, get as find, of_branch, save, trashed};

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub description: String,
    pub configuration: Value,
    pub is_disabled: bool,
    pub version: u64,
    pub created: Timestamp,
    /// Runtime state: replaced by `PUT .../rows/{r}/state`, never versioned.
    pub state: Value,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub branch_id: u64,
    pub component_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub creator: Creator,
    pub version: u64,
    pub change_description: String,
    pub version_created: Timestamp,
    pub version_creator: Creator,
    pub is_disabled: bool,
    pub configuration: Value,
    pub rows: Vec<Row>,
    pub state: Value,
}

pub(crate) fn row(r: &Row) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "isDisabled": r.is_disabled,
        "version": r.version,
        "created": time(r.created),
        "configuration": r.configuration,
        "state": r.state,
    })
}

/// A configuration. `with_body` adds `configuration`, `with_rows` adds `rows`.
pub(crate) fn render(c: &Config, with_body: bool, with_rows: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(c.id));
    o.insert("name".into(), json!(c.name));
    o.insert("description".into(), json!(c.description));
    o.insert("created".into(), json!(time(c.created)));
    o.insert("creatorToken".into(), creator(&c.creator));
    o.insert("version".into(), json!(c.version));
    o.insert("changeDescription".into(), json!(c.change_description));
    o.insert("isDeleted".into(), json!(false));
    o.insert("isDisabled".into(), json!(c.is_disabled));
    if with_body {
        o.insert("configuration".into(), c.configuration.clone());
    }
    o.insert(
        "rowsSortOrder".into(),
        json!(c.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()),
    );
    if with_rows {
        o.insert(
            "rows".into(),
            Value::Array(c.rows.iter().map(row).collect()),
        );
    }
    o.insert("state".into(), c.state.clone());
    o.insert(
        "currentVersion".into(),
        json!({
            "created": time(c.version_created),
            "creatorToken": creator(&c.version_creator),
            "changeDescription": c.change_description,
            "versionIdentifier": format!("{:016x}{:016x}", c.id.parse::<u64>().unwrap_or(0), c.version)
        }),
    );
    Value::Object(o)
}

/// A write to a component's configurations: the token may use the component and is not a
/// read-only user's.
pub(crate) fn require_config_write(ctx: &Ctx<'_>, component: &str) -> Result<(), ApiError> {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    if ctx.me.role() == Some(Role::ReadOnly) {
        return Err(ApiError::access_denied());
    }
    Ok(())
}

pub(crate) fn config_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Configuration {id} not found"),
        "storage.configuration.notFound",
    )
}

/// `GET /components/{c}/configs` (`isDeleted=1|true`: those in the trash).
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, component: &str, req: &ApiRequest) -> ApiResult {
    require_some_component_access(ctx.me)?;
    if req
        .query_param("isDeleted")
        .is_some_and(|d| matches!(d, "1" | "true"))
    {
        return writes::list_trashed(store, ctx, component);
    }
    require_component_access(ctx.me, component)?;
    if components::by_id(&store.db, component)?.is_none() {
        return Err(component_not_found(component));
    }
    let list: Vec<Value> = of_branch(&store.db, ctx.branch_id, Some(component))?
        .iter()
        .map(|c| render(c, true, true))
        .collect();
    ok_json(&Value::Array(list))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> ApiResult {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    let config =
        find(&store.db, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))?;
    ok_json(&render(&config, true, true))
}

pub(crate) fn update(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    let configuration = object_param(&params, "configuration")?;
    let state = object_param(&params, "state")?;
    let is_disabled = param_bool(&params, "isDisabled")?;
    let creator = ctx.me.creator();
    let tx = store.db.unchecked_transaction()?;
    let mut config =
        find(&tx, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))?;
    let before = config.clone();
    if let Some(name) = param_str(&params, "name") {
        name.clone_into(&mut config.name);
    }
    if let Some(d) = param_str(&params, "description") {
        d.clone_into(&mut config.description);
    }
    if let Some(c) = configuration {
        config.configuration = c;
    }
    if let Some(b) = is_disabled {
        config.is_disabled = b;
    }
    if let Some(s) = state {
        config.state = s;
    }
    // An update that changes nothing versioned is not a new version (Keboola's rule).
    if config.configuration == before.configuration
        && config.name == before.name
        && config.description == before.description
        && config.is_disabled == before.is_disabled
    {
        save(&tx, &config)?;
        tx.commit()?;
        return ok_json(&render(&config, true, true));
    }
    config.version += 1;
    config.change_description = param_str(&params, "changeDescription")
        .unwrap_or("Configuration updated")
        .to_owned();
    config.version_created = ctx.now;
    config.version_creator = creator;
    save(&tx, &config)?;
    tx.commit()?;
    ok_json(&render(&config, true, true))
}
