//! The service directory: service URLs from the Storage API index, fetched once per stack.

use std::thread;

use keboola_api::{ApiErrorKind, Http, Method};
use url::Url;

use crate::server::{Server, json};
use crate::{SECRET, config, token};

fn index(services: &str) -> String {
    format!(r#"{{"api":"storage","version":"v2","services":[{services}],"features":["f"]}}"#)
}

#[test]
fn the_index_is_fetched_once_per_stack_for_all_threads() {
    let server = Server::start(vec![json(
        200,
        &index(
            r#"{"id":"queue","url":"https://queue.example.test"},{"id":"encryption","url":"https://encryption.example.test/"}"#,
        ),
    )]);
    let http = Http::new(config()).unwrap();
    let stack = server.stack();
    let urls: Vec<Url> = thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| http.services(&stack).unwrap().url("queue").unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        urls.iter()
            .all(|u| u.as_str() == "https://queue.example.test/")
    );
    // Clones share the cache; `StorageClient::index` reads it too.
    let clone = http.clone();
    let dir = clone.services(&stack).unwrap();
    assert_eq!(
        dir.url("encryption").unwrap().as_str(),
        "https://encryption.example.test/"
    );
    let client = keboola_api::StorageClient::new(&http, &stack, &token());
    assert_eq!(client.index().unwrap().features, vec!["f".to_owned()]);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].target, "/v2/storage?exclude=components");
    assert_eq!(requests[0].header("x-storageapi-token"), None);
}

#[test]
fn a_missing_service_is_a_clear_error() {
    let server = Server::start(vec![json(
        200,
        &index(
            r#"{"id":"queue","url":"https://q.example.test"},{"id":"encryption","url":"https://e.example.test"}"#,
        ),
    )]);
    let http = Http::new(config()).unwrap();
    let err = http
        .services(&server.stack())
        .unwrap()
        .url("ai")
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    let text = err.to_string();
    assert!(text.contains("\"ai\""), "{text}");
    assert!(text.contains("encryption, queue"), "{text}");
}

#[test]
fn a_failed_index_fetch_is_not_cached() {
    let server = Server::start(vec![
        json(404, r#"{"error":"nope"}"#),
        json(
            200,
            &index(r#"{"id":"queue","url":"https://q.example.test"}"#),
        ),
    ]);
    let http = Http::new(config()).unwrap();
    assert_eq!(
        http.services(&server.stack()).unwrap_err().status(),
        Some(404)
    );
    assert!(http.services(&server.stack()).unwrap().url("queue").is_ok());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn service_requests_go_to_the_listed_url_with_the_token() {
    let service = Server::start(vec![json(200, r#"{"id":"123","status":"created"}"#)]);
    let stack = Server::start(vec![json(
        200,
        &index(&format!(r#"{{"id":"queue","url":"{}"}}"#, service.url())),
    )]);
    let http = Http::new(config()).unwrap();
    let token = token();
    let job = http
        .service_request(Method::Post, &stack.stack(), "queue", &["jobs"])
        .storage_token(&token)
        .json(&serde_json::json!({"component": "x"}))
        .send_json()
        .unwrap();
    assert_eq!(job["id"], "123");
    let r = service.only_request();
    assert_eq!((r.method.as_str(), r.path()), ("POST", "/jobs"));
    assert_eq!(r.header("x-storageapi-token"), Some(SECRET));
}

#[test]
fn a_plain_http_service_url_off_loopback_gets_no_token() {
    let server = Server::start(vec![json(
        200,
        &index(r#"{"id":"queue","url":"http://queue.example.test"}"#),
    )]);
    let http = Http::new(config()).unwrap();
    let token = token();
    let err = http
        .service_request(Method::Get, &server.stack(), "queue", &["jobs"])
        .storage_token(&token)
        .send()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Config);
    assert!(err.to_string().contains("https"), "{err}");
    assert_eq!(server.requests().len(), 1, "only the index was requested");
}
