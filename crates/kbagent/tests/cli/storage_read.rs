//! `storage` reads on the seeded emulator: buckets, tables, table detail, preview, files,
//! file detail and storage jobs. Shapes are checked through types owned by these tests, so
//! a renamed or retyped key fails here as well as in the contract snapshots.

use keboola_emulator::{EmulatorOptions, Fault, StorageJobControl};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::*;

#[derive(Debug, Deserialize)]
struct ProjectError {
    project_alias: String,
    error_code: String,
    message: String,
    retryable: bool,
}

#[derive(Debug, Deserialize)]
struct BucketRow {
    project_alias: String,
    id: String,
    display_name: String,
    stage: String,
    backend: String,
    rows_count: u64,
    data_size_bytes: u64,
    description: String,
    is_linked: bool,
    source_project_id: Option<Value>,
    source_bucket_id: String,
}

#[derive(Debug, Deserialize)]
struct Buckets {
    buckets: Vec<BucketRow>,
    errors: Vec<ProjectError>,
}

#[derive(Debug, Deserialize)]
struct TableRow {
    project_alias: String,
    id: String,
    name: String,
    bucket_id: String,
    rows_count: u64,
    data_size_bytes: u64,
    is_alias: bool,
    last_import_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Tables {
    tables: Vec<TableRow>,
    errors: Vec<ProjectError>,
}

#[derive(Debug, Deserialize)]
struct BucketTable {
    id: String,
    name: String,
    sql_path: String,
    snowflake_path: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BucketDetail {
    project_alias: String,
    project_id: Option<u64>,
    bucket_id: String,
    description: String,
    backend: String,
    sql_dialect: String,
    snowflake_database: Option<String>,
    snowflake_schema: Option<String>,
    metadata: Vec<Value>,
    tables: Vec<BucketTable>,
    table_count: usize,
}

#[derive(Debug, Deserialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    base_type: Option<String>,
    native_type: Option<String>,
    length: Option<String>,
    nullable: Option<bool>,
    description: Option<String>,
    is_primary_key: bool,
}

#[derive(Debug, Deserialize)]
struct TableDetail {
    project_alias: String,
    table_id: String,
    bucket_id: String,
    backend_path: Vec<String>,
    sql_path: Option<String>,
    description: String,
    columns: Vec<String>,
    column_details: Vec<Column>,
    primary_key: Vec<String>,
    rows_count: u64,
    data_size_bytes: u64,
    last_import_date: Option<String>,
    metadata: Vec<Value>,
    definition: Option<Value>,
    legacy_column_descriptions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Preview {
    table_id: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    row_count: usize,
    limit: u32,
}

#[derive(Debug, Deserialize)]
struct Files {
    project_alias: String,
    files: Vec<Value>,
    count: usize,
}

#[derive(Debug, Deserialize)]
struct JobDetail {
    project_alias: String,
    job_id: u64,
    status: String,
    operation_name: String,
    table_id: Option<String>,
    results: Option<Value>,
    error: Option<Value>,
}

fn data<T: serde::de::DeserializeOwned>(env: &TestEnv, args: &[&str]) -> T {
    let (out, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {out:?}");
    serde_json::from_value(out.data().clone()).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Two projects: `prod` (project 101, master token) and `dev` (project 102, storage token).
fn two_projects() -> TestEnv {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env.add("dev", 1, "storage");
    env
}

fn control(v: Value) -> StorageJobControl {
    serde_json::from_value(v).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A Storage API call with project 101's master token, straight to the emulator.
pub(crate) fn api(env: &TestEnv, method: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let url = format!("{}{path}", env.emu.url());
    let token = env.token(0, "admin");
    let mut resp = match method {
        "GET" => agent()
            .get(&url)
            .header("X-StorageApi-Token", &token)
            .call(),
        _ => agent()
            .post(&url)
            .header("X-StorageApi-Token", &token)
            .send_form(form.iter().copied()),
    }
    .unwrap();
    resp.body_mut().read_json().unwrap()
}

/// Starts an export of `orders` in project 101 and returns its job id without waiting.
pub(crate) fn start_export(env: &TestEnv) -> u64 {
    let job = api(
        env,
        "POST",
        "/v2/storage/tables/in.c-crm.orders/export-async",
        &[("limit", "5")],
    );
    job["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no job: {job}"))
}

/// The finished job (polled directly from the emulator, a bounded number of times).
pub(crate) fn finished_job(env: &TestEnv, id: u64) -> Value {
    for _ in 0..400 {
        let job = api(env, "GET", &format!("/v2/storage/jobs/{id}"), &[]);
        if matches!(job["status"].as_str(), Some("success" | "error")) {
            return job;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("job {id} did not finish");
}

#[test]
fn buckets_and_tables_fan_out_over_every_project() {
    let env = two_projects();
    let all: Buckets = data(&env, &["storage", "buckets"]);
    assert!(all.errors.is_empty(), "{:?}", all.errors);
    assert_eq!(all.buckets.len(), 6, "{:?}", all.buckets);
    for alias in ["prod", "dev"] {
        let crm = all
            .buckets
            .iter()
            .find(|b| b.project_alias == alias && b.id == "in.c-crm")
            .unwrap_or_else(|| panic!("{alias} has in.c-crm"));
        assert_eq!(crm.display_name, "crm");
        assert_eq!(crm.stage, "in");
        assert_eq!(crm.backend, "snowflake");
        assert_eq!(crm.rows_count, 2500);
        assert!(crm.data_size_bytes > 0);
        assert_eq!(
            crm.description,
            "Customers and orders from the CRM database"
        );
        assert!(!crm.is_linked);
        assert_eq!(crm.source_project_id, None);
        assert_eq!(crm.source_bucket_id, "");
    }

    let one: Buckets = data(&env, &["storage", "buckets", "--project", "dev"]);
    assert_eq!(one.buckets.len(), 3);
    assert!(one.buckets.iter().all(|b| b.project_alias == "dev"));

    let tables: Tables = data(&env, &["storage", "tables"]);
    assert!(tables.errors.is_empty());
    assert_eq!(tables.tables.len(), 8, "{:?}", tables.tables);
    let orders = tables
        .tables
        .iter()
        .find(|t| t.project_alias == "prod" && t.id == "in.c-crm.orders")
        .unwrap();
    assert_eq!(orders.name, "orders");
    assert_eq!(orders.bucket_id, "in.c-crm");
    assert_eq!(orders.rows_count, 2000);
    assert!(orders.data_size_bytes > 0);
    assert!(!orders.is_alias);
    assert!(orders.last_import_date.is_some());

    let crm: Tables = data(
        &env,
        &[
            "storage",
            "tables",
            "--project",
            "prod",
            "--bucket-id",
            "in.c-crm",
        ],
    );
    let mut ids: Vec<&str> = crm.tables.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["in.c-crm.customers", "in.c-crm.orders"]);

    // Branch ids belong to one project.
    let (out, code) = env.json(&["storage", "tables", "--branch", "10102"]);
    assert_eq!(code, 2, "{out:?}");
    assert_eq!(out.err().code, "USAGE_ERROR");

    // A dev branch is addressed through its own path.
    let branch = format!("{}02", env.project_id(0));
    let r = env.run(&[
        "--json",
        "storage",
        "tables",
        "--project",
        "prod",
        "--branch",
        &branch,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        env.emu
            .requests()
            .iter()
            .any(|q| q.path == format!("/v2/storage/branch/{branch}/tables")),
        "no branch-scoped request"
    );

    // Human units.
    let human = env.run(&["storage", "tables", "--project", "prod"]);
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains("2,000"), "{}", human.stdout);
    assert!(human.stdout.contains(" KiB"), "{}", human.stdout);
}

#[test]
fn fan_out_reports_the_failing_project_and_keeps_the_others() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 3,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    env.add("dev", 1, "storage");
    env.add("broken", 2, "admin");
    let before: Tables = data(&env, &["storage", "tables", "--project", "prod"]);
    env.emu.add_fault(
        serde_json::from_value::<Fault>(
            json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "status": 500}),
        )
        .unwrap(),
    );
    for verb in ["buckets", "tables"] {
        let r = env.run(&["--json", "storage", verb]);
        assert_eq!(r.code, 0, "{verb}: {}", r.stdout);
        let out = r.envelope();
        assert_eq!(out.warning_codes(), ["PROJECT_FAILED"], "{verb}");
        let errors: Vec<ProjectError> =
            serde_json::from_value(out.data()["errors"].clone()).unwrap();
        assert_eq!(errors.len(), 1, "{verb}: {errors:?}");
        assert_eq!(errors[0].project_alias, "broken");
        assert_eq!(errors[0].error_code, "RETRY_EXHAUSTED");
        assert!(errors[0].retryable);
        assert!(
            errors[0].message.contains("broken"),
            "{}",
            errors[0].message
        );
        let rows = out.data()[verb].as_array().unwrap();
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|r| r["project_alias"] != "broken"),
            "{verb}"
        );
        assert!(rows.iter().any(|r| r["project_alias"] == "prod"), "{verb}");
        assert!(rows.iter().any(|r| r["project_alias"] == "dev"), "{verb}");
    }
    let after: Tables = data(&env, &["storage", "tables", "--project", "prod"]);
    assert_eq!(
        before.tables.iter().map(|t| &t.id).collect::<Vec<_>>(),
        after.tables.iter().map(|t| &t.id).collect::<Vec<_>>()
    );

