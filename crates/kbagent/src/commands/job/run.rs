//! `job run`: start a job of a configuration, optionally waiting for its outcome.
//!
//! The Queue has no idempotency key, so `POST /jobs` is sent exactly once. When its answer
//! is lost after the request went out, the job may exist: the command says so
//! (`JOB_STATE_UNKNOWN`) and how to look for it, and never submits it again.

use keboola_api::{CreateJob, may_have_started};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::waiting::{Finished, wait_for};
use super::{branch_name, job_map, queue, seconds};
use crate::commands::shared::id_part;
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::{BranchScope, Project, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Run a configuration as a Queue job (never submitted twice); --wait for its outcome",
    "Examples:\n  kbagent job run --project prod --component-id keboola.snowflake-transformation --config-id 123 --wait\n  kbagent --json job run --project prod --component-id keboola.ex-db-pgsql --config-id 7 --row-id 8 --wait --timeout 600\n  kbagent job run --project prod --component-id keboola.flow --config-id 55 --branch 1234\n\nExit codes with --wait: 1 QUEUE_JOB_FAILED (error.details has result_message and logTail),\n4 QUEUE_JOB_TIMEOUT (the job is left running), 7 JOB_TERMINATED, 8 JOB_STATE_UNKNOWN\n(the request was sent but its answer lost: look for the job before running it again).",
)
.network()
.waits_for_job()
.submits_job();

/// Events in the log tail of a failed job unless `--log-tail-lines` says otherwise.
pub(crate) const DEFAULT_LOG_TAIL: u32 = 50;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// Run only this row (repeatable; default: every enabled row)
    #[arg(long = "row-id", value_name = "ROW_ID", value_parser = row_id)]
    pub row_ids: Vec<String>,
    /// A value for a configuration variable, NAME=VALUE (repeatable)
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = variable)]
    pub variables: Vec<(String, String)>,
    /// A stored set of variable values
    #[arg(long, value_name = "ID", value_parser = values_id)]
    pub variable_values_id: Option<String>,
    /// run, debug, or forceRun (runs a disabled configuration)
    #[arg(long, value_name = "MODE", value_parser = ["run", "debug", "forceRun"])]
    pub mode: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
    /// Wait for the job to finish and exit with its outcome
    #[arg(long)]
    pub wait: bool,
    /// With --wait: stop waiting after S seconds (the job keeps running; exit 4)
    #[arg(long, value_name = "S", value_parser = seconds, requires = "wait")]
    pub timeout: Option<u64>,
    /// With --wait: events in the log tail of a failed job
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOG_TAIL, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub log_tail_lines: u32,
}

fn row_id(value: &str) -> Result<String, CliError> {
    id_part("row id", value)
}

fn values_id(value: &str) -> Result<String, CliError> {
    id_part("variable values id", value)
}

fn variable(value: &str) -> Result<(String, String), CliError> {
    match value.split_once('=') {
        Some((name, v)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), v.to_owned())),
        _ => Err(CliError::invalid_argument(format!(
            "Invalid --variable '{}': use NAME=VALUE",
            crate::output::masked(value).escape_debug()
        ))),
    }
}

/// The job as Keboola returns it (the final state with --wait), with where it ran.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub job: Map<String, Value>,
    pub project_alias: String,
    /// The branch the job ran on; null is the main branch.
    pub branch_id: Option<String>,
    /// With --wait, for a job that ended in `warning`: its last events (the Python
    /// kbagent's key).
    #[serde(rename = "logTail", skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<Vec<Value>>,
    /// Whether the command waited for the outcome.
    pub waited: bool,
    /// With --wait: how long the wait took.
    pub elapsed_ms: Option<u64>,
    /// With --wait: how many times the job was read.
    pub polls: Option<u32>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        human_job(&self.job, self.branch_id.as_deref(), self.elapsed_ms)
    }
}

