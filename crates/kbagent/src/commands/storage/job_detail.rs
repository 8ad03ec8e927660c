//! `storage job-detail`: one Storage job (import, export, delete, ...): status, table,
//! rows imported, timing, error; `--wait` follows it until it finishes. A job that ended
//! in `error` is the command's error (`STORAGE_JOB_FAILED`, the job in `details.job`).

use std::time::Duration;

use keboola_api::{JobWait, StorageJob};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::job_id;
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{Printer, cell};
use crate::select::{Project, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a Storage job (status, rows, timing, error); --wait follows it",
    "Examples:\n  kbagent storage job-detail --project prod --job-id 5000123\n  kbagent --json storage job-detail --project prod --job-id 5000123 --wait --timeout 120",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Storage job id
    #[arg(long, value_name = "ID", value_parser = job_id)]
    pub job_id: String,
    /// Poll until the job finishes (success or error)
    #[arg(long)]
    pub wait: bool,
    /// Seconds to wait with --wait [default: 600]
    #[arg(long, value_name = "SECONDS", requires = "wait", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct JobError {
    pub message: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// Keboola's job id (a number).
    pub job_id: Value,
    /// `waiting`, `processing`, `success` or `error`.
    pub status: String,
    pub operation_name: String,
    pub table_id: Option<String>,
    /// The Storage file an import loaded, when the job names one.
    pub file_id: Option<Value>,
    pub created_time: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub imported_rows: Option<u64>,
    pub warnings: Value,
    /// Keboola's `results`, passed through.
    pub results: Option<Value>,
    pub error: Option<JobError>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let id = self.job_id.to_string();
        let mut facts = vec![
            ("Job", id.trim_matches('"').to_owned()),
            ("Status", self.status.clone()),
            ("Operation", self.operation_name.clone()),
            ("Table", cell(self.table_id.as_deref())),
            ("Created", cell(self.created_time.as_deref())),
            ("Started", cell(self.start_time.as_deref())),
            ("Ended", cell(self.end_time.as_deref())),
        ];
        if let Some(rows) = self.imported_rows {
            facts.push(("Imported", format!("{} rows", super::thousands(rows))));
        }
        if let Some(e) = &self.error {
            facts.push(("Error", cell(e.message.as_deref())));
        }
        facts
            .into_iter()
            .map(|(label, value)| format!("{:<11}{value}\n", format!("{label}:")))
            .collect()
    }
}

fn summary(alias: &str, job: StorageJob) -> Output {
    let raw = &job.raw;
    let results = job.results.as_ref();
    Output {
        project_alias: alias.to_owned(),
        job_id: raw.get("id").cloned().unwrap_or(Value::String(job.id.clone())),
        status: job.status.as_str().to_owned(),
        operation_name: job.operation_name.clone(),
        table_id: job.table_id.clone(),
        file_id: raw
            .pointer("/operationParams/source/fileId")
            .filter(|v| !v.is_null())
            .cloned(),
        created_time: job.created_time.clone(),
        start_time: job.start_time.clone(),
        end_time: job.end_time.clone(),
        imported_rows: results
            .and_then(|r| r.get("importedRowsCount"))
            .and_then(Value::as_u64),
        warnings: results
            .and_then(|r| r.get("warnings"))
            .cloned()
            .unwrap_or(Value::Array(vec![])),
        error: job.error.as_ref().map(|e| JobError {
            message: e.message.clone(),
            code: e.code.clone(),
        }),
        results: job.results,
    }
}

fn fetch(ctx: &Ctx<'_>, project: &Project, args: &Args) -> CliResult<StorageJob> {
    let client = ctx.storage(project)?;
    let answer = if args.wait {
        let wait = JobWait {
            timeout: Duration::from_secs(args.timeout.unwrap_or(600)),
            ..JobWait::default()
        };
        match client.wait_for_job(&args.job_id, &wait) {
            // The failed job itself is what this command shows.
            Err(e) if e.failed_job_id().is_some() => client.get_job(&args.job_id),
            other => other,
        }
    } else {
        client.get_job(&args.job_id)
    };
    answer.map_err(|e| {
        let err = project.api_error(&e);
        match err.code {
            ErrorCode::NotFound => err
                .reworded(|_| format!("Storage job {} was not found in project '{}'", args.job_id, project.alias))
                .hint("Storage job ids are project-wide: check --project."),
            ErrorCode::Timeout if args.wait => err.hint(format!(
                "The job keeps running; follow it again with `kbagent storage job-detail --project {} --job-id {} --wait`.",
                project.alias, args.job_id
            )),
            _ => err,
        }
    })
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let job = fetch(ctx, &project, args)?;
    let Err(failed) = job.clone().into_result() else {
        return Ok(summary(&project.alias, job));
    };
    let out = summary(&project.alias, job);
    let err = project.api_error(&failed);
    let detail = serde_json::to_value(&out).map_err(|e| CliError::unexpected(e.to_string()))?;
    Err(err.detail("job", detail))
}
