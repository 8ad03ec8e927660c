//! `kbagent project ...`: register projects, inspect them, switch between them, and mint
//! fresh project tokens through the Manage API. One line per verb below.

mod rows;

use clap::Args;

use super::verbs;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent project add --project prod --url https://connection.keboola.com --token-stdin < token.txt
  kbagent project list
  kbagent project use prod
  kbagent project status
  kbagent project refresh --project prod";

#[derive(Debug, Args)]
pub(crate) struct ProjectArgs {
    #[command(subcommand)]
    pub command: ProjectCommand,
}

verbs!(ProjectCommand {
    "add" => Add(add),
    "list" => List(list),
    "remove" => Remove(remove),
    "edit" => Edit(edit),
    "use" => Use(use_),
    "current" => Current(current),
    "status" => Status(status),
    "info" => Info(info),
    "refresh" => Refresh(refresh),
});
