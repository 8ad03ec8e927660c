//! `storage file-download`: a Storage file's bytes to a local file (a sliced file's slices
//! joined in order), streamed; the file appears under its name only once complete.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::bytes;
use super::writes::{byte_bar, num, write_download};
use super::file_id;
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Download a Storage file to local disk",
    "Examples:
  kbagent storage file-download --project prod --file-id 123456 --output report.pdf
  kbagent storage file-download --file-id 123456 --output - | gunzip | head",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The Storage file
    #[arg(long, value_name = "FILE_ID", value_parser = file_id)]
    pub file_id: String,
    /// Where to write it; `-` for stdout [default: the file's name]
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub file_id: Option<u64>,
    pub file_name: String,
    /// Absolute path of the written file; `-` for stdout.
    pub output_path: String,
    pub file_size_bytes: u64,
    pub is_sliced: bool,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if self.output_path == "-" {
            return String::new();
        }
        format!(
            "Downloaded file {} -> {} ({})\n",
            self.file_id.unwrap_or_default(),
            self.output_path,
            bytes(self.file_size_bytes)
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let cfg = ctx.transfer_config()?;
    let client = ctx.storage(&project)?;
    let file = client
        .get_file(&args.file_id)
        .map_err(|e| project.api_error(&e))?;
    let bar = byte_bar(ctx.printer, &format!("Downloading {}", file.name), file.size_bytes);
    let default_name = || {
        // Only the last component of Keboola's name: never a path it chose.
        Path::new(&file.name).file_name().map_or_else(
            || PathBuf::from(format!("file-{}", file.id)),
            PathBuf::from,
        )
    };
    let (written, output_path) =
        write_download(ctx, args.output.as_deref(), default_name, &bar, |out| {
            client
                .download_file_to(&file, out, false, &cfg)
                .map_err(|e| CliError::from_transfer(&e, Some(&project.alias)))
        })?;
    bar.finish_and_clear();
    Ok(Output {
        project_alias: project.alias,
        file_id: num(&file.id),
        file_name: file.name,
        output_path,
        file_size_bytes: written,
        is_sliced: file.is_sliced,
    })
}
