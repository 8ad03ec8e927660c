//! `storage file-upload`: a local file to Storage Files, streamed to the file's object store.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use keboola_api::PrepareFile;
use schemars::JsonSchema;
use serde::Serialize;

use super::bytes;
use super::writes::{CountedRead, byte_bar, num};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Upload a local file to Storage Files",
    "Examples:
  kbagent storage file-upload --project prod --file report.pdf --tag reports --tag 2025
  kbagent storage file-upload --file data.csv.gz --name orders.csv.gz --permanent",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The file to upload
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Name in Storage [default: the file's name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A tag (repeatable)
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Keep the file until deleted (otherwise Keboola removes it after 15 days)
    #[arg(long)]
    pub permanent: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

/// Keboola's keys for the file, plus ours.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Output {
    pub id: Option<u64>,
    pub name: String,
    pub size_bytes: u64,
    pub tags: Vec<String>,
    pub is_permanent: bool,
    pub created: Option<String>,
    #[serde(rename = "project_alias")]
    pub project_alias: String,
    #[serde(rename = "file_size_bytes")]
    pub file_size_bytes: u64,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!(
            "Uploaded {} as file {} ({})\n",
            self.name,
            self.id.unwrap_or_default(),
            bytes(self.file_size_bytes)
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let read_err =
        |e: std::io::Error| CliError::invalid_argument(format!("Cannot read {}: {e}", args.file.display()));
    let local = File::open(&args.file).map_err(read_err)?;
    let meta = local.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(CliError::invalid_argument(format!("{} is not a file", args.file.display())));
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map_or_else(|| "upload".to_owned(), |n| n.to_string_lossy().into_owned())
    });
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let mut cfg = ctx.transfer_config()?;
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let bar = byte_bar(ctx.printer, &format!("Uploading {name}"), Some(meta.len()));
    let mut data = CountedRead {
        inner: BufReader::with_capacity(256 * 1024, local),
        bar: bar.clone(),
    };
    let prepare = PrepareFile {
        name: name.clone(),
        size_bytes: Some(meta.len()),
        tags: args.tag.clone(),
        is_permanent: args.permanent,
        ..PrepareFile::default()
    };
    cfg.part_size = crate::ctx::part_size_for(prepare.size_bytes);
    let file = client
        .upload_file(&prepare, &mut data, &cfg)
        .map_err(|e| CliError::from_transfer(&e, Some(&project.alias)))?;
    bar.finish_and_clear();
    Ok(Output {
        id: num(&file.id),
        name: if file.name.is_empty() { name } else { file.name },
        size_bytes: meta.len(),
        tags: if file.tags.is_empty() { args.tag.clone() } else { file.tags },
        is_permanent: args.permanent,
        created: file.created,
        project_alias: project.alias,
        file_size_bytes: meta.len(),
    })
}
