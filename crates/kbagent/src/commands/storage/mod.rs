//! `kbagent storage ...`: buckets, tables, files and storage jobs of a project. One line per
//! verb below; helpers the verbs share (per-project errors of a fan-out, human units) follow.

use clap::Args;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
pub(crate) use crate::select::ProjectError;
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

pub(crate) mod writes;

verbs!(StorageCommand {
    "buckets" => Buckets(buckets),
    "bucket-detail" => BucketDetail(bucket_detail),
    "tables" => Tables(tables),
    "table-detail" => TableDetail(table_detail),
    "preview" => Preview(preview),
    "files" => Files(files),
    "file-detail" => FileDetail(file_detail),
    "job-detail" => JobDetail(job_detail),
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
    "swap-tables" => SwapTables(swap_tables),
    "snapshot-create" => SnapshotCreate(snapshot_create),
    "snapshots" => Snapshots(snapshots),
    "snapshot-detail" => SnapshotDetail(snapshot_detail),
    "snapshot-delete" => SnapshotDelete(snapshot_delete),
    "table-from-snapshot" => TableFromSnapshot(table_from_snapshot),
});

/// A Storage object id (`in.c-main`, `in.c-main.orders`): letters, digits, '-', '_', '.'.
fn storage_id(what: &str, example: &str, value: &str) -> Result<String, CliError> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid {what} '{}': use letters, digits, '-', '_' or '.' (such as {example})",
            value.escape_debug()
        )))
    }
}

/// `in.c-main`: a stage, then the bucket's name.
pub(crate) fn bucket_id(value: &str) -> Result<String, CliError> {
    let id = storage_id("bucket id", "in.c-main", value)?;
    if id.split('.').count() != 2 {
        return Err(CliError::invalid_argument(format!(
            "Invalid bucket id '{id}': a bucket id is STAGE.NAME, such as in.c-main"
        )));
    }
    Ok(id)
}

/// `in.c-main.orders`: the bucket id, then the table's name.
pub(crate) fn table_id(value: &str) -> Result<String, CliError> {
    let id = storage_id("table id", "in.c-main.orders", value)?;
    if id.split('.').count() != 3 {
        return Err(CliError::invalid_argument(format!(
            "Invalid table id '{id}': a table id is STAGE.BUCKET.TABLE, such as in.c-main.orders"
        )));
    }
    Ok(id)
}

/// A Storage file or job id: digits only.
fn numeric_id(what: &str, value: &str) -> Result<String, CliError> {
    if !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid {what} '{}': {what}s are numbers",
            value.escape_debug()
        )))
    }
}

pub(crate) fn file_id(value: &str) -> Result<String, CliError> {
    numeric_id("file id", value)
}

pub(crate) fn job_id(value: &str) -> Result<String, CliError> {
    numeric_id("job id", value)
}

/// A 404 on a table says which one, and how to list the tables of its bucket.
pub(crate) fn table_not_found(err: CliError, alias: &str, table: &str) -> CliError {
    let bucket = table.rsplit_once('.').map(|(b, _)| b).unwrap_or_default();
    not_found(
        err,
        &format!("Table {table}"),
        &format!("kbagent storage tables --project {alias} --bucket-id {bucket}"),
    )
}

/// A 404 on a named Storage object says which one, and how to list what exists.
pub(crate) fn not_found(err: CliError, what: &str, list: &str) -> CliError {
    if err.code != ErrorCode::NotFound {
        return err;
    }
    let project = err.project.clone().unwrap_or_default();
    err.reworded(|_| format!("{what} was not found in project '{project}'"))
        .hint(format!("List what exists with `{list}`."))
}

/// Branch ids belong to one project, so `--branch` reads one project only.
pub(crate) fn one_project_for_branch(projects: &[Project], branch: Option<&str>) -> CliResult<()> {
    match branch {
        Some(b) if projects.len() > 1 => Err(CliError::usage(format!(
            "--branch {b} names a branch of one project, but {} projects are selected",
            projects.len()
        ))
        .hint("Pass one --project with --branch.")),
        _ => Ok(()),
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

    #[test]
    fn id_parsers() {
        assert_eq!(bucket_id("in.c-main").unwrap(), "in.c-main");
        assert!(bucket_id("in.c-main.orders").is_err());
        assert!(bucket_id("in/c-main").is_err());
        assert_eq!(table_id("in.c-main.orders").unwrap(), "in.c-main.orders");
        assert!(table_id("in.c-main").is_err());
        assert!(table_id("in.c-main.or ders").is_err());
        assert_eq!(file_id("555").unwrap(), "555");
        assert!(file_id("5a").is_err());
        assert!(job_id("").is_err());
    }
}
