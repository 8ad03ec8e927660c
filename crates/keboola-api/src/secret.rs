//! API tokens and how they are shown.
//!
//! A [`Token`] never prints its value: `Debug` shows the masked form, and there is no
//! `Display` or `Serialize`. [`Token::expose`] is the single place the raw value leaves
//! the type, so every use of it can be found with a search.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A Storage or Manage API token.
#[derive(Clone)]
pub struct Token(SecretString);

/// Why a string was refused as a token. Messages never include the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("the token is empty")]
    Empty,
    #[error("the token contains whitespace")]
    Whitespace,
    #[error("the token contains a control character")]
    ControlCharacter,
    #[error("the token contains a non-ASCII character")]
    NonAscii,
}

impl Token {
    /// Validates and wraps a token.
    ///
    /// The value is not trimmed: a stray newline from a file or stdin is an error here,
    /// so callers trim deliberately instead of this type guessing.
    pub fn new(raw: impl Into<String>) -> Result<Token, InvalidToken> {
        // Wrap first, so a rejected value is still zeroized when dropped.
        let secret = SecretString::from(raw.into());
        validate(secret.expose_secret())?;
        Ok(Token(secret))
    }

    /// The raw token, for an HTTP header or the config file. Never log or print it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The token in its masked, printable form (see [`mask_token`]).
    pub fn masked(&self) -> String {
        mask_token(self.expose())
    }
}

fn validate(raw: &str) -> Result<(), InvalidToken> {
    if raw.chars().all(char::is_whitespace) {
        return Err(InvalidToken::Empty);
    }
    for c in raw.chars() {
        if c.is_ascii_whitespace() {
            return Err(InvalidToken::Whitespace);
        }
        if c.is_ascii_control() {
            return Err(InvalidToken::ControlCharacter);
        }
        if !c.is_ascii() {
            return Err(InvalidToken::NonAscii);
        }
    }
    Ok(())
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.masked())
    }
}

/// Masks a token for display: `"<text before the first '-'>-...<last 4 chars>"`.
///
/// Returns `"***"` when that form would reveal too much or says nothing useful: the
/// token is shorter than 8 characters, has no `-`, or its first `-` is among the last
/// 4 characters.
pub fn mask_token(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let len = chars.len();
    let Some(dash) = chars.iter().position(|&c| c == '-') else {
        return "***".to_owned();
    };
    if len < 8 || dash >= len - 4 {
        return "***".to_owned();
    }
    let prefix: String = chars[..dash].iter().collect();
    let suffix: String = chars[len - 4..].iter().collect();
    format!("{prefix}-...{suffix}")
}

/// Replaces anything in `text` that looks like a Keboola token with its masked form.
///
/// Used on text that came from a server (error messages, body excerpts) before it is
/// stored in an error, because a server may echo a credential back, and on error text that
/// repeats user input, where a token may have been pasted in the wrong place.
pub fn mask_secrets_in(text: &str, known: Option<&Token>) -> String {
    let mut text = text.to_owned();
    if let Some(token) = known {
        let raw = token.expose();
        // A very short value would match ordinary words; real tokens are long.
        if raw.len() >= 8 && text.contains(raw) {
            text = text.replace(raw, &token.masked());
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            word.push(c);
        } else {
            flush_word(&mut out, &mut word);
            out.push(c);
        }
    }
    flush_word(&mut out, &mut word);
    out
}

fn flush_word(out: &mut String, word: &mut String) {
    if looks_like_token(word) {
        out.push_str(&mask_token(word));
    } else {
        mask_embedded(out, word);
    }
    word.clear();
}

/// Storage tokens are `<project>-<id>-<secret>`, Manage tokens `<id>-<secret>`, and
/// programmatic ones start with `kbc_`. A short number-dash prefix followed by a long
/// tail is treated as a token; ids and dates are too short to match.
pub(crate) fn looks_like_token(word: &str) -> bool {
    if word.starts_with("kbc_") && word.len() >= 12 {
        return true;
    }
    let Some((head, tail)) = word.split_once('-') else {
        return false;
    };
    !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit()) && tail.len() >= 16
}

