//! kbagent: a command-line tool for operating Keboola Connection projects.
//!
//! `run()` is the whole program: parse arguments, run one command, print its result
//! (a human rendering or exactly one JSON document) and map the outcome to an exit code.

// The library's public surface is what `main.rs` and the tests use; everything else is
// crate-private so the compiler reports dead code.
pub(crate) mod authority;
pub(crate) mod child_env;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod ctx;
pub mod env;
pub mod error;
pub(crate) mod fanout;
pub(crate) mod output;
pub(crate) mod permissions;
pub(crate) mod select;
pub(crate) mod session;
pub mod signals;
pub mod store;
pub(crate) mod token_input;

use std::ffi::OsString;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use std::error::Error as _;

use clap::error::ErrorKind as ClapErrorKind;
use clap::{CommandFactory, FromArgMatches};
use serde::Serialize;

use crate::cli::Cli;
use crate::ctx::{Ctx, Settings};
use crate::env::Env;
use crate::error::{CliError, ErrorCode};
use crate::output::{Printer, Report};

pub fn run() -> ExitCode {
    // A request from the shell completion script is answered before anything else.
    if let Some(code) = commands::completions::answer_request() {
        return code;
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    run_with(&args, &Env::from_process())
}

pub fn run_with(args: &[OsString], env: &Env) -> ExitCode {
    install_panic_hook();
    // Created first so that everything on stdout, clap's help and errors included, goes
    // through it. `--json` is looked for by hand until clap has parsed the arguments.
    let printer = Printer::new(wants_json(args), env.no_color || wants_no_color(args));
    output::set_columns(env.columns.as_deref());
    let mut command = Cli::command();
    let parsed = command.try_get_matches_from_mut(args).and_then(|matches| {
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
        Ok((cli, matches))
    });
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return argument_error(&printer, &e),
    };
    printer.configure(cli.global.json, cli.global.no_color);
    init_logging(
        cli.global.verbose,
        env.log.as_deref(),
        printer.stderr_color(),
    );
    // The firewall's view of the command; every command passes it before it runs.
    let invocation = permissions::firewall::classify(&command, &matches);
    let session = match permissions::Session::new(
        cli.global.deny_writes,
        cli.global.deny_destructive,
        env.deny.as_deref(),
    ) {
        Ok(session) => session,
        Err(e) => return finish(&printer, &Err(e)),
    };
    let settings = Settings {
        config_dir: cli.global.config_dir.clone(),
        parallel: cli.global.parallel,
        allow_env_manage_token: cli.global.allow_env_manage_token,
        conversation_id: cli.global.conversation_id.clone(),
        session,
        // `init` is how a shadowing workspace gets fixed; warning it first would be noise.
        warn_shadowing: !matches!(cli.command, cli::Command::Init(_)),
    };
    let ctx = Ctx::new(settings, env, &printer);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        permissions::firewall::enforce(&ctx, &invocation)?;
        commands::dispatch(&ctx, cli.command)
    }))
    .unwrap_or_else(|_| {
        Err(CliError::unexpected(
            "kbagent hit an internal error (details were printed to stderr)",
        ))
    });
    finish(&printer, &outcome)
}

fn finish(printer: &Printer, outcome: &Result<Report, CliError>) -> ExitCode {
    let (written, code) = match outcome {
        Ok(report) => (
            printer.emit_ok(report),
            report.exit_code.unwrap_or(u8::from(report.partial_failure)),
        ),
        Err(err) => (printer.emit_error(err), err.exit_code()),
    };
    match written {
        // A closed pipe (`kbagent ... | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(e) => {
            report_unwritten(printer, outcome, &e);
            ExitCode::from(1)
        }
        Ok(()) => ExitCode::from(code),
    }
}

/// The result could not be written (a full disk, an I/O error): say so on stderr rather than
/// exit 1 in silence, and if the lost result held a secret this run created (a new token, an
/// OAuth link carrying one), say that it exists, without printing it here either.
fn report_unwritten(printer: &Printer, outcome: &Result<Report, CliError>, e: &io::Error) {
    let held_secret = match outcome {
        Ok(report) => {
            let data = report.data.to_string();
            output::masked(&report.human) != report.human || output::masked(&data) != data
        }
        Err(_) => false,
    };
    let mut err = printer.stderr();
    let _ = writeln!(
        err,
        "kbagent: the output could not be written to stdout: {e}"
    );
    if held_secret {
        let _ = writeln!(
            err,
            "kbagent: it held a secret that this run created (the command succeeded) and that \
             could not be shown; it is not printed here. Find the new token with `kbagent token \
             list` and delete it, then run the command again with stdout writable."
        );
    }
    let _ = err.flush();
}

/// An argument error can happen before clap has told us whether `--json` was given, so look
/// for it by hand: any `--json` (with a value other than `false`, even one clap will reject)
/// or `-j` in a cluster of short flags asks for a JSON error.
fn wants_json(args: &[OsString]) -> bool {
    args.iter().skip(1).take_while(|a| *a != "--").any(|a| {
        let Some(a) = a.to_str() else { return false };
        if let Some(value) = a.strip_prefix("--json=") {
            return value != "false";
        }
        a == "--json" || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('j'))
    })
}

