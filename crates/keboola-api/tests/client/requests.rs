//! The one request path: every method, JSON, form and streamed bodies, extra headers,
//! streamed responses, and which requests are retried.

use std::io::Read;

use keboola_api::{ApiErrorKind, Http, Method};
use serde_json::json;

use crate::server::{Server, Step, json, response};
use crate::{SECRET, assert_no_secret, config, token};

fn http() -> Http {
    Http::new(config()).unwrap()
}

#[test]
fn every_method_sends_its_body_headers_and_token() {
    let server = Server::start(vec![
        json(200, r#"{"ok":1}"#),
        json(200, r#"{"ok":2}"#),
        json(200, r#"{"ok":3}"#),
        Step::Respond(response(204, &[], "")),
    ]);
    let http = http();
    let token = token();
    let got = http
        .request(Method::Put, &server.stack(), &["v2", "storage", "x", "a b"])
        .storage_token(&token)
        .header("X-Conversation-ID", "conv-1")
        .query("q", "1&2")
        .json(&json!({"name": "n"}))
        .send_json()
        .unwrap();
    assert_eq!(got, json!({"ok": 1}));
    let got = http
        .request(Method::Patch, &server.stack(), &["v2", "storage", "x"])
        .storage_token(&token)
        .form(&[("name", "a b&c"), ("flag", "1")])
        .send_json()
        .unwrap();
    assert_eq!(got, json!({"ok": 2}));
    let got: serde_json::Value = http
        .request(Method::Post, &server.stack(), &["manage", "y"])
        .manage_token(&token)
        .fetch()
        .unwrap();
    assert_eq!(got, json!({"ok": 3}));
    let body = http
        .request(Method::Delete, &server.stack(), &["v2", "storage", "x"])
        .send()
        .unwrap();
    assert!(body.is_empty());

    let r = server.wait_for_requests(4);
    assert_eq!(r[0].method, "PUT");
    assert_eq!(r[0].target, "/v2/storage/x/a%20b?q=1%262");
    assert_eq!(r[0].header("content-type"), Some("application/json"));
    assert_eq!(r[0].header("x-conversation-id"), Some("conv-1"));
    assert_eq!(r[0].header("x-storageapi-token"), Some(SECRET));
    assert_eq!(r[0].json(), json!({"name": "n"}));
    assert_eq!(r[1].method, "PATCH");
    assert_eq!(
        r[1].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r[1].body, b"name=a+b%26c&flag=1");
    assert_eq!(r[2].method, "POST");
    assert_eq!(r[2].header("x-kbc-manageapitoken"), Some(SECRET));
    assert_eq!(r[2].header("x-storageapi-token"), None);
    assert_eq!(r[3].method, "DELETE");
    assert_eq!(r[3].header("x-storageapi-token"), None);
}

fn unavailable() -> Step {
    json(503, r#"{"error":"busy"}"#)
}

#[test]
fn put_and_delete_are_retried_only_when_marked_idempotent() {
    let server = Server::start(vec![unavailable(), unavailable(), json(200, "{}")]);
    let http = http();
    http.request(Method::Put, &server.stack(), &["x"])
        .json(&json!({}))
        .idempotent()
        .send_json()
        .unwrap();
    assert_eq!(server.wait_for_requests(3).len(), 3);

    for method in [Method::Put, Method::Delete, Method::Patch, Method::Post] {
        let server = Server::start(vec![unavailable(), json(200, "{}")]);
        let err = http
            .request(method, &server.stack(), &["x"])
            .send()
            .unwrap_err();
        assert_eq!(err.status(), Some(503), "{method:?}");
        assert_eq!(err.attempts(), 1, "{method:?}");
        assert_eq!(server.requests().len(), 1, "{method:?}");
    }
    // POST and PATCH are never retried, whatever the caller says.
    for method in [Method::Post, Method::Patch] {
        let server = Server::start(vec![unavailable(), json(200, "{}")]);
        let err = http
            .request(method, &server.stack(), &["x"])
            .idempotent()
            .send()
            .unwrap_err();
        assert_eq!(err.attempts(), 1, "{method:?}");
        assert_eq!(server.requests().len(), 1, "{method:?}");
    }
}

#[test]
fn streamed_uploads_are_sent_whole_and_never_retried() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let server = Server::start(vec![json(200, "{}"), json(200, "{}"), unavailable()]);
    let http = http();
    http.request(Method::Put, &server.stack(), &["upload"])
        .body_reader(
            "application/octet-stream",
            Some(data.len() as u64),
            &data[..],
        )
        .send()
        .unwrap();
    http.request(Method::Post, &server.stack(), &["upload"])
        .body_reader("text/csv", None, &data[..])
        .send()
        .unwrap();
    let err = http
        .request(Method::Put, &server.stack(), &["upload"])
        .idempotent()
        .body_reader("text/csv", None, &data[..])
        .send()
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
    let r = server.wait_for_requests(3);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].header("content-length"), Some("200000"));
    assert_eq!(
        r[0].header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(r[0].body, data);
    assert_eq!(r[1].header("transfer-encoding"), Some("chunked"));
    assert_eq!(r[1].header("content-type"), Some("text/csv"));
    assert_eq!(r[1].body, data);
}

#[test]
fn a_streamed_download_is_not_bound_by_the_json_limit() {
    // One byte over the limit for bodies read into memory.
    let size = 32 * 1024 * 1024 + 1;
    let mut big =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {size}\r\n\r\n")
            .into_bytes();
    big.resize(big.len() + size, b'a');
    let server = Server::start(vec![Step::Respond(big.clone()), Step::Respond(big)]);
    let http = http();
    let mut body = http
        .request(Method::Get, &server.stack(), &["files", "1"])
        .storage_token(&token())
        .send_streaming()
        .unwrap();
    assert_eq!(body.content_length(), Some(size as u64));
    assert_eq!(body.content_type(), Some("text/csv"));
    let mut seen = 0usize;
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == b'a'));
        seen += n;
    }
    assert_eq!(seen, size);
    // The same body read into memory is refused.
    let err = http
        .request(Method::Get, &server.stack(), &["files", "1"])
        .send()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::InvalidResponse);
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
}

