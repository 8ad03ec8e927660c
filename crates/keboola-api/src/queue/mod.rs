//! The Job Queue API (`queue` in the Storage index): run a component configuration as a
//! job, read and search jobs, kill them, and wait for one to finish.
//!
//! The Queue has no idempotency key: `POST /jobs` is sent exactly once, and a lost answer
//! means the job may exist ([`may_have_started`]).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Http, Method, RequestBuilder};
use crate::lenient::{self, keep_raw};
use crate::secret::Token;
use crate::stack::StackUrl;

/// The service id of the Queue in the Storage API index.
pub const QUEUE_SERVICE: &str = "queue";

/// A client for one project's Job Queue, authenticated with its Storage token.
#[derive(Debug, Clone)]
pub struct QueueClient {
    http: Http,
    stack: StackUrl,
    token: Token,
}

/// Where a Queue job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueStatus {
    Created,
    Waiting,
    Processing,
    Success,
    /// Finished, but a child job failed.
    Warning,
    Error,
    Terminating,
    Terminated,
    /// Killed before it started.
    Cancelled,
    /// A status this client does not know; treated as still running.
    Other(String),
}

impl QueueStatus {
    pub fn parse(text: &str) -> QueueStatus {
        match text {
            "created" => Self::Created,
            "waiting" => Self::Waiting,
            "processing" => Self::Processing,
            "success" => Self::Success,
            "warning" => Self::Warning,
            "error" => Self::Error,
            "terminating" => Self::Terminating,
            "terminated" => Self::Terminated,
            "cancelled" => Self::Cancelled,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Waiting => "waiting",
            Self::Processing => "processing",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Terminating => "terminating",
            Self::Terminated => "terminated",
            Self::Cancelled => "cancelled",
            Self::Other(s) => s,
        }
    }

    /// A final state.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Warning | Self::Error | Self::Terminated | Self::Cancelled
        )
    }
}

fn status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<QueueStatus, D::Error> {
    Ok(QueueStatus::parse(&lenient::string(d)?))
}

/// A Queue job. Only what callers decide on is typed; everything else is in `raw`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct QueueJob {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub run_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub parent_run_id: Option<String>,
    #[serde(deserialize_with = "status")]
    pub status: QueueStatus,
    #[serde(default, deserialize_with = "lenient::string")]
    pub desired_status: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_finished: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    pub component: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub config: Option<String>,
    /// `null` on the default branch.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub branch_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub end_time: Option<String>,
    /// The job as received, without token secrets.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(QueueJob, strip_job_secrets);

/// A job's `token` is `{id, description}`; should a secret ever be sent along, it is
/// dropped like every nested token's.
fn strip_job_secrets(value: &mut Value) {
    if let Some(token) = value.get_mut("token").and_then(Value::as_object_mut) {
        token.remove("token");
    }
    lenient::strip_nested_tokens(value);
}

impl QueueJob {
    /// Finished, by the job's own `isFinished` or a final status.
    pub fn finished(&self) -> bool {
        self.is_finished || self.status.is_final()
    }

    /// `result.message` (Keboola's one-line outcome, the error for a failed job).
    pub fn result_message(&self) -> Option<&str> {
        self.raw
            .pointer("/result/message")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// The body of `POST /jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateJob {
    pub component: String,
    pub config: Option<String>,
    /// Rows to run; empty runs every enabled row.
    pub config_row_ids: Vec<String>,
    /// A dev branch; `None` runs on the default branch.
    pub branch_id: Option<String>,
    /// `run` (the default when `None`), `forceRun` or `debug`.
    pub mode: Option<String>,
    /// Values of the configuration's variables, as `variableValuesData`.
    pub variables: Vec<(String, String)>,
    /// A stored set of variable values.
    pub variable_values_id: Option<String>,
    pub tag: Option<String>,
}

impl CreateJob {
    fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("component".into(), self.component.clone().into());
        body.insert(
            "mode".into(),
            self.mode.clone().unwrap_or_else(|| "run".into()).into(),
        );
        if let Some(config) = &self.config {
            body.insert("config".into(), config.clone().into());
        }
        if !self.config_row_ids.is_empty() {
            body.insert("configRowIds".into(), self.config_row_ids.clone().into());
        }
        if let Some(branch) = &self.branch_id {
            body.insert("branchId".into(), branch.clone().into());
        }
        if !self.variables.is_empty() {
            let values: Vec<Value> = self
                .variables
                .iter()
                .map(|(name, value)| {
                    let mut pair = Map::new();
                    pair.insert("name".into(), name.clone().into());
                    pair.insert("value".into(), value.clone().into());
                    Value::Object(pair)
                })
                .collect();
            let mut data = Map::new();
            data.insert("values".into(), values.into());
            body.insert("variableValuesData".into(), Value::Object(data));
        }
        if let Some(id) = &self.variable_values_id {
            body.insert("variableValuesId".into(), id.clone().into());
        }
        if let Some(tag) = &self.tag {
            body.insert("tag".into(), tag.clone().into());
        }
        Value::Object(body)
    }
}

