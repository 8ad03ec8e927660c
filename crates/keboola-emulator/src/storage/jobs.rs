//! Storage jobs: every asynchronous Storage operation answers 202 with a job that a
//! background task moves from `waiting` through `processing` to `success` or `error`.
//!
//! The work itself is a closure run under the store's lock once the job is processing; a
//! control (`POST /_emulator/storage-jobs`) can make the next jobs fail without running
//! their work, or take longer.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::db::{self, from_sql, to_sql};
use crate::http::{ApiError, ApiResult, exception_id, json_response, ok_json, time};
use crate::state::{Shared, Store, lock};
use crate::storage::Ctx;
use crate::storage::tokens::StorageToken;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS storage_jobs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    token_description TEXT NOT NULL,
    operation_name TEXT NOT NULL,
    table_id TEXT,
    operation_params TEXT NOT NULL,
    -- waiting, processing, success, error
    status TEXT NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    ended INTEGER,
    results TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS storage_jobs_project ON storage_jobs (project_id);";

pub(crate) const SEQUENCE: &str = "storage_jobs";
/// Storage job ids look like Connection's: large and unrelated to other ids.
pub(crate) const FIRST_ID: u64 = 5_000_001;

/// Why a job failed: `error{code,message}` of the job.
#[derive(Debug)]
pub(crate) struct JobError {
    pub code: String,
    pub message: String,
}

impl JobError {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// The emulator's own failure: the cause goes to the job's message and to stderr, so
    /// a failing job can be diagnosed from either.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        use std::io::Write as _;
        let message = format!("Application error: {cause:#}");
        let _ = writeln!(
            std::io::stderr().lock(),
            "internal error in a storage job: {cause:#}"
        );
        Self::new("APPLICATION_ERROR", &message)
    }
}

impl From<rusqlite::Error> for JobError {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(&format_args!("database: {e}"))
    }
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        let field = |k: &str| {
            e.body
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Self {
            code: field("code"),
            message: field("error"),
        }
    }
}

/// The work of a job: runs with the store locked, gives the job's `results`.
pub(crate) type Work = Box<dyn FnOnce(&Store, &Ctx<'_>) -> Result<Value, JobError> + Send>;

/// What a new job is about.
pub(crate) struct NewJob {
    operation_name: &'static str,
    table_id: Option<String>,
    operation_params: Value,
}

impl NewJob {
    pub fn new(operation_name: &'static str, table_id: Option<&str>, params: Value) -> Self {
        Self {
            operation_name,
            table_id: table_id.map(str::to_owned),
            operation_params: params,
        }
    }
}

/// A test control for the next storage jobs (`POST /_emulator/storage-jobs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageJobControl {
    /// Fail the job without doing its work.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail: bool,
    /// `error.code` of a failing job; `storage.emulator.jobFailed` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `error.message` of a failing job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// How long the job stays `processing` before it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Only jobs of this operation (`tableImport`, `tableExport`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// Apply to this many jobs; 1 when absent, 0 for every job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// What the job runner is given.
pub(crate) struct Queued {
    id: u64,
    ctx: OwnedCtx,
    control: Option<StorageJobControl>,
    work: Work,
}

/// A `Ctx` that outlives the request.
struct OwnedCtx {
    base_url: String,
    me: StorageToken,
    branch_id: u64,
}

/// The channel to the job runner and the pending controls.
pub(crate) struct Jobs {
    tx: mpsc::UnboundedSender<Queued>,
    pub controls: std::sync::Mutex<Vec<StorageJobControl>>,
}

impl Jobs {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Queued>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                tx,
                controls: std::sync::Mutex::new(Vec::new()),
            },
            rx,
        )
    }

    fn take_control(&self, operation: &str) -> Option<StorageJobControl> {
        crate::control::take_control(
            &mut lock(&self.controls),
            |c| c.operation_name.as_deref().is_none_or(|o| o == operation),
            |c| &mut c.times,
        )
    }
}

/// Records a `waiting` job, hands its work to the runner and answers 202 with the job.
pub(crate) fn start(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    job: &NewJob,
    work: Work,
) -> ApiResult {
    let id = db::next_id(&store.db, SEQUENCE)?;
    store.db.execute(
        "INSERT INTO storage_jobs (id, project_id, token_id, token_description, operation_name,
             table_id, operation_params, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'waiting', ?8)",
        params![
            id,
            ctx.me.project_id,
            ctx.me.id,
            ctx.me.description,
            job.operation_name,
            job.table_id,
            job.operation_params.to_string(),
            to_sql(ctx.now)
        ],
    )?;
    // Rendered before the runner sees the job, so the answer always shows it `waiting`.
    let body = render_by_id(&store.db, ctx.base_url, ctx.me.project_id, id)?
        .ok_or_else(ApiError::application_error)?;
    let control = shared.jobs.take_control(job.operation_name);
    let queued = Queued {
        id,
        ctx: OwnedCtx {
            base_url: ctx.base_url.to_owned(),
            me: ctx.me.clone(),
            branch_id: ctx.branch_id,
        },
        control,
        work,
    };
    if shared.jobs.tx.send(queued).is_err() {
        return Err(ApiError::application_error());
    }
    Ok(json_response(StatusCode::ACCEPTED, &body))
}

