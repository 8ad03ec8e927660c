//! `kbagent config ...`: browse component configurations across projects and build the
//! OAuth authorization URL for a configuration. One line per verb below.

use clap::Args;
use serde_json::Value;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliResult, ErrorCode};
use crate::select::Project;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent config list
  kbagent config list --project prod --component-type extractor
  kbagent config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123
  kbagent config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456";

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

verbs!(ConfigCommand {
    "list" => List(list),
    "detail" => Detail(detail),
    "oauth-url" => OauthUrl(oauth_url),
});

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
