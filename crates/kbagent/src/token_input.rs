//! Where a Storage API token comes from when a command needs one from the user.
//!
//! Safer sources first: stdin, a file, a named environment variable, a hidden prompt.
//! `--token VALUE` works but is visible to other processes and lands in shell history, so
//! it earns a warning.

use std::io::{self, IsTerminal, Read};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use keboola_api::{InvalidToken, Token};

use crate::error::{CliError, CliResult};
use crate::output::{Printer, Warning, WarningCode};
use crate::store::{DEFAULT_WAIT, describe_wait, notice, notice_delay};

/// Far above any real token (about 50 characters); a bound, so `yes |` or `/dev/zero`
/// cannot exhaust memory.
pub const MAX_TOKEN_BYTES: u64 = 64 * 1024;

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
    /// `project add` offers it); `prompt` allows a hidden prompt on a terminal. Stdin and
    /// files are read up to [`MAX_TOKEN_BYTES`], waiting at most `wait` (default 30 s) for
    /// them, so a FIFO nobody writes to cannot hang kbagent.
    pub fn read(
        &self,
        printer: &Printer,
        kbc_token: Option<&str>,
        prompt: bool,
        wait: Option<Duration>,
    ) -> CliResult<Option<Token>> {
        let wait = wait.unwrap_or(DEFAULT_WAIT);
        if let Some(value) = &self.token {
            printer.warn(
                Warning::new(
                    WarningCode::TokenOnCommandLine,
                    "A token passed with --token is visible to other processes and is kept in shell history.",
                )
                .hint("Prefer --token-stdin, --token-file FILE, --token-env VAR, or the hidden prompt."),
            );
            return parse(value, "--token").map(Some);
        }
        if self.token_stdin {
            let raw = read_bounded("standard input", wait, || {
                Ok(Box::new(io::stdin()) as Box<dyn Read>)
            })?;
            return parse(strip_line_end(&raw), "standard input").map(Some);
        }
        if let Some(path) = &self.token_file {
            let what = format!("the file {}", path.display());
            let open = path.clone();
            let raw = read_bounded(&what, wait, move || {
                Ok(Box::new(std::fs::File::open(open)?) as Box<dyn Read>)
            })?;
            return parse(strip_line_end(&raw), &what).map(Some);
        }
        if let Some(var) = &self.token_env {
            return from_env(var).map(Some);
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

/// `--token-env VAR`: each way the variable can fail to hold a token gets its own message
/// (unset, not text, empty) and the way out.
fn from_env(var: &str) -> CliResult<Token> {
    let name = var.escape_debug();
    let raw = match std::env::var(var) {
        Ok(raw) => raw,
        Err(std::env::VarError::NotPresent) => {
            return Err(CliError::invalid_argument(format!(
                "The environment variable {name} (named by --token-env) is not set"
            ))
            .hint(format!(
                "--token-env takes the name of a variable that holds the token: export {name} in this shell first, or pass the token with --token-stdin or --token-file FILE."
            )));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(CliError::invalid_argument(format!(
                "The environment variable {name} (named by --token-env) is set but is not text"
            )));
        }
    };
    if raw.trim().is_empty() {
        return Err(CliError::invalid_argument(format!(
            "The environment variable {name} (named by --token-env) is set but empty"
        ))
        .hint(format!(
            "Put the token into {name}, or pass it with --token-stdin or --token-file FILE."
        )));
    }
    parse(&raw, &format!("the environment variable {name}"))
}

/// Opens and reads a token source on a separate thread, so that a source that never
/// delivers (a FIFO without a writer, a silent pipe) costs at most `wait`: the thread is
/// left blocked and ends with the process.
fn read_bounded(
    what: &str,
    wait: Duration,
    open: impl FnOnce() -> io::Result<Box<dyn Read>> + Send + 'static,
) -> CliResult<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let read = || -> io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            open()?.take(MAX_TOKEN_BYTES + 1).read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        let _ = tx.send(read());
    });
    let first = notice_delay(wait);
    let outcome = match rx.recv_timeout(first) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            notice(&format!("waiting for the token from {what}"));
            rx.recv_timeout(wait.saturating_sub(first))
        }
        other => other,
    };
    let bytes = match outcome {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(CliError::invalid_argument(format!(
                "Cannot read the token from {what}: {}",
                e.kind()
            )));
        }
        Err(_) => {
            return Err(CliError::invalid_argument(format!(
                "No token arrived from {what} within {}",
                describe_wait(wait)
            ))
            .hint("Give the token through a regular file, a pipe that is written to, or --token-env VAR."));
        }
    };
    if bytes.len() as u64 > MAX_TOKEN_BYTES {
        return Err(CliError::invalid_argument(format!(
            "The token from {what} is larger than {} KiB; this is not a token",
            MAX_TOKEN_BYTES / 1024
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| CliError::invalid_argument(format!("The token from {what} is not text")))
}

/// Whether `text` has the shape of a Keboola token (`<project>-<id>-<secret>`,
/// `<id>-<secret>`, or `kbc_...`), used to refuse one where a name belongs: a name is
/// printed everywhere. The secret part is long, alphanumeric and has a digit, so ordinary
/// names such as `2024-quarterly-reports` do not match.
pub fn looks_like_token(text: &str) -> bool {
    if text.starts_with("kbc_") && text.len() >= 12 {
        return true;
    }
    let parts: Vec<&str> = text.split('-').collect();
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let secret = |p: &str| {
        p.len() >= 16
            && p.bytes().all(|b| b.is_ascii_alphanumeric())
            && p.bytes().any(|b| b.is_ascii_digit())
    };
    match parts.as_slice() {
        [id, s] => numeric(id) && secret(s),
        [project, id, s] => numeric(project) && numeric(id) && secret(s),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::looks_like_token;

    #[test]
    fn token_shapes_are_recognised_and_names_are_not() {
        for token in [
            "578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b",
            "12-0123456789abcdef0123",
            "kbc_at_0123456789",
        ] {
            assert!(looks_like_token(token), "{token}");
        }
        for name in [
            "prod",
            "2024-quarterly-reports",
            "2024-quarterlyreportsarchive",
            "901-prod",
            "a-1-0123456789abcdef0123",
            "1-2-3-0123456789abcdef0123",
            "kbc_short",
        ] {
            assert!(!looks_like_token(name), "{name}");
        }
    }
}
