//! Running a job: `created` -> `waiting` -> `processing` -> a final status, with events on
//! the way. The work itself runs against the project's stored tables under the store's
//! lock; waits (steering, flows) happen outside it, checking for a kill.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::params;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::flow::flow;
use super::{Job, by_id};
use crate::db::to_sql;
use crate::http::exception_id;
use crate::state::{Shared, Store};
use crate::storage::events::{self, JobEvent};
use crate::storage::{branches, components, configurations};

pub(crate) const FLOW: &str = "keboola.flow";

/// How often a waiting job looks for a kill.
const TICK: Duration = Duration::from_millis(10);

/// Runs queued jobs, each on its own task.
pub(crate) async fn runner(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<u64>) {
    while let Some(id) = rx.recv().await {
        tokio::spawn(run_job(Arc::clone(&shared), id));
    }
}

/// The configuration a job runs: the stored one (or `configData`) and the rows to run.
pub(crate) struct Resolved {
    pub configuration: Value,
    pub rows: Vec<RowToRun>,
    pub version: Option<u64>,
}

pub(crate) struct RowToRun {
    pub configuration: Value,
}

/// Why a job failed: its `result.message`, and whether it is the user's fault.
#[derive(Debug)]
pub(crate) struct Failure {
    pub message: String,
    pub application: bool,
    /// A flow's `tasks`, kept in the failed result too.
    pub tasks: Option<Value>,
}

impl Failure {
    pub fn user(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            application: false,
            tasks: None,
        }
    }

    pub fn internal() -> Self {
        Self {
            message: "Application error.".to_owned(),
            application: true,
            tasks: None,
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(_: rusqlite::Error) -> Self {
        Self::internal()
    }
}

pub(super) enum Outcome {
    Success(Value),
    /// Finished, but a child failed (a flow's task with `continueOnFailure`).
    Warning(Value),
    Error(Failure),
    Terminated,
}

/// Writes a job's events.
pub(crate) struct Emitter<'a> {
    pub job: &'a Job,
}

impl Emitter<'_> {
    pub fn emit(&self, store: &Store, now: jiff::Timestamp, kind: &str, message: &str) {
        self.emit_with(store, now, kind, message, json!([]));
    }

    pub fn emit_with(
        &self,
        store: &Store,
        now: jiff::Timestamp,
        kind: &str,
        message: &str,
        results: Value,
    ) {
        let job = self.job;
        // Events are a log: failing to write one does not fail the job.
        let _ = events::emit(
            &store.db,
            now,
            &JobEvent {
                project_id: job.project_id,
                token_id: job.token_id,
                token_name: &job.token_description,
                component: &job.component,
                config_id: job.config.as_deref(),
                run_id: &job.run_id,
                branch_id: job.branch_id,
                kind,
                message,
                description: "",
                params: json!({"jobId": job.id.to_string()}),
                results,
            },
        );
    }
}

fn status_of(shared: &Shared, id: u64) -> Option<String> {
    let store = shared.store();
    by_id(&store.db, id).ok().flatten().map(|j| j.status)
}

/// Moves the job from `from` to `to`; false when something else (a kill) moved it first.
fn transition(shared: &Shared, id: u64, from: &str, to: &str) -> bool {
    let store = shared.store();
    let started = (to == "processing").then(|| to_sql(shared.now()));
    store
        .db
        .execute(
            "UPDATE queue_jobs SET status = ?3, started = COALESCE(?4, started)
             WHERE id = ?1 AND status = ?2",
            params![id, from, to, started],
        )
        .is_ok_and(|n| n == 1)
}

/// Whether the job was told to stop (or vanished in a reset).
pub(super) fn killed(shared: &Shared, id: u64) -> bool {
    status_of(shared, id).is_none_or(|s| s != "processing")
}

/// Sleeps `ms`, or until the job is killed; true when killed.
async fn wait(shared: &Shared, id: u64, ms: Option<u64>) -> bool {
    let deadline = ms.map(|ms| tokio::time::Instant::now() + Duration::from_millis(ms));
    loop {
        if killed(shared, id) {
            return true;
        }
        let now = tokio::time::Instant::now();
        let step = match deadline {
            Some(d) if now >= d => return false,
            Some(d) => (d - now).min(TICK),
            None => TICK,
        };
        tokio::time::sleep(step).await;
    }
}

