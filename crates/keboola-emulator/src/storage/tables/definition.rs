//! Typed tables: column definitions in Snowflake's base types, as
//! `tables-definition` takes them and table detail shows them.

use jiff::Timestamp;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::http::ApiError;
use crate::storage::metadata::{self, Object};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ColumnDef {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub length: Option<String>,
    pub nullable: bool,
    pub default: Option<String>,
    pub basetype: String,
}

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.tables.validation")
}

/// Snowflake reports every type by its base type: `INT` is `NUMBER(38,0)` and so on.
fn normalize(data_type: &str, length: Option<&str>) -> Option<(String, Option<String>, String)> {
    let upper = data_type.trim().to_ascii_uppercase();
    let len = |default: &str| Some(length.map_or_else(|| default.to_owned(), str::to_owned));
    let out = match upper.as_str() {
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "BYTEINT" => {
            ("NUMBER", Some("38,0".to_owned()), "INTEGER")
        }
        "NUMBER" | "DECIMAL" | "NUMERIC" => {
            let l = len("38,0");
            let scale_zero = l
                .as_deref()
                .is_none_or(|l| l.split(',').nth(1).is_none_or(|s| s.trim() == "0"));
            ("NUMBER", l, if scale_zero { "INTEGER" } else { "NUMERIC" })
        }
        "VARCHAR" | "STRING" | "TEXT" | "CHAR" | "CHARACTER" => {
            ("VARCHAR", len("16777216"), "STRING")
        }
        "FLOAT" | "FLOAT4" | "FLOAT8" | "DOUBLE" | "DOUBLE PRECISION" | "REAL" => {
            ("FLOAT", None, "FLOAT")
        }
        "BOOLEAN" => ("BOOLEAN", None, "BOOLEAN"),
        "DATE" => ("DATE", None, "DATE"),
        "TIMESTAMP" | "TIMESTAMP_NTZ" | "DATETIME" => ("TIMESTAMP_NTZ", len("9"), "TIMESTAMP"),
        "TIMESTAMP_TZ" => ("TIMESTAMP_TZ", len("9"), "TIMESTAMP"),
        "TIMESTAMP_LTZ" => ("TIMESTAMP_LTZ", len("9"), "TIMESTAMP"),
        _ => return None,
    };
    Some((out.0.to_owned(), out.1, out.2.to_owned()))
}

fn from_basetype(basetype: &str) -> Option<(String, Option<String>, String)> {
    match basetype.trim().to_ascii_uppercase().as_str() {
        "INTEGER" => normalize("INTEGER", None),
        "NUMERIC" => normalize("NUMBER", Some("38,9")),
        "STRING" => normalize("VARCHAR", None),
        "FLOAT" => normalize("FLOAT", None),
        "BOOLEAN" => normalize("BOOLEAN", None),
        "DATE" => normalize("DATE", None),
        "TIMESTAMP" => normalize("TIMESTAMP_NTZ", None),
        _ => None,
    }
}

/// One column of a `tables-definition` body or of `POST /columns`:
/// `{name, definition{type,length?,nullable?,default?}}` or `{name, basetype}`.
pub(crate) fn parse_column(
    column: &Map<String, Value>,
    name: &str,
    in_primary_key: bool,
) -> Result<ColumnDef, ApiError> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(Value::Object(def)) = column.get("definition") {
        let data_type = text(def.get("type")).unwrap_or_default();
        let length = text(def.get("length"));
        let (data_type, length, basetype) =
            normalize(&data_type, length.as_deref()).ok_or_else(|| {
                invalid(&format!(
                    "Invalid type \"{data_type}\" of column \"{name}\" for backend snowflake."
                ))
            })?;
        let nullable = match def.get("nullable") {
            Some(Value::Bool(b)) => *b,
            _ => !in_primary_key,
        };
        return Ok(ColumnDef {
            name: name.to_owned(),
            data_type,
            length,
            nullable,
            default: text(def.get("default")),
            basetype,
        });
    }
    let basetype = text(column.get("basetype")).unwrap_or_default();
    let (data_type, length, basetype) = from_basetype(&basetype).ok_or_else(|| {
        invalid(&format!(
            "Column \"{name}\" needs a \"definition\" with a \"type\" or a valid \"basetype\"."
        ))
    })?;
    Ok(ColumnDef {
        name: name.to_owned(),
        data_type,
        length,
        nullable: !in_primary_key,
        default: None,
        basetype,
    })
}

pub(crate) fn render(columns: &[ColumnDef], primary_key: &[String]) -> Value {
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| {
            let mut def = json!({"type": c.data_type, "nullable": c.nullable});
            if let Some(l) = &c.length {
                def["length"] = json!(l);
            }
            if let Some(d) = &c.default {
                def["default"] = json!(d);
            }
            json!({"name": c.name, "definition": def, "basetype": c.basetype})
        })
        .collect();
    json!({"primaryKeysNames": primary_key, "columns": columns})
}

/// The `storage`-provider metadata Keboola writes on typed tables and their columns.
pub(crate) fn write_metadata(
    conn: &Connection,
    table_id: &str,
    columns: &[ColumnDef],
    now: Timestamp,
) -> rusqlite::Result<()> {
    metadata::upsert(
        conn,
        Object::Table,
        table_id,
        "storage",
        "KBC.dataTypesEnabled",
        "true",
        now,
    )?;
    for c in columns {
        write_column_metadata(conn, table_id, c, now)?;
    }
    Ok(())
}

pub(crate) fn write_column_metadata(
    conn: &Connection,
    table_id: &str,
    c: &ColumnDef,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let id = format!("{table_id}.{}", c.name);
    let nullable = if c.nullable { "1" } else { "" };
    let mut entries = vec![
        ("KBC.datatype.type", c.data_type.as_str()),
        ("KBC.datatype.nullable", nullable),
        ("KBC.datatype.basetype", c.basetype.as_str()),
    ];
    if let Some(l) = &c.length {
        entries.push(("KBC.datatype.length", l.as_str()));
    }
    for (key, value) in entries {
        metadata::upsert(conn, Object::Column, &id, "storage", key, value, now)?;
    }
    Ok(())
}
