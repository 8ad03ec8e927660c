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
        for alias in meta.aliases {
            out.push((alias_operation(&op, alias), out[0].1));
        }
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

/// `config.trash` under its other name `trash-list`: `config.trash-list`.
pub(crate) fn alias_operation(op: &str, alias: &str) -> String {
    match op.rsplit_once('.') {
        Some((group, _)) => format!("{group}.{alias}"),
        None => alias.to_owned(),
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
    let policies = persisted_policies(ctx, class == OpClass::Read)?;
    for (op, classes) in inv.operations() {
        if let Some(block) = verdict(ctx, &policies, &op, classes) {
            return Err(denied(inv, &op, Some(classes), &block));
        }
    }
    Ok(())
}

/// A persisted policy and the config file it is in; `in_use` for the config this run reads
/// and writes.
pub(crate) struct Persisted {
    pub file: std::path::PathBuf,
    pub in_use: bool,
    pub policy: crate::store::PermissionPolicy,
}

/// Every persisted policy this run answers to: the config in use, and the configs it can
/// stand in for: the platform config and the nearest `.kbagent/` of the working directory.
/// Pointing kbagent at another config (`--config-dir`, `KBAGENT_CONFIG_DIR`, a new
/// `.kbagent/` from `init`, a headless session) therefore never sheds a policy: policies
/// only add up. A config that exists but cannot be read leaves its policy unknown: reads
/// (`reads_only`) go on, as they read the config themselves and report what is wrong with
/// it; anything else is refused with the config's error.
pub(crate) fn persisted_policies(ctx: &Ctx<'_>, reads_only: bool) -> CliResult<Vec<Persisted>> {
    use crate::store::ConfigStore;
    let mut out: Vec<Persisted> = Vec::new();
    let mut seen = Vec::new();
    let mut bare = ctx.env.clone();
    bare.config_dir = None;
    bare.project_from_env = None;
    let in_use = ctx.store();
    let candidates = [
        in_use.cloned().map(|s| (s, true)),
        ConfigStore::resolve(None, &bare).map(|s| (s, false)),
        ConfigStore::resolve_outside_local(None, &bare).map(|s| (s, false)),
    ];
    for (i, candidate) in candidates.into_iter().enumerate() {
        let (store, is_in_use) = match candidate {
            Ok(found) => found,
            // No platform directory (no HOME): no config there to answer to. The config in
            // use failing to resolve is the command's own error.
            Err(_) if i > 0 || reads_only => continue,
            Err(e) => return Err(e),
        };
        // A headless session reads no config file, but the policy of the one it names
        // (`--config-dir`, `KBAGENT_CONFIG_DIR`) still counts.
        let (store, is_in_use) = if store.is_headless() {
            if store.dir().as_os_str().is_empty() {
                continue;
            }
            let dir = store.dir().to_path_buf();
            (
                ConfigStore::at(dir, crate::store::ConfigSource::EnvVar),
                false,
            )
        } else {
            (store, is_in_use)
        };
        let file = store.file();
        if seen.contains(&file) || (!is_in_use && !file.exists()) {
            continue;
        }
        seen.push(file.clone());
        match store.load() {
            Ok(cfg) => out.extend(cfg.permissions.map(|policy| Persisted {
                file,
                in_use: is_in_use,
                policy,
            })),
            Err(_) if reads_only => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The first rule that blocks `op`: each persisted policy on its own, then the session's.
pub(crate) fn verdict(
    ctx: &Ctx<'_>,
    policies: &[Persisted],
    op: &str,
    classes: Classes,
) -> Option<Block> {
    let none = super::Session::default();
    policies
        .iter()
        .find_map(|p| {
            decide(Some(&p.policy), &none, op, classes).map(|mut b| {
                if !p.in_use {
                    b.origin = p.file.display().to_string();
                }
                b
            })
        })
        .or_else(|| decide(None, &ctx.settings.session, op, classes))
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
