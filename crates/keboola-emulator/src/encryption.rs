//! Encryption API: `POST /encrypt?componentId=&projectId=[&configId=]`. No token needed.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::Value;

use crate::crypto::cipher;
use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Shared;

fn service_error(status: StatusCode, message: &str) -> ApiError {
    ApiError::service(status, message)
}

fn cipher_prefix(
    component: Option<&str>,
    project: Option<&str>,
    config: Option<&str>,
) -> Result<&'static str, ApiError> {
    if config.is_some() && project.is_none() {
        return Err(service_error(
            StatusCode::BAD_REQUEST,
            "The configId parameter requires the projectId parameter.",
        ));
    }
    match (component, project, config) {
        (Some(_), Some(_), Some(_)) => Ok("ConfigSecure"),
        (Some(_), Some(_), None) => Ok("ProjectSecure"),
        (Some(_), None, None) => Ok("ComponentSecure"),
        (None, Some(_), None) => Ok("ProjectWideSecure"),
        _ => Err(service_error(
            StatusCode::BAD_REQUEST,
            "The componentId parameter is required.",
        )),
    }
}

fn encrypt_value(prefix: &str, value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                // Scalars under `#` keys are encrypted (numbers and booleans as their text,
                // null as ""); objects and arrays are walked into, ciphers kept.
                let plain = match v {
                    _ if !key.starts_with('#') => None,
                    Value::String(s) if s.starts_with("KBC::") => None,
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Null => Some(String::new()),
                    Value::Object(_) | Value::Array(_) => None,
                };
                match plain {
                    Some(text) => *v = Value::String(cipher(&mut rand::rng(), prefix, &text)),
                    None => encrypt_value(prefix, v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| encrypt_value(prefix, v)),
        _ => {}
    }
}

pub(crate) fn handle(_shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    match rest {
        ["encrypt"] if req.method == Method::POST => encrypt(req),
        ["encrypt"] => Err(service_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
        )),
        _ => Err(service_error(StatusCode::NOT_FOUND, "Route not found.")),
    }
}

fn encrypt(req: &ApiRequest) -> ApiResult {
    let param = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    let prefix = cipher_prefix(param("componentId"), param("projectId"), param("configId"))?;
    let content_type = req
        .header(header::CONTENT_TYPE.as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| service_error(StatusCode::BAD_REQUEST, "Body is not valid UTF-8"))?;
    if content_type.starts_with("text/plain") {
        let out = if text.starts_with("KBC::") {
            text.to_owned()
        } else {
            cipher(&mut rand::rng(), prefix, text)
        };
        let mut resp = Response::new(Body::from(out));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        return Ok(resp);
    }
    let mut value: Value = serde_json::from_str(text)
        .map_err(|_| service_error(StatusCode::BAD_REQUEST, "Request body is not valid JSON."))?;
    if !value.is_object() {
        return Err(service_error(
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON object.",
        ));
    }
    encrypt_value(prefix, &mut value);
    ok_json(&value)
}
