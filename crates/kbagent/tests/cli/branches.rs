//! Development branches end to end on the emulator: create (and activate), use, current,
//! reset, delete with its confirmation, the default-branch refusal, and branch-aware
//! commands following the active branch while production stays untouched.

use serde_json::{Value, json};

use crate::common::*;

fn env() -> TestEnv {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    env
}

fn ok(env: &TestEnv, args: &[&str]) -> (Envelope, Value) {
    let (out, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {out:?}");
    let data = out.data().clone();
    (out, data)
}

fn only_target(out: &Envelope) -> TargetBody {
    let targets = out.targets.clone().expect("targets");
    assert_eq!(targets.len(), 1, "{targets:?}");
    targets[0].clone()
}

/// A configuration's name read through the Storage API (outside kbagent) in `branch`.
fn api_config_name(env: &TestEnv, branch: &str, component: &str, config: &str) -> String {
    let url = format!(
        "{}/v2/storage/branch/{branch}/components/{component}/configs/{config}",
        env.emu.url()
    );
    let body: Value = ureq::get(&url)
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    body["name"].as_str().unwrap().to_owned()
}

fn api_rename(env: &TestEnv, branch: u64, component: &str, config: &str, name: &str) {
    let url = format!(
        "{}/v2/storage/branch/{branch}/components/{component}/configs/{config}",
        env.emu.url()
    );
    let resp = ureq::put(&url)
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .send_form([("name", name)])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

fn create(env: &TestEnv, name: &str) -> (Envelope, Value) {
    ok(env, &["branch", "create", "--project", "p", "--name", name])
}

#[test]
fn create_activates_and_config_reads_follow_the_branch() {
    let env = env();
    let (_, list) = ok(&env, &["branch", "list"]);
    assert_eq!(list["branches"].as_array().unwrap().len(), 2);
    assert_eq!(list["active_branches"], json!({"p": null}));
    assert_eq!(list["branches"][0]["isDefault"], true);

    let (out, made) = create(&env, "feature-x");
    let id = made["branch_id"].as_u64().expect("a numeric id");
    assert_eq!(made["branch_name"], "feature-x");
    assert_eq!(made["activated"], true);
    let target = only_target(&out);
    assert_eq!(target.branch_id, Some(id));
    assert_eq!(target.branch_source, "active");
    // Pinned in config.json with the Python tool's keys.
    let cfg = env.config_json();
    assert_eq!(cfg["projects"]["p"]["active_branch_id"], json!(id));
    assert_eq!(cfg["projects"]["p"]["active_branch_name"], "feature-x");

    let (_, cur) = ok(&env, &["branch", "current"]);
    assert_eq!(cur["branch_id"], json!(id));
    assert_eq!(cur["branch_source"], "active");
    let (_, list) = ok(&env, &["branch", "list", "--project", "p"]);
    assert_eq!(list["active_branches"], json!({"p": id}));
    assert_eq!(list["branches"].as_array().unwrap().len(), 3);

    // A change in the branch: config detail and list (no --branch) read the branch copy;
    // production keeps its name.
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let (component, config) = (oauth.component_id.as_str(), oauth.config_id.as_str());
    let prod_name = api_config_name(&env, "default", component, config);
    api_rename(&env, id, component, config, "branch copy");
    let args = [
        "config",
        "detail",
        "--component-id",
        component,
        "--config-id",
        config,
    ];
    let (out, detail) = ok(&env, &args);
    assert_eq!(detail["name"], "branch copy");
    assert_eq!(detail["branch_id"], json!(id.to_string()));
    assert_eq!(only_target(&out).branch_source, "active");
    let (_, listed) = ok(&env, &["config", "list", "--component-id", component]);
    let row = listed["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config_id"] == config)
        .unwrap()
        .clone();
    assert_eq!(row["config_name"], "branch copy");
    assert_eq!(row["branch_id"], json!(id.to_string()));
    assert_eq!(
        api_config_name(&env, "default", component, config),
        prod_name
    );
    // --branch still wins over the active branch.
    let main = list["branches"][0]["id"].as_u64().unwrap().to_string();
    let (out, detail) = ok(&env, &[&args[..], &["--branch", &main]].concat());
    assert_eq!(detail["name"], prod_name.as_str());
    assert_eq!(only_target(&out).branch_source, "explicit");

    // Reset: production again, and production never saw the change.
    let (out, reset) = ok(&env, &["branch", "reset"]);
    assert_eq!(reset["previous_branch_id"], json!(id));
    assert_eq!(only_target(&out), TargetBody::production("p"));
    assert_eq!(
        env.config_json()["projects"]["p"]["active_branch_id"],
        Value::Null
    );
    let (out, detail) = ok(&env, &args);
    assert_eq!(detail["name"], prod_name.as_str());
    assert_eq!(detail["branch_id"], Value::Null);
    assert_eq!(only_target(&out), TargetBody::production("p"));
    let (_, cur) = ok(&env, &["branch", "current"]);
    assert_eq!(cur["branch_id"], Value::Null);
    assert_eq!(cur["branch_source"], "production");
}

#[test]
fn use_checks_the_branch_and_leaves_the_config_alone_when_it_fails() {
    let env = env();
    let (_, list) = ok(&env, &["branch", "list"]);
    let dev = list["branches"][1].clone();
    let dev_id = dev["id"].as_u64().unwrap().to_string();

    let before = env.config_bytes().unwrap();
    let (out, code) = env.json(&["branch", "use", "--branch", "424242"]);
    assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1), "{out:?}");
    assert!(out.err().message.contains("424242"));
    assert_eq!(env.config_bytes().unwrap(), before, "config.json untouched");
    let (out, code) = env.json(&["branch", "use", "--branch", "abc"]);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
    assert_eq!(env.config_bytes().unwrap(), before);

    let (out, used) = ok(&env, &["branch", "use", "--branch", &dev_id]);
    assert_eq!(used["branch_name"], dev["name"]);
    assert_eq!(only_target(&out).branch_source, "active");
    let (_, cur) = ok(&env, &["branch", "current"]);
    assert_eq!(cur["branch_name"], dev["name"]);

    // The seeded dev branch holds only its own transformation copy: a listing follows it.
    let (_, listed) = ok(&env, &["config", "list"]);
    let components: Vec<&str> = listed["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component_id"].as_str().unwrap())
        .collect();
    assert_eq!(components, ["keboola.snowflake-transformation"]);
}

