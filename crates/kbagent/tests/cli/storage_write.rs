//! Storage writes and transfers end to end: every command on the emulator, byte-exact
//! round trips over each file provider's protocol, downloads that fail or are killed
//! half-way, loads that fail after their upload, and the confirmation rules of the
//! destructive commands.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use keboola_emulator::{EmulatorOptions, Fault, FileProvider, StorageJobControl};
use serde_json::{Value, json};

use crate::common::*;

fn env_with(provider: FileProvider, seed_rows: Option<u64>) -> TestEnv {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        file_provider: provider,
        seed_rows,
        ..EmulatorOptions::default()
    });
    env.add("p", 0, "admin");
    env
}

/// `kbagent <args>` with the object-store endpoints pointed at the emulator, as a user of
/// an S3-compatible store or a GCS emulator would set them.
fn run(env: &TestEnv, args: &[&str]) -> Run {
    Run::from(
        env.cmd()
            .env("AWS_ENDPOINT_URL_S3", env.emu.s3_endpoint())
            .env("STORAGE_EMULATOR_HOST", env.emu.gcs_endpoint())
            .args(args)
            .output()
            .unwrap(),
    )
}

fn json(env: &TestEnv, args: &[&str]) -> (Value, i32, String) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let r = run(env, &all);
    let e = r.envelope();
    let body = if e.status == "ok" {
        e.data().clone()
    } else {
        let err = e.err();
        json!({"code": err.code, "message": err.message, "details": err.details})
    };
    (body, r.code, r.stderr)
}

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (data, code, stderr) = json(env, args);
    assert_eq!(code, 0, "{args:?}: {data}\n{stderr}");
    // No progress bar or note on stderr under --json.
    assert_eq!(stderr, "", "{args:?} wrote to stderr under --json");
    data
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A table as the export writes it (header and every field quoted), with commas, quotes,
/// newlines and non-ASCII text in the values.
fn canonical_csv(rows: usize) -> String {
    let mut s = String::from("\"id\",\"name\",\"note\"\n");
    for i in 0..rows {
        let note = match i % 4 {
            0 => "plain".to_owned(),
            1 => "with, comma and \"\"quotes\"\"".to_owned(),
            2 => "two\nlines".to_owned(),
            _ => format!("žluťoučký kůň {i}"),
        };
        s.push_str(&format!("\"{i}\",\"name-{i}\",\"{note}\"\n"));
    }
    s
}

fn table_rows(env: &TestEnv, table: &str) -> u64 {
    let data = ok(
        env,
        &[
            "storage",
            "truncate-table",
            "--table-id",
            table,
            "--dry-run",
        ],
    );
    data["would_truncate"][0]["rows_before"].as_u64().unwrap()
}

fn posts(env: &TestEnv, suffix: &str) -> usize {
    env.emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
        .count()
}

