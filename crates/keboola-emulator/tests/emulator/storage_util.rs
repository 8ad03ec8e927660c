//! Helpers for the Storage tests: waiting for jobs, and moving file bytes over each
//! provider's own protocol, as a client of real Keboola would.

use std::io::Read as _;
use std::time::{Duration, Instant};

use keboola_emulator::{Emulator, FileProvider};
use serde_json::{Value, json};

use crate::common::{Client, Resp};

/// Polls a job (given as the 202 body) until it ends; returns the final job.
pub fn wait_job(c: &Client, token: &str, job: &Resp) -> Value {
    assert_eq!(job.status, 202, "{}", job.text);
    let id = job.json()["id"].as_u64().expect("job id");
    let started = Instant::now();
    loop {
        let resp = c.get(&format!("/v2/storage/jobs/{id}"), token);
        assert_eq!(resp.status, 200, "{}", resp.text);
        let body = resp.json();
        if matches!(body["status"].as_str(), Some("success" | "error")) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job {id} never ended: {body}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a job and asserts it succeeded; returns its `results`.
pub fn job_results(c: &Client, token: &str, job: &Resp) -> Value {
    let done = wait_job(c, token, job);
    assert_eq!(done["status"], "success", "{done}");
    done["results"].clone()
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An emulator with one project whose File Storage speaks `provider`.
pub fn start_provider(provider: FileProvider) -> Emulator {
    crate::common::start_with(keboola_emulator::EmulatorOptions {
        projects: 1,
        file_provider: provider,
        ..Default::default()
    })
}

/// A SigV4 `Authorization` header of the right shape for an access key id. The emulator
/// checks the shape and the session token, not the HMAC.
pub fn sigv4(access_key_id: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature={}",
        "0123456789abcdef".repeat(4)
    )
}

/// `Authorization`, `x-amz-security-token` and the other SigV4 headers for S3 credentials.
pub fn s3_headers(creds: &Value) -> Vec<(String, String)> {
    vec![
        (
            "Authorization".into(),
            sigv4(creds["AccessKeyId"].as_str().unwrap()),
        ),
        (
            "x-amz-security-token".into(),
            creds["SessionToken"].as_str().unwrap().into(),
        ),
        ("x-amz-date".into(), "20260101T000000Z".into()),
        ("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
    ]
}

pub fn refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// `BlobEndpoint` and `SharedAccessSignature` of a SAS connection string.
pub fn sas_parts(connection: &str) -> (String, String) {
    let mut endpoint = String::new();
    let mut sas = String::new();
    for part in connection.split(';') {
        if let Some(v) = part.strip_prefix("BlobEndpoint=") {
            endpoint = v.to_owned();
        } else if let Some(v) = part.strip_prefix("SharedAccessSignature=") {
            sas = v.to_owned();
        }
    }
    (endpoint, sas)
}

/// How to send the bytes: in one request, or in parts (Azure blocks, S3 multipart, GCS
/// multipart/related or resumable chunks).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Single,
    Parts,
}

/// Prepares a file, uploads `bytes` with the provider's protocol, returns the file id.
pub fn upload(
    emu: &Emulator,
    c: &Client,
    token: &str,
    name: &str,
    bytes: &[u8],
    how: Transfer,
) -> u64 {
    let prepared = c.send_form(
        "POST",
        "/v2/storage/files/prepare",
        token,
        &format!("name={}&federationToken=1&tags[]=table-import", enc(name)),
    );
    assert_eq!(prepared.status, 201, "{}", prepared.text);
    let file = prepared.json();
    assert_eq!(file["provider"], emu.file_provider_name());
    let half = bytes.len() / 2;
    match emu.file_provider() {
        FileProvider::Azure => {
            let p = &file["absUploadParams"];
            let (endpoint, sas) =
                sas_parts(p["absCredentials"]["SASConnectionString"].as_str().unwrap());
            let url = format!(
                "{endpoint}/{}/{}",
                p["container"].as_str().unwrap(),
                p["blobName"].as_str().unwrap()
            );
            if how == Transfer::Single {
                let r = c.request_url(
                    "PUT",
                    &format!("{url}?{sas}"),
                    &[("x-ms-blob-type", "BlockBlob")],
                    Some(("text/csv", bytes.to_vec())),
                );
                assert_eq!(r.status, 201, "{}", r.text);
            } else {
                for (id, chunk) in [
                    ("YmxvY2stMQ==", &bytes[..half]),
                    ("YmxvY2stMg==", &bytes[half..]),
                ] {
                    let r = c.request_url(
                        "PUT",
                        &format!("{url}?comp=block&blockid={}&{sas}", enc(id)),
                        &[],
                        Some(("application/octet-stream", chunk.to_vec())),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                }
                let list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YmxvY2stMQ==</Latest><Latest>YmxvY2stMg==</Latest></BlockList>";
                let r = c.request_url(
                    "PUT",
                    &format!("{url}?comp=blocklist&{sas}"),
                    &[],
                    Some(("application/xml", list.as_bytes().to_vec())),
                );
                assert_eq!(r.status, 201, "{}", r.text);
            }
        }
        FileProvider::Aws => {
            let p = &file["uploadParams"];
            let url = format!(
                "{}/{}/{}",
                emu.s3_endpoint(),
                p["bucket"].as_str().unwrap(),
                p["key"].as_str().unwrap()
            );
            let headers = s3_headers(&p["credentials"]);
            if how == Transfer::Single {
                let r = c.request_url(
                    "PUT",
                    &url,
                    &refs(&headers),
                    Some(("text/csv", bytes.to_vec())),
                );
                assert_eq!(r.status, 200, "{}", r.text);
            } else {
                let r = c.request_url("POST", &format!("{url}?uploads"), &refs(&headers), None);
                assert_eq!(r.status, 200, "{}", r.text);
                let upload_id = between(&r.text, "<UploadId>", "</UploadId>");
                let mut etags = Vec::new();
                for (n, chunk) in [(1, &bytes[..half]), (2, &bytes[half..])] {
                    let r = c.request_url(
                        "PUT",
                        &format!("{url}?partNumber={n}&uploadId={upload_id}"),
                        &refs(&headers),
                        Some(("application/octet-stream", chunk.to_vec())),
                    );
                    assert_eq!(r.status, 200, "{}", r.text);
                    etags.push(r.header("etag").unwrap().to_owned());
                }
                let xml = format!(
                    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
                    etags[0], etags[1]
                );
                let r = c.request_url(
                    "POST",
                    &format!("{url}?uploadId={upload_id}"),
                    &refs(&headers),
                    Some(("application/xml", xml.into_bytes())),
                );
                assert_eq!(r.status, 200, "{}", r.text);
                assert!(
                    r.text.contains("<CompleteMultipartUploadResult"),
                    "{}",
                    r.text
                );
            }
        }
        FileProvider::Gcp => {
            let p = &file["gcsUploadParams"];
            let bucket = p["bucket"].as_str().unwrap();
            let key = p["key"].as_str().unwrap();
            let bearer = format!("Bearer {}", p["access_token"].as_str().unwrap());
            let base = format!("{}/upload/storage/v1/b/{bucket}/o", emu.gcs_endpoint());
            if how == Transfer::Single {
                let r = c.request_url(
                    "POST",
                    &format!("{base}?uploadType=media&name={}", enc(key)),
                    &[("Authorization", &bearer)],
                    Some(("text/csv", bytes.to_vec())),
                );
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.json()["name"], key);
            } else {
                let boundary = "emulator-boundary";
                let mut body = format!(
                    "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: text/csv\r\n\r\n",
                    json!({"name": key})
                )
                .into_bytes();
                body.extend_from_slice(bytes);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                let r = c.request_url(
                    "POST",
                    &format!("{base}?uploadType=multipart"),
                    &[("Authorization", &bearer)],
                    Some((&format!("multipart/related; boundary={boundary}"), body)),
                );
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.json()["size"], bytes.len().to_string());
            }
        }
    }
    file["id"].as_u64().unwrap()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap() + open.len();
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes.to_vec();
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Downloads an exported (sliced) file as a client does: file detail with
/// `federationToken`, the manifest at `url`, then every slice through the provider's
/// protocol. Returns the concatenated, gunzipped CSV and the number of slices.
pub fn download(emu: &Emulator, c: &Client, token: &str, file_id: u64) -> (String, usize) {
    let detail = c.get(
        &format!("/v2/storage/files/{file_id}?federationToken=1"),
        token,
    );
    assert_eq!(detail.status, 200, "{}", detail.text);
    let file = detail.json();
    assert_eq!(file["isSliced"], true, "{file}");
    let manifest = c.request_url("GET", file["url"].as_str().unwrap(), &[], None);
    assert_eq!(manifest.status, 200, "{}", manifest.text);
    let entries = manifest.json()["entries"].as_array().unwrap().clone();
    let mut out = Vec::new();
    for entry in &entries {
        let url = entry["url"].as_str().unwrap();
        let bytes = match emu.file_provider() {
            FileProvider::Aws => {
                let path = url.strip_prefix("s3://").unwrap();
                let r = c.request_url(
                    "GET",
                    &format!("{}/{path}", emu.s3_endpoint()),
                    &refs(&s3_headers(&file["credentials"])),
                    None,
                );
                assert_eq!(r.status, 200, "{}", r.text);
                r.bytes
            }
            FileProvider::Gcp => {
                let (bucket, key) = url.strip_prefix("gs://").unwrap().split_once('/').unwrap();
                let bearer = format!(
                    "Bearer {}",
                    file["gcsCredentials"]["access_token"].as_str().unwrap()
                );
                let r = c.request_url(
                    "GET",
                    &format!(
                        "{}/storage/v1/b/{bucket}/o/{}?alt=media",
                        emu.gcs_endpoint(),
                        enc(key)
                    ),
                    &[("Authorization", &bearer)],
                    None,
                );
                assert_eq!(r.status, 200, "{}", r.text);
                r.bytes
            }
            FileProvider::Azure => {
                let (endpoint, sas) = sas_parts(
                    file["absCredentials"]["SASConnectionString"]
                        .as_str()
                        .unwrap(),
                );
                let container = file["absPath"]["container"].as_str().unwrap();
                let blob = url
                    .split_once(&format!(".blob.core.windows.net/{container}/"))
                    .unwrap()
                    .1;
                let r = c.request_url(
                    "GET",
                    &format!("{endpoint}/{container}/{blob}?{sas}"),
                    &[("x-ms-range", "bytes=0-33554431")],
                    None,
                );
                assert!(matches!(r.status, 200 | 206), "{}", r.text);
                r.bytes
            }
        };
        out.extend(gunzip(&bytes));
    }
    (String::from_utf8(out).unwrap(), entries.len())
}

pub trait ProviderName {
    fn file_provider_name(&self) -> &'static str;
}

impl ProviderName for Emulator {
    fn file_provider_name(&self) -> &'static str {
        match self.file_provider() {
            FileProvider::Aws => "aws",
            FileProvider::Azure => "azure",
            FileProvider::Gcp => "gcp",
        }
    }
}
