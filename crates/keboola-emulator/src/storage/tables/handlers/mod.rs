//! Table endpoints: list, detail, preview, create (definition or file), import, export,
//! row deletion, drop, columns and metadata. Writes run as Storage jobs.

mod columns;
mod create;
mod delete;
mod metadata;
mod read;

use serde_json::{Map, Value};

use crate::http::{ApiError, ApiRequest, parse_form};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::JobError;
use crate::storage::tables::{self, Table, not_found};

pub(crate) use columns::{add_column, add_primary_key, delete_column, delete_primary_key};
pub(crate) use create::check_table_name;
pub(crate) use create::{create_async, create_definition, import};
pub(crate) use delete::{delete, delete_rows};
pub(crate) use metadata::{
    column_metadata_delete, column_metadata_list, column_metadata_post, metadata_delete,
    metadata_list, metadata_post,
};
pub(crate) use read::{export, get, list, preview};

fn validation(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.tables.validation")
}

fn query_params(req: &ApiRequest) -> Map<String, Value> {
    parse_form(req.raw_query.as_deref().unwrap_or(""))
}

/// A table the token may read; its bucket decides.
pub(crate) fn readable(store: &Store, ctx: &Ctx<'_>, id: &str) -> Result<Table, ApiError> {
    let conn = project_db(store, ctx.me.project_id)?;
    let table = tables::by_id(conn, id)?.ok_or_else(|| not_found(id))?;
    if buckets::permission(ctx.me, &table.bucket_id).is_none() {
        return Err(not_found(id));
    }
    Ok(table)
}

pub(crate) fn writable(store: &Store, ctx: &Ctx<'_>, id: &str) -> Result<Table, ApiError> {
    let table = readable(store, ctx, id)?;
    match buckets::permission(ctx.me, &table.bucket_id) {
        Some("manage" | "write") => Ok(table),
        _ => Err(ApiError::access_denied()),
    }
}

/// The table again inside a job (it may have changed since the request).
fn in_job(store: &Store, ctx: &Ctx<'_>, id: &str) -> Result<Table, JobError> {
    let conn = project_db(store, ctx.me.project_id)?;
    tables::by_id(conn, id)?.ok_or_else(|| JobError::from(not_found(id)))
}
