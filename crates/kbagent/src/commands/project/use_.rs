//! `project use`: pin the default project.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Warning, WarningCode};
use crate::select::{Selection, env_project_shown, find_project, unknown_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Pin the default project used when --project is not given",
    "Examples:\n  kbagent project use prod",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Alias (or project id) to use by default
    pub alias: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub alias: String,
    /// The previously pinned alias.
    pub previous: Option<String>,
    /// Always `pin`.
    pub source: Selection,
    /// `KBAGENT_PROJECT` when set: it still wins over the pin.
    pub env_override: Option<String>,
    pub active_project_set: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("Default project is now '{}'.\n", self.alias)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let key = args.alias.clone();
    let (alias, previous) = store.update(|cfg| {
        let alias = find_project(cfg, &key)
            .map(|(a, _)| a.clone())
            .ok_or_else(|| unknown_project(cfg, store, &key))?;
        ctx.set_project(&alias);
        let previous = cfg.pinned().map(str::to_owned);
        cfg.default_project = Some(alias.clone());
        Ok((alias, previous))
    })?;
    let env_override = env_project_shown(ctx);
    if let Some(env) = &env_override {
        ctx.printer.warn(Warning::new(
            WarningCode::EnvOverride,
            format!("KBAGENT_PROJECT={env} is set and takes precedence over the pinned default."),
        ));
    }
    Ok(Output {
        active_project_set: alias.clone(),
        alias,
        previous,
        source: Selection::Pin,
        env_override,
    })
}
