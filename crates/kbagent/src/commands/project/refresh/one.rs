//! Refreshing one project: mint through the Manage API, verify, swap the stored token only
//! if it is still the one that was read, then (with `--revoke-old`) delete the old one.

use keboola_api::{CreateTokenRequest, Http, StorageClient, Token, TokenInfo};

use super::{Args, OldToken, Reason, RefreshedRow};
use crate::authority::{Authority, ManageCredential, MintPower, planned_authority};
use crate::ctx::Ctx;
use crate::error::{CliError, ItemCode, ItemErrorCode};
use crate::select::{Checked, Project, verify_token};
use crate::store::TokenSwap;

/// Everything one project's refresh needs.
pub(super) struct Job<'a> {
    pub project: &'a Project,
    pub checked: &'a Checked,
    pub credential: &'a ManageCredential,
    pub owner: Option<&'a str>,
    pub args: &'a Args,
    pub master: bool,
    pub reason: Reason,
}

/// Why one project was not refreshed: a row of `projects_failed`.
pub(super) struct Failure {
    pub message: String,
    pub code: ItemErrorCode,
    pub retryable: Option<bool>,
    pub hint: Option<String>,
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Self {
            message: e.message,
            code: e.code.into(),
            retryable: Some(e.retryable),
            hint: None,
        }
    }
}

pub(super) fn refresh(ctx: &Ctx<'_>, http: &Http, job: &Job<'_>) -> Result<RefreshedRow, Failure> {
    let Job { project, args, .. } = job;
    let alias = &project.alias;
    let stack = &project.entry.stack_url;
    let project_id = project.entry.project_id.ok_or_else(|| {
        CliError::config(format!(
            "The project id of '{alias}' is unknown; re-add the project"
        ))
    })?;
    // The one gate every Manage API token use passes: never to another stack.
    let client = job.credential.client(http, stack).map_err(|e| Failure {
        message: e.message(alias),
        code: ItemCode::ManageTokenOtherStack.into(),
        retryable: Some(false),
        hint: Some(e.hint()),
    })?;
    let description = match job.owner {
        Some(o) if !o.is_empty() => format!("{} [{o}]", args.token_description),
        _ => args.token_description.clone(),
    };
    let request = CreateTokenRequest {
        description: Some(description),
        expires_in: args.token_expires_in,
        can_manage_buckets: true,
        can_read_all_file_uploads: true,
        can_purge_trash: true,
        can_manage_tokens: job.master,
        can_read_all_project_events: true,
        can_manage_dev_branches: true,
        ..CreateTokenRequest::default()
    };
    let minted = client
        .create_project_token(project_id, &request)
        .map_err(|e| CliError::from_api(&e, Some(alias), Some("Manage API token")))?;
    let new_id = minted.info.id.clone();
    let info = verify_token(ctx, alias, stack, &minted.secret).map_err(|e| {
        e.reworded(|m| format!(
            "{m} (the new token id {new_id} was minted but could not be verified, so it was not stored; delete it with `kbagent token delete --project {alias} --token-id {new_id}`)"
        ))
    })?;
    let store = ctx.store()?;
    // Written only over the token this run read: an edit made meanwhile wins.
    let swap = store
        .swap_token(alias, &project.entry.token, minted.secret.clone())
        .map_err(|e| {
            e.reworded(|m| format!("{m} (the new token id {new_id} is live but was not stored)"))
        })?;
    match swap {
        TokenSwap::Swapped => {}
        TokenSwap::Changed => {
            return Err(Failure {
                message: format!(
                    "The token of '{alias}' was changed by another command while this refresh was minting its replacement; \
                     the change was kept. {}",
                    discard(http, project, &minted.secret, &new_id)
                ),
                code: ItemCode::TokenChanged.into(),
                retryable: Some(false),
                hint: Some(format!(
                    "Check the project with `kbagent project info --project {alias}`; refresh again if needed."
                )),
            });
        }
        TokenSwap::Missing => {
            return Err(Failure::from(CliError::config(format!(
                "Project '{alias}' was removed while its token was being refreshed. {}",
                discard(http, project, &minted.secret, &new_id)
            ))));
        }
    }
    if let Some(owner) = &info.owner
        && (project.entry.project_name.as_deref() != Some(owner.name.as_str())
            || project.entry.project_id != Some(owner.id))
    {
        let (name, id, secret) = (owner.name.clone(), owner.id, minted.secret.clone());
        let key = alias.clone();
        // Best effort: the token is stored; the name only follows it if it is still ours.
        let _ = store.update(move |cfg| {
            if let Some(entry) = cfg.projects.get_mut(&key)
                && entry.token.expose() == secret.expose()
            {
                entry.project_name = Some(name);
                entry.project_id = Some(id);
            }
            Ok(())
        });
    }
    let (old_token, old_token_error) = old_token(http, project, job.checked, args.revoke_old);
    let power = MintPower::of(&info);
    let plan = planned_authority(power, true);
    Ok(RefreshedRow {
        alias: alias.clone(),
        project_id: info.owner.as_ref().map(|o| o.id).or(Some(project_id)),
        project_name: info.owner.as_ref().map(|o| o.name.clone()),
        token: minted.secret.masked(),
        token_id: info.id.clone(),
        action: super::Action::Refreshed,
        is_master_token: info.is_master_token,
        can_manage_tokens: info.can_manage_tokens,
        expires: info.expires.clone(),
        child_token_authority: plan,
        child_token_note: match plan {
            Some(Authority::StorageMaster) => "the stored token mints child tokens itself",
            _ => {
                "child-token commands (config oauth-url, token create) need a Manage API token for this project; the stored token is not a master token"
            }
        },
        reason: job.reason,
        child_token_minting: power,
        old_token_id: job.checked.result.as_ref().ok().map(|i| i.id.clone()),
        old_token,
        old_token_error,
    })
}

