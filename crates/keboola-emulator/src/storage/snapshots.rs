//! Table snapshots: a copy of a table's data, columns, primary key and definition, kept
//! after the table changes or is dropped, from which a new table can be created.
//!
//! The copy is a real table `snapshot_<id>` in the project's database, beside `data_<n>`.

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use crate::db::{self, from_sql, to_sql};
use crate::http::{
    ApiError, ApiRequest, ApiResult, ok_json, param_i64, param_str, parse_form, time,
};
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::tables::{self, ColumnDef, TS_COLUMN, quote};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS storage_snapshots (
    id INTEGER PRIMARY KEY,
    table_id TEXT NOT NULL,
    bucket_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON lists, as in storage_tables
    columns TEXT NOT NULL,
    primary_key TEXT NOT NULL,
    definition TEXT,
    rows_count INTEGER NOT NULL,
    data_size INTEGER NOT NULL,
    created INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    token_description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS storage_snapshots_table ON storage_snapshots (table_id);";

pub(crate) const SEQUENCE: &str = "storage_snapshots";

struct Snapshot {
    id: u64,
    table_id: String,
    bucket_id: String,
    table_name: String,
    display_name: String,
    description: String,
    columns: Vec<String>,
    primary_key: Vec<String>,
    definition: Option<Vec<ColumnDef>>,
    rows_count: u64,
    data_size: u64,
    created: i64,
    token_id: u64,
    token_description: String,
}

impl Snapshot {
    fn sql_name(&self) -> String {
        format!("\"snapshot_{}\"", self.id)
    }
}

const COLUMNS: &str = "id, table_id, bucket_id, table_name, display_name, description, columns,
    primary_key, definition, rows_count, data_size, created, token_id, token_description";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Snapshot> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(Snapshot {
        id: r.get(0)?,
        table_id: r.get(1)?,
        bucket_id: r.get(2)?,
        table_name: r.get(3)?,
        display_name: r.get(4)?,
        description: r.get(5)?,
        columns: list(r.get(6)?),
        primary_key: list(r.get(7)?),
        definition: r
            .get::<_, Option<String>>(8)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        rows_count: r.get(9)?,
        data_size: r.get(10)?,
        created: r.get(11)?,
        token_id: r.get(12)?,
        token_description: r.get(13)?,
    })
}

fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<Snapshot>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM storage_snapshots WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

fn render(s: &Snapshot, ctx: &Ctx<'_>) -> Value {
    json!({
        "id": s.id,
        "description": s.description,
        "createdTime": time(from_sql(s.created)),
        "creatorToken": {"id": s.token_id, "description": s.token_description},
        "table": {
            "id": s.table_id,
            "name": s.table_name,
            "displayName": s.display_name,
            "uri": format!("{}/v2/storage/tables/{}", ctx.base_url, s.table_id),
            "columns": s.columns,
            "primaryKey": s.primary_key,
            "rowsCount": s.rows_count,
            "dataSizeBytes": s.data_size,
            "isTyped": s.definition.is_some(),
            "bucket": {"id": s.bucket_id},
        },
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Snapshot {id} not found"),
        "storage.tables.snapshotNotFound",
    )
}

/// The snapshot, when the token may read its table's bucket (else 404).
fn visible(store: &Store, ctx: &Ctx<'_>, id: &str) -> Result<Snapshot, ApiError> {
    let conn = project_db(store, ctx.me.project_id)?;
    let found = match id.parse::<u64>() {
        Ok(n) => by_id(conn, n)?,
        Err(_) => None,
    };
    match found {
        Some(s) if buckets::permission(ctx.me, &s.bucket_id).is_some() => Ok(s),
        _ => Err(not_found(id)),
    }
}

/// `POST /tables/{id}/snapshots` (`description`): 202 `tableSnapshotCreate`, results `{id}`.
pub(crate) fn create(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = tables::writable(store, ctx, id)?;
    let params = req.params()?;
    let description = param_str(&params, "description").unwrap_or("").to_owned();
    let table_id = table.id.clone();
    let job = NewJob::new(
        "tableSnapshotCreate",
        Some(&table.id),
        json!({"description": description}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let conn = project_db(store, ctx.me.project_id)?;
            let table = tables::by_id(conn, &table_id)?
                .ok_or_else(|| JobError::from(tables::not_found(&table_id)))?;
            let id = db::next_id(&store.db, SEQUENCE)?;
            let tx = conn.unchecked_transaction()?;
            tx.execute(
                &format!(
                    "INSERT INTO storage_snapshots ({COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    id,
                    table.id,
                    table.bucket_id,
                    table.name,
                    table.display_name,
                    description,
                    json!(table.columns).to_string(),
                    json!(table.primary_key).to_string(),
                    table
                        .definition
                        .as_ref()
                        .map(|d| serde_json::to_string(d).unwrap_or_default()),
                    table.rows_count,
                    table.data_size,
                    to_sql(ctx.now),
                    ctx.me.id,
                    ctx.me.description,
                ],
            )?;
            tx.execute_batch(&format!(
                "CREATE TABLE \"snapshot_{id}\" AS SELECT * FROM {}",
                table.sql_name()
            ))?;
            tx.commit()?;
            Ok(json!({"id": id}))
        }),
    )
}

