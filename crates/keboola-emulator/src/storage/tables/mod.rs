//! Tables: each Keboola table is a real SQLite table (`data_<n>`) in the project's
//! database, described by a row of `storage_tables` (columns, primary key, typed
//! definition, timestamps, cached row count and size).
//!
//! Data columns hold text, as CSV does; a hidden column `kbc ts` (a name no sanitized
//! column can take) holds each row's change time for `changedSince`.

mod data;
mod definition;
mod filter;
mod handlers;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};

use crate::db::{from_sql, to_sql};
use crate::http::{ApiError, time};
use crate::storage::Ctx;
use crate::storage::buckets::{self, Bucket};
use crate::storage::metadata::{self, Object};

pub(crate) use data::{Parsed, import_rows, sanitize_column, seed_rows, select};
pub(crate) use definition::{ColumnDef, parse_column as definition_column};
pub(crate) use filter::Selection;
pub(crate) use handlers::{
    add_column, add_primary_key, column_metadata_delete, column_metadata_list,
    column_metadata_post, create_async, create_definition, delete, delete_column,
    delete_primary_key, delete_rows, export, get, import, list, metadata_delete, metadata_list,
    metadata_post, preview,
};
pub(crate) use handlers::{check_table_name, readable, writable};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS storage_tables (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    bucket_id TEXT NOT NULL REFERENCES buckets (id),
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    -- JSON lists
    columns TEXT NOT NULL,
    primary_key TEXT NOT NULL,
    -- JSON list of column definitions; NULL for untyped tables
    definition TEXT,
    created INTEGER NOT NULL,
    last_import INTEGER,
    last_change INTEGER,
    rows_count INTEGER NOT NULL DEFAULT 0,
    data_size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS storage_tables_bucket ON storage_tables (bucket_id);";

/// The change-time column of every data table.
pub(crate) const TS_COLUMN: &str = "\"kbc ts\"";

#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// Names the data table, `data_<n>`.
    pub n: i64,
    pub id: String,
    pub bucket_id: String,
    pub name: String,
    pub display_name: String,
    pub columns: Vec<String>,
    pub primary_key: Vec<String>,
    pub definition: Option<Vec<ColumnDef>>,
    pub created: Timestamp,
    pub last_import: Option<Timestamp>,
    pub last_change: Option<Timestamp>,
    pub rows_count: u64,
    pub data_size: u64,
}

impl Table {
    pub fn sql_name(&self) -> String {
        format!("\"data_{}\"", self.n)
    }
}

/// A quoted SQL identifier for a (sanitized) column name.
pub(crate) fn quote(column: &str) -> String {
    format!("\"{}\"", column.replace('"', "\"\""))
}

const COLUMNS: &str = "n, id, bucket_id, name, display_name, columns, primary_key, definition,
    created, last_import, last_change, rows_count, data_size";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Table> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(Table {
        n: r.get(0)?,
        id: r.get(1)?,
        bucket_id: r.get(2)?,
        name: r.get(3)?,
        display_name: r.get(4)?,
        columns: list(r.get(5)?),
        primary_key: list(r.get(6)?),
        definition: r
            .get::<_, Option<String>>(7)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        created: from_sql(r.get(8)?),
        last_import: r.get::<_, Option<i64>>(9)?.map(from_sql),
        last_change: r.get::<_, Option<i64>>(10)?.map(from_sql),
        rows_count: r.get(11)?,
        data_size: r.get(12)?,
    })
}

pub(crate) fn by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Table>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM storage_tables WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<Table>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM storage_tables ORDER BY id"))?
        .query_map([], from_row)?
        .collect()
}

pub(crate) fn of_bucket(conn: &Connection, bucket_id: &str) -> rusqlite::Result<Vec<Table>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM storage_tables WHERE bucket_id = ?1 ORDER BY id"
    ))?
    .query_map([bucket_id], from_row)?
    .collect()
}

/// Rows and bytes of all tables of a bucket.
pub(crate) fn totals_of_bucket(conn: &Connection, bucket_id: &str) -> rusqlite::Result<(u64, u64)> {
    conn.query_row(
        "SELECT COALESCE(SUM(rows_count), 0), COALESCE(SUM(data_size), 0)
         FROM storage_tables WHERE bucket_id = ?1",
        [bucket_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Creates the metadata row and the data table (with a unique index over the primary key,
/// which incremental loads upsert on). Returns the table as stored.
pub(crate) fn create(
    conn: &Connection,
    bucket: &Bucket,
    name: &str,
    columns: &[String],
    primary_key: &[String],
    definition: Option<&[ColumnDef]>,
    now: Timestamp,
) -> rusqlite::Result<Table> {
    let id = format!("{}.{name}", bucket.id);
    conn.execute(
        "INSERT INTO storage_tables (id, bucket_id, name, display_name, columns, primary_key,
             definition, created)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            bucket.id,
            name,
            json!(columns).to_string(),
            json!(primary_key).to_string(),
            definition.map(|d| serde_json::to_string(d).unwrap_or_default()),
            to_sql(now)
        ],
    )?;
    let table = by_id(conn, &id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let cols: Vec<String> = columns
        .iter()
        .map(|c| format!("{} TEXT", quote(c)))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({}, {TS_COLUMN} INTEGER NOT NULL)",
        table.sql_name(),
        cols.join(", ")
    ))?;
    if !primary_key.is_empty() {
        let mut t = table.clone();
        set_primary_key(conn, &mut t, primary_key.to_vec())?;
    }
    if let Some(def) = definition {
        definition::write_metadata(conn, &table.id, def, now)?;
    }
    buckets::touch(conn, &bucket.id, now)?;
    Ok(table)
}

pub(crate) fn drop_table(conn: &Connection, table: &Table) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", table.sql_name()))?;
    conn.execute("DELETE FROM storage_tables WHERE n = ?1", [table.n])?;
    metadata::delete_all(conn, Object::Table, &table.id)?;
    Ok(())
}

