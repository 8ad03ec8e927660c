//! Request representation, Keboola-shaped error bodies, body parsing and secret masking.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use bytes::Bytes;
use jiff::Timestamp;
use jiff::tz::{self, TimeZone};
use rand::Rng;
use serde_json::{Map, Value, json};

/// One parsed HTTP request, detached from hyper so handlers stay plain functions.
pub(crate) struct ApiRequest {
    pub method: Method,
    pub path: String,
    /// Percent-decoded path segments, empty segments dropped.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub raw_query: Option<String>,
    /// The `Host` the client addressed (header, else the absolute-form URI's authority).
    pub host: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn new(
        method: Method,
        path: &str,
        raw_query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = raw_query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self {
            method,
            path: path.to_owned(),
            segments,
            query,
            raw_query: raw_query.map(str::to_owned),
            host: None,
            headers,
            body,
        }
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn segs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    fn content_type(&self) -> String {
        self.header(header::CONTENT_TYPE.as_str())
            .unwrap_or("")
            .to_ascii_lowercase()
    }

    /// Parses a JSON or form-urlencoded body into a JSON object. Keboola's Storage API takes
    /// both, so the handlers look at one representation only.
    pub fn params(&self) -> Result<Map<String, Value>, ApiError> {
        let text = std::str::from_utf8(&self.body).map_err(|_| {
            ApiError::storage(
                StatusCode::BAD_REQUEST,
                "Request body is not valid UTF-8",
                "storage.validation",
            )
        })?;
        if text.trim().is_empty() {
            return Ok(Map::new());
        }
        let ct = self.content_type();
        let looks_json =
            ct.contains("json") || (!ct.contains("form") && text.trim_start().starts_with('{'));
        if looks_json {
            // UNCERTAIN: the exact Storage API message for malformed JSON is not documented.
            return match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(ApiError::storage(
                    StatusCode::BAD_REQUEST,
                    "Request body not valid",
                    "storage.validation",
                )),
            };
        }
        Ok(parse_form(text))
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// PHP-style form decoding: `a[]=x` appends to a list, `a[k]=v` sets a map entry, and
/// brackets nest: `metadata[0][key]=v` is `{"metadata": {"0": {"key": "v"}}}`.
pub(crate) fn parse_form(text: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in url::form_urlencoded::parse(text.as_bytes()) {
        let value = Value::String(value.into_owned());
        let Some(open) = key.find('[').filter(|_| key.ends_with(']')) else {
            out.insert(key.into_owned(), value);
            continue;
        };
        let name = key[..open].to_owned();
        let path: Vec<&str> = key[open + 1..key.len() - 1].split("][").collect();
        let slot = out.entry(name).or_insert(Value::Null);
        insert_form_value(slot, &path, value);
    }
    out
}

fn insert_form_value(slot: &mut Value, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    if first.is_empty() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(Value::Null);
            if let Some(last) = items.last_mut() {
                insert_form_value(last, rest, value);
            }
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(map) = slot {
        let child = map.entry((*first).to_owned()).or_insert(Value::Null);
        insert_form_value(child, rest, value);
    }
}

/// Reads a boolean parameter given as JSON bool, number or the strings true/false/1/0.
pub(crate) fn param_bool(params: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    let invalid = || {
        ApiError::storage(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for \"{key}\": expected a boolean"),
            "storage.validation",
        )
    };
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(invalid()),
        },
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" | "" => Ok(Some(false)),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

/// Reads an integer parameter given as a JSON number or a numeric string.
pub(crate) fn param_i64(params: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid_int(key)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid_int(key)),
        Some(_) => Err(invalid_int(key)),
    }
}

fn invalid_int(key: &str) -> ApiError {
    ApiError::storage(
        StatusCode::BAD_REQUEST,
        &format!("Invalid value for \"{key}\": expected an integer"),
        "storage.validation",
    )
}

pub(crate) fn param_str<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

/// Reads a list of strings (JSON array or `a[]=` form values; a single string is one item).
pub(crate) fn param_str_list(
    params: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                ApiError::storage(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid value for \"{key}\": expected a list of strings"),
                    "storage.validation",
                )
            }),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(Vec::new())),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(_) => Err(ApiError::storage(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for \"{key}\": expected a list of strings"),
            "storage.validation",
        )),
    }
}

