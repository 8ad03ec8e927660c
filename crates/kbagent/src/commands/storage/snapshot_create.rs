//! `storage snapshot-create`: a snapshot of a table (data, columns, primary key) to
//! restore later with `storage table-from-snapshot`.

use keboola_api::JobWait;
use schemars::JsonSchema;
use serde::Serialize;

use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a snapshot of a table (data, columns and primary key)",
    "Examples:
  kbagent storage snapshot-create --project prod --table-id in.c-main.orders
  kbagent storage snapshot-create --project prod --table-id in.c-main.orders --description \"before cleanup\"",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The table to snapshot
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// What the snapshot is for
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub table_id: String,
    pub branch_id: Option<String>,
    /// Keboola's id of the new snapshot.
    pub snapshot_id: Option<u64>,
    pub description: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let id = self.snapshot_id.map(|i| i.to_string()).unwrap_or_default();
        format!("Created snapshot {id} of {}\n", self.table_id)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let job = client
        .create_snapshot(&args.table_id, args.description.as_deref())
        .and_then(|job| client.finish_job(job, &JobWait::default()))
        .map_err(|e| {
            super::table_not_found(project.api_error(&e), &project.alias, &args.table_id)
        })?;
    let snapshot_id = job
        .result_id("/id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| CliError::unexpected("The snapshot job gave no snapshot id"))?;
    Ok(Output {
        project_alias: project.alias,
        table_id: args.table_id.clone(),
        branch_id: branch.clone(),
        snapshot_id: Some(snapshot_id),
        description: args.description.clone(),
    })
}
