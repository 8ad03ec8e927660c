//! Tables: `/v2/storage/[branch/{b}/]tables` and `buckets/{id}/tables*`.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::http::{Method, RequestBuilder, ResponseBody};
use crate::lenient::{self, keep_raw};
use crate::storage::StorageClient;
use crate::storage::jobs::{self, StorageJob};
use crate::storage::metadata::{self, Metadata, MetadataEntry};

/// The bucket block of a table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableBucket {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub stage: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub backend: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub backend_path: Option<String>,
}

/// A table as listed or in detail.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Table {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub display_name: String,
    /// Column names in table order; empty when the listing was made without columns.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub columns: Vec<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub primary_key: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub rows_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub data_size_bytes: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    /// `None` until the first import.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_import_date: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_change_date: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_alias: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_typed: bool,
    #[serde(default, deserialize_with = "lenient::block")]
    pub bucket: Option<TableBucket>,
    /// Typed tables only: `{primaryKeysNames, columns:[{name, definition, basetype}]}`.
    #[serde(default, deserialize_with = "lenient::present")]
    pub definition: Option<Value>,
    #[serde(default, deserialize_with = "metadata::entries")]
    pub metadata: Vec<Metadata>,
    #[serde(default, deserialize_with = "metadata::by_column")]
    pub column_metadata: BTreeMap<String, Vec<Metadata>>,
    /// The table as received.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(Table, lenient::strip_nested_tokens);

/// Filters for [`StorageClient::list_tables`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablesQuery {
    /// Only this bucket's tables (`GET {sp}/buckets/{id}/tables`).
    pub bucket: Option<String>,
    /// `include`: `columns`, `metadata`, `buckets`, `columnMetadata`, ...
    pub include: Vec<String>,
}

/// `where*` filters shared by preview and export (the `eq`/`ne` form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhereFilter {
    pub column: String,
    pub values: Vec<String>,
    /// `eq` (the default) or `ne`.
    pub operator: Option<String>,
}

/// Options of [`StorageClient::data_preview`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewOptions {
    /// At most 1000; the server's default is 100.
    pub limit: Option<u32>,
    pub columns: Vec<String>,
    pub filter: Option<WhereFilter>,
    /// Unix time or a relative expression such as `-1 day`.
    pub changed_since: Option<String>,
    pub changed_until: Option<String>,
}

/// Rows of a data preview, decoded from its CSV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviewRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A column of [`TableDefinition`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDefinition {
    pub name: String,
    /// `{type, length?, nullable?, default?}`, native to the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
    /// `STRING`, `INTEGER`, ... instead of a native definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basetype: Option<String>,
}

/// The body of `tables-definition` (a typed table).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDefinition {
    pub name: String,
    pub primary_keys_names: Vec<String>,
    pub columns: Vec<ColumnDefinition>,
    /// Further keys (`timePartitioning`, `clustering`, ...) sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// CSV dialect and header options of an import or a create from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Default `,`.
    pub delimiter: Option<String>,
    /// Default `"`.
    pub enclosure: Option<String>,
    pub escaped_by: Option<String>,
}

/// Options of [`StorageClient::create_table_async`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateTableFromFile {
    pub name: String,
    pub data_file_id: String,
    pub primary_key: Vec<String>,
    pub csv: CsvOptions,
}

/// Options of [`StorageClient::import_async`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub data_file_id: String,
    /// Append (or upsert by primary key) instead of replacing the data.
    pub incremental: bool,
    pub csv: CsvOptions,
    /// The file's column order, for a file without a header.
    pub columns: Vec<String>,
    pub without_headers: bool,
}

/// Options of [`StorageClient::export_async`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    pub columns: Vec<String>,
    pub limit: Option<u64>,
    pub filter: Option<WhereFilter>,
    pub changed_since: Option<String>,
    pub changed_until: Option<String>,
    /// Gzipped slices.
    pub gzip: bool,
    /// `csv` (the default) or `parquet`.
    pub file_type: Option<String>,
}

impl StorageClient {
    /// `GET {sp}/tables` or `GET {sp}/buckets/{id}/tables`, with `include`.
    pub fn list_tables(&self, q: &TablesQuery) -> Result<Vec<Table>, ApiError> {
        let mut call = match &q.bucket {
            Some(bucket) => self.scoped(Method::Get, &["buckets", bucket, "tables"]),
            None => self.scoped(Method::Get, &["tables"]),
        };
        if !q.include.is_empty() {
            call = call.query("include", &q.include.join(","));
        }
        call.fetch()
    }

    /// `GET {sp}/tables/{id}`: columns, `columnMetadata`, `definition`, bucket and more.
    pub fn get_table(&self, id: &str) -> Result<Table, ApiError> {
        self.scoped(Method::Get, &["tables", id]).fetch()
    }

