//! Sibling services: routed by `Host` under a host name, and by path prefix on the
//! listener's own address; the Storage index lists each at a URL that answers.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use keboola_emulator::{Emulator, EmulatorOptions, Fault};
use serde_json::Value;

use crate::common::{Client, start, start_with};

const HOSTNAME: &str = "keboola.local";

struct Raw {
    status: u16,
    body: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request to the listener with the given `Host`, as a client that resolved
/// that name to the emulator would send it.
fn send(emu: &Emulator, method: &str, host: &str, path: &str, body: &str) -> Raw {
    let mut stream = TcpStream::connect(emu.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = String::new();
    stream.read_to_string(&mut buf).unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap_or((&buf, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head}"));
    Raw {
        status,
        body: body.to_owned(),
    }
}

fn with_hostname() -> Emulator {
    start_with(EmulatorOptions {
        hostname: Some(HOSTNAME.to_owned()),
        ..EmulatorOptions::default()
    })
}

fn assert_not_emulated(resp: &Raw, service: &str) {
    assert_eq!(resp.status, 501, "{}", resp.body);
    let v = resp.json();
    assert_eq!(v["code"], 501);
    assert_eq!(v["status"], "error");
    assert!(v["error"].as_str().unwrap().contains(service), "{v}");
    assert!(v["exceptionId"].is_string());
}

#[test]
fn the_host_header_picks_the_service() {
    let emu = with_hostname();
    let port = emu.local_addr().port();
    assert_eq!(
        emu.url(),
        format!("http://connection.{HOSTNAME}:{port}"),
        "the stack URL is Connection's host"
    );

    // The Job Queue answers in its own error envelope (`code` is the status).
    let queue = send(
        &emu,
        "GET",
        &format!("queue.{HOSTNAME}:{port}"),
        "/search/jobs",
        "",
    );
    assert_eq!(queue.status, 401, "{}", queue.body);
    assert_eq!(queue.json()["code"], 401);
    // The Storage path on the queue host is the queue's, not Storage's.
    let queue = send(&emu, "GET", &format!("queue.{HOSTNAME}"), "/v2/storage", "");
    assert_eq!(queue.status, 404, "{}", queue.body);
    assert_eq!(queue.json()["code"], 404);
    let scheduler = send(
        &emu,
        "GET",
        &format!("scheduler.{HOSTNAME}"),
        "/schedules",
        "",
    );
    assert_not_emulated(&scheduler, "scheduler");
    // The Query Service answers in its own layout.
    let query = send(
        &emu,
        "GET",
        &format!("query.{HOSTNAME}"),
        "/api/v1/queries/x",
        "",
    );
    assert_eq!(query.status, 401, "{}", query.body);
    assert_eq!(query.json()["error"], 401);
    assert!(query.json()["exception"].is_string());

    let encrypted = send(
        &emu,
        "POST",
        &format!("encryption.{HOSTNAME}:{port}"),
        "/encrypt?componentId=keboola.flow",
        r##"{"#secret":"plain"}"##,
    );
    assert_eq!(encrypted.status, 200, "{}", encrypted.body);
    assert!(
        encrypted.json()["#secret"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ComponentSecure::")
    );

    let wizard = send(&emu, "GET", &format!("oauth.{HOSTNAME}"), "/index.html", "");
    assert_eq!(wizard.status, 200);
    assert!(wizard.body.contains("<html"), "{}", wizard.body);

    let unknown = send(&emu, "GET", &format!("nope.{HOSTNAME}"), "/", "");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.json()["code"], 404);

    // Connection answers under its own name, the bare host name and the plain address.
    for host in [
        format!("connection.{HOSTNAME}:{port}"),
        HOSTNAME.to_owned(),
        format!("127.0.0.1:{port}"),
    ] {
        let index = send(&emu, "GET", &host, "/v2/storage?exclude=components", "");
        assert_eq!(index.status, 200, "{host}: {}", index.body);
        assert_eq!(index.json()["api"], "storage", "{host}");
    }
}

#[test]
fn with_a_host_name_the_index_lists_service_hosts() {
    let emu = with_hostname();
    let port = emu.local_addr().port();
    let index = send(
        &emu,
        "GET",
        &format!("connection.{HOSTNAME}:{port}"),
        "/v2/storage?exclude=components",
        "",
    )
    .json();
    assert_eq!(index["stack"], format!("connection.{HOSTNAME}:{port}"));
    let services = index["services"].as_array().unwrap();
    for id in [
        "queue",
        "encryption",
        "oauth",
        "query",
        "sync-actions",
        "scheduler",
    ] {
        let entry = services
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {services:?}"));
        assert_eq!(entry["url"], format!("http://{id}.{HOSTNAME}:{port}"));
    }
    // Every listed host is routed: it reaches its service, never "no such host".
    for entry in services {
        let url = entry["url"].as_str().unwrap();
        let host = url.trim_start_matches("http://");
        let resp = send(&emu, "GET", host, "/", "");
        assert!(
            !resp.body.contains("No Keboola service is served"),
            "{url}: {}",
            resp.body
        );
    }
}

#[test]
fn without_a_host_name_services_answer_under_path_prefixes() {
    let emu = start();
    let c = Client::new(&emu);
    let index = c.get_anon("/v2/storage?exclude=components").json();
    let url = |id: &str| {
        index["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .and_then(|s| s["url"].as_str())
            .unwrap_or_else(|| panic!("no {id} in {index}"))
            .to_owned()
    };
    let base = emu.url();
    let path_of = |id: &str| url(id).strip_prefix(base).unwrap().to_owned();

    let queue = c.get_anon(&format!("{}/search/jobs", path_of("queue")));
    assert_eq!(queue.status, 401, "{}", queue.text);
    assert_eq!(queue.json()["code"], 401);
    assert_eq!(c.get_anon(&format!("{}/", path_of("query"))).status, 404);
    for id in ["scheduler", "sync-actions", "sandboxes"] {
        assert_eq!(c.get_anon(&format!("{}/", path_of(id))).status, 501, "{id}");
    }

    // The AI Service documents the stack's components, to a Storage token only.
    let docs = format!("{}/docs/components/keboola.ex-google-drive", path_of("ai"));
    assert_eq!(c.get_anon(&docs).status, 401);
    let token = emu.projects()[0].tokens.admin.clone();
    let doc = c.get(&docs, &token);
    assert_eq!(doc.status, 200, "{}", doc.text);
    assert_eq!(doc.json()["componentId"], "keboola.ex-google-drive");
    assert!(doc.json()["componentFlags"].is_array(), "{}", doc.text);
    let missing = c.get(
        &format!("{}/docs/components/keboola.nope", path_of("ai")),
        &token,
    );
    assert_eq!(missing.status, 404, "{}", missing.text);

    let encrypted = c.request(
        "POST",
        &format!("{}/encrypt?componentId=keboola.flow", path_of("encryption")),
        &[],
        Some(("text/plain", b"plain".to_vec())),
    );
    assert_eq!(encrypted.status, 200, "{}", encrypted.text);
    assert!(encrypted.text.starts_with("KBC::ComponentSecure::"));
    // Clients that call Encryption on the stack URL itself keep working.
    let legacy = c.request(
        "POST",
        "/encrypt?componentId=keboola.flow",
        &[],
        Some(("text/plain", b"plain".to_vec())),
    );
    assert_eq!(legacy.status, 200, "{}", legacy.text);

    let wizard = c.get_anon(&format!("{}/index.html", path_of("oauth")));
    assert_eq!(wizard.status, 200);
    // Without a host name the Host header changes nothing.
    let port = emu.local_addr().port();
    let index = send(
        &emu,
        "GET",
        &format!("queue.{HOSTNAME}:{port}"),
        "/v2/storage",
        "",
    );
    assert_eq!(index.status, 200, "{}", index.body);
}

#[test]
fn invalid_host_names_are_refused() {
    for bad in ["http://keboola.local", "keboola.local:443", "a..b", ""] {
        let result = keboola_emulator::spawn(EmulatorOptions {
            hostname: Some(bad.to_owned()),
            ..EmulatorOptions::default()
        });
        assert!(result.is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn the_log_names_the_service_and_faults_can_target_one() {
    let emu = with_hostname();
    let port = emu.local_addr().port();
    emu.add_fault(Fault {
        service: Some("queue".into()),
        status: Some(503),
        ..Fault::default()
    });
    let by_host = send(
        &emu,
        "GET",
        &format!("queue.{HOSTNAME}:{port}"),
        "/jobs",
        "",
    );
    assert_eq!(by_host.status, 503, "{}", by_host.body);
    let by_path = send(&emu, "GET", &format!("127.0.0.1:{port}"), "/queue/jobs", "");
    assert_eq!(by_path.status, 503, "{}", by_path.body);
    let storage = send(
        &emu,
        "GET",
        &format!("connection.{HOSTNAME}"),
        "/v2/storage",
        "",
    );
    assert_eq!(storage.status, 200, "the fault spares other services");
    send(
        &emu,
        "GET",
        &format!("127.0.0.1:{port}"),
        "/manage/tokens/verify",
        "",
    );
    send(&emu, "GET", &format!("127.0.0.1:{port}"), "/nowhere", "");

    let services: Vec<Option<String>> = emu.requests().into_iter().map(|r| r.service).collect();
    assert_eq!(
        services,
        [
            Some("queue".to_owned()),
            Some("queue".to_owned()),
            Some("storage".to_owned()),
            Some("manage".to_owned()),
            None
        ]
    );
}
