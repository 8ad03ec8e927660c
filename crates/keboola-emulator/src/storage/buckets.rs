//! Buckets, kept in each project's own database next to its tables: list, detail,
//! create, delete and metadata.

use axum::http::StatusCode;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};

use crate::db::{from_sql, to_sql};
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, param_bool, param_str, time,
};
use crate::manage::projects::Role;
use crate::state::{Shared, Store};
use crate::storage::metadata::{self, Object};
use crate::storage::tokens::StorageToken;
use crate::storage::{Ctx, jobs, tables};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    stage TEXT NOT NULL,
    description TEXT NOT NULL,
    backend TEXT NOT NULL,
    created INTEGER NOT NULL,
    last_change INTEGER
);";

/// Every project is a Snowflake project.
pub(crate) const BACKEND: &str = "snowflake";

#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub stage: String,
    pub description: String,
    pub backend: String,
    pub created: Timestamp,
    pub last_change: Option<Timestamp>,
}

impl Bucket {
    /// A bucket as `POST /buckets` makes it: `{stage}.c-{name}`.
    pub fn new(stage: &str, name: &str, description: &str, now: Timestamp) -> Self {
        Self {
            id: format!("{stage}.c-{name}"),
            name: format!("c-{name}"),
            display_name: name.to_owned(),
            stage: stage.to_owned(),
            description: description.to_owned(),
            backend: BACKEND.to_owned(),
            created: now,
            last_change: None,
        }
    }
}

pub(crate) fn insert(conn: &Connection, b: &Bucket) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO buckets (id, name, display_name, stage, description, backend, created, last_change)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            b.id,
            b.name,
            b.display_name,
            b.stage,
            b.description,
            b.backend,
            to_sql(b.created),
            b.last_change.map(to_sql)
        ],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, name, display_name, stage, description, backend, created, last_change";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        id: r.get(0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        stage: r.get(3)?,
        description: r.get(4)?,
        backend: r.get(5)?,
        created: from_sql(r.get(6)?),
        last_change: r.get::<_, Option<i64>>(7)?.map(from_sql),
    })
}

pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<Bucket>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM buckets ORDER BY id"))?
        .query_map([], from_row)?
        .collect()
}

pub(crate) fn by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Bucket>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM buckets WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Marks a bucket changed (a table in it was created, loaded or dropped).
pub(crate) fn touch(conn: &Connection, id: &str, now: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE buckets SET last_change = ?2 WHERE id = ?1",
        params![id, to_sql(now)],
    )?;
    Ok(())
}

pub(crate) fn project_db(store: &Store, project_id: u64) -> Result<&Connection, ApiError> {
    store
        .project_db(project_id)
        .ok_or_else(ApiError::application_error)
}

/// Bucket ids of a project, sorted.
pub(crate) fn ids(store: &Store, project_id: u64) -> Result<Vec<String>, ApiError> {
    Ok(all(project_db(store, project_id)?)?
        .into_iter()
        .map(|b| b.id)
        .collect())
}

pub(crate) fn exists(store: &Store, project_id: u64, id: &str) -> Result<bool, ApiError> {
    Ok(by_id(project_db(store, project_id)?, id)?.is_some())
}

/// What a token may do with a bucket: `manage`, `write`, `read` or nothing.
pub(crate) fn permission(token: &StorageToken, bucket_id: &str) -> Option<&'static str> {
    if token.can_manage_buckets {
        return Some("manage");
    }
    if token.role() == Some(Role::ReadOnly) {
        return Some("read");
    }
    match token.bucket_permissions.get(bucket_id).map(String::as_str) {
        Some("write") => Some("write"),
        Some("read") => Some("read"),
        Some("manage") => Some("manage"),
        _ => None,
    }
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("The bucket \"{id}\" was not found in the project."),
        "storage.buckets.notFound",
    )
}

/// The bucket, when the token may at least read it (else 404, as if it did not exist).
pub(crate) fn readable(
    conn: &Connection,
    token: &StorageToken,
    id: &str,
) -> Result<Bucket, ApiError> {
    match by_id(conn, id)? {
        Some(b) if permission(token, id).is_some() => Ok(b),
        _ => Err(not_found(id)),
    }
}

