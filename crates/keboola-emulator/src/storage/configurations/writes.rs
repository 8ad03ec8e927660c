//! Configuration writes: create, delete to the trash and purge, restore, the trash
//! listing, versions (list, detail, rollback, copy), rows and state. Every write that
//! changes the body, the rows or the name makes a new version (`table::save` records it).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::table::{Version, get_any, purge, set_deleted, trashed, versions};
use super::{Config, Row, config_not_found, find, render, require_config_write, row, save};
use crate::db::next_id;
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json, param_bool, param_i64,
    param_str, time,
};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::components::{self, component_not_found, require_component_access};
use crate::storage::tokens::creator;

/// A JSON document parameter (`configuration`, `state`): an object, or a string holding
/// one, as Keboola takes both. `None` when absent.
pub(crate) fn object_param(
    params: &Map<String, Value>,
    key: &str,
) -> Result<Option<Value>, ApiError> {
    let invalid = || {
        let code = if key == "state" {
            "validation.invalidStateFormat"
        } else {
            "validation.invalidConfigurationFormat"
        };
        ApiError::bad_request(
            &format!("Invalid {key} format: expected a JSON object"),
            code,
        )
    };
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(json!({}))),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            // PHP's json_decode of `[]` is an empty array, which Keboola stores as `{}`.
            Ok(Value::Array(a)) if a.is_empty() => Ok(Some(json!({}))),
            _ => Err(invalid()),
        },
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(Value::Array(a)) if a.is_empty() => Ok(Some(json!({}))),
        Some(_) => Err(invalid()),
    }
}

fn bump(c: &mut Config, ctx: &Ctx<'_>, params: &Map<String, Value>, default: &str) {
    c.version += 1;
    c.change_description = param_str(params, "changeDescription")
        .filter(|d| !d.is_empty())
        .unwrap_or(default)
        .to_owned();
    c.version_created = ctx.now;
    c.version_creator = ctx.me.creator();
}

fn live(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> Result<Config, ApiError> {
    find(&store.db, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))
}

/// `POST /components/{c}/configs`: 201 and the new configuration (version 1). An id of a
/// configuration in the trash replaces it, its version numbers continuing.
pub(crate) fn create(store: &Store, ctx: &Ctx<'_>, component: &str, req: &ApiRequest) -> ApiResult {
    require_config_write(ctx, component)?;
    if components::by_id(&store.db, component)?.is_none() {
        return Err(component_not_found(component));
    }
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request: name: This value should not be blank.",
            "storage.components.validation",
        ));
    }
    let configuration = object_param(&params, "configuration")?.unwrap_or_else(|| json!({}));
    let state = object_param(&params, "state")?.unwrap_or_else(|| json!({}));
    let tx = store.db.unchecked_transaction()?;
    let wanted = param_str(&params, "configurationId").filter(|i| !i.is_empty());
    let (id, previous) = match wanted {
        Some(id) => match get_any(&tx, ctx.branch_id, component, id)? {
            Some((_, false)) => {
                return Err(ApiError::bad_request(
                    &format!("Configuration {id} already exists."),
                    "configurationAlreadyExists",
                ));
            }
            Some((old, true)) => (id.to_owned(), old.version),
            None => (id.to_owned(), 0),
        },
        None => (next_id(&tx, super::SEQUENCE)?.to_string(), 0),
    };
    let me = ctx.me.creator();
    let mut config = Config {
        branch_id: ctx.branch_id,
        component_id: component.to_owned(),
        id,
        name,
        description: param_str(&params, "description").unwrap_or("").to_owned(),
        created: ctx.now,
        creator: me.clone(),
        version: previous,
        change_description: String::new(),
        version_created: ctx.now,
        version_creator: me,
        is_disabled: param_bool(&params, "isDisabled")?.unwrap_or(false),
        configuration,
        rows: Vec::new(),
        state,
    };
    bump(&mut config, ctx, &params, "Configuration created");
    if previous > 0 {
        // The trashed one's rows and metadata go; its history stays.
        tx.execute(
            "DELETE FROM configuration_metadata WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3",
            rusqlite::params![config.branch_id, config.component_id, config.id],
        )?;
    }
    save(&tx, &config)?;
    set_deleted(&tx, &config, false)?;
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &render(&config, true, true),
    ))
}

