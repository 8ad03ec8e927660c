//! The workflows `kbagent context` teaches, as data: each step names a catalogue command,
//! so the manual cannot teach a command that does not exist. Steps whose command is not
//! built yet are kept in the table (their commands are listed in [`PENDING`]) and left out
//! of the output until the command appears in the catalogue.

use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::catalogue::CommandInfo;
use crate::error::ErrorCode;

pub(crate) struct Workflow {
    pub id: &'static str,
    pub title: &'static str,
    /// When an agent needs it.
    pub when: &'static str,
    pub steps: &'static [Step],
    /// The errors this workflow runs into, and what to do about each.
    pub codes: &'static [(ErrorCode, &'static str)],
}

pub(crate) struct Step {
    /// The full catalogue name (`storage table-detail`).
    pub command: &'static str,
    /// What follows the command on the line; `None`: the command's own catalogue example.
    /// Always `None` for [`PENDING`] commands, whose flags are theirs to define.
    pub args: Option<&'static str>,
    pub why: &'static str,
}

const fn step(command: &'static str, args: &'static str, why: &'static str) -> Step {
    Step {
        command,
        args: Some(args),
        why,
    }
}

/// A step shown with the command's own example (for [`PENDING`] commands, and commands
/// whose example is the right line already).
const fn example(command: &'static str, why: &'static str) -> Step {
    Step {
        command,
        args: None,
        why,
    }
}

/// Commands that steps below name but that this build may not have yet. A step naming one
/// is dropped while the catalogue lacks it, and appears as soon as the command exists.
/// Any other step must name an existing command (a unit test checks it).
// Only the tests read it: at run time the catalogue alone decides what is shown.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const PENDING: &[&str] = &[
    "search",
    "config update",
    "config new",
    "component list",
    "component detail",
    "branch list",
    "branch create",
    "branch use",
    "branch reset",
    "workspace create",
    "workspace load",
    "workspace delete",
    "query",
    "encrypt values",
];

