//! A throwaway CA and a server certificate for 127.0.0.1, ::1, localhost and, when set,
//! the host name and its service subdomains.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::crypto::random_alnum;

pub(crate) fn temp_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "keboola-emulator-{}",
        random_alnum(&mut rand::rng(), 12)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Generates a CA and a leaf certificate signed by it, writes the CA to `dir/ca.pem`
/// (clients trust that file) and returns the acceptor plus the CA path.
///
/// A separate CA keeps strict verifiers happy: a self-signed leaf used as its own trust
/// anchor is rejected by some TLS stacks.
pub(crate) fn setup(dir: &Path, hostname: Option<&str>) -> anyhow::Result<(TlsAcceptor, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "keboola-emulator local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut names = vec![
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        "localhost".to_owned(),
    ];
    if let Some(h) = hostname {
        // One wildcard covers connection., queue., encryption. and every other service.
        names.extend([h.to_owned(), format!("*.{h}")]);
    }
    let mut leaf_params = CertificateParams::new(names)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "keboola-emulator");
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem())
        .with_context(|| format!("cannot write {}", ca_path.display()))?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok((TlsAcceptor::from(Arc::new(config)), ca_path))
}
