//! The token authority ladder: how kbagent mints a child Storage API token from what it has.
//!
//! 1. The project's stored token is an admin master token (`isMasterToken` and
//!    `canManageTokens`): `POST /v2/storage/tokens` with the narrow scope.
//! 2. Otherwise a Manage API token is available: `POST /manage/projects/{id}/tokens` with
//!    the same narrow scope and without `canManageTokens`.
//! 3. Otherwise `MISSING_MASTER_TOKEN`, before any write.
//!
//! A Manage API token belongs to one stack (its user's account there). It is sent only to
//! that stack: every use goes through [`ManageCredential::client`], which refuses any other.
//!
//! A non-master token is never sent to `POST /v2/storage/tokens`: with `canManageTokens` the
//! Storage API answers 500 and may still create the token; without it, 403. Minting POSTs
//! are never retried.

use std::io::IsTerminal;

use keboola_api::{
    CreateTokenRequest, Http, ManageClient, NewToken, StackUrl, StorageClient, Token, TokenInfo,
};
use schemars::JsonSchema;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{Printer, Warning, WarningCode};
use crate::select::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Authority {
    StorageMaster,
    ManageApi,
}

impl Authority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StorageMaster => "storage-master",
            Self::ManageApi => "manage-api",
        }
    }
}

/// What a project's own token can do about child tokens, read from its verify response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MintPower {
    /// An admin (or share) master token: mints children with exactly the requested scope.
    Full,
    /// A guest master token: the API strips every privilege from its children (including
    /// `componentAccess`), so they are useless for OAuth.
    StrippedChildren,
    /// A read-only master token: the API refuses to mint.
    Refused,
    /// Not a master token: the API refuses (403) or fails (500 with `canManageTokens`).
    NotMaster,
}

impl MintPower {
    pub fn of(info: &TokenInfo) -> Self {
        if !info.is_master_token {
            return Self::NotMaster;
        }
        if info.can_manage_tokens {
            return Self::Full;
        }
        let read_only = info.admin.as_ref().and_then(|a| a.role.as_deref()) == Some("readOnly")
            || !info.can_manage_buckets;
        if read_only {
            Self::Refused
        } else {
            Self::StrippedChildren
        }
    }

    pub fn can_mint(self) -> bool {
        self == Self::Full
    }

    /// Whether the token mints child tokens, in a word or two for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "yes",
            Self::StrippedChildren => "no (guest)",
            Self::Refused => "no (read-only)",
            Self::NotMaster => "no (not master)",
        }
    }

    /// One sentence for people: what this token cannot do and why.
    pub fn limitation(self) -> Option<&'static str> {
        match self {
            Self::Full => None,
            Self::StrippedChildren => Some(
                "it is a guest's master token, so Keboola strips every privilege (including component access) from tokens it mints",
            ),
            Self::Refused => {
                Some("it is a read-only master token, which Keboola does not allow to mint tokens")
            }
            Self::NotMaster => {
                Some("it is not a master token, and only master tokens may mint child tokens")
            }
        }
    }
}

/// Which authority child-token commands will use for a project, given its token's power and
/// whether a Manage API token is available now.
pub fn planned_authority(power: MintPower, manage_available: bool) -> Option<Authority> {
    if power.can_mint() {
        Some(Authority::StorageMaster)
    } else if manage_available {
        Some(Authority::ManageApi)
    } else {
        None
    }
}

pub fn describe_plan(plan: Option<Authority>) -> &'static str {
    match plan {
        Some(Authority::StorageMaster) => "the project's master token",
        Some(Authority::ManageApi) => "a Manage API token",
        None => "none available without a Manage API token",
    }
}

/// The warning `project add` (and `project edit` with a new token) gives for a token that
/// cannot mint child tokens.
pub fn non_master_warning(alias: &str, info: &TokenInfo) -> Option<Warning> {
    let power = MintPower::of(info);
    let why = power.limitation()?;
    let description = info.description.as_deref().unwrap_or("");
    Some(
        Warning::new(
            WarningCode::NonMasterToken,
            format!(
                "The token for '{alias}' (id {}, \"{description}\") cannot mint child tokens: {why}. \
                 `kbagent config oauth-url` and `kbagent token create` need another way to mint.",
                info.id
            ),
        )
        .hint(format!(
            "Either store your own admin master token (`kbagent project edit --project {alias} --token-stdin`), \
             or give minting commands a Manage API token (hidden prompt, or KBC_MANAGE_API_TOKEN with \
             --allow-env-manage-token). --no-warn-non-master silences this warning."
        ))
        .with("alias", alias)
        .with("is_master_token", info.is_master_token)
        .with("can_manage_tokens", info.can_manage_tokens),
    )
}

