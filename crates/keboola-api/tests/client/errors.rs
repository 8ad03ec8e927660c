//! Error decoding and classification.

use std::time::Duration;

use keboola_api::{ApiErrorKind, CreateTokenRequest, Http, HttpConfig, StackUrl, StorageClient};

use crate::server::{Server, Step, json, json_with, response, start_raw};
use crate::{SECRET, assert_no_secret, config, storage, storage_with, token};

/// No retries, so each scripted error is seen exactly once.
fn single_try() -> HttpConfig {
    HttpConfig {
        max_attempts: 1,
        ..config()
    }
}

#[test]
fn invalid_token_401() {
    let server = Server::start(vec![json(
        401,
        r#"{"error":"Invalid access token","code":"storage.tokenInvalid","status":"error","exceptionId":"exception-1f2e"}"#,
    )]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(
        err.kind(),
        &ApiErrorKind::Http {
            status: 401,
            retry_after: None
        }
    );
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.api_code(), Some("storage.tokenInvalid"));
    assert_eq!(err.api_message(), Some("Invalid access token"));
    assert_eq!(err.exception_id(), Some("exception-1f2e"));
    assert_eq!(err.attempts(), 1);
    assert!(!err.retryable());
    assert_eq!(err.method(), "GET");
    assert_eq!(err.url_path(), "/v2/storage/tokens/verify");
    assert_eq!(
        err.to_string(),
        "GET /v2/storage/tokens/verify failed with HTTP 401 Unauthorized: Invalid access token \
         (code storage.tokenInvalid, exception exception-1f2e)"
    );
    assert_no_secret(&err);
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
}

#[test]
fn access_denied_403() {
    let server = Server::start(vec![json(
        403,
        r#"{"error":"You don't have access to the resource.","code":"accessDenied"}"#,
    )]);
    let err = storage(&server)
        .create_token(&CreateTokenRequest::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.api_code(), Some("accessDenied"));
    assert_eq!(
        err.api_message(),
        Some("You don't have access to the resource.")
    );
    assert!(!err.retryable());
    assert_no_secret(&err);
}

#[test]
fn not_found_404() {
    let server = Server::start(vec![json(
        404,
        r#"{"error":"Token not found","code":"storage.tokens.notFound"}"#,
    )]);
    let err = storage(&server).get_token("999").unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.api_code(), Some("storage.tokens.notFound"));
    assert_eq!(err.url_path(), "/v2/storage/tokens/999");
    assert!(!err.retryable());
}

#[test]
fn server_error_500_keeps_the_exception_id() {
    let body = r#"{"error":"Application error.","code":"","exceptionId":"com-keboola-connection-0a1b2c3d"}"#;
    let server = Server::start(vec![json(500, body)]);
    let err = storage_with(&server, single_try())
        .list_tokens()
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.api_code(), None);
    assert_eq!(err.exception_id(), Some("com-keboola-connection-0a1b2c3d"));
    assert!(err.retryable(), "a GET 500 may be tried again later");
    assert_no_secret(&err);
}

