//! `project refresh`: mint a new project token through the Manage API, verify it and store
//! it. Plans first (which projects, why), then mints; one project's failure is reported in
//! `projects_failed` and never stops the others.
//!
//! The Manage API token belongs to one stack (`--url`, else the stack of the first project
//! to refresh); projects on other stacks are reported, and the token is never sent there.

mod one;

use keboola_api::StackUrl;
use schemars::JsonSchema;
use serde::Serialize;

use super::rows::parse_stack_url;
use crate::authority::{self, Authority, ManageTokenSource, MintPower, OtherStack};
use crate::commands::{CommandOutput, Escalation, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode, ItemCode, ItemErrorCode};
use crate::output::{Printer, Table, Warning, WarningCode, cell};
use crate::select::{Checked, Project, select_many, verify_all};

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Mint a new project token through the Manage API and store it",
    "Examples:\n  kbagent project refresh --project prod\n  kbagent --allow-env-manage-token --json project refresh --all --yes --url https://connection.keboola.com\n  kbagent project refresh --all --dry-run\n  kbagent project refresh --project prod --revoke-old",
)
.network()
.partial()
// The first two replace working tokens in the config; --revoke-old deletes them.
.escalations(&[
    Escalation {
        flag: "--force",
        class: OpClass::Destructive,
    },
    Escalation {
        flag: "--replace-master",
        class: OpClass::Destructive,
    },
    Escalation {
        flag: "--revoke-old",
        class: OpClass::Destructive,
    },
]);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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
    /// Stack the Manage API token belongs to; it is sent there only, and projects on other
    /// stacks are skipped [default: the stack of the first project to refresh]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Delete each replaced token once its replacement verifies and is stored (otherwise the
    /// old token keeps working until it expires)
    #[arg(long)]
    pub revoke_old: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    Refreshed,
    WouldRefresh,
}

/// Why a project's token is (or would be) replaced.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub(crate) enum Reason {
    #[serde(rename = "token invalid")]
    TokenInvalid,
    #[serde(rename = "forced")]
    Forced,
    #[serde(rename = "requested")]
    Requested,
}

/// What became of the token a refresh replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OldToken {
    /// It still works (until it expires): not asked to revoke, or the revocation failed.
    StillValid,
    /// Deleted with `--revoke-old`.
    Revoked,
    /// It no longer worked before the refresh.
    Invalid,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RefreshedRow {
    pub alias: String,
    pub project_id: Option<u64>,
    pub project_name: Option<String>,
    /// The new token, masked.
    pub token: String,
    pub token_id: String,
    pub action: Action,
    pub is_master_token: bool,
    pub can_manage_tokens: bool,
    pub expires: Option<String>,
    pub child_token_authority: Option<Authority>,
    pub child_token_note: &'static str,
    pub reason: Reason,
    /// Whether the new token mints child tokens itself.
    pub child_token_minting: MintPower,
    /// Id of the token that was replaced, when it could be read.
    pub old_token_id: Option<String>,
    pub old_token: OldToken,
    /// Why the old token could not be revoked with `--revoke-old`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_token_error: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PlannedRow {
    pub alias: String,
    pub project_id: Option<u64>,
    pub project_name: Option<String>,
    /// Always `***`: nothing was minted.
    pub token: &'static str,
    pub action: Action,
    pub reason: Reason,
    pub old_token_valid: bool,
}

