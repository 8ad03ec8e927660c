//! Table data: CSV in (full and incremental loads, primary-key upserts) and CSV out
//! (previews with a header, headerless export slices).

use std::io::Read as _;

use jiff::Timestamp;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};

use crate::db::to_sql;
use crate::http::{ApiError, param_bool, param_str};
use crate::storage::jobs::JobError;
use crate::storage::tables::filter::Selection;
use crate::storage::tables::{TS_COLUMN, Table, quote, refresh_stats, save_columns, set_stats};

/// How an uploaded CSV is written.
#[derive(Clone, Debug)]
pub(crate) struct CsvOptions {
    delimiter: u8,
    enclosure: Option<u8>,
    escaped_by: Option<u8>,
    without_headers: bool,
    /// Column order of a header-less file.
    columns: Option<Vec<String>>,
}

fn invalid_csv(message: &str) -> ApiError {
    ApiError::bad_request(message, "invalidCsv")
}

fn one_byte(params: &Map<String, Value>, key: &str, default: &str) -> Result<Option<u8>, ApiError> {
    let value = param_str(params, key).unwrap_or(default);
    match value.as_bytes() {
        [] => Ok(None),
        [b] => Ok(Some(*b)),
        // A tab may come escaped.
        b"\\t" => Ok(Some(b'\t')),
        _ => Err(invalid_csv(&format!(
            "Invalid {key}: \"{value}\". {key} must be a single character."
        ))),
    }
}

impl CsvOptions {
    /// Reads `delimiter`, `enclosure`, `escapedBy`, `withoutHeaders` and `columns`;
    /// bad values are refused before a job starts, as on Keboola.
    pub fn parse(params: &Map<String, Value>) -> Result<Self, ApiError> {
        let delimiter = one_byte(params, "delimiter", ",")?
            .ok_or_else(|| invalid_csv("Delimiter cannot be empty."))?;
        let enclosure = one_byte(params, "enclosure", "\"")?;
        let escaped_by = one_byte(params, "escapedBy", "")?;
        if enclosure.is_some() && escaped_by.is_some() && params.contains_key("enclosure") {
            return Err(invalid_csv(
                "Invalid CSV params. Either enclosure or escapedBy must be specified, not both.",
            ));
        }
        let columns = match params.get("columns") {
            Some(Value::String(s)) => Some(s.split(',').map(|c| c.trim().to_owned()).collect()),
            Some(_) => crate::http::param_str_list(params, "columns")?,
            None => None,
        };
        Ok(Self {
            delimiter,
            enclosure: if escaped_by.is_some() && !params.contains_key("enclosure") {
                None
            } else {
                enclosure
            },
            escaped_by,
            without_headers: param_bool(params, "withoutHeaders")?.unwrap_or(false),
            columns,
        })
    }
}

impl CsvOptions {
    /// The options for the file at hand: slices never have a header, so with `columns`
    /// given they are read header-less.
    pub fn for_file(&self, sliced: bool) -> Self {
        let mut opts = self.clone();
        if sliced && opts.columns.is_some() {
            opts.without_headers = true;
        }
        opts
    }
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            enclosure: Some(b'"'),
            escaped_by: None,
            without_headers: false,
            columns: None,
        }
    }
}

/// A parsed CSV: header and records.
pub(crate) struct Parsed {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Keboola's column-name rule: letters, digits and underscores, at most 64 characters.
/// UNCERTAIN: diacritics are dropped rather than transliterated.
pub(crate) fn sanitize_column(name: &str) -> String {
    let mut out = String::new();
    for ch in name.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if ch.is_ascii() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    out.chars().take(64).collect()
}

/// Gunzips when the bytes are gzip, drops a UTF-8 BOM, parses the CSV.
pub(crate) fn parse_csv(bytes: &[u8], opts: &CsvOptions) -> Result<Parsed, JobError> {
    let mut plain;
    let mut data = bytes;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        plain = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut plain)
            .map_err(|_| {
                JobError::new(
                    "storage.tables.validation.invalidCsv",
                    "The file is not valid gzip.",
                )
            })?;
        data = &plain;
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .delimiter(opts.delimiter)
        .flexible(true);
    match opts.enclosure {
        Some(q) => {
            builder.quote(q);
        }
        None => {
            builder.quoting(false);
        }
    }
    if let Some(e) = opts.escaped_by {
        builder.escape(Some(e)).double_quote(false);
    }
    let mut reader = builder.from_reader(data);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            JobError::new(
                "storage.tables.validation.invalidCsv",
                &format!("Invalid CSV: {e}"),
            )
        })?;
        rows.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
    }
    let header = if opts.without_headers {
        opts.columns.clone().unwrap_or_default()
    } else if rows.is_empty() {
        Vec::new()
    } else {
        let raw = rows.remove(0);
        let mut header = Vec::new();
        for name in raw {
            let clean = sanitize_column(&name);
            if clean.is_empty() {
                return Err(JobError::new(
                    "storage.tables.validation.invalidColumnName",
                    &format!("Invalid column name \"{name}\"."),
                ));
            }
            header.push(clean);
        }
        header
    };
    Ok(Parsed { header, rows })
}

