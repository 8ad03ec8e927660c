//! `config state-set`: replace the runtime state of a configuration or one of its rows
//! (what an extractor remembers between runs, e.g. the last fetched row). The version does
//! not change.

use serde_json::{Map, Value};

use super::body::diff;
use super::write::{ActionOutput, Compat, Target, find_row, read_json_arg, row_id};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Replace the runtime state of a configuration or one of its rows ('{}' clears it)",
    "Examples:
  kbagent config state-set --component-id keboola.ex-db-snowflake --config-id 123 --state '{}' --dry-run
  kbagent config state-set --component-id keboola.ex-db-snowflake --config-id 123 --state @state.json
  kbagent config state-set --component-id keboola.ex-db-snowflake --config-id 123 --row-id 456 --state '{}'",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// The new state: inline JSON, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON")]
    pub state: String,
    /// A row's state instead of the configuration's
    #[arg(long, value_name = "ROW_ID", value_parser = row_id)]
    pub row_id: Option<String>,
    /// Show the change and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let state = read_json_arg(&args.state, "state")?;
    if !state.is_object() {
        return Err(CliError::usage("The state must be a JSON object"));
    }
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let config = t.read(ctx)?;
    let old = match &args.row_id {
        None => config.get("state").cloned(),
        Some(r) => find_row(&t, &config, r)?.get("state").cloned(),
    }
    .unwrap_or_else(|| Value::Object(Map::new()));
    let changes = diff(&["state".into()], &old, &state);
    let what = match &args.row_id {
        None => format!("configuration {}", t.config_id),
        Some(r) => format!("row {r} of configuration {}", t.config_id),
    };
    let mut out = Map::new();
    out.insert("config_id".into(), Value::String(t.config_id.clone()));
    out.insert("row_id".into(), args.row_id.clone().map_or(Value::Null, Value::String));
    out.insert("changes".into(), serde_json::to_value(&changes).unwrap_or_default());
    if args.dry_run {
        out.insert("state".into(), state);
        let summary = format!("Dry run: would replace the state of {what} ({} change(s))", changes.len());
        return Ok(ActionOutput::new(&t, out, true, summary));
    }
    let branch = t.branch.as_deref();
    let answer = match &args.row_id {
        None => t.client.set_configuration_state(branch, &t.component_id, &t.config_id, &state),
        Some(r) => t.client.set_configuration_row_state(branch, &t.component_id, &t.config_id, r, &state),
    }
    .map_err(t.api())?;
    out.insert("state".into(), answer.get("state").cloned().unwrap_or(state));
    let summary = format!("Replaced the state of {what}");
    // `row_id` is in `out` already.
    let compat = Compat {
        changed: Some(!changes.is_empty()),
        ..Compat::default()
    };
    Ok(ActionOutput::new(&t, out, false, summary).with(compat))
}
