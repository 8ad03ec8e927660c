//! Test controls: fault injection, the request log, reset and the clock (`/_emulator/...`).

use std::sync::atomic::Ordering;

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::time;
use crate::http::{ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json};
use crate::queue::QueueJobControl;
use crate::state::{Shared, lock};
use crate::storage::jobs::StorageJobControl;

/// A misbehaviour to inject into matching requests. The same structure is the JSON body
/// of `POST /_emulator/faults`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path glob: `*` matches within one segment, `**` across segments.
    #[serde(default = "any_path")]
    pub path: String,
    /// Only requests for this service: `storage`, `manage`, or a service id of the Storage
    /// index (`queue`, `encryption`, ...), however it was addressed (host or path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only requests of this project: the project of the authenticating Storage token,
    /// or the `{id}` of `/manage/projects/{id}/...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u64>,
    /// Answer with this status and a Keboola-shaped error body (503: maintenance body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` header value in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Delay before answering; on its own, the request is then served normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// A broken body instead of the real answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<FaultBody>,
    /// Close the TCP connection without answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_connection: bool,
    /// Apply to this many matching requests, then disappear; forever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn any_path() -> String {
    "**".to_owned()
}

impl Default for Fault {
    /// Matches every request and does nothing until a field says what to do.
    fn default() -> Self {
        Self {
            method: None,
            path: any_path(),
            service: None,
            project_id: None,
            status: None,
            retry_after: None,
            latency_ms: None,
            body: None,
            drop_connection: false,
            times: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultBody {
    /// 200 with a body that is not valid JSON.
    Malformed,
    /// 200 with an empty body.
    Empty,
    /// The real answer with its body cut in half: `Content-Length` promises more bytes than
    /// are sent, then the connection closes.
    Truncated,
}

/// One served API request. Tokens never appear here: query values are masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The query string with every token-like value masked; empty when there was none.
    pub query: String,
    /// The service that was addressed (`storage`, `manage`, `queue`, ...); `None` when the
    /// request named no service.
    #[serde(default)]
    pub service: Option<String>,
    /// The status sent; 0 when the connection was dropped without an answer.
    pub status: u16,
    pub project_id: Option<u64>,
    /// Id of the authenticating Storage token, when it was a known one.
    pub token_id: Option<String>,
    /// The `X-Conversation-ID` header the client sent, if any (cut to 256 characters, and
    /// only when it is printable ASCII), so tests can check it reached every service.
    #[serde(default)]
    pub conversation_id: Option<String>,
    pub duration_ms: u64,
}

pub(crate) fn add_fault(shared: &Shared, fault: Fault) -> u64 {
    let id = shared.next_fault_id.fetch_add(1, Ordering::SeqCst);
    if fault.times != Some(0) {
        lock(&shared.faults).push((id, fault));
    }
    id
}

/// Finds the first fault matching the request and uses up one of its `times`.
pub(crate) fn take_fault(
    shared: &Shared,
    method: &Method,
    path: &str,
    service: Option<&str>,
    project_id: Option<u64>,
) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let index = faults.iter().position(|(_, f)| {
        f.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && f.service.as_deref().is_none_or(|s| Some(s) == service)
            && f.project_id.is_none_or(|p| Some(p) == project_id)
            && glob_match(f.path.as_bytes(), path.as_bytes())
    })?;
    let fault = faults[index].1.clone();
    if let Some(times) = faults[index].1.times.as_mut() {
        *times -= 1;
        if *times == 0 {
            faults.remove(index);
        }
    }
    Some(fault)
}

/// `*` matches any run of characters except `/`; `**` matches any run including `/`.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some(b'*') if pattern.get(1) == Some(&b'*') => {
            let rest = &pattern[2..];
            (0..=text.len()).any(|i| glob_match(rest, &text[i..]))
        }
        Some(b'*') => {
            let rest = &pattern[1..];
            for i in 0..=text.len() {
                if glob_match(rest, &text[i..]) {
                    return true;
                }
                if text.get(i) == Some(&b'/') {
                    break;
                }
            }
            false
        }
        Some(c) => text.first() == Some(c) && glob_match(&pattern[1..], &text[1..]),
    }
}

