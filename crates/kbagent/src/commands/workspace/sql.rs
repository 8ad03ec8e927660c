//! Running SQL in a workspace through the Query Service, shared by `workspace query`,
//! `workspace from-transformation` and `kbagent query`: split the SQL into statements,
//! submit them as one job, wait, and read the last result page by page (up to `--limit`
//! rows, or every row streamed to a file with `--full`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use keboola_api::{PAGE_SIZE_MAX, PAGE_SIZE_MIN, QueryClient, QueryJob, QueryWait};
use schemars::JsonSchema;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, ErrorCode};
use crate::output::Printer;
use crate::output::Table;
use crate::select::Project;

/// Rows of a page while streaming a whole result: small enough to keep memory flat.
const FULL_PAGE: u32 = 10_000;

/// How rows are shown to people (`--json` always gives JSON rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum RowFormat {
    /// An aligned table
    #[default]
    Table,
    /// CSV with a header
    Csv,
}

/// The SQL flags shared by `workspace query` and `kbagent query`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SqlArgs {
    /// SQL to run; several statements separated by `;` run in order
    #[arg(
        long,
        value_name = "SQL",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub sql: Option<String>,
    /// Read the SQL from this file
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run the statements in one transaction (all or nothing)
    #[arg(long)]
    pub transactional: bool,
    /// Rows to show of the last statement's result
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub limit: u64,
    /// Every row of the result, streamed page by page to --output as CSV
    #[arg(long, requires = "output")]
    pub full: bool,
    /// With --full: the CSV file to write
    #[arg(long, value_name = "FILE", requires = "full")]
    pub output: Option<PathBuf>,
    /// How rows are printed for people: table or csv
    #[arg(long, value_enum, default_value_t = RowFormat::Table)]
    pub format: RowFormat,
}

impl SqlArgs {
    /// The statements to run, from `--sql` or `--file`.
    pub fn statements(&self) -> CliResult<Vec<String>> {
        let text = match (&self.sql, &self.file) {
            (Some(sql), _) => sql.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                CliError::invalid_argument(format!("Cannot read {}: {e}", path.display()))
            })?,
            (None, None) => return Err(CliError::usage("Give the SQL with --sql or --file.")),
        };
        let statements = split_statements(&text);
        if statements.is_empty() {
            return Err(CliError::invalid_argument("The SQL has no statement."));
        }
        Ok(statements)
    }
}

/// Splits SQL at `;` outside quotes and comments; empty statements are dropped.
pub(crate) fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    current.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    // A line comment runs to the end of the line.
                    for d in chars.by_ref() {
                        if d == '\n' {
                            current.push('\n');
                            break;
                        }
                    }
                }
                ';' => out.push(std::mem::take(&mut current)),
                _ => current.push(c),
            },
        }
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A statement of the job, for `data`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct StatementView {
    pub id: String,
    /// The same as `id`.
    pub statement_id: String,
    pub query: String,
    pub status: String,
    pub number_of_rows: Option<u64>,
    pub rows_affected: Option<u64>,
    pub error: Option<String>,
    /// Without --full, each statement that returned rows carries them (at most --limit), as
    /// the Python kbagent gives them: the Query Service's column objects, rows as arrays,
    /// and the same rows as CSV.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub result: Option<StatementRows>,
}

/// One statement's rows (see [`StatementView::result`]).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct StatementRows {
    pub columns: Vec<ColumnView>,
    pub rows: Vec<Vec<Value>>,
    pub row_count: u64,
    pub total_rows: u64,
    pub truncated: bool,
    pub csv_data: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ColumnView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub nullable: Option<bool>,
    pub length: Option<Value>,
}

/// What a query gave: its statements and the last result's rows.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct QueryResult {
    pub query_job_id: String,
    pub statements: Vec<StatementView>,
    /// Columns of the last statement that returned rows.
    pub columns: Vec<String>,
    /// Its rows (at most --limit), one object per row keyed by column.
    #[serde(serialize_with = "rows_as_objects")]
    #[schemars(with = "Vec<Map<String, Value>>")]
    pub rows: RowSet,
    /// Rows shown (or, with --full, written).
    pub row_count: u64,
    /// Rows of the whole result.
    pub total_rows: u64,
    /// Rows were left out because of --limit.
    pub truncated: bool,
    /// With --full: the CSV file written.
    pub output_file: Option<String>,
}

/// Rows with their columns, so they serialize as objects.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowSet {
    pub columns: Vec<String>,
    pub cells: Vec<Vec<Value>>,
}

