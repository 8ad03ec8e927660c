//! `config restore`: bring a configuration back from the trash.

use super::write::{ActionOutput, Compat, Target, describe, object, version_of};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliResult, ErrorCode};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Restore a configuration from the trash (undo of `config delete`)",
    "Examples:\n  kbagent config restore --component-id keboola.ex-db-snowflake --config-id 123",
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

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let answer = t
        .client
        .restore_configuration(t.branch.as_deref(), &t.component_id, &t.config_id)
        .map_err(|e| {
            let err = t.project.api_error(&e);
            if err.code != ErrorCode::NotFound {
                return err;
            }
            err.reworded(|_| {
                format!(
                    "Configuration {} of {} is not in the trash of project '{}'",
                    t.config_id, t.component_id, t.project.alias
                )
            })
            .hint(format!(
                "See what is there with `kbagent config trash --component-id {}`.",
                t.component_id
            ))
        })?;
    let restored = object(answer);
    let summary = format!(
        "Restored {} (version {})",
        describe(&t, &restored),
        version_of(&restored)
    );
    let compat = Compat {
        status: Some("restored"),
        config_id: Some(t.config_id.clone()),
        ..Compat::default()
    };
    Ok(ActionOutput::new(&t, restored, false, summary).with(compat))
}
