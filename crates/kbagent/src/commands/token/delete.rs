//! `token delete`: delete a (non-master) token other than the one kbagent uses.

use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
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
    if id_from_secret(project.entry.token.expose()) == Some(args.token_id.as_str()) {
        return Err(CliError::invalid_argument(format!(
            "Token {} is the token kbagent uses for project '{}'; deleting it would lock kbagent out",
            args.token_id, project.alias
        ))
        .hint(format!("Use `kbagent project remove --project {}` to forget the project instead.", project.alias)));
    }
    let client = ctx.storage(&project)?;
    // Master tokens belong to people and cannot be deleted; say so clearly instead of
    // relaying the API's refusal. A token we may not read is left for the API to judge.
    match client.get_token(&args.token_id) {
        Ok(t) if t.is_master_token => {
            return Err(CliError::invalid_argument(format!(
                "Token {} is a master token (it belongs to the user {}); master tokens cannot be deleted",
                args.token_id,
                t.admin.as_ref().map_or("?", |a| a.name.as_str())
            ))
            .hint("Remove the user from the project in Keboola to revoke their master token."));
        }
        Err(e) if e.status() == Some(404) => return Err(project.api_error(&e)),
        _ => {}
    }
    let outcome = |status| TokenOutcome {
        status,
        alias: project.alias.clone(),
        token_id: args.token_id.clone(),
    };
    if !ctx.confirm(args.yes, &format!("Delete token {}?", args.token_id))? {
        return Ok(outcome(Outcome::Aborted));
    }
    client
        .delete_token(&args.token_id)
        .map_err(|e| project.api_error(&e))?;
    Ok(outcome(Outcome::Deleted))
}
