//! Table swap and snapshots end to end on the emulator: what moves, what stays, and the
//! confirmation rules of the destructive verbs.

use serde_json::{Value, json};

use crate::common::*;

fn env() -> TestEnv {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    env
}

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (out, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {out:?}");
    out.data().clone()
}

fn table(env: &TestEnv, id: &str) -> Value {
    ok(
        env,
        &[
            "storage",
            "table-detail",
            "--project",
            "p",
            "--table-id",
            id,
        ],
    )
    .clone()
}

#[test]
fn swap_tables_exchanges_columns_and_rows_after_confirmation() {
    let env = env();
    let a = "in.c-crm.customers";
    let b = "in.c-budget.budget_lines";
    let before_a = table(&env, a);
    let before_b = table(&env, b);

    let args = [
        "storage",
        "swap-tables",
        "--project",
        "p",
        "--table-id",
        a,
        "--target-table-id",
        b,
    ];
    // Off a terminal without --yes: refused, nothing changed.
    let (out, code) = env.json(&args);
    assert_eq!(code, 2, "{out:?}");
    assert_eq!(out.err().code, "USAGE_ERROR");
    assert_eq!(table(&env, a)["columns"], before_a["columns"]);

    let dry = ok(&env, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["table_id"], a);
    assert_eq!(dry["target_table_id"], b);
    assert!(dry.get("response").is_none());
    assert_eq!(table(&env, a)["columns"], before_a["columns"]);

    let done = ok(&env, &[&args[..], &["--yes"]].concat());
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["response"]["status"], "success");
    assert_eq!(done["response"]["operationName"], "tableSwap");
    // Keboola serves swap under a branch id: the default branch's is named.
    assert!(done["branch_id"].is_string(), "{done}");
    let after_a = table(&env, a);
    let after_b = table(&env, b);
    assert_eq!(after_a["table_id"], a);
    assert_eq!(after_a["columns"], before_b["columns"]);
    assert_eq!(after_a["rows_count"], before_b["rows_count"]);
    assert_eq!(after_b["columns"], before_a["columns"]);
    assert_eq!(after_b["primary_key"], before_a["primary_key"]);

    let human = env.run(&[&args[..], &["--yes"]].concat());
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert_eq!(human.stdout, format!("Swapped {a} with {b}\n"));
    assert_eq!(table(&env, a)["columns"], before_a["columns"]);
}

#[test]
fn swap_tables_refuses_one_table_and_unknown_tables() {
    let env = env();
    let t = "in.c-crm.customers";
    let (out, code) = env.json(&[
        "storage",
        "swap-tables",
        "--project",
        "p",
        "--table-id",
        t,
        "--target-table-id",
        t,
        "--yes",
    ]);
    assert_eq!((code, out.err().code.as_str()), (2, "INVALID_ARGUMENT"));
    let (out, code) = env.json(&[
        "storage",
        "swap-tables",
        "--project",
        "p",
        "--table-id",
        t,
        "--target-table-id",
        "in.c-crm.nope",
        "--yes",
    ]);
    assert_eq!((code, out.err().code.as_str()), (1, "NOT_FOUND"), "{out:?}");
    assert!(out.err().message.contains("in.c-crm.nope"), "{out:?}");
}

