//! `storage tables`: tables across projects (or of one bucket), fetched in parallel; a
//! failing project is reported in `errors[]`.

use keboola_api::{Table as StorageTable, TablesQuery};
use schemars::JsonSchema;
use serde::Serialize;

use super::{ProjectError, bucket_id, bytes, gather, one_project_for_branch, thousands};
use crate::commands::shared::{BranchArg, ProjectsArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, cell};
use crate::select::{fan_out, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List storage tables across projects (in parallel), or of one bucket",
    "Examples:\n  kbagent storage tables\n  kbagent storage tables --project prod --bucket-id in.c-main\n  kbagent --json storage tables --project prod --branch 123",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    /// Only tables of this bucket (STAGE.NAME, such as in.c-main)
    #[arg(long, value_name = "ID", value_parser = bucket_id)]
    pub bucket_id: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TableRow {
    pub project_alias: String,
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub bucket_id: String,
    pub rows_count: u64,
    pub data_size_bytes: u64,
    pub is_alias: bool,
    pub is_typed: bool,
    pub primary_key: Vec<String>,
    /// `None` until the first import.
    pub last_import_date: Option<String>,
    pub last_change_date: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub tables: Vec<TableRow>,
    pub errors: Vec<ProjectError>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.tables.is_empty() {
            return "No tables found.\n".to_owned();
        }
        let mut table = Table::new(["PROJECT", "TABLE ID", "ROWS", "SIZE", "LAST IMPORT"]);
        for t in &self.tables {
            table.row([
                t.project_alias.clone(),
                t.id.clone(),
                thousands(t.rows_count),
                bytes(t.data_size_bytes),
                cell(t.last_import_date.as_deref()),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

fn row(alias: &str, t: StorageTable) -> TableRow {
    TableRow {
        project_alias: alias.to_owned(),
        display_name: if t.display_name.is_empty() {
            t.name.clone()
        } else {
            t.display_name
        },
        bucket_id: t.bucket.map(|b| b.id).unwrap_or_else(|| {
            // Listings of one bucket may leave the block out; the id says it.
            t.id.rsplit_once('.').map(|(b, _)| b.to_owned()).unwrap_or_default()
        }),
        id: t.id,
        name: t.name,
        rows_count: t.rows_count.unwrap_or(0),
        data_size_bytes: t.data_size_bytes.unwrap_or(0),
        is_alias: t.is_alias,
        is_typed: t.is_typed,
        primary_key: t.primary_key,
        last_import_date: t.last_import_date,
        last_change_date: t.last_change_date,
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
    let query = TablesQuery {
        bucket: args.bucket_id.clone(),
        include: Vec::new(),
    };
    let results = fan_out(ctx, &http, "Listing tables", &projects, workers, |client, _| {
        client.with_branch(branch).list_tables(&query)
    });
    let mut rows = Vec::new();
    let errors = gather(ctx, &args.projects.aliases, &projects, results, |p, tables| {
        rows.extend(tables.into_iter().map(|t| row(&p.alias, t)));
    })?;
    Ok(Output {
        tables: rows,
        errors,
    })
}
