//! Which config files kbagent trusts, and reading one without hanging or running out of
//! memory.
//!
//! A config names the servers kbagent sends tokens to, so one another user can write is a
//! way to steal them: a file or directory owned by another user (root excepted) or writable
//! by group or others is refused, like OpenSSH does with `authorized_keys`.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use keboola_api::Token;

use super::io_reason;
use crate::error::{CliError, CliResult};

/// Far above any real config (a few KiB per project); a bound, so `/dev/zero` or a runaway
/// file cannot exhaust memory.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// The config file's bytes, `None` if there is no file. Only a regular file of at most
/// [`MAX_CONFIG_BYTES`] that passes [`check_private`] is read.
pub fn read_config_bytes(path: &Path) -> CliResult<Option<Vec<u8>>> {
    let cannot = |e: &io::Error| {
        CliError::config(format!(
            "Cannot read config file {}: {}",
            path.display(),
            io_reason(e)
        ))
    };
    let file = match open_without_blocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(&e)),
    };
    // Checked on the open file, so what is checked is what is read.
    let meta = file.metadata().map_err(|e| cannot(&e))?;
    if !meta.is_file() {
        return Err(CliError::config(format!(
            "Config file {} is not a regular file (it is {})",
            path.display(),
            kind_of(&meta)
        ))
        .hint("kbagent reads its config only from a regular file; move this one away.")
        .detail("config_path", path.display().to_string()));
    }
    check_private(&meta, path, "config file")?;
    let too_large = || {
        CliError::config(format!(
            "Config file {} is larger than {} MiB",
            path.display(),
            MAX_CONFIG_BYTES / (1024 * 1024)
        ))
        .hint("This is not a kbagent config; move it away.")
        .detail("config_path", path.display().to_string())
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    Ok(Some(bytes))
}

/// Opening a FIFO for reading blocks until a writer appears; non-blocking, it returns at
/// once and the type check that follows refuses it. Regular files ignore the flag.
#[cfg(unix)]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = rustix::fs::OFlags::NONBLOCK.bits();
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.cast_signed())
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn kind_of(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn kind_of(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Refuses a config file or directory that another user could have written: owned by
/// someone other than this user or root, or writable by group or others.
#[cfg(unix)]
pub fn check_private(meta: &Metadata, path: &Path, what: &str) -> CliResult<()> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let owner = meta.uid();
    if owner != me && owner != 0 {
        return Err(CliError::config(format!(
            "Refusing the {what} {}: it is owned by another user (uid {owner})",
            path.display()
        ))
        .hint("A config another user controls could send your tokens to their server. Use your own config (--config-dir DIR), or take ownership if it is yours.")
        .detail("config_path", path.display().to_string()));
    }
    let writable = match (meta.mode() & 0o020 != 0, meta.mode() & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        (false, true) => "others",
        (false, false) => return Ok(()),
    };
    Err(CliError::config(format!(
        "Refusing the {what} {}: it is writable by {writable} (mode {:04o})",
        path.display(),
        meta.mode() & 0o7777
    ))
    .hint(format!(
        "Other users could change it and redirect your tokens. If it is yours, run `chmod go-w {}`.",
        path.display()
    ))
    .detail("config_path", path.display().to_string()))
}

#[cfg(not(unix))]
pub fn check_private(_meta: &Metadata, _path: &Path, _what: &str) -> CliResult<()> {
    Ok(())
}

/// Whether two tokens are the same, in time that depends only on their lengths.
pub fn same_secret(a: &Token, b: &Token) -> bool {
    let (a, b) = (a.expose().as_bytes(), b.expose().as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
