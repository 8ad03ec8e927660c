//! Manage API (`/manage`): one module per resource.

pub(crate) mod organizations;
pub(crate) mod projects;
pub(crate) mod tokens;
pub(crate) mod users;

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use serde_json::Value;

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::{Shared, Store};
use organizations::check_org;
use projects::member_project;
use tokens::ManageToken;

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    let now = shared.now();
    let mut store = shared.store();
    let token = authenticate(&mut store, req, now)?;
    let m = &req.method;
    match rest {
        ["tokens", "verify"] if m == Method::GET => ok_json(&tokens::verify(&store, &token)?),
        ["organizations"] if m == Method::GET => {
            let orgs = if organizations::is_member(&store.db, token.user_id)? {
                vec![organizations::render(&store)?]
            } else {
                Vec::new()
            };
            ok_json(&Value::Array(orgs))
        }
        ["organizations", id] if m == Method::GET => {
            check_org(&store, &token, id)?;
            ok_json(&organizations::render(&store)?)
        }
        ["organizations", id, "projects"] if m == Method::GET => {
            check_org(&store, &token, id)?;
            let list: Vec<Value> = projects::all(&store.db)?
                .iter()
                .map(|p| projects::render(&store, p))
                .collect::<Result<_, _>>()?;
            ok_json(&Value::Array(list))
        }
        ["projects", id] if m == Method::GET => {
            let project = member_project(&store, &token, id)?;
            ok_json(&projects::render(&store, &project)?)
        }
        ["projects", id, "tokens"] if m == Method::POST => {
            let project_id = member_project(&store, &token, id)?.id;
            tokens::create_storage_token(&mut store, &shared.base_url, project_id, req, now)
        }
        ["projects", id, "features"] if m == Method::POST => {
            let project = member_project(&store, &token, id)?;
            crate::storage::global_search::add_feature_handler(&store, &project, req)
        }
        ["projects", id, "features", feature] if m == Method::DELETE => {
            let project = member_project(&store, &token, id)?;
            crate::storage::global_search::remove_feature_handler(&store, &project, feature)
        }
        ["tokens" | "organizations" | "projects", ..] => {
            Err(manage_error(ApiError::method_not_allowed()))
        }
        _ => Err(ApiError::manage(StatusCode::NOT_FOUND, "Route not found")),
    }
}

/// Re-shapes a Storage-style validation error into the Manage API envelope.
pub(crate) fn manage_error(e: ApiError) -> ApiError {
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
    let mut token = tokens::by_secret(&store.db, secret)?
        .ok_or_else(|| ApiError::manage(StatusCode::UNAUTHORIZED, "Invalid access token"))?;
    token.last_used = Some(now);
    tokens::save(&store.db, &token)?;
    Ok(token)
}
