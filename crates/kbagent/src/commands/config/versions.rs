//! `config versions`: a configuration's version history, newest first.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::write::Target;
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a configuration's versions, newest first (roll back with `config rollback`)",
    "Examples:\n  kbagent config versions --component-id keboola.ex-db-snowflake --config-id 123 --limit 5",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// At most this many versions
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Skip this many of the newest
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    pub config_id: String,
    /// Keboola's version objects: `version`, `created`, `creatorToken`,
    /// `changeDescription`, `name`, ...
    pub versions: Vec<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = format!("Versions of {} / {}:\n", self.component_id, self.config_id);
        for v in &self.versions {
            out.push_str(&format!(
                "  {:>4}  {}  {}  {}\n",
                v["version"],
                v["created"].as_str().unwrap_or(""),
                v["creatorToken"]["description"].as_str().unwrap_or(""),
                v["changeDescription"].as_str().unwrap_or("")
            ));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    // A missing configuration is reported as such, not as an empty history.
    t.read(ctx)?;
    let versions = t
        .client
        .configuration_versions(
            t.branch.as_deref(),
            &t.component_id,
            &t.config_id,
            args.limit,
            args.offset,
        )
        .map_err(t.api())?;
    Ok(Output {
        project_alias: t.project.alias,
        branch_id: t.branch,
        component_id: t.component_id,
        config_id: t.config_id,
        versions,
    })
}
