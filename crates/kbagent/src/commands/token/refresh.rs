//! `token refresh`: rotate a token's secret; the new secret is shown once. Rotating the
//! token kbagent itself uses for the project updates the stored one.

use keboola_api::Token;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::create::object;
use super::{Outcome, TokenOutcome, id_from_secret};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::select::{Project, load_and_select};
use crate::store::TokenSwap;

pub(crate) const META: Meta = Meta::new(
    OpClass::Destructive,
    "Rotate a token's secret; the new secret is shown once",
    "Examples:\n  kbagent token refresh --project prod --token-id 1234 --yes",
)
.network();

pub(crate) type Args = super::IdArgs;

/// Keboola's token object with the new secret, or `aborted` when not confirmed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Output {
    Rotated(Rotated),
    Aborted(TokenOutcome),
}

/// Keboola's token object after rotation, with the new secret.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Rotated {
    #[serde(flatten)]
    pub token_object: Map<String, Value>,
    pub alias: String,
    /// The new secret, revealed by request.
    pub token: String,
    /// Whether this was the stored token of the project (and the config now holds the new one).
    pub stored_token_updated: bool,
    #[serde(skip)]
    #[schemars(skip)]
    token_id: String,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        let r = match self {
            Self::Aborted(a) => return a.human(p),
            Self::Rotated(r) => r,
        };
        let mut human = format!("Rotated token {}.\nToken: {}\n", r.token_id, r.token);
        if r.stored_token_updated {
            human.push_str(&format!("The new secret is stored for '{}'.\n", r.alias));
        } else {
            human.push_str("This secret is shown only once; store it somewhere safe now.\n");
        }
        human
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let id = args.token_id.to_string();
    let is_stored = id_from_secret(project.entry.token.expose()) == Some(args.token_id);
    if is_stored {
        // A headless session could not store the rotated secret: refuse before rotating.
        ctx.store()?.check_writable()?;
    }
    if !args.yes {
        let what = if is_stored {
            " (the token kbagent uses for this project; the config will be updated)"
        } else {
            ""
        };
        if !ctx.confirm(args.yes, &format!(
            "Rotate token {id}{what} of project '{}'? Its current secret stops working at once.",
            project.alias
        ))? {
            return Ok(Output::Aborted(TokenOutcome {
                status: Outcome::Aborted,
                alias: project.alias,
                token_id: id,
            }));
        }
    }
    let rotated = ctx
        .storage(&project)?
        .refresh_token(&id)
        .map_err(|e| project.api_error(&e))?;
    if is_stored {
        store_rotated(ctx, &project, &id, &rotated.secret)?;
    }
    Ok(Output::Rotated(Rotated {
        token_object: object(rotated.info.raw.clone()),
        alias: project.alias,
        token: rotated.secret.expose().to_owned(),
        stored_token_updated: is_stored,
        token_id: id,
    }))
}

/// Replaces the stored token with its rotated secret, but only if it is still the token that
/// was rotated: another process may have changed it meanwhile, and its change wins. Whenever
/// the new secret is not stored, the error carries it: the old one no longer works.
fn store_rotated(ctx: &Ctx<'_>, project: &Project, id: &str, secret: &Token) -> CliResult<()> {
    let alias = &project.alias;
    let swap = ctx
        .store()
        .and_then(|s| s.swap_token(alias, &project.entry.token, secret.clone()));
    let conflict = |why: &str| {
        CliError::new(
            ErrorCode::ConfigConflict,
            format!("Token {id} was rotated, but {why}; the config was left as it is and the new secret was not stored"),
        )
    };
    let err = match swap {
        Ok(TokenSwap::Swapped) => return Ok(()),
        Ok(TokenSwap::Changed) => conflict(&format!(
            "the token stored for project '{alias}' was changed by another process meanwhile"
        )),
        Ok(TokenSwap::Missing) => conflict(&format!(
            "project '{alias}' was removed from the config meanwhile"
        )),
        Err(e) => e.reworded(|m| {
            format!("{m} (token {id} was rotated, but the new secret could not be stored)")
        }),
    };
    Err(err
        .project(alias.clone())
        .reveal(
            format!(
                "Save this now: token {id} was rotated and its old secret no longer works, but the new secret below was not stored; this is the only copy."
            ),
            secret.clone(),
        )
        .hint(format!(
            "To use the new secret for '{alias}', store it with `kbagent project edit --project {alias} --token-stdin`."
        )))
}
