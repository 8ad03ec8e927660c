//! The config store: where `config.json` lives, and how it is read and changed safely.
//!
//! Mutations hold an exclusive lock on a sidecar `config.json.lock` across
//! load-modify-save, so concurrent kbagent processes never lose each other's changes.
//! Writes go to a temporary file in the same directory, are fsynced and renamed over the
//! old file, so a reader (or a crash) only ever sees the old or the new document.

mod model;
mod safety;

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keboola_api::Token;
pub use model::{ConfigFile, PermissionPolicy, PolicyMode, ProjectEntry, SUPPORTED_VERSION};
use serde::Serialize;
use serde_json::Value;

use crate::env::Env;
use crate::error::{CliError, CliResult};
use safety::{check_private, read_config_bytes, same_secret};

pub const CONFIG_FILE: &str = "config.json";
const LOCK_FILE: &str = "config.json.lock";
const BACKUP_FILE: &str = "config.json.bak";
const GITIGNORE: &str = ".gitignore";
const TEMP_PREFIX: &str = ".config-";
const TEMP_SUFFIX: &str = ".tmp";
const GITIGNORE_TEXT: &str =
    "# Written by kbagent: this directory holds API tokens; keep it out of git.\n*\n";
const APP_DIR: &str = "keboola-agent-cli";
pub const LOCAL_DIR: &str = ".kbagent";
/// How long a writer waits for another process's lock before giving up.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// How the config directory was chosen, reported by `doctor` and in "not found" errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigSource {
    CliFlag,
    EnvVar,
    Local,
    Global,
}

impl ConfigSource {
    pub fn describe(self) -> &'static str {
        match self {
            Self::CliFlag => "--config-dir",
            Self::EnvVar => "KBAGENT_CONFIG_DIR",
            Self::Local => "nearest .kbagent/ directory",
            Self::Global => "platform config directory",
        }
    }
}

/// What [`ConfigStore::swap_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSwap {
    /// The stored token was the expected one and is now the new one.
    Swapped,
    /// The stored token is no longer the expected one (changed since it was read); nothing
    /// was written.
    Changed,
    /// No project has that alias any more; nothing was written.
    Missing,
}

#[derive(Debug, Clone)]
pub struct ConfigStore {
    dir: PathBuf,
    source: ConfigSource,
    lock_wait: Duration,
    /// A headless session's one project (`KBAGENT_PROJECT_FROM_ENV`): the config is this
    /// project alone, the file is never read or written.
    headless: Option<Box<ProjectEntry>>,
}

impl ConfigStore {
    /// Resolution order: `--config-dir` > `KBAGENT_CONFIG_DIR` > the nearest
    /// `.kbagent/config.json` from the working directory up to `$HOME` (only when the working
    /// directory is inside `$HOME`) > the platform config directory (`keboola-agent-cli`).
    ///
    /// With `KBAGENT_PROJECT_FROM_ENV` the store is headless (see [`ConfigStore::headless`]).
    pub fn resolve(flag: Option<&Path>, env: &Env) -> CliResult<Self> {
        if let Some(entry) = crate::session::headless_project(env)? {
            // The directory is only named (in doctor and errors), never used.
            let mut store = Self::resolve_dir(flag, env)
                .unwrap_or_else(|_| Self::at(PathBuf::new(), ConfigSource::EnvVar));
            store.headless = Some(Box::new(entry));
            return Ok(store);
        }
        Self::resolve_dir(flag, env)
    }

    /// The directory a store would use, ignoring the `.kbagent/` of the working directory
    /// and its parents: `--config-dir` > `KBAGENT_CONFIG_DIR` > the platform directory.
    pub fn resolve_outside_local(flag: Option<&Path>, env: &Env) -> CliResult<Self> {
        let mut env = env.clone();
        env.cwd = None;
        Self::resolve_dir(flag, &env)
    }

