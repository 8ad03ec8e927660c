//! File Storage: prepare, list, detail, tags, delete; credentials are checked by the
//! object endpoints and never reach the request log. Storage job controls.

use keboola_emulator::{FileProvider, StorageJobControl};
use serde_json::json;

use crate::common::{Client, start};
use crate::storage_util::{Transfer, enc, sas_parts, sigv4, start_provider, upload, wait_job};

#[test]
fn files_list_detail_tags_and_delete() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let a = upload(&emu, &c, t, "a.csv", b"x\n1\n", Transfer::Single);
    let b = c.send_form(
        "POST",
        "/v2/storage/files/prepare",
        t,
        "name=b.txt&tags[0]=keep&tags[1]=keep&isPermanent=1",
    );
    assert_eq!(b.status, 201);
    let b_file = b.json();
    assert_eq!(b_file["tags"], json!(["keep"]), "duplicates removed");
    assert_eq!(b_file["maxAgeDays"], json!(null));
    let b = b_file["id"].as_u64().unwrap();

    let all = c.get("/v2/storage/files", t).json();
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [b, a], "newest first");
    assert!(
        all[0].get("absUploadParams").is_none(),
        "no credentials in listings"
    );
    let tagged = c.get("/v2/storage/files?tags[]=table-import", t).json();
    assert_eq!(tagged.as_array().unwrap().len(), 1);
    assert_eq!(tagged[0]["id"], a);
    assert_eq!(
        c.get("/v2/storage/files?q=name:b.txt", t).json()[0]["id"],
        b
    );
    assert_eq!(
        c.get("/v2/storage/files?limit=1&offset=1", t).json()[0]["id"],
        a
    );
    assert_eq!(c.get("/v2/storage/files?tags=x", t).status, 400);

    let detail = c.get(&format!("/v2/storage/files/{a}"), t).json();
    assert_eq!(detail["sizeBytes"], 4);
    assert_eq!(detail["provider"], "azure");
    assert!(detail.get("absCredentials").is_none());
    let fed = c
        .get(&format!("/v2/storage/files/{a}?federationToken=1"), t)
        .json();
    assert!(
        fed["absCredentials"]["SASConnectionString"]
            .as_str()
            .unwrap()
            .contains("BlobEndpoint=")
    );
    let body = c.request_url("GET", fed["url"].as_str().unwrap(), &[], None);
    assert_eq!(body.text, "x\n1\n");

    assert_eq!(
        c.send_json(
            "POST",
            &format!("/v2/storage/files/{b}/tags"),
            t,
            &json!({"tag": "new"})
        )
        .status,
        204
    );
    assert_eq!(
        c.get(&format!("/v2/storage/files/{b}"), t).json()["tags"],
        json!(["keep", "new"])
    );
    assert_eq!(
        c.delete(&format!("/v2/storage/files/{b}/tags/keep"), t)
            .status,
        204
    );
    assert_eq!(
        c.get(&format!("/v2/storage/files/{b}"), t).json()["tags"],
        json!(["new"])
    );

    assert_eq!(c.delete(&format!("/v2/storage/files/{a}"), t).status, 204);
    let gone = c.get(&format!("/v2/storage/files/{a}"), t);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["code"], "storage.files.notFound");
    assert_eq!(
        c.request_url("GET", fed["url"].as_str().unwrap(), &[], None)
            .status,
        403
    );

    // Another project's token does not see the file.
    let other = emu.projects()[1].tokens.admin.clone();
    assert_eq!(c.get(&format!("/v2/storage/files/{b}"), &other).status, 404);
}

