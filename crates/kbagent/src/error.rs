//! The one error type of the CLI. Every failure ends up as a [`CliError`], and this file is
//! the only place that decides its envelope code, `error_type` and process exit code.

use std::fmt;

use keboola_api::{ApiError, ApiErrorKind, Token, TransferError};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

/// Machine-readable error codes, as they appear in `error.code` of the JSON envelope (and
/// in `error_code` of a failed item). Names and meanings are shared with the Python kbagent
/// so scripts keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidToken,
    AuthRejected,
    MissingMasterToken,
    AccessDenied,
    NotFound,
    ApiError,
    Timeout,
    ConnectionError,
    RetryExhausted,
    ConfigError,
    // The config changed while the command ran, so it was not overwritten. (A plain
    // comment: a doc comment would turn the enum's JSON Schema into a `oneOf`.)
    ConfigConflict,
    // A component configuration's version moved between the read and the write.
    ConfigVersionConflict,
    UsageError,
    InvalidArgument,
    PermissionDenied,
    /// A Storage job (import, export, delete, ...) ended in `error`.
    StorageJobFailed,
    UnexpectedError,
    QueueJobFailed,
    QueueJobTimeout,
    JobTerminated,
    JobStateUnknown,
    /// A Query Service statement failed: the database's message.
    QueryJobFailed,
}

impl ErrorCode {
    pub const ALL: &[ErrorCode] = &[
        Self::InvalidToken,
        Self::AuthRejected,
        Self::MissingMasterToken,
        Self::AccessDenied,
        Self::NotFound,
        Self::ApiError,
        Self::Timeout,
        Self::ConnectionError,
        Self::RetryExhausted,
        Self::ConfigError,
        Self::ConfigConflict,
        Self::ConfigVersionConflict,
        Self::UsageError,
        Self::InvalidArgument,
        Self::PermissionDenied,
        Self::StorageJobFailed,
        Self::UnexpectedError,
        Self::QueueJobFailed,
        Self::QueueJobTimeout,
        Self::JobTerminated,
        Self::JobStateUnknown,
        Self::QueryJobFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidToken => "INVALID_TOKEN",
            Self::AuthRejected => "AUTH_REJECTED",
            Self::MissingMasterToken => "MISSING_MASTER_TOKEN",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::NotFound => "NOT_FOUND",
            Self::ApiError => "API_ERROR",
            Self::Timeout => "TIMEOUT",
            Self::ConnectionError => "CONNECTION_ERROR",
            Self::RetryExhausted => "RETRY_EXHAUSTED",
            Self::ConfigError => "CONFIG_ERROR",
            Self::ConfigConflict => "CONFIG_CONFLICT",
            Self::ConfigVersionConflict => "CONFIG_VERSION_CONFLICT",
            Self::UsageError => "USAGE_ERROR",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::StorageJobFailed => "STORAGE_JOB_FAILED",
            Self::UnexpectedError => "UNEXPECTED_ERROR",
            Self::QueueJobFailed => "QUEUE_JOB_FAILED",
            Self::QueueJobTimeout => "QUEUE_JOB_TIMEOUT",
            Self::JobTerminated => "JOB_TERMINATED",
            Self::JobStateUnknown => "JOB_STATE_UNKNOWN",
            Self::QueryJobFailed => "QUERY_JOB_FAILED",
        }
    }

    /// The `error_type` of the envelope.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::InvalidToken | Self::AuthRejected | Self::MissingMasterToken => "authentication",
            Self::NotFound => "not_found",
            Self::Timeout | Self::ConnectionError | Self::RetryExhausted => "network",
            Self::ConfigError | Self::ConfigConflict | Self::ConfigVersionConflict => {
                "configuration"
            }
            Self::UsageError | Self::InvalidArgument => "validation",
            Self::PermissionDenied => "authorization",
            Self::AccessDenied
            | Self::ApiError
            | Self::StorageJobFailed
            | Self::UnexpectedError => "api",
            Self::QueueJobFailed
            | Self::QueueJobTimeout
            | Self::JobTerminated
            | Self::JobStateUnknown
            | Self::QueryJobFailed => "job",
        }
    }

    /// Process exit code: 1 general (and a failed job, as the Python kbagent), 2 usage,
    /// 3 authentication, 4 network (and a wait that timed out, the job still running, as the
    /// Python kbagent), 5 configuration, 6 permission denied, 7 the job was terminated or
    /// cancelled, 8 the job may or may not have started (its request's answer was lost).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::UsageError | Self::InvalidArgument => 2,
            Self::InvalidToken | Self::AuthRejected | Self::MissingMasterToken => 3,
            // A wait that timed out is retryable like a network timeout (Python kbagent: 4).
            Self::Timeout
            | Self::ConnectionError
            | Self::RetryExhausted
            | Self::QueueJobTimeout => 4,
            Self::ConfigError | Self::ConfigConflict | Self::ConfigVersionConflict => 5,
            Self::PermissionDenied => 6,
            Self::AccessDenied
            | Self::NotFound
            | Self::ApiError
            | Self::StorageJobFailed
            | Self::UnexpectedError
            | Self::QueueJobFailed
            | Self::QueryJobFailed => 1,
            Self::JobTerminated => 7,
            Self::JobStateUnknown => 8,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Codes that only appear on an item of a multi-item result (`error_code` of a row in
/// `projects_failed`), for outcomes that are decisions rather than errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemCode {
    /// `project refresh` kept a working master token instead of replacing it with a
    /// non-master one (pass `--replace-master` to replace it).
    MasterTokenKept,
    /// The project is on another stack than the Manage API token, which was not sent there.
    ManageTokenOtherStack,
    /// The stored token changed while `project refresh` was minting its replacement; the
    /// change was kept.
    TokenChanged,
}

