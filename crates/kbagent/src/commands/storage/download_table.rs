//! `storage download-table`: a table as one CSV file with a header, streamed from the
//! export's slices to disk (memory does not grow with the table). The file appears under
//! its name only once complete.

use std::path::PathBuf;

use keboola_api::{ExportOptions, ExportTable, JobWait, WhereFilter};
use schemars::JsonSchema;
use serde::Serialize;

use super::bytes;
use super::writes::{byte_bar, num, write_download};
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Export a table to a local CSV file (with a header), streamed at disk speed",
    "Examples:
  kbagent storage download-table --project prod --table-id in.c-main.orders --output orders.csv
  kbagent storage download-table --table-id in.c-main.orders --columns id,status --limit 100 --output -
  kbagent storage download-table --table-id in.c-main.orders --where-column status \\
      --where-value open --where-value new --changed-since '-2 days' --output open.csv",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The table to export
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// Where to write the CSV; `-` for stdout [default: TABLE_NAME.csv]
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only these columns, in this order (comma-separated or repeated)
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// At most this many rows
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Filter rows on this column (with --where-value)
    #[arg(long, value_name = "COLUMN", requires = "where_value")]
    pub where_column: Option<String>,
    /// `eq` (default) or `ne`
    #[arg(long, value_name = "OP", value_parser = ["eq", "ne"], requires = "where_column")]
    pub where_operator: Option<String>,
    /// A value the column must (not) have; repeatable
    #[arg(long, value_name = "VALUE", requires = "where_column")]
    pub where_value: Vec<String>,
    /// Only rows changed since: unix seconds, a date-time or `-N days|hours|minutes`
    #[arg(long, value_name = "WHEN")]
    pub changed_since: Option<String>,
    /// Only rows changed before this time
    #[arg(long, value_name = "WHEN")]
    pub changed_until: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub table_id: String,
    /// Absolute path of the written file; `-` for stdout.
    pub output_path: String,
    /// Bytes written, header included.
    pub file_size_bytes: u64,
    pub columns: Vec<String>,
    pub limit: Option<u64>,
    /// Slices are always joined into one file.
    pub keep_slices: bool,
    /// The export's Storage file and job.
    pub file_id: Option<u64>,
    pub job_id: Option<u64>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if self.output_path == "-" {
            // The data went to stdout; nothing may follow it there.
            return String::new();
        }
        format!(
            "Exported {} -> {} ({}, {} columns)\n",
            self.table_id,
            self.output_path,
            bytes(self.file_size_bytes),
            self.columns.len()
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let cfg = ctx.transfer_config()?;
    let client = ctx
        .storage(&project)?
        .with_branch(args.branch.branch.as_deref());
    let opts = ExportTable {
        export: ExportOptions {
            columns: args.columns.clone(),
            limit: args.limit,
            filter: args.where_column.as_ref().map(|c| WhereFilter {
                column: c.clone(),
                values: args.where_value.clone(),
                operator: args.where_operator.clone(),
            }),
            changed_since: args.changed_since.clone(),
            changed_until: args.changed_until.clone(),
            ..ExportOptions::default()
        },
        without_header: false,
        wait: JobWait::default(),
    };
    let bar = byte_bar(ctx.printer, &format!("Downloading {}", args.table_id), None);
    let default_name = || {
        let name = args.table_id.rsplit('.').next().unwrap_or("table");
        PathBuf::from(format!("{name}.csv"))
    };
    let (summary, output_path) =
        write_download(ctx, args.output.as_deref(), default_name, &bar, |out| {
            client
                .export_table_to(&args.table_id, out, &opts, &cfg)
                .map_err(|e| CliError::from_transfer(&e, Some(&project.alias)))
        })?;
    bar.finish_and_clear();
    Ok(Output {
        project_alias: project.alias,
        table_id: args.table_id.clone(),
        output_path,
        file_size_bytes: summary.bytes,
        columns: summary.columns,
        limit: args.limit,
        keep_slices: false,
        file_id: num(&summary.file_id),
        job_id: num(&summary.job.id),
    })
}