#[test]
fn the_query_string_is_not_in_the_error() {
    let server = Server::start(vec![json(400, r#"{"error":"bad"}"#)]);
    let err = storage(&server).index().unwrap_err();
    assert_eq!(err.url_path(), "/v2/storage");
    assert!(!err.to_string().contains("exclude"), "{err}");
}

#[test]
fn an_echoed_token_is_masked() {
    let body = format!(r#"{{"error":"Token {SECRET} is not valid here","code":"x"}}"#);
    let server = Server::start(vec![json(400, &body)]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(
        err.api_message(),
        Some("Token 901-...zxcv is not valid here")
    );
    assert_no_secret(&err);
}

#[test]
fn non_json_error_body_becomes_an_excerpt() {
    let server = Server::start(vec![Step::Respond(response(
        404,
        &[("Content-Type", "text/html")],
        "<html><body>\n  nginx: no such page\n</body></html>",
    ))]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(
        err.api_message(),
        Some("<html><body> nginx: no such page </body></html>")
    );
}

#[test]
fn redirects_are_not_followed() {
    let elsewhere = Server::start(vec![]);
    let location = format!("{}/steal", elsewhere.url());
    let server = Server::start(vec![json_with(302, &[("Location", &location)], "")]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(!err.retryable());
    assert!(
        elsewhere.requests().is_empty(),
        "the token must not follow a redirect"
    );
}

#[test]
fn malformed_json_is_an_invalid_response_and_not_retried() {
    let server = Server::start(vec![json(200, r#"{"id":"44","#)]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    assert!(!err.retryable());
    assert_eq!(err.attempts(), 1);
    assert_no_secret(&err);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn empty_body_is_an_invalid_response() {
    let server = Server::start(vec![json(200, "")]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn wrong_shape_is_an_invalid_response() {
    let server = Server::start(vec![json(200, r#"{"id":"44"}"#), json(200, r#"[1,2]"#)]);
    let client = storage(&server);
    let err = client.list_tokens().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    let err = client.verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
}

#[test]
fn a_secret_in_a_malformed_success_body_does_not_leak() {
    let body = format!(r#"{{"id":"46","token":"{SECRET}", oops}}"#);
    let server = Server::start(vec![json(201, &body)]);
    let err = storage(&server)
        .create_token(&CreateTokenRequest::default())
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    assert_no_secret(&err);
}

#[test]
fn truncated_body_is_an_invalid_response() {
    let partial = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"4".to_vec();
    let server = Server::start(vec![Step::SendThenClose(partial)]);
    let err = storage(&server).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse, "{err}");
    assert!(!err.retryable());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn no_answer_is_a_timeout() {
    let server = Server::start(vec![Step::Hang]);
    let err = storage_with(&server, single_try()).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Timeout, "{err}");
    assert!(err.retryable());
    assert_no_secret(&err);
}

#[test]
fn a_stalled_body_is_a_timeout() {
    let head =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"id\":"
            .to_vec();
    let server = Server::start(vec![Step::SendThenHang(head)]);
    let err = storage_with(&server, single_try()).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Timeout, "{err}");
}

#[test]
fn a_dropped_connection_is_a_connect_error() {
    let server = Server::start(vec![Step::Close]);
    let err = storage_with(&server, single_try()).verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Connect, "{err}");
    assert!(err.retryable());
}

#[test]
fn connection_refused_is_a_connect_error_retryable_even_for_post() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stack = StackUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let http = Http::new(HttpConfig {
        max_attempts: 2,
        ..config()
    })
    .unwrap();
    let client = StorageClient::new(&http, &stack, &token());
    let err = client
        .create_token(&CreateTokenRequest::default())
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Connect, "{err}");
    assert_eq!(err.attempts(), 1, "a POST is sent once");
    assert!(err.retryable(), "nothing reached the server");
    let err = client.verify().unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Connect);
    assert_eq!(err.attempts(), 2);
    assert_no_secret(&err);
}

#[test]
fn tls_failure_is_classified() {
    let port = start_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let stack = StackUrl::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let http = Http::new(HttpConfig {
        max_attempts: 1,
        ..config()
    })
    .unwrap();
    let err = StorageClient::new(&http, &stack, &token())
        .verify()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Tls, "{err}");
    assert!(!err.retryable());
    assert_no_secret(&err);
    assert!(!format!("{err}").contains(SECRET));
}

#[test]
fn extra_ca_file_must_hold_a_certificate() {
    let dir = std::env::temp_dir().join(format!("keboola-api-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("empty.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let err = Http::new(HttpConfig {
        extra_ca_file: Some(path.clone()),
        ..config()
    })
    .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timeouts_stay_short_in_tests() {
    // Guards the premise of the timeout tests above: they rely on a sub-second budget.
    assert!(config().read_timeout < Duration::from_secs(1));
}