/// Runs queued jobs, each on its own task so a slow job does not hold up the others.
pub(crate) async fn runner(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Queued>) {
    while let Some(queued) = rx.recv().await {
        tokio::spawn(run(Arc::clone(&shared), queued));
    }
}

async fn run(shared: Arc<Shared>, queued: Queued) {
    let Queued {
        id,
        ctx,
        control,
        work,
    } = queued;
    // The job is seen `waiting` until the runner picks it up.
    tokio::task::yield_now().await;
    {
        let store = shared.store();
        let _ = store.db.execute(
            "UPDATE storage_jobs SET status = 'processing', started = ?2 WHERE id = ?1",
            params![id, to_sql(shared.now())],
        );
    }
    if let Some(ms) = control.as_ref().and_then(|c| c.duration_ms) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let store = shared.store();
    let now = shared.now();
    let outcome = match &control {
        Some(c) if c.fail => Err(JobError::new(
            c.error_code
                .as_deref()
                .unwrap_or("storage.emulator.jobFailed"),
            c.error_message
                .as_deref()
                .unwrap_or("The job failed as the emulator was told to."),
        )),
        _ => {
            let ctx = Ctx {
                base_url: &ctx.base_url,
                now,
                me: &ctx.me,
                branch_id: ctx.branch_id,
            };
            // A panicking job must end in `error`, not stay `processing` forever.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&store, &ctx)))
                .unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Err(JobError::internal(&format_args!(
                        "the job panicked: {what}"
                    )))
                })
        }
    };
    let (status, results, error) = match outcome {
        Ok(results) => ("success", Some(results.to_string()), None),
        Err(e) => (
            "error",
            None,
            Some(
                json!({"code": e.code, "message": e.message, "exceptionId": exception_id()})
                    .to_string(),
            ),
        ),
    };
    let _ = store.db.execute(
        "UPDATE storage_jobs SET status = ?2, ended = ?3, results = ?4, error = ?5 WHERE id = ?1",
        params![id, status, to_sql(now), results, error],
    );
}

fn render_by_id(
    conn: &Connection,
    base_url: &str,
    project_id: u64,
    id: u64,
) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT id, token_id, token_description, operation_name, table_id, operation_params,
                status, created, started, ended, results, error
         FROM storage_jobs WHERE id = ?1 AND project_id = ?2",
        params![id, project_id],
        |r| {
            let json_col = |i: usize| -> rusqlite::Result<Value> {
                Ok(r.get::<_, Option<String>>(i)?
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or(Value::Null))
            };
            let ts = |i: usize| -> rusqlite::Result<Value> {
                Ok(r.get::<_, Option<i64>>(i)?
                    .map_or(Value::Null, |t| json!(time(from_sql(t)))))
            };
            let id: u64 = r.get(0)?;
            let mut job = json!({
                "id": id,
                "status": r.get::<_, String>(6)?,
                "url": format!("{base_url}/v2/storage/jobs/{id}"),
                "tableId": r.get::<_, Option<String>>(4)?,
                "operationName": r.get::<_, String>(3)?,
                "operationParams": json_col(5)?,
                "createdTime": ts(7)?,
                "startTime": ts(8)?,
                "endTime": ts(9)?,
                "runId": null,
                "results": json_col(10)?,
                "creatorToken": {"id": r.get::<_, u64>(1)?.to_string(), "description": r.get::<_, String>(2)?},
                "metrics": {"inCompressed": false, "inBytes": 0, "inBytesUncompressed": 0,
                            "outCompressed": false, "outBytes": 0, "outBytesUncompressed": 0},
            });
            let error = json_col(11)?;
            if !error.is_null() {
                job["error"] = error;
            }
            Ok(job)
        },
    )
    .optional()
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let found = match id.parse::<u64>() {
        Ok(n) => render_by_id(&store.db, ctx.base_url, ctx.me.project_id, n)?,
        Err(_) => None,
    };
    // UNCERTAIN: the status and code of an unknown job id (404 is the likeliest).
    let job = found.ok_or_else(|| {
        ApiError::not_found(&format!("Job {id} not found"), "storage.jobs.notFound")
    })?;
    ok_json(&job)
}

/// `GET /jobs[?limit=&offset=]`: the project's jobs, newest first.
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, limit: u64, offset: u64) -> ApiResult {
    let ids: Vec<u64> = store
        .db
        .prepare(
            "SELECT id FROM storage_jobs WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        )?
        .query_map(params![ctx.me.project_id, limit, offset], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(job) = render_by_id(&store.db, ctx.base_url, ctx.me.project_id, id)? {
            out.push(job);
        }
    }
    ok_json(&Value::Array(out))
}
