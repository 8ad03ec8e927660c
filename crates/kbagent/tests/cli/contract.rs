//! Contract snapshots: the `--json` output of every command on a seeded emulator, so any
//! change to a key, a type or the nesting of `data` is a reviewed diff. Values that differ
//! from run to run (stack URL and port, secrets, times, response times, minted ids) are
//! replaced by markers that keep their JSON type visible. Each successful `data` is also
//! validated against the output schema `kbagent --json context` publishes for its command.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use keboola_emulator::{EmulatorOptions, Fault};
use serde_json::{Map, Value, json};

use crate::common::*;
use crate::storage_read::start_export;

/// Keys whose values change between runs; the marker says what type the value had.
const VOLATILE_KEYS: &[&str] = &[
    "response_time_ms",
    "created",
    "expires",
    "token_expires",
    "last_modified",
    "refreshed",
    "uri",
    "script",
    "context",
    "version",
    "help",
    "usage",
    // Jobs: times, durations and how long a wait took.
    "createdTime",
    "startTime",
    "endTime",
    "durationSeconds",
    "elapsed_ms",
    "polls",
];

/// `901-...AbCd` (a masked token) becomes `[MASKED]`: its visible tail is random.
fn masked_tokens(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("-...") {
        let digits = rest[..i]
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count();
        let tail = &rest[i + 4..];
        let tail_len = tail.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if digits > 0 && tail_len == 4 {
            out.push_str(&rest[..i - digits]);
            out.push_str("[MASKED]");
        } else {
            out.push_str(&rest[..i + 4]);
        }
        rest = &rest[i + 4 + if digits > 0 && tail_len == 4 { 4 } else { 0 }..];
    }
    out.push_str(rest);
    out
}

fn marker(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(_) => "[bool]".into(),
        Value::Number(_) => "[number]".into(),
        Value::String(_) => "[string]".into(),
        Value::Array(_) => "[array]".into(),
        Value::Object(_) => "[object]".into(),
    }
}

struct Redactor {
    stack: String,
    stack_encoded: String,
    home: String,
    secrets: Vec<String>,
}

impl Redactor {
    fn string(&self, s: &str) -> String {
        let mut out = s
            .replace(&self.stack, "[STACK]")
            .replace(&self.stack_encoded, "[STACK]")
            .replace(&self.home, "[HOME]");
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "[SECRET]");
        }
        masked_tokens(&out)
    }

    fn value(&self, key: Option<&str>, v: &Value) -> Value {
        if key.is_some_and(|k| VOLATILE_KEYS.contains(&k)) {
            return marker(v);
        }
        // Ids are minted by the emulator in run order; keep their type, not their value.
        if key.is_some_and(|k| k == "id" || k.ends_with("_id") || k.ends_with("Id")) {
            return match v {
                Value::String(_) => "[id-string]".into(),
                Value::Number(_) => "[id-number]".into(),
                other => self.value(None, other),
            };
        }
        match v {
            Value::String(s) => self.string(s).into(),
            Value::Array(items) => items.iter().map(|i| self.value(None, i)).collect(),
            Value::Object(map) => {
                let out: Map<String, Value> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), self.value(Some(k), v)))
                    .collect();
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

/// A run as the contract sees it: exit code, status, and the redacted data or error; and
/// the envelope as printed, for schema validation.
struct Contract {
    redacted: Value,
    envelope: Value,
}

fn contract(env: &TestEnv, r: &Run, extra_secrets: &[&str]) -> Contract {
    let envelope: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    let mut secrets = all_secrets(env);
    secrets.extend(extra_secrets.iter().map(|s| (*s).to_owned()));
    // Minted secrets in the output itself: `<project>-<id>-<40 chars>`.
    collect_secrets(&envelope, &mut secrets);
    let redactor = Redactor {
        stack: env.emu.url().to_owned(),
        stack_encoded: url::form_urlencoded::byte_serialize(env.emu.url().as_bytes()).collect(),
        home: env.home.path().display().to_string(),
        secrets,
    };
    Contract {
        redacted: json!({"exit": r.code, "envelope": redactor.value(None, &envelope)}),
        envelope,
    }
}

/// `(command, output schema)` of every command, from the catalogue.
fn schemas(env: &TestEnv) -> &'static [(String, Value)] {
    static SCHEMAS: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let (out, code) = env.json(&["context"]);
        assert_eq!(code, 0);
        out.data()["catalogue"]
            .as_array()
            .expect("context lists a catalogue")
            .iter()
            .map(|c| {
                (
                    c["command"].as_str().unwrap().to_owned(),
                    c["output_schema"].clone(),
                )
            })
            .collect()
    })
}

static VALIDATED: AtomicUsize = AtomicUsize::new(0);

/// Checks a successful `data` against the schema of the command the snapshot is named
/// after (`project_refresh_dry_run` is `project refresh`), and counts it.
fn validate(env: &TestEnv, name: &str, c: &Contract) {
    if check_schema(env, name, c) {
        VALIDATED.fetch_add(1, Ordering::Relaxed);
    }
}

