//! `kbagent workspace ...`: SQL workspaces of a project (created under a
//! `keboola.sandboxes` configuration, as Keboola's UI does), loaded with Storage tables and
//! queried through the Query Service. The helpers below are shared with `kbagent query`.

pub(crate) mod sql;

use clap::Args;
use keboola_api::{StorageClient, Workspace};
use schemars::JsonSchema;
use serde::Serialize;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::{BranchScope, Project};

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent workspace create --project prod --name scratch
  kbagent workspace load --project prod --workspace-id 10000001 --tables in.c-crm.orders
  kbagent workspace query --project prod --workspace-id 10000001 --sql 'SELECT COUNT(*) FROM orders'
  kbagent workspace delete --project prod --workspace-id 10000001 --yes";

#[derive(Debug, Args)]
pub(crate) struct WorkspaceArgs {
    #[command(subcommand)]
    pub command: WorkspaceCommand,
}

verbs!(WorkspaceCommand {
    "create" => Create(create),
    "list" => List(list),
    "detail" => Detail(detail),
    "load" => Load(load),
    "query" => Query(query),
    "password" => Password(password),
    "delete" => Delete(delete),
    "from-transformation" => FromTransformation(from_transformation),
});

/// `--workspace-id`: digits.
pub(crate) fn workspace_id(value: &str) -> Result<String, CliError> {
    if !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid workspace id '{}': a workspace id is a number, such as 10000001",
            value.escape_debug()
        )))
    }
}

/// A workspace for `data`: where it is and how to log in (never its password).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct WorkspaceView {
    pub workspace_id: String,
    /// The same id as a number, as the Python kbagent gives it (`null` if not numeric).
    pub id: Option<u64>,
    pub name: String,
    pub component_id: String,
    pub config_id: Option<String>,
    pub backend: String,
    pub host: Option<String>,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub user: Option<String>,
    pub login_type: Option<String>,
    pub read_only: bool,
    pub created: Option<String>,
    /// Whether the Query Service (`workspace query`) accepts this workspace's login type.
    pub qs_compatible: bool,
}

impl WorkspaceView {
    pub fn of(w: &Workspace) -> Self {
        let c = &w.connection;
        Self {
            workspace_id: w.id.clone(),
            id: w.id.parse().ok(),
            name: w.name.clone(),
            component_id: w.component.clone(),
            config_id: w.configuration_id.clone(),
            backend: c.backend.clone(),
            host: c.host.clone(),
            database: c.database.clone(),
            schema: c.schema.clone(),
            warehouse: c.warehouse.clone(),
            user: c.user.clone(),
            login_type: c.login_type.clone(),
            read_only: w.read_only_storage_access,
            created: w.created.clone(),
            qs_compatible: qs_compatible(&c.backend, c.login_type.as_deref()),
        }
    }

    /// The connection lines people read.
    pub fn human(&self) -> String {
        let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        format!(
            "  backend:   {}\n  host:      {}\n  database:  {}\n  schema:    {}\n  warehouse: {}\n  user:      {}\n",
            self.backend,
            o(&self.host),
            o(&self.database),
            o(&self.schema),
            o(&self.warehouse),
            o(&self.user)
        )
    }
}

/// Login types the Query Service accepts: on Snowflake key-pair and SSO logins (legacy
/// password logins are refused), on BigQuery the default one.
fn qs_compatible(backend: &str, login_type: Option<&str>) -> bool {
    let Some(login) = login_type else {
        return false;
    };
    if backend.eq_ignore_ascii_case("bigquery") {
        return login == "default";
    }
    matches!(
        login,
        "snowflake-person-keypair" | "snowflake-service-keypair" | "snowflake-person-sso"
    )
}

/// The Storage client of a workspace command, on the branch it works in (`--branch`, else
/// the project's active branch, else production).
pub(crate) fn client_for(
    ctx: &Ctx<'_>,
    project: &Project,
    branch: Option<&str>,
) -> CliResult<StorageClient> {
    let branch = project.use_branch(ctx, branch, BranchScope::Active);
    Ok(ctx.storage(project)?.with_branch(branch.as_deref()))
}

