//! `config new`: create a configuration from flags or a file; plain-text `#` values are
//! encrypted (scope: the project) before anything is sent to Storage.

use keboola_api::{ConfigurationWrite, EncryptionScope};
use serde_json::{Map, Value};

use super::body::{diff, masked};
use super::secrets::{encrypt_in_place, plain_paths, project_id};
use super::write::{Compat, Place, WriteOutput, object, read_json, read_json_arg};
use crate::commands::shared::{BranchArg, ProjectArg, component_id};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a configuration (secrets under '#' keys are encrypted first)",
    "Examples:
  kbagent config new --component-id keboola.ex-db-snowflake --name 'CRM copy' \\
      --configuration '{\"parameters\": {\"db\": {\"host\": \"h\", \"#password\": \"s3cret\"}}}' --dry-run
  kbagent config new --component-id keboola.ex-db-snowflake --file config.json

--file holds either the body or a whole configuration ({\"name\", \"description\",
\"configuration\"}); flags override its name and description.",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: String,
    /// Name (required unless the file has one)
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// The body as inline JSON, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON", conflicts_with = "file")]
    pub configuration: Option<String>,
    /// The body, or a whole configuration, from FILE, or stdin for '-'
    #[arg(long, value_name = "FILE", visible_alias = "configuration-file")]
    pub file: Option<String>,
    /// What the change is for (shown in the version history)
    #[arg(long, value_name = "TEXT")]
    pub change_description: Option<String>,
    /// Show what would be created and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
    /// Accepted as the Python kbagent's `config new` takes them; kbagent always creates
    /// the configuration (--dry-run shows it instead) and writes no scaffold files
    #[arg(long = "push", hide = true)]
    pub _push: bool,
    #[arg(long = "no-files", hide = true)]
    pub _no_files: bool,
}

pub(crate) type Output = WriteOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let (mut name, mut description, mut body) = (None, None, Value::Object(Map::new()));
    if let Some(f) = &args.file {
        let doc = read_json(f, "configuration")?;
        let whole = doc.get("configuration").is_some_and(Value::is_object) && doc.get("name").is_some();
        if whole {
            name = doc.get("name").and_then(Value::as_str).map(str::to_owned);
            description = doc.get("description").and_then(Value::as_str).map(str::to_owned);
            body = doc["configuration"].clone();
        } else {
            body = doc;
        }
    }
    if let Some(c) = &args.configuration {
        body = read_json_arg(c, "configuration")?;
    }
    if !body.is_object() {
        return Err(CliError::usage("The configuration body must be a JSON object"));
    }
    let name = args.name.clone().or(name).filter(|n| !n.trim().is_empty()).ok_or_else(|| {
        CliError::usage("A configuration needs a name: pass --name")
    })?;
    let description = args.description.clone().or(description);
    let t = Place::resolve(ctx, &args.project, &args.branch)?;
    let changes = diff(&["configuration".into()], &Value::Object(Map::new()), &body);
    let out = |configuration, encrypted, dry_run| WriteOutput {
        configuration,
        project_alias: t.project.alias.clone(),
        branch_id: t.branch.clone(),
        component_id: args.component_id.clone(),
        dry_run,
        previous_version: None,
        changes: changes.clone(),
        encrypted,
        before: None,
        compat: Compat {
            validation_status: Some("skipped"),
            validation_errors: Some(Vec::new()),
            plaintext_written: Some(Vec::new()),
            ..Compat::default()
        },
        verb: "create",
    };
    if args.dry_run {
        let mut shown = Map::new();
        shown.insert("name".into(), Value::String(name));
        shown.insert("description".into(), Value::String(description.unwrap_or_default()));
        shown.insert("configuration".into(), masked(&body));
        return Ok(out(shown, plain_paths(&body), true));
    }
    let scope = EncryptionScope {
        component_id: args.component_id.clone(),
        project_id: Some(project_id(ctx, &t.project)?),
        config_id: None,
    };
    let encrypted = encrypt_in_place(ctx, &t.project, &scope, &mut body)?;
    let write = ConfigurationWrite {
        name: Some(name),
        description,
        configuration: Some(body),
        change_description: args.change_description.clone(),
        ..ConfigurationWrite::default()
    };
    let answer = t
        .client
        .create_configuration(t.branch.as_deref(), &args.component_id, &write)
        .map_err(|e| t.project.api_error(&e))?;
    Ok(out(object(answer), encrypted, false))
}
