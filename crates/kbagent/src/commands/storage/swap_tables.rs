//! `storage swap-tables`: two tables exchange their data and columns; their ids stay
//! (asks first; `--yes` off a terminal, `--dry-run` to check both tables).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::table_id;
use super::writes::{ConfirmArgs, WaitArgs, confirmed};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Swap two storage tables: each takes the other's data and columns, ids stay",
    "Examples:
  kbagent storage swap-tables --project prod --table-id in.c-main.orders --target-table-id in.c-main.orders_typed --dry-run
  kbagent storage swap-tables --project prod --table-id in.c-main.orders --target-table-id in.c-main.orders_typed --yes",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The first table
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// The table to swap it with
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub target_table_id: String,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// The branch the swap ran in (the default branch's id when `--branch` is absent).
    pub branch_id: Option<String>,
    pub table_id: String,
    pub target_table_id: String,
    pub dry_run: bool,
    /// The Storage job, as Keboola returns it; absent from a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let status = self
            .response
            .as_ref()
            .and_then(|j| j["status"].as_str())
            .unwrap_or("");
        match (self.dry_run, status) {
            (true, _) => format!(
                "Would swap {} with {}\n",
                self.table_id, self.target_table_id
            ),
            (false, "success") => format!("Swapped {} with {}\n", self.table_id, self.target_table_id),
            (false, _) => format!(
                "Swap of {} with {} started (job {}); follow it with `kbagent storage job-detail`\n",
                self.table_id,
                self.target_table_id,
                self.response.as_ref().map(|j| j["id"].to_string()).unwrap_or_default()
            ),
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if args.table_id == args.target_table_id {
        return Err(CliError::invalid_argument(
            "--table-id and --target-table-id name the same table",
        ));
    }
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx.storage(&project)?;
    // Keboola serves the swap under a branch id only, so the default branch is named too.
    let branch = match branch {
        Some(b) => b,
        None => client
            .list_dev_branches()
            .map_err(|e| project.api_error(&e))?
            .into_iter()
            .find(|b| b.is_default)
            .map(|b| b.id.to_string())
            .ok_or_else(|| {
                CliError::new(ErrorCode::ConfigError, "The project reports no default branch")
                    .hint("Pass --branch ID.")
            })?,
    };
    let client = client.with_branch(Some(&branch));
    for id in [&args.table_id, &args.target_table_id] {
        client
            .get_table(id)
            .map_err(|e| super::table_not_found(project.api_error(&e), &project.alias, id))?;
    }
    let mut out = Output {
        project_alias: project.alias.clone(),
        branch_id: Some(branch),
        table_id: args.table_id.clone(),
        target_table_id: args.target_table_id.clone(),
        dry_run: args.confirm.dry_run,
        response: None,
    };
    if args.confirm.dry_run {
        return Ok(out);
    }
    let action = format!(
        "swap the data and columns of {} and {} in project '{}'",
        args.table_id, args.target_table_id, project.alias
    );
    if !confirmed(ctx, &args.confirm, &action)? {
        return Err(CliError::usage("Aborted; nothing was changed"));
    }
    let job = client
        .swap_tables(&args.table_id, &args.target_table_id)
        .map_err(|e| project.api_error(&e))?;
    let job = if args.wait.waits() {
        client
            .finish_job(job, &args.wait.job_wait())
            .map_err(|e| project.api_error(&e))?
    } else {
        job
    };
    out.response = Some(job.raw);
    Ok(out)
}
