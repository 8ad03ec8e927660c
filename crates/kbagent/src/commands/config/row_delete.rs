//! `config row-delete`: delete a configuration row for good (rows have no trash; an older
//! version still holds it, see `config rollback`). Asks first.

use serde_json::Value;

use super::write::{ActionOutput, Compat, ConfirmArgs, Target, find_row, row_id};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete a configuration row",
    "Examples:\n  kbagent config row-delete --component-id keboola.ex-db-snowflake --config-id 123 --row-id 456 --yes",
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
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let config = t.read(ctx)?;
    let row = find_row(&t, &config, &args.row_id)?;
    let mut shown = serde_json::Map::new();
    shown.insert("id".into(), Value::String(args.row_id.clone()));
    shown.insert("name".into(), row.get("name").cloned().unwrap_or(Value::Null));
    shown.insert("config_id".into(), Value::String(t.config_id.clone()));
    let what = format!(
        "row {} \"{}\" of configuration {} in project '{}'",
        args.row_id,
        row["name"].as_str().unwrap_or(""),
        t.config_id,
        t.project.alias
    );
    if args.confirm.dry_run {
        shown.insert("deleted".into(), Value::Bool(false));
        return Ok(ActionOutput::new(&t, shown, true, format!("Dry run: would delete {what}")));
    }
    if !ctx
        .confirm(args.confirm.yes, &format!("Delete {what}?"))
        .map_err(|e| e.hint("Or pass --dry-run to see what would be deleted."))?
    {
        return Err(CliError::usage("Not deleted: the answer was no"));
    }
    t.client
        .delete_configuration_row(t.branch.as_deref(), &t.component_id, &t.config_id, &args.row_id)
        .map_err(t.api())?;
    shown.insert("deleted".into(), Value::Bool(true));
    let compat = Compat {
        row_id: Some(Value::String(args.row_id.clone())),
        ..Compat::default()
    };
    Ok(ActionOutput::new(&t, shown, false, format!("Deleted {what}")).with(compat))
}