/// Upload then download, byte for byte, for every provider: tables (several export
/// slices, so the slices are joined in order) and plain files (random bytes).
fn round_trip(provider: FileProvider, service: &str) {
    {
        let env = env_with(provider, None);
        let dir = env.home.path();
        let csv = canonical_csv(120_000); // more than two 50,000-row slices
        let input = dir.join("in.csv");
        std::fs::write(&input, &csv).unwrap();
        let up = ok(
            &env,
            &[
                "storage",
                "upload-table",
                "--table-id",
                "in.c-rt.items",
                "--file",
                path_str(&input),
                "--primary-key",
                "id",
            ],
        );
        assert_eq!(up["auto_created_bucket"], true, "{service}");
        assert_eq!(up["auto_created_table"], true, "{service}");
        assert_eq!(up["job_status"], "success");
        assert_eq!(up["file_size_bytes"], csv.len() as u64);

        let out = dir.join("out.csv");
        let down = ok(
            &env,
            &[
                "storage",
                "download-table",
                "--table-id",
                "in.c-rt.items",
                "--output",
                path_str(&out),
            ],
        );
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(
            got == csv,
            "{service}: the downloaded table differs from the upload"
        );
        assert_eq!(down["file_size_bytes"], csv.len() as u64);
        assert_eq!(down["columns"], json!(["id", "name", "note"]));
        assert_eq!(down["output_path"], path_str(&out));

        // The same, compressed on the fly on the way up.
        let again = ok(
            &env,
            &[
                "storage",
                "upload-table",
                "--table-id",
                "in.c-rt.items",
                "--file",
                path_str(&input),
                "--gzip",
            ],
        );
        assert!(again["uploaded_bytes"].as_u64().unwrap() < csv.len() as u64 / 2);
        let out2 = dir.join("out2.csv");
        ok(
            &env,
            &[
                "storage",
                "download-table",
                "--table-id",
                "in.c-rt.items",
                "--output",
                path_str(&out2),
            ],
        );
        assert!(
            std::fs::read_to_string(&out2).unwrap() == csv,
            "{service}: gzip upload"
        );

        // Plain files: arbitrary bytes survive both ways.
        let blob: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let blob_in = dir.join("blob.bin");
        std::fs::write(&blob_in, &blob).unwrap();
        let f = ok(
            &env,
            &[
                "storage",
                "file-upload",
                "--file",
                path_str(&blob_in),
                "--tag",
                "rt",
            ],
        );
        let id = f["id"].as_u64().unwrap().to_string();
        assert_eq!(f["sizeBytes"], blob.len() as u64);
        let blob_out = dir.join("blob.out");
        let d = ok(
            &env,
            &[
                "storage",
                "file-download",
                "--file-id",
                &id,
                "--output",
                path_str(&blob_out),
            ],
        );
        assert_eq!(d["file_size_bytes"], blob.len() as u64);
        assert!(
            std::fs::read(&blob_out).unwrap() == blob,
            "{service}: file bytes differ"
        );

        // The bytes went over the provider's object protocol, never through a proxy of ours.
        let used = env
            .emu
            .requests()
            .iter()
            .filter(|r| r.service.as_deref() == Some(service))
            .count();
        assert!(used >= 6, "{service}: only {used} object requests");
    }
}

#[test]
fn round_trip_is_byte_exact_over_azure() {
    round_trip(FileProvider::Azure, "abs");
}

#[test]
fn round_trip_is_byte_exact_over_gcs() {
    round_trip(FileProvider::Gcp, "gcs");
}

// The client signs S3 requests in the query (SigV4 with the file's temporary credentials).
#[test]
fn round_trip_is_byte_exact_over_s3() {
    round_trip(FileProvider::Aws, "s3");
}

