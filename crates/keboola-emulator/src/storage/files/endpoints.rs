//! The endpoints: `files/prepare`, detail, list, delete and tags.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::db;
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json, param_bool, param_i64,
    param_str, param_str_list, parse_form, time,
};
use crate::objects::FileProvider;
use crate::state::Store;
use crate::storage::Ctx;

use super::credentials::{download_params, download_url, region, upload_params};
use super::{
    BUCKET, COLUMNS, File, SEQUENCE, can_see, clean_name, date_path, from_row, insert, not_found,
    random_secret, save_tags, visible,
};

fn tags_param(params: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let list = match params.get("tags") {
        // Form bodies may index tags: tags[0]=a&tags[3]=b.
        Some(Value::Object(map)) => map
            .values()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => {
            return Err(ApiError::bad_request(
                "Invalid request:\n - tags: \"This value should be of type array.\"",
                "storage.validation",
            ));
        }
        _ => param_str_list(params, "tags")?.unwrap_or_default(),
    };
    let mut out: Vec<String> = Vec::new();
    for t in list {
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// `POST /files/prepare`: a file record plus upload credentials for the provider.
pub(crate) fn prepare(
    store: &Store,
    ctx: &Ctx<'_>,
    provider: FileProvider,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request:\n - name: \"This value should not be blank.\"",
            "storage.validation",
        ));
    }
    let is_permanent = param_bool(&params, "isPermanent")?.unwrap_or(false);
    let id = db::next_id(&store.db, SEQUENCE)?;
    let name = clean_name(&name);
    let days = if is_permanent { None } else { Some(15) };
    let file = File {
        id,
        project_id: ctx.me.project_id,
        token_id: ctx.me.id,
        token_description: ctx.me.description.clone(),
        size_bytes: param_i64(&params, "sizeBytes")?.map(i64::unsigned_abs),
        content_type: param_str(&params, "contentType")
            .unwrap_or("application/octet-stream")
            .to_owned(),
        is_sliced: param_bool(&params, "isSliced")?.unwrap_or(false),
        is_permanent,
        is_public: param_bool(&params, "isPublic")?.unwrap_or(false),
        // Azure and GCP always encrypt.
        is_encrypted: provider != FileProvider::Aws
            || param_bool(&params, "isEncrypted")?.unwrap_or(true),
        max_age_days: days,
        tags: tags_param(&params)?,
        created: ctx.now,
        provider,
        bucket: BUCKET.to_owned(),
        key: format!(
            "exp-{}/{}/files/{}/{id}.{name}",
            days.unwrap_or(0),
            ctx.me.project_id,
            date_path(ctx.now)
        ),
        name,
        secret: random_secret(),
    };
    insert(&store.db, &file)?;
    let mut v = render(store, ctx, &file, false)?;
    if let Value::Object(map) = &mut v {
        map.extend(upload_params(ctx, &file));
    }
    Ok(json_response(StatusCode::CREATED, &v))
}

fn render(store: &Store, ctx: &Ctx<'_>, f: &File, federation: bool) -> Result<Value, ApiError> {
    // Until the client says, the size is what was stored.
    let size = match f.size_bytes {
        Some(s) => Some(s),
        None => store
            .blobs
            .meta(&store.db, &f.object_path())?
            .map(|m| m.size),
    };
    let mut v = json!({
        "id": f.id,
        "created": time(f.created),
        "isPublic": f.is_public,
        "isSliced": f.is_sliced,
        "isEncrypted": f.is_encrypted,
        "name": f.name,
        "url": download_url(ctx, f),
        "provider": f.provider.as_str(),
        "region": region(f.provider),
        "sizeBytes": size,
        "tags": f.tags,
        "maxAgeDays": f.max_age_days,
        "runId": null,
        "runIds": [],
        "creatorToken": {"id": f.token_id, "description": f.token_description},
    });
    if federation && let Value::Object(map) = &mut v {
        map.extend(download_params(ctx, f));
    }
    Ok(v)
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let f = visible(store, ctx, id)?;
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let federation = param_bool(&query, "federationToken")?.unwrap_or(false);
    ok_json(&render(store, ctx, &f, federation)?)
}

/// `q`: words match the name; `name:x` and `tags:x` (or `tag:x`) narrow by field.
fn matches_query(f: &File, q: &str) -> bool {
    q.split_whitespace().all(|term| {
        let term = term.trim_matches('"');
        match term.split_once(':') {
            Some(("name", v)) => f.name.contains(v.trim_matches('"')),
            Some(("tags" | "tag", v)) => f.tags.iter().any(|t| t == v.trim_matches('"')),
            Some(("id", v)) => f.id.to_string() == v,
            _ => f.name.contains(term),
        }
    })
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let limit = param_i64(&query, "limit")?.unwrap_or(100).clamp(1, 1000);
    let offset = param_i64(&query, "offset")?.unwrap_or(0).max(0);
    let tags = tags_param(&query)?;
    let since_id = param_i64(&query, "sinceId")?;
    let max_id = param_i64(&query, "maxId")?;
    let q = param_str(&query, "q").unwrap_or("").to_owned();
    let all: Vec<File> = store
        .db
        .prepare(&format!(
            "SELECT {COLUMNS} FROM files WHERE project_id = ?1 ORDER BY id DESC"
        ))?
        .query_map([ctx.me.project_id], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for f in all
        .iter()
        .filter(|f| can_see(ctx, f))
        .filter(|f| tags.is_empty() || f.tags.iter().any(|t| tags.contains(t)))
        .filter(|f| since_id.is_none_or(|s| f.id > s.unsigned_abs()))
        .filter(|f| max_id.is_none_or(|m| f.id <= m.unsigned_abs()))
        .filter(|f| matches_query(f, &q))
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(100))
    {
        out.push(render(store, ctx, f, false)?);
    }
    ok_json(&Value::Array(out))
}

pub(crate) fn delete(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let f = visible(store, ctx, id)?;
    store.blobs.delete_prefix(&store.db, &f.object_path())?;
    store
        .db
        .execute("DELETE FROM files WHERE id = ?1", [f.id])?;
    no_content()
}

pub(crate) fn add_tag(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let mut f = visible(store, ctx, id)?;
    let params = req.params()?;
    let tag = param_str(&params, "tag").unwrap_or("").trim().to_owned();
    if tag.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request:\n - tag: \"This value should not be blank.\"",
            "storage.validation",
        ));
    }
    if !f.tags.contains(&tag) {
        f.tags.push(tag);
        save_tags(&store.db, &f)?;
    }
    no_content()
}

pub(crate) fn delete_tag(store: &Store, ctx: &Ctx<'_>, id: &str, tag: &str) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let mut f = visible(store, ctx, id)?;
    f.tags.retain(|t| t != tag);
    save_tags(&store.db, &f)?;
    no_content()
}
