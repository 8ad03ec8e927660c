//! Configuration writes end to end: `config update` (set, merge, file, dry run, the version
//! check and a concurrent update), encryption before the write, and the other config
//! write verbs.

use std::time::Duration;

use keboola_emulator::Fault;
use serde_json::{Value, json};

use crate::common::*;

const C: &str = "keboola.ex-db-snowflake";
const PLAIN: &str = "plain-secret-7f3a9";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn fault(v: Value) -> Fault {
    serde_json::from_value(v).unwrap()
}

/// A Storage API call of project 0 with its admin token, outside kbagent.
fn storage(env: &TestEnv, method: &str, path: &str, form: Option<&str>) -> (u16, Value) {
    let url = format!("{}/v2/storage/{path}", env.emu.url());
    let token = env.token(0, "admin");
    let a = agent();
    let mut resp = match (method, form) {
        ("GET", _) => a.get(&url).header("X-StorageApi-Token", &token).call(),
        ("POST", Some(f)) => a
            .post(&url)
            .header("X-StorageApi-Token", &token)
            .content_type("application/x-www-form-urlencoded")
            .send(f),
        (m, _) => panic!("unsupported {m}"),
    }
    .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A new configuration of `C` with a body; returns its id.
fn make_config(env: &TestEnv, body: &Value) -> String {
    let form = url_form(&[("name", "Under test"), ("configuration", &body.to_string())]);
    let (status, v) = storage(env, "POST", &format!("components/{C}/configs"), Some(&form));
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

fn url_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn stored(env: &TestEnv, id: &str) -> Value {
    storage(env, "GET", &format!("components/{C}/configs/{id}"), None).1
}

fn setup() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let id = make_config(
        &env,
        &json!({"parameters": {"db": {"host": "h", "port": 443, "#password": "KBC::ProjectSecure::old"}}}),
    );
    (env, id)
}

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (e, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {e:?}");
    e.data().clone()
}

#[test]
fn update_sets_values_encrypts_secrets_first_and_reports_the_new_version() {
    let (env, id) = setup();
    env.emu.clear_requests();
    let secret = format!("parameters.db.#password={PLAIN}");
    let r = env.run(&[
        "--json",
        "config",
        "update",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--set",
        "parameters.db.port=5432",
        "--set",
        &secret,
        "--set",
        r"parameters.odd\.key=text value",
        "--change-description",
        "Port and password",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(PLAIN) && !r.stderr.contains(PLAIN));
    let data = r.envelope().data().clone();
    assert_eq!(data["version"], 2);
    assert_eq!(data["previous_version"], 1);
    assert_eq!(data["dry_run"], false);
    assert_eq!(
        data["encrypted"],
        json!(["configuration.parameters.db.#password"])
    );
    let paths: Vec<&str> = data["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "configuration.parameters.db.port",
            "configuration.parameters.db.#password",
            r"configuration.parameters.odd\.key"
        ]
    );

    let now = stored(&env, &id);
    let body = &now["configuration"]["parameters"];
    assert_eq!(body["db"]["port"], 5432);
    assert_eq!(body["odd.key"], "text value");
    let cipher = body["db"]["#password"].as_str().unwrap();
    assert!(cipher.starts_with("KBC::ConfigSecure::"), "{cipher}");
    assert_eq!(now["changeDescription"], "Port and password");

    // The encryption call came before the write, scoped to this configuration, and no
    // request the emulator logged carries the plain text.
    let log = env.emu.requests();
    let enc = log
        .iter()
        .position(|r| r.path.ends_with("/encrypt"))
        .expect("encrypt call");
    let put = log.iter().position(|r| r.method == "PUT").expect("write");
    assert!(enc < put);
    assert!(log[enc].query.contains("configId"), "{:?}", log[enc]);
    let logged = format!("{log:?}");
    assert!(!logged.contains(PLAIN));
}

#[test]
fn dry_run_shows_a_diff_and_writes_nothing() {
    let (env, id) = setup();
    let patch = env.home.path().join("patch.json");
    std::fs::write(
        &patch,
        r##"{"parameters": {"db": {"host": null, "#password": "new-plain"}, "added": [1]}}"##,
    )
    .unwrap();
    env.emu.clear_requests();
    let data = ok(
        &env,
        &[
            "config",
            "update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--merge",
            patch.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(data["dry_run"], true);
    assert_eq!(data["version"], 1);
    assert_eq!(
        data["changes"],
        json!([
            {"path": "configuration.parameters.db.host", "old": "h"},
            {"path": "configuration.parameters.db.#password", "old": "KBC::ProjectSecure::old", "new": "***"},
            {"path": "configuration.parameters.added", "new": [1]}
        ])
    );
    assert_eq!(
        data["configuration"]["parameters"]["db"]["#password"],
        "***"
    );
    assert!(
        env.emu.requests().iter().all(|r| r.method == "GET"),
        "a dry run wrote"
    );
    assert_eq!(stored(&env, &id)["version"], 1);

    let human = env.run(&[
        "config",
        "update",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--set",
        "parameters.db.port=1",
        "--dry-run",
    ]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    insta::assert_snapshot!(human.stdout.replace(&id, "<ID>"), @r"
    Dry run: would update keboola.ex-db-snowflake / <ID> in project 'p' (now version 1)
    --- version 1
    +++ version 2 (not written)
    - configuration.parameters.db.port: 443
    + configuration.parameters.db.port: 1
    ");
}

#[test]
fn a_whole_body_from_stdin_name_and_description_are_written() {
    let (env, id) = setup();
    let (e, code) = env.json_stdin(
        &[
            "config",
            "update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--file",
            "-",
            "--name",
            "Renamed",
            "--description",
            "D",
        ],
        r#"{"parameters": {"only": true}}"#,
    );
    assert_eq!(code, 0, "{e:?}");
    let now = stored(&env, &id);
    assert_eq!(now["configuration"], json!({"parameters": {"only": true}}));
    assert_eq!(now["name"], "Renamed");
    assert_eq!(now["description"], "D");
    assert_eq!(now["version"], 2);
}

#[test]
fn bad_input_fails_before_any_request() {
    let (env, id) = setup();
    env.emu.clear_requests();
    for (args, code) in [
        (vec!["--set", "a..b=1"], "INVALID_ARGUMENT"),
        (vec!["--set", "noequals"], "INVALID_ARGUMENT"),
        (vec![], "USAGE_ERROR"),
    ] {
        let mut all = vec!["config", "update", "--component-id", C, "--config-id", &id];
        all.extend(args);
        let (e, exit) = env.json(&all);
        assert_eq!(exit, 2, "{e:?}");
        assert_eq!(e.err().code, code);
    }
    assert!(env.emu.requests().is_empty());
}

#[test]
fn an_encryption_failure_aborts_the_write() {
    let (env, id) = setup();
    env.emu
        .add_fault(fault(json!({"service": "encryption", "status": 500})));
    let secret = format!("parameters.#token={PLAIN}");
    let (e, code) = env.json(&[
        "config",
        "update",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--set",
        &secret,
    ]);
    assert_ne!(code, 0);
    assert!(
        e.err().message.contains("nothing was written"),
        "{}",
        e.err().message
    );
    assert_eq!(stored(&env, &id)["version"], 1);
    assert!(env.emu.requests().iter().all(|r| r.method != "PUT"));
}

/// Two updates read the same version; one is held back in its encryption call while the
/// other writes. The held one must find the version moved and refuse.
#[test]
fn of_two_concurrent_updates_one_wins_and_the_other_gets_a_version_conflict() {
    let (env, id) = setup();
    env.emu.add_fault(fault(
        json!({"service": "encryption", "latency_ms": 3000, "times": 1}),
    ));
    let secret = format!("parameters.#slow={PLAIN}");
    let slow = env
        .base()
        .args([
            "--json",
            "config",
            "update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--set",
            &secret,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the slow one has read the configuration and is held in its encryption call
    // (the fault is used up when its request arrives).
    let faults_url = format!("{}/_emulator/faults", env.emu.url());
    let mut held = false;
    for _ in 0..500 {
        let text = agent()
            .get(&faults_url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        if serde_json::from_str::<Value>(&text).unwrap() == json!([]) {
            held = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(held, "the slow update never reached the Encryption API");
    let fast = ok(
        &env,
        &[
            "config",
            "update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--set",
            "parameters.fast=true",
        ],
    );
    assert_eq!(fast["version"], 2);

    let out = slow.wait_with_output().unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 5, "{}", run.stdout);
    let e = run.envelope();
    assert_eq!(e.err().code, "CONFIG_VERSION_CONFLICT");
    assert_eq!(e.err().details.as_ref().unwrap()["expected_version"], 1);
    assert_eq!(e.err().details.as_ref().unwrap()["found_version"], 2);
    assert_eq!(e.err().details.as_ref().unwrap()["written"], false);
    let now = stored(&env, &id);
    assert_eq!(now["version"], 2);
    assert_eq!(now["configuration"]["parameters"]["fast"], true);
    assert!(now["configuration"]["parameters"].get("#slow").is_none());
}

#[test]
fn new_creates_with_secrets_encrypted_and_dry_run_creates_nothing() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let body = format!(r##"{{"parameters": {{"db": {{"host": "h", "#password": "{PLAIN}"}}}}}}"##);
    let dry = ok(
        &env,
        &[
            "config",
            "new",
            "--component-id",
            C,
            "--name",
            "Fresh",
            "--configuration",
            &body,
            "--dry-run",
        ],
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        dry["encrypted"],
        json!(["configuration.parameters.db.#password"])
    );
    let before = storage(&env, "GET", &format!("components/{C}/configs"), None).1;
    let r = env.run(&[
        "--json",
        "config",
        "new",
        "--component-id",
        C,
        "--name",
        "Fresh",
        "--configuration",
        &body,
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains(PLAIN));
    let data = r.envelope().data().clone();
    assert_eq!(data["version"], 1);
    assert_eq!(data["previous_version"], Value::Null);
    let id = data["id"].as_str().unwrap();
    let now = stored(&env, id);
    assert_eq!(now["name"], "Fresh");
    let cipher = now["configuration"]["parameters"]["db"]["#password"]
        .as_str()
        .unwrap();
    assert!(cipher.starts_with("KBC::ProjectSecure::"), "{cipher}");
    let after = storage(&env, "GET", &format!("components/{C}/configs"), None).1;
    assert_eq!(
        after.as_array().unwrap().len(),
        before.as_array().unwrap().len() + 1
    );
    assert!(!format!("{:?}", env.emu.requests()).contains(PLAIN));
    // No name: a usage error before any request.
    let (e, code) = env.json(&["config", "new", "--component-id", C]);
    assert_eq!((code, e.err().code.as_str()), (2, "USAGE_ERROR"));
}

#[test]
fn delete_needs_a_confirmation_goes_to_the_trash_and_restore_brings_it_back() {
    let (env, id) = setup();
    let args = [
        "config",
        "delete",
        "--component-id",
        C,
        "--config-id",
        id.as_str(),
    ];
    // Without --yes and with no terminal: refused, nothing deleted.
    let (e, code) = env.json(&args);
    assert_eq!(code, 2, "{e:?}");
    assert_eq!(
        e.err().details.as_ref().unwrap()["confirmation_required"],
        true
    );
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    assert_eq!(ok(&env, &dry)["deleted"], false);
    assert_eq!(stored(&env, &id)["version"], 1);

    let mut yes = args.to_vec();
    yes.push("--yes");
    let data = ok(&env, &yes);
    assert_eq!(data["deleted"], true);
    let (status, _) = storage(&env, "GET", &format!("components/{C}/configs/{id}"), None);
    assert_eq!(status, 404);
    let trash = ok(&env, &["config", "trash", "--component-id", C]);
    let ids: Vec<&str> = trash["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    // A second delete does not purge: the trashed configuration is not found.
    let (e, code) = env.json(&yes);
    assert_eq!((code, e.err().code.as_str()), (1, "NOT_FOUND"));
    assert_eq!(
        ok(&env, &["config", "trash", "--component-id", C])["configs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let restored = ok(
        &env,
        &["config", "restore", "--component-id", C, "--config-id", &id],
    );
    assert_eq!(restored["version"], 3);
    assert_eq!(stored(&env, &id)["isDeleted"], false);
    assert_eq!(
        ok(&env, &["config", "trash", "--component-id", C])["configs"],
        json!([])
    );
    let (e, code) = env.json(&["config", "restore", "--component-id", C, "--config-id", &id]);
    assert_eq!((code, e.err().code.as_str()), (1, "NOT_FOUND"));
}

#[test]
fn rename_versions_and_rollback() {
    let (env, id) = setup();
    let renamed = ok(
        &env,
        &[
            "config",
            "rename",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--name",
            "New name",
        ],
    );
    assert_eq!(renamed["version"], 2);
    ok(
        &env,
        &[
            "config",
            "update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--set",
            "parameters.db.host=other",
        ],
    );
    let versions = ok(
        &env,
        &[
            "config",
            "versions",
            "--component-id",
            C,
            "--config-id",
            &id,
        ],
    );
    let numbers: Vec<u64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(
        versions["versions"][1]["changeDescription"],
        "Renamed from \"Under test\""
    );

    let dry = ok(
        &env,
        &[
            "config",
            "rollback",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--version",
            "1",
            "--dry-run",
        ],
    );
    let paths: Vec<&str> = dry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["configuration.parameters.db.host", "name"]);
    assert_eq!(stored(&env, &id)["version"], 3);
    let rolled = ok(
        &env,
        &[
            "config",
            "rollback",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--version",
            "1",
        ],
    );
    assert_eq!(rolled["version"], 4);
    let now = stored(&env, &id);
    assert_eq!(now["name"], "Under test");
    assert_eq!(now["configuration"]["parameters"]["db"]["host"], "h");
    let (e, code) = env.json(&[
        "config",
        "rollback",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--version",
        "99",
    ]);
    assert_eq!((code, e.err().code.as_str()), (1, "NOT_FOUND"), "{e:?}");
}

#[test]
fn rows_are_created_updated_and_deleted_and_state_is_set_and_read() {
    let (env, id) = setup();
    let body = format!(r##"{{"parameters": {{"table": "T", "#key": "{PLAIN}"}}}}"##);
    let row = ok(
        &env,
        &[
            "config",
            "row-create",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--name",
            "r1",
            "--configuration",
            &body,
        ],
    );
    let rid = row["id"].as_str().unwrap().to_owned();
    assert!(
        row["configuration"]["parameters"]["#key"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ConfigSecure::")
    );
    assert_eq!(stored(&env, &id)["version"], 2);

    let upd = ok(
        &env,
        &[
            "config",
            "row-update",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--row-id",
            &rid,
            "--set",
            "parameters.table=U",
            "--is-disabled",
        ],
    );
    assert_eq!(upd["isDisabled"], true);
    assert_eq!(upd["configuration"]["parameters"]["table"], "U");
    let now = stored(&env, &id);
    assert_eq!(now["version"], 3);
    assert_eq!(now["rows"][0]["configuration"]["parameters"]["table"], "U");

    let (e, code) = env.json(&[
        "config",
        "row-delete",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--row-id",
        &rid,
    ]);
    assert_eq!(code, 2, "{e:?}");
    ok(
        &env,
        &[
            "config",
            "row-delete",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--row-id",
            &rid,
            "--yes",
        ],
    );
    assert_eq!(stored(&env, &id)["rows"], json!([]));
    let (e, code) = env.json(&[
        "config",
        "row-delete",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--row-id",
        &rid,
        "--yes",
    ]);
    assert_eq!((code, e.err().code.as_str()), (1, "NOT_FOUND"));

    let dry = ok(
        &env,
        &[
            "config",
            "state-set",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--state",
            r#"{"last": 5}"#,
            "--dry-run",
        ],
    );
    assert_eq!(dry["changes"], json!([{"path": "state.last", "new": 5}]));
    assert_eq!(stored(&env, &id)["state"], json!({}));
    ok(
        &env,
        &[
            "config",
            "state-set",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--state",
            r#"{"last": 5}"#,
        ],
    );
    let got = ok(
        &env,
        &[
            "config",
            "state-get",
            "--component-id",
            C,
            "--config-id",
            &id,
        ],
    );
    assert_eq!(got["state"], json!({"last": 5}));
    // State is not versioned.
    assert_eq!(stored(&env, &id)["version"], 4);
}

#[test]
fn encrypt_values_returns_scoped_ciphers_only_and_refuses_keys_without_hash() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    env.emu.clear_requests();
    let input = format!(r##"{{"#password": "{PLAIN}", "#done": "KBC::ProjectSecure::kept"}}"##);
    let r = env.run(&[
        "--json",
        "encrypt",
        "values",
        "--component-id",
        C,
        "--input",
        &input,
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains(PLAIN) && !r.stderr.contains(PLAIN));
    let data = r.envelope().data().clone();
    assert!(
        data["#password"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ProjectSecure::")
    );
    assert_eq!(data["#done"], "KBC::ProjectSecure::kept");
    assert!(!format!("{:?}", env.emu.requests()).contains(PLAIN));

    let file = env.home.path().join("secrets.json");
    std::fs::write(&file, format!(r##"{{"#k": "{PLAIN}"}}"##)).unwrap();
    let out = env.home.path().join("out.json");
    let at = format!("@{}", file.display());
    let data = ok(
        &env,
        &[
            "encrypt",
            "values",
            "--component-id",
            C,
            "--config-id",
            "42",
            "--input",
            &at,
            "--output-file",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        data["#k"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ConfigSecure::")
    );
    assert_eq!(mode(&out) & 0o777, 0o600);
    assert!(!std::fs::read_to_string(&out).unwrap().contains(PLAIN));

    env.emu.clear_requests();
    let (e, code) = env.json(&[
        "encrypt",
        "values",
        "--component-id",
        C,
        "--input",
        r#"{"password": "x"}"#,
    ]);
    assert_eq!((code, e.err().code.as_str()), (2, "USAGE_ERROR"));
    let (e, code) = env.json(&[
        "encrypt",
        "values",
        "--component-id",
        C,
        "--input",
        "not json {secret",
    ]);
    assert_eq!((code, e.err().code.as_str()), (2, "USAGE_ERROR"));
    assert!(!e.err().message.contains("secret"));
    assert!(env.emu.requests().is_empty());
}

#[test]
fn clone_copies_rows_and_leaves_out_secrets_that_cannot_work_in_the_copy() {
    let env = TestEnv::with(keboola_emulator::EmulatorOptions {
        projects: 2,
        ..keboola_emulator::EmulatorOptions::default()
    });
    env.add("p", 0, "admin");
    env.add("q", 1, "admin");
    let id = make_config(
        &env,
        &json!({"parameters": {"#bound": "KBC::ConfigSecure::abc", "#project": "KBC::ProjectSecure::def", "#component": "KBC::ComponentSecure::ghi", "host": "h"}}),
    );
    ok(
        &env,
        &[
            "config",
            "row-create",
            "--project",
            "p",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--name",
            "r1",
            "--configuration",
            r#"{"x": 1}"#,
        ],
    );

    // Same project: only the configuration-bound cipher is left out.
    let same = ok(
        &env,
        &[
            "config",
            "clone",
            "--project",
            "p",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--name",
            "Copy",
        ],
    );
    assert_eq!(
        same["secrets_to_set"],
        json!(["configuration.parameters.#bound"])
    );
    assert_eq!(same["row_ids"].as_array().unwrap().len(), 1);
    let copy = stored(&env, same["id"].as_str().unwrap());
    assert_eq!(copy["name"], "Copy");
    assert_eq!(copy["rows"][0]["configuration"], json!({"x": 1}));
    assert!(copy["configuration"]["parameters"].get("#bound").is_none());
    assert_eq!(
        copy["configuration"]["parameters"]["#project"],
        "KBC::ProjectSecure::def"
    );

    // Another project: project-bound ciphers go too; --secret fills one, encrypted there.
    let secret = format!("parameters.#project={PLAIN}");
    let dry = ok(
        &env,
        &[
            "config",
            "clone",
            "--project",
            "p",
            "--component-id",
            C,
            "--config-id",
            &id,
            "--name",
            "Q",
            "--to-project",
            "q",
            "--secret",
            &secret,
            "--dry-run",
        ],
    );
    assert_eq!(
        dry["secrets_to_set"],
        json!(["configuration.parameters.#bound"])
    );
    assert_eq!(dry["configuration"]["parameters"]["#project"], "***");
    let r = env.run(&[
        "--json",
        "config",
        "clone",
        "--project",
        "p",
        "--component-id",
        C,
        "--config-id",
        &id,
        "--name",
        "Q",
        "--to-project",
        "q",
        "--secret",
        &secret,
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains(PLAIN));
    let data = r.envelope().data().clone();
    assert_eq!(data["project_alias"], "q");
    assert_eq!(
        data["encrypted"],
        json!(["configuration.parameters.#project"])
    );
    let parameters = &data["configuration"]["parameters"];
    assert!(
        parameters["#project"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ProjectSecure::")
    );
    assert_ne!(parameters["#project"], "KBC::ProjectSecure::def");
    assert_eq!(parameters["#component"], "KBC::ComponentSecure::ghi");
    assert!(parameters.get("#bound").is_none());
    assert!(!format!("{:?}", env.emu.requests()).contains(PLAIN));
}

/// In the active branch a write says so for people too, not only in `targets`, and
/// production keeps its version.
#[test]
fn a_write_in_the_active_branch_names_it() {
    let (env, id) = setup();
    let made = ok(
        &env,
        &["branch", "create", "--project", "p", "--name", "try"],
    );
    let branch = made["branch_id"].to_string();
    let args = [
        "config",
        "update",
        "--component-id",
        "keboola.ex-db-snowflake",
        "--config-id",
        &id,
        "--set",
        "parameters.db.port=1",
    ];
    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    let human = env.run(&dry);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains(&format!("in project 'p', branch {branch}")),
        "{}",
        human.stdout
    );
    let written = ok(&env, &args);
    assert_eq!(written["branch_id"], json!(branch));
    let prod = ok(
        &env,
        &[
            "config",
            "detail",
            "--component-id",
            "keboola.ex-db-snowflake",
            "--config-id",
            &id,
            "--branch",
            &production_branch(&env),
        ],
    );
    assert_eq!(prod["configuration"]["parameters"]["db"]["port"], 443);
}

/// The id of the default branch of project `p`.
fn production_branch(env: &TestEnv) -> String {
    let list = ok(env, &["branch", "list", "--project", "p"]);
    list["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] == true)
        .unwrap()["id"]
        .to_string()
}
