//! What the configuration writes share: the configuration they address (project, branch,
//! component, id), JSON input from a file or stdin, the version check around a write, and
//! their common output.

use std::io::Read as _;

use keboola_api::StorageClient;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::body::Change;
use crate::commands::CommandOutput;
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{GREEN, Printer, RED};
use crate::select::{BranchScope, Project, load_and_select};

/// The configuration a write addresses, resolved: the project, the branch it works in
/// (`--branch`, else the active branch, else production) and the client.
pub(crate) struct Target {
    pub project: Project,
    pub branch: Option<String>,
    pub client: StorageClient,
    pub component_id: String,
    pub config_id: String,
}

impl Target {
    /// The scope secrets of this configuration (and its rows) are encrypted for.
    pub fn encryption_scope(&self, ctx: &Ctx<'_>) -> CliResult<keboola_api::EncryptionScope> {
        Ok(keboola_api::EncryptionScope {
            component_id: self.component_id.clone(),
            project_id: Some(super::secrets::project_id(ctx, &self.project)?),
            config_id: Some(self.config_id.clone()),
        })
    }

    pub fn resolve(
        ctx: &Ctx<'_>,
        project: &ProjectArg,
        config: &ConfigRefArgs,
        branch: &BranchArg,
    ) -> CliResult<Target> {
        Self::of(
            ctx,
            project,
            &config.component_id,
            &config.config_id,
            branch,
        )
    }

    pub fn of(
        ctx: &Ctx<'_>,
        project: &ProjectArg,
        component_id: &str,
        config_id: &str,
        branch: &BranchArg,
    ) -> CliResult<Target> {
        let project = load_and_select(ctx, project.get())?;
        let branch = project.use_branch(ctx, branch.branch.as_deref(), BranchScope::Active);
        let client = ctx.storage(&project)?;
        Ok(Target {
            project,
            branch,
            client,
            component_id: component_id.to_owned(),
            config_id: config_id.to_owned(),
        })
    }

    /// The configuration as it is now (a 404 names what was missing).
    pub fn read(&self, ctx: &Ctx<'_>) -> CliResult<Map<String, Value>> {
        match super::fetch_configuration(
            ctx,
            &self.project,
            self.branch.as_deref(),
            &self.component_id,
            &self.config_id,
        )? {
            Value::Object(map) => Ok(map),
            _ => Err(CliError::unexpected(
                "The configuration is not a JSON object",
            )),
        }
    }

    pub fn api(&self) -> impl Fn(keboola_api::ApiError) -> CliError + '_ {
        |e| self.project.api_error(&e)
    }

    /// Refuses when the configuration's version is no longer `expected` (someone wrote in
    /// between); nothing has been written then.
    pub fn check_unchanged(&self, ctx: &Ctx<'_>, expected: u64) -> CliResult<()> {
        let now = version_of(&self.read(ctx)?);
        if now == expected {
            return Ok(());
        }
        Err(self.conflict(expected, now, false))
    }

    /// After a write: the new version must be `read + 1`, or another write landed between
    /// the check and ours.
    pub fn check_written(&self, read: u64, written: u64) -> CliResult<()> {
        if written == read + 1 {
            Ok(())
        } else {
            Err(self.conflict(read + 1, written, true))
        }
    }

    fn conflict(&self, expected: u64, found: u64, written: bool) -> CliError {
        let what = format!(
            "configuration {} of {} in project '{}'",
            self.config_id, self.component_id, self.project.alias
        );
        let message = if written {
            format!(
                "The {what} was written, but it is now at version {found}, not {expected}: another change landed at the same moment and one of the two may have overwritten the other"
            )
        } else {
            format!(
                "The {what} changed while this command ran (version {expected} when read, {found} now); nothing was written"
            )
        };
        CliError::new(ErrorCode::ConfigVersionConflict, message)
            .project(&self.project.alias)
            .detail("expected_version", expected)
            .detail("found_version", found)
            .detail("written", written)
            .hint(format!(
                "Read it again (`kbagent config detail --component-id {} --config-id {}`), check `kbagent config versions`, and redo the change on the current version.",
                self.component_id, self.config_id
            ))
    }
}

/// `version` of a configuration object (0 when missing).
pub(crate) fn version_of(config: &Map<String, Value>) -> u64 {
    config
        .get("version")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0)
}

