//! `config detail`: one configuration as the API returns it (secrets stay encrypted).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show one configuration as the API returns it (secrets stay encrypted)",
    "Examples:\n  kbagent config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

/// Keboola's configuration object, with where it came from added.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub configuration: Map<String, Value>,
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    #[serde(skip)]
    #[schemars(skip)]
    config_id: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let name = self
            .configuration
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let pretty = serde_json::to_string_pretty(&self.configuration).unwrap_or_default();
        format!(
            "{} / {} \"{name}\" in project '{}'\n{pretty}\n",
            self.component_id, self.config_id, self.project_alias
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let body = super::fetch_configuration(
        ctx,
        &project,
        branch.as_deref(),
        &args.config.component_id,
        &args.config.config_id,
    )?;
    let configuration = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Output {
        configuration,
        project_alias: project.alias,
        branch_id: branch,
        component_id: args.config.component_id.clone(),
        config_id: args.config.config_id.clone(),
    })
}
