//! Which registered projects a command acts on, and the parallel token check that
//! multi-project commands share.

use std::time::Instant;

use keboola_api::{ApiError, Http, StackUrl, StorageClient, Token, TokenInfo};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::fanout;
use crate::output::{ActiveBranch, BranchId, BranchSource, Target, Warning, WarningCode};
use crate::store::{ConfigFile, ConfigStore, ProjectEntry};
use crate::token_input::looks_like_token;

/// `KBAGENT_PROJECT` as it may be shown: a token-shaped value (a token pasted where the
/// alias belongs) is masked.
pub(crate) fn env_project_shown(ctx: &Ctx<'_>) -> Option<String> {
    ctx.env.project.as_deref().map(|v| {
        if looks_like_token(v) {
            keboola_api::mask_token(v)
        } else {
            v.to_owned()
        }
    })
}

fn token_in_project_env() -> CliError {
    CliError::config(
        "KBAGENT_PROJECT holds what looks like an API token, not a project alias; it is not used or shown",
    )
    .hint("Set KBAGENT_PROJECT to a registered alias (see `kbagent project list`), and keep tokens in `kbagent project add --token-stdin`.")
}

/// A registered project picked for a command, and why it was picked.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub alias: String,
    pub entry: ProjectEntry,
    pub source: Selection,
}

impl Project {
    pub fn api_error(&self, err: &ApiError) -> CliError {
        CliError::from_api(err, Some(&self.alias), Some(&self.entry.token.masked()))
            .about_stored_token(&self.alias)
    }

    /// Records this project, on `branch` (`--branch`) or production, as a target of the
    /// command (the envelope's `targets`). For reads, which default to production.
    pub fn declare_target(&self, ctx: &Ctx<'_>, branch: Option<&str>) {
        self.use_branch(ctx, branch, BranchScope::Production);
    }

    /// The project's active branch, pinned with `branch use` (`active_branch_id`, as the
    /// Python tool stores it).
    pub fn active_branch(&self) -> Option<ActiveBranch> {
        let extra = &self.entry.extra;
        extra
            .get("active_branch_id")
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64().map(BranchId::Number),
                Value::String(s) if !s.is_empty() => Some(BranchId::parse(s)),
                _ => None,
            })
            .map(|branch_id| ActiveBranch {
                branch_id,
                branch_name: extra
                    .get("active_branch_name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
    }

    /// The branch a command works in: `--branch` when given, else the active branch for
    /// commands whose `scope` follows it, else production (`None`). Records the choice as
    /// the command's target (the envelope's `targets`), so every result names its branch.
    pub fn use_branch(
        &self,
        ctx: &Ctx<'_>,
        explicit: Option<&str>,
        scope: BranchScope,
    ) -> Option<String> {
        let active = self.active_branch();
        let (branch, source) = match (explicit, scope, &active) {
            (Some(b), _, _) => (Some(b.to_owned()), BranchSource::Explicit),
            (None, BranchScope::Active, Some(a)) => {
                (Some(a.branch_id.to_string()), BranchSource::Active)
            }
            _ => (None, BranchSource::Production),
        };
        let mut target = Target::new(&self.alias, branch.as_deref(), active);
        target.branch_source = source;
        if source == BranchSource::Active {
            target.branch_name = target
                .active_branch
                .as_ref()
                .and_then(|a| a.branch_name.clone());
        }
        ctx.printer.target(target);
        branch
    }
}

/// Whether a command follows the project's active branch (`branch use`) when no
/// `--branch` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchScope {
    /// Storage reads: production unless `--branch`, as in the Python tool.
    Production,
    /// Configurations, storage writes, job runs: the active branch when one is set.
    Active,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Selection {
    /// `--project` on the command line.
    Flag,
    /// `KBAGENT_PROJECT`.
    Env,
    /// The default pinned with `project use` (or the first project added).
    Pin,
    /// The only registered project.
    Sole,
}

impl Selection {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Flag => "--project",
            Self::Env => "KBAGENT_PROJECT",
            Self::Pin => "the default project (kbagent project use)",
            Self::Sole => "the only registered project",
        }
    }
}

