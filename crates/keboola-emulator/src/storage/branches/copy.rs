//! What a new branch starts with: a copy of every production configuration (with its rows,
//! state and metadata such as its folder), under the same ids, as Keboola does when it
//! creates a branch.
//!
//! Tables are not copied. With Keboola's `storage-branches` a dev branch reads production
//! tables copy-on-write and gets its own copy only when a table is pulled or written; the
//! emulator's tables are shared by every branch, which is what an unpulled table looks like.

use rusqlite::Connection;

use crate::storage::configurations::{metadata, of_branch, save};

/// Copies the configurations of branch `from` into branch `to`; gives how many.
pub(crate) fn configurations(conn: &Connection, from: u64, to: u64) -> rusqlite::Result<usize> {
    let list = of_branch(conn, from, None)?;
    for mut config in list.iter().cloned() {
        // UNCERTAIN: whether the copy keeps the production version number; it does here.
        config.branch_id = to;
        save(conn, &config)?;
    }
    // UNCERTAIN: whether Keboola copies configuration metadata too; folders come along here.
    metadata::copy_branch(conn, from, to)?;
    Ok(list.len())
}

/// Drops what belongs to branch `id` alone: its configurations and everything kept beside
/// them (rows, metadata, versions: every `configuration*` table with a `branch_id`), found
/// by the schema so that a resource added later goes too. Run it inside a transaction.
pub(crate) fn drop_branch_data(conn: &Connection, id: u64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name LIKE 'configuration%' AND c.name = 'branch_id'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        conn.execute(
            &format!("DELETE FROM \"{table}\" WHERE branch_id = ?1"),
            [id],
        )?;
    }
    Ok(())
}