/// `DELETE /components/{c}/configs/{k}`: a live configuration goes to the trash (204, a new
/// version "Configuration deleted"); one already there is purged, which needs
/// `canPurgeTrash` (master tokens have it).
pub(crate) fn delete(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params().unwrap_or_default();
    let tx = store.db.unchecked_transaction()?;
    let (mut config, deleted) =
        get_any(&tx, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))?;
    if deleted {
        if !(ctx.me.is_master() || ctx.me.can_purge_trash) {
            return Err(ApiError::storage(
                StatusCode::FORBIDDEN,
                "You don't have permission to purge the trash.",
                "accessDenied",
            ));
        }
        purge(&tx, &config)?;
    } else {
        bump(&mut config, ctx, &params, "Configuration deleted");
        save(&tx, &config)?;
        set_deleted(&tx, &config, true)?;
    }
    tx.commit()?;
    no_content()
}

/// `POST /components/{c}/configs/{k}/restore`: out of the trash, with a new version; 404
/// for a configuration that is not in the trash.
pub(crate) fn restore(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params().unwrap_or_default();
    let tx = store.db.unchecked_transaction()?;
    let Some((mut config, true)) = get_any(&tx, ctx.branch_id, component, id)? else {
        return Err(ApiError::not_found(
            &format!("Deleted configuration {id} not found"),
            "storage.configuration.notFound",
        ));
    };
    bump(&mut config, ctx, &params, "Configuration restored");
    save(&tx, &config)?;
    set_deleted(&tx, &config, false)?;
    tx.commit()?;
    ok_json(&render(&config, true, true))
}

/// `GET /components/{c}/configs?isDeleted=1`: the component's configurations in the trash.
pub(crate) fn list_trashed(store: &Store, ctx: &Ctx<'_>, component: &str) -> ApiResult {
    require_component_access(ctx.me, component)?;
    let list: Vec<Value> = trashed(&store.db, ctx.branch_id, Some(component))?
        .iter()
        .map(|c| {
            let mut v = render(c, true, true);
            v["isDeleted"] = json!(true);
            v
        })
        .collect();
    ok_json(&Value::Array(list))
}

fn render_version(config_id: &str, v: &Version, with_body: bool, with_rows: bool) -> Value {
    let mut o = json!({
        "version": v.version,
        "created": time(v.created),
        "creatorToken": creator(&v.creator),
        "changeDescription": v.change_description,
        "isDeleted": v.is_deleted,
        "isDisabled": v.is_disabled,
        "name": v.name,
        "description": v.description,
        "versionIdentifier": format!("{:016x}{:016x}", config_id.parse::<u64>().unwrap_or(0), v.version),
    });
    if with_body {
        o["configuration"] = v.configuration.clone();
    }
    if with_rows {
        let ids: Vec<Value> = v
            .rows
            .as_array()
            .map(|rows| rows.iter().map(|r| r["id"].clone()).collect())
            .unwrap_or_default();
        o["rowsSortOrder"] = json!(ids);
        o["rows"] = v.rows.clone();
    }
    o
}

