//! `storage table-detail`: one table's columns with their types and descriptions, primary
//! key, size, import times and its quoted path in the warehouse.

use std::collections::BTreeMap;

use keboola_api::{Metadata, Table as StorageTable};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::bucket_detail::quoted;
use super::{bytes, table_id, table_not_found, thousands};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, cell};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a table: columns with types and descriptions, primary key, size",
    "Examples:\n  kbagent storage table-detail --project prod --table-id in.c-main.orders\n  kbagent --json storage table-detail --project prod --table-id in.c-main.orders --branch 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Table id (STAGE.BUCKET.TABLE, such as in.c-main.orders)
    #[arg(long, value_name = "ID", value_parser = table_id)]
    pub table_id: String,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub(crate) struct Column {
    pub name: String,
    /// Keboola's base type (`STRING`, `INTEGER`, `NUMERIC`, `DATE`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// The backend's own type (`VARCHAR`, `NUMBER`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_type: Option<String>,
    /// As stored: `40`, `38,0`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub is_primary_key: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub table_id: String,
    pub name: String,
    pub display_name: String,
    pub bucket_id: String,
    pub backend: String,
    /// The bucket's warehouse location as Keboola gives it (Snowflake: database, schema).
    pub backend_path: Vec<String>,
    /// The table's quoted path for direct SQL; `null` when it cannot be built.
    pub sql_path: Option<String>,
    /// The user's `KBC.description`.
    pub description: String,
    pub columns: Vec<String>,
    pub column_details: Vec<Column>,
    pub primary_key: Vec<String>,
    pub rows_count: u64,
    pub data_size_bytes: u64,
    pub is_alias: bool,
    pub is_typed: bool,
    pub last_import_date: Option<String>,
    pub last_change_date: Option<String>,
    pub created: Option<String>,
    /// Keboola's metadata entries, passed through.
    pub metadata: Value,
    /// Keboola's table definition (typed tables), passed through.
    pub definition: Option<Value>,
    /// Columns described only by the legacy `KBC.column.<name>.description` table metadata.
    pub legacy_column_descriptions: Vec<String>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let mut out = format!("Table {} ({})\n", self.table_id, self.display_name);
        if !self.description.is_empty() {
            out.push_str(&format!("  {}\n", self.description));
        }
        let mut facts = vec![
            ("Bucket", format!("{} ({})", self.bucket_id, cell(Some(&self.backend).filter(|b| !b.is_empty())))),
            ("Rows", thousands(self.rows_count)),
            ("Size", bytes(self.data_size_bytes)),
            ("Primary key", cell(Some(self.primary_key.join(", ")).filter(|k| !k.is_empty()))),
            ("Last import", cell(self.last_import_date.as_deref())),
        ];
        if let Some(path) = &self.sql_path {
            facts.push(("SQL path", path.clone()));
        }
        for (label, value) in facts {
            out.push_str(&format!("  {:<13}{value}\n", format!("{label}:")));
        }
        let mut table = Table::new(["COLUMN", "TYPE", "NULLABLE", "PK", "DESCRIPTION"]);
        for c in &self.column_details {
            table.row([
                c.name.clone(),
                type_label(c),
                c.nullable.map(|n| if n { "yes" } else { "no" }).unwrap_or("").to_owned(),
                if c.is_primary_key { "PK" } else { "" }.to_owned(),
                c.description.clone().unwrap_or_default(),
            ]);
        }
        out.push('\n');
        out.push_str(&table.render(p.stdout_is_terminal()));
        out
    }
}

