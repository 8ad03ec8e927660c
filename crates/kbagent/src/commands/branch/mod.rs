//! `kbagent branch ...`: development branches. `create`/`delete` run Keboola's Storage
//! jobs; `use`/`reset` pin or unpin a branch per project in config.json
//! (`active_branch_id`/`active_branch_name`, as the Python tool does), which every
//! branch-aware command then follows (see `Project::use_branch`). One line per verb below.

use clap::Args;

use super::verbs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{ActiveBranch, BranchId, BranchSource, Target};
use crate::select::{Project, unknown_project};

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent branch list --project prod
  kbagent branch create --project prod --name fix-revenue
  kbagent branch use --project prod --branch 1234
  kbagent branch current --project prod
  kbagent branch reset --project prod
  kbagent branch delete --project prod --branch 1234 --yes";

#[derive(Debug, Args)]
pub(crate) struct BranchArgs {
    #[command(subcommand)]
    pub command: BranchCommand,
}

verbs!(BranchCommand {
    "list" => List(list),
    "create" => Create(create),
    "use" => Use(use_),
    "current" => Current(current),
    "reset" => Reset(reset),
    "delete" => Delete(delete),
    "merge" => Merge(merge),
});

/// A development branch id: Keboola's are numbers.
pub(crate) fn dev_branch_id(id: &str) -> Result<u64, CliError> {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    match digits.then(|| id.parse::<u64>().ok()).flatten() {
        Some(n) if n > 0 => Ok(n),
        _ => Err(CliError::invalid_argument(format!(
            "Invalid branch id '{}': branch ids are positive numbers (see `kbagent branch list`)",
            id.escape_debug()
        ))),
    }
}

/// Pins `branch` (or unpins, `None`) as `project`'s active branch in config.json, under
/// the config lock. Nothing is written when the project is gone meanwhile.
pub(crate) fn pin(ctx: &Ctx<'_>, project: &Project, branch: Option<(u64, &str)>) -> CliResult<()> {
    let store = ctx.store()?;
    store.update(|cfg| match cfg.projects.get_mut(&project.alias) {
        Some(entry) => {
            entry.set_active_branch(branch);
            Ok(())
        }
        None => Err(unknown_project(cfg, store, &project.alias)),
    })
}

/// Names the branch just pinned as the command's target: the branch this project's
/// branch-aware commands now work in.
pub(crate) fn announce(ctx: &Ctx<'_>, alias: &str, id: u64, name: &str) {
    let active = ActiveBranch {
        branch_id: BranchId::Number(id),
        branch_name: Some(name.to_owned()),
    };
    let mut target = Target::new(alias, Some(&id.to_string()), Some(active));
    target.branch_source = BranchSource::Active;
    target.branch_name = Some(name.to_owned());
    ctx.printer.target(target);
}
