//! Manage API: token verify, projects, organizations, Storage token minting.

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::http::{ApiError, ApiRequest, ApiResult, json_response, ok_json, param_bool, param_str};
use crate::model::{ManageToken, Store, TokenOrigin};
use crate::render::{self, TokenView, time};
use crate::storage::{
    new_child, parse_bucket_permissions, parse_component_access, parse_expires_in,
};

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    let now = shared.now();
    let mut store = shared.store();
    let token = authenticate(&mut store, req, now)?;
    let m = &req.method;
    match rest {
        ["tokens", "verify"] if m == Method::GET => ok_json(&verify(&store, &token)),
        ["organizations"] if m == Method::GET => {
            let orgs = if is_org_member(&store, &token) {
                vec![render::organization(&store)]
            } else {
                Vec::new()
            };
            ok_json(&Value::Array(orgs))
        }
        ["organizations", id] if m == Method::GET => {
            check_org(&store, &token, id)?;
            ok_json(&render::organization(&store))
        }
        ["organizations", id, "projects"] if m == Method::GET => {
            check_org(&store, &token, id)?;
            let list: Vec<Value> = store
                .projects
                .values()
                .map(|p| render::project_model(&store, p))
                .collect();
            ok_json(&Value::Array(list))
        }
        ["projects", id] if m == Method::GET => {
            let project_id = member_project(&store, &token, id)?;
            ok_json(&render::project_model(&store, &store.projects[&project_id]))
        }
        ["projects", id, "tokens"] if m == Method::POST => {
            let project_id = member_project(&store, &token, id)?;
            create_storage_token(&mut store, &shared.base_url, project_id, req, now)
        }
        ["tokens" | "organizations" | "projects", ..] => {
            Err(manage_error(ApiError::method_not_allowed()))
        }
        _ => Err(ApiError::manage(StatusCode::NOT_FOUND, "Route not found")),
    }
}

/// Re-shapes a Storage-style validation error into the Manage API envelope.
fn manage_error(e: ApiError) -> ApiError {
    let ApiError { status, body, .. } = e;
    let message = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("Error")
        .to_owned();
    ApiError::manage(status, &message)
}

fn authenticate(
    store: &mut Store,
    req: &ApiRequest,
    now: Timestamp,
) -> Result<ManageToken, ApiError> {
    let secret = req
        .header("x-kbc-manageapitoken")
        .map(str::trim)
        .unwrap_or("");
    if secret.is_empty() {
        return Err(ApiError::manage(
            StatusCode::UNAUTHORIZED,
            "Access token must be set",
        ));
    }
    // UNCERTAIN: the Manage API's answer to an unknown token is not documented anywhere.
    let token = store
        .manage_tokens
        .iter_mut()
        .find(|t| t.secret == secret)
        .ok_or_else(|| ApiError::manage(StatusCode::UNAUTHORIZED, "Invalid access token"))?;
    token.last_used = Some(now);
    Ok(token.clone())
}

fn verify(store: &Store, token: &ManageToken) -> Value {
    let user = store.user(token.user_id);
    let name = user.map(|u| u.name.clone()).unwrap_or_default();
    let email = user.map(|u| u.email.clone()).unwrap_or_default();
    json!({
        "id": token.id,
        "description": token.description,
        "created": time(token.created),
        "lastUsed": token.last_used.map(time),
        "expires": null,
        "isSessionToken": false,
        "isExpired": false,
        "isDisabled": false,
        "scopes": [],
        "type": "admin",
        "creator": {"id": token.user_id, "name": name},
        "user": {
            "id": token.user_id,
            "name": name,
            "email": email,
            "mfaEnabled": false,
            "features": [],
            "canAccessLogs": true,
            "isSuperAdmin": false
        }
    })
}

fn is_org_member(store: &Store, token: &ManageToken) -> bool {
    token.user_id == store.admin_user_id
}

fn check_org(store: &Store, token: &ManageToken, id: &str) -> Result<(), ApiError> {
    if id.parse::<u64>().ok() != Some(store.org_id) {
        return Err(ApiError::manage(
            StatusCode::NOT_FOUND,
            &format!("Organization {id} not found"),
        ));
    }
    if !is_org_member(store, token) {
        return Err(ApiError::manage(
            StatusCode::FORBIDDEN,
            "You don't have access to the resource.",
        ));
    }
    Ok(())
}

/// The project id from the path, if it exists and the token's user is a member.
fn member_project(store: &Store, token: &ManageToken, id: &str) -> Result<u64, ApiError> {
    let project = id
        .parse::<u64>()
        .ok()
        .and_then(|n| store.projects.get(&n))
        .ok_or_else(|| {
            ApiError::manage(StatusCode::NOT_FOUND, &format!("Project {id} not found"))
        })?;
    // The organization has allowAutoJoin off, so non-members are refused.
    if !project
        .members
        .iter()
        .any(|(user, _)| *user == token.user_id)
    {
        return Err(ApiError::manage(
            StatusCode::FORBIDDEN,
            "You don't have access to project",
        ));
    }
    Ok(project.id)
}

fn create_storage_token(
    store: &mut Store,
    base_url: &str,
    project_id: u64,
    req: &ApiRequest,
    now: Timestamp,
) -> ApiResult {
    let params: Map<String, Value> = if req.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(ApiError::manage(
                    StatusCode::BAD_REQUEST,
                    "Request body not valid",
                ));
            }
        }
    };
    let description = param_str(&params, "description")
        .map(str::trim)
        .unwrap_or("");
    if description.is_empty() {
        let mut err = ApiError::manage(
            StatusCode::BAD_REQUEST,
            "description: This value should not be blank.",
        );
        if let Value::Object(body) = &mut err.body {
            body.insert(
                "errors".into(),
                json!([{"key": "description", "message": "This value should not be blank."}]),
            );
        }
        return Err(err);
    }
    let flag = |key: &str| {
        param_bool(&params, key)
            .map(|b| b.unwrap_or(false))
            .map_err(manage_error)
    };
    let mut child = new_child(
        store,
        project_id,
        description.to_owned(),
        TokenOrigin::Manage,
        now,
    );
    child.can_manage_buckets = flag("canManageBuckets")?;
    child.can_read_all_file_uploads = flag("canReadAllFileUploads")?;
    child.can_purge_trash = flag("canPurgeTrash")?;
    // Documented as deprecated and ignored, but real stacks still grant it.
    child.can_manage_tokens = flag("canManageTokens")?;
    // UNCERTAIN: whether the Manage API honours these two; taken as given.
    child.can_read_all_project_events = flag("canReadAllProjectEvents")?;
    child.can_manage_dev_branches = flag("canManageDevBranches")?;
    child.bucket_permissions = parse_bucket_permissions(store, project_id, &params)
        .map_err(manage_error)?
        .unwrap_or_default();
    child.component_access = parse_component_access(&params).map_err(manage_error)?;
    child.expires = parse_expires_in(&params, now).map_err(manage_error)?;
    let body = render::token(store, &child, TokenView::WithSecret, base_url, now);
    store.tokens.insert(child.id, child);
    Ok(json_response(StatusCode::CREATED, &body))
}
