//! `storage preview`: the first rows of a table (at most 1000), synchronously through
//! Keboola's data preview; filters by column values and change time. For whole tables use
//! an export instead.

use keboola_api::{PreviewOptions, WhereFilter};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{table_id, table_not_found};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show the first rows of a table (up to 1000), optionally filtered",
    "Examples:\n  kbagent storage preview --project prod --table-id in.c-main.orders\n  kbagent storage preview --project prod --table-id in.c-main.orders --columns order_id,amount --where-column status --where-value completed --limit 20\n  kbagent storage preview --project prod --table-id in.c-main.orders --format csv > sample.csv\n  kbagent --json storage preview --project prod --table-id in.c-main.orders --changed-since '-1 day'",
)
.network();

/// How rows are printed without `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// An aligned table
    Table,
    /// CSV with a header line
    Csv,
    /// One JSON object per row and line
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Table id (STAGE.BUCKET.TABLE, such as in.c-main.orders)
    #[arg(long, value_name = "ID", value_parser = table_id)]
    pub table_id: String,
    /// At most this many rows (1-1000)
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Only these columns, in this order (comma-separated or repeated)
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Filter rows on this column
    #[arg(long, value_name = "COLUMN")]
    pub where_column: Option<String>,
    /// How --where-value compares: eq (one of the values) or ne (none of them)
    #[arg(long, value_name = "OP", requires = "where_column", value_parser = ["eq", "ne"])]
    pub where_operator: Option<String>,
    /// A value of --where-column (repeatable)
    #[arg(long, value_name = "VALUE", requires = "where_column")]
    pub where_value: Vec<String>,
    /// Only rows changed since (Unix time, ISO 8601 or relative such as '-1 day')
    #[arg(long, value_name = "TIME")]
    pub changed_since: Option<String>,
    /// Only rows changed before (same forms as --changed-since)
    #[arg(long, value_name = "TIME")]
    pub changed_until: Option<String>,
    /// Output without --json [default: table on a terminal, csv otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub table_id: String,
    pub columns: Vec<String>,
    /// One list of values per row, in the order of `columns` (all values are text).
    pub rows: Vec<Vec<String>>,
    pub row_count: usize,
    pub limit: u32,
    #[serde(skip)]
    #[schemars(skip)]
    format: Option<Format>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let terminal = p.stdout_is_terminal();
        let format = self
            .format
            .unwrap_or(if terminal { Format::Table } else { Format::Csv });
        match format {
            Format::Table => {
                if self.rows.is_empty() {
                    return "No rows.\n".to_owned();
                }
                let mut table = Table::new(self.columns.iter().cloned());
                for row in &self.rows {
                    table.row(row.iter().cloned());
                }
                table.render(terminal)
            }
            Format::Csv => std::iter::once(&self.columns)
                .chain(&self.rows)
                .map(|r| csv_line(r))
                .collect(),
            Format::Json => self
                .rows
                .iter()
                .map(|row| {
                    let object: Map<String, Value> = self
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned().map(Value::String))
                        .collect();
                    Value::Object(object).to_string() + "\n"
                })
                .collect(),
        }
    }
}

/// One CSV record: every field quoted, quotes doubled (as Keboola writes CSV).
fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
        .collect();
    quoted.join(",") + "\n"
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    project.declare_target(ctx, args.branch.branch.as_deref());
    let opts = PreviewOptions {
        limit: Some(args.limit),
        columns: args.columns.clone(),
        filter: args.where_column.as_ref().map(|column| WhereFilter {
            column: column.clone(),
            values: args.where_value.clone(),
            operator: args.where_operator.clone(),
        }),
        changed_since: args.changed_since.clone(),
        changed_until: args.changed_until.clone(),
    };
    let preview = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref())
        .data_preview_rows(&args.table_id, &opts)
        .map_err(|e| table_not_found(project.api_error(&e), &project.alias, &args.table_id))?;
    Ok(Output {
        project_alias: project.alias,
        branch_id: args.branch.branch.clone(),
        table_id: args.table_id.clone(),
        row_count: preview.rows.len(),
        columns: preview.columns,
        rows: preview.rows,
        limit: args.limit,
        format: args.format,
    })
}