    fn resolve_dir(flag: Option<&Path>, env: &Env) -> CliResult<Self> {
        let wait = env.wait_timeout.unwrap_or(DEFAULT_WAIT);
        if let Some(dir) = flag {
            return Ok(Self::at(dir.to_path_buf(), ConfigSource::CliFlag).with_lock_wait(wait));
        }
        if let Some(dir) = env.config_dir.as_deref() {
            return Ok(Self::at(dir.to_path_buf(), ConfigSource::EnvVar).with_lock_wait(wait));
        }
        if let Some(dir) = find_local(env.cwd.as_deref(), env.home.as_deref()) {
            return Ok(Self::at(dir, ConfigSource::Local).with_lock_wait(wait));
        }
        let base = env.platform_config_dir.clone().ok_or_else(|| {
            CliError::config("Cannot determine the platform config directory")
                .hint("Pass --config-dir DIR or set KBAGENT_CONFIG_DIR.")
        })?;
        Ok(Self::at(base.join(APP_DIR), ConfigSource::Global).with_lock_wait(wait))
    }

    pub fn at(dir: PathBuf, source: ConfigSource) -> Self {
        Self {
            dir,
            source,
            lock_wait: DEFAULT_WAIT,
            headless: None,
        }
    }

    /// Whether this is a headless session: one project from the environment, in memory.
    pub fn is_headless(&self) -> bool {
        self.headless.is_some()
    }

    /// The error of every change to the config in a headless session.
    pub(crate) fn headless_refusal() -> CliError {
        CliError::config(
            "This session's project comes from the environment (KBAGENT_PROJECT_FROM_ENV); kbagent does not write a config file in it",
        )
        .hint("Unset KBAGENT_PROJECT_FROM_ENV to register and change projects in the config file (`kbagent project add`, `kbagent init`).")
        .detail("headless", true)
    }

    /// Fails in a headless session; for commands that would change the config only after
    /// acting on Keboola (a refresh must not mint a token it cannot store).
    pub fn check_writable(&self) -> CliResult<()> {
        if self.is_headless() {
            Err(Self::headless_refusal())
        } else {
            Ok(())
        }
    }

    /// How long a change waits for the lock held by another process.
    #[must_use]
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn source(&self) -> ConfigSource {
        self.source
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    pub fn exists(&self) -> bool {
        self.file().exists()
    }

    /// Reads the config. A missing file is an empty config; anything unreadable, invalid or
    /// unsafe (see [`check_private`]) is a CONFIG_ERROR naming the path, and the file is left
    /// alone.
    pub fn load(&self) -> CliResult<ConfigFile> {
        self.read().map(|(_, config)| config)
    }

    /// The config with the bytes it was parsed from (`None`: no file yet).
    fn read(&self) -> CliResult<(Option<Vec<u8>>, ConfigFile)> {
        if let Some(entry) = &self.headless {
            let mut config = ConfigFile::default();
            config
                .projects
                .insert(crate::session::ENV_ALIAS.to_owned(), (**entry).clone());
            return Ok((None, config));
        }
        self.check_dir(&self.dir)?;
        let path = self.file();
        let Some(bytes) = read_config_bytes(&path)? else {
            return Ok((None, ConfigFile::default()));
        };
        let config = parse_config(&bytes).map_err(|reason| {
            CliError::config(format!(
                "Config file {} is invalid: {reason}",
                path.display()
            ))
            .hint("Fix or move the file away; kbagent never overwrites a file it cannot read.")
            .detail("config_path", path.display().to_string())
        })?;
        Ok((Some(bytes), config))
    }

    fn check_dir(&self, dir: &Path) -> CliResult<()> {
        match fs::metadata(dir) {
            Ok(meta) => check_private(&meta, dir, "config directory"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CliError::config(format!(
                "Cannot read config directory {}: {}",
                dir.display(),
                io_reason(&e)
            ))),
        }
    }

    /// Runs `change` on the current config under the exclusive lock and saves the result.
    /// If `change` fails, nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut ConfigFile) -> CliResult<T>) -> CliResult<T> {
        self.modify(|config| change(config).map(|out| (out, true)))
    }

