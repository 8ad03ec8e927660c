//! Downloads: one object, or a sliced file's slices in manifest order, optionally
//! gunzipped on the fly.

use std::io::{self, BufRead, BufReader, Read, Write};

use flate2::bufread::MultiGzDecoder;
use serde::Deserialize;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Http, Method, ResponseBody};
use crate::storage::StorageClient;
use crate::storage::files::StorageFile;

use super::shared::{MAX_MANIFEST_BYTES, parse_presigned, raw_request, store_error};
use super::{TransferConfig, TransferError, abs, gcs, s3};

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

impl StorageClient {
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

#[cfg(test)]
mod tests {
    use super::*;

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
