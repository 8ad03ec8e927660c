//! Users: the people behind master tokens and Manage API tokens.

use rusqlite::{Connection, OptionalExtension as _, params};

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE
);";

pub(crate) fn save(conn: &Connection, u: &User) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO users (id, name, email) VALUES (?1, ?2, ?3)",
        params![u.id, u.name, u.email],
    )?;
    Ok(())
}

pub(crate) fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        "SELECT id, name, email FROM users WHERE id = ?1",
        [id],
        |r| {
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
            })
        },
    )
    .optional()
}
