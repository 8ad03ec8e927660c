//! `storage truncate-table`: delete every row of tables, keeping their columns (asks
//! first; `--yes` off a terminal, `--dry-run` to see how many rows would go).

use schemars::JsonSchema;
use serde::Serialize;

use super::thousands;
use super::writes::{ConfirmArgs, ItemFailure, confirmed, settle};
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete all rows of one or more storage tables (the columns stay)",
    "Examples:
  kbagent storage truncate-table --project prod --table-id in.c-main.staging --dry-run
  kbagent storage truncate-table --project prod --table-id in.c-main.staging --yes",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// A table to empty (repeatable)
    #[arg(long, value_name = "TABLE_ID", required = true, value_parser = table_id)]
    pub table_id: Vec<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Truncated {
    pub table_id: String,
    pub rows_before: u64,
    /// Absent from a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_after: Option<u64>,
    pub branch_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub truncated: Vec<Truncated>,
    pub failed: Vec<ItemFailure>,
    pub dry_run: bool,
    pub project_alias: String,
    /// With `--dry-run`: the tables that would be emptied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_truncate: Option<Vec<Truncated>>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = String::new();
        for t in self.would_truncate.as_ref().unwrap_or(&self.truncated) {
            let verb = if self.dry_run { "Would delete" } else { "Deleted" };
            out.push_str(&format!(
                "{verb} {} rows of {}\n",
                thousands(t.rows_before),
                t.table_id
            ));
        }
        for f in &self.failed {
            out.push_str(&format!("Failed {}: {}\n", f.id, f.error));
        }
        out
    }

    fn partial_failure(&self) -> bool {
        !self.failed.is_empty()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx.storage(&project)?.with_branch(branch.as_deref());
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for id in &args.table_id {
        match client.get_table(id) {
            Ok(t) => found.push(Truncated {
                table_id: id.clone(),
                rows_before: t.rows_count.unwrap_or(0),
                rows_after: None,
                branch_id: branch.clone(),
            }),
            Err(e) => failed.push(ItemFailure::new(id, &project.api_error(&e))),
        }
    }
    if args.confirm.dry_run {
        return Ok(Output {
            truncated: Vec::new(),
            failed,
            dry_run: true,
            project_alias: project.alias,
            would_truncate: Some(found),
        });
    }
    let mut truncated = Vec::new();
    if !found.is_empty() {
        let list: Vec<String> = found
            .iter()
            .map(|t| format!("{} ({} rows)", t.table_id, thousands(t.rows_before)))
            .collect();
        let action = format!(
            "delete every row of {} in project '{}'",
            list.join(", "),
            project.alias
        );
        if !confirmed(ctx, &args.confirm, &action)? {
            return Err(CliError::usage("Aborted; nothing was changed"));
        }
    }
    for mut t in found {
        let done = client
            .truncate_table(&t.table_id)
            .map_err(|e| project.api_error(&e))
            .and_then(|job| settle(&project, &client, job))
            .and_then(|()| {
                client
                    .get_table(&t.table_id)
                    .map_err(|e| project.api_error(&e))
            });
        match done {
            Ok(after) => {
                t.rows_after = Some(after.rows_count.unwrap_or(0));
                truncated.push(t);
            }
            Err(e) => failed.push(ItemFailure::new(&t.table_id, &e)),
        }
    }
    Ok(Output {
        truncated,
        failed,
        dry_run: false,
        project_alias: project.alias,
        would_truncate: None,
    })
}
