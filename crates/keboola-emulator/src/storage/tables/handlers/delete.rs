//! Dropping a table and deleting its rows.

use serde_json::{Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, no_content, param_bool};
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, NewJob};
use crate::storage::tables;
use crate::storage::tables::data;
use crate::storage::tables::filter::Selection;

use super::{in_job, query_params, writable};

/// `DELETE /tables/{id}[?async=1]`: 202 `tableDrop`, or 204 in the deprecated sync mode.
pub(crate) fn delete(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let query = query_params(req);
    let run_async = param_bool(&query, "async")?.unwrap_or(false);
    let conn = project_db(store, ctx.me.project_id)?;
    if !run_async {
        tables::drop_table(conn, &table)?;
        buckets::touch(conn, &table.bucket_id, ctx.now)?;
        return no_content();
    }
    let table_id = table.id.clone();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new("tableDrop", Some(&table.id), json!({"force": false})),
        Box::new(move |store, ctx| {
            let table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            tables::drop_table(conn, &table)?;
            buckets::touch(conn, &table.bucket_id, ctx.now)?;
            Ok(Value::Null)
        }),
    )
}

/// `DELETE /tables/{id}/rows`: deletes the filtered rows; with `allowTruncate` and no filter,
/// all of them (this is how a table is truncated).
pub(crate) fn delete_rows(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let mut params = query_params(req);
    params.extend(req.params()?);
    let selection = Selection::parse(&params, &table, ctx.now)?;
    let allow_truncate = param_bool(&params, "allowTruncate")?.unwrap_or(false);
    if !selection.has_filter() && !allow_truncate {
        return Err(ApiError::bad_request(
            "No filter was given: to delete all rows, set \"allowTruncate\" to true.",
            "storage.tables.validation.unintendedTruncation",
        ));
    }
    let table_id = table.id.clone();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new("tableRowsDelete", Some(&table.id), Value::Object(params)),
        Box::new(move |store, ctx| {
            let table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let deleted = data::delete_selected(conn, &table, &selection, ctx.now)?;
            Ok(json!({"deletedRows": deleted}))
        }),
    )
}
