//! The Query Service (`query.<hostname>`, or `/query/...`): statements submitted for a
//! workspace run for real on its SQLite database (`storage/workspaces/schemas.rs`), one
//! job per submission with a status per statement; results are read page by page or
//! exported as one CSV. Errors use the service's own layout,
//! `{"exception", "error": <status>, "code", "status": "error", "exceptionId"}`.
//!
//! Statements run while the request is served, so a job is already final when its id is
//! answered; clients poll it all the same.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use jiff::Timestamp;
use rand::Rng as _;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::http::{ApiError, ApiRequest, ApiResult, exception_id, json_response, ok_json, time};
use crate::state::{Shared, Store};
use crate::storage::branches;
use crate::storage::tables::quote;
use crate::storage::tokens::{self, StorageToken};
use crate::storage::workspaces::schemas::{self, QueryJob, ResultSet, Statement};
use crate::storage::{Ctx, workspaces};

/// The page size bounds of `results`.
const PAGE_MIN: u64 = 100;
const PAGE_MAX: u64 = 100_000;
const PAGE_DEFAULT: u64 = 500;

fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError {
        status,
        body: json!({
            "exception": message,
            "error": status.as_u16(),
            "code": status.as_u16().to_string(),
            "status": "error",
            "exceptionId": exception_id(),
        }),
        retry_after: None,
    }
}

fn bad_request(message: &str) -> ApiError {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found(message: &str) -> ApiError {
    error(StatusCode::NOT_FOUND, message)
}

/// Storage's authentication, answered in the Query Service's layout.
fn authenticate(store: &Store, req: &ApiRequest, now: Timestamp) -> Result<StorageToken, ApiError> {
    tokens::authenticate(store, req, now).map_err(|e| {
        let message = e
            .body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("Invalid access token")
            .to_owned();
        error(e.status, &message)
    })
}

/// Keeps the status but speaks the service's layout.
fn relayout(e: ApiError) -> ApiError {
    if e.body.get("exception").is_some() {
        return e;
    }
    let message = e
        .body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("Application error.")
        .to_owned();
    error(e.status, &message)
}

pub(crate) fn handle(shared: &Shared, req: &ApiRequest, rest: &[&str]) -> ApiResult {
    let m = &req.method;
    let result = match rest {
        ["api", "v1", "branches", b, "workspaces", w, "queries"] if m == Method::POST => {
            submit(shared, req, b, w)
        }
        ["api", "v1", "queries", job] if m == Method::GET => status(shared, req, job),
        ["api", "v1", "queries", job, "cancel"] if m == Method::POST => cancel(shared, req, job),
        ["api", "v1", "queries", job, statement, "results"] if m == Method::GET => {
            results(shared, req, job, statement)
        }
        ["api", "v1", "queries", job, statement, "export"] if m == Method::GET => {
            export(shared, req, job, statement)
        }
        ["api", "v1", ..] => Err(error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")),
        _ => Err(not_found("Route not found")),
    };
    result.map_err(relayout)
}

fn new_id() -> String {
    let mut rng = rand::rng();
    let hex: String = (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The database's own message, without rusqlite's additions.
fn db_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. }
        | rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::MultipleStatement => {
            "Multiple statements in one query: submit each statement separately.".to_owned()
        }
        other => other.to_string(),
    }
}

fn submit(shared: &Shared, req: &ApiRequest, branch: &str, workspace: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let Ok(branch_id) = branch.parse::<u64>() else {
        return Err(bad_request(&format!(
            "Branch id \"{branch}\" is not valid: give the numeric id of a branch."
        )));
    };
    branches::resolve_branch(&store, me.project_id, Some(branch))
        .map_err(|_| not_found(&format!("Branch \"{branch}\" not found.")))?;
    let ctx = Ctx {
        base_url: &shared.base_url,
        now,
        me: &me,
        branch_id,
    };
    let ws = workspaces::find(&store, &ctx, workspace)
        .map_err(|_| not_found(&format!("Workspace \"{workspace}\" not found.")))?;
    let params = req
        .params()
        .map_err(|_| bad_request("Request body is not valid JSON."))?;
    let statements: Vec<String> = match params.get("statements") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                bad_request("Invalid request: statements: every item must be a string.")
            })?,
        _ => {
            return Err(bad_request(
                "Invalid request: statements: This value should not be blank.",
            ));
        }
    };
    if statements.iter().any(|s| s.trim().is_empty()) {
        return Err(bad_request(
            "Invalid request: statements: a statement is empty.",
        ));
    }
    let transactional = params
        .get("transactional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let job_id = new_id();
    let created = time(now);
    let mut job = QueryJob {
        id: job_id.clone(),
        project_id: me.project_id,
        workspace_id: ws.id,
        status: "processing",
        created: created.clone(),
        statements: statements
            .into_iter()
            .map(|query| Statement {
                id: new_id(),
                query,
                status: "waiting",
                error: None,
                rows_affected: None,
                result: None,
            })
            .collect(),
    };
    let ran = store
        .workspaces
        .with(ws.id, |conn| run_job(conn, &mut job, transactional));
    match ran {
        Some(Ok(())) => {}
        Some(Err(e)) => return Err(error(StatusCode::INTERNAL_SERVER_ERROR, &db_message(&e))),
        None => return Err(not_found(&format!("Workspace \"{workspace}\" not found."))),
    }
    store
        .workspaces
        .jobs
        .borrow_mut()
        .insert(job_id.clone(), job);
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"queryJobId": job_id}),
    ))
}

