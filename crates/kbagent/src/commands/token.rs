//! `kbagent token ...`: list, mint, rotate and revoke Storage API tokens of a project.
//!
//! Minting goes through the token authority ladder (`crate::authority`). The secret of a
//! newly minted or rotated token is shown once, in this command's result, and nowhere else.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use keboola_api::{CreateTokenRequest, TokenInfo};
use serde_json::{Value, json};

use super::{Ctx, Project, ProjectArg, confirm, select_project, verify_project};
use crate::authority::{self, Authority};
use crate::error::{CliError, CliResult};
use crate::output::{BOLD, Report, Table, YELLOW, cell};

pub const EXAMPLES: &str = "\
Examples:
  kbagent token list --project prod
  kbagent token create --project prod --description ci --expires-in 86400 --component-access keboola.ex-db-snowflake
  kbagent token refresh --project prod --token-id 1234
  kbagent token delete --project prod --token-id 1234 --yes";

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List the project's tokens (never their secrets)
    #[command(
        after_help = "Examples:\n  kbagent token list --project prod\n  kbagent --json token list --project prod"
    )]
    List(ListArgs),
    /// Mint a new token; its secret is shown once
    #[command(
        after_help = "Examples:\n  kbagent token create --project prod --description reader --bucket-read in.c-crm --expires-in 3600\n  kbagent --allow-env-manage-token --json token create --project prod --description ci --component-access keboola.ex-db-snowflake"
    )]
    Create(CreateArgs),
    /// Rotate a token's secret; the new secret is shown once
    #[command(
        after_help = "Examples:\n  kbagent token refresh --project prod --token-id 1234 --yes"
    )]
    Refresh(IdArgs),
    /// Delete a (non-master) token
    #[command(
        after_help = "Examples:\n  kbagent token delete --project prod --token-id 1234 --yes"
    )]
    Delete(IdArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
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

#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Id of the token
    #[arg(long, value_name = "ID")]
    pub token_id: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

pub fn run(ctx: &Ctx<'_>, args: TokenArgs) -> CliResult<Report> {
    match args.command {
        TokenCommand::List(a) => list(ctx, &a),
        TokenCommand::Create(a) => create(ctx, &a),
        TokenCommand::Refresh(a) => refresh(ctx, &a),
        TokenCommand::Delete(a) => delete(ctx, &a),
    }
}

fn project(ctx: &Ctx<'_>, alias: Option<&str>) -> CliResult<Project> {
    let cfg = ctx.store()?.load()?;
    select_project(ctx, &cfg, alias)
}

fn validate_id(id: &str) -> CliResult<()> {
    if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(CliError::invalid_argument(format!(
            "Invalid token id '{}': token ids are numbers",
            id.escape_debug()
        )))
    }
}

/// The id of a token from its string (`<projectId>-<tokenId>-<secret>`), without a request.
fn id_from_secret(secret: &str) -> Option<&str> {
    let mut parts = secret.splitn(3, '-');
    let (_, id, _) = (parts.next()?, parts.next()?, parts.next()?);
    id.bytes().all(|b| b.is_ascii_digit()).then_some(id)
}

