//! `token refresh`: rotate a token's secret; the new secret is shown once. Rotating the
//! token kbagent itself uses for the project updates the stored one.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::create::object;
use super::{Outcome, TokenOutcome, id_from_secret};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::select::load_and_select;

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
    let stored_id = id_from_secret(project.entry.token.expose()).map(str::to_owned);
    let is_stored = stored_id.as_deref() == Some(args.token_id.as_str());
    if !args.yes {
        let what = if is_stored {
            " (the token kbagent uses for this project; the config will be updated)"
        } else {
            ""
        };
        if !ctx.confirm(args.yes, &format!(
            "Rotate token {}{what}? Its current secret stops working at once.",
            args.token_id
        ))? {
            return Ok(Output::Aborted(TokenOutcome {
                status: Outcome::Aborted,
                alias: project.alias,
                token_id: args.token_id.clone(),
            }));
        }
    }
    let rotated = ctx
        .storage(&project)?
        .refresh_token(&args.token_id)
        .map_err(|e| project.api_error(&e))?;
    if is_stored {
        let alias = project.alias.clone();
        let secret = rotated.secret.clone();
        ctx.store()?
            .update(move |cfg| {
                if let Some(entry) = cfg.projects.get_mut(&alias) {
                    entry.token = secret;
                }
                Ok(())
            })
            .map_err(|e| {
                e.reworded(|m| format!(
                    "{m} (token {} was rotated but the new secret could not be stored; it is in this error's details)",
                    args.token_id
                ))
                .detail("token", rotated.secret.expose().to_owned())
            })?;
    }
    Ok(Output::Rotated(Rotated {
        token_object: object(rotated.info.raw.clone()),
        alias: project.alias,
        token: rotated.secret.expose().to_owned(),
        stored_token_updated: is_stored,
        token_id: args.token_id.clone(),
    }))
}
