//! `kbagent init`: a local `.kbagent/` workspace in the current directory, empty or with
//! a copy of the global config's projects. kbagent then uses it from this directory and
//! every directory below it (inside `$HOME`).

use schemars::JsonSchema;
use serde::Serialize;

use super::{CommandOutput, Escalation, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::store::{
    ConfigFile, ConfigSource, ConfigStore, LOCAL_DIR, PermissionPolicy, PolicyMode,
};

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Create a local .kbagent/ workspace (config file) in the current directory",
    "Examples:\n  kbagent init\n  kbagent init --from-global\n  kbagent init --from-global --project prod --project dev\n  kbagent init --from-global --read-only\n  kbagent --json init --from-global --force",
)
.escalations(&[Escalation {
    flag: "--force",
    class: OpClass::Destructive,
}]);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Copy the global config's projects (tokens included) and default project into it
    #[arg(long)]
    pub from_global: bool,
    /// Copy only this project from the global config (repeatable; implies --from-global)
    #[arg(long = "project", value_name = "ALIAS", value_parser = crate::commands::shared::alias)]
    pub projects: Vec<String>,
    /// Replace an existing .kbagent/config.json (its projects are lost unless --from-global)
    #[arg(long)]
    pub force: bool,
    /// Give the new config a policy that refuses every command that is not a read (it then
    /// needs projects, so with --from-global)
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    /// The workspace directory (`<cwd>/.kbagent`).
    pub path: String,
    pub config_file: String,
    /// An existing config was replaced (`--force`).
    pub replaced: bool,
    /// The config the projects were copied from (`--from-global`), else null.
    pub copied_from: Option<String>,
    /// Aliases of the projects in the new config.
    pub projects: Vec<String>,
    pub default_project: Option<String>,
    /// Whether kbagent run from this directory uses the new config now: not when
    /// `--config-dir` or `KBAGENT_CONFIG_DIR` points elsewhere, or when the directory is
    /// outside `$HOME` (the search for `.kbagent/` stays inside it).
    pub active: bool,
    pub message: String,
    /// Whether a new config was written (false only when the existing one was replaced).
    pub created: bool,
    pub projects_copied: usize,
    /// Whether the new config refuses every command that is not a read (`--read-only`).
    pub read_only: bool,
    /// The global default project, when --project left it out (the new config has none).
    pub active_project_cleared: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let verb = if self.replaced { "Replaced" } else { "Created" };
        let mut out = format!("{verb} {}", self.config_file);
        match &self.copied_from {
            Some(from) => out.push_str(&format!(
                " with {} project(s) from {from}\n",
                self.projects.len()
            )),
            None => out.push_str(" (no projects yet: `kbagent project add` adds one)\n"),
        }
        if !self.active {
            out.push_str("kbagent does not use it from here yet: --config-dir or KBAGENT_CONFIG_DIR points elsewhere, or this directory is outside $HOME (pass --config-dir .kbagent).\n");
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if crate::session::headless_project(ctx.env)?.is_some() {
        return Err(ConfigStore::headless_refusal());
    }
    let cwd = ctx.env.cwd.as_deref().ok_or_else(|| {
        CliError::config("Cannot determine the current directory")
            .hint("Run it from an existing directory.")
    })?;
    let dir = cwd.join(LOCAL_DIR);
    let wait = ctx.env.wait_timeout.unwrap_or(crate::store::DEFAULT_WAIT);
    let local = ConfigStore::at(dir.clone(), ConfigSource::Local).with_lock_wait(wait);
    // The config kbagent would use without a local one: `--config-dir`, the variable, or
    // the platform directory (never a `.kbagent/` of a parent directory).
    let global = ConfigStore::resolve_outside_local(ctx.settings.config_dir.as_deref(), ctx.env)?;
    let from_global = args.from_global || !args.projects.is_empty();
    let mut cleared = None;
    let (mut config, copied_from) = if from_global {
        if global.dir() == local.dir() {
            return Err(CliError::usage(
                "--from-global would copy this workspace onto itself",
            ));
        }
        let source = global.load()?;
        if !global.exists() {
            return Err(CliError::config(format!(
                "There is no global config to copy: {} does not exist",
                global.file().display()
            ))
            .hint("Run `kbagent init` without --from-global, then `kbagent project add`."));
        }
        let before = source.pinned().map(str::to_owned);
        let copied = only(source, &args.projects, &global)?;
        if copied.pinned().is_none() {
            cleared = before;
        }
        (copied, Some(global.file().display().to_string()))
    } else {
        (ConfigFile::default(), None)
    };
    if args.read_only {
        // Read-only refuses `project add` too: an empty workspace could never get a project.
        if config.projects.is_empty() {
            return Err(CliError::config(
                "--read-only needs projects: a read-only workspace refuses `project add`",
            )
            .hint("Pass --from-global, or run `kbagent init`, `kbagent project add`, then `kbagent permissions set --mode allow --deny cli:write`."));
        }
        config.permissions = Some(PermissionPolicy {
            mode: PolicyMode::Allow,
            allow: Vec::new(),
            deny: vec!["cli:write".to_owned()],
        });
    }
    let projects: Vec<String> = config.projects.keys().cloned().collect();
    let default_project = config.pinned().map(str::to_owned);
    let replaced = local.initialize(config, args.force)?;
    let active = ConfigStore::resolve(ctx.settings.config_dir.as_deref(), ctx.env)
        .is_ok_and(|s| s.dir() == local.dir());
    // Only a workspace kbagent uses can hide anything.
    if active && let Some((from, count)) = local.shadowed_global(ctx.env) {
        ctx.printer
            .warn(crate::session::shadow_warning(local.dir(), &from, count));
    }
    let message = format!("Initialized local workspace at {}", dir.display());
    Ok(Output {
        message,
        created: !replaced,
        projects_copied: projects.len(),
        read_only: args.read_only,
        active_project_cleared: cleared,
        path: dir.display().to_string(),
        config_file: local.file().display().to_string(),
        replaced,
        copied_from,
        projects,
        default_project,
        active,
    })
}

/// `config` with only the projects named in `aliases` (all when none are named); the
/// default project survives only if it is among them.
fn only(mut config: ConfigFile, aliases: &[String], from: &ConfigStore) -> CliResult<ConfigFile> {
    if aliases.is_empty() {
        return Ok(config);
    }
    if let Some(missing) = aliases.iter().find(|a| !config.projects.contains_key(*a)) {
        let known: Vec<&str> = config.projects.keys().map(String::as_str).collect();
        return Err(CliError::config(format!(
            "Project '{missing}' is not registered in {}",
            from.file().display()
        ))
        .hint(format!("Registered there: {}.", known.join(", "))));
    }
    config.projects.retain(|alias, _| aliases.contains(alias));
    if config
        .pinned()
        .is_some_and(|p| !aliases.iter().any(|a| a == p))
    {
        config.default_project = None;
    }
    Ok(config)
}
