//! `kbagent context`: the manual for AI agents. The command reference part is generated
//! from the same clap definitions that produce `--help`, so it cannot drift from the real
//! commands and flags.

use schemars::JsonSchema;
use serde::Serialize;

mod workflows;

use super::catalogue::{self, leaf_commands};
use super::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::env::VARIABLES;
use crate::error::{CliResult, ErrorCode, ItemCode};
use crate::output::{Printer, WarningCode};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Print the manual for AI agents: workflows, JSON envelope, exit codes, token rules",
    "Examples:\n  kbagent context\n  kbagent --json context",
)
.no_config();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

const INTRO: &str = "\
# kbagent: manual for AI agents

kbagent operates Keboola Connection projects over Keboola's HTTP APIs. It stores each
project (alias, stack URL, Storage API token) in a private config file and runs every call
for you. Use it instead of calling Keboola's APIs yourself.

## Rules
- Always pass `--json` (a global option, before or after the command). Every run then prints
  exactly one JSON document on stdout, errors included. Warnings are inside it; stderr is for people.
- Never read config.json to get a token, and never call the Keboola API with stored tokens
  directly. Never print, log or paste tokens. The only outputs that contain a full secret
  are `token create` and `token refresh`, by request.
- Never edit config.json by hand. Use `project add`, `project edit`, `project use`,
  `project refresh`.
- Pass tokens through `--token-stdin`, `--token-file` or `--token-env`, not `--token`
  (argv is visible to other processes).
- Never retry a command that mints a token (`token create`, `config oauth-url`,
  `project refresh`) after a failure without checking `token list` first: the failed call
  may still have created a token.
- `token delete`, `token refresh` and `project refresh` need `--yes`: with no person to
  confirm on a terminal they refuse (USAGE_ERROR, `details.confirmation_required`) and change
  nothing. Pass `--yes` only when the user asked for that change.

## Choosing a project
Single-project commands use, in order: `--project ALIAS` (an alias or a project id), the
`KBAGENT_PROJECT` variable, the default pinned with `kbagent project use ALIAS` (the first
project added is pinned automatically), or the only registered project. Otherwise they fail
with CONFIG_ERROR (exit 5). `kbagent --json project current` tells which one and why.
Multi-project commands (`project status`, `config list`, `storage buckets`, `storage tables`,
`doctor`) cover every project unless `--project` is repeated; one failing project never hides
the others (its error is in the data).

