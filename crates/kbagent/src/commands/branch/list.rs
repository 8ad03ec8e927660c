//! `branch list`: the development branches of every project (or those named), fetched in
//! parallel; a failing project is reported in `errors[]` without hiding the others.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectsArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{BranchId, Printer, Table, cell};
use crate::select::{ProjectError, fan_out, no_projects, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List development branches across projects (in parallel), the default one included",
    "Examples:\n  kbagent branch list\n  kbagent --json branch list --project prod",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
}

/// One branch, with Keboola's keys.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct BranchRow {
    pub project_alias: String,
    pub id: u64,
    pub name: String,
    #[serde(rename = "isDefault")]
    pub is_default: bool,
    pub created: String,
    pub description: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub branches: Vec<BranchRow>,
    pub errors: Vec<ProjectError>,
    /// Each listed project's active branch (`branch use`), null when it works in production.
    pub active_branches: BTreeMap<String, Option<BranchId>>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.branches.is_empty() {
            return "No branches found.\n".to_owned();
        }
        let mut table = Table::new(["PROJECT", "ID", "NAME", "DEFAULT", "ACTIVE", "CREATED"]);
        for b in &self.branches {
            let active = self
                .active_branches
                .get(&b.project_alias)
                .and_then(Option::as_ref)
                .is_some_and(|a| a.to_string() == b.id.to_string());
            table.row([
                b.project_alias.clone(),
                b.id.to_string(),
                b.name.clone(),
                if b.is_default { "yes" } else { "" }.to_owned(),
                if active { "*" } else { "" }.to_owned(),
                cell(Some(b.created.as_str()).filter(|c| !c.is_empty())),
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
    // command's failure.
    let single = !args.projects.aliases.is_empty() && projects.len() == 1;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = fan_out(ctx, &http, "Listing branches", &projects, workers, |client, _| {
        client.list_dev_branches()
    });
    let mut out = Output {
        branches: Vec::new(),
        errors: Vec::new(),
        active_branches: BTreeMap::new(),
    };
    for (p, timed) in projects.iter().zip(results) {
        out.active_branches
            .insert(p.alias.clone(), p.active_branch().map(|a| a.branch_id));
        match timed.result {
            Ok(list) => out.branches.extend(list.into_iter().map(|b| BranchRow {
                project_alias: p.alias.clone(),
                id: b.id,
                name: b.name,
                is_default: b.is_default,
                created: b.created.unwrap_or_default(),
                description: b.description,
            })),
            Err(e) if single => return Err(e),
            Err(e) => out.errors.push(ProjectError::record(ctx, &p.alias, e)),
        }
    }
    out.branches
        .sort_by(|a, b| (&a.project_alias, a.id).cmp(&(&b.project_alias, b.id)));
    Ok(out)
}
