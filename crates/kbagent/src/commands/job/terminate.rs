//! `job terminate`: ask the Queue to stop a job (a created or waiting job is cancelled, a
//! processing one is terminated).

use keboola_api::QueueStatus;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{job_id, job_map, queue};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Terminate a running job (use to stop a runaway or stuck job)",
    "Examples:\n  kbagent job terminate --project prod --job-id 4567 --dry-run\n  kbagent job terminate --project prod --job-id 4567 --yes",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the Queue job
    #[arg(long, value_name = "ID", value_parser = job_id)]
    pub job_id: String,
    /// Show the job that would be terminated; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The Queue accepted the kill; the job goes to `terminated` (or `cancelled`).
    Terminating,
    /// The job had already finished; nothing was done.
    AlreadyFinished,
    /// --dry-run: nothing was done.
    DryRun,
    /// The person said no.
    Aborted,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub outcome: Outcome,
    pub project_alias: String,
    pub job_id: String,
    /// The job's status and desired status after the request, Keboola's keys.
    pub job: Map<String, Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let status = self.job.get("status").and_then(Value::as_str).unwrap_or("?");
        match self.outcome {
            Outcome::Terminating => format!(
                "Job {} is being terminated (status {status}).\n",
                self.job_id
            ),
            Outcome::AlreadyFinished => {
                format!("Job {} had already finished ({status}); nothing to do.\n", self.job_id)
            }
            Outcome::DryRun => format!(
                "Would terminate job {} (status {status}); nothing was changed.\n",
                self.job_id
            ),
            Outcome::Aborted => "Aborted; the job was not touched.\n".to_owned(),
        }
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let job = super::get_job(ctx, &project, &args.job_id)?;
    let out = |outcome, job: &keboola_api::QueueJob| Output {
        outcome,
        project_alias: project.alias.clone(),
        job_id: args.job_id.clone(),
        job: job_map(job),
    };
    if job.finished() {
        return Ok(out(Outcome::AlreadyFinished, &job));
    }
    if args.dry_run {
        return Ok(out(Outcome::DryRun, &job));
    }
    let question = format!(
        "Terminate job {} ({} / {}, {}) of project '{}'?",
        job.id,
        job.component,
        job.config.as_deref().unwrap_or("-"),
        job.status.as_str(),
        project.alias
    );
    if !ctx.confirm(args.yes, &question)? {
        return Ok(out(Outcome::Aborted, &job));
    }
    match queue(ctx, &project)?.kill_job(&job.id) {
        Ok(killed) => Ok(out(Outcome::Terminating, &killed)),
        // Finished between the read and the kill: the Queue refuses (400) and the job's
        // own state says why.
        Err(e) if e.status() == Some(400) => {
            let now = super::get_job(ctx, &project, &job.id)?;
            if now.status == QueueStatus::Terminating {
                Ok(out(Outcome::Terminating, &now))
            } else if now.finished() {
                Ok(out(Outcome::AlreadyFinished, &now))
            } else {
                Err(project.api_error(&e))
            }
        }
        Err(e) => Err(project.api_error(&e)),
    }
}
