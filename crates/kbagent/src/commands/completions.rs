//! `kbagent completions <shell>`: completion scripts generated from the live command
//! definition, so they never drift from the real flags.

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use schemars::JsonSchema;
use serde::Serialize;

use super::{CommandOutput, Meta, OpClass};
use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;

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
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kbagent", &mut buf);
    Ok(Output {
        shell: shell.to_string(),
        script: String::from_utf8_lossy(&buf).into_owned(),
    })
}
