//! The printer: the only code that writes to stdout. Stdout carries data (a table or the
//! JSON envelope); stderr carries warnings, prompts, progress and logs.
//!
//! Under `--json` exactly one document is written per run: warnings are collected and go
//! into the envelope, errors become the error envelope.

mod safe;
mod table;
mod targets;

use std::cell::{Cell, RefCell};
use std::io::{self, IsTerminal, Write};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
pub use safe::{SafeWriter, Trust, sanitize};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
pub use table::{Table, cell, set_columns};
pub use targets::{ActiveBranch, BranchId, BranchSource, Target};

use crate::error::{CliError, ErrorCode};

/// What a command produced: the JSON `data`, the human rendering, and whether some items
/// of a multi-item command failed (the run then exits 1 with the full result printed).
pub struct Report {
    pub data: Value,
    pub human: String,
    pub partial_failure: bool,
    /// An exit code other than 0 (or 1 for a partial failure) for a result that is printed
    /// in full: `permissions check` of a denied operation exits 6.
    pub exit_code: Option<u8>,
}

impl Report {
    pub fn new(data: impl Serialize, human: impl Into<String>) -> Self {
        Self {
            data: serde_json::to_value(data).unwrap_or(Value::Null),
            human: human.into(),
            partial_failure: false,
            exit_code: None,
        }
    }

    #[must_use]
    pub fn partial_failure(mut self, failed: bool) -> Self {
        self.partial_failure = failed;
        self
    }
}

/// Machine-readable warning codes, as they appear in `warnings[].code` of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarningCode {
    NonMasterToken,
    TokenOnCommandLine,
    ManageTokenEnvIgnored,
    EnvOverride,
    ProjectFailed,
    BrowserNotOpened,
    OwnTokenOnly,
    LocalConfigShadowsGlobal,
}

impl WarningCode {
    pub const ALL: &[WarningCode] = &[
        Self::NonMasterToken,
        Self::TokenOnCommandLine,
        Self::ManageTokenEnvIgnored,
        Self::EnvOverride,
        Self::ProjectFailed,
        Self::BrowserNotOpened,
        Self::OwnTokenOnly,
        Self::LocalConfigShadowsGlobal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NonMasterToken => "NON_MASTER_TOKEN",
            Self::TokenOnCommandLine => "TOKEN_ON_COMMAND_LINE",
            Self::ManageTokenEnvIgnored => "MANAGE_TOKEN_ENV_IGNORED",
            Self::EnvOverride => "ENV_OVERRIDE",
            Self::ProjectFailed => "PROJECT_FAILED",
            Self::BrowserNotOpened => "BROWSER_NOT_OPENED",
            Self::OwnTokenOnly => "OWN_TOKEN_ONLY",
            Self::LocalConfigShadowsGlobal => "LOCAL_CONFIG_SHADOWS_GLOBAL",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Self::NonMasterToken => "the stored token cannot mint child tokens",
            Self::TokenOnCommandLine => {
                "a token was passed with --token (visible to other processes)"
            }
            Self::ManageTokenEnvIgnored => {
                "KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token"
            }
            Self::EnvOverride => "KBAGENT_PROJECT overrides the pinned default",
            Self::ProjectFailed => "one project of a multi-project read failed (see errors[])",
            Self::BrowserNotOpened => "the browser could not be opened; open the URL yourself",
            Self::OwnTokenOnly => {
                "the token cannot manage tokens, so token list shows only the token itself"
            }
            Self::LocalConfigShadowsGlobal => {
                "a local .kbagent/ without projects hides the global config's projects"
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Warning {
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Self {
            code,
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
    json: Cell<bool>,
    color: Cell<ColorChoice>,
    stdout_tty: bool,
    stderr_tty: bool,
    warnings: RefCell<Vec<Warning>>,
    /// The projects and branches the command acted on (the envelope's `targets`).
    targets: RefCell<Vec<Target>>,
    /// Human output that goes to stdout before an error (what a command found before failing).
    with_error: RefCell<String>,
    /// Precedes every styling sequence the printer emits (see `safe.rs`).
    marker: String,
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
            json: Cell::new(json),
            color: Cell::new(color),
            stdout_tty: io::stdout().is_terminal(),
            stderr_tty: io::stderr().is_terminal(),
            warnings: RefCell::new(Vec::new()),
            targets: RefCell::new(Vec::new()),
            with_error: RefCell::new(String::new()),
            marker: safe::new_marker(),
        }
    }

    pub fn json(&self) -> bool {
        self.json.get()
    }

    /// The printer exists before the arguments are parsed (so that clap's own output goes
    /// through it); once they are, the parsed `--json` and `--no-color` settle the mode.
    pub fn configure(&self, json: bool, no_color: bool) {
        self.json.set(json);
        if no_color {
            self.color.set(ColorChoice::Never);
        }
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
        !self.json() && self.stderr_tty && io::stdin().is_terminal()
    }

    /// Styles `text` for stdout; plain when colour is off (anstream strips it anyway when
    /// piped, this keeps the strings clean for snapshots). The styling is marked as ours so
    /// that it survives the escaping of control characters in everything printed.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color.get() == ColorChoice::Never {
            text.to_owned()
        } else {
            let m = &self.marker;
            format!("{m}{style}{text}{m}{style:#}")
        }
    }

