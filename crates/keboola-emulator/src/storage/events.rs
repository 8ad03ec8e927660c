//! Events: `POST /events` stores an event and hands back its id; jobs emit theirs with
//! `emit`; `GET /events` lists them.

use axum::http::StatusCode;
use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use crate::db::{self, to_sql};
use crate::http::{
    ApiRequest, ApiResult, json_response, ok_json, param_i64, param_str, parse_form, time,
};
use crate::state::Store;
use crate::storage::Ctx;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    token_id INTEGER NOT NULL,
    created INTEGER NOT NULL,
    -- the parameters as sent (JSON object)
    body TEXT NOT NULL
);";

pub(crate) const SEQUENCE: &str = "events";

pub(crate) fn create(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let body = Value::Object(req.params()?).to_string();
    let tx = store.db.unchecked_transaction()?;
    let id = db::next_id(&tx, SEQUENCE)?;
    tx.execute(
        "INSERT INTO events (id, project_id, token_id, created, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, ctx.me.project_id, ctx.me.id, to_sql(ctx.now), body],
    )?;
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_string()}),
    ))
}

/// An event a job emits.
pub(crate) struct JobEvent<'a> {
    pub project_id: u64,
    pub token_id: u64,
    pub token_name: &'a str,
    pub component: &'a str,
    pub config_id: Option<&'a str>,
    pub run_id: &'a str,
    pub branch_id: Option<u64>,
    /// `info`, `warn`, `error`, `success`.
    pub kind: &'a str,
    pub message: &'a str,
    pub description: &'a str,
    pub params: Value,
    pub results: Value,
}

/// Stores a job's event; `ext.<component>.` as Keboola's runner names component events.
pub(crate) fn emit(conn: &Connection, now: Timestamp, e: &JobEvent<'_>) -> rusqlite::Result<u64> {
    let id = db::next_id(conn, SEQUENCE)?;
    let body = json!({
        "event": format!("ext.{}.", e.component),
        "component": e.component,
        "message": e.message,
        "description": e.description,
        "type": e.kind,
        "runId": e.run_id,
        "configurationId": e.config_id,
        "params": e.params,
        "results": e.results,
        "token": {"id": e.token_id.to_string(), "name": e.token_name},
        "idBranch": e.branch_id,
    });
    conn.execute(
        "INSERT INTO events (id, project_id, token_id, created, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, e.project_id, e.token_id, to_sql(now), body.to_string()],
    )?;
    Ok(id)
}

struct Stored {
    id: u64,
    token_id: u64,
    created: Timestamp,
    body: Map<String, Value>,
}

fn render(e: &Stored) -> Value {
    let text = |k: &str| e.body.get(k).cloned().unwrap_or_else(|| json!(""));
    let or_null = |k: &str| e.body.get(k).cloned().unwrap_or(Value::Null);
    let or_empty = |k: &str| match e.body.get(k) {
        Some(v) if !v.is_null() => v.clone(),
        _ => json!([]),
    };
    json!({
        "id": e.id.to_string(),
        "uuid": format!("00000000-0000-7000-8000-{:012x}", e.id),
        "event": text("event"),
        "component": text("component"),
        "message": text("message"),
        "description": text("description"),
        "type": e.body.get("type").cloned().unwrap_or_else(|| json!("info")),
        "runId": or_null("runId"),
        "created": time(e.created),
        "configurationId": or_null("configurationId"),
        "objectId": text("objectId"),
        "objectName": text("objectName"),
        "objectType": text("objectType"),
        "context": or_empty("context"),
        "params": or_empty("params"),
        "results": or_empty("results"),
        "performance": or_empty("performance"),
        "token": e.body.get("token").cloned()
            .unwrap_or_else(|| json!({"id": e.token_id.to_string(), "name": ""})),
        "idBranch": or_null("idBranch"),
        "attachments": [],
    })
}

/// `GET /events`: newest first; `runId`, `component`, `configurationId`, `q`, `sinceId`,
/// `maxId`, `limit`, `offset`, `sortOrder`. Tokens that may not read all project events
/// see their own.
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let s = |k: &str| param_str(&query, k).filter(|v| !v.is_empty());
    let limit = param_i64(&query, "limit")?.unwrap_or(100).clamp(1, 10_000);
    let offset = param_i64(&query, "offset")?.unwrap_or(0).max(0);
    let since = param_i64(&query, "sinceId")?;
    let max = param_i64(&query, "maxId")?;
    let asc = s("sortOrder") == Some("asc");
    let all = ctx.me.is_master() || ctx.me.can_read_all_project_events;
    let rows: Vec<Stored> = store
        .db
        .prepare(
            "SELECT id, token_id, created, body FROM events WHERE project_id = ?1 ORDER BY id",
        )?
        .query_map([ctx.me.project_id], |r| {
            Ok(Stored {
                id: r.get(0)?,
                token_id: r.get(1)?,
                created: db::from_sql(r.get(2)?),
                body: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let field = |e: &Stored, k: &str| -> String {
        match e.body.get(k) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let run_id = s("runId");
    let q = s("q").map(str::to_lowercase);
    let mut out: Vec<&Stored> = rows
        .iter()
        .filter(|e| all || e.token_id == ctx.me.id)
        .filter(|e| {
            // A job's events carry its runId (`parent.child` for children); its plain id
            // finds them too.
            run_id.is_none_or(|r| {
                let own = field(e, "runId");
                own == r || own.rsplit('.').next() == Some(r)
            })
        })
        .filter(|e| s("component").is_none_or(|c| field(e, "component") == c))
        .filter(|e| s("configurationId").is_none_or(|c| field(e, "configurationId") == c))
        .filter(|e| since.is_none_or(|v| i64::try_from(e.id).unwrap_or(i64::MAX) > v))
        .filter(|e| max.is_none_or(|v| i64::try_from(e.id).unwrap_or(i64::MAX) <= v))
        .filter(|e| {
            q.as_ref().is_none_or(|q| {
                ["message", "description", "event", "component"]
                    .iter()
                    .any(|k| field(e, k).to_lowercase().contains(q.as_str()))
            })
        })
        .collect();
    if !asc {
        out.reverse();
    }
    let page: Vec<Value> = out
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(render)
        .collect();
    ok_json(&Value::Array(page))
}
