//! `encrypt values`: ciphers for `#` keys through the Encryption API. The plain text goes
//! only to the Encryption API; the output holds the ciphers alone.

use std::io::{Read as _, Write as _};

use keboola_api::{EncryptionClient, EncryptionScope};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::commands::shared::{ProjectArg, component_id, config_id};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Printer;
use crate::select::load_and_select;

pub(crate) const META: Meta = Meta::new(
    OpClass::Write,
    "Encrypt #-prefixed secret values for a component (and optionally one configuration)",
    "Examples:
  kbagent encrypt values --component-id keboola.ex-db-snowflake --input '{\"#password\": \"s3cret\"}'
  echo '{\"#token\": \"abc\"}' | kbagent encrypt values --component-id keboola.ex-db-snowflake --input -
  kbagent encrypt values --component-id keboola.ex-db-snowflake --config-id 123 --input @secrets.json

Scope: the project and component (KBC::ProjectSecure::); with --config-id only that
configuration can decrypt (KBC::ConfigSecure::). Values already encrypted (KBC::...) pass
through. Every key must start with '#'.",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_name = "COMPONENT_ID", value_parser = component_id)]
    pub component_id: String,
    /// Bind the ciphers to this configuration
    #[arg(long, value_name = "CONFIG_ID", value_parser = config_id)]
    pub config_id: Option<String>,
    /// A JSON object {"#key": "value"}: inline, @FILE, or '-' for stdin
    #[arg(long, value_name = "JSON")]
    pub input: String,
    /// Also write the ciphers to FILE (created with mode 0600)
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<std::path::PathBuf>,
}

/// The input's keys with their ciphers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub values: Map<String, Value>,
}

impl CommandOutput for Output {
    fn human(&self, _: &Printer) -> String {
        self.values
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", v.as_str().unwrap_or_default()))
            .collect()
    }
}

fn input(arg: &str) -> CliResult<Map<String, Value>> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::usage(format!("Cannot read --input from stdin: {e}")))?;
        s
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("Cannot read --input file '{path}': {e}")))?
    } else {
        arg.to_owned()
    };
    // The error never quotes the text: it may be a secret.
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) else {
        return Err(CliError::usage(
            "--input must be a JSON object of \"#key\": \"value\" pairs",
        ));
    };
    if map.is_empty() {
        return Err(CliError::usage("--input has no values to encrypt"));
    }
    for (k, v) in &map {
        if !k.starts_with('#') {
            return Err(CliError::usage(format!(
                "Key '{}' does not start with '#': only '#' keys are secrets Keboola decrypts",
                k.escape_debug()
            )));
        }
        if !v.is_string() {
            return Err(CliError::usage(format!(
                "The value of '{}' must be a string",
                k.escape_debug()
            )));
        }
    }
    Ok(map)
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let values = input(&args.input)?;
    let project = load_and_select(ctx, args.project.get())?;
    project.declare_target(ctx, None);
    let scope = EncryptionScope {
        component_id: args.component_id.clone(),
        project_id: Some(crate::commands::config::project_id(ctx, &project)?),
        config_id: args.config_id.clone(),
    };
    let answer = EncryptionClient::new(ctx.http()?, &project.entry.stack_url)
        .encrypt(&scope, &values)
        .map_err(|e| project.api_error(&e))?;
    // Only ciphers leave: anything still plain is refused rather than printed.
    for k in values.keys() {
        let ok = answer
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(keboola_api::is_encrypted);
        if !ok {
            return Err(CliError::unexpected(format!(
                "The Encryption API returned no cipher for '{}'",
                k.escape_debug()
            )));
        }
    }
    let values: Map<String, Value> = values
        .keys()
        .map(|k| (k.clone(), answer[k].clone()))
        .collect();
    if let Some(path) = &args.output_file {
        write_private(path, &values)?;
    }
    Ok(Output { values })
}

fn write_private(path: &std::path::Path, values: &Map<String, Value>) -> CliResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let text = serde_json::to_string_pretty(values).unwrap_or_default();
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.write_all(b"\n")))
        .map_err(|e| CliError::usage(format!("Cannot write '{}': {e}", path.display())))
}