/// Where to get a Manage API token, for prompts and hints.
pub const MANAGE_TOKEN_WHERE: &str = "A Manage API token is a personal access token of your Keboola user: create one in the Keboola UI under your account settings (user menu) -> Personal access tokens, on the stack of the project.";

/// A Manage API token and the stack it belongs to. Keboola issues it for one stack, so it is
/// sent to that stack only; [`Self::client`] is the one way to use it.
pub struct ManageCredential {
    token: Token,
    stack: StackUrl,
}

/// A Manage API token was about to be sent to a stack it does not belong to.
#[derive(Debug)]
pub struct OtherStack {
    pub token_stack: StackUrl,
    pub target: StackUrl,
}

impl OtherStack {
    pub fn message(&self, alias: &str) -> String {
        format!(
            "'{alias}' is on {}, but the Manage API token is for {}; it was not sent there and nothing was minted",
            self.target, self.token_stack
        )
    }

    pub fn hint(&self) -> String {
        format!(
            "Run again for the projects on {0} with `--url {0}` and a Manage API token of that stack.",
            self.target
        )
    }
}

impl ManageCredential {
    pub fn new(token: Token, stack: StackUrl) -> Self {
        Self { token, stack }
    }

    /// A Manage API client for `target`, only if that is the token's own stack.
    pub fn client(&self, http: &Http, target: &StackUrl) -> Result<ManageClient, OtherStack> {
        if target != &self.stack {
            return Err(OtherStack {
                token_stack: self.stack.clone(),
                target: target.clone(),
            });
        }
        Ok(ManageClient::new(http, &self.stack, &self.token))
    }
}

/// Where a Manage API token may come from in this run.
pub enum ManageTokenSource {
    Env(Token),
    Prompt,
    Unavailable { env_ignored: bool },
}

impl ManageTokenSource {
    pub fn detect(ctx: &Ctx<'_>) -> CliResult<Self> {
        let env_value = ctx.env.manage_api_token().filter(|v| !v.is_empty());
        if let Some(raw) = env_value
            && ctx.settings.allow_env_manage_token
        {
            let token = Token::new(raw.trim_end_matches(['\r', '\n'])).map_err(|e| {
                CliError::invalid_argument(format!(
                    "KBC_MANAGE_API_TOKEN is not a valid token: {e}"
                ))
            })?;
            return Ok(Self::Env(token));
        }
        if ctx.printer.interactive() && std::io::stdin().is_terminal() {
            return Ok(Self::Prompt);
        }
        Ok(Self::Unavailable {
            env_ignored: env_value.is_some(),
        })
    }

    pub fn available(&self) -> bool {
        !matches!(self, Self::Unavailable { .. })
    }

    /// The token for use on `stack` only, prompting (hidden) if that is the source; the
    /// prompt says `why` it is needed, where it will be sent and where to get one.
    pub fn credential(
        &self,
        printer: &Printer,
        why: &str,
        stack: &StackUrl,
    ) -> CliResult<ManageCredential> {
        let token = match self {
            Self::Env(t) => t.clone(),
            Self::Prompt => {
                printer.note(&format!(
                    "A Manage API token is needed to {why}. It is sent only to {stack}.\n{MANAGE_TOKEN_WHERE}"
                ));
                let raw = rpassword::prompt_password(format!(
                    "Manage API token for {stack} (input hidden): "
                ))
                .map_err(|e| CliError::invalid_argument(format!("Cannot read the token: {e}")))?;
                Token::new(raw.trim_end_matches(['\r', '\n'])).map_err(|e| {
                    CliError::invalid_argument(format!("The Manage API token is not valid: {e}"))
                })?
            }
            Self::Unavailable { env_ignored } => return Err(manage_token_missing(*env_ignored)),
        };
        Ok(ManageCredential::new(token, stack.clone()))
    }
}

pub fn manage_token_missing(env_ignored: bool) -> CliError {
    let mut err = CliError::usage("No Manage API token is available")
        .hint("Run in a terminal to be prompted (input hidden), or set KBC_MANAGE_API_TOKEN and pass the global --allow-env-manage-token.")
        .hint(MANAGE_TOKEN_WHERE);
    if env_ignored {
        err = err.hint("KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token.");
        err = err.detail("env_manage_token_ignored", true);
    }
    err
}

/// A child token minted for a command, with the authority that minted it.
pub struct Minted {
    pub token: NewToken,
    pub authority: Authority,
}