/// The error answer of a `status` fault, shaped like the addressed Keboola service.
pub(crate) fn fault_error(shared: &Shared, fault: &Fault, status: StatusCode) -> ApiError {
    let mut err = if status == StatusCode::SERVICE_UNAVAILABLE {
        let end = shared
            .now()
            .saturating_add(jiff::SignedDuration::from_secs(600))
            .unwrap_or_else(|_| shared.now());
        ApiError::maintenance("Project is under maintenance", None, &time(end))
    } else if status.is_server_error() {
        let mut e = ApiError::application_error();
        e.status = status;
        e
    } else {
        let message = status.canonical_reason().unwrap_or("Error");
        ApiError::storage(status, message, "")
    };
    err.retry_after = fault.retry_after;
    err
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let segs = req.segs();
    match (req.method.clone(), &segs[1..]) {
        (Method::POST, ["faults"]) => {
            let fault: Fault = serde_json::from_slice(&req.body).map_err(|e| {
                ApiError::bad_request(&format!("Invalid fault: {e}"), "emulator.invalidFault")
            })?;
            let id = add_fault(shared, fault.clone());
            let mut body = serde_json::to_value(&fault).unwrap_or_else(|_| json!({}));
            if let Value::Object(map) = &mut body {
                map.insert("id".into(), json!(id));
            }
            Ok(json_response(StatusCode::CREATED, &body))
        }
        (Method::GET, ["faults"]) => {
            let list: Vec<Value> = lock(&shared.faults)
                .iter()
                .map(|(id, f)| {
                    let mut v = serde_json::to_value(f).unwrap_or_else(|_| json!({}));
                    if let Value::Object(map) = &mut v {
                        map.insert("id".into(), json!(id));
                    }
                    v
                })
                .collect();
            ok_json(&Value::Array(list))
        }
        (Method::DELETE, ["faults"]) => {
            lock(&shared.faults).clear();
            no_content()
        }
        (Method::GET, ["requests"]) => {
            let log = lock(&shared.log).clone();
            ok_json(&serde_json::to_value(log).unwrap_or_else(|_| json!([])))
        }
        (Method::DELETE, ["requests"]) => {
            lock(&shared.log).clear();
            no_content()
        }
        (Method::POST, ["reset"]) => {
            shared.reset();
            no_content()
        }
        (Method::GET, ["clock"]) => ok_json(&clock_json(shared)),
        (Method::POST, ["clock"]) => {
            let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
                ApiError::bad_request("Expected {\"advance_seconds\": N}", "emulator.invalidClock")
            })?;
            let secs = body
                .get("advance_seconds")
                .and_then(Value::as_f64)
                .filter(|s| *s >= 0.0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "Expected {\"advance_seconds\": N} with N >= 0",
                        "emulator.invalidClock",
                    )
                })?;
            #[allow(clippy::cast_possible_truncation)]
            // clock moves are far below i64 milliseconds
            shared.advance_clock_ms((secs * 1000.0).round() as i64);
            ok_json(&clock_json(shared))
        }
        (Method::POST, ["storage-jobs"]) => {
            let control: StorageJobControl = serde_json::from_slice(&req.body).map_err(|e| {
                ApiError::bad_request(
                    &format!("Invalid storage job control: {e}"),
                    "emulator.invalidStorageJobControl",
                )
            })?;
            lock(&shared.jobs.controls).push(control.clone());
            Ok(json_response(
                StatusCode::CREATED,
                &serde_json::to_value(&control).unwrap_or_else(|_| json!({})),
            ))
        }
        (Method::GET, ["storage-jobs"]) => ok_json(
            &serde_json::to_value(lock(&shared.jobs.controls).clone())
                .unwrap_or_else(|_| json!([])),
        ),
        (Method::DELETE, ["storage-jobs"]) => {
            lock(&shared.jobs.controls).clear();
            no_content()
        }
        (Method::POST, ["jobs"]) => {
            let control: QueueJobControl = serde_json::from_slice(&req.body).map_err(|e| {
                ApiError::bad_request(
                    &format!("Invalid queue job control: {e}"),
                    "emulator.invalidQueueJobControl",
                )
            })?;
            lock(&shared.queue.controls).push(control.clone());
            Ok(json_response(
                StatusCode::CREATED,
                &serde_json::to_value(&control).unwrap_or_else(|_| json!({})),
            ))
        }
        (Method::GET, ["jobs"]) => ok_json(
            &serde_json::to_value(lock(&shared.queue.controls).clone())
                .unwrap_or_else(|_| json!([])),
        ),
        (Method::DELETE, ["jobs"]) => {
            lock(&shared.queue.controls).clear();
            no_content()
        }
        (_, ["faults" | "requests" | "reset" | "clock" | "storage-jobs" | "jobs"]) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::route_not_found()),
    }
}

/// Takes the first control `matches` accepts and uses up one of its `times` (absent: once;
/// `0`: until cleared).
pub(crate) fn take_control<T: Clone>(
    controls: &mut Vec<T>,
    matches: impl Fn(&T) -> bool,
    times: impl Fn(&mut T) -> &mut Option<u32>,
) -> Option<T> {
    let index = controls.iter().position(matches)?;
    let control = controls[index].clone();
    match times(&mut controls[index]) {
        Some(0) => {}
        Some(1) | None => {
            controls.remove(index);
        }
        Some(n) => *n -= 1,
    }
    Some(control)
}

fn clock_json(shared: &Shared) -> Value {
    json!({"now": time(shared.now()), "offset_seconds": shared.clock_offset_ms() as f64 / 1000.0})
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes())
    }

    #[test]
    fn globs() {
        assert!(m("/v2/storage/tokens/*", "/v2/storage/tokens/12"));
        assert!(!m("/v2/storage/tokens/*", "/v2/storage/tokens/12/refresh"));
        assert!(m("/v2/storage/**", "/v2/storage/tokens/12/refresh"));
        assert!(m("**", "/anything/at/all"));
        assert!(m("/v2/storage/*/verify", "/v2/storage/tokens/verify"));
        assert!(!m("/manage/**", "/v2/storage/tokens"));
        assert!(m("/v2/storage/tokens", "/v2/storage/tokens"));
        assert!(!m("/v2/storage/tokens", "/v2/storage/tokens/verify"));
    }
}
