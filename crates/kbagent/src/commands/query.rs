//! `kbagent query`: SQL over Storage tables in one step. It creates a workspace (or uses
//! `--workspace-id`), loads the tables the SQL needs, runs it, prints the rows and deletes
//! the workspace again (unless `--keep`), on failure and on Ctrl-C too.
//!
//! Tables: each `--table ID` is loaded under its name (`orders`); without `--table`, every
//! Storage table id the SQL names (`"in.c-crm.orders"`) is loaded under that id.

use keboola_api::{CreateWorkspace, LoadInput};
use schemars::JsonSchema;
use serde::Serialize;

use super::shared::{BranchArg, ProjectArg};
use super::storage::table_id;
use super::workspace::sql::{self, QueryResult, RowFormat, Sink, SqlArgs, interrupt_flag};
use super::workspace::{
    LoadedTable, client_for, create_sandbox, load_tables, numeric_branch, remove, workspace_id,
};
use super::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Run SQL over Storage tables in a temporary workspace and print the rows",
    "Examples:
  kbagent query --project prod --sql 'SELECT status, COUNT(*) FROM \"in.c-crm.orders\" GROUP BY 1'
  kbagent query --sql 'SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id' --table in.c-crm.orders --table in.c-crm.customers --limit 20
  kbagent query --sql 'SELECT * FROM \"in.c-crm.orders\"' --full --output orders.csv
  kbagent query --workspace-id 10000001 --sql 'SELECT 1' --keep

The workspace is deleted afterwards (also when the SQL fails or on Ctrl-C) unless --keep
or --workspace-id is given. A failed statement exits 1 with QUERY_JOB_FAILED.",
)
.network()
.waits_for_job();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub sql: SqlArgs,
    /// A Storage table to load, under its name (repeatable; default: the table ids the SQL names)
    #[arg(long = "table", value_name = "TABLE_ID", value_parser = table_id)]
    pub tables: Vec<String>,
    /// Use this workspace instead of creating one (it is kept; its tables too)
    #[arg(long, value_name = "ID", value_parser = workspace_id)]
    pub workspace_id: Option<String>,
    /// Keep the workspace created for the query
    #[arg(long)]
    pub keep: bool,
    /// Stop waiting for the table load after S seconds
    #[arg(long, value_name = "S", default_value_t = 600)]
    pub timeout: u64,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub workspace_id: String,
    /// The workspace was created for this query.
    pub workspace_created: bool,
    /// It was deleted afterwards.
    pub workspace_deleted: bool,
    pub tables: Vec<LoadedTable>,
    #[serde(flatten)]
    pub result: QueryResult,
    #[serde(skip)]
    pub format: RowFormat,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        self.result.human(p, self.format)
    }
}

/// Storage table ids (`in.c-x.t`, `out.c-x.t`) named in the SQL, in order, once each.
pub(crate) fn table_ids_in(sql: &str) -> Vec<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out: Vec<String> = Vec::new();
    for (start, _) in sql.match_indices(".c-") {
        let stage_start = sql[..start]
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |i| i + 1);
        let stage = &sql[stage_start..start];
        if stage != "in" && stage != "out" {
            continue;
        }
        let rest = &sql[start + 3..];
        let bucket_len = rest.find(|c: char| !ok(c)).unwrap_or(rest.len());
        let after = &rest[bucket_len..];
        let Some(table) = after.strip_prefix('.') else {
            continue;
        };
        let table_len = table.find(|c: char| !ok(c)).unwrap_or(table.len());
        if bucket_len == 0 || table_len == 0 {
            continue;
        }
        let id = format!("{stage}.c-{}.{}", &rest[..bucket_len], &table[..table_len]);
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let statements = args.sql.statements()?;
    let inputs: Vec<LoadInput> = if args.tables.is_empty() {
        table_ids_in(&statements.join("\n"))
            .into_iter()
            .map(|id| LoadInput {
                destination: Some(id.clone()),
                source: id,
                ..LoadInput::default()
            })
            .collect()
    } else {
        args.tables
            .iter()
            .map(|t| LoadInput {
                source: t.clone(),
                ..LoadInput::default()
            })
            .collect()
    };
    let project = load_and_select(ctx, args.project.get())?;
    ctx.set_project(&project.alias);
    let client = client_for(ctx, &project, args.branch.branch.as_deref())?;
    let branch_id = numeric_branch(&project, &client)?;
    // Ctrl-C from here on ends the work at the next step and still cleans up.
    let flag = interrupt_flag();
    let (workspace, created) = match &args.workspace_id {
        Some(id) => (
            client
                .get_workspace(id)
                .map_err(|e| project.api_error(&e))?,
            false,
        ),
        None => (
            create_sandbox(
                &project,
                &client,
                "kbagent query",
                &CreateWorkspace::default(),
            )?
            .workspace,
            true,
        ),
    };
    let work = || -> CliResult<(Vec<LoadedTable>, QueryResult)> {
        let tables = if inputs.is_empty() {
            Vec::new()
        } else {
            load_tables(
                &project,
                &client,
                &workspace.id,
                &inputs,
                !created,
                args.timeout,
            )?
            .1
        };
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(CliError::usage("Interrupted.").detail("interrupted", true));
        }
        let sink = match &args.sql.output {
            Some(path) if args.sql.full => Sink::File(path),
            _ => Sink::Rows(args.sql.limit),
        };
        let result = sql::run(
            ctx,
            &project,
            &branch_id,
            &workspace.id,
            &statements,
            args.sql.transactional,
            sink,
        )?;
        Ok((tables, result))
    };
    let outcome = work();
    let delete = created && !args.keep;
    let cleanup = if delete {
        Some(remove(&project, &client, &workspace))
    } else {
        None
    };
    let (tables, result) = match (outcome, cleanup) {
        (Err(e), Some(Err(c))) => {
            return Err(e.detail("cleanup_error", c.message).hint(format!(
                "Workspace {} may be left over: `kbagent workspace delete --workspace-id {} --yes`.",
                workspace.id, workspace.id
            )));
        }
        (Err(e), _) => return Err(e.detail("workspace_deleted", delete)),
        (Ok(_), Some(Err(c))) => return Err(c),
        (Ok(done), _) => done,
    };
    Ok(Output {
        project_alias: project.alias,
        branch_id: client.branch().map(str::to_owned),
        workspace_id: workspace.id.clone(),
        workspace_created: created,
        workspace_deleted: delete,
        tables,
        result,
        format: args.sql.format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_ids_are_found_in_sql() {
        assert_eq!(
            table_ids_in(
                "SELECT * FROM \"in.c-crm.orders\" o JOIN \"in.c-crm.customers\" c ON 1 JOIN \"in.c-crm.orders\" x, main.c-no.t, xin.c-a.b"
            ),
            ["in.c-crm.orders", "in.c-crm.customers"]
        );
    }
}
