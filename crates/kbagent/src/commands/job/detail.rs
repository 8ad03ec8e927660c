//! `job detail`: one job as the Queue returns it, optionally with the tail of its log.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::run::human_job;
use super::{event_line, job_id, job_map, log_tail};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show one job (status, timing, result), optionally with its last events",
    "Examples:\n  kbagent job detail --project prod --job-id 4567\n  kbagent --json job detail --project prod --job-id 4567 --log-tail-lines 50",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the Queue job
    #[arg(long, value_name = "ID", value_parser = job_id)]
    pub job_id: String,
    /// Also the job's last N events (oldest first)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub log_tail_lines: Option<u32>,
}

/// Keboola's job object, with the project and, when asked, the log tail.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub job: Map<String, Value>,
    pub project_alias: String,
    /// The branch the job ran on; null is the main branch.
    pub branch_id: Option<String>,
    /// With --log-tail-lines: the last events, oldest first, as Keboola returns them
    /// (the Python kbagent's key).
    #[serde(rename = "logTail", skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<Vec<Value>>,
    #[serde(skip)]
    #[schemars(skip)]
    lines: Vec<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = human_job(&self.job, self.branch_id.as_deref(), None);
        let s = |k: &str| self.job.get(k).and_then(Value::as_str).unwrap_or("-");
        out.push_str(&format!(
            "  created {}, started {}, ended {}\n",
            s("createdTime"),
            s("startTime"),
            s("endTime")
        ));
        for line in &self.lines {
            out.push_str(&format!("  {line}\n"));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let job = super::get_job(ctx, &project, &args.job_id)?;
    let (log_tail, lines) = match args.log_tail_lines {
        Some(n) => {
            let events = log_tail(ctx, &project, &job.id, n)?;
            let lines = events.iter().map(event_line).collect();
            (Some(events.into_iter().map(|e| e.raw).collect()), lines)
        }
        None => (None, Vec::new()),
    };
    Ok(Output {
        branch_id: job.branch_id.clone(),
        job: job_map(&job),
        project_alias: project.alias,
        log_tail,
        lines,
    })
}