/// A JSON document from `FILE`, or from stdin for `-`.
pub(crate) fn read_json(source: &str, what: &str) -> CliResult<Value> {
    let text = if source == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::usage(format!("Cannot read {what} from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(source)
            .map_err(|e| CliError::usage(format!("Cannot read {what} file '{source}': {e}")))?
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("The {what} is not valid JSON: {e}")))
}

/// A JSON object given inline, as `@FILE`, or `-` for stdin.
pub(crate) fn read_json_arg(arg: &str, what: &str) -> CliResult<Value> {
    if arg == "-" {
        return read_json("-", what);
    }
    if let Some(path) = arg.strip_prefix('@') {
        return read_json(path, what);
    }
    serde_json::from_str(arg)
        .map_err(|e| CliError::usage(format!("The {what} is not valid JSON: {e}")))
}

/// The result of a configuration write: Keboola's answer (on `--dry-run`, the
/// configuration as it would be written), where it happened and what changed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct WriteOutput {
    #[serde(flatten)]
    pub configuration: Map<String, Value>,
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    pub dry_run: bool,
    /// The version before the write (`null` for a new configuration).
    pub previous_version: Option<u64>,
    /// What changed (or would change), secrets masked.
    pub changes: Vec<Change>,
    /// Paths of the values that were encrypted before the write (on `--dry-run`: would be).
    pub encrypted: Vec<String>,
    /// On `config update --dry-run`: the body as it is now (secrets masked); `configuration`
    /// is the body as it would be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(flatten)]
    pub compat: Compat,
    #[serde(skip)]
    #[schemars(skip)]
    pub verb: &'static str,
}

/// Keys the Python kbagent's output of the same command has, so that scripts reading them
/// keep working; each command sets those its Python counterpart has.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub(crate) struct Compat {
    /// What happened, in one word: `renamed`, `deleted`, `would_delete`, `restored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_id: Option<String>,
    /// The row the command acted on (`null`: the configuration itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// On `--dry-run`: the body now and as it would be written (secrets masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_description: Option<String>,
    /// Rewrites applied to the body before the write: kbagent writes the body as given, so
    /// this is always empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalizations: Option<Vec<String>>,
    /// Secret paths written unencrypted: kbagent refuses such writes, so always empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plaintext_written: Option<Vec<String>>,
    /// `skipped`: kbagent does not check a new body against the component's schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Vec<String>>,
    /// Whether the write changed anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
}

impl Compat {
    /// For a body write: nothing rewritten, nothing written in plaintext.
    pub fn body_write() -> Self {
        Compat {
            normalizations: Some(Vec::new()),
            plaintext_written: Some(Vec::new()),
            ..Compat::default()
        }
    }
}

impl CommandOutput for WriteOutput {
    fn human(&self, p: &Printer) -> String {
        let id = self
            .configuration
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("");
        let version = version_of(&self.configuration);
        // A person must see where a write lands as plainly as JSON's `targets` says it.
        let place = match &self.branch_id {
            Some(b) => format!("project '{}', branch {b}", self.project_alias),
            None => format!("project '{}'", self.project_alias),
        };
        let head = if self.dry_run {
            format!(
                "Dry run: would {} {} / {id} in {place}",
                self.verb, self.component_id
            )
        } else {
            format!(
                "{} {} / {id} in {place}",
                capitalised(self.verb),
                self.component_id
            )
        };
        let versions = match (self.previous_version, self.dry_run) {
            (Some(v), true) => format!(" (now version {v})"),
            (Some(v), false) if v != version => format!(" (version {v} -> {version})"),
            (None, false) => format!(" (version {version})"),
            _ => String::new(),
        };
        let mut out = format!("{head}{versions}\n");
        out.push_str(&render_diff(
            p,
            &self.changes,
            self.previous_version,
            self.dry_run,
        ));
        if !self.encrypted.is_empty() {
            out.push_str(&format!(
                "{} {}\n",
                if self.dry_run {
                    "Would encrypt:"
                } else {
                    "Encrypted:"
                },
                self.encrypted.join(", ")
            ));
        }
        out
    }
}

