//! Table endpoints: list, detail, preview, create (definition or file), import, export,
//! row deletion, drop, columns and metadata. Writes run as Storage jobs.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use rusqlite::OptionalExtension as _;
use serde_json::{Map, Value, json};

use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, param_bool, param_i64, param_str,
    parse_form,
};
use crate::state::{Shared, Store};
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::metadata::{self, Object};
use crate::storage::tables::data::{self, CsvOptions};
use crate::storage::tables::definition::{self, ColumnDef};
use crate::storage::tables::filter::{Selection, list_or_comma};
use crate::storage::tables::{self, Include, Table, not_found};
use crate::storage::{Ctx, files};

/// Rows per export slice.
const SLICE_ROWS: usize = 50_000;

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

pub(crate) fn list(
    store: &Store,
    ctx: &Ctx<'_>,
    req: &ApiRequest,
    bucket: Option<&str>,
) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let include = Include::parse(req.query_param("include"));
    let found = match bucket {
        Some(b) => {
            buckets::readable(conn, ctx.me, b)?;
            tables::of_bucket(conn, b)?
        }
        None => tables::all(conn)?,
    };
    let mut out = Vec::new();
    for t in found {
        if buckets::permission(ctx.me, &t.bucket_id).is_some() {
            out.push(tables::render(conn, &t, ctx, &include)?);
        }
    }
    Ok(json_response(StatusCode::OK, &Value::Array(out)))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    Ok(json_response(
        StatusCode::OK,
        &tables::render_detail(conn, &table, ctx)?,
    ))
}

pub(crate) fn preview(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let params = query_params(req);
    let mut selection = Selection::parse(&params, &table, ctx.now)?;
    match selection.limit {
        None => selection.limit = Some(100),
        Some(n) if n > 1000 => {
            return Err(validation(&format!(
                "Invalid request:\n - limit: \"This value should be less than or equal to 1000.\" ({n} given)"
            )));
        }
        Some(_) => {}
    }
    let conn = project_db(store, ctx.me.project_id)?;
    match param_str(&params, "format").unwrap_or("rfc") {
        "json" => Ok(json_response(
            StatusCode::OK,
            &data::preview_json(conn, &table, &selection)?,
        )),
        "rfc" | "raw" | "escaped" => {
            let body = data::preview_csv(conn, &table, &selection)?;
            let mut resp = Response::new(Body::from(body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            Ok(resp)
        }
        other => Err(validation(&format!(
            "Invalid format \"{other}\": allowed are rfc, json"
        ))),
    }
}

pub(crate) fn check_table_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(validation(
            "Table create option \"name\" is required and cannot be empty.",
        ));
    }
    let ok = name.len() <= 96
        && !name.starts_with('_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(validation(&format!(
            "Invalid table name \"{name}\": only alphanumeric characters, dash and underscores are allowed."
        )))
    }
}

fn bucket_for_create(
    store: &Store,
    ctx: &Ctx<'_>,
    bucket_id: &str,
    name: &str,
) -> Result<(), ApiError> {
    let conn = project_db(store, ctx.me.project_id)?;
    buckets::writable(conn, ctx.me, bucket_id)?;
    check_table_name(name)?;
    if tables::by_id(conn, &format!("{bucket_id}.{name}"))?.is_some() {
        return Err(ApiError::bad_request(
            &format!("The table \"{name}\" already exists."),
            "storage.buckets.tableAlreadyExists",
        ));
    }
    Ok(())
}

