//! Workspaces: `POST /v2/storage/branch/{b}/components/{c}/configs/{k}/workspaces`, list,
//! detail, `load` (an async storage job), password reset and delete, plus the
//! `keboola.sandboxes` configurations created around them.
//!
//! The workspace row lives in the metadata database; its data is a database of its own
//! (`schemas.rs`) where loaded tables are real tables and the Query Service runs
//! statements. The password is generated on create and on reset, answered once and never
//! stored.

pub(crate) mod schemas;

use axum::http::StatusCode;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use crate::db::{self, from_sql, to_sql};
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json, param_bool, param_str,
    time,
};
use crate::manage::projects::Role;
use crate::queue::sql::affinity;
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::configurations;
use crate::storage::jobs::{self, JobError, NewJob};
use crate::storage::tables::{self, Selection, Table, quote};
use crate::storage::tokens::{Creator, creator};

pub(crate) use schemas::Schemas;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    branch_id INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    login_type TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    creator_description TEXT NOT NULL,
    created INTEGER NOT NULL
);";

const SEQUENCE: &str = "workspaces";
/// Workspace ids are large numbers, unrelated to configuration ids.
const ID_BASE: u64 = 10_000_000;
/// Not a host anyone can reach: the workspace is a database inside the emulator.
const HOST: &str = "snowflake.keboola-emulator.invalid";

#[derive(Clone, Debug)]
pub(crate) struct Workspace {
    pub id: u64,
    pub project_id: u64,
    pub branch_id: u64,
    pub component_id: String,
    pub config_id: String,
    pub backend: String,
    pub login_type: String,
    pub read_only: bool,
    pub creator: Creator,
    pub created: Timestamp,
}

const COLUMNS: &str = "id, project_id, branch_id, component_id, config_id, backend, login_type,
    read_only, creator_id, creator_description, created";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        project_id: r.get(1)?,
        branch_id: r.get(2)?,
        component_id: r.get(3)?,
        config_id: r.get(4)?,
        backend: r.get(5)?,
        login_type: r.get(6)?,
        read_only: r.get(7)?,
        creator: Creator {
            id: r.get(8)?,
            description: r.get(9)?,
        },
        created: from_sql(r.get(10)?),
    })
}

fn save(conn: &Connection, w: &Workspace) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO workspaces ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            w.id,
            w.project_id,
            w.branch_id,
            w.component_id,
            w.config_id,
            w.backend,
            w.login_type,
            w.read_only,
            w.creator.id,
            w.creator.description,
            to_sql(w.created)
        ],
    )?;
    Ok(())
}

/// A workspace of the token's project on the request's branch.
pub(crate) fn find(store: &Store, ctx: &Ctx<'_>, id: &str) -> Result<Workspace, ApiError> {
    let found = match id.parse::<u64>() {
        Ok(n) => store
            .db
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM workspaces WHERE id = ?1 AND project_id = ?2 AND branch_id = ?3"
                ),
                params![n, ctx.me.project_id, ctx.branch_id],
                from_row,
            )
            .optional()?,
        Err(_) => None,
    };
    found.ok_or_else(|| {
        ApiError::not_found(
            &format!("Workspace \"{id}\" not found."),
            "workspace.workspaceNotFound",
        )
    })
}

fn of_branch(
    store: &Store,
    ctx: &Ctx<'_>,
    config: Option<(&str, &str)>,
) -> rusqlite::Result<Vec<Workspace>> {
    let (component, config_id) = config.unzip();
    store
        .db
        .prepare(&format!(
            "SELECT {COLUMNS} FROM workspaces WHERE project_id = ?1 AND branch_id = ?2
               AND (?3 IS NULL OR component_id = ?3) AND (?4 IS NULL OR config_id = ?4)
             ORDER BY id"
        ))?
        .query_map(
            params![ctx.me.project_id, ctx.branch_id, component, config_id],
            from_row,
        )?
        .collect()
}

