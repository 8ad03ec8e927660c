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