impl ItemCode {
    pub const ALL: &[ItemCode] = &[
        Self::MasterTokenKept,
        Self::ManageTokenOtherStack,
        Self::TokenChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MasterTokenKept => "MASTER_TOKEN_KEPT",
            Self::ManageTokenOtherStack => "MANAGE_TOKEN_OTHER_STACK",
            Self::TokenChanged => "TOKEN_CHANGED",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Self::MasterTokenKept => {
                "project refresh kept a working master token (pass --replace-master to replace it)"
            }
            Self::ManageTokenOtherStack => {
                "the project is on another stack than the Manage API token, which is sent only to its own stack (run again with --url and that stack's Manage API token)"
            }
            Self::TokenChanged => {
                "the stored token changed while project refresh was minting a new one; the change was kept and the new token deleted again"
            }
        }
    }
}

/// The `error_code` of a failed item: an error's code, or an item-only code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ItemErrorCode {
    Error(ErrorCode),
    Item(ItemCode),
}

impl From<ErrorCode> for ItemErrorCode {
    fn from(code: ErrorCode) -> Self {
        Self::Error(code)
    }
}

impl From<ItemCode> for ItemErrorCode {
    fn from(code: ItemCode) -> Self {
        Self::Item(code)
    }
}

#[derive(Debug, Clone)]
pub struct CliError {
    pub code: ErrorCode,
    pub message: String,
    pub project: Option<String>,
    pub retryable: bool,
    pub details: Map<String, Value>,
    pub hints: Vec<String>,
    /// A secret this failure must not lose (see [`Reveal`]).
    pub reveal: Option<Reveal>,
}

