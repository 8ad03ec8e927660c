//! What the storage writes and transfers share: id parsers, `--yes`/`--dry-run` and the
//! confirmation rule, `--wait`/`--timeout`, per-item failures, byte progress bars and the
//! files that appear only once complete.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keboola_api::{JobWait, StorageJob};
use schemars::JsonSchema;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::Project;

/// A bucket or table name: letters, digits, '_' and '-'.
pub(crate) fn name(value: &str) -> Result<String, CliError> {
    let ok = !value.is_empty()
        && value.len() <= 96
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid name '{}': use letters, digits, '_' or '-'",
            value.escape_debug()
        )))
    }
}

/// Keboola's numeric ids (files, jobs) as numbers in `data`, as Keboola sends them.
pub(crate) fn num(id: &str) -> Option<u64> {
    id.parse().ok()
}

/// Whether a write into development branch `branch` lands in legacy branch storage: a
/// project without the `storage-branches` feature, whose jobs never read the branch's
/// buckets. Always false on the main branch; an unreadable answer counts as false (the
/// flag only informs).
pub(crate) fn legacy_branch_storage(
    client: &keboola_api::StorageClient,
    branch: Option<&str>,
) -> bool {
    branch.is_some()
        && client.verify().is_ok_and(|info| {
            info.owner
                .is_some_and(|o| !o.features.iter().any(|f| f == "storage-branches"))
        })
}

/// `--yes` and `--dry-run` of a destructive command.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ConfirmArgs {
    /// Go ahead without asking (needed when stdin or stderr is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Say what would be removed and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Whether to go ahead with a destructive change (`action`: "delete table x in project
/// 'p'"): `--yes`, or a "y" on a terminal. Off a terminal without `--yes` it is a usage
/// error, never a silent deletion.
pub(crate) fn confirmed(ctx: &Ctx<'_>, args: &ConfirmArgs, action: &str) -> CliResult<bool> {
    ctx.confirm(
        args.yes,
        &format!("Really {action}? This cannot be undone."),
    )
    .map_err(|e| e.hint("Or pass --dry-run to see what would be removed."))
}

/// `--wait/--no-wait` and `--timeout SECONDS` of a command that starts a Storage job.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WaitArgs {
    /// Wait for the job to finish (default)
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Return once the job is started; follow it with `storage job-detail --job-id`
    #[arg(long, overrides_with = "wait")]
    pub no_wait: bool,
    /// Give up waiting after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

impl WaitArgs {
    pub fn waits(&self) -> bool {
        !self.no_wait
    }

    pub fn job_wait(&self) -> JobWait {
        JobWait {
            timeout: Duration::from_secs(self.timeout),
            ..JobWait::default()
        }
    }
}

/// Waits for a job that deleting or truncating may have started (`None`: done at once).
pub(crate) fn settle(
    project: &Project,
    client: &keboola_api::StorageClient,
    job: Option<StorageJob>,
) -> CliResult<()> {
    if let Some(job) = job {
        client
            .finish_job(job, &JobWait::default())
            .map_err(|e| project.api_error(&e))?;
    }
    Ok(())
}

/// One item a multi-item command could not act on.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ItemFailure {
    pub id: String,
    pub error: String,
    pub error_code: ErrorCode,
}

impl ItemFailure {
    pub fn new(id: &str, err: &CliError) -> Self {
        Self {
            id: id.to_owned(),
            error: err.message.clone(),
            error_code: err.code,
        }
    }
}

/// The result of `delete-table` and `delete-bucket`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Deletion {
    pub deleted: Vec<String>,
    pub failed: Vec<ItemFailure>,
    pub dry_run: bool,
    pub project_alias: String,
    /// With `--dry-run`: what would be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_delete: Option<Vec<String>>,
    /// `table` or `bucket`, for people.
    #[serde(skip)]
    #[schemars(skip)]
    pub noun: &'static str,
}

impl Deletion {
    pub fn new(noun: &'static str, project_alias: String, dry_run: bool, r: Removal) -> Self {
        Self {
            deleted: r.done,
            failed: r.failed,
            dry_run,
            project_alias,
            would_delete: dry_run.then_some(r.would),
            noun,
        }
    }
}

impl crate::commands::CommandOutput for Deletion {
    fn human(&self, _: &Printer) -> String {
        let done = self.would_delete.as_ref().unwrap_or(&self.deleted);
        outcome_lines(
            &format!("Deleted {}", self.noun),
            &format!("delete {}", self.noun),
            self.dry_run,
            done,
            &self.failed,
        )
    }

    fn partial_failure(&self) -> bool {
        !self.failed.is_empty()
    }
}

/// Human lines for a multi-item destructive command.
pub(crate) fn outcome_lines(
    verb: &str,
    would: &str,
    dry_run: bool,
    done: &[String],
    failed: &[ItemFailure],
) -> String {
    let mut out = String::new();
    for id in done {
        if dry_run {
            out.push_str(&format!("Would {would} {id}\n"));
        } else {
            out.push_str(&format!("{verb} {id}\n"));
        }
    }
    for f in failed {
        out.push_str(&format!("Failed {}: {}\n", f.id, f.error));
    }
    if out.is_empty() {
        out.push_str("Nothing to do.\n");
    }
    out
}

/// What a multi-item removal did (or, with `--dry-run`, would do).
#[derive(Debug, Default)]
pub(crate) struct Removal {
    pub done: Vec<String>,
    pub would: Vec<String>,
    pub failed: Vec<ItemFailure>,
}

