//! Table swap and snapshots over HTTP: data, columns and keys move; ids stay.

use serde_json::json;

use crate::common::{Client, start};
use crate::storage_util::{job_results, wait_job};

const CUSTOMERS: &str = "/v2/storage/tables/in.c-crm.customers";
const BUDGET: &str = "/v2/storage/tables/in.c-budget.budget_lines";

fn preview_first(c: &Client, t: &str, path: &str) -> String {
    let resp = c.get(&format!("{path}/data-preview?limit=1"), t);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.text
}

#[test]
fn swap_exchanges_data_columns_and_keys_but_not_ids() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let before_a = c.get(CUSTOMERS, t).json();
    let before_b = c.get(BUDGET, t).json();
    let rows_a = preview_first(&c, t, CUSTOMERS);
    let rows_b = preview_first(&c, t, BUDGET);

    let swap = c.post_json(
        &format!("{CUSTOMERS}/swap"),
        t,
        &json!({"targetTableId": "in.c-budget.budget_lines"}),
    );
    assert_eq!(swap.json()["operationName"], "tableSwap");
    assert_eq!(swap.json()["tableId"], "in.c-crm.customers");
    let results = job_results(&c, t, &swap);
    assert_eq!(results["tableAStringId"], "in.c-crm.customers");

    let after_a = c.get(CUSTOMERS, t).json();
    let after_b = c.get(BUDGET, t).json();
    assert_eq!(after_a["id"], "in.c-crm.customers");
    assert_eq!(after_a["bucket"]["id"], "in.c-crm");
    assert_eq!(after_b["id"], "in.c-budget.budget_lines");
    for key in ["columns", "primaryKey", "rowsCount", "isTyped"] {
        assert_eq!(after_a[key], before_b[key], "{key}");
        assert_eq!(after_b[key], before_a[key], "{key}");
    }
    // Column metadata (the types of the typed table) moved with the columns.
    assert_eq!(after_b["columnMetadata"], before_a["columnMetadata"]);
    assert_eq!(preview_first(&c, t, CUSTOMERS), rows_b);
    assert_eq!(preview_first(&c, t, BUDGET), rows_a);

    // Swapping back restores both.
    let back = c.post_json(
        &format!("{BUDGET}/swap"),
        t,
        &json!({"targetTableId": "in.c-crm.customers"}),
    );
    job_results(&c, t, &back);
    assert_eq!(c.get(CUSTOMERS, t).json()["columns"], before_a["columns"]);
    assert_eq!(preview_first(&c, t, CUSTOMERS), rows_a);
}