#[test]
fn delete_asks_first_refuses_the_default_branch_and_unpins() {
    let env = env();
    let (_, made) = create(&env, "short-lived");
    let id = made["branch_id"].as_u64().unwrap().to_string();
    let args = ["branch", "delete", "--project", "p", "--branch", &id];

    // Off a terminal without --yes: refused, nothing changed.
    let (out, code) = env.json(&args);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("USAGE_ERROR", 2),
        "{out:?}"
    );
    let (_, dry) = ok(&env, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["deleted"], false);
    assert_eq!(dry["was_active"], true);
    let (_, list) = ok(&env, &["branch", "list"]);
    assert_eq!(list["branches"].as_array().unwrap().len(), 3);

    let (out, gone) = ok(&env, &[&args[..], &["--yes"]].concat());
    assert_eq!(gone["deleted"], true);
    assert_eq!(gone["was_active"], true);
    assert_eq!(only_target(&out).branch_source, "explicit");
    let (_, list) = ok(&env, &["branch", "list"]);
    assert_eq!(list["branches"].as_array().unwrap().len(), 2);
    assert!(
        list["branches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["id"].as_u64() != id.parse().ok())
    );
    assert_eq!(
        env.config_json()["projects"]["p"]["active_branch_id"],
        Value::Null
    );

    // Deleting it again: it is not there.
    let (out, code) = env.json(&[&args[..], &["--yes"]].concat());
    assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1), "{out:?}");

    // The default branch is refused before anything is asked or sent.
    let main = list["branches"][0]["id"].as_u64().unwrap().to_string();
    let (out, code) = env.json(&["branch", "delete", "--branch", &main, "--yes"]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("INVALID_ARGUMENT", 2),
        "{out:?}"
    );
    assert!(out.err().message.contains("default"), "{out:?}");
    let (_, list) = ok(&env, &["branch", "list"]);
    assert_eq!(list["branches"][0]["id"].to_string(), main);
}