/// [`validate`] without the count: whether `data` was checked against a schema.
fn check_schema(env: &TestEnv, name: &str, c: &Contract) -> bool {
    if c.envelope["status"] != "ok" {
        return false;
    }
    let key = |command: &str| command.replace([' ', '-'], "_");
    let Some((command, schema)) = schemas(env)
        .iter()
        .filter(|(command, _)| {
            let k = key(command);
            name == k || name.starts_with(&format!("{k}_"))
        })
        .max_by_key(|(command, _)| command.len())
    else {
        return false;
    };
    let validator = jsonschema::validator_for(schema)
        .unwrap_or_else(|e| panic!("`{command}` has an invalid output schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&c.envelope["data"])
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "`{command}` output does not match its schema ({name}):\n{}",
        errors.join("\n")
    );
    true
}

fn collect_secrets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            for word in s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
                let parts: Vec<&str> = word.splitn(3, '-').collect();
                if parts.len() == 3
                    && !parts[0].is_empty()
                    && !parts[1].is_empty()
                    && parts[0].bytes().all(|b| b.is_ascii_digit())
                    && parts[1].bytes().all(|b| b.is_ascii_digit())
                    && parts[2].len() >= 20
                {
                    out.push(word.to_owned());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_secrets(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_secrets(i, out)),
        _ => {}
    }
}

fn with_manage(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["--allow-env-manage-token", "--json"];
    all.extend_from_slice(args);
    Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args(&all)
            .output()
            .unwrap(),
    )
}

fn json_run(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    env.run(&all)
}

fn snap(env: &TestEnv, name: &str, c: &Contract) {
    validate(env, name, c);
    insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
        insta::assert_json_snapshot!(name, c.redacted);
    });
}

