//! Storage API (`/v2/storage`): one module per resource.

pub(crate) mod branches;
pub(crate) mod buckets;
pub(crate) mod components;
pub(crate) mod configurations;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod global_search;
mod index;
pub(crate) mod jobs;
pub(crate) mod metadata;
pub(crate) mod snapshots;
pub(crate) mod swap;
pub(crate) mod tables;
pub(crate) mod tokens;
pub(crate) mod workspaces;

use axum::http::Method;
use jiff::Timestamp;

use crate::http::{ApiError, ApiRequest, ApiResult, ok_json, param_i64, parse_form};
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
        ["components", id] if m == Method::GET => components::get(&store, &ctx, id),
        // Workspaces (their `keboola.sandboxes` configurations are ordinary configurations).
        ["components", component, "configs", id, "workspaces"] if m == Method::POST => {
            workspaces::create(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "workspaces"] if m == Method::GET => {
            workspaces::list(&store, &ctx, Some((component, id)))
        }
        ["workspaces"] if m == Method::GET => workspaces::list(&store, &ctx, None),
        ["workspaces", id] if m == Method::GET => workspaces::get(&store, &ctx, id),
        ["workspaces", id] if m == Method::DELETE => workspaces::delete(&store, &ctx, id),
        ["workspaces", id, "password"] if m == Method::POST => {
            workspaces::reset_password(&store, &ctx, id)
        }
        ["workspaces", id, "load"] if m == Method::POST => {
            workspaces::load(shared, &store, &ctx, id, req)
        }
        ["components", component, "configs"] if m == Method::GET => {
            configurations::list(&store, &ctx, component, req)
        }
        ["components", component, "configs"] if m == Method::POST => {
            configurations::writes::create(&store, &ctx, component, req)
        }
        ["components", component, "configs", id] if m == Method::DELETE => {
            configurations::writes::delete(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "restore"] if m == Method::POST => {
            configurations::writes::restore(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "state"] if m == Method::PUT => {
            configurations::writes::set_state(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "versions"] if m == Method::GET => {
            configurations::writes::list_versions(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "versions", v] if m == Method::GET => {
            configurations::writes::get_version(&store, &ctx, component, id, v)
        }
        [
            "components",
            component,
            "configs",
            id,
            "versions",
            v,
            "rollback",
        ] if m == Method::POST => {
            configurations::writes::rollback(&store, &ctx, component, id, v, req)
        }
        [
            "components",
            component,
            "configs",
            id,
            "versions",
            v,
            "create",
        ] if m == Method::POST => {
            configurations::writes::copy_version(&store, &ctx, component, id, v, req)
        }
        ["components", component, "configs", id, "rows"] if m == Method::GET => {
            configurations::writes::list_rows(&store, &ctx, component, id)
        }
        ["components", component, "configs", id, "rows"] if m == Method::POST => {
            configurations::writes::create_row(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "rows", r] if m == Method::GET => {
            configurations::writes::get_row(&store, &ctx, component, id, r)
        }
        ["components", component, "configs", id, "rows", r] if m == Method::PUT => {
            configurations::writes::update_row(&store, &ctx, component, id, r, req)
        }
        ["components", component, "configs", id, "rows", r, "state"] if m == Method::PUT => {
            configurations::writes::set_row_state(&store, &ctx, component, id, r, req)
        }
        ["components", component, "configs", id, "rows", r] if m == Method::DELETE => {
            configurations::writes::delete_row(&store, &ctx, component, id, r, req)
        }
        ["components", component, "configs", id] if m == Method::GET => {
            configurations::get(&store, &ctx, component, id)
        }
        ["components", component, "configs", id] if m == Method::PUT => {
            configurations::update(&store, &ctx, component, id, req)
        }
        ["components", component, "configs", id, "metadata"] if m == Method::GET => {
            configurations::metadata::list(&store, &ctx, component, id)
        }
        ["components", component, "configs", id, "metadata"] if m == Method::POST => {
            configurations::metadata::post(&store, &ctx, component, id, req)
        }
        ["global-search"] if m == Method::GET && branch.is_none() => {
            global_search::search(&store, &ctx, req)
        }
        ["search", "component-configurations"] if m == Method::GET => {
            configurations::metadata::search(&store, &ctx, req)
        }
        ["dev-branches"] if m == Method::GET && branch.is_none() => branches::list(&store, &ctx),
        ["dev-branches", id] if m == Method::GET && branch.is_none() => {
            branches::get(&store, &ctx, id)
        }
        ["dev-branches"] if m == Method::POST && branch.is_none() => {
            branches::create(shared, &store, &ctx, req)
        }
        ["dev-branches", id] if m == Method::DELETE && branch.is_none() => {
            branches::delete(shared, &store, &ctx, id)
        }
        ["events"] if m == Method::POST => events::create(&store, &ctx, req),
        ["events"] if m == Method::GET => events::list(&store, &ctx, req),
        ["buckets"] if m == Method::GET => buckets::list(&store, &ctx, req),
        ["buckets"] if m == Method::POST => buckets::create(&store, &ctx, req),
        ["buckets", id] if m == Method::GET => buckets::get(&store, &ctx, id),
        ["buckets", id] if m == Method::DELETE => buckets::delete(shared, &store, &ctx, id, req),
        ["buckets", id, "metadata"] if m == Method::GET => buckets::metadata_list(&store, &ctx, id),
        ["buckets", id, "metadata"] if m == Method::POST => {
            buckets::metadata_post(&store, &ctx, id, req)
        }
        ["buckets", id, "tables"] if m == Method::GET => tables::list(&store, &ctx, req, Some(id)),
        ["buckets", id, "tables-definition"] if m == Method::POST => {
            tables::create_definition(shared, &store, &ctx, id, req)
        }
        ["buckets", id, "tables-async"] if m == Method::POST && snapshots::is_restore(req) => {
            snapshots::create_table(shared, &store, &ctx, id, req)
        }
        ["buckets", id, "tables-async"] if m == Method::POST => {
            tables::create_async(shared, &store, &ctx, id, req)
        }
        ["tables"] if m == Method::GET => tables::list(&store, &ctx, req, None),
        ["tables", id, "swap"] if m == Method::POST => swap::swap(shared, &store, &ctx, id, req),
        ["tables", id, "snapshots"] if m == Method::POST => {
            snapshots::create(shared, &store, &ctx, id, req)
        }
        ["tables", id, "snapshots"] if m == Method::GET => snapshots::list(&store, &ctx, id, req),
        ["snapshots", id] if m == Method::GET => snapshots::get(&store, &ctx, id),
        ["snapshots", id] if m == Method::DELETE => snapshots::delete(shared, &store, &ctx, id),
        ["tables", id] if m == Method::GET => tables::get(&store, &ctx, id),
        ["tables", id] if m == Method::DELETE => tables::delete(shared, &store, &ctx, id, req),
        ["tables", id, "data-preview"] if m == Method::GET => {
            tables::preview(&store, &ctx, id, req)
        }
        ["tables", id, "import-async"] if m == Method::POST => {
            tables::import(shared, &store, &ctx, id, req)
        }
        ["tables", id, "export-async"] if m == Method::POST => {
            tables::export(shared, &store, &ctx, id, req)
        }
        ["tables", id, "rows"] if m == Method::DELETE => {
            tables::delete_rows(shared, &store, &ctx, id, req)
        }
        ["tables", id, "columns"] if m == Method::POST => {
            tables::add_column(shared, &store, &ctx, id, req)
        }
        ["tables", id, "columns", column] if m == Method::DELETE => {
            tables::delete_column(shared, &store, &ctx, id, column)
        }
        ["tables", id, "metadata"] if m == Method::GET => tables::metadata_list(&store, &ctx, id),
        ["tables", id, "metadata", meta] if m == Method::DELETE => {
            tables::metadata_delete(&store, &ctx, id, meta)
        }
        ["tables", id, "primary-key"] if m == Method::POST => {
            tables::add_primary_key(shared, &store, &ctx, id, req)
        }
        ["tables", id, "primary-key"] if m == Method::DELETE => {
            tables::delete_primary_key(shared, &store, &ctx, id)
        }
        ["buckets", id, "metadata", meta] if m == Method::DELETE => {
            buckets::metadata_delete(&store, &ctx, id, meta)
        }
        ["columns", column, "metadata"] if m == Method::GET => {
            tables::column_metadata_list(&store, &ctx, column)
        }
        ["columns", column, "metadata"] if m == Method::POST => {
            tables::column_metadata_post(&store, &ctx, column, req)
        }
        ["columns", column, "metadata", meta] if m == Method::DELETE => {
            tables::column_metadata_delete(&store, &ctx, column, meta)
        }
        ["tables", id, "metadata"] if m == Method::POST => {
            tables::metadata_post(&store, &ctx, id, req)
        }
        ["jobs"] if m == Method::GET && branch.is_none() => {
            let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
            let limit = param_i64(&query, "limit")?.unwrap_or(100).clamp(1, 1000);
            let offset = param_i64(&query, "offset")?.unwrap_or(0).max(0);
            jobs::list(&store, &ctx, limit.unsigned_abs(), offset.unsigned_abs())
        }
        ["jobs", id] if m == Method::GET && branch.is_none() => jobs::get(&store, &ctx, id),
        ["files", "prepare"] if m == Method::POST => {
            files::prepare(&store, &ctx, store.provider, req)
        }
        ["files"] if m == Method::GET => files::list(&store, &ctx, req),
        ["files", id] if m == Method::GET => files::get(&store, &ctx, id, req),
        ["files", id] if m == Method::DELETE => files::delete(&store, &ctx, id),
        ["files", id, "tags"] if m == Method::POST => files::add_tag(&store, &ctx, id, req),
        ["files", id, "tags", tag] if m == Method::DELETE => {
            files::delete_tag(&store, &ctx, id, tag)
        }
        [
            "tokens" | "components" | "dev-branches" | "events" | "buckets" | "tables" | "jobs"
            | "files" | "columns" | "snapshots" | "workspaces",
            ..,
        ] => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::route_not_found()),
    }
}

pub(crate) struct Ctx<'a> {
    pub base_url: &'a str,
    pub now: Timestamp,
    pub me: &'a StorageToken,
    pub branch_id: u64,
}
