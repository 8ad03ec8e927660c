//! The stored job: its row in `queue_jobs` and how the API renders it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};

use crate::db::{from_sql, to_sql};
use crate::state::Shared;

/// Statuses a job ends in.
const FINISHED: &[&str] = &["success", "error", "warning", "terminated", "cancelled"];

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

pub(super) fn of_project(conn: &Connection, project_id: u64) -> rusqlite::Result<Vec<Job>> {
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
