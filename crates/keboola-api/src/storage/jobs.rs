//! Storage jobs: `/v2/storage/jobs/{id}`, the outcome of every asynchronous Storage write.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Method, RequestBuilder};
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// Where a Storage job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    Waiting,
    Processing,
    Success,
    Error,
    /// A status this client does not know; treated as still running.
    Other(String),
}

impl JobStatus {
    fn parse(text: &str) -> JobStatus {
        match text {
            "waiting" => JobStatus::Waiting,
            "processing" => JobStatus::Processing,
            "success" => JobStatus::Success,
            "error" => JobStatus::Error,
            other => JobStatus::Other(other.to_owned()),
        }
    }

    /// `success` or `error`.
    pub fn is_finished(&self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Error)
    }

    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Waiting => "waiting",
            JobStatus::Processing => "processing",
            JobStatus::Success => "success",
            JobStatus::Error => "error",
            JobStatus::Other(s) => s,
        }
    }
}

fn status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<JobStatus, D::Error> {
    Ok(JobStatus::parse(&lenient::string(d)?))
}

/// A failed job's `error` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub exception_id: Option<String>,
}

/// A Storage job (`tableImport`, `tableExport`, `bucketDelete`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct StorageJob {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(deserialize_with = "status")]
    pub status: JobStatus,
    #[serde(default, deserialize_with = "lenient::string")]
    pub operation_name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub table_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub run_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub end_time: Option<String>,
    /// The payload of a successful job (the table, `{"file":{"id":..}}`, ...); `null`
    /// and `[]` are `None`.
    #[serde(default, deserialize_with = "results")]
    pub results: Option<Value>,
    #[serde(default, deserialize_with = "lenient::block")]
    pub error: Option<JobError>,
    /// The job as received, without token secrets.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(StorageJob, lenient::strip_nested_tokens);

fn results<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        other => Some(other),
    })
}

impl StorageJob {
    /// `Ok(self)` for a successful job, the job's error as an [`ApiError`] for a failed
    /// one; a running job is returned as it is.
    pub fn into_result(self) -> Result<StorageJob, ApiError> {
        if self.status != JobStatus::Error {
            return Ok(self);
        }
        let error = self.error.clone().unwrap_or_default();
        Err(ApiError::job_failed(
            &self.id,
            &self.operation_name,
            error.code.as_deref(),
            error.message.as_deref(),
            error.exception_id.as_deref(),
        ))
    }

    /// A string or numeric id in `results` at `pointer` (such as `/file/id` for an
    /// export or `/id` for a created table).
    pub fn result_id(&self, pointer: &str) -> Option<String> {
        match self.results.as_ref()?.pointer(pointer)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// How [`StorageClient::wait_for_job`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobWait {
    /// Give up (with a [`ApiErrorKind::Timeout`] error naming the job) after this long.
    pub timeout: Duration,
    /// The first delay between polls; later ones double up to `max_poll`.
    pub poll: Duration,
    pub max_poll: Duration,
}

impl Default for JobWait {
    fn default() -> Self {
        JobWait {
            timeout: Duration::from_secs(600),
            poll: Duration::from_millis(200),
            max_poll: Duration::from_secs(5),
        }
    }
}

/// Sends a call that answers with a job (202) or with nothing (204).
pub(crate) fn job_or_done(call: RequestBuilder<'_>) -> Result<Option<StorageJob>, ApiError> {
    call.fetch_optional()
}

impl StorageClient {
    /// `GET /v2/storage/jobs/{id}`.
    pub fn get_job(&self, id: &str) -> Result<StorageJob, ApiError> {
        self.call(Method::Get, &["jobs", id]).fetch()
    }

    /// Polls the job until it finishes. A job that ends in `error` is returned as an
    /// [`ApiError`] with Keboola's message and code (see [`ApiError::failed_job_id`]).
    /// Only GETs are sent, so the request that created the job is never repeated.
    pub fn wait_for_job(&self, id: &str, wait: &JobWait) -> Result<StorageJob, ApiError> {
        let started = Instant::now();
        let mut delay = wait.poll;
        loop {
            let job = self.get_job(id)?;
            if job.status.is_finished() {
                return job.into_result();
            }
            let elapsed = started.elapsed();
            if elapsed >= wait.timeout {
                return Err(ApiError::transport(
                    ApiErrorKind::Timeout,
                    "GET",
                    &format!("/v2/storage/jobs/{id}"),
                    format!(
                        "the job is still {} after {} s",
                        job.status.as_str(),
                        wait.timeout.as_secs()
                    ),
                    true,
                ));
            }
            std::thread::sleep(delay.min(wait.timeout - elapsed));
            delay = (delay * 2).min(wait.max_poll.max(wait.poll));
        }
    }

    /// Waits for a job returned by an asynchronous call; a job that is already finished
    /// in that answer is not polled.
    pub fn finish_job(&self, job: StorageJob, wait: &JobWait) -> Result<StorageJob, ApiError> {
        if job.status.is_finished() {
            return job.into_result();
        }
        self.wait_for_job(&job.id, wait)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn jobs_decode_and_fail() {
        let job: StorageJob = serde_json::from_value(json!({"id":347,"status":"error",
            "operationName":"tableImport","tableId":null,"results":[],"creatorToken":{"id":"1","token":"x"},
            "error":{"code":"storage.tables.validation","message":"Bad columns","exceptionId":"exc-1"}}))
        .unwrap();
        assert_eq!(job.id, "347");
        assert_eq!(job.results, None);
        assert!(job.raw["creatorToken"].get("token").is_none());
        let err = job.into_result().unwrap_err();
        assert_eq!(err.failed_job_id(), Some("347"));
        assert_eq!(err.api_code(), Some("storage.tables.validation"));
        assert_eq!(
            err.to_string(),
            "storage job 347 (tableImport) failed: Bad columns (code storage.tables.validation, exception exc-1)"
        );
        let ok: StorageJob = serde_json::from_value(
            json!({"id":"9","status":"success","results":{"file":{"id":234}}}),
        )
        .unwrap();
        assert_eq!(ok.result_id("/file/id").as_deref(), Some("234"));
        assert!(ok.into_result().is_ok());
    }
}
