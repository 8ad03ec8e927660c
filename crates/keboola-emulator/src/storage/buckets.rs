//! Buckets, kept in each project's own database next to the table data that will follow.
//! Today only their ids matter: token bucket permissions name them.

use rusqlite::{Connection, OptionalExtension as _};

use crate::http::ApiError;
use crate::state::Store;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    id TEXT PRIMARY KEY
);";

pub(crate) fn insert(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute("INSERT INTO buckets (id) VALUES (?1)", [id])?;
    Ok(())
}

fn project_db(store: &Store, project_id: u64) -> Result<&Connection, ApiError> {
    store
        .project_db(project_id)
        .ok_or_else(ApiError::application_error)
}

/// Bucket ids of a project, sorted.
pub(crate) fn ids(store: &Store, project_id: u64) -> Result<Vec<String>, ApiError> {
    let conn = project_db(store, project_id)?;
    let ids = conn
        .prepare("SELECT id FROM buckets ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

pub(crate) fn exists(store: &Store, project_id: u64, id: &str) -> Result<bool, ApiError> {
    let conn = project_db(store, project_id)?;
    let found = conn
        .query_row("SELECT 1 FROM buckets WHERE id = ?1", [id], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}
