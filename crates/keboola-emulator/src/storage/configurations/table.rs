//! The `configurations` and `configuration_rows` tables and their queries.

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::Value;

use super::{Config, Row};
use crate::db::{from_sql, to_sql};
use crate::storage::tokens::Creator;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS configurations (
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    component_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    creator_description TEXT NOT NULL,
    version INTEGER NOT NULL,
    change_description TEXT NOT NULL,
    version_created INTEGER NOT NULL,
    version_creator_id INTEGER NOT NULL,
    version_creator_description TEXT NOT NULL,
    is_disabled INTEGER NOT NULL,
    -- JSON documents
    configuration TEXT NOT NULL,
    state TEXT NOT NULL,
    -- In the trash: hidden from reads, restorable; a second DELETE purges it.
    is_deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, component_id, id)
);
CREATE TABLE IF NOT EXISTS configuration_versions (
    branch_id INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    change_description TEXT NOT NULL,
    created INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    creator_description TEXT NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    is_disabled INTEGER NOT NULL,
    -- JSON documents: the body and the rows as they were in this version
    configuration TEXT NOT NULL,
    rows TEXT NOT NULL,
    PRIMARY KEY (branch_id, component_id, config_id, version)
);
CREATE TABLE IF NOT EXISTS configuration_rows (
    branch_id INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    configuration TEXT NOT NULL,
    is_disabled INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created INTEGER NOT NULL,
    -- JSON document: the row's runtime state (not versioned)
    state TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (branch_id, component_id, config_id, id),
    FOREIGN KEY (branch_id, component_id, config_id)
        REFERENCES configurations (branch_id, component_id, id) ON DELETE CASCADE
);";

/// The id sequence of configurations and rows (one, as on Connection).
pub(crate) const SEQUENCE: &str = "configurations";

const COLUMNS: &str = "branch_id, component_id, id, name, description, created, creator_id,
    creator_description, version, change_description, version_created, version_creator_id,
    version_creator_description, is_disabled, configuration, state";

fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

fn json_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::Object(serde_json::Map::new()))
}

/// Writes a configuration and replaces its rows, and records its version (once: a save
/// that keeps the version number, such as a state update, leaves the history alone). Run
/// it inside a transaction.
pub(crate) fn save(conn: &Connection, c: &Config) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO configurations ({COLUMNS}) VALUES
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (branch_id, component_id, id) DO UPDATE SET
               name = excluded.name, description = excluded.description,
               version = excluded.version, change_description = excluded.change_description,
               version_created = excluded.version_created,
               version_creator_id = excluded.version_creator_id,
               version_creator_description = excluded.version_creator_description,
               is_disabled = excluded.is_disabled, configuration = excluded.configuration,
               state = excluded.state"
        ),
        params![
            c.branch_id,
            c.component_id,
            c.id,
            c.name,
            c.description,
            to_sql(c.created),
            c.creator.id,
            c.creator.description,
            c.version,
            c.change_description,
            to_sql(c.version_created),
            c.version_creator.id,
            c.version_creator.description,
            c.is_disabled,
            json_text(&c.configuration),
            json_text(&c.state),
        ],
    )?;
    conn.execute(
        "DELETE FROM configuration_rows WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3",
        params![c.branch_id, c.component_id, c.id],
    )?;
    for (position, r) in c.rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO configuration_rows (branch_id, component_id, config_id, id, position,
               name, description, configuration, is_disabled, version, created, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                c.branch_id,
                c.component_id,
                c.id,
                r.id,
                position,
                r.name,
                r.description,
                json_text(&r.configuration),
                r.is_disabled,
                r.version,
                to_sql(r.created),
                json_text(&r.state),
            ],
        )?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO configuration_versions (branch_id, component_id, config_id,
           version, name, description, change_description, created, creator_id,
           creator_description, is_disabled, configuration, rows)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            c.branch_id,
            c.component_id,
            c.id,
            c.version,
            c.name,
            c.description,
            c.change_description,
            to_sql(c.version_created),
            c.version_creator.id,
            c.version_creator.description,
            c.is_disabled,
            json_text(&c.configuration),
            json_text(&Value::Array(c.rows.iter().map(versioned_row).collect())),
        ],
    )?;
    Ok(())
}

/// A row as a version records it: without its state, which is not versioned.
fn versioned_row(r: &Row) -> Value {
    let mut v = super::row(r);
    v["state"] = Value::Object(serde_json::Map::new());
    v
}

/// Moves a configuration into the trash (`true`) or out of it, in its current version too.
pub(crate) fn set_deleted(conn: &Connection, c: &Config, deleted: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE configurations SET is_deleted = ?4
         WHERE branch_id = ?1 AND component_id = ?2 AND id = ?3",
        params![c.branch_id, c.component_id, c.id, deleted],
    )?;
    conn.execute(
        "UPDATE configuration_versions SET is_deleted = ?5
         WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3 AND version = ?4",
        params![c.branch_id, c.component_id, c.id, c.version, deleted],
    )?;
    Ok(())
}

/// Removes a configuration for good: its rows, versions and metadata too.
pub(crate) fn purge(conn: &Connection, c: &Config) -> rusqlite::Result<()> {
    for table in [
        "DELETE FROM configuration_rows WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3",
        "DELETE FROM configuration_versions WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3",
        "DELETE FROM configuration_metadata WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3",
        "DELETE FROM configurations WHERE branch_id = ?1 AND component_id = ?2 AND id = ?3",
    ] {
        conn.execute(table, params![c.branch_id, c.component_id, c.id])?;
    }
    Ok(())
}