/// Deletes a token this run minted but could not store, so no unused credential is left
/// behind; says what happened either way.
fn discard(http: &Http, project: &Project, secret: &Token, id: &str) -> String {
    // Any token may delete itself.
    match StorageClient::new(http, &project.entry.stack_url, secret).delete_token(id) {
        Ok(()) => format!("The token minted by this refresh (id {id}) was deleted again."),
        Err(_) => format!(
            "The token minted by this refresh (id {id}) could not be deleted and still exists; delete it with \
             `kbagent token delete --project {} --token-id {id}`.",
            project.alias
        ),
    }
}

/// What becomes of the replaced token: it keeps working unless `--revoke-old` deletes it.
fn old_token(
    http: &Http,
    project: &Project,
    checked: &Checked,
    revoke: bool,
) -> (OldToken, Option<String>) {
    let info: &TokenInfo = match &checked.result {
        Ok(info) => info,
        Err(_) => return (OldToken::Invalid, None),
    };
    if !revoke {
        return (OldToken::StillValid, None);
    }
    if info.is_master_token {
        return (
            OldToken::StillValid,
            Some(
                "it is a master token, which Keboola does not delete; remove it in the Keboola UI if needed"
                    .to_owned(),
            ),
        );
    }
    let old = &project.entry.token;
    match StorageClient::new(http, &project.entry.stack_url, old).delete_token(&info.id) {
        Ok(()) => (OldToken::Revoked, None),
        Err(e) => (
            OldToken::StillValid,
            Some(CliError::from_api(&e, Some(&project.alias), Some(&old.masked())).message),
        ),
    }
}

/// The line a person reads about the replaced token.
pub(super) fn old_token_line(r: &RefreshedRow) -> String {
    let id = r.old_token_id.as_deref().unwrap_or("?");
    match (r.old_token, &r.old_token_error) {
        (OldToken::StillValid, None) => format!(
            "{}: the replaced token (id {id}) still works until it expires; delete it with \
             `kbagent token delete --project {} --token-id {id}`, or refresh with --revoke-old.\n",
            r.alias, r.alias
        ),
        (OldToken::StillValid, Some(why)) => format!(
            "{}: the replaced token (id {id}) still works and was not revoked: {why}\n",
            r.alias
        ),
        (OldToken::Revoked, _) => format!("{}: the replaced token (id {id}) was deleted.\n", r.alias),
        (OldToken::Invalid, _) => String::new(),
    }
}