/// Sets the primary key: the unique index incremental loads upsert on, and the metadata row.
pub(crate) fn set_primary_key(
    conn: &Connection,
    table: &mut Table,
    primary_key: Vec<String>,
) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("DROP INDEX IF EXISTS \"data_{}_pk\"", table.n))?;
    if !primary_key.is_empty() {
        let pk: Vec<String> = primary_key.iter().map(|c| quote(c)).collect();
        conn.execute_batch(&format!(
            "CREATE UNIQUE INDEX \"data_{}_pk\" ON {} ({})",
            table.n,
            table.sql_name(),
            pk.join(", ")
        ))?;
    }
    conn.execute(
        "UPDATE storage_tables SET primary_key = ?2 WHERE n = ?1",
        params![table.n, json!(primary_key).to_string()],
    )?;
    table.primary_key = primary_key;
    Ok(())
}

/// Saves columns and definition after a column change.
pub(crate) fn save_columns(conn: &Connection, table: &Table) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE storage_tables SET columns = ?2, definition = ?3 WHERE n = ?1",
        params![
            table.n,
            json!(table.columns).to_string(),
            table
                .definition
                .as_ref()
                .map(|d| serde_json::to_string(d).unwrap_or_default())
        ],
    )?;
    Ok(())
}

/// Recounts rows and bytes and stamps the change (and import) time.
pub(crate) fn refresh_stats(
    conn: &Connection,
    table: &Table,
    now: Timestamp,
    imported: bool,
) -> rusqlite::Result<()> {
    let size_expr = if table.columns.is_empty() {
        "0".to_owned()
    } else {
        table
            .columns
            .iter()
            .map(|c| format!("COALESCE(length({}), 0)", quote(c)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let (rows, size): (u64, u64) = conn.query_row(
        &format!(
            "SELECT COUNT(*), COALESCE(SUM({size_expr}), 0) FROM {}",
            table.sql_name()
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    set_stats(conn, table, rows, size, now, imported)
}

pub(crate) fn set_stats(
    conn: &Connection,
    table: &Table,
    rows: u64,
    size: u64,
    now: Timestamp,
    imported: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE storage_tables SET rows_count = ?2, data_size = ?3, last_change = ?4,
             last_import = CASE WHEN ?5 THEN ?4 ELSE last_import END
         WHERE n = ?1",
        params![table.n, rows, size, to_sql(now), imported],
    )?;
    buckets::touch(conn, &table.bucket_id, now)
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("The table \"{id}\" was not found in the bucket."),
        "storage.tables.notFound",
    )
}

/// What a table listing or detail includes.
#[derive(Default)]
pub(crate) struct Include {
    pub bucket: bool,
    pub columns: bool,
    pub metadata: bool,
    pub column_metadata: bool,
}

impl Include {
    pub fn parse(include: Option<&str>) -> Self {
        let Some(include) = include else {
            // Without `include` the list carries the bucket and nothing else.
            return Self {
                bucket: true,
                ..Self::default()
            };
        };
        let has = |name: &str| include.split(',').any(|p| p.trim() == name);
        Self {
            bucket: has("buckets"),
            columns: has("columns"),
            metadata: has("metadata"),
            column_metadata: has("columnMetadata"),
        }
    }

    pub fn everything() -> Self {
        Self {
            bucket: true,
            columns: true,
            metadata: true,
            column_metadata: true,
        }
    }
}

/// The fields every table rendering shares.
pub(crate) fn render_short(t: &Table, ctx: &Ctx<'_>) -> Value {
    json!({
        "uri": format!("{}/v2/storage/tables/{}", ctx.base_url, t.id),
        "id": t.id,
        "name": t.name,
        "displayName": t.display_name,
        "transactional": false,
        "primaryKey": t.primary_key,
        "indexType": null,
        "indexKey": [],
        "distributionType": null,
        "distributionKey": [],
        "syntheticPrimaryKeyEnabled": false,
        "created": time(t.created),
        "lastImportDate": t.last_import.map(time),
        "lastChangeDate": t.last_change.map(time),
        "rowsCount": t.rows_count,
        "dataSizeBytes": t.data_size,
        "isAlias": false,
        "isAliasable": true,
        "isTyped": t.definition.is_some(),
        "tableType": "table",
        "path": format!("/{}/{}", t.bucket_id, t.name),
    })
}

pub(crate) fn render(
    conn: &Connection,
    t: &Table,
    ctx: &Ctx<'_>,
    include: &Include,
) -> Result<Value, ApiError> {
    let mut v = render_short(t, ctx);
    if include.columns {
        v["columns"] = json!(t.columns);
    }
    if include.metadata {
        v["metadata"] = Value::Array(metadata::list(conn, Object::Table, &t.id)?);
    }
    if include.column_metadata {
        v["columnMetadata"] = metadata::column_map(conn, &t.id, &t.columns)?;
    }
    if include.bucket
        && let Some(b) = buckets::by_id(conn, &t.bucket_id)?
    {
        v["bucket"] = buckets::render(conn, &b, ctx)?;
    }
    if let Some(def) = &t.definition {
        v["definition"] = definition::render(def, &t.primary_key);
    }
    Ok(v)
}

/// The full detail, as `GET /tables/{id}` and job results give it.
pub(crate) fn render_detail(
    conn: &Connection,
    t: &Table,
    ctx: &Ctx<'_>,
) -> Result<Value, ApiError> {
    let mut v = render(conn, t, ctx, &Include::everything())?;
    v["attributes"] = json!([]);
    Ok(v)
}
