//! The seeded Storage of every project: buckets `in.c-crm`, `in.c-budget` and
//! `out.c-reports` with typed and untyped tables, primary keys, metadata and deterministic
//! rows. `orders` of the first project can be made large for benchmarks (`--seed-rows`).

use jiff::Timestamp;
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::storage::buckets::{self, Bucket};
use crate::storage::metadata::{self, Object};
use crate::storage::tables::{self, ColumnDef};

/// 2026-01-15T09:00:00Z: when the seeded buckets and tables were made.
const CREATED: i64 = 1_768_467_600;
/// 2026-02-01T06:00:00Z: their last load.
const LOADED: i64 = 1_769_925_600;

pub(crate) const DEFAULT_ORDERS: u64 = 2_000;
pub(crate) const CUSTOMERS: u64 = 500;

/// A small deterministic generator, so every run seeds the same rows.
fn mix(i: u64, salt: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

fn pick<'a>(items: &[&'a str], i: u64, salt: u64) -> &'a str {
    items[usize::try_from(mix(i, salt) % items.len() as u64).unwrap_or(0)]
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Linus", "Margaret", "Edsger", "Barbara", "Ken", "Frances", "Dennis",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Dijkstra", "Liskov", "Thompson",
    "Allen", "Ritchie",
];
const COUNTRIES: &[&str] = &["CZ", "US", "DE", "GB", "FR", "NL", "PL", "SK"];
const STATUSES: &[&str] = &[
    "completed",
    "completed",
    "completed",
    "shipped",
    "pending",
    "cancelled",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "CZK"];
const DEPARTMENTS: &[&str] = &["Sales", "Marketing", "Engineering", "Support", "Finance"];

fn date(days_after_2025: u64) -> String {
    let d = jiff::civil::date(2025, 1, 1)
        .checked_add(jiff::Span::new().days(i64::try_from(days_after_2025 % 400).unwrap_or(0)))
        .unwrap_or(jiff::civil::date(2025, 1, 1));
    d.to_string()
}

fn col(name: &str, def: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("definition".into(), def);
    m
}

