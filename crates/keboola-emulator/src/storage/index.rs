//! The Storage API index, `GET /v2/storage`: stack facts, components and services.

use serde_json::{Map, Value, json};

use crate::http::{ApiRequest, ApiResult, ok_json};
use crate::services::SIBLINGS;
use crate::state::Shared;
use crate::storage::components::{self, index_components};

pub(crate) fn index(shared: &Shared, req: &ApiRequest) -> ApiResult {
    let base = &shared.base_url;
    let excluded: Vec<&str> = req
        .query_param("exclude")
        .map(|e| e.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let stack = base.split("://").nth(1).unwrap_or(base);
    let mut o = Map::new();
    o.insert("api".into(), json!("storage"));
    o.insert("version".into(), json!("v2"));
    o.insert(
        "revision".into(),
        json!(concat!("keboola-emulator-", env!("CARGO_PKG_VERSION"))),
    );
    o.insert("stack".into(), json!(stack));
    o.insert(
        "documentation".into(),
        json!("https://keboola.docs.apiary.io/"),
    );
    if !excluded.contains(&"components") {
        o.insert(
            "components".into(),
            index_components(
                &components::all(&shared.store().db)?,
                base,
                !excluded.contains(&"componentDetails"),
            ),
        );
    }
    o.insert("services".into(), services(shared));
    o.insert(
        "features".into(),
        json!([
            "dev-branches",
            "queuev2",
            "workspace-snowflake-dynamic-backend-size"
        ]),
    );
    o.insert(
        "urlTemplates".into(),
        json!({
            "orchestrationJob": "/admin/projects/&&projectId&&/orchestrations/&&orchestrationId&&/jobs/&&jobId&&",
            "project": "/admin/projects/&&projectId&&"
        }),
    );
    ok_json(&Value::Object(o))
}

/// Every service the emulator serves, each at a URL that answers. The Manage API is not a
/// service on real stacks (it lives on Connection's host); it is listed for clients that
/// look it up anyway.
fn services(shared: &Shared) -> Value {
    let mut list = vec![json!({"id": "manage", "url": shared.base_url})];
    list.extend(
        SIBLINGS
            .iter()
            .map(|s| json!({"id": s.id, "url": shared.urls.service(s.id)})),
    );
    Value::Array(list)
}
