//! `storage buckets`: buckets across projects, fetched in parallel, with sharing (linked
//! bucket) information; a failing project is reported in `errors[]`.

use keboola_api::Bucket;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{ProjectError, bytes, gather, one_project_for_branch, thousands};
use crate::commands::shared::{BranchArg, ProjectsArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table};
use crate::select::{fan_out, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List buckets across projects (in parallel), with linked-bucket sources",
    "Examples:\n  kbagent storage buckets\n  kbagent --json storage buckets --project prod --branch 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct BucketRow {
    pub project_alias: String,
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub stage: String,
    pub backend: String,
    pub rows_count: u64,
    pub data_size_bytes: u64,
    pub description: String,
    /// A bucket linked from another project (read-only here).
    pub is_linked: bool,
    pub source_project_id: Option<Value>,
    pub source_project_name: String,
    pub source_bucket_id: String,
    pub created: Option<String>,
    pub last_change_date: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub buckets: Vec<BucketRow>,
    pub errors: Vec<ProjectError>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.buckets.is_empty() {
            return "No buckets found.\n".to_owned();
        }
        let mut table = Table::new(["PROJECT", "BUCKET ID", "NAME", "BACKEND", "ROWS", "SIZE", "LINKED FROM"]);
        for b in &self.buckets {
            table.row([
                b.project_alias.clone(),
                b.id.clone(),
                b.display_name.clone(),
                b.backend.clone(),
                thousands(b.rows_count),
                bytes(b.data_size_bytes),
                b.source_bucket_id.clone(),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

pub(crate) fn row(alias: &str, b: Bucket) -> BucketRow {
    let source = b.source_bucket.as_ref();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    BucketRow {
        project_alias: alias.to_owned(),
        is_linked: source.is_some(),
        source_project_id: source.and_then(|s| s.pointer("/project/id")).cloned(),
        source_project_name: text(source.and_then(|s| s.pointer("/project/name"))),
        source_bucket_id: text(source.and_then(|s| s.get("id"))),
        display_name: if b.display_name.is_empty() {
            b.name.clone()
        } else {
            b.display_name
        },
        id: b.id,
        name: b.name,
        stage: b.stage,
        backend: b.backend.unwrap_or_default(),
        rows_count: b.rows_count.unwrap_or(0),
        data_size_bytes: b.data_size_bytes.unwrap_or(0),
        description: b.description.unwrap_or_default(),
        created: b.created,
        last_change_date: b.last_change_date,
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let cfg = ctx.store()?.load()?;
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let branch = args.branch.branch.as_deref();
    one_project_for_branch(&projects, branch)?;
    for p in &projects {
        p.declare_target(ctx, branch);
    }
    let results = fan_out(ctx, &http, "Listing buckets", &projects, workers, |client, _| {
        client.with_branch(branch).list_buckets(&["linkedBuckets"])
    });
    let mut rows = Vec::new();
    let errors = gather(ctx, &args.projects.aliases, &projects, results, |p, buckets| {
        rows.extend(buckets.into_iter().map(|b| row(&p.alias, b)));
    })?;
    Ok(Output {
        buckets: rows,
        errors,
    })
}
