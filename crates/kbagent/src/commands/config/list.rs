//! `config list`: configurations across projects, fetched in parallel; a failing project
//! is reported in `errors[]` (and as a warning) without hiding the others.

use std::collections::HashMap;

use keboola_api::{ComponentsQuery, FOLDER_METADATA_KEY, metadata_value};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::commands::shared::{BranchArg, ProjectsArg, component_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, cell};
use crate::select::{BranchScope, ProjectError, fan_out, no_projects, select_many};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List configurations across projects (in parallel)",
    "Examples:\n  kbagent config list\n  kbagent --json config list --project prod --component-id keboola.ex-google-drive",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub projects: ProjectsArg,
    /// Only components of this type (extractor, writer, transformation, application, other)
    #[arg(long, value_name = "TYPE")]
    pub component_type: Option<String>,
    /// Only this component
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ConfigRow {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    pub component_name: String,
    pub component_type: String,
    pub config_id: String,
    pub config_name: String,
    pub config_description: Option<String>,
    pub version: Option<u64>,
    pub is_disabled: bool,
    pub last_modified: Option<String>,
    pub last_modified_by: Option<String>,
    pub last_change_description: Option<String>,
    /// The UI's folder (`KBC.configuration.folderName` metadata), "" when none.
    pub folder: String,
}


#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub configs: Vec<ConfigRow>,
    pub errors: Vec<ProjectError>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.configs.is_empty() {
            return crate::select::nothing_found("configurations", &self.errors);
        }
        let mut table = Table::new(["PROJECT", "COMPONENT", "CONFIG ID", "NAME", "LAST MODIFIED"]);
        for c in &self.configs {
            table.row([
                c.project_alias.clone(),
                c.component_id.clone(),
                c.config_id.clone(),
                c.config_name.clone(),
                cell(c.last_modified.as_deref()),
            ]);
        }
        table.render(p.stdout_is_terminal())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    let cfg = store.load()?;
    if cfg.projects.is_empty() && args.projects.aliases.is_empty() {
        return Err(no_projects(store));
    }
    let projects = select_many(ctx, &cfg, &args.projects.aliases)?;
    // One project named on the command line is a single-project read: its failure is the
    // command's failure. A fan-out reports failures per project and goes on.
    let single = !args.projects.aliases.is_empty() && projects.len() == 1;
    // Each project lists its own branch: --branch, else its active branch, else production.
    let branches: HashMap<String, Option<String>> = projects
        .iter()
        .map(|p| {
            let branch = p.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
            (p.alias.clone(), branch)
        })
        .collect();
    let workers = ctx.parallelism(&cfg)?;
    let http = ctx.http()?.clone();
    let results = fan_out(
        ctx,
        &http,
        "Listing configurations",
        &projects,
        workers,
        |client, p| {
            let query = ComponentsQuery {
                branch: branches.get(&p.alias).cloned().flatten(),
                component_type: args.component_type.clone(),
                include_rows: false,
            };
            // Folders are extra: a failed search leaves them empty rather than failing the
            // listing. The search (a branch lookup and a query) runs beside the listing so
            // a project costs the round trips of the slower of the two, not their sum.
            let (components, hits) = std::thread::scope(|scope| {
                let search = scope.spawn(|| {
                    client.search_configuration_metadata(
                        query.branch.as_deref(),
                        &[FOLDER_METADATA_KEY],
                    )
                });
                let components = client.list_components(&query);
                (components, search.join().ok().and_then(Result::ok))
            });
            let folders: HashMap<(String, String), String> = hits
                .unwrap_or_default()
                .into_iter()
                .filter_map(|hit| {
                    let folder = metadata_value(&hit.metadata, FOLDER_METADATA_KEY)?.to_owned();
                    Some(((hit.id_component, hit.configuration_id), folder))
                })
                .collect();
            Ok((components?, folders))
        },
    );
    let mut out = Output {
        configs: Vec::new(),
        errors: Vec::new(),
    };
    for (p, timed) in projects.iter().zip(results) {
        let branch = branches.get(&p.alias).cloned().flatten();
        let (components, folders) = match timed.result {
            Ok(found) => found,
            Err(e) => {
                let e = super::missing_branch(ctx, p, branch.as_deref(), &e).unwrap_or(e);
                if single {
                    return Err(e);
                }
                out.errors.push(ProjectError::record(ctx, &p.alias, e));
                continue;
            }
        };
        for comp in components {
            if args.component_id.as_deref().is_some_and(|c| c != comp.id) {
                continue;
            }
            for conf in &comp.configurations {
                let version = conf.current_version.as_ref();
                out.configs.push(ConfigRow {
                    project_alias: p.alias.clone(),
                    branch_id: branch.clone(),
                    component_id: comp.id.clone(),
                    component_name: comp.name.clone(),
                    component_type: comp.r#type.clone(),
                    config_id: conf.id.clone(),
                    config_name: conf.name.clone(),
                    config_description: conf.description.clone(),
                    version: conf.version,
                    is_disabled: conf.is_disabled,
                    last_modified: version
                        .and_then(|v| v.get("created"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| conf.created.clone()),
                    last_modified_by: version
                        .and_then(|v| v.pointer("/creatorToken/description"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    last_change_description: conf.change_description.clone(),
                    folder: folders
                        .get(&(comp.id.clone(), conf.id.clone()))
                        .cloned()
                        .unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}