/// `POST /buckets/{id}/tables-definition`: a typed (or, without types, untyped) empty table.
pub(crate) fn create_definition(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    bucket_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").to_owned();
    bucket_for_create(store, ctx, bucket_id, &name)?;
    let primary_key = list_or_comma(&params, "primaryKeysNames")?;
    let Some(Value::Array(raw_columns)) = params.get("columns") else {
        return Err(validation(
            "Invalid request:\n - columns: \"This field is missing.\"",
        ));
    };
    let mut columns = Vec::new();
    let mut defs = Vec::new();
    let mut typed = false;
    for c in raw_columns {
        let Value::Object(c) = c else {
            return Err(validation("Each column must be an object with a name"));
        };
        let col_name = param_str(c, "name").unwrap_or("");
        if data::sanitize_column(col_name) != col_name || col_name.is_empty() {
            return Err(ApiError::bad_request(
                &format!("Invalid column name \"{col_name}\"."),
                "storage.tables.validation.invalidColumnName",
            ));
        }
        typed |= c.contains_key("definition") || c.contains_key("basetype");
        columns.push(col_name.to_owned());
        defs.push(c.clone());
    }
    if columns.is_empty() {
        return Err(ApiError::bad_request(
            "No columns were given.",
            "storage.tables.validation.noColumns",
        ));
    }
    for pk in &primary_key {
        if !columns.contains(pk) {
            return Err(ApiError::bad_request(
                &format!("Primary key column \"{pk}\" is not among the columns."),
                "storage.tables.validation.invalidPrimaryKeyColumns",
            ));
        }
    }
    let definition: Option<Vec<ColumnDef>> = if typed {
        Some(
            defs.iter()
                .zip(&columns)
                .map(|(c, n)| definition::parse_column(c, n, primary_key.contains(n)))
                .collect::<Result<_, _>>()?,
        )
    } else {
        None
    };
    let bucket_id = bucket_id.to_owned();
    let job = NewJob::new(
        "tableDefinitionCreate",
        None,
        json!({"name": name, "bucketId": bucket_id, "primaryKeysNames": primary_key}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let conn = project_db(store, ctx.me.project_id)?;
            let bucket = buckets::by_id(conn, &bucket_id)?
                .ok_or_else(|| JobError::from(buckets::not_found(&bucket_id)))?;
            let tx = conn.unchecked_transaction()?;
            let table = tables::create(
                &tx,
                &bucket,
                &name,
                &columns,
                &primary_key,
                definition.as_deref(),
                ctx.now,
            )?;
            tx.commit()?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}

/// `POST /buckets/{id}/tables-async`: a table from an uploaded CSV (`dataFileId`).
pub(crate) fn create_async(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    bucket_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").to_owned();
    bucket_for_create(store, ctx, bucket_id, &name)?;
    let csv = CsvOptions::parse(&params)?;
    let file_id = data_file_id(&params)?;
    files::visible(store, ctx, file_id)?;
    let primary_key = list_or_comma(&params, "primaryKey")?;
    let bucket_id = bucket_id.to_owned();
    let job = NewJob::new(
        "tableCreate",
        None,
        json!({"name": name, "bucketId": bucket_id, "source": {"fileId": file_id, "type": "file"}}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let (bytes, sliced) = files::read_data(store, ctx.me.project_id, file_id)?;
            let parsed = data::parse_csv(&bytes, &csv.for_file(sliced))?;
            if parsed.header.is_empty() {
                return Err(JobError::new(
                    "storage.tables.validation.noColumns",
                    "No columns found in the CSV file.",
                ));
            }
            for pk in &primary_key {
                if !parsed.header.contains(pk) {
                    return Err(JobError::new(
                        "storage.tables.validation.invalidPrimaryKeyColumns",
                        &format!("Primary key column \"{pk}\" is not in the CSV file."),
                    ));
                }
            }
            let conn = project_db(store, ctx.me.project_id)?;
            let bucket = buckets::by_id(conn, &bucket_id)?
                .ok_or_else(|| JobError::from(buckets::not_found(&bucket_id)))?;
            let tx = conn.unchecked_transaction()?;
            let mut table = tables::create(
                &tx,
                &bucket,
                &name,
                &parsed.header,
                &primary_key,
                None,
                ctx.now,
            )?;
            tx.commit()?;
            // The load runs its own transaction; a table whose first load fails goes again.
            if let Err(e) = data::import_rows(conn, &mut table, &parsed, false, ctx.now) {
                tables::drop_table(conn, &table)?;
                return Err(e);
            }
            let table = in_job(store, ctx, &table.id)?;
            Ok(tables::render_detail(conn, &table, ctx)?)
        }),
    )
}

fn data_file_id(params: &Map<String, Value>) -> Result<u64, ApiError> {
    match param_i64(params, "dataFileId")? {
        Some(id) if id > 0 => Ok(id.unsigned_abs()),
        _ => Err(validation(
            "Invalid request:\n - dataFileId: \"This field is missing.\"",
        )),
    }
}

/// `POST /tables/{id}/import-async`: full or incremental load from an uploaded CSV.
pub(crate) fn import(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let params = req.params()?;
    let csv = CsvOptions::parse(&params)?;
    let file_id = data_file_id(&params)?;
    files::visible(store, ctx, file_id)?;
    let incremental = param_bool(&params, "incremental")?.unwrap_or(false);
    let table_id = table.id.clone();
    let job = NewJob::new(
        "tableImport",
        Some(&table.id),
        json!({"source": {"fileId": file_id, "type": "file"}, "incremental": incremental}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let (bytes, sliced) = files::read_data(store, ctx.me.project_id, file_id)?;
            let parsed = data::parse_csv(&bytes, &csv.for_file(sliced))?;
            let mut table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let imported = data::import_rows(conn, &mut table, &parsed, incremental, ctx.now)?;
            let table = in_job(store, ctx, &table_id)?;
            Ok(json!({
                "importedColumns": imported.columns,
                "importedRowsCount": imported.rows,
                "warnings": [],
                "transaction": null,
                "totalRowsCount": table.rows_count,
                "totalDataSizeBytes": table.data_size,
            }))
        }),
    )
}

