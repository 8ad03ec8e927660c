//! Storage API (`/v2/storage`): one module per resource.

pub(crate) mod branches;
pub(crate) mod buckets;
pub(crate) mod components;
pub(crate) mod configurations;
pub(crate) mod events;
mod index;
pub(crate) mod tokens;

use axum::http::Method;
use jiff::Timestamp;

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json};
use crate::state::Shared;
use tokens::{StorageToken, TokenView};

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    if rest.is_empty() {
        return if req.method == Method::GET {
            index::index(shared, req)
        } else {
            Err(ApiError::method_not_allowed())
        };
    }
    let (branch, rest) = match rest {
        ["branch", b, tail @ ..] => (Some(*b), tail),
        _ => (None, rest),
    };
    let now = shared.now();
    let store = shared.store();
    let me = tokens::authenticate(&store, req, now)?;
    let branch_id = branches::resolve_branch(&store, me.project_id, branch)?;
    let ctx = Ctx {
        base_url: &shared.base_url,
        now,
        me: &me,
        branch_id,
    };
    let m = &req.method;
    match rest {
        ["tokens", "verify"] if m == Method::GET => ok_json(&tokens::render(
            &store,
            &me,
            TokenView::WithSecret,
            ctx.base_url,
            now,
        )?),
        ["tokens"] if m == Method::GET => tokens::list(&store, &ctx),
        ["tokens"] if m == Method::POST && branch.is_none() => tokens::create(&store, &ctx, req),
        ["tokens", id] if m == Method::GET => tokens::get(&store, &ctx, id),
        ["tokens", id] if m == Method::PUT && branch.is_none() => {
            tokens::update(&store, &ctx, id, req)
        }
        ["tokens", id] if m == Method::DELETE && branch.is_none() => {
            tokens::delete(&store, &ctx, id)
        }
        ["tokens", id, "refresh"] if m == Method::POST && branch.is_none() => {
            tokens::refresh(&store, &ctx, id)
        }
        ["components"] if m == Method::GET => components::list(&store, &ctx, req),
        ["components", component, "configs"] if m == Method::GET => {
            configurations::list(&store, &ctx, component)
        }
        ["components", component, "configs", id] if m == Method::GET => {
            configurations::get(&store, &ctx, component, id)
        }
        ["components", component, "configs", id] if m == Method::PUT => {
            configurations::update(&store, &ctx, component, id, req)
        }
        ["dev-branches"] if m == Method::GET && branch.is_none() => branches::list(&store, &ctx),
        ["dev-branches", id] if m == Method::GET && branch.is_none() => {
            branches::get(&store, &ctx, id)
        }
        ["events"] if m == Method::POST => events::create(&store, &ctx, req),
        ["tokens" | "components" | "dev-branches" | "events", ..] => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::route_not_found()),
    }
}

pub(crate) struct Ctx<'a> {
    pub base_url: &'a str,
    pub now: Timestamp,
    pub me: &'a StorageToken,
    pub branch_id: u64,
}