/// Copies `word` to `out`, masking a token glued to other characters (`x<token>`,
/// `--<token>`, `id_<token>`). Inside a word only the strict shapes count, so that
/// UUIDs and hyphenated names stay readable: `<digits>-[<digits>-]<16+ letters and
/// digits>`, starting where a run of digits starts, or `kbc_` and 8 more characters.
fn mask_embedded(out: &mut String, word: &str) {
    let bytes = word.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let run_start = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit());
        let end = if run_start {
            embedded_token_end(bytes, i)
        } else if word[i..].starts_with("kbc_") && bytes.len() - i >= 12 {
            Some(bytes.len())
        } else {
            None
        };
        if let Some(end) = end {
            out.push_str(&word[copied..i]);
            out.push_str(&mask_token(&word[i..end]));
            copied = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&word[copied..]);
}

/// The end of a `<digits>-[<digits>-]<16+ alphanumerics>` token starting at `start`.
fn embedded_token_end(bytes: &[u8], start: usize) -> Option<usize> {
    let run = |from: usize, pred: fn(&u8) -> bool| {
        from + bytes[from..].iter().take_while(|b| pred(b)).count()
    };
    let digits_end = run(start, u8::is_ascii_digit);
    if bytes.get(digits_end) != Some(&b'-') {
        return None;
    }
    let second = digits_end + 1;
    let secret_end = run(second, u8::is_ascii_alphanumeric);
    if secret_end - second >= 16 {
        return Some(secret_end);
    }
    // `<project>-<id>-<secret>`: the middle part is digits only.
    let id_end = run(second, u8::is_ascii_digit);
    if id_end == second || bytes.get(id_end) != Some(&b'-') {
        return None;
    }
    let third = id_end + 1;
    let secret_end = run(third, u8::is_ascii_alphanumeric);
    (secret_end - third >= 16).then_some(secret_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_token_follows_the_rule() {
        let cases = [
            (
                "578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b",
                "578-...bc2b",
            ),
            ("1234-5678", "1234-...5678"),
            ("ab-cdefgh", "ab-...efgh"),
            // shorter than 8
            ("12-4567", "***"),
            ("", "***"),
            // no dash
            ("abcdefghijklmnop", "***"),
            ("kbc_at_0123456789abcdef", "***"),
            // first dash within the last 4 characters
            ("abcdefg-xyz", "***"),
            ("abcdefgh-", "***"),
            // first dash exactly 5 from the end is allowed
            ("abcdef-wxyz", "abcdef-...wxyz"),
            ("-abcdefgh", "-...efgh"),
            // non-ASCII input must not panic
            ("žluťoučký-kůň-úpěl", "žluťoučký-...úpěl"),
        ];
        for (raw, want) in cases {
            assert_eq!(mask_token(raw), want, "mask_token({raw:?})");
        }
    }

    #[test]
    fn token_validation() {
        let ok = ["578-67319-abc", "x", "kbc_pat_abc123", "a-b_c.d~e"];
        for raw in ok {
            assert!(Token::new(raw).is_ok(), "{raw:?} should be accepted");
        }
        let bad = [
            ("", InvalidToken::Empty),
            ("   ", InvalidToken::Empty),
            ("\n", InvalidToken::Empty),
            ("\t \r\n", InvalidToken::Empty),
            ("abc\n", InvalidToken::Whitespace),
            (" abc", InvalidToken::Whitespace),
            ("ab c", InvalidToken::Whitespace),
            ("ab\tc", InvalidToken::Whitespace),
            ("ab\u{0}c", InvalidToken::ControlCharacter),
            ("ab\u{7f}c", InvalidToken::ControlCharacter),
            ("ab\u{1b}[0m", InvalidToken::ControlCharacter),
            ("tokén", InvalidToken::NonAscii),
            ("ab\u{a0}c", InvalidToken::NonAscii),
        ];
        for (raw, want) in bad {
            assert_eq!(Token::new(raw).err(), Some(want), "Token::new({raw:?})");
        }
    }

    #[test]
    fn invalid_token_messages_do_not_echo_input() {
        let secret = "999-888-topsecretvalue\n";
        let err = Token::new(secret).unwrap_err();
        assert!(!err.to_string().contains("topsecret"));
        assert!(!format!("{err:?}").contains("topsecret"));
    }

    #[test]
    fn token_debug_and_masked_hide_the_secret() {
        let token = Token::new("578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b").unwrap();
        assert_eq!(format!("{token:?}"), "Token(578-...bc2b)");
        assert_eq!(format!("{token:#?}"), "Token(578-...bc2b)");
        assert_eq!(token.masked(), "578-...bc2b");
        assert_eq!(
            token.expose(),
            "578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b"
        );
        let cloned = token.clone();
        assert_eq!(cloned.expose(), token.expose());
    }

    #[test]
    fn secrets_in_server_text_are_masked() {
        let text = "Invalid token 578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b, \
                    session kbc_at_0123456789abcdef; manage 123-abcdefghijklmnopqrst.";
        let masked = mask_secrets_in(text, None);
        assert_eq!(
            masked,
            "Invalid token 578-...bc2b, session ***; manage 123-...qrst."
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "Configuration 12345 of keboola.ex-db-mysql not found in branch 5 \
                    (exception com-keboola-gcp-connection-0123456789abcdef, 2024-01-02)";
        assert_eq!(mask_secrets_in(text, None), text);
    }

    #[test]
    fn the_known_token_is_masked_whatever_its_shape() {
        let token = Token::new("plain_secret_without_digits").unwrap();
        let masked = mask_secrets_in("echo: plain_secret_without_digits!", Some(&token));
        assert_eq!(masked, "echo: ***!");
    }

    #[test]
    fn glued_tokens_are_masked() {
        let t = "578-67319-460300c259ec3fcba4b95d1d5c14a8419268bc2b";
        for (text, want) in [
            (format!("x{t}"), "x578-...bc2b".to_owned()),
            (format!("--{t}"), "--578-...bc2b".to_owned()),
            (format!("\"{t}\""), "\"578-...bc2b\"".to_owned()),
            (format!("={t}"), "=578-...bc2b".to_owned()),
            (format!("--token={t}"), "--token=578-...bc2b".to_owned()),
            (format!("id_{t}_x"), "id_578-...bc2b_x".to_owned()),
            (
                "ab-123-abcdefghijklmnopqrst".to_owned(),
                "ab-123-...qrst".to_owned(),
            ),
            ("x_kbc_at_0123456789abcdef".to_owned(), "x_***".to_owned()),
        ] {
            assert_eq!(mask_secrets_in(&text, None), want, "{text}");
        }
    }

    #[test]
    fn uuids_and_names_inside_words_stay() {
        for text in [
            "job 550e8400-e29b-41d4-a716-446655440000 failed",
            "x2024-01-02T10:00:00",
            "keboola.ex-db-mysql-123-abc",
            "a1-2-short",
        ] {
            assert_eq!(mask_secrets_in(text, None), text);
        }
    }

    proptest::proptest! {
        #[test]
        fn glued_tokens_never_show_their_secret(
            prefix in "[a-zA-Z_=\"'-]{0,6}",
            suffix in "[_=\"'.,;: -]{0,6}",
            project in 1u32..1_000_000,
            id in 1u32..1_000_000,
            secret in "[0-9a-zA-Z]{40}",
            manage in proptest::bool::ANY,
        ) {
            let raw = if manage { format!("{id}-{secret}") } else { format!("{project}-{id}-{secret}") };
            let text = format!("{prefix}{raw}{suffix}");
            let masked = mask_secrets_in(&text, None);
            proptest::prop_assert!(!masked.contains(&secret[..36]), "{} -> {}", text, masked);
        }

        #[test]
        fn masked_storage_token_never_contains_its_secret(
            project in 1u32..1_000_000,
            id in 1u32..1_000_000,
            secret in "[0-9a-zA-Z]{40}",
        ) {
            let raw = format!("{project}-{id}-{secret}");
            let masked = mask_token(&raw);
            proptest::prop_assert!(!masked.contains(&secret[..36]));
            proptest::prop_assert_eq!(masked, format!("{project}-...{}", &secret[36..]));
            let in_text = mask_secrets_in(&format!("token {raw} rejected"), None);
            proptest::prop_assert!(!in_text.contains(&secret[..36]));
        }
    }
}
