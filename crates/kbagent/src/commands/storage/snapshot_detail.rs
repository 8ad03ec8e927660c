//! `storage snapshot-detail`: one snapshot (its table as it was, creation time,
//! description).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{Project, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show one table snapshot: its table, creation time and description",
    "Examples:
  kbagent storage snapshot-detail --project prod --snapshot-id 1234",
)
.network();

/// A snapshot id: digits only.
pub(crate) fn snapshot_id(value: &str) -> Result<String, CliError> {
    super::numeric_id("snapshot id", value)
}

/// A 404 on a snapshot says which one, and how to list a table's snapshots.
pub(crate) fn snapshot_not_found(err: CliError, project: &Project, id: &str) -> CliError {
    super::not_found(
        err,
        &format!("Snapshot {id}"),
        &format!(
            "kbagent storage snapshots --project {} --table-id TABLE_ID",
            project.alias
        ),
    )
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the snapshot
    #[arg(long, value_name = "ID", value_parser = snapshot_id)]
    pub snapshot_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// Keboola's snapshot object, passed through.
    pub snapshot: Value,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        serde_json::to_string_pretty(&self.snapshot).unwrap_or_default() + "\n"
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let snapshot = ctx
        .storage(&project)?
        .get_snapshot(&args.snapshot_id)
        .map_err(|e| snapshot_not_found(project.api_error(&e), &project, &args.snapshot_id))?;
    Ok(Output {
        project_alias: project.alias,
        snapshot: snapshot.raw,
    })
}
