//! The Job Queue API (`queue.<hostname>`, or `/queue/...`): `POST /jobs`, `GET /jobs/{id}`,
//! `GET /search/jobs`, `POST /jobs/{id}/kill`.
//!
//! Jobs live in the metadata database (`queue_jobs`); a background task runs each one
//! against the project's stored tables (see `run`).

mod extract;
mod flow;
mod job;
mod run;
mod search;
pub(crate) mod sql;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::db::{self, to_sql};
use crate::http::{ApiError, ApiRequest, ApiResult, json_response, ok_json};
use crate::manage::projects::Role;
use crate::state::{Shared, Store, lock};
use crate::storage::tokens::{self, StorageToken};
use crate::storage::{branches, components, configurations};

pub(crate) use extract::DB_PASSWORD;
use job::of_project;
pub(crate) use job::{Job, by_id, insert, render};
pub(crate) use run::runner;
use search::search;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_jobs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    -- NULL on the default branch, as the Queue shows it
    branch_id INTEGER,
    token_id INTEGER NOT NULL,
    token_description TEXT NOT NULL,
    component TEXT NOT NULL,
    config TEXT,
    config_row_ids TEXT NOT NULL,
    config_data TEXT,
    mode TEXT NOT NULL,
    tag TEXT,
    variable_values_id TEXT,
    variable_values_data TEXT NOT NULL,
    -- created, waiting, processing, success, error, warning, terminating, terminated, cancelled
    status TEXT NOT NULL,
    desired_status TEXT NOT NULL,
    run_id TEXT NOT NULL,
    parent_run_id TEXT,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    ended INTEGER,
    result TEXT,
    -- a test control taken when the job was created (JSON), see QueueJobControl
    steering TEXT
);
CREATE INDEX IF NOT EXISTS queue_jobs_project ON queue_jobs (project_id);";

pub(crate) const SEQUENCE: &str = "queue_jobs";
/// Queue job ids are large numbers, unrelated to Storage job ids.
pub(crate) const FIRST_ID: u64 = 900_000_001;

/// A test control for the next Queue jobs (`POST /_emulator/jobs`): it overrides the
/// configuration's `parameters.emulator` of the job it is taken by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueJobControl {
    /// End the job in `error` with this `result.message`, writing nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
    /// Stay `processing` this long before working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep_ms: Option<u64>,
    /// Stay `processing` until killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stuck: bool,
    /// Only jobs of this component (flow children included). Absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Apply to this many jobs; 1 when absent, 0 for every job until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// The channel to the job runner (ids of jobs to run) and the pending controls.
pub(crate) struct Queue {
    tx: mpsc::UnboundedSender<u64>,
    pub controls: std::sync::Mutex<Vec<QueueJobControl>>,
}

impl Queue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<u64>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                tx,
                controls: std::sync::Mutex::new(Vec::new()),
            },
            rx,
        )
    }

    /// The first pending control for a job of `component`, as the job's steering.
    pub fn take_control(&self, component: &str) -> Option<Value> {
        let control = crate::control::take_control(
            &mut lock(&self.controls),
            |c| c.component.as_deref().is_none_or(|o| o == component),
            |c| &mut c.times,
        )?;
        let mut steering = serde_json::Map::new();
        if let Some(m) = control.fail {
            steering.insert("fail".into(), json!(m));
        }
        if let Some(ms) = control.sleep_ms {
            steering.insert("sleep_ms".into(), json!(ms));
        }
        if control.stuck {
            steering.insert("stuck".into(), json!(true));
        }
        Some(Value::Object(steering))
    }
}

/// The Queue's error envelope for an authentication failure of Storage.
fn authenticate(store: &Store, req: &ApiRequest, now: Timestamp) -> Result<StorageToken, ApiError> {
    tokens::authenticate(store, req, now).map_err(|e| {
        let message = e
            .body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("Invalid access token")
            .to_owned();
        ApiError::service(e.status, &message)
    })
}

