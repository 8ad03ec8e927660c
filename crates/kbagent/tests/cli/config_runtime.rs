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
