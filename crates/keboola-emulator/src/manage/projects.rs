//! Projects: membership roles, the project JSON shapes (Manage's `ProjectModel` and the
//! `owner` block of a Storage token).

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::organizations::{self, organization_brief};
use super::tokens::ManageToken;
use crate::http::{ApiError, time};
use crate::state::Store;
use crate::storage::branches::Branch;

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
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub id: u64,
    pub name: String,
    pub created: Timestamp,
    pub branches: Vec<Branch>,
    pub members: Vec<(u64, Role)>,
}

impl Project {
    pub fn default_branch(&self) -> &Branch {
        self.branches
            .iter()
            .find(|b| b.is_default)
            .unwrap_or(&self.branches[0])
    }
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

fn metrics(project: &Project) -> Value {
    let admins = project.members.len();
    let configs = project.default_branch().configs.len();
    json!({
        "kbc.adminsCount": {"name": "kbc.adminsCount", "value": admins},
        "kbc.configurationsCount": {"name": "kbc.configurationsCount", "value": configs},
        "storage.dataSizeBytes": {"name": "storage.dataSizeBytes", "value": 112_128},
        "storage.rowsCount": {"name": "storage.rowsCount", "value": 1036}
    })
}

const PROJECT_FEATURES: &[&str] = &[
    "queuev2",
    "workspace-snowflake-dynamic-backend-size",
    "new-transformations-only",
];

fn project_common(p: &Project) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(p.id));
    o.insert("name".into(), json!(p.name));
    o.insert("type".into(), json!("production"));
    o.insert("region".into(), json!("us-east-1"));
    o.insert("created".into(), json!(time(p.created)));
    o.insert("expires".into(), Value::Null);
    o.insert("features".into(), json!(PROJECT_FEATURES));
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
    o.insert("metrics".into(), metrics(p));
    o.insert("isDisabled".into(), json!(false));
    o.insert("billedMonthlyPrice".into(), Value::Null);
    o.insert("dataRetentionTimeInDays".into(), json!(7));
    o
}

/// The `owner` block of a Storage token (the project, as Storage sees it).
pub(crate) fn owner(p: &Project) -> Value {
    let mut o = project_common(p);
    o.insert("assignedBackends".into(), json!(["snowflake"]));
    o.insert("fileStorageProvider".into(), json!("aws"));
    Value::Object(o)
}

/// Manage API `ProjectModel`.
pub(crate) fn render(store: &Store, p: &Project) -> Result<Value, ApiError> {
    let mut o = project_common(p);
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

/// The project id from the path, if it exists and the token's user is a member.
pub(crate) fn member_project(
    store: &Store,
    token: &ManageToken,
    id: &str,
) -> Result<u64, ApiError> {
    let project = id
        .parse::<u64>()
        .ok()
        .and_then(|n| store.projects.get(&n))
        .ok_or_else(|| {
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
    Ok(project.id)
}
