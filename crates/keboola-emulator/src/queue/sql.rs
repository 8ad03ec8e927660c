//! SQL transformations, whatever their backend (Snowflake, Synapse, BigQuery, ...), run as
//! SQLite: the input mapping copies stored tables into a scratch database, the blocks'
//! scripts run there in order, and the output mapping writes the results back to Storage.

use jiff::Timestamp;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Value, json};

use super::Job;
use super::run::{Emitter, Failure, Resolved};
use crate::state::Store;
use crate::storage::buckets::{self, Bucket};
use crate::storage::tables::{self, Parsed, Table, import_rows, quote, sanitize_column};

/// Transformations that are not SQL.
const NOT_SQL: &[&str] = &["python", "r-transformation", "julia", "dbt", "openrefine"];

pub(crate) fn is_sql(component: &str) -> bool {
    component.ends_with("-transformation") && !NOT_SQL.iter().any(|n| component.contains(n))
}

/// Queries in messages are cut like Keboola's transformations cut them.
fn excerpt(query: &str) -> String {
    let q = query.trim();
    if q.chars().count() > 1000 {
        let head: String = q.chars().take(500).collect();
        let tail: String = q
            .chars()
            .rev()
            .take(500)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{head}...{tail}")
    } else {
        q.to_owned()
    }
}

/// SQLite column affinity for a typed column, so comparisons and sums behave as numbers.
pub(crate) fn affinity(table: &Table, column: &str) -> &'static str {
    let base = table
        .definition
        .as_ref()
        .and_then(|d| d.iter().find(|c| c.name == column))
        .map(|c| c.basetype.as_str());
    match base {
        Some("INTEGER") => "INTEGER",
        Some("NUMERIC") => "NUMERIC",
        Some("FLOAT") => "REAL",
        _ => "TEXT",
    }
}

fn project_conn(store: &Store, project_id: u64) -> Result<&Connection, Failure> {
    store.project_db(project_id).ok_or_else(Failure::internal)
}

/// Rows of a stored table, in load order.
pub(crate) fn read_table(conn: &Connection, table: &Table) -> Result<Vec<Vec<String>>, Failure> {
    let cols: Vec<String> = table.columns.iter().map(|c| quote(c)).collect();
    if cols.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {} ORDER BY rowid",
        cols.join(", "),
        table.sql_name()
    ))?;
    let n = cols.len();
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default))
                .collect::<rusqlite::Result<Vec<String>>>()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// `{{ name }}` placeholders filled from the job's `variableValuesData`, as Keboola's
/// variables fill them (unknown names are left as they are).
fn with_variables(query: &str, job: &Job) -> String {
    let mut out = query.to_owned();
    for v in job.variable_values_data["values"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(value)) = (v["name"].as_str(), v["value"].as_str()) else {
            continue;
        };
        for pattern in [format!("{{{{ {name} }}}}"), format!("{{{{{name}}}}}")] {
            out = out.replace(&pattern, value);
        }
    }
    out
}

/// The database's own message, without rusqlite's additions (the SQL, the offset).
fn db_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. }
        | rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

fn cell(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// Writes rows to a Storage table: creates the bucket and the table when missing, then a
/// full load (replace) or an incremental one (upsert by primary key). Gives the table.
pub(crate) fn write_table(
    conn: &Connection,
    table_id: &str,
    header: &[String],
    rows: Vec<Vec<String>>,
    incremental: bool,
    primary_key: &[String],
    now: Timestamp,
) -> Result<Table, Failure> {
    let Some((bucket_id, name)) = table_id.rsplit_once('.') else {
        return Err(Failure::user(format!(
            "Output table \"{table_id}\" is not a valid table id (stage.c-bucket.table)."
        )));
    };
    let bucket = match buckets::by_id(conn, bucket_id)? {
        Some(b) => b,
        None => {
            let Some((stage, bare)) = bucket_id
                .split_once(".c-")
                .filter(|(s, n)| ["in", "out"].contains(s) && !n.is_empty())
            else {
                return Err(Failure::user(format!(
                    "Output table \"{table_id}\" is not a valid table id (stage.c-bucket.table)."
                )));
            };
            let b = Bucket::new(stage, bare, "", now);
            buckets::insert(conn, &b)?;
            b
        }
    };
    let header: Vec<String> = header.iter().map(|h| sanitize_column(h)).collect();
    let pk: Vec<String> = primary_key
        .iter()
        .filter_map(|p| {
            header
                .iter()
                .find(|h| h.eq_ignore_ascii_case(&sanitize_column(p)))
                .cloned()
        })
        .collect();
    let mut table = match tables::by_id(conn, table_id)? {
        Some(t) => t,
        None => tables::create(conn, &bucket, name, &header, &pk, None, now)?,
    };
    import_rows(conn, &mut table, &Parsed { header, rows }, incremental, now).map_err(|e| {
        Failure::user(format!(
            "Failed to write table \"{table_id}\": {}",
            e.message
        ))
    })?;
    Ok(tables::by_id(conn, table_id)?.unwrap_or(table))
}

pub(crate) fn table_ref(t: &Table) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "displayName": t.display_name,
        "columns": t.columns.iter().map(|c| json!({"name": c})).collect::<Vec<_>>(),
    })
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

