//! Reads: list, detail, preview, and the export of a table to a file.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::http::{ApiRequest, ApiResult, json_response, param_bool, param_str};
use crate::state::{Shared, Store};
use crate::storage::buckets::{self, project_db};
use crate::storage::jobs::{self, NewJob};
use crate::storage::tables::data;
use crate::storage::tables::filter::Selection;
use crate::storage::tables::{self, Include};
use crate::storage::{Ctx, files};

use super::{in_job, query_params, readable, validation};

/// Rows per export slice.
const SLICE_ROWS: usize = 50_000;

pub(crate) fn list(
    store: &Store,
    ctx: &Ctx<'_>,
    req: &ApiRequest,
    bucket: Option<&str>,
) -> ApiResult {
    let conn = project_db(store, ctx.me.project_id)?;
    let include = Include::parse(req.query_param("include"));
    let found = match bucket {
        Some(b) => {
            buckets::readable(conn, ctx.me, b)?;
            tables::of_bucket(conn, b)?
        }
        None => tables::all(conn)?,
    };
    let mut out = Vec::new();
    for t in found {
        if buckets::permission(ctx.me, &t.bucket_id).is_some() {
            out.push(tables::render(conn, &t, ctx, &include)?);
        }
    }
    Ok(json_response(StatusCode::OK, &Value::Array(out)))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let conn = project_db(store, ctx.me.project_id)?;
    Ok(json_response(
        StatusCode::OK,
        &tables::render_detail(conn, &table, ctx)?,
    ))
}

pub(crate) fn preview(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let params = query_params(req);
    let mut selection = Selection::parse(&params, &table, ctx.now)?;
    match selection.limit {
        None => selection.limit = Some(100),
        Some(n) if n > 1000 => {
            return Err(validation(&format!(
                "Invalid request:\n - limit: \"This value should be less than or equal to 1000.\" ({n} given)"
            )));
        }
        Some(_) => {}
    }
    let conn = project_db(store, ctx.me.project_id)?;
    match param_str(&params, "format").unwrap_or("rfc") {
        "json" => Ok(json_response(
            StatusCode::OK,
            &data::preview_json(conn, &table, &selection)?,
        )),
        "rfc" | "raw" | "escaped" => {
            let body = data::preview_csv(conn, &table, &selection)?;
            let mut resp = Response::new(Body::from(body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            Ok(resp)
        }
        other => Err(validation(&format!(
            "Invalid format \"{other}\": allowed are rfc, json"
        ))),
    }
}

/// `POST /tables/{id}/export-async`: a sliced, headerless CSV file.
pub(crate) fn export(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    let table = readable(store, ctx, id)?;
    let params = req.params()?;
    let selection = Selection::parse(&params, &table, ctx.now)?;
    match param_str(&params, "fileType").unwrap_or("csv") {
        "csv" => {}
        other => {
            return Err(validation(&format!(
                "File type \"{other}\" is not supported by the emulator; use csv."
            )));
        }
    }
    let gzip = param_bool(&params, "gzip")?.unwrap_or(false);
    let table_id = table.id.clone();
    let job = NewJob::new(
        "tableExport",
        Some(&table.id),
        json!({"gzip": gzip, "export": Value::Object(params.clone())}),
    );
    jobs::start(
        shared,
        store,
        ctx,
        &job,
        Box::new(move |store, ctx| {
            let table = in_job(store, ctx, &table_id)?;
            let conn = project_db(store, ctx.me.project_id)?;
            let slices = data::export_slices(conn, &table, &selection, SLICE_ROWS)?;
            let name = if gzip {
                format!("{}.csv.gz", table.id)
            } else {
                format!("{}.csv", table.id)
            };
            let file_id = files::create_export(store, ctx, &table, &name, slices, gzip)?;
            Ok(json!({"file": {"id": file_id}, "cacheHit": false}))
        }),
    )
}
