//! Metadata of buckets, tables and columns (`{id,key,value,provider,timestamp}` entries),
//! kept in the project's database.

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use crate::db::{from_sql, to_sql};
use crate::http::{ApiError, time};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS storage_metadata (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'bucket', 'table' or 'column'; a column's object id is '<tableId>.<column>'
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    provider TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    UNIQUE (object_type, object_id, key, provider)
);";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    Bucket,
    Table,
    Column,
}

impl Object {
    fn as_str(self) -> &'static str {
        match self {
            Object::Bucket => "bucket",
            Object::Table => "table",
            Object::Column => "column",
        }
    }
}

/// The entries of one object, oldest first.
pub(crate) fn list(conn: &Connection, object: Object, id: &str) -> rusqlite::Result<Vec<Value>> {
    conn.prepare_cached(
        "SELECT id, key, value, provider, timestamp FROM storage_metadata
         WHERE object_type = ?1 AND object_id = ?2 ORDER BY id",
    )?
    .query_map(params![object.as_str(), id], |r| {
        Ok(json!({
            "id": r.get::<_, i64>(0)?.to_string(),
            "key": r.get::<_, String>(1)?,
            "value": r.get::<_, String>(2)?,
            "provider": r.get::<_, String>(3)?,
            // UNCERTAIN: the reference shows "2017-02-13 23:36:10"; current stacks send ISO 8601.
            "timestamp": time(from_sql(r.get(4)?)),
        }))
    })?
    .collect()
}

/// Column metadata of a table as `{column: [entries]}`; PHP renders an empty map as `[]`.
pub(crate) fn column_map(
    conn: &Connection,
    table_id: &str,
    columns: &[String],
) -> rusqlite::Result<Value> {
    let mut map = Map::new();
    for column in columns {
        let entries = list(conn, Object::Column, &format!("{table_id}.{column}"))?;
        if !entries.is_empty() {
            map.insert(column.clone(), Value::Array(entries));
        }
    }
    Ok(if map.is_empty() {
        json!([])
    } else {
        Value::Object(map)
    })
}

/// Writes entries, replacing the value of an existing (key, provider).
pub(crate) fn upsert(
    conn: &Connection,
    object: Object,
    id: &str,
    provider: &str,
    key: &str,
    value: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO storage_metadata (object_type, object_id, key, value, provider, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (object_type, object_id, key, provider)
         DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp",
    )?
    .execute(params![
        object.as_str(),
        id,
        key,
        value,
        provider,
        to_sql(now)
    ])?;
    Ok(())
}

/// Removes one entry of an object; false when it has no entry with that id.
pub(crate) fn delete_one(
    conn: &Connection,
    object: Object,
    id: &str,
    metadata_id: &str,
) -> rusqlite::Result<bool> {
    let Ok(metadata_id) = metadata_id.parse::<i64>() else {
        return Ok(false);
    };
    let n = conn.execute(
        "DELETE FROM storage_metadata WHERE object_type = ?1 AND object_id = ?2 AND id = ?3",
        params![object.as_str(), id, metadata_id],
    )?;
    Ok(n > 0)
}

pub(crate) fn not_found(metadata_id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Metadata with id \"{metadata_id}\" not found"),
        "storage.metadata.notFound",
    )
}

/// Removes every entry of an object (and, for a table, of its columns).
pub(crate) fn delete_all(conn: &Connection, object: Object, id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM storage_metadata WHERE object_type = ?1 AND object_id = ?2",
        params![object.as_str(), id],
    )?;
    if object == Object::Table {
        conn.execute(
            "DELETE FROM storage_metadata WHERE object_type = 'column' AND object_id LIKE ?1 ESCAPE '\\'",
            [format!("{}.%", id.replace('%', "\\%").replace('_', "\\_"))],
        )?;
    }
    Ok(())
}

/// The `(key, value)` pairs of a metadata write (`metadata` as a JSON list or PHP form
/// `metadata[0][key]=`) after Keboola's validation.
pub(crate) fn parse_entries(
    params: &Map<String, Value>,
    field: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "Metadata must be an array of {key, value} objects",
            "storage.metadata.invalidStructure",
        )
    };
    let items: Vec<&Value> = match params.get(field) {
        Some(Value::Array(items)) => items.iter().collect(),
        // Form bodies index entries: metadata[0][key]=...; parse_form keeps them as a map.
        Some(Value::Object(map)) => map.values().collect(),
        _ => return Err(invalid()),
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(entry) = item else {
            return Err(invalid());
        };
        let key = entry.get("key").and_then(Value::as_str).unwrap_or("");
        let key_ok = !key.is_empty()
            && key.len() <= 255
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
        if !key_ok {
            return Err(ApiError::bad_request(
                &format!("Invalid Metadata Key ({field}[{i}][key])"),
                "storage.metadata.invalidKey",
            ));
        }
        let value = match entry.get("value") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

/// The `provider` of a metadata write: required; `storage` is Keboola's own.
pub(crate) fn parse_provider(params: &Map<String, Value>) -> Result<String, ApiError> {
    match params.get("provider").and_then(Value::as_str) {
        Some(p) if !p.is_empty() && p != "storage" => Ok(p.to_owned()),
        _ => Err(ApiError::bad_request(
            "Provider is missing or invalid",
            "storage.metadata.invalidProvider",
        )),
    }
}
