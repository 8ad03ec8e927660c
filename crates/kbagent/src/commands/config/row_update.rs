//! `config row-update`: change a row's body (`--set`, `--merge`, `--configuration`), name,
//! description or enabled state; secrets encrypted first. The configuration's version is
//! checked right before the write, as in `config update`.

use keboola_api::ConfigurationWrite;
use serde_json::Value;

use super::body::{Change, diff, masked, parse_assignment};
use super::secrets::{encrypt_in_place, plain_paths};
use super::write::{
    ActionOutput, Compat, Target, apply_edits, find_row, object, read_json_arg, row_id, version_of,
};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Change a configuration row (version-checked; secrets encrypted)",
    "Examples:
  kbagent config row-update --component-id keboola.ex-db-snowflake --config-id 123 --row-id 456 \\
      --set parameters.incremental=true --dry-run
  kbagent config row-update --component-id keboola.ex-db-snowflake --config-id 123 --row-id 456 --is-disabled

--set and --merge work as in `config update`.",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    #[arg(long, value_name = "ROW_ID", value_parser = row_id)]
    pub row_id: String,
    /// Set one value (repeatable): PATH=VALUE
    #[arg(long, value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Apply a JSON merge patch (RFC 7386) from FILE, or stdin for '-'
    #[arg(long, value_name = "FILE")]
    pub merge: Option<String>,
    /// Replace the row's body: inline JSON, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON")]
    pub configuration: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// What the change is for (shown in the version history)
    #[arg(long, value_name = "TEXT")]
    pub change_description: Option<String>,
    /// Disable the row
    #[arg(long, conflicts_with = "is_enabled")]
    pub is_disabled: bool,
    /// Enable the row
    #[arg(long)]
    pub is_enabled: bool,
    /// Show the changes and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    for s in &args.set {
        parse_assignment(s)?;
    }
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let config = t.read(ctx)?;
    let read = version_of(&config);
    let row = find_row(&t, &config, &args.row_id)?;
    let old = row.get("configuration").filter(|v| v.is_object()).cloned().unwrap_or_else(|| serde_json::json!({}));
    let base = match &args.configuration {
        Some(c) => read_json_arg(c, "row configuration")?,
        None => old.clone(),
    };
    let mut new = apply_edits(base, args.merge.as_deref(), &args.set)?;
    let disabled = match (args.is_disabled, args.is_enabled) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let mut changes = diff(&["configuration".into()], &old, &new);
    for (key, wanted) in [
        ("name", args.name.clone().map(Value::String)),
        ("description", args.description.clone().map(Value::String)),
        ("isDisabled", disabled.map(Value::Bool)),
    ] {
        if let Some(w) = wanted {
            let before = row.get(key).cloned().unwrap_or(Value::Null);
            if before != w {
                changes.push(Change { path: key.into(), old: Some(before), new: Some(w) });
            }
        }
    }
    let listed = |changes: &[Change]| serde_json::to_value(changes).unwrap_or_default();
    if args.dry_run || changes.is_empty() {
        let mut shown = object(row);
        shown.insert("configuration".into(), masked(&new));
        shown.insert("changes".into(), listed(&changes));
        shown.insert("encrypted".into(), serde_json::json!(plain_paths(&new)));
        let summary = if changes.is_empty() {
            format!("Row {} is already like that; nothing to write", args.row_id)
        } else {
            format!(
                "Dry run: would change row {} of configuration {}:\n{}",
                args.row_id,
                t.config_id,
                changes.iter().map(|c| format!("  {}", c.path)).collect::<Vec<_>>().join("\n")
            )
        };
        return Ok(ActionOutput::new(&t, shown, args.dry_run, summary));
    }
    let scope = t.encryption_scope(ctx)?;
    let encrypted = encrypt_in_place(ctx, &t.project, &scope, &mut new)?;
    t.check_unchanged(ctx, read)?;
    let write = ConfigurationWrite {
        name: args.name.clone(),
        description: args.description.clone(),
        configuration: (new != old).then_some(new),
        change_description: args.change_description.clone(),
        is_disabled: disabled,
        ..ConfigurationWrite::default()
    };
    let answer = t
        .client
        .update_configuration_row(t.branch.as_deref(), &t.component_id, &t.config_id, &args.row_id, &write)
        .map_err(t.api())?;
    let mut written = object(answer);
    written.insert("changes".into(), listed(&changes));
    written.insert("encrypted".into(), serde_json::json!(encrypted));
    let summary = format!("Updated row {} of configuration {}", args.row_id, t.config_id);
    Ok(ActionOutput::new(&t, written, false, summary).with(Compat::body_write()))
}