/// Key-pair and SSO logins have no password.
fn is_keypair(login_type: &str) -> bool {
    login_type.ends_with("-keypair") || login_type == "snowflake-person-sso"
}

fn render(w: &Workspace, password: Option<&str>) -> Value {
    let mut connection = json!({
        "backend": w.backend,
        "host": HOST,
        "region": "emulator",
        "database": format!("KEBOOLA_{}", w.project_id),
        "schema": format!("WORKSPACE_{}", w.id),
        "warehouse": "KEBOOLA_PROD",
        "user": format!("KEBOOLA_WORKSPACE_{}", w.id),
        "loginType": w.login_type,
    });
    if let Some(p) = password {
        connection["password"] = json!(p);
    }
    json!({
        "id": w.id,
        "name": format!("WORKSPACE_{}", w.id),
        "type": "table",
        "component": w.component_id,
        "configurationId": w.config_id,
        "created": time(w.created),
        "backendSize": null,
        "statementTimeoutSeconds": 7200,
        "creatorToken": creator(&w.creator),
        "readOnlyStorageAccess": w.read_only,
        "platformUsageType": "standard",
        "ssoLoginAvailable": false,
        "connection": connection,
    })
}

fn new_password() -> String {
    crate::crypto::random_alnum(&mut rand::rng(), 32)
}

fn require_write(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.me.role() == Some(Role::ReadOnly) {
        return Err(ApiError::access_denied());
    }
    Ok(())
}

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request(message, "storage.workspaces.validation")
}

/// `POST .../components/{c}/configs/{k}/workspaces` (synchronous: 201 with the workspace).
pub(crate) fn create(
    store: &Store,
    ctx: &Ctx<'_>,
    component: &str,
    config_id: &str,
    req: &ApiRequest,
) -> ApiResult {
    configurations::require_config_write(ctx, component)?;
    if configurations::find(&store.db, ctx.branch_id, component, config_id)?.is_none() {
        return Err(configurations::config_not_found(config_id));
    }
    let params = req.params()?;
    let backend = param_str(&params, "backend")
        .unwrap_or("snowflake")
        .to_owned();
    if !matches!(backend.as_str(), "snowflake" | "bigquery") {
        return Err(invalid(&format!(
            "Backend \"{backend}\" is not supported for workspaces: use snowflake or bigquery."
        )));
    }
    let login_type = match param_str(&params, "loginType") {
        None | Some("" | "default") if backend == "snowflake" => "snowflake-legacy-service",
        None | Some("") => "default",
        Some(t) => t,
    }
    .to_owned();
    if is_keypair(&login_type)
        && login_type != "snowflake-person-sso"
        && param_str(&params, "publicKey").is_none_or(str::is_empty)
    {
        return Err(invalid(&format!(
            "Login type \"{login_type}\" needs a \"publicKey\"."
        )));
    }
    let read_only = param_bool(&params, "readOnlyStorageAccess")?.unwrap_or(false);
    let tx = store.db.unchecked_transaction()?;
    let w = Workspace {
        id: ID_BASE + db::next_id(&tx, SEQUENCE)?,
        project_id: ctx.me.project_id,
        branch_id: ctx.branch_id,
        component_id: component.to_owned(),
        config_id: config_id.to_owned(),
        backend,
        login_type,
        read_only,
        creator: ctx.me.creator(),
        created: ctx.now,
    };
    save(&tx, &w)?;
    store.workspaces.create(w.id)?;
    tx.commit()?;
    let password = (!is_keypair(&w.login_type)).then(new_password);
    Ok(json_response(
        StatusCode::CREATED,
        &render(&w, password.as_deref()),
    ))
}

/// `GET .../workspaces` and `GET .../components/{c}/configs/{k}/workspaces`.
pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, config: Option<(&str, &str)>) -> ApiResult {
    ok_json(&Value::Array(
        of_branch(store, ctx, config)?
            .iter()
            .map(|w| render(w, None))
            .collect(),
    ))
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    ok_json(&render(&find(store, ctx, id)?, None))
}

