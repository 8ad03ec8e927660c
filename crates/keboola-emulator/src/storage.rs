//! Storage API: index, tokens, components and configurations, dev branches, events.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json, param_bool, param_i64,
    param_str, param_str_list,
};
use crate::model::{
    COMPONENTS, Role, StorageToken, Store, TokenOrigin, component_def, new_storage_secret,
};
use crate::render::{self, TokenView};

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    if rest.is_empty() {
        return if req.method == Method::GET {
            index(shared, req)
        } else {
            Err(ApiError::method_not_allowed())
        };
    }
    let (branch, rest) = match rest {
        ["branch", b, tail @ ..] => (Some(*b), tail),
        _ => (None, rest),
    };
    let now = shared.now();
    let mut store = shared.store();
    let me = authenticate(&store, req, now)?;
    let branch_id = resolve_branch(&store, me.project_id, branch)?;
    let ctx = Ctx {
        base_url: &shared.base_url,
        now,
        me: &me,
        branch_id,
    };
    let m = &req.method;
    match rest {
        ["tokens", "verify"] if m == Method::GET => ok_json(&render::token(
            &store,
            &me,
            TokenView::WithSecret,
            ctx.base_url,
            now,
        )),
        ["tokens"] if m == Method::GET => list_tokens(&store, &ctx),
        ["tokens"] if m == Method::POST && branch.is_none() => create_token(&mut store, &ctx, req),
        ["tokens", id] if m == Method::GET => get_token(&store, &ctx, id),
        ["tokens", id] if m == Method::PUT && branch.is_none() => {
            update_token(&mut store, &ctx, id, req)
        }
        ["tokens", id] if m == Method::DELETE && branch.is_none() => {
            delete_token(&mut store, &ctx, id)
        }
        ["tokens", id, "refresh"] if m == Method::POST && branch.is_none() => {
            refresh_token(&mut store, &ctx, id)
        }
        ["components"] if m == Method::GET => list_components(&store, &ctx, req),
        ["components", component, "configs"] if m == Method::GET => {
            list_configs(&store, &ctx, component)
        }
        ["components", component, "configs", id] if m == Method::GET => {
            get_config(&store, &ctx, component, id)
        }
        ["components", component, "configs", id] if m == Method::PUT => {
            update_config(&mut store, &ctx, component, id, req)
        }
        ["dev-branches"] if m == Method::GET && branch.is_none() => list_branches(&store, &ctx),
        ["dev-branches", id] if m == Method::GET && branch.is_none() => {
            get_branch(&store, &ctx, id)
        }
        ["events"] if m == Method::POST => create_event(&mut store, req),
        ["tokens" | "components" | "dev-branches" | "events", ..] => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::route_not_found()),
    }
}

struct Ctx<'a> {
    base_url: &'a str,
    now: Timestamp,
    me: &'a StorageToken,
    branch_id: u64,
}

/// Resolves `X-StorageApi-Token` to a live token (a clone; handlers mutate the store).
pub(crate) fn authenticate(
    store: &Store,
    req: &ApiRequest,
    now: Timestamp,
) -> Result<StorageToken, ApiError> {
    let secret = req
        .header("x-storageapi-token")
        .map(str::trim)
        .unwrap_or("");
    if secret.is_empty() {
        return Err(ApiError::storage(
            StatusCode::UNAUTHORIZED,
            "Access token must be set",
            "",
        ));
    }
    match store.token_by_secret(secret) {
        None => Err(ApiError::storage(
            StatusCode::UNAUTHORIZED,
            "Invalid access token",
            "storage.tokenInvalid",
        )),
        // UNCERTAIN: the status of the expired-but-not-purged phase; 401 is the likely one.
        Some(t) if t.is_expired(now) => Err(ApiError::storage(
            StatusCode::UNAUTHORIZED,
            "Your access token has expired.",
            "storage.tokenExpired",
        )),
        Some(t) => Ok(t.clone()),
    }
}

fn branch_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Branch id:\"{id}\" was not found."),
        "storage.devBranches.notFound",
    )
}

