//! `kbagent token ...`: list, mint, rotate and revoke Storage API tokens of a project.
//!
//! Minting goes through the token authority ladder (`crate::authority`). The secret of a
//! newly minted or rotated token is shown once, in this command's result, and nowhere else.

use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;

use super::shared::{ProjectArg, token_id};
use super::verbs;
use crate::output::Printer;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent token list --project prod
  kbagent token create --project prod --description ci --expires-in 86400 --component-access keboola.ex-db-snowflake
  kbagent token refresh --project prod --token-id 1234
  kbagent token delete --project prod --token-id 1234 --yes";

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

verbs!(TokenCommand {
    "list" => List(list),
    "create" => Create(create),
    "refresh" => Refresh(refresh),
    "delete" => Delete(delete),
});

/// `--token-id ID [--yes]` of the verbs that act on one token.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the token
    #[arg(long, value_name = "ID", value_parser = token_id)]
    pub token_id: u64,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Deleted,
    Aborted,
}

/// The result of a verb that changed (or, when not confirmed, did not change) one token.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TokenOutcome {
    pub status: Outcome,
    pub alias: String,
    pub token_id: String,
}

impl TokenOutcome {
    fn human(&self, _: &Printer) -> String {
        match self.status {
            Outcome::Deleted => format!("Deleted token {}.\n", self.token_id),
            Outcome::Aborted => "Aborted; nothing was changed.\n".to_owned(),
        }
    }
}

/// The id of a token from its string (`<projectId>-<tokenId>-<secret>`), without a request.
/// A number: ids are compared as numbers, never as text.
fn id_from_secret(secret: &str) -> Option<u64> {
    let mut parts = secret.splitn(3, '-');
    let (_, id, _) = (parts.next()?, parts.next()?, parts.next()?);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_id_from_secret() {
        assert_eq!(id_from_secret("901-1234-abcdef"), Some(1234));
        assert_eq!(id_from_secret("901-01234-abcdef"), Some(1234));
        assert_eq!(id_from_secret("901--abcdef"), None);
        assert_eq!(id_from_secret("901-12x4-abcdef"), None);
        assert_eq!(id_from_secret("nodashes"), None);
    }
}
