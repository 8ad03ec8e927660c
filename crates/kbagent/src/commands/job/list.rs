//! `job list`: recent jobs across projects, fetched in parallel and merged newest first; a
//! failing project is reported in `errors[]` (and as a warning) without hiding the others.

use keboola_api::{JobSearch, QueueClient};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::commands::shared::{BranchArg, ProjectsArg, component_id, config_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{Printer, Table, cell};
use crate::select::{ProjectError, fan_out, no_projects, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List recent jobs across projects (in parallel), newest first",
    "Examples:\n  kbagent job list --status error --limit 10\n  kbagent --json job list --project prod --component-id keboola.ex-db-pgsql --config-id 123 --since 2h",
)
.network();

const STATUSES: [&str; 9] = [
    "created",
    "waiting",
    "processing",
    "success",
    "warning",
    "error",
    "terminating",
    "terminated",
    "cancelled",
];

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    /// Only jobs in this status (repeatable)
    #[arg(long, value_name = "STATUS", value_parser = STATUSES)]
    pub status: Vec<String>,
    /// Only jobs of this component
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: Option<String>,
    /// Only jobs of this configuration
    #[arg(long, value_name = "CONFIG_ID", value_parser = config_id)]
    pub config_id: Option<String>,
    /// Only jobs created since then: a timestamp (2026-01-31T12:00:00Z) or an age (90s, 30m, 2h, 7d)
    #[arg(long, value_name = "WHEN", value_parser = since)]
    pub since: Option<String>,
    /// At most N jobs in all (newest first)
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: u32,
    #[command(flatten)]
    pub branch: BranchArg,
}

/// `--since`: an RFC 3339 timestamp or an age, as an RFC 3339 timestamp in UTC.
fn since(value: &str) -> Result<String, CliError> {
    let v = value.trim();
    if let Ok(ts) = v.parse::<jiff::Timestamp>() {
        return Ok(ts.to_string());
    }
    let bad = || {
        CliError::invalid_argument(format!(
            "Invalid --since '{}': give a timestamp such as 2026-01-31T12:00:00Z or an age such as 30m, 2h or 7d",
            v.escape_debug()
        ))
    };
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = v.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60).ok_or_else(bad)?,
        "h" => n.checked_mul(3600).ok_or_else(bad)?,
        "d" => n.checked_mul(86_400).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(secs))
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .map_err(|_| bad())
}

/// One job: Keboola's object with the project it belongs to.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct JobRow {
    #[serde(flatten)]
    pub job: Map<String, Value>,
    pub project_alias: String,
}


#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub jobs: Vec<JobRow>,
    pub errors: Vec<ProjectError>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.jobs.is_empty() {
            return crate::select::nothing_found("jobs", &self.errors);
        }
        let mut table = Table::new(["PROJECT", "JOB ID", "STATUS", "COMPONENT", "CONFIG", "CREATED", "SECONDS"]);
        for row in &self.jobs {
            let s = |k: &str| row.job.get(k).and_then(Value::as_str).map(str::to_owned);
            table.row([
                row.project_alias.clone(),
                cell(s("id")),
                cell(s("status")),
                cell(s("component")),
                cell(s("config")),
                cell(s("createdTime")),
                cell(row.job.get("durationSeconds").filter(|v| !v.is_null())),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let cfg = store.load()?;
    if cfg.projects.is_empty() && args.projects.aliases.is_empty() {
        return Err(no_projects(store));
    }
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    // One project named on the command line is a single-project read: its failure is the
    // command's failure. A fan-out reports failures per project and goes on.
    let single = !args.projects.aliases.is_empty() && projects.len() == 1;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let search = JobSearch {
        component: args.component_id.clone(),
        config: args.config_id.clone(),
        statuses: args.status.clone(),
        branch_id: args.branch.branch.clone(),
        created_time_from: args.since.clone(),
        limit: Some(args.limit),
        ..JobSearch::default()
    };
    let results = fan_out(ctx, &http, "Listing jobs", &projects, workers, |client, p| {
        QueueClient::new(client.http(), &p.entry.stack_url, client.token()).search_jobs(&search)
    });
    let mut out = Output {
        jobs: Vec::new(),
        errors: Vec::new(),
    };
    let mut found = Vec::new();
    for (p, timed) in projects.iter().zip(results) {
        match timed.result {
            Ok(jobs) => found.extend(jobs.into_iter().map(|j| (p.alias.clone(), j))),
            Err(e) => {
                if single {
                    return Err(e);
                }
                out.errors.push(ProjectError::record(ctx, &p.alias, e));
            }
        }
    }
    // Newest first across projects: by creation time, then by id (ids grow).
    found.sort_by_cached_key(|(_, j)| {
        let created = j
            .created_time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        std::cmp::Reverse((created, j.id.parse::<u64>().unwrap_or(0)))
    });
    found.truncate(args.limit as usize);
    out.jobs = found
        .into_iter()
        .map(|(alias, j)| JobRow {
            job: super::job_map(&j),
            project_alias: alias,
        })
        .collect();
    Ok(out)
}
