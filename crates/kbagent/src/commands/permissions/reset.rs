//! `permissions reset`: remove the persisted policy, after a person typed the code.

use schemars::JsonSchema;
use serde::Serialize;

use super::Done;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;
use crate::permissions::confirm;

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Remove the persisted permission policy (a person types a confirmation code on a terminal)",
    "Examples:\n  kbagent permissions reset",
);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub status: Done,
    pub message: String,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        "Permission policy removed. All operations are allowed.\n".to_owned()
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let store = ctx.store()?;
    store.load()?;
    confirm::require_person(ctx, "remove the permission policy")?;
    store.update(|cfg| {
        cfg.permissions = None;
        Ok(())
    })?;
    Ok(Output {
        status: Done::Ok,
        message: "Permission policy removed".to_owned(),
    })
}
