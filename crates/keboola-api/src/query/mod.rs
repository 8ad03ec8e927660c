//! The Query Service (`query` in the Storage index): submit SQL statements for a
//! workspace, follow the job, read a statement's result page by page, or export it whole.
//!
//! Submitting is sent once, never retried: a lost answer may have started the job.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Http, Method, RequestBuilder};
use crate::lenient;
use crate::secret::Token;
use crate::stack::StackUrl;

/// The service id of the Query Service in the Storage API index.
pub const QUERY_SERVICE: &str = "query";

/// The page sizes the service accepts.
pub const PAGE_SIZE_MIN: u32 = 100;
pub const PAGE_SIZE_MAX: u32 = 100_000;

/// A client for one project's Query Service, authenticated with its Storage token.
#[derive(Debug, Clone)]
pub struct QueryClient {
    http: Http,
    stack: StackUrl,
    token: Token,
}

/// One statement of a query job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatement {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub query: String,
    /// `waiting`, `processing`, `completed`, `failed`, `canceled`, `notExecuted`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// The database's message of a failed statement.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub number_of_rows: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub rows_affected: Option<u64>,
}

/// A query job and its statements.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryJob {
    #[serde(deserialize_with = "lenient::id")]
    pub query_job_id: String,
    /// `created`, `enqueued`, `processing`, then `completed`, `failed` or `canceled`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(default)]
    pub statements: Vec<QueryStatement>,
}

impl QueryJob {
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "canceled")
    }

    /// The first failed statement, whose `error` is the database's message.
    pub fn failed_statement(&self) -> Option<&QueryStatement> {
        self.statements.iter().find(|s| s.status == "failed")
    }
}

/// A column of a result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultColumn {
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
    #[serde(default)]
    pub nullable: Option<bool>,
    /// The type's length (`VARCHAR(16777216)`), when the backend gives one.
    #[serde(default)]
    pub length: Option<Value>,
}

/// One page of a statement's result. Cells are strings (or numbers), `null` for NULL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultPage {
    #[serde(default)]
    pub columns: Vec<ResultColumn>,
    #[serde(default)]
    pub data: Vec<Vec<Value>>,
    /// Rows of the whole result.
    #[serde(default, deserialize_with = "lenient::uint")]
    pub number_of_rows: u64,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub rows_affected: Option<u64>,
}

/// How [`QueryClient::wait_for_job`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryWait {
    pub timeout: Duration,
    /// The first delay; later ones double up to `max_poll`.
    pub poll: Duration,
    pub max_poll: Duration,
}

impl Default for QueryWait {
    fn default() -> Self {
        QueryWait {
            timeout: Duration::from_secs(600),
            poll: Duration::from_millis(50),
            max_poll: Duration::from_secs(2),
        }
    }
}

impl QueryClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> QueryClient {
        QueryClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
        }
    }

    fn call(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        let mut path = vec!["api", "v1"];
        path.extend_from_slice(segments);
        self.http
            .service_request(method, &self.stack, QUERY_SERVICE, &path)
            .storage_token(&self.token)
    }

    /// `POST /api/v1/branches/{b}/workspaces/{w}/queries`: gives the query job id. The
    /// branch is numeric (the default branch's id, not `default`).
    pub fn submit(
        &self,
        branch_id: &str,
        workspace_id: &str,
        statements: &[String],
        transactional: bool,
    ) -> Result<String, ApiError> {
        let value: Value = self
            .call(
                Method::Post,
                &["branches", branch_id, "workspaces", workspace_id, "queries"],
            )
            .json(&json!({"statements": statements, "transactional": transactional}))
            .send_json()?;
        match &value["queryJobId"] {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(ApiError::invalid_response(
                "POST",
                "/api/v1/.../queries",
                "the answer has no queryJobId".to_owned(),
            )),
        }
    }

    /// `GET /api/v1/queries/{id}`.
    pub fn get_job(&self, id: &str) -> Result<QueryJob, ApiError> {
        self.call(Method::Get, &["queries", id]).fetch()
    }

    /// Polls until the job is final. A failed job is returned as it is: its failed
    /// statement carries the database's message.
    pub fn wait_for_job(&self, id: &str, wait: &QueryWait) -> Result<QueryJob, ApiError> {
        let started = Instant::now();
        let mut delay = wait.poll;
        loop {
            let job = self.get_job(id)?;
            if job.is_final() {
                return Ok(job);
            }
            let elapsed = started.elapsed();
            if elapsed >= wait.timeout {
                return Err(ApiError::transport(
                    ApiErrorKind::Timeout,
                    "GET",
                    &format!("/api/v1/queries/{id}"),
                    format!(
                        "the query job is still {} after {} s",
                        job.status,
                        wait.timeout.as_secs()
                    ),
                    true,
                ));
            }
            std::thread::sleep(delay.min(wait.timeout - elapsed));
            delay = (delay * 2).min(wait.max_poll.max(wait.poll));
        }
    }

    /// `GET /api/v1/queries/{job}/{statement}/results?offset=&pageSize=`.
    pub fn results(
        &self,
        job: &str,
        statement: &str,
        offset: u64,
        page_size: u32,
    ) -> Result<ResultPage, ApiError> {
        let size = page_size.clamp(PAGE_SIZE_MIN, PAGE_SIZE_MAX);
        self.call(Method::Get, &["queries", job, statement, "results"])
            .query("offset", &offset.to_string())
            .query("pageSize", &size.to_string())
            .fetch()
    }

    /// `GET /api/v1/queries/{job}/{statement}/export?fileType=csv`: the whole result as
    /// CSV with a header, streamed into `out`. Gives the bytes written.
    pub fn export_csv(
        &self,
        job: &str,
        statement: &str,
        out: &mut dyn Write,
    ) -> Result<u64, ApiError> {
        let path = format!("/api/v1/queries/{job}/{statement}/export");
        let mut body = self
            .call(Method::Get, &["queries", job, statement, "export"])
            .query("fileType", "csv")
            .send_streaming()?;
        std::io::copy(&mut body, out)
            .map_err(|e| ApiError::invalid_response("GET", &path, e.to_string()))
    }

    /// `POST /api/v1/queries/{id}/cancel`. Never retried.
    pub fn cancel(&self, id: &str, reason: &str) -> Result<(), ApiError> {
        self.call(Method::Post, &["queries", id, "cancel"])
            .json(&json!({"reason": reason}))
            .send()
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_pages_decode() {
        let job: QueryJob = serde_json::from_value(json!({"queryJobId": "q1", "status": "failed",
            "statements": [{"id": "s1", "query": "SELEC 1", "status": "failed", "error": "near \"SELEC\": syntax error"}]}))
            .unwrap();
        assert!(job.is_final());
        assert_eq!(
            job.failed_statement().unwrap().error.as_deref(),
            Some("near \"SELEC\": syntax error")
        );
        let page: ResultPage =
            serde_json::from_value(json!({"columns": [{"name": "x", "type": "INTEGER"}],
            "data": [["1"], [null]], "numberOfRows": "2"}))
            .unwrap();
        assert_eq!(page.number_of_rows, 2);
        assert_eq!(page.columns[0].kind, "INTEGER");
    }
}
