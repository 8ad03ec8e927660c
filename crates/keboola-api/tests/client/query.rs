//! The Query Service client and the workspace calls: the service URL from the Storage
//! index, a submit sent once, result pages, the service's own error layout, and
//! workspace passwords that never print.

use keboola_api::{CreateWorkspace, Http, QueryClient, QueryWait};

use crate::server::{Server, Step, json};
use crate::{SECRET, assert_no_secret, config, storage, token};

fn query_server(steps: Vec<Step>) -> (Server, QueryClient) {
    let server = Server::start(vec![]);
    let index = format!(
        r#"{{"services":[{{"id":"query","url":"{}/qs"}}]}}"#,
        server.url()
    );
    server.push(vec![json(200, &index)]);
    server.push(steps);
    let http = Http::new(config()).unwrap();
    let client = QueryClient::new(&http, &server.stack(), &token());
    (server, client)
}

#[test]
fn submit_waits_and_reads_a_page() {
    let (server, client) = query_server(vec![
        json(201, r#"{"queryJobId":"qj-1"}"#),
        json(
            200,
            r#"{"queryJobId":"qj-1","status":"processing","statements":[{"id":"st-1","query":"SELECT 1","status":"processing"}]}"#,
        ),
        json(
            200,
            r#"{"queryJobId":"qj-1","status":"completed","statements":[{"id":"st-1","query":"SELECT 1","status":"completed","numberOfRows":1}]}"#,
        ),
        json(
            200,
            r#"{"columns":[{"name":"x","type":"INTEGER"}],"data":[["1"]],"numberOfRows":1}"#,
        ),
    ]);
    let id = client
        .submit("7", "555", &["SELECT 1".to_owned()], false)
        .unwrap();
    assert_eq!(id, "qj-1");
    let job = client
        .wait_for_job(
            &id,
            &QueryWait {
                poll: std::time::Duration::from_millis(1),
                ..QueryWait::default()
            },
        )
        .unwrap();
    assert_eq!(job.statements[0].number_of_rows, Some(1));
    let page = client.results(&id, "st-1", 0, 5).unwrap();
    assert_eq!(page.data, vec![vec![serde_json::json!("1")]]);
    let requests = server.wait_for_requests(5);
    let submit = &requests[1];
    assert_eq!(
        (submit.method.as_str(), submit.path()),
        ("POST", "/qs/api/v1/branches/7/workspaces/555/queries")
    );
    assert_eq!(submit.header("x-storageapi-token"), Some(SECRET));
    assert_eq!(
        submit.json(),
        serde_json::json!({"statements": ["SELECT 1"], "transactional": false})
    );
    // Page sizes below the service's minimum are raised to it.
    assert_eq!(requests[4].query(), Some("offset=0&pageSize=100"));
}

#[test]
fn a_lost_submit_is_not_retried_and_errors_read_the_exception() {
    let (server, client) = query_server(vec![Step::Close]);
    assert!(
        client
            .submit("7", "555", &["SELECT 1".to_owned()], false)
            .is_err()
    );
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );

    let (_server, client) = query_server(vec![json(
        404,
        r#"{"exception":"Query job \"nope\" not found.","error":404,"code":"404","status":"error","exceptionId":"qs-1"}"#,
    )]);
    let err = client.get_job("nope").unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.api_message(), Some("Query job \"nope\" not found."));
    assert_no_secret(&err);
}

#[test]
fn a_created_workspace_keeps_its_password_out_of_sight() {
    let server = Server::start(vec![json(
        201,
        r#"{"id":10000001,"name":"W","component":"keboola.sandboxes","configurationId":"12","connection":{"backend":"snowflake","user":"U","password":"pw-0123456789abcdef"}}"#,
    )]);
    let created = storage(&server)
        .create_workspace("keboola.sandboxes", "12", &CreateWorkspace::default())
        .unwrap();
    assert_eq!(created.workspace.id, "10000001");
    assert_eq!(
        created.password.as_ref().unwrap().expose(),
        "pw-0123456789abcdef"
    );
    let shown = format!("{created:?}");
    assert!(!shown.contains("pw-0123456789abcdef"), "{shown}");
    let req = &server.requests()[0];
    assert_eq!(
        req.path(),
        "/v2/storage/branch/default/components/keboola.sandboxes/configs/12/workspaces"
    );
}
