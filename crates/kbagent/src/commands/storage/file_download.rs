//! `storage file-download`: a Storage file's bytes to a local file (a sliced file's slices
//! joined in order), streamed; the file appears under its name only once complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::bytes;
use super::writes::{Counted, PendingFile, byte_bar, local_error, num};
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
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout && ctx.printer.json() {
        return Err(CliError::usage(
            "--output - writes the file to stdout, where --json puts its document; give a file name",
        ));
    }
    let project = load_and_select(ctx, args.project.get())?;
    let cfg = ctx.transfer_config()?;
    let client = ctx.storage(&project)?;
    let file = client
        .get_file(&args.file_id)
        .map_err(|e| project.api_error(&e))?;
    let bar = byte_bar(ctx.printer, &format!("Downloading {}", file.name), file.size_bytes);
    let fail = |e: &keboola_api::TransferError| CliError::from_transfer(e, Some(&project.alias));
    let (written, output_path) = if to_stdout {
        // The file's bytes are this command's output.
        let mut out = Counted {
            inner: std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock()),
            bar: bar.clone(),
        };
        let n = client
            .download_file_to(&file, &mut out, false, &cfg)
            .map_err(|e| fail(&e))?;
        out.flush().map_err(|e| local_error(Path::new("stdout"), &e))?;
        (n, "-".to_owned())
    } else {
        let target = args.output.clone().unwrap_or_else(|| {
            // Only the last component of Keboola's name: never a path it chose.
            let base = Path::new(&file.name)
                .file_name()
                .map_or_else(|| format!("file-{}", file.id), |n| n.to_string_lossy().into_owned());
            PathBuf::from(base)
        });
        let mut pending = PendingFile::create(&target)?;
        let n = {
            let mut out = Counted {
                inner: std::io::BufWriter::with_capacity(256 * 1024, pending.file()),
                bar: bar.clone(),
            };
            let n = client
                .download_file_to(&file, &mut out, false, &cfg)
                .map_err(|e| fail(&e))?;
            out.flush().map_err(|e| local_error(&target, &e))?;
            n
        };
        (n, pending.commit()?.display().to_string())
    };
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
