//! `config rename`: give a configuration a new name (version-checked like `config update`).

use keboola_api::ConfigurationWrite;
use serde_json::Value;

use super::body::Change;
use super::write::{Compat, Target, WriteOutput, object, version_of};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Rename a configuration",
    "Examples:\n  kbagent config rename --component-id keboola.ex-db-snowflake --config-id 123 --name 'CRM (nightly)'",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// The new name
    #[arg(long)]
    pub name: String,
    /// Show the change and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = WriteOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let mut current = t.read(ctx)?;
    let read = version_of(&current);
    let old = current.get("name").cloned().unwrap_or(Value::Null);
    let new = Value::String(args.name.clone());
    let changes = if old == new {
        Vec::new()
    } else {
        vec![Change {
            path: "name".into(),
            old: Some(old.clone()),
            new: Some(new.clone()),
        }]
    };
    let written = if args.dry_run || changes.is_empty() {
        current.insert("name".into(), new);
        current.remove("configuration");
        current
    } else {
        t.check_unchanged(ctx, read)?;
        let write = ConfigurationWrite {
            name: Some(args.name.clone()),
            change_description: Some(format!(
                "Renamed from \"{}\"",
                old.as_str().unwrap_or_default()
            )),
            ..ConfigurationWrite::default()
        };
        let answer = t
            .client
            .update_configuration(t.branch.as_deref(), &t.component_id, &t.config_id, &write)
            .map_err(t.api())?;
        let mut written = object(answer);
        t.check_written(read, version_of(&written))?;
        written.remove("configuration");
        written
    };
    Ok(WriteOutput {
        configuration: written,
        project_alias: t.project.alias.clone(),
        branch_id: t.branch.clone(),
        component_id: t.component_id.clone(),
        dry_run: args.dry_run,
        previous_version: Some(read),
        changes,
        encrypted: Vec::new(),
        before: None,
        compat: Compat {
            status: Some("renamed"),
            config_id: Some(t.config_id.clone()),
            old_name: old.as_str().map(str::to_owned),
            new_name: Some(args.name.clone()),
            ..Compat::default()
        },
        verb: "rename",
    })
}