#[test]
fn storage_writes_follow_the_active_branch_and_reads_stay_in_production() {
    let env = env();
    let (_, made) = create(&env, "writes");
    let id = made["branch_id"].as_u64().unwrap();
    let (out, _) = ok(
        &env,
        &["storage", "create-bucket", "--stage", "out", "--name", "br"],
    );
    let target = only_target(&out);
    assert_eq!(
        (target.branch_id, target.branch_source.as_str()),
        (Some(id), "active")
    );
    // The write went to the branch's endpoint, and the read below to production's.
    let paths = |method: &str| -> Vec<String> {
        env.emu
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with("/buckets"))
            .map(|r| r.path)
            .collect()
    };
    assert_eq!(paths("POST"), [format!("/v2/storage/branch/{id}/buckets")]);
    let (out, _) = ok(&env, &["storage", "buckets"]);
    assert_eq!(paths("GET"), ["/v2/storage/buckets"]);
    let target = only_target(&out);
    assert_eq!(
        (target.branch_id, target.branch_source.as_str()),
        (None, "production")
    );
    assert_eq!(target.active_branch.map(|a| a.branch_id), Some(id));
}

#[test]
fn merge_links_to_the_ui_and_changes_nothing() {
    let env = env();
    let (out, code) = env.json(&["branch", "merge"]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("USAGE_ERROR", 2),
        "{out:?}"
    );
    let (_, made) = create(&env, "to-merge");
    let id = made["branch_id"].as_u64().unwrap();
    let before = env.config_bytes().unwrap();
    let (_, merge) = ok(&env, &["branch", "merge"]);
    assert_eq!(merge["branch_id"], json!(id));
    let url = merge["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!(
            "/admin/projects/{}/branch/{id}/development-overview",
            env.project_id(0)
        )),
        "{url}"
    );
    assert!(
        merge["deprecation"]
            .as_str()
            .unwrap()
            .contains("does not merge")
    );
    assert_eq!(env.config_bytes().unwrap(), before);
}

#[test]
fn human_output() {
    let env = env();
    let (_, list) = ok(&env, &["branch", "list"]);
    let dev = list["branches"][1]["id"].to_string();
    let used = env.run(&["branch", "use", "--branch", &dev]);
    let listed = env.run(&["branch", "list"]);
    let current = env.run(&["branch", "current"]);
    let dry = env.run(&["branch", "delete", "--branch", &dev, "--dry-run"]);
    let reset = env.run(&["branch", "reset"]);
    let production = env.run(&["branch", "current"]);
    let text = [used, listed, current, dry, reset, production]
        .iter()
        .map(|r| format!("exit {}\n{}{}", r.code, r.stdout, r.stderr))
        .collect::<Vec<_>>()
        .join("---\n");
    insta::assert_snapshot!("branch_human", text);
}

#[test]
fn a_failed_create_pins_nothing() {
    let env = env();
    let before = env.config_bytes().unwrap();
    env.emu.add_storage_job_control(
        serde_json::from_value(json!({"fail": true, "operation_name": "devBranchCreate",
            "error_message": "No room for branches"}))
        .unwrap(),
    );
    let (out, code) = env.json(&["branch", "create", "--name", "doomed"]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("STORAGE_JOB_FAILED", 1),
        "{out:?}"
    );
    assert!(
        out.err().message.contains("No room for branches"),
        "{out:?}"
    );
    assert_eq!(env.config_bytes().unwrap(), before, "config.json untouched");
    // A taken name is refused by Keboola before any job.
    let (out, code) = env.json(&["branch", "create", "--name", "Main"]);
    assert_eq!(code, 1, "{out:?}");
    assert!(out.err().message.contains("already"), "{out:?}");
    assert_eq!(env.config_bytes().unwrap(), before);
}

/// `--timeout` bounds the wait for the branch's storage job; the job goes on, and nothing
/// is pinned.
#[test]
fn create_gives_up_waiting_after_its_timeout() {
    let env = env();
    let before = env.config_bytes().unwrap();
    env.emu.add_storage_job_control(
        serde_json::from_value(json!({"duration_ms": 4000, "operation_name": "devBranchCreate"}))
            .unwrap(),
    );
    let (out, code) = env.json(&["branch", "create", "--name", "slow", "--timeout", "1"]);
    assert_eq!(code, 4, "{out:?}");
    assert_eq!(out.err().code, "TIMEOUT", "{out:?}");
    assert_eq!(env.config_bytes().unwrap(), before, "config.json untouched");
}
