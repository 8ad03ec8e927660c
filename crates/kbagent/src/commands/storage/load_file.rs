//! `storage load-file`: load a Storage file that is already uploaded into a table (the
//! recovery path of a failed `upload-table`: nothing is uploaded again).

use keboola_api::{CsvOptions, ImportOptions, StorageClient, StorageJob};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::thousands;
use super::writes::{WaitArgs, num};
use super::file_id;
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, Project, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Load an uploaded Storage file into a table (no new upload)",
    "Examples:
  kbagent storage load-file --project prod --file-id 123456 --table-id in.c-main.orders
  kbagent storage load-file --file-id 123456 --table-id in.c-main.orders --incremental --no-wait",
)
.network();

/// `--delimiter` and `--enclosure` of a CSV load.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CsvArgs {
    /// Field delimiter of the CSV
    #[arg(long, value_name = "CHAR", default_value = ",")]
    pub delimiter: String,
    /// Quote character of the CSV
    #[arg(long, value_name = "CHAR", default_value = "\"")]
    pub enclosure: String,
}

impl CsvArgs {
    pub fn options(&self) -> CsvOptions {
        CsvOptions {
            delimiter: Some(self.delimiter.clone()),
            enclosure: Some(self.enclosure.clone()),
            ..CsvOptions::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The uploaded Storage file
    #[arg(long, value_name = "FILE_ID", value_parser = file_id)]
    pub file_id: String,
    /// The table to load into
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// Add the rows (upsert by the primary key) instead of replacing the table's contents
    #[arg(long)]
    pub incremental: bool,
    #[command(flatten)]
    pub csv: CsvArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub file_id: Option<u64>,
    pub table_id: String,
    pub incremental: bool,
    #[serde(flatten)]
    pub job: JobSummary,
}

/// The load job as the result reports it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct JobSummary {
    pub job_id: Option<u64>,
    /// `success`, or `waiting`/`processing` with `--no-wait`.
    pub job_status: String,
    /// Rows the job imported (`null` until it has finished).
    pub imported_rows: Option<u64>,
    pub warnings: Vec<Value>,
}

impl JobSummary {
    pub fn of(job: &StorageJob) -> Self {
        let results = job.results.as_ref();
        Self {
            job_id: num(&job.id),
            job_status: job.status.as_str().to_owned(),
            imported_rows: results
                .and_then(|r| r.get("importedRowsCount"))
                .and_then(Value::as_u64),
            warnings: results
                .and_then(|r| r.get("warnings"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub fn human(&self, table_id: &str) -> String {
        match self.imported_rows {
            Some(n) => format!("Loaded {} rows into {table_id}", thousands(n)),
            None if self.job_status == "success" => format!("Loaded {table_id}"),
            None => format!(
                "Load job {} is {}; follow it with `kbagent storage job-detail --job-id {} --wait`",
                self.job_id.unwrap_or_default(),
                self.job_status,
                self.job_id.unwrap_or_default()
            ),
        }
    }
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.job.human(&self.table_id))
    }
}

/// `import-async` of an uploaded file, and the job (waited for unless `--no-wait`). Errors
/// carry the file id and say how to retry the load alone; the POST is sent once.
pub(crate) fn load(
    project: &Project,
    client: &StorageClient,
    file: &str,
    table: &str,
    incremental: bool,
    csv: &CsvArgs,
    wait: &WaitArgs,
) -> CliResult<StorageJob> {
    let opts = ImportOptions {
        data_file_id: file.to_owned(),
        incremental,
        csv: csv.options(),
        ..ImportOptions::default()
    };
    let job = client
        .import_async(table, &opts)
        .map_err(|e| after_upload(project, &e, file, table))?;
    if !wait.waits() {
        return Ok(job);
    }
    client
        .finish_job(job, &wait.job_wait())
        .map_err(|e| after_upload(project, &e, file, table))
}

/// An error after the file was uploaded: it names the file and the way to load it again.
pub(crate) fn after_upload(
    project: &Project,
    e: &keboola_api::ApiError,
    file: &str,
    table: &str,
) -> CliError {
    let mut err = project.api_error(e).detail("file_id", num(file));
    if let Some(job) = e.failed_job_id() {
        err = err.detail("job_id", num(job));
    }
    err.hint(format!(
        "File {file} is uploaded; load it again without uploading: kbagent storage load-file --project {} --file-id {file} --table-id {table}",
        project.alias
    ))
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let job = load(
        &project,
        &client,
        &args.file_id,
        &args.table_id,
        args.incremental,
        &args.csv,
        &args.wait,
    )?;
    Ok(Output {
        project_alias: project.alias,
        file_id: num(&args.file_id),
        table_id: args.table_id.clone(),
        incremental: args.incremental,
        job: JobSummary::of(&job),
    })
}
