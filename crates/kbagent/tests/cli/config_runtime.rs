//! Configurations as jobs and branches see them: secrets encrypted by kbagent reach the
//! job decrypted within their scope only, the trash across components, row state, and the
//! metadata a new branch copies.

use serde_json::{Value, json};

use crate::common::*;

const DB: &str = "keboola.ex-db-snowflake";
/// The seeded database extractor of the first project.
const DB_CONFIG: &str = "10001";
/// What the emulated database source accepts.
const SOURCE_PASSWORD: &str = "emulated-password";

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (e, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {e:?}");
    e.data().clone()
}

fn set_password(env: &TestEnv, plain: &str) {
    let set = format!("parameters.db.#password={plain}");
    let data = ok(
        env,
        &[
            "config",
            "update",
            "--project",
            "p",
            "--component-id",
            DB,
            "--config-id",
            DB_CONFIG,
            "--set",
            &set,
        ],
    );
    assert_eq!(
        data["encrypted"],
        json!(["configuration.parameters.db.#password"])
    );
}

fn run_db(env: &TestEnv, project: &str, config: &str) -> (Envelope, i32) {
    env.json(&[
        "job",
        "run",
        "--project",
        project,
        "--component-id",
        DB,
        "--config-id",
        config,
        "--wait",
    ])
}