/// The bucket, when the token may write to its tables.
pub(crate) fn writable(
    conn: &Connection,
    token: &StorageToken,
    id: &str,
) -> Result<Bucket, ApiError> {
    let bucket = readable(conn, token, id)?;
    match permission(token, id) {
        Some("manage" | "write") => Ok(bucket),
        _ => Err(ApiError::access_denied()),
    }
}

/// The short form nested in a table: `bucket{id,name,stage,backend,...}`.
pub(crate) fn render(conn: &Connection, b: &Bucket, ctx: &Ctx<'_>) -> rusqlite::Result<Value> {
    let (rows, bytes) = tables::totals_of_bucket(conn, &b.id)?;
    Ok(json!({
        "uri": format!("{}/v2/storage/buckets/{}", ctx.base_url, b.id),
        "id": b.id,
        "name": b.name,
        "displayName": b.display_name,
        "idBranch": ctx.branch_id,
        "stage": b.stage,
        "description": b.description,
        "tables": format!("{}/v2/storage/buckets/{}/tables", ctx.base_url, b.id),
        "created": time(b.created),
        "lastChangeDate": b.last_change.map(time),
        "updated": b.last_change.map(time),
        "isReadOnly": permission(ctx.me, &b.id) == Some("read"),
        "dataSizeBytes": bytes,
        "rowsCount": rows,
        "isMaintenance": false,
        "backend": b.backend,
        "sharing": null,
        "hasExternalSchema": false,
        "databaseName": "",
        "path": b.id,
        "isSnowflakeSharedDatabase": false,
        "color": null,
        "sharingParameters": [],
        "isLinkedBucket": false,
        "backendPath": [format!("KEBOOLA_{}", ctx.me.project_id), b.id],
    }))
}

