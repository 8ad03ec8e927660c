//! What every command gets: global options, environment, printer, and lazily the config
//! store and the shared HTTP agent (one connection pool for the whole run).

use std::cell::{OnceCell, RefCell};
use std::path::PathBuf;
use std::time::Duration;

use keboola_api::{Http, HttpConfig, StorageClient, TransferConfig};

use crate::env::Env;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::Project;
use crate::store::{ConfigFile, ConfigStore};

/// Fan-out workers spend nearly all their time waiting on the network, so far more of them
/// than cores pay off: 32 covers a typical account's projects in one or two round trips while
/// keeping the number of simultaneous connections to one stack modest.
const DEFAULT_PARALLELISM: usize = 32;

/// One S3 part or Azure block, held in memory while it is sent: 5 MiB (S3's smallest part)
/// keeps an upload's peak memory low and allows 48 GiB in S3's 10,000 parts
/// ([`part_size_for`] grows it for larger files).
const PART_SIZE: usize = 5 * 1024 * 1024;

/// The part size for an upload of `len` bytes: [`PART_SIZE`], or larger when 9,000 parts of
/// it would not hold the file.
pub(crate) fn part_size_for(len: Option<u64>) -> usize {
    let needed = len.map_or(0, |l| l.div_ceil(9_000));
    PART_SIZE.max(usize::try_from(needed).unwrap_or(usize::MAX))
}

/// The global options that commands and domain logic act on, taken from the command line
/// (so that nothing below the command layer depends on clap's definitions).
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub config_dir: Option<PathBuf>,
    pub parallel: Option<u32>,
    pub allow_env_manage_token: bool,
    /// `--conversation-id` (else `KBAGENT_CONVERSATION_ID`, see `session`).
    pub conversation_id: Option<String>,
    /// This run's session firewall rules (`--deny-writes`, `KBAGENT_DENY`, ...).
    pub session: crate::permissions::Session,
    /// Whether an empty local `.kbagent/` hiding global projects gets a warning.
    pub warn_shadowing: bool,
}