#[test]
fn every_command_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 3,
        ..EmulatorOptions::default()
    });
    let url = env.emu.url().to_owned();
    let oauth = env.emu.projects()[0].oauth_config.clone();

    snap(
        &env,
        "version",
        &contract(&env, &json_run(&env, &["version"]), &[]),
    );
    snap(
        &env,
        "context",
        &contract(&env, &json_run(&env, &["context"]), &[]),
    );
    snap(
        &env,
        "completions",
        &contract(&env, &json_run(&env, &["completions", "bash"]), &[]),
    );
    snap(
        &env,
        "project_current_empty",
        &contract(&env, &json_run(&env, &["project", "current"]), &[]),
    );
    snap(
        &env,
        "doctor_no_config",
        &contract(&env, &json_run(&env, &["doctor"]), &[]),
    );

    let add = env.run_stdin(
        &[
            "--json",
            "project",
            "add",
            "--project",
            "prod",
            "--url",
            &url,
            "--token-stdin",
        ],
        &env.token(0, "storage"),
    );
    snap(&env, "project_add_non_master", &contract(&env, &add, &[]));
    env.add("dev", 1, "admin");
    env.add("other", 2, "guest");

    snap(
        &env,
        "project_list",
        &contract(&env, &json_run(&env, &["project", "list"]), &[]),
    );
    snap(
        &env,
        "project_use",
        &contract(&env, &json_run(&env, &["project", "use", "dev"]), &[]),
    );
    snap(
        &env,
        "project_current",
        &contract(&env, &json_run(&env, &["project", "current"]), &[]),
    );
    snap(
        &env,
        "project_info",
        &contract(
            &env,
            &json_run(&env, &["project", "info", "--project", "dev"]),
            &[],
        ),
    );
    snap(
        &env,
        "project_edit",
        &contract(
            &env,
            &env.run_stdin(
                &[
                    "--json",
                    "project",
                    "edit",
                    "--project",
                    "other",
                    "--new-alias",
                    "guest",
                    "--token-stdin",
                    "--no-warn-non-master",
                ],
                &env.token(2, "guest"),
            ),
            &[],
        ),
    );
    snap(
        &env,
        "config_list",
        &contract(&env, &json_run(&env, &["config", "list"]), &[]),
    );
    snap(
        &env,
        "config_detail",
        &contract(
            &env,
            &json_run(
                &env,
                &[
                    "config",
                    "detail",
                    "--project",
                    "prod",
                    "--component-id",
                    &oauth.component_id,
                    "--config-id",
                    &oauth.config_id,
                ],
            ),
            &[],
        ),
    );
    snap(
        &env,
        "config_oauth_url_storage_master",
        &contract(
            &env,
            &json_run(
                &env,
                &[
                    "config",
                    "oauth-url",
                    "--project",
                    "dev",
                    "--component-id",
                    &env.emu.projects()[1].oauth_config.component_id,
                    "--config-id",
                    &env.emu.projects()[1].oauth_config.config_id,
                    "--redirect-url",
                    "https://example.com/done",
                    "--no-open",
                ],
            ),
            &[],
        ),
    );
    snap(
        &env,
        "config_oauth_url_manage_api",
        &contract(
            &env,
            &with_manage(
                &env,
                &[
                    "config",
                    "oauth-url",
                    "--project",
                    "prod",
                    "--component-id",
                    &oauth.component_id,
                    "--config-id",
                    &oauth.config_id,
                    "--no-open",
                ],
            ),
            &[],
        ),
    );
    snap(
        &env,
        "config_oauth_url_missing_master",
        &contract(
            &env,
            &json_run(
                &env,
                &[
                    "config",
                    "oauth-url",
                    "--project",
                    "prod",
                    "--component-id",
                    &oauth.component_id,
                    "--config-id",
                    &oauth.config_id,
                ],
            ),
            &[],
        ),
    );

    snap(
        &env,
        "token_list",
        &contract(
            &env,
            &json_run(&env, &["token", "list", "--project", "dev"]),
            &[],
        ),
    );
    let created = json_run(
        &env,
        &[
            "token",
            "create",
            "--project",
            "dev",
            "--description",
            "contract",
            "--expires-in",
            "3600",
            "--component-access",
            "keboola.ex-db-snowflake",
        ],
    );
    snap(&env, "token_create", &contract(&env, &created, &[]));
    let new_id = serde_json::from_str::<Value>(&created.stdout).unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    snap(
        &env,
        "token_refresh",
        &contract(
            &env,
            &json_run(
                &env,
                &[
                    "token",
                    "refresh",
                    "--project",
                    "dev",
                    "--token-id",
                    &new_id,
                    "--yes",
                ],
            ),
            &[],
        ),
    );
    snap(
        &env,
        "token_delete",
        &contract(
            &env,
            &json_run(
                &env,
                &[
                    "token",
                    "delete",
                    "--project",
                    "dev",
                    "--token-id",
                    &new_id,
                    "--yes",
                ],
            ),
            &[],
        ),
    );

    snap(
        &env,
        "project_refresh_dry_run",
        &contract(
            &env,
            &json_run(
                &env,
                &["project", "refresh", "--all", "--force", "--dry-run"],
            ),
            &[],
        ),
    );
    snap(
        &env,
        "project_refresh",
        &contract(
            &env,
            &with_manage(
                &env,
                &[
                    "project",
                    "refresh",
                    "--project",
                    "prod",
                    "--project",
                    "dev",
                    "--yes",
                ],
            ),
            &[],
        ),
    );

    job_contracts(&env);

    // A failing project: status and config list report it per item, doctor as a failed check.
    env.emu.add_fault(
        serde_json::from_value::<Fault>(
            json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "status": 500}),
        )
        .unwrap(),
    );
    snap(
        &env,
        "project_status",
        &contract(&env, &json_run(&env, &["project", "status"]), &[]),
    );
    snap(
        &env,
        "config_list_with_errors",
        &contract(&env, &json_run(&env, &["config", "list"]), &[]),
    );
    snap(
        &env,
        "doctor",
        &contract(&env, &json_run(&env, &["doctor"]), &[]),
    );
    snap(
        &env,
        "project_refresh_all_unchecked",
        &contract(
            &env,
            &with_manage(&env, &["project", "refresh", "--all", "--yes"]),
            &[],
        ),
    );
    env.emu.clear_faults();

    snap(
        &env,
        "project_remove",
        &contract(
            &env,
            &json_run(&env, &["project", "remove", "--project", "dev"]),
            &[],
        ),
    );
    snap(
        &env,
        "usage_error",
        &contract(&env, &json_run(&env, &["project", "nope"]), &[]),
    );
    snap(
        &env,
        "help",
        &contract(&env, &json_run(&env, &["project", "--help"]), &[]),
    );
    // Every successful run above was checked against its schema (all but the two errors
    // and `--help`).
    assert_eq!(VALIDATED.load(Ordering::Relaxed), 33);
}

/// `job ...` in project 'dev' (an admin token): a run that succeeds, one that fails (the
/// development branch's copy has broken SQL), and the reads of the finished job.
fn job_contracts(env: &TestEnv) {
    const TR: &str = "keboola.snowflake-transformation";
    let (configs, _) = env.json(&["config", "list", "--project", "dev", "--component-id", TR]);
    let config = configs.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let branches: Value = ureq::get(format!("{}/v2/storage/dev-branches", env.emu.url()))
        .header("X-StorageApi-Token", &env.token(1, "admin"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let dev_branch = branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] != json!(true))
        .map(|b| match &b["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "job",
            "run",
            "--project",
            "dev",
            "--component-id",
            TR,
            "--config-id",
            &config,
        ];
        args.extend_from_slice(extra);
        json_run(env, &args)
    };
    let ran = run(&["--wait"]);
    snap(env, "job_run_wait", &contract(env, &ran, &[]));
    let doc: Value = serde_json::from_str(&ran.stdout).unwrap();
    let id = doc["data"]["id"].as_str().unwrap().to_owned();
    let with_job = |verb: &str, extra: &[&str]| {
        let mut args = vec!["job", verb, "--project", "dev", "--job-id", &id];
        args.extend_from_slice(extra);
        json_run(env, &args)
    };
    snap(
        env,
        "job_detail",
        &contract(env, &with_job("detail", &["--log-tail-lines", "2"]), &[]),
    );
    snap(
        env,
        "job_events",
        &contract(env, &with_job("events", &["--limit", "3"]), &[]),
    );
    snap(env, "job_wait", &contract(env, &with_job("wait", &[]), &[]));
    snap(
        env,
        "job_terminate",
        &contract(env, &with_job("terminate", &["--yes"]), &[]),
    );
    snap(
        env,
        "job_list",
        &contract(
            env,
            &json_run(env, &["job", "list", "--project", "dev", "--limit", "1"]),
            &[],
        ),
    );
    snap(
        env,
        "job_run_failed",
        &contract(
            env,
            &run(&["--branch", &dev_branch, "--wait", "--log-tail-lines", "2"]),
            &[],
        ),
    );
    snap(env, "job_run", &contract(env, &run(&[]), &[]));
}

