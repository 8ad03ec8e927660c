//! `kbagent completions <shell>`: a completion script that asks kbagent itself what to
//! complete (clap_complete's dynamic engine), so flags never drift from the real command
//! line and `--project` completes the aliases registered in the config.
//!
//! The script runs `KBAGENT_COMPLETE=<shell> kbagent -- <words>`; [`answer_request`] answers
//! that before anything else runs.

use std::ffi::OsStr;
use std::process::ExitCode;

use clap::{CommandFactory, ValueEnum};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};
use schemars::JsonSchema;
use serde::Serialize;

use super::{CommandOutput, Meta, OpClass};
use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output::{Printer, Trust, sanitize};
use crate::store::ConfigStore;

/// The variable the completion script sets when it asks for candidates.
pub(crate) const VAR: &str = "KBAGENT_COMPLETE";
const BIN: &str = "kbagent";

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Print a shell completion script",
    "Examples:\n  kbagent completions bash > ~/.local/share/bash-completion/completions/kbagent\n  kbagent completions zsh > \"${fpath[1]}/_kbagent\"",
)
.no_config();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Shell to generate the script for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub shell: String,
    pub script: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        self.script.clone()
    }
}

pub(crate) fn run(_ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let name = match args.shell {
        CompletionShell::Bash => "bash",
        CompletionShell::Zsh => "zsh",
        CompletionShell::Fish => "fish",
        CompletionShell::Powershell => "powershell",
    };
    let shells = Shells::builtins();
    let shell = shells
        .completer(name)
        .ok_or_else(|| CliError::unexpected(format!("no completion support for {name}")))?;
    let mut buf = Vec::new();
    shell
        .write_registration(VAR, BIN, BIN, BIN, &mut buf)
        .map_err(|e| CliError::unexpected(format!("Cannot write the script: {e}")))?;
    Ok(Output {
        shell: name.to_owned(),
        script: String::from_utf8_lossy(&buf).into_owned(),
    })
}

/// Answers a completion request from the script, if this run is one (the script set
/// [`VAR`]); the candidates go to stdout in the shell's format.
pub fn answer_request() -> Option<ExitCode> {
    let cwd = std::env::current_dir().ok();
    match CompleteEnv::with_factory(command)
        .var(VAR)
        .bin(BIN)
        .completer(BIN)
        .try_complete(std::env::args_os(), cwd.as_deref())
    {
        Ok(true) => Some(ExitCode::SUCCESS),
        Ok(false) => None,
        Err(e) => {
            let _ = e.print();
            Some(ExitCode::from(2))
        }
    }
}

/// The command line, with `--project` completing the registered aliases wherever it occurs.
fn command() -> clap::Command {
    fn attach(mut cmd: clap::Command) -> clap::Command {
        let ids: Vec<String> = cmd
            .get_arguments()
            .filter(|a| a.get_long() == Some("project"))
            .map(|a| a.get_id().to_string())
            .collect();
        for id in ids {
            cmd = cmd.mut_arg(id, |a| a.add(ArgValueCompleter::new(project_aliases)));
        }
        let subs: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for sub in subs {
            cmd = cmd.mut_subcommand(sub, attach);
        }
        cmd
    }
    attach(Cli::command())
}

/// The aliases in the config (found as every command finds it, but `--config-dir`, which the
/// completer does not see), with the project name as the description. Nothing on any error:
/// completion must never print one.
fn project_aliases(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let env = Env::from_process();
    let Ok(store) = ConfigStore::resolve(None, &env) else {
        return Vec::new();
    };
    let Ok(config) = store.load() else {
        return Vec::new();
    };
    config
        .projects
        .iter()
        .filter(|(alias, _)| alias.starts_with(prefix.as_ref()))
        .map(|(alias, entry)| {
            let c = CompletionCandidate::new(alias.as_str());
            // The shell shows the description as it is: the name came from the server.
            match entry.project_name.as_deref() {
                Some(name) => c.help(Some(sanitize(name, Trust::Nothing).into())),
                None => c,
            }
        })
        .collect()
}
