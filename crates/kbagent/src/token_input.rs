//! Where a Storage API token comes from when a command needs one from the user.
//!
//! Safer sources first: stdin, a file, a named environment variable, a hidden prompt.
//! `--token VALUE` works but is visible to other processes and lands in shell history, so
//! it earns a warning.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use keboola_api::{InvalidToken, Token};

use crate::error::{CliError, CliResult};
use crate::output::{Printer, Warning};

#[derive(Debug, Clone, Default, Args)]
#[group(id = "token_source", multiple = false)]
pub struct TokenSourceArgs {
    /// Storage API token as a value (visible to other processes; prefer the options below)
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Read the token from standard input
    #[arg(long)]
    pub token_stdin: bool,

    /// Read the token from a file
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Read the token from the named environment variable
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
}

impl TokenSourceArgs {
    pub fn given(&self) -> bool {
        self.token.is_some()
            || self.token_stdin
            || self.token_file.is_some()
            || self.token_env.is_some()
    }

    /// Reads the token from the chosen source. `kbc_token` is the `KBC_TOKEN` fallback (only
    /// `project add` offers it); `prompt` allows a hidden prompt on a terminal.
    pub fn read(
        &self,
        printer: &Printer,
        kbc_token: Option<&str>,
        prompt: bool,
    ) -> CliResult<Option<Token>> {
        if let Some(value) = &self.token {
            printer.warn(
                Warning::new(
                    "TOKEN_ON_COMMAND_LINE",
                    "A token passed with --token is visible to other processes and is kept in shell history.",
                )
                .hint("Prefer --token-stdin, --token-file FILE, --token-env VAR, or the hidden prompt."),
            );
            return parse(value, "--token").map(Some);
        }
        if self.token_stdin {
            let mut raw = String::new();
            std::io::stdin().read_to_string(&mut raw).map_err(|e| {
                CliError::invalid_argument(format!("Cannot read the token from stdin: {e}"))
            })?;
            return parse(strip_line_end(&raw), "standard input").map(Some);
        }
        if let Some(path) = &self.token_file {
            let bytes = std::fs::read(path).map_err(|e| {
                CliError::invalid_argument(format!(
                    "Cannot read the token file {}: {}",
                    path.display(),
                    e.kind()
                ))
            })?;
            let raw = String::from_utf8(bytes).map_err(|_| {
                CliError::invalid_argument(format!("The token file {} is not text", path.display()))
            })?;
            return parse(
                strip_line_end(&raw),
                &format!("the file {}", path.display()),
            )
            .map(Some);
        }
        if let Some(var) = &self.token_env {
            let raw = std::env::var(var).map_err(|_| {
                CliError::invalid_argument(format!("The environment variable {var} is not set"))
            })?;
            return parse(&raw, &format!("the environment variable {var}")).map(Some);
        }
        if let Some(raw) = kbc_token {
            return parse(raw, "KBC_TOKEN").map(Some);
        }
        if prompt
            && !printer.json()
            && std::io::stdin().is_terminal()
            && printer.stderr_is_terminal()
        {
            let raw = rpassword::prompt_password("Storage API token (input hidden): ")
                .map_err(|e| CliError::invalid_argument(format!("Cannot read the token: {e}")))?;
            return parse(raw.trim_end_matches(['\r', '\n']), "the prompt").map(Some);
        }
        Ok(None)
    }
}

/// Files and pipes usually end with a newline; anything else around the token is an error.
fn strip_line_end(raw: &str) -> &str {
    raw.trim_end_matches(['\n', '\r'])
}

pub fn parse(raw: &str, source: &str) -> CliResult<Token> {
    Token::new(raw).map_err(|e| {
        let why = match e {
            InvalidToken::Empty => "it is empty".to_owned(),
            other => other.to_string(),
        };
        CliError::invalid_argument(format!("The token from {source} is not valid: {why}"))
    })
}

pub fn missing_token_error() -> CliError {
    CliError::usage("No Storage API token was given")
        .hint("Use --token-stdin, --token-file FILE, --token-env VAR or --token, set KBC_TOKEN, or run in a terminal to be prompted.")
}