    /// `GET {sp}/tables/{id}/data-preview`: the CSV (with a header, every field
    /// quoted) as a stream.
    pub fn data_preview(&self, id: &str, opts: &PreviewOptions) -> Result<ResponseBody, ApiError> {
        let mut call = self
            .scoped(Method::Get, &["tables", id, "data-preview"])
            .header("accept", "text/csv")
            .query("format", "rfc");
        if let Some(limit) = opts.limit {
            call = call.query("limit", &limit.to_string());
        }
        if !opts.columns.is_empty() {
            call = call.query("columns", &opts.columns.join(","));
        }
        if let Some(f) = &opts.filter {
            call = call.query("whereColumn", &f.column);
            for v in &f.values {
                call = call.query("whereValues[]", v);
            }
            if let Some(op) = &f.operator {
                call = call.query("whereOperator", op);
            }
        }
        if let Some(t) = &opts.changed_since {
            call = call.query("changedSince", t);
        }
        if let Some(t) = &opts.changed_until {
            call = call.query("changedUntil", t);
        }
        call.send_streaming()
    }

    /// [`StorageClient::data_preview`] parsed: the header and the rows.
    pub fn data_preview_rows(
        &self,
        id: &str,
        opts: &PreviewOptions,
    ) -> Result<PreviewRows, ApiError> {
        let path = format!("/v2/storage/tables/{id}/data-preview");
        let mut body = self.data_preview(id, opts)?;
        let mut text = Vec::new();
        // A preview has at most 1000 rows; the cap only guards against a broken server.
        (&mut body)
            .take(crate::http::MAX_BODY_BYTES)
            .read_to_end(&mut text)
            .map_err(|_| {
                ApiError::invalid_response("GET", &path, "the preview could not be read")
            })?;
        let text = String::from_utf8(text).map_err(|_| {
            ApiError::invalid_response("GET", &path, "the preview is not UTF-8 text")
        })?;
        let mut records = parse_csv(&text).into_iter();
        Ok(PreviewRows {
            columns: records.next().unwrap_or_default(),
            rows: records.collect(),
        })
    }

    /// `POST {sp}/buckets/{bucket}/tables-definition` (JSON): the `tableDefinitionCreate`
    /// job, whose `results` is the new table.
    pub fn create_table_definition(
        &self,
        bucket: &str,
        def: &TableDefinition,
    ) -> Result<StorageJob, ApiError> {
        self.scoped(Method::Post, &["buckets", bucket, "tables-definition"])
            .json(def)
            .fetch()
    }

    /// `POST {sp}/buckets/{bucket}/tables-async`: a table created from an uploaded file
    /// (the `tableCreate` job; `results.id` is the table id).
    pub fn create_table_async(
        &self,
        bucket: &str,
        opts: &CreateTableFromFile,
    ) -> Result<StorageJob, ApiError> {
        let mut body = json!({"name": opts.name, "dataFileId": opts.data_file_id});
        if !opts.primary_key.is_empty() {
            body["primaryKey"] = json!(opts.primary_key.join(","));
        }
        add_csv(&mut body, &opts.csv);
        self.scoped(Method::Post, &["buckets", bucket, "tables-async"])
            .json(&body)
            .fetch()
    }

    /// `POST {sp}/tables/{id}/import-async`: the `tableImport` job.
    pub fn import_async(&self, table: &str, opts: &ImportOptions) -> Result<StorageJob, ApiError> {
        let mut body = json!({"dataFileId": opts.data_file_id, "incremental": opts.incremental});
        add_csv(&mut body, &opts.csv);
        if !opts.columns.is_empty() {
            body["columns"] = json!(opts.columns);
        }
        if opts.without_headers {
            body["withoutHeaders"] = json!(true);
        }
        self.scoped(Method::Post, &["tables", table, "import-async"])
            .json(&body)
            .fetch()
    }

    /// `POST {sp}/tables/{id}/export-async`: the `tableExport` job, whose `results.file.id`
    /// is the exported file (see [`StorageJob::result_id`]).
    pub fn export_async(&self, table: &str, opts: &ExportOptions) -> Result<StorageJob, ApiError> {
        let mut body = json!({});
        if !opts.columns.is_empty() {
            body["columns"] = json!(opts.columns.join(","));
        }
        if let Some(limit) = opts.limit {
            body["limit"] = json!(limit);
        }
        if let Some(f) = &opts.filter {
            body["whereColumn"] = json!(f.column);
            body["whereValues"] = json!(f.values);
            if let Some(op) = &f.operator {
                body["whereOperator"] = json!(op);
            }
        }
        if let Some(t) = &opts.changed_since {
            body["changedSince"] = json!(t);
        }
        if let Some(t) = &opts.changed_until {
            body["changedUntil"] = json!(t);
        }
        if opts.gzip {
            body["gzip"] = json!(true);
        }
        if let Some(t) = &opts.file_type {
            body["fileType"] = json!(t);
        }
        self.scoped(Method::Post, &["tables", table, "export-async"])
            .json(&body)
            .fetch()
    }

    /// `DELETE {sp}/tables/{id}/rows?allowTruncate=1`: the `tableRowsDelete` job that
    /// empties the table. (The flag goes in the query: a DELETE carries no body.)
    pub fn truncate_table(&self, table: &str) -> Result<Option<StorageJob>, ApiError> {
        jobs::job_or_done(
            self.scoped(Method::Delete, &["tables", table, "rows"])
                .query("allowTruncate", "1"),
        )
    }