fn any_config(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> Result<Config, ApiError> {
    require_component_access(ctx.me, component)?;
    Ok(get_any(&store.db, ctx.branch_id, component, id)?
        .ok_or_else(|| config_not_found(id))?
        .0)
}

fn version_of(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    version: &str,
) -> Result<Version, ApiError> {
    let not_found = || {
        ApiError::not_found(
            &format!("Version {version} of configuration {id} not found"),
            "notFound",
        )
    };
    let number: u64 = version.parse().map_err(|_| not_found())?;
    versions(&store.db, ctx.branch_id, component, id, Some(number))?
        .pop()
        .ok_or_else(not_found)
}

/// `GET /components/{c}/configs/{k}/versions`: newest first; `include=configuration` adds
/// the bodies; `limit` (default 100) and `offset`.
pub(crate) fn list_versions(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    any_config(store, ctx, component, id)?;
    let with_body = req
        .query_param("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == "configuration"));
    let query: Map<String, Value> = req
        .query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let limit = usize::try_from(param_i64(&query, "limit")?.unwrap_or(100).max(0)).unwrap_or(100);
    let offset = usize::try_from(param_i64(&query, "offset")?.unwrap_or(0).max(0)).unwrap_or(0);
    let list: Vec<Value> = versions(&store.db, ctx.branch_id, component, id, None)?
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| render_version(id, v, with_body, false))
        .collect();
    ok_json(&Value::Array(list))
}

/// `GET /components/{c}/configs/{k}/versions/{v}`: with its body and rows, never state.
pub(crate) fn get_version(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    version: &str,
) -> ApiResult {
    any_config(store, ctx, component, id)?;
    let v = version_of(store, ctx, component, id, version)?;
    ok_json(&render_version(id, &v, true, true))
}

/// The rows a version recorded; their state is taken from `live` rows of the same id.
fn rows_of(v: &Version, ctx: &Ctx<'_>, live: &[Row]) -> Vec<Row> {
    v.rows
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| Row {
                    state: live
                        .iter()
                        .find(|l| r["id"].as_str() == Some(l.id.as_str()))
                        .map_or_else(|| json!({}), |l| l.state.clone()),
                    id: r["id"].as_str().unwrap_or_default().to_owned(),
                    name: r["name"].as_str().unwrap_or_default().to_owned(),
                    description: r["description"].as_str().unwrap_or_default().to_owned(),
                    configuration: r["configuration"].clone(),
                    is_disabled: r["isDisabled"].as_bool().unwrap_or(false),
                    version: r["version"].as_u64().unwrap_or(1),
                    created: ctx.now,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `POST .../versions/{v}/rollback`: a new version with that version's body, name and rows;
/// the state is kept. 201 and the configuration.
pub(crate) fn rollback(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    version: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params().unwrap_or_default();
    let mut config = live(store, ctx, component, id)?;
    let v = version_of(store, ctx, component, id, version)?;
    config.configuration = v.configuration.clone();
    config.name.clone_from(&v.name);
    config.description.clone_from(&v.description);
    config.is_disabled = v.is_disabled;
    config.rows = rows_of(&v, ctx, &config.rows);
    let default = format!("Rollback to version {}", v.version);
    bump(&mut config, ctx, &params, &default);
    let tx = store.db.unchecked_transaction()?;
    save(&tx, &config)?;
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &render(&config, true, true),
    ))
}

/// `POST .../versions/{v}/create` with `name`: a new configuration copied from that
/// version (rows too, state reset). 201 and the copy.
pub(crate) fn copy_version(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    version: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    live(store, ctx, component, id)?;
    let v = version_of(store, ctx, component, id, version)?;
    let name = param_str(&params, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request: name: This value should not be blank.",
            "storage.components.validation",
        ));
    }
    let tx = store.db.unchecked_transaction()?;
    let me = ctx.me.creator();
    let mut rows = rows_of(&v, ctx, &[]);
    for r in &mut rows {
        r.id = next_id(&tx, super::SEQUENCE)?.to_string();
        r.version = 1;
    }
    let mut copy = Config {
        branch_id: ctx.branch_id,
        component_id: component.to_owned(),
        id: next_id(&tx, super::SEQUENCE)?.to_string(),
        name,
        description: param_str(&params, "description").map_or(v.description.clone(), str::to_owned),
        created: ctx.now,
        creator: me.clone(),
        version: 0,
        change_description: String::new(),
        version_created: ctx.now,
        version_creator: me,
        is_disabled: v.is_disabled,
        configuration: v.configuration.clone(),
        rows,
        state: json!({}),
    };
    let default = format!("Copied from configuration \"{}\" version {}", id, v.version);
    bump(&mut copy, ctx, &params, &default);
    save(&tx, &copy)?;
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &render(&copy, true, true),
    ))
}

/// `PUT /components/{c}/configs/{k}/state` with `state`: 200; the version stays.
pub(crate) fn set_state(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    let state = object_param(&params, "state")?.ok_or_else(|| {
        ApiError::bad_request(
            "Invalid request: state: This value should not be blank.",
            "storage.components.validation",
        )
    })?;
    let mut config = live(store, ctx, component, id)?;
    config.state = state;
    let tx = store.db.unchecked_transaction()?;
    save(&tx, &config)?;
    tx.commit()?;
    ok_json(&render(&config, true, true))
}