fn bad_request(message: &str) -> ApiError {
    ApiError::service(StatusCode::BAD_REQUEST, message)
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::service(StatusCode::NOT_FOUND, &format!("Job \"{id}\" not found"))
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    let m = &req.method;
    match rest {
        ["jobs"] if m == Method::POST => create(shared, req),
        ["jobs", id] if m == Method::GET => get(shared, req, id),
        ["jobs", id, "kill"] if m == Method::POST => kill(shared, req, id),
        ["search", "jobs"] if m == Method::GET => search(shared, req),
        ["jobs", ..] | ["search", "jobs"] => Err(ApiError::service(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
        )),
        _ => Err(ApiError::service(StatusCode::NOT_FOUND, "Route not found")),
    }
}

fn str_field(params: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad_request(&format!(
            "Invalid request: {key}: This value should be of type string."
        ))),
    }
}

fn create(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let now = shared.now();
    let params = req.params()?;
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let Some(component) = str_field(&params, "component")? else {
        return Err(bad_request(
            "Invalid request: component: This value should not be blank.",
        ));
    };
    let mode = str_field(&params, "mode")?.unwrap_or_else(|| "run".to_owned());
    if !["run", "debug", "forceRun"].contains(&mode.as_str()) {
        return Err(bad_request(&format!(
            "Invalid request: mode: The value \"{mode}\" is not valid. Choose one of \"run\", \"forceRun\", \"debug\"."
        )));
    }
    // A read-only member may look at jobs but never run one.
    if me.role() == Some(Role::ReadOnly) || !me.can_use_component(&component) {
        return Err(ApiError::service(
            StatusCode::FORBIDDEN,
            &format!("You do not have access to component \"{component}\"."),
        ));
    }
    if components::by_id(&store.db, &component)?.is_none() {
        return Err(bad_request(&format!(
            "Component \"{component}\" not found."
        )));
    }
    let config = str_field(&params, "config")?;
    let config_data = match params.get("configData") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(Value::Object(m.clone())),
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(_) => {
            return Err(bad_request(
                "Invalid request: configData: This value should be of type array.",
            ));
        }
    };
    if config.is_none() && config_data.is_none() {
        return Err(bad_request(
            "Invalid request: Either \"config\" or \"configData\" must be specified.",
        ));
    }
    let branch_param = str_field(&params, "branchId")?;
    let branch_id = branches::resolve_branch(&store, me.project_id, branch_param.as_deref())
        .map_err(|_| {
            bad_request(&format!(
                "Branch \"{}\" not found.",
                branch_param.as_deref().unwrap_or("")
            ))
        })?;
    let default_branch = branches::resolve_branch(&store, me.project_id, None)?;
    let config_row_ids = match params.get("configRowIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(bad_request(
                    "Invalid request: configRowIds: This value should be of type string.",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(bad_request(
                "Invalid request: configRowIds: This value should be of type array.",
            ));
        }
    };
    if let (Some(id), None) = (&config, &config_data) {
        let found = configurations::find(&store.db, branch_id, &component, id)?;
        if found.is_none() {
            return Err(ApiError::service(
                StatusCode::NOT_FOUND,
                &format!("Configuration \"{id}\" of component \"{component}\" not found."),
            ));
        }
    }
    let variable_values_id = str_field(&params, "variableValuesId")?;
    let variable_values_data = match params.get("variableValuesData") {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({"values": []}),
    };
    if variable_values_id.is_some() && params.get("variableValuesData").is_some() {
        return Err(bad_request(
            "Invalid request: Provide either \"variableValuesId\" or \"variableValuesData\", but not both.",
        ));
    }
    // A job submitted by a running job (`X-KBC-RunId`) is its child.
    let parent_run_id = req
        .header("x-kbc-runid")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let id = db::next_id(&store.db, SEQUENCE)?;
    let job = Job {
        id,
        project_id: me.project_id,
        branch_id: (branch_id != default_branch).then_some(branch_id),
        token_id: me.id,
        token_description: me.description.clone(),
        kind: if component == run::FLOW {
            "orchestrationContainer".to_owned()
        } else {
            "standard".to_owned()
        },
        component,
        config,
        config_row_ids,
        config_data,
        mode,
        tag: str_field(&params, "tag")?,
        variable_values_id,
        variable_values_data,
        status: "created".to_owned(),
        desired_status: "processing".to_owned(),
        run_id: parent_run_id
            .as_ref()
            .map_or_else(|| id.to_string(), |p| format!("{p}.{id}")),
        parent_run_id,
        created: now,
        started: None,
        ended: None,
        result: None,
        steering: None,
    };
    let job = Job {
        steering: shared.queue.take_control(&job.component),
        ..job
    };
    insert(&store.db, &job)?;
    // Rendered before the runner sees it, so the answer always shows `created`.
    let body = render(shared, &job);
    drop(store);
    if shared.queue.tx.send(id).is_err() {
        return Err(ApiError::service(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Application error.",
        ));
    }
    Ok(json_response(StatusCode::CREATED, &body))
}