/// Finds a project by alias, or by project id when no alias matches.
pub(crate) fn find_project<'c>(
    config: &'c ConfigFile,
    key: &str,
) -> Option<(&'c String, &'c ProjectEntry)> {
    config.projects.get_key_value(key).or_else(|| {
        let id: u64 = key.parse().ok()?;
        let mut hits = config
            .projects
            .iter()
            .filter(|(_, p)| p.project_id == Some(id));
        let hit = hits.next()?;
        hits.next().is_none().then_some(hit)
    })
}

pub(crate) fn unknown_project(config: &ConfigFile, store: &ConfigStore, key: &str) -> CliError {
    let known: Vec<&str> = config.projects.keys().map(String::as_str).collect();
    // A token given as the project is never echoed.
    let shown = if looks_like_token(key) {
        keboola_api::mask_token(key)
    } else {
        key.to_owned()
    };
    let mut err = CliError::config(format!(
        "Project '{shown}' is not registered in {}",
        store.file().display()
    ));
    err = if known.is_empty() {
        err.hint("No projects are registered yet. Add one with `kbagent project add`.")
    } else {
        err.hint(format!("Registered projects: {}.", known.join(", ")))
    };
    err.detail("config_path", store.file().display().to_string())
}

/// Nothing to act on: no project is registered at all.
pub(crate) fn no_projects(store: &ConfigStore) -> CliError {
    CliError::config(format!(
        "No projects are registered in {}",
        store.file().display()
    ))
    .hint("Add one with `kbagent project add --project ALIAS --url URL --token-stdin`.")
    .detail("config_path", store.file().display().to_string())
}

/// Which project a single-project command uses: `--project` > `KBAGENT_PROJECT` > the pinned
/// default > the only registered project.
pub(crate) fn select_project(
    ctx: &Ctx<'_>,
    config: &ConfigFile,
    flag: Option<&str>,
) -> CliResult<Project> {
    let store = ctx.store()?;
    let (key, source) = if let Some(p) = flag {
        (p.to_owned(), Selection::Flag)
    } else if let Some(p) = ctx.env.project.as_deref() {
        if looks_like_token(p) {
            return Err(token_in_project_env());
        }
        (p.to_owned(), Selection::Env)
    } else if let Some(p) = config.pinned() {
        (p.to_owned(), Selection::Pin)
    } else if config.projects.len() == 1 {
        let only = config.projects.keys().next().cloned().unwrap_or_default();
        (only, Selection::Sole)
    } else if config.projects.is_empty() {
        return Err(no_projects(store));
    } else {
        return Err(CliError::config("Several projects are registered and none was chosen")
            .hint("Pass --project ALIAS, set KBAGENT_PROJECT, or pin one with `kbagent project use ALIAS`."));
    };
    let (alias, entry) =
        find_project(config, &key).ok_or_else(|| unknown_project(config, store, &key))?;
    ctx.set_project(alias);
    Ok(Project {
        alias: alias.clone(),
        entry: entry.clone(),
        source,
    })
}

/// Why `KBAGENT_PROJECT` cannot be used (a token, or no registered project matches), or
/// `None` when it is unset or names a registered project.
pub(crate) fn env_project_error(ctx: &Ctx<'_>, config: &ConfigFile) -> CliResult<Option<CliError>> {
    let Some(value) = ctx.env.project.as_deref() else {
        return Ok(None);
    };
    if looks_like_token(value) {
        return Ok(Some(token_in_project_env()));
    }
    let store = ctx.store()?;
    Ok(find_project(config, value)
        .is_none()
        .then(|| unknown_project(config, store, value)))
}

/// Loads the config and selects one project (the usual start of a single-project command).
pub(crate) fn load_and_select(ctx: &Ctx<'_>, flag: Option<&str>) -> CliResult<Project> {
    let cfg = ctx.store()?.load()?;
    select_project(ctx, &cfg, flag)
}

