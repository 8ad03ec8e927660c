//! `token delete`: delete a (non-master) token other than the one kbagent uses.

use keboola_api::TokenInfo;

use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{self, Printer};
use crate::select::load_and_select;

use super::{Outcome, TokenOutcome, id_from_secret};

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Delete a (non-master) token",
    "Examples:\n  kbagent token delete --project prod --token-id 1234 --yes",
)
.network();

pub(crate) type Args = super::IdArgs;

pub(crate) type Output = TokenOutcome;

impl CommandOutput for TokenOutcome {
    fn human(&self, p: &Printer) -> String {
        TokenOutcome::human(self, p)
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let id = args.token_id.to_string();
    if id_from_secret(project.entry.token.expose()) == Some(args.token_id) {
        return Err(CliError::invalid_argument(format!(
            "Token {id} is the token kbagent uses for project '{}'; deleting it would lock kbagent out",
            project.alias
        ))
        .hint(format!("Use `kbagent project remove --project {}` to forget the project instead.", project.alias)));
    }
    let client = ctx.storage(&project)?;
    // Master tokens belong to people and cannot be deleted; say so clearly instead of
    // relaying the API's refusal. A token we may not read is left for the API to judge.
    let detail = match client.get_token(&id) {
        Ok(t) if t.is_master_token => {
            return Err(CliError::invalid_argument(format!(
                "Token {id} is a master token (it belongs to the user {}); master tokens cannot be deleted",
                t.admin.as_ref().map_or("?", |a| a.name.as_str())
            ))
            .hint("Remove the user from the project in Keboola to revoke their master token."));
        }
        Ok(t) => Some(t),
        Err(e) if e.status() == Some(404) => return Err(project.api_error(&e)),
        Err(_) => None,
    };
    let outcome = |status| TokenOutcome {
        status,
        alias: project.alias.clone(),
        token_id: id.clone(),
    };
    if !ctx.confirm(args.yes, &question(&id, detail.as_ref(), &project.alias))? {
        return Ok(outcome(Outcome::Aborted));
    }
    client
        .delete_token(&id)
        .map_err(|e| project.api_error(&e))?;
    Ok(outcome(Outcome::Deleted))
}

/// The confirmation question: which token, by its description, of which project.
fn question(id: &str, detail: Option<&TokenInfo>, alias: &str) -> String {
    let what = match detail.map(|t| t.description.as_deref()) {
        Some(Some(d)) if !d.trim().is_empty() => format!(" ({:?})", output::masked(d)),
        Some(_) => " (no description)".to_owned(),
        None => " (its details could not be read)".to_owned(),
    };
    format!("Delete token {id}{what} of project '{alias}'?")
}