fn visible(store: &Store, me: &StorageToken, id: &str) -> Result<Job, ApiError> {
    let job = match id.parse::<u64>() {
        Ok(n) => by_id(&store.db, n)?,
        Err(_) => None,
    };
    job.filter(|j| j.project_id == me.project_id)
        .ok_or_else(|| job_not_found(id))
}

fn get(shared: &Shared, req: &ApiRequest, id: &str) -> ApiResult {
    let store = shared.store();
    let me = authenticate(&store, req, shared.now())?;
    let job = visible(&store, &me, id)?;
    ok_json(&render(shared, &job))
}

/// `created` and `waiting` jobs are cancelled at once; `processing` ones go to
/// `terminating` and the runner ends them as `terminated`. Children go with their parent.
fn kill(shared: &Shared, req: &ApiRequest, id: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    if me.role() == Some(Role::ReadOnly) {
        return Err(ApiError::service(
            StatusCode::FORBIDDEN,
            "You do not have permission to terminate jobs.",
        ));
    }
    let job = visible(&store, &me, id)?;
    if !["created", "waiting", "processing", "terminating"].contains(&job.status.as_str()) {
        return Err(bad_request(&format!(
            "Job \"{id}\" is not in one of killable states \"created, waiting, processing\"."
        )));
    }
    let tx = store.db.unchecked_transaction()?;
    let family: Vec<Job> = of_project(&tx, me.project_id)?
        .into_iter()
        .filter(|j| {
            j.id == job.id
                || j.parent_run_id
                    .as_deref()
                    .is_some_and(|p| p == job.run_id || p.starts_with(&format!("{}.", job.run_id)))
        })
        .collect();
    for j in family {
        match j.status.as_str() {
            "created" | "waiting" => {
                tx.execute(
                    "UPDATE queue_jobs SET status = 'cancelled', desired_status = 'terminating',
                         ended = ?2, result = ?3 WHERE id = ?1",
                    params![
                        j.id,
                        to_sql(now),
                        json!({"message": "Job was cancelled."}).to_string()
                    ],
                )?;
            }
            "processing" => {
                tx.execute(
                    "UPDATE queue_jobs SET status = 'terminating', desired_status = 'terminating'
                     WHERE id = ?1",
                    [j.id],
                )?;
            }
            _ => {}
        }
    }
    tx.commit()?;
    let job = by_id(&store.db, job.id)?.ok_or_else(|| job_not_found(id))?;
    Ok(json_response(StatusCode::ACCEPTED, &render(shared, &job)))
}

/// Starts the Queue's runner on the emulator's runtime.
pub(crate) fn spawn_runner(
    runtime: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    rx: mpsc::UnboundedReceiver<u64>,
) {
    runtime.spawn(runner(Arc::clone(shared), rx));
}