fn rows_as_objects<S: Serializer>(rows: &RowSet, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(rows.cells.len()))?;
    for row in &rows.cells {
        let obj: Map<String, Value> = rows
            .columns
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .collect();
        seq.serialize_element(&obj)?;
    }
    seq.end()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut line = cells.map(csv_field).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

impl QueryResult {
    /// Rows for people: a table, or CSV.
    pub fn human(&self, p: &Printer, format: RowFormat) -> String {
        if let Some(file) = &self.output_file {
            return format!("Wrote {} rows to {file}\n", self.row_count);
        }
        if self.columns.is_empty() {
            let done = self
                .statements
                .iter()
                .filter(|s| s.status == "completed")
                .count();
            return format!("{done} statement(s) ran; none returned rows.\n");
        }
        match format {
            RowFormat::Csv => {
                let mut out = csv_line(self.columns.iter().map(String::as_str));
                for row in &self.rows.cells {
                    let cells: Vec<String> = row.iter().map(text).collect();
                    out.push_str(&csv_line(cells.iter().map(String::as_str)));
                }
                out
            }
            RowFormat::Table => {
                let mut table = Table::new(self.columns.clone());
                for row in &self.rows.cells {
                    table.row(row.iter().map(text));
                }
                let mut out = table.render(p.stdout_is_terminal());
                if self.truncated {
                    out.push_str(&format!(
                        "({} of {} rows; raise --limit or use --full --output FILE for all)\n",
                        self.row_count, self.total_rows
                    ));
                }
                out
            }
        }
    }
}

/// SIGINT/SIGTERM raise this flag instead of ending the process, so a command that made
/// a workspace can delete it first. A second signal ends the process at once.
pub(crate) fn interrupt_flag() -> &'static AtomicBool {
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Failing to register leaves the default action: no worse than before.
            let _ = signal_hook::flag::register_conditional_shutdown(
                signal,
                128 + signal,
                Arc::clone(&flag),
            );
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        flag
    })
}

fn check_interrupt(flag: &AtomicBool) -> CliResult<()> {
    if flag.load(Ordering::SeqCst) {
        return Err(
            CliError::new(ErrorCode::UsageError, "Interrupted.").detail("interrupted", true)
        );
    }
    Ok(())
}

/// Where the rows go.
#[derive(Clone, Copy)]
pub(crate) enum Sink<'a> {
    /// Up to this many rows, kept for the output.
    Rows(u64),
    /// Every row, as CSV, to this file.
    File(&'a Path),
}

fn failed(job: &QueryJob) -> Option<CliError> {
    let (n, s) = job
        .statements
        .iter()
        .enumerate()
        .find(|(_, s)| s.status == "failed")?;
    let message = s
        .error
        .clone()
        .unwrap_or_else(|| "the statement failed".to_owned());
    Some(
        CliError::new(
            ErrorCode::QueryJobFailed,
            format!("Statement {} failed: {message}", n + 1),
        )
        .detail("query_job_id", job.query_job_id.clone())
        .detail("statement_index", n + 1)
        .detail("statement", s.query.clone())
        .detail("database_message", message),
    )
}

/// The first `limit` rows of a statement's result, page by page: its columns, the rows and
/// the row count of the whole result.
fn first_rows(
    qc: &QueryClient,
    job_id: &str,
    statement_id: &str,
    limit: u64,
    api: &dyn Fn(keboola_api::ApiError) -> CliError,
) -> CliResult<(Vec<keboola_api::ResultColumn>, Vec<Vec<Value>>, u64)> {
    let size = u32::try_from(limit)
        .unwrap_or(PAGE_SIZE_MAX)
        .clamp(PAGE_SIZE_MIN, PAGE_SIZE_MAX);
    let (mut columns, mut cells, mut offset) = (Vec::new(), Vec::new(), 0u64);
    loop {
        let page = qc
            .results(job_id, statement_id, offset, size)
            .map_err(api)?;
        if columns.is_empty() {
            columns = page.columns;
        }
        let total = page.number_of_rows;
        let got = page.data.len() as u64;
        for row in page.data {
            if cells.len() as u64 >= limit {
                break;
            }
            cells.push(row);
        }
        offset += got;
        if got == 0 || offset >= total || cells.len() as u64 >= limit {
            return Ok((columns, cells, total));
        }
        check_interrupt(interrupt_flag())?;
    }
}