/// The storage writes and transfers, on their own emulator (ids are then the same on
/// every run); each successful `data` is checked against its schema.
#[test]
fn storage_write_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    let dir = env.home.path();
    let csv = dir.join("people.csv");
    std::fs::write(&csv, "id,name\n1,Ann\n2,Bob\n").unwrap();
    let csv = csv.to_str().unwrap();
    let out = dir.join("out.csv");
    let out = out.to_str().unwrap();
    let mut checked = 0;
    let mut snap_w = |name: &str, args: &[&str]| {
        let c = contract(&env, &json_run(&env, args), &[]);
        checked += usize::from(check_schema(&env, name, &c));
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, c.redacted);
        });
    };
    let s = "storage";
    snap_w(
        "storage_create_bucket",
        &[
            s,
            "create-bucket",
            "--stage",
            "out",
            "--name",
            "work",
            "--description",
            "scratch",
        ],
    );
    snap_w(
        "storage_create_table",
        &[
            s,
            "create-table",
            "--bucket-id",
            "out.c-work",
            "--name",
            "typed",
            "--column",
            "id:INTEGER",
            "--column",
            "name:VARCHAR(40)",
            "--primary-key",
            "id",
        ],
    );
    snap_w(
        "storage_upload_table",
        &[
            s,
            "upload-table",
            "--table-id",
            "out.c-work.people",
            "--file",
            csv,
            "--primary-key",
            "id",
        ],
    );
    snap_w(
        "storage_upload_table_incremental",
        &[
            s,
            "upload-table",
            "--table-id",
            "out.c-work.people",
            "--file",
            csv,
            "--incremental",
            "--gzip",
        ],
    );
    snap_w(
        "storage_load_file",
        &[
            s,
            "load-file",
            "--file-id",
            "800001",
            "--table-id",
            "out.c-work.people",
        ],
    );
    snap_w(
        "storage_download_table",
        &[
            s,
            "download-table",
            "--table-id",
            "out.c-work.people",
            "--output",
            out,
            "--limit",
            "10",
        ],
    );
    snap_w(
        "storage_file_upload",
        &[s, "file-upload", "--file", csv, "--tag", "t"],
    );
    snap_w(
        "storage_file_download",
        &[s, "file-download", "--file-id", "800001", "--output", out],
    );
    snap_w(
        "storage_file_delete_dry_run",
        &[s, "file-delete", "--file-id", "800001", "--dry-run"],
    );
    snap_w(
        "storage_file_delete",
        &[s, "file-delete", "--file-id", "800001", "--yes"],
    );
    snap_w(
        "storage_truncate_table_dry_run",
        &[
            s,
            "truncate-table",
            "--table-id",
            "out.c-work.people",
            "--dry-run",
        ],
    );
    snap_w(
        "storage_truncate_table",
        &[
            s,
            "truncate-table",
            "--table-id",
            "out.c-work.people",
            "--yes",
        ],
    );
    snap_w(
        "storage_delete_table_refused",
        &[s, "delete-table", "--table-id", "out.c-work.people"],
    );
    snap_w(
        "storage_delete_table_dry_run",
        &[
            s,
            "delete-table",
            "--table-id",
            "out.c-work.people",
            "--table-id",
            "out.c-work.nope",
            "--dry-run",
        ],
    );
    snap_w(
        "storage_delete_table",
        &[
            s,
            "delete-table",
            "--table-id",
            "out.c-work.people",
            "--yes",
        ],
    );
    snap_w(
        "storage_delete_bucket_dry_run",
        &[s, "delete-bucket", "--bucket-id", "out.c-work", "--dry-run"],
    );
    snap_w(
        "storage_delete_bucket",
        &[
            s,
            "delete-bucket",
            "--bucket-id",
            "out.c-work",
            "--force",
            "--yes",
        ],
    );
    // All but the refusal (an error) and the dry run with a missing table (exit 1 still ok).
    assert_eq!(checked, 16);
}