    /// Marks the styling of text we rendered ourselves (clap's help) as ours.
    pub fn trusted_styles(&self, styled: &str) -> String {
        safe::mark_styles(styled, &self.marker)
    }

    /// Whether colour may be used on stderr (the log formatter asks).
    pub fn stderr_color(&self) -> bool {
        self.stderr_tty && self.color.get() != ColorChoice::Never
    }

    pub fn warn(&self, warning: Warning) {
        if !self.json() {
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

    /// Records a project and branch the command acts on; it goes into the envelope's
    /// `targets`, of a success or of an error alike. The same target twice is kept once.
    pub fn target(&self, target: Target) {
        let mut targets = self.targets.borrow_mut();
        if !targets.contains(&target) {
            targets.push(target);
        }
    }

    /// A line of progress or information for a person; never part of the data.
    pub fn note(&self, text: &str) {
        if !self.json() {
            let _ = writeln!(self.stderr(), "{text}");
        }
    }

    /// Stderr for people: control characters escaped, our own styling kept.
    pub fn stderr(&self) -> SafeWriter<anstream::AutoStream<io::Stderr>> {
        SafeWriter::new(
            anstream::AutoStream::new(io::stderr(), self.color.get()),
            Some(self.marker.clone()),
        )
    }

    fn stdout(&self) -> anstream::AutoStream<io::StdoutLock<'static>> {
        anstream::AutoStream::new(io::stdout().lock(), self.color.get())
    }

    pub fn emit_ok(&self, report: &Report) -> io::Result<()> {
        if self.json() {
            let warnings = self.warnings.borrow();
            self.write_json(&OkEnvelope {
                status: "ok",
                targets: &self.targets.borrow(),
                data: &report.data,
                warnings: &warnings,
            })
        } else {
            let mut out = self.stdout();
            let human = sanitize(&report.human, safe::Trust::Marked(&self.marker));
            out.write_all(human.as_bytes())?;
            if !human.is_empty() && !human.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            out.flush()
        }
    }

    /// For people, `human` is printed on stdout before the error this run ends with (under
    /// `--json` the error's details carry the same facts).
    pub fn show_with_error(&self, human: String) {
        *self.with_error.borrow_mut() = human;
    }

    pub fn emit_error(&self, err: &CliError) -> io::Result<()> {
        if self.json() {
            self.write_json(&error_document(err, &self.targets.borrow()))
        } else {
            let before = self.with_error.take();
            if !before.is_empty() || err.reveal.is_some() {
                let mut out = self.stdout();
                if !before.is_empty() {
                    out.write_all(sanitize(&before, safe::Trust::Marked(&self.marker)).as_bytes())?;
                }
                if let Some(r) = &err.reveal {
                    writeln!(out, "{}\nToken: {}", r.note, r.secret.expose())?;
                }
                out.flush()?;
            }
            let mut e = self.stderr();
            writeln!(e, "{}: {}", self.paint(RED, "Error"), masked(&err.message))?;
            for hint in &err.hints {
                writeln!(e, "  {} {}", self.paint(DIM, "hint:"), masked(hint))?;
            }
            e.flush()
        }
    }

    fn write_json(&self, doc: &impl Serialize) -> io::Result<()> {
        let mut out = io::stdout().lock();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, safe::JsonFormatter::new());
        doc.serialize(&mut ser)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// Error text often repeats what the user typed (an alias, an id, a value), and a token pasted
/// into the wrong place would come back with it: anything shaped like a token is masked.
pub fn masked(text: &str) -> String {
    keboola_api::mask_secrets_in(text, None)
}

#[derive(Serialize)]
struct OkEnvelope<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "<[Target]>::is_empty")]
    targets: &'a [Target],
    data: &'a Value,
    #[serde(skip_serializing_if = "<[Warning]>::is_empty")]
    warnings: &'a [Warning],
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "<[Target]>::is_empty")]
    targets: &'a [Target],
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    code: ErrorCode,
    error_type: &'static str,
    message: String,
    /// The alias the error is about, or "" (kept a string for the Python kbagent's scripts).
    project: String,
    retryable: bool,
    #[serde(skip_serializing_if = "Map::is_empty")]
    details: Map<String, Value>,
}

/// The error envelope; `details.hints` carries the hints.
fn error_document<'a>(err: &CliError, targets: &'a [Target]) -> ErrorEnvelope<'a> {
    let mut details = err.details.clone();
    if !err.hints.is_empty() {
        let hints: Vec<Value> = err.hints.iter().map(|h| masked(h).into()).collect();
        details.insert("hints".into(), Value::Array(hints));
    }
    if let Some(r) = &err.reveal {
        details.insert("token".into(), r.secret.expose().into());
    }
    ErrorEnvelope {
        status: "error",
        targets,
        error: ErrorBody {
            code: err.code,
            error_type: err.code.error_type(),
            message: masked(&err.message),
            project: err.project.clone().unwrap_or_default(),
            retryable: err.retryable,
            details,
        },
    }
}
