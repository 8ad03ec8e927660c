//! `permissions show`: the persisted policy and this run's session rules.

use schemars::JsonSchema;
use serde::Serialize;

use super::PolicyView;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::permissions::{SessionRule, unknown_patterns};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show the permission policy: the persisted one and this run's session rules",
    "Examples:\n  kbagent permissions show\n  KBAGENT_DENY=cli:destructive kbagent --json permissions show",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    /// Whether any rule applies to this run (persisted or session).
    pub active: bool,
    /// Only when nothing applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The policy in config.json, or null.
    pub persisted: Option<PolicyView>,
    /// Policies of the other configs this run also answers to (the platform config, the
    /// nearest `.kbagent/`), each with its file: pointing kbagent at another config never
    /// sheds them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_enforced: Vec<EnforcedPolicy>,
    /// `--deny-writes` / `--deny-destructive` given to this run.
    pub session_flags: Vec<String>,
    /// Every deny rule of this run only: from the flags and `KBAGENT_DENY`.
    pub session_rules: Vec<SessionRule>,
    /// Persisted patterns that match no operation (a typo, or a command kbagent does not
    /// have).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inert_patterns: Vec<String>,
    /// The persisted policy's fields again, at the top (the Python kbagent's keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EnforcedPolicy {
    pub config_file: String,
    #[serde(flatten)]
    pub policy: PolicyView,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if !self.active {
            return "No permission policy configured. All operations are allowed.\n".to_owned();
        }
        let mut out = match &self.persisted {
            Some(p) => p.human(),
            None => "No persisted permission policy (config.json has none).\n".to_owned(),
        };
        if !self.inert_patterns.is_empty() {
            out.push_str(&format!(
                "{} pattern(s) match no known operation: {}\n",
                self.inert_patterns.len(),
                self.inert_patterns.join(", ")
            ));
        }
        for p in &self.also_enforced {
            out.push_str(&format!("Also enforced, from {}:\n", p.config_file));
            out.push_str(&p.policy.human());
        }
        if !self.session_rules.is_empty() {
            let rules: Vec<String> = self
                .session_rules
                .iter()
                .map(|r| format!("{} ({})", r.pattern, r.origin))
                .collect();
            out.push_str(&format!(
                "Session firewall (this run only, not persisted): deny {}\n",
                rules.join(", ")
            ));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let persisted = ctx.store()?.load()?.permissions;
    let also_enforced: Vec<EnforcedPolicy> =
        crate::permissions::firewall::persisted_policies(ctx, true)?
            .into_iter()
            .filter(|p| !p.in_use)
            .map(|p| EnforcedPolicy {
                config_file: p.file.display().to_string(),
                policy: PolicyView::from(&p.policy),
            })
            .collect();
    let session = &ctx.settings.session;
    let active = persisted.is_some() || !also_enforced.is_empty() || !session.rules.is_empty();
    let inert = persisted.as_ref().map_or_else(Vec::new, |p| {
        unknown_patterns(p.allow.iter().chain(&p.deny).map(String::as_str))
    });
    let view = persisted.as_ref().map(PolicyView::from);
    Ok(Output {
        active,
        message: (!active).then(|| "No permission policy configured".to_owned()),
        also_enforced,
        session_flags: session.flags.clone(),
        session_rules: session.rules.clone(),
        inert_patterns: inert,
        mode: view.as_ref().map(|v| v.mode.clone()),
        allow: view.as_ref().map(|v| v.allow.clone()),
        deny: view.as_ref().map(|v| v.deny.clone()),
        persisted: view,
    })
}
