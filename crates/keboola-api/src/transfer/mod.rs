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
mod download;
mod export;
mod gcs;
mod s3;
mod shared;
mod upload;

use std::fmt;
use std::io;

use url::Url;

use crate::error::ApiError;
#[cfg(doc)] // the docs below link to its transfer methods
use crate::storage::StorageClient;
use crate::storage::jobs::{JobWait, StorageJob};
use crate::storage::tables::{CsvOptions, ExportOptions};

use shared::{drain, fill_part, parse_presigned, raw_request, required, store_error};
use upload::stream_up;

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
