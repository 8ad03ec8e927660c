//! Azure Blob Storage with the SAS connection string of the file: Put Blob for data
//! that fits in one block, Put Block + Put Block List for more, Get Blob to download.
//! The connection string's `BlobEndpoint` is used as given (an emulator may serve it
//! over http on loopback).

use std::io::Read;

use base64::Engine as _;
use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, RequestBuilder, ResponseBody};
use crate::storage::files::FileCredentials;
use crate::transfer::{TransferConfig, TransferError, drain, fill_part, required, store_error};

/// The REST version sent; the SAS may name its own.
const API_VERSION: &str = "2021-08-06";

struct Sas {
    endpoint: Url,
    /// The signature's query pairs, decoded.
    query: Vec<(String, String)>,
}

/// Reads `BlobEndpoint=...;SharedAccessSignature=...` (other keys are ignored).
fn parse_connection_string(text: &str) -> Result<Sas, ApiError> {
    let mut endpoint = None;
    let mut signature = None;
    for part in text.split(';') {
        if let Some((key, value)) = part.split_once('=') {
            match key.trim() {
                "BlobEndpoint" => endpoint = Some(value.trim()),
                "SharedAccessSignature" => signature = Some(value.trim()),
                _ => {}
            }
        }
    }
    let (Some(endpoint), Some(signature)) = (endpoint, signature) else {
        return Err(ApiError::config(
            "the Azure connection string lacks BlobEndpoint or SharedAccessSignature",
        ));
    };
    let endpoint = Url::parse(endpoint)
        .map_err(|_| ApiError::config("the Azure BlobEndpoint is not a valid URL"))?;
    let query = url::form_urlencoded::parse(signature.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Sas { endpoint, query })
}

fn sas(creds: &FileCredentials, at: &str) -> Result<Sas, ApiError> {
    parse_connection_string(required(creds, at)?)
}

/// A request to `container/blob` with the SAS, and `extra` query pairs first.
fn blob_request<'h>(
    http: &'h Http,
    method: Method,
    sas: &Sas,
    container: &str,
    blob: &str,
    extra: &[(&str, &str)],
) -> RequestBuilder<'h> {
    let mut segments = vec![container];
    segments.extend(blob.split('/').filter(|s| !s.is_empty()));
    let mut call = http.request_url(method, &sas.endpoint, &segments);
    for (k, v) in extra {
        call = call.query(k, v);
    }
    for (k, v) in &sas.query {
        call = call.query(k, v);
    }
    call.header("x-ms-version", API_VERSION)
}

/// Block ids must all have the same length.
fn block_id(n: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("block-{n:08}"))
}

pub(crate) fn upload(
    http: &Http,
    creds: &FileCredentials,
    data: &mut (dyn Read + Send),
    cfg: &TransferConfig,
) -> Result<u64, TransferError> {
    let sas = sas(creds, "/absUploadParams/absCredentials/SASConnectionString")?;
    let container = required(creds, "/absUploadParams/container")?;
    let blob = required(creds, "/absUploadParams/blobName")?;
    let block_size = cfg.part_size.max(1);
    // One buffer for every block: sized once, refilled in place.
    let mut block = Vec::with_capacity(block_size);
    let ended = fill_part(data, &mut block, block_size).map_err(TransferError::Local)?;
    if ended {
        let sent = block.len() as u64;
        let body = blob_request(http, Method::Put, &sas, container, blob, &[])
            .header("x-ms-blob-type", "BlockBlob")
            .idempotent()
            .body_slice("application/octet-stream", &block)
            .send_streaming()
            .map_err(store_error)?;
        drain(body)?;
        return Ok(sent);
    }
    let mut ids = Vec::new();
    let mut total = 0u64;
    loop {
        let id = block_id(ids.len());
        total += block.len() as u64;
        let body = blob_request(
            http,
            Method::Put,
            &sas,
            container,
            blob,
            &[("comp", "block"), ("blockid", &id)],
        )
        .idempotent()
        .body_slice("application/octet-stream", &block)
        .send_streaming()
        .map_err(store_error)?;
        drain(body)?;
        ids.push(id);
        fill_part(data, &mut block, block_size).map_err(TransferError::Local)?;
        if block.is_empty() {
            break;
        }
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for id in &ids {
        xml.push_str("<Latest>");
        xml.push_str(id);
        xml.push_str("</Latest>");
    }
    xml.push_str("</BlockList>");
    let body = blob_request(
        http,
        Method::Put,
        &sas,
        container,
        blob,
        &[("comp", "blocklist")],
    )
    .idempotent()
    .body_bytes("application/xml", xml.into_bytes())
    .send_streaming()
    .map_err(store_error)?;
    drain(body)?;
    Ok(total)
}

/// Get Blob of `container/blob` with the download SAS (`absCredentials`, else the
/// upload one).
pub(crate) fn get(
    http: &Http,
    creds: &FileCredentials,
    container: &str,
    blob: &str,
) -> Result<ResponseBody, ApiError> {
    let at = if creds.get("absCredentials").is_some() {
        "/absCredentials/SASConnectionString"
    } else {
        "/absUploadParams/absCredentials/SASConnectionString"
    };
    let sas = sas(creds, at)?;
    blob_request(http, Method::Get, &sas, container, blob, &[])
        .send_streaming()
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        let sas = parse_connection_string(
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=sv=2020-10-02&sp=rwl&sig=a%2Bb%3D",
        )
        .unwrap();
        assert_eq!(
            sas.endpoint.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1"
        );
        assert_eq!(
            sas.query,
            vec![
                ("sv".to_owned(), "2020-10-02".to_owned()),
                ("sp".to_owned(), "rwl".to_owned()),
                ("sig".to_owned(), "a+b=".to_owned()),
            ]
        );
        assert!(parse_connection_string("AccountName=x").is_err());
        assert_eq!(block_id(0).len(), block_id(99_999_999).len());
    }
}
