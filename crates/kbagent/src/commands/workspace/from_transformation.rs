//! `workspace from-transformation`: a workspace created under a SQL transformation and
//! loaded with its input mapping, so its statements can be tried one by one with
//! `workspace query`. The statements are listed in the output, in order.

use keboola_api::{CreateWorkspace, LoadInput};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{LoadedTable, WorkspaceView, client_for, load_tables};
use crate::commands::shared::{BranchArg, ConfigRefArgs, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a workspace loaded with a transformation's input mapping, to debug its SQL",
    "Examples:
  kbagent workspace from-transformation --project prod --component-id keboola.snowflake-transformation --config-id 123
  kbagent workspace query --project prod --workspace-id 10000001 --sql 'SELECT COUNT(*) FROM \"orders\"'",
)
.network()
.waits_for_job();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub config: ConfigRefArgs,
    /// snowflake or bigquery (default: the project's)
    #[arg(long, value_name = "BACKEND", value_parser = ["snowflake", "bigquery"])]
    pub backend: Option<String>,
    /// Stop waiting for the load after S seconds
    #[arg(long, value_name = "S", default_value_t = 600)]
    pub timeout: u64,
    #[command(flatten)]
    pub branch: BranchArg,
}

/// One SQL statement of the transformation.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Script {
    pub block: String,
    pub code: String,
    pub sql: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    /// `component_id` and `config_id` are the transformation's.
    #[serde(flatten)]
    pub workspace: WorkspaceView,
    /// The workspace's password, shown only here.
    pub password: Option<String>,
    pub load_job_id: String,
    pub tables: Vec<LoadedTable>,
    /// The transformation's statements, in the order it runs them.
    pub scripts: Vec<Script>,
    /// The row of a row-based transformation (`null`: the configuration itself).
    pub row_id: Option<String>,
    /// Ids of the tables loaded (the sources in `tables`).
    pub tables_loaded: Vec<String>,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let mut out = format!(
            "Created workspace {} for {} / {} in project '{}'\n{}",
            self.workspace.workspace_id,
            self.workspace.component_id,
            self.workspace.config_id.as_deref().unwrap_or("-"),
            self.project_alias,
            self.workspace.human()
        );
        if let Some(p) = &self.password {
            out.push_str(&format!("  password:  {p}\n"));
        }
        out.push_str("Loaded:\n");
        for t in &self.tables {
            let rows = t.rows.map(|r| format!(" ({r} rows)")).unwrap_or_default();
            out.push_str(&format!("  {} -> {}{rows}\n", t.source, t.destination));
        }
        out.push_str(&format!(
            "{} statement(s) to try with `kbagent workspace query --workspace-id {} --sql ...`\n",
            self.scripts.len(),
            self.workspace.workspace_id
        ));
        out
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// The input mapping as load inputs.
fn inputs(configuration: &Value) -> Vec<LoadInput> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    configuration
        .pointer("/storage/input/tables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| LoadInput {
            source: text(t, "source"),
            destination: Some(text(t, "destination")).filter(|d| !d.is_empty()),
            columns: strings(&t["columns"]),
            where_column: Some(text(t, "where_column")).filter(|c| !c.is_empty()),
            where_values: strings(&t["where_values"]),
            where_operator: Some(text(t, "where_operator")).filter(|o| !o.is_empty()),
            ..LoadInput::default()
        })
        .filter(|i| !i.source.is_empty())
        .collect()
}

fn scripts(configuration: &Value) -> Vec<Script> {
    let mut out = Vec::new();
    for block in configuration
        .pointer("/parameters/blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for code in block["codes"].as_array().into_iter().flatten() {
            let parts: Vec<String> = match &code["script"] {
                Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            };
            for part in parts {
                for sql in super::sql::split_statements(&part) {
                    out.push(Script {
                        block: text(block, "name"),
                        code: text(code, "name"),
                        sql,
                    });
                }
            }
        }
    }
    out
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let (c, k) = (&args.config.component_id, &args.config.config_id);
    let config = client
        .get_configuration(client.branch(), c, k)
        .map_err(|e| project.api_error(&e))?;
    let configuration = config.get("configuration").cloned().unwrap_or(Value::Null);
    let scripts = scripts(&configuration);
    if scripts.is_empty() && configuration.pointer("/parameters/blocks").is_none() {
        return Err(CliError::invalid_argument(format!(
            "Configuration {c} / {k} is not a SQL transformation: it has no parameters.blocks."
        )));
    }
    let created = client
        .create_workspace(
            c,
            k,
            &CreateWorkspace {
                backend: args.backend.clone(),
                ..CreateWorkspace::default()
            },
        )
        .map_err(|e| project.api_error(&e))?;
    let ws = &created.workspace;
    let loaded = load_tables(&project, &client, &ws.id, &inputs(&configuration), false, args.timeout);
    let (load_job_id, tables) = match loaded {
        Ok(done) => done,
        Err(e) => {
            // The workspace is of no use without its tables; the load's error matters.
            let _ = client.delete_workspace(&ws.id);
            return Err(e);
        }
    };
    Ok(Output {
        project_alias: project.alias,
        branch_id: client.branch().map(str::to_owned),
        workspace: WorkspaceView::of(ws),
        // The documented reveal.
        password: created.password.as_ref().map(|p| p.expose().to_owned()),
        load_job_id,
        row_id: None,
        tables_loaded: tables.iter().map(|t| t.source.clone()).collect(),
        message: format!(
            "Workspace {} created from transformation '{}' with {} table(s) loaded.",
            ws.id,
            args.config.config_id,
            tables.len()
        ),
        tables,
        scripts,
    })
}
