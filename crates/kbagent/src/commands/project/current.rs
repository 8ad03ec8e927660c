//! `project current`: which project a single-project command would use, and why.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::output::masked;
use crate::select::{Selection, env_project_error, env_project_shown, select_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show which project a command would use, and why",
    "Examples:\n  kbagent project current\n  KBAGENT_PROJECT=dev kbagent --json project current",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
}

/// How the project was chosen, or `none`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Source {
    Chosen(Selection),
    Nothing(NoSelection),
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NoSelection {
    None,
}

/// How the project a command without `--project` would use was found: `env`
/// (`KBAGENT_PROJECT`), `active_project` (the pinned default), `sole` (the only registered
/// project), `none` (nothing resolves), or `flag` when `--project` was given here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResolvedSource {
    Flag,
    Env,
    ActiveProject,
    Sole,
    None,
}

impl From<Selection> for ResolvedSource {
    fn from(s: Selection) -> Self {
        match s {
            Selection::Flag => Self::Flag,
            Selection::Env => Self::Env,
            Selection::Pin => Self::ActiveProject,
            Selection::Sole => Self::Sole,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub alias: Option<String>,
    pub source: Source,
    pub pinned: Option<String>,
    pub env_override: Option<String>,
    pub project_id: Option<u64>,
    pub stack_url: Option<String>,
    pub projects_registered: usize,
    /// Whether `KBAGENT_PROJECT` names a registered project (alias or project id); null
    /// when it is unset.
    pub env_points_to_configured_project: Option<bool>,
    /// Why commands that use `KBAGENT_PROJECT` fail with it, or null.
    pub env_error: Option<String>,
    /// The project actually used (null if none resolves).
    pub resolved_alias: Option<String>,
    pub resolved_source: ResolvedSource,
    #[serde(skip)]
    #[schemars(skip)]
    human: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        self.human.clone()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let cfg = ctx.store()?.load()?;
    let pinned = cfg.pinned().map(str::to_owned);
    let env_error = env_project_error(ctx, &cfg)?;
    let selected = match select_project(ctx, &cfg, args.project.get()) {
        Ok(p) => Some(p),
        // Nothing registered or nothing chosen is an answer here, and so is an unusable
        // KBAGENT_PROJECT (reported in `env_error`); an unknown alias named with --project,
        // or a broken pin, is still an error.
        Err(_) if args.project.get().is_none() && (env_error.is_some() || pinned.is_none()) => {
            None
        }
        Err(e) => return Err(e),
    };
    let mut human = match &selected {
        Some(p) => format!("{} (chosen by {})\n", p.alias, p.source.describe()),
        None if cfg.projects.is_empty() => "No projects registered.\n".to_owned(),
        None => "No project chosen: pass --project, set KBAGENT_PROJECT, or run `kbagent project use ALIAS`.\n".to_owned(),
    };
    if let Some(e) = &env_error {
        human.push_str(&format!(
            "KBAGENT_PROJECT is unusable: {}\n  Commands that use it fail.\n",
            masked(&e.message)
        ));
    }
    Ok(Output {
        alias: selected.as_ref().map(|p| p.alias.clone()),
        source: selected
            .as_ref()
            .map_or(Source::Nothing(NoSelection::None), |p| {
                Source::Chosen(p.source)
            }),
        pinned,
        env_override: env_project_shown(ctx),
        project_id: selected.as_ref().and_then(|p| p.entry.project_id),
        stack_url: selected.as_ref().map(|p| p.entry.stack_url.to_string()),
        projects_registered: cfg.projects.len(),
        env_points_to_configured_project: ctx.env.project.as_ref().map(|_| env_error.is_none()),
        env_error: env_error.map(|e| masked(&e.message)),
        resolved_alias: selected.as_ref().map(|p| p.alias.clone()),
        resolved_source: selected
            .as_ref()
            .map_or(ResolvedSource::None, |p| p.source.into()),
        human,
    })
}