/// The numeric id of the client's branch, as the Query Service wants it (the default
/// branch has one too).
pub(crate) fn numeric_branch(project: &Project, client: &StorageClient) -> CliResult<String> {
    if let Some(b) = client.branch() {
        return Ok(b.to_owned());
    }
    let branches = client
        .list_dev_branches()
        .map_err(|e| project.api_error(&e))?;
    branches
        .iter()
        .find(|b| b.is_default)
        .map(|b| b.id.to_string())
        .ok_or_else(|| CliError::unexpected("The project lists no default branch."))
}

/// Deletes a workspace and, when it was made under one, its `keboola.sandboxes`
/// configuration.
pub(crate) fn remove(
    project: &Project,
    client: &StorageClient,
    workspace: &Workspace,
) -> CliResult<bool> {
    client
        .delete_workspace(&workspace.id)
        .map_err(|e| project.api_error(&e))?;
    let mut config_deleted = false;
    if workspace.component == keboola_api::SANDBOXES_COMPONENT
        && let Some(cfg) = &workspace.configuration_id
    {
        client
            .delete_sandbox_config(cfg)
            .map_err(|e| project.api_error(&e))?;
        config_deleted = true;
    }
    Ok(config_deleted)
}

/// A `keboola.sandboxes` configuration and a workspace under it; the configuration goes
/// again when the workspace cannot be made.
pub(crate) fn create_sandbox(
    project: &Project,
    client: &StorageClient,
    name: &str,
    spec: &keboola_api::CreateWorkspace,
) -> CliResult<keboola_api::CreatedWorkspace> {
    let config_id = client
        .create_sandbox_config(
            name,
            "Created by kbagent CLI",
            &create::sandbox_configuration(spec.backend.as_deref()),
        )
        .map_err(|e| project.api_error(&e))?;
    client
        .create_workspace(keboola_api::SANDBOXES_COMPONENT, &config_id, spec)
        .map_err(|e| {
            // Best effort: the error that matters is the create's.
            let _ = client.delete_sandbox_config(&config_id);
            project.api_error(&e)
        })
}

/// `--yes` and `--dry-run` of the destructive workspace verbs.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConfirmArgs {
    /// Go ahead without asking (needed when stdin or stderr is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Say what would change and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// A table as loaded into a workspace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct LoadedTable {
    pub source: String,
    pub destination: String,
    pub rows: Option<u64>,
    /// The same as `source`.
    pub table_id: String,
    /// `copy`, `clone` or `view`.
    pub load_type: String,
}

/// Loads tables into a workspace and waits for the load job.
pub(crate) fn load_tables(
    project: &Project,
    client: &StorageClient,
    workspace_id: &str,
    inputs: &[keboola_api::LoadInput],
    preserve: bool,
    timeout_s: u64,
) -> CliResult<(String, Vec<LoadedTable>)> {
    let wait = keboola_api::JobWait {
        timeout: std::time::Duration::from_secs(timeout_s),
        ..keboola_api::JobWait::default()
    };
    let job = client
        .load_workspace(workspace_id, inputs, preserve)
        .and_then(|job| client.finish_job(job, &wait))
        .map_err(|e| project.api_error(&e))?;
    let reported = job
        .results
        .as_ref()
        .and_then(|r| r.get("tables"))
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tables = inputs
        .iter()
        .map(|i| {
            let destination = i
                .destination
                .clone()
                .unwrap_or_else(|| i.source.rsplit('.').next().unwrap_or(&i.source).to_owned());
            let rows = reported
                .iter()
                .find(|t| t["source"] == i.source.as_str())
                .and_then(|t| t["rows"].as_u64());
            LoadedTable {
                source: i.source.clone(),
                destination,
                rows,
                table_id: i.source.clone(),
                load_type: i
                    .load_type
                    .as_deref()
                    .unwrap_or("COPY")
                    .to_ascii_lowercase(),
            }
        })
        .collect();
    Ok((job.id, tables))
}