/// What an import reports in the job's `results`.
pub(crate) struct Imported {
    pub columns: Vec<String>,
    pub rows: u64,
}

/// Loads parsed rows: a full load replaces the data, an incremental one appends, and with a
/// primary key both upsert (a key repeated in the file keeps its last row).
pub(crate) fn import_rows(
    conn: &Connection,
    table: &mut Table,
    parsed: &Parsed,
    incremental: bool,
    now: Timestamp,
) -> Result<Imported, JobError> {
    let header = if parsed.header.is_empty() && !parsed.rows.is_empty() {
        // Header-less data without `columns`: the table's own order.
        table.columns.clone()
    } else {
        parsed.header.clone()
    };
    let mut seen = std::collections::HashSet::new();
    for c in &header {
        if !seen.insert(c.as_str()) {
            return Err(JobError::new(
                "storage.tables.validation.duplicateColumns",
                &format!("There are duplicate columns in the CSV file: {c}"),
            ));
        }
    }
    let missing: Vec<&String> = table
        .columns
        .iter()
        .filter(|c| !header.contains(c))
        .collect();
    if !missing.is_empty() {
        let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        return Err(JobError::new(
            "csvImport.columnsNotMatch",
            &format!(
                "Some columns are missing in the csv file. Missing columns: {}. Expected columns: {}. Please check if the expected delimiter \",\" is used in the csv file.",
                list(&missing),
                list(&table.columns.iter().collect::<Vec<_>>())
            ),
        ));
    }
    let tx = conn.unchecked_transaction()?;
    let extra: Vec<String> = header
        .iter()
        .filter(|c| !table.columns.contains(c))
        .cloned()
        .collect();
    if !extra.is_empty() {
        if table.definition.is_some() {
            return Err(JobError::new(
                "csvImport.columnsNotMatch",
                &format!(
                    "Columns {} are not in the typed table {}; add them first.",
                    extra.join(", "),
                    table.id
                ),
            ));
        }
        for c in &extra {
            tx.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {} TEXT NOT NULL DEFAULT ''",
                table.sql_name(),
                quote(c)
            ))?;
            table.columns.push(c.clone());
        }
        save_columns(&tx, table)?;
    }
    if !incremental {
        tx.execute_batch(&format!("DELETE FROM {}", table.sql_name()))?;
    }
    let mut sql = insert_sql(table, &header);
    if !table.primary_key.is_empty() {
        let pk: Vec<String> = table.primary_key.iter().map(|c| quote(c)).collect();
        let set: Vec<String> = header
            .iter()
            .map(|c| format!("{0} = excluded.{0}", quote(c)))
            .chain([format!("{TS_COLUMN} = excluded.{TS_COLUMN}")])
            .collect();
        sql.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            pk.join(", "),
            set.join(", ")
        ));
    }
    {
        let mut stmt = tx.prepare(&sql)?;
        let ts = to_sql(now).to_string();
        for (i, row) in parsed.rows.iter().enumerate() {
            if row.len() != header.len() {
                return Err(JobError::new(
                    "storage.tables.validation.invalidCsv",
                    &format!(
                        "Invalid CSV: row {} has {} values, the header {}.",
                        i + 1,
                        row.len(),
                        header.len()
                    ),
                ));
            }
            stmt.execute(params_from_iter(row.iter().chain([&ts])))?;
        }
    }
    refresh_stats(&tx, table, now, true)?;
    tx.commit()?;
    Ok(Imported {
        columns: header,
        rows: parsed.rows.len() as u64,
    })
}

fn insert_sql(table: &Table, columns: &[String]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let marks: Vec<String> = (1..=columns.len() + 1).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}{}{TS_COLUMN}) VALUES ({})",
        table.sql_name(),
        cols.join(", "),
        if cols.is_empty() { "" } else { ", " },
        marks.join(", ")
    )
}

/// Inserts generated rows in the caller's transaction with one prepared statement.
pub(crate) fn seed_rows(
    conn: &Connection,
    table: &Table,
    count: u64,
    row: &mut dyn FnMut(u64, &mut Vec<String>),
    now: Timestamp,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&insert_sql(table, &table.columns))?;
    let mut values = Vec::with_capacity(table.columns.len() + 1);
    let ts = to_sql(now).to_string();
    let mut size = 0u64;
    for i in 0..count {
        values.clear();
        row(i, &mut values);
        size += values.iter().map(|v| v.len() as u64).sum::<u64>();
        values.push(ts.clone());
        stmt.execute(params_from_iter(values.iter()))?;
    }
    set_stats(conn, table, count, size, now, true)
}

