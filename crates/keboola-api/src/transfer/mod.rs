//! Moving a Storage file's bytes: upload after `files/prepare` and download after a
//! file detail with `federationToken=1`, over Azure Blob Storage, S3 or Google Cloud
//! Storage as the file's `provider` says, or a plain PUT/GET of its `url` when no
//! provider block came. Everything streams: memory stays flat whatever the file size
//! (uploads to S3 and Azure hold one part of [`TransferConfig::part_size`] at a time).
//!
//! The provider parameters and presigned URLs are secrets: they stay in
//! [`crate::FileCredentials`], travel only in request URLs and headers that are never
//! logged (the request log has method and path only), and object stores' error bodies,
//! which may repeat the signed request, are reduced to their `Code` and `Message`.
//!
//! What goes on the wire, per provider (what a stand-in server has to answer):
//! - `aws`: path-style `{endpoint}/{bucket}/{key}`, SigV4 presigned in the query
//!   (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//!   `X-Amz-SignedHeaders`, `X-Amz-Security-Token`, `X-Amz-Signature`; payload
//!   `UNSIGNED-PAYLOAD`). Upload: one `PUT`, or `POST ?uploads` (XML `UploadId`), `PUT
//!   ?partNumber=&uploadId=` (answer with an `ETag` header), `POST ?uploadId=` with the
//!   XML part list. `x-amz-acl` and `x-amz-server-side-encryption` are sent and signed
//!   when `uploadParams` has them. Download: `GET`.
//! - `azure`: `{BlobEndpoint}/{container}/{blob}?{SAS}` with `x-ms-version`. Upload: `PUT`
//!   with `x-ms-blob-type: BlockBlob`, or `PUT ?comp=block&blockid=` per block and `PUT
//!   ?comp=blocklist` with `<BlockList><Latest>id</Latest>...`. Download: `GET`.
//! - `gcp`: `Authorization: Bearer <access_token>`. Upload of a known size: `POST
//!   {endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={key}`; otherwise
//!   `uploadType=resumable` (the session URL in `Location`), then `PUT`s to it with
//!   `Content-Range: bytes a-b/*` (answered 308) and `bytes a-b/total` last. Download:
//!   `GET {endpoint}/storage/v1/b/{bucket}/o/{key, one encoded segment}?alt=media`.
//! - no provider block: `PUT`/`GET` of the file's `url`.
//! - sliced files: the manifest is a `GET` of `url` (else the object `<key>manifest`);
//!   entries are `s3://bucket/key`, `azure://host/container/blob` (the host is replaced
//!   by `BlobEndpoint`), `gs://bucket/key` or plain URLs, fetched in order.

mod abs;
mod gcs;
mod s3;

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use flate2::bufread::MultiGzDecoder;
use serde::Deserialize;
use url::Url;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Http, Method, RequestBuilder, ResponseBody, target};
use crate::storage::StorageClient;
use crate::storage::files::{FileCredentials, PrepareFile, StorageFile};
use crate::storage::jobs::{JobWait, StorageJob};
use crate::storage::tables::{CreateTableFromFile, CsvOptions, ExportOptions, ImportOptions};

/// Settings of file transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferConfig {
    /// An S3-compatible endpoint used instead of AWS (`AWS_ENDPOINT_URL_S3`, else
    /// `AWS_ENDPOINT_URL`, read by the caller). Buckets are addressed path-style.
    pub s3_endpoint: Option<Url>,
    /// A Cloud Storage endpoint used instead of Google's (`STORAGE_EMULATOR_HOST`).
    pub gcs_endpoint: Option<Url>,
    /// Size of one S3 part or Azure block, held in memory while it is sent. A file that
    /// fits in one is sent in a single request. S3 needs at least 5 MiB for all parts
    /// but the last.
    pub part_size: usize,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            s3_endpoint: None,
            gcs_endpoint: None,
            part_size: 16 * 1024 * 1024,
        }
    }
}

