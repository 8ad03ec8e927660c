//! The Job Queue API (`queue.<hostname>`, or `/queue/...`): `POST /jobs`, `GET /jobs/{id}`,
//! `GET /search/jobs`, `POST /jobs/{id}/kill`.
//!
//! Jobs live in the metadata database (`queue_jobs`); a background task runs each one
//! against the project's stored tables (see `run`).

mod extract;
mod run;
mod sql;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::db::{self, from_sql, to_sql};
use crate::http::{ApiError, ApiRequest, ApiResult, json_response, ok_json, parse_form};
use crate::manage::projects::Role;
use crate::state::{Shared, Store, lock};
use crate::storage::tokens::{self, StorageToken};
use crate::storage::{branches, components, configurations};

pub(crate) use run::runner;

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

/// Statuses a job ends in.
const FINISHED: &[&str] = &["success", "error", "warning", "terminated", "cancelled"];

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

/// A stored job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub id: u64,
    pub project_id: u64,
    pub branch_id: Option<u64>,
    pub token_id: u64,
    pub token_description: String,
    pub component: String,
    pub config: Option<String>,
    pub config_row_ids: Vec<String>,
    pub config_data: Option<Value>,
    pub mode: String,
    pub tag: Option<String>,
    pub variable_values_id: Option<String>,
    pub variable_values_data: Value,
    pub status: String,
    pub desired_status: String,
    pub run_id: String,
    pub parent_run_id: Option<String>,
    pub kind: String,
    pub created: Timestamp,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub result: Option<Value>,
    /// A test control taken at creation; overrides `parameters.emulator`.
    pub steering: Option<Value>,
}

const COLUMNS: &str = "id, project_id, branch_id, token_id, token_description, component, config,
    config_row_ids, config_data, mode, tag, variable_values_id, variable_values_data, status,
    desired_status, run_id, parent_run_id, type, created, started, ended, result, steering";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let json_opt = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Value>(&s).ok());
    Ok(Job {
        id: r.get(0)?,
        project_id: r.get(1)?,
        branch_id: r.get(2)?,
        token_id: r.get(3)?,
        token_description: r.get(4)?,
        component: r.get(5)?,
        config: r.get(6)?,
        config_row_ids: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        config_data: json_opt(r.get(8)?),
        mode: r.get(9)?,
        tag: r.get(10)?,
        variable_values_id: r.get(11)?,
        variable_values_data: json_opt(Some(r.get(12)?)).unwrap_or_else(|| json!({"values": []})),
        status: r.get(13)?,
        desired_status: r.get(14)?,
        run_id: r.get(15)?,
        parent_run_id: r.get(16)?,
        kind: r.get(17)?,
        created: from_sql(r.get(18)?),
        started: r.get::<_, Option<i64>>(19)?.map(from_sql),
        ended: r.get::<_, Option<i64>>(20)?.map(from_sql),
        result: json_opt(r.get(21)?),
        steering: json_opt(r.get(22)?),
    })
}

pub(crate) fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<Job>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM queue_jobs WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

fn of_project(conn: &Connection, project_id: u64) -> rusqlite::Result<Vec<Job>> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM queue_jobs WHERE project_id = ?1 ORDER BY id"
    ))?
    .query_map([project_id], from_row)?
    .collect()
}

/// Records a new job in `created` and returns its id.
pub(crate) fn insert(conn: &Connection, job: &Job) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO queue_jobs ({COLUMNS}) VALUES
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
              ?19, ?20, ?21, ?22, ?23)"
        ),
        params![
            job.id,
            job.project_id,
            job.branch_id,
            job.token_id,
            job.token_description,
            job.component,
            job.config,
            json!(job.config_row_ids).to_string(),
            job.config_data.as_ref().map(Value::to_string),
            job.mode,
            job.tag,
            job.variable_values_id,
            job.variable_values_data.to_string(),
            job.status,
            job.desired_status,
            job.run_id,
            job.parent_run_id,
            job.kind,
            to_sql(job.created),
            job.started.map(to_sql),
            job.ended.map(to_sql),
            job.result.as_ref().map(Value::to_string),
            job.steering.as_ref().map(Value::to_string),
        ],
    )?;
    Ok(())
}

/// Queue times: ISO 8601 in UTC with a `+00:00` offset.
pub(crate) fn queue_time(ts: Timestamp) -> String {
    format!("{}+00:00", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// Empty objects go out as `[]`, as the Queue's PHP serializer sends them.
fn php_object(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) if !m.is_empty() => Value::Object(m.clone()),
        _ => json!([]),
    }
}

