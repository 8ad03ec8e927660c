//! `kbagent version`.

use schemars::JsonSchema;
use serde::Serialize;

use super::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::Printer;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "Print the kbagent version",
    "Examples:\n  kbagent version\n  kbagent --json version",
)
.no_config();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub version: &'static str,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("kbagent {}", self.version)
    }
}

pub(crate) fn run(_ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    Ok(Output {
        version: env!("CARGO_PKG_VERSION"),
    })
}