/// One recorded version of a configuration.
pub(crate) struct Version {
    pub version: u64,
    pub name: String,
    pub description: String,
    pub change_description: String,
    pub created: jiff::Timestamp,
    pub creator: Creator,
    pub is_deleted: bool,
    pub is_disabled: bool,
    pub configuration: Value,
    pub rows: Value,
}

/// The versions of a configuration, newest first (one when `only` is given).
pub(crate) fn versions(
    conn: &Connection,
    branch_id: u64,
    component: &str,
    config: &str,
    only: Option<u64>,
) -> rusqlite::Result<Vec<Version>> {
    conn.prepare(
        "SELECT version, name, description, change_description, created, creator_id,
           creator_description, is_deleted, is_disabled, configuration, rows
         FROM configuration_versions
         WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3
           AND (?4 IS NULL OR version = ?4)
         ORDER BY version DESC",
    )?
    .query_map(params![branch_id, component, config, only], |r| {
        Ok(Version {
            version: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            change_description: r.get(3)?,
            created: from_sql(r.get(4)?),
            creator: Creator {
                id: r.get(5)?,
                description: r.get(6)?,
            },
            is_deleted: r.get(7)?,
            is_disabled: r.get(8)?,
            configuration: json_value(&r.get::<_, String>(9)?),
            rows: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or(Value::Array(vec![])),
        })
    })?
    .collect()
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Config> {
    Ok(Config {
        branch_id: r.get(0)?,
        component_id: r.get(1)?,
        id: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        created: from_sql(r.get(5)?),
        creator: Creator {
            id: r.get(6)?,
            description: r.get(7)?,
        },
        version: r.get(8)?,
        change_description: r.get(9)?,
        version_created: from_sql(r.get(10)?),
        version_creator: Creator {
            id: r.get(11)?,
            description: r.get(12)?,
        },
        is_disabled: r.get(13)?,
        configuration: json_value(&r.get::<_, String>(14)?),
        rows: Vec::new(),
        state: json_value(&r.get::<_, String>(15)?),
    })
}

fn with_rows(conn: &Connection, mut c: Config) -> rusqlite::Result<Config> {
    c.rows = conn
        .prepare(
            "SELECT id, name, description, configuration, is_disabled, version, created, state
             FROM configuration_rows
             WHERE branch_id = ?1 AND component_id = ?2 AND config_id = ?3 ORDER BY position",
        )?
        .query_map(params![c.branch_id, c.component_id, c.id], |r| {
            Ok(Row {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                configuration: json_value(&r.get::<_, String>(3)?),
                is_disabled: r.get(4)?,
                version: r.get(5)?,
                created: from_sql(r.get(6)?),
                state: json_value(&r.get::<_, String>(7)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(c)
}

/// The configurations of a branch (of one component, when given), with their rows, in id
/// order; not those in the trash.
pub(crate) fn of_branch(
    conn: &Connection,
    branch_id: u64,
    component: Option<&str>,
) -> rusqlite::Result<Vec<Config>> {
    listed(conn, branch_id, component, false)
}

/// The configurations in the trash of a branch (of one component, when given).
pub(crate) fn trashed(
    conn: &Connection,
    branch_id: u64,
    component: Option<&str>,
) -> rusqlite::Result<Vec<Config>> {
    listed(conn, branch_id, component, true)
}

fn listed(
    conn: &Connection,
    branch_id: u64,
    component: Option<&str>,
    deleted: bool,
) -> rusqlite::Result<Vec<Config>> {
    let list: Vec<Config> = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM configurations
             WHERE branch_id = ?1 AND (?2 IS NULL OR component_id = ?2) AND is_deleted = ?3
             ORDER BY component_id, CAST(id AS INTEGER), id"
        ))?
        .query_map(params![branch_id, component, deleted], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    list.into_iter().map(|c| with_rows(conn, c)).collect()
}

/// A live configuration (not one in the trash).
pub(crate) fn get(
    conn: &Connection,
    branch_id: u64,
    component: &str,
    id: &str,
) -> rusqlite::Result<Option<Config>> {
    Ok(get_any(conn, branch_id, component, id)?.and_then(|(c, deleted)| (!deleted).then_some(c)))
}

/// A configuration, live or in the trash, and whether it is in the trash.
pub(crate) fn get_any(
    conn: &Connection,
    branch_id: u64,
    component: &str,
    id: &str,
) -> rusqlite::Result<Option<(Config, bool)>> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {COLUMNS}, is_deleted FROM configurations
                 WHERE branch_id = ?1 AND component_id = ?2 AND id = ?3"
            ),
            params![branch_id, component, id],
            |r| Ok((from_row(r)?, r.get::<_, bool>(16)?)),
        )
        .optional()?;
    found
        .map(|(c, deleted)| with_rows(conn, c).map(|c| (c, deleted)))
        .transpose()
}

pub(crate) fn count_in_branch(conn: &Connection, branch_id: u64) -> rusqlite::Result<usize> {
    conn.query_row(
        "SELECT COUNT(*) FROM configurations WHERE branch_id = ?1 AND is_deleted = 0",
        [branch_id],
        |r| r.get(0),
    )
}
