//! `job terminate`: ask the Queue to stop jobs (a created or waiting job is cancelled, a
//! processing one is terminated). The result sorts every id into `killed`,
//! `already_finished`, `not_found` or `failed`, as the Python kbagent does.

use keboola_api::{QueueJob, QueueStatus};
use schemars::JsonSchema;
use serde::Serialize;

use super::{get_job, job_id, queue};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Terminate running jobs (use to stop a runaway or stuck job)",
    "Examples:\n  kbagent job terminate --project prod --job-id 4567 --dry-run\n  kbagent job terminate --project prod --job-id 4567 --job-id 4568 --yes",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of a Queue job (repeatable)
    #[arg(long = "job-id", value_name = "ID", value_parser = job_id, required = true)]
    pub job_ids: Vec<String>,
    /// Show the jobs that would be terminated; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// A job the Queue accepted to stop, with its state after the request.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Killed {
    pub id: String,
    pub status: String,
    #[serde(rename = "desiredStatus")]
    pub desired_status: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AlreadyFinished {
    pub id: String,
    /// `terminal_state` (finished before the request) or `not_killable` (the Queue
    /// refused: it finished meanwhile).
    pub reason: String,
    pub status: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Failed {
    pub id: String,
    pub error_code: ErrorCode,
    pub error: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub killed: Vec<Killed>,
    pub already_finished: Vec<AlreadyFinished>,
    pub not_found: Vec<String>,
    pub failed: Vec<Failed>,
    pub dry_run: bool,
    /// With --dry-run: the jobs that would be terminated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_terminate: Option<Vec<String>>,
    /// The person said no; nothing was done.
    pub aborted: bool,
    pub project_alias: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = String::new();
        if self.aborted {
            out.push_str("Aborted; no job was touched.\n");
        }
        if let Some(ids) = &self.would_terminate {
            out.push_str(&format!(
                "Would terminate {} job(s): {}; nothing was changed.\n",
                ids.len(),
                ids.join(", ")
            ));
        }
        for k in &self.killed {
            out.push_str(&format!("Job {} is being terminated ({}).\n", k.id, k.status));
        }
        for f in &self.already_finished {
            out.push_str(&format!("Job {} had already finished ({}).\n", f.id, f.status));
        }
        for id in &self.not_found {
            out.push_str(&format!("Job {id} was not found.\n"));
        }
        for f in &self.failed {
            out.push_str(&format!("Job {}: {}\n", f.id, f.error));
        }
        out
    }

    fn partial_failure(&self) -> bool {
        !self.failed.is_empty() || !self.not_found.is_empty()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let mut out = Output {
        killed: Vec::new(),
        already_finished: Vec::new(),
        not_found: Vec::new(),
        failed: Vec::new(),
        dry_run: args.dry_run,
        would_terminate: None,
        aborted: false,
        project_alias: project.alias.clone(),
    };
    let mut ids = args.job_ids.clone();
    ids.dedup();
    let single = ids.len() == 1;
    let mut running: Vec<QueueJob> = Vec::new();
    for id in &ids {
        match get_job(ctx, &project, id) {
            Ok(job) if job.finished() => out.already_finished.push(finished(&job, "terminal_state")),
            Ok(job) => running.push(job),
            // One job named: its failure is the command's, with its code.
            Err(e) if single => return Err(e),
            Err(e) if e.code == ErrorCode::NotFound => out.not_found.push(id.clone()),
            Err(e) => out.failed.push(Failed {
                id: id.clone(),
                error_code: e.code,
                error: e.message,
            }),
        }
    }
    if running.is_empty() {
        return Ok(out);
    }
    if args.dry_run {
        out.would_terminate = Some(running.iter().map(|j| j.id.clone()).collect());
        return Ok(out);
    }
    let what: Vec<String> = running
        .iter()
        .map(|j| format!("{} ({} / {}, {})", j.id, j.component, j.config.as_deref().unwrap_or("-"), j.status.as_str()))
        .collect();
    let question = format!(
        "Terminate job{} {} of project '{}'?",
        if what.len() == 1 { "" } else { "s" },
        what.join(", "),
        project.alias
    );
    if !ctx.confirm(args.yes, &question)? {
        out.aborted = true;
        return Ok(out);
    }
    let client = queue(ctx, &project)?;
    for job in running {
        match client.kill_job(&job.id) {
            Ok(k) => out.killed.push(Killed {
                id: job.id.clone(),
                status: k.status.as_str().to_owned(),
                desired_status: k.desired_status,
            }),
            // The Queue refuses a job that is no longer killable: it finished meanwhile.
            Err(e) if e.status() == Some(400) => match get_job(ctx, &project, &job.id) {
                Ok(now) if now.finished() || now.status == QueueStatus::Terminating => {
                    out.already_finished.push(finished(&now, "not_killable"));
                }
                _ => {
                    let err = project.api_error(&e);
                    out.failed.push(Failed {
                        id: job.id.clone(),
                        error_code: err.code,
                        error: err.message,
                    });
                }
            },
            Err(e) => {
                let err = project.api_error(&e);
                out.failed.push(Failed {
                    id: job.id.clone(),
                    error_code: err.code,
                    error: err.message,
                });
            }
        }
    }
    Ok(out)
}

fn finished(job: &QueueJob, reason: &str) -> AlreadyFinished {
    AlreadyFinished {
        id: job.id.clone(),
        reason: reason.to_owned(),
        status: job.status.as_str().to_owned(),
    }
}
