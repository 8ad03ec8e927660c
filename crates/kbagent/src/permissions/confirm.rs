//! The gate of a policy change: a person at a terminal types back a random code. There is
//! no flag, variable or `--yes` that skips it. It guards against an agent changing its own
//! policy by mistake; it is not a sandbox: a process running as the same OS user can edit
//! config.json directly.

use std::io::{BufRead, IsTerminal, Write};

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};

/// Bytes of randomness in the code (shown as hex, twice as many characters).
const CODE_BYTES: usize = 4;

/// Asks for the code when stdin and stderr are both a terminal; refuses otherwise, and
/// when the answer is not the code. `action` completes "Refusing to ...".
pub(crate) fn require_person(ctx: &Ctx<'_>, action: &str) -> CliResult<()> {
    let terminal = std::io::stdin().is_terminal() && ctx.printer.stderr_is_terminal();
    if !terminal {
        return Err(CliError::new(
            ErrorCode::PermissionDenied,
            format!(
                "Refusing to {action}: this needs a person at a terminal to type a \
                 confirmation code. There is no --yes, flag or environment variable that \
                 skips it, by design."
            ),
        )
        .detail("confirmation_required", true)
        .hint("Run the command yourself in a terminal."));
    }
    let code = random_code()?;
    let mut err = ctx.printer.stderr();
    let _ = write!(err, "To {action}, type this code: {code}\nConfirmation: ");
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if matches!(read, Ok(n) if n > 0) && line.trim() == code {
        return Ok(());
    }
    Err(CliError::new(
        ErrorCode::PermissionDenied,
        format!("Refusing to {action}: the confirmation code did not match. Nothing was changed."),
    )
    .detail("confirmation_required", true))
}

fn random_code() -> CliResult<String> {
    let mut bytes = [0u8; CODE_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| CliError::unexpected(format!("Cannot draw a confirmation code: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