    /// Writes `new` as this store's whole config (`kbagent init`). An existing config is
    /// replaced only with `force`, and never one that cannot be read. Returns whether one
    /// was replaced. Checked and written under the lock.
    pub fn initialize(&self, new: ConfigFile, force: bool) -> CliResult<bool> {
        let file = self.file();
        self.modify(|config| {
            let existed = fs::symlink_metadata(&file).is_ok();
            if existed && !force {
                return Err(CliError::config(format!(
                    "{} already exists; nothing was changed",
                    file.display()
                ))
                .hint("Pass --force to replace it (its projects are dropped unless --from-global brings them back).")
                .detail("config_path", file.display().to_string()));
            }
            // Only a person changes a policy (`permissions set`): a replaced file keeps its
            // own, and a different one cannot come in over it.
            if let (Some(old), Some(incoming)) = (&config.permissions, &new.permissions)
                && old != incoming
            {
                return Err(CliError::config(format!(
                    "{} has a permission policy of its own; replacing the file would change it",
                    file.display()
                ))
                .hint("A person changes a policy with `kbagent permissions set` on a terminal; or remove the file first.")
                .detail("config_path", file.display().to_string()));
            }
            let policy = config.permissions.take();
            *config = new;
            if policy.is_some() {
                config.permissions = policy;
            }
            Ok((existed, true))
        })
    }

    /// Replaces the token of project `alias` with `new`, but only if the stored token is still
    /// `expected`: a refresh that read the config, minted a token and then writes it back must
    /// not undo a change made in between. Checked and written under the lock.
    pub fn swap_token(&self, alias: &str, expected: &Token, new: Token) -> CliResult<TokenSwap> {
        self.modify(|config| {
            let Some(entry) = config.projects.get_mut(alias) else {
                return Ok((TokenSwap::Missing, false));
            };
            if !same_secret(&entry.token, expected) {
                return Ok((TokenSwap::Changed, false));
            }
            entry.token = new;
            Ok((TokenSwap::Swapped, true))
        })
    }