pub(crate) const WORKFLOWS: &[Workflow] = &[
    Workflow {
        id: "connect",
        title: "Connect to a project",
        when: "before anything else, or when a command fails with CONFIG_ERROR about projects",
        steps: &[
            step(
                "project add",
                "--project prod --url https://connection.keboola.com --token-stdin",
                "pipe the token on stdin (never on the command line); it is verified first",
            ),
            step(
                "project status",
                "",
                "every registered project's connectivity and token",
            ),
            step(
                "project info",
                "--project prod",
                "whether the token is a master token that can mint child tokens",
            ),
        ],
        codes: &[
            (
                ErrorCode::InvalidToken,
                "the token is wrong or expired: ask the user for a new one",
            ),
            (
                ErrorCode::ConnectionError,
                "check the stack URL; retry later if `retryable` is true",
            ),
        ],
    },
    Workflow {
        id: "find-data",
        title: "Find data",
        when: "the user names data (a table, a source, a report) but not its id",
        steps: &[
            example(
                "search",
                "search names of tables, buckets and configurations at once",
            ),
            step(
                "storage buckets",
                "--project prod",
                "the buckets of the project (in.* inputs, out.* outputs)",
            ),
            step(
                "storage tables",
                "--project prod --bucket-id in.c-main",
                "the tables of one bucket",
            ),
            step(
                "config list",
                "--project prod",
                "the configurations that load or produce data",
            ),
        ],
        codes: &[(
            ErrorCode::NotFound,
            "the id is wrong or on another branch: list again",
        )],
    },
    Workflow {
        id: "read-table",
        title: "Read a table",
        when: "you need a table's columns or rows",
        steps: &[
            step(
                "storage table-detail",
                "--project prod --table-id in.c-main.orders",
                "columns, primary key, row count, last change",
            ),
            step(
                "storage preview",
                "--project prod --table-id in.c-main.orders --limit 20",
                "a sample of rows, filtered with --columns and --where-column/--where-value",
            ),
            step(
                "storage download-table",
                "--project prod --table-id in.c-main.orders --output orders.csv",
                "the whole table (or a filtered part) as CSV to a file",
            ),
        ],
        codes: &[
            (
                ErrorCode::NotFound,
                "check the table id with `storage tables`",
            ),
            (
                ErrorCode::StorageJobFailed,
                "the export failed in Keboola: read the message, do not loop",
            ),
        ],
    },
    Workflow {
        id: "run-and-debug-job",
        title: "Run a job and debug it",
        when: "the user asks to run a configuration, or a run failed",
        steps: &[
            step(
                "job list",
                "--project prod --status error --limit 10",
                "recent failures, before running anything",
            ),
            step(
                "job run",
                "--project prod --component-id keboola.ex-db-pgsql --config-id 123 --wait",
                "run it and wait for the end; only when the user asked for a run",
            ),
            step(
                "job detail",
                "--project prod --job-id 4567 --log-tail-lines 50",
                "the job's status, result message and the end of its log",
            ),
            step(
                "job events",
                "--project prod --job-id 4567",
                "the full event log of the job",
            ),
        ],
        codes: &[
            (
                ErrorCode::QueueJobFailed,
                "the job ran and failed: read error.details and the log tail, fix the configuration, then ask before running again",
            ),
            (
                ErrorCode::QueueJobTimeout,
                "the wait ended but the job still runs: `job wait`, never run it again",
            ),
            (
                ErrorCode::JobTerminated,
                "the job was terminated or cancelled",
            ),
            (
                ErrorCode::JobStateUnknown,
                "the submission's answer was lost: look for the job with `job list` before running it again",
            ),
        ],
    },
    Workflow {
        id: "safe-write",
        title: "Change a configuration safely",
        when: "the user asks to change a configuration",
        steps: &[
            step(
                "config detail",
                "--project prod --component-id keboola.ex-db-snowflake --config-id 123",
                "always read it fresh right before a change",
            ),
            example(
                "encrypt values",
                "optional: see a secret's KBC:: cipher; `config update` encrypts plain # values itself",
            ),
            example(
                "config update",
                "first with --dry-run to show the change to the user, then without it once confirmed; on CONFIG_VERSION_CONFLICT read it again and redo the change",
            ),
            step(
                "config detail",
                "--project prod --component-id keboola.ex-db-snowflake --config-id 123",
                "verify the new version; stop here: running a job is a separate request",
            ),
        ],
        codes: &[
            (
                ErrorCode::UsageError,
                "with details.confirmation_required: ask the user, then pass --yes",
            ),
            (
                ErrorCode::AccessDenied,
                "the token may not change this configuration",
            ),
            (
                ErrorCode::ConfigVersionConflict,
                "someone else changed it: read it fresh and compute the change again (details.written says whether yours landed)",
            ),
            (
                ErrorCode::PermissionDenied,
                "the policy forbids writes here: show the user the --dry-run result instead",
            ),
        ],
    },
    Workflow {
        id: "branches",
        title: "Work in a development branch",
        when: "a change should be tried without touching production",
        steps: &[
            example("branch list", "the project's branches"),
            example(
                "branch create",
                "a new branch; configuration writes and job runs then follow it",
            ),
            example("branch use", "switch the active branch of the project"),
            step(
                "storage tables",
                "--project prod --branch 123",
                "storage reads stay on production unless --branch is given",
            ),
            example("branch reset", "back to production"),
        ],
        codes: &[(
            ErrorCode::NotFound,
            "the branch id is wrong or the branch was deleted",
        )],
    },
    Workflow {
        id: "sql",
        title: "Query data with SQL",
        when: "a question needs joins or aggregates over tables",
        steps: &[
            example(
                "workspace create",
                "only to keep a workspace across many queries: `query` alone makes a temporary one",
            ),
            example("workspace load", "load the tables the query needs"),
            example(
                "query",
                "run the SQL; results are capped, say so to the user",
            ),
            example("workspace delete", "clean up when done"),
        ],
        codes: &[(
            ErrorCode::QueryJobFailed,
            "the database rejected a statement: error.message has its words, details.statement which one",
        )],
    },
    Workflow {
        id: "tokens",
        title: "Give out a limited token",
        when: "a person or a tool needs its own access to part of a project",
        steps: &[
            step(
                "token list",
                "--project prod",
                "the project's tokens (never their secrets)",
            ),
            step(
                "token create",
                "--project prod --description reader --bucket-read in.c-crm --expires-in 3600",
                "a child token with only the access needed; its secret is printed once",
            ),
            step(
                "token delete",
                "--project prod --token-id 1234 --yes",
                "revoke it when it is no longer needed (ask first)",
            ),
        ],
        codes: &[(
            ErrorCode::MissingMasterToken,
            "the stored token cannot mint: see \"Which token do I need?\"",
        )],
    },
    Workflow {
        id: "storage-write",
        title: "Load data into a table",
        when: "the user asks to create or fill a table",
        steps: &[
            step(
                "storage create-bucket",
                "--project prod --stage in --name sales",
                "a bucket for the table, if none fits",
            ),
            step(
                "storage upload-table",
                "--project prod --table-id in.c-sales.orders --file orders.csv",
                "create or fill the table from a CSV file",
            ),
            step(
                "storage job-detail",
                "--project prod --job-id 5000123 --wait",
                "after a timeout: follow the storage job, never upload again",
            ),
            step(
                "storage table-detail",
                "--project prod --table-id in.c-sales.orders",
                "verify the row count",
            ),
        ],
        codes: &[
            (
                ErrorCode::StorageJobFailed,
                "the import failed: read the message; `storage load-file` retries from the uploaded file",
            ),
            (
                ErrorCode::Timeout,
                "the storage job may still run: `storage job-detail --wait`",
            ),
        ],
    },
    Workflow {
        id: "oauth",
        title: "Give a user an OAuth authorization link",
        when: "a configuration needs the user to authorize access to their account",
        steps: &[step(
            "config oauth-url",
            "--project prod --component-id keboola.ex-google-drive --config-id 456 --no-open",
            "a link the user opens in a browser; with a non-master token add KBC_MANAGE_API_TOKEN and --allow-env-manage-token",
        )],
        codes: &[(
            ErrorCode::MissingMasterToken,
            "the stored token cannot mint: see \"Which token do I need?\"",
        )],
    },
    Workflow {
        id: "repair",
        title: "Diagnose and repair access",
        when: "commands fail with INVALID_TOKEN or CONNECTION_ERROR",
        steps: &[
            step(
                "doctor",
                "",
                "config file, permissions and every project's connectivity",
            ),
            step(
                "project refresh",
                "--project prod --yes",
                "replace an expired or revoked token (needs a Manage API token)",
            ),
        ],
        codes: &[(
            ErrorCode::InvalidToken,
            "the token is expired or revoked: `project refresh`, or ask the user for a new one",
        )],
    },
];

