//! `workspace list`: the workspaces of every selected project, in parallel; a project that
//! cannot be read is reported in `errors[]` without hiding the others.

use schemars::JsonSchema;
use serde::Serialize;

use super::WorkspaceView;
use crate::commands::shared::{BranchArg, ProjectsArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::output::{Table, cell};
use crate::select::{BranchScope, ProjectError, fan_out, no_projects, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List SQL workspaces of one or more projects",
    "Examples:
  kbagent workspace list
  kbagent --json workspace list --project prod --project dev",
)
.network()
.partial();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Row {
    pub project_alias: String,
    pub branch_id: Option<String>,
    #[serde(flatten)]
    pub workspace: WorkspaceView,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub workspaces: Vec<Row>,
    pub errors: Vec<ProjectError>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.workspaces.is_empty() {
            return crate::select::nothing_found("workspaces", &self.errors);
        }
        let mut table = Table::new(["PROJECT", "WORKSPACE ID", "BACKEND", "SCHEMA", "COMPONENT", "CONFIG ID", "CREATED"]);
        for r in &self.workspaces {
            let w = &r.workspace;
            table.row([
                r.project_alias.clone(),
                w.workspace_id.clone(),
                w.backend.clone(),
                cell(w.schema.as_deref()),
                w.component_id.clone(),
                cell(w.config_id.as_deref()),
                cell(w.created.as_deref()),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }

    fn partial_failure(&self) -> bool {
        !self.errors.is_empty()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let cfg = store.load()?;
    if cfg.projects.is_empty() && args.projects.aliases.is_empty() {
        return Err(no_projects(store));
    }
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    let single = !args.projects.aliases.is_empty() && projects.len() == 1;
    let branches: Vec<Option<String>> = projects
        .iter()
        .map(|p| p.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active))
        .collect();
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = fan_out(ctx, &http, "Listing workspaces", &projects, workers, |client, p| {
        let i = projects.iter().position(|q| q.alias == p.alias).unwrap_or(0);
        client.with_branch(branches[i].as_deref()).list_workspaces()
    });
    let mut out = Output {
        workspaces: Vec::new(),
        errors: Vec::new(),
    };
    for ((p, branch), timed) in projects.iter().zip(&branches).zip(results) {
        match timed.result {
            Ok(list) => out.workspaces.extend(list.iter().map(|w| Row {
                project_alias: p.alias.clone(),
                branch_id: branch.clone(),
                workspace: WorkspaceView::of(w),
            })),
            Err(e) if single => return Err(e),
            Err(e) => out.errors.push(ProjectError::record(ctx, &p.alias, e)),
        }
    }
    Ok(out)
}