/// A failed transfer: an API or object-store call, or the local reader or writer.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "errors are the cold path")]
pub enum TransferError {
    Api(ApiError),
    /// Reading the data to upload, or writing the downloaded data, failed.
    Local(io::Error),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Api(e) => e.fmt(f),
            TransferError::Local(e) => write!(f, "local file error: {e}"),
        }
    }
}

impl std::error::Error for TransferError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransferError::Api(e) => Some(e),
            TransferError::Local(e) => Some(e),
        }
    }
}

impl From<ApiError> for TransferError {
    fn from(e: ApiError) -> Self {
        TransferError::Api(e)
    }
}

impl TransferError {
    /// The id of a file uploaded before the failure (see [`ApiError::file_id`]).
    pub fn file_id(&self) -> Option<&str> {
        match self {
            TransferError::Api(e) => e.file_id(),
            TransferError::Local(_) => None,
        }
    }

    fn with_file_id(self, id: &str) -> TransferError {
        match self {
            TransferError::Api(e) => TransferError::Api(e.with_file_id(id)),
            local @ TransferError::Local(_) => local,
        }
    }
}

/// What [`StorageClient::export_table_to`] does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportTable {
    /// Columns, filters, limit; `gzip` is always requested. CSV only.
    pub export: ExportOptions,
    /// Leave out the header line (exports come without one; it is built from the
    /// table's columns).
    pub without_header: bool,
    pub wait: JobWait,
}

/// The result of a table export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub file_id: String,
    pub columns: Vec<String>,
    /// Bytes written, header included.
    pub bytes: u64,
    pub job: StorageJob,
}

/// The table [`StorageClient::upload_file_and_import`] loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// Load into an existing table (`import-async`); an incremental load appends, or
    /// upserts by the table's primary key.
    Table { table_id: String, incremental: bool },
    /// Create a table from the file (`tables-async`).
    NewTable {
        bucket_id: String,
        name: String,
        primary_key: Vec<String>,
    },
}

/// What [`StorageClient::upload_file_and_import`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadImport {
    /// The Storage file name; end it in `.gz` for gzipped data.
    pub file_name: String,
    /// Known size of the data, sent as `sizeBytes` and `Content-Length` where useful.
    pub size_bytes: Option<u64>,
    pub tags: Vec<String>,
    pub csv: CsvOptions,
    pub target: ImportTarget,
    pub wait: JobWait,
}

/// The result of an upload and import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub file_id: String,
    /// The loaded or created table.
    pub table_id: Option<String>,
    pub job: StorageJob,
}

/// A slice list of a sliced file.
#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(default)]
    entries: Vec<ManifestEntry>,
}

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    url: String,
}

/// Longest manifest read.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

impl StorageClient {
    /// Uploads `data` to a file returned by [`StorageClient::prepare_file`]; returns the
    /// bytes sent.
    pub fn upload_to_file(
        &self,
        file: &StorageFile,
        data: &mut (dyn Read + Send),
        size: Option<u64>,
        cfg: &TransferConfig,
    ) -> Result<u64, TransferError> {
        let http = self.http();
        let creds = &file.credentials;
        if creds.get("uploadParams").is_some() {
            s3::upload(http, file, data, cfg)
        } else if creds.get("absUploadParams").is_some() {
            abs::upload(http, creds, data, cfg)
        } else if creds.get("gcsUploadParams").is_some() {
            gcs::upload(http, creds, data, size, cfg)
        } else if let Some(url) = creds.text("url") {
            let url = parse_presigned(url, Method::Put)?;
            stream_up(
                raw_request(http, Method::Put, url)?,
                "application/octet-stream",
                data,
                size,
            )
        } else {
            Err(no_access(file))
        }
    }

    /// `files/prepare` and the upload; returns the file, ready to be loaded.
    pub fn upload_file(
        &self,
        opts: &PrepareFile,
        data: &mut (dyn Read + Send),
        cfg: &TransferConfig,
    ) -> Result<StorageFile, TransferError> {
        let file = self.prepare_file(opts)?;
        self.upload_to_file(&file, data, opts.size_bytes, cfg)?;
        Ok(file)
    }

