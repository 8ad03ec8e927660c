//! Table data end to end, for each file provider: upload a CSV over the provider's
//! protocol, create a table from it, load it incrementally, export it and read the slices.

use keboola_emulator::{EmulatorOptions, FileProvider};
use serde_json::json;

use crate::common::{Client, start_with};
use crate::storage_util::{
    Transfer, download, enc, job_results, refs, s3_headers, start_provider, upload, wait_job,
};

const FIRST: &str = "id,name,score\n1,Ada,10\n2,Grace,20\n3,\"Linus, Jr.\",30\n";
const UPDATE: &str = "id,name,score\n2,Grace Hopper,25\n4,Alan,40\n4,Alan Turing,41\n";

fn round_trip(provider: FileProvider, how: Transfer) {
    let emu = start_provider(provider);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;

    let file = upload(&emu, &c, t, "people.csv", FIRST.as_bytes(), how);
    let create = c.send_form(
        "POST",
        "/v2/storage/buckets/in.c-crm/tables-async",
        t,
        &format!("name=people&dataFileId={file}&primaryKey=id"),
    );
    let created = job_results(&c, t, &create);
    assert_eq!(created["id"], "in.c-crm.people");
    assert_eq!(created["columns"], json!(["id", "name", "score"]));
    assert_eq!(created["primaryKey"], json!(["id"]));
    assert_eq!(created["rowsCount"], 3);

    // Incremental load with a primary key: 2 is updated, 4 added once (its last row wins).
    let file = upload(&emu, &c, t, "people-update.csv", UPDATE.as_bytes(), how);
    let import = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.people/import-async",
        t,
        &format!("dataFileId={file}&incremental=1&delimiter=%2C&enclosure=%22"),
    );
    let results = job_results(&c, t, &import);
    assert_eq!(results["importedColumns"], json!(["id", "name", "score"]));
    assert_eq!(results["totalRowsCount"], 4, "{results}");

    let export = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.people/export-async",
        t,
        "gzip=1",
    );
    let results = job_results(&c, t, &export);
    let file_id = results["file"]["id"].as_u64().unwrap();
    let (csv, slices) = download(&emu, &c, t, file_id);
    assert_eq!(slices, 1);
    assert_eq!(
        csv,
        "\"1\",\"Ada\",\"10\"\n\"2\",\"Grace Hopper\",\"25\"\n\"3\",\"Linus, Jr.\",\"30\"\n\"4\",\"Alan Turing\",\"41\"\n",
        "headerless, fully quoted, in load order"
    );

    // A full load replaces everything.
    let file = upload(
        &emu,
        &c,
        t,
        "people-full.csv",
        b"id,name,score\n9,Barbara,90\n",
        how,
    );
    let import = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.people/import-async",
        t,
        &format!("dataFileId={file}"),
    );
    assert_eq!(job_results(&c, t, &import)["totalRowsCount"], 1);
    let detail = c.get("/v2/storage/tables/in.c-crm.people", t).json();
    assert_eq!(detail["rowsCount"], 1);
    assert!(detail["lastImportDate"].is_string());
}

#[test]
fn azure_single_put_blob() {
    round_trip(FileProvider::Azure, Transfer::Single);
}

#[test]
fn azure_blocks_and_block_list() {
    round_trip(FileProvider::Azure, Transfer::Parts);
}

#[test]
fn s3_put_object() {
    round_trip(FileProvider::Aws, Transfer::Single);
}

#[test]
fn s3_multipart_upload() {
    round_trip(FileProvider::Aws, Transfer::Parts);
}

#[test]
fn gcs_media_upload() {
    round_trip(FileProvider::Gcp, Transfer::Single);
}

#[test]
fn gcs_multipart_upload() {
    round_trip(FileProvider::Gcp, Transfer::Parts);
}

#[test]
fn import_errors_fail_the_job() {
    let emu = start_with(EmulatorOptions {
        projects: 1,
        ..Default::default()
    });
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    // A column of the table is missing from the file.
    let file = upload(
        &emu,
        &c,
        t,
        "bad.csv",
        b"order_id,status\n1,x\n",
        Transfer::Single,
    );
    let import = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.orders/import-async",
        t,
        &format!("dataFileId={file}&incremental=1"),
    );
    let job = wait_job(&c, t, &import);
    assert_eq!(job["status"], "error");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Some columns are missing in the csv file. Missing columns: customer_id"),
        "{job}"
    );
    // Prepared but never uploaded.
    let prepared = c.send_form("POST", "/v2/storage/files/prepare", t, "name=never.csv");
    let id = prepared.json()["id"].as_u64().unwrap();
    let create = c.send_form(
        "POST",
        "/v2/storage/buckets/in.c-crm/tables-async",
        t,
        &format!("name=never&dataFileId={id}"),
    );
    let job = wait_job(&c, t, &create);
    assert_eq!(job["error"]["code"], "storage.fileNotUploaded", "{job}");
    // Bad parameters fail before any job.
    let bad = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.orders/import-async",
        t,
        &format!("dataFileId={id}&delimiter={}", enc(";;")),
    );
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["code"], "invalidCsv");
    assert_eq!(
        c.get("/v2/storage/tables/in.c-crm.orders", t).json()["rowsCount"],
        2000,
        "nothing was loaded"
    );
}

