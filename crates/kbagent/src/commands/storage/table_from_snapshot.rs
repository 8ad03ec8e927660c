//! `storage table-from-snapshot`: a NEW table from a snapshot (the snapshot's table is
//! untouched; swap them afterwards with `storage swap-tables` to restore in place).

use keboola_api::JobWait;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::bucket_id;
use super::snapshot_detail::{snapshot_id, snapshot_not_found};
use super::writes::name;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a new table from a table snapshot",
    "Examples:
  kbagent storage table-from-snapshot --project prod --snapshot-id 1234 --bucket-id in.c-main --name orders_restored --dry-run
  kbagent storage table-from-snapshot --project prod --snapshot-id 1234 --bucket-id in.c-main --name orders_restored",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The snapshot to restore
    #[arg(long, value_name = "ID", value_parser = snapshot_id)]
    pub snapshot_id: String,
    /// The bucket of the new table
    #[arg(long, value_name = "BUCKET_ID", value_parser = bucket_id)]
    pub bucket_id: String,
    /// The new table's name
    #[arg(long, value_name = "NAME", value_parser = name)]
    pub name: String,
    /// Check the snapshot and say what would be created; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub bucket_id: String,
    pub snapshot_id: String,
    pub name: String,
    pub branch_id: Option<String>,
    pub dry_run: bool,
    /// The new table, as Keboola returns it; absent from a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let target = format!("{}.{}", self.bucket_id, self.name);
        if self.dry_run {
            format!("Would create {target} from snapshot {}\n", self.snapshot_id)
        } else {
            format!(
                "Created {} from snapshot {}\n",
                self.table_id.as_deref().unwrap_or(&target),
                self.snapshot_id
            )
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    // A 404 names the bucket when Keboola says so, the snapshot otherwise.
    let missing = |e: &keboola_api::ApiError| {
        let err = project.api_error(e);
        if e.api_code() == Some("storage.buckets.notFound") {
            super::not_found(
                err,
                &format!("Bucket {}", args.bucket_id),
                &format!("kbagent storage buckets --project {}", project.alias),
            )
        } else {
            snapshot_not_found(err, &project, &args.snapshot_id)
        }
    };
    let mut out = Output {
        project_alias: project.alias.clone(),
        bucket_id: args.bucket_id.clone(),
        snapshot_id: args.snapshot_id.clone(),
        name: args.name.clone(),
        branch_id: branch.clone(),
        dry_run: args.dry_run,
        table: None,
        table_id: None,
    };
    if args.dry_run {
        client.get_snapshot(&args.snapshot_id).map_err(|e| missing(&e))?;
        return Ok(out);
    }
    let job = client
        .create_table_from_snapshot(&args.bucket_id, &args.snapshot_id, &args.name)
        .and_then(|job| client.finish_job(job, &JobWait::default()))
        .map_err(|e| missing(&e))?;
    out.table_id = job
        .result_id("/id")
        .or_else(|| Some(format!("{}.{}", args.bucket_id, args.name)));
    out.table = job.results;
    Ok(out)
}
