//! `workspace delete`: the workspace and the `keboola.sandboxes` configuration it was made
//! under.

use schemars::JsonSchema;
use serde::Serialize;

use super::{ConfirmArgs, client_for, remove, workspace_id};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete a workspace (and its workspace configuration)",
    "Examples:
  kbagent workspace delete --project prod --workspace-id 10000001 --yes
  kbagent workspace delete --project prod --workspace-id 10000001 --dry-run",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "ID", value_parser = workspace_id)]
    pub workspace_id: String,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub workspace_id: String,
    pub config_id: Option<String>,
    pub dry_run: bool,
    pub deleted: bool,
    /// The workspace's `keboola.sandboxes` configuration went too.
    pub config_deleted: bool,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if self.deleted {
            format!(
                "Deleted workspace {} in project '{}'{}\n",
                self.workspace_id,
                self.project_alias,
                if self.config_deleted { " and its configuration" } else { "" }
            )
        } else {
            format!(
                "Would delete workspace {} in project '{}'.\n",
                self.workspace_id, self.project_alias
            )
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let w = client
        .get_workspace(&args.workspace_id)
        .map_err(|e| project.api_error(&e))?;
    let mut out = Output {
        project_alias: project.alias.clone(),
        workspace_id: w.id.clone(),
        config_id: w.configuration_id.clone(),
        dry_run: true,
        deleted: false,
        config_deleted: false,
        message: format!(
            "Would delete workspace {} from project '{}'.",
            w.id, project.alias
        ),
    };
    if args.confirm.dry_run
        || !ctx.confirm(
            args.confirm.yes,
            &format!("Delete workspace {} in project '{}'?", w.id, project.alias),
        )?
    {
        return Ok(out);
    }
    out.config_deleted = remove(&project, &client, &w)?;
    out.dry_run = false;
    out.deleted = true;
    out.message = format!("Workspace {} deleted from project '{}'.", w.id, project.alias);
    Ok(out)
}