/// `GET /tables/{id}/snapshots[?limit&offset]`: newest first.
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let table = tables::readable(store, ctx, id)?;
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let limit = param_i64(&query, "limit")?.unwrap_or(100).clamp(1, 1000);
    let offset = param_i64(&query, "offset")?.unwrap_or(0).max(0);
    let conn = project_db(store, ctx.me.project_id)?;
    let found: Vec<Snapshot> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM storage_snapshots WHERE table_id = ?1
             ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(params![table.id, limit, offset], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    ok_json(&Value::Array(
        found.iter().map(|s| render(s, ctx)).collect(),
    ))
}

/// `GET /snapshots/{id}`.
pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    ok_json(&render(&visible(store, ctx, id)?, ctx))
}

/// `DELETE /snapshots/{id}`: 202 `tableSnapshotDelete`; the table is untouched.
pub(crate) fn delete(shared: &Shared, store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let snapshot = visible(store, ctx, id)?;
    match buckets::permission(ctx.me, &snapshot.bucket_id) {
        Some("manage" | "write") => {}
        _ => return Err(ApiError::access_denied()),
    }
    let snapshot_id = snapshot.id;
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new(
            "tableSnapshotDelete",
            Some(&snapshot.table_id),
            json!({"snapshotId": snapshot_id}),
        ),
        Box::new(move |store, ctx| {
            let conn = project_db(store, ctx.me.project_id)?;
            let snapshot = by_id(conn, snapshot_id)?
                .ok_or_else(|| JobError::from(not_found(&snapshot_id.to_string())))?;
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", snapshot.sql_name()))?;
            tx.execute("DELETE FROM storage_snapshots WHERE id = ?1", [snapshot.id])?;
            tx.commit()?;
            Ok(Value::Null)
        }),
    )
}

/// Whether a `tables-async` request restores a snapshot rather than loading a file.
pub(crate) fn is_restore(req: &ApiRequest) -> bool {
    req.params()
        .is_ok_and(|p: Map<String, Value>| p.get("snapshotId").is_some_and(|v| !v.is_null()))
}

/// `POST /buckets/{id}/tables-async` with `snapshotId` (and `name`, by default the
/// snapshot's table's): 202 `tableCreate`, results the new table's detail.
pub(crate) fn create_table(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    bucket_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let snapshot_ref = match params.get("snapshotId") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    let snapshot = visible(store, ctx, &snapshot_ref)?;
    let name = param_str(&params, "name")
        .filter(|n| !n.is_empty())
        .unwrap_or(&snapshot.table_name)
        .to_owned();
    let conn = project_db(store, ctx.me.project_id)?;
    buckets::writable(conn, ctx.me, bucket_id)?;
    tables::check_table_name(&name)?;
    if tables::by_id(conn, &format!("{bucket_id}.{name}"))?.is_some() {
        return Err(ApiError::bad_request(
            &format!("The table \"{name}\" already exists."),
            "storage.buckets.tableAlreadyExists",
        ));
    }
    let bucket_id = bucket_id.to_owned();
    let snapshot_id = snapshot.id;
    let job = NewJob::new(
        "tableCreate",
        None,
        json!({"name": name, "bucketId": bucket_id,
               "source": {"snapshotId": snapshot_id, "type": "snapshot"}}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let conn = project_db(store, ctx.me.project_id)?;
            let snapshot = by_id(conn, snapshot_id)?
                .ok_or_else(|| JobError::from(not_found(&snapshot_id.to_string())))?;
            let bucket = buckets::by_id(conn, &bucket_id)?
                .ok_or_else(|| JobError::from(buckets::not_found(&bucket_id)))?;
            if tables::by_id(conn, &format!("{bucket_id}.{name}"))?.is_some() {
                return Err(JobError::new(
                    "storage.buckets.tableAlreadyExists",
                    &format!("The table \"{name}\" already exists."),
                ));
            }
            let tx = conn.unchecked_transaction()?;
            let table = tables::create(
                &tx,
                &bucket,
                &name,
                &snapshot.columns,
                &snapshot.primary_key,
                snapshot.definition.as_deref(),
                ctx.now,
            )?;
            let mut cols: Vec<String> = snapshot.columns.iter().map(|c| quote(c)).collect();
            cols.push(TS_COLUMN.to_owned());
            let cols = cols.join(", ");
            tx.execute_batch(&format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                table.sql_name(),
                snapshot.sql_name()
            ))?;
            tables::refresh_stats(&tx, &table, ctx.now, true)?;
            tx.commit()?;
            let table = tables::by_id(conn, &table.id)?
                .ok_or_else(|| JobError::from(tables::not_found(&table.id)))?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}