pub(crate) fn render(shared: &Shared, job: &Job) -> Value {
    let project_name = shared
        .seeded
        .projects
        .get(&job.project_id)
        .map_or_else(String::new, |p| p.name.clone());
    let duration = match (job.started, job.ended) {
        (Some(s), Some(e)) => (e.as_second() - s.as_second()).max(0),
        _ => 0,
    };
    json!({
        "id": job.id.to_string(),
        "runId": job.run_id,
        "parentRunId": job.parent_run_id.clone().unwrap_or_default(),
        "project": {"id": job.project_id.to_string(), "name": project_name},
        "token": {"id": job.token_id.to_string(), "description": job.token_description},
        "status": job.status,
        "desiredStatus": job.desired_status,
        "mode": job.mode,
        "component": job.component,
        "config": job.config,
        "configData": php_object(job.config_data.as_ref()),
        "configRowIds": job.config_row_ids,
        "tag": job.tag,
        "createdTime": queue_time(job.created),
        "startTime": job.started.map(queue_time),
        "endTime": job.ended.map(queue_time),
        "durationSeconds": duration,
        "result": php_object(job.result.as_ref()),
        "isFinished": FINISHED.contains(&job.status.as_str()),
        "url": format!("{}/jobs/{}", shared.urls.service("queue"), job.id),
        "branchId": job.branch_id.map(|b| b.to_string()),
        "variableValuesId": job.variable_values_id,
        "variableValuesData": job.variable_values_data,
        "backend": [],
        "metrics": [],
        "type": job.kind,
        "isSystem": false,
    })
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

/// A filter value: `x=a`, `x[]=a&x[]=b`, or a comma-free number.
fn values(query: &Map<String, Value>, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for key in keys {
        match query.get(*key) {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Array(a)) => out.extend(a.iter().filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })),
            Some(Value::Number(n)) => out.push(n.to_string()),
            _ => {}
        }
    }
    out
}

/// `2026-12-01T10:00:00+00:00`, `2026-12-01`, `now`, or relative `-3 days` / `2 hours ago`
/// (the part of PHP's `strtotime` that clients use).
fn parse_time(text: &str, now: Timestamp) -> Option<Timestamp> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Some(now);
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).ok();
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok();
    }
    let lower = t.to_ascii_lowercase();
    let (body, sign) = match lower.strip_suffix(" ago") {
        Some(b) => (b.trim().to_owned(), -1),
        None => (lower.clone(), 1),
    };
    let mut parts = body.split_whitespace();
    let n: i64 = parts.next()?.trim_start_matches('+').parse().ok()?;
    let unit = parts.next()?.trim_end_matches('s');
    if parts.next().is_some() {
        return None;
    }
    let secs = match unit {
        "second" | "sec" => 1,
        "minute" | "min" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 604_800,
        _ => return None,
    };
    now.checked_add(jiff::SignedDuration::from_secs(sign * n * secs))
        .ok()
}

type TimeBound = (Option<Timestamp>, Option<Timestamp>);

fn time_bounds(
    query: &Map<String, Value>,
    name: &str,
    now: Timestamp,
) -> Result<TimeBound, ApiError> {
    let one = |suffix: &str| -> Result<Option<Timestamp>, ApiError> {
        let key = format!("{name}Time{suffix}");
        let mut vals = values(query, &[key.as_str()]);
        if let Some(Value::Object(filters)) = query.get("filters") {
            vals.extend(values(filters, &[key.as_str()]));
        }
        match vals.first() {
            None => Ok(None),
            Some(v) => parse_time(v, now).map(Some).ok_or_else(|| {
                bad_request(&format!(
                    "Invalid request: {key}: \"{v}\" is not a valid date."
                ))
            }),
        }
    };
    Ok((one("From")?, one("To")?))
}