/// `NUMBER(38,0)`, else the base type.
fn type_label(c: &Column) -> String {
    match (&c.native_type, &c.length) {
        (Some(t), Some(l)) if !l.is_empty() => format!("{t}({l})"),
        (Some(t), _) => t.clone(),
        (None, _) => c.r#type.clone().unwrap_or_default(),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn user_description(entries: &[Metadata]) -> Option<String> {
    entries
        .iter()
        .filter(|m| m.key == "KBC.description" && !m.value.is_empty())
        // The user's own text wins over a component's.
        .max_by_key(|m| m.provider == "user")
        .map(|m| m.value.clone())
}

/// One column: types from `columnMetadata` (else the typed definition); the description
/// from the definition, then `columnMetadata`, then the legacy table metadata key.
fn column(t: &StorageTable, name: &str, definition: Option<&Value>, legacy: &BTreeMap<String, String>) -> Column {
    let entries = t.column_metadata.get(name).map(Vec::as_slice).unwrap_or_default();
    let meta = |key: &str| entries.iter().find(|m| m.key == key).map(|m| m.value.clone());
    let native = definition.and_then(|d| d.get("definition"));
    Column {
        name: name.to_owned(),
        r#type: meta("KBC.datatype.basetype").or_else(|| text(definition.and_then(|d| d.get("basetype")))),
        native_type: meta("KBC.datatype.type").or_else(|| text(native.and_then(|n| n.get("type")))),
        length: meta("KBC.datatype.length").or_else(|| text(native.and_then(|n| n.get("length")))),
        nullable: meta("KBC.datatype.nullable")
            .map(|v| v == "1")
            .or_else(|| native.and_then(|n| n.get("nullable")).and_then(Value::as_bool)),
        default: meta("KBC.datatype.default").or_else(|| text(native.and_then(|n| n.get("default")))),
        description: text(native.and_then(|n| n.get("description")))
            .or_else(|| user_description(entries))
            .or_else(|| legacy.get(name).cloned()),
        is_primary_key: t.primary_key.iter().any(|k| k == name),
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    project.declare_target(ctx, args.branch.branch.as_deref());
    let t = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref())
        .get_table(&args.table_id)
        .map_err(|e| table_not_found(project.api_error(&e), &project.alias, &args.table_id))?;
    let bucket = t.raw.get("bucket");
    let backend = text(bucket.and_then(|b| b.get("backend"))).unwrap_or_default();
    let backend_path: Vec<String> = bucket
        .and_then(|b| b.get("backendPath"))
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect())
        .unwrap_or_default();
    let sql_path = match (backend.to_lowercase().as_str(), backend_path.as_slice()) {
        ("snowflake", [db, schema, ..]) => quoted('"', &[db, schema, &t.name]),
        ("bigquery", [dataset, ..]) => match text(bucket.and_then(|b| b.get("databaseName"))) {
            Some(gcp) => quoted('`', &[&gcp, dataset, &t.name]),
            None => quoted('`', &[dataset, &t.name]),
        },
        _ => None,
    };
    let legacy: BTreeMap<String, String> = t
        .metadata
        .iter()
        .filter_map(|m| {
            let col = m.key.strip_prefix("KBC.column.")?.strip_suffix(".description")?;
            Some((col.to_owned(), m.value.clone()))
        })
        .collect();
    let definitions: Vec<&Value> = t
        .definition
        .as_ref()
        .and_then(|d| d.get("columns"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let column_details: Vec<Column> = t
        .columns
        .iter()
        .map(|name| {
            let def = definitions.iter().copied().find(|d| d.get("name").and_then(Value::as_str) == Some(name));
            column(&t, name, def, &legacy)
        })
        .collect();
    let legacy_column_descriptions = legacy.keys().cloned().collect();
    Ok(Output {
        project_alias: project.alias.clone(),
        branch_id: args.branch.branch.clone(),
        table_id: t.id.clone(),
        display_name: if t.display_name.is_empty() { t.name.clone() } else { t.display_name.clone() },
        bucket_id: t.bucket.as_ref().map(|b| b.id.clone()).unwrap_or_default(),
        backend,
        backend_path,
        sql_path,
        description: t
            .metadata
            .iter()
            .filter(|m| m.key == "KBC.description" && m.provider == "user")
            .map(|m| m.value.clone())
            .next_back()
            .unwrap_or_default(),
        columns: t.columns.clone(),
        column_details,
        primary_key: t.primary_key.clone(),
        rows_count: t.rows_count.unwrap_or(0),
        data_size_bytes: t.data_size_bytes.unwrap_or(0),
        is_alias: t.is_alias,
        is_typed: t.is_typed,
        last_import_date: t.last_import_date.clone(),
        last_change_date: t.last_change_date.clone(),
        created: t.created.clone(),
        metadata: t.raw.get("metadata").cloned().unwrap_or(Value::Array(vec![])),
        definition: t.definition.clone(),
        legacy_column_descriptions,
        name: t.name,
    })
}