/// Filters of `GET /search/jobs`; empty ones are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSearch {
    pub component: Option<String>,
    pub config: Option<String>,
    pub statuses: Vec<String>,
    pub branch_id: Option<String>,
    /// Jobs created at or after this time (an ISO 8601 timestamp or a relative time
    /// such as `-2 hours`, as the Queue reads it).
    pub created_time_from: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Defaults to `id`, newest first.
    pub sort_by: Option<String>,
}

/// How [`QueueClient::wait_for_job`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueWait {
    /// Stop waiting (the job keeps running) after this long; `None` waits for ever.
    pub timeout: Option<Duration>,
    /// The first delay between polls; each later one is half as long again, up to
    /// `max_poll`.
    pub poll: Duration,
    pub max_poll: Duration,
    /// How long reads of the job may keep failing with retryable errors (503, a dropped
    /// connection) before the wait gives up; each read is already retried by the request
    /// layer, this rides out an outage longer than those retries.
    pub outage: Duration,
}

impl Default for QueueWait {
    fn default() -> Self {
        QueueWait {
            timeout: None,
            poll: Duration::from_millis(100),
            max_poll: Duration::from_secs(2),
            outage: Duration::from_secs(120),
        }
    }
}

/// The end of a wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Waited {
    /// The job as last read.
    pub job: QueueJob,
    /// False when the timeout passed first (the job is still running).
    pub finished: bool,
    /// How many times the job was read.
    pub polls: u32,
    pub elapsed: Duration,
}

/// Whether a failed `POST /jobs` may still have created the job: the request was sent
/// and no answer says it was refused (a connection lost or timed out after sending, a
/// truncated or unreadable 2xx body, or a server error other than 501 and 503). Such a
/// job must be looked for, never submitted again blindly.
pub fn may_have_started(err: &ApiError) -> bool {
    match err.kind() {
        // For a POST, `retryable` is true only when the request never left.
        ApiErrorKind::Connect | ApiErrorKind::Timeout => !err.retryable(),
        ApiErrorKind::InvalidResponse => true,
        ApiErrorKind::Http { status, .. } => *status >= 500 && !matches!(status, 501 | 503),
        ApiErrorKind::Tls | ApiErrorKind::Config => false,
    }
}

impl QueueClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> QueueClient {
        QueueClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
        }
    }

    fn call(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        self.http
            .service_request(method, &self.stack, QUEUE_SERVICE, segments)
            .storage_token(&self.token)
    }

    /// `POST /jobs`: starts a job. Sent once, never retried (see [`may_have_started`]).
    pub fn create_job(&self, job: &CreateJob) -> Result<QueueJob, ApiError> {
        self.call(Method::Post, &["jobs"]).json(&job.body()).fetch()
    }

    /// `GET /jobs/{id}`.
    pub fn get_job(&self, id: &str) -> Result<QueueJob, ApiError> {
        self.call(Method::Get, &["jobs", id]).fetch()
    }

    /// `GET /search/jobs`, newest first unless `sort_by` says otherwise.
    pub fn search_jobs(&self, search: &JobSearch) -> Result<Vec<QueueJob>, ApiError> {
        let mut call = self.call(Method::Get, &["search", "jobs"]);
        if let Some(c) = &search.component {
            call = call.query("componentId[]", c);
        }
        if let Some(c) = &search.config {
            call = call.query("configId[]", c);
        }
        for s in &search.statuses {
            call = call.query("status[]", s);
        }
        if let Some(b) = &search.branch_id {
            call = call.query("branchId[]", b);
        }
        if let Some(t) = &search.created_time_from {
            call = call.query("createdTimeFrom", t);
        }
        if let Some(n) = search.limit {
            call = call.query("limit", &n.to_string());
        }
        if let Some(n) = search.offset {
            call = call.query("offset", &n.to_string());
        }
        call = call
            .query("sortBy", search.sort_by.as_deref().unwrap_or("id"))
            .query("sortOrder", "desc");
        call.fetch()
    }

    /// `POST /jobs/{id}/kill`: asks the Queue to stop the job (a created or waiting job
    /// is cancelled, a processing one goes through `terminating` to `terminated`).
    pub fn kill_job(&self, id: &str) -> Result<QueueJob, ApiError> {
        self.call(Method::Post, &["jobs", id, "kill"]).fetch()
    }

    /// Reads the job until it finishes or `wait.timeout` passes, with a growing delay
    /// between reads; `on_poll` sees every read. Only GETs are sent (each retried on
    /// transient failures such as a 503), so the job is never started again.
    pub fn wait_for_job(
        &self,
        id: &str,
        wait: &QueueWait,
        mut on_poll: impl FnMut(&QueueJob),
    ) -> Result<Waited, ApiError> {
        let started = Instant::now();
        let mut delay = wait.poll;
        let mut polls = 0;
        let mut failing_since: Option<Instant> = None;
        loop {
            let job = match self.get_job(id) {
                Ok(job) => {
                    failing_since = None;
                    job
                }
                Err(e) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    let out_of_time = wait.timeout.is_some_and(|t| started.elapsed() >= t);
                    if !e.retryable() || since.elapsed() >= wait.outage || out_of_time {
                        return Err(e);
                    }
                    tracing::debug!("reading job {id} failed ({e}); still waiting");
                    std::thread::sleep(delay);
                    delay = next_delay(delay, wait);
                    continue;
                }
            };
            polls += 1;
            on_poll(&job);
            let elapsed = started.elapsed();
            if job.finished() {
                return Ok(Waited {
                    job,
                    finished: true,
                    polls,
                    elapsed,
                });
            }
            let left = match wait.timeout {
                Some(t) if elapsed >= t => {
                    return Ok(Waited {
                        job,
                        finished: false,
                        polls,
                        elapsed,
                    });
                }
                Some(t) => t - elapsed,
                None => Duration::MAX,
            };
            std::thread::sleep(delay.min(left));
            delay = next_delay(delay, wait);
        }
    }
}

