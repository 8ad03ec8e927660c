//! Storage events: `GET /v2/storage/events`, the log of jobs and Storage calls.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;

/// Filters of [`StorageClient::list_events`]; empty ones are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsQuery {
    /// A job's run id. For a nested job use its own id: a dotted run id matches nothing.
    pub run_id: Option<String>,
    /// Only events newer than this event id.
    pub since_id: Option<String>,
    /// At most this many (Keboola's default is 100, its maximum 10000).
    pub limit: Option<u32>,
    pub component: Option<String>,
    /// Oldest first; by default the newest come first.
    pub oldest_first: bool,
}

/// One event. Only what callers decide on is typed; everything else is in `raw`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct StorageEvent {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub event: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub message: String,
    /// `info`, `success`, `warn` or `error`.
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub run_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    /// The event as received, without token secrets.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(StorageEvent, strip_event_secrets);

/// An event's `token` is `{id, name}`; a secret sent along would be dropped.
fn strip_event_secrets(value: &mut Value) {
    if let Some(token) = value.get_mut("token").and_then(Value::as_object_mut) {
        token.remove("token");
    }
    lenient::strip_nested_tokens(value);
}

impl StorageEvent {
    /// The id as a number, for ordering (Keboola's ids grow).
    pub fn numeric_id(&self) -> Option<u64> {
        self.id.parse().ok()
    }
}

impl StorageClient {
    /// `GET /v2/storage/events`.
    pub fn list_events(&self, query: &EventsQuery) -> Result<Vec<StorageEvent>, ApiError> {
        let mut call = self.call(Method::Get, &["events"]);
        if let Some(v) = &query.run_id {
            call = call.query("runId", v);
        }
        if let Some(v) = &query.since_id {
            call = call.query("sinceId", v);
        }
        if let Some(n) = query.limit {
            call = call.query("limit", &n.to_string());
        }
        if let Some(v) = &query.component {
            call = call.query("component", v);
        }
        if query.oldest_first {
            call = call.query("sortOrder", "asc");
        }
        call.fetch()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_event_decodes_and_drops_secrets() {
        let e: StorageEvent = lenient::decode(json!({
            "id": 12, "event": "job.failed", "message": "boom", "type": "error", "runId": 7,
            "token": {"id": "1", "name": "n", "token": "901-secret"}
        }))
        .unwrap();
        assert_eq!(e.numeric_id(), Some(12));
        assert_eq!(e.kind, "error");
        assert_eq!(e.run_id.as_deref(), Some("7"));
        assert!(!e.raw.to_string().contains("901-secret"));
    }
}
