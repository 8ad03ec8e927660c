//! `storage upload-table`: a local CSV (or gzipped CSV) into a table: `files/prepare`, the
//! bytes streamed to the file's object store (gzipped on the fly with `--gzip`), then
//! `import-async` (or `tables-async` for a table that does not exist yet) and its job. The
//! file is uploaded once: a failure after the upload names the file id and the
//! `storage load-file` command that loads it without uploading again.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use flate2::Compression;
use flate2::read::GzEncoder;
use keboola_api::{CreateBucket, CreateTableFromFile, PrepareFile, StorageClient, StorageJob};
use schemars::JsonSchema;
use serde::Serialize;

use super::load_file::{CsvArgs, JobSummary, after_upload, load};
use super::writes::{CountedRead, WaitArgs, byte_bar, name, num};
use super::table_id;
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, Project, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Upload a CSV (or gzipped CSV) file into a table, creating the table if needed",
    "Examples:
  kbagent storage upload-table --project prod --table-id in.c-main.orders --file orders.csv
  kbagent storage upload-table --table-id in.c-main.orders --file new.csv --incremental --gzip
  kbagent storage upload-table --table-id in.c-new.people --file people.csv --primary-key id",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The table to load (created from the file's header when missing, unless --no-auto-create)
    #[arg(long, value_name = "TABLE_ID", value_parser = table_id)]
    pub table_id: String,
    /// The CSV file to upload (a name ending `.gz` is sent as gzip)
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Add the rows (upsert by the primary key) instead of replacing the table's contents
    #[arg(long)]
    pub incremental: bool,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Create the bucket and the table when they do not exist (default)
    #[arg(long, overrides_with = "no_auto_create")]
    pub auto_create: bool,
    /// Fail when the table does not exist
    #[arg(long, overrides_with = "auto_create")]
    pub no_auto_create: bool,
    /// Primary key of a table created by this upload (repeatable or comma-separated)
    #[arg(long, value_name = "COLUMN", value_delimiter = ',')]
    pub primary_key: Vec<String>,
    /// Compress the file on the fly while uploading
    #[arg(long)]
    pub gzip: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub table_id: String,
    pub incremental: bool,
    /// Size of the local file.
    pub file_size_bytes: u64,
    /// Bytes sent (smaller than the file with `--gzip`).
    pub uploaded_bytes: u64,
    pub file_id: Option<u64>,
    #[serde(flatten)]
    pub job: JobSummary,
    pub auto_created_bucket: bool,
    pub auto_created_table: bool,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let created = if self.auto_created_table {
            " (table created)"
        } else {
            ""
        };
        format!(
            "{}{created}; file {}\n",
            self.job.human(&self.table_id),
            self.file_id.unwrap_or_default()
        )
    }
}

/// What has to be created before (or by) the load.
struct Missing {
    bucket: bool,
    table: bool,
}

fn missing(project: &Project, client: &StorageClient, args: &Args) -> CliResult<Missing> {
    match client.get_table(&args.table_id) {
        Ok(_) => return Ok(Missing {
            bucket: false,
            table: false,
        }),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(project.api_error(&e)),
    }
    if args.no_auto_create {
        return Err(CliError::new(
            crate::error::ErrorCode::NotFound,
            format!("Table {} does not exist in project '{}'", args.table_id, project.alias),
        )
        .hint("Drop --no-auto-create to create it from the file's header, or create it with `kbagent storage create-table`."));
    }
    let bucket = bucket_of(&args.table_id);
    let bucket_missing = match client.get_bucket(&bucket) {
        Ok(_) => false,
        Err(e) if e.status() == Some(404) => true,
        Err(e) => return Err(project.api_error(&e)),
    };
    Ok(Missing {
        bucket: bucket_missing,
        table: true,
    })
}

