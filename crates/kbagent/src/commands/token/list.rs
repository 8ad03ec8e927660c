//! `token list`: the project's tokens as Keboola returns them (never their secrets).

use keboola_api::TokenInfo;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::commands::shared::{ProjectArg, yes_no};
use crate::commands::{CommandOutput, Meta, OpClass};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output::{Printer, Table, Warning, WarningCode, cell};
use crate::select::load_and_select;

use super::id_from_secret;

pub(crate) const META: Meta = Meta::new(
    OpClass::Read,
    "List the project's tokens (never their secrets)",
    "Examples:\n  kbagent token list --project prod\n  kbagent --json token list --project prod",
)
.network();

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Output {
    pub alias: String,
    pub count: usize,
    /// Keboola's token objects, passed through.
    pub tokens: Vec<Value>,
    #[serde(skip)]
    #[schemars(skip)]
    parsed: Vec<TokenInfo>,
}

impl CommandOutput for Output {
    fn human(&self, p: &Printer) -> String {
        if self.parsed.is_empty() {
            return "No tokens visible.\n".to_owned();
        }
        let mut t = Table::new([
            "ID",
            "DESCRIPTION",
            "MASTER",
            "PRIVILEGES",
            "EXPIRES",
            "CREATED BY",
        ]);
        for tok in &self.parsed {
            t.row([
                tok.id.clone(),
                cell(tok.description.as_deref()),
                yes_no(tok.is_master_token).to_owned(),
                privilege_summary(tok),
                tok.expires.clone().unwrap_or_else(|| "never".into()),
                creator(tok),
            ]);
        }
        t.render(p.stdout_is_terminal())
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, args: &Args) -> CliResult<Output> {
    let project = load_and_select(ctx, args.project.get())?;
    let tokens = ctx
        .storage(&project)?
        .list_tokens()
        .map_err(|e| project.api_error(&e))?;
    // Keboola answers a token that cannot manage tokens with a list of just itself, which
    // looks like a project with one token.
    let own_id = id_from_secret(project.entry.token.expose());
    let own = tokens
        .iter()
        .find(|t| own_id.is_some() && t.id.parse::<u64>().ok() == own_id)
        .or_else(|| tokens.first().filter(|_| tokens.len() == 1));
    if let Some(own) = own.filter(|t| !t.can_manage_tokens) {
        ctx.printer.warn(
            Warning::new(
                WarningCode::OwnTokenOnly,
                format!(
                    "The token of project '{}' (id {}) cannot manage tokens, so Keboola lists only that token; the project may have others.",
                    project.alias, own.id
                ),
            )
            .hint(format!(
                "To see every token, store a token that can manage tokens (an admin's master token): `kbagent project edit --project {} --token-stdin`.",
                project.alias
            ))
            .with("project_alias", project.alias.clone()),
        );
    }
    Ok(Output {
        alias: project.alias,
        count: tokens.len(),
        tokens: tokens.iter().map(|t| t.raw.clone()).collect(),
        parsed: tokens,
    })
}

fn creator(tok: &TokenInfo) -> String {
    if let Some(admin) = &tok.admin {
        return format!("user {}", admin.name);
    }
    tok.creator_token.as_ref().map_or_else(
        || "-".to_owned(),
        |c| {
            format!(
                "token {} ({})",
                c.id,
                c.description.clone().unwrap_or_default()
            )
        },
    )
}

fn privilege_summary(tok: &TokenInfo) -> String {
    let mut parts = Vec::new();
    if tok.can_manage_tokens {
        parts.push("manage tokens".to_owned());
    }
    if tok.can_manage_buckets {
        parts.push("manage buckets".to_owned());
    }
    if tok.can_read_all_file_uploads {
        parts.push("read files".to_owned());
    }
    if !tok.component_access.is_empty() {
        parts.push(format!("components: {}", tok.component_access.join(",")));
    }
    if !tok.can_manage_buckets && !tok.bucket_permissions.is_empty() {
        let b: Vec<String> = tok
            .bucket_permissions
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        parts.push(format!("buckets: {}", b.join(",")));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join("; ")
    }
}
