//! `storage delete-table`: delete tables (asks first; `--yes` off a terminal, `--dry-run`
//! to see what would go).

use schemars::JsonSchema;
use serde::Serialize;

use super::writes::{ConfirmArgs, ItemFailure, outcome_lines, remove_each, settle};
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete one or more storage tables",
    "Examples:
  kbagent storage delete-table --project prod --table-id in.c-main.old --dry-run
  kbagent storage delete-table --project prod --table-id in.c-main.old --table-id in.c-main.tmp --yes",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// A table to delete (repeatable)
    #[arg(long, value_name = "TABLE_ID", required = true, value_parser = table_id)]
    pub table_id: Vec<String>,
    /// Also delete tables that have aliases in other buckets
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub deleted: Vec<String>,
    pub failed: Vec<ItemFailure>,
    pub dry_run: bool,
    pub project_alias: String,
    /// With `--dry-run`: the tables that would be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_delete: Option<Vec<String>>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let done = self.would_delete.as_ref().unwrap_or(&self.deleted);
        outcome_lines("Deleted table", "delete table", self.dry_run, done, &self.failed)
    }

    fn partial_failure(&self) -> bool {
        !self.failed.is_empty()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let client = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref());
    let r = remove_each(
        ctx,
        &project,
        &args.confirm,
        "delete table(s)",
        &args.table_id,
        |id| client.get_table(id).map(drop),
        |id| {
            let job = client
                .delete_table(id, args.force)
                .map_err(|e| project.api_error(&e))?;
            settle(&project, &client, job)
        },
    )?;
    Ok(Output {
        deleted: r.done,
        failed: r.failed,
        dry_run: args.confirm.dry_run,
        project_alias: project.alias,
        would_delete: args.confirm.dry_run.then_some(r.would),
    })
}
