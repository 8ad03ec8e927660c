//! `branch create`: create a development branch (a Storage job Keboola runs), wait for
//! it, and make it the project's active branch.

use keboola_api::{DevBranch, JobWait};
use schemars::JsonSchema;
use serde::Serialize;

use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a development branch (a copy of production's configurations) and make it active",
    "Examples:\n  kbagent branch create --project prod --name fix-revenue\n  kbagent branch create --project prod --name fix-revenue --description \"Try SUM over AVG\"",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Name of the new branch (unique in the project)
    #[arg(long, value_name = "NAME", value_parser = branch_name)]
    pub name: String,
    /// What the branch is for
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,
    /// Give up waiting for the storage job after this many seconds (the job goes on)
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

fn branch_name(value: &str) -> Result<String, crate::error::CliError> {
    let name = value.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(crate::error::CliError::invalid_argument(
            "Invalid branch name: give a non-empty name without control characters",
        ));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: u64,
    pub branch_name: String,
    pub description: String,
    pub created: String,
    /// Always true: the new branch is the project's active branch.
    pub activated: bool,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("{}\n", self.message)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let client = ctx.storage(&project)?;
    let job = client
        .create_dev_branch(&args.name, &args.description)
        .map_err(|e| project.api_error(&e))?;
    let job_id = job.id.clone();
    let done = client
        .finish_job(
            job,
            &JobWait {
                timeout: std::time::Duration::from_secs(args.timeout),
                ..JobWait::default()
            },
        )
        .map_err(|e| project.api_error(&e))?;
    let branch = DevBranch::from_job(&done).map_err(|e| project.api_error(&e))?;
    super::pin(ctx, &project, Some((branch.id, &branch.name))).map_err(|e| {
        e.hint(format!(
            "The branch was created (id {}, storage job {job_id}) but not made active; run `kbagent branch use --project {} --branch {}`.",
            branch.id, project.alias, branch.id
        ))
    })?;
    super::announce(ctx, &project.alias, branch.id, &branch.name);
    Ok(Output {
        message: format!(
            "Branch '{}' (ID: {}) created and activated for project '{}'.",
            branch.name, branch.id, project.alias
        ),
        project_alias: project.alias,
        branch_id: branch.id,
        branch_name: branch.name,
        description: branch.description,
        created: branch.created.unwrap_or_default(),
        activated: true,
    })
}
