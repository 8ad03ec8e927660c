//! The OAuth wizard: a static page plus the one request its button sends.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, header};
use serde_json::{Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::manage::projects::Role;
use crate::state::Shared;
use crate::storage::tokens::authenticate;
use crate::storage::{branches, components, configurations};

const WIZARD_HTML: &str = include_str!("wizard.html");

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    match rest {
        ["index.html"] | [] if req.method == Method::GET => Ok(page()),
        ["authorize"] if req.method == Method::POST => authorize(shared, req),
        ["index.html" | "authorize"] | [] => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::route_not_found()),
    }
}

fn page() -> Response<Body> {
    let mut resp = Response::new(Body::from(WIZARD_HTML));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page URL carries a token; never leak it to other origins through Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn normalize(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

fn authorize(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        ApiError::bad_request("Request body must be a JSON object", "oauth.invalidRequest")
    })?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let (Some(component_id), Some(config_id), Some(sapi_url)) =
        (field("componentId"), field("configId"), field("sapiUrl"))
    else {
        return Err(ApiError::bad_request(
            "componentId, configId and sapiUrl are required",
            "oauth.invalidRequest",
        ));
    };
    // The stack URL, or the listener's own address when the stack has a host name.
    if normalize(sapi_url) != normalize(&shared.base_url)
        && normalize(sapi_url) != normalize(&shared.urls.origin)
    {
        return Err(ApiError::bad_request(
            &format!(
                "The sapiUrl \"{sapi_url}\" does not match this stack ({}).",
                shared.base_url
            ),
            "oauth.invalidSapiUrl",
        ));
    }
    let main = branches::default_of(&store, me.project_id)?;
    let tx = store.db.unchecked_transaction()?;
    let mut config = configurations::find(&tx, main.id, component_id, config_id)?
        .ok_or_else(|| configurations::config_not_found(config_id))?;
    // A read-only user cannot change configurations, master token or not.
    if !me.has_component_access(component_id) || me.role() == Some(Role::ReadOnly) {
        return Err(ApiError::access_denied());
    }
    if !components::by_id(&store.db, component_id)?.is_some_and(|c| c.uses_oauth()) {
        return Err(ApiError::bad_request(
            &format!("Component {component_id} does not use OAuth authorization."),
            "oauth.componentNotSupported",
        ));
    }
    let credentials_id = config.id.clone();
    if !config.configuration.is_object() {
        config.configuration = json!({});
    }
    if let Value::Object(map) = &mut config.configuration {
        map.insert(
            "authorization".into(),
            json!({"oauth_api": {"id": credentials_id, "version": 3}}),
        );
    }
    config.version += 1;
    "Authorized through the OAuth wizard".clone_into(&mut config.change_description);
    config.version_created = now;
    config.version_creator = me.creator();
    configurations::save(&tx, &config)?;
    tx.commit()?;
    ok_json(&json!({
        "status": "authorized",
        "componentId": component_id,
        "configId": config_id,
        "credentialsId": credentials_id
    }))
}
