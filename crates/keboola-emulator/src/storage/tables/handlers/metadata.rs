//! Table and column metadata.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, json_response, no_content};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::buckets::project_db;
use crate::storage::metadata::{self, Object};
use crate::storage::tables::{Table, not_found};

use super::{readable, writable};

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