/// A secret that exists nowhere else, carried by an error: a token was rotated but could not
/// be stored, so its old secret is dead and this is the only copy. The printer shows it
/// although the command failed: on stdout for people (after `note`), as `details.token`
/// under `--json`. `Token` keeps it out of `Debug`.
#[derive(Debug, Clone)]
pub struct Reveal {
    pub note: String,
    pub secret: Token,
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            project: None,
            retryable: false,
            details: Map::new(),
            hints: Vec::new(),
            reveal: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UsageError, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ConfigError, message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnexpectedError, message)
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    #[must_use]
    pub fn project(mut self, alias: impl Into<String>) -> Self {
        self.project = Some(alias.into());
        self
    }

    /// Names the project the error is about, unless it already names one.
    #[must_use]
    pub fn or_project(mut self, alias: Option<&str>) -> Self {
        if self.project.is_none() {
            self.project = alias.map(str::to_owned);
        }
        self
    }

    /// Carries a secret that would otherwise be lost (see [`Reveal`]).
    #[must_use]
    pub fn reveal(mut self, note: impl Into<String>, secret: Token) -> Self {
        self.reveal = Some(Reveal {
            note: note.into(),
            secret,
        });
        self
    }

    /// For an error caused by the token stored for `alias`: an invalid or expired one gets the
    /// ways to replace it. (Not in `from_api`: a token typed into `project add` is not stored.)
    #[must_use]
    pub fn about_stored_token(self, alias: &str) -> Self {
        if self.code != ErrorCode::InvalidToken {
            return self;
        }
        self.hint(format!(
            "Store a new token with `kbagent project edit --project {alias} --token-stdin`, or mint one with `kbagent project refresh --project {alias}` (needs a Manage API token)."
        ))
    }

    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.code.exit_code()
    }

    /// The same error (code, project, details, hints) with its message rewritten, for a
    /// caller that knows what the failure means in its context.
    #[must_use]
    pub fn reworded(mut self, message: impl FnOnce(&str) -> String) -> Self {
        self.message = message(&self.message);
        self
    }

    /// Turns a client error into a CLI error. `masked_token` is the already masked token that
    /// made the call (never the raw one), so the message can say which credential failed.
    pub fn from_api(err: &ApiError, project: Option<&str>, masked_token: Option<&str>) -> Self {
        let api_text = err.api_message().unwrap_or("").trim().to_owned();
        let target = match (project, masked_token) {
            (Some(p), Some(t)) => format!(" for project '{p}' (token: {t})"),
            (Some(p), None) => format!(" for project '{p}'"),
            (None, Some(t)) => format!(" (token: {t})"),
            (None, None) => String::new(),
        };
        let suffix = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!(": {s}")
            }
        };
        let (code, message) = match err.kind() {
            // Keboola accepted the request; its job then failed, with its own message.
            ApiErrorKind::Http { .. } if err.failed_job_id().is_some() => (
                ErrorCode::StorageJobFailed,
                format!(
                    "Storage job {} failed{target}{}",
                    err.failed_job_id().unwrap_or_default(),
                    suffix(&api_text)
                ),
            ),
            ApiErrorKind::Http { status: 401, .. } => {
                if blames_credential(&api_text, err.api_code()) {
                    (
                        ErrorCode::InvalidToken,
                        format!("Invalid or expired token{target}{}", suffix(&api_text)),
                    )
                } else {
                    (
                        ErrorCode::AuthRejected,
                        format!(
                            "Request was rejected as unauthorized{target}{}",
                            suffix(&api_text)
                        ),
                    )
                }
            }
            ApiErrorKind::Http { status: 403, .. } => (
                ErrorCode::AccessDenied,
                format!("Access denied{target}{}", suffix(&api_text)),
            ),
            ApiErrorKind::Http { status: 404, .. } => (
                ErrorCode::NotFound,
                format!("Not found{target}{}", suffix(&api_text)),
            ),
            ApiErrorKind::Http { status, .. } => {
                let code = if err.retryable() && err.attempts() > 1 {
                    ErrorCode::RetryExhausted
                } else {
                    ErrorCode::ApiError
                };
                let tries = if err.attempts() > 1 {
                    format!(" after {} attempts", err.attempts())
                } else {
                    String::new()
                };
                (
                    code,
                    format!(
                        "API error {status} from {} {}{target}{tries}{}",
                        err.method(),
                        err.url_path(),
                        suffix(&api_text)
                    ),
                )
            }
            ApiErrorKind::Timeout => (
                ErrorCode::Timeout,
                format!("Request timed out{target}: {err}"),
            ),
            ApiErrorKind::Connect | ApiErrorKind::Tls => (
                ErrorCode::ConnectionError,
                format!("Cannot connect{target}: {err}"),
            ),
            ApiErrorKind::InvalidResponse => (
                ErrorCode::ApiError,
                format!("Invalid response{target}: {err}"),
            ),
            ApiErrorKind::Config => (ErrorCode::ConfigError, format!("{err}")),
        };
        let mut out = CliError::new(code, message);
        if let Some(hint) = network_hint(err) {
            out.hints.push(hint);
        }
        out.retryable = err.retryable();
        out.project = project.map(str::to_owned);
        if let Some(status) = err.status() {
            out.details.insert("http_status".into(), status.into());
        }
        if let Some(api_code) = err.api_code() {
            out.details.insert("api_error_code".into(), api_code.into());
        }
        if let Some(id) = err.exception_id() {
            out.details.insert("exception_id".into(), id.into());
        }
        if err.attempts() > 1 {
            out.details.insert("attempts".into(), err.attempts().into());
        }
        if let Some(job) = err.failed_job_id() {
            // Keboola's job ids are numbers.
            let id = job.parse::<u64>().map_or_else(|_| job.into(), Value::from);
            out.details.insert("job_id".into(), id);
        }
        out
    }
}

