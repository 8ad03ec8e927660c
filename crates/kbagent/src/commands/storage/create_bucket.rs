//! `storage create-bucket`: a new bucket (`in` or `out` stage).

use keboola_api::CreateBucket;
use schemars::JsonSchema;
use serde::Serialize;

use super::writes::{legacy_branch_storage, name};
use crate::commands::shared::{BranchArg, ProjectArg};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Create a storage bucket",
    "Examples:
  kbagent storage create-bucket --project prod --stage in --name sales
  kbagent storage create-bucket --stage out --name reports --description 'Monthly reports'",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// `in` (input data) or `out` (results)
    #[arg(long, value_name = "STAGE", value_parser = ["in", "out"])]
    pub stage: String,
    /// Bucket name without the `c-` prefix (`sales` makes `in.c-sales`)
    #[arg(long, value_name = "NAME", value_parser = name)]
    pub name: String,
    /// A description of the bucket
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Storage backend (e.g. `snowflake`; default: the project's)
    #[arg(long, value_name = "BACKEND")]
    pub backend: Option<String>,
    #[command(flatten)]
    pub branch: BranchArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub id: String,
    pub display_name: String,
    pub stage: String,
    pub backend: Option<String>,
    pub description: Option<String>,
    /// With `--branch` on a project without `storage-branches`: jobs will not read the
    /// bucket.
    pub legacy_branch_storage: bool,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("Created bucket {} in project '{}'\n", self.id, self.project_alias)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let branch = project.use_branch(ctx, args.branch.branch.as_deref(), BranchScope::Active);
    let name = args.name.strip_prefix("c-").unwrap_or(&args.name).to_owned();
    let client = ctx
        .storage(&project)?
        .with_branch(branch.as_deref());
    let bucket = client
        .create_bucket(&CreateBucket {
            name,
            stage: args.stage.clone(),
            description: args.description.clone(),
            backend: args.backend.clone(),
            display_name: None,
        })
        .map_err(|e| project.api_error(&e))?;
    Ok(Output {
        project_alias: project.alias,
        display_name: if bucket.display_name.is_empty() {
            bucket.name.clone()
        } else {
            bucket.display_name
        },
        id: bucket.id,
        stage: bucket.stage,
        backend: bucket.backend,
        description: bucket.description.or_else(|| args.description.clone()),
        legacy_branch_storage: legacy_branch_storage(&client, branch.as_deref()),
    })
}