/// Removes each item after one confirmation. `--dry-run` only checks that each exists
/// (`check`); a failing item is recorded and the others go on.
pub(crate) fn remove_each(
    ctx: &Ctx<'_>,
    project: &Project,
    args: &ConfirmArgs,
    what: &str,
    ids: &[String],
    check: impl Fn(&str) -> Result<(), keboola_api::ApiError>,
    remove: impl Fn(&str) -> CliResult<()>,
) -> CliResult<Removal> {
    let mut out = Removal::default();
    if args.dry_run {
        for id in ids {
            match check(id) {
                Ok(()) => out.would.push(id.clone()),
                Err(e) => out
                    .failed
                    .push(ItemFailure::new(id, &project.api_error(&e))),
            }
        }
        return Ok(out);
    }
    let action = format!("{what} {} in project '{}'", ids.join(", "), project.alias);
    if !confirmed(ctx, args, &action)? {
        return Err(CliError::usage("Aborted; nothing was changed"));
    }
    for id in ids {
        match remove(id) {
            Ok(()) => out.done.push(id.clone()),
            Err(e) => out.failed.push(ItemFailure::new(id, &e)),
        }
    }
    Ok(out)
}

/// A byte counter on stderr, shown only when a person watches (never under `--json`).
pub(crate) fn byte_bar(printer: &Printer, label: &str, total: Option<u64>) -> ProgressBar {
    if printer.json() || !printer.stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{msg} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} [{elapsed}]"
    } else {
        "{spinner} {msg} {bytes} {binary_bytes_per_sec} [{elapsed}]"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A writer that moves a progress bar.
pub(crate) struct Counted<W> {
    pub inner: W,
    pub bar: ProgressBar,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that moves a progress bar.
pub(crate) struct CountedRead<R> {
    pub inner: R,
    pub bar: ProgressBar,
}

impl<R: Read> Read for CountedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// A file written under a temporary name in its target directory and renamed into place
/// only when complete: a failed or interrupted download never leaves a file that looks
/// finished (the temporary one is removed on drop and on SIGINT/SIGTERM, or is an obvious
/// `.kbagent-*` leftover after a SIGKILL).
pub(crate) struct PendingFile {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
    /// Removes the temporary file on SIGINT/SIGTERM too (declared after `temp`, so it is
    /// dropped after it).
    _tracked: crate::signals::TrackedPart,
}

impl PendingFile {
    pub fn create(target: &Path) -> CliResult<Self> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.is_dir() {
            return Err(CliError::invalid_argument(format!(
                "{} is a directory; give a file name with --output",
                target.display()
            )));
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".kbagent-").suffix(".part");
        // A data file like any other (0666 less the umask), not the 0600 of a temporary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder
            .tempfile_in(&dir)
            .map_err(|e| local_error(&dir, &e))?;
        let tracked = crate::signals::track_part(temp.path());
        Ok(Self {
            temp,
            target: target.to_path_buf(),
            _tracked: tracked,
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Flushes to disk and renames into place; returns the absolute path.
    pub fn commit(self) -> CliResult<PathBuf> {
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| local_error(&self.target, &e))?;
        let target = self.target.clone();
        self.temp
            .persist(&target)
            .map_err(|e| local_error(&target, &e.error))?;
        Ok(std::path::absolute(&target).unwrap_or(target))
    }
}

/// Where a download goes: `-` is stdout (refused under `--json`, whose document owns it),
/// anything else a file that appears only once complete. `write` streams the bytes into
/// the writer it is given; returns its result and the absolute path (or `-`).
pub(crate) fn write_download<T>(
    ctx: &Ctx<'_>,
    output: Option<&Path>,
    default_name: impl FnOnce() -> PathBuf,
    bar: &ProgressBar,
    write: impl FnOnce(&mut dyn Write) -> CliResult<T>,
) -> CliResult<(T, String)> {
    if output == Some(Path::new("-")) {
        if ctx.printer.json() {
            return Err(CliError::usage(
                "--output - writes the data to stdout, where --json puts its document; give a file name",
            ));
        }
        // The data itself is this command's output: it goes to stdout as it arrives.
        let mut out = Counted {
            inner: io::BufWriter::with_capacity(256 * 1024, io::stdout().lock()),
            bar: bar.clone(),
        };
        let value = write(&mut out)?;
        out.flush()
            .map_err(|e| local_error(Path::new("stdout"), &e))?;
        return Ok((value, "-".to_owned()));
    }
    let target = output.map_or_else(default_name, Path::to_path_buf);
    let mut pending = PendingFile::create(&target)?;
    let value = {
        let mut out = Counted {
            inner: io::BufWriter::with_capacity(256 * 1024, pending.file()),
            bar: bar.clone(),
        };
        let value = write(&mut out)?;
        out.flush().map_err(|e| local_error(&target, &e))?;
        value
    };
    Ok((value, pending.commit()?.display().to_string()))
}

pub(crate) fn local_error(path: &Path, e: &io::Error) -> CliError {
    let code = if e.kind() == io::ErrorKind::PermissionDenied {
        ErrorCode::PermissionDenied
    } else {
        ErrorCode::UnexpectedError
    };
    CliError::new(code, format!("Cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(name("sales_2").is_ok());
        assert!(name("a/b").is_err());
        let mib = 1024 * 1024;
        assert_eq!(crate::ctx::part_size_for(None), 5 * mib);
        assert_eq!(
            crate::ctx::part_size_for(Some(40 * 1024 * mib as u64)),
            5 * mib
        );
        // 200 GiB still fits in S3's 10,000 parts.
        let big = 200 * 1024 * mib as u64;
        assert!(big.div_ceil(crate::ctx::part_size_for(Some(big)) as u64) <= 10_000);
    }
}