pub(crate) fn delete(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    require_write(ctx)?;
    let w = find(store, ctx, id)?;
    store
        .db
        .execute("DELETE FROM workspaces WHERE id = ?1", [w.id])?;
    store.workspaces.drop_workspace(w.id);
    no_content()
}

/// `POST .../workspaces/{id}/password`: a new password, shown once.
pub(crate) fn reset_password(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    require_write(ctx)?;
    let w = find(store, ctx, id)?;
    if is_keypair(&w.login_type) {
        return Err(ApiError::bad_request(
            &format!(
                "Password reset is not supported for workspaces with login type \"{}\".",
                w.login_type
            ),
            "workspace.resetPasswordNotSupported",
        ));
    }
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"password": new_password()}),
    ))
}

/// One item of a load's `input`, checked against its table.
struct Input {
    source: String,
    destination: String,
    selection: Selection,
    overwrite: bool,
}

/// `columns` as names: Keboola takes strings or `{source, type, ...}` objects.
fn column_names(value: &Value) -> Option<Value> {
    let items = value.as_array()?;
    Some(Value::Array(
        items
            .iter()
            .filter_map(|c| match c {
                Value::String(s) => Some(json!(s)),
                Value::Object(o) => o.get("source").cloned(),
                _ => None,
            })
            .collect(),
    ))
}

fn parse_input(
    store: &Store,
    ctx: &Ctx<'_>,
    item: &Value,
    index: usize,
) -> Result<Input, ApiError> {
    let Value::Object(o) = item else {
        return Err(invalid(&format!("input[{index}] must be an object")));
    };
    let source = param_str(o, "source").unwrap_or("").to_owned();
    if source.is_empty() {
        return Err(invalid(&format!(
            "Invalid request:\n - input[{index}][source]: \"This field is missing.\""
        )));
    }
    let table: Table = tables::readable(store, ctx, &source)?;
    let destination = match param_str(o, "destination") {
        Some(d) if !d.is_empty() => d.to_owned(),
        _ => table.name.clone(),
    };
    let load_type = param_str(o, "loadType")
        .unwrap_or("COPY")
        .to_ascii_uppercase();
    if !matches!(load_type.as_str(), "COPY" | "CLONE" | "VIEW" | "AUTO") {
        return Err(invalid(&format!(
            "Invalid load type \"{load_type}\": allowed are COPY, CLONE, VIEW, AUTO"
        )));
    }
    let mut params: Map<String, Value> = o.clone();
    if load_type == "CLONE" {
        let extra: Vec<&String> = params
            .keys()
            .filter(|k| {
                !matches!(
                    k.as_str(),
                    "source" | "destination" | "overwrite" | "dropTimestampColumn" | "loadType"
                )
            })
            .collect();
        if let Some(k) = extra.first() {
            return Err(invalid(&format!(
                "Option \"{k}\" is not supported when loading a table as CLONE."
            )));
        }
    }
    if let Some(c) = params.get("columns").and_then(column_names) {
        params.insert("columns".into(), c);
    }
    if let Some(rows) = params.remove("rows") {
        params.insert("limit".into(), rows);
    }
    let selection = Selection::parse(&params, &table, ctx.now)?;
    Ok(Input {
        source,
        destination,
        selection,
        overwrite: param_bool(o, "overwrite")?.unwrap_or(false),
    })
}

