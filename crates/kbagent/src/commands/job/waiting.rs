//! Waiting for a job (`job run --wait`, `job wait`) and the errors its outcome becomes: a
//! failed, terminated or still running job is one error document that carries the job,
//! its `result.message` and the tail of its log, so no second call is needed.

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

use keboola_api::{QueueJob, QueueStatus, QueueWait, StorageEvent};
use serde_json::Value;

use super::{event_line, events_after, job_map, log_tail, queue};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::Project;

/// A job that finished well (`success`, or `warning`: done, though a child failed).
pub(crate) struct Finished {
    pub job: QueueJob,
    /// For `warning` (a child failed): the last events, as Keboola returns them.
    pub log_tail: Option<Vec<Value>>,
    pub elapsed_ms: u64,
    pub polls: u32,
}

/// Waits for `job_id`; `timeout` in seconds (`None`: as long as it takes).
pub(crate) fn wait_for(
    ctx: &Ctx<'_>,
    project: &Project,
    job_id: &str,
    timeout: Option<u64>,
    log_tail_lines: u32,
) -> CliResult<Finished> {
    let client = queue(ctx, project)?;
    let wait = QueueWait {
        timeout: timeout.map(Duration::from_secs),
        ..QueueWait::default()
    };
    let live = Live::new(ctx, project);
    let started = Instant::now();
    let waited = client
        .wait_for_job(job_id, &wait, |job| live.show(job, started.elapsed()))
        .map_err(|e| {
            project
                .api_error(&e)
                .reworded(|m| format!("Lost track of job {job_id} while waiting for it: {m}"))
                .detail("job_id", job_id)
                .hint(format!(
                    "The job keeps running; wait again with `kbagent job wait --project {} --job-id {job_id}`.",
                    project.alias
                ))
        })?;
    live.finish(&waited.job);
    let elapsed_ms = waited.elapsed.as_millis() as u64;
    let job = waited.job;
    if !waited.finished {
        let secs = timeout.unwrap_or_default();
        return Err(outcome_error(
            ErrorCode::QueueJobTimeout,
            format!(
                "Queue job {job_id} is still {} after {secs} s; it was left running",
                job.status.as_str()
            ),
            project,
            &job,
            elapsed_ms,
            None,
        )
        .hint(format!(
            "Wait longer with `kbagent job wait --project {} --job-id {job_id}`, or stop it with `kbagent job terminate --project {} --job-id {job_id} --yes`.",
            project.alias, project.alias
        )));
    }
    match job.status {
        QueueStatus::Error => {
            let tail = log_tail(ctx, project, job_id, log_tail_lines);
            let reason = job.result_message().unwrap_or("no message").to_owned();
            Err(outcome_error(
                ErrorCode::QueueJobFailed,
                format!("Queue job {job_id} failed: {reason}"),
                project,
                &job,
                elapsed_ms,
                Some(tail),
            )
            .hint(format!(
                "Fix the configuration, then run it again; the whole log: `kbagent job events --project {} --job-id {job_id}`.",
                project.alias
            )))
        }
        QueueStatus::Terminated | QueueStatus::Cancelled | QueueStatus::Terminating => {
            let tail = log_tail(ctx, project, job_id, log_tail_lines);
            Err(outcome_error(
                ErrorCode::JobTerminated,
                format!(
                    "Queue job {job_id} was {} before it finished",
                    job.status.as_str()
                ),
                project,
                &job,
                elapsed_ms,
                Some(tail),
            ))
        }
        _ => {
            let log_tail = (job.status == QueueStatus::Warning)
                .then(|| log_tail(ctx, project, job_id, log_tail_lines).ok())
                .flatten()
                .map(|events| events.into_iter().map(|e| e.raw).collect());
            Ok(Finished {
                job,
                log_tail,
                elapsed_ms,
                polls: waited.polls,
            })
        }
    }
}

/// The error of a job's outcome, with what an agent needs in `details`: the job, its
/// status and message, and (`logTail`, the Python kbagent's key) the last events.
fn outcome_error(
    code: ErrorCode,
    message: String,
    project: &Project,
    job: &QueueJob,
    elapsed_ms: u64,
    tail: Option<CliResult<Vec<StorageEvent>>>,
) -> CliError {
    let mut err = CliError::new(code, message)
        .project(project.alias.clone())
        .detail("job_id", job.id.clone())
        .detail("status", job.status.as_str())
        .detail("component_id", job.component.clone())
        .detail(
            "config_id",
            job.config.clone().map_or(Value::Null, Value::from),
        )
        .detail(
            "branch_id",
            job.branch_id.clone().map_or(Value::Null, Value::from),
        )
        .detail(
            "result_message",
            job.result_message().map_or(Value::Null, Value::from),
        )
        .detail("elapsed_ms", elapsed_ms)
        .detail("job", Value::Object(job_map(job)));
    match tail {
        Some(Ok(events)) => {
            let raw: Vec<Value> = events.into_iter().map(|e| e.raw).collect();
            err = err.detail("logTail", raw);
        }
        Some(Err(e)) => {
            err = err
                .detail("logTail", Vec::<Value>::new())
                .detail("log_tail_error", e.message);
        }
        None => {}
    }
    err
}

/// What a person watching sees on stderr while waiting: status changes with the elapsed
/// time, and the job's new events. Nothing under `--json` or when stderr is not a terminal
/// (and then no events are fetched either).
struct Live<'c, 'a> {
    ctx: &'c Ctx<'a>,
    project: &'c Project,
    on: bool,
    state: RefCell<LiveState>,
}

#[derive(Default)]
struct LiveState {
    status: Option<String>,
    since: Option<String>,
}

impl<'c, 'a> Live<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>, project: &'c Project) -> Self {
        let on = !ctx.printer.json() && ctx.printer.stderr_is_terminal();
        Live {
            ctx,
            project,
            on,
            state: RefCell::default(),
        }
    }

    fn show(&self, job: &QueueJob, elapsed: Duration) {
        if !self.on {
            return;
        }
        let printer: &Printer = self.ctx.printer;
        let mut state = self.state.borrow_mut();
        let mut err = printer.stderr();
        for e in self.new_events(&job.id, state.since.as_deref()) {
            let _ = writeln!(err, "  {}", event_line(&e));
            state.since = Some(e.id);
        }
        if state.status.as_deref() != Some(job.status.as_str()) {
            let _ = writeln!(
                err,
                "Job {} {} ({:.1} s)",
                job.id,
                job.status.as_str(),
                elapsed.as_secs_f64()
            );
            state.status = Some(job.status.as_str().to_owned());
        }
    }

    fn finish(&self, job: &QueueJob) {
        if !self.on {
            return;
        }
        let state = self.state.borrow();
        let mut err = self.ctx.printer.stderr();
        for e in self.new_events(&job.id, state.since.as_deref()) {
            let _ = writeln!(err, "  {}", event_line(&e));
        }
    }

    /// Events after `since`; a failure to read them only costs the display.
    fn new_events(&self, job_id: &str, since: Option<&str>) -> Vec<StorageEvent> {
        events_after(self.ctx, self.project, job_id, since, 200).unwrap_or_default()
    }
}
