//! `branch use`: make an existing branch the project's active branch (checked with the
//! API first; config.json is left as it was when the check fails).

use schemars::JsonSchema;
use serde::Serialize;

use super::dev_branch_id;
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Make an existing development branch the project's active branch",
    "Examples:\n  kbagent branch use --project prod --branch 1234",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the branch (see `kbagent branch list`)
    #[arg(long, value_name = "ID", value_parser = dev_branch_id)]
    pub branch: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: u64,
    pub branch_name: String,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.message)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branches = ctx
        .storage(&project)?
        .list_dev_branches()
        .map_err(|e| project.api_error(&e))?;
    let Some(branch) = branches.into_iter().find(|b| b.id == args.branch) else {
        return Err(CliError::new(
            ErrorCode::NotFound,
            format!(
                "Branch ID {} not found in project '{}'",
                args.branch, project.alias
            ),
        )
        .hint(format!(
            "See the branches there are with `kbagent branch list --project {}`.",
            project.alias
        )));
    };
    super::pin(ctx, &project, Some((branch.id, &branch.name)))?;
    super::announce(ctx, &project.alias, branch.id, &branch.name);
    Ok(Output {
        message: format!(
            "Active branch set to '{}' (ID: {}) for project '{}'.",
            branch.name, branch.id, project.alias
        ),
        project_alias: project.alias,
        branch_id: branch.id,
        branch_name: branch.name,
    })
}
