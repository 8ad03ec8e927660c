//! Creating and deleting development branches: both answer 202 with a Storage job
//! (`devBranchCreate`, `devBranchDelete`); the branch appears, or goes, when the job ends.

use rusqlite::{Connection, OptionalExtension as _};
use serde_json::{Value, json};

use super::{Branch, branch_not_found, by_id, copy, of_project, render, save};
use crate::db;
use crate::http::{ApiError, ApiRequest, ApiResult, param_str};
use crate::manage::projects::Role;
use crate::state::{Shared, Store};
use crate::storage::Ctx;
use crate::storage::jobs::{self, JobError, NewJob};

/// The id sequence of branches; it continues after the seeded ones and never reuses the id
/// of a deleted branch.
const SEQUENCE: &str = "branches";

/// Creating and deleting branches takes an admin's token, or one minted with
/// `canManageDevBranches`; other tokens may only list and read them.
fn require_branch_admin(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let admin = ctx.me.is_master() && ctx.me.role() != Some(Role::ReadOnly);
    if admin || ctx.me.can_manage_dev_branches {
        Ok(())
    } else {
        Err(ApiError::access_denied())
    }
}

fn duplicate_name(name: &str) -> ApiError {
    ApiError::bad_request(
        &format!("There already is a branch with name \"{name}\""),
        "devBranch.duplicateName",
    )
}

fn name_taken(conn: &Connection, project_id: u64, name: &str) -> rusqlite::Result<bool> {
    Ok(of_project(conn, project_id)?.iter().any(|b| b.name == name))
}

fn next_id(conn: &Connection) -> rusqlite::Result<u64> {
    let started: Option<u64> = conn
        .query_row(
            "SELECT next FROM sequences WHERE name = ?1",
            [SEQUENCE],
            |r| r.get(0),
        )
        .optional()?;
    if started.is_none() {
        let max: u64 = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM branches", [], |r| {
            r.get(0)
        })?;
        db::set_next_id(conn, SEQUENCE, max + 1)?;
    }
    db::next_id(conn, SEQUENCE)
}

/// `POST /dev-branches {name, description?}`.
pub(crate) fn create(shared: &Shared, store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    require_branch_admin(ctx)?;
    let params = req.params()?;
    let name = param_str(&params, "name").map(str::trim).unwrap_or("");
    if name.is_empty() {
        // UNCERTAIN: Keboola's code for a missing name.
        return Err(ApiError::bad_request(
            "Branch name cannot be empty.",
            "storage.devBranches.validation",
        ));
    }
    let name = name.to_owned();
    let description = param_str(&params, "description").unwrap_or("").to_owned();
    if name_taken(&store.db, ctx.me.project_id, &name)? {
        return Err(duplicate_name(&name));
    }
    let job = NewJob::new(
        "devBranchCreate",
        None,
        json!({"values": {"name": name, "description": description}, "queue": "main"}),
    );
    let work = move |store: &Store, ctx: &Ctx<'_>| -> Result<Value, JobError> {
        let project_id = ctx.me.project_id;
        // Another job may have taken the name since the request was accepted.
        if name_taken(&store.db, project_id, &name)? {
            return Err(duplicate_name(&name).into());
        }
        let main = super::default_of(store, project_id)?;
        let tx = store.db.unchecked_transaction()?;
        let branch = Branch {
            id: next_id(&tx)?,
            project_id,
            name,
            description,
            is_default: false,
            created: ctx.now,
            creator: Some(ctx.me.creator()),
        };
        save(&tx, &branch)?;
        copy::configurations(&tx, main.id, branch.id)?;
        tx.commit()?;
        Ok(render(&branch, store)?)
    };
    jobs::start(shared, store, ctx, &job, Box::new(work))
}

/// `DELETE /dev-branches/{id}`: the default branch cannot be deleted.
pub(crate) fn delete(shared: &Shared, store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    require_branch_admin(ctx)?;
    let found = match id.parse::<u64>() {
        Ok(n) => by_id(&store.db, ctx.me.project_id, n)?,
        Err(_) => None,
    };
    let branch = found.ok_or_else(|| branch_not_found(id))?;
    if branch.is_default {
        // UNCERTAIN: the error code; the message is Keboola's.
        return Err(ApiError::bad_request(
            "Cannot delete Main branch",
            "storage.devBranches.cannotDeleteDefault",
        ));
    }
    let job = NewJob::new(
        "devBranchDelete",
        None,
        json!({"values": {"id": branch.id}}),
    );
    let branch_id = branch.id;
    let work = move |store: &Store, ctx: &Ctx<'_>| -> Result<Value, JobError> {
        if by_id(&store.db, ctx.me.project_id, branch_id)?.is_none() {
            return Err(branch_not_found(&branch_id.to_string()).into());
        }
        let tx = store.db.unchecked_transaction()?;
        copy::drop_branch_data(&tx, branch_id)?;
        tx.execute("DELETE FROM branches WHERE id = ?1", [branch_id])?;
        tx.commit()?;
        Ok(Value::Null)
    };
    jobs::start(shared, store, ctx, &job, Box::new(work))
}
