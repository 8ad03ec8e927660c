//! `workspace password`: a new password for a workspace, shown once (the old one stops
//! working).

use schemars::JsonSchema;
use serde::Serialize;

use super::{client_for, workspace_id};
use crate::commands::shared::{BranchArg, ProjectArg};
use super::ConfirmArgs;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Reset a workspace's password and show the new one (the old one stops working)",
    "Examples:
  kbagent workspace password --project prod --workspace-id 10000001 --yes",
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
    pub dry_run: bool,
    /// The new password, shown only here.
    pub password: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        match &self.password {
            Some(p) => format!(
                "New password of workspace {} in project '{}':\n  password:  {p}\n",
                self.workspace_id, self.project_alias
            ),
            None => format!(
                "Would reset the password of workspace {} in project '{}'.\n",
                self.workspace_id, self.project_alias
            ),
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    // The workspace must exist before anyone is asked about it.
    client
        .get_workspace(&args.workspace_id)
        .map_err(|e| project.api_error(&e))?;
    let mut out = Output {
        project_alias: project.alias.clone(),
        workspace_id: args.workspace_id.clone(),
        dry_run: args.confirm.dry_run,
        password: None,
    };
    if args.confirm.dry_run
        || !ctx.confirm(
            args.confirm.yes,
            &format!(
                "Reset the password of workspace {} in project '{}'?",
                args.workspace_id, project.alias
            ),
        )?
    {
        out.dry_run = true;
        return Ok(out);
    }
    let password = client
        .reset_workspace_password(&args.workspace_id)
        .map_err(|e| project.api_error(&e))?;
    // The documented reveal.
    out.password = Some(password.expose().to_owned());
    Ok(out)
}
