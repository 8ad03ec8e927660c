//! The databases behind workspaces: each workspace is its own SQLite database (in memory,
//! or `workspace_<id>.sqlite` under `--data-dir`), so statements run there can create,
//! drop and query tables without reaching the project's stored tables. Query Service
//! results are kept in an attached `qs` database of the same connection, page by page
//! readable through `rowid`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use rusqlite::Connection;
use serde_json::Value;

/// One submitted Query Service job.
#[derive(Clone, Debug)]
pub(crate) struct QueryJob {
    pub id: String,
    pub project_id: u64,
    pub workspace_id: u64,
    pub status: &'static str,
    pub created: String,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub id: String,
    pub query: String,
    pub status: &'static str,
    pub error: Option<String>,
    pub rows_affected: Option<u64>,
    /// A statement that returns rows: their column names and declared types, and the
    /// table under `qs` that holds them.
    pub result: Option<ResultSet>,
}

#[derive(Clone, Debug)]
pub(crate) struct ResultSet {
    pub table: String,
    pub columns: Vec<(String, String)>,
    pub rows: u64,
}

/// The workspace databases and the query jobs of one emulator. Interior mutability: the
/// store is used through `&Store` under its mutex.
pub(crate) struct Schemas {
    dir: Option<PathBuf>,
    conns: RefCell<BTreeMap<u64, Connection>>,
    pub jobs: RefCell<BTreeMap<String, QueryJob>>,
}

impl Schemas {
    pub fn new(dir: Option<&std::path::Path>) -> Self {
        Self {
            dir: dir.map(std::path::Path::to_path_buf),
            conns: RefCell::new(BTreeMap::new()),
            jobs: RefCell::new(BTreeMap::new()),
        }
    }

    /// Opens the empty database of a new workspace.
    pub fn create(&self, id: u64) -> rusqlite::Result<()> {
        let conn = match &self.dir {
            Some(dir) => {
                let path = dir.join(format!("workspace_{id}.sqlite"));
                let _ = std::fs::remove_file(&path);
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch("ATTACH DATABASE ':memory:' AS qs")?;
        self.conns.borrow_mut().insert(id, conn);
        Ok(())
    }

    /// Runs `f` on a workspace's database; `None` when it is gone.
    pub fn with<R>(&self, id: u64, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        self.conns.borrow().get(&id).map(f)
    }

    pub fn drop_workspace(&self, id: u64) {
        self.conns.borrow_mut().remove(&id);
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(format!("workspace_{id}.sqlite")));
        }
        self.jobs.borrow_mut().retain(|_, j| j.workspace_id != id);
    }

    /// Everything goes, for a reset.
    pub fn clear(&self) {
        let ids: Vec<u64> = self.conns.borrow().keys().copied().collect();
        for id in ids {
            self.drop_workspace(id);
        }
        self.jobs.borrow_mut().clear();
    }
}

/// Table names of a workspace (its `main` schema), sorted.
pub(crate) fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// A cell as the Query Service sends it: text, or `null`.
pub(crate) fn cell(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::String(i.to_string()),
        ValueRef::Real(f) => Value::String(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::String(String::from_utf8_lossy(t).into_owned())
        }
    }
}
