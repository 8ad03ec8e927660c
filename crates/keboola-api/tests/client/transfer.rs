//! File transfer against the scripted server standing in for S3, Azure Blob Storage,
//! Cloud Storage and presigned URLs.

use std::io::{self, Write};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use keboola_api::{
    ApiErrorKind, ExportTable, ImportTarget, JobWait, PrepareFile, StorageClient, TransferConfig,
    TransferError, UploadImport,
};
use serde_json::{Value, json};
use url::Url;

use crate::server::{Recorded, Server, Step, generated_byte, json, response};
use crate::storage;

const AWS_CREDS: &str = r#"{"AccessKeyId":"ASIAFEDERATEDKEY","SecretAccessKey":"fedSecretAccessKeyValue","SessionToken":"fedSessionTokenValue","Expiration":"2030-01-01T00:00:00+00:00"}"#;

fn fast_wait() -> JobWait {
    JobWait {
        timeout: Duration::from_secs(10),
        poll: Duration::from_millis(1),
        max_poll: Duration::from_millis(4),
    }
}

fn cfg(server: &Server, part_size: usize) -> TransferConfig {
    TransferConfig {
        s3_endpoint: Some(Url::parse(&server.url()).unwrap()),
        gcs_endpoint: Some(Url::parse(&server.url()).unwrap()),
        part_size,
    }
}

fn query(r: &Recorded) -> Vec<(String, String)> {
    url::form_urlencoded::parse(r.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(r: &Recorded, key: &str) -> Option<String> {
    query(r).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn ok(body: &str) -> Step {
    Step::Respond(response(200, &[], body))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn raw(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Step {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Step::Respond(out)
}

/// A prepared file for `provider`, with its upload block.
fn prepared(provider: &str, block: &Value) -> String {
    let mut file = json!({"id": 501, "name": "data.csv", "provider": provider, "region": "eu-central-1",
        "isSliced": false});
    for (k, v) in block.as_object().unwrap() {
        file[k] = v.clone();
    }
    file.to_string()
}

fn s3_upload_block() -> Value {
    json!({"uploadParams": {"bucket": "kbc-files", "key": "exp-15/501.data.csv", "acl": "private",
        "x-amz-server-side-encryption": "AES256",
        "credentials": serde_json::from_str::<Value>(AWS_CREDS).unwrap()}})
}

/// The SigV4 query signature of a presigned S3 request.
fn assert_sigv4(r: &Recorded, region: &str) {
    assert_eq!(
        param(r, "X-Amz-Algorithm").as_deref(),
        Some("AWS4-HMAC-SHA256")
    );
    let credential = param(r, "X-Amz-Credential").unwrap();
    let parts: Vec<&str> = credential.split('/').collect();
    assert_eq!(parts.len(), 5, "{credential}");
    assert_eq!(parts[0], "ASIAFEDERATEDKEY");
    assert!(parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(&parts[2..], [region, "s3", "aws4_request"]);
    assert_eq!(
        param(r, "X-Amz-Security-Token").as_deref(),
        Some("fedSessionTokenValue")
    );
    let signature = param(r, "X-Amz-Signature").unwrap();
    assert!(
        signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()),
        "{signature}"
    );
    assert!(param(r, "X-Amz-SignedHeaders").unwrap().contains("host"));
    assert_eq!(
        signature,
        crate::sigv4::expected_signature(r, "fedSecretAccessKeyValue"),
        "the signature does not verify: {r:?}"
    );
    // Our token never goes to an object store, and neither does the secret key.
    assert!(r.header("X-StorageApi-Token").is_none());
    assert!(!r.raw_text().contains("fedSecretAccessKeyValue"));
}

fn upload(client: &StorageClient, server: &Server, file: &str, data: &[u8], part: usize) -> u64 {
    let file = serde_json::from_str(file).unwrap();
    client
        .upload_to_file(
            &file,
            &mut &data[..],
            Some(data.len() as u64),
            &cfg(server, part),
        )
        .unwrap()
}

#[test]
fn s3_small_upload_is_one_signed_put() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        raw(200, &[("ETag", "\"e0\"")], b""),
    ]);
    let client = storage(&server);
    let file = client.prepare_file(&PrepareFile::default()).unwrap();
    let data = b"id,name\n1,a\n";
    let sent = client
        .upload_to_file(&file, &mut &data[..], None, &cfg(&server, 1024))
        .unwrap();
    assert_eq!(sent, data.len() as u64);
    let put = &server.requests()[1];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path(), "/kbc-files/exp-15/501.data.csv");
    assert_eq!(put.body, data);
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(put.header("x-amz-acl"), Some("private"));
    assert_sigv4(put, "eu-central-1");
    let signed = param(put, "X-Amz-SignedHeaders").unwrap();
    assert!(signed.contains("x-amz-server-side-encryption"), "{signed}");
}

#[test]
fn s3_large_upload_is_multipart() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        ok(
            r#"<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>kbc-files</Bucket><Key>exp-15/501.data.csv</Key><UploadId>UPLOAD-7</UploadId></InitiateMultipartUploadResult>"#,
        ),
        raw(200, &[("ETag", "\"p1\"")], b""),
        raw(200, &[("ETag", "\"p2\"")], b""),
        raw(200, &[("ETag", "\"p3\"")], b""),
        ok(
            r#"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"all"</ETag></CompleteMultipartUploadResult>"#,
        ),
    ]);
    let client = storage(&server);
    let file = client.prepare_file(&PrepareFile::default()).unwrap();
    let data = b"0123456789ab";
    let sent = client
        .upload_to_file(&file, &mut &data[..], None, &cfg(&server, 5))
        .unwrap();
    assert_eq!(sent, 12);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 6, "{reqs:#?}");
    assert_eq!(reqs[1].method, "POST");
    assert!(query(&reqs[1]).iter().any(|(k, _)| k == "uploads"));
    let mut bodies = Vec::new();
    for (i, part) in reqs[2..5].iter().enumerate() {
        assert_eq!(part.method, "PUT");
        assert_eq!(param(part, "partNumber"), Some((i + 1).to_string()));
        assert_eq!(param(part, "uploadId").as_deref(), Some("UPLOAD-7"));
        assert_sigv4(part, "eu-central-1");
        bodies.extend_from_slice(&part.body);
    }
    assert_eq!(bodies, data);
    let complete = &reqs[5];
    assert_eq!(complete.method, "POST");
    assert_eq!(param(complete, "uploadId").as_deref(), Some("UPLOAD-7"));
    let xml = String::from_utf8_lossy(&complete.body);
    let p1 = xml.find("p1").unwrap();
    let p2 = xml.find("p2").unwrap();
    let p3 = xml.find("p3").unwrap();
    assert!(p1 < p2 && p2 < p3, "{xml}");
    assert!(xml.contains("<PartNumber>3</PartNumber>"), "{xml}");
}

