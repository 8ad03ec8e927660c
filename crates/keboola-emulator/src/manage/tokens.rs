//! Manage API tokens (personal access tokens), their verify shape, and Storage token
//! minting through `POST /manage/projects/{id}/tokens`.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::manage_error;
use crate::http::{ApiError, ApiRequest, ApiResult, json_response, param_bool, param_str, time};
use crate::state::Store;
use crate::storage::tokens::{
    self, TokenOrigin, TokenView, new_child, parse_bucket_permissions, parse_component_access,
    parse_expires_in,
};

#[derive(Clone)]
pub(crate) struct ManageToken {
    pub id: u64,
    pub secret: String,
    pub description: String,
    pub user_id: u64,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

pub(crate) fn verify(store: &Store, token: &ManageToken) -> Value {
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

pub(crate) fn create_storage_token(
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
    )?;
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
    let body = tokens::render(store, &child, TokenView::WithSecret, base_url, now)?;
    tokens::save(&store.db, &child)?;
    Ok(json_response(StatusCode::CREATED, &body))
}
