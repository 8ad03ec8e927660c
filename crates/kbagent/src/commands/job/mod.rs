//! `kbagent job ...`: run component configurations as Queue jobs, wait for them, read their
//! events, list and terminate them. One line per verb below; the waiting and the outcome
//! errors shared by `run` and `wait` are in `waiting.rs`.

use clap::Args;
use keboola_api::{EventsQuery, QueueClient, QueueJob, StorageEvent};
use serde_json::{Map, Value};

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::select::Project;

mod waiting;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent job run --project prod --component-id keboola.snowflake-transformation --config-id 123 --wait
  kbagent job list --status error --limit 10
  kbagent job detail --project prod --job-id 4567
  kbagent job events --project prod --job-id 4567 --follow
  kbagent job terminate --project prod --job-id 4567 --yes";

#[derive(Debug, Args)]
pub(crate) struct JobArgs {
    #[command(subcommand)]
    pub command: JobCommand,
}

verbs!(JobCommand {
    "list" => List(list),
    "detail" => Detail(detail),
    "run" => Run(run),
    "wait" => Wait(wait),
    "terminate" => Terminate(terminate),
    "events" => Events(events),
});

/// Most events a log tail or one read of events asks for (Keboola's maximum).
const MAX_EVENTS: u32 = 10_000;

/// A Queue job id: a number.
pub(crate) fn job_id(id: &str) -> Result<String, CliError> {
    let ok = !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(id.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid job id '{}': Queue job ids are numbers",
            id.escape_debug()
        )))
    }
}

/// `--timeout S`: seconds, more than zero.
pub(crate) fn seconds(value: &str) -> Result<u64, CliError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(CliError::invalid_argument(format!(
            "Invalid timeout '{}': give a whole number of seconds, more than 0",
            value.escape_debug()
        ))),
    }
}

pub(crate) fn queue(ctx: &Ctx<'_>, project: &Project) -> CliResult<QueueClient> {
    Ok(QueueClient::new(
        ctx.http()?,
        &project.entry.stack_url,
        &project.entry.token,
    ))
}

/// A job as an object for `data`: Keboola's keys as they came.
pub(crate) fn job_map(job: &QueueJob) -> Map<String, Value> {
    match &job.raw {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    }
}

/// A job that could not be read: a 404 says which job in which project.
pub(crate) fn get_job(ctx: &Ctx<'_>, project: &Project, id: &str) -> CliResult<QueueJob> {
    queue(ctx, project)?.get_job(id).map_err(|e| {
        let err = project.api_error(&e);
        if e.status() != Some(404) {
            return err;
        }
        err.reworded(|_| format!("Job {id} was not found in project '{}'", project.alias))
            .hint(format!(
                "List recent jobs with `kbagent job list --project {}`.",
                project.alias
            ))
    })
}

/// The last `lines` events of a job, oldest first. Events are filtered by the job's own id
/// (a nested job's dotted run id matches nothing).
pub(crate) fn log_tail(
    ctx: &Ctx<'_>,
    project: &Project,
    job_id: &str,
    lines: u32,
) -> CliResult<Vec<StorageEvent>> {
    let mut events = ctx
        .storage(project)?
        .list_events(&EventsQuery {
            run_id: Some(job_id.to_owned()),
            limit: Some(lines.clamp(1, MAX_EVENTS)),
            ..EventsQuery::default()
        })
        .map_err(|e| project.api_error(&e))?;
    sort_oldest_first(&mut events);
    Ok(events)
}

pub(crate) fn sort_oldest_first(events: &mut [StorageEvent]) {
    events.sort_by_key(|e| (e.numeric_id().unwrap_or(u64::MAX), e.id.clone()));
}

/// One event as a line for people.
pub(crate) fn event_line(e: &StorageEvent) -> String {
    let time = e.created.as_deref().unwrap_or("");
    let kind = if e.kind.is_empty() { "info" } else { &e.kind };
    format!("{time} [{kind}] {}", e.message)
}

/// The branch a job ran on, for people.
pub(crate) fn branch_name(branch: Option<&str>) -> String {
    branch.map_or_else(|| "main".to_owned(), |b| format!("branch {b}"))
}

/// The job's events after event `since` (all when `None`), oldest first. Filtered here as
/// well, so an event is never shown twice.
pub(crate) fn events_after(
    ctx: &Ctx<'_>,
    project: &Project,
    job_id: &str,
    since: Option<&str>,
    limit: u32,
) -> CliResult<Vec<StorageEvent>> {
    let mut events = ctx
        .storage(project)?
        .list_events(&EventsQuery {
            run_id: Some(job_id.to_owned()),
            since_id: since.map(str::to_owned),
            limit: Some(limit.clamp(1, MAX_EVENTS)),
            oldest_first: true,
            ..EventsQuery::default()
        })
        .map_err(|e| project.api_error(&e))?;
    if let Some(after) = since.and_then(|s| s.parse::<u64>().ok()) {
        events.retain(|e| e.numeric_id().is_none_or(|id| id > after));
    }
    sort_oldest_first(&mut events);
    Ok(events)
}