#[test]
fn object_endpoints_check_credentials_and_the_log_masks_them() {
    for provider in [FileProvider::Azure, FileProvider::Aws, FileProvider::Gcp] {
        let emu = start_provider(provider);
        let c = Client::new(&emu);
        let t = &emu.projects()[0].tokens.admin;
        let id = upload(&emu, &c, t, "s.csv", b"a\n1\n", Transfer::Single);
        let file = c
            .get(&format!("/v2/storage/files/{id}?federationToken=1"), t)
            .json();
        let url = file["url"].as_str().unwrap();
        assert_eq!(
            c.request_url("GET", url, &[], None).text,
            "a\n1\n",
            "{provider:?}"
        );
        let (denied, status) = match provider {
            FileProvider::Azure => {
                let (endpoint, _) = sas_parts(
                    file["absCredentials"]["SASConnectionString"]
                        .as_str()
                        .unwrap(),
                );
                let r = c.request_url(
                    "GET",
                    &format!(
                        "{endpoint}/{}/{}?sv=2019-12-12&sig=wrong",
                        file["absPath"]["container"].as_str().unwrap(),
                        file["absPath"]["name"].as_str().unwrap()
                    ),
                    &[],
                    None,
                );
                (r, 403)
            }
            FileProvider::Aws => {
                let r = c.request_url(
                    "GET",
                    &format!("{}/{}/{}", emu.s3_endpoint(), file["s3Path"]["bucket"].as_str().unwrap(), file["s3Path"]["key"].as_str().unwrap()),
                    &[("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")],
                    None,
                );
                (r, 403)
            }
            FileProvider::Gcp => {
                let r = c.request_url(
                    "GET",
                    &format!(
                        "{}/storage/v1/b/{}/o/{}?alt=media",
                        emu.gcs_endpoint(),
                        file["gcsPath"]["bucket"].as_str().unwrap(),
                        crate::storage_util::enc(file["gcsPath"]["key"].as_str().unwrap())
                    ),
                    &[("Authorization", "Bearer ya29.c.wrong")],
                    None,
                );
                (r, 401)
            }
        };
        assert_eq!(denied.status, status, "{provider:?}: {}", denied.text);

        let log = serde_json::to_string(&emu.requests()).unwrap();
        let secrets = [
            file.pointer("/absCredentials/SASConnectionString")
                .and_then(|v| v.as_str())
                .map(|s| sas_parts(s).1),
            file.pointer("/credentials/SessionToken")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            file.pointer("/gcsCredentials/access_token")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        ];
        for secret in secrets.into_iter().flatten() {
            let sig = secret.rsplit("sig=").next().unwrap().to_owned();
            assert!(
                !log.contains(&sig),
                "{provider:?}: the log holds a secret: {log}"
            );
        }
        let signature = url
            .split(['?', '&'])
            .find_map(|p| {
                p.strip_prefix("X-Amz-Signature=")
                    .or_else(|| p.strip_prefix("X-Goog-Signature="))
                    .or_else(|| p.strip_prefix("sig="))
            })
            .unwrap();
        assert!(
            !log.contains(signature),
            "{provider:?}: presigned signature in the log"
        );
    }
}

