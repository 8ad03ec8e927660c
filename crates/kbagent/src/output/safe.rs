//! Terminal safety: every control character in human output is escaped before it reaches
//! stdout or stderr, so a name or message from the server (any project member can rename a
//! configuration) cannot write the clipboard (OSC 52), set the title, clear the screen,
//! move the cursor (CSI, `\r`, C1) or reorder the text (bidi overrides).
//!
//! Our own styling survives because the printer marks it: every styling sequence it emits
//! is preceded by a marker that is random per run, so text from elsewhere cannot forge one.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};

/// Which styling sequences (SGR, `ESC [ ... m`) may pass unescaped.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Only those preceded by this marker (the printer's own).
    Marked(&'a str),
    /// Any SGR sequence, nothing else (the log formatter's colours; a forged one can
    /// change colours but not the clipboard, the title or the cursor).
    AnySgr,
    /// None: every escape character is shown escaped.
    Nothing,
}

/// A marker no server-provided text can contain: random for every run.
pub fn new_marker() -> String {
    let n = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("\u{E000}{n:016x}\u{E001}")
}

/// Puts `marker` before every SGR run of `styled`: for text whose styling we trust (clap's
/// rendering of our own help).
pub fn mark_styles(styled: &str, marker: &str) -> String {
    let mut out = String::with_capacity(styled.len());
    let mut rest = styled;
    while !rest.is_empty() {
        let n = sgr_run(rest);
        if n > 0 {
            out.push_str(marker);
            out.push_str(&rest[..n]);
            rest = &rest[n..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// `text` with every control character escaped (`\x1b`, `\r`, `\u{9b}`, `\u{202e}`), except
/// newlines, tabs and the styling that `trust` lets through.
pub fn sanitize(text: &str, trust: Trust<'_>) -> String {
    if !text.chars().any(needs_escape) && !matches!(trust, Trust::Marked(m) if text.contains(m)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        match trust {
            Trust::Marked(m) if !m.is_empty() && rest.starts_with(m) => {
                rest = &rest[m.len()..];
                let n = sgr_run(rest);
                out.push_str(&rest[..n]);
                rest = &rest[n..];
                continue;
            }
            Trust::AnySgr => {
                let n = sgr_run(rest);
                if n > 0 {
                    out.push_str(&rest[..n]);
                    rest = &rest[n..];
                    continue;
                }
            }
            _ => {}
        }
        let c = rest.chars().next().unwrap_or_default();
        rest = &rest[c.len_utf8()..];
        push_escaped(&mut out, c);
    }
    out
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Characters that reorder the text around them (Trojan Source), shown escaped.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\r' => write!(out, "\\r"),
        c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

/// Length of the run of SGR sequences (`ESC [ digits ; : m`) at the start of `s`.
fn sgr_run(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while bytes.get(i) == Some(&0x1b) && bytes.get(i + 1) == Some(&b'[') {
        let mut j = i + 2;
        while bytes
            .get(j)
            .is_some_and(|b| b.is_ascii_digit() || *b == b';' || *b == b':')
        {
            j += 1;
        }
        if bytes.get(j) != Some(&b'm') {
            break;
        }
        i = j + 1;
    }
    i
}

/// Pretty JSON whose strings also escape DEL, C1 controls and bidi overrides (serde_json
/// escapes only C0), so a document printed on a terminal is as inert as the human output.
pub struct JsonFormatter(serde_json::ser::PrettyFormatter<'static>);

impl JsonFormatter {
    pub fn new() -> Self {
        Self(serde_json::ser::PrettyFormatter::new())
    }
}

impl serde_json::ser::Formatter for JsonFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// A writer that collects what is written and emits it sanitized when flushed or dropped, so
/// a sequence split over several `write` calls is still seen whole.
pub struct SafeWriter<W: Write> {
    buf: Vec<u8>,
    inner: W,
    trust: Trust<'static>,
    marker: Option<String>,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: W, marker: Option<String>) -> Self {
        Self {
            buf: Vec::new(),
            inner,
            trust: Trust::Nothing,
            marker,
        }
    }

    /// For the log formatter's own colours (see [`Trust::AnySgr`]).
    pub fn any_sgr(inner: W, allow: bool) -> Self {
        Self {
            buf: Vec::new(),
            inner,
            trust: if allow { Trust::AnySgr } else { Trust::Nothing },
            marker: None,
        }
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let raw = std::mem::take(&mut self.buf);
            let text = String::from_utf8_lossy(&raw);
            let trust = match &self.marker {
                Some(m) => Trust::Marked(m),
                None => self.trust,
            };
            self.inner.write_all(sanitize(&text, trust).as_bytes())?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_control_character() {
        let hostile = "a\x1b]52;c;ZWNobw==\x07b\x1b[2Jc\rd\u{9b}31me\u{202e}f\u{7f}\tg\n";
        let clean = sanitize(hostile, Trust::Nothing);
        assert_eq!(
            clean,
            "a\\x1b]52;c;ZWNobw==\\x07b\\x1b[2Jc\\rd\\u{9b}31me\\u{202e}f\\x7f\tg\n"
        );
        assert!(!clean.chars().any(needs_escape));
        // A forged SGR is escaped too unless the trust allows any SGR.
        assert_eq!(sanitize("\x1b[8mx", Trust::Nothing), "\\x1b[8mx");
        assert_eq!(
            sanitize("\x1b[8mx\x1b[2J", Trust::AnySgr),
            "\x1b[8mx\\x1b[2J"
        );
    }

    #[test]
    fn marked_styles_pass_and_unmarked_ones_do_not() {
        let m = new_marker();
        let ours = format!("{m}\x1b[1m\x1b[31mError{m}\x1b[0m: ");
        let text = format!("{ours}\x1b[8mhidden\x1b]0;title\x07");
        assert_eq!(
            sanitize(&text, Trust::Marked(&m)),
            "\x1b[1m\x1b[31mError\x1b[0m: \\x1b[8mhidden\\x1b]0;title\\x07"
        );
        // Another run's marker is not this one's.
        let other = new_marker();
        assert_ne!(m, other);
        assert!(sanitize(&format!("{other}\x1b[1m"), Trust::Marked(&m)).contains("\\x1b[1m"));
        assert_eq!(
            sanitize(
                &mark_styles("\x1b[1mhelp\x1b[0m\x1b]8;;x\x07", &m),
                Trust::Marked(&m)
            ),
            "\x1b[1mhelp\x1b[0m\\x1b]8;;x\\x07"
        );
    }

    #[test]
    fn json_escapes_c1_and_bidi_but_stays_the_same_value() {
        use serde::Serialize;
        let value = serde_json::json!({"name": "a\u{9b}2J\u{202e}b\x1b]0;t\x07\u{7f}é"});
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, JsonFormatter::new());
        value.serialize(&mut ser).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(needs_escape), "{text}");
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains('é'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        // Pretty, like serde_json's own pretty printer.
        assert!(text.starts_with("{\n  \"name\": \"a\\u009b2J"), "{text}");
    }

    #[test]
    fn writer_sanitizes_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = SafeWriter::new(&mut out, None);
            w.write_all(b"x\x1b").unwrap();
            w.write_all(b"]52;c;AA\x07\n").unwrap();
        }
        assert_eq!(out, b"x\\x1b]52;c;AA\\x07\n");
    }
}
