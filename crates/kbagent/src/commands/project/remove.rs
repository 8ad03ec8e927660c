//! `project remove`: forget a registered project (no API call).

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::{find_project, unknown_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Forget a registered project",
    "Examples:\n  kbagent project remove --project old",
)
.also(&[OpClass::Admin]);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Alias (or project id) of the project to forget
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub alias: String,
    pub message: String,
    /// The alias when the removed project was the default (now none is pinned), else null.
    pub active_project_cleared: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut human = format!("Removed project '{}'.\n", self.alias);
        if self.active_project_cleared.is_some() {
            human.push_str("It was the default project; pin another with `kbagent project use`.\n");
        }
        human
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let key = args.alias.clone();
    let (alias, cleared) = store.update(|cfg| {
        let alias = find_project(cfg, &key)
            .map(|(a, _)| a.clone())
            .ok_or_else(|| unknown_project(cfg, store, &key))?;
        ctx.set_project(&alias);
        cfg.projects.remove(&alias);
        let cleared = cfg.pinned() == Some(alias.as_str());
        if cleared {
            cfg.default_project = None;
        }
        Ok((alias, cleared))
    })?;
    Ok(Output {
        message: format!("Project '{alias}' removed."),
        active_project_cleared: cleared.then(|| alias.clone()),
        alias,
    })
}
