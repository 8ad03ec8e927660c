//! The gate every command passes before it runs: its operation class, after the flags
//! given on this command line, against the persisted policy and this run's session rules.
//! A refusal happens before any request is sent or any file is touched.

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::{Block, Classes, Source, class_name, decide, operation_name};
use crate::commands::catalogue::{self, arg_name};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};

/// The command about to run, as the firewall sees it.
#[derive(Debug)]
pub(crate) struct Invocation {
    /// Full name, as typed (`storage delete-table`).
    pub command: String,
    /// Its declared facts; `None` for a command that declares none (refused).
    pub meta: Option<&'static Meta>,
    /// `--dry-run` was given: the command changes nothing, so it counts as a read.
    pub dry_run: bool,
    /// The escalating flags that were given, with the class each raises it to.
    pub escalated: Vec<(&'static str, OpClass)>,
}

impl Invocation {
    /// The operations to check, each with its class: the command itself, then
    /// `<operation> <flag>` for each escalating flag given (none under `--dry-run`).
    pub fn operations(&self) -> Vec<(String, Classes)> {
        let op = operation_name(&self.command);
        let Some(meta) = self.meta else {
            return Vec::new();
        };
        if self.dry_run {
            return vec![(op, Classes::of(OpClass::Read))];
        }
        let mut out = vec![(
            op.clone(),
            Classes {
                class: meta.class,
                also: meta.also,
            },
        )];
        for (flag, class) in &self.escalated {
            out.push((format!("{op} {flag}"), Classes::of(*class)));
        }
        out
    }

    /// The class this run acts with: the highest of its operations' own classes.
    pub fn class(&self) -> Option<OpClass> {
        self.operations().into_iter().map(|(_, c)| c.class).max()
    }
}

/// Reads the invocation from clap's parse: the leaf command's name, its catalogue entry and
/// which of its flags were given. `root` is the command `matches` came from.
pub(crate) fn classify(root: &clap::Command, matches: &ArgMatches) -> Invocation {
    let mut names: Vec<&str> = Vec::new();
    let mut cmd = root;
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        names.push(name);
        match cmd.find_subcommand(name) {
            Some(c) => cmd = c,
            None => break,
        }
        m = sub;
    }
    let command = names.join(" ");
    let meta = catalogue::entries()
        .into_iter()
        .find(|(n, _)| *n == command)
        .map(|(_, e)| e.meta);
    let escalated = meta
        .map(|meta| {
            meta.escalations
                .iter()
                .filter(|e| given(cmd, m, e.flag))
                .map(|e| (e.flag, e.class))
                .collect()
        })
        .unwrap_or_default();
    Invocation {
        dry_run: given(cmd, m, "--dry-run"),
        command,
        meta,
        escalated,
    }
}