/// `POST /tables/{id}/export-async`: a sliced, headerless CSV file.
pub(crate) fn export(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let params = req.params()?;
    let selection = Selection::parse(&params, &table, ctx.now)?;
    match param_str(&params, "fileType").unwrap_or("csv") {
        "csv" => {}
        other => {
            return Err(validation(&format!(
                "File type \"{other}\" is not supported by the emulator; use csv."
            )));
        }
    }
    let gzip = param_bool(&params, "gzip")?.unwrap_or(false);
    let table_id = table.id.clone();
    let job = NewJob::new(
        "tableExport",
        Some(&table.id),
        json!({"gzip": gzip, "export": Value::Object(params.clone())}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let slices = data::export_slices(conn, &table, &selection, SLICE_ROWS)?;
            let name = if gzip {
                format!("{}.csv.gz", table.id)
            } else {
                format!("{}.csv", table.id)
            };
            let file_id = files::create_export(store, ctx, &table, &name, slices, gzip)?;
            Ok(json!({"file": {"id": file_id}, "cacheHit": false}))
        }),
    )
}

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

pub(crate) fn metadata_list(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    Ok(json_response(
        StatusCode::OK,
        &Value::Array(metadata::list(conn, Object::Table, &table.id)?),
    ))
}

/// `POST /tables/{id}/metadata`: a JSON body with `metadata` and/or `columnsMetadata`
/// answers `{metadata, columnsMetadata}`; the form body answers the bare table list.
pub(crate) fn metadata_post(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let params = req.params()?;
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    let provider = metadata::parse_provider(&params)?;
    let conn = project_db(store, ctx.me.project_id)?;
    let tx = conn.unchecked_transaction()?;
    if params.contains_key("metadata") || !params.contains_key("columnsMetadata") {
        for (key, value) in metadata::parse_entries(&params, "metadata")? {
            metadata::upsert(
                &tx,
                Object::Table,
                &table.id,
                &provider,
                &key,
                &value,
                ctx.now,
            )?;
        }
    }
    let mut touched_columns = Vec::new();
    if let Some(Value::Object(cols)) = params.get("columnsMetadata") {
        for (col_key, entries) in cols {
            let wrapper: Map<String, Value> =
                [("m".to_owned(), entries.clone())].into_iter().collect();
            for (i, (key, value)) in metadata::parse_entries(&wrapper, "m")?
                .into_iter()
                .enumerate()
            {
                // Entries are keyed by column name, or by index with a `columnName`.
                let column = entries
                    .get(i)
                    .and_then(|e| e.get("columnName"))
                    .and_then(Value::as_str)
                    .unwrap_or(col_key)
                    .to_owned();
                if !table.columns.contains(&column) {
                    return Err(ApiError::not_found(
                        &format!("Column \"{column}\" not found in table {}.", table.id),
                        "storage.tables.columnNotFound",
                    ));
                }
                metadata::upsert(
                    &tx,
                    Object::Column,
                    &format!("{}.{column}", table.id),
                    &provider,
                    &key,
                    &value,
                    ctx.now,
                )?;
                if !touched_columns.contains(&column) {
                    touched_columns.push(column);
                }
            }
        }
    }
    tx.commit()?;
    let list = Value::Array(metadata::list(conn, Object::Table, &table.id)?);
    if !is_json {
        return Ok(json_response(StatusCode::CREATED, &list));
    }
    let mut columns = Map::new();
    for c in touched_columns {
        let entries = metadata::list(conn, Object::Column, &format!("{}.{c}", table.id))?;
        columns.insert(c, Value::Array(entries));
    }
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"metadata": list, "columnsMetadata": if columns.is_empty() { json!([]) } else { Value::Object(columns) }}),
    ))
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