/// Table swap and snapshots, on their own emulator (snapshot and job ids are then the same
/// on every run); each successful `data` is checked against its schema.
#[test]
fn storage_snapshot_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    let mut checked = 0;
    let mut snap_s = |name: &str, args: &[&str]| {
        let c = contract(&env, &json_run(&env, args), &[]);
        checked += usize::from(check_schema(&env, name, &c));
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, without_clock(c.redacted));
        });
    };
    let s = "storage";
    let (a, b) = ("in.c-crm.customers", "in.c-budget.budget_lines");
    snap_s(
        "storage_swap_tables_dry_run",
        &[
            s,
            "swap-tables",
            "--table-id",
            a,
            "--target-table-id",
            b,
            "--dry-run",
        ],
    );
    snap_s(
        "storage_swap_tables",
        &[
            s,
            "swap-tables",
            "--table-id",
            a,
            "--target-table-id",
            b,
            "--yes",
        ],
    );
    snap_s(
        "storage_snapshot_create",
        &[
            s,
            "snapshot-create",
            "--table-id",
            b,
            "--description",
            "backup",
        ],
    );
    snap_s("storage_snapshots", &[s, "snapshots", "--table-id", b]);
    snap_s(
        "storage_snapshot_detail",
        &[s, "snapshot-detail", "--snapshot-id", "1"],
    );
    snap_s(
        "storage_table_from_snapshot_dry_run",
        &[
            s,
            "table-from-snapshot",
            "--snapshot-id",
            "1",
            "--bucket-id",
            "out.c-reports",
            "--name",
            "restored",
            "--dry-run",
        ],
    );
    snap_s(
        "storage_table_from_snapshot",
        &[
            s,
            "table-from-snapshot",
            "--snapshot-id",
            "1",
            "--bucket-id",
            "out.c-reports",
            "--name",
            "restored",
        ],
    );
    snap_s(
        "storage_snapshot_delete_dry_run",
        &[s, "snapshot-delete", "--snapshot-id", "1", "--dry-run"],
    );
    snap_s(
        "storage_snapshot_delete",
        &[s, "snapshot-delete", "--snapshot-id", "1", "--yes"],
    );
    snap_s(
        "storage_snapshot_detail_not_found",
        &[s, "snapshot-detail", "--snapshot-id", "1"],
    );
    // All but the last (an error).
    assert_eq!(checked, 9);
}

/// Keys of jobs, snapshots and tables whose values come from the clock of the run.
const CLOCK_KEYS: &[&str] = &[
    "createdTime",
    "startTime",
    "endTime",
    "lastImportDate",
    "lastChangeDate",
    "timestamp",
    "updated",
];

fn without_clock(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if CLOCK_KEYS.contains(&k.as_str()) && v.is_string() {
                        marker(&v)
                    } else {
                        without_clock(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => items.into_iter().map(without_clock).collect(),
        other => other,
    }
}

/// Keys of storage reads whose values come from the clock of the run.
const STORAGE_TIMES: &[&str] = &["created_time", "start_time", "end_time", "createdTime"];

fn without_times(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if STORAGE_TIMES.contains(&k.as_str()) {
                        marker(&v)
                    } else {
                        without_times(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => items.into_iter().map(without_times).collect(),
        other => other,
    }
}

/// A snapshot of a storage read, its `data` checked against the published schema (counted
/// apart from `every_command_json_contract`, which runs in parallel).
fn storage_snap(env: &TestEnv, name: &str, args: &[&str]) {
    let mut c = contract(env, &json_run(env, args), &[]);
    c.redacted = without_times(c.redacted);
    let ok = c.envelope["status"] == "ok";
    assert_eq!(check_schema(env, name, &c), ok, "{name}: no schema checked");
    insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
        insta::assert_json_snapshot!(name, c.redacted);
    });
}

