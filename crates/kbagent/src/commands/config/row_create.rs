//! `config row-create`: add a row to a configuration (secrets encrypted first, scope: the
//! configuration). The configuration gets a new version.

use keboola_api::ConfigurationWrite;
use serde_json::{Map, Value};

use super::body::masked;
use super::secrets::{encrypt_in_place, plain_paths};
use super::write::{ActionOutput, Compat, Target, object, read_json_arg};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Add a row to a configuration",
    "Examples:
  kbagent config row-create --component-id keboola.ex-db-snowflake --config-id 123 --name invoices \\
      --configuration '{\"parameters\": {\"table\": {\"tableName\": \"INVOICES\"}}}'",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    /// The row's body as inline JSON, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON")]
    pub configuration: Option<String>,
    /// Create the row disabled
    #[arg(long)]
    pub is_disabled: bool,
    /// Show what would be created and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = ActionOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let mut body = match &args.configuration {
        Some(c) => read_json_arg(c, "row configuration")?,
        None => Value::Object(Map::new()),
    };
    if !body.is_object() {
        return Err(CliError::usage("The row configuration must be a JSON object"));
    }
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    t.read(ctx)?;
    if args.dry_run {
        let mut shown = Map::new();
        shown.insert("name".into(), Value::String(args.name.clone()));
        shown.insert("configuration".into(), masked(&body));
        shown.insert("encrypted".into(), serde_json::json!(plain_paths(&body)));
        let summary = format!("Dry run: would add row \"{}\" to configuration {}", args.name, t.config_id);
        return Ok(ActionOutput::new(&t, shown, true, summary));
    }
    let scope = t.encryption_scope(ctx)?;
    let encrypted = encrypt_in_place(ctx, &t.project, &scope, &mut body)?;
    let write = ConfigurationWrite {
        name: Some(args.name.clone()),
        description: args.description.clone(),
        configuration: Some(body),
        is_disabled: args.is_disabled.then_some(true),
        ..ConfigurationWrite::default()
    };
    let answer = t
        .client
        .create_configuration_row(t.branch.as_deref(), &t.component_id, &t.config_id, &write)
        .map_err(t.api())?;
    let mut row = object(answer);
    let summary = format!(
        "Added row {} \"{}\" to configuration {}",
        row.get("id").and_then(Value::as_str).unwrap_or(""),
        args.name,
        t.config_id
    );
    row.insert("encrypted".into(), serde_json::json!(encrypted));
    Ok(ActionOutput::new(&t, row, false, summary).with(Compat::body_write()))
}
