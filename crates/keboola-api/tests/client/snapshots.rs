//! Table swap and snapshots: paths, bodies, branch scope and decoding.

use serde_json::json;

use crate::server::{Server, json};
use crate::{SECRET, storage};

#[test]
fn swap_and_snapshot_calls() {
    let server = Server::start(vec![
        json(
            202,
            r#"{"id":7,"status":"waiting","operationName":"tableSwap","tableId":"in.c-a.t"}"#,
        ),
        json(
            202,
            r#"{"id":8,"status":"success","operationName":"tableSnapshotCreate","results":{"id":42}}"#,
        ),
        json(
            200,
            r#"[{"id":42,"description":"d","createdTime":"2026-01-01T00:00:00+0100","creatorToken":{"id":1,"description":"ada","token":"901-1-shouldnotstay"},"table":{"id":"in.c-a.t","name":"t","columns":["id","v"],"primaryKey":["id"]}}]"#,
        ),
        json(
            200,
            r#"{"id":"42","description":"","table":{"id":"in.c-a.t"}}"#,
        ),
        json(
            202,
            r#"{"id":9,"status":"waiting","operationName":"tableSnapshotDelete"}"#,
        ),
        json(
            202,
            r#"{"id":10,"status":"waiting","operationName":"tableCreate"}"#,
        ),
    ]);
    let client = storage(&server);
    let job = client.swap_tables("in.c-a.t", "in.c-b.u").unwrap();
    assert_eq!(job.operation_name, "tableSwap");
    let job = client.create_snapshot("in.c-a.t", Some("d")).unwrap();
    assert_eq!(job.result_id("/id").as_deref(), Some("42"));
    let list = client.list_snapshots("in.c-a.t", Some(5)).unwrap();
    assert_eq!(list[0].id, "42");
    assert_eq!(list[0].description, "d");
    let table = list[0].table.as_ref().unwrap();
    assert_eq!(table.columns, ["id", "v"]);
    assert_eq!(table.primary_key, ["id"]);
    assert!(!list[0].raw.to_string().contains("shouldnotstay"));
    let one = client.get_snapshot("42").unwrap();
    assert_eq!(one.id, "42");
    assert_eq!(one.created_time, None);
    let job = client.delete_snapshot("42").unwrap().unwrap();
    assert_eq!(job.id, "9");
    let branch = client.with_branch(Some("77"));
    branch
        .create_table_from_snapshot("out.c-x", "42", "restored")
        .unwrap();

    let reqs = server.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path()),
        ("POST", "/v2/storage/tables/in.c-a.t/swap")
    );
    assert_eq!(reqs[0].json(), json!({"targetTableId": "in.c-b.u"}));
    assert_eq!(reqs[1].path(), "/v2/storage/tables/in.c-a.t/snapshots");
    assert_eq!(reqs[1].json(), json!({"description": "d"}));
    assert_eq!(
        reqs[2].target,
        "/v2/storage/tables/in.c-a.t/snapshots?limit=5"
    );
    assert_eq!(reqs[3].target, "/v2/storage/snapshots/42");
    assert_eq!(
        (reqs[4].method.as_str(), reqs[4].target.as_str()),
        ("DELETE", "/v2/storage/snapshots/42")
    );
    assert_eq!(
        reqs[5].path(),
        "/v2/storage/branch/77/buckets/out.c-x/tables-async"
    );
    assert_eq!(
        reqs[5].json(),
        json!({"snapshotId": "42", "name": "restored"})
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("X-StorageApi-Token") == Some(SECRET))
    );
}
