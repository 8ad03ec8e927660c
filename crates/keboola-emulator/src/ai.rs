//! The AI Service, as far as clients read component documentation from it:
//! `GET /docs/components/{id}` answers from the stack's component catalogue (the
//! configuration examples the real service also returns are not emulated: empty lists).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Shared;
use crate::storage::components;
use crate::storage::tokens;

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    match rest {
        ["docs", "components", id] if req.method == Method::GET => component(shared, req, id),
        ["docs", "components", _] => Err(ApiError::service(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
        )),
        _ => Err(ApiError::service(StatusCode::NOT_FOUND, "Route not found.")),
    }
}

fn component(shared: &Shared, req: &ApiRequest, id: &str) -> ApiResult {
    let store = shared.store();
    tokens::authenticate(&store, req, shared.now())?;
    let def = components::by_id(&store.db, id)?.ok_or_else(|| {
        ApiError::service(StatusCode::NOT_FOUND, &format!("Component {id} not found."))
    })?;
    ok_json(&json!({
        "componentId": def.id,
        "componentName": def.name,
        "componentType": def.kind,
        "componentCategories": def.categories,
        "componentFlags": def.flags,
        "description": def.description,
        "longDescription": def.long_description,
        "documentation": def.long_description,
        "documentationUrl": format!("https://help.keboola.com/components/{}/", def.id),
        "configurationSchema": def.configuration_schema,
        "configurationRowSchema": def.configuration_row_schema,
        "rootConfigurationExamples": [],
        "rowConfigurationExamples": [],
    }))
}