#[test]
fn swap_refuses_bad_targets_and_read_only_tokens() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let t = &p.tokens.admin;
    let missing = c.post_json(&format!("{CUSTOMERS}/swap"), t, &json!({}));
    assert_eq!(missing.status, 400, "{}", missing.text);
    assert_eq!(missing.json()["code"], "storage.tables.validation");
    let itself = c.post_json(
        &format!("{CUSTOMERS}/swap"),
        t,
        &json!({"targetTableId": "in.c-crm.customers"}),
    );
    assert_eq!(itself.status, 400, "{}", itself.text);
    let unknown = c.post_json(
        &format!("{CUSTOMERS}/swap"),
        t,
        &json!({"targetTableId": "in.c-crm.nope"}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(unknown.json()["code"], "storage.tables.notFound");
    let read_only = c.post_json(
        &format!("{CUSTOMERS}/swap"),
        &p.tokens.read_only,
        &json!({"targetTableId": "in.c-budget.budget_lines"}),
    );
    assert_eq!(read_only.status, 403, "{}", read_only.text);
}

#[test]
fn snapshots_keep_data_and_restore_into_new_tables() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let original = c.get(CUSTOMERS, t).json();
    let first_rows = preview_first(&c, t, CUSTOMERS);

    let create = c.post_json(
        &format!("{CUSTOMERS}/snapshots"),
        t,
        &json!({"description": "before cleanup"}),
    );
    assert_eq!(create.json()["operationName"], "tableSnapshotCreate");
    let id = job_results(&c, t, &create)["id"]
        .as_u64()
        .expect("snapshot id");
    let second = c.post_json(&format!("{CUSTOMERS}/snapshots"), t, &json!({}));
    let id2 = job_results(&c, t, &second)["id"].as_u64().unwrap();
    assert_ne!(id, id2);

    let detail = c.get(&format!("/v2/storage/snapshots/{id}"), t);
    assert_eq!(detail.status, 200, "{}", detail.text);
    let detail = detail.json();
    assert_eq!(detail["description"], "before cleanup");
    assert_eq!(detail["table"]["id"], "in.c-crm.customers");
    assert_eq!(detail["table"]["columns"], original["columns"]);
    assert_eq!(detail["table"]["primaryKey"], json!(["id"]));
    assert!(detail["createdTime"].is_string());
    assert_eq!(detail["creatorToken"]["description"], "ada@example.com");

    let list = c.get(&format!("{CUSTOMERS}/snapshots"), t).json();
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![id2, id], "newest first");
    let limited = c.get(&format!("{CUSTOMERS}/snapshots?limit=1"), t).json();
    assert_eq!(limited.as_array().unwrap().len(), 1);

    // The table changes; the snapshot does not.
    let truncate = c.send_json(
        "DELETE",
        &format!("{CUSTOMERS}/rows"),
        t,
        &json!({"allowTruncate": true}),
    );
    job_results(&c, t, &truncate);
    assert_eq!(c.get(CUSTOMERS, t).json()["rowsCount"], 0);

    let restore = c.post_json(
        "/v2/storage/buckets/out.c-reports/tables-async",
        t,
        &json!({"snapshotId": id.to_string(), "name": "customers_restored"}),
    );
    assert_eq!(restore.json()["operationName"], "tableCreate");
    let table = job_results(&c, t, &restore);
    assert_eq!(table["id"], "out.c-reports.customers_restored");
    assert_eq!(table["columns"], original["columns"]);
    assert_eq!(table["primaryKey"], json!(["id"]));
    assert_eq!(table["rowsCount"], original["rowsCount"]);
    assert_eq!(table["isTyped"], true);
    assert_eq!(
        preview_first(&c, t, "/v2/storage/tables/out.c-reports.customers_restored"),
        first_rows
    );

    // The name is taken now.
    let again = c.post_json(
        "/v2/storage/buckets/out.c-reports/tables-async",
        t,
        &json!({"snapshotId": id, "name": "customers_restored"}),
    );
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(again.json()["code"], "storage.buckets.tableAlreadyExists");

    let delete = c.delete(&format!("/v2/storage/snapshots/{id}"), t);
    assert_eq!(wait_job(&c, t, &delete)["status"], "success");
    let gone = c.get(&format!("/v2/storage/snapshots/{id}"), t);
    assert_eq!(gone.status, 404, "{}", gone.text);
    assert_eq!(gone.json()["code"], "storage.tables.snapshotNotFound");
    let left = c.get(&format!("{CUSTOMERS}/snapshots"), t).json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    let restore_gone = c.post_json(
        "/v2/storage/buckets/out.c-reports/tables-async",
        t,
        &json!({"snapshotId": id, "name": "other"}),
    );
    assert_eq!(restore_gone.status, 404, "{}", restore_gone.text);
}

#[test]
fn reset_drops_snapshots() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let create = c.post_json(&format!("{CUSTOMERS}/snapshots"), t, &json!({}));
    let id = job_results(&c, t, &create)["id"].as_u64().unwrap();
    assert_eq!(c.get(&format!("/v2/storage/snapshots/{id}"), t).status, 200);
    emu.reset();
    assert_eq!(c.get(&format!("/v2/storage/snapshots/{id}"), t).status, 404);
    assert_eq!(
        c.get(&format!("{CUSTOMERS}/snapshots"), t).json(),
        json!([])
    );
}
