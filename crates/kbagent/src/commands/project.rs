//! `kbagent project ...`: register projects, inspect them, switch between them, and mint
//! fresh project tokens through the Manage API.

use std::time::Instant;

use clap::{Args, Subcommand};
use keboola_api::{
    CreateTokenRequest, Http, ManageClient, StackUrl, StorageClient, Token, TokenInfo,
};
use serde_json::{Value, json};

use super::{
    Ctx, Project, ProjectArg, Selection, confirm, find_project, select_project, unknown_project,
    verify_project, verify_token,
};
use crate::authority::{
    self, Authority, ManageTokenSource, MintPower, describe_plan, non_master_warning,
    planned_authority,
};
use crate::error::{CliError, CliResult, ErrorCode};
use crate::fanout;
use crate::output::{BOLD, GREEN, Report, Table, Warning, cell};
use crate::store::{ConfigFile, ProjectEntry};
use crate::token_input::{TokenSourceArgs, missing_token_error};

pub const EXAMPLES: &str = "\
Examples:
  kbagent project add --project prod --url https://connection.keboola.com --token-stdin < token.txt
  kbagent project list
  kbagent project use prod
  kbagent project status
  kbagent project refresh --project prod";

const DEFAULT_STACK: &str = "https://connection.keboola.com";

#[derive(Debug, Args)]
pub struct ProjectArgs {
    #[command(subcommand)]
    pub command: ProjectCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Register a project: verify its Storage API token and store it
    #[command(
        after_help = "Examples:\n  kbagent project add --project prod --url https://connection.eu-central-1.keboola.com --token-stdin < token.txt\n  KBC_TOKEN=... kbagent project add --project dev"
    )]
    Add(AddArgs),
    /// List registered projects (no API call; tokens masked)
    #[command(after_help = "Examples:\n  kbagent project list\n  kbagent --json project list")]
    List,
    /// Forget a registered project
    #[command(after_help = "Examples:\n  kbagent project remove --project old")]
    Remove(RemoveArgs),
    /// Change a project's URL, token or alias (a new token or URL is verified first)
    #[command(
        after_help = "Examples:\n  kbagent project edit --project prod --token-stdin < master-token.txt\n  kbagent project edit --project prod --new-alias production"
    )]
    Edit(EditArgs),
    /// Pin the default project used when --project is not given
    #[command(after_help = "Examples:\n  kbagent project use prod")]
    Use(UseArgs),
    /// Show which project a command would use, and why
    #[command(
        after_help = "Examples:\n  kbagent project current\n  KBAGENT_PROJECT=dev kbagent --json project current"
    )]
    Current(CurrentArgs),
    /// Verify every project's token in parallel (response time, master flag, expiry)
    #[command(
        after_help = "Examples:\n  kbagent project status\n  kbagent --json project status --project prod --project dev"
    )]
    Status(StatusArgs),
    /// Show a project's metadata and what its token can do
    #[command(after_help = "Examples:\n  kbagent project info --project prod")]
    Info(InfoArgs),
    /// Mint a new project token through the Manage API and store it
    #[command(
        after_help = "Examples:\n  kbagent project refresh --project prod\n  kbagent --allow-env-manage-token --json project refresh --all --yes\n  kbagent project refresh --all --dry-run"
    )]
    Refresh(RefreshArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Alias for the project (letters, digits, '_', '.', '-')
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: String,
    /// Stack URL [default: KBC_STORAGE_API_URL, then https://connection.keboola.com]
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub token: TokenSourceArgs,
    /// Do not warn when the token cannot mint child tokens
    #[arg(long)]
    pub no_warn_non_master: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Alias (or project id) of the project to forget
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: String,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Alias (or project id) of the project to change
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: String,
    /// New stack URL
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub token: TokenSourceArgs,
    /// New alias
    #[arg(long, value_name = "ALIAS")]
    pub new_alias: Option<String>,
    /// Do not warn when the new token cannot mint child tokens
    #[arg(long)]
    pub no_warn_non_master: bool,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// Alias (or project id) to use by default
    pub alias: String,
}

#[derive(Debug, Args)]
pub struct CurrentArgs {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these projects (repeatable; default: all)
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub aliases: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Project to refresh (repeatable)
    #[arg(
        short = 'p',
        long = "project",
        value_name = "ALIAS",
        conflicts_with = "all"
    )]
    pub aliases: Vec<String>,
    /// Every registered project whose token is invalid (all of them with --force)
    #[arg(long)]
    pub all: bool,
    /// With --all, also refresh projects whose token still works
    #[arg(long)]
    pub force: bool,
    /// Ask for the broadest privileges, including canManageTokens (default)
    #[arg(long, overrides_with = "no_master")]
    pub master: bool,
    /// Ask for a regular token without canManageTokens
    #[arg(long)]
    pub no_master: bool,
    /// Replace a working master token with the new (non-master) token
    #[arg(long)]
    pub replace_master: bool,
    /// Show what would be done; mint nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Description of the new token (the Manage user's email is appended when known)
    #[arg(long, value_name = "TEXT", default_value = "kbagent")]
    pub token_description: String,
    /// Expire the new token after this many seconds (default: never)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    pub token_expires_in: Option<u64>,
}

