//! `config state-set`: replace a configuration's runtime state (what an extractor
//! remembers between runs, e.g. the last fetched row). The version does not change.

use serde_json::{Map, Value};

use super::body::diff;
use super::write::{ActionOutput, Compat, Target, read_json_arg};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Replace a configuration's runtime state ('{}' clears it)",
    "Examples:
  kbagent config state-set --component-id keboola.ex-db-snowflake --config-id 123 --state '{}' --dry-run
  kbagent config state-set --component-id keboola.ex-db-snowflake --config-id 123 --state @state.json",
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
    let old = config.get("state").cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let changes = diff(&["state".into()], &old, &state);
    let mut out = Map::new();
    out.insert("config_id".into(), Value::String(t.config_id.clone()));
    out.insert("changes".into(), serde_json::to_value(&changes).unwrap_or_default());
    if args.dry_run {
        out.insert("state".into(), state);
        let summary = format!("Dry run: would replace the state of configuration {} ({} change(s))", t.config_id, changes.len());
        return Ok(ActionOutput::new(&t, out, true, summary));
    }
    let answer = t
        .client
        .set_configuration_state(t.branch.as_deref(), &t.component_id, &t.config_id, &state)
        .map_err(t.api())?;
    out.insert("state".into(), answer.get("state").cloned().unwrap_or(state));
    let summary = format!("Replaced the state of configuration {}", t.config_id);
    let compat = Compat { row_id: Some(Value::Null), changed: Some(!changes.is_empty()), ..Compat::default() };
    Ok(ActionOutput::new(&t, out, false, summary).with(compat))
}
