//! `storage snapshots`: the snapshots of one table, newest first.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List the snapshots of a table, newest first",
    "Examples:
  kbagent storage snapshots --project prod --table-id in.c-main.orders
  kbagent --json storage snapshots --project prod --table-id in.c-main.orders --limit 5",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The table whose snapshots to list
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// At most this many snapshots
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub table_id: String,
    pub branch_id: Option<String>,
    pub count: usize,
    /// Keboola's snapshot objects, passed through.
    pub snapshots: Vec<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if self.snapshots.is_empty() {
            return format!("No snapshots of {}.\n", self.table_id);
        }
        let mut out = format!("Snapshots of {}:\n", self.table_id);
        for s in &self.snapshots {
            let text = |k: &str| s[k].as_str().unwrap_or("").to_owned();
            let description = text("description");
            out.push_str(&format!(
                "  {}  {}{}\n",
                s["id"].as_u64().map(|i| i.to_string()).unwrap_or_else(|| text("id")),
                text("createdTime"),
                if description.is_empty() {
                    String::new()
                } else {
                    format!("  {description}")
                }
            ));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    project.declare_target(ctx, args.branch.branch.as_deref());
    let client = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref());
    let snapshots: Vec<Value> = client
        .list_snapshots(&args.table_id, args.limit)
        .map_err(|e| {
            super::table_not_found(project.api_error(&e), &project.alias, &args.table_id)
        })?
        .into_iter()
        .map(|s| s.raw)
        .collect();
    Ok(Output {
        project_alias: project.alias,
        table_id: args.table_id.clone(),
        branch_id: args.branch.branch.clone(),
        count: snapshots.len(),
        snapshots,
    })
}