/// Whether the leaf's flag `name` (`--force`) was given on the command line (or by its
/// environment variable). A switch counts when it is on; an option when it has a value.
fn given(cmd: &clap::Command, m: &ArgMatches, name: &str) -> bool {
    let Some(arg) = cmd.get_arguments().find(|a| arg_name(a) == name) else {
        return false;
    };
    let id = arg.get_id().as_str();
    if matches!(arg.get_action(), clap::ArgAction::SetTrue) {
        return m.try_get_one::<bool>(id).ok().flatten().copied() == Some(true);
    }
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Refuses the invocation (PERMISSION_DENIED, exit 6) unless the policy and this run's
/// session rules allow every one of its operations.
pub(crate) fn enforce(ctx: &Ctx<'_>, inv: &Invocation) -> CliResult<()> {
    let Some(class) = inv.class() else {
        let op = operation_name(&inv.command);
        return Err(denied(
            inv,
            &op,
            None,
            &Block {
                rule: "unclassified".to_owned(),
                source: Source::Builtin,
                origin: "kbagent".to_owned(),
            },
        ));
    };
    // A config that cannot be read leaves the policy unknown: only reads go on (they read
    // the config themselves and report what is wrong with it); anything else is refused
    // with the config's error.
    let policy = match ctx.store().and_then(crate::store::ConfigStore::load) {
        Ok(cfg) => cfg.permissions,
        Err(_) if class == OpClass::Read => None,
        Err(e) => return Err(e),
    };
    for (op, classes) in inv.operations() {
        if let Some(block) = decide(policy.as_ref(), &ctx.settings.session, &op, classes) {
            return Err(denied(inv, &op, Some(classes), &block));
        }
    }
    Ok(())
}

fn denied(inv: &Invocation, op: &str, classes: Option<Classes>, block: &Block) -> CliError {
    let why = match (block.source, block.rule.as_str()) {
        (Source::Builtin, _) => "the command declares no operation class".to_owned(),
        (Source::Config, "mode:deny") => {
            "the policy in config.json denies everything it does not allow, and no allow \
             pattern matches"
                .to_owned()
        }
        (Source::Config, rule) => format!("rule '{rule}' in config.json"),
        (_, rule) => format!("rule '{rule}' from {}", block.origin),
    };
    let hint = match block.source {
        Source::Flag | Source::Env => format!(
            "This run was started with {}: it refuses {}. A command given --dry-run counts as \
             a read. `kbagent permissions show` lists the rules.",
            block.origin,
            match block.rule.as_str() {
                "cli:write" => "every command that is not a read (write, admin, destructive)",
                "cli:destructive" => "destructive commands",
                _ => "what its patterns match",
            }
        ),
        Source::Config => "`kbagent permissions show` lists the policy; only a person at a \
                           terminal can change it (`kbagent permissions set`)."
            .to_owned(),
        Source::Builtin => "This is a bug in kbagent; please report it.".to_owned(),
    };
    let mut err = CliError::new(
        ErrorCode::PermissionDenied,
        format!("Operation '{op}' is blocked by the active permission policy: {why}."),
    )
    .detail("rule", block.rule.clone())
    .detail(
        "source",
        serde_json::to_value(block.source).unwrap_or_default(),
    )
    .detail("origin", block.origin.clone())
    .detail("command", inv.command.clone())
    .detail("operation", op.to_owned())
    .hint(hint);
    if let Some(c) = classes {
        err = err.detail("class", class_name(c.class));
        // Why a class pattern matched a command of another class.
        if !c.also.is_empty() {
            let also: Vec<&str> = c.also.iter().map(|a| class_name(*a)).collect();
            err = err.detail("also", also);
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn invocation(args: &[&str]) -> Invocation {
        let mut root = Cli::command();
        let m = root
            .try_get_matches_from_mut(std::iter::once("kbagent").chain(args.iter().copied()))
            .unwrap();
        classify(&root, &m)
    }

    /// Fail closed: every command the parser accepts has a class the firewall can read.
    #[test]
    fn every_command_has_an_operation_class() {
        let entries = catalogue::entries();
        for (name, _) in catalogue::leaf_commands() {
            let inv = Invocation {
                command: name.clone(),
                meta: entries
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, e)| e.meta),
                dry_run: false,
                escalated: Vec::new(),
            };
            assert!(inv.class().is_some(), "`{name}` has no operation class");
        }
    }

    #[test]
    fn a_command_without_a_class_is_refused() {
        let inv = Invocation {
            command: "ghost".to_owned(),
            meta: None,
            dry_run: false,
            escalated: Vec::new(),
        };
        assert_eq!(inv.class(), None);
        assert!(inv.operations().is_empty());
    }

    #[test]
    fn flags_given_raise_or_lower_the_class() {
        let inv = invocation(&["project", "refresh", "--project", "a"]);
        assert_eq!(inv.command, "project refresh");
        assert_eq!(inv.class(), Some(OpClass::Admin));
        let inv = invocation(&["project", "refresh", "--all", "--force"]);
        assert_eq!(
            inv.operations(),
            [
                ("project.refresh".to_owned(), Classes::of(OpClass::Admin)),
                (
                    "project.refresh --force".to_owned(),
                    Classes::of(OpClass::Destructive)
                )
            ]
        );
        let inv = invocation(&["project", "refresh", "--all", "--force", "--dry-run"]);
        assert_eq!(
            inv.operations(),
            [("project.refresh".to_owned(), Classes::of(OpClass::Read))]
        );
        let inv = invocation(&[
            "storage",
            "delete-table",
            "--project",
            "a",
            "--table-id",
            "in.c-a.b",
        ]);
        assert_eq!(inv.class(), Some(OpClass::Destructive));
        let inv = invocation(&["--json", "doctor"]);
        assert_eq!(
            (inv.command.as_str(), inv.class()),
            ("doctor", Some(OpClass::Read))
        );
    }
}
