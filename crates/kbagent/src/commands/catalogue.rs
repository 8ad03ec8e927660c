//! The machine-readable catalogue of commands for `kbagent --json context`: every command's
//! full name, arguments (read from clap), operation class, exit codes and output schema,
//! all taken from the code that runs it.

use clap::CommandFactory;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::Value;

use super::{Escalation, Meta, OpClass};
use super::{completions, config, context, doctor, project, storage, token, version};
use crate::cli::Cli;
use crate::error::ErrorCode;

/// One command's declared facts and output schema, before its arguments are added.
pub(crate) struct Entry {
    pub name: &'static str,
    pub meta: &'static Meta,
    /// Built on demand: the firewall looks entries up on every run and needs no schema.
    pub schema: fn() -> Schema,
}

impl Entry {
    pub fn of<O: JsonSchema>(name: &'static str, meta: &'static Meta) -> Self {
        Self {
            name,
            meta,
            schema: schema_of::<O>,
        }
    }
}

/// The serialize contract: a field is required unless it may be skipped, so always-present
/// nullable fields are required (and nullable).
fn schema_of<O: JsonSchema>() -> Schema {
    schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<O>()
}

/// Every command's entry under its full name (`project add`).
pub(crate) fn entries() -> Vec<(String, Entry)> {
    let mut out = Vec::new();
    let mut noun = |noun: &str, entries: Vec<Entry>| {
        out.extend(
            entries
                .into_iter()
                .map(|e| (format!("{noun} {}", e.name), e)),
        );
    };
    noun("project", project::ProjectCommand::entries());
    noun("token", token::TokenCommand::entries());
    noun("config", config::ConfigCommand::entries());
    noun("storage", storage::StorageCommand::entries());
    noun("job", super::job::JobCommand::entries());
    noun(
        "permissions",
        super::permissions::PermissionsCommand::entries(),
    );
    noun("branch", super::branch::BranchCommand::entries());
    noun("encrypt", super::encrypt::EncryptCommand::entries());
    noun("component", super::component::ComponentCommand::entries());
    noun("workspace", super::workspace::WorkspaceCommand::entries());
    for e in [
        Entry::of::<super::search::Output>("search", &super::search::META),
        Entry::of::<doctor::Output>("doctor", &doctor::META),
        Entry::of::<super::query::Output>("query", &super::query::META),
        Entry::of::<context::Output>("context", &context::META),
        Entry::of::<super::init::Output>("init", &super::init::META),
        Entry::of::<completions::Output>("completions", &completions::META),
        Entry::of::<version::Output>("version", &version::META),
    ] {
        out.push((e.name.to_owned(), e));
    }
    out
}

/// Every leaf command of the clap tree with its full name, in `--help` order.
pub(crate) fn leaf_commands() -> Vec<(String, clap::Command)> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands() {
            let name = if prefix.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            if sub.has_subcommands() {
                walk(sub, &name, out);
            } else {
                out.push((name, sub.clone()));
            }
        }
    }
    // Building fills in what derive leaves to clap (value names, number of values).
    let mut root = Cli::command();
    root.build();
    let mut out = Vec::new();
    walk(&root, "", &mut out);
    out
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CommandInfo {
    /// Full name, as typed after `kbagent` (`project add`).
    pub command: String,
    /// Other names of the verb (the Python kbagent's, where ours differs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub about: String,
    pub operation: OpClass,
    /// Classes it also counts as for permission patterns: those the Python kbagent gives it,
    /// so a policy written there blocks it here too.
    pub also: Vec<OpClass>,
    /// Flags that raise the operation class when given.
    pub escalations: Vec<Escalation>,
    pub arguments: Vec<ArgInfo>,
    pub exit_codes: Vec<ExitInfo>,
    pub examples: Vec<String>,
    /// JSON Schema of `data` in the success envelope.
    pub output_schema: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ArgInfo {
    /// `--long`, `-s`, or the positional's name in capitals.
    pub name: String,
    pub help: String,
    pub required: bool,
    pub repeatable: bool,
    /// Whether it takes a value (`--project ALIAS`) or is a switch (`--yes`).
    pub takes_value: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible_values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ExitInfo {
    pub code: u8,
    pub meaning: &'static str,
}

/// The exit codes a command can end with, from what it declares.
pub(crate) fn exit_codes(meta: &Meta) -> Vec<ExitInfo> {
    let mut codes = vec![
        ExitInfo {
            code: 0,
            meaning: "success",
        },
        ExitInfo {
            code: 1,
            meaning: if meta.partial {
                "general error, or some items failed (the full result is printed)"
            } else {
                "general error"
            },
        },
        ExitInfo {
            code: 2,
            meaning: "usage error: bad arguments or input",
        },
    ];
    if meta.network {
        codes.push(ExitInfo {
            code: 3,
            meaning: "authentication",
        });
        codes.push(ExitInfo {
            code: 4,
            meaning: "network",
        });
    }
    if meta.config {
        codes.push(ExitInfo {
            code: 5,
            meaning: "configuration",
        });
    }
    // Every command passes the permission firewall first.
    codes.push(ExitInfo {
        code: 6,
        meaning: "permission denied: the permission policy or this run's session rules refused it",
    });
    if meta.waits_for_job {
        codes.push(ExitInfo {
            code: 7,
            meaning: "the job was terminated or cancelled",
        });
    }
    if meta.submits_job {
        codes.push(ExitInfo {
            code: 8,
            meaning: "the job may or may not have started (its request's answer was lost)",
        });
    }
    let documented: Vec<u8> = ErrorCode::ALL.iter().map(|c| c.exit_code()).collect();
    codes.retain(|c| c.code == 0 || documented.contains(&c.code));
    codes
}

pub(crate) fn arguments(cmd: &clap::Command) -> Vec<ArgInfo> {
    cmd.get_arguments()
        // Global options are accepted by every command; the manual lists them once.
        .filter(|a| {
            !a.is_hide_set()
                && !a.is_global_set()
                && !matches!(a.get_id().as_str(), "help" | "version")
        })
        .map(|a| {
            let takes_value = a.get_action().takes_values();
            ArgInfo {
                name: arg_name(a),
                help: a.get_help().map(ToString::to_string).unwrap_or_default(),
                required: a.is_required_set(),
                repeatable: matches!(
                    a.get_action(),
                    clap::ArgAction::Append | clap::ArgAction::Count
                ),
                takes_value,
                value_name: a
                    .get_value_names()
                    .and_then(|v| v.first())
                    .filter(|_| takes_value)
                    .map(ToString::to_string),
                possible_values: a
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_owned())
                    .collect(),
                default: a
                    .get_default_values()
                    .first()
                    .map(|v| v.to_string_lossy().into_owned()),
            }
        })
        .collect()
}

pub(crate) fn arg_name(arg: &clap::Arg) -> String {
    match (arg.get_long(), arg.get_short()) {
        (Some(l), _) => format!("--{l}"),
        (None, Some(s)) => format!("-{s}"),
        (None, None) => arg.get_id().as_str().to_ascii_uppercase(),
    }
}

/// The example command lines of an `Examples:` block.
fn example_lines(examples: &str) -> Vec<String> {
    examples
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("kbagent ") || l.contains(" kbagent "))
        .map(str::to_owned)
        .collect()
}

