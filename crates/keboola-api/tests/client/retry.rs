//! Which requests are retried, and how often.

use keboola_api::{ApiErrorKind, CreateTokenRequest, HttpConfig};

use crate::server::{Server, Step, json, json_with};
use crate::{assert_no_secret, config, manage, storage, storage_with};

const OK_TOKEN: &str = r#"{"id":"45","isMasterToken":false}"#;
const CREATED: &str = r#"{"id":"46","token":"901-46-newsecretvalue0123456789abcdef"}"#;

#[test]
fn get_is_retried_on_503_with_a_capped_retry_after() {
    // Retry-After asks for an hour; the cap (5 ms in tests) must win or this hangs.
    let server = Server::start(vec![
        json_with(
            503,
            &[("Retry-After", "3600")],
            r#"{"status":"maintenance","reason":"upgrade"}"#,
        ),
        json_with(
            503,
            &[("Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT")],
            "{}",
        ),
        json(200, OK_TOKEN),
    ]);
    let info = storage(&server).verify().unwrap();
    assert_eq!(info.id, "45");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn get_gives_up_after_max_attempts() {
    let cases: Vec<(Vec<Step>, ApiErrorKind)> = vec![
        (
            vec![
                json(500, "{}"),
                json(500, "{}"),
                json(500, r#"{"error":"Application error."}"#),
            ],
            ApiErrorKind::Http {
                status: 500,
                retry_after: None,
            },
        ),
        (
            vec![json(429, "{}"), json(429, "{}"), json(429, "{}")],
            ApiErrorKind::Http {
                status: 429,
                retry_after: None,
            },
        ),
        (
            vec![Step::Close, Step::Close, Step::Close],
            ApiErrorKind::Connect,
        ),
        (
            vec![json(502, "{}"), json(504, "{}"), Step::Close],
            ApiErrorKind::Connect,
        ),
    ];
    for (steps, last_kind) in cases {
        let server = Server::start(steps);
        let err = storage(&server).list_tokens().unwrap_err();
        assert_eq!(err.kind(), &last_kind);
        assert_eq!(err.attempts(), 3);
        assert!(err.retryable());
        assert!(err.to_string().ends_with("after 3 attempts"), "{err}");
        assert_no_secret(&err);
        assert_eq!(server.requests().len(), 3);
    }
}

#[test]
fn get_recovers_after_transient_failures() {
    let server = Server::start(vec![
        Step::Close,
        json(502, "bad gateway"),
        json(200, OK_TOKEN),
    ]);
    assert_eq!(storage(&server).verify().unwrap().id, "45");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn get_timeouts_are_retried() {
    let server = Server::start(vec![Step::Hang, json(200, OK_TOKEN)]);
    assert_eq!(storage(&server).verify().unwrap().id, "45");
    assert_eq!(server.wait_for_requests(2).len(), 2);
}

#[test]
fn max_attempts_one_means_no_retry() {
    let server = Server::start(vec![json(503, "{}"), json(200, OK_TOKEN)]);
    let err = storage_with(
        &server,
        HttpConfig {
            max_attempts: 1,
            ..config()
        },
    )
    .verify()
    .unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 422, 501] {
        let server = Server::start(vec![json(status, "{}"), json(200, OK_TOKEN)]);
        let err = storage(&server).verify().unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.attempts(), 1);
        assert_eq!(server.requests().len(), 1, "status {status}");
    }
}

#[test]
fn post_is_never_retried() {
    let steps = || -> Vec<(Step, ApiErrorKind, bool)> {
        vec![
            (
                json(500, r#"{"error":"Application error."}"#),
                ApiErrorKind::Http {
                    status: 500,
                    retry_after: None,
                },
                false,
            ),
            (
                json_with(503, &[("Retry-After", "1")], "{}"),
                ApiErrorKind::Http {
                    status: 503,
                    retry_after: Some(std::time::Duration::from_secs(1)),
                },
                true,
            ),
            (
                json(429, "{}"),
                ApiErrorKind::Http {
                    status: 429,
                    retry_after: None,
                },
                true,
            ),
            (Step::Close, ApiErrorKind::Connect, false),
            (Step::Hang, ApiErrorKind::Timeout, false),
        ]
    };
    for (step, kind, retryable) in steps() {
        let server = Server::start(vec![step, json(201, CREATED), json(201, CREATED)]);
        let err = storage(&server)
            .create_token(&CreateTokenRequest::default())
            .unwrap_err();
        assert_eq!(err.kind(), &kind);
        assert_eq!(err.attempts(), 1);
        assert_eq!(err.retryable(), retryable, "{kind:?}");
        assert_no_secret(&err);
        assert_eq!(
            server.wait_for_requests(1).len(),
            1,
            "{kind:?}: exactly one request"
        );
    }
    for (step, kind, _) in steps() {
        let server = Server::start(vec![step, json(200, "{}")]);
        let err = storage(&server).refresh_token("46").unwrap_err();
        assert_eq!(err.kind(), &kind);
        assert_eq!(server.wait_for_requests(1).len(), 1, "refresh {kind:?}");
    }
    for (step, kind, _) in steps() {
        let server = Server::start(vec![step, json(201, CREATED)]);
        let err = manage(&server)
            .create_project_token(1, &CreateTokenRequest::default())
            .unwrap_err();
        assert_eq!(err.kind(), &kind);
        assert_eq!(
            server.wait_for_requests(1).len(),
            1,
            "manage create {kind:?}"
        );
    }
}

#[test]
fn delete_is_never_retried() {
    for step in [json(503, "{}"), json(500, "{}"), Step::Close] {
        let server = Server::start(vec![step, json(204, "")]);
        let err = storage(&server).delete_token("46").unwrap_err();
        assert_eq!(err.attempts(), 1);
        assert_eq!(server.wait_for_requests(1).len(), 1);
    }
}
