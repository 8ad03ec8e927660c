//! `project list`: the registered projects, from the config file alone.

use schemars::JsonSchema;
use serde::Serialize;

use super::rows::RegistryRow;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, cell};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List registered projects (no API call; tokens masked)",
    "Examples:\n  kbagent project list\n  kbagent --json project list",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// A registered project and whether it is the pinned default.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Row {
    #[serde(flatten)]
    pub project: RegistryRow,
    /// Whether this is the pinned default project.
    pub is_default: bool,
}

/// The projects in alias order.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(transparent)]
pub(crate) struct Output(pub Vec<Row>);

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.0.is_empty() {
            return "No projects registered. Add one with `kbagent project add`.\n".to_owned();
        }
        let mut t = Table::new(["", "ALIAS", "PROJECT", "ID", "STACK", "TOKEN"]);
        for r in &self.0 {
            let s = &r.project.project;
            t.row([
                if r.is_default { "*" } else { "" }.to_owned(),
                s.alias.clone(),
                cell(s.project_name.as_deref()),
                cell(s.project_id),
                s.stack_url.clone(),
                s.token.clone(),
            ]);
        }
        t.render(p.stdout_is_terminal())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let cfg = ctx.store()?.load()?;
    let pinned = cfg.pinned();
    Ok(Output(
        cfg.projects
            .iter()
            .map(|(alias, p)| Row {
                project: RegistryRow::of(alias, p),
                is_default: pinned == Some(alias.as_str()),
            })
            .collect(),
    ))
}
