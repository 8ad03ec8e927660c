//! Projects: membership roles, the project JSON shapes (Manage's `ProjectModel` and the
//! `owner` block of a Storage token).

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::organizations::{self, organization_brief};
use super::tokens::ManageToken;
use crate::http::{ApiError, time};
use crate::state::Store;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension as _, ToSql, params};

use crate::db::{from_sql, to_sql};
use crate::storage::{branches, configurations};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Admin,
    Guest,
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Guest => "guest",
            Role::ReadOnly => "readOnly",
        }
    }

    fn parse(s: &str) -> FromSqlResult<Role> {
        match s {
            "admin" => Ok(Role::Admin),
            "guest" => Ok(Role::Guest),
            "readOnly" => Ok(Role::ReadOnly),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl ToSql for Role {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Role {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str().and_then(Role::parse)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub id: u64,
    pub name: String,
    pub created: Timestamp,
    pub members: Vec<(u64, Role)>,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS project_members (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);";

pub(crate) fn save(conn: &Connection, organization_id: u64, p: &Project) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO projects (id, organization_id, name, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        params![p.id, organization_id, p.name, to_sql(p.created)],
    )?;
    conn.execute("DELETE FROM project_members WHERE project_id = ?1", [p.id])?;
    for (user, role) in &p.members {
        conn.execute(
            "INSERT INTO project_members (project_id, user_id, role) VALUES (?1, ?2, ?3)",
            params![p.id, user, role],
        )?;
    }
    Ok(())
}

fn with_members(conn: &Connection, mut p: Project) -> rusqlite::Result<Project> {
    p.members = conn
        .prepare(
            "SELECT user_id, role FROM project_members WHERE project_id = ?1 ORDER BY user_id",
        )?
        .query_map([p.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(p)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        created: from_sql(r.get(2)?),
        members: Vec::new(),
    })
}

pub(crate) fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<Project>> {
    let p = conn
        .query_row(
            "SELECT id, name, created FROM projects WHERE id = ?1",
            [id],
            from_row,
        )
        .optional()?;
    p.map(|p| with_members(conn, p)).transpose()
}

/// Every project, in id order.
pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<Project>> {
    let list: Vec<Project> = conn
        .prepare("SELECT id, name, created FROM projects ORDER BY id")?
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    list.into_iter().map(|p| with_members(conn, p)).collect()
}

fn limits() -> Value {
    let mut m = Map::new();
    for (name, value) in [
        ("components.jobsParallelism", json!(10)),
        ("kbc.adminsCount", json!(10)),
        ("kbc.extractorsCount", json!(0)),
        ("storage.dataSizeBytes", json!(50_000_000_000_u64)),
        ("storage.jobsParallelism", json!(10)),
    ] {
        m.insert(name.into(), json!({"name": name, "value": value}));
    }
    Value::Object(m)
}

fn metrics(store: &Store, project: &Project) -> Result<Value, ApiError> {
    let admins = project.members.len();
    let main = branches::default_of(store, project.id)?;
    let configs = configurations::count_in_branch(&store.db, main.id)?;
    Ok(json!({
        "kbc.adminsCount": {"name": "kbc.adminsCount", "value": admins},
        "kbc.configurationsCount": {"name": "kbc.configurationsCount", "value": configs},
        "storage.dataSizeBytes": {"name": "storage.dataSizeBytes", "value": 112_128},
        "storage.rowsCount": {"name": "storage.rowsCount", "value": 1036}
    }))
}

const PROJECT_FEATURES: &[&str] = &[
    "queuev2",
    "workspace-snowflake-dynamic-backend-size",
    "new-transformations-only",
];

fn project_common(store: &Store, p: &Project) -> Result<Map<String, Value>, ApiError> {
    let mut o = Map::new();
    o.insert("id".into(), json!(p.id));
    o.insert("name".into(), json!(p.name));
    o.insert("type".into(), json!("production"));
    o.insert("region".into(), json!("us-east-1"));
    o.insert("created".into(), json!(time(p.created)));
    o.insert("expires".into(), Value::Null);
    let mut features: Vec<String> = PROJECT_FEATURES.iter().map(|f| (*f).to_owned()).collect();
    features.extend(crate::storage::global_search::added_features(
        &store.db, p.id,
    )?);
    o.insert("features".into(), json!(features));
    o.insert("dataSizeBytes".into(), json!(112_128));
    o.insert("rowsCount".into(), json!(1036));
    for backend in [
        "hasMysql",
        "hasRedshift",
        "hasSnowflake",
        "hasSynapse",
        "hasExasol",
        "hasTeradata",
        "hasBigquery",
    ] {
        o.insert(backend.into(), json!(backend == "hasSnowflake"));
    }
    o.insert("defaultBackend".into(), json!("snowflake"));
    o.insert("hasTryModeOn".into(), json!(false));
    o.insert("limits".into(), limits());
    o.insert("metrics".into(), metrics(store, p)?);
    o.insert("isDisabled".into(), json!(false));
    o.insert("billedMonthlyPrice".into(), Value::Null);
    o.insert("dataRetentionTimeInDays".into(), json!(7));
    Ok(o)
}

/// The `owner` block of a Storage token (the project, as Storage sees it).
pub(crate) fn owner(store: &Store, p: &Project) -> Result<Value, ApiError> {
    let mut o = project_common(store, p)?;
    o.insert("assignedBackends".into(), json!(["snowflake"]));
    o.insert("fileStorageProvider".into(), json!("aws"));
    Ok(Value::Object(o))
}

/// Manage API `ProjectModel`.
pub(crate) fn render(store: &Store, p: &Project) -> Result<Value, ApiError> {
    let mut o = project_common(store, p)?;
    o.insert(
        "organization".into(),
        organization_brief(&organizations::the(&store.db)?),
    );
    o.insert(
        "fileStorage".into(),
        json!({"id": 1, "provider": "aws", "region": "us-east-1", "awsKey": "AKIAEMULATOR", "filesBucket": "kbc-emulator-files"}),
    );
    o.insert(
        "backends".into(),
        json!({"snowflake": {"id": 1, "host": "emulator.snowflakecomputing.com", "region": "us-east-1", "owner": "keboola"}}),
    );
    o.insert("timezone".into(), json!("Europe/Prague"));
    Ok(Value::Object(o))
}

/// The project from the path, if it exists and the token's user is a member.
pub(crate) fn member_project(
    store: &Store,
    token: &ManageToken,
    id: &str,
) -> Result<Project, ApiError> {
    let found = match id.parse::<u64>() {
        Ok(n) => by_id(&store.db, n)?,
        Err(_) => None,
    };
    let project = found.ok_or_else(|| {
        ApiError::manage(StatusCode::NOT_FOUND, &format!("Project {id} not found"))
    })?;
    // The organization has allowAutoJoin off, so non-members are refused.
    if !project
        .members
        .iter()
        .any(|(user, _)| *user == token.user_id)
    {
        return Err(ApiError::manage(
            StatusCode::FORBIDDEN,
            "You don't have access to project",
        ));
    }
    Ok(project)
}
