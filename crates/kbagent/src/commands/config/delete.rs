//! `config delete`: move a configuration to the trash (restorable with `config restore`).
//! Asks first; `--yes` off a terminal, `--dry-run` to see what would go. A configuration
//! already in the trash is not found, so this never purges.

use serde_json::Value;

use super::write::{ActionOutput, Compat, ConfirmArgs, Target, describe};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Move a configuration to the trash (restorable with `config restore`)",
    "Examples:
  kbagent config delete --component-id keboola.ex-db-snowflake --config-id 123 --dry-run
  kbagent config delete --component-id keboola.ex-db-snowflake --config-id 123 --yes",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let mut current = t.read(ctx)?;
    let what = describe(&t, &current);
    current.remove("configuration");
    current.remove("rows");
    current.remove("state");
    if args.confirm.dry_run {
        current.insert("deleted".into(), Value::Bool(false));
        let summary = format!("Dry run: would move {what} to the trash");
        return Ok(ActionOutput::new(&t, current, true, summary).with(deleted(&t, "would_delete")));
    }
    if !ctx
        .confirm(args.confirm.yes, &format!("Move {what} to the trash?"))
        .map_err(|e| e.hint("Or pass --dry-run to see what would be deleted."))?
    {
        return Err(CliError::usage("Not deleted: the answer was no"));
    }
    t.client
        .delete_configuration(t.branch.as_deref(), &t.component_id, &t.config_id)
        .map_err(t.api())?;
    current.insert("deleted".into(), Value::Bool(true));
    current.insert("isDeleted".into(), Value::Bool(true));
    Ok(ActionOutput::new(
        &t,
        current,
        false,
        format!("Moved {what} to the trash (undo: kbagent config restore --component-id {} --config-id {})", t.component_id, t.config_id),
    )
    .with(deleted(&t, "deleted")))
}

fn deleted(t: &Target, status: &'static str) -> Compat {
    Compat {
        status: Some(status),
        config_id: Some(t.config_id.clone()),
        ..Compat::default()
    }
}