fn abs_block(server: &Server) -> Value {
    json!({"absUploadParams": {"blobName": "501.data.csv", "accountName": "devstoreaccount1",
        "container": "exp-15-files", "absCredentials": {"SASConnectionString":
        format!("BlobEndpoint={}/devstoreaccount1;SharedAccessSignature=sv=2020-10-02&sp=rwl&sig=SAS%2Bsig%3D", server.url()),
        "expiration": "2030-01-01T00:00:00Z"}}})
}

#[test]
fn azure_small_upload_is_one_put_blob() {
    let server = Server::start(vec![raw(201, &[], b"")]);
    let client = storage(&server);
    let file = prepared("azure", &abs_block(&server));
    let sent = upload(&client, &server, &file, b"tiny", 1024);
    assert_eq!(sent, 4);
    let put = server.only_request();
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path(), "/devstoreaccount1/exp-15-files/501.data.csv");
    assert_eq!(put.header("x-ms-blob-type"), Some("BlockBlob"));
    assert_eq!(param(&put, "sv").as_deref(), Some("2020-10-02"));
    assert_eq!(param(&put, "sig").as_deref(), Some("SAS+sig="));
    assert!(put.header("X-StorageApi-Token").is_none());
    assert_eq!(put.body, b"tiny");
}

#[test]
fn azure_large_upload_puts_blocks_then_the_block_list() {
    let server = Server::start(vec![
        raw(201, &[], b""),
        raw(201, &[], b""),
        raw(201, &[], b""),
        raw(201, &[], b""),
    ]);
    let client = storage(&server);
    let file = prepared("azure", &abs_block(&server));
    let sent = upload(&client, &server, &file, b"0123456789", 4);
    assert_eq!(sent, 10);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let mut ids = Vec::new();
    let mut data = Vec::new();
    for block in &reqs[..3] {
        assert_eq!(block.method, "PUT");
        assert_eq!(param(block, "comp").as_deref(), Some("block"));
        assert_eq!(param(block, "sig").as_deref(), Some("SAS+sig="));
        ids.push(param(block, "blockid").unwrap());
        data.extend_from_slice(&block.body);
    }
    assert_eq!(data, b"0123456789");
    assert!(ids.iter().all(|id| id.len() == ids[0].len()));
    let list = &reqs[3];
    assert_eq!(param(list, "comp").as_deref(), Some("blocklist"));
    let xml = String::from_utf8_lossy(&list.body);
    let want: String = ids
        .iter()
        .map(|id| format!("<Latest>{id}</Latest>"))
        .collect();
    assert!(
        xml.contains(&format!("<BlockList>{want}</BlockList>")),
        "{xml}"
    );
}