#[test]
fn every_write_command_on_the_emulator() {
    let env = env_with(FileProvider::Azure, None);
    let dir = env.home.path();

    let b = ok(
        &env,
        &[
            "storage",
            "create-bucket",
            "--stage",
            "out",
            "--name",
            "work",
            "--description",
            "scratch",
        ],
    );
    assert_eq!(b["id"], "out.c-work");
    assert_eq!(b["stage"], "out");
    assert_eq!(b["description"], "scratch");

    let t = ok(
        &env,
        &[
            "storage",
            "create-table",
            "--bucket-id",
            "out.c-work",
            "--name",
            "people",
            "--column",
            "id:INTEGER",
            "--column",
            "name:VARCHAR(40)",
            "--primary-key",
            "id",
        ],
    );
    assert_eq!(t["table_id"], "out.c-work.people");
    assert_eq!(t["columns"], json!(["id", "name"]));
    assert_eq!(t["primary_key"], json!(["id"]));

    // Incremental loads upsert by the primary key.
    let first = dir.join("a.csv");
    std::fs::write(&first, "id,name\n1,Ann\n2,Bob\n3,Cyd\n").unwrap();
    let up = ok(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "out.c-work.people",
            "--file",
            path_str(&first),
        ],
    );
    assert_eq!(up["imported_rows"], 3);
    assert_eq!(up["auto_created_table"], false);
    let second = dir.join("b.csv");
    std::fs::write(&second, "id,name\n2,Bea\n4,Dan\n").unwrap();
    let inc = ok(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "out.c-work.people",
            "--file",
            path_str(&second),
            "--incremental",
        ],
    );
    assert_eq!(inc["incremental"], true);
    let out = dir.join("people.csv");
    ok(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "out.c-work.people",
            "--output",
            path_str(&out),
        ],
    );
    let mut lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let header = lines.remove(0);
    lines.sort();
    assert_eq!(header, "\"id\",\"name\"");
    assert_eq!(
        lines,
        [
            "\"1\",\"Ann\"",
            "\"2\",\"Bea\"",
            "\"3\",\"Cyd\"",
            "\"4\",\"Dan\""
        ]
    );

    // A file uploaded once loads again with load-file (a full load replaces the rows).
    let fid = up["file_id"].as_u64().unwrap().to_string();
    let load = ok(
        &env,
        &[
            "storage",
            "load-file",
            "--file-id",
            &fid,
            "--table-id",
            "out.c-work.people",
        ],
    );
    assert_eq!(load["job_status"], "success");
    assert_eq!(load["imported_rows"], 3);
    assert_eq!(table_rows(&env, "out.c-work.people"), 3);

    // Filters and columns of download-table reach the export; stdout output with `-`.
    let r = run(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "out.c-work.people",
            "--columns",
            "name",
            "--where-column",
            "id",
            "--where-value",
            "2",
            "--output",
            "-",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "\"name\"\n\"Bob\"\n");
    // ... but not under --json, whose document owns stdout.
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "out.c-work.people",
            "--output",
            "-",
        ],
    );
    assert_eq!((code, e["code"].as_str()), (2, Some("USAGE_ERROR")));

    // Default output name: the table's name in the working directory.
    ok(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "out.c-work.people",
            "--limit",
            "1",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("people.csv"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    // --no-auto-create refuses a missing table before uploading anything.
    let prepares = posts(&env, "/files/prepare");
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "out.c-work.nope",
            "--file",
            path_str(&first),
            "--no-auto-create",
        ],
    );
    assert_eq!((code, e["code"].as_str()), (1, Some("NOT_FOUND")));
    assert_eq!(posts(&env, "/files/prepare"), prepares);

    // Files: upload, download (to stdout too), delete.
    let f = ok(
        &env,
        &[
            "storage",
            "file-upload",
            "--file",
            path_str(&first),
            "--name",
            "people.csv",
            "--tag",
            "x",
            "--permanent",
        ],
    );
    assert_eq!(f["name"], "people.csv");
    assert_eq!(f["isPermanent"], true);
    assert_eq!(f["tags"], json!(["x"]));
    let id = f["id"].as_u64().unwrap().to_string();
    let r = run(
        &env,
        &[
            "storage",
            "file-download",
            "--file-id",
            &id,
            "--output",
            "-",
        ],
    );
    assert_eq!(r.stdout, "id,name\n1,Ann\n2,Bob\n3,Cyd\n");
    let d = ok(&env, &["storage", "file-delete", "--file-id", &id, "--yes"]);
    assert_eq!(d["deleted"], json!([id.parse::<u64>().unwrap()]));
    let (_, code, _) = json(
        &env,
        &[
            "storage",
            "file-download",
            "--file-id",
            &id,
            "--output",
            path_str(&dir.join("gone")),
        ],
    );
    assert_eq!(code, 1);

    // Truncate, then delete table and bucket.
    let tr = ok(
        &env,
        &[
            "storage",
            "truncate-table",
            "--table-id",
            "out.c-work.people",
            "--yes",
        ],
    );
    assert_eq!(tr["truncated"][0]["rows_before"], 3);
    assert_eq!(tr["truncated"][0]["rows_after"], 0);
    let dt = ok(
        &env,
        &[
            "storage",
            "delete-table",
            "--table-id",
            "out.c-work.people",
            "--yes",
        ],
    );
    assert_eq!(dt["deleted"], json!(["out.c-work.people"]));
    let db = ok(
        &env,
        &[
            "storage",
            "delete-bucket",
            "--bucket-id",
            "out.c-work",
            "--yes",
        ],
    );
    assert_eq!(db["deleted"], json!(["out.c-work"]));
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "create-table",
            "--bucket-id",
            "out.c-work",
            "--name",
            "x",
            "--column",
            "a",
        ],
    );
    assert_eq!(code, 1, "{e}");

    // Nothing secret in any output: no SAS signature, no token.
    let all = run(
        &env,
        &[
            "--json",
            "storage",
            "file-upload",
            "--file",
            path_str(&first),
        ],
    );
    assert!(!all.stdout.contains("sig=") && !all.stdout.contains("SharedAccessSignature"));
    assert_no_leak(&all.stdout, &all_secrets(&env));
}