pub(crate) fn run(
    store: &Store,
    job: &Job,
    resolved: &Resolved,
    ev: &Emitter<'_>,
    now: Timestamp,
) -> Result<Value, Failure> {
    let conn = project_conn(store, job.project_id)?;
    let cfg = &resolved.configuration;
    let scratch = Connection::open_in_memory()?;
    let mut input_refs = Vec::new();
    let inputs = cfg
        .pointer("/storage/input/tables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for input in &inputs {
        let source = text(input, "source");
        let destination = match text(input, "destination") {
            "" => source.rsplit('.').next().unwrap_or(source),
            d => d,
        };
        let table = tables::by_id(conn, source)?.ok_or_else(|| {
            Failure::user(format!(
                "Table \"{source}\" specified in input mapping does not exist."
            ))
        })?;
        let wanted: Vec<String> = input["columns"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .filter(|v: &Vec<String>| !v.is_empty())
            .unwrap_or_else(|| table.columns.clone());
        let positions: Vec<usize> = wanted
            .iter()
            .map(|w| {
                table.columns.iter().position(|c| c == w).ok_or_else(|| {
                    Failure::user(format!(
                        "Column \"{w}\" of input mapping is not in table \"{source}\"."
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        let cols: Vec<String> = wanted
            .iter()
            .map(|c| format!("{} {}", quote(c), affinity(&table, c)))
            .collect();
        scratch.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            quote(destination),
            cols.join(", ")
        ))?;
        let rows = read_table(conn, &table)?;
        let marks: Vec<String> = (1..=wanted.len()).map(|i| format!("?{i}")).collect();
        {
            let tx = scratch.unchecked_transaction()?;
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO {} VALUES ({})",
                quote(destination),
                marks.join(", ")
            ))?;
            for row in &rows {
                // Storage keeps text; an empty value of a typed column is NULL, as in a
                // typed table.
                let values: Vec<Option<&str>> = positions
                    .iter()
                    .zip(&wanted)
                    .map(|(&i, c)| {
                        let v = row[i].as_str();
                        if v.is_empty() && affinity(&table, c) != "TEXT" {
                            None
                        } else {
                            Some(v)
                        }
                    })
                    .collect();
                stmt.execute(rusqlite::params_from_iter(values))?;
            }
            drop(stmt);
            tx.commit()?;
        }
        ev.emit(
            store,
            now,
            "info",
            &format!(
                "Table \"{source}\" loaded as \"{destination}\": {} rows.",
                rows.len()
            ),
        );
        input_refs.push(table_ref(&table));
    }

    let blocks = cfg
        .pointer("/parameters/blocks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for block in &blocks {
        ev.emit(
            store,
            now,
            "info",
            &format!("Running block \"{}\".", text(block, "name")),
        );
        for code in block["codes"].as_array().into_iter().flatten() {
            let code_name = text(code, "name");
            ev.emit(
                store,
                now,
                "info",
                &format!("Running code \"{code_name}\"."),
            );
            let scripts: Vec<&str> = match &code["script"] {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            for query in scripts {
                if query.trim().is_empty() {
                    continue;
                }
                let query = with_variables(query, job);
                let query = query.as_str();
                ev.emit(
                    store,
                    now,
                    "info",
                    &format!("Running query \"{}\".", excerpt(query)),
                );
                scratch.execute_batch(query).map_err(|e| {
                    Failure::user(format!(
                        "Query \"{}\" in \"{code_name}\" failed with error: \"{}\"",
                        excerpt(query),
                        db_message(&e)
                    ))
                })?;
            }
        }
    }

    // Every output is read before any is written: a missing one writes nothing.
    let outputs = cfg
        .pointer("/storage/output/tables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut results = Vec::new();
    for output in &outputs {
        let source = text(output, "source");
        let destination = text(output, "destination");
        let mut stmt = scratch
            .prepare(&format!("SELECT * FROM {}", quote(source)))
            .map_err(|_| {
                Failure::user(format!(
                    "Table \"{source}\" specified in output mapping does not exist in the transformation's database."
                ))
            })?;
        let header: Vec<String> = stmt
            .column_names()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        let n = header.len();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(cell))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let pk: Vec<String> = match &output["primary_key"] {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let incremental = output["incremental"].as_bool().unwrap_or(false);
        results.push((destination.to_owned(), header, rows, incremental, pk));
    }
    let mut output_refs = Vec::new();
    for (destination, header, rows, incremental, pk) in results {
        let count = rows.len();
        let table = write_table(conn, &destination, &header, rows, incremental, &pk, now)?;
        ev.emit(
            store,
            now,
            "info",
            &format!("Table \"{destination}\" written: {count} rows."),
        );
        output_refs.push(table_ref(&table));
    }
    Ok(json!({"input": input_refs, "output": output_refs}))
}
