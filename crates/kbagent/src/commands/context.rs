//! `kbagent context`: the manual for AI agents. The command reference part is generated
//! from the same clap definitions that produce `--help`, so it cannot drift from the real
//! commands and flags.

use clap::CommandFactory;
use serde_json::json;

use super::Ctx;
use crate::cli::Cli;
use crate::error::{CliResult, ErrorCode};
use crate::output::Report;

const INTRO: &str = "\
# kbagent: manual for AI agents

kbagent operates Keboola Connection projects over Keboola's HTTP APIs. It stores each
project (alias, stack URL, Storage API token) in a private config file and runs every call
for you. Use it instead of calling Keboola's APIs yourself.

## Rules
- Always pass `--json` (a global option, before the command). Every run then prints exactly
  one JSON document on stdout, errors included. Warnings are inside it; stderr is for people.
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

## Choosing a project
Single-project commands use, in order: `--project ALIAS` (an alias or a project id), the
`KBAGENT_PROJECT` variable, the default pinned with `kbagent project use ALIAS` (the first
project added is pinned automatically), or the only registered project. Otherwise they fail
with CONFIG_ERROR (exit 5). `kbagent --json project current` tells which one and why.
Multi-project commands (`project status`, `config list`, `doctor`) cover every project
unless `--project` is repeated; one failing project never hides the others (its error is
in the data).

## JSON envelope
Success: {\"status\": \"ok\", \"data\": ..., \"warnings\": [{\"code\", \"message\", \"hint\"?}]}
(warnings omitted when empty). Error: {\"status\": \"error\", \"error\": {\"code\",
\"error_type\", \"message\", \"project\", \"retryable\", \"details\"?}}. `retryable: true`
means the same command may succeed if run again later (network trouble, 429, 503);
`details.hints` lists what to do. Commands that act on several items (`project refresh`)
print the full result with status ok and exit 1 if any item failed.

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

## Common workflows
Register a project and check it:
  printf %s \"$TOKEN\" | kbagent --json project add --project prod --url https://connection.keboola.com --token-stdin
  kbagent --json project status
Find a configuration and read it:
  kbagent --json config list --project prod --component-type extractor
  kbagent --json config detail --project prod --component-id keboola.ex-db-snowflake --config-id 123
Give a user an OAuth authorization link (they open it in a browser):
  kbagent --json config oauth-url --project prod --component-id keboola.ex-google-drive --config-id 456
  (with a non-master project token: KBC_MANAGE_API_TOKEN=... kbagent --allow-env-manage-token --json config oauth-url ...)
Replace an expired or revoked token:
  KBC_MANAGE_API_TOKEN=... kbagent --allow-env-manage-token --json project refresh --project prod --yes
Diagnose:
  kbagent --json doctor
";

const ENVIRONMENT: &str = "\
## Environment variables
- KBAGENT_CONFIG_DIR: directory of config.json (after --config-dir).
- KBAGENT_PROJECT: project for single-project commands (after --project).
- KBC_TOKEN: token for `project add` when no token option is given.
- KBC_STORAGE_API_URL: stack URL for `project add` when --url is not given.
- KBC_MANAGE_API_TOKEN: Manage API token, read only with --allow-env-manage-token.
- KBAGENT_MAX_PARALLEL_WORKERS: parallel requests for fan-out commands (1-100, default 32).
- KBAGENT_OAUTH_WIZARD_URL: base URL of the OAuth wizard (default https://external.keboola.com/oauth/index.html).
- KBAGENT_HTTP_TIMEOUT_MS, KBAGENT_RETRY_BASE_MS: HTTP read timeout and retry backoff base.
- SSL_CERT_FILE or KBAGENT_CA_FILE: extra CA certificates (PEM) to trust.
- KBAGENT_LOG: log level on stderr (debug, trace); -v does the same.
- NO_COLOR: no colours.
";

/// Every leaf command with its full name (`project add`), in `--help` order.
fn leaf_commands() -> Vec<(String, clap::Command)> {
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
    let mut out = Vec::new();
    walk(&Cli::command(), "", &mut out);
    out
}

/// Every leaf command as its full name, with its one-line description.
pub fn command_list() -> Vec<(String, String)> {
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
        "\n## Commands\nGlobal options (before the command): --json/-j, -v, --no-color, --config-dir DIR, --allow-env-manage-token, --parallel N.\n",
    );
    for (name, cmd) in leaf_commands() {
        out.push_str(&format!("\n### kbagent {name}\n"));
        if let Some(about) = cmd.get_about() {
            out.push_str(&format!("{about}\n"));
        }
        for arg in cmd.get_arguments() {
            if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            let flag = match (arg.get_long(), arg.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(s)) => format!("-{s}"),
                (None, None) => arg.get_id().as_str().to_ascii_uppercase(),
            };
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            out.push_str(&format!("  {flag:<28} {help}\n"));
        }
        if let Some(after) = cmd.get_after_help() {
            out.push_str(&format!("{after}\n"));
        }
    }
    out
}

fn exit_codes() -> String {
    let mut out = String::from(
        "\n## Exit codes and error codes\n0 ok; 1 general error (also: some items of a multi-item command failed); 2 usage;\n3 authentication; 4 network; 5 configuration; 6 permission denied.\n\n",
    );
    for code in ErrorCode::ALL {
        out.push_str(&format!(
            "- {:<22} exit {}, error_type {}\n",
            code.as_str(),
            code.exit_code(),
            code.error_type()
        ));
    }
    out
}

pub fn manual() -> String {
    format!("{INTRO}{}{}\n{ENVIRONMENT}", exit_codes(), reference())
}

pub fn run(_ctx: &Ctx<'_>) -> CliResult<Report> {
    let text = manual();
    let commands: Vec<_> = command_list()
        .into_iter()
        .map(|(name, about)| json!({"command": name, "about": about}))
        .collect();
    Ok(Report::new(
        json!({"version": env!("CARGO_PKG_VERSION"), "context": text, "commands": commands}),
        text,
    ))
}
