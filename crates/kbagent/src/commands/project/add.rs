//! `project add`: verify a token and register the project.

use schemars::JsonSchema;
use serde::Serialize;

use super::rows::{DEFAULT_STACK, ProjectSummary, duplicate_alias, parse_stack_url};
use crate::authority::non_master_warning;
use crate::commands::{CommandOutput, Meta, OpClass, shared};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{GREEN, Printer, cell};
use crate::select::verify_token;
use crate::store::ProjectEntry;
use crate::token_input::{TokenSourceArgs, missing_token_error};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Register a project: verify its Storage API token and store it",
    "Examples:\n  kbagent project add --project prod --url https://connection.eu-central-1.keboola.com --token-stdin < token.txt\n  KBC_TOKEN=... kbagent project add --project dev",
)
.also(&[OpClass::Admin])
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Alias for the project (letters, digits, '_', '.', '-')
    #[arg(short = 'p', long = "project", value_name = "ALIAS", value_parser = shared::alias)]
    pub alias: String,
    /// Stack URL the token is sent to and verified against [default: KBC_STORAGE_API_URL,
    /// then https://connection.keboola.com]
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub token: TokenSourceArgs,
    /// Do not warn when the token cannot mint child tokens
    #[arg(long)]
    pub no_warn_non_master: bool,
}

/// The project as registered, and what its token verified as.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub project: ProjectSummary,
    pub org_id: Option<u64>,
    /// Always null: kbagent does not look up organization names.
    pub org_name: Option<String>,
    /// The alias when this project became the default (the first one added), else null.
    pub active_project_set: Option<String>,
    pub token_id: String,
    pub is_master_token: bool,
    pub can_manage_tokens: bool,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let mut human = format!(
            "{} project '{}' ({}, id {}) at {}\n",
            p.paint(GREEN, "Added"),
            self.project.alias,
            self.project.project_name.as_deref().unwrap_or("?"),
            cell(self.project.project_id),
            self.project.stack_url
        );
        if self.active_project_set.is_some() {
            human.push_str(&format!(
                "'{}' is now the default project.\n",
                self.project.alias
            ));
        }
        human
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    // The alias passed the value parser, so it is a name and never a token.
    ctx.set_project(&args.alias);
    let (raw_url, url_source) = match (&args.url, &ctx.env.storage_api_url) {
        (Some(u), _) => (u.as_str(), "--url"),
        (None, Some(u)) => (u.as_str(), "KBC_STORAGE_API_URL"),
        (None, None) => (DEFAULT_STACK, "the default; pass --url for another stack"),
    };
    let stack = parse_stack_url(raw_url)?;
    let store = ctx.store()?;
    // Fail on a duplicate before spending a request; checked again under the lock below.
    let existing = store.load()?;
    if existing.projects.contains_key(&args.alias) {
        return Err(duplicate_alias(&args.alias));
    }
    // Before a hidden prompt, say where the typed token will go.
    if !args.token.given() && ctx.env.kbc_token().is_none() && ctx.printer.interactive() {
        ctx.printer.note(&format!(
            "The token will be sent to {stack} ({url_source}) to verify it, and stored for '{}'.",
            args.alias
        ));
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
    Ok(Output {
        project: ProjectSummary::of(&args.alias, &entry),
        org_id: entry.org_id,
        org_name: None,
        active_project_set: became_default.then(|| args.alias.clone()),
        token_id: info.id,
        is_master_token: info.is_master_token,
        can_manage_tokens: info.can_manage_tokens,
    })
}
