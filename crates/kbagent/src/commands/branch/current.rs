//! `branch current`: the branch the project's branch-aware commands work in. Local only.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{BranchId, BranchSource, Printer};
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show the active branch of a project (the branch its commands work in)",
    "Examples:\n  kbagent branch current --project prod",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// The active branch, or null when the project works in production.
    pub branch_id: Option<BranchId>,
    pub branch_name: Option<String>,
    /// `active` (pinned with `branch use` or `branch create`) or `production`.
    pub branch_source: BranchSource,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        match &self.branch_id {
            Some(id) => format!(
                "Project '{}' works in branch {id}{}.\n",
                self.project_alias,
                self.branch_name
                    .as_deref()
                    .map(|n| format!(" ('{n}')"))
                    .unwrap_or_default()
            ),
            None => format!(
                "Project '{}' works in production (no active branch).\n",
                self.project_alias
            ),
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let active = project.active_branch();
    project.use_branch(ctx, None, BranchScope::Active);
    Ok(Output {
        project_alias: project.alias,
        branch_source: if active.is_some() {
            BranchSource::Active
        } else {
            BranchSource::Production
        },
        branch_name: active.as_ref().and_then(|a| a.branch_name.clone()),
        branch_id: active.map(|a| a.branch_id),
    })
}
