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
    /// The Python kbagent's shape of the same answer, for scripts written against it.
    pub kbagent: VersionInfo,
}

/// kbagent does not look for newer releases (it makes no request it was not asked for),
/// so the update fields are always empty.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct VersionInfo {
    pub version: &'static str,
    pub latest_version: Option<String>,
    pub up_to_date: Option<bool>,
    pub upgrade_command: &'static str,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        format!("kbagent {}", self.version)
    }
}

pub(crate) fn run(_ctx: &Ctx<'_>, _args: &Args) -> CliResult<Output> {
    let version = env!("CARGO_PKG_VERSION");
    Ok(Output {
        version,
        kbagent: VersionInfo {
            version,
            latest_version: None,
            up_to_date: None,
            upgrade_command: "",
        },
    })
}
