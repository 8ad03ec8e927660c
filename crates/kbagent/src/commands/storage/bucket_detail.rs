//! `storage bucket-detail`: one bucket, its tables and where they live in the warehouse
//! (`sql_path`, quoted for the bucket's backend), with linked-bucket sources.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{bucket_id, bytes, not_found, thousands};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a bucket: its tables, sharing and SQL paths for direct access",
    "Examples:\n  kbagent storage bucket-detail --project prod --bucket-id in.c-main\n  kbagent --json storage bucket-detail --project prod --bucket-id out.c-reports --branch 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Bucket id (STAGE.NAME, such as in.c-main)
    #[arg(long, value_name = "ID", value_parser = bucket_id)]
    pub bucket_id: String,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct BucketTable {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub is_alias: bool,
    pub rows_count: u64,
    pub data_size_bytes: u64,
    /// Quoted for Snowflake; absent on other backends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snowflake_path: Option<String>,
    /// Quoted for BigQuery; absent on other backends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bigquery_path: Option<String>,
    /// The table's quoted path in the bucket's backend (empty when it cannot be built).
    pub sql_path: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub project_id: Option<u64>,
    pub branch_id: Option<String>,
    pub bucket_id: String,
    pub display_name: String,
    pub stage: String,
    /// The user's `KBC.description` metadata, else the bucket's own description.
    pub description: String,
    pub backend: String,
    pub rows_count: u64,
    pub data_size_bytes: u64,
    pub is_linked: bool,
    /// Keboola's metadata entries, passed through.
    pub metadata: Value,
    pub source_project_id: Option<Value>,
    pub source_project_name: String,
    pub source_bucket_id: String,
    /// `snowflake`, `bigquery`, ...: how to quote `sql_path`.
    pub sql_dialect: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snowflake_database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snowflake_schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bigquery_project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bigquery_dataset: Option<String>,
    pub tables: Vec<BucketTable>,
    pub table_count: usize,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let mut out = format!("Bucket {} ({})\n", self.bucket_id, self.display_name);
        if !self.description.is_empty() {
            out.push_str(&format!("  {}\n", self.description));
        }
        out.push_str(&format!(
            "  backend {}, {} rows, {}\n",
            self.backend,
            thousands(self.rows_count),
            bytes(self.data_size_bytes)
        ));
        if self.is_linked {
            out.push_str(&format!(
                "  linked from {} of project {}\n",
                self.source_bucket_id, self.source_project_name
            ));
        }
        if self.tables.is_empty() {
            out.push_str("\nNo tables.\n");
            return out;
        }
        let mut table = Table::new(["TABLE ID", "ROWS", "SIZE", "SQL PATH"]);
        for t in &self.tables {
            table.row([
                t.id.clone(),
                thousands(t.rows_count),
                bytes(t.data_size_bytes),
                t.sql_path.clone(),
            ]);
        }
        out.push('\n');
        out.push_str(&table.render(p.stdout_is_terminal()));
        out
    }
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Quotes identifiers for the backend; `None` when one of them holds the quote itself.
pub(crate) fn quoted(quote: char, segments: &[&str]) -> Option<String> {
    if segments.iter().any(|s| s.is_empty() || s.contains(quote)) {
        return None;
    }
    Some(
        segments
            .iter()
            .map(|s| format!("{quote}{s}{quote}"))
            .collect::<Vec<_>>()
            .join("."),
    )
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = args.branch.branch.as_deref();
    project.declare_target(ctx, branch);
    let bucket = ctx
        .storage(&project)?
        .with_branch(branch)
        .get_bucket(&args.bucket_id)
        .map_err(|e| {
            not_found(
                project.api_error(&e),
                &format!("Bucket {}", args.bucket_id),
                &format!("kbagent storage buckets --project {}", project.alias),
            )
        })?;
    let raw = &bucket.raw;
    let source = bucket.source_bucket.as_ref();
    let description = bucket
        .metadata
        .iter()
        .find(|m| m.key == "KBC.description" && m.provider == "user")
        .map(|m| m.value.clone())
        .filter(|d| !d.is_empty())
        .or_else(|| bucket.description.clone())
        .unwrap_or_default();
    let backend = bucket.backend.clone().unwrap_or_default();
    let dialect = if backend.is_empty() {
        "snowflake".to_owned()
    } else {
        backend.to_lowercase()
    };
    let path: Vec<String> = raw
        .get("backendPath")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let source_project_id = source.and_then(|s| s.pointer("/project/id")).cloned();
    let source_bucket_id = text(source.and_then(|s| s.get("id")));
    let mut out = Output {
        project_alias: project.alias.clone(),
        project_id: project.entry.project_id,
        branch_id: args.branch.branch.clone(),
        bucket_id: bucket.id.clone(),
        display_name: bucket.display_name.clone(),
        stage: bucket.stage.clone(),
        description,
        backend,
        rows_count: bucket.rows_count.unwrap_or(0),
        data_size_bytes: bucket.data_size_bytes.unwrap_or(0),
        is_linked: source.is_some(),
        metadata: raw.get("metadata").cloned().unwrap_or(Value::Array(vec![])),
        source_project_name: text(source.and_then(|s| s.pointer("/project/name"))),
        sql_dialect: dialect.clone(),
        snowflake_database: None,
        snowflake_schema: None,
        bigquery_project: None,
        bigquery_dataset: None,
        tables: Vec::new(),
        table_count: 0,
        source_project_id: source_project_id.clone(),
        source_bucket_id: source_bucket_id.clone(),
    };
    // Where the tables are: Keboola's backendPath when given; otherwise the names
    // Keboola uses for a project's (or a linked bucket's source project's) database.
    let (db, schema, quote) = if dialect == "bigquery" {
        let dataset = path.first().cloned().unwrap_or_else(|| text(raw.get("path")));
        let gcp = text(raw.get("databaseName"));
        out.bigquery_project = Some(gcp.clone());
        out.bigquery_dataset = Some(dataset.clone());
        (gcp, dataset, '`')
    } else {
        let (db, schema) = match (path.first(), path.get(1)) {
            (Some(db), Some(schema)) => (db.clone(), schema.clone()),
            _ if source.is_some() => {
                let id = source_project_id.map(|v| v.to_string().trim_matches('"').to_owned());
                (format!("sapi_{}", id.unwrap_or_default()), source_bucket_id)
            }
            _ => (
                format!(
                    "sapi_{}",
                    project.entry.project_id.map(|i| i.to_string()).unwrap_or_default()
                ),
                bucket.id.clone(),
            ),
        };
        out.snowflake_database = Some(db.clone());
        out.snowflake_schema = Some(schema.clone());
        (db, schema, '"')
    };
    for t in raw.get("tables").and_then(Value::as_array).into_iter().flatten() {
        let name = text(t.get("name"));
        let display = text(t.get("displayName"));
        let segments: Vec<&str> = [db.as_str(), schema.as_str(), name.as_str()]
            .into_iter()
            .filter(|s| quote != '`' || !s.is_empty())
            .collect();
        let sql_path = quoted(quote, &segments).unwrap_or_default();
        let uint = |k: &str| t.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.tables.push(BucketTable {
            id: text(t.get("id")),
            display_name: if display.is_empty() { name.clone() } else { display },
            is_alias: t.get("isAlias").and_then(Value::as_bool).unwrap_or(false),
            rows_count: uint("rowsCount"),
            data_size_bytes: uint("dataSizeBytes"),
            snowflake_path: (quote == '"').then(|| sql_path.clone()),
            bigquery_path: (quote == '`').then(|| sql_path.clone()),
            sql_path,
            name,
        });
    }
    out.table_count = out.tables.len();
    Ok(out)
}
