//! `job events`: a job's events (its log), oldest first; with `--follow`, new ones as they
//! arrive until the job finishes.

use std::io::Write;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{event_line, events_after, job_id, log_tail};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show a job's events (its log); --follow streams new ones until the job finishes",
    "Examples:\n  kbagent job events --project prod --job-id 4567\n  kbagent job events --project prod --job-id 4567 --follow\n  kbagent --json job events --project prod --job-id 4567 --limit 500",
)
.network();

/// How often `--follow` looks for new events.
const FOLLOW_POLL: Duration = Duration::from_millis(1000);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the Queue job
    #[arg(long, value_name = "ID", value_parser = job_id)]
    pub job_id: String,
    /// Keep reading new events until the job finishes (people see them as they come;
    /// under --json one document at the end)
    #[arg(long)]
    pub follow: bool,
    /// The last N events (without --follow), or at most N per read (with it)
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: u32,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub job_id: String,
    /// The job's status when the command ended.
    pub job_status: String,
    pub count: usize,
    /// Keboola's event objects, oldest first.
    pub events: Vec<Value>,
    #[serde(skip)]
    #[schemars(skip)]
    lines: Vec<String>,
    /// Whether the lines were already shown while following.
    #[serde(skip)]
    #[schemars(skip)]
    streamed: bool,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = String::new();
        if !self.streamed {
            for line in &self.lines {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!(
            "{} events of job {} (status {}).\n",
            self.count, self.job_id, self.job_status
        ));
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let mut job = super::get_job(ctx, &project, &args.job_id)?;
    let mut events = log_tail(ctx, &project, &job.id, args.limit)?;
    let stream = args.follow && !ctx.printer.json();
    let show = |batch: &[keboola_api::StorageEvent]| {
        if stream {
            let mut err = ctx.printer.stderr();
            for e in batch {
                let _ = writeln!(err, "{}", event_line(e));
            }
        }
    };
    show(&events);
    if args.follow {
        loop {
            let finished = job.finished();
            let since = events.last().map(|e| e.id.clone());
            let batch = events_after(ctx, &project, &job.id, since.as_deref(), args.limit)?;
            show(&batch);
            let got = batch.len();
            events.extend(batch);
            // The events a job writes as it ends may arrive after its status does: one
            // more read once it has finished, then stop when nothing new comes.
            if finished && got == 0 {
                break;
            }
            if got == 0 {
                std::thread::sleep(FOLLOW_POLL);
            }
            job = super::get_job(ctx, &project, &job.id)?;
        }
    }
    Ok(Output {
        project_alias: project.alias,
        job_id: job.id.clone(),
        job_status: job.status.as_str().to_owned(),
        count: events.len(),
        lines: events.iter().map(event_line).collect(),
        events: events.into_iter().map(|e| e.raw).collect(),
        streamed: stream,
    })
}