/// Runs one job to its end and gives its final status.
pub(crate) fn run_job(
    shared: Arc<Shared>,
    id: u64,
) -> Pin<Box<dyn Future<Output = String> + Send>> {
    Box::pin(async move {
        // The creating request's answer shows `created`; the runner moves on after it.
        tokio::task::yield_now().await;
        if !transition(&shared, id, "created", "waiting") {
            return status_of(&shared, id).unwrap_or_default();
        }
        tokio::task::yield_now().await;
        if !transition(&shared, id, "waiting", "processing") {
            return status_of(&shared, id).unwrap_or_default();
        }
        let outcome = process(&shared, id).await;
        finish(&shared, id, outcome)
    })
}

async fn process(shared: &Arc<Shared>, id: u64) -> Outcome {
    let (job, resolved) = {
        let store = shared.store();
        let Some(job) = by_id(&store.db, id).ok().flatten() else {
            return Outcome::Terminated;
        };
        let now = shared.now();
        let ev = Emitter { job: &job };
        ev.emit(
            &store,
            now,
            "info",
            &format!(
                "Job \"{}\" of component \"{}\" started.",
                job.id, job.component
            ),
        );
        match resolve(&store, &job) {
            Ok(r) => (job, r),
            Err(f) => return Outcome::Error(f),
        }
    };
    let steer = match job.steering.as_ref().and_then(Value::as_object) {
        Some(control) => control.clone(),
        None => steering(&resolved),
    };
    if let Some(ms) = steer.get("sleep_ms").and_then(Value::as_u64)
        && wait(shared, id, Some(ms)).await
    {
        return Outcome::Terminated;
    }
    if steer.get("stuck").and_then(Value::as_bool) == Some(true) {
        wait(shared, id, None).await;
        return Outcome::Terminated;
    }
    if let Some(message) = steer.get("fail").and_then(Value::as_str) {
        return Outcome::Error(Failure::user(message));
    }
    if job.component == FLOW {
        return flow(shared, &job, &resolved).await;
    }
    if killed(shared, id) {
        return Outcome::Terminated;
    }
    let store = shared.store();
    let ev = Emitter { job: &job };
    let now = shared.now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        execute(&store, &job, &resolved, &ev, now)
    }))
    .unwrap_or_else(|_| Err(Failure::internal()));
    match outcome {
        Ok(tables) => Outcome::Success(json!({
            "message": "Component processing finished.",
            "configVersion": resolved.version.map(|v| v.to_string()),
            "images": [],
            "input": {"tables": tables["input"].clone()},
            "output": {"tables": tables["output"].clone()},
        })),
        Err(f) => Outcome::Error(f),
    }
}

/// `parameters.emulator` of the configuration, else of the first row that has it.
fn steering(r: &Resolved) -> serde_json::Map<String, Value> {
    std::iter::once(&r.configuration)
        .chain(r.rows.iter().map(|row| &row.configuration))
        .find_map(|c| c.pointer("/parameters/emulator").and_then(Value::as_object))
        .cloned()
        .unwrap_or_default()
}

/// The job's configuration with its secrets decrypted for the runner.
fn resolve(store: &Store, job: &Job) -> Result<Resolved, Failure> {
    let mut r = resolve_stored(store, job)?;
    let decrypt = |v: &mut Value| {
        crate::encryption::decrypt_for_job(
            &store.db,
            &job.component,
            job.project_id,
            job.config.as_deref(),
            v,
        )
        .map_err(|e| {
            Failure::user(format!(
                "Decryption failed: invalid cipher text for key \"{}\" (it was encrypted for another project, component or configuration, or not by this stack).",
                e.key
            ))
        })
    };
    decrypt(&mut r.configuration)?;
    for row in &mut r.rows {
        decrypt(&mut row.configuration)?;
    }
    Ok(r)
}

