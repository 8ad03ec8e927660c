//! Running under an agent: conversation ids on the wire, `init` workspaces, headless
//! sessions from the environment, and the workflows of `context`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use keboola_emulator::LoggedRequest;
use serde_json::Value;

use crate::common::*;

const TRANSFORMATION: &str = "keboola.snowflake-transformation";

/// Every file and directory under `dir`, relative to it.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn services(log: &[LoggedRequest]) -> BTreeSet<String> {
    log.iter().filter_map(|r| r.service.clone()).collect()
}

#[test]
fn the_conversation_id_reaches_every_keboola_service_but_no_object_store() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let id = "conv-3f9a/agent:42";
    let with_id = |args: &[&str]| {
        let mut all = vec!["--json", "--conversation-id", id];
        all.extend_from_slice(args);
        env.run(&all)
    };
    env.emu.clear_requests();

    // Storage, its index and a Queue job.
    let (configs, _) = env.json(&[
        "config",
        "list",
        "--project",
        "p",
        "--component-id",
        TRANSFORMATION,
    ]);
    let config = configs.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.emu.clear_requests();
    let run = with_id(&[
        "job",
        "run",
        "--project",
        "p",
        "--component-id",
        TRANSFORMATION,
        "--config-id",
        &config,
        "--wait",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The Manage API (a refresh mints through it).
    let refresh = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args([
                "--allow-env-manage-token",
                "--json",
                "--conversation-id",
                id,
                "project",
                "refresh",
                "--project",
                "p",
                "--replace-master",
                "--yes",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(refresh.code, 0, "{}\n{}", refresh.stdout, refresh.stderr);
    // A table export: Storage jobs, then the bytes from the object store.
    let out = env.home.path().join("orders.csv");
    let down = with_id(&[
        "storage",
        "download-table",
        "--project",
        "p",
        "--table-id",
        "in.c-crm.orders",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(down.code, 0, "{}", down.stdout);

    let log = env.emu.requests();
    let seen = services(&log);
    for service in ["storage", "queue", "manage"] {
        assert!(seen.contains(service), "no {service} request in {seen:?}");
    }
    let object_stores = ["abs", "s3", "gcs"];
    assert!(
        seen.iter().any(|s| object_stores.contains(&s.as_str())),
        "the export read no object store: {seen:?}"
    );
    for r in &log {
        let to_store = r
            .service
            .as_deref()
            .is_some_and(|s| object_stores.contains(&s));
        let expected = if to_store { None } else { Some(id) };
        assert_eq!(
            r.conversation_id.as_deref(),
            expected,
            "{} {} ({:?})",
            r.method,
            r.path,
            r.service
        );
    }
}

#[test]
fn the_variable_sets_the_id_the_flag_overrides_it_and_bad_ids_are_refused() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let status = |vars: &[(&str, &str)], extra: &[&str]| {
        env.emu.clear_requests();
        let mut cmd = env.cmd();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        args.extend(["project", "status"]);
        let r = Run::from(cmd.args(&args).output().unwrap());
        let ids: BTreeSet<Option<String>> = env
            .emu
            .requests()
            .into_iter()
            .map(|r| r.conversation_id)
            .collect();
        (r, ids)
    };
    let (r, ids) = status(&[("KBAGENT_CONVERSATION_ID", "from-env")], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(ids, BTreeSet::from([Some("from-env".to_owned())]));
    let (_, ids) = status(
        &[("KBAGENT_CONVERSATION_ID", "from-env")],
        &["--conversation-id", "from-flag"],
    );
    assert_eq!(ids, BTreeSet::from([Some("from-flag".to_owned())]));
    let (_, ids) = status(&[], &[]);
    assert_eq!(ids, BTreeSet::from([None]));

    let (r, ids) = status(&[], &["--conversation-id", "bad\u{1b}[31m"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.envelope().err().code, "INVALID_ARGUMENT");
    assert!(
        ids.is_empty(),
        "a bad id must stop the command before any request"
    );
    let long = "x".repeat(257);
    let (r, _) = status(&[], &["--conversation-id", &long]);
    assert_eq!(r.code, 2);
    let (r, ids) = status(&[("KBAGENT_CONVERSATION_ID", "tab\there")], &[]);
    assert_eq!(r.code, 5, "{}", r.stdout);
    assert_eq!(r.envelope().err().code, "CONFIG_ERROR");
    assert!(ids.is_empty());
}

/// kbagent run from `cwd` with the config found the usual way (no KBAGENT_CONFIG_DIR), so
/// a local `.kbagent/` and the global config under `$HOME/.config` both take part.
fn discovering(env: &TestEnv, cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR").current_dir(cwd);
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    Run::from(cmd.args(&all).output().unwrap())
}

fn global_dir(env: &TestEnv) -> PathBuf {
    env.home.path().join(".config/keboola-agent-cli")
}

/// Registers project 0 as `g` in the global config.
fn add_global(env: &TestEnv) {
    add_global_as(env, "g", 0);
}

fn add_global_as(env: &TestEnv, alias: &str, project: usize) {
    let r = Run::from(
        assert_cmd::Command::from_std({
            let mut cmd = env.base();
            cmd.env_remove("KBAGENT_CONFIG_DIR");
            cmd
        })
        .args([
            "--json",
            "project",
            "add",
            "--project",
            alias,
            "--url",
            env.emu.url(),
            "--token-stdin",
            "--no-warn-non-master",
        ])
        .write_stdin(env.token(project, "admin"))
        .output()
        .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(global_dir(env).join("config.json").exists());
}

#[test]
fn init_creates_a_private_workspace_and_refuses_to_replace_it() {
    let env = TestEnv::new();
    let work = env.home.path().join("work");
    std::fs::create_dir_all(work.join("sub")).unwrap();
    let r = discovering(&env, &work, &["init"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let data = r.envelope().data().clone();
    let dir = work.join(".kbagent");
    assert_eq!(data["path"], dir.display().to_string());
    assert_eq!(data["replaced"], false);
    assert_eq!(data["projects"], Value::Array(vec![]));
    assert_eq!(data["active"], true);
    assert!(r.envelope().warning_codes().is_empty(), "{}", r.stdout);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("config.json")), 0o600);
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

    // A project added from a subdirectory lands in the workspace, not the global config.
    let add = Run::from(
        assert_cmd::Command::from_std({
            let mut cmd = env.base();
            cmd.env_remove("KBAGENT_CONFIG_DIR")
                .current_dir(work.join("sub"));
            cmd
        })
        .args([
            "--json",
            "project",
            "add",
            "--project",
            "w",
            "--url",
            env.emu.url(),
            "--token-stdin",
            "--no-warn-non-master",
        ])
        .write_stdin(env.token(0, "admin"))
        .output()
        .unwrap(),
    );
    assert_eq!(add.code, 0, "{}", add.stdout);
    assert!(!global_dir(&env).join("config.json").exists());
    let before = std::fs::read(dir.join("config.json")).unwrap();

    let again = discovering(&env, &work, &["init"]);
    assert_eq!(again.code, 5, "{}", again.stdout);
    assert_eq!(again.envelope().err().code, "CONFIG_ERROR");
    assert!(again.stdout.contains("--force"), "{}", again.stdout);
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), before);

    let forced = discovering(&env, &work, &["init", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stdout);
    assert_eq!(forced.envelope().data()["replaced"], true);
    let list = discovering(&env, &work, &["project", "list"]);
    assert_eq!(list.envelope().data(), &Value::Array(vec![]));
}

#[test]
fn init_from_global_copies_the_projects_and_tokens() {
    let env = TestEnv::new();
    add_global(&env);
    let work = env.home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let r = discovering(&env, &work, &["init", "--from-global"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let data = r.envelope().data().clone();
    assert_eq!(data["projects"], serde_json::json!(["g"]));
    assert_eq!(data["default_project"], "g");
    assert_eq!(
        data["copied_from"],
        global_dir(&env).join("config.json").display().to_string()
    );
    let local = work.join(".kbagent/config.json");
    assert_eq!(mode(&local), 0o600);
    assert_eq!(mode(&work.join(".kbagent")), 0o700);
    let copied: Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
    assert_eq!(copied["projects"]["g"]["token"], env.token(0, "admin"));
    // The token is only in the files, never in the output.
    assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &all_secrets(&env));
    // The copy works on its own.
    let status = discovering(&env, &work, &["project", "status"]);
    assert_eq!(status.code, 0, "{}", status.stdout);

    // Only the projects named, and the default only if it is one of them.
    add_global_as(&env, "h", 1);
    let some = discovering(
        &env,
        &work,
        &["init", "--from-global", "--force", "--project", "h"],
    );
    assert_eq!(some.code, 0, "{}", some.stdout);
    assert_eq!(some.envelope().data()["projects"], serde_json::json!(["h"]));
    assert_eq!(some.envelope().data()["default_project"], Value::Null);
    let copied: Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
    assert!(copied["projects"].get("g").is_none(), "{copied}");
    let before = std::fs::read(&local).unwrap();
    let unknown = discovering(
        &env,
        &work,
        &["init", "--from-global", "--force", "--project", "nope"],
    );
    assert_eq!(unknown.code, 5, "{}", unknown.stdout);
    assert_eq!(std::fs::read(&local).unwrap(), before);
    // --project alone implies --from-global.
    let alone = discovering(&env, &work, &["init", "--force", "--project", "h"]);
    assert_eq!(alone.code, 0, "{}", alone.stdout);
    assert_eq!(
        alone.envelope().data()["projects"],
        serde_json::json!(["h"])
    );

    // Without a global config there is nothing to copy.
    let bare = TestEnv::new();
    let r = discovering(&bare, bare.home.path(), &["init", "--from-global"]);
    assert_eq!(r.code, 5, "{}", r.stdout);
    assert!(!bare.home.path().join(".kbagent").exists());
}

#[test]
fn an_empty_workspace_that_hides_global_projects_gets_a_warning() {
    let env = TestEnv::new();
    add_global(&env);
    let work = env.home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let r = discovering(&env, &work, &["init"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.envelope().warning_codes(),
        vec!["LOCAL_CONFIG_SHADOWS_GLOBAL"]
    );
    let list = discovering(&env, &work, &["project", "list"]);
    assert_eq!(list.code, 0);
    assert_eq!(
        list.envelope().warning_codes(),
        vec!["LOCAL_CONFIG_SHADOWS_GLOBAL"]
    );
    assert!(
        list.stdout.contains("init --from-global"),
        "{}",
        list.stdout
    );
    // For people it is on stderr.
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR").current_dir(&work);
    let human = Run::from(cmd.args(["project", "list"]).output().unwrap());
    assert!(
        human.stderr.contains("init --from-global"),
        "{}",
        human.stderr
    );
    // Once the workspace has projects, it hides nothing worth a warning.
    let copied = discovering(&env, &work, &["init", "--from-global", "--force"]);
    assert!(
        copied.envelope().warning_codes().is_empty(),
        "{}",
        copied.stdout
    );
    let list = discovering(&env, &work, &["project", "list"]);
    assert!(
        list.envelope().warning_codes().is_empty(),
        "{}",
        list.stdout
    );
    // Outside the workspace the global config is used, without a warning.
    let outside = discovering(&env, env.home.path(), &["project", "list"]);
    assert!(outside.envelope().warning_codes().is_empty());
    assert_eq!(outside.envelope().data()[0]["alias"], "g");
}

/// kbagent in a headless session: no config dir variable, the project from the env.
fn headless(env: &TestEnv, token: &str, args: &[&str]) -> Run {
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR")
        .env("KBAGENT_PROJECT_FROM_ENV", "1")
        .env("KBC_STORAGE_API_URL", env.emu.url())
        .env("KBC_TOKEN", token);
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    Run::from(cmd.args(&all).output().unwrap())
}

#[test]
fn a_headless_session_works_from_the_environment_and_writes_nothing() {
    let env = TestEnv::new();
    let token = env.token(0, "admin");
    let before = tree(env.home.path());
    let status = headless(&env, &token, &["project", "status"]);
    assert_eq!(status.code, 0, "{}", status.stdout);
    let data = status.envelope().data().clone();
    assert_eq!(data[0]["alias"], "__env__");
    assert_eq!(data[0]["status"], "ok");
    assert_eq!(data[0]["project_id"], env.project_id(0));
    let buckets = headless(
        &env,
        &token,
        &["storage", "buckets", "--project", "__env__"],
    );
    assert_eq!(buckets.code, 0, "{}", buckets.stdout);
    // A single-project command picks the one project without --project.
    let info = headless(&env, &token, &["project", "info"]);
    assert_eq!(info.code, 0, "{}", info.stdout);
    let doctor = headless(&env, &token, &["doctor"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stdout);
    let checks = doctor.envelope().data()["checks"].clone();
    let check = |name: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .cloned()
    };
    assert!(
        check("config_source").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("KBAGENT_PROJECT_FROM_ENV")
    );
    assert!(check("config_file").is_none(), "{checks}");
    assert_eq!(check("connectivity").unwrap()["status"], "pass", "{checks}");
    let verified = env
        .emu
        .requests()
        .iter()
        .any(|r| r.path == "/v2/storage/tokens/verify" && r.status == 200);
    assert!(verified, "the token was not verified");

    // Commands that would write the config fail clearly and change nothing.
    for args in [
        vec!["project", "use", "__env__"],
        vec!["project", "remove", "--project", "__env__"],
        vec!["init"],
    ] {
        let r = headless(&env, &token, &args);
        assert_eq!(r.code, 5, "{args:?}: {}", r.stdout);
        let envelope = r.envelope();
        let err = envelope.err();
        assert_eq!(err.code, "CONFIG_ERROR");
        assert!(
            err.message.contains("KBAGENT_PROJECT_FROM_ENV"),
            "{}",
            err.message
        );
    }
    let add = Run::from(
        assert_cmd::Command::from_std({
            let mut cmd = env.base();
            cmd.env_remove("KBAGENT_CONFIG_DIR")
                .env("KBAGENT_PROJECT_FROM_ENV", "1")
                .env("KBC_STORAGE_API_URL", env.emu.url())
                .env("KBC_TOKEN", &token);
            cmd
        })
        .args([
            "--json",
            "project",
            "add",
            "--project",
            "x",
            "--token-stdin",
        ])
        .write_stdin(env.token(1, "admin"))
        .output()
        .unwrap(),
    );
    assert_eq!(add.code, 5, "{}", add.stdout);

    let after = tree(env.home.path());
    assert_eq!(before, after, "a headless session wrote files");
    for r in [&status, &buckets, &info, &add] {
        assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &all_secrets(&env));
    }
}

#[test]
fn a_headless_session_needs_both_variables_and_a_valid_opt_in() {
    let env = TestEnv::new();
    let token = env.token(0, "admin");
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR")
        .env("KBAGENT_PROJECT_FROM_ENV", "true")
        .env("KBC_TOKEN", &token);
    let r = Run::from(cmd.args(["--json", "project", "list"]).output().unwrap());
    assert_eq!(r.code, 5, "{}", r.stdout);
    assert!(r.stdout.contains("KBC_STORAGE_API_URL"), "{}", r.stdout);
    assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &all_secrets(&env));

    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR")
        .env("KBAGENT_PROJECT_FROM_ENV", "1")
        .env("KBC_STORAGE_API_URL", env.emu.url());
    let r = Run::from(cmd.args(["--json", "project", "list"]).output().unwrap());
    assert_eq!(r.code, 5, "{}", r.stdout);
    assert!(r.stdout.contains("KBC_TOKEN"), "{}", r.stdout);

    // Without the opt-in, KBC_TOKEN alone makes no project.
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR")
        .env("KBC_STORAGE_API_URL", env.emu.url())
        .env("KBC_TOKEN", &token);
    let r = Run::from(cmd.args(["--json", "project", "list"]).output().unwrap());
    assert_eq!(r.code, 0);
    assert_eq!(r.envelope().data(), &Value::Array(vec![]));

    // A revoked token fails as usual.
    let bad = headless(
        &env,
        "101-9999-notavalidtokenatall0000000000",
        &["project", "info"],
    );
    assert_eq!(bad.code, 3, "{}", bad.stdout);
}

#[test]
fn context_teaches_the_workflows_in_both_outputs() {
    let env = TestEnv::new();
    let (out, code) = env.json(&["context"]);
    assert_eq!(code, 0);
    let workflows = out.data()["workflows"].as_array().unwrap().clone();
    let ids: Vec<&str> = workflows
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    for id in [
        "find-data",
        "read-table",
        "run-and-debug-job",
        "safe-write",
        "tokens",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let commands: BTreeSet<String> = out.data()["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_owned())
        .collect();
    let human = env.run(&["context"]);
    assert_eq!(human.code, 0);
    for w in &workflows {
        let title = w["title"].as_str().unwrap();
        assert!(human.stdout.contains(&format!("### {title}")), "{title}");
        for s in w["steps"].as_array().unwrap() {
            let command = s["command"].as_str().unwrap();
            assert!(commands.contains(command), "{command} is not a command");
            let example = s["example"].as_str().unwrap();
            assert!(
                example.starts_with(&format!("kbagent --json {command}")),
                "{example}"
            );
            assert!(
                human.stdout.contains(example),
                "{example} not in the manual"
            );
        }
        for c in w["codes"].as_array().unwrap() {
            let line = format!("{} (exit {})", c["code"].as_str().unwrap(), c["exit_code"]);
            assert!(human.stdout.contains(&line), "{line}");
        }
    }
    let job = workflows
        .iter()
        .find(|w| w["id"] == "run-and-debug-job")
        .unwrap();
    let codes: Vec<&str> = job["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"QUEUE_JOB_FAILED"), "{codes:?}");
    assert!(human.stdout.contains("--conversation-id"));
    assert!(human.stdout.contains("KBAGENT_PROJECT_FROM_ENV"));
}