    /// Writes the bytes of a file (from [`StorageClient::get_file`], which carries the
    /// download credentials) to `out`: a sliced file's slices in manifest order. With
    /// `gunzip`, each part that starts with the gzip magic is decompressed on the fly.
    /// Returns the bytes written.
    pub fn download_file_to(
        &self,
        file: &StorageFile,
        out: &mut dyn Write,
        gunzip: bool,
        cfg: &TransferConfig,
    ) -> Result<u64, TransferError> {
        let http = self.http();
        if !file.is_sliced {
            let body = open_object(http, file, None, cfg)?;
            return pump(body, out, gunzip, "the file");
        }
        let manifest = read_manifest(http, file, cfg)?;
        let mut total = 0;
        for (i, entry) in manifest.entries.iter().enumerate() {
            let body = open_object(http, file, Some(&entry.url), cfg)?;
            total += pump(body, out, gunzip, &format!("slice {}", i + 1))?;
        }
        Ok(total)
    }

    /// Exports a table to `out` as CSV with a header line: export-async, the job, the
    /// file with its credentials, every slice gunzipped in order. Never buffers the
    /// table; the export call (a POST) is sent once.
    pub fn export_table_to(
        &self,
        table_id: &str,
        out: &mut dyn Write,
        opts: &ExportTable,
        cfg: &TransferConfig,
    ) -> Result<ExportSummary, TransferError> {
        if opts.export.file_type.as_deref().is_some_and(|t| t != "csv") {
            // Slices of other formats are files of their own; joined they are not one.
            return Err(ApiError::config(
                "only CSV exports can be written as one file; export other formats with export_async",
            )
            .into());
        }
        let columns = if opts.export.columns.is_empty() {
            self.get_table(table_id)?.columns
        } else {
            opts.export.columns.clone()
        };
        let export = ExportOptions {
            gzip: true,
            ..opts.export.clone()
        };
        let job = self.export_async(table_id, &export)?;
        let job = self.finish_job(job, &opts.wait)?;
        let file_id = job.result_id("/file/id").ok_or_else(|| {
            ApiError::invalid_response(
                "GET",
                &format!("/v2/storage/jobs/{}", job.id),
                "the export job names no file (results.file.id)",
            )
        })?;
        let file = self.get_file(&file_id)?;
        let mut bytes = 0;
        if !opts.without_header {
            let header = header_line(&columns);
            out.write_all(header.as_bytes())
                .map_err(TransferError::Local)?;
            bytes += header.len() as u64;
        }
        bytes += self.download_file_to(&file, out, true, cfg)?;
        out.flush().map_err(TransferError::Local)?;
        Ok(ExportSummary {
            file_id,
            columns,
            bytes,
            job,
        })
    }

    /// Uploads `data` as a new Storage file and loads it into a table (import-async or
    /// tables-async), waiting for the job. When the load fails after the upload, the
    /// error carries the file id ([`TransferError::file_id`]): load it again with
    /// [`StorageClient::import_async`] or [`StorageClient::create_table_async`] without
    /// uploading. No POST is ever repeated.
    pub fn upload_file_and_import(
        &self,
        data: &mut (dyn Read + Send),
        opts: &UploadImport,
        cfg: &TransferConfig,
    ) -> Result<ImportOutcome, TransferError> {
        let tag = match opts.target {
            ImportTarget::Table { .. } => "table-import",
            ImportTarget::NewTable { .. } => "file-import",
        };
        let mut tags = opts.tags.clone();
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
        let prepare = PrepareFile {
            name: opts.file_name.clone(),
            size_bytes: opts.size_bytes,
            tags,
            ..PrepareFile::default()
        };
        let file = self.upload_file(&prepare, data, cfg)?;
        let load = || -> Result<(StorageJob, Option<String>), ApiError> {
            match &opts.target {
                ImportTarget::Table {
                    table_id,
                    incremental,
                } => {
                    let job = self.import_async(
                        table_id,
                        &ImportOptions {
                            data_file_id: file.id.clone(),
                            incremental: *incremental,
                            csv: opts.csv.clone(),
                            ..ImportOptions::default()
                        },
                    )?;
                    let job = self.finish_job(job, &opts.wait)?;
                    Ok((job, Some(table_id.clone())))
                }
                ImportTarget::NewTable {
                    bucket_id,
                    name,
                    primary_key,
                } => {
                    let job = self.create_table_async(
                        bucket_id,
                        &CreateTableFromFile {
                            name: name.clone(),
                            data_file_id: file.id.clone(),
                            primary_key: primary_key.clone(),
                            csv: opts.csv.clone(),
                        },
                    )?;
                    let job = self.finish_job(job, &opts.wait)?;
                    let table_id = job.result_id("/id");
                    Ok((job, table_id))
                }
            }
        };
        let (job, table_id) = load().map_err(|e| TransferError::Api(e).with_file_id(&file.id))?;
        Ok(ImportOutcome {
            file_id: file.id,
            table_id,
            job,
        })
    }
}

