//! `kbagent storage ...`: buckets, tables, files and storage jobs of a project. One line per
//! verb below; helpers the verbs share (per-project errors of a fan-out, human units) follow.

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{Warning, WarningCode};
use crate::select::{Project, Timed};

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent storage buckets
  kbagent storage tables --project prod --bucket-id in.c-main
  kbagent storage table-detail --project prod --table-id in.c-main.orders
  kbagent storage preview --project prod --table-id in.c-main.orders --limit 20";

#[derive(Debug, Args)]
pub(crate) struct StorageArgs {
    #[command(subcommand)]
    pub command: StorageCommand,
}

mod writes;

verbs!(StorageCommand {
    "buckets" => Buckets(buckets),
    "download-table" => DownloadTable(download_table),
    "upload-table" => UploadTable(upload_table),
    "load-file" => LoadFile(load_file),
    "create-bucket" => CreateBucket(create_bucket),
    "create-table" => CreateTable(create_table),
    "delete-table" => DeleteTable(delete_table),
    "delete-bucket" => DeleteBucket(delete_bucket),
    "truncate-table" => TruncateTable(truncate_table),
    "file-upload" => FileUpload(file_upload),
    "file-download" => FileDownload(file_download),
    "file-delete" => FileDelete(file_delete),
});

/// A project that could not be read during a fan-out.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProjectError {
    pub project_alias: String,
    pub error_code: ErrorCode,
    pub message: String,
    pub retryable: bool,
}

impl ProjectError {
    /// Records a failed project (and warns, so people see it too).
    pub fn record(ctx: &Ctx<'_>, alias: &str, err: CliError) -> Self {
        ctx.printer.warn(
            Warning::new(
                WarningCode::ProjectFailed,
                format!("Project '{alias}': {}", err.message),
            )
            .with("project_alias", alias.to_owned()),
        );
        Self {
            project_alias: alias.to_owned(),
            error_code: err.code,
            message: err.message,
            retryable: err.retryable,
        }
    }
}

/// Walks a fan-out's results: `each` gets every project that answered, the failures come
/// back as `errors[]`. A single project named with `--project` that fails is the command's
/// error instead: there is nothing else to show.
pub(crate) fn gather<R>(
    ctx: &Ctx<'_>,
    named: &[String],
    projects: &[Project],
    results: Vec<Timed<R>>,
    mut each: impl FnMut(&Project, R),
) -> CliResult<Vec<ProjectError>> {
    let mut errors = Vec::new();
    for (p, timed) in projects.iter().zip(results) {
        match timed.result {
            Ok(r) => each(p, r),
            Err(e) if named.len() == 1 => return Err(e),
            Err(e) => errors.push(ProjectError::record(ctx, &p.alias, e)),
        }
    }
    Ok(errors)
}

/// `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512 B`, `1.2 KiB`, `3.4 MiB`, ...
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_258_291), "1.2 MiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