/// `refreshed` rows after a real run, `would_refresh` rows after `--dry-run`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Row {
    Refreshed(RefreshedRow),
    Planned(PlannedRow),
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeptRow {
    pub alias: String,
    pub project_id: Option<u64>,
    pub project_name: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FailedRow {
    pub alias: String,
    pub project_name: Option<String>,
    pub error: String,
    pub error_code: ItemErrorCode,
    /// Absent for `MASTER_TOKEN_KEPT` (a decision, not a failure to retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// What to do about it, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub dry_run: bool,
    pub aborted: bool,
    pub master: bool,
    pub projects_checked: usize,
    pub projects_refreshed: Vec<Row>,
    /// With `--all`: projects whose token works and was kept.
    pub projects_valid: Vec<KeptRow>,
    /// Always empty; kept for scripts written for the Python kbagent.
    pub projects_skipped: Vec<KeptRow>,
    pub projects_failed: Vec<FailedRow>,
    pub token_expires_in: Option<u64>,
    /// The stack the Manage API token was used for; null when none was needed.
    pub manage_token_stack: Option<String>,
}

enum Plan {
    Refresh { reason: Reason },
    Valid,
    Refuse { reason: String },
    Unchecked,
    OtherStack(OtherStack),
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if !args.all && args.aliases.is_empty() {
        return Err(CliError::usage("Choose the projects to refresh")
            .hint("Pass --project ALIAS (repeatable) or --all."));
    }
    let master = !args.no_master;
    let named_stack = args.url.as_deref().map(parse_stack_url).transpose()?;
    let cfg = ctx.store()?.load()?;
    if !args.dry_run {
        // A headless session could not store the minted tokens: refuse before minting.
        ctx.store()?.check_writable()?;
    }
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
            WarningCode::ManageTokenEnvIgnored,
            "KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token.",
        ));
    }
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let checked = verify_all(ctx, &http, &projects, workers);
    let mut plans: Vec<Plan> = projects
        .iter()
        .zip(&checked)
        .map(|(p, c)| plan(args, p, c))
        .collect();
    let manage_stack = named_stack.or_else(|| {
        projects
            .iter()
            .zip(&plans)
            .find(|(_, plan)| matches!(plan, Plan::Refresh { .. }))
            .map(|(p, _)| p.entry.stack_url.clone())
    });
    if let Some(stack) = &manage_stack {
        keep_to_stack(&projects, &mut plans, stack);
    }
    let to_refresh = plans
        .iter()
        .filter(|p| matches!(p, Plan::Refresh { .. }))
        .count();

    let mut out = Output {
        dry_run: args.dry_run,
        aborted: false,
        master,
        projects_checked: projects.len(),
        projects_refreshed: vec![],
        projects_valid: vec![],
        projects_skipped: vec![],
        projects_failed: vec![],
        token_expires_in: args.token_expires_in,
        manage_token_stack: None,
    };
    if !args.dry_run && to_refresh > 0 && !args.yes {
        ctx.printer.note(&preview(&projects, &plans));
        if !ctx.confirm(args.yes, &format!(
            "Mint {to_refresh} new project token(s) through the Manage API?"
        ))? {
            out.aborted = true;
            return Ok(out);
        }
    }
    let manage = match (&source, &manage_stack) {
        (Some(s), Some(stack)) if to_refresh > 0 => {
            let credential = s.credential(
                ctx.printer,
                &format!("mint {to_refresh} new project token(s) on {stack}"),
                stack,
            )?;
            let who = credential
                .client(&http, stack)
                .map_err(|e| CliError::unexpected(e.message("the Manage API token")))?
                .verify()
                .map_err(|e| CliError::from_api(&e, None, Some("Manage API token")))?;
            out.manage_token_stack = Some(stack.to_string());
            Some((
                credential,
                who.user
                    .map(|u| if u.email.is_empty() { u.name } else { u.email }),
            ))
        }
        _ => None,
    };
    for ((p, c), plan) in projects.iter().zip(&checked).zip(plans) {
        let failed =
            |error: String, error_code: ItemErrorCode, retryable: Option<bool>| FailedRow {
                alias: p.alias.clone(),
                project_name: p.entry.project_name.clone(),
                error,
                error_code,
                retryable,
                hint: None,
            };
        match plan {
            Plan::Valid => out.projects_valid.push(KeptRow {
                alias: p.alias.clone(),
                project_id: p.entry.project_id,
                project_name: p.entry.project_name.clone(),
            }),
            Plan::Refuse { reason } => {
                out.projects_failed
                    .push(failed(reason, ItemCode::MasterTokenKept.into(), None));
            }
            Plan::Unchecked => {
                if let Err(e) = &c.result {
                    out.projects_failed.push(failed(
                        format!("{} (the stored token could not be checked, so no new token was minted)", e.message),
                        e.code.into(),
                        Some(e.retryable),
                    ));
                }
            }
            Plan::OtherStack(other) => out.projects_failed.push(FailedRow {
                hint: Some(other.hint()),
                ..failed(
                    other.message(&p.alias),
                    ItemCode::ManageTokenOtherStack.into(),
                    Some(false),
                )
            }),
            Plan::Refresh { reason } if args.dry_run => {
                out.projects_refreshed.push(Row::Planned(PlannedRow {
                    alias: p.alias.clone(),
                    project_id: p.entry.project_id,
                    project_name: p.entry.project_name.clone(),
                    token: "***",
                    action: Action::WouldRefresh,
                    reason,
                    old_token_valid: c.result.is_ok(),
                }));
            }
            Plan::Refresh { reason } => {
                let (credential, owner) = manage
                    .as_ref()
                    .ok_or_else(|| CliError::unexpected("Manage API token missing"))?;
                let job = one::Job {
                    project: p,
                    checked: c,
                    credential,
                    owner: owner.as_deref(),
                    args,
                    master,
                    reason,
                };
                match one::refresh(ctx, &http, &job) {
                    Ok(row) => out.projects_refreshed.push(Row::Refreshed(row)),
                    Err(f) => out.projects_failed.push(FailedRow {
                        hint: f.hint,
                        ..failed(f.message, f.code, f.retryable)
                    }),
                }
            }
        }
    }
    Ok(out)
}