/// A workflow as shown: only the steps whose command exists.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ShownWorkflow {
    pub id: &'static str,
    pub title: &'static str,
    pub when: &'static str,
    pub steps: Vec<ShownStep>,
    pub codes: Vec<ShownCode>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ShownStep {
    /// The catalogue command (`storage preview`).
    pub command: &'static str,
    /// A full command line, `kbagent --json ...`.
    pub example: String,
    pub why: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ShownCode {
    pub code: ErrorCode,
    pub exit_code: u8,
    pub what_to_do: &'static str,
}

/// The workflows with the steps `catalogue` can run; a workflow left without steps is
/// left out.
pub(crate) fn shown(catalogue: &[CommandInfo]) -> Vec<ShownWorkflow> {
    WORKFLOWS
        .iter()
        .filter_map(|w| {
            let steps: Vec<ShownStep> = w
                .steps
                .iter()
                .filter_map(|s| {
                    let info = catalogue.iter().find(|c| c.command == s.command)?;
                    Some(ShownStep {
                        command: s.command,
                        example: line(s, info),
                        why: s.why,
                    })
                })
                .collect();
            (!steps.is_empty()).then(|| ShownWorkflow {
                id: w.id,
                title: w.title,
                when: w.when,
                steps,
                codes: w
                    .codes
                    .iter()
                    .map(|(code, what)| ShownCode {
                        code: *code,
                        exit_code: code.exit_code(),
                        what_to_do: what,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The step's command line: its own arguments, else the command's example (a plain
/// single-project one when there is one, never a line continued with `\`).
fn line(step: &Step, info: &CommandInfo) -> String {
    let rest = match step.args {
        Some("") => step.command.to_owned(),
        Some(args) => format!("{} {args}", step.command),
        None => {
            let usable: Vec<&String> = info
                .examples
                .iter()
                .filter(|e| !e.trim_end().ends_with('\\'))
                .collect();
            let chosen = usable
                .iter()
                .find(|e| e.contains("--project") && !e.contains("--branch"))
                .or_else(|| usable.first());
            match chosen {
                Some(e) => e
                    .trim_start_matches("kbagent ")
                    .trim_start_matches("--json ")
                    .to_owned(),
                None => step.command.to_owned(),
            }
        }
    };
    format!("kbagent --json {rest}")
}

/// The workflows section of the manual.
pub(crate) fn manual_section(workflows: &[ShownWorkflow]) -> String {
    let mut out = String::from("\n## Workflows\n");
    for w in workflows {
        out.push_str(&format!("\n### {}\nWhen: {}.\n", w.title, w.when));
        for (i, s) in w.steps.iter().enumerate() {
            out.push_str(&format!("{}. {}\n   {}\n", i + 1, s.why, s.example));
        }
        if !w.codes.is_empty() {
            out.push_str("If it fails:\n");
            for c in &w.codes {
                let code = serde_json::to_value(c.code).unwrap_or_default();
                out.push_str(&format!(
                    "- {} (exit {}): {}\n",
                    code.as_str().unwrap_or_default(),
                    c.exit_code,
                    c.what_to_do
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::commands::catalogue::catalogue;

    fn built() -> Vec<CommandInfo> {
        catalogue()
    }

    fn exists(name: &str) -> bool {
        built().iter().any(|c| c.command == name)
    }

    #[test]
    fn every_step_names_a_catalogue_command_or_a_pending_one() {
        for w in WORKFLOWS {
            for s in w.steps {
                assert!(
                    exists(s.command) || PENDING.contains(&s.command),
                    "workflow `{}` names `{}`, which is neither in the catalogue nor in PENDING",
                    w.id,
                    s.command
                );
                if PENDING.contains(&s.command) {
                    assert!(
                        s.args.is_none(),
                        "`{}` is pending: use its catalogue example, not our own arguments",
                        s.command
                    );
                }
            }
        }
    }

    /// Splits a command line as a POSIX shell would for the quoting examples use ('...'
    /// and "..." without escapes inside).
    fn shell_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quote, mut started) =
            (Vec::new(), String::new(), None, false);
        for ch in line.chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (None, '\'' | '"') => {
                    quote = Some(ch);
                    started = true;
                }
                (None, c) if c.is_whitespace() => {
                    if started || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    started = false;
                }
                (_, c) => word.push(c),
            }
        }
        if started || !word.is_empty() {
            words.push(word);
        }
        words
    }

    /// Our own argument lines are real command lines of this build.
    #[test]
    fn every_step_line_of_an_existing_command_parses() {
        for w in shown(&built()) {
            for s in &w.steps {
                let owned = shell_words(&s.example);
                let words: Vec<&str> = owned.iter().map(String::as_str).collect();
                // Examples may redirect or pipe; only the kbagent part is parsed.
                let end = words
                    .iter()
                    .position(|w| matches!(*w, "<" | ">" | "|"))
                    .unwrap_or(words.len());
                if let Err(e) = Cli::try_parse_from(&words[..end]) {
                    panic!("`{}` in `{}` does not parse: {e}", s.example, w.id);
                }
            }
        }
    }

    #[test]
    fn steps_are_dropped_exactly_when_their_command_is_missing() {
        let all = built();
        let shown_all = shown(&all);
        for w in WORKFLOWS {
            let expected: Vec<&str> = w
                .steps
                .iter()
                .map(|s| s.command)
                .filter(|c| exists(c))
                .collect();
            let got: Vec<&str> = shown_all
                .iter()
                .find(|s| s.id == w.id)
                .map(|s| s.steps.iter().map(|s| s.command).collect())
                .unwrap_or_default();
            assert_eq!(got, expected, "workflow `{}`", w.id);
            for s in w.steps {
                if !exists(s.command) {
                    assert!(PENDING.contains(&s.command), "{}", s.command);
                }
            }
        }
        // Taking a command away drops its steps (and nothing else).
        let without: Vec<CommandInfo> = catalogue()
            .into_iter()
            .filter(|c| c.command != "job run")
            .collect();
        let run = shown(&without)
            .into_iter()
            .find(|w| w.id == "run-and-debug-job")
            .unwrap();
        let names: Vec<&str> = run.steps.iter().map(|s| s.command).collect();
        assert_eq!(names, ["job list", "job detail", "job events"]);
        // A workflow without any runnable step is not shown at all.
        assert!(shown(&[]).is_empty());
    }

    #[test]
    fn the_manual_shows_only_shown_steps() {
        let workflows = shown(&built());
        let text = manual_section(&workflows);
        for w in WORKFLOWS {
            for s in w.steps {
                let line = format!("kbagent --json {}", s.command);
                if exists(s.command) {
                    assert!(text.contains(&line), "{line} missing");
                } else {
                    assert!(!text.contains(&format!("{line} ")), "{line} shown");
                }
            }
        }
        assert!(text.contains("QUEUE_JOB_FAILED (exit 1)"), "{text}");
    }
}
