//! TLS against a local server whose certificate comes from a private test CA.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use keboola_api::{ApiErrorKind, Http, HttpConfig, StackUrl, StorageClient};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{assert_no_secret, config, token};

struct TlsServer {
    port: u16,
    ca_pem: String,
    /// Requests that got through the handshake.
    served: Arc<AtomicUsize>,
}

fn start_tls_server() -> TlsServer {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "keboola-api test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let server_config = Arc::new(server_config);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let served2 = served.clone();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let conn = rustls::ServerConnection::new(server_config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            // The handshake runs inside the first read; a client that rejects the
            // certificate makes it fail and nothing is served.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            if !head.windows(4).any(|w| w == b"\r\n\r\n") {
                continue;
            }
            // Counted before answering, so the client cannot observe the answer first.
            served2.fetch_add(1, Ordering::SeqCst);
            let body = r#"{"id":"45"}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls
                .write_all(response.as_bytes())
                .and_then(|()| tls.flush());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    TlsServer {
        port,
        ca_pem: ca.pem(),
        served,
    }
}

fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keboola-api-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn an_unknown_ca_fails_verification() {
    let server = start_tls_server();
    let stack = StackUrl::parse(&format!("https://127.0.0.1:{}", server.port)).unwrap();
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
    assert_eq!(server.served.load(Ordering::SeqCst), 0);
}

#[test]
fn an_extra_ca_file_is_trusted() {
    let server = start_tls_server();
    let path = write_temp("trusted", &server.ca_pem);
    let stack = StackUrl::parse(&format!("https://127.0.0.1:{}", server.port)).unwrap();
    let http = Http::new(HttpConfig {
        extra_ca_file: Some(path.clone()),
        ..config()
    })
    .unwrap();
    let info = StorageClient::new(&http, &stack, &token())
        .verify()
        .unwrap();
    assert_eq!(info.id, "45");
    assert_eq!(server.served.load(Ordering::SeqCst), 1);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