fn resolve_stored(store: &Store, job: &Job) -> Result<Resolved, Failure> {
    if let Some(data) = &job.config_data {
        return Ok(Resolved {
            configuration: data.clone(),
            rows: Vec::new(),
            version: None,
        });
    }
    let Some(config_id) = &job.config else {
        return Err(Failure::user("No configuration given."));
    };
    let branch = match job.branch_id {
        Some(b) => b,
        None => branches::resolve_branch(store, job.project_id, None)
            .map_err(|_| Failure::internal())?,
    };
    let config =
        configurations::find(&store.db, branch, &job.component, config_id)?.ok_or_else(|| {
            Failure::user(format!(
                "Configuration \"{config_id}\" of component \"{}\" not found.",
                job.component
            ))
        })?;
    if config.is_disabled && job.mode != "forceRun" {
        return Err(Failure::user(format!(
            "Configuration \"{config_id}\" of component \"{}\" is disabled.",
            job.component
        )));
    }
    let mut rows = Vec::new();
    for id in &job.config_row_ids {
        let row = config.rows.iter().find(|r| &r.id == id).ok_or_else(|| {
            Failure::user(format!(
                "Row \"{id}\" of configuration \"{config_id}\" not found."
            ))
        })?;
        rows.push(row);
    }
    if job.config_row_ids.is_empty() {
        rows = config.rows.iter().filter(|r| !r.is_disabled).collect();
    }
    let rows = rows
        .into_iter()
        .map(|r| RowToRun {
            configuration: r.configuration.clone(),
        })
        .collect();
    Ok(Resolved {
        configuration: config.configuration.clone(),
        rows,
        version: Some(config.version),
    })
}

/// The work of a standard job. Gives `{"input": [...], "output": [...]}` tables.
fn execute(
    store: &Store,
    job: &Job,
    resolved: &Resolved,
    ev: &Emitter<'_>,
    now: jiff::Timestamp,
) -> Result<Value, Failure> {
    let component = components::by_id(&store.db, &job.component)?;
    if component
        .as_ref()
        .is_some_and(components::Component::uses_oauth)
        && resolved
            .configuration
            .pointer("/authorization/oauth_api")
            .is_none()
    {
        return Err(Failure::user(format!(
            "Authorization is missing for component \"{}\", configuration \"{}\". Authorize the configuration (OAuth) first.",
            job.component,
            job.config.as_deref().unwrap_or("")
        )));
    }
    if super::sql::is_sql(&job.component) {
        return super::sql::run(store, job, resolved, ev, now);
    }
    if super::extract::handles(&job.component) {
        return super::extract::run(store, job, resolved, ev, now);
    }
    if job.component.contains("transformation") {
        return Err(Failure::user(format!(
            "The emulator runs SQL transformations only; \"{}\" is not one.",
            job.component
        )));
    }
    ev.emit(
        store,
        now,
        "info",
        "The emulator has nothing to do for this component.",
    );
    Ok(json!({"input": [], "output": []}))
}

fn finish(shared: &Shared, id: u64, outcome: Outcome) -> String {
    let store = shared.store();
    let now = shared.now();
    let Some(job) = by_id(&store.db, id).ok().flatten() else {
        return String::new();
    };
    // A kill that arrived while the work ran wins.
    let outcome = if job.status == "terminating" {
        Outcome::Terminated
    } else {
        outcome
    };
    let ev = Emitter { job: &job };
    let (status, result) = match outcome {
        Outcome::Success(r) => {
            ev.emit(&store, now, "success", &format!("Job \"{id}\" succeeded."));
            ("success", r)
        }
        Outcome::Warning(r) => {
            let message = r["message"].as_str().unwrap_or("").to_owned();
            ev.emit(&store, now, "warn", &message);
            ("warning", r)
        }
        Outcome::Error(f) => {
            ev.emit(&store, now, "error", &f.message);
            let mut result = json!({"message": f.message, "error": {
                "type": if f.application { "application" } else { "user" },
                "exceptionId": exception_id(),
            }});
            if let Some(tasks) = f.tasks {
                result["tasks"] = tasks;
            }
            ("error", result)
        }
        Outcome::Terminated => {
            let message = format!("Job \"{id}\" terminated by user.");
            ev.emit(&store, now, "warn", &message);
            ("terminated", json!({"message": message}))
        }
    };
    let _ = store.db.execute(
        "UPDATE queue_jobs SET status = ?2, ended = ?3, result = ?4,
             started = COALESCE(started, ?3)
         WHERE id = ?1",
        params![id, status, to_sql(now), result.to_string()],
    );
    status.to_owned()
}