#[test]
fn destructive_commands_refuse_without_yes_and_dry_run_changes_nothing() {
    let env = env_with(FileProvider::Azure, None);
    let dir = env.home.path();
    let csv = dir.join("a.csv");
    std::fs::write(&csv, "id,v\n1,a\n2,b\n").unwrap();
    ok(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "in.c-keep.t",
            "--file",
            path_str(&csv),
        ],
    );
    let f = ok(&env, &["storage", "file-upload", "--file", path_str(&csv)]);
    let fid = f["id"].as_u64().unwrap().to_string();
    env.emu.clear_requests();

    let cases: [&[&str]; 4] = [
        &["storage", "delete-table", "--table-id", "in.c-keep.t"],
        &[
            "storage",
            "delete-bucket",
            "--bucket-id",
            "in.c-keep",
            "--force",
        ],
        &["storage", "truncate-table", "--table-id", "in.c-keep.t"],
        &["storage", "file-delete", "--file-id", &fid],
    ];
    for args in cases {
        // Off a terminal (the tests' stdin is not one) and without --yes: refused, exit 2.
        let (e, code, _) = json(&env, args);
        assert_eq!(
            (code, e["code"].as_str()),
            (2, Some("USAGE_ERROR")),
            "{args:?}: {e}"
        );
        assert!(e["message"].as_str().unwrap().contains("--yes"));
        let r = run(&env, args);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("--yes"), "{}", r.stderr);
        // --dry-run says what would go.
        let mut dry = args.to_vec();
        dry.push("--dry-run");
        let d = ok(&env, &dry);
        assert_eq!(d["dry_run"], true);
        let would = d
            .get("would_delete")
            .or_else(|| d.get("would_truncate"))
            .unwrap();
        assert_eq!(would.as_array().unwrap().len(), 1, "{d}");
        let human = run(&env, &dry);
        assert!(human.stdout.contains("Would"), "{}", human.stdout);
    }
    // Not one change was sent.
    let changes: Vec<_> = env
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(table_rows(&env, "in.c-keep.t"), 2);
    let r = run(
        &env,
        &[
            "storage",
            "file-download",
            "--file-id",
            &fid,
            "--output",
            "-",
        ],
    );
    assert_eq!(r.stdout, "id,v\n1,a\n2,b\n");

    // A missing item fails on its own (exit 1) while the others go ahead.
    let d = {
        let (d, code, _) = json(
            &env,
            &[
                "storage",
                "delete-table",
                "--table-id",
                "in.c-keep.nope",
                "--table-id",
                "in.c-keep.t",
                "--yes",
            ],
        );
        assert_eq!(code, 1);
        d
    };
    assert_eq!(d["deleted"], json!(["in.c-keep.t"]));
    assert_eq!(d["failed"][0]["id"], "in.c-keep.nope");
    assert_eq!(d["failed"][0]["error_code"], "NOT_FOUND");
}