fn resolve_branch(store: &Store, project_id: u64, branch: Option<&str>) -> Result<u64, ApiError> {
    let project = store
        .projects
        .get(&project_id)
        .ok_or_else(ApiError::application_error)?;
    match branch {
        None | Some("default") => Ok(project.default_branch().id),
        Some(id) => id
            .parse::<u64>()
            .ok()
            .filter(|n| project.branches.iter().any(|b| b.id == *n))
            .ok_or_else(|| branch_not_found(id)),
    }
}

fn index(shared: &Shared, req: &ApiRequest) -> ApiResult {
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
            render::index_components(base, !excluded.contains(&"componentDetails")),
        );
    }
    o.insert(
        "services".into(),
        json!([
            {"id": "manage", "url": base},
            {"id": "encryption", "url": base},
            {"id": "oauth", "url": format!("{base}/oauth")},
            {"id": "queue", "url": base}
        ]),
    );
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

// ---- tokens -------------------------------------------------------------------------

fn list_tokens(store: &Store, ctx: &Ctx<'_>) -> ApiResult {
    let me = ctx.me;
    // A token without canManageTokens sees only itself (first-party E2E test behaviour).
    let tokens: Vec<Value> = store
        .tokens
        .values()
        .filter(|t| t.project_id == me.project_id && (me.can_manage_tokens || t.id == me.id))
        .map(|t| render::token(store, t, TokenView::List, ctx.base_url, ctx.now))
        .collect();
    ok_json(&Value::Array(tokens))
}

/// Finds a token of the caller's project by its path id.
fn find_token<'s>(store: &'s Store, ctx: &Ctx<'_>, id: &str) -> Result<&'s StorageToken, ApiError> {
    let Ok(n) = id.parse::<u64>() else {
        // UNCERTAIN: status of the "resource not found" answer for non-numeric ids (404 likely).
        return Err(ApiError::not_found("resource not found", "notFound"));
    };
    store
        .tokens
        .get(&n)
        .filter(|t| t.project_id == ctx.me.project_id)
        .ok_or_else(|| {
            ApiError::not_found(&format!("Token {n} not found"), "storage.tokens.notFound")
        })
}

fn get_token(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let target = find_token(store, ctx, id)?;
    if target.id != ctx.me.id && !ctx.me.can_manage_tokens {
        return Err(ApiError::access_denied());
    }
    ok_json(&render::token(
        store,
        target,
        TokenView::Detail,
        ctx.base_url,
        ctx.now,
    ))
}

fn invalid_permissions(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.tokens.invalidPermissions")
}

/// Validates `bucketPermissions` (JSON object or `bucketPermissions[bucket]=perm` form).
/// Only `read` and `write` may be granted, and only on existing buckets.
pub(crate) fn parse_bucket_permissions(
    store: &Store,
    project_id: u64,
    params: &Map<String, Value>,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let raw = match params.get("bucketPermissions") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map.clone(),
        // An empty list is how PHP clients send "no permissions".
        Some(Value::Array(a)) if a.is_empty() => Map::new(),
        Some(_) => {
            return Err(invalid_permissions(
                "bucketPermissions must be a map of bucket id to permission",
            ));
        }
    };
    let buckets = store
        .projects
        .get(&project_id)
        .map(|p| p.buckets.clone())
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for (bucket, perm) in raw {
        let perm = perm.as_str().unwrap_or_default().to_owned();
        if perm != "read" && perm != "write" {
            return Err(invalid_permissions(&format!(
                "Invalid permission \"{perm}\" for bucket \"{bucket}\". Allowed permissions are: read, write"
            )));
        }
        if !buckets.contains(&bucket) {
            return Err(invalid_permissions(&format!(
                "Bucket \"{bucket}\" was not found in the project"
            )));
        }
        out.insert(bucket, perm);
    }
    Ok(Some(out))
}