#[test]
fn gcs_upload_and_download_send_the_bearer_token() {
    let server = Server::start(vec![
        json(200, r#"{"name":"exp-15/501.data.csv"}"#),
        ok("a,b\n"),
    ]);
    let client = storage(&server);
    let file = prepared(
        "gcp",
        &json!({"gcsUploadParams": {"projectId": "p", "bucket": "kbc-gcs", "key": "exp-15/501.data.csv",
            "access_token": "ya29.gcsAccessTokenValue", "expires_in": 3599, "token_type": "Bearer"},
            "gcsPath": {"bucket": "kbc-gcs", "key": "exp-15/501.data.csv"},
            "gcsCredentials": {"access_token": "ya29.gcsDownloadToken", "expires_in": 3599}}),
    );
    assert_eq!(upload(&client, &server, &file, b"a,b\n", 1024), 4);
    let file = serde_json::from_str(&file).unwrap();
    let mut out = Vec::new();
    client
        .download_file_to(&file, &mut out, false, &cfg(&server, 1024))
        .unwrap();
    assert_eq!(out, b"a,b\n");
    let reqs = server.requests();
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path(), "/upload/storage/v1/b/kbc-gcs/o");
    assert_eq!(param(&reqs[0], "uploadType").as_deref(), Some("media"));
    assert_eq!(
        param(&reqs[0], "name").as_deref(),
        Some("exp-15/501.data.csv")
    );
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer ya29.gcsAccessTokenValue")
    );
    assert_eq!(reqs[0].body, b"a,b\n");
    assert_eq!(
        reqs[1].target,
        "/storage/v1/b/kbc-gcs/o/exp-15%2F501.data.csv?alt=media"
    );
    assert_eq!(
        reqs[1].header("authorization"),
        Some("Bearer ya29.gcsDownloadToken")
    );
}

