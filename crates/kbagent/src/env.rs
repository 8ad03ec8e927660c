//! Everything kbagent reads from its environment, read once at start-up. Commands take
//! values from here rather than calling `std::env` themselves, so the set of variables that
//! matter is visible in one place. [`VARIABLES`] documents them; `context` prints it and a
//! test checks the README's table against it.

use std::path::PathBuf;
use std::time::Duration;

/// One documented environment variable (or a group read as alternatives).
pub(crate) struct Variable {
    pub names: &'static [&'static str],
    pub meaning: &'static str,
}

pub(crate) const VARIABLES: &[Variable] = &[
    Variable {
        names: &["KBAGENT_CONFIG_DIR"],
        meaning: "Config directory (after `--config-dir`).",
    },
    Variable {
        names: &["KBAGENT_PROJECT"],
        meaning: "Project for single-project commands (after `--project`).",
    },
    Variable {
        names: &["KBC_TOKEN"],
        meaning: "Token for `project add` when no token option is given.",
    },
    Variable {
        names: &["KBC_STORAGE_API_URL"],
        meaning: "Stack URL for `project add` when `--url` is not given.",
    },
    Variable {
        names: &["KBC_MANAGE_API_TOKEN"],
        meaning: "Manage API token; read only with `--allow-env-manage-token`.",
    },
    Variable {
        names: &["KBAGENT_MAX_PARALLEL_WORKERS"],
        meaning: "Parallel requests for fan-out commands, 1-100 (default 32; also `max_parallel_workers` in config.json, and `--parallel`).",
    },
    Variable {
        names: &["KBAGENT_OAUTH_WIZARD_URL"],
        meaning: "OAuth wizard base URL (default `https://external.keboola.com/oauth/index.html`).",
    },
    Variable {
        names: &["KBAGENT_HTTP_TIMEOUT_MS"],
        meaning: "HTTP read timeout in milliseconds (default 30 s; connect timeout 5 s).",
    },
    Variable {
        names: &["KBAGENT_RETRY_BASE_MS"],
        meaning: "Base of the retry backoff for GET requests (default 500 ms).",
    },
    Variable {
        names: &["KBAGENT_WAIT_TIMEOUT_MS"],
        meaning: "How long to wait for the config lock or for token input, in milliseconds (default 30 s).",
    },
    Variable {
        names: &["SSL_CERT_FILE", "KBAGENT_CA_FILE"],
        meaning: "Extra CA certificates (PEM) to trust, e.g. a corporate proxy or `keboola-emulator --tls`. Verification is always on.",
    },
    Variable {
        names: &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
        meaning: "An S3-compatible endpoint for Storage file transfers on AWS stacks, addressed path-style (the first one set wins).",
    },
    Variable {
        names: &["STORAGE_EMULATOR_HOST"],
        meaning: "A Cloud Storage endpoint for Storage file transfers on GCP stacks, e.g. `http://127.0.0.1:4443`.",
    },
    Variable {
        names: &["KBAGENT_LOG"],
        meaning: "Log level on stderr (`debug`, `trace`); `-v` is the same as `debug`. Tokens are masked in every log line.",
    },
    Variable {
        names: &["COLUMNS"],
        meaning: "Table width (40-1000) when the terminal reports no size (default 120).",
    },
    Variable {
        names: &["BROWSER"],
        meaning: "Browser command(s) for `config oauth-url`, ':'-separated, `%s` for the URL (else `xdg-open` / `open`). It gets kbagent's environment without secret variables.",
    },
    Variable {
        names: &["KBAGENT_DENY"],
        meaning: "Comma-separated deny patterns for this run only (`cli:write`, `storage.*`, `token.delete`); they narrow the persisted policy, like `--deny-writes`.",
    },
    Variable {
        names: &["NO_COLOR"],
        meaning: "No colours.",
    },
    // Running under an agent.
    Variable {
        names: &["KBAGENT_CONVERSATION_ID"],
        meaning: "Conversation id sent as `X-Conversation-ID` on every Keboola API request (after `--conversation-id`; 1-256 printable ASCII characters).",
    },
    Variable {
        names: &["KBAGENT_PROJECT_FROM_ENV"],
        meaning: "`1`/`true`/`yes`/`on`: a headless session whose one project `__env__` is `KBC_STORAGE_API_URL` + `KBC_TOKEN`, held in memory; no config file is read or written.",
    },
];

