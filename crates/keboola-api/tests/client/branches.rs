//! Development branches: create and delete are Storage jobs; the branch is in `results`.

use keboola_api::DevBranch;
use serde_json::json;

use crate::server::{Server, json};
use crate::{SECRET, storage};

#[test]
fn create_delete_and_detail_calls() {
    let server = Server::start(vec![
        json(
            202,
            r#"{"id":7,"status":"waiting","operationName":"devBranchCreate"}"#,
        ),
        json(
            200,
            r#"{"id":7,"status":"success","operationName":"devBranchCreate","results":{"id":"345","name":"dev","description":"d","isDefault":false,"created":"2026-01-01T00:00:00+0100","creatorToken":{"id":1,"name":"ada","token":"901-1-shouldnotstay"}}}"#,
        ),
        json(
            200,
            r#"{"id":345,"name":"dev","description":"","isDefault":false,"creatorToken":[]}"#,
        ),
        json(
            202,
            r#"{"id":8,"status":"waiting","operationName":"devBranchDelete"}"#,
        ),
    ]);
    let client = storage(&server);
    let job = client.create_dev_branch("dev", "d").unwrap();
    assert_eq!(job.operation_name, "devBranchCreate");
    let done = client
        .finish_job(job, &keboola_api::JobWait::default())
        .unwrap();
    let branch = DevBranch::from_job(&done).unwrap();
    assert_eq!(branch.id, 345);
    assert_eq!(branch.name, "dev");
    assert_eq!(branch.description, "d");
    assert_eq!(branch.created.as_deref(), Some("2026-01-01T00:00:00+0100"));
    assert!(!branch.raw.to_string().contains("shouldnotstay"));
    let one = client.get_dev_branch("345").unwrap();
    assert_eq!(one.id, 345);
    assert_eq!(one.created, None);
    let job = client.delete_dev_branch("345").unwrap();
    assert_eq!(job.id, "8");

    let reqs = server.requests();
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path()),
        ("POST", "/v2/storage/dev-branches")
    );
    assert_eq!(reqs[0].json(), json!({"name": "dev", "description": "d"}));
    assert_eq!(reqs[1].path(), "/v2/storage/jobs/7");
    assert_eq!(reqs[2].path(), "/v2/storage/dev-branches/345");
    assert_eq!(
        (reqs[3].method.as_str(), reqs[3].path()),
        ("DELETE", "/v2/storage/dev-branches/345")
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("x-storageapi-token") == Some(SECRET))
    );
}

#[test]
fn a_job_without_a_branch_is_an_invalid_answer() {
    let job: keboola_api::StorageJob =
        serde_json::from_value(json!({"id": 9, "status": "success", "results": null})).unwrap();
    let err = DevBranch::from_job(&job).unwrap_err();
    assert!(err.to_string().contains("/v2/storage/jobs/9"), "{err}");
}

#[test]
fn create_is_never_retried() {
    let server = Server::start(vec![json(503, r#"{"error":"busy"}"#)]);
    let err = storage(&server).create_dev_branch("dev", "").unwrap_err();
    assert!(
        err.to_string().contains("503") || err.to_string().contains("busy"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}