pub fn run(ctx: &Ctx<'_>, args: ProjectArgs) -> CliResult<Report> {
    match args.command {
        ProjectCommand::Add(a) => add(ctx, &a),
        ProjectCommand::List => list(ctx),
        ProjectCommand::Remove(a) => remove(ctx, &a),
        ProjectCommand::Edit(a) => edit(ctx, &a),
        ProjectCommand::Use(a) => use_project(ctx, &a),
        ProjectCommand::Current(a) => current(ctx, &a),
        ProjectCommand::Status(a) => status(ctx, &a),
        ProjectCommand::Info(a) => info(ctx, &a),
        ProjectCommand::Refresh(a) => refresh(ctx, &a),
    }
}

pub fn validate_alias(alias: &str) -> CliResult<()> {
    if crate::token_input::looks_like_token(alias) {
        return Err(CliError::usage("The project alias looks like an API token (not shown); refusing to store a token as a name").hint("Choose a short name such as 'prod' for --project and pass the token with --token-stdin, --token-file FILE or --token-env VAR."));
    }
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !alias.starts_with(['-', '.']);
    if ok {
        Ok(())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid project alias '{}': use 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.'",
            alias.escape_debug()
        )))
    }
}

pub fn parse_stack_url(raw: &str) -> CliResult<StackUrl> {
    StackUrl::parse(raw).map_err(|e| {
        CliError::invalid_argument(format!(
            "Invalid stack URL '{}': {e}",
            without_userinfo(raw).escape_debug()
        ))
            .hint("Use the https:// URL of your Keboola stack, e.g. https://connection.keboola.com (http:// only for a local emulator on 127.0.0.1 or localhost).")
    })
}

/// The URL as typed, for an error message, with the part before an '@' in its authority
/// hidden: it may be a password.
fn without_userinfo(raw: &str) -> String {
    let (scheme, rest) = raw
        .find("://")
        .map_or(("", raw), |i| (&raw[..i + 3], &raw[i + 3..]));
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => raw.to_owned(),
    }
}

fn project_json(alias: &str, entry: &ProjectEntry) -> Value {
    json!({
        "alias": alias,
        "project_name": entry.project_name,
        "project_id": entry.project_id,
        "stack_url": entry.stack_url.as_str(),
        "token": entry.token.masked(),
    })
}

/// A project as `project list` and `project status` report it, with the fields the
/// Python kbagent's listings carry (`active_branch_id`, `org_name` are kept from its config).
fn registry_row(alias: &str, entry: &ProjectEntry) -> Value {
    let kept = |key: &str| entry.extra.get(key).cloned().unwrap_or(Value::Null);
    let mut row = project_json(alias, entry);
    row["auth_mode"] = json!("static");
    row["org_id"] = json!(entry.org_id);
    row["org_name"] = kept("org_name");
    row["active_branch_id"] = kept("active_branch_id");
    row
}

fn add(ctx: &Ctx<'_>, args: &AddArgs) -> CliResult<Report> {
    validate_alias(&args.alias)?;
    let raw_url = args
        .url
        .as_deref()
        .or(ctx.env.storage_api_url.as_deref())
        .unwrap_or(DEFAULT_STACK);
    let stack = parse_stack_url(raw_url)?;
    let store = ctx.store()?;
    // Fail on a duplicate before spending a request; checked again under the lock below.
    let existing = store.load()?;
    if existing.projects.contains_key(&args.alias) {
        return Err(duplicate_alias(&args.alias));
    }
    let token = args
        .token
        .read(ctx.printer, ctx.env.kbc_token(), true, ctx.env.wait_timeout)?
        .ok_or_else(missing_token_error)?;
    let info = verify_token(ctx, &args.alias, &stack, &token)?;
    let entry = ProjectEntry {
        stack_url: stack,
        token,
        project_name: info.owner.as_ref().map(|o| o.name.clone()),
        project_id: info.owner.as_ref().map(|o| o.id),
        org_id: info.organization_id,
        extra: serde_json::Map::new(),
    };
    let alias = args.alias.clone();
    let stored = entry.clone();
    let became_default = store.update(move |cfg| {
        if cfg.projects.contains_key(&alias) {
            return Err(duplicate_alias(&alias));
        }
        cfg.projects.insert(alias.clone(), stored);
        let first = cfg.pinned().is_none();
        if first {
            cfg.default_project = Some(alias);
        }
        Ok(first)
    })?;
    if !args.no_warn_non_master
        && let Some(w) = non_master_warning(&args.alias, &info)
    {
        ctx.printer.warn(w);
    }
    let mut data = project_json(&args.alias, &entry);
    data["org_id"] = json!(entry.org_id);
    data["org_name"] = Value::Null;
    data["active_project_set"] = json!(became_default.then_some(&args.alias));
    data["token_id"] = json!(info.id);
    data["is_master_token"] = json!(info.is_master_token);
    data["can_manage_tokens"] = json!(info.can_manage_tokens);
    let mut human = format!(
        "{} project '{}' ({}, id {}) at {}\n",
        ctx.printer.paint(GREEN, "Added"),
        args.alias,
        entry.project_name.as_deref().unwrap_or("?"),
        cell(entry.project_id),
        entry.stack_url
    );
    if became_default {
        human.push_str(&format!("'{}' is now the default project.\n", args.alias));
    }
    Ok(Report::new(data, human))
}