/// `DELETE /tables/{id}/metadata/{metadataId}`: 204.
pub(crate) fn metadata_delete(
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    metadata_id: &str,
) -> ApiResult {
    let table = writable(store, ctx, id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    if !metadata::delete_one(conn, Object::Table, &table.id, metadata_id)? {
        return Err(metadata::not_found(metadata_id));
    }
    no_content()
}

/// `<tableId>.<column>` of `/columns/{id}/metadata`: the table and the column.
fn column_target(
    store: &Store,
    ctx: &Ctx<'_>,
    column_id: &str,
) -> Result<(Table, String), ApiError> {
    let (table_id, column) = column_id
        .rsplit_once('.')
        .ok_or_else(|| not_found(column_id))?;
    let table = readable(store, ctx, table_id)?;
    if !table.columns.iter().any(|c| c == column) {
        return Err(ApiError::not_found(
            &format!("Column \"{column}\" not found in table {}.", table.id),
            "storage.tables.columnNotFound",
        ));
    }
    Ok((table, column.to_owned()))
}

/// `GET /columns/{tableId}.{column}/metadata`.
pub(crate) fn column_metadata_list(store: &Store, ctx: &Ctx<'_>, column_id: &str) -> ApiResult {
    let (table, column) = column_target(store, ctx, column_id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    let entries = metadata::list(conn, Object::Column, &format!("{}.{column}", table.id))?;
    Ok(json_response(StatusCode::OK, &Value::Array(entries)))
}

/// `POST /columns/{tableId}.{column}/metadata {provider, metadata[]}`: 201 with the list.
pub(crate) fn column_metadata_post(
    store: &Store,
    ctx: &Ctx<'_>,
    column_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let (table, column) = column_target(store, ctx, column_id)?;
    writable(store, ctx, &table.id)?;
    let params = req.params()?;
    let provider = metadata::parse_provider(&params)?;
    let entries = metadata::parse_entries(&params, "metadata")?;
    let conn = project_db(store, ctx.me.project_id)?;
    let object_id = format!("{}.{column}", table.id);
    let tx = conn.unchecked_transaction()?;
    for (key, value) in &entries {
        metadata::upsert(
            &tx,
            Object::Column,
            &object_id,
            &provider,
            key,
            value,
            ctx.now,
        )?;
    }
    tx.commit()?;
    let entries = metadata::list(conn, Object::Column, &object_id)?;
    Ok(json_response(StatusCode::CREATED, &Value::Array(entries)))
}

/// `DELETE /columns/{tableId}.{column}/metadata/{metadataId}`: 204.
pub(crate) fn column_metadata_delete(
    store: &Store,
    ctx: &Ctx<'_>,
    column_id: &str,
    metadata_id: &str,
) -> ApiResult {
    let (table, column) = column_target(store, ctx, column_id)?;
    writable(store, ctx, &table.id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    if !metadata::delete_one(
        conn,
        Object::Column,
        &format!("{}.{column}", table.id),
        metadata_id,
    )? {
        return Err(metadata::not_found(metadata_id));
    }
    no_content()
}
