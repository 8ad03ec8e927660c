//! The organization: its row, its members, and the Manage API's JSON shapes of it.

use axum::http::StatusCode;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};

use super::projects;
use super::tokens::ManageToken;
use crate::db::{from_sql, to_sql};
use crate::http::{ApiError, time};
use crate::state::Store;

#[derive(Clone, Debug)]
pub(crate) struct Organization {
    pub id: u64,
    pub name: String,
    pub created: Timestamp,
    /// Users who are organization members (project membership is separate).
    pub members: Vec<u64>,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS organization_members (
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (organization_id, user_id)
);";

pub(crate) fn save(conn: &Connection, org: &Organization) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO organizations (id, name, created) VALUES (?1, ?2, ?3)",
        params![org.id, org.name, to_sql(org.created)],
    )?;
    for user in &org.members {
        conn.execute(
            "INSERT OR IGNORE INTO organization_members (organization_id, user_id) VALUES (?1, ?2)",
            params![org.id, user],
        )?;
    }
    Ok(())
}

/// The stack's one organization.
pub(crate) fn the(conn: &Connection) -> Result<Organization, ApiError> {
    let org = conn
        .query_row(
            "SELECT id, name, created FROM organizations ORDER BY id LIMIT 1",
            [],
            |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created: from_sql(r.get(2)?),
                    members: Vec::new(),
                })
            },
        )
        .optional()?;
    org.ok_or_else(ApiError::application_error)
}

pub(crate) fn is_member(conn: &Connection, user_id: u64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM organization_members WHERE user_id = ?1)",
        [user_id],
        |r| r.get(0),
    )
}

pub(crate) fn organization_brief(org: &Organization) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "crmId": "",
        "activityCenterProjectId": null,
        "created": time(org.created),
        "allowAutoJoin": false
    })
}

/// `GET /manage/organizations/{id}`: the organization with its projects.
pub(crate) fn render(store: &Store) -> Result<Value, ApiError> {
    let org = the(&store.db)?;
    let mut o = organization_brief(&org)
        .as_object()
        .cloned()
        .unwrap_or_default();
    o.insert("mfaRequired".into(), json!(false));
    o.insert(
        "projects".into(),
        json!(
            projects::all(&store.db)?
                .iter()
                .map(|p| json!({"id": p.id, "name": p.name, "created": time(p.created)}))
                .collect::<Vec<_>>()
        ),
    );
    Ok(Value::Object(o))
}

pub(crate) fn check_org(store: &Store, token: &ManageToken, id: &str) -> Result<(), ApiError> {
    if id.parse::<u64>().ok() != Some(the(&store.db)?.id) {
        return Err(ApiError::manage(
            StatusCode::NOT_FOUND,
            &format!("Organization {id} not found"),
        ));
    }
    if !is_member(&store.db, token.user_id)? {
        return Err(ApiError::manage(
            StatusCode::FORBIDDEN,
            "You don't have access to the resource.",
        ));
    }
    Ok(())
}