#[test]
fn a_streamed_download_reports_an_error_status_as_usual() {
    let server = Server::start(vec![
        unavailable(),
        json(
            404,
            r#"{"error":"no such file","code":"storage.fileNotFound"}"#,
        ),
    ]);
    let err = http()
        .request(Method::Get, &server.stack(), &["files", "1"])
        .storage_token(&token())
        .send_streaming()
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.api_code(), Some("storage.fileNotFound"));
    assert_eq!(
        err.attempts(),
        2,
        "a GET download is retried before its body starts"
    );
    assert_no_secret(&err);
}

#[test]
fn an_invalid_header_or_path_is_refused_before_sending() {
    let server = Server::start(vec![]);
    let http = http();
    let err = http
        .request(Method::Get, &server.stack(), &["x"])
        .header("X-Bad", "line\nbreak")
        .send()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    let err = http
        .request(Method::Get, &server.stack(), &["x", ".."])
        .send()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    assert!(server.requests().is_empty());
}

#[test]
fn default_headers_go_to_keboola_and_its_services_but_not_to_object_stores() {
    let server = Server::start(vec![]);
    // The index sends the Queue back to this server.
    let index = format!(
        r#"{{"services":[{{"id":"queue","url":"{}/queue"}}]}}"#,
        server.url()
    );
    server.push(vec![
        json(200, "{}"),
        json(200, &index),
        json(200, "{}"),
        json(200, "{}"),
        json(200, "{}"),
    ]);
    let http = Http::new(keboola_api::HttpConfig {
        default_headers: vec![("X-Conversation-ID".to_owned(), "conv-7".to_owned())],
        ..config()
    })
    .unwrap();
    let token = token();
    http.request(Method::Get, &server.stack(), &["v2", "storage", "a"])
        .storage_token(&token)
        .send()
        .unwrap();
    http.service_request(Method::Post, &server.stack(), "queue", &["jobs"])
        .storage_token(&token)
        .send()
        .unwrap();
    http.request(Method::Post, &server.stack(), &["manage", "b"])
        .manage_token(&token)
        .send()
        .unwrap();
    let blob = url::Url::parse(&format!("{}/blob/", server.url())).unwrap();
    http.request_url(Method::Put, &blob, &["x"]).send().unwrap();
    let r = server.wait_for_requests(5);
    let seen: Vec<(&str, Option<&str>)> = r
        .iter()
        .map(|r| (r.path(), r.header("x-conversation-id")))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("/v2/storage/a", Some("conv-7")),
            ("/v2/storage", Some("conv-7")),
            ("/queue/jobs", Some("conv-7")),
            ("/manage/b", Some("conv-7")),
            ("/blob/x", None),
        ]
    );
}

#[test]
fn an_invalid_default_header_is_a_config_error() {
    let err = Http::new(keboola_api::HttpConfig {
        default_headers: vec![("X-Conversation-ID".to_owned(), "a\nb".to_owned())],
        ..config()
    })
    .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    assert!(!err.to_string().contains("a\nb"), "{err}");
}