/// Mints a child token for `project` through the first available rung of the ladder.
/// `info` is the verify response of the project's stored token. `command` names the
/// command in the error text. Nothing is written before `MISSING_MASTER_TOKEN`.
pub fn mint_child(
    ctx: &Ctx<'_>,
    project: &Project,
    info: &TokenInfo,
    request: &CreateTokenRequest,
    command: &str,
) -> CliResult<Minted> {
    let power = MintPower::of(info);
    if power.can_mint() {
        let client =
            StorageClient::new(ctx.http()?, &project.entry.stack_url, &project.entry.token);
        let token = client
            .create_token(request)
            .map_err(|e| project.api_error(&e))?;
        return Ok(Minted {
            token,
            authority: Authority::StorageMaster,
        });
    }
    let source = ManageTokenSource::detect(ctx)?;
    if !source.available() {
        let env_ignored = matches!(source, ManageTokenSource::Unavailable { env_ignored: true });
        return Err(missing_master(
            project,
            info,
            power,
            command,
            request,
            env_ignored,
        ));
    }
    let project_id = project_id_of(project, info)?;
    let stack = &project.entry.stack_url;
    let credential = source.credential(
        ctx.printer,
        &format!(
            "mint a child token for `{command}` on project '{}'",
            project.alias
        ),
        stack,
    )?;
    let mut scoped = request.clone();
    // The Manage API would grant canManageTokens; a child never needs it, and with it the
    // token becomes one the Storage API cannot handle.
    scoped.can_manage_tokens = false;
    let client = credential
        .client(ctx.http()?, stack)
        .map_err(|e| CliError::usage(e.message(&project.alias)).hint(e.hint()))?;
    let token = client
        .create_project_token(project_id, &scoped)
        .map_err(|e| CliError::from_api(&e, Some(&project.alias), Some("Manage API token")))?;
    Ok(Minted {
        token,
        authority: Authority::ManageApi,
    })
}

pub fn project_id_of(project: &Project, info: &TokenInfo) -> CliResult<u64> {
    info.owner
        .as_ref()
        .map(|o| o.id)
        .or(project.entry.project_id)
        .ok_or_else(|| {
            CliError::config(format!("The project id of '{}' is unknown", project.alias))
        })
}

fn missing_master(
    project: &Project,
    info: &TokenInfo,
    power: MintPower,
    command: &str,
    request: &CreateTokenRequest,
    env_ignored: bool,
) -> CliError {
    let alias = &project.alias;
    let why = power.limitation().unwrap_or("it cannot mint tokens");
    // Say what was asked for: a short-lived token, or one that never expires.
    let what = match request.expires_in {
        Some(seconds) => format!("a child token that expires in {seconds} s"),
        None => "a child token that never expires".to_owned(),
    };
    let mut err = CliError::new(
        ErrorCode::MissingMasterToken,
        format!(
            "`{command}` must mint {what} on project '{alias}', but the stored token \
             (id {}, \"{}\") cannot: {why}. No Manage API token is available either. Nothing was created.",
            info.id,
            info.description.as_deref().unwrap_or("")
        ),
    )
    .project(alias.clone())
    .hint(format!(
        "Store your own admin master token: `kbagent project edit --project {alias} --token-stdin`."
    ))
    .hint("Or provide a Manage API token: run in a terminal to be prompted, or set KBC_MANAGE_API_TOKEN and pass --allow-env-manage-token.")
    .hint(MANAGE_TOKEN_WHERE)
    .detail("token_id", info.id.clone())
    .detail("is_master_token", info.is_master_token)
    .detail("can_manage_tokens", info.can_manage_tokens);
    if env_ignored {
        err = err.hint("KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token.");
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manage_credential_is_used_for_its_own_stack_only() {
        let http = Http::new(keboola_api::HttpConfig::default()).unwrap();
        let home = StackUrl::parse("https://connection.keboola.com").unwrap();
        let other = StackUrl::parse("https://connection.eu-central-1.keboola.com").unwrap();
        let credential =
            ManageCredential::new(Token::new("1-abcdefghijklmnopqrst").unwrap(), home.clone());
        assert!(credential.client(&http, &home).is_ok());
        let refused = credential.client(&http, &other).unwrap_err();
        assert_eq!(refused.target, other);
        assert!(
            refused
                .hint()
                .contains("--url https://connection.eu-central-1.keboola.com")
        );
    }

    /// Every Manage API client of the CLI comes from `ManageCredential::client`, so the
    /// one-stack rule holds for any command that takes a Manage API token.
    #[test]
    fn manage_clients_are_made_only_here() {
        fn walk(dir: &std::path::Path, hits: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, hits);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("authority.rs")
                    && std::fs::read_to_string(&path)
                        .unwrap()
                        .contains("ManageClient::new")
                {
                    hits.push(path.display().to_string());
                }
            }
        }
        let mut hits = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut hits,
        );
        assert!(
            hits.is_empty(),
            "ManageClient::new outside authority.rs: {hits:?}"
        );
    }
}
