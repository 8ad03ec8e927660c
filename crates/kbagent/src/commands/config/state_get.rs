//! `config state-get`: the runtime state of a configuration or one of its rows.

use serde_json::{Map, Value};

use super::write::{ActionOutput, Target, find_row, row_id};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show the runtime state of a configuration or one of its rows",
    "Examples:\n  kbagent config state-get --component-id keboola.ex-db-snowflake --config-id 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// A row's state instead of the configuration's
    #[arg(long, value_name = "ROW_ID", value_parser = row_id)]
    pub row_id: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = crate::select::load_and_select(ctx, args.project.get())?;
    // A read: production unless --branch, like `config detail`.
    project.declare_target(ctx, args.branch.branch.as_deref());
    let t = Target {
        client: ctx.storage(&project)?,
        project,
        branch: args.branch.branch.clone(),
        component_id: args.config.component_id.clone(),
        config_id: args.config.config_id.clone(),
    };
    let config = t.read(ctx)?;
    let state = match &args.row_id {
        None => config.get("state").cloned(),
        Some(r) => Some(
            find_row(&t, &config, r)?
                .get("state")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        ),
    }
    .unwrap_or_else(|| Value::Object(Map::new()));
    let mut out = Map::new();
    out.insert("config_id".into(), Value::String(t.config_id.clone()));
    out.insert("row_id".into(), args.row_id.clone().map_or(Value::Null, Value::String));
    let summary = serde_json::to_string_pretty(&state).unwrap_or_default();
    out.insert("state".into(), state);
    Ok(ActionOutput::new(&t, out, false, summary))
}
