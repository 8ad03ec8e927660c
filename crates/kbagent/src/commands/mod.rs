//! One module per command noun; this file holds the shared context and the dispatch.

pub mod completions;
pub mod config;
pub mod context;
pub mod doctor;
pub mod project;
pub mod token;

use std::cell::OnceCell;
use std::time::Duration;

use keboola_api::{ApiError, Http, HttpConfig, StackUrl, StorageClient, Token, TokenInfo};
use serde::Serialize;

use crate::cli::{Command, GlobalArgs};
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output::{Printer, Report};
use crate::store::{ConfigFile, ConfigStore, ProjectEntry};

/// `--project ALIAS` for commands that act on one project.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProjectArg {
    /// Project alias or id [default: KBAGENT_PROJECT, the pinned default, or the only project]
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: Option<String>,
}

pub fn dispatch(ctx: &Ctx<'_>, command: Command) -> CliResult<Report> {
    match command {
        Command::Project(args) => project::run(ctx, args),
        Command::Token(args) => token::run(ctx, args),
        Command::Config(args) => config::run(ctx, args),
        Command::Doctor => doctor::run(ctx),
        Command::Context => context::run(ctx),
        Command::Completions(args) => completions::run(ctx, &args),
        Command::Version => Ok(version_report()),
    }
}

fn version_report() -> Report {
    let version = env!("CARGO_PKG_VERSION");
    Report::new(
        serde_json::json!({"version": version}),
        format!("kbagent {version}"),
    )
}

/// Fan-out workers spend nearly all their time waiting on the network, so far more of them
/// than cores pay off: 32 covers a typical account's projects in one or two round trips while
/// keeping the number of simultaneous connections to one stack modest.
const DEFAULT_PARALLELISM: usize = 32;

/// What every command gets: global options, environment, printer, and lazily the config
/// store and the shared HTTP agent (one connection pool for the whole run).
pub struct Ctx<'a> {
    pub global: &'a GlobalArgs,
    pub env: &'a Env,
    pub printer: &'a Printer,
    store: OnceCell<ConfigStore>,
    http: OnceCell<Http>,
}

impl<'a> Ctx<'a> {
    pub fn new(global: &'a GlobalArgs, env: &'a Env, printer: &'a Printer) -> Self {
        Self {
            global,
            env,
            printer,
            store: OnceCell::new(),
            http: OnceCell::new(),
        }
    }

    pub fn store(&self) -> CliResult<&ConfigStore> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let store = ConfigStore::resolve(self.global.config_dir.as_deref(), self.env)?;
        Ok(self.store.get_or_init(|| store))
    }

    pub fn http(&self) -> CliResult<&Http> {
        if let Some(h) = self.http.get() {
            return Ok(h);
        }
        let mut cfg = HttpConfig {
            user_agent: format!("kbagent/{}", env!("CARGO_PKG_VERSION")),
            extra_ca_file: self.env.ca_file.clone(),
            ..HttpConfig::default()
        };
        if let Some(t) = self.env.timeout {
            cfg.read_timeout = t;
            cfg.connect_timeout = cfg.connect_timeout.min(t);
        }
        if let Some(base) = self.env.retry_base {
            cfg.backoff_base = base;
            // Tests shrink the backoff; keep Retry-After within the same scale.
            cfg.max_retry_after = cfg
                .max_retry_after
                .min(base * 10)
                .max(Duration::from_millis(1));
        }
        let http = Http::new(cfg).map_err(|e| CliError::from_api(&e, None, None))?;
        Ok(self.http.get_or_init(|| http))
    }

    /// Number of parallel workers for fan-out: `--parallel` > env > config > the default.
    pub fn parallelism(&self, config: &ConfigFile) -> CliResult<usize> {
        if let Some(n) = self.global.parallel {
            return Ok(n as usize);
        }
        if let Some(raw) = self.env.max_parallel.as_deref() {
            return match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(CliError::config(format!(
                    "KBAGENT_MAX_PARALLEL_WORKERS must be a number from 1 to 100, got '{raw}'"
                ))),
            };
        }
        Ok(config
            .max_parallel_workers
            .map_or(DEFAULT_PARALLELISM, |n| n.clamp(1, 100) as usize))
    }

    pub fn storage(&self, project: &Project) -> CliResult<StorageClient> {
        Ok(StorageClient::new(
            self.http()?,
            &project.entry.stack_url,
            &project.entry.token,
        ))
    }
}