    /// Load-modify-save under the lock; `change` says whether to save.
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut ConfigFile) -> CliResult<(T, bool)>,
    ) -> CliResult<T> {
        self.check_writable()?;
        // The directory is checked before anything is created in it.
        self.check_dir(&self.dir)?;
        self.ensure_dir()?;
        let _lock = self.lock()?;
        let (previous, mut config) = self.read()?;
        let target = self.write_target();
        let target_dir = target.parent().unwrap_or(&self.dir).to_path_buf();
        if target_dir != self.dir {
            self.check_dir(&target_dir)?;
            remove_stale_temp_files(&target_dir);
        }
        remove_stale_temp_files(&self.dir);
        let (out, write) = change(&mut config)?;
        if write {
            self.save(&config, previous.as_deref(), &target)?;
        }
        Ok(out)
    }

    fn ensure_dir(&self) -> CliResult<()> {
        if self.dir.is_dir() {
            return Ok(());
        }
        create_private_dir(&self.dir).map_err(|e| {
            CliError::config(format!(
                "Cannot create config directory {}: {}",
                self.dir.display(),
                io_reason(&e)
            ))
        })
    }

    /// Takes the lock, waiting at most `lock_wait` for another process to release it (and
    /// saying so on stderr once the wait is noticeable), instead of blocking forever.
    fn lock(&self) -> CliResult<File> {
        let path = self.dir.join(LOCK_FILE);
        let file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                CliError::config(format!(
                    "Cannot open lock file {}: {}",
                    path.display(),
                    io_reason(&e)
                ))
            })?;
        let start = Instant::now();
        let notice_after = notice_delay(self.lock_wait);
        let mut told = false;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(CliError::config(format!(
                        "Cannot lock {}: {}",
                        path.display(),
                        io_reason(&e)
                    )));
                }
            }
            let waited = start.elapsed();
            if waited >= self.lock_wait {
                return Err(CliError::config(format!(
                    "Another kbagent did not release {} within {}; nothing was changed",
                    path.display(),
                    describe_wait(self.lock_wait)
                ))
                .hint("Another kbagent process is changing this config. Retry when it has finished; the lock is released when that process exits.")
                .detail("lock_path", path.display().to_string()));
            }
            if !told && waited >= notice_after {
                notice(&format!(
                    "waiting for another kbagent to release {}",
                    path.display()
                ));
                told = true;
            }
            std::thread::sleep(pause.min(self.lock_wait - waited));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Writes the backup, then the config, then the `.gitignore`. For a symlinked
    /// `config.json` only the config itself goes where the link points (its temporary file
    /// must be in the same directory for the rename to be atomic); the backup and the
    /// `.gitignore` stay in the config directory, beside the link.
    fn save(&self, config: &ConfigFile, previous: Option<&[u8]>, target: &Path) -> CliResult<()> {
        let target_dir = target.parent().unwrap_or(&self.dir);
        let mut text = serde_json::to_string_pretty(config)
            .map_err(|e| CliError::unexpected(format!("Cannot serialize config: {e}")))?;
        text.push('\n');
        let fail = |what: &str, dir: &Path, e: &io::Error| {
            CliError::config(format!(
                "Cannot {what} in {}: {}",
                dir.display(),
                io_reason(e)
            ))
        };
        let backup = self.dir.join(BACKUP_FILE);
        match previous.map(|p| backup_of(p, config)) {
            Some(Some(bytes)) => write_atomic(&self.dir, &backup, &bytes)
                .map_err(|e| fail("write the config backup", &self.dir, &e))?,
            // A backup that cannot be made safe is not kept (an old one may hold old tokens).
            Some(None) => match fs::remove_file(&backup) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(fail("remove the old config backup", &self.dir, &e));
                }
                _ => {}
            },
            None => {}
        }
        write_atomic(target_dir, target, text.as_bytes())
            .map_err(|e| fail("write the config", target_dir, &e))?;
        let ignore = self.dir.join(GITIGNORE);
        if !ignore.exists() {
            // Best effort: protects against committing tokens, never worth failing a write for.
            let _ = write_atomic(&self.dir, &ignore, GITIGNORE_TEXT.as_bytes());
        }
        Ok(())
    }

    /// A symlinked `config.json` is followed: kbagent updates the file the link points to and
    /// keeps the link, instead of replacing the link with a regular file.
    fn write_target(&self) -> PathBuf {
        let file = self.file();
        match fs::symlink_metadata(&file) {
            Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(&file).unwrap_or(file),
            _ => file,
        }
    }

    /// When this is a local `.kbagent/` config without projects while the global config
    /// (the one used without it) has some: that config's file and project count. An empty
    /// local workspace silently hides every registered project otherwise.
    pub fn shadowed_global(&self, env: &Env) -> Option<(PathBuf, usize)> {
        if self.source != ConfigSource::Local || self.is_headless() {
            return None;
        }
        if !self.load().ok()?.projects.is_empty() {
            return None;
        }
        let global = Self::resolve_outside_local(None, env).ok()?;
        if global.dir == self.dir {
            return None;
        }
        let count = global.load().ok()?.projects.len();
        (count > 0).then(|| (global.file(), count))
    }

    /// Permission bits of config.json, if it exists (Unix only).
    pub fn file_mode(&self) -> Option<u32> {
        file_mode(&self.file())
    }
}

/// A writer killed between creating its temporary file and renaming it leaves that file
/// behind, tokens included. Only lock holders create them, so under the lock any that exist
/// are stale. Best effort: a leftover is untidy, not a reason to fail a write.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The backup of `previous` when `next` replaces it. It never holds a token that `next` does
/// not: a removed project, or one whose token was replaced, is left out of it, so the token
/// does not outlive its removal on disk. Otherwise the backup is `previous` byte for byte.
/// `None` if `previous` cannot be filtered (it always parses: it was just loaded).
fn backup_of(previous: &[u8], next: &ConfigFile) -> Option<Vec<u8>> {
    let kept: HashSet<&str> = next.projects.values().map(|p| p.token.expose()).collect();
    let mut doc: Value = serde_json::from_slice(previous).ok()?;
    let Some(projects) = doc.get_mut("projects").and_then(Value::as_object_mut) else {
        return Some(previous.to_vec());
    };
    let before = projects.len();
    projects.retain(|_, entry| match entry.get("token") {
        Some(Value::String(token)) => kept.contains(token.as_str()),
        _ => true,
    });
    if projects.len() == before {
        return Some(previous.to_vec());
    }
    let mut text = serde_json::to_string_pretty(&doc).ok()?;
    text.push('\n');
    Some(text.into_bytes())
}