fn duplicate_alias(alias: &str) -> CliError {
    CliError::config(format!("Project '{alias}' already exists")).hint(format!(
        "Use `kbagent project edit --project {alias}` to change it, or pick another alias."
    ))
}

fn list(ctx: &Ctx<'_>) -> CliResult<Report> {
    let cfg = ctx.store()?.load()?;
    let pinned = cfg.pinned();
    let rows: Vec<Value> = cfg
        .projects
        .iter()
        .map(|(alias, p)| {
            let mut v = registry_row(alias, p);
            v["is_default"] = json!(pinned == Some(alias.as_str()));
            v
        })
        .collect();
    let human = if cfg.projects.is_empty() {
        "No projects registered. Add one with `kbagent project add`.\n".to_owned()
    } else {
        let mut t = Table::new(["", "ALIAS", "PROJECT", "ID", "STACK", "TOKEN"]);
        for (alias, p) in &cfg.projects {
            t.row([
                if pinned == Some(alias.as_str()) {
                    "*".to_owned()
                } else {
                    String::new()
                },
                alias.clone(),
                cell(p.project_name.as_deref()),
                cell(p.project_id),
                p.stack_url.to_string(),
                p.token.masked(),
            ]);
        }
        t.render(ctx.printer.stdout_is_terminal())
    };
    Ok(Report::new(rows, human))
}

fn remove(ctx: &Ctx<'_>, args: &RemoveArgs) -> CliResult<Report> {
    let store = ctx.store()?;
    let key = args.alias.clone();
    let (alias, cleared) = store.update(|cfg| {
        let alias = find_project(cfg, &key)
            .map(|(a, _)| a.clone())
            .ok_or_else(|| unknown_project(cfg, store, &key))?;
        cfg.projects.remove(&alias);
        let cleared = cfg.pinned() == Some(alias.as_str());
        if cleared {
            cfg.default_project = None;
        }
        Ok((alias, cleared))
    })?;
    let mut human = format!("Removed project '{alias}'.\n");
    if cleared {
        human.push_str("It was the default project; pin another with `kbagent project use`.\n");
    }
    Ok(Report::new(
        json!({"alias": alias, "message": format!("Project '{alias}' removed."), "active_project_cleared": cleared.then_some(&alias)}),
        human,
    ))
}

