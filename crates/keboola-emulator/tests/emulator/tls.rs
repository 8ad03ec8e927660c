//! HTTPS with the generated certificate.

use keboola_emulator::EmulatorOptions;

use crate::common::{Client, start_with};

#[test]
fn https_with_the_written_ca() {
    let dir = std::env::temp_dir().join(format!("keboola-emulator-test-{}", std::process::id()));
    let emu = start_with(EmulatorOptions {
        tls: true,
        cert_dir: Some(dir.clone()),
        ..Default::default()
    });
    assert!(emu.url().starts_with("https://127.0.0.1:"));
    let ca = emu.ca_cert().expect("a CA path").to_owned();
    assert_eq!(ca, dir.join("ca.pem"));
    assert_eq!(emu.ready().ca_cert.as_deref(), Some(ca.as_path()));
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let c = Client::new(&emu);
    let v = c
        .get("/v2/storage/tokens/verify", &emu.projects()[0].tokens.admin)
        .json();
    assert_eq!(v["owner"]["id"], 101);
    let index = c.get_anon("/v2/storage").json();
    let encryption = index["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "encryption")
        .unwrap();
    assert_eq!(encryption["url"], format!("{}/encryption", emu.url()));
    assert_eq!(
        c.manage_get("/manage/tokens/verify", emu.manage_token())
            .status,
        200
    );

    // Without trusting the CA the handshake fails: this really is TLS with our own cert.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::WebPki)
                .build(),
        )
        .build()
        .into();
    assert!(
        agent
            .get(format!("{}/v2/storage", emu.url()))
            .call()
            .is_err()
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn temporary_cert_dir_is_removed_on_drop() {
    let emu = start_with(EmulatorOptions {
        tls: true,
        ..Default::default()
    });
    let ca = emu.ca_cert().unwrap().to_owned();
    assert!(ca.exists());
    let c = Client::new(&emu);
    assert_eq!(c.get_anon("/v2/storage?exclude=components").status, 200);
    drop(emu);
    assert!(!ca.exists());
}

#[test]
fn with_a_host_name_the_certificate_covers_every_service_host() {
    use std::io::{Read as _, Write as _};
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, ServerName};

    let emu = keboola_emulator::spawn(keboola_emulator::EmulatorOptions {
        tls: true,
        hostname: Some("keboola.local".into()),
        ..keboola_emulator::EmulatorOptions::default()
    })
    .unwrap();
    assert!(emu.url().starts_with("https://connection.keboola.local:"));
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(emu.ca_cert().unwrap()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    // What a client that resolves these names to the emulator does: SNI and Host agree.
    let get = |host: &str, path: &str| {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        let conn = rustls::ClientConnection::new(Arc::clone(&config), name).unwrap();
        let sock = std::net::TcpStream::connect(emu.local_addr()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        write!(
            tls,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        // A peer closing without close_notify still leaves the full answer read.
        let _ = tls.read_to_string(&mut out);
        out
    };
    let index = get("connection.keboola.local", "/v2/storage?exclude=components");
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("https://queue.keboola.local:"), "{index}");
    // The Job Queue itself answers (no token: 401 in its envelope).
    let queue = get("queue.keboola.local", "/search/jobs");
    assert!(queue.starts_with("HTTP/1.1 401"), "{queue}");
    let scheduler = get("scheduler.keboola.local", "/schedules");
    assert!(scheduler.starts_with("HTTP/1.1 501"), "{scheduler}");
}
