//! The embedded SQLite databases: one for the stack's metadata (tokens, ...), in memory or
//! `<data-dir>/emulator.sqlite`, and one per project for its storage data (buckets now,
//! table rows later), in memory or `<data-dir>/project_<id>.sqlite`.
//!
//! Each resource module owns its tables: a `SCHEMA` with its `CREATE TABLE`s and the
//! queries. This module only opens databases, creates the registered schemas, clears them
//! for a reset and hands out ids.
//!
//! Every connection sits behind the store's mutex, so a request sees and writes a
//! consistent state; multi-step writes still run in a transaction so a failing step
//! leaves nothing half-written.

use std::path::PathBuf;

use anyhow::Context as _;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::http::ApiError;
use crate::manage;
use crate::objects;
use crate::storage::{
    branches, buckets, components, configurations, events, files, jobs, metadata, snapshots,
    tables, tokens,
};

/// Schemas of the metadata database, one per resource.
const METADATA_SCHEMAS: &[&str] = &[
    SEQUENCES_SCHEMA,
    manage::users::SCHEMA,
    manage::organizations::SCHEMA,
    manage::tokens::SCHEMA,
    manage::projects::SCHEMA,
    tokens::SCHEMA,
    components::SCHEMA,
    crate::storage::global_search::SCHEMA,
    branches::SCHEMA,
    configurations::SCHEMA,
    configurations::metadata::SCHEMA,
    events::SCHEMA,
    jobs::SCHEMA,
    files::SCHEMA,
    objects::SCHEMA,
    crate::queue::SCHEMA,
    crate::storage::workspaces::SCHEMA,
    crate::encryption::SCHEMA,
];

/// Schemas of each project's database.
const PROJECT_SCHEMAS: &[&str] = &[
    buckets::SCHEMA,
    metadata::SCHEMA,
    tables::SCHEMA,
    snapshots::SCHEMA,
];

const SEQUENCES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);";

/// Where the databases live.
#[derive(Clone, Debug)]
pub(crate) struct Location {
    data_dir: Option<PathBuf>,
}

impl Location {
    pub fn new(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        if let Some(dir) = &data_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        }
        Ok(Self { data_dir })
    }

    fn open(&self, file: &str, schemas: &[&str]) -> anyhow::Result<Connection> {
        let conn = match &self.data_dir {
            Some(dir) => {
                let path = dir.join(file);
                let conn = Connection::open(&path)
                    .with_context(|| format!("cannot open database {}", path.display()))?;
                // Readers of the file (sqlite3 on the side) do not block the emulator.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        // Every start is seeded afresh, so tables of an earlier run (maybe of an older
        // schema) go first.
        conn.pragma_update(None, "foreign_keys", false)?;
        drop_tables(&conn)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        for schema in schemas {
            conn.execute_batch(schema)
                .with_context(|| format!("cannot create the schema of {file}"))?;
        }
        Ok(conn)
    }

    /// The metadata database.
    pub fn open_metadata(&self) -> anyhow::Result<Connection> {
        self.open("emulator.sqlite", METADATA_SCHEMAS)
    }

    /// One project's database (`project_<id>.sqlite`).
    pub fn open_project(&self, project_id: u64) -> anyhow::Result<Connection> {
        self.open(&format!("project_{project_id}.sqlite"), PROJECT_SCHEMAS)
    }
}

fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

fn drop_tables(conn: &Connection) -> rusqlite::Result<()> {
    for table in tables(conn)? {
        conn.execute(&format!("DROP TABLE \"{table}\""), [])?;
    }
    Ok(())
}

/// Drops every table (data tables included) and creates the project schemas again.
pub(crate) fn recreate_project(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    drop_tables(conn)?;
    for schema in PROJECT_SCHEMAS {
        conn.execute_batch(schema)?;
    }
    Ok(())
}

/// The directory of the data, when it is kept on disk.
impl Location {
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.data_dir.as_deref()
    }
}

/// Deletes every row of every table, for a reset.
pub(crate) fn clear(conn: &Connection) -> rusqlite::Result<()> {
    // Rows go in any order; references are checked when the transaction commits.
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    for table in tables(conn)? {
        conn.execute(&format!("DELETE FROM \"{table}\""), [])?;
    }
    Ok(())
}

/// Sets where the sequence `name` continues.
pub(crate) fn set_next_id(conn: &Connection, name: &str, next: u64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sequences (name, next) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET next = excluded.next",
        params![name, next],
    )?;
    Ok(())
}

/// Hands out the next id of `name`. Ids are never reused, as on Keboola, even after the
/// row with the highest one is deleted.
pub(crate) fn next_id(conn: &Connection, name: &str) -> rusqlite::Result<u64> {
    let next: Option<u64> = conn
        .query_row(
            "UPDATE sequences SET next = next + 1 WHERE name = ?1 RETURNING next - 1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    match next {
        Some(id) => Ok(id),
        None => {
            set_next_id(conn, name, 2)?;
            Ok(1)
        }
    }
}

/// Timestamps are stored as microseconds since the epoch.
pub(crate) fn to_sql(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_sql(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl From<rusqlite::Error> for ApiError {
    /// A database failure is the emulator's own fault: a 500 like Connection's.
    fn from(_: rusqlite::Error) -> Self {
        ApiError::application_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused() {
        let conn = Location::new(None).unwrap().open_metadata().unwrap();
        assert_eq!(next_id(&conn, "x").unwrap(), 1);
        assert_eq!(next_id(&conn, "x").unwrap(), 2);
        set_next_id(&conn, "y", 1001).unwrap();
        assert_eq!(next_id(&conn, "y").unwrap(), 1001);
        assert_eq!(next_id(&conn, "x").unwrap(), 3);
    }

    #[test]
    fn data_dir_holds_one_file_per_database() {
        let dir = std::env::temp_dir().join(format!(
            "keboola-emulator-db-{}",
            crate::crypto::random_alnum(&mut rand::rng(), 10)
        ));
        let location = Location::new(Some(dir.clone())).unwrap();
        let conn = location.open_metadata().unwrap();
        set_next_id(&conn, "x", 7).unwrap();
        drop(conn);
        location.open_project(101).unwrap();
        assert!(dir.join("emulator.sqlite").is_file());
        assert!(dir.join("project_101.sqlite").is_file());
        let conn = Connection::open(dir.join("emulator.sqlite")).unwrap();
        assert_eq!(next_id(&conn, "x").unwrap(), 7, "the data is in the file");
        clear(&conn).unwrap();
        assert_eq!(next_id(&conn, "x").unwrap(), 1);
        set_next_id(&conn, "x", 7).unwrap();
        drop(conn);
        let again = location.open_metadata().unwrap();
        assert_eq!(next_id(&again, "x").unwrap(), 1, "a new start begins empty");
        let _ = std::fs::remove_dir_all(dir);
    }
}