/// Runs the job's statements in order; the first failure fails the job and leaves the
/// rest `notExecuted` (and, when transactional, undoes the ones before it).
fn run_job(conn: &Connection, job: &mut QueryJob, transactional: bool) -> rusqlite::Result<()> {
    let outer = if transactional {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let mut failed = false;
    for (i, statement) in job.statements.iter_mut().enumerate() {
        if failed {
            statement.status = "notExecuted";
            continue;
        }
        let table = format!("r_{}_{i}", job.id.replace('-', ""));
        let outcome = if transactional {
            run_statement(conn, &table, &statement.query)
        } else {
            let tx = conn.unchecked_transaction()?;
            let outcome = run_statement(&tx, &table, &statement.query);
            if outcome.is_ok() {
                tx.commit()?;
            }
            outcome
        };
        match outcome {
            Ok((result, affected)) => {
                statement.status = "completed";
                statement.rows_affected = affected;
                statement.result = result;
            }
            Err(e) => {
                statement.status = "failed";
                statement.error = Some(db_message(&e));
                failed = true;
            }
        }
    }
    match outer {
        Some(tx) if !failed => tx.commit()?,
        _ => {}
    }
    job.status = if failed { "failed" } else { "completed" };
    Ok(())
}

/// One statement: one that returns rows keeps them in `qs.<table>`.
fn run_statement(
    conn: &Connection,
    table: &str,
    sql: &str,
) -> rusqlite::Result<(Option<ResultSet>, Option<u64>)> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    if n == 0 {
        let affected = stmt.raw_execute()?;
        let changed = (conn.changes() > 0 || affected > 0).then_some(affected as u64);
        return Ok((None, changed.or(Some(0))));
    }
    let names: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    // A column's type is that of its first value that is not NULL.
    let mut types: Vec<&'static str> = vec![""; n];
    // Positional column names: a result may repeat a name (`a.id, b.id`).
    let defs: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    conn.execute_batch(&format!(
        "CREATE TABLE qs.{} ({})",
        quote(table),
        defs.join(", ")
    ))?;
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    let mut insert = conn.prepare(&format!(
        "INSERT INTO qs.{} VALUES ({})",
        quote(table),
        marks.join(", ")
    ))?;
    let mut rows = stmt.query([])?;
    let mut count = 0u64;
    while let Some(r) = rows.next()? {
        let values = (0..n)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (t, v) in types.iter_mut().zip(&values) {
            if t.is_empty() {
                *t = match v {
                    rusqlite::types::Value::Null => "",
                    rusqlite::types::Value::Integer(_) => "INTEGER",
                    rusqlite::types::Value::Real(_) => "REAL",
                    rusqlite::types::Value::Text(_) => "TEXT",
                    rusqlite::types::Value::Blob(_) => "BINARY",
                };
            }
        }
        insert.execute(rusqlite::params_from_iter(values))?;
        count += 1;
    }
    let columns = names
        .into_iter()
        .zip(types)
        .map(|(name, t)| (name, t.to_owned()))
        .collect();
    Ok((
        Some(ResultSet {
            table: table.to_owned(),
            columns,
            rows: count,
        }),
        None,
    ))
}

fn find_job(store: &Store, me: &StorageToken, id: &str) -> Result<QueryJob, ApiError> {
    store
        .workspaces
        .jobs
        .borrow()
        .get(id)
        .filter(|j| j.project_id == me.project_id)
        .cloned()
        .ok_or_else(|| not_found(&format!("Query job \"{id}\" not found.")))
}

fn render_statement(s: &Statement, created: &str) -> Value {
    let mut o = json!({
        "id": s.id,
        "query": s.query,
        "status": s.status,
        "createdAt": created,
    });
    if s.status == "completed" || s.status == "failed" {
        o["executedAt"] = json!(created);
        o["completedAt"] = json!(created);
    }
    if let Some(e) = &s.error {
        o["error"] = json!(e);
    }
    if let Some(n) = s.rows_affected {
        o["rowsAffected"] = json!(n);
    }
    if let Some(r) = &s.result {
        o["numberOfRows"] = json!(r.rows);
    }
    o
}

fn status(shared: &Shared, req: &ApiRequest, id: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let job = find_job(&store, &me, id)?;
    ok_json(&json!({
        "queryJobId": job.id,
        "status": job.status,
        "actorType": "user",
        "createdAt": job.created,
        "changedAt": job.created,
        "statements": job.statements.iter().map(|s| render_statement(s, &job.created)).collect::<Vec<_>>(),
    }))
}

fn cancel(shared: &Shared, req: &ApiRequest, id: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let job = find_job(&store, &me, id)?;
    Err(bad_request(&format!(
        "Query job \"{}\" is already {} and cannot be canceled.",
        job.id, job.status
    )))
}

