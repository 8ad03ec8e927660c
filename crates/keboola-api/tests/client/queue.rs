//! The Queue client: its base URL from the Storage index, a `POST /jobs` sent exactly once,
//! search filters, kill, waiting with GET retries, and Storage events.

use std::time::Duration;

use keboola_api::{
    CreateJob, EventsQuery, Http, JobSearch, QueueClient, QueueStatus, QueueWait, may_have_started,
};

use crate::server::{Server, Step, json};
use crate::{SECRET, assert_no_secret, config, storage, token};

/// A server whose index names itself (under `/queue-svc`) as the Queue; `steps` follow.
fn queue_server(steps: Vec<Step>) -> (Server, QueueClient) {
    let server = Server::start(vec![]);
    let index = format!(
        r#"{{"services":[{{"id":"queue","url":"{}/queue-svc"}}]}}"#,
        server.url()
    );
    server.push(vec![json(200, &index)]);
    server.push(steps);
    let http = Http::new(config()).unwrap();
    let client = QueueClient::new(&http, &server.stack(), &token());
    (server, client)
}

fn job(id: &str, status: &str, finished: bool) -> String {
    format!(
        r#"{{"id":"{id}","runId":"{id}","status":"{status}","isFinished":{finished},"component":"keboola.ex-x","config":"7","branchId":null,"result":{{"message":"done {status}"}},"token":{{"id":"1","description":"t"}}}}"#
    )
}

#[test]
fn create_job_posts_once_to_the_indexed_queue_url() {
    let (server, client) = queue_server(vec![json(201, &job("55", "created", false))]);
    let created = client
        .create_job(&CreateJob {
            component: "keboola.ex-x".into(),
            config: Some("7".into()),
            config_row_ids: vec!["r1".into()],
            branch_id: Some("3".into()),
            variables: vec![("k".into(), "v".into())],
            ..CreateJob::default()
        })
        .unwrap();
    assert_eq!(created.id, "55");
    assert_eq!(created.status, QueueStatus::Created);
    let requests = server.wait_for_requests(2);
    assert_eq!(requests[0].target, "/v2/storage?exclude=components");
    let post = &requests[1];
    assert_eq!(
        (post.method.as_str(), post.path()),
        ("POST", "/queue-svc/jobs")
    );
    assert_eq!(post.header("x-storageapi-token"), Some(SECRET));
    assert_eq!(
        post.json(),
        serde_json::json!({"component": "keboola.ex-x", "config": "7", "mode": "run",
            "configRowIds": ["r1"], "branchId": "3",
            "variableValuesData": {"values": [{"name": "k", "value": "v"}]}})
    );
}

#[test]
fn a_lost_answer_to_post_jobs_is_not_retried_and_may_have_started() {
    for step in [
        Step::Close,
        Step::Hang,
        Step::SendThenClose(b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{\"id\"".to_vec()),
        json(502, "{}"),
    ] {
        let (server, client) = queue_server(vec![step]);
        let err = client
            .create_job(&CreateJob {
                component: "c".into(),
                config: Some("1".into()),
                ..CreateJob::default()
            })
            .unwrap_err();
        assert!(may_have_started(&err), "{err:?}");
        assert_no_secret(&err);
        let posts = server
            .wait_for_requests(2)
            .into_iter()
            .filter(|r| r.method == "POST")
            .count();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(posts, 1);
        assert_eq!(
            server
                .requests()
                .iter()
                .filter(|r| r.method == "POST")
                .count(),
            1
        );
    }
}

#[test]
fn refused_job_requests_did_not_start_anything() {
    for status in [400, 401, 403, 404, 503] {
        let (_server, client) = queue_server(vec![json(
            status,
            r#"{"error":"Invalid configuration","code":400,"status":"error","exceptionId":"job-runner-1"}"#,
        )]);
        let err = client
            .create_job(&CreateJob {
                component: "c".into(),
                ..CreateJob::default()
            })
            .unwrap_err();
        assert!(!may_have_started(&err), "{status}: {err:?}");
        assert_eq!(err.status(), Some(status));
    }
    // No connection at all: nothing was sent.
    let http = Http::new(config()).unwrap();
    let dead = Server::start(vec![]);
    let index = r#"{"services":[{"id":"queue","url":"http://127.0.0.1:9/"}]}"#;
    dead.push(vec![json(200, index)]);
    let err = QueueClient::new(&http, &dead.stack(), &token())
        .create_job(&CreateJob::default())
        .unwrap_err();
    assert!(!may_have_started(&err), "{err:?}");
}

#[test]
fn search_sends_the_filters_newest_first() {
    let body = format!(
        "[{},{}]",
        job("9", "error", true),
        job("8", "success", true)
    );
    let (server, client) = queue_server(vec![json(200, &body)]);
    let jobs = client
        .search_jobs(&JobSearch {
            component: Some("keboola.ex-x".into()),
            config: Some("7".into()),
            statuses: vec!["error".into(), "success".into()],
            branch_id: Some("3".into()),
            created_time_from: Some("2026-01-01T00:00:00+00:00".into()),
            limit: Some(5),
            ..JobSearch::default()
        })
        .unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["9", "8"]
    );
    let r = &server.wait_for_requests(2)[1];
    assert_eq!(r.path(), "/queue-svc/search/jobs");
    assert_eq!(
        r.query().unwrap(),
        "componentId%5B%5D=keboola.ex-x&configId%5B%5D=7&status%5B%5D=error&status%5B%5D=success&branchId%5B%5D=3&createdTimeFrom=2026-01-01T00%3A00%3A00%2B00%3A00&limit=5&sortBy=id&sortOrder=desc"
    );
}