/// Selected rows, in load order.
pub(crate) fn select<E: From<rusqlite::Error>>(
    conn: &Connection,
    table: &Table,
    selection: &Selection,
    each: &mut dyn FnMut(Vec<String>) -> Result<(), E>,
) -> Result<(), E> {
    let columns = selection.output_columns(table);
    let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let (where_sql, args) = selection.where_sql();
    let limit = selection
        .limit
        .map_or_else(String::new, |l| format!(" LIMIT {l}"));
    let sql = format!(
        "SELECT {} FROM {}{where_sql}{}{limit}",
        if cols.is_empty() {
            "1".to_owned()
        } else {
            cols.join(", ")
        },
        table.sql_name(),
        selection.order_sql()
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(r.get::<_, Option<String>>(i)?.unwrap_or_default());
        }
        each(values)?;
    }
    Ok(())
}

/// Deletes the selected rows; returns how many.
pub(crate) fn delete_selected(
    conn: &Connection,
    table: &Table,
    selection: &Selection,
    now: Timestamp,
) -> rusqlite::Result<usize> {
    let (where_sql, args) = selection.where_sql();
    let tx = conn.unchecked_transaction()?;
    let deleted = tx.execute(
        &format!("DELETE FROM {}{where_sql}", table.sql_name()),
        params_from_iter(args.iter()),
    )?;
    refresh_stats(&tx, table, now, false)?;
    tx.commit()?;
    Ok(deleted)
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

/// A CSV with a header, every field quoted: the `rfc` data preview.
pub(crate) fn preview_csv(
    conn: &Connection,
    table: &Table,
    selection: &Selection,
) -> Result<Vec<u8>, ApiError> {
    let mut w = csv_writer();
    let _ = w.write_record(selection.output_columns(table));
    select(conn, table, selection, &mut |row| {
        w.write_record(&row)
            .map_err(|_| ApiError::application_error())
    })?;
    w.into_inner().map_err(|_| ApiError::application_error())
}

/// The `json` data preview: `{"columns":[...],"rows":[[{columnName,value,isTruncated}]]}`.
pub(crate) fn preview_json(
    conn: &Connection,
    table: &Table,
    selection: &Selection,
) -> Result<Value, ApiError> {
    const MAX: usize = 16_384;
    let columns = selection.output_columns(table);
    let mut rows = Vec::new();
    select(conn, table, selection, &mut |row| {
        let cells: Vec<Value> = row
            .into_iter()
            .zip(&columns)
            .map(|(value, name)| {
                let truncated = value.chars().count() > MAX;
                let value: String = if truncated {
                    value.chars().take(MAX).collect()
                } else {
                    value
                };
                json!({"columnName": name, "value": value, "isTruncated": truncated})
            })
            .collect();
        rows.push(Value::Array(cells));
        Ok::<_, ApiError>(())
    })?;
    Ok(json!({"columns": columns, "rows": rows}))
}

/// Headerless, fully quoted CSV slices of at most `slice_rows` rows (at least one slice).
pub(crate) fn export_slices(
    conn: &Connection,
    table: &Table,
    selection: &Selection,
    slice_rows: usize,
) -> Result<Vec<Vec<u8>>, JobError> {
    let mut slices = Vec::new();
    let mut w = csv_writer();
    let mut in_slice = 0usize;
    select(conn, table, selection, &mut |row| {
        if in_slice == slice_rows {
            let full = std::mem::replace(&mut w, csv_writer());
            slices.push(full.into_inner().map_err(|e| JobError::internal(&e))?);
            in_slice = 0;
        }
        in_slice += 1;
        w.write_record(&row).map_err(|e| JobError::internal(&e))
    })?;
    slices.push(w.into_inner().map_err(|e| JobError::internal(&e))?);
    Ok(slices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_sanitized() {
        assert_eq!(sanitize_column("with spaces"), "with_spaces");
        assert_eq!(sanitize_column(" id "), "id");
        assert_eq!(sanitize_column("a--b"), "a_b");
        assert_eq!(sanitize_column("***"), "");
    }

    #[test]
    fn csv_parses_quotes_bom_and_crlf() {
        let parsed = parse_csv(
            b"\xEF\xBB\xBFid,\"na me\"\r\n1,\"a, \"\"b\"\"\"\r\n2,c",
            &CsvOptions::default(),
        )
        .unwrap();
        assert_eq!(parsed.header, vec!["id", "na_me"]);
        assert_eq!(parsed.rows, vec![vec!["1", "a, \"b\""], vec!["2", "c"]]);
    }
}
