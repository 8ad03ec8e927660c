//! Proxy routing: loopback never goes through a proxy, other hosts do.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use keboola_api::{ApiErrorKind, Http, HttpConfig, Method, ProxySettings};
use url::Url;

use crate::server::{Server, json};
use crate::{config, storage_with};

/// A "proxy" on 127.0.0.1 that records each request line and refuses it with 403.
struct Proxy {
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&lines);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                seen.lock().unwrap().push(line.trim_end().to_owned());
                // The rest of the head, so closing does not reset the connection.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
        });
        Proxy { port, lines }
    }

    fn settings(&self, no_proxy: &[&str]) -> HttpConfig {
        HttpConfig {
            proxy: Some(ProxySettings {
                url: format!("http://127.0.0.1:{}", self.port),
                no_proxy: no_proxy.iter().map(|s| (*s).to_owned()).collect(),
            }),
            max_attempts: 1,
            ..config()
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[test]
fn a_loopback_stack_never_goes_through_the_proxy() {
    let proxy = Proxy::start();
    let server = Server::start(vec![json(200, r#"{"id":"1"}"#)]);
    let info = storage_with(&server, proxy.settings(&[])).verify().unwrap();
    assert_eq!(info.id, "1");
    assert_eq!(server.requests().len(), 1);
    assert!(proxy.lines().is_empty(), "{:?}", proxy.lines());
}

#[test]
fn other_hosts_do_go_through_the_proxy() {
    let proxy = Proxy::start();
    let http = Http::new(proxy.settings(&["keboola.com"])).unwrap();
    let base = Url::parse("https://example.invalid").unwrap();
    assert!(http.uses_proxy(&base));
    let err = http
        .request_url(Method::Get, &base, &["v2", "storage"])
        .send()
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("proxy"), "{err}");
    assert_eq!(
        proxy.lines(),
        vec!["CONNECT example.invalid:443 HTTP/1.1".to_owned()]
    );
    // A NO_PROXY match is sent directly.
    assert!(!http.uses_proxy(&Url::parse("https://connection.keboola.com").unwrap()));
}
