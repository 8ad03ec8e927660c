//! `kbagent completions <shell>`: completion scripts generated from the live command
//! definition, so they never drift from the real flags.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;
use serde_json::json;

use super::Ctx;
use crate::cli::Cli;
use crate::error::CliResult;
use crate::output::Report;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the script for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

pub fn run(_ctx: &Ctx<'_>, args: &CompletionsArgs) -> CliResult<Report> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kbagent", &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    Ok(Report::new(
        json!({"shell": shell.to_string(), "script": script}),
        script,
    ))
}