#[test]
fn storage_jobs_fail_or_take_longer_on_request() {
    let emu = start();
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let control = c.request(
        "POST",
        "/_emulator/storage-jobs",
        &[],
        Some(("application/json", br#"{"fail":true,"error_code":"storage.tables.validation","error_message":"Broken on purpose"}"#.to_vec())),
    );
    assert_eq!(control.status, 201, "{}", control.text);
    let truncate = || {
        c.send_json(
            "DELETE",
            "/v2/storage/tables/in.c-budget.budget_lines/rows",
            t,
            &json!({"allowTruncate": true}),
        )
    };
    let first = truncate();
    let job = wait_job(&c, t, &first);
    assert_eq!(job["status"], "error");
    assert_eq!(job["error"]["code"], "storage.tables.validation");
    assert_eq!(job["error"]["message"], "Broken on purpose");
    assert!(
        job["error"]["exceptionId"]
            .as_str()
            .unwrap()
            .starts_with("keboola-emulator-")
    );
    assert!(job["endTime"].is_string());
    assert_eq!(
        c.get("/v2/storage/tables/in.c-budget.budget_lines", t)
            .json()["rowsCount"],
        120,
        "a failed job does no work"
    );

    // The control applied once; the next job runs, slowly.
    emu.add_storage_job_control(StorageJobControl {
        fail: false,
        error_code: None,
        error_message: None,
        duration_ms: Some(1500),
        operation_name: Some("tableRowsDelete".into()),
        times: Some(1),
    });
    let second = truncate();
    let id = second.json()["id"].as_u64().unwrap();
    let mut seen = vec![second.json()["status"].as_str().unwrap().to_owned()];
    loop {
        let s = c.get(&format!("/v2/storage/jobs/{id}"), t).json()["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "success" || s == "error" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(seen, ["waiting", "processing", "success"]);
    let done = c.get(&format!("/v2/storage/jobs/{id}"), t).json();
    assert_eq!(done["results"], json!({"deletedRows": 120}));
    assert!(done["startTime"].is_string());
    assert_eq!(done["url"], format!("{}/v2/storage/jobs/{id}", emu.url()));
    assert_eq!(done["creatorToken"]["id"], "1001");

    let unknown = c.get("/v2/storage/jobs/1", t);
    assert_eq!(unknown.status, 404);
    let other = emu.projects()[1].tokens.admin.clone();
    assert_eq!(
        c.get(&format!("/v2/storage/jobs/{id}"), &other).status,
        404,
        "jobs are per project"
    );
    assert_eq!(c.get("/v2/storage/jobs?limit=1", t).json()[0]["id"], id);
}

#[test]
fn gcs_resumable_and_xml_uploads_and_s3_chunked_bodies() {
    let emu = start_provider(FileProvider::Gcp);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let file = c
        .send_form("POST", "/v2/storage/files/prepare", t, "name=r.csv")
        .json();
    let p = &file["gcsUploadParams"];
    let (bucket, key) = (p["bucket"].as_str().unwrap(), p["key"].as_str().unwrap());
    let bearer = format!("Bearer {}", p["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let start = c.request_url(
        "POST",
        &format!(
            "{}/upload/storage/v1/b/{bucket}/o?uploadType=resumable",
            emu.gcs_endpoint()
        ),
        &auth,
        Some((
            "application/json",
            json!({"name": key}).to_string().into_bytes(),
        )),
    );
    assert_eq!(start.status, 200, "{}", start.text);
    let session = start.header("location").unwrap().to_owned();
    let first = c.request_url(
        "PUT",
        &session,
        &[auth[0], ("Content-Range", "bytes 0-3/*")],
        Some(("text/csv", b"a,b\n".to_vec())),
    );
    assert_eq!(first.status, 308);
    assert_eq!(first.header("range"), Some("bytes=0-3"));
    let last = c.request_url(
        "PUT",
        &session,
        &[auth[0], ("Content-Range", "bytes 4-7/8")],
        Some(("text/csv", b"1,2\n".to_vec())),
    );
    assert_eq!(last.status, 200, "{}", last.text);
    assert_eq!(last.json()["size"], "8");
    let got = c.request_url("GET", file["url"].as_str().unwrap(), &[], None);
    assert_eq!(got.text, "a,b\n1,2\n");
    // The XML API replaces the object.
    let put = c.request_url(
        "PUT",
        &format!("{}/{bucket}/{key}", emu.gcs_endpoint()),
        &auth,
        Some(("text/csv", b"a,b\n3,4\n".to_vec())),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let got = c.request_url(
        "GET",
        &format!("{}/{bucket}/{key}", emu.gcs_endpoint()),
        &auth,
        None,
    );
    assert_eq!(got.text, "a,b\n3,4\n");
    let anonymous = c.request_url(
        "GET",
        &format!("{}/{bucket}/{key}", emu.gcs_endpoint()),
        &[],
        None,
    );
    assert_eq!(anonymous.status, 401);

    let emu = start_provider(FileProvider::Aws);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let file = c
        .send_form("POST", "/v2/storage/files/prepare", t, "name=c.csv")
        .json();
    let p = &file["uploadParams"];
    let creds = &p["credentials"];
    let auth = sigv4(creds["AccessKeyId"].as_str().unwrap());
    let chunked =
        b"4\r\nx,y\n\r\n4\r\n5,6\n\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n".to_vec();
    let url = format!(
        "{}/{}/{}",
        emu.s3_endpoint(),
        p["bucket"].as_str().unwrap(),
        p["key"].as_str().unwrap()
    );
    let put = c.request_url(
        "PUT",
        &url,
        &[
            ("Authorization", &auth),
            (
                "x-amz-security-token",
                creds["SessionToken"].as_str().unwrap(),
            ),
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "8"),
        ],
        Some(("text/csv", chunked)),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let got = c.request_url(
        "GET",
        file["url"].as_str().unwrap(),
        &[("Range", "bytes=4-")],
        None,
    );
    assert_eq!(got.status, 206);
    assert_eq!(got.text, "5,6\n");
    assert_eq!(got.header("content-range"), Some("bytes 4-7/8"));
    let wrong_token = c.request_url(
        "GET",
        &url,
        &[
            ("Authorization", &auth),
            ("x-amz-security-token", "FwoGZXIvYXdzEEmulatorwrong"),
        ],
        None,
    );
    assert_eq!(wrong_token.status, 403);
}

/// SigV4 in the query string (how SDKs and presigners sign), with the file's credentials.
#[test]
fn s3_accepts_query_signed_requests_with_the_files_credentials() {
    let emu = start_provider(FileProvider::Aws);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let file = c
        .send_form("POST", "/v2/storage/files/prepare", t, "name=q.csv")
        .json();
    let p = &file["uploadParams"];
    let creds = &p["credentials"];
    let key_id = creds["AccessKeyId"].as_str().unwrap();
    let token = creds["SessionToken"].as_str().unwrap();
    let url = format!(
        "{}/{}/{}",
        emu.s3_endpoint(),
        p["bucket"].as_str().unwrap(),
        p["key"].as_str().unwrap()
    );
    let signed = |key_id: &str, token: &str, signature: &str| {
        format!(
            "{url}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date=20261201T220000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token={}&X-Amz-Signature={signature}",
            enc(&format!("{key_id}/20261201/us-east-1/s3/aws4_request")),
            enc(token)
        )
    };
    let good = "0123456789abcdef".repeat(4);
    let put = c.request_url(
        "PUT",
        &signed(key_id, token, &good),
        &[],
        Some(("text/csv", b"a\n1\n".to_vec())),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let got = c.request_url("GET", &signed(key_id, token, &good), &[], None);
    assert_eq!(got.text, "a\n1\n");

    let other = c
        .send_form("POST", "/v2/storage/files/prepare", t, "name=r.csv")
        .json();
    let other_key = other["uploadParams"]["credentials"]["AccessKeyId"]
        .as_str()
        .unwrap();
    for (url, why) in [
        (signed(other_key, token, &good), "another file's access key"),
        (
            signed(key_id, "FwoGZXIvYXdzEEmulatorwrong", &good),
            "a wrong session token",
        ),
        (
            signed(key_id, token, "abc"),
            "a signature of the wrong shape",
        ),
        (
            signed(key_id, token, &good).replace("SignedHeaders=host", "SignedHeaders=x-amz-date"),
            "host not signed",
        ),
    ] {
        let refused = c.request_url("GET", &url, &[], None);
        assert_eq!(refused.status, 403, "{why}: {}", refused.text);
        assert!(refused.text.contains("AccessDenied"), "{why}");
    }
}