fn edit(ctx: &Ctx<'_>, args: &EditArgs) -> CliResult<Report> {
    if args.url.is_none() && !args.token.given() && args.new_alias.is_none() {
        return Err(CliError::usage("Nothing to change")
            .hint("Pass --url, a token option (--token-stdin, --token-file, --token-env, --token) or --new-alias."));
    }
    if let Some(new) = &args.new_alias {
        validate_alias(new)?;
    }
    let new_url = args.url.as_deref().map(parse_stack_url).transpose()?;
    let store = ctx.store()?;
    let before = store.load()?;
    let (alias, current) = find_project(&before, &args.alias)
        .map(|(a, p)| (a.clone(), p.clone()))
        .ok_or_else(|| unknown_project(&before, store, &args.alias))?;
    let new_token = args
        .token
        .read(ctx.printer, None, false, ctx.env.wait_timeout)?;
    let stack = new_url.clone().unwrap_or_else(|| current.stack_url.clone());
    let token = new_token.clone().unwrap_or_else(|| current.token.clone());
    let verified = if new_token.is_some() || new_url.is_some() {
        Some(verify_token(ctx, &alias, &stack, &token)?)
    } else {
        None
    };
    let target = args.new_alias.clone().unwrap_or_else(|| alias.clone());
    let updated = store.update(|cfg| {
        let mut entry = cfg
            .projects
            .remove(&alias)
            .ok_or_else(|| unknown_project(cfg, store, &alias))?;
        if target != alias && cfg.projects.contains_key(&target) {
            return Err(
                CliError::config(format!("Project '{target}' already exists"))
                    .hint("Pick another --new-alias, or remove that project first."),
            );
        }
        // Only the fields this edit changes: the entry read before the lock may be stale,
        // and writing it back would undo a concurrent edit of the other field.
        if let Some(url) = &new_url {
            entry.stack_url = url.clone();
        }
        if let Some(new) = &new_token {
            entry.token = new.clone();
        }
        if let Some(info) = &verified {
            if let Some(owner) = &info.owner {
                entry.project_name = Some(owner.name.clone());
                entry.project_id = Some(owner.id);
            }
            if info.organization_id.is_some() {
                entry.org_id = info.organization_id;
            }
        }
        if cfg.pinned() == Some(alias.as_str()) {
            cfg.default_project = Some(target.clone());
        }
        cfg.projects.insert(target.clone(), entry.clone());
        Ok(entry)
    })?;
    if let (Some(info), false, true) = (&verified, args.no_warn_non_master, new_token.is_some())
        && let Some(w) = non_master_warning(&target, info)
    {
        ctx.printer.warn(w);
    }
    let mut data = project_json(&target, &updated);
    data["changed"] = json!({
        "alias": target != alias,
        "stack_url": new_url.is_some(),
        "token": new_token.is_some(),
    });
    if target != alias {
        data["old_alias"] = json!(alias);
    }
    if let Some(info) = &verified {
        data["is_master_token"] = json!(info.is_master_token);
        data["can_manage_tokens"] = json!(info.can_manage_tokens);
    }
    Ok(Report::new(
        data,
        format!(
            "{} project '{target}'.\n",
            ctx.printer.paint(GREEN, "Updated")
        ),
    ))
}

fn use_project(ctx: &Ctx<'_>, args: &UseArgs) -> CliResult<Report> {
    let store = ctx.store()?;
    let key = args.alias.clone();
    let (alias, previous) = store.update(|cfg| {
        let alias = find_project(cfg, &key)
            .map(|(a, _)| a.clone())
            .ok_or_else(|| unknown_project(cfg, store, &key))?;
        let previous = cfg.pinned().map(str::to_owned);
        cfg.default_project = Some(alias.clone());
        Ok((alias, previous))
    })?;
    let env_override = ctx.env.project.clone();
    if let Some(env) = &env_override {
        ctx.printer.warn(Warning::new(
            "ENV_OVERRIDE",
            format!("KBAGENT_PROJECT={env} is set and takes precedence over the pinned default."),
        ));
    }
    Ok(Report::new(
        json!({"alias": alias, "previous": previous, "source": "pin", "env_override": env_override, "active_project_set": alias}),
        format!("Default project is now '{alias}'.\n"),
    ))
}

fn current(ctx: &Ctx<'_>, args: &CurrentArgs) -> CliResult<Report> {
    let cfg = ctx.store()?.load()?;
    let pinned = cfg.pinned().map(str::to_owned);
    let env_override = ctx.env.project.clone();
    let selected = match select_project(ctx, &cfg, args.project.alias.as_deref()) {
        Ok(p) => Some(p),
        // Nothing registered or nothing chosen is an answer here, not an error; an unknown
        // alias named explicitly still is one.
        Err(e)
            if args.project.alias.is_none()
                && ctx.env.project.is_none()
                && cfg.pinned().is_none() =>
        {
            let _ = e;
            None
        }
        Err(e) => return Err(e),
    };
    let (alias, source) = match &selected {
        Some(p) => (Some(p.alias.clone()), json!(p.source)),
        None => (None, json!("none")),
    };
    let human = match &selected {
        Some(p) => format!("{} (chosen by {})\n", p.alias, p.source.describe()),
        None if cfg.projects.is_empty() => "No projects registered.\n".to_owned(),
        None => "No project chosen: pass --project, set KBAGENT_PROJECT, or run `kbagent project use ALIAS`.\n".to_owned(),
    };
    Ok(Report::new(
        json!({
            "alias": alias,
            "source": source,
            "pinned": pinned,
            "env_override": env_override,
            "project_id": selected.as_ref().and_then(|p| p.entry.project_id),
            "stack_url": selected.as_ref().map(|p| p.entry.stack_url.to_string()),
            "projects_registered": cfg.projects.len(),
        }),
        human,
    ))
}