#[test]
fn storage_read_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 3,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    env.add("dev", 1, "storage");
    env.add("other", 2, "admin");
    // One export gives a job and a file to read.
    let job_id = start_export(&env).to_string();
    let wait = &[
        "storage",
        "job-detail",
        "--project",
        "prod",
        "--job-id",
        &job_id,
        "--wait",
    ];
    storage_snap(&env, "storage_job_detail", wait);
    let (out, _) = env.json(&["storage", "files", "--project", "prod", "--limit", "1"]);
    let file_id = out.data()["files"][0]["id"].to_string();

    storage_snap(&env, "storage_buckets", &["storage", "buckets"]);
    storage_snap(
        &env,
        "storage_bucket_detail",
        &[
            "storage",
            "bucket-detail",
            "--project",
            "prod",
            "--bucket-id",
            "in.c-crm",
        ],
    );
    storage_snap(
        &env,
        "storage_tables",
        &["storage", "tables", "--project", "dev"],
    );
    storage_snap(
        &env,
        "storage_table_detail",
        &[
            "storage",
            "table-detail",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.orders",
        ],
    );
    storage_snap(
        &env,
        "storage_preview",
        &[
            "storage",
            "preview",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.orders",
            "--limit",
            "2",
        ],
    );
    storage_snap(
        &env,
        "storage_files",
        &["storage", "files", "--project", "prod"],
    );
    storage_snap(
        &env,
        "storage_file_detail",
        &[
            "storage",
            "file-detail",
            "--project",
            "prod",
            "--file-id",
            &file_id,
        ],
    );
    storage_snap(
        &env,
        "storage_table_detail_not_found",
        &[
            "storage",
            "table-detail",
            "--project",
            "prod",
            "--table-id",
            "in.c-crm.nope",
        ],
    );

    env.emu.add_storage_job_control(
        serde_json::from_value(json!({"fail": true, "error_message": "Invalid column"})).unwrap(),
    );
    let failed = start_export(&env).to_string();
    storage_snap(
        &env,
        "storage_job_detail_failed",
        &[
            "storage",
            "job-detail",
            "--project",
            "prod",
            "--job-id",
            &failed,
            "--wait",
        ],
    );

    env.emu.add_fault(
        serde_json::from_value::<Fault>(
            json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "status": 500}),
        )
        .unwrap(),
    );
    storage_snap(
        &env,
        "storage_tables_failing_project",
        &["storage", "tables", "--bucket-id", "in.c-budget"],
    );
}

/// `permissions ...` and a firewall refusal. (A policy change needs a person typing a code on
/// a terminal, so only its refusal is here; `permissions.rs` runs the terminal path.)
#[test]
fn permissions_json_contract() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let snap = |name: &str, r: &Run| {
        let c = contract(&env, r, &[]);
        assert!(
            c.envelope["status"] != "ok" || check_schema(&env, name, &c),
            "{name}: no schema"
        );
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, c.redacted);
        });
    };
    snap(
        "permissions_show",
        &json_run(&env, &["permissions", "show"]),
    );
    snap(
        "permissions_check",
        &json_run(&env, &["permissions", "check", "storage.delete-table"]),
    );
    snap(
        "permissions_set_refused",
        &json_run(
            &env,
            &[
                "permissions",
                "set",
                "--mode",
                "deny",
                "--allow",
                "cli:read",
            ],
        ),
    );
    snap(
        "permissions_reset_refused",
        &json_run(&env, &["permissions", "reset"]),
    );
    let mut cfg = env.config_json();
    cfg["permissions"] =
        json!({"mode": "allow", "allow": ["storage.tables"], "deny": ["storage.*", "nope.*"]});
    env.write_config(&cfg.to_string());
    let with_session = |args: &[&str]| {
        let mut all = vec!["--json", "--deny-destructive"];
        all.extend_from_slice(args);
        Run::from(
            env.cmd()
                .env("KBAGENT_DENY", "token.create")
                .args(&all)
                .output()
                .unwrap(),
        )
    };
    snap(
        "permissions_show_policy",
        &with_session(&["permissions", "show"]),
    );
    snap(
        "permissions_check_denied",
        &with_session(&["permissions", "check", "token create"]),
    );
    snap(
        "permission_denied",
        &with_session(&["storage", "buckets", "--project", "prod"]),
    );
}

/// `init`: an empty workspace, a refusal to replace it, and a copy of the global projects.
#[test]
fn init_json_contract() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let mut checked = 0;
    let mut snap_i = |name: &str, args: &[&str]| {
        let c = contract(&env, &json_run(&env, args), &[]);
        checked += usize::from(check_schema(&env, name, &c));
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, c.redacted);
        });
    };
    snap_i("init", &["init"]);
    snap_i("init_exists", &["init", "--from-global"]);
    snap_i(
        "init_from_global_force",
        &["init", "--from-global", "--force"],
    );
    assert_eq!(checked, 2);
}

#[test]
fn branch_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let mut checked = 0;
    let mut snap_b = |name: &str, args: &[&str]| {
        let c = contract(&env, &json_run(&env, args), &[]);
        checked += usize::from(check_schema(&env, name, &c));
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, without_clock(c.redacted));
        });
        c.envelope
    };
    let list = snap_b("branch_list", &["branch", "list"]);
    let main = list["data"]["branches"][0]["id"].to_string();
    let seeded = list["data"]["branches"][1]["id"].to_string();
    snap_b("branch_current_production", &["branch", "current"]);
    let made = snap_b(
        "branch_create",
        &[
            "branch",
            "create",
            "--name",
            "feature",
            "--description",
            "try",
        ],
    );
    let made = made["data"]["branch_id"].to_string();
    snap_b("branch_current", &["branch", "current"]);
    snap_b(
        "config_detail_active_branch",
        &[
            "config",
            "detail",
            "--component-id",
            &oauth.component_id,
            "--config-id",
            &oauth.config_id,
        ],
    );
    snap_b("branch_merge", &["branch", "merge"]);
    snap_b("branch_use", &["branch", "use", "--branch", &seeded]);
    snap_b(
        "branch_use_not_found",
        &["branch", "use", "--branch", "424242"],
    );
    snap_b("branch_reset", &["branch", "reset"]);
    snap_b(
        "branch_delete_dry_run",
        &["branch", "delete", "--branch", &made, "--dry-run"],
    );
    snap_b(
        "branch_delete",
        &["branch", "delete", "--branch", &made, "--yes"],
    );
    snap_b(
        "branch_delete_default_refused",
        &["branch", "delete", "--branch", &main, "--yes"],
    );
    // All but the two errors.
    assert_eq!(checked, 10);
}

