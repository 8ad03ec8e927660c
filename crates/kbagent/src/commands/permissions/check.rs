//! `permissions check OPERATION`: would this run allow an operation? Exit 6 when not.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::permissions::{PATTERN_HINT, Source, class_name, known_operations};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Check whether an operation is allowed under the policy and this run's session rules (exit 6 when not)",
    "Examples:\n  kbagent permissions check storage.delete-table\n  kbagent --deny-writes --json permissions check 'project.refresh --force'",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Operation to check: a command's name with dots (`storage.delete-table`) or spaces,
    /// optionally with an escalating flag (`project.refresh --force`)
    #[arg(value_name = "OPERATION")]
    pub operation: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub operation: String,
    pub allowed: bool,
    /// `read`, `write`, `admin` or `destructive`.
    pub class: String,
    /// Classes it also counts as: those the Python kbagent gives it, so its policies block
    /// here at least what they block there.
    pub also: Vec<String>,
    /// The rule that blocks it (when not allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `config`, `flag` or `env` (when not allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// `config.json`, the flag or the variable the rule came from (when not allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let class = if self.also.is_empty() {
            self.class.clone()
        } else {
            format!("{}, also {}", self.class, self.also.join(", "))
        };
        match &self.rule {
            None => format!("ALLOWED {} ({class})\n", self.operation),
            Some(rule) => format!(
                "DENIED {} ({class}): rule '{rule}' from {}\n",
                self.operation,
                self.origin.as_deref().unwrap_or_default()
            ),
        }
    }

    fn exit_code(&self) -> Option<u8> {
        (!self.allowed).then(|| ErrorCode::PermissionDenied.exit_code())
    }
}

/// `storage delete-table` and `storage.delete-table` name the same operation; a flag after
/// ` --` keeps its place (`project.refresh --force`).
fn normalize(raw: &str) -> String {
    let raw = raw.trim();
    match raw.find(" --") {
        Some(at) => format!("{}{}", raw[..at].trim().replace(' ', "."), &raw[at..]),
        None => raw.replace(' ', "."),
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let operation = normalize(&args.operation);
    let Some(classes) = known_operations()
        .into_iter()
        .find(|(op, _)| *op == operation)
        .map(|(_, c)| c)
    else {
        return Err(CliError::invalid_argument(format!(
            "Unknown operation '{operation}'"
        ))
        .hint(PATTERN_HINT));
    };
    let policies = crate::permissions::firewall::persisted_policies(ctx, false)?;
    let block = crate::permissions::firewall::verdict(ctx, &policies, &operation, classes);
    Ok(Output {
        allowed: block.is_none(),
        class: class_name(classes.class).to_owned(),
        also: classes.also.iter().map(|c| class_name(*c).to_owned()).collect(),
        rule: block.as_ref().map(|b| b.rule.clone()),
        source: block.as_ref().map(|b| b.source),
        origin: block.map(|b| b.origin),
        operation,
    })
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn operation_names() {
        assert_eq!(normalize("storage delete-table"), "storage.delete-table");
        assert_eq!(normalize("storage.delete-table"), "storage.delete-table");
        assert_eq!(normalize("project refresh --force"), "project.refresh --force");
        assert_eq!(normalize(" doctor "), "doctor");
    }
}
