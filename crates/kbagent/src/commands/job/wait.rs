//! `job wait`: wait for a job that is already running and exit with its outcome.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::run::{DEFAULT_LOG_TAIL, human_job};
use super::waiting::{Finished, wait_for};
use super::{job_id, job_map, seconds};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Wait for a job to finish and exit with its outcome",
    "Examples:\n  kbagent job wait --project prod --job-id 4567\n  kbagent --json job wait --project prod --job-id 4567 --timeout 300\n\nExit codes: 1 QUEUE_JOB_FAILED (error.details has result_message and logTail),\n4 QUEUE_JOB_TIMEOUT (the job is left running), 7 JOB_TERMINATED.",
)
.network()
.waits_for_job();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the Queue job
    #[arg(long, value_name = "ID", value_parser = job_id)]
    pub job_id: String,
    /// Stop waiting after S seconds (the job keeps running; exit 4)
    #[arg(long, value_name = "S", value_parser = seconds)]
    pub timeout: Option<u64>,
    /// Events in the log tail of a failed job
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOG_TAIL, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub log_tail_lines: u32,
}

/// The finished job as Keboola returns it.
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
    pub elapsed_ms: u64,
    pub polls: u32,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        human_job(&self.job, self.branch_id.as_deref(), Some(self.elapsed_ms))
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    // A first read so that an unknown id is a clear "not found".
    super::get_job(ctx, &project, &args.job_id)?;
    let Finished {
        job,
        log_tail,
        elapsed_ms,
        polls,
    } = wait_for(ctx, &project, &args.job_id, args.timeout, args.log_tail_lines)?;
    Ok(Output {
        branch_id: job.branch_id.clone(),
        log_tail,
        job: job_map(&job),
        project_alias: project.alias,
        elapsed_ms,
        polls,
    })
}