fn search(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let ids = values(&query, &["id", "id[]"]);
    let run_ids = values(&query, &["runId", "runId[]"]);
    let parent_run_ids = values(&query, &["parentRunId", "parentRunId[]"]);
    let components = values(
        &query,
        &["component", "component[]", "componentId", "componentId[]"],
    );
    let configs = values(&query, &["config", "config[]", "configId", "configId[]"]);
    let statuses = values(&query, &["status", "status[]"]);
    let modes = values(&query, &["mode", "mode[]"]);
    let token_ids = values(&query, &["tokenId", "tokenId[]"]);
    let branch_ids = values(&query, &["branchId", "branchId[]"]);
    let row_ids = values(&query, &["configRowIds", "configRowIds[]"]);
    let types = values(&query, &["type"]);
    let created = time_bounds(&query, "created", now)?;
    let started = time_bounds(&query, "start", now)?;
    let ended = time_bounds(&query, "end", now)?;
    let int = |key: &str, default: i64| -> Result<i64, ApiError> {
        match values(&query, &[key]).first() {
            None => Ok(default),
            Some(v) => v.parse::<i64>().map_err(|_| {
                bad_request(&format!(
                    "Invalid request: {key}: This value should be of type int."
                ))
            }),
        }
    };
    let limit = int("limit", 100)?;
    let offset = int("offset", 0)?;
    if !(1..=500).contains(&limit) || offset < 0 {
        return Err(bad_request(
            "Invalid request: limit must be between 1 and 500 and offset at least 0.",
        ));
    }
    let sort_by = values(&query, &["sortBy"])
        .first()
        .cloned()
        .unwrap_or_else(|| "id".to_owned());
    let sort_order = values(&query, &["sortOrder"])
        .first()
        .cloned()
        .unwrap_or_else(|| "desc".to_owned());
    const SORTS: &[&str] = &[
        "id",
        "runId",
        "projectId",
        "branchId",
        "componentId",
        "configId",
        "tokenDescription",
        "status",
        "createdTime",
        "updatedTime",
        "startTime",
        "endTime",
        "durationSeconds",
    ];
    if !SORTS.contains(&sort_by.as_str()) {
        return Err(bad_request(&format!(
            "Invalid request: sortBy: The value \"{sort_by}\" is not valid."
        )));
    }
    if !["asc", "desc"].contains(&sort_order.as_str()) {
        return Err(bad_request(&format!(
            "Invalid request: sortOrder: The value \"{sort_order}\" is not valid."
        )));
    }
    let within = |ts: Option<Timestamp>, (from, to): TimeBound| {
        (from.is_none() && to.is_none())
            || ts.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u))
    };
    let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let mut jobs: Vec<Job> = of_project(&store.db, me.project_id)?
        .into_iter()
        .filter(|j| {
            any(&ids, &j.id.to_string())
                && any(&run_ids, &j.run_id)
                && any(&parent_run_ids, j.parent_run_id.as_deref().unwrap_or(""))
                && any(&components, &j.component)
                && any(&configs, j.config.as_deref().unwrap_or(""))
                && any(&statuses, &j.status)
                && any(&modes, &j.mode)
                && any(&token_ids, &j.token_id.to_string())
                && any(&types, &j.kind)
                && (branch_ids.is_empty()
                    || branch_ids.iter().any(|b| match j.branch_id {
                        None => b == "null" || b.is_empty(),
                        Some(id) => *b == id.to_string(),
                    }))
                && (row_ids.is_empty() || row_ids.iter().any(|r| j.config_row_ids.contains(r)))
                && within(Some(j.created), created)
                && within(j.started, started)
                && within(j.ended, ended)
        })
        .collect();
    let duration = |j: &Job| match (j.started, j.ended) {
        (Some(s), Some(e)) => e.as_second() - s.as_second(),
        _ => 0,
    };
    jobs.sort_by(|a, b| {
        let ord = match sort_by.as_str() {
            "runId" => a.run_id.cmp(&b.run_id),
            "branchId" => a.branch_id.cmp(&b.branch_id),
            "componentId" => a.component.cmp(&b.component),
            "configId" => a.config.cmp(&b.config),
            "tokenDescription" => a.token_description.cmp(&b.token_description),
            "status" => a.status.cmp(&b.status),
            "createdTime" | "updatedTime" => a.created.cmp(&b.created),
            "startTime" => a.started.cmp(&b.started),
            "endTime" => a.ended.cmp(&b.ended),
            "durationSeconds" => duration(a).cmp(&duration(b)),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.id.cmp(&b.id));
        if sort_order == "asc" {
            ord
        } else {
            ord.reverse()
        }
    });
    let page: Vec<Value> = jobs
        .iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(|j| render(shared, j))
        .collect();
    ok_json(&Value::Array(page))
}

/// Starts the Queue's runner on the emulator's runtime.
pub(crate) fn spawn_runner(
    runtime: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    rx: mpsc::UnboundedReceiver<u64>,
) {
    runtime.spawn(runner(Arc::clone(shared), rx));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_like_strtotime_for_common_inputs() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let t = |s: &str| parse_time(s, now).map(|t| t.to_string());
        assert_eq!(
            t("2026-11-30T10:00:00+00:00").unwrap(),
            "2026-11-30T10:00:00Z"
        );
        assert_eq!(t("2026-11-30").unwrap(), "2026-11-30T00:00:00Z");
        assert_eq!(t("-2 days").unwrap(), "2026-11-29T12:00:00Z");
        assert_eq!(t("3 hours ago").unwrap(), "2026-12-01T09:00:00Z");
        assert!(t("yesterday-ish").is_none());
    }
}