#[test]
fn sliced_gzip_export_is_reassembled_with_a_header() {
    let slice1 = gzip(b"\"1\",\"a\"\n\"2\",\"b\"\n");
    let slice2 = gzip(b"\"3\",\"c,d\"\n");
    let server = Server::start(vec![]);
    let manifest = json!({"entries": [
        {"url": "s3://kbc-exports/exp-2/in.c-main.t.csv.gz0000_part_00"},
        {"url": "s3://kbc-exports/exp-2/in.c-main.t.csv.gz0001_part_00"}]})
    .to_string();
    let file = json!({"id": 900, "name": "in.c-main.t.csv.gz", "isSliced": true, "provider": "aws",
        "region": "us-east-1", "url": format!("{}/manifest-download?X-Amz-Signature=abc", server.url()),
        "s3Path": {"bucket": "kbc-exports", "key": "exp-2/in.c-main.t.csv.gz"},
        "credentials": serde_json::from_str::<Value>(AWS_CREDS).unwrap()})
    .to_string();
    server.push(vec![
        json(200, r#"{"id":"in.c-main.t","columns":["id","name"]}"#),
        json(202, r#"{"id":31,"status":"waiting","operationName":"tableExport"}"#),
        json(
            200,
            r#"{"id":31,"status":"success","operationName":"tableExport","results":{"file":{"id":900},"cacheHit":false}}"#,
        ),
        json(200, &file),
        ok(&manifest),
        raw(200, &[], &slice1),
        raw(200, &[], &slice2),
    ]);
    let client = storage(&server);
    let mut out = Vec::new();
    let summary = client
        .export_table_to(
            "in.c-main.t",
            &mut out,
            &ExportTable {
                wait: fast_wait(),
                ..ExportTable::default()
            },
            &cfg(&server, 1024),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\"id\",\"name\"\n\"1\",\"a\"\n\"2\",\"b\"\n\"3\",\"c,d\"\n"
    );
    assert_eq!(summary.file_id, "900");
    let reqs = server.requests();
    let targets: Vec<&str> = reqs.iter().map(Recorded::path).collect();
    assert_eq!(
        targets,
        [
            "/v2/storage/tables/in.c-main.t",
            "/v2/storage/tables/in.c-main.t/export-async",
            "/v2/storage/jobs/31",
            "/v2/storage/files/900",
            "/manifest-download",
            "/kbc-exports/exp-2/in.c-main.t.csv.gz0000_part_00",
            "/kbc-exports/exp-2/in.c-main.t.csv.gz0001_part_00",
        ]
    );
    assert_eq!(reqs[1].json()["gzip"], true);
    assert_eq!(param(&reqs[3], "federationToken").as_deref(), Some("1"));
    assert!(reqs[4].header("X-StorageApi-Token").is_none());
    assert_sigv4(&reqs[5], "us-east-1");
}

#[test]
fn upload_then_import_failure_carries_the_file_id() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        raw(200, &[("ETag", "\"e0\"")], b""),
        json(
            202,
            r#"{"id":41,"status":"waiting","operationName":"tableImport"}"#,
        ),
        json(
            200,
            r#"{"id":41,"status":"error","operationName":"tableImport","error":{"code":"storage.tables.validation","message":"Some columns are missing in the csv file"}}"#,
        ),
    ]);
    let client = storage(&server);
    let data = b"id\n1\n";
    let err = client
        .upload_file_and_import(
            &mut &data[..],
            &UploadImport {
                file_name: "data.csv".into(),
                size_bytes: Some(data.len() as u64),
                tags: vec![],
                csv: Default::default(),
                target: ImportTarget::Table {
                    table_id: "in.c-main.t".into(),
                    incremental: true,
                },
                wait: fast_wait(),
            },
            &cfg(&server, 1024),
        )
        .unwrap_err();
    assert_eq!(err.file_id(), Some("501"));
    assert!(err.to_string().contains("file 501"), "{err}");
    assert!(err.to_string().contains("columns are missing"), "{err}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let prepare = String::from_utf8_lossy(&reqs[0].body).into_owned();
    assert!(prepare.contains("tags%5B0%5D=table-import"), "{prepare}");
    assert_eq!(reqs[1].body, data);
    assert_eq!(
        reqs[2].json(),
        json!({"dataFileId":"501","incremental":true})
    );
}

#[test]
fn upload_then_create_table_returns_the_new_table() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        raw(200, &[("ETag", "\"e0\"")], b""),
        json(
            202,
            r#"{"id":42,"status":"success","operationName":"tableCreate","results":{"id":"in.c-main.new"}}"#,
        ),
    ]);
    let client = storage(&server);
    let outcome = client
        .upload_file_and_import(
            &mut &b"id\n1\n"[..],
            &UploadImport {
                file_name: "data.csv".into(),
                size_bytes: None,
                tags: vec!["mine".into()],
                csv: Default::default(),
                target: ImportTarget::NewTable {
                    bucket_id: "in.c-main".into(),
                    name: "new".into(),
                    primary_key: vec!["id".into()],
                },
                wait: fast_wait(),
            },
            &cfg(&server, 1024),
        )
        .unwrap();
    assert_eq!(outcome.table_id.as_deref(), Some("in.c-main.new"));
    assert_eq!(outcome.file_id, "501");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "a finished job is not polled");
    assert_eq!(reqs[2].path(), "/v2/storage/buckets/in.c-main/tables-async");
    assert_eq!(
        reqs[2].json(),
        json!({"name":"new","dataFileId":"501","primaryKey":"id"})
    );
}