/// Waits longer than this are announced on stderr.
pub(crate) fn notice_delay(bound: Duration) -> Duration {
    (bound / 2).min(Duration::from_secs(1))
}

pub(crate) fn describe_wait(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A progress line on stderr (stdout carries only the result).
pub(crate) fn notice(text: &str) {
    let _ = writeln!(io::stderr().lock(), "kbagent: {text}");
}

fn parse_config(bytes: &[u8]) -> Result<ConfigFile, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_owned())?;
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    let Value::Object(mut map) = value else {
        return Err("the top level is not a JSON object".into());
    };
    match map.get("version") {
        None => {
            map.insert("version".into(), SUPPORTED_VERSION.into());
        }
        Some(Value::Number(n)) if n.as_u64() == Some(SUPPORTED_VERSION) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v > SUPPORTED_VERSION) => {
            return Err(format!(
                "its version {n} is newer than this kbagent supports (version {SUPPORTED_VERSION}); upgrade kbagent"
            ));
        }
        Some(other) => return Err(format!("unsupported version {other}")),
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())
}

/// The walk stays inside `$HOME`: above it (`/tmp`, `/`) directories may belong to or be
/// writable by other users, who could plant a config there. Outside `$HOME` there is no walk.
fn find_local(cwd: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    let cwd = cwd?;
    let home = home?;
    // `$HOME` may be spelled through a symlink while the working directory is resolved.
    let home = if cwd.starts_with(home) {
        home.to_path_buf()
    } else {
        let real = fs::canonicalize(home).ok()?;
        if !cwd.starts_with(&real) {
            return None;
        }
        real
    };
    let mut dir = cwd;
    loop {
        let candidate = dir.join(LOCAL_DIR);
        // Anything there (a FIFO, a device) counts as found, so loading refuses it rather
        // than the walk silently passing it by.
        if fs::metadata(candidate.join(CONFIG_FILE)).is_ok() {
            return Some(candidate);
        }
        if dir == home {
            return None;
        }
        dir = dir.parent()?;
    }
}

pub(crate) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