/// A download that breaks off half-way fails and leaves no file under the target name
/// (and an existing one untouched); one killed half-way leaves none either.
#[test]
fn interrupted_download_leaves_no_complete_looking_file() {
    let env = env_with(FileProvider::Azure, Some(150_000));
    let dir = env.home.path();
    let target = dir.join("orders.csv");
    let fault = |body: Value| serde_json::from_value::<Fault>(body).unwrap();

    // The second slice's answer is cut in the middle.
    env.emu.add_fault(fault(json!({"service": "abs", "method": "GET", "path": "**0001_part_00", "body": "truncated", "times": 1})));
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "in.c-crm.orders",
            "--output",
            path_str(&target),
        ],
    );
    assert_ne!(code, 0, "{e}");
    assert!(
        !target.exists(),
        "a partial download is under the target name"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert!(
        !leftovers
            .iter()
            .any(|n| n.to_string_lossy().starts_with(".kbagent-")),
        "temporary file left behind: {leftovers:?}"
    );

    // A previous download of the same name survives a failed one.
    std::fs::write(&target, "previous").unwrap();
    env.emu.add_fault(fault(json!({"service": "abs", "method": "GET", "path": "**0002_part_00", "drop_connection": true})));
    let (_, code, _) = json(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "in.c-crm.orders",
            "--output",
            path_str(&target),
        ],
    );
    assert_ne!(code, 0);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous");
    env.emu.clear_faults();
    std::fs::remove_file(&target).unwrap();

    // Killed while the last slice is slow to come: nothing under the target name.
    env.emu.add_fault(fault(
        json!({"service": "abs", "method": "GET", "path": "**0002_part_00", "latency_ms": 20_000}),
    ));
    let mut cmd = env.base();
    cmd.args([
        "storage",
        "download-table",
        "--table-id",
        "in.c-crm.orders",
        "--output",
        path_str(&target),
    ]);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    // Wait until the slow slice has been asked for, then kill.
    while !env
        .emu
        .requests()
        .iter()
        .any(|r| r.path.ends_with("0001_part_00"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the download never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !target.exists(),
        "a killed download left a file under the target name"
    );
    env.emu.clear_faults();

    // And without faults the whole table arrives.
    ok(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "in.c-crm.orders",
            "--output",
            path_str(&target),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap().lines().count(),
        150_001
    );
}

/// A load that fails after the upload names the file and the way to load it again; the
/// file is uploaded once and no POST is repeated; `load-file` then finishes the job.
#[test]
fn failed_load_reports_file_id_and_is_recovered_without_a_second_upload() {
    let env = env_with(FileProvider::Gcp, None);
    let csv = env.home.path().join("a.csv");
    std::fs::write(&csv, "id,v\n1,a\n").unwrap();
    ok(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "in.c-x.t",
            "--file",
            path_str(&csv),
        ],
    );
    env.emu.clear_requests();
    env.emu.add_storage_job_control(
        serde_json::from_value::<StorageJobControl>(json!({"fail": true, "operation_name": "tableImport", "error_message": "Broken on purpose"})).unwrap(),
    );
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "in.c-x.t",
            "--file",
            path_str(&csv),
            "--incremental",
        ],
    );
    assert_eq!(code, 1, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("Broken on purpose"),
        "{e}"
    );
    let file_id = e["details"]["file_id"]
        .as_u64()
        .expect("the error names the uploaded file");
    assert!(e["details"]["job_id"].is_u64(), "{e}");
    assert_eq!(posts(&env, "/files/prepare"), 1);
    assert_eq!(posts(&env, "/import-async"), 1);
    // The human form of the same failure carries the recovery command.
    let human = {
        env.emu.add_storage_job_control(
            serde_json::from_value::<StorageJobControl>(
                json!({"fail": true, "operation_name": "tableImport"}),
            )
            .unwrap(),
        );
        run(
            &env,
            &[
                "storage",
                "upload-table",
                "--table-id",
                "in.c-x.t",
                "--file",
                path_str(&csv),
            ],
        )
    };
    assert!(
        human.stderr.contains("storage load-file"),
        "{}",
        human.stderr
    );
    assert!(human.stderr.contains("--file-id"), "{}", human.stderr);

    let fid = file_id.to_string();
    let load = ok(
        &env,
        &[
            "storage",
            "load-file",
            "--file-id",
            &fid,
            "--table-id",
            "in.c-x.t",
            "--incremental",
        ],
    );
    assert_eq!(load["job_status"], "success");
    assert_eq!(load["file_id"], file_id);
    // The failed loads changed nothing; this one appended (the table has no primary key).
    assert_eq!(table_rows(&env, "in.c-x.t"), 2);

    // --no-wait returns the running job.
    env.emu.add_storage_job_control(
        serde_json::from_value::<StorageJobControl>(
            json!({"duration_ms": 1500, "operation_name": "tableImport"}),
        )
        .unwrap(),
    );
    let nw = ok(
        &env,
        &[
            "storage",
            "load-file",
            "--file-id",
            &fid,
            "--table-id",
            "in.c-x.t",
            "--no-wait",
        ],
    );
    assert_ne!(nw["job_status"], "success");
    assert!(nw["imported_rows"].is_null());
}

