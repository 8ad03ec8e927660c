//! `storage snapshot-delete`: delete table snapshots; their tables are untouched (asks
//! first; `--yes` off a terminal, `--dry-run` to see what would go).

use super::snapshot_detail::{snapshot_id, snapshot_not_found};
use super::writes::{ConfirmArgs, Deletion, remove_each, settle};
use crate::commands::shared::ProjectArg;
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete one or more table snapshots (the tables are untouched)",
    "Examples:
  kbagent storage snapshot-delete --project prod --snapshot-id 1234 --dry-run
  kbagent storage snapshot-delete --project prod --snapshot-id 1234 --snapshot-id 1235 --yes",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// A snapshot to delete (repeatable)
    #[arg(long, value_name = "ID", required = true, value_parser = snapshot_id)]
    pub snapshot_id: Vec<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

pub(crate) type Output = Deletion;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let client = ctx.storage(&project)?;
    let r = remove_each(
        ctx,
        &project,
        &args.confirm,
        "delete snapshot(s)",
        &args.snapshot_id,
        |id| client.get_snapshot(id).map(drop),
        |id| {
            let job = client
                .delete_snapshot(id)
                .map_err(|e| snapshot_not_found(project.api_error(&e), &project, id))?;
            settle(&project, &client, job)
        },
    )?;
    Ok(Deletion::new(
        "snapshot",
        project.alias,
        args.confirm.dry_run,
        r,
    ))
}
