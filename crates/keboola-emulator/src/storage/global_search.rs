//! Global search, `GET /v2/storage/global-search`: names of buckets, tables and
//! configurations of the token's project, served only to projects with the
//! `global-search` feature (Keboola answers 404 to the others). Project features beyond the
//! fixed ones live here too (`project_features`), set through the Manage API.
//!
//! Off by default: Keboola rolls the feature out per project, so a client must be ready
//! for projects without it.

use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json, time};
use crate::manage::projects;
use crate::state::Store;
use crate::storage::{Ctx, branches, buckets, components, configurations, tables};

/// The project feature that turns the endpoint on.
pub(crate) const FEATURE: &str = "global-search";

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS project_features (
    project_id INTEGER NOT NULL,
    feature TEXT NOT NULL,
    PRIMARY KEY (project_id, feature)
);";

/// Features added to a project (on top of the ones every emulated project has).
pub(crate) fn added_features(conn: &Connection, project_id: u64) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT feature FROM project_features WHERE project_id = ?1 ORDER BY feature")?
        .query_map([project_id], |r| r.get(0))?
        .collect()
}

pub(crate) fn set_feature(
    conn: &Connection,
    project_id: u64,
    feature: &str,
    on: bool,
) -> rusqlite::Result<()> {
    if on {
        conn.execute(
            "INSERT OR IGNORE INTO project_features (project_id, feature) VALUES (?1, ?2)",
            params![project_id, feature],
        )?;
    } else {
        conn.execute(
            "DELETE FROM project_features WHERE project_id = ?1 AND feature = ?2",
            params![project_id, feature],
        )?;
    }
    Ok(())
}

const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 50;

/// The search type of a configuration of `component_id` (`kind` is the component's type).
fn config_type(component_id: &str, kind: &str) -> &'static str {
    match (component_id, kind) {
        ("keboola.flow" | "keboola.orchestrator", _) => "flow",
        (_, "transformation") => "transformation",
        _ => "configuration",
    }
}