/// The header line of an export: every name quoted, quotes doubled.
fn header_line(columns: &[String]) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect();
    format!("{}\n", quoted.join(","))
}

fn no_access(file: &StorageFile) -> TransferError {
    TransferError::Api(ApiError::config(format!(
        "file {} came without transfer parameters for provider {:?}",
        file.id, file.provider
    )))
}

/// A presigned or object-store URL: https, or http to a loopback host (an emulator).
fn parse_presigned(text: &str, method: Method) -> Result<Url, ApiError> {
    let url =
        Url::parse(text).map_err(|_| ApiError::config("a file transfer URL is not a valid URL"))?;
    target::check_scheme(&url, method)?;
    Ok(url)
}

/// A request to a full URL (with its query), sent without any Keboola token.
fn raw_request(http: &Http, method: Method, url: Url) -> Result<RequestBuilder<'_>, ApiError> {
    target::check_scheme(&url, method)?;
    Ok(RequestBuilder::new(http, method, Ok(url)))
}

/// Opens the bytes of the file (`entry` None) or of one manifest entry.
fn open_object(
    http: &Http,
    file: &StorageFile,
    entry: Option<&str>,
    cfg: &TransferConfig,
) -> Result<ResponseBody, ApiError> {
    let creds = &file.credentials;
    match entry {
        Some(url) if url.starts_with("s3://") => {
            let (bucket, key) = split_store_url(url, "s3://")?;
            s3::get(http, file, bucket, key, cfg)
        }
        Some(url) if url.starts_with("gs://") => {
            let (bucket, key) = split_store_url(url, "gs://")?;
            gcs::get(http, creds, bucket, key, cfg)
        }
        Some(url) if url.starts_with("azure://") => {
            // azure://<account host>/<container>/<blob>: the host is replaced by the
            // connection string's BlobEndpoint.
            let (_, rest) = split_store_url(url, "azure://")?;
            let (container, blob) = rest
                .split_once('/')
                .ok_or_else(|| ApiError::config("a slice URL names no blob"))?;
            abs::get(http, creds, container, blob)
        }
        Some(url) => raw_request(http, Method::Get, parse_presigned(url, Method::Get)?)?
            .send_streaming()
            .map_err(store_error),
        None => {
            if let (Some(bucket), Some(key)) =
                (creds.text("/s3Path/bucket"), creds.text("/s3Path/key"))
                && creds.get("credentials").is_some()
            {
                return s3::get(http, file, bucket, key, cfg);
            }
            if let (Some(container), Some(name)) = (
                creds.text("/absPath/container"),
                creds.text("/absPath/name"),
            ) && creds.get("absCredentials").is_some()
            {
                return abs::get(http, creds, container, name);
            }
            if let (Some(bucket), Some(key)) =
                (creds.text("/gcsPath/bucket"), creds.text("/gcsPath/key"))
                && creds.get("gcsCredentials").is_some()
            {
                return gcs::get(http, creds, bucket, key, cfg);
            }
            match creds.text("url") {
                Some(url) => raw_request(http, Method::Get, parse_presigned(url, Method::Get)?)?
                    .send_streaming()
                    .map_err(store_error),
                None => Err(ApiError::config(format!(
                    "file {} came without download parameters",
                    file.id
                ))),
            }
        }
    }
}

