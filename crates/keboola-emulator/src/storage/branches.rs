//! Development branches: state, JSON shape, list and detail, and `/branch/{id}` resolution.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::http::{ApiError, ApiResult, ok_json, time};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::configurations::Config;
use crate::storage::tokens::{self, Creator};

#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub created: Timestamp,
    pub creator: Option<Creator>,
    pub configs: Vec<Config>,
}

pub(crate) fn render(b: &Branch, store: &Store) -> Result<Value, ApiError> {
    let creator = match &b.creator {
        // Main has no creator and PHP renders the empty value as a list.
        None => json!([]),
        Some(c) => {
            let name = tokens::by_id(&store.db, c.id)?
                .map_or_else(|| c.description.clone(), |t| t.description);
            json!({"id": c.id, "name": name})
        }
    };
    Ok(json!({
        "id": b.id,
        "name": b.name,
        "description": b.description,
        "created": time(b.created),
        "isDefault": b.is_default,
        "creatorToken": creator
    }))
}
pub(crate) fn branch_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Branch id:\"{id}\" was not found."),
        "storage.devBranches.notFound",
    )
}

pub(crate) fn resolve_branch(
    store: &Store,
    project_id: u64,
    branch: Option<&str>,
) -> Result<u64, ApiError> {
    let project = store
        .projects
        .get(&project_id)
        .ok_or_else(ApiError::application_error)?;
    match branch {
        None | Some("default") => Ok(project.default_branch().id),
        Some(id) => id
            .parse::<u64>()
            .ok()
            .filter(|n| project.branches.iter().any(|b| b.id == *n))
            .ok_or_else(|| branch_not_found(id)),
    }
}

pub(crate) fn branch_of<'s>(store: &'s Store, ctx: &Ctx<'_>) -> Result<&'s Branch, ApiError> {
    store
        .projects
        .get(&ctx.me.project_id)
        .and_then(|p| p.branches.iter().find(|b| b.id == ctx.branch_id))
        .ok_or_else(|| branch_not_found(&ctx.branch_id.to_string()))
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>) -> ApiResult {
    let project = store
        .projects
        .get(&ctx.me.project_id)
        .ok_or_else(ApiError::application_error)?;
    ok_json(&Value::Array(
        project
            .branches
            .iter()
            .map(|b| render(b, store))
            .collect::<Result<_, _>>()?,
    ))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let project = store
        .projects
        .get(&ctx.me.project_id)
        .ok_or_else(ApiError::application_error)?;
    let branch = id
        .parse::<u64>()
        .ok()
        .and_then(|n| project.branches.iter().find(|b| b.id == n))
        .ok_or_else(|| branch_not_found(id))?;
    ok_json(&render(branch, store)?)
}
