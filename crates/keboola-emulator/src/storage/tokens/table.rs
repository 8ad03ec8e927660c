//! The `storage_tokens` table and its queries.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::{Creator, StorageToken, TokenOrigin};
use crate::db::{from_sql, to_sql};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS storage_tokens (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    secret TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created INTEGER NOT NULL,
    refreshed INTEGER NOT NULL,
    expires INTEGER,
    -- 'master' (master_user_id, master_role), 'storage' (creator_*, admin_owner) or 'manage'
    origin TEXT NOT NULL,
    master_user_id INTEGER,
    master_role TEXT,
    creator_id INTEGER,
    creator_description TEXT,
    admin_owner INTEGER,
    can_manage_buckets INTEGER NOT NULL,
    can_manage_tokens INTEGER NOT NULL,
    can_read_all_file_uploads INTEGER NOT NULL,
    can_purge_trash INTEGER NOT NULL,
    can_read_all_project_events INTEGER NOT NULL,
    can_manage_dev_branches INTEGER NOT NULL,
    -- JSON object: bucket id -> read|write
    bucket_permissions TEXT NOT NULL,
    -- JSON list of component ids; NULL when the token never had the key
    component_access TEXT
);
CREATE INDEX IF NOT EXISTS storage_tokens_project ON storage_tokens (project_id);";

/// The id sequence of Storage tokens.
pub(crate) const SEQUENCE: &str = "storage_tokens";

/// Seconds an expired token keeps answering `storage.tokenExpired` before it is purged
/// (Connection deletes expired tokens from a cron that runs every minute).
pub(crate) const EXPIRED_GRACE_SECONDS: i64 = 60;

const COLUMNS: &str = "id, project_id, secret, description, created, refreshed, expires, origin,
    master_user_id, master_role, creator_id, creator_description, admin_owner,
    can_manage_buckets, can_manage_tokens, can_read_all_file_uploads, can_purge_trash,
    can_read_all_project_events, can_manage_dev_branches, bucket_permissions, component_access";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StorageToken> {
    let origin: String = r.get("origin")?;
    let origin = match origin.as_str() {
        "master" => TokenOrigin::Master {
            user_id: r.get("master_user_id")?,
            role: r.get("master_role")?,
        },
        "storage" => TokenOrigin::Storage {
            creator: Creator {
                id: r.get("creator_id")?,
                description: r.get("creator_description")?,
            },
            admin_owner: r.get("admin_owner")?,
        },
        _ => TokenOrigin::Manage,
    };
    let perms: String = r.get("bucket_permissions")?;
    let access: Option<String> = r.get("component_access")?;
    Ok(StorageToken {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        secret: r.get("secret")?,
        description: r.get("description")?,
        created: from_sql(r.get("created")?),
        refreshed: from_sql(r.get("refreshed")?),
        expires: r.get::<_, Option<i64>>("expires")?.map(from_sql),
        origin,
        can_manage_buckets: r.get("can_manage_buckets")?,
        can_manage_tokens: r.get("can_manage_tokens")?,
        can_read_all_file_uploads: r.get("can_read_all_file_uploads")?,
        can_purge_trash: r.get("can_purge_trash")?,
        can_read_all_project_events: r.get("can_read_all_project_events")?,
        can_manage_dev_branches: r.get("can_manage_dev_branches")?,
        bucket_permissions: serde_json::from_str::<BTreeMap<String, String>>(&perms)
            .unwrap_or_default(),
        component_access: access.and_then(|a| serde_json::from_str(&a).ok()),
    })
}

/// Writes a token, replacing the row with the same id.
pub(crate) fn save(conn: &Connection, t: &StorageToken) -> rusqlite::Result<()> {
    let (user_id, role, creator, admin_owner, origin) = match &t.origin {
        TokenOrigin::Master { user_id, role } => {
            (Some(*user_id), Some(*role), None, None, "master")
        }
        TokenOrigin::Storage {
            creator,
            admin_owner,
        } => (None, None, Some(creator), *admin_owner, "storage"),
        TokenOrigin::Manage => (None, None, None, None, "manage"),
    };
    let perms = serde_json::to_string(&t.bucket_permissions).unwrap_or_else(|_| "{}".into());
    let access = t
        .component_access
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_else(|_| "[]".into()));
    conn.execute(
        &format!("INSERT OR REPLACE INTO storage_tokens ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"),
        params![
            t.id,
            t.project_id,
            t.secret,
            t.description,
            to_sql(t.created),
            to_sql(t.refreshed),
            t.expires.map(to_sql),
            origin,
            user_id,
            role,
            creator.map(|c| c.id),
            creator.map(|c| c.description.as_str()),
            admin_owner,
            t.can_manage_buckets,
            t.can_manage_tokens,
            t.can_read_all_file_uploads,
            t.can_purge_trash,
            t.can_read_all_project_events,
            t.can_manage_dev_branches,
            perms,
            access,
        ],
    )?;
    Ok(())
}

fn one(
    conn: &Connection,
    filter: &str,
    value: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Option<StorageToken>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM storage_tokens WHERE {filter}"),
        [value],
        from_row,
    )
    .optional()
}

pub(crate) fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<StorageToken>> {
    one(conn, "id = ?1", &id)
}

pub(crate) fn by_secret(conn: &Connection, secret: &str) -> rusqlite::Result<Option<StorageToken>> {
    one(conn, "secret = ?1", &secret)
}

/// A project's tokens in id order.
pub(crate) fn of_project(
    conn: &Connection,
    project_id: u64,
) -> rusqlite::Result<Vec<StorageToken>> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM storage_tokens WHERE project_id = ?1 ORDER BY id"
    ))?
    .query_map([project_id], from_row)?
    .collect()
}

pub(crate) fn count_of_project(conn: &Connection, project_id: u64) -> rusqlite::Result<usize> {
    conn.query_row(
        "SELECT COUNT(*) FROM storage_tokens WHERE project_id = ?1",
        [project_id],
        |r| r.get(0),
    )
}

pub(crate) fn delete(conn: &Connection, id: u64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM storage_tokens WHERE id = ?1", [id])?;
    Ok(())
}

/// Deletes tokens whose grace period after expiry is over, as Connection's cron does.
pub(crate) fn purge_expired(conn: &Connection, now: Timestamp) -> rusqlite::Result<()> {
    let cutoff = now
        .checked_sub(SignedDuration::from_secs(EXPIRED_GRACE_SECONDS))
        .unwrap_or(now);
    conn.execute(
        "DELETE FROM storage_tokens WHERE expires IS NOT NULL AND expires <= ?1",
        [to_sql(cutoff)],
    )?;
    Ok(())
}