/// `POST .../workspaces/{id}/load`: `{input: [...], preserve}`, run as a `workspaceLoad`
/// storage job.
pub(crate) fn load(
    shared: &Shared,
    store: &Store,
    ctx: &Ctx<'_>,
    id: &str,
    req: &ApiRequest,
) -> ApiResult {
    require_write(ctx)?;
    let w = find(store, ctx, id)?;
    let params = req.params()?;
    let items: Vec<Value> = match params.get("input") {
        Some(Value::Array(a)) => a.clone(),
        // A form body: input[0][source]=...
        Some(Value::Object(m)) => m.values().cloned().collect(),
        _ => {
            return Err(invalid(
                "Invalid request:\n - input: \"This field is missing.\"",
            ));
        }
    };
    let inputs = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_input(store, ctx, item, i))
        .collect::<Result<Vec<_>, _>>()?;
    let preserve = param_bool(&params, "preserve")?.unwrap_or(false);
    let workspace_id = w.id;
    jobs::start(
        shared,
        store,
        ctx,
        &NewJob::new("workspaceLoad", None, Value::Object(params)),
        Box::new(move |store, ctx| {
            let project = store
                .project_db(ctx.me.project_id)
                .ok_or_else(|| JobError::internal(&"no project database"))?;
            store
                .workspaces
                .with(workspace_id, |ws| load_into(project, ws, &inputs, preserve))
                .unwrap_or_else(|| {
                    Err(JobError::new(
                        "workspace.workspaceNotFound",
                        &format!("Workspace \"{workspace_id}\" not found."),
                    ))
                })
        }),
    )
}

fn load_into(
    project: &Connection,
    ws: &Connection,
    inputs: &[Input],
    preserve: bool,
) -> Result<Value, JobError> {
    let db_error = |e: rusqlite::Error| JobError::internal(&e);
    let tx = ws.unchecked_transaction().map_err(db_error)?;
    if !preserve {
        for name in schemas::table_names(&tx).map_err(db_error)? {
            tx.execute_batch(&format!("DROP TABLE main.{}", quote(&name)))
                .map_err(db_error)?;
        }
    }
    let mut loaded = Vec::new();
    for input in inputs {
        let table = tables::by_id(project, &input.source)
            .map_err(db_error)?
            .ok_or_else(|| JobError::from(tables::not_found(&input.source)))?;
        let exists = schemas::table_names(&tx)
            .map_err(db_error)?
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&input.destination));
        if exists && !input.overwrite {
            return Err(JobError::new(
                "workspace.tableAlreadyExists",
                &format!(
                    "Table \"{}\" already exists in the workspace: load with \"overwrite\" or without \"preserve\".",
                    input.destination
                ),
            ));
        }
        if exists {
            tx.execute_batch(&format!("DROP TABLE main.{}", quote(&input.destination)))
                .map_err(db_error)?;
        }
        let columns = input.selection.output_columns(&table);
        let defs: Vec<String> = columns
            .iter()
            .map(|c| format!("{} {}", quote(c), affinity(&table, c)))
            .collect();
        tx.execute_batch(&format!(
            "CREATE TABLE main.{} ({})",
            quote(&input.destination),
            defs.join(", ")
        ))
        .map_err(db_error)?;
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO main.{} VALUES ({})",
                quote(&input.destination),
                marks.join(", ")
            ))
            .map_err(db_error)?;
        let typed: Vec<bool> = columns
            .iter()
            .map(|c| affinity(&table, c) != "TEXT")
            .collect();
        let mut rows = 0u64;
        tables::select(project, &table, &input.selection, &mut |values| {
            // An empty value of a typed column is NULL, as in a typed table.
            let cells: Vec<Option<&str>> = values
                .iter()
                .zip(&typed)
                .map(|(v, &t)| (!(t && v.is_empty())).then_some(v.as_str()))
                .collect();
            insert.execute(rusqlite::params_from_iter(cells))?;
            rows += 1;
            Ok::<(), rusqlite::Error>(())
        })
        .map_err(db_error)?;
        drop(insert);
        loaded
            .push(json!({"source": input.source, "destination": input.destination, "rows": rows}));
    }
    tx.commit().map_err(db_error)?;
    Ok(json!({"tables": loaded}))
}