fn next_delay(delay: Duration, wait: &QueueWait) -> Duration {
    (delay + delay / 2).min(wait.max_poll.max(wait.poll))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_job_decodes_loosely_and_keeps_no_secret() {
        let job: QueueJob = lenient::decode(json!({
            "id": 807932655, "runId": "807932655", "parentRunId": "", "status": "error",
            "isFinished": true, "component": "keboola.ex-db-snowflake", "config": 554424643,
            "branchId": null, "result": {"message": "boom"}, "token": {"id": "1", "description": "d", "token": "901-x"},
            "creatorToken": {"token": "901-y"}
        }))
        .unwrap();
        assert_eq!(job.id, "807932655");
        assert_eq!(job.config.as_deref(), Some("554424643"));
        assert_eq!(job.status, QueueStatus::Error);
        assert!(job.finished());
        assert_eq!(job.result_message(), Some("boom"));
        assert_eq!(job.branch_id, None);
        let text = job.raw.to_string();
        assert!(!text.contains("901-"), "{text}");
        assert_eq!(job.raw["token"]["description"], "d");
    }

    #[test]
    fn an_empty_result_has_no_message_and_unknown_statuses_run_on() {
        let job: QueueJob =
            lenient::decode(json!({"id": "1", "status": "queued", "result": []})).unwrap();
        assert_eq!(job.result_message(), None);
        assert_eq!(job.status, QueueStatus::Other("queued".into()));
        assert!(!job.finished());
    }

    #[test]
    fn the_request_body_names_only_what_is_set() {
        let body = CreateJob {
            component: "c".into(),
            config: Some("1".into()),
            ..CreateJob::default()
        }
        .body();
        assert_eq!(
            body,
            json!({"component": "c", "config": "1", "mode": "run"})
        );
        let body = CreateJob {
            component: "c".into(),
            config: Some("1".into()),
            config_row_ids: vec!["r1".into()],
            branch_id: Some("42".into()),
            mode: Some("debug".into()),
            variables: vec![("a".into(), "b".into())],
            variable_values_id: None,
            tag: Some("1.2.3".into()),
        }
        .body();
        assert_eq!(
            body,
            json!({"component": "c", "config": "1", "mode": "debug", "configRowIds": ["r1"],
                   "branchId": "42", "variableValuesData": {"values": [{"name": "a", "value": "b"}]},
                   "tag": "1.2.3"})
        );
    }

    #[test]
    fn polling_slows_down_from_the_first_delay_to_the_cap() {
        let wait = QueueWait::default();
        let mut d = wait.poll;
        let mut seen = vec![d];
        for _ in 0..12 {
            d = next_delay(d, &wait);
            seen.push(d);
        }
        assert_eq!(seen[0], Duration::from_millis(100));
        assert_eq!(seen[1], Duration::from_millis(150));
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*seen.last().unwrap(), Duration::from_secs(2));
    }
}