/// Writes `bytes` to `path` through a 0600 temporary file in `dir`: fsync, rename, fsync dir.
pub(crate) fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn private_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
fn private_options() -> OpenOptions {
    OpenOptions::new()
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // The mode passed above is filtered by the umask; make the final directory 0700 exactly.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
pub(crate) fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
pub(crate) fn file_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_a_round_trip() {
        let text = r#"{"_warning":"x","version":1,"default_project":"a","permissions":null,
            "dev_portal_identities":{},"projects":{"a":{"stack_url":"https://connection.keboola.com",
            "token":"901-1-abcdefgh","project_name":"P","project_id":901,"org_id":null,
            "active_branch_id":null,"future_key":[1,2]}}}"#;
        let cfg = parse_config(text.as_bytes()).unwrap();
        let back: Value = serde_json::to_value(&cfg).unwrap();
        assert_eq!(back["permissions"], Value::Null);
        assert_eq!(back["dev_portal_identities"], serde_json::json!({}));
        assert_eq!(
            back["projects"]["a"]["future_key"],
            serde_json::json!([1, 2])
        );
        assert_eq!(back["projects"]["a"]["token"], "901-1-abcdefgh");
    }

    #[test]
    fn newer_version_is_refused() {
        let err = parse_config(br#"{"version":2,"projects":{}}"#).unwrap_err();
        assert!(err.contains("newer"), "{err}");
        assert!(parse_config(br#"{"version":"1"}"#).is_err());
        assert!(parse_config(b"[]").is_err());
        assert!(parse_config(b"").is_err());
        assert!(parse_config(b"\xff\xfe").is_err());
    }

    #[test]
    fn local_config_is_found_walking_up_to_home() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let deep = home.join("a/b/c");
        fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_local(Some(&deep), Some(&home)), None);
        fs::create_dir_all(home.join("a/.kbagent")).unwrap();
        fs::write(home.join("a/.kbagent/config.json"), "{}").unwrap();
        assert_eq!(
            find_local(Some(&deep), Some(&home)),
            Some(home.join("a/.kbagent"))
        );
        // Above $HOME the walk stops.
        fs::create_dir_all(root.path().join(".kbagent")).unwrap();
        fs::write(root.path().join(".kbagent/config.json"), "{}").unwrap();
        fs::remove_file(home.join("a/.kbagent/config.json")).unwrap();
        assert_eq!(find_local(Some(&deep), Some(&home)), None);
    }

    #[test]
    fn no_walk_when_the_working_directory_is_outside_home() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let outside = root.path().join("outside/x");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::create_dir_all(root.path().join("outside/.kbagent")).unwrap();
        fs::write(root.path().join("outside/.kbagent/config.json"), "{}").unwrap();
        assert_eq!(find_local(Some(&outside), Some(&home)), None);
        // Without a home directory there is nothing to stop at: no walk either.
        assert_eq!(find_local(Some(&outside), None), None);
        // The working directory's own .kbagent/ above $HOME is not used either.
        let planted = root.path().join("outside");
        assert_eq!(find_local(Some(&planted), Some(&home)), None);
    }

    fn entry(token: &str) -> ProjectEntry {
        ProjectEntry {
            stack_url: keboola_api::StackUrl::parse("https://connection.keboola.com").unwrap(),
            token: Token::new(token).unwrap(),
            project_name: None,
            project_id: Some(1),
            org_id: None,
            extra: serde_json::Map::new(),
        }
    }

    fn private_store() -> (tempfile::TempDir, ConfigStore) {
        let root = tempfile::tempdir().unwrap();
        let store = ConfigStore::at(root.path().join("cfg"), ConfigSource::CliFlag);
        (root, store)
    }

    /// A store holding project "a" with token `1-1-aaaaaaaaaaaaaaaa`.
    fn seeded_store() -> (tempfile::TempDir, ConfigStore) {
        let (root, store) = private_store();
        store
            .update(|c| {
                c.projects.insert("a".into(), entry("1-1-aaaaaaaaaaaaaaaa"));
                Ok(())
            })
            .unwrap();
        (root, store)
    }

    fn stored_token(store: &ConfigStore, alias: &str) -> String {
        store.load().unwrap().projects[alias]
            .token
            .expose()
            .to_owned()
    }

    #[test]
    fn swap_token_writes_only_over_the_expected_token() {
        let (_root, store) = seeded_store();
        // Read by the refresh before minting.
        let read = store.load().unwrap().projects["a"].token.clone();
        let new = Token::new("1-2-bbbbbbbbbbbbbbbb").unwrap();
        assert_eq!(
            store.swap_token("a", &read, new.clone()).unwrap(),
            TokenSwap::Swapped
        );
        assert_eq!(stored_token(&store, "a"), "1-2-bbbbbbbbbbbbbbbb");
        // The same expectation again is stale now: a conflict, and nothing is written.
        let before = fs::read(store.file()).unwrap();
        let third = Token::new("1-3-cccccccccccccccc").unwrap();
        assert_eq!(
            store.swap_token("a", &read, third.clone()).unwrap(),
            TokenSwap::Changed
        );
        assert_eq!(fs::read(store.file()).unwrap(), before);
        assert_eq!(
            store.swap_token("gone", &new, third).unwrap(),
            TokenSwap::Missing
        );
        assert_eq!(fs::read(store.file()).unwrap(), before);
    }

    #[test]
    fn swap_token_loses_to_an_edit_made_between_read_and_write() {
        let (_root, store) = seeded_store();
        let read = store.load().unwrap().projects["a"].token.clone();
        // Another process (its own store handle, its own lock handle) edits the token while
        // this one is minting.
        let other = ConfigStore::at(store.dir().to_path_buf(), ConfigSource::CliFlag);
        other
            .update(|c| {
                c.projects.get_mut("a").unwrap().token =
                    Token::new("1-9-eeeeeeeeeeeeeeee").unwrap();
                Ok(())
            })
            .unwrap();
        let minted = Token::new("1-2-bbbbbbbbbbbbbbbb").unwrap();
        assert_eq!(
            store.swap_token("a", &read, minted).unwrap(),
            TokenSwap::Changed
        );
        assert_eq!(stored_token(&store, "a"), "1-9-eeeeeeeeeeeeeeee");
    }

    #[test]
    fn concurrent_swaps_from_the_same_token_let_exactly_one_win() {
        let (_root, store) = seeded_store();
        let read = store.load().unwrap().projects["a"].token.clone();
        let outcomes: Vec<(TokenSwap, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let mine = ConfigStore::at(store.dir().to_path_buf(), ConfigSource::CliFlag);
                    let read = read.clone();
                    s.spawn(move || {
                        let new = format!("1-{}-{}", i + 10, "d".repeat(16));
                        let got = mine.swap_token("a", &read, Token::new(new.clone()).unwrap());
                        (got.unwrap(), new)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&String> = outcomes
            .iter()
            .filter(|(o, _)| *o == TokenSwap::Swapped)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|(o, _)| matches!(o, TokenSwap::Swapped | TokenSwap::Changed))
        );
        assert_eq!(&stored_token(&store, "a"), winners[0]);
    }

    #[test]
    fn secrets_compare_by_value() {
        let a = Token::new("1-1-aaaaaaaaaaaaaaaa").unwrap();
        assert!(same_secret(
            &a,
            &Token::new("1-1-aaaaaaaaaaaaaaaa").unwrap()
        ));
        assert!(!same_secret(
            &a,
            &Token::new("1-1-aaaaaaaaaaaaaaab").unwrap()
        ));
        assert!(!same_secret(
            &a,
            &Token::new("1-1-aaaaaaaaaaaaaaa").unwrap()
        ));
    }

    #[test]
    fn backup_keeps_only_tokens_the_new_config_holds() {
        let mut next = ConfigFile::default();
        next.projects
            .insert("b".into(), entry("1-2-bbbbbbbbbbbbbbbb"));
        let previous = br#"{"version":1,"x":[1],"projects":{
            "a":{"stack_url":"https://connection.keboola.com","token":"1-1-aaaaaaaaaaaaaaaa"},
            "b":{"stack_url":"https://connection.keboola.com","token":"1-2-bbbbbbbbbbbbbbbb"}}}"#;
        let backup = backup_of(previous, &next).unwrap();
        let text = String::from_utf8(backup).unwrap();
        assert!(!text.contains("aaaaaaaaaaaaaaaa"), "{text}");
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["x"], serde_json::json!([1]));
        assert!(doc["projects"].get("b").is_some());
        // The backup is still a config kbagent can load.
        assert!(parse_config(text.as_bytes()).is_ok());
        // Nothing dropped: the previous file byte for byte.
        next.projects
            .insert("a".into(), entry("1-1-aaaaaaaaaaaaaaaa"));
        assert_eq!(backup_of(previous, &next).unwrap(), previous.to_vec());
    }

    #[cfg(unix)]
    #[test]
    fn group_writable_config_is_refused_and_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let (_root, store) = seeded_store();
        let before = fs::read(store.file()).unwrap();
        fs::set_permissions(store.file(), fs::Permissions::from_mode(0o620)).unwrap();
        let err = store.load().unwrap_err();
        assert!(
            err.message.contains("writable by its group"),
            "{}",
            err.message
        );
        let err = store.update(|_| Ok(())).unwrap_err();
        assert!(err.message.contains(&store.file().display().to_string()));
        assert_eq!(fs::read(store.file()).unwrap(), before);
        fs::set_permissions(store.file(), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(store.dir(), fs::Permissions::from_mode(0o703)).unwrap();
        let err = store.load().unwrap_err();
        assert!(err.message.contains("config directory"), "{}", err.message);
    }

    #[test]
    fn lock_held_elsewhere_times_out_with_a_config_error() {
        let (_root, store) = private_store();
        store.update(|_| Ok(())).unwrap();
        let held = File::options()
            .read(true)
            .write(true)
            .open(store.dir().join(LOCK_FILE))
            .unwrap();
        held.lock().unwrap();
        let store = store.with_lock_wait(Duration::from_millis(100));
        let err = store.update(|_| Ok(())).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ConfigError);
        assert!(err.message.contains("config.json.lock"), "{}", err.message);
        held.unlock().unwrap();
        store.update(|_| Ok(())).unwrap();
    }
}
