//! Events: `POST /events` stores the event and hands back its id.

use axum::http::StatusCode;
use rusqlite::params;
use serde_json::{Value, json};

use crate::db::{self, to_sql};
use crate::http::{ApiRequest, ApiResult, json_response};
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