#[test]
fn a_secret_written_by_config_update_reaches_the_job_only_in_its_project() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    env.add("q", 1, "admin");
    env.emu.clear_requests();

    // A wrong password, encrypted by kbagent: the source refuses it.
    set_password(&env, "wrong-password-31");
    let (out, code) = run_db(&env, "p", DB_CONFIG);
    assert_eq!(code, 1, "{out:?}");
    let reason = out.err().details.as_ref().unwrap()["result_message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("authentication failed"), "{reason}");

    // The right one: the job decrypts it and the extraction runs.
    set_password(&env, SOURCE_PASSWORD);
    let (out, code) = run_db(&env, "p", DB_CONFIG);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["status"], "success");

    // Its cipher, copied into a configuration of another project, does not decrypt.
    let detail = ok(
        &env,
        &[
            "config",
            "detail",
            "--project",
            "p",
            "--component-id",
            DB,
            "--config-id",
            DB_CONFIG,
        ],
    );
    let cipher = detail["configuration"]["parameters"]["db"]["#password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cipher.starts_with("KBC::ConfigSecure::"), "{cipher}");
    let body = json!({"parameters": {"db": {"user": "u", "#password": cipher},
        "table": {"tableName": "CUSTOMERS"}}})
    .to_string();
    let made = ok(
        &env,
        &[
            "config",
            "new",
            "--project",
            "q",
            "--component-id",
            DB,
            "--name",
            "Copied",
            "--configuration",
            &body,
        ],
    );
    let copied = made["id"].as_str().unwrap().to_owned();
    let (out, code) = run_db(&env, "q", &copied);
    assert_eq!(code, 1, "{out:?}");
    let reason = out.err().details.as_ref().unwrap()["result_message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.starts_with("Decryption failed"), "{reason}");

    // No request, answer or job event carried the plain texts.
    let log = serde_json::to_string(&env.emu.requests()).unwrap();
    for plain in [SOURCE_PASSWORD, "wrong-password-31"] {
        assert!(!log.contains(plain));
        assert!(!detail.to_string().contains(plain));
    }
}

#[test]
fn config_trash_lists_every_component_unless_one_is_named() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let empty = ok(&env, &["config", "trash"]);
    assert_eq!(empty["component_id"], Value::Null);
    assert_eq!(empty["configs"], json!([]));

    let mut made = Vec::new();
    for component in [DB, "keboola.ex-google-drive"] {
        let data = ok(
            &env,
            &[
                "config",
                "new",
                "--component-id",
                component,
                "--name",
                "Binned",
            ],
        );
        let id = data["id"].as_str().unwrap().to_owned();
        ok(
            &env,
            &[
                "config",
                "delete",
                "--component-id",
                component,
                "--config-id",
                &id,
                "--yes",
            ],
        );
        made.push((component.to_owned(), id));
    }
    let all = ok(&env, &["config", "trash"]);
    let listed: Vec<(String, String)> = all["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["isDeleted"], true, "{c}");
            assert!(c.get("configuration").is_none(), "{c}");
            (
                c["componentId"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, made);

    // The flag filters.
    let one = ok(&env, &["config", "trash", "--component-id", DB]);
    assert_eq!(one["component_id"], DB);
    let ids: Vec<&str> = one["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [made[0].1.as_str()]);
    assert_eq!(one["configs"][0]["componentId"], DB);

    let human = env.run(&["config", "trash"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains("every component"), "{}", human.stdout);
    assert!(
        human.stdout.contains("keboola.ex-google-drive"),
        "{}",
        human.stdout
    );
}

#[test]
fn row_state_is_set_and_read_apart_from_the_configuration_state() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let config = ok(
        &env,
        &["config", "new", "--component-id", DB, "--name", "Stateful"],
    );
    let id = config["id"].as_str().unwrap().to_owned();
    let base = [
        "config",
        "row-create",
        "--component-id",
        DB,
        "--config-id",
        &id,
    ];
    let row = ok(&env, &[&base[..], &["--name", "r1"]].concat());
    let row_id = row["id"].as_str().unwrap().to_owned();
    let version = |env: &TestEnv| {
        ok(
            env,
            &["config", "detail", "--component-id", DB, "--config-id", &id],
        )["version"]
            .clone()
    };
    let before = version(&env);
    let state_of = |env: &TestEnv, row: Option<&str>| {
        let mut args = vec![
            "config",
            "state-get",
            "--component-id",
            DB,
            "--config-id",
            &id,
        ];
        if let Some(r) = row {
            args.extend(["--row-id", r]);
        }
        ok(env, &args)
    };
    assert_eq!(state_of(&env, Some(&row_id))["state"], json!({}));

    let set = [
        "config",
        "state-set",
        "--component-id",
        DB,
        "--config-id",
        &id,
        "--row-id",
        &row_id,
    ];
    let dry = ok(
        &env,
        &[&set[..], &["--state", r#"{"cursor": 7}"#, "--dry-run"]].concat(),
    );
    assert_eq!(dry["row_id"], row_id.as_str());
    assert_eq!(
        state_of(&env, Some(&row_id))["state"],
        json!({}),
        "a dry run"
    );
    let done = ok(&env, &[&set[..], &["--state", r#"{"cursor": 7}"#]].concat());
    assert_eq!(done["row_id"], row_id.as_str());
    assert_eq!(done["state"], json!({"cursor": 7}));
    assert_eq!(done["changes"][0]["path"], "state.cursor");

    let got = state_of(&env, Some(&row_id));
    assert_eq!(got["row_id"], row_id.as_str());
    assert_eq!(got["state"], json!({"cursor": 7}));
    assert_eq!(
        state_of(&env, None)["state"],
        json!({}),
        "the configuration's own"
    );
    assert_eq!(version(&env), before, "state is not a version");

    // An unknown row is NOT_FOUND and writes nothing.
    let (out, code) = env.json(&[
        "config",
        "state-set",
        "--component-id",
        DB,
        "--config-id",
        &id,
        "--row-id",
        "999999",
        "--state",
        "{}",
    ]);
    assert_eq!(code, 1, "{out:?}");
    assert_eq!(out.err().code, "NOT_FOUND");
}

#[test]
fn a_new_branch_lists_the_same_folders_as_production() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let folders = |data: &Value| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = data["configs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["component_id"].as_str().unwrap().to_owned(),
                    c["config_id"].as_str().unwrap().to_owned(),
                    c["folder"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let prod = folders(&ok(&env, &["config", "list"]));
    assert!(prod.iter().any(|(_, _, f)| !f.is_empty()), "{prod:?}");
    let made = ok(&env, &["branch", "create", "--name", "folders"]);
    let branch = made["branch_id"].to_string();
    let in_branch = folders(&ok(&env, &["config", "list", "--branch", &branch]));
    assert_eq!(in_branch, prod);
}
