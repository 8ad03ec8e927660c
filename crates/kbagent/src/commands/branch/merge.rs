//! `branch merge`: kbagent does not merge. Keboola merges a development branch in its UI
//! (the branch's development overview) or, on projects with merge requests, through a
//! merge request that is reviewed, approved and merged; this gives the UI link and says so.
//! Nothing is changed, locally or in Keboola.

use schemars::JsonSchema;
use serde::Serialize;

use super::dev_branch_id;
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{BranchId, Printer};
use crate::select::{BranchScope, load_and_select};

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Link to merging a branch in the Keboola UI (kbagent itself does not merge)",
    "Examples:\n  kbagent branch merge --project prod\n  kbagent branch merge --project prod --branch 1234",
)
.also(&[OpClass::Write]);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the branch [default: the project's active branch]
    #[arg(long, value_name = "ID", value_parser = dev_branch_id)]
    pub branch: Option<u64>,
}

const NOT_MERGED: &str = "kbagent does not merge branches. Merge in the Keboola UI at `url` (on projects with merge requests the UI opens one: it is reviewed, approved and then merged). After the merge, run `kbagent branch reset` so commands work in production again.";

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub project_alias: String,
    pub branch_id: BranchId,
    /// The branch's development overview in the Keboola UI, where it is merged.
    pub url: String,
    pub message: String,
    /// Why nothing was merged, and what to do instead.
    pub deprecation: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("Merge URL: {}\n\n{}\n", self.url, self.message)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let explicit = args.branch.map(|b| b.to_string());
    let Some(branch) = project.use_branch(ctx, explicit.as_deref(), BranchScope::Active) else {
        return Err(CliError::usage(format!(
            "No branch given and project '{}' has no active branch",
            project.alias
        ))
        .hint("Pass --branch ID, or pin one with `kbagent branch use`."));
    };
    let Some(project_id) = project.entry.project_id else {
        return Err(CliError::config(format!(
            "Project '{}' has no project id stored, so its UI address is unknown",
            project.alias
        ))
        .hint(format!(
            "Register it again with `kbagent project add --project {} ...`, which stores the id.",
            project.alias
        )));
    };
    let stack = project.entry.stack_url.as_str().trim_end_matches('/');
    Ok(Output {
        url: format!("{stack}/admin/projects/{project_id}/branch/{branch}/development-overview"),
        message: format!(
            "Open the URL to review and merge branch {branch} of project '{}'. Nothing was merged or changed.",
            project.alias
        ),
        deprecation: NOT_MERGED.to_owned(),
        project_alias: project.alias,
        branch_id: BranchId::parse(&branch),
    })
}
