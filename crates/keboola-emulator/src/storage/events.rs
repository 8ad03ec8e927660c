//! Events: `POST /events` accepts anything and hands back an id.

use axum::http::StatusCode;
use serde_json::json;

use crate::http::{ApiRequest, ApiResult, json_response};
use crate::state::Store;

pub(crate) fn create(store: &mut Store, req: &ApiRequest) -> ApiResult {
    req.params()?;
    let id = store.allocate_event_id();
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_string()}),
    ))
}
