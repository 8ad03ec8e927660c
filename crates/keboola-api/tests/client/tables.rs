//! Buckets, tables, Storage jobs and files: paths, query parameters, bodies, decoding.

use std::collections::BTreeMap;
use std::time::Duration;

use keboola_api::{
    ApiErrorKind, ColumnDefinition, CreateBucket, CreateTableFromFile, CsvOptions, ExportOptions,
    FilesQuery, ImportOptions, JobStatus, JobWait, MetadataEntry, PrepareFile, PreviewOptions,
    TableDefinition, TablesQuery, WhereFilter,
};
use serde_json::json;

use crate::server::{Server, Step, json, response};
use crate::{SECRET, assert_no_secret, storage};

fn fast_wait() -> JobWait {
    JobWait {
        timeout: Duration::from_secs(10),
        poll: Duration::from_millis(1),
        max_poll: Duration::from_millis(4),
    }
}

fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const JOB_WAITING: &str =
    r#"{"id":81,"status":"waiting","operationName":"tableImport","results":null}"#;

#[test]
fn bucket_calls() {
    let server = Server::start(vec![
        json(
            200,
            r#"[{"id":"in.c-main","name":"c-main","displayName":"main","stage":"in","metadata":[{"id":"1","key":"KBC.description","value":"d","provider":"user"}]}]"#,
        ),
        json(
            200,
            r#"{"id":"in.c-main","backendPath":["DB","in.c-main"]}"#,
        ),
        json(201, r#"{"id":"out.c-new","name":"c-new","stage":"out"}"#),
        json(
            202,
            r#"{"id":5,"status":"waiting","operationName":"bucketDelete"}"#,
        ),
        Step::Respond(response(204, &[], "")),
        json(
            201,
            r#"[{"id":"9","key":"KBC.description","value":"x","provider":"user"}]"#,
        ),
    ]);
    let client = storage(&server);
    let buckets = client.list_buckets(&["metadata", "linkedBuckets"]).unwrap();
    assert_eq!(buckets[0].display_name, "main");
    assert_eq!(buckets[0].metadata[0].value, "d");
    let detail = client.get_bucket("in.c-main").unwrap();
    assert_eq!(detail.raw["backendPath"][0], "DB");
    let created = client
        .create_bucket(&CreateBucket {
            name: "new".into(),
            stage: "out".into(),
            description: Some("why".into()),
            ..CreateBucket::default()
        })
        .unwrap();
    assert_eq!(created.id, "out.c-new");
    let job = client.delete_bucket("out.c-new", true).unwrap().unwrap();
    assert_eq!((job.id.as_str(), job.status), ("5", JobStatus::Waiting));
    assert!(client.delete_bucket("out.c-x", false).unwrap().is_none());
    let meta = client
        .set_bucket_metadata(
            "in.c-main",
            "user",
            &[MetadataEntry::new("KBC.description", "x")],
        )
        .unwrap();
    assert_eq!(meta[0].id.as_deref(), Some("9"));

    let reqs = server.requests();
    assert_eq!(
        reqs[0].target,
        "/v2/storage/buckets?include=metadata%2ClinkedBuckets"
    );
    assert_eq!(reqs[1].target, "/v2/storage/buckets/in.c-main");
    assert_eq!(reqs[2].method, "POST");
    assert_eq!(
        reqs[2].json(),
        json!({"name":"new","stage":"out","description":"why"})
    );
    assert_eq!(reqs[3].method, "DELETE");
    assert_eq!(
        reqs[3].target,
        "/v2/storage/buckets/out.c-new?async=1&force=1"
    );
    assert_eq!(reqs[4].target, "/v2/storage/buckets/out.c-x?async=1");
    assert_eq!(reqs[5].path(), "/v2/storage/buckets/in.c-main/metadata");
    assert_eq!(
        reqs[5].json(),
        json!({"provider":"user","metadata":[{"key":"KBC.description","value":"x"}]})
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("X-StorageApi-Token") == Some(SECRET))
    );
}