pub(crate) fn parse_expires_in(
    params: &Map<String, Value>,
    now: Timestamp,
) -> Result<Option<Timestamp>, ApiError> {
    match param_i64(params, "expiresIn")? {
        None => Ok(None),
        // UNCERTAIN: the status code of this validation error (400 is the likely one).
        Some(s) if s < 1 => Err(ApiError::bad_request(
            "Minimal expiration must be greater or equal to 1 second(s)",
            "storage.tokens.invalidExpiration",
        )),
        Some(s) => Ok(Some(
            now.saturating_add(SignedDuration::from_secs(s))
                .unwrap_or(now),
        )),
    }
}

/// A list of component ids; an empty list means "no component access" (key absent).
pub(crate) fn parse_component_access(
    params: &Map<String, Value>,
) -> Result<Option<Vec<String>>, ApiError> {
    Ok(param_str_list(params, "componentAccess")?.filter(|l| !l.is_empty()))
}

pub(crate) fn new_child(
    store: &mut Store,
    project_id: u64,
    description: String,
    origin: TokenOrigin,
    now: Timestamp,
) -> StorageToken {
    let id = store.allocate_token_id();
    StorageToken {
        id,
        project_id,
        secret: new_storage_secret(&mut rand::rng(), project_id, id),
        description,
        created: now,
        refreshed: now,
        expires: None,
        origin,
        can_manage_buckets: false,
        can_manage_tokens: false,
        can_read_all_file_uploads: false,
        can_purge_trash: false,
        can_read_all_project_events: false,
        can_manage_dev_branches: false,
        bucket_permissions: BTreeMap::new(),
        component_access: None,
    }
}

fn create_token(store: &mut Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let me = ctx.me;
    let params = req.params()?;
    match me.role() {
        Some(Role::ReadOnly) => return Err(ApiError::access_denied()),
        None if !me.can_manage_tokens => return Err(ApiError::access_denied()),
        _ => {}
    }
    let expires = parse_expires_in(&params, ctx.now)?;
    let description = param_str(&params, "description")
        .filter(|d| !d.trim().is_empty())
        .map_or_else(|| format!("Created by {}", me.description), str::to_owned);
    let admin_owner = match me.origin {
        TokenOrigin::Master { user_id, .. } => Some(user_id),
        _ => None,
    };
    let mut child = new_child(
        store,
        me.project_id,
        description,
        TokenOrigin::Storage {
            creator: me.creator(),
            admin_owner,
        },
        ctx.now,
    );
    child.expires = expires;
    // A guest master (no canManageTokens) gets a minimal token: every privilege parameter
    // except description and expiresIn is dropped silently. canManageTokens is never granted.
    if me.can_manage_tokens {
        child.can_manage_buckets = param_bool(&params, "canManageBuckets")?.unwrap_or(false);
        child.can_read_all_file_uploads =
            param_bool(&params, "canReadAllFileUploads")?.unwrap_or(false);
        child.can_purge_trash = param_bool(&params, "canPurgeTrash")?.unwrap_or(false);
        child.can_read_all_project_events =
            param_bool(&params, "canReadAllProjectEvents")?.unwrap_or(false);
        child.can_manage_dev_branches =
            param_bool(&params, "canManageDevBranches")?.unwrap_or(false);
        child.bucket_permissions =
            parse_bucket_permissions(store, me.project_id, &params)?.unwrap_or_default();
        child.component_access = parse_component_access(&params)?;
    }
    let body = render::token(store, &child, TokenView::WithSecret, ctx.base_url, ctx.now);
    store.tokens.insert(child.id, child);
    if !me.is_master() {
        // Connection's create voter throws for a non-admin token holding canManageTokens
        // (a Manage-API-minted token), after the new row was already written: the caller
        // gets a 500 and an orphan token exists. Reproduced on purpose.
        return Err(ApiError::application_error());
    }
    Ok(json_response(StatusCode::CREATED, &body))
}