/// `s3://bucket/key` into its bucket and key.
fn split_store_url<'u>(url: &'u str, scheme: &str) -> Result<(&'u str, &'u str), ApiError> {
    url.strip_prefix(scheme)
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .ok_or_else(|| ApiError::config("a slice URL has no bucket and key"))
}

/// The manifest of a sliced file: its `url` answers with it; without one it is the
/// object `<key>manifest` next to the slices.
fn read_manifest(
    http: &Http,
    file: &StorageFile,
    cfg: &TransferConfig,
) -> Result<Manifest, ApiError> {
    let creds = &file.credentials;
    let entry = if let Some(url) = creds.text("url") {
        url.to_owned()
    } else if let (Some(bucket), Some(key)) =
        (creds.text("/s3Path/bucket"), creds.text("/s3Path/key"))
    {
        format!("s3://{bucket}/{key}manifest")
    } else if let (Some(container), Some(name)) = (
        creds.text("/absPath/container"),
        creds.text("/absPath/name"),
    ) {
        format!("azure://blob/{container}/{name}manifest")
    } else if let (Some(bucket), Some(key)) =
        (creds.text("/gcsPath/bucket"), creds.text("/gcsPath/key"))
    {
        format!("gs://{bucket}/{key}manifest")
    } else {
        return Err(ApiError::config(format!(
            "sliced file {} came without a manifest URL or path",
            file.id
        )));
    };
    let body = open_object(http, file, Some(&entry), cfg)?;
    let path = format!("/v2/storage/files/{}", file.id);
    let mut text = Vec::new();
    body.take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut text)
        .map_err(|_| ApiError::invalid_response("GET", &path, "the manifest could not be read"))?;
    serde_json::from_slice(&text).map_err(|_| {
        ApiError::invalid_response("GET", &path, "the sliced file's manifest is not valid")
    })
}

/// Copies a download to `out`, gunzipping it when asked and it is gzip. Read failures
/// are the network's (or the data's), write failures are local.
fn pump(
    body: ResponseBody,
    out: &mut dyn Write,
    gunzip: bool,
    what: &str,
) -> Result<u64, TransferError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, body);
    let is_gzip = gunzip
        && buffered
            .fill_buf()
            .map_err(|e| broke_off(&e, what))?
            .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read> = if is_gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(broke_off(&e, what).into()),
        };
        out.write_all(&buf[..n]).map_err(TransferError::Local)?;
        total += n as u64;
    }
    Ok(total)
}

fn broke_off(e: &io::Error, what: &str) -> ApiError {
    // Only the kind: an I/O error's text may name the URL.
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
            ApiError::invalid_response("GET", "", format!("{what} is truncated or not valid gzip"))
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ApiError::transport(
            ApiErrorKind::Timeout,
            "GET",
            "",
            format!("the download of {what} stalled"),
            true,
        ),
        kind => ApiError::transport(
            ApiErrorKind::Connect,
            "GET",
            "",
            format!("the download of {what} broke off ({kind})"),
            true,
        ),
    }
}

/// A reader that remembers its own failure, so a failed upload can tell a broken local
/// file from a broken connection.
struct Tracked<'r> {
    inner: &'r mut (dyn Read + Send),
    failed: &'r mut Option<io::ErrorKind>,
    sent: &'r mut u64,
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                *self.sent += n as u64;
                Ok(n)
            }
            Err(e) => {
                *self.failed = Some(e.kind());
                Err(e)
            }
        }
    }
}

