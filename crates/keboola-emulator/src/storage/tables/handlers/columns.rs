//! Columns and the primary key.

use rusqlite::OptionalExtension as _;
use serde_json::json;

use crate::http::{ApiError, ApiRequest, ApiResult, param_str};
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::buckets::project_db;
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::metadata::{self, Object};
use crate::storage::tables;
use crate::storage::tables::data;
use crate::storage::tables::definition;
use crate::storage::tables::filter::list_or_comma;

use super::{in_job, query_params, validation, writable};

/// `POST /tables/{id}/columns {name, definition?|basetype?}`: 202 `tableColumnAdd`.
pub(crate) fn add_column(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").to_owned();
    if name.is_empty() || data::sanitize_column(&name) != name {
        return Err(ApiError::bad_request(
            &format!("Invalid column name \"{name}\"."),
            "storage.tables.validation.invalidColumnName",
        ));
    }
    if table.columns.contains(&name) {
        return Err(ApiError::bad_request(
            &format!(
                "The column \"{name}\" already exists in table {}.",
                table.id
            ),
            "storage.tables.columnAlreadyExists",
        ));
    }
    let def = match &table.definition {
        Some(_) => Some(definition::parse_column(&params, &name, false)?),
        None => None,
    };
    let table_id = table.id.clone();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new("tableColumnAdd", Some(&table.id), json!({"name": name})),
        Box::new(move |store, ctx| {
            let mut table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {} TEXT NOT NULL DEFAULT ''",
                table.sql_name(),
                tables::quote(&name)
            ))?;
            table.columns.push(name.clone());
            if let (Some(defs), Some(def)) = (table.definition.as_mut(), def) {
                definition::write_column_metadata(&tx, &table.id, &def, ctx.now)?;
                defs.push(def);
            }
            tables::save_columns(&tx, &table)?;
            tables::refresh_stats(&tx, &table, ctx.now, false)?;
            tx.commit()?;
            let table = in_job(store, ctx, &table_id)?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}

/// `DELETE /tables/{id}/columns/{name}`: 202 `tableColumnDelete`.
pub(crate) fn delete_column(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    column: &str,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    if !table.columns.iter().any(|c| c == column) {
        return Err(ApiError::not_found(
            &format!("Column \"{column}\" not found in table {}.", table.id),
            "storage.tables.columnNotFound",
        ));
    }
    // UNCERTAIN: the exact codes of these two refusals.
    if table.primary_key.iter().any(|c| c == column) {
        return Err(ApiError::bad_request(
            &format!("Cannot delete column \"{column}\": it is part of the primary key."),
            "storage.tables.cannotDeletePrimaryKeyColumn",
        ));
    }
    if table.columns.len() == 1 {
        return Err(ApiError::bad_request(
            "Cannot delete the last column of a table.",
            "storage.tables.cannotDeleteLastColumn",
        ));
    }
    let table_id = table.id.clone();
    let column = column.to_owned();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new(
            "tableColumnDelete",
            Some(&table.id),
            json!({"name": column}),
        ),
        Box::new(move |store, ctx| {
            let mut table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(&format!(
                "ALTER TABLE {} DROP COLUMN {}",
                table.sql_name(),
                tables::quote(&column)
            ))?;
            table.columns.retain(|c| *c != column);
            if let Some(defs) = table.definition.as_mut() {
                defs.retain(|d| d.name != column);
            }
            metadata::delete_all(&tx, Object::Column, &format!("{}.{column}", table.id))?;
            tables::save_columns(&tx, &table)?;
            tables::refresh_stats(&tx, &table, ctx.now, false)?;
            tx.commit()?;
            let table = in_job(store, ctx, &table_id)?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}

/// `POST /tables/{id}/primary-key {columns[]}`: 202 `tablePrimaryKeyAdd`; duplicate keys
/// fail the job.
pub(crate) fn add_primary_key(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let mut params = query_params(req);
    params.extend(req.params()?);
    let columns = list_or_comma(&params, "columns")?;
    if columns.is_empty() {
        return Err(validation(
            "Invalid request:\n - columns: \"This field is missing.\"",
        ));
    }
    if let Some(c) = columns.iter().find(|c| !table.columns.contains(c)) {
        return Err(ApiError::bad_request(
            &format!("Primary key column \"{c}\" is not in table {}.", table.id),
            "storage.tables.invalidPrimaryKeyColumns",
        ));
    }
    // UNCERTAIN: the code Keboola gives when a primary key is already set.
    if !table.primary_key.is_empty() {
        return Err(ApiError::bad_request(
            &format!("Table {} already has a primary key.", table.id),
            "storage.tables.primaryKeyAlreadyExists",
        ));
    }
    let table_id = table.id.clone();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new(
            "tablePrimaryKeyAdd",
            Some(&table.id),
            json!({"columns": columns}),
        ),
        Box::new(move |store, ctx| {
            let mut table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let key: Vec<String> = columns.iter().map(|c| tables::quote(c)).collect();
            let duplicate: Option<i64> = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM {} GROUP BY {} HAVING COUNT(*) > 1 LIMIT 1",
                        table.sql_name(),
                        key.join(", ")
                    ),
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if duplicate.is_some() {
                return Err(JobError::new(
                    "storage.tables.primaryKeyDuplicateValues",
                    &format!(
                        "The new primary key cannot be created; duplicate values in primary key columns {}.",
                        columns.join(", ")
                    ),
                ));
            }
            let tx = conn.unchecked_transaction()?;
            tables::set_primary_key(&tx, &mut table, columns.clone())?;
            tx.commit()?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}

/// `DELETE /tables/{id}/primary-key`: 202 `tablePrimaryKeyDelete`.
pub(crate) fn delete_primary_key(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let table_id = table.id.clone();
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new("tablePrimaryKeyDelete", Some(&table.id), json!({})),
        Box::new(move |store, ctx| {
            let mut table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            tables::set_primary_key(conn, &mut table, Vec::new())?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}
