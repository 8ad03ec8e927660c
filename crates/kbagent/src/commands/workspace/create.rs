//! `workspace create`: a `keboola.sandboxes` configuration and a workspace under it. The
//! password is shown this once (the documented reveal); `workspace password` makes a new one.

use keboola_api::CreateWorkspace;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::{WorkspaceView, client_for};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a SQL workspace (shows its password once)",
    "Examples:
  kbagent workspace create --project prod --name scratch
  kbagent --json workspace create --project prod --backend snowflake --read-only",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Name of the workspace's configuration
    #[arg(long, value_name = "NAME", default_value = "kbagent workspace")]
    pub name: String,
    /// snowflake or bigquery (default: the project's)
    #[arg(long, value_name = "BACKEND", value_parser = ["snowflake", "bigquery"])]
    pub backend: Option<String>,
    /// Let the workspace read every Storage table directly
    #[arg(long, overrides_with = "no_read_only")]
    pub read_only: bool,
    /// Do not give it read access to Storage (the default)
    #[arg(long)]
    pub no_read_only: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    #[serde(flatten)]
    pub workspace: WorkspaceView,
    /// The workspace's password, shown only here and by `workspace password`.
    pub password: Option<String>,
    /// Always false: the workspace is made through the Storage API, not a UI job.
    pub ui_mode: bool,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = format!(
            "Created workspace {} (configuration {}) in project '{}'\n{}",
            self.workspace.workspace_id,
            self.workspace.config_id.as_deref().unwrap_or("-"),
            self.project_alias,
            self.workspace.human()
        );
        if let Some(p) = &self.password {
            out.push_str(&format!(
                "  password:  {p}\nThe password is shown only now; `kbagent workspace password` makes a new one.\n"
            ));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let created = super::create_sandbox(
        &project,
        &client,
        &args.name,
        &CreateWorkspace {
            backend: args.backend.clone(),
            login_type: None,
            read_only_storage_access: Some(args.read_only),
        },
    )?;
    let workspace = WorkspaceView::of(&created.workspace);
    let message = format!(
        "Workspace '{}' ({}) created in project '{}'.",
        workspace.name, workspace.workspace_id, project.alias
    );
    Ok(Output {
        project_alias: project.alias,
        branch_id: client.branch().map(str::to_owned),
        workspace,
        ui_mode: false,
        message,
        // The documented reveal: the one time the password leaves its type.
        password: created.password.as_ref().map(|p| p.expose().to_owned()),
    })
}

/// The configuration body Keboola's UI gives a SQL workspace's configuration.
pub(crate) fn sandbox_configuration(backend: Option<&str>) -> serde_json::Value {
    json!({"parameters": {"type": backend.unwrap_or("snowflake"), "shared": false}, "runtime": {"shared": false}})
}