#[test]
fn kill_posts_to_the_job() {
    let (server, client) = queue_server(vec![json(
        202,
        r#"{"id":"5","status":"processing","desiredStatus":"terminating"}"#,
    )]);
    let killed = client.kill_job("5").unwrap();
    assert_eq!(killed.desired_status, "terminating");
    let r = &server.wait_for_requests(2)[1];
    assert_eq!(
        (r.method.as_str(), r.path()),
        ("POST", "/queue-svc/jobs/5/kill")
    );
}

#[test]
fn waiting_polls_until_finished_and_retries_a_503() {
    let (server, client) = queue_server(vec![
        json(200, &job("5", "created", false)),
        json(503, r#"{"error":"busy"}"#),
        json(200, &job("5", "processing", false)),
        json(200, &job("5", "error", true)),
    ]);
    let mut seen = Vec::new();
    let wait = QueueWait {
        timeout: Some(Duration::from_secs(10)),
        poll: Duration::from_millis(1),
        max_poll: Duration::from_millis(2),
        ..QueueWait::default()
    };
    let done = client
        .wait_for_job("5", &wait, |j| seen.push(j.status.as_str().to_owned()))
        .unwrap();
    assert!(done.finished);
    assert_eq!(done.polls, 3);
    assert_eq!(seen, ["created", "processing", "error"]);
    assert_eq!(done.job.result_message(), Some("done error"));
    let gets = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 5, "the index, three reads and one retry");
}

#[test]
fn a_timeout_leaves_the_job_running() {
    let running: Vec<Step> = (0..50)
        .map(|_| json(200, &job("5", "processing", false)))
        .collect();
    let (server, client) = queue_server(running);
    let wait = QueueWait {
        timeout: Some(Duration::from_millis(30)),
        poll: Duration::from_millis(5),
        max_poll: Duration::from_millis(10),
        ..QueueWait::default()
    };
    let done = client.wait_for_job("5", &wait, |_| {}).unwrap();
    assert!(!done.finished);
    assert_eq!(done.job.status, QueueStatus::Processing);
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn events_are_listed_with_their_filters() {
    let server = Server::start(vec![json(
        200,
        r#"[{"id":"11","event":"job.start","message":"Job started","type":"info","runId":"5","created":"2026-01-01T00:00:00+0000"}]"#,
    )]);
    let events = storage(&server)
        .list_events(&EventsQuery {
            run_id: Some("5".into()),
            since_id: Some("10".into()),
            limit: Some(50),
            component: Some("keboola.ex-x".into()),
            oldest_first: true,
        })
        .unwrap();
    assert_eq!(events[0].message, "Job started");
    let r = server.only_request();
    assert_eq!(r.path(), "/v2/storage/events");
    assert_eq!(
        r.query().unwrap(),
        "runId=5&sinceId=10&limit=50&component=keboola.ex-x&sortOrder=asc"
    );
}
