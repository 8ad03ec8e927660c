//! `config clone`: copy a configuration, rows included, into the same or another project
//! (`--to-project`). Ciphers that cannot work in the copy are dropped and listed under
//! `secrets_to_set`: `KBC::ConfigSecure::` ones are bound to the source configuration, and
//! in another project every project-bound cipher is too. Give them new values with
//! `--secret PATH=VALUE` (encrypted for the target project before the write).

use keboola_api::{ConfigurationWrite, EncryptionScope};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::body::{masked, parse_assignment, render_path, set_path};
use super::secrets::{encrypt_in_place, project_id};
use super::write::{Place, Target, object};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg, branch_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Copy a configuration with its rows, in this project or into another (--to-project)",
    "Examples:
  kbagent config clone --component-id keboola.ex-db-snowflake --config-id 123 --name 'CRM (copy)' --dry-run
  kbagent config clone --project prod --component-id keboola.ex-db-snowflake --config-id 123 \\
      --name 'CRM' --to-project dev --secret 'parameters.db.#password=s3cret'

Secrets bound to the source configuration (KBC::ConfigSecure::) or, across projects, to
its project cannot be decrypted in the copy: they are left out and listed in
secrets_to_set. --secret PATH=VALUE fills one in (PATH as in `config update --set`).",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    #[command(flatten)]
    pub branch: BranchArg,
    /// Name of the copy
    #[arg(long)]
    pub name: String,
    /// Description of the copy (default: the source's)
    #[arg(long)]
    pub description: Option<String>,
    /// Project to copy into (default: the source's)
    #[arg(long, value_name = "ALIAS", visible_alias = "target-project")]
    pub to_project: Option<String>,
    /// Development branch to copy into (default: the target project's active branch, else main)
    #[arg(long, value_name = "ID", value_parser = branch_id)]
    pub target_branch: Option<String>,
    /// Set one value in the copy (repeatable): PATH=VALUE
    #[arg(long, value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// A new secret for the copy (repeatable): PATH=VALUE, encrypted before the write
    #[arg(long, value_name = "PATH=VALUE")]
    pub secret: Vec<String>,
    /// Show what would be created and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    /// The new configuration as Keboola returned it (on `--dry-run`: as it would be sent).
    #[serde(flatten)]
    pub configuration: Map<String, Value>,
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    pub source_project_alias: String,
    pub source_config_id: String,
    pub source_version: u64,
    pub dry_run: bool,
    /// Paths of secrets that were left out and need new values (`--secret`).
    pub secrets_to_set: Vec<String>,
    /// Paths that `--secret` filled in (encrypted).
    pub encrypted: Vec<String>,
    /// Ids of the rows created in the copy.
    pub row_ids: Vec<String>,
    /// `same-project` or `cross-project`.
    pub mode: &'static str,
    pub source_project: String,
    pub target_project: String,
    /// The same as `encrypted`.
    pub encrypted_paths: Vec<String>,
    /// Each created row with the row it was copied from.
    pub copied_rows: Vec<CopiedRow>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CopiedRow {
    pub source_row_id: String,
    pub id: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let id = self.configuration.get("id").and_then(Value::as_str).unwrap_or("(new)");
        let mut out = if self.dry_run {
            format!(
                "Dry run: would copy {} / {} of project '{}' into project '{}'\n",
                self.component_id, self.source_config_id, self.source_project_alias, self.project_alias
            )
        } else {
            format!(
                "Copied {} / {} of project '{}' to {id} in project '{}' ({} row(s))\n",
                self.component_id,
                self.source_config_id,
                self.source_project_alias,
                self.project_alias,
                self.row_ids.len()
            )
        };
        if !self.secrets_to_set.is_empty() {
            out.push_str(&format!(
                "Secrets left out (give them with --secret PATH=VALUE): {}\n",
                self.secrets_to_set.join(", ")
            ));
        }
        out
    }
}