#[derive(Serialize)]
struct HelpText {
    help: String,
}

#[derive(Serialize)]
struct VersionText {
    version: String,
}

/// `--no-color` for the help text, which clap prints before it has parsed the rest.
fn wants_no_color(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--no-color")
}

fn argument_error(printer: &Printer, e: &clap::Error) -> ExitCode {
    match e.kind() {
        ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion => {
            let plain = e.render().to_string();
            let styled = printer.trusted_styles(&e.render().ansi().to_string());
            let text = plain.trim_end().to_owned();
            let report = if e.kind() == ClapErrorKind::DisplayHelp {
                Report::new(HelpText { help: text }, styled)
            } else {
                Report::new(VersionText { version: text }, styled)
            };
            finish(printer, &Ok(report))
        }
        // A value parser's own verdict (an invalid alias, id or URL) is reported as it is.
        ClapErrorKind::ValueValidation
            if e.source()
                .and_then(|s| s.downcast_ref::<CliError>())
                .is_some() =>
        {
            let err = e
                .source()
                .and_then(|s| s.downcast_ref::<CliError>())
                .cloned()
                .unwrap_or_else(|| CliError::usage("invalid arguments"));
            finish(printer, &Err(err))
        }
        _ => {
            // clap repeats the offending argument, which may be a token pasted in the wrong
            // place (`--token-stdin 901-...`): mask anything shaped like one.
            let plain = e.render().to_string();
            let rendered = output::masked(&plain);
            let mut lines = rendered.lines();
            let first = lines.next().unwrap_or("invalid arguments");
            let mut message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
            if message.ends_with(':') {
                // clap lists the missing arguments on the indented lines below; the message
                // alone must say which they are.
                let items: Vec<&str> = lines
                    .take_while(|l| l.starts_with("  "))
                    .map(str::trim)
                    .collect();
                if !items.is_empty() {
                    message = format!("{message} {}", items.join(", "));
                }
            }
            let err = CliError::new(ErrorCode::UsageError, message)
                .detail("usage", rendered.trim_end().to_owned())
                .hint("Run `kbagent --help` or `kbagent <command> --help`.");
            if printer.json() {
                return finish(printer, &Err(err));
            }
            // People get clap's own usage text on stderr (styled unless it needed masking:
            // escape codes would hide a token from the mask).
            let text = if rendered == plain {
                printer.trusted_styles(&e.render().ansi().to_string())
            } else {
                rendered
            };
            let mut stderr = printer.stderr();
            let _ = write!(stderr, "{text}");
            let _ = stderr.flush();
            ExitCode::from(err.exit_code())
        }
    }
}

/// A panic must not print a payload that might carry request data, and under `--json` the
/// run still ends with one document (written by `run_with` after unwinding).
fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "kbagent: internal error at {location}; please report it"
        );
    }));
}

/// Logs go to stderr through the same escaping as everything else (a logged URL or server
/// message cannot carry terminal controls), coloured only on a terminal with colour allowed.
fn init_logging(verbose: u8, spec: Option<&str>, color: bool) {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    let level = match spec.map(str::to_ascii_lowercase).as_deref() {
        Some("trace") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("warn") => LevelFilter::WARN,
        _ => match verbose {
            0 => return,
            1 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        },
    };
    let mut targets = Targets::new()
        .with_target("kbagent", level)
        .with_target("keboola_api", level);
    if level == LevelFilter::TRACE {
        targets = targets.with_target("ureq", LevelFilter::DEBUG);
    }
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(move || output::SafeWriter::any_sgr(io::stderr(), color))
        .with_ansi(color)
        .with_target(true)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(targets))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_flag_detection() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_json(&v(&["kbagent", "--json", "project", "list"])));
        assert!(wants_json(&v(&["kbagent", "-vj", "nope"])));
        assert!(!wants_json(&v(&["kbagent", "project", "list"])));
        assert!(!wants_json(&v(&["kbagent", "--", "--json"])));
        assert!(!wants_json(&v(&["kbagent", "--project", "j"])));
        assert!(wants_json(&v(&[
            "kbagent",
            "project",
            "list",
            "--json=true"
        ])));
        assert!(wants_json(&v(&[
            "kbagent",
            "--json=yes",
            "project",
            "list"
        ])));
        assert!(!wants_json(&v(&[
            "kbagent",
            "--json=false",
            "project",
            "list"
        ])));
        assert!(wants_no_color(&v(&["kbagent", "--no-color", "--help"])));
        assert!(!wants_no_color(&v(&["kbagent", "--", "--no-color"])));
    }

    /// Domain modules (selection, the authority ladder, the run context) stand below the
    /// command layer: they never import `commands` or the clap definitions.
    #[test]
    fn domain_does_not_import_the_command_layer() {
        let domain = [
            ("authority.rs", include_str!("authority.rs")),
            ("select.rs", include_str!("select.rs")),
            ("ctx.rs", include_str!("ctx.rs")),
            ("fanout.rs", include_str!("fanout.rs")),
        ];
        for (file, source) in domain {
            for layer in ["crate::commands", "crate::cli", "super::commands"] {
                assert!(!source.contains(layer), "{file} imports {layer}");
            }
        }
    }
}