/// Sends `data` as the streamed body of `call`; returns the bytes sent.
fn stream_up(
    call: RequestBuilder<'_>,
    content_type: &str,
    data: &mut (dyn Read + Send),
    size: Option<u64>,
) -> Result<u64, TransferError> {
    let mut failed = None;
    let mut sent = 0;
    let tracked = Tracked {
        inner: data,
        failed: &mut failed,
        sent: &mut sent,
    };
    let result = call
        .body_reader(content_type, size, tracked)
        .send_streaming();
    if let Some(kind) = failed {
        return Err(TransferError::Local(io::Error::new(
            kind,
            "reading the data to upload failed",
        )));
    }
    drain(result.map_err(store_error)?)?;
    Ok(sent)
}

/// Reads an object store's (small) answer to the end, so the connection can be reused.
fn drain(body: ResponseBody) -> Result<Vec<u8>, ApiError> {
    let mut text = Vec::new();
    body.take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut text)
        .map_err(|_| ApiError::invalid_response("", "", "an upload answer could not be read"))?;
    Ok(text)
}

/// Fills `buf` from `data` up to its capacity; returns whether `data` ended first.
fn fill_part(data: &mut (dyn Read + Send), buf: &mut Vec<u8>, size: usize) -> io::Result<bool> {
    buf.clear();
    let read = data.take(size as u64).read_to_end(buf)?;
    Ok(read < size)
}

/// An object store's error, without anything its body may repeat of the signed request:
/// only an XML `<Code>` and `<Message>` are kept.
fn store_error(err: ApiError) -> ApiError {
    let Some(message) = err.api_message().map(str::to_owned) else {
        return err;
    };
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = message.find(&open)? + open.len();
        let end = message[start..].find("</")?;
        Some(message[start..start + end].to_owned())
    };
    let kept = match (tag("Code"), tag("Message")) {
        (Some(code), Some(text)) => Some(format!("{code}: {text}")),
        (Some(code), None) => Some(code),
        (None, Some(text)) => Some(text),
        (None, None) if message.starts_with('<') => None,
        (None, None) => Some(message),
    };
    let kept = kept.filter(|m| !looks_signed(m));
    err.with_api_message(kept)
}

/// Text that carries a signature or credential (`sig=`, `X-Amz-...`, `Signature`).
fn looks_signed(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "sig=",
        "x-amz-",
        "signature=",
        "sessiontoken",
        "access_token",
        "bearer ",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// The text at `pointer` in the file's credentials, or a configuration error naming it.
fn required<'c>(creds: &'c FileCredentials, pointer: &str) -> Result<&'c str, ApiError> {
    creds.text(pointer).ok_or_else(|| {
        ApiError::config(format!(
            "the file's transfer parameters lack {}",
            pointer.trim_start_matches('/')
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_quotes_names() {
        assert_eq!(
            header_line(&["id".to_owned(), "say \"x\"".to_owned()]),
            "\"id\",\"say \"\"x\"\"\"\n"
        );
    }

    #[test]
    fn store_errors_keep_code_and_message_only() {
        let err = ApiError::from_response(
            "PUT",
            "/bucket/key",
            403,
            None,
            b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>Bad sig</Message><CanonicalRequest>PUT /k X-Amz-Security-Token=SECRETTOKEN</CanonicalRequest></Error>",
            None,
        );
        let err = store_error(err);
        assert_eq!(err.api_message(), Some("SignatureDoesNotMatch: Bad sig"));
        let err = ApiError::from_response(
            "GET",
            "/c/b",
            403,
            None,
            b"denied for sv=2020&sig=ABCDEF",
            None,
        );
        assert_eq!(store_error(err).api_message(), None);
    }

    #[test]
    fn store_urls_split() {
        assert_eq!(
            split_store_url("s3://b/exp/1.csv.gz0000_part_00", "s3://").unwrap(),
            ("b", "exp/1.csv.gz0000_part_00")
        );
        assert!(split_store_url("s3://b", "s3://").is_err());
        assert!(split_store_url("gs:///k", "gs://").is_err());
    }
}