fn capitalised(verb: &str) -> String {
    let done = match verb {
        "update" => "updated",
        "create" => "created",
        "rename" => "renamed",
        "roll back" => "rolled back",
        "clone" => "cloned",
        other => other,
    };
    let mut c = done.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A unified-style diff: `-` old, `+` new, one line per changed path (coloured only on a
/// terminal).
pub(crate) fn render_diff(
    p: &Printer,
    changes: &[Change],
    from: Option<u64>,
    dry_run: bool,
) -> String {
    if changes.is_empty() {
        return "No changes.\n".to_owned();
    }
    let mut out = String::new();
    if let Some(v) = from {
        let to = if dry_run {
            format!("version {} (not written)", v + 1)
        } else {
            format!("version {}", v + 1)
        };
        out.push_str(&format!("--- version {v}\n+++ {to}\n"));
    }
    let show = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    for c in changes {
        if let Some(old) = &c.old {
            out.push_str(&p.paint(RED, &format!("- {}: {}", c.path, show(old))));
            out.push('\n');
        }
        if let Some(new) = &c.new {
            out.push_str(&p.paint(GREEN, &format!("+ {}: {}", c.path, show(new))));
            out.push('\n');
        }
    }
    out
}

/// The result of a configuration action that is not a body edit (delete, restore, rows,
/// state): Keboola's object, where it happened, and a sentence for people.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ActionOutput {
    #[serde(flatten)]
    pub object: Map<String, Value>,
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    pub dry_run: bool,
    #[serde(flatten)]
    pub compat: Compat,
    #[serde(skip)]
    #[schemars(skip)]
    pub summary: String,
}

impl ActionOutput {
    pub fn new(t: &Target, object: Map<String, Value>, dry_run: bool, summary: String) -> Self {
        ActionOutput {
            object,
            project_alias: t.project.alias.clone(),
            branch_id: t.branch.clone(),
            component_id: t.component_id.clone(),
            dry_run,
            compat: Compat::default(),
            summary,
        }
    }

    pub fn with(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }
}

impl CommandOutput for ActionOutput {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.summary)
    }
}

/// `what` of the target, for messages: `configuration 12 "Name" of C in project 'p'`.
pub(crate) fn describe(t: &Target, config: &Map<String, Value>) -> String {
    let name = config.get("name").and_then(Value::as_str).unwrap_or("");
    format!(
        "configuration {} \"{name}\" of {} in project '{}'",
        t.config_id, t.component_id, t.project.alias
    )
}

/// A JSON object from `value`, or an empty one.
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `--yes` and `--dry-run` of a destructive configuration command.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ConfirmArgs {
    /// Go ahead without asking (needed when stdin or stderr is not a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Say what would happen and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// A project and branch to create a configuration in (there is no configuration yet).
pub(crate) struct Place {
    pub project: Project,
    pub branch: Option<String>,
    pub client: StorageClient,
}

impl Place {
    pub fn resolve(ctx: &Ctx<'_>, project: &ProjectArg, branch: &BranchArg) -> CliResult<Self> {
        let project = load_and_select(ctx, project.get())?;
        let branch = project.use_branch(ctx, branch.branch.as_deref(), BranchScope::Active);
        let client = ctx.storage(&project)?;
        Ok(Self {
            project,
            branch,
            client,
        })
    }
}

/// `--row-id`: a row of a configuration.
pub(crate) fn row_id(v: &str) -> Result<String, CliError> {
    crate::commands::shared::id_part("row id", v)
}

/// Row `row_id` of `config`, or `NOT_FOUND` naming it.
pub(crate) fn find_row(t: &Target, config: &Map<String, Value>, row_id: &str) -> CliResult<Value> {
    config
        .get("rows")
        .and_then(Value::as_array)
        .and_then(|rows| rows.iter().find(|r| r["id"].as_str() == Some(row_id)))
        .cloned()
        .ok_or_else(|| {
            CliError::new(
                ErrorCode::NotFound,
                format!(
                    "Configuration {} has no row {row_id} in project '{}'",
                    t.config_id, t.project.alias
                ),
            )
            .project(&t.project.alias)
        })
}

/// `body` with a merge patch from `merge` (a file or '-') and each `--set` applied, in that
/// order.
pub(crate) fn apply_edits(
    mut body: Value,
    merge: Option<&str>,
    sets: &[String],
) -> CliResult<Value> {
    if !body.is_object() {
        return Err(CliError::usage(
            "The configuration body must be a JSON object",
        ));
    }
    if let Some(m) = merge {
        super::body::merge_patch(&mut body, &read_json(m, "merge patch")?);
    }
    for s in sets {
        let (keys, value) = super::body::parse_assignment(s)?;
        super::body::set_path(&mut body, &keys, value)?;
    }
    Ok(body)
}