/// The way out of a failure to reach the server; certificates signed by a private or
/// corporate authority are the usual cause of TLS failures.
fn network_hint(err: &ApiError) -> Option<String> {
    const CA: &str = "KBAGENT_CA_FILE (or SSL_CERT_FILE)";
    match err.kind() {
        ApiErrorKind::Tls if err.to_string().contains("UnknownIssuer") => Some(format!(
            "The server's certificate is signed by an authority kbagent does not trust. If it is a private or corporate CA (or a TLS-inspecting proxy), point {CA} at its PEM certificate; verification stays on."
        )),
        ApiErrorKind::Tls => Some(format!(
            "Check the stack URL; if the server uses a private or corporate CA, point {CA} at its PEM certificate."
        )),
        ApiErrorKind::Connect => Some(format!(
            "Check the stack URL (`kbagent project list`) and the network (HTTPS_PROXY, NO_PROXY). Behind a TLS-inspecting proxy, point {CA} at its CA certificate."
        )),
        _ => None,
    }
}

impl CliError {
    /// Turns a failed file transfer into a CLI error: the client's errors as
    /// [`CliError::from_api`] does, a local read or write failure as what it is. The id of
    /// a file uploaded before the failure goes into `details.file_id`.
    pub fn from_transfer(err: &TransferError, project: Option<&str>) -> Self {
        let mut out = match err {
            TransferError::Api(e) => Self::from_api(e, project, None),
            TransferError::Local(e) => {
                let code = if e.kind() == std::io::ErrorKind::PermissionDenied {
                    ErrorCode::PermissionDenied
                } else {
                    ErrorCode::UnexpectedError
                };
                let mut out = CliError::new(code, format!("Local file error: {e}"));
                out.project = project.map(str::to_owned);
                out
            }
        };
        if let Some(id) = err.file_id() {
            out.details.insert("file_id".into(), id.into());
        }
        out
    }
}

/// Whether a 401 is about the credential itself (expired, unknown) or something else the
/// server refused; the two need different remedies.
fn blames_credential(text: &str, api_code: Option<&str>) -> bool {
    if matches!(api_code, Some(c) if c.starts_with("storage.token")) {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    lower.is_empty()
        || [
            "token",
            "credential",
            "authenticat",
            "unauthori",
            "not authori",
            "expired",
            "log in",
            "login",
            "sign in",
        ]
        .iter()
        .any(|needle| lower.contains(needle))
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_consistent_mapping() {
        for code in ErrorCode::ALL {
            let exit = code.exit_code();
            assert!((1..=8).contains(&exit), "{code} exits {exit}");
            if code.error_type() == "authentication" {
                assert_eq!(exit, 3, "{code}");
            }
            if code.error_type() == "network" {
                assert_eq!(exit, 4, "{code}");
            }
        }
        assert_eq!(ErrorCode::AccessDenied.exit_code(), 1);
        assert_eq!(ErrorCode::ConfigError.exit_code(), 5);
    }

    #[test]
    fn a_failed_storage_job_keeps_keboolas_message_and_job_id() {
        let job: keboola_api::StorageJob = serde_json::from_value(serde_json::json!({
            "id": 347, "status": "error", "operationName": "tableImport",
            "error": {"code": "storage.tableImport", "message": "Column 'x' not found"}
        }))
        .unwrap();
        let api = job.into_result().unwrap_err();
        let err = CliError::from_api(&api, Some("prod"), Some("101-...AbCd"));
        assert_eq!(err.code, ErrorCode::StorageJobFailed);
        assert_eq!(err.exit_code(), 1);
        assert!(err.message.contains("347"), "{}", err.message);
        assert!(
            err.message.contains("Column 'x' not found"),
            "{}",
            err.message
        );
        assert_eq!(err.details["job_id"], 347);
    }

    #[test]
    fn credential_blame_heuristic() {
        assert!(blames_credential("Invalid access token", None));
        assert!(blames_credential("", None));
        assert!(blames_credential("whatever", Some("storage.tokenExpired")));
        assert!(!blames_credential("Failed to create project scope", None));
    }
}
