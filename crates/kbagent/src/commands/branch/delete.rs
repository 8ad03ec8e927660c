//! `branch delete`: delete a development branch (a Storage job Keboola runs; its
//! configurations go with it). Asks first; `--yes` off a terminal, `--dry-run` to see what
//! would go. The default branch cannot be deleted. Unpins the branch if it was active.

use keboola_api::JobWait;
use schemars::JsonSchema;
use serde::Serialize;

use super::dev_branch_id;
use crate::commands::shared::ProjectArg;
use crate::commands::storage::writes::{ConfirmArgs, confirmed};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{Printer, Target};
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete a development branch and its configurations (never the default branch)",
    "Examples:\n  kbagent branch delete --project prod --branch 1234 --dry-run\n  kbagent branch delete --project prod --branch 1234 --yes",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the branch to delete
    #[arg(long, value_name = "ID", value_parser = dev_branch_id)]
    pub branch: u64,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// Give up waiting for the storage job after this many seconds (the job goes on)
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: u64,
    pub branch_name: String,
    /// Whether it was the project's active branch (now unpinned).
    pub was_active: bool,
    pub deleted: bool,
    pub dry_run: bool,
    /// The confirmation was declined.
    pub aborted: bool,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.message)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let id = args.branch.to_string();
    let client = ctx.storage(&project)?;
    let branch = client.get_dev_branch(&id).map_err(|e| {
        project.use_branch(ctx, Some(&id), BranchScope::Production);
        let err = project.api_error(&e);
        if err.code != ErrorCode::NotFound {
            return err;
        }
        err.reworded(|_| format!("Branch ID {id} not found in project '{}'", project.alias))
            .hint(format!(
                "See the branches there are with `kbagent branch list --project {}`.",
                project.alias
            ))
    })?;
    // The target names the branch, now that its name is known.
    let mut target = Target::new(&project.alias, Some(&id), project.active_branch());
    target.branch_name = Some(branch.name.clone());
    ctx.printer.target(target);
    if branch.is_default {
        return Err(CliError::new(
            ErrorCode::InvalidArgument,
            format!(
                "Branch {id} ('{}') is the default (production) branch of project '{}'; it cannot be deleted",
                branch.name, project.alias
            ),
        )
        .hint("Delete development branches only; see `kbagent branch list`."));
    }
    let was_active = project
        .active_branch()
        .is_some_and(|a| a.branch_id.to_string() == id);
    let mut out = Output {
        project_alias: project.alias.clone(),
        branch_id: branch.id,
        branch_name: branch.name.clone(),
        was_active,
        deleted: false,
        dry_run: args.confirm.dry_run,
        aborted: false,
        message: String::new(),
    };
    let what = format!(
        "branch {id} ('{}') of project '{}'",
        branch.name, project.alias
    );
    if args.confirm.dry_run {
        out.message = format!("Would delete {what} and its configurations.");
        return Ok(out);
    }
    if !confirmed(ctx, &args.confirm, &format!("delete {what}"))? {
        out.aborted = true;
        out.message = format!("Did not delete {what}.");
        return Ok(out);
    }
    let job = client
        .delete_dev_branch(&id)
        .map_err(|e| project.api_error(&e))?;
    client
        .finish_job(
            job,
            &JobWait {
                timeout: std::time::Duration::from_secs(args.timeout),
                ..JobWait::default()
            },
        )
        .map_err(|e| project.api_error(&e))?;
    out.deleted = true;
    out.message = format!("Branch ID {id} deleted from project '{}'.", project.alias);
    if was_active {
        super::pin(ctx, &project, None)?;
        out.message.push_str(" Active branch reset to main.");
    }
    Ok(out)
}