/// Submits the statements as one job, waits for it and reads the last result.
pub(crate) fn run(
    ctx: &Ctx<'_>,
    project: &Project,
    branch_id: &str,
    workspace_id: &str,
    statements: &[String],
    transactional: bool,
    sink: Sink<'_>,
) -> CliResult<QueryResult> {
    let flag = interrupt_flag();
    let qc = QueryClient::new(ctx.http()?, &project.entry.stack_url, &project.entry.token);
    let api = |e: keboola_api::ApiError| project.api_error(&e);
    let job_id = qc
        .submit(branch_id, workspace_id, statements, transactional)
        .map_err(api)?;
    let job = qc
        .wait_for_job(&job_id, &QueryWait::default())
        .map_err(api)?;
    if let Some(err) = failed(&job) {
        return Err(err);
    }
    check_interrupt(flag)?;
    let views: Vec<StatementView> = job
        .statements
        .iter()
        .map(|s| StatementView {
            id: s.id.clone(),
            statement_id: s.id.clone(),
            query: s.query.clone(),
            status: s.status.clone(),
            number_of_rows: s.number_of_rows,
            rows_affected: s.rows_affected,
            error: s.error.clone(),
            result: None,
        })
        .collect();
    let mut out = QueryResult {
        query_job_id: job.query_job_id.clone(),
        statements: views,
        columns: Vec::new(),
        rows: RowSet::default(),
        row_count: 0,
        total_rows: 0,
        truncated: false,
        output_file: None,
    };
    let Some(last) = job
        .statements
        .iter()
        .rev()
        .find(|s| s.number_of_rows.is_some())
    else {
        return Ok(out);
    };
    match sink {
        Sink::Rows(limit) => {
            for (i, s) in job.statements.iter().enumerate() {
                if s.number_of_rows.is_none() {
                    continue;
                }
                let (columns, cells, total) = first_rows(&qc, &job_id, &s.id, limit, &api)?;
                let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
                let csv_data = std::iter::once(csv_line(names.iter().map(String::as_str)))
                    .chain(cells.iter().map(|row| {
                        let texts: Vec<String> = row.iter().map(text).collect();
                        csv_line(texts.iter().map(String::as_str))
                    }))
                    .collect();
                let row_count = cells.len() as u64;
                if s.id == last.id {
                    out.columns.clone_from(&names);
                    out.total_rows = total;
                    out.rows = RowSet {
                        columns: names,
                        cells: cells.clone(),
                    };
                    out.row_count = row_count;
                    out.truncated = row_count < total;
                }
                out.statements[i].result = Some(StatementRows {
                    columns: columns
                        .into_iter()
                        .map(|c| ColumnView {
                            name: c.name,
                            kind: c.kind,
                            nullable: c.nullable,
                            length: c.length,
                        })
                        .collect(),
                    rows: cells,
                    row_count,
                    total_rows: total,
                    truncated: row_count < total,
                    csv_data,
                });
            }
        }
        Sink::File(path) => {
            let file = std::fs::File::create(path).map_err(|e| {
                CliError::invalid_argument(format!("Cannot write {}: {e}", path.display()))
            })?;
            let mut w = std::io::BufWriter::new(file);
            let io = |e: std::io::Error| {
                CliError::unexpected(format!("Cannot write {}: {e}", path.display()))
            };
            let mut offset = 0u64;
            loop {
                let page = qc
                    .results(&job_id, &last.id, offset, FULL_PAGE)
                    .map_err(api)?;
                if offset == 0 {
                    out.columns = page.columns.iter().map(|c| c.name.clone()).collect();
                    w.write_all(csv_line(out.columns.iter().map(String::as_str)).as_bytes())
                        .map_err(io)?;
                }
                out.total_rows = page.number_of_rows;
                let got = page.data.len() as u64;
                for row in &page.data {
                    let cells: Vec<String> = row.iter().map(text).collect();
                    w.write_all(csv_line(cells.iter().map(String::as_str)).as_bytes())
                        .map_err(io)?;
                }
                offset += got;
                if got == 0 || offset >= out.total_rows {
                    break;
                }
                check_interrupt(flag)?;
            }
            w.flush().map_err(io)?;
            out.row_count = offset;
            out.output_file = Some(path.display().to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        assert_eq!(
            split_statements("SELECT ';' AS a; -- x; y\nSELECT \"b;c\" FROM t;;"),
            ["SELECT ';' AS a", "SELECT \"b;c\" FROM t"]
        );
        assert!(split_statements(" ; ").is_empty());
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(
            csv_line(["a", "b,c", "d\"e"].into_iter()),
            "a,\"b,c\",\"d\"\"e\"\n"
        );
    }
}
