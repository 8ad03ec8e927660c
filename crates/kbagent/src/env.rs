//! Everything kbagent reads from its environment, read once at start-up. Commands take
//! values from here rather than calling `std::env` themselves, so the set of variables that
//! matter is visible in one place (and documented in the README).

use std::path::PathBuf;
use std::time::Duration;

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
    pub no_color: bool,
    pub log: Option<String>,
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
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            log: var("KBAGENT_LOG"),
        }
    }

    pub fn kbc_token(&self) -> Option<&str> {
        self.kbc_token.as_deref()
    }

    /// `KBC_MANAGE_API_TOKEN` as set in the environment (possibly empty). Whether it may be
    /// used is decided by the caller (`--allow-env-manage-token`).
    pub fn manage_api_token(&self) -> Option<&str> {
        self.manage_api_token.as_deref()
    }
}
