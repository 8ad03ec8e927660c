//! How kbagent runs under an agent: the conversation id sent with every API request, and
//! the headless session whose one project comes from the environment and never touches
//! the disk.

use std::path::Path;

use keboola_api::{StackUrl, Token};
use serde_json::Map;

use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output::{Warning, WarningCode};
use crate::store::ProjectEntry;

/// The header Keboola reads the conversation id from.
pub(crate) const CONVERSATION_HEADER: &str = "X-Conversation-ID";

/// Long enough for a UUID, a ULID or a harness's own session key with a prefix; short
/// enough that it cannot bloat every request.
const MAX_CONVERSATION_ID: usize = 256;

/// The alias of the project a headless session builds from the environment (the name
/// the Python kbagent uses, so scripts that pass `--project __env__` keep working).
pub(crate) const ENV_ALIAS: &str = "__env__";

/// Checks a conversation id: 1 to 256 printable ASCII characters (it travels as an HTTP
/// header, and Keboola logs it).
pub(crate) fn conversation_id(value: &str) -> Result<String, CliError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_CONVERSATION_ID
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && value.trim() == value;
    if ok {
        Ok(value.to_owned())
    } else {
        let shown: String = value.chars().take(40).collect();
        Err(CliError::invalid_argument(format!(
            "Invalid conversation id '{}': use 1-{MAX_CONVERSATION_ID} printable ASCII characters without leading or trailing spaces",
            shown.escape_debug()
        )))
    }
}

/// The conversation id of this run: `--conversation-id`, else `KBAGENT_CONVERSATION_ID`.
/// An invalid variable is a configuration error (the flag is checked while parsing).
pub(crate) fn resolve_conversation_id(flag: Option<&str>, env: &Env) -> CliResult<Option<String>> {
    if let Some(id) = flag {
        return Ok(Some(id.to_owned()));
    }
    match env.conversation_id.as_deref() {
        None => Ok(None),
        Some(raw) => conversation_id(raw).map(Some).map_err(|e| {
            CliError::config(format!("KBAGENT_CONVERSATION_ID: {}", e.message))
                .hint("Fix or unset KBAGENT_CONVERSATION_ID, or pass --conversation-id ID.")
        }),
    }
}

/// The project of a headless session, when `KBAGENT_PROJECT_FROM_ENV` asks for one: built
/// from `KBC_STORAGE_API_URL` and `KBC_TOKEN`, held in memory only. Either missing or
/// invalid is a configuration error that never repeats the token.
pub(crate) fn headless_project(env: &Env) -> CliResult<Option<ProjectEntry>> {
    let Some(raw) = env.project_from_env.as_deref() else {
        return Ok(None);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => {}
        "0" | "false" | "no" | "off" | "" => return Ok(None),
        _ => {
            return Err(CliError::config(format!(
                "KBAGENT_PROJECT_FROM_ENV must be 1/true/yes/on or 0/false/no/off, got '{}'",
                raw.escape_debug()
            )));
        }
    }
    let hint = "A headless session (KBAGENT_PROJECT_FROM_ENV=1) needs both KBC_STORAGE_API_URL and KBC_TOKEN.";
    let url = env.storage_api_url.as_deref().ok_or_else(|| {
        CliError::config("KBAGENT_PROJECT_FROM_ENV is set but KBC_STORAGE_API_URL is not")
            .hint(hint)
    })?;
    let token = env.kbc_token().ok_or_else(|| {
        CliError::config("KBAGENT_PROJECT_FROM_ENV is set but KBC_TOKEN is not").hint(hint)
    })?;
    let stack_url = StackUrl::parse(url).map_err(|e| {
        CliError::config(format!("KBC_STORAGE_API_URL is not a valid stack URL: {e}"))
    })?;
    // The error names what is wrong with the token, never the token.
    let token = Token::new(token)
        .map_err(|e| CliError::config(format!("KBC_TOKEN is not a valid token: {e}")))?;
    Ok(Some(ProjectEntry {
        stack_url,
        token,
        project_name: None,
        project_id: None,
        org_id: None,
        extra: Map::new(),
    }))
}

/// The warning that an empty local `.kbagent/` hides `count` projects of `global`.
pub(crate) fn shadow_warning(local: &Path, global: &Path, count: usize) -> Warning {
    Warning::new(
        WarningCode::LocalConfigShadowsGlobal,
        format!(
            "{} has no projects and hides the {count} project(s) registered in {}",
            local.display(),
            global.display()
        ),
    )
    .hint("Copy them into this workspace with `kbagent init --from-global --force`, or remove the empty .kbagent/ directory.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_bounded_printable_ascii() {
        assert!(conversation_id("conv-1234_ab.c:d/e").is_ok());
        assert!(conversation_id(&"a".repeat(256)).is_ok());
        for bad in [
            "",
            " lead",
            "trail ",
            "tab\there",
            "new\nline",
            "ünicode",
            &"a".repeat(257),
        ] {
            assert!(conversation_id(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_flag_wins_over_the_variable_and_a_bad_variable_is_a_config_error() {
        let mut env = Env::default();
        assert_eq!(resolve_conversation_id(None, &env).unwrap(), None);
        env.conversation_id = Some("from-env".into());
        assert_eq!(
            resolve_conversation_id(Some("flag"), &env)
                .unwrap()
                .as_deref(),
            Some("flag")
        );
        assert_eq!(
            resolve_conversation_id(None, &env).unwrap().as_deref(),
            Some("from-env")
        );
        env.conversation_id = Some("bad\u{7}".into());
        let err = resolve_conversation_id(None, &env).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ConfigError);
    }

    #[test]
    fn a_headless_session_needs_the_opt_in_and_both_variables() {
        let mut env = Env::default();
        env.storage_api_url = Some("https://connection.keboola.com".into());
        env.set_kbc_token("901-1-abcdefghijklmnopqrstuvwxyz");
        // KBC_TOKEN alone never makes a phantom project.
        assert!(headless_project(&env).unwrap().is_none());
        env.project_from_env = Some("off".into());
        assert!(headless_project(&env).unwrap().is_none());
        env.project_from_env = Some("maybe".into());
        assert!(headless_project(&env).is_err());
        env.project_from_env = Some("YES".into());
        let entry = headless_project(&env).unwrap().unwrap();
        assert_eq!(entry.stack_url.as_str(), "https://connection.keboola.com");
        env.storage_api_url = None;
        let err = headless_project(&env).unwrap_err();
        assert!(
            err.message.contains("KBC_STORAGE_API_URL"),
            "{}",
            err.message
        );
        env.storage_api_url = Some("https://connection.keboola.com".into());
        env.clear_kbc_token();
        let err = headless_project(&env).unwrap_err();
        assert!(err.message.contains("KBC_TOKEN"), "{}", err.message);
    }
}
