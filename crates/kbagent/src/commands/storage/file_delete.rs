//! `storage file-delete`: delete Storage files (asks first; `--yes` off a terminal,
//! `--dry-run` to see what would go).

use schemars::JsonSchema;
use serde::Serialize;

use super::writes::{ConfirmArgs, ItemFailure, num, outcome_lines, remove_each};
use super::file_id;
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete one or more Storage files",
    "Examples:
  kbagent storage file-delete --project prod --file-id 123456 --dry-run
  kbagent storage file-delete --project prod --file-id 123456 --file-id 123457 --yes",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// A file to delete (repeatable)
    #[arg(long, value_name = "FILE_ID", required = true, value_parser = file_id)]
    pub file_id: Vec<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub deleted: Vec<u64>,
    pub failed: Vec<ItemFailure>,
    pub dry_run: bool,
    /// With `--dry-run`: the files that would be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_delete: Option<Vec<u64>>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let ids = |v: &[u64]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        let done = ids(self.would_delete.as_deref().unwrap_or(&self.deleted));
        outcome_lines("Deleted file", "delete file", self.dry_run, &done, &self.failed)
    }

    fn partial_failure(&self) -> bool {
        !self.failed.is_empty()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let client = ctx.storage(&project)?;
    let r = remove_each(
        ctx,
        &project,
        &args.confirm,
        "delete file(s)",
        &args.file_id,
        |id| client.get_file(id).map(drop),
        |id| client.delete_file(id).map_err(|e| project.api_error(&e)),
    )?;
    let nums = |v: Vec<String>| v.iter().filter_map(|i| num(i)).collect();
    Ok(Output {
        project_alias: project.alias,
        deleted: nums(r.done),
        failed: r.failed,
        dry_run: args.confirm.dry_run,
        would_delete: args.confirm.dry_run.then(|| nums(r.would)),
    })
}
