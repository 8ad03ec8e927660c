//! `project edit`: change a project's URL, token or alias; a new token or URL is verified
//! before anything is written.

use schemars::JsonSchema;
use serde::Serialize;

use super::rows::{ProjectSummary, parse_stack_url};
use crate::authority::non_master_warning;
use crate::commands::{CommandOutput, Meta, OpClass, shared};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{GREEN, Printer};
use crate::select::{find_project, unknown_project, verify_token};
use crate::token_input::TokenSourceArgs;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Change a project's URL, token or alias (a new token or URL is verified first)",
    "Examples:\n  kbagent project edit --project prod --token-stdin < master-token.txt\n  kbagent project edit --project prod --new-alias production",
)
.also(&[OpClass::Admin])
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Alias (or project id) of the project to change
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: String,
    /// New stack URL
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub token: TokenSourceArgs,
    /// New alias
    #[arg(long, value_name = "ALIAS", value_parser = shared::alias)]
    pub new_alias: Option<String>,
    /// Do not warn when the new token cannot mint child tokens
    #[arg(long)]
    pub no_warn_non_master: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Changed {
    pub alias: bool,
    pub stack_url: bool,
    pub token: bool,
}

/// The project after the change, and what changed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub project: ProjectSummary,
    pub changed: Changed,
    /// Present when the project was renamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_alias: Option<String>,
    /// Present when a new token or URL was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_master_token: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_manage_tokens: Option<bool>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        format!(
            "{} project '{}'.\n",
            p.paint(GREEN, "Updated"),
            self.project.alias
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if args.url.is_none() && !args.token.given() && args.new_alias.is_none() {
        return Err(CliError::usage("Nothing to change")
            .hint("Pass --url, a token option (--token-stdin, --token-file, --token-env, --token) or --new-alias."));
    }
    let new_url = args.url.as_deref().map(parse_stack_url).transpose()?;
    let store = ctx.store()?;
    let before = store.load()?;
    let (alias, current) = find_project(&before, &args.alias)
        .map(|(a, p)| (a.clone(), p.clone()))
        .ok_or_else(|| unknown_project(&before, store, &args.alias))?;
    ctx.set_project(&alias);
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
    Ok(Output {
        project: ProjectSummary::of(&target, &updated),
        changed: Changed {
            alias: target != alias,
            stack_url: new_url.is_some(),
            token: new_token.is_some(),
        },
        old_alias: (target != alias).then_some(alias),
        is_master_token: verified.as_ref().map(|i| i.is_master_token),
        can_manage_tokens: verified.as_ref().map(|i| i.can_manage_tokens),
    })
}
