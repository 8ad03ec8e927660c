//! `storage file-detail`: one Storage file as Keboola describes it, without its download
//! URL or credentials (those stay inside the client, see `keboola_api::FileCredentials`).

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{bytes, file_id, not_found};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, cell};
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Show one Storage file's metadata (never its download URL or credentials)",
    "Examples:\n  kbagent storage file-detail --project prod --file-id 123456\n  kbagent --json storage file-detail --project prod --file-id 123456",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Storage file id
    #[arg(long, value_name = "ID", value_parser = file_id)]
    pub file_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    /// Keboola's file object (`id`, `name`, `sizeBytes`, `tags`, `isSliced`, `provider`,
    /// ...) without `url`, `credentials` and upload parameters.
    #[serde(flatten)]
    pub file: Map<String, Value>,
    #[serde(skip)]
    #[schemars(skip)]
    facts: Vec<(&'static str, String)>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        self.facts
            .iter()
            .map(|(label, value)| format!("{:<13}{value}\n", format!("{label}:")))
            .collect()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let f = ctx
        .storage(&project)?
        .get_file(&args.file_id)
        .map_err(|e| {
            not_found(
                project.api_error(&e),
                &format!("File {}", args.file_id),
                &format!("kbagent storage files --project {}", project.alias),
            )
        })?;
    let facts = vec![
        ("File", f.id.clone()),
        ("Name", f.name.clone()),
        ("Size", cell(f.size_bytes.map(bytes))),
        ("Tags", f.tags.join(", ")),
        ("Sliced", crate::commands::shared::yes_no(f.is_sliced).to_owned()),
        ("Provider", format!("{} {}", f.provider, f.region.clone().unwrap_or_default()).trim().to_owned()),
        ("Created", cell(f.created.as_deref())),
        ("Expires", f.max_age_days.map_or_else(|| "never (permanent)".to_owned(), |d| format!("{d} days after creation"))),
    ];
    let file = match f.raw {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Output {
        project_alias: project.alias,
        file,
        facts,
    })
}