fn bucket_of(table: &str) -> String {
    table.rsplit_once('.').map_or(table, |(b, _)| b).to_owned()
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let meta = std::fs::metadata(&args.file)
        .map_err(|e| CliError::invalid_argument(format!("Cannot read {}: {e}", args.file.display())))?;
    if !meta.is_file() {
        return Err(CliError::invalid_argument(format!(
            "{} is not a file",
            args.file.display()
        )));
    }
    let table_name = args.table_id.rsplit('.').next().unwrap_or_default().to_owned();
    name(&table_name)?;
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let mut cfg = ctx.transfer_config()?;
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let missing = missing(&project, &client, args)?;
    if missing.bucket {
        let bucket = bucket_of(&args.table_id);
        let (stage, rest) = bucket.split_once('.').unwrap_or(("in", bucket.as_str()));
        client
            .create_bucket(&CreateBucket {
                name: rest.strip_prefix("c-").unwrap_or(rest).to_owned(),
                stage: stage.to_owned(),
                ..CreateBucket::default()
            })
            .map_err(|e| project.api_error(&e))?;
    }

    let file_name = args
        .file
        .file_name()
        .map_or_else(|| "upload.csv".to_owned(), |n| n.to_string_lossy().into_owned());
    let already_gzip = file_name.ends_with(".gz");
    let compress = args.gzip && !already_gzip;
    let storage_name = if compress {
        format!("{file_name}.gz")
    } else {
        file_name
    };
    let local = File::open(&args.file)
        .map_err(|e| CliError::invalid_argument(format!("Cannot read {}: {e}", args.file.display())))?;
    let bar = byte_bar(ctx.printer, &format!("Uploading {}", args.file.display()), Some(meta.len()));
    let counted = CountedRead {
        inner: BufReader::with_capacity(256 * 1024, local),
        bar: bar.clone(),
    };
    let mut data: Box<dyn Read + Send> = if compress {
        Box::new(GzEncoder::new(counted, Compression::fast()))
    } else {
        Box::new(counted)
    };
    let prepare = PrepareFile {
        name: storage_name,
        // A compressed size is not known before it is sent.
        size_bytes: (!compress).then_some(meta.len()),
        tags: vec![if missing.table { "file-import" } else { "table-import" }.to_owned()],
        ..PrepareFile::default()
    };
    // Compressed data is not larger than the file (gzip adds a few bytes at worst).
    cfg.part_size = crate::ctx::part_size_for(Some(meta.len() + meta.len() / 100 + 1024));
    let file = client
        .prepare_file(&prepare)
        .map_err(|e| project.api_error(&e))?;
    let uploaded = client
        .upload_to_file(&file, &mut *data, prepare.size_bytes, &cfg)
        .map_err(|e| {
            CliError::from_transfer(&e, Some(&project.alias)).detail("file_id", num(&file.id))
        })?;
    bar.finish_and_clear();

    let job = if missing.table {
        create_from_file(&project, &client, args, &file.id, &table_name)?
    } else {
        load(
            &project,
            &client,
            &file.id,
            &args.table_id,
            args.incremental,
            &args.csv,
            &args.wait,
        )?
    };
    Ok(Output {
        project_alias: project.alias,
        table_id: args.table_id.clone(),
        incremental: args.incremental,
        file_size_bytes: meta.len(),
        uploaded_bytes: uploaded,
        file_id: num(&file.id),
        job: JobSummary::of(&job),
        auto_created_bucket: missing.bucket,
        auto_created_table: missing.table,
    })
}

/// `tables-async`: the table created from the uploaded file's header and rows.
fn create_from_file(
    project: &Project,
    client: &StorageClient,
    args: &Args,
    file: &str,
    table_name: &str,
) -> CliResult<StorageJob> {
    let job = client
        .create_table_async(
            &bucket_of(&args.table_id),
            &CreateTableFromFile {
                name: table_name.to_owned(),
                data_file_id: file.to_owned(),
                primary_key: args.primary_key.clone(),
                csv: args.csv.options(),
            },
        )
        .map_err(|e| after_upload(project, &e, file, &args.table_id))?;
    if !args.wait.waits() {
        return Ok(job);
    }
    client
        .finish_job(job, &args.wait.job_wait())
        .map_err(|e| after_upload(project, &e, file, &args.table_id))
}