/// A registered project picked for a command, and why it was picked.
#[derive(Debug, Clone)]
pub struct Project {
    pub alias: String,
    pub entry: ProjectEntry,
    pub source: Selection,
}

impl Project {
    pub fn api_error(&self, err: &ApiError) -> CliError {
        CliError::from_api(err, Some(&self.alias), Some(&self.entry.token.masked()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
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
pub fn find_project<'c>(
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

pub fn unknown_project(config: &ConfigFile, store: &ConfigStore, key: &str) -> CliError {
    let known: Vec<&str> = config.projects.keys().map(String::as_str).collect();
    let mut err = CliError::config(format!(
        "Project '{key}' is not registered in {}",
        store.file().display()
    ));
    err = if known.is_empty() {
        err.hint("No projects are registered yet. Add one with `kbagent project add`.")
    } else {
        err.hint(format!("Registered projects: {}.", known.join(", ")))
    };
    err.detail("config_path", store.file().display().to_string())
}

/// Which project a single-project command uses: `--project` > `KBAGENT_PROJECT` > the pinned
/// default > the only registered project.
pub fn select_project(
    ctx: &Ctx<'_>,
    config: &ConfigFile,
    flag: Option<&str>,
) -> CliResult<Project> {
    let store = ctx.store()?;
    let (key, source) = if let Some(p) = flag {
        (p.to_owned(), Selection::Flag)
    } else if let Some(p) = ctx.env.project.as_deref() {
        (p.to_owned(), Selection::Env)
    } else if let Some(p) = config.pinned() {
        (p.to_owned(), Selection::Pin)
    } else if config.projects.len() == 1 {
        let only = config.projects.keys().next().cloned().unwrap_or_default();
        (only, Selection::Sole)
    } else if config.projects.is_empty() {
        return Err(CliError::config(format!(
            "No projects are registered in {}",
            store.file().display()
        ))
        .hint("Add one with `kbagent project add --project ALIAS --url URL --token-stdin`."));
    } else {
        return Err(CliError::config("Several projects are registered and none was chosen")
            .hint("Pass --project ALIAS, set KBAGENT_PROJECT, or pin one with `kbagent project use ALIAS`."));
    };
    let (alias, entry) =
        find_project(config, &key).ok_or_else(|| unknown_project(config, store, &key))?;
    Ok(Project {
        alias: alias.clone(),
        entry: entry.clone(),
        source,
    })
}

/// Verifies the stored token of a selected project.
pub fn verify_project(ctx: &Ctx<'_>, project: &Project) -> CliResult<TokenInfo> {
    verify_token(
        ctx,
        &project.alias,
        &project.entry.stack_url,
        &project.entry.token,
    )
}

/// Verifies a token, mapping failures to CLI errors that name the project and masked token.
pub fn verify_token(
    ctx: &Ctx<'_>,
    alias: &str,
    stack: &StackUrl,
    token: &Token,
) -> CliResult<TokenInfo> {
    StorageClient::new(ctx.http()?, stack, token)
        .verify()
        .map_err(|e| CliError::from_api(&e, Some(alias), Some(&token.masked())))
}

/// Asks the user to confirm on a terminal. Without a terminal the caller must have been told
/// to go ahead (`--yes`), so this is only reached interactively.
pub fn confirm(ctx: &Ctx<'_>, question: &str) -> CliResult<bool> {
    use std::io::{BufRead, Write};
    let mut err = ctx.printer.stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::unexpected(format!("Cannot read the answer: {e}")))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