/// An error answer with a JSON body in the shape the addressed Keboola service uses.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// Storage API (Connection) error: `{"error","code","status":"error","exceptionId"}`.
    pub fn storage(status: StatusCode, message: &str, code: &str) -> Self {
        Self {
            status,
            body: json!({"error": message, "code": code, "status": "error", "exceptionId": exception_id()}),
            retry_after: None,
        }
    }

    pub fn access_denied() -> Self {
        Self::storage(
            StatusCode::FORBIDDEN,
            "You don't have access to the resource.",
            "accessDenied",
        )
    }

    pub fn application_error() -> Self {
        Self::storage(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Application error.",
            "APPLICATION_ERROR",
        )
    }

    pub fn not_found(message: &str, code: &str) -> Self {
        Self::storage(StatusCode::NOT_FOUND, message, code)
    }

    pub fn bad_request(message: &str, code: &str) -> Self {
        Self::storage(StatusCode::BAD_REQUEST, message, code)
    }

    pub fn route_not_found() -> Self {
        Self::storage(StatusCode::NOT_FOUND, "Route not found", "notFound")
    }

    pub fn method_not_allowed() -> Self {
        Self::storage(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "methodNotAllowed",
        )
    }

    /// The envelope of Keboola's other services (Queue, Encryption, ...):
    /// `{"error","code":<status>,"exceptionId","status":"error","context"}`.
    pub fn service(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            body: json!({"error": message, "code": status.as_u16(), "exceptionId": exception_id(), "status": "error", "context": {}}),
            retry_after: None,
        }
    }

    /// Manage API error: `{"error","code","status":"error","exceptionId"}`, with
    /// validation details in `errors[]` where given.
    pub fn manage(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            body: json!({"error": message, "code": status.as_u16(), "status": "error", "exceptionId": exception_id()}),
            retry_after: None,
        }
    }

    pub fn maintenance(reason: &str, retry_after: Option<u64>, estimated_end: &str) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: json!({"status": "maintenance", "reason": reason, "estimatedEndTime": estimated_end}),
            retry_after,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let mut resp = json_response(self.status, &self.body);
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

pub(crate) type ApiResult = Result<Response<Body>, ApiError>;

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub(crate) fn ok_json(body: &Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, body))
}

pub(crate) fn no_content() -> ApiResult {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

/// `keboola-emulator-<32 hex>`, the shape of Connection's exception ids.
pub(crate) fn exception_id() -> String {
    let mut rng = rand::rng();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!("keboola-emulator-{hex}")
}

/// `2026-11-29T19:14:34+0100`: Connection formats dates in Central European time.
/// A fixed +01:00 offset keeps the output deterministic.
pub(crate) fn time(ts: Timestamp) -> String {
    ts.to_zoned_datetime(TimeZone::fixed(tz::offset(1)))
        .strftime("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

/// The project-wide masking rule for secrets shown to people or written to logs.
pub fn mask_token(token: &str) -> String {
    let len = token.chars().count();
    let Some(dash) = token.find('-') else {
        return "***".to_owned();
    };
    let dash_char_index = token[..dash].chars().count();
    if len < 8 || dash_char_index + 4 >= len {
        return "***".to_owned();
    }
    let tail: String = token.chars().skip(len - 4).collect();
    format!("{}-...{tail}", &token[..dash])
}

/// True for strings shaped like Storage (`<project>-<id>-<secret>`) or Manage
/// (`<id>-<secret>`) tokens, so the log can mask them wherever they appear.
pub(crate) fn looks_like_token(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    if !(2..=3).contains(&parts.len()) {
        return false;
    }
    let (numeric, secret) = parts.split_at(parts.len() - 1);
    numeric
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && secret[0].len() >= 16
        && secret[0].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Query keys whose values are secrets besides tokens: SAS signatures and the signature
/// and credential parts of presigned S3 and GCS URLs.
const SECRET_QUERY_KEYS: &[&str] = &[
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-goog-signature",
    "x-goog-credential",
    "upload_id",
];

/// Renders a query string for the log with every token-like value masked.
pub(crate) fn masked_query(raw: Option<&str>) -> String {
    let Some(raw) = raw else { return String::new() };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let lower = key.to_ascii_lowercase();
        if lower.contains("token")
            || SECRET_QUERY_KEYS.contains(&lower.as_str())
            || looks_like_token(&value)
        {
            out.append_pair(&key, &mask_token(&value));
        } else {
            out.append_pair(&key, &value);
        }
    }
    out.finish()
}

/// Renders a path for the log with token-like segments masked.
pub(crate) fn masked_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if looks_like_token(&percent_decode(seg)) {
                mask_token(&percent_decode(seg))
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_follows_the_project_rule() {
        assert_eq!(mask_token("short"), "***");
        assert_eq!(mask_token("nodashatalltoken"), "***");
        assert_eq!(mask_token("abcdefgh-123"), "***");
        assert_eq!(mask_token("101-1001-abcdefghijklmnop"), "101-...mnop");
    }

    #[test]
    fn form_bodies_decode_php_style_arrays() {
        let map = parse_form(
            "componentAccess[]=a&componentAccess[]=b&bucketPermissions[in.c-x]=read&expiresIn=3600",
        );
        assert_eq!(map["componentAccess"], json!(["a", "b"]));
        assert_eq!(map["bucketPermissions"], json!({"in.c-x": "read"}));
        assert_eq!(map["expiresIn"], json!("3600"));
        let nested = parse_form("metadata[0][key]=k&metadata[0][value]=v&metadata[1][key]=l");
        assert_eq!(
            nested["metadata"],
            json!({"0": {"key": "k", "value": "v"}, "1": {"key": "l"}})
        );
    }

    #[test]
    fn token_shapes_are_recognised() {
        assert!(looks_like_token(
            "101-1001-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
        ));
        assert!(looks_like_token("7-abcdefghijklmnopqrstuv"));
        assert!(!looks_like_token("keboola.ex-google-drive"));
        assert!(!looks_like_token("2026-11-29"));
    }
}
