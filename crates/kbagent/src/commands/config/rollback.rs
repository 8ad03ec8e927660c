//! `config rollback --version N`: make a new version equal to version N (body, name and
//! rows; the state stays). Version-checked like `config update`.

use serde_json::Value;

use super::body::{diff, masked};
use super::write::{Compat, Target, WriteOutput, object, version_of};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Roll a configuration back to an earlier version (as a new version)",
    "Examples:
  kbagent config rollback --component-id keboola.ex-db-snowflake --config-id 123 --version 3 --dry-run
  kbagent config versions --component-id keboola.ex-db-snowflake --config-id 123   (find N first)",
)
.network();

/// The arguments; `--version N` takes the place of the version flag every other command
/// inherits.
#[derive(Debug)]
pub(crate) struct Args(Inner);

impl clap::FromArgMatches for Args {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Inner::from_arg_matches(m).map(Args)
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
}

impl clap::Args for Args {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Inner::augment_args(cmd.disable_version_flag(true))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Inner::augment_args_for_update(cmd.disable_version_flag(true))
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Inner {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// The version to go back to
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub version: u64,
    /// What the rollback is for (shown in the version history)
    #[arg(long, value_name = "TEXT")]
    pub change_description: Option<String>,
    /// Show the changes and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = WriteOutput;

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let args = &args.0;
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let mut current = t.read(ctx)?;
    let read = version_of(&current);
    let target = t
        .client
        .configuration_version(t.branch.as_deref(), &t.component_id, &t.config_id, args.version)
        .map_err(|e| {
            let err = t.project.api_error(&e);
            if err.code == ErrorCode::NotFound {
                err.reworded(|_| {
                    format!(
                        "Configuration {} has no version {} (it is at version {read})",
                        t.config_id, args.version
                    )
                })
            } else {
                err
            }
        })?;
    let empty = Value::Object(serde_json::Map::new());
    let old = current.get("configuration").unwrap_or(&empty).clone();
    let new = target.get("configuration").unwrap_or(&empty).clone();
    let mut changes = diff(&["configuration".into()], &old, &new);
    for key in ["name", "description"] {
        changes.extend(diff(
            &[key.into()],
            current.get(key).unwrap_or(&Value::Null),
            target.get(key).unwrap_or(&Value::Null),
        ));
    }
    if current.get("rows") != target.get("rows") {
        changes.extend(diff(
            &["rows".into()],
            current.get("rows").unwrap_or(&Value::Null),
            target.get("rows").unwrap_or(&Value::Null),
        ));
    }
    let configuration = if args.dry_run {
        current.insert("configuration".into(), masked(&new));
        current
    } else {
        if read == args.version {
            return Err(CliError::usage(format!(
                "Configuration {} is already at version {read}",
                t.config_id
            )));
        }
        t.check_unchanged(ctx, read)?;
        let answer = t
            .client
            .rollback_configuration(
                t.branch.as_deref(),
                &t.component_id,
                &t.config_id,
                args.version,
                args.change_description.as_deref(),
            )
            .map_err(t.api())?;
        let written = object(answer);
        t.check_written(read, version_of(&written))?;
        written
    };
    Ok(WriteOutput {
        configuration,
        project_alias: t.project.alias.clone(),
        branch_id: t.branch.clone(),
        component_id: t.component_id.clone(),
        dry_run: args.dry_run,
        previous_version: Some(read),
        changes,
        encrypted: Vec::new(),
        before: None,
        compat: Compat::default(),
        verb: "roll back",
    })
}
