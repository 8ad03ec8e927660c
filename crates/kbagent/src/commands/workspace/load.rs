//! `workspace load`: Storage tables into a workspace (a storage job, waited for).

use keboola_api::LoadInput;
use schemars::JsonSchema;
use serde::Serialize;

use super::{LoadedTable, client_for, load_tables, workspace_id};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::storage::table_id;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Load Storage tables into a workspace (whole, or filtered by columns and values)",
    "Examples:
  kbagent workspace load --project prod --workspace-id 10000001 --tables in.c-crm.orders --tables in.c-crm.customers
  kbagent workspace load --workspace-id 10000001 --tables in.c-crm.orders --where-column status --where-values completed --preserve",
)
.network()
.waits_for_job();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "ID", value_parser = workspace_id)]
    pub workspace_id: String,
    /// A table to load, loaded under its name (repeatable)
    #[arg(long = "tables", value_name = "TABLE_ID", required = true, value_parser = table_id)]
    pub tables: Vec<String>,
    /// Keep the tables already in the workspace (default: the load replaces them all)
    #[arg(long)]
    pub preserve: bool,
    /// COPY (default), CLONE or VIEW
    #[arg(long, value_name = "TYPE", value_parser = ["COPY", "CLONE", "VIEW"])]
    pub load_type: Option<String>,
    /// Only these columns (comma-separated), for every table
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Only rows whose column COLUMN holds one of --where-values
    #[arg(long, value_name = "COLUMN")]
    pub where_column: Option<String>,
    /// Values for --where-column (comma-separated)
    #[arg(long, value_name = "VALUES", value_delimiter = ',', requires = "where_column")]
    pub where_values: Vec<String>,
    /// eq (default) or ne
    #[arg(long, value_name = "OP", value_parser = ["eq", "ne"], requires = "where_column")]
    pub where_operator: Option<String>,
    /// Stop waiting for the load after S seconds
    #[arg(long, value_name = "S", default_value_t = 600)]
    pub timeout: u64,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub workspace_id: String,
    pub job_id: String,
    pub preserve: bool,
    pub tables: Vec<LoadedTable>,
    pub tables_loaded: usize,
    pub table_ids: Vec<String>,
    /// `success` (a load that fails is an error).
    pub job_status: &'static str,
    /// `copy` (the default), `clone` or `view`.
    pub load_type_requested: String,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = format!(
            "Loaded {} table(s) into workspace {} in project '{}':\n",
            self.tables.len(),
            self.workspace_id,
            self.project_alias
        );
        for t in &self.tables {
            let rows = t.rows.map(|r| format!(" ({r} rows)")).unwrap_or_default();
            out.push_str(&format!("  {} -> {}{rows}\n", t.source, t.destination));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let inputs: Vec<LoadInput> = args
        .tables
        .iter()
        .map(|t| LoadInput {
            source: t.clone(),
            load_type: args.load_type.clone(),
            columns: args.columns.clone(),
            where_column: args.where_column.clone(),
            where_values: args.where_values.clone(),
            where_operator: args.where_operator.clone(),
            ..LoadInput::default()
        })
        .collect();
    let (job_id, tables) = load_tables(
        &project,
        &client,
        &args.workspace_id,
        &inputs,
        args.preserve,
        args.timeout,
    )?;
    let message = format!(
        "Loaded {} table(s) into workspace {}.",
        tables.len(),
        args.workspace_id
    );
    Ok(Output {
        project_alias: project.alias,
        workspace_id: args.workspace_id.clone(),
        job_id,
        preserve: args.preserve,
        tables_loaded: tables.len(),
        table_ids: tables.iter().map(|t| t.source.clone()).collect(),
        tables,
        job_status: "success",
        load_type_requested: args.load_type.as_deref().unwrap_or("COPY").to_ascii_lowercase(),
        message,
    })
}
