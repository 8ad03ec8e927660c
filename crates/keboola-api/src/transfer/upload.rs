//! Uploads: to a prepared file over its provider (or a plain PUT), and upload-and-load.

use std::io::{self, Read};

use crate::error::ApiError;
use crate::http::{Method, RequestBuilder};
use crate::storage::StorageClient;
use crate::storage::files::{PrepareFile, StorageFile};
use crate::storage::jobs::StorageJob;
use crate::storage::tables::{CreateTableFromFile, ImportOptions};

use super::shared::{drain, parse_presigned, raw_request, store_error};
use super::{
    ImportOutcome, ImportTarget, TransferConfig, TransferError, UploadImport, abs, gcs, s3,
};

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

fn no_access(file: &StorageFile) -> TransferError {
    TransferError::Api(ApiError::config(format!(
        "file {} came without transfer parameters for provider {:?}",
        file.id, file.provider
    )))
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
pub(super) fn stream_up(
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
