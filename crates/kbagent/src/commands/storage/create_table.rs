//! `storage create-table`: a typed table from column definitions (`tables-definition`).

use keboola_api::{ColumnDefinition, TableDefinition};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::writes::{WaitArgs, legacy_branch_storage, name, num};
use super::bucket_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a typed storage table from column definitions",
    "Examples:
  kbagent storage create-table --project prod --bucket-id in.c-main --name people \\
      --column id:INTEGER --column name:VARCHAR(40) --primary-key id",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The bucket to create the table in
    #[arg(long, value_name = "BUCKET_ID", value_parser = bucket_id)]
    pub bucket_id: String,
    /// Table name
    #[arg(long, value_name = "NAME", value_parser = name)]
    pub name: String,
    /// A column as NAME:TYPE, e.g. `id:INTEGER`, `name:VARCHAR(40)`, `price:NUMBER(12,2)`
    /// (repeatable; the type defaults to VARCHAR)
    #[arg(long = "column", value_name = "NAME:TYPE", required = true, value_parser = column)]
    pub columns: Vec<Column>,
    /// Primary key column (repeatable)
    #[arg(long, value_name = "COLUMN")]
    pub primary_key: Vec<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

/// One `--column NAME:TYPE`.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    name: String,
    kind: String,
    length: Option<String>,
}

fn column(value: &str) -> Result<Column, CliError> {
    let (col, ty) = value.split_once(':').unwrap_or((value, "VARCHAR"));
    let col = name(col.trim())?;
    let ty = ty.trim();
    let (kind, length) = match ty.split_once('(') {
        Some((k, rest)) => match rest.strip_suffix(')') {
            Some(len) if !len.is_empty() => (k.trim(), Some(len.trim().to_owned())),
            _ => {
                return Err(CliError::invalid_argument(format!(
                    "Invalid column type '{ty}': write TYPE or TYPE(LENGTH)"
                )));
            }
        },
        None => (ty, None),
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(CliError::invalid_argument(format!(
            "Invalid column type '{ty}' for column {col}"
        )));
    }
    Ok(Column {
        name: col,
        kind: kind.to_ascii_uppercase(),
        length,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub table_id: Option<String>,
    pub name: String,
    pub bucket_id: String,
    pub primary_key: Vec<String>,
    pub columns: Vec<String>,
    /// Always false: the bucket must exist.
    pub auto_created_bucket: bool,
    /// With `--branch` on a project without `storage-branches`: jobs will not read the
    /// table.
    pub legacy_branch_storage: bool,
    /// `created`, or `started` with `--no-wait`.
    pub action: String,
    /// Cloning from a table, partitioning and clustering are not options of this command:
    /// always `null` (the keys keep the shape scripts expect).
    pub source_table_id: Option<String>,
    pub source_branch_id: Option<String>,
    pub time_partitioning: Option<Value>,
    pub range_partitioning: Option<Value>,
    pub clustering: Option<Value>,
    pub job_id: Option<u64>,
    pub job_status: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        match &self.table_id {
            Some(id) => format!("Created table {id} ({} columns)\n", self.columns.len()),
            None => format!(
                "Table creation job {} is {}\n",
                self.job_id.unwrap_or_default(),
                self.job_status
            ),
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    for pk in &args.primary_key {
        if !args.columns.iter().any(|c| &c.name == pk) {
            return Err(CliError::invalid_argument(format!(
                "Primary key column '{pk}' is not among the --column definitions"
            )));
        }
    }
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let def = TableDefinition {
        name: args.name.clone(),
        primary_keys_names: args.primary_key.clone(),
        columns: args
            .columns
            .iter()
            .map(|c| {
                let mut d = json!({"type": c.kind});
                if let Some(len) = &c.length {
                    d["length"] = json!(len);
                }
                if args.primary_key.contains(&c.name) {
                    d["nullable"] = json!(false);
                }
                ColumnDefinition {
                    name: c.name.clone(),
                    definition: Some(d),
                    basetype: None,
                }
            })
            .collect(),
        ..TableDefinition::default()
    };
    let job = client
        .create_table_definition(&args.bucket_id, &def)
        .map_err(|e| project.api_error(&e))?;
    let job = if args.wait.waits() {
        client
            .finish_job(job, &args.wait.job_wait())
            .map_err(|e| project.api_error(&e))?
    } else {
        job
    };
    let table_id = job
        .result_id("/id")
        .or_else(|| job.status.is_finished().then(|| format!("{}.{}", args.bucket_id, args.name)));
    Ok(Output {
        project_alias: project.alias,
        table_id,
        name: args.name.clone(),
        bucket_id: args.bucket_id.clone(),
        primary_key: args.primary_key.clone(),
        columns: args.columns.iter().map(|c| c.name.clone()).collect(),
        auto_created_bucket: false,
        legacy_branch_storage: legacy_branch_storage(&client, branch.as_deref()),
        action: if job.status.is_finished() { "created" } else { "started" }.to_owned(),
        source_table_id: None,
        source_branch_id: None,
        time_partitioning: None,
        range_partitioning: None,
        clustering: None,
        job_id: num(&job.id),
        job_status: job.status.as_str().to_owned(),
    })
}
