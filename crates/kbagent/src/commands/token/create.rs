//! `token create`: mint a token through the authority ladder; its secret is shown once.

use std::collections::BTreeMap;

use keboola_api::CreateTokenRequest;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::authority::{self, Authority};
use crate::commands::shared::ProjectArg;
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{BOLD, Printer, YELLOW};
use crate::select::{load_and_select, verify_project};

pub(crate) const META: Meta = Meta::new(
    OpClass::Admin,
    "Mint a new token; its secret is shown once",
    "Examples:\n  kbagent token create --project prod --description reader --bucket-read in.c-crm --expires-in 3600\n  kbagent --allow-env-manage-token --json token create --project prod --description ci --component-access keboola.ex-db-snowflake",
)
.also(&[OpClass::Write])
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Description of the new token
    #[arg(long)]
    pub description: String,
    /// Expire after this many seconds (default: never)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    pub expires_in: Option<u64>,
    /// Allow access to a component's configurations (repeatable)
    #[arg(long, value_name = "COMPONENT_ID")]
    pub component_access: Vec<String>,
    /// Read access to a bucket (repeatable)
    #[arg(long, value_name = "BUCKET_ID")]
    pub bucket_read: Vec<String>,
    /// Write access to a bucket (repeatable; wins over --bucket-read for the same bucket)
    #[arg(long, value_name = "BUCKET_ID")]
    pub bucket_write: Vec<String>,
    /// Full access to all buckets (and so to all components' configurations)
    #[arg(long)]
    pub can_manage_buckets: bool,
    /// Read all file uploads
    #[arg(long)]
    pub can_read_all_file_uploads: bool,
}

/// Keboola's new token object, with the project alias, the authority that minted it and
/// the secret added.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    #[serde(flatten)]
    pub token_object: Map<String, Value>,
    pub alias: String,
    pub authority: Authority,
    /// The full secret: the one place this command reveals a token, by request.
    pub token: String,
    #[serde(skip)]
    #[schemars(skip)]
    description: String,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        format!(
            "{} token {} (\"{}\") on project '{}' via {}.\n{} {}\n{}\n",
            p.paint(BOLD, "Created"),
            self.token_object
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            self.description,
            self.alias,
            authority_label(self.authority),
            p.paint(BOLD, "Token:"),
            self.token,
            p.paint(
                YELLOW,
                "This secret is shown only once; store it somewhere safe now."
            ),
        )
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    if args.description.trim().is_empty() {
        return Err(CliError::invalid_argument(
            "The token description must not be empty",
        ));
    }
    let mut buckets = BTreeMap::new();
    for b in &args.bucket_read {
        buckets.insert(b.clone(), "read".to_owned());
    }
    for b in &args.bucket_write {
        buckets.insert(b.clone(), "write".to_owned());
    }
    let request = CreateTokenRequest {
        description: Some(args.description.clone()),
        expires_in: args.expires_in,
        component_access: args.component_access.clone(),
        bucket_permissions: buckets,
        can_manage_buckets: args.can_manage_buckets,
        can_read_all_file_uploads: args.can_read_all_file_uploads,
        ..CreateTokenRequest::default()
    };
    let project = load_and_select(ctx, args.project.get())?;
    let info = verify_project(ctx, &project)?;
    let minted = authority::mint_child(ctx, &project, &info, &request, "token create")?;
    Ok(Output {
        token_object: object(minted.token.info.raw.clone()),
        alias: project.alias,
        authority: minted.authority,
        token: minted.token.secret.expose().to_owned(),
        description: args.description.clone(),
    })
}

/// A Keboola object as a map (anything else, which the API does not send, as an empty one).
pub(super) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn authority_label(a: Authority) -> &'static str {
    match a {
        Authority::StorageMaster => "the project's master token",
        Authority::ManageApi => "the Manage API",
    }
}
