//! Metadata of configurations (`KBC.configuration.folderName`, ...), per branch:
//! `GET|POST /components/{c}/configs/{k}/metadata` and the search over it,
//! `GET /search/component-configurations`.

use axum::http::StatusCode;
use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use super::{config_not_found, find, require_config_write};
use crate::db::{from_sql, next_id, to_sql};
use crate::http::{ApiRequest, ApiResult, json_response, ok_json, time};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::components::{require_component_access, require_some_component_access};
use crate::storage::metadata::parse_entries;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS configuration_metadata (
    id INTEGER PRIMARY KEY,
    branch_id INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    UNIQUE (branch_id, component_id, config_id, key)
);";

/// The id sequence of configuration metadata entries.
pub(crate) const SEQUENCE: &str = "configuration_metadata";

/// One configuration's entries, oldest first, as `{id, key, value, timestamp}`.
fn entries(
    conn: &Connection,
    branch_id: u64,
    component: &str,
    config: &str,
) -> rusqlite::Result<Vec<(String, Value)>> {
    conn.prepare_cached(
        "SELECT id, key, value, timestamp FROM configuration_metadata
         WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3 ORDER BY id",
    )?
    .query_map(params![branch_id, component, config], |r| {
        let key: String = r.get(1)?;
        let entry = json!({
            "id": r.get::<_, i64>(0)?.to_string(),
            "key": key,
            "value": r.get::<_, String>(2)?,
            "timestamp": time(from_sql(r.get(3)?)),
        });
        Ok((key, entry))
    })?
    .collect()
}

/// Sets `key` of a configuration, replacing its value if it has one.
pub(crate) fn upsert(
    conn: &Connection,
    branch_id: u64,
    component: &str,
    config: &str,
    key: &str,
    value: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let id = next_id(conn, SEQUENCE)?;
    conn.prepare_cached(
        "INSERT INTO configuration_metadata
             (id, branch_id, component_id, config_id, key, value, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (branch_id, component_id, config_id, key)
         DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp",
    )?
    .execute(params![
        id,
        branch_id,
        component,
        config,
        key,
        value,
        to_sql(now)
    ])?;
    Ok(())
}

/// Copies the metadata of branch `from`'s live configurations into branch `to` (new entry
/// ids, the same keys, values and timestamps), for a new branch.
pub(crate) fn copy_branch(conn: &Connection, from: u64, to: u64) -> rusqlite::Result<()> {
    let entries: Vec<(String, String, String, String, i64)> = conn
        .prepare(
            "SELECT m.component_id, m.config_id, m.key, m.value, m.timestamp
             FROM configuration_metadata m JOIN configurations c
               ON c.branch_id = m.branch_id AND c.component_id = m.component_id
              AND c.id = m.config_id
             WHERE m.branch_id = ?1 AND c.is_deleted = 0 ORDER BY m.id",
        )?
        .query_map([from], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (component, config, key, value, timestamp) in entries {
        upsert(
            conn,
            to,
            &component,
            &config,
            &key,
            &value,
            from_sql(timestamp),
        )?;
    }
    Ok(())
}

fn only_entries(list: Vec<(String, Value)>) -> Value {
    Value::Array(list.into_iter().map(|(_, e)| e).collect())
}

/// `GET /components/{c}/configs/{k}/metadata`.
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> ApiResult {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    find(&store.db, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))?;
    ok_json(&only_entries(entries(
        &store.db,
        ctx.branch_id,
        component,
        id,
    )?))
}

/// `POST /components/{c}/configs/{k}/metadata` with `metadata[]` entries: 201 and every
/// entry of the configuration.
pub(crate) fn post(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_config_write(ctx, component)?;
    find(&store.db, ctx.branch_id, component, id)?.ok_or_else(|| config_not_found(id))?;
    let new = parse_entries(&req.params()?, "metadata")?;
    let tx = store.db.unchecked_transaction()?;
    for (key, value) in &new {
        upsert(&tx, ctx.branch_id, component, id, key, value, ctx.now)?;
    }
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &only_entries(entries(&store.db, ctx.branch_id, component, id)?),
    ))
}

/// `GET /search/component-configurations`: the configurations of the branch that have
/// metadata, as `{idComponent, configurationId}`, filtered by `idComponent`,
/// `configurationId` and `metadataKeys[]` (a configuration matches with any of the keys);
/// `include=filteredMetadata` adds the matching entries as `metadata`.
pub(crate) fn search(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    require_some_component_access(ctx.me)?;
    let keys: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "metadataKeys[]" || k.starts_with("metadataKeys["))
        .map(|(_, v)| v.as_str())
        .collect();
    let component = req.query_param("idComponent").filter(|c| !c.is_empty());
    let config = req.query_param("configurationId").filter(|c| !c.is_empty());
    let with_metadata = req
        .query_param("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == "filteredMetadata"));
    let mut out = Vec::new();
    for c in super::of_branch(&store.db, ctx.branch_id, component)? {
        if config.is_some_and(|k| k != c.id) || !ctx.me.can_use_component(&c.component_id) {
            continue;
        }
        let matching: Vec<Value> = entries(&store.db, ctx.branch_id, &c.component_id, &c.id)?
            .into_iter()
            .filter(|(key, _)| keys.is_empty() || keys.contains(&key.as_str()))
            .map(|(_, e)| e)
            .collect();
        if matching.is_empty() {
            continue;
        }
        let mut item = json!({"idComponent": c.component_id, "configurationId": c.id});
        if with_metadata {
            item["metadata"] = Value::Array(matching);
        }
        out.push(item);
    }
    ok_json(&Value::Array(out))
}