fn statement_of<'j>(job: &'j QueryJob, id: &str) -> Result<&'j Statement, ApiError> {
    job.statements.iter().find(|s| s.id == id).ok_or_else(|| {
        not_found(&format!(
            "Statement \"{id}\" not found in query job \"{}\".",
            job.id
        ))
    })
}

fn query_u64(req: &ApiRequest, key: &str, default: u64) -> Result<u64, ApiError> {
    match req.query_param(key) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            bad_request(&format!(
                "Invalid request: {key}: must be a non-negative integer."
            ))
        }),
    }
}

fn results(shared: &Shared, req: &ApiRequest, job_id: &str, statement: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let job = find_job(&store, &me, job_id)?;
    let s = statement_of(&job, statement)?;
    let offset = query_u64(req, "offset", 0)?;
    let page = query_u64(req, "pageSize", PAGE_DEFAULT)?;
    if !(PAGE_MIN..=PAGE_MAX).contains(&page) {
        return Err(bad_request(&format!(
            "Invalid request: pageSize: must be between {PAGE_MIN} and {PAGE_MAX}."
        )));
    }
    if s.status != "completed" {
        return Err(bad_request(&format!(
            "Statement \"{}\" is {}: it has no results.",
            s.id, s.status
        )));
    }
    let Some(result) = &s.result else {
        return ok_json(&json!({
            "status": "completed",
            "columns": [],
            "data": [],
            "numberOfRows": 0,
            "rowsAffected": s.rows_affected.unwrap_or(0),
            "message": "Statement executed successfully.",
        }));
    };
    let data = store
        .workspaces
        .with(job.workspace_id, |conn| page_of(conn, result, offset, page))
        .ok_or_else(|| not_found(&format!("Workspace \"{}\" not found.", job.workspace_id)))?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, &db_message(&e)))?;
    ok_json(&json!({
        "status": "completed",
        "columns": result.columns.iter().map(|(name, t)| json!({
            "name": name,
            "type": if t.is_empty() { "TEXT" } else { t.as_str() },
            "nullable": true,
            "length": null,
        })).collect::<Vec<_>>(),
        "data": data,
        "numberOfRows": result.rows,
        "rowsAffected": 0,
        "message": "",
    }))
}

fn page_of(
    conn: &Connection,
    result: &ResultSet,
    offset: u64,
    page: u64,
) -> rusqlite::Result<Vec<Value>> {
    let n = result.columns.len();
    let mut stmt = conn.prepare(&format!(
        "SELECT * FROM qs.{} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        quote(&result.table)
    ))?;
    stmt.query_map([offset, page], |r| {
        (0..n)
            .map(|i| r.get_ref(i).map(schemas::cell))
            .collect::<rusqlite::Result<Vec<Value>>>()
            .map(Value::Array)
    })?
    .collect()
}

/// `GET .../{statement}/export?fileType=csv`: the whole result as one CSV with a header.
fn export(shared: &Shared, req: &ApiRequest, job_id: &str, statement: &str) -> ApiResult {
    let now = shared.now();
    let store = shared.store();
    let me = authenticate(&store, req, now)?;
    let job = find_job(&store, &me, job_id)?;
    let s = statement_of(&job, statement)?;
    match req.query_param("fileType").unwrap_or("csv") {
        "csv" => {}
        other => {
            return Err(bad_request(&format!(
                "File type \"{other}\" is not supported by the emulator: use csv."
            )));
        }
    }
    if matches!(req.query_param("gzip"), Some("true" | "1")) {
        return Err(bad_request(
            "Compressed exports are not supported by the emulator: omit gzip.",
        ));
    }
    let Some(result) = s.result.as_ref().filter(|_| s.status == "completed") else {
        return Err(bad_request(&format!(
            "Statement \"{}\" has no result to export.",
            s.id
        )));
    };
    let bytes = store
        .workspaces
        .with(job.workspace_id, |conn| csv_of(conn, result))
        .ok_or_else(|| not_found(&format!("Workspace \"{}\" not found.", job.workspace_id)))?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, &e))?;
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    Ok(resp)
}

fn csv_of(conn: &Connection, result: &ResultSet) -> Result<Vec<u8>, String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    w.write_record(result.columns.iter().map(|(n, _)| n.as_str()))
        .map_err(|e| fail(&e))?;
    let n = result.columns.len();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT * FROM qs.{} ORDER BY rowid",
            quote(&result.table)
        ))
        .map_err(|e| fail(&e))?;
    let mut rows = stmt.query([]).map_err(|e| fail(&e))?;
    while let Some(r) = rows.next().map_err(|e| fail(&e))? {
        let mut record = Vec::with_capacity(n);
        for i in 0..n {
            let v = r.get_ref(i).map_err(|e| fail(&e))?;
            record.push(match schemas::cell(v) {
                Value::String(s) => s,
                _ => String::new(),
            });
        }
        w.write_record(&record).map_err(|e| fail(&e))?;
    }
    w.into_inner().map_err(|e| fail(&e))
}
