//! The organization and its users.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::tokens::ManageToken;
use crate::http::{ApiError, time};
use crate::state::Store;

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

pub(crate) fn organization_brief(store: &Store) -> Value {
    json!({
        "id": store.org_id,
        "name": store.org_name,
        "crmId": "",
        "activityCenterProjectId": null,
        "created": time(store.org_created),
        "allowAutoJoin": false
    })
}

/// `GET /manage/organizations/{id}`: the organization with its projects.
pub(crate) fn render(store: &Store) -> Value {
    let mut o = organization_brief(store)
        .as_object()
        .cloned()
        .unwrap_or_default();
    o.insert("mfaRequired".into(), json!(false));
    o.insert(
        "projects".into(),
        json!(
            store
                .projects
                .values()
                .map(|p| json!({"id": p.id, "name": p.name, "created": time(p.created)}))
                .collect::<Vec<_>>()
        ),
    );
    Value::Object(o)
}

pub(crate) fn is_org_member(store: &Store, token: &ManageToken) -> bool {
    token.user_id == store.admin_user_id
}

pub(crate) fn check_org(store: &Store, token: &ManageToken, id: &str) -> Result<(), ApiError> {
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
