//! Arguments and value parsers shared by many commands. A value parser runs while the
//! command line is parsed, so a bad value fails before any file is read or request sent;
//! its error is a [`CliError`] that `lib.rs` reports as it is (`INVALID_ARGUMENT`).

use clap::Args;

use crate::error::CliError;

/// `--project ALIAS` for commands that act on one project.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ProjectArg {
    /// Project alias or id [default: KBAGENT_PROJECT, the pinned default, or the only project]
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub alias: Option<String>,
}

impl ProjectArg {
    pub fn get(&self) -> Option<&str> {
        self.alias.as_deref()
    }
}

/// Repeatable `--project ALIAS` for commands that fan out over projects.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ProjectsArg {
    /// Only these projects (repeatable; default: all)
    #[arg(short = 'p', long = "project", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// Every registered project (the default when no --project is given)
    #[arg(long = "all-projects", conflicts_with = "aliases")]
    pub _all_projects: bool,
}

/// `--component-id C --config-id K`: one configuration of one component.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConfigRefArgs {
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: String,
    #[arg(long, value_name = "CONFIG_ID", value_parser = config_id)]
    pub config_id: String,
}

/// `--branch ID`: a development branch.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct BranchArg {
    /// Development branch id (default: the main branch)
    #[arg(long, value_name = "ID", value_parser = branch_id)]
    pub branch: Option<String>,
}

/// An id of a row or a stored object: letters, digits, '-', '_' or '.'.
pub(crate) fn id_part(what: &str, value: &str) -> Result<String, CliError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid {what} '{}': use letters, digits, '-', '_' or '.'",
            value.escape_debug()
        )))
    }
}

pub(crate) fn component_id(value: &str) -> Result<String, CliError> {
    id_part("component id", value)
}

pub(crate) fn config_id(value: &str) -> Result<String, CliError> {
    id_part("configuration id", value)
}

pub(crate) fn branch_id(value: &str) -> Result<String, CliError> {
    id_part("branch id", value)
}

/// A Storage API token id: a number, so that `01004` and `1004` are the same token.
pub(crate) fn token_id(id: &str) -> Result<u64, CliError> {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = digits.then(|| id.parse::<u64>().ok()).flatten() {
        Ok(n)
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid token id '{}': token ids are numbers",
            id.escape_debug()
        )))
    }
}

/// A project alias as stored: letters, digits, '_', '.', '-', not starting with '-' or '.'.
pub(crate) fn alias(alias: &str) -> Result<String, CliError> {
    if crate::token_input::looks_like_token(alias) {
        return Err(CliError::usage("The project alias looks like an API token (not shown); refusing to store a token as a name").hint("Choose a short name such as 'prod' for --project and pass the token with --token-stdin, --token-file FILE or --token-env VAR."));
    }
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !alias.starts_with(['-', '.']);
    if ok {
        Ok(alias.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid project alias '{}': use 1-64 letters, digits, '_', '.' or '-', not starting with '-' or '.'",
            alias.escape_debug()
        )))
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
