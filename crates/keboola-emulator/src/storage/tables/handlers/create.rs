//! Creating a table (from a definition or an uploaded file) and importing into one.

use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, param_bool, param_i64, param_str};
use crate::state::{Shared, Store};
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::tables;
use crate::storage::tables::data::{self, CsvOptions};
use crate::storage::tables::definition::{self, ColumnDef};
use crate::storage::tables::filter::list_or_comma;
use crate::storage::{Ctx, files};

use super::{in_job, validation, writable};

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