/// Drops ciphers that cannot be decrypted in the copy; returns their paths.
fn drop_unusable(value: &mut Value, keys: &mut Vec<String>, other_project: bool, out: &mut Vec<String>) {
    let unusable = |s: &str| {
        s.starts_with("KBC::ConfigSecure")
            || s.starts_with("KBC::BranchTypeConfigSecure")
            || (other_project && s.starts_with("KBC::") && !s.starts_with("KBC::ComponentSecure"))
    };
    match value {
        Value::Object(map) => {
            let doomed: Vec<String> = map
                .iter()
                .filter(|(k, v)| k.starts_with('#') && v.as_str().is_some_and(unusable))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                map.remove(&k);
                keys.push(k);
                out.push(render_path(keys));
                keys.pop();
            }
            for (k, v) in map.iter_mut() {
                keys.push(k.clone());
                drop_unusable(v, keys, other_project, out);
                keys.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                keys.push(i.to_string());
                drop_unusable(v, keys, other_project, out);
                keys.pop();
            }
        }
        _ => {}
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let mut edits = Vec::new();
    for s in &args.set {
        edits.push(parse_assignment(s)?);
    }
    let mut secrets = Vec::new();
    for s in &args.secret {
        let (keys, value) = parse_assignment(s)?;
        if !keys.last().is_some_and(|k| k.starts_with('#')) {
            return Err(CliError::usage(format!(
                "--secret '{}': the last key must start with '#'",
                render_path(&keys)
            )));
        }
        secrets.push((keys, value));
    }
    let source = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let current = source.read(ctx)?;
    let source_version = super::write::version_of(&current);
    let into = ProjectArg {
        alias: args.to_project.clone().or_else(|| Some(source.project.alias.clone())),
    };
    let place = Place::resolve(ctx, &into, &BranchArg { branch: args.target_branch.clone() })?;
    let other_project = place.project.entry.project_id != source.project.entry.project_id
        || place.project.entry.stack_url != source.project.entry.stack_url;

    let mut body = current
        .get("configuration")
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut dropped = Vec::new();
    drop_unusable(&mut body, &mut vec!["configuration".into()], other_project, &mut dropped);
    for (keys, value) in edits.into_iter().chain(secrets) {
        set_path(&mut body, &keys, value)?;
    }
    let mut rows: Vec<(ConfigurationWrite, String)> = Vec::new();
    for row in current.get("rows").and_then(Value::as_array).into_iter().flatten() {
        let rid = row["id"].as_str().unwrap_or_default().to_owned();
        let mut rbody = row.get("configuration").cloned().unwrap_or_else(|| Value::Object(Map::new()));
        drop_unusable(&mut rbody, &mut vec!["rows".into(), rid.clone(), "configuration".into()], other_project, &mut dropped);
        rows.push((
            ConfigurationWrite {
                name: row["name"].as_str().map(str::to_owned),
                description: row["description"].as_str().map(str::to_owned),
                configuration: Some(rbody),
                is_disabled: row["isDisabled"].as_bool(),
                ..ConfigurationWrite::default()
            },
            rid,
        ));
    }
    // A path given with --secret is filled in, so it is not left to set.
    let given: Vec<String> = args
        .secret
        .iter()
        .filter_map(|s| parse_assignment(s).ok())
        .map(|(k, _)| format!("configuration.{}", render_path(&k)))
        .collect();
    dropped.retain(|p| !given.contains(p));
    let description = args
        .description
        .clone()
        .or_else(|| current.get("description").and_then(Value::as_str).map(str::to_owned));
    let mut out = Output {
        configuration: Map::new(),
        project_alias: place.project.alias.clone(),
        branch_id: place.branch.clone(),
        component_id: source.component_id.clone(),
        source_project_alias: source.project.alias.clone(),
        source_config_id: source.config_id.clone(),
        source_version,
        dry_run: args.dry_run,
        secrets_to_set: dropped,
        encrypted: Vec::new(),
        row_ids: Vec::new(),
        mode: if source.project.alias == place.project.alias { "same-project" } else { "cross-project" },
        source_project: source.project.alias.clone(),
        target_project: place.project.alias.clone(),
        encrypted_paths: Vec::new(),
        copied_rows: Vec::new(),
    };
    if args.dry_run {
        out.configuration.insert("name".into(), Value::String(args.name.clone()));
        out.configuration.insert("description".into(), Value::String(description.unwrap_or_default()));
        out.configuration.insert("configuration".into(), masked(&body));
        out.configuration.insert("rows".into(), Value::Array(rows.iter().map(|(w, _)| serde_json::json!({"name": w.name, "configuration": w.configuration.as_ref().map(masked)})).collect()));
        return Ok(out);
    }
    let scope = EncryptionScope {
        component_id: source.component_id.clone(),
        project_id: Some(project_id(ctx, &place.project)?),
        config_id: None,
    };
    out.encrypted = encrypt_in_place(ctx, &place.project, &scope, &mut body)?;
    out.encrypted_paths = out.encrypted.clone();
    let write = ConfigurationWrite {
        name: Some(args.name.clone()),
        description,
        configuration: Some(body),
        change_description: Some(format!(
            "Copied from configuration {} version {source_version} of project '{}'",
            source.config_id, source.project.alias
        )),
        ..ConfigurationWrite::default()
    };
    let api = |e: keboola_api::ApiError| place.project.api_error(&e);
    let created = object(
        place
            .client
            .create_configuration(place.branch.as_deref(), &source.component_id, &write)
            .map_err(api)?,
    );
    let new_id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    for (mut w, source_row_id) in rows {
        if let Some(b) = w.configuration.as_mut() {
            encrypt_in_place(ctx, &place.project, &scope, b)?;
        }
        let row = place
            .client
            .create_configuration_row(place.branch.as_deref(), &source.component_id, &new_id, &w)
            .map_err(api)?;
        let id = row["id"].as_str().unwrap_or_default().to_owned();
        out.copied_rows.push(CopiedRow { source_row_id, id: id.clone() });
        out.row_ids.push(id);
    }
    out.configuration = if out.row_ids.is_empty() {
        created
    } else {
        object(
            place
                .client
                .get_configuration(place.branch.as_deref(), &source.component_id, &new_id)
                .map_err(api)?,
        )
    };
    Ok(out)
}