/// The catalogue: one entry per leaf of the clap tree. A leaf without an entry is a bug the
/// tests catch; here it is skipped rather than failing `context`.
pub(crate) fn catalogue() -> Vec<CommandInfo> {
    let entries = entries();
    leaf_commands()
        .into_iter()
        .filter_map(|(name, cmd)| {
            let (_, entry) = entries.iter().find(|(n, _)| *n == name)?;
            Some(CommandInfo {
                about: cmd.get_about().map(ToString::to_string).unwrap_or_default(),
                aliases: entry.meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
                operation: entry.meta.class,
                also: entry.meta.also.to_vec(),
                escalations: entry.meta.escalations.to_vec(),
                arguments: arguments(&cmd),
                exit_codes: exit_codes(entry.meta),
                examples: example_lines(entry.meta.examples),
                output_schema: (entry.schema)().to_value(),
                command: name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command in the clap tree declares a class, examples and an output schema, and
    /// every declared entry is a real command.
    #[test]
    fn every_command_is_catalogued() {
        let entries = entries();
        let leaves = leaf_commands();
        for (name, cmd) in &leaves {
            let (_, entry) = entries
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("`{name}` has no catalogue entry"));
            assert!(
                !example_lines(entry.meta.examples).is_empty(),
                "`{name}` has no examples"
            );
            // Tools (and the firewall tests) run the first example as the command's own.
            let first = format!("{} ", example_lines(entry.meta.examples)[0]);
            assert!(
                first.contains(&format!(" {name} ")),
                "`{name}`: the first example runs another command: {first}"
            );
            assert_eq!(
                cmd.get_after_help().map(ToString::to_string).as_deref(),
                Some(entry.meta.examples),
                "`{name}`: --help shows other examples than the catalogue"
            );
            let schema = (entry.schema)().to_value();
            assert!(
                schema.get("type").is_some()
                    || schema.get("$ref").is_some()
                    || schema.get("anyOf").is_some()
                    || schema.get("oneOf").is_some(),
                "`{name}` has an empty output schema: {schema}"
            );
            for e in entry.meta.escalations {
                assert!(
                    e.class > entry.meta.class,
                    "`{name}`: {} does not escalate",
                    e.flag
                );
                assert!(
                    cmd.get_arguments().any(|a| arg_name(a) == e.flag),
                    "`{name}` escalates on {}, which it does not have",
                    e.flag
                );
            }
        }
        for (name, _) in &entries {
            assert!(
                leaves.iter().any(|(n, _)| n == name),
                "catalogue entry `{name}` is not a command"
            );
        }
        assert_eq!(catalogue().len(), leaves.len());
    }

    /// The README's command table has a row for every command.
    #[test]
    fn readme_lists_every_command() {
        let readme = include_str!("../../../../README.md");
        for (name, _) in leaf_commands() {
            assert!(
                readme.contains(&format!("| `{name}")),
                "README's command table has no row for `{name}`"
            );
        }
    }
}
