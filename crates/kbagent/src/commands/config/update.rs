//! `config update`: change a configuration's body (`--set`, `--merge`, `--file`), name or
//! description. It reads the configuration fresh, applies the change, encrypts plain-text
//! `#` values, reads the version again right before the write and refuses if it moved,
//! then checks the write made exactly the next version. Storage has no conditional write:
//! this catches a concurrent change up to the last moment; it cannot prevent a write that
//! lands between the final check and ours (that one is reported after the write).

use keboola_api::ConfigurationWrite;
use serde_json::Value;

use super::body::{self, diff, masked, parse_assignment};
use super::secrets::{encrypt_in_place, plain_paths};
use super::write::{
    Compat, Target, WriteOutput, apply_edits, read_json, read_json_arg, version_of,
};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Change a configuration's body, name or description (version-checked; secrets encrypted)",
    "Examples:
  kbagent config update --component-id keboola.ex-db-snowflake --config-id 123 \\
      --set parameters.db.port=443 --set 'parameters.db.#password=s3cret' --dry-run
  kbagent config update --component-id keboola.ex-db-snowflake --config-id 123 --merge patch.json
  kbagent config update --component-id keboola.ex-db-snowflake --config-id 123 --file body.json \\
      --change-description 'Point at the new warehouse'

--set PATH=VALUE: VALUE is JSON when it parses (1, true, {\"a\":1}, \"quoted\"), else text.
PATH is keys joined by '.'; write a dot inside a key as '\\.' and a backslash as '\\\\';
a number indexes an array (tasks.0.enabled). Order: --file, then --merge, then each --set.
Values under '#' keys are encrypted (scope: this configuration) before anything is sent
to Storage. The write is refused with CONFIG_VERSION_CONFLICT (exit 5) if the version
moved since it was read.",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// Set one value (repeatable): PATH=VALUE (see below)
    #[arg(long, value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Apply a JSON merge patch (RFC 7386) from FILE, or stdin for '-'; without FILE, merge
    /// the --configuration or --file body into the current one instead of replacing it
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub merge: Option<String>,
    /// Replace the whole body with the JSON object in FILE, or stdin for '-'
    #[arg(long, value_name = "FILE", visible_alias = "configuration-file")]
    pub file: Option<String>,
    /// Replace the whole body with this JSON object: inline, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON", conflicts_with = "file")]
    pub configuration: Option<String>,
    /// New name
    #[arg(long)]
    pub name: Option<String>,
    /// New description
    #[arg(long)]
    pub description: Option<String>,
    /// What the change is for (shown in the version history)
    #[arg(long, value_name = "TEXT")]
    pub change_description: Option<String>,
    /// Show the changes and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub branch: BranchArg,
}

pub(crate) type Output = WriteOutput;

/// The body with `--file` (or `--configuration`), `--merge` and `--set` applied, in that
/// order; a bare `--merge` merges the given body into the current one.
fn edited(args: &Args, old: &Value) -> CliResult<Value> {
    let stdin = [args.file.as_deref(), args.configuration.as_deref()].contains(&Some("-"));
    if args.merge.as_deref() == Some("-") && stdin {
        return Err(CliError::usage("--merge and --file cannot both read stdin"));
    }
    let given = match (&args.file, &args.configuration) {
        (Some(f), _) => Some(read_json(f, "configuration")?),
        (None, Some(c)) => Some(read_json_arg(c, "configuration")?),
        (None, None) => None,
    };
    if args.merge.as_deref() == Some("") {
        let patch = given.ok_or_else(|| {
            CliError::usage("--merge without a FILE merges --configuration or --file: give one")
        })?;
        if !patch.is_object() {
            return Err(CliError::usage("The configuration body must be a JSON object"));
        }
        let mut new = old.clone();
        body::merge_patch(&mut new, &patch);
        return apply_edits(new, None, &args.set);
    }
    apply_edits(given.unwrap_or_else(|| old.clone()), args.merge.as_deref(), &args.set)
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if args.set.is_empty()
        && args.merge.is_none()
        && args.file.is_none()
        && args.configuration.is_none()
        && args.name.is_none()
        && args.description.is_none()
    {
        return Err(CliError::usage(
            "Nothing to change: give --set, --merge, --file, --name or --description",
        ));
    }
    // Parse every --set before any request, so a typo costs nothing.
    for s in &args.set {
        parse_assignment(s)?;
    }
    let t = Target::resolve(ctx, &args.project, &args.config, &args.branch)?;
    let mut current = t.read(ctx)?;
    let read_version = version_of(&current);
    let old = current
        .get("configuration")
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let mut new = edited(args, &old)?;
    let mut changes = diff(&["configuration".into()], &old, &new);
    for (key, wanted) in [("name", &args.name), ("description", &args.description)] {
        if let Some(w) = wanted {
            let before = current.get(key).cloned().unwrap_or(Value::Null);
            if before != Value::String(w.clone()) {
                changes.push(body::Change {
                    path: key.to_owned(),
                    old: Some(before),
                    new: Some(Value::String(w.clone())),
                });
            }
        }
    }
    let out = |configuration, changes, encrypted, dry_run| WriteOutput {
        configuration,
        project_alias: t.project.alias.clone(),
        branch_id: t.branch.clone(),
        component_id: t.component_id.clone(),
        dry_run,
        previous_version: Some(read_version),
        changes,
        encrypted,
        before: None,
        compat: Compat::body_write(),
        verb: "update",
    };
    if args.dry_run || changes.is_empty() {
        let encrypted = plain_paths(&new);
        current.insert("configuration".into(), masked(&new));
        if let Some(n) = &args.name {
            current.insert("name".into(), Value::String(n.clone()));
        }
        if let Some(d) = &args.description {
            current.insert("description".into(), Value::String(d.clone()));
        }
        let mut shown = out(current, changes, encrypted, args.dry_run);
        if args.dry_run {
            shown.before = Some(masked(&old));
            shown.compat.config_id = Some(t.config_id.clone());
            shown.compat.old_configuration = shown.before.clone();
            shown.compat.new_configuration = shown.configuration.get("configuration").cloned();
            // Empty: Keboola writes its own description.
            shown.compat.change_description =
                Some(args.change_description.clone().unwrap_or_default());
        }
        return Ok(shown);
    }
    let scope = t.encryption_scope(ctx)?;
    let encrypted = encrypt_in_place(ctx, &t.project, &scope, &mut new)?;
    t.check_unchanged(ctx, read_version)?;
    let write = ConfigurationWrite {
        name: args.name.clone(),
        description: args.description.clone(),
        configuration: (new != old).then_some(new),
        change_description: args.change_description.clone(),
        ..ConfigurationWrite::default()
    };
    let answer = t
        .client
        .update_configuration(t.branch.as_deref(), &t.component_id, &t.config_id, &write)
        .map_err(t.api())?;
    let Value::Object(written) = answer else {
        return Err(CliError::unexpected("The update answer is not a JSON object"));
    };
    t.check_written(read_version, version_of(&written))?;
    Ok(out(written, changes, encrypted, false))
}