fn typed(columns: &[(&str, Value)], pk: &[String]) -> Vec<ColumnDef> {
    columns
        .iter()
        .filter_map(|(n, d)| {
            tables::definition_column(&col(n, d.clone()), n, pk.iter().any(|p| p == n)).ok()
        })
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Row `i` of the seeded `in.c-crm.customers` (also what the CRM extractor delivers).
pub(crate) fn customer_row(i: u64, row: &mut Vec<String>) {
    let id = i + 1;
    let first = pick(FIRST, i, 1);
    let last = pick(LAST, i, 2);
    row.push(id.to_string());
    row.push(format!("{first} {last}"));
    row.push(format!(
        "{}.{}{id}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    ));
    row.push(pick(COUNTRIES, i, 3).to_owned());
    row.push(format!(
        "{} {:02}:{:02}:00",
        date(mix(i, 4) % 365),
        mix(i, 5) % 24,
        mix(i, 6) % 60
    ));
    row.push(if mix(i, 7) % 10 < 8 { "true" } else { "false" }.to_owned());
}

/// Row `i` of the seeded `in.c-crm.orders`.
pub(crate) fn order_row(i: u64, row: &mut Vec<String>) {
    row.push((100_001 + i).to_string());
    row.push((mix(i, 11) % CUSTOMERS + 1).to_string());
    row.push(date(i / 7 + mix(i, 12) % 3));
    row.push(pick(STATUSES, i, 13).to_owned());
    let cents = mix(i, 14) % 500_000 + 500;
    row.push(format!("{}.{:02}", cents / 100, cents % 100));
    row.push(pick(CURRENCIES, i, 15).to_owned());
}

/// Loads the seeded buckets and tables into an empty project database.
pub(crate) fn load(conn: &Connection, orders: u64) -> rusqlite::Result<()> {
    let created = Timestamp::from_second(CREATED).unwrap_or(Timestamp::UNIX_EPOCH);
    let loaded = Timestamp::from_second(LOADED).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut crm = Bucket::new(
        "in",
        "crm",
        "Customers and orders from the CRM database",
        created,
    );
    crm.last_change = Some(loaded);
    let budget = Bucket::new("in", "budget", "Budget sheets", created);
    let reports = Bucket::new("out", "reports", "Revenue reports", created);
    for b in [&crm, &budget, &reports] {
        buckets::insert(conn, b)?;
        metadata::upsert(
            conn,
            Object::Bucket,
            &b.id,
            "user",
            "KBC.description",
            &b.description,
            created,
        )?;
    }

    let pk = strings(&["id"]);
    let customers_def = typed(
        &[
            ("id", json!({"type": "INTEGER", "nullable": false})),
            ("name", json!({"type": "VARCHAR", "length": "255"})),
            ("email", json!({"type": "VARCHAR", "length": "255"})),
            ("country", json!({"type": "VARCHAR", "length": "2"})),
            ("created_at", json!({"type": "TIMESTAMP_NTZ"})),
            ("is_active", json!({"type": "BOOLEAN"})),
        ],
        &pk,
    );
    let columns: Vec<String> = customers_def.iter().map(|c| c.name.clone()).collect();
    let customers = tables::create(
        conn,
        &crm,
        "customers",
        &columns,
        &pk,
        Some(&customers_def),
        created,
    )?;
    tables::seed_rows(conn, &customers, CUSTOMERS, &mut customer_row, loaded)?;

    let pk = strings(&["order_id"]);
    let orders_def = typed(
        &[
            ("order_id", json!({"type": "INTEGER", "nullable": false})),
            ("customer_id", json!({"type": "INTEGER"})),
            ("order_date", json!({"type": "DATE"})),
            ("status", json!({"type": "VARCHAR", "length": "20"})),
            ("amount", json!({"type": "NUMBER", "length": "12,2"})),
            ("currency", json!({"type": "VARCHAR", "length": "3"})),
        ],
        &pk,
    );
    let columns: Vec<String> = orders_def.iter().map(|c| c.name.clone()).collect();
    let orders_table = tables::create(
        conn,
        &crm,
        "orders",
        &columns,
        &pk,
        Some(&orders_def),
        created,
    )?;
    tables::seed_rows(conn, &orders_table, orders, &mut order_row, loaded)?;
    for t in [&customers, &orders_table] {
        metadata::upsert(
            conn,
            Object::Table,
            &t.id,
            "system",
            "KBC.createdBy.component.id",
            "keboola.ex-db-snowflake",
            created,
        )?;
    }
    metadata::upsert(
        conn,
        Object::Table,
        &orders_table.id,
        "user",
        "KBC.description",
        "One row per order; amount in the order currency",
        created,
    )?;
    metadata::upsert(
        conn,
        Object::Column,
        &format!("{}.amount", orders_table.id),
        "user",
        "KBC.description",
        "Order total including VAT",
        created,
    )?;

    let columns = strings(&["month", "department", "category", "planned", "actual"]);
    let pk = strings(&["month", "department", "category"]);
    let lines = tables::create(conn, &budget, "budget_lines", &columns, &pk, None, created)?;
    tables::seed_rows(
        conn,
        &lines,
        120,
        &mut |i, row| {
            row.push(format!("2026-{:02}", i / 10 + 1));
            row.push(DEPARTMENTS[usize::try_from((i / 2) % 5).unwrap_or(0)].to_owned());
            row.push(if i % 2 == 0 { "opex" } else { "capex" }.to_owned());
            let planned = 10_000 + mix(i, 21) % 90_000;
            row.push(planned.to_string());
            row.push((planned * (80 + mix(i, 22) % 40) / 100).to_string());
        },
        loaded,
    )?;

    let columns = strings(&["customer_id", "customer_name", "orders_count", "revenue"]);
    let pk = strings(&["customer_id"]);
    let revenue = tables::create(
        conn,
        &reports,
        "revenue_by_customer",
        &columns,
        &pk,
        None,
        created,
    )?;
    tables::seed_rows(
        conn,
        &revenue,
        200,
        &mut |i, row| {
            row.push((i + 1).to_string());
            row.push(format!("{} {}", pick(FIRST, i, 1), pick(LAST, i, 2)));
            row.push((1 + mix(i, 31) % 40).to_string());
            let cents = mix(i, 32) % 5_000_000;
            row.push(format!("{}.{:02}", cents / 100, cents % 100));
        },
        loaded,
    )?;
    Ok(())
}