## JSON envelope
Success: {\"status\": \"ok\", \"data\": ..., \"warnings\": [{\"code\", \"message\", \"hint\"?}]}
(warnings omitted when empty). Error: {\"status\": \"error\", \"error\": {\"code\",
\"error_type\", \"message\", \"project\", \"retryable\", \"details\"?}}. `retryable: true`
means the same command may succeed if run again later (network trouble, 429, 503);
`details.hints` lists what to do. Commands that act on several items (`project refresh`)
print the full result with status ok and exit 1 if any item failed.
Commands that read or change a project's branch (`config list`, `config detail`, `job run`,
the storage reads and writes, `branch ...`) also carry `targets` beside `status`, on success
and on error: [{\"role\": \"target\", \"project_alias\", \"branch_id\", \"branch_name\",
\"branch_source\", \"active_branch\"}].
`branch_source` is `production` (`branch_id` null), `explicit` (`--branch`) or `active` (the
branch pinned with `branch create`/`branch use`: config reads, storage writes and job runs
follow it; storage reads stay in production unless `--branch`).
Read it before you trust where a command acted. No `targets` means the command chose no branch.

## Which token do I need? (the token authority ladder)
Commands that mint child tokens (`config oauth-url`, `token create`) pick the first
authority available and report it in `data.authority`:
1. `storage-master`: the project's stored token is an admin's master token
   (`is_master_token` and `can_manage_tokens` in `project info`). It mints the child itself.
2. `manage-api`: otherwise, a Manage API token mints the child through the Manage API.
   An agent provides it with `KBC_MANAGE_API_TOKEN` plus the global
   `--allow-env-manage-token`; a person gets a hidden prompt. It is used for that one call,
   never stored, printed or logged.
3. Otherwise the command fails with MISSING_MASTER_TOKEN (exit 3) before creating anything.
Tokens copied from the Keboola UI's token page and tokens minted by `project refresh` are not
master tokens (Keboola never mints master tokens; they belong to users). `project add` warns
(NON_MASTER_TOKEN) when a token cannot mint. A master token is the user's own token from
their account. A guest's or read-only user's master token cannot mint useful children.

## The permission firewall
Every command has an operation class (`read`, `write`, `destructive`, `admin`: `operation` in
`catalogue` of `kbagent --json context`). The user may forbid classes or operations: for one
run with `--deny-writes` (everything but reads) or `--deny-destructive`, through
`KBAGENT_DENY=cli:write,storage.delete-table`, or in a persisted policy (`permissions show`).
A refused command fails with PERMISSION_DENIED (exit 6) before it sends any request;
`details.rule` and `details.origin` say which rule refused it. Do not work around a refusal
(another command, the API directly): tell the user what was refused and why.
- A command given `--dry-run` counts as a read: previews run under `--deny-writes`.
- Ask first: `kbagent --json permissions check config.update` (exit 6 when it would be denied;
  an escalating flag is checked with it: `permissions check 'project.refresh --force'`).

## Finding things
`kbagent --json search WORDS` looks through the names of buckets, tables (and their columns),
configurations, rows, flows and transformations of every project at once (`--project`,
`--type` to narrow, `--in-bodies` to look inside configuration bodies). Each result's `path`
is the kbagent command that shows the item: run it rather than guessing ids.

## The safe write loop (configurations)
Storage overwrites a configuration with whatever is sent, so change one in this loop:
1. Read it fresh: `config detail` (note `version`).
2. Preview the smallest change: `config update --set PATH=VALUE` (or `--merge patch.json`)
   with `--dry-run`: `data.changes[]` lists `path`, `old`, `new`; nothing is written.
   Show it to the user.
3. Apply the same command without `--dry-run`. Plain-text values under `#` keys are
   encrypted (KBC::... ciphers, scope: this configuration) before anything is sent; never
   echo the plain text back. kbagent reads the version again right before the write: if it
   moved, the write is refused with CONFIG_VERSION_CONFLICT (exit 5, `details.written`
   false, nothing written). Then read it again, redo the change on the current version and
   tell the user someone else changed it. `details.written` true means two writes landed at
   once: check `config versions`.
4. Verify `data.version` (the old one + 1). `config versions` lists the history;
   `config rollback --version N` writes version N's body as a new version.
Configuration commands follow the project's active branch: after `branch create` or
`branch use` they change the development branch, not production; check `targets` in the
envelope. `branch reset` returns to production; `branch delete --branch ID --yes` removes
the branch and its configurations.

## SQL over tables
`kbagent --json query --sql '...'` loads the Storage tables the SQL names (quote their ids:
`\"in.c-crm.orders\"`) into a temporary workspace, runs the statements through the Query
Service, returns `data.rows` (capped by `--limit`; `data.truncated`, `data.total_rows`) and
deletes the workspace. `--table in.c-crm.orders` loads a table under its short name
(`orders`); `--full --output FILE` writes every row as CSV. A failing statement exits 1 with
QUERY_JOB_FAILED: `details.database_message` is the database's own message and
`details.statement` the statement; fix the SQL from it. For many queries over the same data
keep one workspace: `workspace create`, `workspace load`, `query --workspace-id ID`,
`workspace delete --yes` when done.

## Running under an agent
- Pass `--conversation-id ID` on every command (a flag, not `export`: each tool call is a new
  shell). kbagent sends it as `X-Conversation-ID` with every request to Keboola, so the
  calls of one conversation can be found together. `KBAGENT_CONVERSATION_ID` does the same.
- `kbagent init` creates a `.kbagent/` workspace (its own config file) in the current
  directory; `kbagent init --from-global` copies the registered projects into it. An empty
  workspace hides the global projects (warning LOCAL_CONFIG_SHADOWS_GLOBAL).
- Headless (CI, containers): `KBAGENT_PROJECT_FROM_ENV=1` with `KBC_STORAGE_API_URL` and
  `KBC_TOKEN` is a session with the one project `__env__`, held in memory. No config file
  is read or written; commands that would write one fail with CONFIG_ERROR.
";

/// The environment variables section, from the table in `env.rs`.
fn environment() -> String {
    let mut out = String::from("## Environment variables\n");
    for v in VARIABLES {
        out.push_str(&format!("- {}: {}\n", v.names.join(", "), v.meaning));
    }
    out
}

/// Every leaf command as its full name, with its one-line description.
pub(crate) fn command_list() -> Vec<(String, String)> {
    leaf_commands()
        .into_iter()
        .map(|(name, cmd)| {
            let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
            (name, about)
        })
        .collect()
}

fn reference() -> String {
    let mut out = String::from(
        "\n## Commands\nGlobal options (before or after the command): --json/-j, -v, --no-color, --config-dir DIR, --allow-env-manage-token, --parallel N, --conversation-id ID.\nEach command's operation class (read, write, destructive, admin) is in `catalogue` of `kbagent --json context`.\n",
    );
    let catalogue = catalogue::catalogue();
    for (name, cmd) in leaf_commands() {
        out.push_str(&format!("\n### kbagent {name}\n"));
        if let Some(about) = cmd.get_about() {
            out.push_str(&format!("{about}\n"));
        }
        if let Some(info) = catalogue.iter().find(|c| c.command == name) {
            let class = serde_json::to_value(info.operation).unwrap_or_default();
            out.push_str(&format!("Operation: {}\n", class.as_str().unwrap_or("")));
        }
        for arg in cmd.get_arguments() {
            // Global options are listed once, above.
            if arg.is_hide_set()
                || arg.is_global_set()
                || matches!(arg.get_id().as_str(), "help" | "version")
            {
                continue;
            }
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            out.push_str(&format!("  {:<28} {help}\n", catalogue::arg_name(arg)));
        }
        if let Some(after) = cmd.get_after_help() {
            out.push_str(&format!("{after}\n"));
        }
    }
    out
}

fn exit_codes() -> String {
    let mut out = String::from(
        "\n## Exit codes and error codes\n0 ok; 1 general error (also: some items of a multi-item command failed); 2 usage;\n3 authentication; 4 network (also: a job wait timed out, the job still running); 5 configuration;\n6 permission denied; 7 the job was terminated or cancelled; 8 a job's submission may or may\nnot have started (its answer was lost: look for it before running it again).\n\n",
    );
    for code in ErrorCode::ALL {
        out.push_str(&format!(
            "- {:<24} exit {}, error_type {}\n",
            code.as_str(),
            code.exit_code(),
            code.error_type()
        ));
    }
    out.push_str(
        "\nCodes of failed items (`error_code` in `projects_failed`), besides the codes above:\n",
    );
    for code in ItemCode::ALL {
        out.push_str(&format!("- {:<24} {}\n", code.as_str(), code.meaning()));
    }
    out.push_str("\nWarning codes (`warnings[].code`):\n");
    for code in WarningCode::ALL {
        out.push_str(&format!("- {:<24} {}\n", code.as_str(), code.meaning()));
    }
    out
}

pub(crate) fn manual() -> String {
    let workflows = workflows::manual_section(&workflows::shown(&catalogue::catalogue()));
    format!(
        "{INTRO}{workflows}{}{}\n{}",
        exit_codes(),
        reference(),
        environment()
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CommandLine {
    pub command: String,
    pub about: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Code {
    pub code: &'static str,
    pub meaning: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<&'static str>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Codes {
    /// `error.code` of the error envelope.
    pub errors: Vec<Code>,
    /// `error_code` values only failed items carry.
    pub items: Vec<Code>,
    /// `warnings[].code`.
    pub warnings: Vec<Code>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Variable {
    pub names: Vec<&'static str>,
    pub meaning: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub version: &'static str,
    /// The manual (the same text as without --json).
    pub context: String,
    pub commands: Vec<CommandLine>,
    /// Every command with its arguments, operation class, exit codes and output schema.
    pub catalogue: Vec<catalogue::CommandInfo>,
    pub codes: Codes,
    pub environment: Vec<Variable>,
    /// The workflows of the manual as data: each step a catalogue command, an example line
    /// and why; each workflow the error codes it meets.
    pub workflows: Vec<workflows::ShownWorkflow>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        self.context.clone()
    }
}

pub(crate) fn run(_ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let described = |code: &'static str, meaning: &str| Code {
        code,
        meaning: meaning.to_owned(),
        exit_code: None,
        error_type: None,
    };
    let codes = Codes {
        errors: ErrorCode::ALL
            .iter()
            .map(|c| Code {
                exit_code: Some(c.exit_code()),
                error_type: Some(c.error_type()),
                ..described(c.as_str(), c.error_type())
            })
            .collect(),
        items: ItemCode::ALL
            .iter()
            .map(|c| described(c.as_str(), c.meaning()))
            .collect(),
        warnings: WarningCode::ALL
            .iter()
            .map(|c| described(c.as_str(), c.meaning()))
            .collect(),
    };
    let catalogue = catalogue::catalogue();
    Ok(Output {
        version: env!("CARGO_PKG_VERSION"),
        context: manual(),
        workflows: workflows::shown(&catalogue),
        commands: command_list()
            .into_iter()
            .map(|(command, about)| CommandLine { command, about })
            .collect(),
        catalogue,
        codes,
        environment: VARIABLES
            .iter()
            .map(|v| Variable {
                names: v.names.to_vec(),
                meaning: v.meaning,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README documents every code the code can produce.
    #[test]
    fn readme_lists_every_code() {
        let readme = include_str!("../../../../README.md");
        let codes = ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(ItemCode::ALL.iter().map(|c| c.as_str()))
            .chain(WarningCode::ALL.iter().map(|c| c.as_str()));
        for code in codes {
            assert!(
                readme.contains(&format!("`{code}`")),
                "README does not list {code}"
            );
            assert!(manual().contains(code), "the manual does not list {code}");
        }
    }

    /// The guidance names only commands that exist and the exit codes the codes really have,
    /// so renaming a command or moving a code to another exit code cannot leave it wrong.
    #[test]
    fn the_guidance_names_real_commands_and_exit_codes() {
        let leaves: Vec<String> = leaf_commands().into_iter().map(|(n, _)| n).collect();
        let nouns: Vec<&str> = leaves.iter().filter_map(|n| n.split(' ').next()).collect();
        let mut named = 0;
        for span in INTRO.split('`').skip(1).step_by(2) {
            let words: Vec<&str> = span
                .split(' ')
                .filter(|w| *w != "kbagent" && *w != "--json")
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .collect();
            if words.is_empty() || !nouns.contains(&words[0]) {
                continue;
            }
            // `branch ...` names the family.
            let family = span.ends_with(" ...") && words.len() == 1;
            let found = family
                || (1..=words.len())
                    .rev()
                    .any(|n| leaves.contains(&words[..n].join(" ")));
            assert!(found, "`{span}` in the manual names no command");
            named += 1;
        }
        assert!(named > 20, "only {named} command mentions found");
        for code in ErrorCode::ALL {
            let mention = format!("{} (exit ", code.as_str());
            for (at, _) in INTRO.match_indices(&mention) {
                let rest = &INTRO[at + mention.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                assert_eq!(
                    digits,
                    code.exit_code().to_string(),
                    "the manual gives {} the wrong exit code",
                    code.as_str()
                );
            }
        }
        for needed in [
            "PERMISSION_DENIED (exit 6)",
            "--deny-writes",
            "`permissions check",
            "CONFIG_VERSION_CONFLICT (exit 5",
            "QUERY_JOB_FAILED",
            "`kbagent --json search",
        ] {
            assert!(
                INTRO.contains(needed),
                "the manual does not explain {needed}"
            );
        }
    }
}
