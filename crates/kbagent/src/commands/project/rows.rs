//! The project objects `project` verbs report, and helpers several of them share.

use keboola_api::StackUrl;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;
use crate::store::ProjectEntry;

pub(super) const DEFAULT_STACK: &str = "https://connection.keboola.com";

/// A registered project: alias, what its token verified as, and the masked token.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProjectSummary {
    pub alias: String,
    pub project_name: Option<String>,
    pub project_id: Option<u64>,
    pub stack_url: String,
    /// The stored token, masked (`901-...AbCd`).
    pub token: String,
}

impl ProjectSummary {
    pub fn of(alias: &str, entry: &ProjectEntry) -> Self {
        Self {
            alias: alias.to_owned(),
            project_name: entry.project_name.clone(),
            project_id: entry.project_id,
            stack_url: entry.stack_url.as_str().to_owned(),
            token: entry.token.masked(),
        }
    }
}

/// How kbagent authenticates to a project: always the stored static token.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuthMode {
    Static,
}

/// A project as `project list` and `project status` report it, with the fields the
/// Python kbagent's listings carry (`active_branch_id`, `org_name` are kept from its config).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RegistryRow {
    #[serde(flatten)]
    pub project: ProjectSummary,
    pub auth_mode: AuthMode,
    pub org_id: Option<u64>,
    /// Kept from a config written by the Python kbagent; null otherwise.
    pub org_name: Value,
    /// Kept from a config written by the Python kbagent; null otherwise.
    pub active_branch_id: Value,
}

impl RegistryRow {
    pub fn of(alias: &str, entry: &ProjectEntry) -> Self {
        let kept = |key: &str| entry.extra.get(key).cloned().unwrap_or(Value::Null);
        Self {
            project: ProjectSummary::of(alias, entry),
            auth_mode: AuthMode::Static,
            org_id: entry.org_id,
            org_name: kept("org_name"),
            active_branch_id: kept("active_branch_id"),
        }
    }
}

pub(super) fn parse_stack_url(raw: &str) -> Result<StackUrl, CliError> {
    StackUrl::parse(raw).map_err(|e| {
        CliError::invalid_argument(format!(
            "Invalid stack URL '{}': {e}",
            without_userinfo(raw).escape_debug()
        ))
            .hint("Use the https:// URL of your Keboola stack, e.g. https://connection.keboola.com (http:// only for a local emulator on 127.0.0.1 or localhost).")
    })
}

/// The URL as typed, for an error message, with the part before an '@' in its authority
/// hidden: it may be a password.
fn without_userinfo(raw: &str) -> String {
    let (scheme, rest) = raw
        .find("://")
        .map_or(("", raw), |i| (&raw[..i + 3], &raw[i + 3..]));
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => raw.to_owned(),
    }
}

pub(super) fn duplicate_alias(alias: &str) -> CliError {
    CliError::config(format!("Project '{alias}' already exists")).hint(format!(
        "Use `kbagent project edit --project {alias}` to change it, or pick another alias."
    ))
}