#[test]
fn table_reads_and_branch_scope() {
    let server = Server::start(vec![
        json(
            200,
            r#"[{"id":"in.c-main.orders","name":"orders","columns":["id","v"],"bucket":{"id":"in.c-main","stage":"in"}}]"#,
        ),
        json(200, r#"[]"#),
        json(
            200,
            r#"{"id":"in.c-main.orders","columns":["id","v"],"primaryKey":["id"],"rowsCount":2,"lastImportDate":"2024-01-01T00:00:00+0100","columnMetadata":{"v":[{"key":"KBC.description","value":"value"}]}}"#,
        ),
        Step::Respond(response(
            200,
            &[("Content-Type", "text/csv")],
            "\"id\",\"v\"\n\"1\",\"a,b\"\n\"2\",\"say \"\"x\"\"\"\n",
        )),
    ]);
    let client = storage(&server);
    let tables = client
        .list_tables(&TablesQuery {
            bucket: None,
            include: vec!["columns".into(), "metadata".into(), "buckets".into()],
        })
        .unwrap();
    assert_eq!(tables[0].columns, ["id", "v"]);
    assert_eq!(tables[0].bucket.as_ref().unwrap().stage, "in");
    let branch = client.with_branch(Some("123"));
    assert!(
        branch
            .list_tables(&TablesQuery {
                bucket: Some("in.c-main".into()),
                include: vec![],
            })
            .unwrap()
            .is_empty()
    );
    let table = client.get_table("in.c-main.orders").unwrap();
    assert_eq!(table.primary_key, ["id"]);
    assert_eq!(table.column_metadata["v"][0].value, "value");
    let preview = branch
        .data_preview_rows(
            "in.c-main.orders",
            &PreviewOptions {
                limit: Some(2),
                columns: vec!["id".into(), "v".into()],
                filter: Some(WhereFilter {
                    column: "id".into(),
                    values: vec!["1".into(), "2".into()],
                    operator: Some("eq".into()),
                }),
                changed_since: Some("-1 day".into()),
                changed_until: None,
            },
        )
        .unwrap();
    assert_eq!(preview.columns, ["id", "v"]);
    assert_eq!(
        preview.rows,
        vec![
            vec!["1".to_owned(), "a,b".to_owned()],
            vec!["2".to_owned(), "say \"x\"".to_owned()]
        ]
    );

    let reqs = server.requests();
    assert_eq!(
        reqs[0].target,
        "/v2/storage/tables?include=columns%2Cmetadata%2Cbuckets"
    );
    assert_eq!(
        reqs[1].target,
        "/v2/storage/branch/123/buckets/in.c-main/tables"
    );
    assert_eq!(reqs[2].target, "/v2/storage/tables/in.c-main.orders");
    assert_eq!(
        reqs[3].path(),
        "/v2/storage/branch/123/tables/in.c-main.orders/data-preview"
    );
    let accept: Vec<&str> = reqs[3]
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("accept"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(accept, ["text/csv"]);
    assert_eq!(
        query_pairs(reqs[3].query()),
        pairs(&[
            ("format", "rfc"),
            ("limit", "2"),
            ("columns", "id,v"),
            ("whereColumn", "id"),
            ("whereValues[]", "1"),
            ("whereValues[]", "2"),
            ("whereOperator", "eq"),
            ("changedSince", "-1 day"),
        ])
    );
}

#[test]
fn table_writes_send_their_bodies() {
    let mut steps: Vec<Step> = (0..5).map(|_| json(202, JOB_WAITING)).collect();
    steps.push(json(202, JOB_WAITING));
    steps.push(json(202, JOB_WAITING));
    steps.push(json(202, JOB_WAITING));
    steps.push(json(
        200,
        r#"{"metadata":[],"columnsMetadata":{"v":[{"id":"3","key":"KBC.description","value":"d"}]}}"#,
    ));
    steps.push(Step::Respond(response(204, &[], "")));
    let server = Server::start(steps);
    let client = storage(&server);
    let csv = CsvOptions {
        delimiter: Some(";".into()),
        enclosure: Some("'".into()),
        escaped_by: None,
    };
    client
        .create_table_definition(
            "in.c-main",
            &TableDefinition {
                name: "typed".into(),
                primary_keys_names: vec!["id".into()],
                columns: vec![ColumnDefinition {
                    name: "id".into(),
                    definition: Some(json!({"type":"INTEGER","nullable":false})),
                    basetype: None,
                }],
                extra: serde_json::from_value(json!({"timestampType":"NONE"})).unwrap(),
            },
        )
        .unwrap();
    client
        .create_table_async(
            "in.c-main",
            &CreateTableFromFile {
                name: "fromfile".into(),
                data_file_id: "77".into(),
                primary_key: vec!["a".into(), "b".into()],
                csv: csv.clone(),
            },
        )
        .unwrap();
    client
        .import_async(
            "in.c-main.t",
            &ImportOptions {
                data_file_id: "78".into(),
                incremental: true,
                csv,
                ..ImportOptions::default()
            },
        )
        .unwrap();
    client
        .export_async(
            "in.c-main.t",
            &ExportOptions {
                columns: vec!["a".into(), "b".into()],
                limit: Some(10),
                filter: Some(WhereFilter {
                    column: "a".into(),
                    values: vec!["x".into()],
                    operator: Some("ne".into()),
                }),
                changed_since: Some("1700000000".into()),
                gzip: true,
                ..ExportOptions::default()
            },
        )
        .unwrap();
    client.truncate_table("in.c-main.t").unwrap();
    client.delete_table("in.c-main.t", true).unwrap();
    client
        .add_column(
            "in.c-main.t",
            &ColumnDefinition {
                name: "c".into(),
                definition: None,
                basetype: Some("STRING".into()),
            },
        )
        .unwrap();
    client.delete_column("in.c-main.t", "c", true).unwrap();
    let mut columns = BTreeMap::new();
    columns.insert(
        "v".to_owned(),
        vec![MetadataEntry::new("KBC.description", "d")],
    );
    let answer = client
        .set_table_metadata("in.c-main.t", "user", &[], &columns)
        .unwrap();
    assert_eq!(answer["columnsMetadata"]["v"][0]["id"], "3");
    client.delete_table_metadata("in.c-main.t", "3").unwrap();

    let reqs = server.requests();
    let sent: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    let want = [
        ("POST", "/v2/storage/buckets/in.c-main/tables-definition"),
        ("POST", "/v2/storage/buckets/in.c-main/tables-async"),
        ("POST", "/v2/storage/tables/in.c-main.t/import-async"),
        ("POST", "/v2/storage/tables/in.c-main.t/export-async"),
        (
            "DELETE",
            "/v2/storage/tables/in.c-main.t/rows?allowTruncate=1",
        ),
        ("DELETE", "/v2/storage/tables/in.c-main.t?async=1&force=1"),
        ("POST", "/v2/storage/tables/in.c-main.t/columns"),
        ("DELETE", "/v2/storage/tables/in.c-main.t/columns/c?force=1"),
        ("POST", "/v2/storage/tables/in.c-main.t/metadata"),
        ("DELETE", "/v2/storage/tables/in.c-main.t/metadata/3"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(sent, want);
    assert_eq!(
        reqs[0].json(),
        json!({"name":"typed","primaryKeysNames":["id"],"timestampType":"NONE",
            "columns":[{"name":"id","definition":{"type":"INTEGER","nullable":false}}]})
    );
    assert_eq!(
        reqs[1].json(),
        json!({"name":"fromfile","dataFileId":"77","primaryKey":"a,b","delimiter":";","enclosure":"'"})
    );
    assert_eq!(
        reqs[2].json(),
        json!({"dataFileId":"78","incremental":true,"delimiter":";","enclosure":"'"})
    );
    assert_eq!(
        reqs[3].json(),
        json!({"columns":"a,b","limit":10,"whereColumn":"a","whereValues":["x"],"whereOperator":"ne",
            "changedSince":"1700000000","gzip":true})
    );
    assert_eq!(reqs[6].json(), json!({"name":"c","basetype":"STRING"}));
    assert_eq!(
        reqs[8].json(),
        json!({"provider":"user","columnsMetadata":{"v":[{"key":"KBC.description","value":"d"}]}})
    );
}

#[test]
fn waiting_polls_with_gets_until_the_job_succeeds() {
    let server = Server::start(vec![
        json(202, JOB_WAITING),
        json(200, r#"{"id":81,"status":"processing"}"#),
        // A transient failure of a poll is retried: it is a GET.
        json(503, r#"{"error":"busy"}"#),
        json(
            200,
            r#"{"id":81,"status":"success","operationName":"tableImport","results":{"importedRowsCount":2}}"#,
        ),
    ]);
    let client = storage(&server);
    let job = client
        .import_async(
            "in.c-main.t",
            &ImportOptions {
                data_file_id: "1".into(),
                ..ImportOptions::default()
            },
        )
        .unwrap();
    let done = client.finish_job(job, &fast_wait()).unwrap();
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(done.results.unwrap()["importedRowsCount"], 2);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].method, "POST");
    assert!(
        reqs[1..]
            .iter()
            .all(|r| r.method == "GET" && r.target == "/v2/storage/jobs/81")
    );
}

#[test]
fn a_failed_job_is_an_error_with_keboolas_message_and_code() {
    let server = Server::start(vec![json(
        200,
        r#"{"id":82,"status":"error","operationName":"tableImport",
            "error":{"code":"storage.tables.validation.noColumns","message":"No columns in the file","exceptionId":"exc-82"}}"#,
    )]);
    let err = storage(&server)
        .wait_for_job("82", &fast_wait())
        .unwrap_err();
    assert_eq!(err.failed_job_id(), Some("82"));
    assert_eq!(err.api_code(), Some("storage.tables.validation.noColumns"));
    assert_eq!(err.api_message(), Some("No columns in the file"));
    assert_eq!(err.exception_id(), Some("exc-82"));
    assert!(!err.retryable());
    assert_no_secret(&err);
}

#[test]
fn waiting_gives_up_after_the_timeout() {
    let steps = (0..100)
        .map(|_| json(200, r#"{"id":83,"status":"processing"}"#))
        .collect();
    let server = Server::start(steps);
    let err = storage(&server)
        .wait_for_job(
            "83",
            &JobWait {
                timeout: Duration::from_millis(30),
                poll: Duration::from_millis(5),
                max_poll: Duration::from_millis(5),
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Timeout);
    assert!(err.to_string().contains("still processing"), "{err}");
}

#[test]
fn an_async_post_is_never_retried() {
    let server = Server::start(vec![
        json(503, r#"{"error":"busy"}"#),
        json(202, JOB_WAITING),
    ]);
    let err = storage(&server)
        .export_async("in.c-main.t", &ExportOptions::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests().len(), 1);
}

const PREPARED: &str = r#"{"id":236518630,"name":"data.csv","provider":"aws","region":"us-east-1","isSliced":false,
  "url":"https://kbc-sapi-files.s3.amazonaws.com/exp-15/k?X-Amz-Signature=PRESIGNEDSIG",
  "uploadParams":{"key":"exp-15/k","bucket":"kbc-sapi-files","acl":"private",
    "credentials":{"AccessKeyId":"ASIAUPLOADKEY","SecretAccessKey":"UPLOADSECRETVALUE","SessionToken":"UPLOADSESSIONTOKEN"}},
  "tags":["a","b"],"maxAgeDays":15}"#;

#[test]
fn file_calls_and_their_secrets() {
    let server = Server::start(vec![
        json(201, PREPARED),
        json(200, &format!("[{PREPARED}]")),
        json(200, PREPARED),
        Step::Respond(response(204, &[], "")),
        Step::Respond(response(204, &[], "")),
        Step::Respond(response(204, &[], "")),
        json(200, PREPARED),
    ]);
    let client = storage(&server);
    let file = client
        .prepare_file(&PrepareFile {
            name: "data.csv".into(),
            size_bytes: Some(12),
            tags: vec!["a".into(), "b".into()],
            is_permanent: true,
            ..PrepareFile::default()
        })
        .unwrap();
    assert_eq!(file.id, "236518630");
    assert_eq!(file.max_age_days, Some(15));
    let shown = format!("{file:?} {}", file.raw);
    for secret in [
        "PRESIGNEDSIG",
        "ASIAUPLOADKEY",
        "UPLOADSECRETVALUE",
        "UPLOADSESSIONTOKEN",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let listed = client
        .list_files(&FilesQuery {
            tags: vec!["a".into()],
            limit: Some(5),
            offset: Some(10),
            query: Some("name:data".into()),
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    client.get_file("236518630").unwrap();
    client.delete_file("236518630").unwrap();
    client.add_file_tag("236518630", "new").unwrap();
    client.remove_file_tag("236518630", "old").unwrap();
    let refreshed = client.refresh_file("236518630").unwrap();
    assert!(!refreshed.credentials.is_empty());

    let reqs = server.requests();
    assert_eq!(reqs[0].target, "/v2/storage/files/prepare");
    assert_eq!(
        reqs[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        query_pairs(Some(&String::from_utf8_lossy(&reqs[0].body))),
        pairs(&[
            ("name", "data.csv"),
            ("federationToken", "1"),
            ("isPermanent", "1"),
            ("notify", "0"),
            ("isEncrypted", "0"),
            ("isSliced", "0"),
            ("sizeBytes", "12"),
            ("tags[0]", "a"),
            ("tags[1]", "b"),
        ])
    );
    assert_eq!(reqs[1].path(), "/v2/storage/files");
    assert_eq!(
        query_pairs(reqs[1].query()),
        pairs(&[
            ("tags[0]", "a"),
            ("limit", "5"),
            ("offset", "10"),
            ("q", "name:data")
        ])
    );
    assert_eq!(
        reqs[2].target,
        "/v2/storage/files/236518630?federationToken=1"
    );
    assert_eq!(
        (reqs[3].method.as_str(), reqs[3].target.as_str()),
        ("DELETE", "/v2/storage/files/236518630")
    );
    assert_eq!(reqs[4].target, "/v2/storage/files/236518630/tags");
    assert_eq!(reqs[4].body, b"tag=new");
    assert_eq!(
        (reqs[5].method.as_str(), reqs[5].target.as_str()),
        ("DELETE", "/v2/storage/files/236518630/tags/old")
    );
    assert_eq!(
        (reqs[6].method.as_str(), reqs[6].target.as_str()),
        ("PUT", "/v2/storage/files/236518630/refresh")
    );
}
