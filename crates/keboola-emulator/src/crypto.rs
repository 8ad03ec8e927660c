//! Secrets and opaque cipher texts.

use rand::Rng;

pub(crate) fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    rng.sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub(crate) fn new_storage_secret(rng: &mut impl Rng, project_id: u64, token_id: u64) -> String {
    format!("{project_id}-{token_id}-{}", random_alnum(rng, 40))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An opaque cipher text: random bytes sized after the plaintext. What it decrypts to is
/// kept beside it by the Encryption API, never derived from it.
pub(crate) fn cipher(rng: &mut impl Rng, prefix: &str, plaintext: &str) -> String {
    let mut bytes = vec![0u8; 48 + plaintext.len()];
    rng.fill(bytes.as_mut_slice());
    format!("KBC::{prefix}::{}", base64(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
