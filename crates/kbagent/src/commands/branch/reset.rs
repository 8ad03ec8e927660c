//! `branch reset`: unpin the project's active branch, so its commands work in production
//! again. Local only.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{BranchId, Printer, Target};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Unpin the active branch: the project's commands work in production again",
    "Examples:\n  kbagent branch reset --project prod",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// The branch that was active, or null.
    pub previous_branch_id: Option<BranchId>,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.message)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    super::pin(ctx, &project, None)?;
    ctx.printer.target(Target::new(&project.alias, None, None));
    Ok(Output {
        message: format!(
            "Active branch reset to main for project '{}'.",
            project.alias
        ),
        previous_branch_id: project.active_branch().map(|a| a.branch_id),
        project_alias: project.alias,
    })
}