/// Ciphers are random: keep their prefix only.
fn without_ciphers(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("KBC::") => {
            let prefix: Vec<&str> = s.splitn(3, "::").take(2).collect();
            Value::String(format!("{}::[cipher]", prefix.join("::")))
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_ciphers(v)))
                .collect(),
        ),
        Value::Array(items) => items.into_iter().map(without_ciphers).collect(),
        other => other,
    }
}

#[test]
fn config_write_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    let c = "keboola.ex-db-snowflake";
    let mut checked = 0;
    let mut snap_c = |name: &str, args: &[&str]| -> Value {
        let run = json_run(&env, args);
        let data = run.envelope().data.clone().unwrap_or(Value::Null);
        let k = contract(&env, &run, &[]);
        checked += usize::from(check_schema(&env, name, &k));
        let redacted = without_ciphers(without_times(without_clock(k.redacted)));
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, redacted);
        });
        data
    };
    let body = r##"{"parameters": {"db": {"host": "h", "#password": "plain"}}}"##;
    snap_c(
        "config_new_dry_run",
        &[
            "config",
            "new",
            "--component-id",
            c,
            "--name",
            "N",
            "--configuration",
            body,
            "--dry-run",
        ],
    );
    let made = snap_c(
        "config_new",
        &[
            "config",
            "new",
            "--component-id",
            c,
            "--name",
            "N",
            "--configuration",
            body,
        ],
    );
    let id = made["id"].as_str().unwrap().to_owned();
    let k = ["--component-id", c, "--config-id", id.as_str()];
    let with = |verb: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["config".into(), verb.into()];
        a.extend(k.iter().map(|s| (*s).to_owned()));
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    let mut run = |name: &str, args: Vec<String>| -> Value {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        snap_c(name, &refs)
    };
    run(
        "config_update_dry_run",
        with("update", &["--set", "parameters.db.port=1", "--dry-run"]),
    );
    run(
        "config_update",
        with(
            "update",
            &[
                "--set",
                "parameters.db.port=1",
                "--set",
                "parameters.#token=t",
            ],
        ),
    );
    run("config_rename", with("rename", &["--name", "Renamed"]));
    run("config_versions", with("versions", &[]));
    run("config_rollback", with("rollback", &["--version", "1"]));
    let row = run(
        "config_row_create",
        with(
            "row-create",
            &["--name", "r", "--configuration", r#"{"a": 1}"#],
        ),
    );
    let rid = row["id"].as_str().unwrap().to_owned();
    run(
        "config_row_update",
        with("row-update", &["--row-id", &rid, "--set", "a=2"]),
    );
    run(
        "config_state_set_row",
        with(
            "state-set",
            &["--row-id", &rid, "--state", r#"{"cursor": 1}"#],
        ),
    );
    run(
        "config_state_get_row",
        with("state-get", &["--row-id", &rid]),
    );
    run(
        "config_row_delete",
        with("row-delete", &["--row-id", &rid, "--yes"]),
    );
    run(
        "config_state_set",
        with("state-set", &["--state", r#"{"last": 1}"#]),
    );
    run("config_state_get", with("state-get", &[]));
    run("config_clone", with("clone", &["--name", "Copy"]));
    run("config_delete", with("delete", &["--yes"]));
    run(
        "config_trash",
        vec![
            "config".into(),
            "trash".into(),
            "--component-id".into(),
            c.into(),
        ],
    );
    run("config_trash_all", vec!["config".into(), "trash".into()]);
    run("config_restore", with("restore", &[]));
    run(
        "config_update_conflict_free_noop",
        with("update", &["--name", "Renamed"]),
    );
    run(
        "encrypt_values",
        vec![
            "encrypt".into(),
            "values".into(),
            "--component-id".into(),
            c.into(),
            "--input".into(),
            r##"{"#a": "b"}"##.into(),
        ],
    );
    assert_eq!(checked, 21);
}

#[test]
fn discover_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 3,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin");
    env.add("other", 2, "admin");
    env.emu
        .set_project_feature(env.project_id(0), "global-search", true);
    storage_snap(
        &env,
        "component_list",
        &["component", "list", "--type", "application"],
    );
    storage_snap(
        &env,
        "component_list_query",
        &["component", "list", "--query", "postgres extractor"],
    );
    storage_snap(
        &env,
        "component_detail",
        &[
            "component",
            "detail",
            "--component-id",
            "keboola.ex-db-pgsql",
        ],
    );
    storage_snap(
        &env,
        "component_detail_not_found",
        &["component", "detail", "--component-id", "keboola.no-such"],
    );
    let (list, _) = env.json(&[
        "config",
        "list",
        "--project",
        "prod",
        "--component-id",
        "keboola.ex-db-snowflake",
    ]);
    let config_id = list.data()["configs"][0]["config_id"]
        .as_str()
        .expect("a seeded configuration")
        .to_owned();
    storage_snap(
        &env,
        "config_oauth_url_refused",
        &[
            "config",
            "oauth-url",
            "--project",
            "prod",
            "--component-id",
            "keboola.ex-db-snowflake",
            "--config-id",
            &config_id,
            "--no-open",
        ],
    );
    storage_snap(
        &env,
        "search",
        &[
            "search",
            "orders",
            "--project",
            "prod",
            "--project",
            "dev",
            "--limit",
            "3",
        ],
    );
    storage_snap(
        &env,
        "search_in_bodies",
        &["search", "sum(o", "--in-bodies", "--project", "dev"],
    );
    env.emu.add_fault(
        serde_json::from_value::<keboola_emulator::Fault>(
            serde_json::json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "status": 500}),
        )
        .unwrap(),
    );
    storage_snap(
        &env,
        "search_with_errors",
        &["search", "customers", "--type", "table"],
    );
}

