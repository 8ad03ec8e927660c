//! Manage API tokens (personal access tokens), their verify shape, and Storage token
//! minting through `POST /manage/projects/{id}/tokens`.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use rusqlite::{Connection, OptionalExtension as _, params};

use super::{manage_error, users};
use crate::db::{from_sql, to_sql};
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

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS manage_tokens (
    id INTEGER PRIMARY KEY,
    secret TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created INTEGER NOT NULL,
    last_used INTEGER
);";

pub(crate) fn save(conn: &Connection, t: &ManageToken) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO manage_tokens (id, secret, description, user_id, created, last_used)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.id,
            t.secret,
            t.description,
            t.user_id,
            to_sql(t.created),
            t.last_used.map(to_sql)
        ],
    )?;
    Ok(())
}

pub(crate) fn by_secret(conn: &Connection, secret: &str) -> rusqlite::Result<Option<ManageToken>> {
    conn.query_row(
        "SELECT id, secret, description, user_id, created, last_used FROM manage_tokens
         WHERE secret = ?1",
        [secret],
        |r| {
            Ok(ManageToken {
                id: r.get(0)?,
                secret: r.get(1)?,
                description: r.get(2)?,
                user_id: r.get(3)?,
                created: from_sql(r.get(4)?),
                last_used: r.get::<_, Option<i64>>(5)?.map(from_sql),
            })
        },
    )
    .optional()
}

pub(crate) fn verify(store: &Store, token: &ManageToken) -> Result<Value, ApiError> {
    let user = users::by_id(&store.db, token.user_id)?;
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let email = user.map(|u| u.email).unwrap_or_default();
    Ok(json!({
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
    }))
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
