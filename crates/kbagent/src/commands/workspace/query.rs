//! `workspace query`: SQL in a workspace through the Query Service. Rows of the last
//! statement: a table (or CSV with `--format csv`) for people, JSON rows under `--json`;
//! `--full --output FILE` streams every row to a CSV file page by page.

use schemars::JsonSchema;
use serde::Serialize;

use super::sql::{self, QueryResult, RowFormat, Sink, SqlArgs};
use super::{client_for, numeric_branch, workspace_id};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Run SQL in a workspace and show the rows of the last statement",
    "Examples:
  kbagent workspace query --project prod --workspace-id 10000001 --sql 'SELECT * FROM orders LIMIT 10'
  kbagent workspace query --workspace-id 10000001 --file check.sql --format csv
  kbagent workspace query --workspace-id 10000001 --sql 'SELECT * FROM orders' --full --output orders.csv

A failed statement exits 1 with QUERY_JOB_FAILED and the database's message.",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "ID", value_parser = workspace_id)]
    pub workspace_id: String,
    #[command(flatten)]
    pub sql: SqlArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub workspace_id: String,
    /// The numeric id of the branch the query ran in (the default branch has one too).
    pub branch_id: Option<u64>,
    /// `completed` (a query that fails is an error).
    pub status: &'static str,
    pub message: String,
    #[serde(flatten)]
    pub result: QueryResult,
    #[serde(skip)]
    pub format: RowFormat,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        self.result.human(p, self.format)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let statements = args.sql.statements()?;
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let branch_id = numeric_branch(&project, &client)?;
    let sink = match &args.sql.output {
        Some(path) if args.sql.full => Sink::File(path),
        _ => Sink::Rows(args.sql.limit),
    };
    let result = sql::run(
        ctx,
        &project,
        &branch_id,
        &args.workspace_id,
        &statements,
        args.sql.transactional,
        sink,
    )?;
    Ok(Output {
        project_alias: project.alias,
        workspace_id: args.workspace_id.clone(),
        branch_id: branch_id.parse().ok(),
        status: "completed",
        message: format!("Query executed in workspace {}.", args.workspace_id),
        result,
        format: args.sql.format,
    })
}