/// One job in a line or two, for people.
pub(crate) fn human_job(job: &Map<String, Value>, branch: Option<&str>, elapsed_ms: Option<u64>) -> String {
    let s = |k: &str| job.get(k).and_then(Value::as_str).unwrap_or("");
    let id = job.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_default();
    let took = elapsed_ms.map(|ms| format!(" after {:.1} s", ms as f64 / 1000.0)).unwrap_or_default();
    let mut out = format!(
        "Job {id} {}{took}: {} / {} on {}\n",
        s("status"),
        s("component"),
        s("config"),
        branch_name(branch)
    );
    if let Some(m) = job.get("result").and_then(|r| r.get("message")).and_then(Value::as_str) {
        out.push_str(&format!("  {m}\n"));
    }
    out
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let branch_id = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let request = CreateJob {
        component: args.config.component_id.clone(),
        config: Some(args.config.config_id.clone()),
        config_row_ids: args.row_ids.clone(),
        branch_id,
        mode: args.mode.clone(),
        variables: args.variables.clone(),
        variable_values_id: args.variable_values_id.clone(),
        tag: None,
    };
    let submitted = jiff::Timestamp::now();
    let created = queue(ctx, &project)?
        .create_job(&request)
        .map_err(|e| create_error(&project, args, &e, submitted))?;
    if !args.wait {
        return Ok(Output {
            branch_id: created.branch_id.clone(),
            log_tail: None,
            job: job_map(&created),
            project_alias: project.alias,
            waited: false,
            elapsed_ms: None,
            polls: None,
        });
    }
    ctx.printer.note(&format!(
        "Started job {} ({} / {} on {}); waiting for it.",
        created.id,
        args.config.component_id,
        args.config.config_id,
        branch_name(created.branch_id.as_deref())
    ));
    let Finished {
        job,
        log_tail,
        elapsed_ms,
        polls,
    } = wait_for(ctx, &project, &created.id, args.timeout, args.log_tail_lines)?;
    Ok(Output {
        branch_id: job.branch_id.clone(),
        log_tail,
        job: job_map(&job),
        project_alias: project.alias,
        waited: true,
        elapsed_ms: Some(elapsed_ms),
        polls: Some(polls),
    })
}

/// The error of a failed `POST /jobs`: when the job may exist, `JOB_STATE_UNKNOWN` with
/// the way to find it; otherwise the API's refusal.
fn create_error(
    project: &Project,
    args: &Args,
    err: &keboola_api::ApiError,
    submitted: jiff::Timestamp,
) -> CliError {
    let (c, k) = (&args.config.component_id, &args.config.config_id);
    let api = project.api_error(err);
    if !may_have_started(err) {
        if api.code == ErrorCode::NotFound {
            return api.hint(format!(
                "Check the ids with `kbagent config detail --project {} --component-id {c} --config-id {k}`.",
                project.alias
            ));
        }
        return api;
    }
    // A little before the request, so clock skew between here and the Queue hides nothing.
    let since = submitted
        .checked_sub(jiff::SignedDuration::from_secs(60))
        .unwrap_or(submitted)
        .round(jiff::Unit::Second)
        .unwrap_or(submitted);
    let branch = args
        .branch
        .branch
        .as_deref()
        .map(|b| format!(" --branch {b}"))
        .unwrap_or_default();
    let mut out = CliError::new(
        ErrorCode::JobStateUnknown,
        format!(
            "The request to run {c} / {k} was sent, but its answer was lost ({}); the job may have started",
            api.message
        ),
    )
    .project(project.alias.clone())
    .detail("component_id", c.clone())
    .detail("config_id", k.clone())
    .detail(
        "branch_id",
        args.branch.branch.clone().map_or(Value::Null, Value::from),
    )
    .detail("submitted_at", submitted.round(jiff::Unit::Second).unwrap_or(submitted).to_string())
    .detail("since", since.to_string())
    .hint(format!(
        "Do not run it again before looking for it: `kbagent job list --project {} --component-id {c} --config-id {k} --since {since}{branch}`.",
        project.alias
    ));
    for key in ["http_status", "attempts"] {
        if let Some(v) = api.details.get(key) {
            out = out.detail(key, v.clone());
        }
    }
    out
}
