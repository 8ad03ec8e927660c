//! Tables for human output: boxed and fitted to the terminal when a person is looking,
//! plain aligned columns (never truncated) when piped, so `grep`/`awk` keep working.

use std::sync::OnceLock;

use comfy_table::{ContentArrangement, presets};

/// Below this many columns a reported terminal size is taken as no size at all (a
/// pseudo-terminal that reports 0 columns would squeeze every column to one character).
const MIN_WIDTH: u16 = 40;
/// The width used when the terminal reports none and `COLUMNS` does not say.
const FALLBACK_WIDTH: u16 = 120;
/// A `COLUMNS` above this is a mistake, not a terminal.
const MAX_WIDTH: u16 = 1000;

/// `COLUMNS` as read at start-up (see [`set_columns`]). Process-wide because the width is a
/// property of the terminal the process runs on, like the tty checks, and every table of the
/// run uses it.
static COLUMNS: OnceLock<u16> = OnceLock::new();

/// Takes `COLUMNS` (from `Env`) as the width for a terminal that reports none, when it is a
/// number from 40 to 1000; anything else leaves the 120-column fallback.
pub fn set_columns(columns: Option<&str>) {
    let _ = COLUMNS.set(fallback_width(columns));
}

fn fallback_width(columns: Option<&str>) -> u16 {
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| (MIN_WIDTH..=MAX_WIDTH).contains(w))
        .unwrap_or(FALLBACK_WIDTH)
}

pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self, terminal: bool) -> String {
        let mut t = comfy_table::Table::new();
        if terminal {
            t.load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
            if t.width().is_none_or(|w| w < MIN_WIDTH) {
                t.set_width(*COLUMNS.get().unwrap_or(&FALLBACK_WIDTH));
            }
        } else {
            t.load_style(presets::NOTHING)
                .set_content_arrangement(ContentArrangement::Disabled);
        }
        t.set_header(&self.headers);
        for row in &self.rows {
            t.add_row(row);
        }
        let text = t.to_string();
        // The plain preset pads every line to the table width; trailing blanks only get in the way.
        let mut out: String = text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        out.push('\n');
        out
    }
}

/// Formats an optional value for a table cell.
pub fn cell<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_is_used_only_when_sane() {
        assert_eq!(fallback_width(None), 120);
        assert_eq!(fallback_width(Some("80")), 80);
        assert_eq!(fallback_width(Some(" 200 ")), 200);
        assert_eq!(fallback_width(Some("0")), 120);
        assert_eq!(fallback_width(Some("39")), 120);
        assert_eq!(fallback_width(Some("40")), 40);
        assert_eq!(fallback_width(Some("1001")), 120);
        assert_eq!(fallback_width(Some("wide")), 120);
        assert_eq!(fallback_width(Some("-5")), 120);
    }
}