#[test]
fn a_failed_upload_never_echoes_the_signed_request() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        raw(
            403,
            &[("Content-Type", "application/xml")],
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><CanonicalRequest>X-Amz-Security-Token=fedSessionTokenValue</CanonicalRequest></Error>",
        ),
    ]);
    let client = storage(&server);
    let file = client.prepare_file(&PrepareFile::default()).unwrap();
    let err = client
        .upload_to_file(&file, &mut &b"x"[..], None, &cfg(&server, 1024))
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("AccessDenied"), "{shown}");
    for secret in [
        "fedSessionTokenValue",
        "fedSecretAccessKeyValue",
        "X-Amz-Signature",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert_eq!(
        server.requests().len(),
        2,
        "an upload is not retried on 403"
    );
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Checks every byte against the generator and keeps nothing.
struct Verify {
    at: u64,
}

impl Write for Verify {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for b in buf {
            if *b != generated_byte(self.at) {
                return Err(io::Error::other(format!("wrong byte at {}", self.at)));
            }
            self.at += 1;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_200_mb_download_streams_with_flat_memory() {
    const LEN: u64 = 200 * 1024 * 1024;
    let server = Server::start(vec![Step::Generate(LEN)]);
    let file = json!({"id": 7, "name": "big.bin", "isSliced": false, "provider": "unknown",
        "url": format!("{}/big.bin?sig=x", server.url())});
    let file = serde_json::from_value(file).unwrap();
    let client = storage(&server);
    let before = peak_rss_kib();
    let mut out = Verify { at: 0 };
    let written = client
        .download_file_to(&file, &mut out, true, &cfg(&server, 1024))
        .unwrap();
    assert_eq!(written, LEN);
    assert_eq!(out.at, LEN);
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // Holding the body would raise the peak by 200 MiB; streaming needs buffers only.
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
}

/// A reader that fails after `ok` bytes.
struct Failing {
    ok: usize,
}

impl io::Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("disk read error"));
        }
        let n = buf.len().min(self.ok);
        buf[..n].fill(b'x');
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn local_failures_are_told_apart_from_the_network() {
    let server = Server::start(vec![Step::Hang]);
    let client = storage(&server);
    let gcs = prepared(
        "gcp",
        &json!({"gcsUploadParams": {"bucket": "b", "key": "k", "access_token": "ya29.tok"}}),
    );
    let file = serde_json::from_str(&gcs).unwrap();
    // A known size: the body streams straight from the reader.
    let err = client
        .upload_to_file(
            &file,
            &mut Failing { ok: 3 },
            Some(100),
            &cfg(&server, 1024),
        )
        .unwrap_err();
    assert!(matches!(err, TransferError::Local(_)), "{err:?}");
    let s3 = serde_json::from_str(&prepared("aws", &s3_upload_block())).unwrap();
    let err = client
        .upload_to_file(&s3, &mut Failing { ok: 3 }, None, &cfg(&server, 1024))
        .unwrap_err();
    assert!(matches!(err, TransferError::Local(_)), "{err:?}");

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "no space"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let server = Server::start(vec![ok("some bytes"), raw(200, &[], &gzip(b"abc")[..10])]);
    let plain = json!({"id": 8, "name": "f.csv", "url": format!("{}/f?sig=s", server.url())});
    let plain = serde_json::from_value(plain).unwrap();
    let err = client
        .download_file_to(&plain, &mut Full, false, &cfg(&server, 1024))
        .unwrap_err();
    assert!(matches!(&err, TransferError::Local(e) if e.kind() == io::ErrorKind::StorageFull));
    // A truncated gzip body is the server's fault, not ours.
    let err = client
        .download_file_to(&plain, &mut Vec::new(), true, &cfg(&server, 1024))
        .unwrap_err();
    match err {
        TransferError::Api(e) => assert_eq!(e.kind(), &ApiErrorKind::InvalidResponse, "{e}"),
        other @ TransferError::Local(_) => panic!("{other:?}"),
    }
}

#[test]
fn azure_sliced_download_reads_every_slice_with_the_sas() {
    let server = Server::start(vec![]);
    let sas = format!(
        "BlobEndpoint={}/devstoreaccount1;SharedAccessSignature=sv=2020-10-02&sp=rl&sig=READ%2Bsig",
        server.url()
    );
    let file = json!({"id": 77, "name": "t.csv.gz", "isSliced": true, "provider": "azure",
        "absPath": {"container": "exp-2", "name": "77.t.csv.gz"},
        "absCredentials": {"SASConnectionString": sas, "expiration": "2030-01-01T00:00:00Z"}});
    let file = serde_json::from_value(file).unwrap();
    let manifest = json!({"entries": [
        {"url": "azure://kbcfs.blob.core.windows.net/exp-2/77.t.csv.gz0000_part_00"},
        {"url": "azure://kbcfs.blob.core.windows.net/exp-2/77.t.csv.gz0001_part_00"}]});
    server.push(vec![
        ok(&manifest.to_string()),
        raw(200, &[], &gzip(b"a\n")),
        raw(200, &[], &gzip(b"b\n")),
    ]);
    let client = storage(&server);
    let mut out = Vec::new();
    let n = client
        .download_file_to(&file, &mut out, true, &cfg(&server, 1024))
        .unwrap();
    assert_eq!((n, out.as_slice()), (4, &b"a\nb\n"[..]));
    let reqs = server.requests();
    let paths: Vec<&str> = reqs.iter().map(Recorded::path).collect();
    assert_eq!(
        paths,
        [
            "/devstoreaccount1/exp-2/77.t.csv.gzmanifest",
            "/devstoreaccount1/exp-2/77.t.csv.gz0000_part_00",
            "/devstoreaccount1/exp-2/77.t.csv.gz0001_part_00",
        ]
    );
    for r in &reqs {
        assert_eq!(param(r, "sig").as_deref(), Some("READ+sig"));
        assert_eq!(r.method, "GET");
    }
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_request_log_never_holds_signatures_or_credentials() {
    let server = Server::start(vec![
        json(201, &prepared("aws", &s3_upload_block())),
        raw(200, &[("ETag", "\"e0\"")], b""),
        raw(201, &[], b""),
    ]);
    let client = storage(&server);
    let file = client.prepare_file(&PrepareFile::default()).unwrap();
    let azure = serde_json::from_str(&prepared("azure", &abs_block(&server))).unwrap();
    // Call sites cache whether anyone listens. With a single subscriber registered,
    // another test's thread that first reaches a call site asks only its own (absent)
    // default and caches "never"; with two, it asks both.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        client
            .upload_to_file(&file, &mut &b"a,b\n"[..], None, &cfg(&server, 1024))
            .unwrap();
        client
            .upload_to_file(&azure, &mut &b"a,b\n"[..], None, &cfg(&server, 1024))
            .unwrap();
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("/kbc-files/exp-15/501.data.csv"), "{log}");
    assert!(
        log.contains("/devstoreaccount1/exp-15-files/501.data.csv"),
        "{log}"
    );
    for secret in [
        "X-Amz",
        "fedSessionTokenValue",
        "fedSecretAccessKeyValue",
        "ASIAFEDERATEDKEY",
        "sig=",
        "SAS",
        crate::SECRET,
    ] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

#[test]
fn gcs_upload_of_unknown_size_is_resumable() {
    let server = Server::start(vec![]);
    let session = format!(
        "{}/upload/storage/v1/b/kbc-gcs/o?uploadType=resumable&upload_id=SESSION1",
        server.url()
    );
    server.push(vec![
        raw(200, &[("Location", &session)], b""),
        raw(308, &[("Range", "bytes=0-262143")], b""),
        raw(308, &[("Range", "bytes=0-524287")], b""),
        json(200, r#"{"name":"k"}"#),
    ]);
    let client = storage(&server);
    let file = prepared(
        "gcp",
        &json!({"gcsUploadParams": {"bucket": "kbc-gcs", "key": "k", "access_token": "ya29.resumable"}}),
    );
    let file = serde_json::from_str(&file).unwrap();
    let data: Vec<u8> = (0..600 * 1024u64).map(generated_byte).collect();
    let sent = client
        .upload_to_file(&file, &mut data.as_slice(), None, &cfg(&server, 1000))
        .unwrap();
    assert_eq!(sent, data.len() as u64);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(param(&reqs[0], "uploadType").as_deref(), Some("resumable"));
    assert_eq!(param(&reqs[0], "name").as_deref(), Some("k"));
    let ranges: Vec<&str> = reqs[1..]
        .iter()
        .map(|r| r.header("content-range").unwrap())
        .collect();
    assert_eq!(
        ranges,
        [
            "bytes 0-262143/*",
            "bytes 262144-524287/*",
            "bytes 524288-614399/614400"
        ]
    );
    let mut sent_bytes = Vec::new();
    for r in &reqs[1..] {
        assert_eq!(r.method, "PUT");
        assert_eq!(param(r, "upload_id").as_deref(), Some("SESSION1"));
        assert_eq!(r.header("authorization"), Some("Bearer ya29.resumable"));
        sent_bytes.extend_from_slice(&r.body);
    }
    assert!(sent_bytes == data, "the parts do not add up to the data");
}
