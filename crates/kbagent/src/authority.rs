//! The token authority ladder: how kbagent mints a child Storage API token from what it has.
//!
//! 1. The project's stored token is an admin master token (`isMasterToken` and
//!    `canManageTokens`): `POST /v2/storage/tokens` with the narrow scope.
//! 2. Otherwise a Manage API token is available: `POST /manage/projects/{id}/tokens` with
//!    the same narrow scope and without `canManageTokens`.
//! 3. Otherwise `MISSING_MASTER_TOKEN`, before any write.
//!
//! A non-master token is never sent to `POST /v2/storage/tokens`: with `canManageTokens` the
//! Storage API answers 500 and may still create the token; without it, 403. Minting POSTs
//! are never retried.

use std::io::IsTerminal;

use keboola_api::{CreateTokenRequest, ManageClient, NewToken, StorageClient, Token, TokenInfo};
use schemars::JsonSchema;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::{Warning, WarningCode};
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

    /// Returns the token, prompting (hidden) if that is the source.
    pub fn token(&self) -> CliResult<Token> {
        match self {
            Self::Env(t) => Ok(t.clone()),
            Self::Prompt => {
                let raw = rpassword::prompt_password("Manage API token (input hidden): ").map_err(
                    |e| CliError::invalid_argument(format!("Cannot read the token: {e}")),
                )?;
                Token::new(raw.trim_end_matches(['\r', '\n'])).map_err(|e| {
                    CliError::invalid_argument(format!("The Manage API token is not valid: {e}"))
                })
            }
            Self::Unavailable { env_ignored } => Err(manage_token_missing(*env_ignored)),
        }
    }
}

pub fn manage_token_missing(env_ignored: bool) -> CliError {
    let mut err = CliError::usage("No Manage API token is available")
        .hint("Run in a terminal to be prompted (input hidden), or set KBC_MANAGE_API_TOKEN and pass the global --allow-env-manage-token.");
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
        return Err(missing_master(project, info, power, command, env_ignored));
    }
    let project_id = project_id_of(project, info)?;
    let manage_token = source.token()?;
    let mut scoped = request.clone();
    // The Manage API would grant canManageTokens; a child never needs it, and with it the
    // token becomes one the Storage API cannot handle.
    scoped.can_manage_tokens = false;
    let client = ManageClient::new(ctx.http()?, &project.entry.stack_url, &manage_token);
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
    env_ignored: bool,
) -> CliError {
    let alias = &project.alias;
    let why = power.limitation().unwrap_or("it cannot mint tokens");
    let mut err = CliError::new(
        ErrorCode::MissingMasterToken,
        format!(
            "`{command}` must mint a short-lived child token on project '{alias}', but the stored token \
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
    .detail("token_id", info.id.clone())
    .detail("is_master_token", info.is_master_token)
    .detail("can_manage_tokens", info.can_manage_tokens);
    if env_ignored {
        err = err.hint("KBC_MANAGE_API_TOKEN is set but ignored without --allow-env-manage-token.");
    }
    err
}
