//! The printer: the only code that writes to stdout. Stdout carries data (a table or the
//! JSON envelope); stderr carries warnings, prompts, progress and logs.
//!
//! Under `--json` exactly one document is written per run: warnings are collected and go
//! into the envelope, errors become the error envelope.

mod table;

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::{Map, Value, json};
pub use table::{Table, cell};

use crate::error::CliError;

/// What a command produced: the JSON `data`, the human rendering, and whether some items
/// of a multi-item command failed (the run then exits 1 with the full result printed).
pub struct Report {
    pub data: Value,
    pub human: String,
    pub partial_failure: bool,
}

impl Report {
    pub fn new(data: impl Serialize, human: impl Into<String>) -> Self {
        Self {
            data: serde_json::to_value(data).unwrap_or(Value::Null),
            human: human.into(),
            partial_failure: false,
        }
    }

    #[must_use]
    pub fn partial_failure(mut self, failed: bool) -> Self {
        self.partial_failure = failed;
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            hint: None,
            extra: Map::new(),
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }
}

pub struct Printer {
    json: bool,
    color: ColorChoice,
    stdout_tty: bool,
    stderr_tty: bool,
    warnings: RefCell<Vec<Warning>>,
}

pub const BOLD: Style = Style::new().bold();
pub const GREEN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const YELLOW: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub const RED: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const DIM: Style = Style::new().dimmed();

impl Printer {
    pub fn new(json: bool, no_color: bool) -> Self {
        let color = if no_color {
            ColorChoice::Never
        } else {
            ColorChoice::Auto
        };
        Self {
            json,
            color,
            stdout_tty: io::stdout().is_terminal(),
            stderr_tty: io::stderr().is_terminal(),
            warnings: RefCell::new(Vec::new()),
        }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// Whether a person is looking at stdout (tables with borders, colours, prompts).
    pub fn stdout_is_terminal(&self) -> bool {
        self.stdout_tty
    }

    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_tty
    }

    /// Whether the user can be asked something (prompts never appear under `--json`).
    pub fn interactive(&self) -> bool {
        !self.json && self.stderr_tty && io::stdin().is_terminal()
    }

    /// Styles `text` for stdout; plain when colour is off (anstream strips it anyway when
    /// piped, this keeps the strings clean for snapshots).
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color == ColorChoice::Never {
            text.to_owned()
        } else {
            format!("{style}{text}{style:#}")
        }
    }

    pub fn warn(&self, warning: Warning) {
        if !self.json {
            let mut err = self.stderr();
            let _ = writeln!(
                err,
                "{}: {}",
                self.paint(YELLOW, "Warning"),
                warning.message
            );
            if let Some(hint) = &warning.hint {
                let _ = writeln!(err, "  {hint}");
            }
        }
        self.warnings.borrow_mut().push(warning);
    }

    /// A line of progress or information for a person; never part of the data.
    pub fn note(&self, text: &str) {
        if !self.json {
            let _ = writeln!(self.stderr(), "{text}");
        }
    }

    pub fn stderr(&self) -> anstream::AutoStream<io::Stderr> {
        anstream::AutoStream::new(io::stderr(), self.color)
    }

    fn stdout(&self) -> anstream::AutoStream<io::StdoutLock<'static>> {
        anstream::AutoStream::new(io::stdout().lock(), self.color)
    }

    pub fn emit_ok(&self, report: &Report) -> io::Result<()> {
        if self.json {
            let mut doc = Map::new();
            doc.insert("status".into(), "ok".into());
            doc.insert("data".into(), report.data.clone());
            let warnings = self.warnings.borrow();
            if !warnings.is_empty() {
                doc.insert("warnings".into(), json!(*warnings));
            }
            self.write_json(&Value::Object(doc))
        } else {
            let mut out = self.stdout();
            out.write_all(report.human.as_bytes())?;
            if !report.human.is_empty() && !report.human.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            out.flush()
        }
    }

    pub fn emit_error(&self, err: &CliError) -> io::Result<()> {
        if self.json {
            self.write_json(&error_document(err))
        } else {
            let mut e = self.stderr();
            writeln!(e, "{}: {}", self.paint(RED, "Error"), masked(&err.message))?;
            for hint in &err.hints {
                writeln!(e, "  {} {}", self.paint(DIM, "hint:"), masked(hint))?;
            }
            e.flush()
        }
    }

    fn write_json(&self, doc: &Value) -> io::Result<()> {
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, doc)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// Error text often repeats what the user typed (an alias, an id, a value), and a token pasted
/// into the wrong place would come back with it: anything shaped like a token is masked.
pub fn masked(text: &str) -> String {
    keboola_api::mask_secrets_in(text, None)
}

/// The error envelope. Also used on the paths that run before a [`Printer`] exists
/// (argument errors, panics).
pub fn error_document(err: &CliError) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), err.code.as_str().into());
    error.insert("error_type".into(), err.code.error_type().into());
    error.insert("message".into(), masked(&err.message).into());
    error.insert(
        "project".into(),
        err.project.clone().unwrap_or_default().into(),
    );
    error.insert("retryable".into(), err.retryable.into());
    let mut details = err.details.clone();
    if !err.hints.is_empty() {
        let hints: Vec<String> = err.hints.iter().map(|h| masked(h)).collect();
        details.insert("hints".into(), json!(hints));
    }
    if !details.is_empty() {
        error.insert("details".into(), Value::Object(details));
    }
    json!({"status": "error", "error": error})
}

/// Writes the error envelope straight to stdout (no printer yet).
pub fn write_error_json(err: &CliError) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &error_document(err))?;
    out.write_all(b"\n")?;
    out.flush()
}