#[test]
fn snapshot_lifecycle_create_list_detail_restore_delete() {
    let env = env();
    let t = "in.c-crm.customers";
    let original = table(&env, t);

    let created = ok(
        &env,
        &[
            "storage",
            "snapshot-create",
            "--project",
            "p",
            "--table-id",
            t,
            "--description",
            "before cleanup",
        ],
    );
    assert_eq!(created["table_id"], t);
    assert_eq!(created["description"], "before cleanup");
    let id = created["snapshot_id"]
        .as_u64()
        .expect("numeric snapshot id");
    let id_s = id.to_string();
    let second = ok(
        &env,
        &[
            "storage",
            "snapshot-create",
            "--project",
            "p",
            "--table-id",
            t,
        ],
    );
    let id2 = second["snapshot_id"].as_u64().unwrap();

    let list = ok(
        &env,
        &["storage", "snapshots", "--project", "p", "--table-id", t],
    );
    assert_eq!(list["count"], 2);
    assert_eq!(list["snapshots"][0]["id"], json!(id2), "newest first");
    assert_eq!(list["snapshots"][1]["description"], "before cleanup");
    let one = ok(
        &env,
        &[
            "storage",
            "snapshots",
            "--project",
            "p",
            "--table-id",
            t,
            "--limit",
            "1",
        ],
    );
    assert_eq!(one["count"], 1);

    let detail = ok(
        &env,
        &[
            "storage",
            "snapshot-detail",
            "--project",
            "p",
            "--snapshot-id",
            &id_s,
        ],
    );
    assert_eq!(detail["snapshot"]["table"]["id"], t);
    assert_eq!(detail["snapshot"]["table"]["columns"], original["columns"]);
    assert_eq!(
        detail["snapshot"]["table"]["primaryKey"],
        original["primary_key"]
    );

    // Empty the table; the restore brings the rows back into a new table.
    ok(
        &env,
        &[
            "storage",
            "truncate-table",
            "--project",
            "p",
            "--table-id",
            t,
            "--yes",
        ],
    );
    let restore = [
        "storage",
        "table-from-snapshot",
        "--project",
        "p",
        "--snapshot-id",
        &id_s,
        "--bucket-id",
        "out.c-reports",
        "--name",
        "customers_back",
    ];
    let dry = ok(&env, &[&restore[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert!(dry.get("table").is_none());
    let restored = ok(&env, &restore);
    assert_eq!(restored["table_id"], "out.c-reports.customers_back");
    assert_eq!(restored["table"]["rowsCount"], original["rows_count"]);
    assert_eq!(restored["table"]["columns"], original["columns"]);
    assert_eq!(
        table(&env, "out.c-reports.customers_back")["primary_key"],
        json!(["id"])
    );

    let (out, code) = env.json(&[
        "storage",
        "table-from-snapshot",
        "--project",
        "p",
        "--snapshot-id",
        &id_s,
        "--bucket-id",
        "out.c-nope",
        "--name",
        "x",
    ]);
    assert_eq!((code, out.err().code.as_str()), (1, "NOT_FOUND"));
    assert!(out.err().message.contains("Bucket out.c-nope"), "{out:?}");

    // Deleting asks first; the dry run names what would go.
    let delete = [
        "storage",
        "snapshot-delete",
        "--project",
        "p",
        "--snapshot-id",
        &id_s,
    ];
    let (out, code) = env.json(&delete);
    assert_eq!((code, out.err().code.as_str()), (2, "USAGE_ERROR"));
    let dry = ok(&env, &[&delete[..], &["--dry-run"]].concat());
    assert_eq!(dry["would_delete"], json!([id_s]));
    let gone = ok(&env, &[&delete[..], &["--yes"]].concat());
    assert_eq!(gone["deleted"], json!([id_s]));
    let (out, code) = env.json(&[
        "storage",
        "snapshot-detail",
        "--project",
        "p",
        "--snapshot-id",
        &id_s,
    ]);
    assert_eq!((code, out.err().code.as_str()), (1, "NOT_FOUND"));
    assert!(
        out.err().message.contains(&format!("Snapshot {id}")),
        "{out:?}"
    );
    let list = ok(
        &env,
        &["storage", "snapshots", "--project", "p", "--table-id", t],
    );
    assert_eq!(list["count"], 1);
    // The source table was never touched by the snapshot commands.
    assert_eq!(table(&env, t)["columns"], original["columns"]);
}

#[test]
fn snapshot_ids_are_checked_before_any_request() {
    let env = env();
    let (out, code) = env.json(&[
        "storage",
        "snapshot-detail",
        "--project",
        "p",
        "--snapshot-id",
        "12a",
    ]);
    assert_eq!((code, out.err().code.as_str()), (2, "INVALID_ARGUMENT"));
    assert!(
        env.emu
            .requests()
            .iter()
            .all(|r| !r.path.contains("snapshots"))
    );
}