fn includes(req: &ApiRequest) -> Vec<String> {
    req.query_param("include")
        .map(|s| s.split(',').map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default()
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let with_metadata = includes(req).iter().any(|i| i == "metadata");
    let mut out = Vec::new();
    for b in all(conn)? {
        if permission(ctx.me, &b.id).is_none() {
            continue;
        }
        let mut v = render(conn, &b, ctx)?;
        if with_metadata {
            v["metadata"] = Value::Array(metadata::list(conn, Object::Bucket, &b.id)?);
        }
        out.push(v);
    }
    Ok(json_response(StatusCode::OK, &Value::Array(out)))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let b = readable(conn, ctx.me, id)?;
    let mut v = render(conn, &b, ctx)?;
    v["metadata"] = Value::Array(metadata::list(conn, Object::Bucket, &b.id)?);
    v["owner"] = Value::Null;
    v["linkedBy"] = json!([]);
    v["tables"] = Value::Array(
        tables::of_bucket(conn, &b.id)?
            .iter()
            .map(|t| tables::render_short(t, ctx))
            .collect(),
    );
    Ok(json_response(StatusCode::OK, &v))
}

fn validation(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.buckets.validation")
}

fn valid_name(name: &str) -> bool {
    (1..=96).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn create(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    if !ctx.me.can_manage_buckets {
        return Err(ApiError::access_denied());
    }
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").trim();
    if name.is_empty() {
        return Err(validation("Bucket name is required and cannot be empty."));
    }
    // A `c-` prefix given by the client is not doubled.
    let name = name.strip_prefix("c-").unwrap_or(name);
    if !valid_name(name) {
        return Err(validation(&format!(
            "Invalid bucket name \"{name}\": only alphanumeric characters, dash and underscores are allowed."
        )));
    }
    let stage = param_str(&params, "stage").unwrap_or("in");
    if !matches!(stage, "in" | "out") {
        return Err(validation(&format!(
            "Invalid stage \"{stage}\": allowed stages are in, out."
        )));
    }
    match param_str(&params, "backend") {
        None | Some("" | BACKEND) => {}
        Some(other) => {
            return Err(validation(&format!(
                "Backend \"{other}\" is not assigned to the project."
            )));
        }
    }
    let description = param_str(&params, "description").unwrap_or("");
    let mut bucket = Bucket::new(stage, name, description, ctx.now);
    if let Some(display) = param_str(&params, "displayName").filter(|d| !d.is_empty()) {
        bucket.display_name = display.to_owned();
    }
    let conn = project_db(store, ctx.me.project_id)?;
    if by_id(conn, &bucket.id)?.is_some() {
        return Err(ApiError::bad_request(
            &format!("The bucket \"{}\" already exists.", bucket.id),
            "storage.buckets.alreadyExists",
        ));
    }
    let clash = all(conn)?
        .iter()
        .any(|b| b.display_name == bucket.display_name);
    if clash {
        return Err(ApiError::bad_request(
            &format!(
                "The display name \"{}\" already exists in project.",
                bucket.display_name
            ),
            "storage.buckets.alreadyExists",
        ));
    }
    insert(conn, &bucket)?;
    Ok(json_response(
        StatusCode::CREATED,
        &render(conn, &bucket, ctx)?,
    ))
}

/// `DELETE /buckets/{id}[?force=1][&async=1]`: 204, or 202 with a `bucketDelete` job.
pub(crate) fn delete(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    if !ctx.me.can_manage_buckets {
        return Err(ApiError::access_denied());
    }
    let query = crate::http::parse_form(req.raw_query.as_deref().unwrap_or(""));
    let force = param_bool(&query, "force")?.unwrap_or(false);
    let run_async = param_bool(&query, "async")?.unwrap_or(false);
    let conn = project_db(store, ctx.me.project_id)?;
    let bucket = readable(conn, ctx.me, id)?;
    let count = tables::of_bucket(conn, &bucket.id)?.len();
    if count > 0 && !force {
        return Err(ApiError::bad_request(
            &format!("Only empty buckets can be deleted. There are {count} tables in the bucket."),
            "buckets.deleteNotEmpty",
        ));
    }
    let bucket_id = bucket.id.clone();
    let work = move |store: &Store, ctx: &Ctx<'_>| {
        let conn = project_db(store, ctx.me.project_id)?;
        drop_bucket(conn, &bucket_id).map_err(|e| jobs::JobError::internal(&e))?;
        Ok(Value::Null)
    };
    if run_async {
        let job = jobs::NewJob::new(
            "bucketDelete",
            None,
            json!({"bucketId": bucket.id, "force": force}),
        );
        return jobs::start(shared, store, ctx, &job, Box::new(work));
    }
    drop_bucket(conn, &bucket.id)?;
    no_content()
}

fn drop_bucket(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    for table in tables::of_bucket(&tx, id)? {
        tables::drop_table(&tx, &table)?;
    }
    metadata::delete_all(&tx, Object::Bucket, id)?;
    tx.execute("DELETE FROM buckets WHERE id = ?1", [id])?;
    tx.commit()
}

pub(crate) fn metadata_list(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let b = readable(conn, ctx.me, id)?;
    Ok(json_response(
        StatusCode::OK,
        &Value::Array(metadata::list(conn, Object::Bucket, &b.id)?),
    ))
}

pub(crate) fn metadata_post(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let b = writable(conn, ctx.me, id)?;
    let params = req.params()?;
    let provider = metadata::parse_provider(&params)?;
    let entries = metadata::parse_entries(&params, "metadata")?;
    let tx = conn.unchecked_transaction()?;
    for (key, value) in &entries {
        metadata::upsert(&tx, Object::Bucket, &b.id, &provider, key, value, ctx.now)?;
    }
    tx.commit()?;
    Ok(json_response(
        StatusCode::CREATED,
        &Value::Array(metadata::list(conn, Object::Bucket, &b.id)?),
    ))
}

/// `DELETE /buckets/{id}/metadata/{metadataId}`: 204.
pub(crate) fn metadata_delete(
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    metadata_id: &str,
) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let b = writable(conn, ctx.me, id)?;
    if !metadata::delete_one(conn, Object::Bucket, &b.id, metadata_id)? {
        return Err(metadata::not_found(metadata_id));
    }
    no_content()
}