/// `workspace ...` and `query` on their own emulator; the password is redacted like a
/// secret, and each successful `data` is checked against its schema.
#[test]
fn workspace_json_contract() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 1,
        ..EmulatorOptions::default()
    });
    env.add("prod", 0, "admin");
    let run = |name: &str, args: &[&str], secrets: &[&str]| -> Value {
        let r = json_run(&env, args);
        // A password revealed by this very run is redacted too.
        let shown: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
        let mut secrets: Vec<&str> = secrets.to_vec();
        if let Some(p) = shown["data"]["password"].as_str() {
            secrets.push(p);
        }
        let mut c = contract(&env, &r, &secrets);
        c.redacted = without_times(without_clock(c.redacted));
        let ok = c.envelope["status"] == "ok";
        assert_eq!(
            check_schema(&env, name, &c),
            ok,
            "{name}: no schema checked"
        );
        insta::with_settings!({sort_maps => false, prepend_module_to_snapshot => true}, {
            insta::assert_json_snapshot!(name, c.redacted);
        });
        c.envelope["data"].clone()
    };
    let created: Value = serde_json::from_str(
        &json_run(
            &env,
            &[
                "workspace",
                "create",
                "--project",
                "prod",
                "--name",
                "contract",
            ],
        )
        .stdout,
    )
    .unwrap();
    let password = created["data"]["password"].as_str().unwrap().to_owned();
    let id = created["data"]["workspace_id"].as_str().unwrap().to_owned();
    let secret = [password.as_str()];
    run(
        "workspace_create",
        &["workspace", "create", "--project", "prod"],
        &[],
    );
    run(
        "workspace_detail",
        &[
            "workspace",
            "detail",
            "--project",
            "prod",
            "--workspace-id",
            &id,
        ],
        &secret,
    );
    run(
        "workspace_list",
        &["workspace", "list", "--project", "prod"],
        &secret,
    );
    run(
        "workspace_load",
        &[
            "workspace",
            "load",
            "--project",
            "prod",
            "--workspace-id",
            &id,
            "--tables",
            "in.c-crm.orders",
            "--tables",
            "in.c-crm.customers",
        ],
        &secret,
    );
    run(
        "workspace_query",
        &[
            "workspace",
            "query",
            "--project",
            "prod",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status",
            "--limit",
            "2",
        ],
        &secret,
    );
    run(
        "workspace_query_failed",
        &[
            "workspace",
            "query",
            "--project",
            "prod",
            "--workspace-id",
            &id,
            "--sql",
            "SELEC 1",
        ],
        &secret,
    );
    run(
        "workspace_password",
        &[
            "workspace",
            "password",
            "--project",
            "prod",
            "--workspace-id",
            &id,
            "--dry-run",
        ],
        &secret,
    );
    run(
        "workspace_delete",
        &[
            "workspace",
            "delete",
            "--project",
            "prod",
            "--workspace-id",
            &id,
            "--yes",
        ],
        &secret,
    );
    let (configs, _) = env.json(&[
        "config",
        "list",
        "--project",
        "prod",
        "--component-id",
        "keboola.snowflake-transformation",
    ]);
    let tr = configs.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(
        "workspace_from_transformation",
        &[
            "workspace",
            "from-transformation",
            "--project",
            "prod",
            "--component-id",
            "keboola.snowflake-transformation",
            "--config-id",
            &tr,
        ],
        &[],
    );
    run(
        "query",
        &[
            "query",
            "--project",
            "prod",
            "--sql",
            "SELECT currency, COUNT(*) AS n FROM \"in.c-crm.orders\" GROUP BY 1 ORDER BY 1",
        ],
        &[],
    );
}