fn list(ctx: &Ctx<'_>, args: &ListArgs) -> CliResult<Report> {
    let project = project(ctx, args.project.alias.as_deref())?;
    let tokens = ctx
        .storage(&project)?
        .list_tokens()
        .map_err(|e| project.api_error(&e))?;
    let mut t = Table::new([
        "ID",
        "DESCRIPTION",
        "MASTER",
        "PRIVILEGES",
        "EXPIRES",
        "CREATED BY",
    ]);
    for tok in &tokens {
        t.row([
            tok.id.clone(),
            cell(tok.description.as_deref()),
            if tok.is_master_token { "yes" } else { "no" }.to_owned(),
            privilege_summary(tok),
            tok.expires.clone().unwrap_or_else(|| "never".into()),
            creator(tok),
        ]);
    }
    let human = if tokens.is_empty() {
        "No tokens visible.\n".to_owned()
    } else {
        t.render(ctx.printer.stdout_is_terminal())
    };
    let raw: Vec<Value> = tokens.iter().map(|t| t.raw.clone()).collect();
    Ok(Report::new(
        json!({"alias": project.alias, "count": tokens.len(), "tokens": raw}),
        human,
    ))
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

fn create(ctx: &Ctx<'_>, args: &CreateArgs) -> CliResult<Report> {
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
    let project = project(ctx, args.project.alias.as_deref())?;
    let info = verify_project(ctx, &project)?;
    let minted = authority::mint_child(ctx, &project, &info, &request, "token create")?;
    let secret = minted.token.secret.expose().to_owned();
    let mut data = minted.token.info.raw.clone();
    if let Value::Object(map) = &mut data {
        map.insert("alias".into(), json!(project.alias));
        map.insert("authority".into(), json!(minted.authority.as_str()));
        // The one place this command reveals a token: the caller asked for it.
        map.insert("token".into(), json!(secret));
    }
    let p = ctx.printer;
    let human = format!(
        "{} token {} (\"{}\") on project '{}' via {}.\n{} {}\n{}\n",
        p.paint(BOLD, "Created"),
        minted.token.info.id,
        args.description,
        project.alias,
        authority_label(minted.authority),
        p.paint(BOLD, "Token:"),
        secret,
        p.paint(
            YELLOW,
            "This secret is shown only once; store it somewhere safe now."
        ),
    );
    Ok(Report::new(data, human))
}

fn authority_label(a: Authority) -> &'static str {
    match a {
        Authority::StorageMaster => "the project's master token",
        Authority::ManageApi => "the Manage API",
    }
}

fn refresh(ctx: &Ctx<'_>, args: &IdArgs) -> CliResult<Report> {
    validate_id(&args.token_id)?;
    let project = project(ctx, args.project.alias.as_deref())?;
    let stored_id = id_from_secret(project.entry.token.expose()).map(str::to_owned);
    let is_stored = stored_id.as_deref() == Some(args.token_id.as_str());
    if !args.yes && ctx.printer.interactive() {
        let what = if is_stored {
            " (the token kbagent uses for this project; the config will be updated)"
        } else {
            ""
        };
        if !confirm(
            ctx,
            &format!(
                "Rotate token {}{what}? Its current secret stops working at once.",
                args.token_id
            ),
        )? {
            return Ok(aborted(&project, &args.token_id));
        }
    }
    let rotated = ctx
        .storage(&project)?
        .refresh_token(&args.token_id)
        .map_err(|e| project.api_error(&e))?;
    let mut stored_updated = false;
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
            .map_err(|e| CliError {
                message: format!(
                    "{} (token {} was rotated but the new secret could not be stored; it is in this error's details)",
                    e.message, args.token_id
                ),
                ..e
            }
            .detail("token", rotated.secret.expose().to_owned()))?;
        stored_updated = true;
    }
    let secret = rotated.secret.expose().to_owned();
    let mut data = rotated.info.raw.clone();
    if let Value::Object(map) = &mut data {
        map.insert("alias".into(), json!(project.alias));
        map.insert("token".into(), json!(secret));
        map.insert("stored_token_updated".into(), json!(stored_updated));
    }
    let mut human = format!("Rotated token {}.\nToken: {secret}\n", args.token_id);
    if stored_updated {
        human.push_str(&format!(
            "The new secret is stored for '{}'.\n",
            project.alias
        ));
    } else {
        human.push_str("This secret is shown only once; store it somewhere safe now.\n");
    }
    Ok(Report::new(data, human))
}

fn aborted(project: &Project, id: &str) -> Report {
    Report::new(
        json!({"status": "aborted", "alias": project.alias, "token_id": id}),
        "Aborted; nothing was changed.\n",
    )
}

fn delete(ctx: &Ctx<'_>, args: &IdArgs) -> CliResult<Report> {
    validate_id(&args.token_id)?;
    let project = project(ctx, args.project.alias.as_deref())?;
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
    if !args.yes
        && ctx.printer.interactive()
        && !confirm(ctx, &format!("Delete token {}?", args.token_id))?
    {
        return Ok(aborted(&project, &args.token_id));
    }
    client
        .delete_token(&args.token_id)
        .map_err(|e| project.api_error(&e))?;
    Ok(Report::new(
        json!({"status": "deleted", "alias": project.alias, "token_id": args.token_id}),
        format!("Deleted token {}.\n", args.token_id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_id_from_secret() {
        assert_eq!(id_from_secret("901-1234-abcdef"), Some("1234"));
        assert_eq!(id_from_secret("901-12x4-abcdef"), None);
        assert_eq!(id_from_secret("nodashes"), None);
    }
}
