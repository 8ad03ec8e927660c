//! The config store: where `config.json` lives, and how it is read and changed safely.
//!
//! Mutations hold an exclusive lock on a sidecar `config.json.lock` across
//! load-modify-save, so concurrent kbagent processes never lose each other's changes.
//! Writes go to a temporary file in the same directory, are fsynced and renamed over the
//! old file, so a reader (or a crash) only ever sees the old or the new document.

mod model;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use model::{ConfigFile, ProjectEntry, SUPPORTED_VERSION};
use serde::Serialize;
use serde_json::Value;

use crate::env::Env;
use crate::error::{CliError, CliResult};

pub const CONFIG_FILE: &str = "config.json";
const LOCK_FILE: &str = "config.json.lock";
const BACKUP_FILE: &str = "config.json.bak";
const GITIGNORE: &str = ".gitignore";
const TEMP_PREFIX: &str = ".config-";
const TEMP_SUFFIX: &str = ".tmp";
const GITIGNORE_TEXT: &str =
    "# Written by kbagent: this directory holds API tokens; keep it out of git.\n*\n";
const APP_DIR: &str = "keboola-agent-cli";
const LOCAL_DIR: &str = ".kbagent";

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

#[derive(Debug, Clone)]
pub struct ConfigStore {
    dir: PathBuf,
    source: ConfigSource,
}

impl ConfigStore {
    /// Resolution order: `--config-dir` > `KBAGENT_CONFIG_DIR` > the nearest
    /// `.kbagent/config.json` from the working directory up to `$HOME` > the platform config
    /// directory (`keboola-agent-cli`), the same places the Python kbagent looks.
    pub fn resolve(flag: Option<&Path>, env: &Env) -> CliResult<Self> {
        if let Some(dir) = flag {
            return Ok(Self::at(dir.to_path_buf(), ConfigSource::CliFlag));
        }
        if let Some(dir) = env.config_dir.as_deref() {
            return Ok(Self::at(dir.to_path_buf(), ConfigSource::EnvVar));
        }
        if let Some(dir) = find_local(env.cwd.as_deref(), env.home.as_deref()) {
            return Ok(Self::at(dir, ConfigSource::Local));
        }
        let base = env.platform_config_dir.clone().ok_or_else(|| {
            CliError::config("Cannot determine the platform config directory")
                .hint("Pass --config-dir DIR or set KBAGENT_CONFIG_DIR.")
        })?;
        Ok(Self::at(base.join(APP_DIR), ConfigSource::Global))
    }

    pub fn at(dir: PathBuf, source: ConfigSource) -> Self {
        Self { dir, source }
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

    /// Reads the config. A missing file is an empty config; anything unreadable or invalid is
    /// a CONFIG_ERROR naming the path (and the file is left alone).
    pub fn load(&self) -> CliResult<ConfigFile> {
        let path = self.file();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => {
                return Err(CliError::config(format!(
                    "Cannot read config file {}: {}",
                    path.display(),
                    io_reason(&e)
                )));
            }
        };
        parse_config(&bytes).map_err(|reason| {
            CliError::config(format!(
                "Config file {} is invalid: {reason}",
                path.display()
            ))
            .hint("Fix or move the file away; kbagent never overwrites a file it cannot read.")
            .detail("config_path", path.display().to_string())
        })
    }

    /// Runs `change` on the current config under the exclusive lock and saves the result.
    /// If `change` fails, nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut ConfigFile) -> CliResult<T>) -> CliResult<T> {
        self.ensure_dir()?;
        let _lock = self.lock()?;
        self.remove_stale_temp_files();
        let mut config = self.load()?;
        let out = change(&mut config)?;
        self.save(&config)?;
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
        file.lock().map_err(|e| {
            CliError::config(format!("Cannot lock {}: {}", path.display(), io_reason(&e)))
        })?;
        Ok(file)
    }

    /// A writer killed between creating its temporary file and renaming it leaves that file
    /// behind, tokens included. Only lock holders create them, so under the lock any that
    /// exist are stale. Best effort: a leftover is untidy, not a reason to fail a write.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
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

    fn save(&self, config: &ConfigFile) -> CliResult<()> {
        let target = self.write_target();
        let dir = target.parent().unwrap_or(&self.dir).to_path_buf();
        let mut text = serde_json::to_string_pretty(config)
            .map_err(|e| CliError::unexpected(format!("Cannot serialize config: {e}")))?;
        text.push('\n');
        let fail = |what: &str, e: &io::Error| {
            CliError::config(format!(
                "Cannot {what} in {}: {}",
                dir.display(),
                io_reason(e)
            ))
        };
        if let Ok(previous) = fs::read(&target) {
            write_atomic(&dir, &dir.join(BACKUP_FILE), &previous)
                .map_err(|e| fail("write the config backup", &e))?;
        }
        write_atomic(&dir, &target, text.as_bytes()).map_err(|e| fail("write the config", &e))?;
        let ignore = dir.join(GITIGNORE);
        if !ignore.exists() {
            // Best effort: protects against committing tokens, never worth failing a write for.
            let _ = write_atomic(&dir, &ignore, GITIGNORE_TEXT.as_bytes());
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

    /// Permission bits of config.json, if it exists (Unix only).
    pub fn file_mode(&self) -> Option<u32> {
        file_mode(&self.file())
    }
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

fn find_local(cwd: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    let mut dir = cwd?;
    loop {
        let candidate = dir.join(LOCAL_DIR);
        if candidate.join(CONFIG_FILE).is_file() {
            return Some(candidate);
        }
        if Some(dir) == home {
            return None;
        }
        dir = dir.parent()?;
    }
}

fn io_reason(e: &io::Error) -> String {
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
}
