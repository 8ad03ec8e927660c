//! Extractors: they write deterministic rows to their output tables instead of reaching an
//! outside source. `keboola.ex-db-*` delivers the CRM data set the project is seeded with
//! (`CUSTOMERS`, `ORDERS`) or a small fixed table; `keboola.ex-google-drive` a fixed sheet
//! per output table. `parameters.emulator.rows` (a list of objects) replaces the data.
//!
//! The database source checks the password it is given (`parameters.db.#password`, which
//! the runner has decrypted): the seeded one, or `parameters.emulator.expect_secret`.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Job;
use super::run::{Emitter, Failure, Resolved};
use super::sql::{table_ref, write_table};
use crate::seed::storage::{CUSTOMERS, DEFAULT_ORDERS, customer_row, order_row};
use crate::state::Store;

const DRIVE: &str = "keboola.ex-google-drive";

/// The password of the seeded database source.
pub(crate) const DB_PASSWORD: &str = "emulated-password";

/// A wrong password fails as a database refusing the login would; the message names the
/// user, never the password.
fn check_password(configuration: &Value) -> Result<(), Failure> {
    let p = &configuration["parameters"];
    let Some(given) = p.pointer("/db/#password").and_then(Value::as_str) else {
        return Ok(());
    };
    let expected = p
        .pointer("/emulator/expect_secret")
        .and_then(Value::as_str)
        .unwrap_or(DB_PASSWORD);
    if given == expected {
        return Ok(());
    }
    let user = p.pointer("/db/user").and_then(Value::as_str).unwrap_or("");
    Err(Failure::user(format!(
        "Error connecting to DB: authentication failed for user \"{user}\"."
    )))
}

pub(crate) fn handles(component: &str) -> bool {
    component.starts_with("keboola.ex-db-") || component == DRIVE
}

struct Output {
    table_id: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    incremental: bool,
    primary_key: Vec<String>,
    /// What the source is called in the events.
    source: String,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn generated(count: u64, f: fn(u64, &mut Vec<String>)) -> Vec<Vec<String>> {
    (0..count)
        .map(|i| {
            let mut row = Vec::new();
            f(i, &mut row);
            row
        })
        .collect()
}

/// `parameters.emulator.rows`: header from the first object's keys.
fn steered_rows(params: &Value) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let rows = params.pointer("/emulator/rows")?.as_array()?;
    let header: Vec<String> = rows.first()?.as_object()?.keys().cloned().collect();
    let data = rows
        .iter()
        .map(|r| {
            header
                .iter()
                .map(|h| match &r[h] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    v => v.to_string(),
                })
                .collect()
        })
        .collect();
    Some((header, data))
}

/// A database table by name: the seeded CRM tables, else five generic rows.
fn db_table(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    match name.to_ascii_uppercase().as_str() {
        "CUSTOMERS" => (
            strings(&["id", "name", "email", "country", "created_at", "is_active"]),
            generated(CUSTOMERS, customer_row),
        ),
        "ORDERS" => (
            strings(&[
                "order_id",
                "customer_id",
                "order_date",
                "status",
                "amount",
                "currency",
            ]),
            generated(DEFAULT_ORDERS, order_row),
        ),
        _ => (
            strings(&["id", "name", "updated_at"]),
            (1..=5)
                .map(|i| {
                    vec![
                        i.to_string(),
                        format!("{name} {i}"),
                        format!("2026-01-0{i} 00:00:00"),
                    ]
                })
                .collect(),
        ),
    }
}

/// A sheet by output table: the seeded budget sheets, else a small generic sheet.
fn sheet(output: &str) -> (Vec<String>, Vec<Vec<String>>) {
    const DEPARTMENTS: &[&str] = &["Sales", "Marketing", "Engineering"];
    match output {
        "budget-summary" => (
            strings(&["month", "department", "planned", "actual"]),
            (0..12u64)
                .map(|i| {
                    let planned = 20_000 + i * 1_500;
                    vec![
                        format!("2026-{:02}", i / 3 + 1),
                        DEPARTMENTS[usize::try_from(i % 3).unwrap_or(0)].to_owned(),
                        planned.to_string(),
                        (planned * 9 / 10).to_string(),
                    ]
                })
                .collect(),
        ),
        "campaign-costs" => (
            strings(&["campaign", "channel", "month", "cost"]),
            (0..8u64)
                .map(|i| {
                    vec![
                        format!("Campaign {}", i / 2 + 1),
                        if i % 2 == 0 { "search" } else { "social" }.to_owned(),
                        format!("2026-{:02}", i / 2 + 1),
                        (1_000 + i * 250).to_string(),
                    ]
                })
                .collect(),
        ),
        _ => (
            strings(&["row", "value"]),
            (1..=3)
                .map(|i| vec![i.to_string(), format!("value {i}")])
                .collect(),
        ),
    }
}