/// Projects named with repeatable `--project`, or all registered ones.
pub(crate) fn select_many(
    ctx: &Ctx<'_>,
    cfg: &ConfigFile,
    keys: &[String],
) -> CliResult<Vec<Project>> {
    let store = ctx.store()?;
    if keys.is_empty() {
        return Ok(cfg
            .projects
            .iter()
            .map(|(a, e)| Project {
                alias: a.clone(),
                entry: e.clone(),
                source: Selection::Sole,
            })
            .collect());
    }
    let mut out: Vec<Project> = Vec::new();
    for key in keys {
        let (alias, entry) =
            find_project(cfg, key).ok_or_else(|| unknown_project(cfg, store, key))?;
        if !out.iter().any(|p| &p.alias == alias) {
            out.push(Project {
                alias: alias.clone(),
                entry: entry.clone(),
                source: Selection::Flag,
            });
        }
    }
    Ok(out)
}

/// Verifies the stored token of a selected project.
pub(crate) fn verify_project(ctx: &Ctx<'_>, project: &Project) -> CliResult<TokenInfo> {
    verify_token(
        ctx,
        &project.alias,
        &project.entry.stack_url,
        &project.entry.token,
    )
    .map_err(|e| e.about_stored_token(&project.alias))
}

/// Verifies a token, mapping failures to CLI errors that name the project and masked token.
pub(crate) fn verify_token(
    ctx: &Ctx<'_>,
    alias: &str,
    stack: &StackUrl,
    token: &Token,
) -> CliResult<TokenInfo> {
    StorageClient::new(ctx.http()?, stack, token)
        .verify()
        .map_err(|e| CliError::from_api(&e, Some(alias), Some(&token.masked())))
}

/// One project's token check: the verify result and how long the request took.
pub(crate) type Checked = Timed<TokenInfo>;

/// Verifies every project's token in parallel, results in the order of `projects`.
pub(crate) fn verify_all(
    ctx: &Ctx<'_>,
    http: &Http,
    projects: &[Project],
    workers: usize,
) -> Vec<Checked> {
    fan_out(
        ctx,
        http,
        "Verifying tokens",
        projects,
        workers,
        |client, _| client.verify(),
    )
}

/// Runs one API call per project in parallel, timing each; errors name the project.
pub(crate) fn fan_out<R, F>(
    ctx: &Ctx<'_>,
    http: &Http,
    label: &str,
    projects: &[Project],
    workers: usize,
    call: F,
) -> Vec<Timed<R>>
where
    R: Send,
    F: Fn(&StorageClient, &Project) -> Result<R, ApiError> + Sync,
{
    fanout::map(ctx.printer, label, projects, workers, |p| {
        let start = Instant::now();
        let client = StorageClient::new(http, &p.entry.stack_url, &p.entry.token);
        let result = call(&client, p).map_err(|e| p.api_error(&e));
        Timed {
            elapsed_ms: start.elapsed().as_millis() as u64,
            result,
        }
    })
}

/// A fanned-out call's result and how long it took.
pub(crate) struct Timed<R> {
    pub elapsed_ms: u64,
    pub result: CliResult<R>,
}

/// What a multi-project listing says when it found nothing: `No {what} found.`, and how
/// many projects failed when some did.
pub(crate) fn nothing_found(what: &str, errors: &[ProjectError]) -> String {
    match errors.len() {
        0 => format!("No {what} found.\n"),
        n => format!("No {what} found; {n} of the projects failed (see the warnings above).\n"),
    }
}

/// A project a multi-project read could not read: one item of its `errors[]`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProjectError {
    pub project_alias: String,
    pub error_code: ErrorCode,
    pub message: String,
    pub retryable: bool,
}

impl ProjectError {
    /// Records a failed project of a fan-out, and warns (with the error's first hint) so
    /// people see it too.
    pub fn record(ctx: &Ctx<'_>, alias: &str, err: CliError) -> Self {
        let mut warning = Warning::new(
            WarningCode::ProjectFailed,
            format!("Project '{alias}': {}", err.message),
        )
        .with("project_alias", alias.to_owned());
        if let Some(hint) = err.hints.first() {
            warning = warning.hint(hint.clone());
        }
        ctx.printer.warn(warning);
        Self {
            project_alias: alias.to_owned(),
            error_code: err.code,
            message: err.message,
            retryable: err.retryable,
        }
    }
}
