//! `storage delete-table`: delete tables (asks first; `--yes` off a terminal, `--dry-run`
//! to see what would go).

use super::writes::{ConfirmArgs, Deletion, remove_each, settle};
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::select::{BranchScope, load_and_select};

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

pub(crate) type Output = Deletion;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
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
    Ok(Deletion::new("table", project.alias, args.confirm.dry_run, r))
}