    /// `DELETE {sp}/tables/{id}?async=1[&force=1]`: the `tableDrop` job, or `None` when
    /// deleted at once.
    pub fn delete_table(&self, table: &str, force: bool) -> Result<Option<StorageJob>, ApiError> {
        jobs::job_or_done(with_force(
            self.scoped(Method::Delete, &["tables", table])
                .query("async", "1"),
            force,
        ))
    }

    /// `POST {sp}/tables/{id}/columns`: the `tableColumnAdd` job. Typed tables need a
    /// `definition` or a `basetype`.
    pub fn add_column(
        &self,
        table: &str,
        column: &ColumnDefinition,
    ) -> Result<StorageJob, ApiError> {
        self.scoped(Method::Post, &["tables", table, "columns"])
            .json(column)
            .fetch()
    }

    /// `DELETE {sp}/tables/{id}/columns/{name}[?force=1]`: the `tableColumnDelete` job.
    pub fn delete_column(
        &self,
        table: &str,
        column: &str,
        force: bool,
    ) -> Result<Option<StorageJob>, ApiError> {
        jobs::job_or_done(with_force(
            self.scoped(Method::Delete, &["tables", table, "columns", column]),
            force,
        ))
    }

    /// `POST {sp}/tables/{id}/metadata` (JSON): table entries and, per column name,
    /// column entries. Answers `{metadata:[...], columnsMetadata:{col:[...]}}`, returned
    /// as received.
    pub fn set_table_metadata(
        &self,
        table: &str,
        provider: &str,
        entries: &[MetadataEntry],
        columns: &BTreeMap<String, Vec<MetadataEntry>>,
    ) -> Result<Value, ApiError> {
        let mut body = json!({"provider": provider});
        if !entries.is_empty() {
            body["metadata"] = json!(entries);
        }
        if !columns.is_empty() {
            body["columnsMetadata"] = json!(columns);
        }
        self.scoped(Method::Post, &["tables", table, "metadata"])
            .json(&body)
            .send_json()
    }

    /// `DELETE {sp}/tables/{id}/metadata/{metadataId}`.
    pub fn delete_table_metadata(&self, table: &str, metadata_id: &str) -> Result<(), ApiError> {
        self.scoped(Method::Delete, &["tables", table, "metadata", metadata_id])
            .idempotent()
            .send()
            .map(drop)
    }
}

fn with_force(call: RequestBuilder<'_>, force: bool) -> RequestBuilder<'_> {
    if force {
        call.query("force", "1")
    } else {
        call
    }
}

fn add_csv(body: &mut Value, csv: &CsvOptions) {
    for (key, value) in [
        ("delimiter", &csv.delimiter),
        ("enclosure", &csv.enclosure),
        ("escapedBy", &csv.escaped_by),
    ] {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
}

/// RFC 4180 records: `"` quotes a field, `""` is a quote inside one, `\n` or `\r\n` ends
/// a record. A final newline adds no empty record.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if any {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_decode() {
        let t: Table = serde_json::from_value(json!({"id":"in.c-main.orders","name":"orders","displayName":"orders",
            "primaryKey":["id"],"lastImportDate":null,"rowsCount":199,"dataSizeBytes":"25165824","isAlias":false,
            "isTyped":true,"columns":["id","amount"],"metadata":[],"columnMetadata":{"id":[{"id":"1","key":"KBC.datatype.type","value":"NUMBER","provider":"storage","timestamp":"t"}]},
            "bucket":{"id":"in.c-main","backend":"snowflake"},
            "definition":{"primaryKeysNames":["id"],"columns":[{"name":"id","definition":{"type":"NUMBER"},"basetype":"INTEGER"}]}}))
        .unwrap();
        assert_eq!(t.columns, ["id", "amount"]);
        assert_eq!(t.last_import_date, None);
        assert_eq!(t.data_size_bytes, Some(25_165_824));
        assert_eq!(t.bucket.as_ref().unwrap().id, "in.c-main");
        assert_eq!(t.column_metadata["id"][0].value, "NUMBER");
        assert!(t.definition.is_some());
        let bare: Table =
            serde_json::from_value(json!({"id":"in.c-a.b","columnMetadata":[]})).unwrap();
        assert!(bare.column_metadata.is_empty() && bare.bucket.is_none());
    }

    #[test]
    fn csv_records() {
        assert_eq!(
            parse_csv("\"a\",\"b\"\n\"x,1\",\"say \"\"hi\"\"\"\r\n\"\",\"multi\nline\"\n"),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["x,1".to_owned(), "say \"hi\"".to_owned()],
                vec![String::new(), "multi\nline".to_owned()],
            ]
        );
        assert_eq!(parse_csv("a,b"), vec![vec!["a".to_owned(), "b".to_owned()]]);
        assert!(parse_csv("").is_empty());
    }
}
