//! `config trash`: the configurations of a component in the trash.

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
    "List a component's configurations in the trash (restorable with `config restore`)",
    "Examples:\n  kbagent config trash --component-id keboola.ex-db-snowflake",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: String,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: Option<String>,
    pub component_id: String,
    /// Keboola's configuration objects (without bodies), newest ids last.
    pub configs: Vec<Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        if self.configs.is_empty() {
            return format!("The trash of {} is empty.\n", self.component_id);
        }
        let mut out = format!("In the trash ({}):\n", self.component_id);
        for c in &self.configs {
            out.push_str(&format!(
                "  {}  {}  (version {})\n",
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
    let mut configs = ctx
        .storage(&project)?
        .list_deleted_configurations(branch.as_deref(), &args.component_id)
        .map_err(|e| project.api_error(&e))?;
    for c in &mut configs {
        if let Value::Object(m) = c {
            m.remove("configuration");
            m.remove("rows");
            m.remove("state");
        }
    }
    Ok(Output {
        project_alias: project.alias,
        branch_id: branch,
        component_id: args.component_id.clone(),
        configs,
    })
}