#[test]
fn a_broken_local_file_or_target_is_a_clear_error() {
    let env = env_with(FileProvider::Azure, None);
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "upload-table",
            "--table-id",
            "in.c-x.t",
            "--file",
            "/nonexistent/x.csv",
        ],
    );
    assert_eq!(
        (code, e["code"].as_str()),
        (2, Some("INVALID_ARGUMENT")),
        "{e}"
    );
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "in.c-crm.orders",
            "--output",
            "/nonexistent/dir/x.csv",
        ],
    );
    assert_eq!(code, 1, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("/nonexistent/dir"),
        "{e}"
    );
    let (e, code, _) = json(&env, &["storage", "download-table", "--table-id", "bad id"]);
    assert_eq!(
        (code, e["code"].as_str()),
        (2, Some("INVALID_ARGUMENT")),
        "{e}"
    );
    let mut f = std::fs::File::create(env.home.path().join("x.csv")).unwrap();
    f.write_all(b"id\n1\n").unwrap();
    let (e, code, _) = json(
        &env,
        &[
            "storage",
            "create-table",
            "--bucket-id",
            "in.c-crm",
            "--name",
            "t",
            "--column",
            "id:INT",
            "--primary-key",
            "nope",
        ],
    );
    assert_eq!(
        (code, e["code"].as_str()),
        (2, Some("INVALID_ARGUMENT")),
        "{e}"
    );
}

/// Interrupted by SIGINT or SIGTERM while a slice is slow to come: the hidden part file is
/// removed and the exit code is 128 + the signal.
#[cfg(unix)]
#[test]
fn a_signal_during_a_download_removes_the_part_file() {
    use rustix::process::{Pid, Signal, kill_process};

    let env = env_with(FileProvider::Azure, Some(120_000));
    let dir = env.home.path().join("downloads");
    std::fs::create_dir(&dir).unwrap();
    let export = ok(
        &env,
        &[
            "storage",
            "download-table",
            "--table-id",
            "in.c-crm.orders",
            "--output",
            path_str(&dir.join("first.csv")),
        ],
    );
    std::fs::remove_file(dir.join("first.csv")).unwrap();
    let file_id = export["file_id"].to_string();
    let parts = || -> Vec<String> {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let first_slices = || {
        env.emu
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("0000_part_00"))
            .count()
    };
    let runs: [(&[&str], Signal, i32); 2] = [
        (
            &["storage", "download-table", "--table-id", "in.c-crm.orders"],
            Signal::INT,
            130,
        ),
        (
            &["storage", "file-download", "--file-id", &file_id],
            Signal::TERM,
            143,
        ),
    ];
    for (args, signal, code) in runs {
        env.emu.add_fault(
            serde_json::from_value::<Fault>(json!({"service": "abs", "method": "GET", "path": "**0001_part_00", "latency_ms": 30_000})).unwrap(),
        );
        let before = first_slices();
        let target = dir.join("out.csv");
        let mut cmd = env.base();
        cmd.args(args).args(["--output", path_str(&target)]);
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        // The first slice is in the part file, the second is on its way.
        while first_slices() == before {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the download never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            parts().iter().any(|n| n.starts_with(".kbagent-")),
            "no part file while downloading: {:?}",
            parts()
        );
        kill_process(Pid::from_child(&child), signal).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
        assert_eq!(parts(), Vec::<String>::new(), "{args:?}");
        env.emu.clear_faults();
    }
}