    // A single named project that fails is the command's error.
    let (out, code) = env.json(&["storage", "tables", "--project", "broken"]);
    assert_eq!(code, 4, "{out:?}");
    assert_eq!(out.err().code, "RETRY_EXHAUSTED");
}

#[test]
fn bucket_detail_lists_tables_with_sql_paths() {
    let env = two_projects();
    let d: BucketDetail = data(
        &env,
        &[
            "storage",
            "bucket-detail",
            "--project",
            "prod",
            "--bucket-id",
            "in.c-crm",
        ],
    );
    assert_eq!(d.project_alias, "prod");
    assert_eq!(d.project_id, Some(env.project_id(0)));
    assert_eq!(d.bucket_id, "in.c-crm");
    assert_eq!(d.description, "Customers and orders from the CRM database");
    assert_eq!(d.backend, "snowflake");
    assert_eq!(d.sql_dialect, "snowflake");
    let db = d.snowflake_database.clone().unwrap();
    assert_eq!(d.snowflake_schema.as_deref(), Some("in.c-crm"));
    assert!(!d.metadata.is_empty());
    assert_eq!(d.table_count, 2);
    let orders = d.tables.iter().find(|t| t.id == "in.c-crm.orders").unwrap();
    assert_eq!(orders.name, "orders");
    assert_eq!(orders.sql_path, format!("\"{db}\".\"in.c-crm\".\"orders\""));
    assert_eq!(
        orders.snowflake_path.as_deref(),
        Some(orders.sql_path.as_str())
    );

    let (out, code) = env.json(&[
        "storage",
        "bucket-detail",
        "--project",
        "prod",
        "--bucket-id",
        "in.c-nope",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.err().code, "NOT_FOUND");
    assert!(
        out.err().message.contains("in.c-nope"),
        "{}",
        out.err().message
    );
}

#[test]
fn table_detail_columns_types_descriptions_and_primary_key() {
    let env = two_projects();
    let d: TableDetail = data(
        &env,
        &[
            "storage",
            "table-detail",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.orders",
        ],
    );
    assert_eq!(d.project_alias, "prod");
    assert_eq!(d.table_id, "in.c-crm.orders");
    assert_eq!(d.bucket_id, "in.c-crm");
    assert_eq!(d.backend_path.len(), 2);
    assert_eq!(
        d.sql_path.as_deref(),
        Some(format!("\"{}\".\"in.c-crm\".\"orders\"", d.backend_path[0]).as_str())
    );
    assert_eq!(
        d.description,
        "One row per order; amount in the order currency"
    );
    assert_eq!(
        d.columns,
        [
            "order_id",
            "customer_id",
            "order_date",
            "status",
            "amount",
            "currency"
        ]
    );
    assert_eq!(d.primary_key, ["order_id"]);
    assert_eq!(d.rows_count, 2000);
    assert!(d.data_size_bytes > 0);
    assert!(d.last_import_date.is_some());
    assert!(!d.metadata.is_empty());
    assert!(d.definition.is_some(), "a typed table has a definition");
    assert!(d.legacy_column_descriptions.is_empty());
    let col = |name: &str| d.column_details.iter().find(|c| c.name == name).unwrap();
    let id = col("order_id");
    assert!(id.is_primary_key);
    assert_eq!(id.nullable, Some(false));
    let amount = col("amount");
    assert!(!amount.is_primary_key);
    assert_eq!(amount.native_type.as_deref(), Some("NUMBER"));
    assert_eq!(amount.length.as_deref(), Some("12,2"));
    assert_eq!(amount.base_type.as_deref(), Some("NUMERIC"));
    assert!(amount.description.is_some());
    assert_eq!(
        d.column_details.iter().filter(|c| c.is_primary_key).count(),
        1
    );

    // An untyped table has no definition but still has its columns.
    let budget: TableDetail = data(
        &env,
        &[
            "storage",
            "table-detail",
            "--project",
            "dev",
            "--table-id",
            "in.c-budget.budget_lines",
        ],
    );
    assert_eq!(budget.primary_key, ["month", "department", "category"]);
    assert_eq!(
        budget
            .column_details
            .iter()
            .filter(|c| c.is_primary_key)
            .count(),
        3
    );

    let human = env.run(&[
        "storage",
        "table-detail",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.orders",
    ]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    // The warehouse database name is the project's; keep the snapshot independent of it.
    let text = human.stdout.replace(&d.backend_path[0], "[DATABASE]");
    insta::assert_snapshot!("table_detail_human", text);

    let (out, code) = env.json(&[
        "storage",
        "table-detail",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.nope",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.err().code, "NOT_FOUND");
    let hints = out.err().details.as_ref().unwrap()["hints"].to_string();
    assert!(hints.contains("storage tables"), "{hints}");
}

#[test]
fn preview_rows_filters_and_formats() {
    let env = two_projects();
    let p: Preview = data(
        &env,
        &[
            "storage",
            "preview",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.orders",
            "--limit",
            "3",
        ],
    );
    assert_eq!(p.table_id, "in.c-crm.orders");
    assert_eq!(p.columns.len(), 6);
    assert_eq!(p.rows.len(), 3);
    assert_eq!(p.row_count, 3);
    assert_eq!(p.limit, 3);
    assert!(p.rows.iter().all(|r| r.len() == 6));

    let filtered = |op: &str| -> Preview {
        data(
            &env,
            &[
                "storage",
                "preview",
                "--project",
                "prod",
                "--table-id",
                "in.c-crm.orders",
                "--columns",
                "order_id,status",
                "--where-column",
                "status",
                "--where-value",
                "cancelled",
                "--where-operator",
                op,
                "--limit",
                "50",
            ],
        )
    };
    let eq = filtered("eq");
    assert_eq!(eq.columns, ["order_id", "status"]);
    assert!(!eq.rows.is_empty());
    assert!(eq.rows.iter().all(|r| r[1] == "cancelled"), "{:?}", eq.rows);
    let ne = filtered("ne");
    assert!(!ne.rows.is_empty());
    assert!(ne.rows.iter().all(|r| r[1] != "cancelled"), "{:?}", ne.rows);

    // Piped: CSV with a header; JSON lines on request.
    let csv = env.run(&[
        "storage",
        "preview",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.orders",
        "--limit",
        "2",
        "--columns",
        "order_id",
        "--columns",
        "currency",
    ]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.stdout);
    assert_eq!(lines[0], "\"order_id\",\"currency\"");
    let json_lines = env.run(&[
        "storage",
        "preview",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.orders",
        "--limit",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(json_lines.code, 0);
    let rows: Vec<Value> = json_lines
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["order_id"].is_string());
    let table = env.run(&[
        "storage",
        "preview",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.orders",
        "--limit",
        "2",
        "--format",
        "table",
    ]);
    assert!(table.stdout.lines().next().unwrap().contains("order_id"));
    assert!(!table.stdout.contains('"'), "{}", table.stdout);

    // Bad input fails before any request.
    let before = env.emu.requests().len();
    for args in [
        &["--where-value", "x"][..],
        &["--where-column", "status", "--where-operator", "gt"],
        &["--limit", "0"],
        &["--limit", "1001"],
    ] {
        let mut all = vec![
            "--json",
            "storage",
            "preview",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.orders",
        ];
        all.extend_from_slice(args);
        let r = env.run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
    }
    let r = env.run(&["--json", "storage", "preview", "--table-id", "in.c-crm"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.envelope().err().code, "INVALID_ARGUMENT");
    assert_eq!(env.emu.requests().len(), before);
}

#[test]
fn files_and_file_detail_never_show_credentials() {
    let env = two_projects();
    let job = finished_job(&env, start_export(&env));
    assert_eq!(job["status"], "success", "{job}");
    let file_num = job["results"]["file"]["id"].as_u64().unwrap();
    let file_id = file_num.to_string();
    // What Keboola hands out with the file: the secrets that must never be printed.
    let raw = api(
        &env,
        "GET",
        &format!("/v2/storage/files/{file_id}?federationToken=1"),
        &[],
    );
    let mut secrets: Vec<String> = Vec::new();
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if s.len() >= 16 => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    for key in [
        "url",
        "credentials",
        "absCredentials",
        "gcsCredentials",
        "uploadParams",
        "absUploadParams",
        "gcsUploadParams",
    ] {
        if let Some(v) = raw.get(key) {
            strings(v, &mut secrets);
        }
    }
    assert!(
        !secrets.is_empty(),
        "the emulator handed out credentials: {raw}"
    );

    let files: Files = data(&env, &["storage", "files", "--project", "prod"]);
    assert_eq!(files.project_alias, "prod");
    assert_eq!(files.count, files.files.len());
    assert!(
        files
            .files
            .iter()
            .any(|f| f["id"].as_u64() == Some(file_num))
    );
    let tagged: Files = data(
        &env,
        &[
            "storage",
            "files",
            "--project",
            "prod",
            "--tag",
            "table-export",
            "--limit",
            "1",
        ],
    );
    assert_eq!(tagged.count, 1);
    let none: Files = data(
        &env,
        &[
            "storage",
            "files",
            "--project",
            "prod",
            "--tag",
            "no-such-tag",
        ],
    );
    assert_eq!(none.count, 0);

    let (detail, code) = env.json(&[
        "storage",
        "file-detail",
        "--project",
        "prod",
        "--file-id",
        &file_id,
    ]);
    assert_eq!(code, 0, "{detail:?}");
    let d = detail.data();
    assert_eq!(d["project_alias"], "prod");
    assert_eq!(d["id"].as_u64(), Some(file_num));
    assert!(d["name"].is_string());
    assert!(d["sizeBytes"].is_u64());
    for key in [
        "url",
        "credentials",
        "absCredentials",
        "gcsCredentials",
        "uploadParams",
    ] {
        assert!(d.get(key).is_none(), "file-detail shows {key}");
    }

    let runs = [
        env.run(&["storage", "files", "--project", "prod"]),
        env.run(&["--json", "storage", "files", "--project", "prod"]),
        env.run(&[
            "storage",
            "file-detail",
            "--project",
            "prod",
            "--file-id",
            &file_id,
        ]),
        env.run(&[
            "--json",
            "storage",
            "file-detail",
            "--project",
            "prod",
            "--file-id",
            &file_id,
        ]),
        env.run(&[
            "-v",
            "storage",
            "file-detail",
            "--project",
            "prod",
            "--file-id",
            &file_id,
        ]),
    ];
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
        for s in &secrets {
            assert!(!r.stdout.contains(s.as_str()), "a credential in stdout");
            assert!(!r.stderr.contains(s.as_str()), "a credential in stderr");
        }
    }
    assert!(runs[2].stdout.contains(&file_id));

    let (out, code) = env.json(&[
        "storage",
        "file-detail",
        "--project",
        "prod",
        "--file-id",
        "999999",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.err().code, "NOT_FOUND");
}

#[test]
fn job_detail_success_failure_and_wait() {
    let env = two_projects();
    let id = start_export(&env);
    finished_job(&env, id);
    let job_id = id.to_string();
    let ok: JobDetail = data(
        &env,
        &[
            "storage",
            "job-detail",
            "--project",
            "prod",
            "--job-id",
            &job_id,
        ],
    );
    assert_eq!(ok.project_alias, "prod");
    assert_eq!(ok.job_id, id);
    assert_eq!(ok.status, "success");
    assert_eq!(ok.operation_name, "tableExport");
    assert_eq!(ok.table_id.as_deref(), Some("in.c-crm.orders"));
    assert!(ok.results.is_some());
    assert!(ok.error.is_none());

    // A job still running is shown as it is; --wait follows it to the end.
    env.emu
        .add_storage_job_control(control(json!({"duration_ms": 400})));
    let slow = start_export(&env).to_string();
    let waited: JobDetail = data(
        &env,
        &[
            "storage",
            "job-detail",
            "--project",
            "prod",
            "--job-id",
            &slow,
            "--wait",
        ],
    );
    assert_eq!(waited.status, "success");

    // A failed job is the command's error, with Keboola's message and the job.
    env.emu.add_storage_job_control(control(
        json!({"fail": true, "error_message": "Column 'total' does not exist"}),
    ));
    let failed = start_export(&env);
    finished_job(&env, failed);
    let failed = failed.to_string();
    for extra in [&[][..], &["--wait"]] {
        let mut args = vec![
            "storage",
            "job-detail",
            "--project",
            "prod",
            "--job-id",
            &failed,
        ];
        args.extend_from_slice(extra);
        let (out, code) = env.json(&args);
        assert_eq!(code, 1, "{out:?}");
        let err = out.err();
        assert_eq!(err.code, "STORAGE_JOB_FAILED");
        assert!(
            err.message.contains("Column 'total' does not exist"),
            "{}",
            err.message
        );
        assert!(err.message.contains(&failed), "{}", err.message);
        assert_eq!(err.details.as_ref().unwrap()["job_id"].to_string(), failed);
        assert_eq!(err.details.as_ref().unwrap()["job"]["status"], "error");
        assert_eq!(
            err.details.as_ref().unwrap()["job"]["error"]["message"],
            "Column 'total' does not exist"
        );
    }

    // --wait that runs out: a network-class timeout; the job keeps running.
    env.emu
        .add_storage_job_control(control(json!({"duration_ms": 60_000})));
    let stuck = start_export(&env).to_string();
    let (out, code) = env.json(&[
        "storage",
        "job-detail",
        "--project",
        "prod",
        "--job-id",
        &stuck,
        "--wait",
        "--timeout",
        "1",
    ]);
    assert_eq!(code, 4, "{out:?}");
    assert_eq!(out.err().code, "TIMEOUT");
    let hints = out.err().details.as_ref().unwrap()["hints"].to_string();
    assert!(hints.contains("--wait"), "{hints}");
    let running: JobDetail = data(
        &env,
        &[
            "storage",
            "job-detail",
            "--project",
            "prod",
            "--job-id",
            &stuck,
        ],
    );
    assert_eq!(running.status, "processing");

    let (out, code) = env.json(&[
        "storage",
        "job-detail",
        "--project",
        "prod",
        "--job-id",
        "1",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.err().code, "NOT_FOUND");
    let r = env.run(&[
        "--json",
        "storage",
        "job-detail",
        "--project",
        "prod",
        "--job-id",
        &job_id,
        "--timeout",
        "5",
    ]);
    assert_eq!(r.code, 2, "--timeout needs --wait");
}
