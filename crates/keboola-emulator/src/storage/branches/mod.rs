//! Development branches: state, JSON shape, list and detail, and `/branch/{id}` resolution;
//! creating and deleting them in `lifecycle`, what a new branch starts with in `copy`.

mod copy;
mod lifecycle;

pub(crate) use lifecycle::{create, delete};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};

use crate::db::{from_sql, to_sql};
use crate::http::{ApiError, ApiResult, ok_json, time};
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::tokens::{self, Creator};

#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub created: Timestamp,
    pub creator: Option<Creator>,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS branches (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    created INTEGER NOT NULL,
    -- the creating token; NULL for the default branch
    creator_id INTEGER,
    creator_description TEXT
);
CREATE INDEX IF NOT EXISTS branches_project ON branches (project_id);";

const COLUMNS: &str =
    "id, project_id, name, description, is_default, created, creator_id, creator_description";

pub(crate) fn save(conn: &Connection, b: &Branch) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO branches ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            b.id,
            b.project_id,
            b.name,
            b.description,
            b.is_default,
            to_sql(b.created),
            b.creator.as_ref().map(|c| c.id),
            b.creator.as_ref().map(|c| c.description.as_str()),
        ],
    )?;
    Ok(())
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Branch> {
    let creator_id: Option<u64> = r.get(6)?;
    let creator = match creator_id {
        Some(id) => Some(Creator {
            id,
            description: r.get(7)?,
        }),
        None => None,
    };
    Ok(Branch {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        is_default: r.get(4)?,
        created: from_sql(r.get(5)?),
        creator,
    })
}

/// A project's branches, the default one first.
fn of_project(conn: &Connection, project_id: u64) -> rusqlite::Result<Vec<Branch>> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM branches WHERE project_id = ?1 ORDER BY is_default DESC, id"
    ))?
    .query_map([project_id], from_row)?
    .collect()
}

fn by_id(conn: &Connection, project_id: u64, id: u64) -> rusqlite::Result<Option<Branch>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM branches WHERE project_id = ?1 AND id = ?2"),
        [project_id, id],
        from_row,
    )
    .optional()
}

/// The project's default (production) branch; every project has one.
pub(crate) fn default_of(store: &Store, project_id: u64) -> Result<Branch, ApiError> {
    of_project(&store.db, project_id)?
        .into_iter()
        .next()
        .ok_or_else(ApiError::application_error)
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

/// The branch id a `/branch/{id}` path segment (or its absence) names.
pub(crate) fn resolve_branch(
    store: &Store,
    project_id: u64,
    branch: Option<&str>,
) -> Result<u64, ApiError> {
    match branch {
        None | Some("default") => Ok(default_of(store, project_id)?.id),
        Some(id) => match id.parse::<u64>() {
            Ok(n) if by_id(&store.db, project_id, n)?.is_some() => Ok(n),
            _ => Err(branch_not_found(id)),
        },
    }
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>) -> ApiResult {
    ok_json(&Value::Array(
        of_project(&store.db, ctx.me.project_id)?
            .iter()
            .map(|b| render(b, store))
            .collect::<Result<_, _>>()?,
    ))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let found = match id.parse::<u64>() {
        Ok(n) => by_id(&store.db, ctx.me.project_id, n)?,
        Err(_) => None,
    };
    let branch = found.ok_or_else(|| branch_not_found(id))?;
    ok_json(&render(&branch, store)?)
}
