//! `config trash`: the configurations in the trash, of every component or of one.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::commands::shared::{BranchArg, ProjectArg, component_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List configurations in the trash (restorable with `config restore`)",
    "Examples:\n  kbagent config trash\n  kbagent config trash --component-id keboola.ex-db-snowflake",
)
.network()
.aliases(&["trash-list"]);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Only this component's configurations (default: every component's).
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    /// The `--component-id` filter; null when every component was listed.
    pub component_id: Option<String>,
    /// Keboola's configuration objects (without bodies) plus `componentId`, by component,
    /// newest ids last.
    pub configs: Vec<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        let scope = self.component_id.as_deref().unwrap_or("every component");
        if self.configs.is_empty() {
            return format!("The trash of {scope} is empty.\n");
        }
        let mut out = format!("In the trash ({scope}):\n");
        for c in &self.configs {
            out.push_str(&format!(
                "  {}  {}  {}  (version {})\n",
                c["componentId"].as_str().unwrap_or(""),
                c["id"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap_or(""),
                c["version"]
            ));
        }
        out
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let storage = ctx.storage(&project)?;
    let listed: Vec<(String, Vec<Value>)> = match &args.component_id {
        Some(component) => vec![(
            component.clone(),
            storage
                .list_deleted_configurations(branch.as_deref(), component)
                .map_err(|e| project.api_error(&e))?,
        )],
        None => storage
            .list_deleted_configurations_by_component(branch.as_deref())
            .map_err(|e| project.api_error(&e))?
            .into_iter()
            .map(|mut c| {
                let id = c["id"].as_str().unwrap_or("").to_owned();
                let configs = match c["configurations"].take() {
                    Value::Array(list) => list,
                    _ => Vec::new(),
                };
                (id, configs)
            })
            .collect(),
    };
    let mut configs = Vec::new();
    for (component, list) in listed {
        for mut c in list {
            if let Value::Object(m) = &mut c {
                m.remove("configuration");
                m.remove("rows");
                m.remove("state");
                m.insert("componentId".into(), Value::String(component.clone()));
            }
            configs.push(c);
        }
    }
    Ok(Output {
        project_alias: project.alias,
        branch_id: branch,
        component_id: args.component_id.clone(),
        configs,
    })
}