fn update_token(store: &mut Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let target = find_token(store, ctx, id)?.clone();
    if !ctx.me.can_manage_tokens {
        return Err(ApiError::access_denied());
    }
    if target.is_master() {
        // UNCERTAIN: Connection's exact error for modifying a master token.
        return Err(ApiError::bad_request(
            "Master token cannot be modified.",
            "storage.tokens.masterTokenNotEditable",
        ));
    }
    let params = req.params()?;
    let mut updated = target;
    if let Some(d) = param_str(&params, "description") {
        d.clone_into(&mut updated.description);
    }
    if let Some(perms) = parse_bucket_permissions(store, ctx.me.project_id, &params)? {
        updated.bucket_permissions = perms;
    }
    if params.contains_key("componentAccess") {
        updated.component_access = parse_component_access(&params)?;
    }
    if let Some(b) = param_bool(&params, "canReadAllFileUploads")? {
        updated.can_read_all_file_uploads = b;
    }
    if let Some(b) = param_bool(&params, "canPurgeTrash")? {
        updated.can_purge_trash = b;
    }
    let body = render::token(store, &updated, TokenView::Detail, ctx.base_url, ctx.now);
    store.tokens.insert(updated.id, updated);
    ok_json(&body)
}

fn delete_token(store: &mut Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let target = find_token(store, ctx, id)?;
    if target.id != ctx.me.id && !ctx.me.can_manage_tokens {
        return Err(ApiError::access_denied());
    }
    if target.is_master() {
        // UNCERTAIN: the code and status Connection uses here; 400 with a clear message.
        return Err(ApiError::bad_request(
            "Master token cannot be deleted.",
            "storage.tokens.cannotDeleteMasterToken",
        ));
    }
    let id = target.id;
    store.tokens.remove(&id);
    no_content()
}

fn refresh_token(store: &mut Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let target = find_token(store, ctx, id)?;
    let own = target.id == ctx.me.id;
    // Any token may refresh itself; others need canManageTokens.
    // UNCERTAIN: refreshing another user's master token is refused here.
    if !own && (!ctx.me.can_manage_tokens || target.is_master()) {
        return Err(ApiError::access_denied());
    }
    let id = target.id;
    let project_id = target.project_id;
    let secret = new_storage_secret(&mut rand::rng(), project_id, id);
    let Some(t) = store.tokens.get_mut(&id) else {
        return Err(ApiError::application_error());
    };
    t.secret = secret;
    t.refreshed = ctx.now;
    let t = t.clone();
    ok_json(&render::token(
        store,
        &t,
        TokenView::WithSecret,
        ctx.base_url,
        ctx.now,
    ))
}

// ---- components and configurations -------------------------------------------------

