//! Extra TLS roots from a CA file.

use std::io::Read;
use std::path::Path;

use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::error::ApiError;

/// Largest CA file read. Real bundles are a few hundred KiB; the cap keeps a wrong path
/// such as `/dev/zero` or a huge file from hanging the client or exhausting memory.
pub(crate) const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The bundled Mozilla roots plus every certificate in the PEM file at `path`.
pub(crate) fn roots_with_extra_ca(path: &Path) -> Result<RootCerts, ApiError> {
    let shown = path.display();
    let cannot_read =
        |e: std::io::Error| ApiError::config(format!("cannot read the CA file {shown}: {e}"));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(cannot_read)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(ApiError::config(format!(
            "the CA file {shown} is larger than {} MiB; it must be a PEM certificate bundle",
            MAX_CA_FILE_BYTES / (1024 * 1024)
        )));
    }
    let mut extra = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => extra.push(cert),
            Ok(_) => {}
            Err(e) => {
                return Err(ApiError::config(format!(
                    "cannot parse the CA file {shown}: {e}"
                )));
            }
        }
    }
    if extra.is_empty() {
        return Err(ApiError::config(format!(
            "the CA file {shown} contains no PEM certificate"
        )));
    }
    let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect();
    all.extend(extra);
    Ok(RootCerts::new_with_certs(&all))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::error::ApiErrorKind;
    use crate::http::{Http, HttpConfig};

    use super::*;

    fn with_ca(path: PathBuf) -> ApiError {
        Http::new(HttpConfig {
            extra_ca_file: Some(path),
            proxy: None,
            ..HttpConfig::default()
        })
        .unwrap_err()
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let err = with_ca(PathBuf::from("/nonexistent/kbagent-test-ca.pem"));
        assert_eq!(err.kind(), &ApiErrorKind::Config);
        assert!(
            err.to_string().contains("/nonexistent/kbagent-test-ca.pem"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_ca_file_is_capped() {
        let err = with_ca(PathBuf::from("/dev/zero"));
        assert_eq!(err.kind(), &ApiErrorKind::Config);
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
    }

    #[test]
    fn a_huge_ca_file_is_refused_and_one_under_the_cap_is_parsed() {
        let dir = std::env::temp_dir().join(format!("kbagent-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let huge = dir.join("huge.pem");
        let file = std::fs::File::create(&huge).unwrap();
        file.set_len(MAX_CA_FILE_BYTES + 1).unwrap();
        let err = with_ca(huge);
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
        // Exactly at the cap the file is read, and refused only for holding no certificate.
        let full = dir.join("full.pem");
        let file = std::fs::File::create(&full).unwrap();
        file.set_len(MAX_CA_FILE_BYTES).unwrap();
        let err = with_ca(full);
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
