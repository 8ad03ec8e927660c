//! Fault injection, through the library and through `/_emulator/faults`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use keboola_emulator::{Emulator, Fault, FaultBody};
use serde_json::json;

use crate::common::{Client, start};

const VERIFY: &str = "/v2/storage/tokens/verify";

/// Sends one raw HTTP/1.1 request and reads until the server closes the connection.
/// Returns the bytes received and whether the read ended by the peer closing.
fn raw_get(emu: &Emulator, path: &str, token: &str) -> (Vec<u8>, bool) {
    let addr = emu.url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    // Only a safety net against a hang; the assertions do not depend on it.
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // `Connection: close` ends normal answers with EOF; a faulted answer would never end on
    // its own (its body stays pending), so EOF there proves the server cut the connection.
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-StorageApi-Token: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let closed = match stream.read_to_end(&mut buf) {
        Ok(_) => true,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    };
    (buf, closed)
}

#[test]
fn status_fault_with_retry_after_and_times() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.admin;
    emu.add_fault(Fault {
        path: VERIFY.into(),
        status: Some(503),
        retry_after: Some(7),
        times: Some(2),
        ..Fault::default()
    });
    for _ in 0..2 {
        let resp = c.get(VERIFY, token);
        assert_eq!(resp.status, 503);
        assert_eq!(resp.header("retry-after"), Some("7"));
        let body = resp.json();
        assert_eq!(body["status"], "maintenance");
        assert!(body["reason"].is_string());
        assert!(body["estimatedEndTime"].is_string());
    }
    assert_eq!(
        c.get(VERIFY, token).status,
        200,
        "the fault is used up after two requests"
    );

    emu.add_fault(Fault {
        path: "/v2/storage/**".into(),
        status: Some(500),
        times: Some(1),
        ..Fault::default()
    });
    let resp = c.get("/v2/storage/tokens", token);
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json()["error"], "Application error.");
    assert!(resp.json()["exceptionId"].is_string());

    emu.add_fault(Fault {
        status: Some(429),
        retry_after: Some(1),
        ..Fault::default()
    });
    let resp = c.get(VERIFY, token);
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("1"));
    assert_eq!(resp.json()["status"], "error");
    emu.clear_faults();
    assert_eq!(c.get(VERIFY, token).status, 200);
}

#[test]
fn faulted_requests_have_no_side_effects() {
    let emu = start();
    let c = Client::new(&emu);
    let before = emu.token_count(101);
    emu.add_fault(Fault {
        method: Some("post".into()),
        path: "/v2/storage/tokens".into(),
        status: Some(502),
        ..Fault::default()
    });
    let resp = c.post_json(
        "/v2/storage/tokens",
        &emu.projects()[0].tokens.admin,
        &json!({}),
    );
    assert_eq!(resp.status, 502);
    assert_eq!(emu.token_count(101), before);
    // The method selector leaves GET alone.
    assert_eq!(
        c.get("/v2/storage/tokens", &emu.projects()[0].tokens.admin)
            .status,
        200
    );
}

#[test]
fn latency_fault_delays_then_serves() {
    let emu = start();
    let c = Client::new(&emu);
    emu.add_fault(Fault {
        path: VERIFY.into(),
        latency_ms: Some(150),
        times: Some(1),
        ..Fault::default()
    });
    assert_eq!(c.get(VERIFY, &emu.projects()[0].tokens.admin).status, 200);
    let log = emu.requests();
    assert!(log[0].duration_ms >= 150, "{log:?}");
}

#[test]
fn malformed_and_empty_bodies() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.admin;
    emu.add_fault(Fault {
        path: VERIFY.into(),
        body: Some(FaultBody::Malformed),
        times: Some(1),
        ..Fault::default()
    });
    let resp = c.get(VERIFY, token);
    assert_eq!(resp.status, 200);
    assert!(!resp.text.is_empty());
    assert!(serde_json::from_str::<serde_json::Value>(&resp.text).is_err());

    emu.add_fault(Fault {
        path: VERIFY.into(),
        body: Some(FaultBody::Empty),
        times: Some(1),
        ..Fault::default()
    });
    let resp = c.get(VERIFY, token);
    assert_eq!(resp.status, 200);
    assert!(resp.text.is_empty());
}

