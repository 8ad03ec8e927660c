//! `kbagent permissions ...`: the permission firewall's policy. `show` and `check` read it;
//! `set` and `reset` change it, and only after a person typed a random code on a terminal
//! (`crate::permissions::confirm`). The Python kbagent's commands, keys and semantics.

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::verbs;
use crate::store::PermissionPolicy;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent permissions show
  kbagent --deny-writes permissions check storage.delete-table
  kbagent permissions set --mode allow --deny cli:destructive --deny 'token.*'
  kbagent permissions set --mode deny --allow cli:read
  kbagent permissions reset

The policy is a guard rail against an agent's mistakes, not a sandbox: a process running as
the same OS user can edit config.json directly.";

#[derive(Debug, Args)]
pub(crate) struct PermissionsArgs {
    #[command(subcommand)]
    pub command: PermissionsCommand,
}

verbs!(PermissionsCommand {
    "show" => Show(show),
    "check" => Check(check),
    "set" => Set(set),
    "reset" => Reset(reset),
});

/// A persisted policy as config.json holds it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct PolicyView {
    /// `allow` (everything not denied) or `deny` (only what is allowed).
    pub mode: String,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl From<&PermissionPolicy> for PolicyView {
    fn from(p: &PermissionPolicy) -> Self {
        Self {
            mode: p.mode.as_str().to_owned(),
            allow: p.allow.clone(),
            deny: p.deny.clone(),
        }
    }
}

impl PolicyView {
    fn human(&self) -> String {
        let mut out = format!(
            "Mode: {}\n",
            match self.mode.as_str() {
                "deny" => "default-deny (everything denied unless allowed)",
                _ => "default-allow (everything allowed unless denied)",
            }
        );
        if !self.allow.is_empty() {
            out.push_str(&format!("Allow: {}\n", self.allow.join(", ")));
        }
        if !self.deny.is_empty() {
            out.push_str(&format!("Deny: {}\n", self.deny.join(", ")));
        }
        out
    }
}

/// `status` of a policy change, `ok` (the Python kbagent's key).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Done {
    Ok,
}

const GUARD_RAIL: &str = "Note: the policy is a guard rail against an agent's mistakes, not a \
sandbox. A process that runs as the same OS user can change config.json.\n";