pub(crate) struct Ctx<'a> {
    pub settings: Settings,
    pub env: &'a Env,
    pub printer: &'a Printer,
    store: OnceCell<ConfigStore>,
    http: OnceCell<Http>,
    /// The project the command selected, so that its errors name it (see `dispatch`).
    project: RefCell<Option<String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(settings: Settings, env: &'a Env, printer: &'a Printer) -> Self {
        Self {
            settings,
            env,
            printer,
            store: OnceCell::new(),
            http: OnceCell::new(),
            project: RefCell::new(None),
        }
    }

    pub fn store(&self) -> CliResult<&ConfigStore> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let store = ConfigStore::resolve(self.settings.config_dir.as_deref(), self.env)?;
        if let Some((global, count)) = self
            .settings
            .warn_shadowing
            .then(|| store.shadowed_global(self.env))
            .flatten()
        {
            self.printer
                .warn(crate::session::shadow_warning(store.dir(), &global, count));
        }
        Ok(self.store.get_or_init(|| store))
    }

    pub fn http(&self) -> CliResult<&Http> {
        if let Some(h) = self.http.get() {
            return Ok(h);
        }
        let mut cfg = HttpConfig {
            user_agent: format!("kbagent/{}", env!("CARGO_PKG_VERSION")),
            extra_ca_file: self.env.ca_file.clone(),
            ..HttpConfig::default()
        };
        if let Some(t) = self.env.timeout {
            cfg.read_timeout = t;
            cfg.connect_timeout = cfg.connect_timeout.min(t);
        }
        if let Some(base) = self.env.retry_base {
            cfg.backoff_base = base;
            // Tests shrink the backoff; keep Retry-After within the same scale.
            cfg.max_retry_after = cfg
                .max_retry_after
                .min(base * 10)
                .max(Duration::from_millis(1));
        }
        if let Some(id) = crate::session::resolve_conversation_id(
            self.settings.conversation_id.as_deref(),
            self.env,
        )? {
            cfg.default_headers
                .push((crate::session::CONVERSATION_HEADER.to_owned(), id));
        }
        let http = Http::new(cfg).map_err(|e| CliError::from_api(&e, None, None))?;
        Ok(self.http.get_or_init(|| http))
    }

    pub fn set_project(&self, alias: &str) {
        *self.project.borrow_mut() = Some(alias.to_owned());
    }

    pub fn project(&self) -> Option<String> {
        self.project.borrow().clone()
    }

    /// Number of parallel workers for fan-out: `--parallel` > env > config > the default.
    pub fn parallelism(&self, config: &ConfigFile) -> CliResult<usize> {
        if let Some(n) = self.settings.parallel {
            return Ok(n as usize);
        }
        if let Some(raw) = self.env.max_parallel.as_deref() {
            return match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(CliError::config(format!(
                    "KBAGENT_MAX_PARALLEL_WORKERS must be a number from 1 to 100, got '{raw}'"
                ))),
            };
        }
        Ok(config
            .max_parallel_workers
            .map_or(DEFAULT_PARALLELISM, |n| n.clamp(1, 100) as usize))
    }

    pub fn storage(&self, project: &Project) -> CliResult<StorageClient> {
        Ok(StorageClient::new(
            self.http()?,
            &project.entry.stack_url,
            &project.entry.token,
        ))
    }

    /// Settings of Storage file transfers: the object-store endpoint overrides from the
    /// environment (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`, `STORAGE_EMULATOR_HOST`).
    pub fn transfer_config(&self) -> CliResult<TransferConfig> {
        let endpoint = |raw: Option<&str>, name: &str| -> CliResult<Option<url::Url>> {
            let Some(raw) = raw else { return Ok(None) };
            // STORAGE_EMULATOR_HOST is often given as host:port alone.
            let text = if raw.contains("://") {
                raw.to_owned()
            } else {
                format!("http://{raw}")
            };
            url::Url::parse(&text)
                .map(Some)
                .map_err(|_| CliError::config(format!("{name} is not a valid URL: '{raw}'")))
        };
        Ok(TransferConfig {
            s3_endpoint: endpoint(
                self.env.s3_endpoint.as_deref(),
                "AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL",
            )?,
            gcs_endpoint: endpoint(self.env.gcs_endpoint.as_deref(), "STORAGE_EMULATOR_HOST")?,
            part_size: PART_SIZE,
        })
    }

    /// The one gate of every destructive action: `yes` (the command's `--yes`) goes ahead;
    /// otherwise a person must answer yes on a terminal. With no one to ask (stdin or stderr
    /// not a terminal, or `--json`) it refuses with a usage error instead of going ahead.
    /// `Ok(false)`: the person said no.
    pub fn confirm(&self, yes: bool, question: &str) -> CliResult<bool> {
        use std::io::{BufRead, IsTerminal, Write};
        let stdin_tty = std::io::stdin().is_terminal();
        match confirmation(
            yes,
            self.printer.json(),
            stdin_tty,
            self.printer.stderr_is_terminal(),
        ) {
            Confirmation::Proceed => return Ok(true),
            Confirmation::Refuse => {
                return Err(CliError::usage(format!(
                    "{question} Not done: this needs a confirmation (--yes) and there is no terminal to ask on"
                ))
                .detail("confirmation_required", true)
                .hint("Pass --yes to go ahead without a prompt."));
            }
            Confirmation::Ask => {}
        }
        let mut err = self.printer.stderr();
        let _ = write!(err, "{question} [y/N] ");
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::unexpected(format!("Cannot read the answer: {e}")))?;
        Ok(matches!(
            line.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Confirmation {
    Proceed,
    Ask,
    Refuse,
}

/// Never destructive without `--yes` unless a person confirms: a prompt needs stdin (to
/// answer) and stderr (to see the question) on a terminal, and no `--json` (a program is
/// reading). Stdout does not matter: it may be a terminal while stdin is a pipe.
pub(crate) fn confirmation(
    yes: bool,
    json: bool,
    stdin_tty: bool,
    stderr_tty: bool,
) -> Confirmation {
    if yes {
        Confirmation::Proceed
    } else if !json && stdin_tty && stderr_tty {
        Confirmation::Ask
    } else {
        Confirmation::Refuse
    }
}

#[cfg(test)]
mod tests {
    use super::{Confirmation, confirmation};

    #[test]
    fn only_yes_or_a_person_on_a_terminal_lets_a_destructive_action_through() {
        for json in [false, true] {
            for stdin in [false, true] {
                for stderr in [false, true] {
                    assert_eq!(
                        confirmation(true, json, stdin, stderr),
                        Confirmation::Proceed
                    );
                    let expected = if !json && stdin && stderr {
                        Confirmation::Ask
                    } else {
                        Confirmation::Refuse
                    };
                    assert_eq!(confirmation(false, json, stdin, stderr), expected);
                }
            }
        }
    }
}
