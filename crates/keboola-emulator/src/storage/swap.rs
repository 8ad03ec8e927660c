//! `POST /tables/{id}/swap`: two tables exchange their data, columns, primary keys,
//! definitions and metadata; their ids, names and buckets stay.
//!
//! Each table's data lives in `data_<n>`, named by its `storage_tables` row, so the swap
//! exchanges the identity fields of the two rows and moves the metadata along with the data.

use rusqlite::{Connection, params};
use serde_json::json;

use crate::http::{ApiError, ApiRequest, ApiResult, param_str};
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::tables::{self, Table};

fn validation(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.tables.validation")
}

pub(crate) fn swap(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let target_id = match param_str(&params, "targetTableId") {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => {
            return Err(validation(
                "Invalid request:\n - targetTableId: \"This field is missing.\"",
            ));
        }
    };
    let table = tables::writable(store, ctx, id)?;
    let target = tables::writable(store, ctx, &target_id)?;
    if table.id == target.id {
        return Err(validation("A table cannot be swapped with itself."));
    }
    let conn = project_db(store, ctx.me.project_id)?;
    let backend = |bucket_id: &str| -> Result<String, ApiError> {
        let bucket =
            buckets::by_id(conn, bucket_id)?.ok_or_else(|| buckets::not_found(bucket_id))?;
        Ok(bucket.backend)
    };
    if backend(&table.bucket_id)? != backend(&target.bucket_id)? {
        return Err(validation(
            "Tables can be swapped only when their buckets have the same backend.",
        ));
    }
    let job = NewJob::new(
        "tableSwap",
        Some(&table.id),
        json!({"targetTableStringId": target.id}),
    );
    let (a, b) = (table.id, target.id);
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let conn = project_db(store, ctx.me.project_id)?;
            let first =
                tables::by_id(conn, &a)?.ok_or_else(|| JobError::from(tables::not_found(&a)))?;
            let second =
                tables::by_id(conn, &b)?.ok_or_else(|| JobError::from(tables::not_found(&b)))?;
            let tx = conn.unchecked_transaction()?;
            exchange(&tx, &first, &second)?;
            buckets::touch(&tx, &first.bucket_id, ctx.now)?;
            buckets::touch(&tx, &second.bucket_id, ctx.now)?;
            tx.commit()?;
            Ok(json!({"tableAStringId": a, "tableBStringId": b}))
        }),
    )
}

/// A name no table id can take (`#` is not allowed in bucket or table names).
const PARKED: &str = "#swap";

fn exchange(conn: &Connection, a: &Table, b: &Table) -> rusqlite::Result<()> {
    // Identity fields: the row holding A's data takes B's identity and the other way round.
    let set_identity = "UPDATE storage_tables
         SET id = ?2, bucket_id = ?3, name = ?4, display_name = ?5, created = ?6 WHERE n = ?1";
    conn.execute(
        "UPDATE storage_tables SET id = ?2 WHERE n = ?1",
        params![a.n, PARKED],
    )?;
    for (row, who) in [(b.n, a), (a.n, b)] {
        conn.execute(
            set_identity,
            params![
                row,
                who.id,
                who.bucket_id,
                who.name,
                who.display_name,
                crate::db::to_sql(who.created)
            ],
        )?;
    }
    // Metadata follows the data (column types, descriptions of the columns that moved).
    rename_metadata(conn, &a.id, PARKED)?;
    rename_metadata(conn, &b.id, &a.id)?;
    rename_metadata(conn, PARKED, &b.id)?;
    Ok(())
}

/// Moves the table's and its columns' metadata from one table id to another.
fn rename_metadata(conn: &Connection, from: &str, to: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE storage_metadata SET object_id = ?2
         WHERE object_type = 'table' AND object_id = ?1",
        params![from, to],
    )?;
    let prefix = format!("{from}.");
    conn.execute(
        "UPDATE storage_metadata SET object_id = ?2 || substr(object_id, ?3)
         WHERE object_type = 'column' AND substr(object_id, 1, ?4) = ?1",
        params![
            prefix,
            format!("{to}."),
            // SQLite counts characters, not bytes.
            i64::try_from(prefix.chars().count() + 1).unwrap_or(i64::MAX),
            i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX)
        ],
    )?;
    Ok(())
}
