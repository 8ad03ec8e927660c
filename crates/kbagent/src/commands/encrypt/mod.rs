//! `kbagent encrypt ...`: turn secrets into Keboola ciphers before they go into a
//! configuration. One line per verb below.

use clap::Args;

use super::verbs;

pub(crate) const EXAMPLES: &str = "\
Examples:
  kbagent encrypt values --component-id keboola.ex-db-snowflake --input '{\"#password\": \"s3cret\"}'
  kbagent encrypt values --component-id keboola.ex-db-snowflake --config-id 123 --input @secrets.json";

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    #[command(subcommand)]
    pub command: EncryptCommand,
}

verbs!(EncryptCommand {
    "values" => Values(values),
});
