//! An independent check of SigV4 query signatures (AWS's presigned-URL rules), so the
//! transfer tests prove the S3 requests are signed correctly, not only shaped so.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::server::Recorded;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986 encoding: only unreserved characters stay.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The signature the request should carry for `secret`, recomputed from what was sent.
pub fn expected_signature(r: &Recorded, secret: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(r.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "X-Amz-Signature")
            .map(|(k, v)| (encode(&k), encode(&v)))
            .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let get = |key: &str| {
        url::form_urlencoded::parse(r.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let signed = get("X-Amz-SignedHeaders");
    let headers: String = signed
        .split(';')
        .map(|name| format!("{name}:{}\n", r.header(name).unwrap().trim()))
        .collect();
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{signed}\nUNSIGNED-PAYLOAD",
        r.method,
        r.path(),
        query.join("&")
    );
    let date_time = get("X-Amz-Date");
    let credential = get("X-Amz-Credential");
    let scope = credential.split_once('/').unwrap().1;
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part);
    }
    hex(&hmac(&key, &to_sign))
}