/// Projects named with repeatable `--project`, or all registered ones.
pub fn select_many(ctx: &Ctx<'_>, cfg: &ConfigFile, keys: &[String]) -> CliResult<Vec<Project>> {
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

/// One project's token check: the verify result and how long the request took.
pub struct Checked {
    pub elapsed_ms: u64,
    pub result: CliResult<TokenInfo>,
}

/// Verifies every project's token in parallel, results in the order of `projects`.
pub fn verify_all(
    ctx: &Ctx<'_>,
    http: &Http,
    projects: &[Project],
    workers: usize,
) -> Vec<Checked> {
    fanout::map(ctx.printer, "Verifying tokens", projects, workers, |p| {
        let start = Instant::now();
        let result = StorageClient::new(http, &p.entry.stack_url, &p.entry.token)
            .verify()
            .map_err(|e| p.api_error(&e));
        Checked {
            elapsed_ms: start.elapsed().as_millis() as u64,
            result,
        }
    })
}

fn status(ctx: &Ctx<'_>, args: &StatusArgs) -> CliResult<Report> {
    let cfg = ctx.store()?.load()?;
    let projects = select_many(ctx, &cfg, &args.aliases)?;
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let checked = verify_all(ctx, &http, &projects, workers);
    let mut rows = Vec::new();
    let mut table = Table::new([
        "ALIAS", "STATUS", "MS", "PROJECT", "ID", "MASTER", "EXPIRES",
    ]);
    for (p, c) in projects.iter().zip(&checked) {
        let mut row = registry_row(&p.alias, &p.entry);
        row["response_time_ms"] = json!(c.elapsed_ms);
        match &c.result {
            Ok(info) => {
                row["status"] = json!("ok");
                if let Some(owner) = &info.owner {
                    row["project_name"] = json!(owner.name);
                    row["project_id"] = json!(owner.id);
                }
                row["is_master_token"] = json!(info.is_master_token);
                row["can_manage_tokens"] = json!(info.can_manage_tokens);
                row["token_expires"] = json!(info.expires);
                table.row([
                    p.alias.clone(),
                    "ok".to_owned(),
                    c.elapsed_ms.to_string(),
                    info.owner
                        .as_ref()
                        .map_or_else(|| "-".into(), |o| o.name.clone()),
                    info.owner
                        .as_ref()
                        .map_or_else(|| "-".into(), |o| o.id.to_string()),
                    yes_no(info.is_master_token).into(),
                    info.expires.clone().unwrap_or_else(|| "never".into()),
                ]);
            }
            Err(e) => {
                row["status"] = json!("error");
                row["error"] = json!(e.message);
                row["error_code"] = json!(e.code.as_str());
                row["retryable"] = json!(e.retryable);
                table.row([
                    p.alias.clone(),
                    "error".to_owned(),
                    c.elapsed_ms.to_string(),
                    cell(p.entry.project_name.as_deref()),
                    cell(p.entry.project_id),
                    "-".into(),
                    e.code.as_str().into(),
                ]);
            }
        }
        rows.push(row);
    }
    let mut human = if projects.is_empty() {
        "No projects registered.\n".to_owned()
    } else {
        table.render(ctx.printer.stdout_is_terminal())
    };
    for (p, c) in projects.iter().zip(&checked) {
        if let Err(e) = &c.result {
            human.push_str(&format!("{}: {}\n", p.alias, e.message));
        }
    }
    Ok(Report::new(rows, human))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn info(ctx: &Ctx<'_>, args: &InfoArgs) -> CliResult<Report> {
    let cfg = ctx.store()?.load()?;
    let project = select_project(ctx, &cfg, args.project.alias.as_deref())?;
    let info = verify_project(ctx, &project)?;
    let power = MintPower::of(&info);
    let manage = ManageTokenSource::detect(ctx)?;
    let plan = planned_authority(power, manage.available());
    let owner = info.owner.clone();
    let data = json!({
        "alias": project.alias,
        "project_id": owner.as_ref().map(|o| o.id),
        "project_name": owner.as_ref().map(|o| o.name.clone()),
        "stack_url": project.entry.stack_url.as_str(),
        "auth_mode": "static",
        "organization_id": info.organization_id,
        "region": owner.as_ref().and_then(|o| o.region.clone()),
        "default_backend": owner.as_ref().and_then(|o| o.default_backend.clone()),
        "features": owner.as_ref().map(|o| o.features.clone()).unwrap_or_default(),
        "limits": owner.as_ref().map(|o| o.limits.clone()).unwrap_or(Value::Null),
        "metrics": owner.as_ref().map(|o| o.metrics.clone()).unwrap_or(Value::Null),
        "token_id": info.id,
        "token_description": info.description,
        "token": project.entry.token.masked(),
        "is_master_token": info.is_master_token,
        "admin_role": info.admin.as_ref().and_then(|a| a.role.clone()),
        "privileges": privileges(&info),
        "token_expires": info.expires,
        "child_token_minting": power,
        "child_token_authority": plan.map(Authority::as_str),
    });
    let p = ctx.printer;
    let mut human = String::new();
    // Pad before painting: escape codes would count towards the width.
    let mut line = |k: &str, v: String| {
        human.push_str(&format!("{} {v}\n", p.paint(BOLD, &format!("{k:<22}"))));
    };
    line(
        "Project",
        format!(
            "{} (id {})",
            cell(owner.as_ref().map(|o| o.name.clone())),
            cell(owner.as_ref().map(|o| o.id))
        ),
    );
    line("Alias", project.alias.clone());
    line("Stack", project.entry.stack_url.to_string());
    line(
        "Backend",
        cell(owner.as_ref().and_then(|o| o.default_backend.clone())),
    );
    line(
        "Region",
        cell(owner.as_ref().and_then(|o| o.region.clone())),
    );
    line(
        "Features",
        owner
            .as_ref()
            .map(|o| o.features.join(", "))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "-".into()),
    );
    line(
        "Token",
        format!(
            "{} (id {}, {})",
            project.entry.token.masked(),
            info.id,
            info.description.clone().unwrap_or_default()
        ),
    );
    line("Master token", yes_no(info.is_master_token).to_owned());
    line(
        "Can manage tokens",
        yes_no(info.can_manage_tokens).to_owned(),
    );
    line(
        "Expires",
        info.expires.clone().unwrap_or_else(|| "never".into()),
    );
    line("Child tokens minted by", describe_plan(plan).to_owned());
    if let Some(why) = power.limitation() {
        human.push_str(&format!("\nThis token cannot mint child tokens: {why}.\n"));
    }
    Ok(Report::new(data, human))
}

fn privileges(info: &TokenInfo) -> Value {
    json!({
        "canManageTokens": info.can_manage_tokens,
        "canManageBuckets": info.can_manage_buckets,
        "canReadAllFileUploads": info.can_read_all_file_uploads,
        "canPurgeTrash": info.can_purge_trash,
        "componentAccess": info.component_access,
        "bucketPermissions": info.bucket_permissions,
    })
}

// ---- refresh ---------------------------------------------------------------------------

enum Plan {
    Refresh { reason: &'static str },
    Valid,
    Refuse { reason: String },
    Unchecked,
}

fn refresh(ctx: &Ctx<'_>, args: &RefreshArgs) -> CliResult<Report> {
    if !args.all && args.aliases.is_empty() {
        return Err(CliError::usage("Choose the projects to refresh")
            .hint("Pass --project ALIAS (repeatable) or --all."));
    }
    let master = !args.no_master;
    let cfg = ctx.store()?.load()?;
    let projects = select_many(ctx, &cfg, if args.all { &[] } else { &args.aliases })?;
    // Fail fast, before any request, when no Manage token can be had.
    let source = if args.dry_run {
        None
    } else {
        Some(ManageTokenSource::detect(ctx)?)
    };
    if let Some(ManageTokenSource::Unavailable { env_ignored }) = &source {
        return Err(authority::manage_token_missing(*env_ignored));
    }
    if let Some(ManageTokenSource::Prompt) = &source
        && ctx.env.manage_api_token().is_some_and(|v| !v.is_empty())
    {
        ctx.printer.warn(Warning::new(
            "MANAGE_TOKEN_ENV_IGNORED",
            "KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token.",
        ));
    }
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let checked = verify_all(ctx, &http, &projects, workers);
    let plans: Vec<Plan> = projects
        .iter()
        .zip(&checked)
        .map(|(p, c)| match &c.result {
            Err(e) if e.code == ErrorCode::InvalidToken => Plan::Refresh { reason: "token invalid" },
            // Network trouble or a server error says nothing about the token; minting on a
            // guess could replace a working master token.
            Err(_) => Plan::Unchecked,
            Ok(_) if args.all && !args.force => Plan::Valid,
            Ok(info) if MintPower::of(info) == MintPower::Full && !args.replace_master => Plan::Refuse {
                reason: format!(
                    "'{}' holds a working master token, and a Manage API token can only mint non-master tokens; \
                     pass --replace-master to replace it anyway",
                    p.alias
                ),
            },
            Ok(_) => Plan::Refresh { reason: if args.all { "forced" } else { "requested" } },
        })
        .collect();
    let to_refresh = plans
        .iter()
        .filter(|p| matches!(p, Plan::Refresh { .. }))
        .count();

    let mut result =
        RefreshResult::new(args.dry_run, master, projects.len(), args.token_expires_in);
    if !args.dry_run && to_refresh > 0 && !args.yes && ctx.printer.interactive() {
        ctx.printer.note(&preview(&projects, &plans));
        if !confirm(
            ctx,
            &format!("Mint {to_refresh} new project token(s) through the Manage API?"),
        )? {
            result.aborted = true;
            return Ok(result.into_report(ctx));
        }
    }
    let manage = match (&source, to_refresh) {
        (Some(s), n) if n > 0 => {
            let token = s.token()?;
            let first = &projects[0];
            let client = ManageClient::new(&http, &first.entry.stack_url, &token);
            let who = client
                .verify()
                .map_err(|e| CliError::from_api(&e, None, Some("Manage API token")))?;
            Some((
                token,
                who.user
                    .map(|u| if u.email.is_empty() { u.name } else { u.email }),
            ))
        }
        _ => None,
    };
    for ((p, c), plan) in projects.iter().zip(&checked).zip(plans) {
        match plan {
            Plan::Valid => result.valid.push(json!({"alias": p.alias, "project_id": p.entry.project_id, "project_name": p.entry.project_name})),
            Plan::Refuse { reason } => result.failed.push(json!({
                "alias": p.alias, "project_name": p.entry.project_name,
                "error": reason, "error_code": "MASTER_TOKEN_KEPT",
            })),
            Plan::Unchecked => {
                if let Err(e) = &c.result {
                    result.failed.push(json!({
                        "alias": p.alias, "project_name": p.entry.project_name,
                        "error": format!("{} (the stored token could not be checked, so no new token was minted)", e.message),
                        "error_code": e.code.as_str(), "retryable": e.retryable,
                    }));
                }
            }
            Plan::Refresh { reason } if args.dry_run => result.refreshed.push(json!({
                "alias": p.alias, "project_id": p.entry.project_id, "project_name": p.entry.project_name,
                "token": "***", "action": "would_refresh", "reason": reason,
                "old_token_valid": c.result.is_ok(),
            })),
            Plan::Refresh { reason } => {
                let (token, owner) = manage.as_ref().ok_or_else(|| CliError::unexpected("Manage API token missing"))?;
                match refresh_one(ctx, &http, p, token, owner.as_deref(), args, master) {
                    Ok(mut row) => {
                        row["reason"] = json!(reason);
                        result.refreshed.push(row);
                    }
                    Err(e) => result.failed.push(json!({
                        "alias": p.alias, "project_name": p.entry.project_name,
                        "error": e.message, "error_code": e.code.as_str(), "retryable": e.retryable,
                    })),
                }
            }
        }
    }
    Ok(result.into_report(ctx))
}

fn preview(projects: &[Project], plans: &[Plan]) -> String {
    let mut t = Table::new(["ALIAS", "PROJECT", "PLAN"]);
    for (p, plan) in projects.iter().zip(plans) {
        let what = match plan {
            Plan::Refresh { reason } => format!("mint a new token ({reason})"),
            Plan::Valid => "keep (token works)".to_owned(),
            Plan::Refuse { .. } => "keep (working master token)".to_owned(),
            Plan::Unchecked => "keep (the token could not be checked)".to_owned(),
        };
        t.row([p.alias.clone(), cell(p.entry.project_name.as_deref()), what]);
    }
    t.render(true)
}

fn refresh_one(
    ctx: &Ctx<'_>,
    http: &Http,
    project: &Project,
    manage_token: &Token,
    owner: Option<&str>,
    args: &RefreshArgs,
    master: bool,
) -> CliResult<Value> {
    let project_id = project.entry.project_id.ok_or_else(|| {
        CliError::config(format!(
            "The project id of '{}' is unknown; re-add the project",
            project.alias
        ))
    })?;
    let description = match owner {
        Some(o) if !o.is_empty() => format!("{} [{o}]", args.token_description),
        _ => args.token_description.clone(),
    };
    let request = CreateTokenRequest {
        description: Some(description),
        expires_in: args.token_expires_in,
        can_manage_buckets: true,
        can_read_all_file_uploads: true,
        can_purge_trash: true,
        can_manage_tokens: master,
        can_read_all_project_events: true,
        can_manage_dev_branches: true,
        ..CreateTokenRequest::default()
    };
    let client = ManageClient::new(http, &project.entry.stack_url, manage_token);
    let minted = client
        .create_project_token(project_id, &request)
        .map_err(|e| CliError::from_api(&e, Some(&project.alias), Some("Manage API token")))?;
    let new_id = minted.info.id.clone();
    let info = verify_token(ctx, &project.alias, &project.entry.stack_url, &minted.secret).map_err(|e| {
        CliError {
            message: format!(
                "{} (the new token id {new_id} was minted but could not be verified, so it was not stored; delete it with `kbagent token delete --project {} --token-id {new_id}`)",
                e.message, project.alias
            ),
            ..e
        }
    })?;
    let alias = project.alias.clone();
    let secret = minted.secret.clone();
    let store = ctx.store()?;
    let verified = info.clone();
    store
        .update(move |cfg| {
            let entry = cfg.projects.get_mut(&alias).ok_or_else(|| {
                CliError::config(format!(
                    "Project '{alias}' was removed while its token was being refreshed"
                ))
            })?;
            entry.token = secret;
            if let Some(owner) = &verified.owner {
                entry.project_name = Some(owner.name.clone());
                entry.project_id = Some(owner.id);
            }
            Ok(())
        })
        .map_err(|e| CliError {
            message: format!(
                "{} (the new token id {new_id} is live but was not stored)",
                e.message
            ),
            ..e
        })?;
    let power = MintPower::of(&info);
    let plan = planned_authority(power, true);
    Ok(json!({
        "alias": project.alias,
        "project_id": info.owner.as_ref().map(|o| o.id).or(Some(project_id)),
        "project_name": info.owner.as_ref().map(|o| o.name.clone()),
        "token": minted.secret.masked(),
        "token_id": info.id,
        "action": "refreshed",
        "is_master_token": info.is_master_token,
        "can_manage_tokens": info.can_manage_tokens,
        "expires": info.expires,
        "child_token_authority": plan.map(Authority::as_str),
        "child_token_note": match plan {
            Some(Authority::StorageMaster) => "the stored token mints child tokens itself",
            _ => "child-token commands (config oauth-url, token create) need a Manage API token for this project; the stored token is not a master token",
        },
    }))
}

struct RefreshResult {
    dry_run: bool,
    master: bool,
    checked: usize,
    expires_in: Option<u64>,
    aborted: bool,
    refreshed: Vec<Value>,
    valid: Vec<Value>,
    failed: Vec<Value>,
}

impl RefreshResult {
    fn new(dry_run: bool, master: bool, checked: usize, expires_in: Option<u64>) -> Self {
        Self {
            dry_run,
            master,
            checked,
            expires_in,
            aborted: false,
            refreshed: vec![],
            valid: vec![],
            failed: vec![],
        }
    }

    fn into_report(self, ctx: &Ctx<'_>) -> Report {
        let failed = !self.failed.is_empty();
        let mut human = String::new();
        if self.aborted {
            human.push_str("Aborted; nothing was minted.\n");
        } else {
            let mut t = Table::new([
                "ALIAS",
                "RESULT",
                "TOKEN",
                "MASTER",
                "MANAGE TOKENS",
                "EXPIRES",
            ]);
            for r in &self.refreshed {
                t.row([
                    r["alias"].as_str().unwrap_or_default().to_owned(),
                    r["action"].as_str().unwrap_or_default().replace('_', " "),
                    r["token"].as_str().unwrap_or_default().to_owned(),
                    r["is_master_token"]
                        .as_bool()
                        .map_or("-", yes_no)
                        .to_owned(),
                    r["can_manage_tokens"]
                        .as_bool()
                        .map_or("-", yes_no)
                        .to_owned(),
                    r["expires"]
                        .as_str()
                        .unwrap_or(if self.dry_run { "-" } else { "never" })
                        .to_owned(),
                ]);
            }
            for r in &self.valid {
                t.row([
                    r["alias"].as_str().unwrap_or_default(),
                    "valid, kept",
                    "",
                    "",
                    "",
                    "",
                ]);
            }
            for r in &self.failed {
                t.row([
                    r["alias"].as_str().unwrap_or_default(),
                    "failed",
                    "",
                    "",
                    "",
                    "",
                ]);
            }
            if t.is_empty() {
                human.push_str("No projects to refresh.\n");
            } else {
                human.push_str(&t.render(ctx.printer.stdout_is_terminal()));
            }
            for r in &self.failed {
                human.push_str(&format!(
                    "{}: {}\n",
                    r["alias"].as_str().unwrap_or_default(),
                    r["error"].as_str().unwrap_or_default()
                ));
            }
            if self
                .refreshed
                .iter()
                .any(|r| r["action"] == "refreshed" && r["child_token_authority"] == "manage-api")
            {
                human.push_str(
                    "Refreshed tokens are not master tokens (the Manage API never mints one): commands that mint child \
                     tokens will use a Manage API token for these projects.\n",
                );
            }
        }
        let data = json!({
            "dry_run": self.dry_run,
            "aborted": self.aborted,
            "master": self.master,
            "projects_checked": self.checked,
            "projects_refreshed": self.refreshed,
            "projects_valid": self.valid,
            "projects_skipped": [],
            "projects_failed": self.failed,
            "token_expires_in": self.expires_in,
        });
        Report::new(data, human).partial_failure(failed)
    }
}