fn db_outputs(job: &Job, resolved: &Resolved) -> Vec<Output> {
    let suffix = job.component.trim_start_matches("keboola.");
    let configs: Vec<&Value> = if resolved.rows.is_empty() {
        vec![&resolved.configuration]
    } else {
        resolved.rows.iter().map(|r| &r.configuration).collect()
    };
    configs
        .into_iter()
        .filter_map(|c| {
            let p = &c["parameters"];
            let name = p
                .pointer("/table/tableName")
                .and_then(Value::as_str)
                .or_else(|| p["name"].as_str())?;
            let schema = p.pointer("/table/schema").and_then(Value::as_str);
            let table_id = p["outputTable"].as_str().map_or_else(
                || format!("in.c-{suffix}.{}", name.to_ascii_lowercase()),
                str::to_owned,
            );
            let (header, rows) = steered_rows(p).unwrap_or_else(|| db_table(name));
            Some(Output {
                table_id,
                header,
                rows,
                incremental: p["incremental"].as_bool().unwrap_or(false),
                primary_key: p["primaryKey"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                source: schema.map_or_else(|| name.to_owned(), |s| format!("{s}.{name}")),
            })
        })
        .collect()
}

fn drive_outputs(job: &Job, resolved: &Resolved) -> Vec<Output> {
    let bucket = resolved
        .configuration
        .pointer("/parameters/outputBucket")
        .and_then(Value::as_str)
        .map_or_else(
            || {
                format!(
                    "in.c-keboola-ex-google-drive-{}",
                    job.config.as_deref().unwrap_or("")
                )
            },
            str::to_owned,
        );
    let configs: Vec<&Value> = std::iter::once(&resolved.configuration)
        .chain(resolved.rows.iter().map(|r| &r.configuration))
        .collect();
    let mut out = Vec::new();
    for c in configs {
        for s in c
            .pointer("/parameters/sheets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if s["enabled"].as_bool() == Some(false) {
                continue;
            }
            let Some(name) = s["outputTable"].as_str() else {
                continue;
            };
            let (header, rows) = steered_rows(&c["parameters"]).unwrap_or_else(|| sheet(name));
            out.push(Output {
                table_id: format!("{bucket}.{name}"),
                header,
                rows,
                incremental: false,
                primary_key: Vec::new(),
                source: format!(
                    "{} / {}",
                    s["fileTitle"].as_str().unwrap_or(""),
                    s["sheetTitle"].as_str().unwrap_or("")
                ),
            });
        }
    }
    out
}

pub(crate) fn run(
    store: &Store,
    job: &Job,
    resolved: &Resolved,
    ev: &Emitter<'_>,
    now: Timestamp,
) -> Result<Value, Failure> {
    let conn = store
        .project_db(job.project_id)
        .ok_or_else(Failure::internal)?;
    let outputs = if job.component == DRIVE {
        drive_outputs(job, resolved)
    } else {
        check_password(&resolved.configuration)?;
        db_outputs(job, resolved)
    };
    let mut refs = Vec::new();
    for o in outputs {
        ev.emit(
            store,
            now,
            "info",
            &format!("Exporting \"{}\" to \"{}\".", o.source, o.table_id),
        );
        let count = o.rows.len();
        let table = write_table(
            conn,
            &o.table_id,
            &o.header,
            o.rows,
            o.incremental,
            &o.primary_key,
            now,
        )?;
        ev.emit(
            store,
            now,
            "info",
            &format!("Table \"{}\" written: {count} rows.", o.table_id),
        );
        refs.push(table_ref(&table));
    }
    Ok(json!({"input": [], "output": refs}))
}
