//! `workspace detail`: one workspace, without its password.

use schemars::JsonSchema;
use serde::Serialize;

use super::{WorkspaceView, client_for, workspace_id};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a workspace's connection details (never its password)",
    "Examples:
  kbagent workspace detail --project prod --workspace-id 10000001",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "ID", value_parser = workspace_id)]
    pub workspace_id: String,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    #[serde(flatten)]
    pub workspace: WorkspaceView,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!(
            "Workspace {} in project '{}' ({} / {})\n{}",
            self.workspace.workspace_id,
            self.project_alias,
            self.workspace.component_id,
            self.workspace.config_id.as_deref().unwrap_or("-"),
            self.workspace.human()
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let w = client
        .get_workspace(&args.workspace_id)
        .map_err(|e| project.api_error(&e))?;
    Ok(Output {
        project_alias: project.alias,
        branch_id: client.branch().map(str::to_owned),
        workspace: WorkspaceView::of(&w),
    })
}