/// `PUT .../rows/{r}/state` with `state`: 200 and the row; no version changes.
pub(crate) fn set_row_state(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    row_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    let state = object_param(&params, "state")?.ok_or_else(|| {
        ApiError::bad_request(
            "Invalid request: state: This value should not be blank.",
            "storage.components.validation",
        )
    })?;
    let mut config = live(store, ctx, component, id)?;
    let r = config
        .rows
        .iter_mut()
        .find(|r| r.id == row_id)
        .ok_or_else(|| row_not_found(row_id))?;
    r.state = state;
    let body = row(r);
    let tx = store.db.unchecked_transaction()?;
    save(&tx, &config)?;
    tx.commit()?;
    ok_json(&body)
}

fn row_not_found(row_id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Row {row_id} not found"),
        "storage.components.rows.notFound",
    )
}

/// `GET .../rows`: the configuration's rows.
pub(crate) fn list_rows(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> ApiResult {
    require_component_access(ctx.me, component)?;
    let config = live(store, ctx, component, id)?;
    ok_json(&Value::Array(config.rows.iter().map(row).collect()))
}

/// `GET .../rows/{r}`.
pub(crate) fn get_row(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    row_id: &str,
) -> ApiResult {
    require_component_access(ctx.me, component)?;
    let config = live(store, ctx, component, id)?;
    let r = config
        .rows
        .iter()
        .find(|r| r.id == row_id)
        .ok_or_else(|| row_not_found(row_id))?;
    ok_json(&row(r))
}

/// `POST .../rows`: 201 and the row; the configuration gets a new version.
pub(crate) fn create_row(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    let mut config = live(store, ctx, component, id)?;
    let tx = store.db.unchecked_transaction()?;
    let row_id = match param_str(&params, "rowId").filter(|r| !r.is_empty()) {
        Some(r) if config.rows.iter().any(|x| x.id == r) => {
            return Err(ApiError::bad_request(
                &format!("Row {r} already exists."),
                "configurationRowAlreadyExists",
            ));
        }
        Some(r) => r.to_owned(),
        None => next_id(&tx, super::SEQUENCE)?.to_string(),
    };
    let new = Row {
        id: row_id,
        name: param_str(&params, "name").unwrap_or("").to_owned(),
        description: param_str(&params, "description").unwrap_or("").to_owned(),
        configuration: object_param(&params, "configuration")?.unwrap_or_else(|| json!({})),
        is_disabled: param_bool(&params, "isDisabled")?.unwrap_or(false),
        version: 1,
        created: ctx.now,
        state: object_param(&params, "state")?.unwrap_or_else(|| json!({})),
    };
    let body = row(&new);
    let default = format!("Row {} added", new.id);
    config.rows.push(new);
    bump(&mut config, ctx, &params, &default);
    save(&tx, &config)?;
    tx.commit()?;
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `PUT .../rows/{r}`: 200 and the row; a change makes a new version of the row and of the
/// configuration, an identical update neither.
pub(crate) fn update_row(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    row_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params()?;
    let mut config = live(store, ctx, component, id)?;
    let configuration = object_param(&params, "configuration")?;
    let is_disabled = param_bool(&params, "isDisabled")?;
    let r = config
        .rows
        .iter_mut()
        .find(|r| r.id == row_id)
        .ok_or_else(|| row_not_found(row_id))?;
    let before = row(r);
    if let Some(n) = param_str(&params, "name") {
        n.clone_into(&mut r.name);
    }
    if let Some(d) = param_str(&params, "description") {
        d.clone_into(&mut r.description);
    }
    if let Some(c) = configuration {
        r.configuration = c;
    }
    if let Some(b) = is_disabled {
        r.is_disabled = b;
    }
    if row(r) == before {
        return ok_json(&before);
    }
    r.version += 1;
    let body = row(r);
    let default = format!("Row {row_id} changed");
    bump(&mut config, ctx, &params, &default);
    let tx = store.db.unchecked_transaction()?;
    save(&tx, &config)?;
    tx.commit()?;
    ok_json(&body)
}

/// `DELETE .../rows/{r}`: 204; the configuration gets a new version.
pub(crate) fn delete_row(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    row_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    let params = req.params().unwrap_or_default();
    let mut config = live(store, ctx, component, id)?;
    let before = config.rows.len();
    config.rows.retain(|r| r.id != row_id);
    if config.rows.len() == before {
        return Err(row_not_found(row_id));
    }
    let default = format!("Row {row_id} deleted");
    bump(&mut config, ctx, &params, &default);
    let tx = store.db.unchecked_transaction()?;
    save(&tx, &config)?;
    tx.commit()?;
    no_content()
}