#[test]
fn truncated_body_promises_more_than_it_sends() {
    let emu = start();
    let token = emu.projects()[0].tokens.admin.clone();
    emu.add_fault(Fault {
        path: VERIFY.into(),
        body: Some(FaultBody::Truncated),
        times: Some(1),
        ..Fault::default()
    });
    let (bytes, closed) = raw_get(&emu, VERIFY, &token);
    assert!(closed, "the connection must be closed by the server");
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers were sent");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length header");
    assert!(!body.is_empty());
    assert!(body.len() < declared, "sent {} of {declared}", body.len());
    // The next request is served normally.
    let (bytes, closed) = raw_get(&emu, VERIFY, &token);
    assert!(closed);
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
}

#[test]
fn truncated_body_breaks_a_real_client() {
    let emu = start();
    let c = Client::new(&emu);
    emu.add_fault(Fault {
        body: Some(FaultBody::Truncated),
        times: Some(1),
        ..Fault::default()
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .get(format!("{}{VERIFY}", c.base))
        .header("X-StorageApi-Token", &emu.projects()[0].tokens.admin)
        .call()
        .unwrap();
    assert!(resp.body_mut().read_to_string().is_err());
}

#[test]
fn dropped_connection_gets_no_answer() {
    let emu = start();
    let token = emu.projects()[0].tokens.admin.clone();
    emu.add_fault(Fault {
        path: VERIFY.into(),
        drop_connection: true,
        times: Some(1),
        ..Fault::default()
    });
    let (bytes, closed) = raw_get(&emu, VERIFY, &token);
    assert!(closed);
    assert!(
        bytes.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(emu.requests()[0].status, 0);
    let (bytes, closed) = raw_get(&emu, VERIFY, &token);
    assert!(closed);
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
}

#[test]
fn project_selector() {
    let emu = start();
    let c = Client::new(&emu);
    emu.add_fault(Fault {
        project_id: Some(102),
        status: Some(500),
        ..Fault::default()
    });
    assert_eq!(c.get(VERIFY, &emu.projects()[0].tokens.admin).status, 200);
    assert_eq!(c.get(VERIFY, &emu.projects()[1].tokens.admin).status, 500);
    assert_eq!(
        c.manage_get("/manage/projects/101", emu.manage_token())
            .status,
        200
    );
    assert_eq!(
        c.manage_get("/manage/projects/102", emu.manage_token())
            .status,
        500
    );
    // Requests without a project (index, no token) are not matched.
    assert_eq!(c.get_anon("/v2/storage").status, 200);
}

#[test]
fn http_fault_api() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.admin;
    let body =
        br#"{"method":"GET","path":"/v2/storage/tokens/*","status":503,"retry_after":3,"times":1}"#
            .to_vec();
    let resp = c.request(
        "POST",
        "/_emulator/faults",
        &[],
        Some(("application/json", body)),
    );
    assert_eq!(resp.status, 201);
    assert!(resp.json()["id"].is_u64());
    // The glob's single star does not reach into deeper paths, and the controls are never faulted.
    assert_eq!(c.get("/v2/storage/tokens", token).status, 200);
    assert_eq!(c.get_anon("/_emulator/requests").status, 200);
    let listed = c.get_anon("/_emulator/faults").json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let resp = c.get(VERIFY, token);
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("retry-after"), Some("3"));
    assert_eq!(c.get_anon("/_emulator/faults").json(), json!([]));

    let body = br#"{"path":"**","status":500}"#.to_vec();
    assert_eq!(
        c.request(
            "POST",
            "/_emulator/faults",
            &[],
            Some(("application/json", body))
        )
        .status,
        201
    );
    assert_eq!(c.get(VERIFY, token).status, 500);
    assert_eq!(
        c.request("DELETE", "/_emulator/faults", &[], None).status,
        204
    );
    assert_eq!(c.get(VERIFY, token).status, 200);

    let resp = c.request(
        "POST",
        "/_emulator/faults",
        &[],
        Some(("application/json", br#"{"bogus":1}"#.to_vec())),
    );
    assert_eq!(resp.status, 400);
}

#[test]
fn global_latency_applies_to_api_only() {
    let emu = start();
    let c = Client::new(&emu);
    emu.set_latency_ms(120);
    assert_eq!(c.get(VERIFY, &emu.projects()[0].tokens.admin).status, 200);
    assert!(emu.requests()[0].duration_ms >= 120);
    emu.set_latency_ms(0);
    emu.clear_requests();
    assert_eq!(c.get(VERIFY, &emu.projects()[0].tokens.admin).status, 200);
    assert_eq!(emu.requests().len(), 1);
}