/// A non-master token needs `canManageBuckets` or `componentAccess` for any component endpoint.
fn require_some_component_access(me: &StorageToken) -> Result<(), ApiError> {
    if me.can_use_some_component() {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

fn require_component_access(me: &StorageToken, component: &str) -> Result<(), ApiError> {
    if me.can_use_component(component) {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

fn list_components(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    require_some_component_access(ctx.me)?;
    let include: Vec<&str> = req
        .query_param("include")
        .map(|i| i.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let with_body = include.contains(&"configuration");
    let with_rows = include.contains(&"rows");
    let kind = req.query_param("componentType").filter(|k| !k.is_empty());
    let branch = branch_of(store, ctx)?;
    let mut ids: Vec<&str> = COMPONENTS.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    let mut out = Vec::new();
    for def in ids.into_iter().filter_map(component_def) {
        if kind.is_some_and(|k| k != def.kind) || !ctx.me.can_use_component(def.id) {
            continue;
        }
        let configs: Vec<Value> = branch
            .configs
            .iter()
            .filter(|c| c.component_id == def.id)
            .map(|c| render::config(c, with_body, with_rows))
            .collect();
        // Components appear only while they have a configuration in the branch.
        if configs.is_empty() {
            continue;
        }
        let mut o = render::component(def, ctx.base_url);
        o.insert("configurations".into(), Value::Array(configs));
        out.push(Value::Object(o));
    }
    ok_json(&Value::Array(out))
}

fn branch_of<'s>(store: &'s Store, ctx: &Ctx<'_>) -> Result<&'s crate::model::Branch, ApiError> {
    store
        .projects
        .get(&ctx.me.project_id)
        .and_then(|p| p.branches.iter().find(|b| b.id == ctx.branch_id))
        .ok_or_else(|| branch_not_found(&ctx.branch_id.to_string()))
}

fn component_not_found(component: &str) -> ApiError {
    ApiError::not_found(
        &format!("Component {component} not found"),
        "storage.components.notFound",
    )
}

fn config_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        &format!("Configuration {id} not found"),
        "storage.configuration.notFound",
    )
}

fn list_configs(store: &Store, ctx: &Ctx<'_>, component: &str) -> ApiResult {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    if component_def(component).is_none() {
        return Err(component_not_found(component));
    }
    let branch = branch_of(store, ctx)?;
    let list: Vec<Value> = branch
        .configs
        .iter()
        .filter(|c| c.component_id == component)
        .map(|c| render::config(c, true, true))
        .collect();
    ok_json(&Value::Array(list))
}

fn get_config(store: &Store, ctx: &Ctx<'_>, component: &str, id: &str) -> ApiResult {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    let branch = branch_of(store, ctx)?;
    let config = branch
        .configs
        .iter()
        .find(|c| c.component_id == component && c.id == id)
        .ok_or_else(|| config_not_found(id))?;
    ok_json(&render::config(config, true, true))
}

fn update_config(
    store: &mut Store,
    ctx: &Ctx<'_>,
    component: &str,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_some_component_access(ctx.me)?;
    require_component_access(ctx.me, component)?;
    if ctx.me.role() == Some(Role::ReadOnly) {
        return Err(ApiError::access_denied());
    }
    let params = req.params()?;
    let configuration = match params.get("configuration") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => {
                return Err(ApiError::bad_request(
                    "Configuration must be a valid JSON object",
                    "storage.configuration.invalid",
                ));
            }
        },
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Configuration must be a valid JSON object",
                "storage.configuration.invalid",
            ));
        }
    };
    let is_disabled = param_bool(&params, "isDisabled")?;
    let creator = ctx.me.creator();
    let branch_id = ctx.branch_id;
    let project = store
        .projects
        .get_mut(&ctx.me.project_id)
        .ok_or_else(ApiError::application_error)?;
    let branch = project
        .branches
        .iter_mut()
        .find(|b| b.id == branch_id)
        .ok_or_else(|| branch_not_found(&branch_id.to_string()))?;
    let config = branch
        .configs
        .iter_mut()
        .find(|c| c.component_id == component && c.id == id)
        .ok_or_else(|| config_not_found(id))?;
    if let Some(name) = param_str(&params, "name") {
        name.clone_into(&mut config.name);
    }
    if let Some(d) = param_str(&params, "description") {
        d.clone_into(&mut config.description);
    }
    if let Some(c) = configuration {
        config.configuration = c;
    }
    if let Some(b) = is_disabled {
        config.is_disabled = b;
    }
    config.version += 1;
    config.change_description = param_str(&params, "changeDescription")
        .unwrap_or("Configuration updated")
        .to_owned();
    config.version_created = ctx.now;
    config.version_creator = creator;
    ok_json(&render::config(config, true, true))
}

// ---- dev branches and events ---------------------------------------------------------

fn list_branches(store: &Store, ctx: &Ctx<'_>) -> ApiResult {
    let project = store
        .projects
        .get(&ctx.me.project_id)
        .ok_or_else(ApiError::application_error)?;
    ok_json(&Value::Array(
        project
            .branches
            .iter()
            .map(|b| render::branch(b, store))
            .collect(),
    ))
}

fn get_branch(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let project = store
        .projects
        .get(&ctx.me.project_id)
        .ok_or_else(ApiError::application_error)?;
    let branch = id
        .parse::<u64>()
        .ok()
        .and_then(|n| project.branches.iter().find(|b| b.id == n))
        .ok_or_else(|| branch_not_found(id))?;
    ok_json(&render::branch(branch, store))
}

fn create_event(store: &mut Store, req: &ApiRequest) -> ApiResult {
    req.params()?;
    let id = store.allocate_event_id();
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_string()}),
    ))
}