/// Secret-bearing variables are kept as plain strings only until they are turned into
/// `keboola_api::Token`s; `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Env {
    pub config_dir: Option<PathBuf>,
    pub project: Option<String>,
    pub storage_api_url: Option<String>,
    kbc_token: Option<String>,
    manage_api_token: Option<String>,
    pub home: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    pub platform_config_dir: Option<PathBuf>,
    pub max_parallel: Option<String>,
    pub oauth_wizard_url: Option<String>,
    pub timeout: Option<Duration>,
    pub retry_base: Option<Duration>,
    /// Bound on waiting for the config lock or for token input (default 30 s).
    pub wait_timeout: Option<Duration>,
    pub ca_file: Option<PathBuf>,
    /// S3-compatible endpoint for file transfers (`AWS_ENDPOINT_URL_S3` > `AWS_ENDPOINT_URL`).
    pub s3_endpoint: Option<String>,
    /// Cloud Storage endpoint for file transfers (`STORAGE_EMULATOR_HOST`).
    pub gcs_endpoint: Option<String>,
    pub no_color: bool,
    pub log: Option<String>,
    pub browser: Option<String>,
    /// `COLUMNS`: the table width when the terminal reports none.
    pub columns: Option<String>,
    /// `KBAGENT_CONVERSATION_ID`, checked when the HTTP client is built.
    pub conversation_id: Option<String>,
    /// `KBAGENT_PROJECT_FROM_ENV` as set (see `session::headless_project`).
    pub project_from_env: Option<String>,
    /// `KBAGENT_DENY`: session deny patterns, comma-separated.
    pub deny: Option<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("config_dir", &self.config_dir)
            .field("project", &self.project)
            .field("kbc_token", &self.kbc_token.as_ref().map(|_| "<set>"))
            .field(
                "manage_api_token",
                &self.manage_api_token.as_ref().map(|_| "<set>"),
            )
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Env {
    pub fn from_process() -> Self {
        let ms = |name: &str| {
            var(name)
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        Self {
            config_dir: var("KBAGENT_CONFIG_DIR").map(PathBuf::from),
            project: var("KBAGENT_PROJECT"),
            storage_api_url: var("KBC_STORAGE_API_URL"),
            kbc_token: var("KBC_TOKEN"),
            manage_api_token: std::env::var("KBC_MANAGE_API_TOKEN").ok(),
            home: dirs::home_dir(),
            cwd: std::env::current_dir().ok(),
            platform_config_dir: dirs::config_dir(),
            max_parallel: var("KBAGENT_MAX_PARALLEL_WORKERS"),
            oauth_wizard_url: var("KBAGENT_OAUTH_WIZARD_URL"),
            timeout: ms("KBAGENT_HTTP_TIMEOUT_MS"),
            retry_base: ms("KBAGENT_RETRY_BASE_MS"),
            wait_timeout: ms("KBAGENT_WAIT_TIMEOUT_MS"),
            ca_file: var("KBAGENT_CA_FILE")
                .or_else(|| var("SSL_CERT_FILE"))
                .map(PathBuf::from),
            s3_endpoint: var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")),
            gcs_endpoint: var("STORAGE_EMULATOR_HOST"),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            log: var("KBAGENT_LOG"),
            browser: var("BROWSER"),
            columns: var("COLUMNS"),
            conversation_id: var("KBAGENT_CONVERSATION_ID"),
            project_from_env: var("KBAGENT_PROJECT_FROM_ENV"),
            deny: var("KBAGENT_DENY"),
        }
    }

    pub fn kbc_token(&self) -> Option<&str> {
        self.kbc_token.as_deref()
    }

    #[cfg(test)]
    pub(crate) fn set_kbc_token(&mut self, token: &str) {
        self.kbc_token = Some(token.to_owned());
    }

    #[cfg(test)]
    pub(crate) fn clear_kbc_token(&mut self) {
        self.kbc_token = None;
    }

    /// `KBC_MANAGE_API_TOKEN` as set in the environment (possibly empty). Whether it may be
    /// used is decided by the caller (`--allow-env-manage-token`).
    pub fn manage_api_token(&self) -> Option<&str> {
        self.manage_api_token.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table of environment variables is this table.
    #[test]
    fn readme_table_matches() {
        let readme = include_str!("../../../README.md");
        let rows: Vec<String> = readme
            .lines()
            .skip_while(|l| *l != "## Environment variables")
            .skip_while(|l| !l.starts_with("|---"))
            .skip(1)
            .take_while(|l| l.starts_with('|'))
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = VARIABLES
            .iter()
            .map(|v| {
                let names: Vec<String> = v.names.iter().map(|n| format!("`{n}`")).collect();
                format!("| {} | {} |", names.join(", "), v.meaning)
            })
            .collect();
        assert_eq!(rows, expected);
    }

    /// Every variable `from_process` reads is documented.
    #[test]
    fn every_variable_read_is_documented() {
        let source = include_str!("env.rs");
        let code = &source[source.find("pub fn from_process").unwrap()..];
        let code = &code[..code.find("pub fn kbc_token").unwrap()];
        for quoted in code.split('"').skip(1).step_by(2) {
            if quoted.chars().all(|c| c.is_ascii_uppercase() || c == '_') && quoted.len() > 3 {
                assert!(
                    VARIABLES.iter().any(|v| v.names.contains(&quoted)),
                    "{quoted} is read but not in VARIABLES"
                );
            }
        }
    }
}