pub(crate) fn search(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let project_id = ctx.me.project_id;
    if !added_features(&store.db, project_id)?
        .iter()
        .any(|f| f == FEATURE)
    {
        return Err(ApiError::route_not_found());
    }
    let query = req
        .query_param("query")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("Parameter \"query\" is required.", "storage.validation")
        })?
        .to_lowercase();
    let list = |name: &str| -> Vec<&str> {
        req.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let types = list("types[]");
    let wanted = |t: &str| types.is_empty() || types.contains(&t);
    let asked_projects = list("projectIds[]");
    if !asked_projects.is_empty() && !asked_projects.contains(&project_id.to_string().as_str()) {
        return ok_json(&json!({"all": 0, "items": [], "byType": {"total": 0}, "byProject": {}}));
    }
    let branch_types = list("branchTypes[]");
    if !branch_types.is_empty() && !branch_types.contains(&"production") {
        return ok_json(&json!({"all": 0, "items": [], "byType": {"total": 0}, "byProject": {}}));
    }
    let limit = req
        .query_param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let offset = req
        .query_param("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let project =
        projects::by_id(&store.db, project_id)?.ok_or_else(ApiError::application_error)?;
    let main = branches::default_of(store, project_id)?;
    let hit = |name: &str| name.to_lowercase().contains(&query);
    let base = |id: Value, kind: &str, name: &str, created: String| {
        let mut o = Map::new();
        o.insert("id".into(), id);
        o.insert("type".into(), json!(kind));
        o.insert("name".into(), json!(name));
        o.insert("organizationId".into(), json!(1));
        o.insert("projectId".into(), json!(project_id));
        o.insert("projectName".into(), json!(project.name));
        o.insert("created".into(), json!(created));
        o.insert(
            "fullPath".into(),
            json!({
                "project": {"id": project_id, "name": project.name},
                "branch": {"id": main.id, "name": main.name, "isDefault": true, "isNative": true}
            }),
        );
        o
    };
    let mut items: Vec<Map<String, Value>> = Vec::new();
    let conn = buckets::project_db(store, project_id)?;
    let visible = buckets::all(conn)?
        .into_iter()
        .filter(|b| buckets::permission(ctx.me, &b.id).is_some())
        .collect::<Vec<_>>();
    if wanted("bucket") {
        for b in visible
            .iter()
            .filter(|b| hit(&b.display_name) || hit(&b.id))
        {
            let mut o = base(json!(b.id), "bucket", &b.display_name, time(b.created));
            o.insert(
                "uri".into(),
                json!(format!("{}/v2/storage/buckets/{}", ctx.base_url, b.id)),
            );
            items.push(o);
        }
    }
    if wanted("table") {
        for t in tables::all(conn)? {
            let Some(b) = visible.iter().find(|b| b.id == t.bucket_id) else {
                continue;
            };
            let columns: Vec<&String> = t.columns.iter().filter(|c| hit(c)).collect();
            if !hit(&t.display_name) && columns.is_empty() {
                continue;
            }
            let mut o = base(json!(t.id), "table", &t.display_name, time(t.created));
            o["fullPath"]["bucket"] = json!({"id": b.id, "name": b.display_name});
            o.insert(
                "uri".into(),
                json!(format!("{}/v2/storage/tables/{}", ctx.base_url, t.id)),
            );
            o.insert("matchedColumns".into(), json!(columns));
            items.push(o);
        }
    }
    let catalogue = components::all(&store.db)?;
    for c in configurations::of_branch(&store.db, main.id, None)? {
        if !ctx.me.can_use_component(&c.component_id) {
            continue;
        }
        let Some(def) = catalogue.iter().find(|d| d.id == c.component_id) else {
            continue;
        };
        let component = json!({"id": def.id, "name": def.name});
        let kind = config_type(&c.component_id, &def.kind);
        if wanted(kind) && hit(&c.name) {
            let mut o = base(json!(c.id), kind, &c.name, time(c.created));
            o.insert("componentId".into(), json!(c.component_id));
            o["fullPath"]["component"] = component.clone();
            items.push(o);
        }
        if wanted("configuration-row") {
            for r in c.rows.iter().filter(|r| hit(&r.name)) {
                let mut o = base(json!(r.id), "configuration-row", &r.name, time(r.created));
                o.insert("componentId".into(), json!(c.component_id));
                o["fullPath"]["component"] = component.clone();
                o["fullPath"]["configuration"] = json!({"id": c.id, "name": c.name});
                items.push(o);
            }
        }
    }
    let mut by_type = Map::new();
    by_type.insert("total".into(), json!(items.len()));
    for o in &items {
        let t = o["type"].as_str().unwrap_or_default().to_owned();
        let n = by_type.get(&t).and_then(Value::as_u64).unwrap_or(0) + 1;
        by_type.insert(t, json!(n));
    }
    let all = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(Value::Object)
        .collect();
    ok_json(&json!({
        "all": all,
        "items": page,
        "byType": by_type,
        "byProject": {project_id.to_string(): project.name},
    }))
}

/// Manage API `POST /manage/projects/{id}/features` `{"feature": name}`: the project's
/// detail with the feature added.
pub(crate) fn add_feature_handler(
    store: &Store,
    project: &projects::Project,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let feature = params
        .get("feature")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            crate::manage::manage_error(ApiError::bad_request(
                "Parameter \"feature\" is required.",
                "manage.validation",
            ))
        })?;
    set_feature(&store.db, project.id, feature, true)?;
    let mut answer = ok_json(&projects::render(store, project)?)?;
    *answer.status_mut() = axum::http::StatusCode::CREATED;
    Ok(answer)
}

/// Manage API `DELETE /manage/projects/{id}/features/{feature}` → 204.
pub(crate) fn remove_feature_handler(
    store: &Store,
    project: &projects::Project,
    feature: &str,
) -> ApiResult {
    set_feature(&store.db, project.id, feature, false)?;
    crate::http::no_content()
}
