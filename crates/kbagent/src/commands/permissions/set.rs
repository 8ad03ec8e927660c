//! `permissions set`: persist a policy, after a person typed the confirmation code.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Done, GUARD_RAIL, PolicyView};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::permissions::{PATTERN_HINT, confirm, shown, unknown_patterns};
use crate::store::{PermissionPolicy, PolicyMode};

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Set the permission policy (a person types a confirmation code on a terminal; nothing skips it)",
    "Examples:\n  kbagent permissions set --mode allow --deny cli:write\n  kbagent permissions set --mode deny --allow cli:read --allow job.run\n  kbagent permissions set --mode allow --deny storage.delete-table --deny 'token.*'",
);

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Everything is allowed unless a deny pattern matches (and no allow pattern does)
    Allow,
    /// Everything is denied unless an allow pattern matches (and no deny pattern does)
    Deny,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base mode: `allow` (default-allow) or `deny` (default-deny)
    #[arg(short = 'm', long, value_enum)]
    pub mode: Mode,
    /// Allowed operation pattern (repeatable): cli:read|write|admin|destructive, a name, a glob
    #[arg(short = 'a', long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Denied operation pattern (repeatable): cli:read|write|admin|destructive, a name, a glob
    #[arg(short = 'd', long, value_name = "PATTERN")]
    pub deny: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub status: Done,
    pub mode: String,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let view = PolicyView {
            mode: self.mode.clone(),
            allow: self.allow.clone(),
            deny: self.deny.clone(),
        };
        format!("Permission policy updated.\n{}{GUARD_RAIL}", view.human())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    // A typo is refused before anyone is asked for a code.
    let invalid = unknown_patterns(args.allow.iter().chain(&args.deny).map(String::as_str));
    if !invalid.is_empty() {
        return Err(CliError::invalid_argument(format!(
            "Unknown operation pattern(s): {}",
            invalid.join(", ")
        ))
        .detail("invalid_patterns", shown(&invalid))
        .hint(PATTERN_HINT));
    }
    let store = ctx.store()?;
    // An unreadable config is reported before the prompt, not after.
    store.load()?;
    confirm::require_person(ctx, "update the permission policy")?;
    let policy = PermissionPolicy {
        mode: match args.mode {
            Mode::Allow => PolicyMode::Allow,
            Mode::Deny => PolicyMode::Deny,
        },
        allow: args.allow.clone(),
        deny: args.deny.clone(),
    };
    let stored = policy.clone();
    store.update(move |cfg| {
        cfg.permissions = Some(stored);
        Ok(())
    })?;
    Ok(Output {
        status: Done::Ok,
        mode: policy.mode.as_str().to_owned(),
        allow: policy.allow,
        deny: policy.deny,
    })
}