#[test]
fn large_tables_export_in_several_slices() {
    let emu = start_with(EmulatorOptions {
        projects: 1,
        seed_rows: Some(120_000),
        file_provider: FileProvider::Aws,
        ..Default::default()
    });
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let detail = c.get("/v2/storage/tables/in.c-crm.orders", t).json();
    assert_eq!(detail["rowsCount"], 120_000);
    let export = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.orders/export-async",
        t,
        "columns=order_id",
    );
    let file_id = job_results(&c, t, &export)["file"]["id"].as_u64().unwrap();
    let (csv, slices) = download(&emu, &c, t, file_id);
    assert_eq!(slices, 3);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 120_000);
    assert_eq!(lines[0], "\"100001\"");
    assert_eq!(lines[119_999], "\"220000\"");
}

#[test]
fn export_filters_select_rows_and_columns() {
    let emu = start_provider(FileProvider::Gcp);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let export = c.send_form(
        "POST",
        "/v2/storage/tables/in.c-crm.customers/export-async",
        t,
        "columns=id,country&whereColumn=country&whereValues[]=CZ&whereValues[]=SK&whereOperator=eq&limit=5",
    );
    let file_id = job_results(&c, t, &export)["file"]["id"].as_u64().unwrap();
    let (csv, _) = download(&emu, &c, t, file_id);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines
            .iter()
            .all(|l| l.ends_with(",\"CZ\"") || l.ends_with(",\"SK\"")),
        "{csv}"
    );
}

#[test]
fn sliced_uploads_load_through_their_manifest() {
    let emu = start_provider(FileProvider::Aws);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let file = c
        .send_form(
            "POST",
            "/v2/storage/files/prepare",
            t,
            "name=sliced.csv&isSliced=1&federationToken=1",
        )
        .json();
    assert_eq!(file["isSliced"], true);
    let p = &file["uploadParams"];
    let (bucket, key) = (p["bucket"].as_str().unwrap(), p["key"].as_str().unwrap());
    let owned = s3_headers(&p["credentials"]);
    let headers = refs(&owned);
    let put = |name: &str, body: &[u8]| {
        let r = c.request_url(
            "PUT",
            &format!("{}/{bucket}/{key}{name}", emu.s3_endpoint()),
            &headers,
            Some(("application/octet-stream", body.to_vec())),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    put("part1", b"\"1\",\"a\"\n\"2\",\"b\"\n");
    put("part2", b"\"3\",\"c\"\n");
    let manifest = json!({"entries": [
        {"url": format!("s3://{bucket}/{key}part1")},
        {"url": format!("s3://{bucket}/{key}part2")}
    ]});
    put("manifest", manifest.to_string().as_bytes());
    // The credentials cover the file's own key prefix only.
    let outside = c.request_url(
        "PUT",
        &format!("{}/{bucket}/exp-15/other", emu.s3_endpoint()),
        &headers,
        Some(("text/csv", b"x".to_vec())),
    );
    assert_eq!(outside.status, 403);

    let create = c.send_form(
        "POST",
        "/v2/storage/buckets/in.c-crm/tables-async",
        t,
        &format!(
            "name=sliced&dataFileId={}&columns[]=id&columns[]=letter",
            file["id"]
        ),
    );
    let table = job_results(&c, t, &create);
    assert_eq!(table["columns"], json!(["id", "letter"]));
    assert_eq!(table["rowsCount"], 3);
    let preview = c.get("/v2/storage/tables/in.c-crm.sliced/data-preview", t);
    assert_eq!(
        preview.text,
        "\"id\",\"letter\"\n\"1\",\"a\"\n\"2\",\"b\"\n\"3\",\"c\"\n"
    );
}

#[test]
fn incremental_loads_without_a_primary_key_append() {
    let emu = start_provider(FileProvider::Azure);
    let c = Client::new(&emu);
    let t = &emu.projects()[0].tokens.admin;
    let csv = b"k;v\n1;\"a;b\"\n2;c\n";
    let file = upload(&emu, &c, t, "log.csv", csv, Transfer::Single);
    let create = c.send_form(
        "POST",
        "/v2/storage/buckets/out.c-reports/tables-async",
        t,
        &format!("name=log&dataFileId={file}&delimiter=%3B"),
    );
    assert_eq!(job_results(&c, t, &create)["primaryKey"], json!([]));
    let import = c.send_form(
        "POST",
        "/v2/storage/tables/out.c-reports.log/import-async",
        t,
        &format!("dataFileId={file}&delimiter=%3B&incremental=1"),
    );
    assert_eq!(job_results(&c, t, &import)["totalRowsCount"], 4);
    let preview = c.get("/v2/storage/tables/out.c-reports.log/data-preview", t);
    assert_eq!(
        preview.text,
        "\"k\",\"v\"\n\"1\",\"a;b\"\n\"2\",\"c\"\n\"1\",\"a;b\"\n\"2\",\"c\"\n"
    );
    // A new column in an incremental file is added to the untyped table.
    let wider = upload(
        &emu,
        &c,
        t,
        "wider.csv",
        b"k,v,extra\n3,d,x\n",
        Transfer::Single,
    );
    let import = c.send_form(
        "POST",
        "/v2/storage/tables/out.c-reports.log/import-async",
        t,
        &format!("dataFileId={wider}&incremental=1"),
    );
    assert_eq!(job_results(&c, t, &import)["totalRowsCount"], 5);
    let detail = c.get("/v2/storage/tables/out.c-reports.log", t).json();
    assert_eq!(detail["columns"], json!(["k", "v", "extra"]));
}