/// Projects to refresh on another stack than the Manage API token's are not refreshed.
fn keep_to_stack(projects: &[Project], plans: &mut [Plan], stack: &StackUrl) {
    for (p, plan) in projects.iter().zip(plans.iter_mut()) {
        if matches!(plan, Plan::Refresh { .. }) && &p.entry.stack_url != stack {
            *plan = Plan::OtherStack(OtherStack {
                token_stack: stack.clone(),
                target: p.entry.stack_url.clone(),
            });
        }
    }
}

fn plan(args: &Args, p: &Project, c: &Checked) -> Plan {
    match &c.result {
        Err(e) if e.code == ErrorCode::InvalidToken => Plan::Refresh {
            reason: Reason::TokenInvalid,
        },
        // Network trouble or a server error says nothing about the token; minting on a
        // guess could replace a working master token.
        Err(_) => Plan::Unchecked,
        Ok(_) if args.all && !args.force => Plan::Valid,
        Ok(info) if MintPower::of(info) == MintPower::Full && !args.replace_master => {
            Plan::Refuse {
                reason: format!(
                    "'{}' holds a working master token, and a Manage API token can only mint non-master tokens; \
                 pass --replace-master to replace it anyway",
                    p.alias
                ),
            }
        }
        Ok(_) => Plan::Refresh {
            reason: if args.all {
                Reason::Forced
            } else {
                Reason::Requested
            },
        },
    }
}

fn preview(projects: &[Project], plans: &[Plan]) -> String {
    let mut t = Table::new(["ALIAS", "PROJECT", "PLAN"]);
    for (p, plan) in projects.iter().zip(plans) {
        let what = match plan {
            Plan::Refresh { reason } => format!("mint a new token ({})", reason_text(*reason)),
            Plan::Valid => "keep (token works)".to_owned(),
            Plan::Refuse { .. } => "keep (working master token)".to_owned(),
            Plan::Unchecked => "keep (the token could not be checked)".to_owned(),
            Plan::OtherStack(o) => format!("skip (on {}, not the Manage token's stack)", o.target),
        };
        t.row([p.alias.clone(), cell(p.entry.project_name.as_deref()), what]);
    }
    t.render(true)
}

fn reason_text(reason: Reason) -> &'static str {
    match reason {
        Reason::TokenInvalid => "token invalid",
        Reason::Forced => "forced",
        Reason::Requested => "requested",
    }
}

impl CommandOutput for Output {
    fn partial_failure(&self) -> bool {
        !self.projects_failed.is_empty()
    }

    fn human(&self, p: &Printer) -> String {
        if self.aborted {
            return "Aborted; nothing was minted.\n".to_owned();
        }
        let mut human = String::new();
        let mut t = Table::new(["ALIAS", "RESULT", "TOKEN", "MINTS TOKENS", "EXPIRES"]);
        for r in &self.projects_refreshed {
            match r {
                Row::Refreshed(r) => t.row([
                    r.alias.clone(),
                    "refreshed".to_owned(),
                    r.token.clone(),
                    r.child_token_minting.label().to_owned(),
                    r.expires.clone().unwrap_or_else(|| "never".to_owned()),
                ]),
                Row::Planned(r) => t.row([
                    r.alias.clone(),
                    "would refresh".to_owned(),
                    r.token.to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                ]),
            };
        }
        for r in &self.projects_valid {
            t.row([r.alias.as_str(), "valid, kept", "", "", ""]);
        }
        for r in &self.projects_failed {
            t.row([r.alias.as_str(), "failed", "", "", ""]);
        }
        if t.is_empty() {
            human.push_str("No projects to refresh.\n");
        } else {
            human.push_str(&t.render(p.stdout_is_terminal()));
        }
        for r in &self.projects_failed {
            human.push_str(&format!("{}: {}\n", r.alias, r.error));
            if let Some(hint) = &r.hint {
                human.push_str(&format!("  {hint}\n"));
            }
        }
        for r in &self.projects_refreshed {
            if let Row::Refreshed(r) = r {
                human.push_str(&one::old_token_line(r));
            }
        }
        let via_manage = self.projects_refreshed.iter().any(|r| {
            matches!(r, Row::Refreshed(r) if r.child_token_authority == Some(Authority::ManageApi))
        });
        if via_manage {
            human.push_str(
                "Refreshed tokens are not master tokens (the Manage API never mints one): commands that mint child \
                 tokens will use a Manage API token for these projects.\n",
            );
        }
        human
    }
}
