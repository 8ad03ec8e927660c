//! `kbagent config ...`: browse component configurations across projects, create, change,
//! copy, trash and restore them, and build the OAuth authorization URL for a
//! configuration. One line per verb below.

use clap::Args;
use serde_json::Value;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::select::Project;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent config list
  kbagent config list --project prod --component-type extractor
  kbagent config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123
  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456
  kbagent config update --component-id keboola.ex-db-snowflake --config-id 123 --set parameters.db.port=443 --dry-run
  kbagent config versions --component-id keboola.ex-db-snowflake --config-id 123";

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

verbs!(ConfigCommand {
    "list" => List(list),
    "detail" => Detail(detail),
    "oauth-url" => OauthUrl(oauth_url),
    "update" => Update(update),
    "new" => New(new),
    "delete" => Delete(delete),
    "restore" => Restore(restore),
    "trash" => Trash(trash),
    "rename" => Rename(rename),
    "versions" => Versions(versions),
    "rollback" => Rollback(rollback),
    "row-create" => RowCreate(row_create),
    "row-update" => RowUpdate(row_update),
    "row-delete" => RowDelete(row_delete),
    "state-get" => StateGet(state_get),
    "state-set" => StateSet(state_set),
    "clone" => Clone(clone),
});

mod body;
mod secrets;
pub(crate) use secrets::project_id;
mod write;

/// One configuration as the API returns it; a 404 says which configuration was missing.
fn fetch_configuration(
    ctx: &Ctx<'_>,
    project: &Project,
    branch: Option<&str>,
    component_id: &str,
    config_id: &str,
) -> CliResult<Value> {
    ctx.storage(project)?
        .get_configuration(branch, component_id, config_id)
        .map_err(|e| {
            let err = project.api_error(&e);
            if err.code != ErrorCode::NotFound {
                return err;
            }
            if let Some(missing) = missing_branch(ctx, project, branch, &err) {
                return missing;
            }
            err.reworded(|_| format!(
                "Configuration {config_id} of component {component_id} was not found in project '{}'{}",
                project.alias,
                branch.map(|b| format!(" (branch {b})")).unwrap_or_default()
            ))
            .hint(format!(
                "List what exists with `kbagent config list --project {} --component-id {component_id}`.",
                project.alias
            ))
        })
}

/// For a `NOT_FOUND` answer to a read of `branch`: when the branch itself does not exist, an
/// error that says so and lists the branches there are (the API's 404 would read as a
/// missing configuration, or, for a listing, as nothing at all). `None` when the branch
/// exists or the branches cannot be listed.
fn missing_branch(
    ctx: &Ctx<'_>,
    project: &Project,
    branch: Option<&str>,
    err: &CliError,
) -> Option<CliError> {
    let branch = branch?;
    if err.code != ErrorCode::NotFound {
        return None;
    }
    let branches = ctx.storage(project).ok()?.list_dev_branches().ok()?;
    let wanted = branch.parse::<u64>().ok();
    if branches.iter().any(|b| Some(b.id) == wanted) {
        return None;
    }
    const SHOWN: usize = 10;
    let mut known: Vec<String> = branches
        .iter()
        .take(SHOWN)
        .map(|b| {
            let default = if b.is_default { ", default" } else { "" };
            format!("{} ({:?}{default})", b.id, b.name)
        })
        .collect();
    if branches.len() > SHOWN {
        known.push(format!("and {} more", branches.len() - SHOWN));
    }
    Some(
        err.clone()
            .reworded(|_| {
                format!(
                    "Branch {branch} does not exist in project '{}'",
                    project.alias
                )
            })
            .detail("branch_id", branch)
            .hint(format!(
                "Branches of '{}': {}. Omit --branch for the main branch.",
                project.alias,
                known.join(", ")
            )),
    )
}
