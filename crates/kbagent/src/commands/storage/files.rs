//! `storage files`: Storage files of a project, newest first, filtered by tags or a search
//! query. Never their download URLs or credentials.

use keboola_api::FilesQuery;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::bytes;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, cell};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List Storage files (newest first), optionally by tag or name",
    "Examples:\n  kbagent storage files --project prod\n  kbagent storage files --project prod --tag export --tag daily --limit 50\n  kbagent --json storage files --project prod --query orders --offset 20",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Only files with this tag (repeatable: files with every tag given)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// At most this many files
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Skip this many files (for paging)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u32,
    /// Search files by name
    #[arg(short = 'q', long, value_name = "TEXT")]
    pub query: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// Keboola's file objects without `url` and credentials.
    pub files: Vec<Value>,
    pub count: usize,
    #[serde(skip)]
    #[schemars(skip)]
    rows: Vec<[String; 5]>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.rows.is_empty() {
            return "No files found.\n".to_owned();
        }
        let mut table = Table::new(["FILE ID", "NAME", "SIZE", "TAGS", "CREATED"]);
        for r in &self.rows {
            table.row(r.iter().cloned());
        }
        table.render(p.stdout_is_terminal())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    project.declare_target(ctx, args.branch.branch.as_deref());
    let query = FilesQuery {
        tags: args.tags.clone(),
        limit: Some(args.limit),
        offset: Some(args.offset),
        query: args.query.clone(),
    };
    let files = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref())
        .list_files(&query)
        .map_err(|e| project.api_error(&e))?;
    let rows = files
        .iter()
        .map(|f| {
            [
                f.id.clone(),
                f.name.clone(),
                f.size_bytes.map(bytes).unwrap_or_default(),
                f.tags.join(", "),
                cell(f.created.as_deref()),
            ]
        })
        .collect();
    let files: Vec<Value> = files.into_iter().map(|f| f.raw).collect();
    Ok(Output {
        project_alias: project.alias,
        count: files.len(),
        files,
        rows,
    })
}
