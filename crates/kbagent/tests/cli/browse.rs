//! Looking around: `project status/info`, `config list/detail`, `doctor`, `context`,
//! `completions`, `version`, with partial failures injected through the emulator.

use std::time::Duration;

use keboola_emulator::{EmulatorOptions, Fault};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::*;

fn fault(v: Value) -> Fault {
    serde_json::from_value(v).unwrap()
}

#[derive(Debug, Deserialize)]
struct StatusRow {
    alias: String,
    status: String,
    response_time_ms: u64,
    #[serde(default)]
    project_id: Option<u64>,
    #[serde(default)]
    is_master_token: Option<bool>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
    token: String,
}

/// Four projects: a healthy one, one whose API answers 500, one that times out, and one with
/// an expired token.
fn troubled() -> TestEnv {
    let env = TestEnv::with(EmulatorOptions {
        projects: 4,
        ..EmulatorOptions::default()
    });
    for (i, alias) in ["ok", "broken", "slow", "expired"].iter().enumerate() {
        env.add(alias, i, "admin");
    }
    // 'expired': a token that expires in 10 s, then the clock moves past it.
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args([
                "--allow-env-manage-token",
                "--json",
                "project",
                "refresh",
                "--project",
                "expired",
                "--replace-master",
                "--token-expires-in",
                "10",
                "--yes",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    env.emu.advance_clock(Duration::from_secs(20));
    env.emu.add_fault(fault(
        json!({"path": "/v2/storage/**", "project_id": env.project_id(1), "status": 500}),
    ));
    env.emu.add_fault(fault(
        json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "latency_ms": 1500}),
    ));
    env
}

fn run_fast(env: &TestEnv, args: &[&str]) -> Run {
    Run::from(
        env.cmd()
            .env("KBAGENT_HTTP_TIMEOUT_MS", "300")
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn status_reports_every_project_even_when_some_fail() {
    let env = troubled();
    let r = run_fast(&env, &["--json", "project", "status"]);
    assert_eq!(
        r.code, 0,
        "reads exit 0 with per-project errors: {}",
        r.stdout
    );
    let rows: Vec<StatusRow> = serde_json::from_value(r.envelope().data().clone()).unwrap();
    let by = |a: &str| rows.iter().find(|r| r.alias == a).unwrap();
    assert_eq!(rows.len(), 4);
    let ok = by("ok");
    assert_eq!(
        (ok.status.as_str(), ok.project_id, ok.is_master_token),
        ("ok", Some(env.project_id(0)), Some(true))
    );
    assert!(ok.token.contains("-..."));
    let broken = by("broken");
    assert_eq!(
        (broken.status.as_str(), broken.error_code.as_deref()),
        ("error", Some("RETRY_EXHAUSTED"))
    );
    assert_eq!(broken.retryable, Some(true));
    assert_eq!(by("slow").error_code.as_deref(), Some("TIMEOUT"));
    assert!(by("slow").response_time_ms >= 300);
    assert_eq!(by("expired").error_code.as_deref(), Some("INVALID_TOKEN"));
    // Stable order: as registered (sorted by alias).
    let aliases: Vec<&str> = rows.iter().map(|r| r.alias.as_str()).collect();
    assert_eq!(aliases, ["broken", "expired", "ok", "slow"]);
    // A subset, and an unknown alias as a config error.
    let r = run_fast(&env, &["--json", "project", "status", "--project", "ok"]);
    assert_eq!(r.envelope().data().as_array().unwrap().len(), 1);
    let r = run_fast(&env, &["--json", "project", "status", "--project", "nope"]);
    assert_eq!(
        (r.envelope().err().code.as_str(), r.code),
        ("CONFIG_ERROR", 5)
    );
}

#[test]
fn config_list_fans_out_and_keeps_going() {
    let env = troubled();
    let r = run_fast(&env, &["--json", "config", "list"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let out = r.envelope();
    let configs = out.data()["configs"].as_array().unwrap();
    let errors = out.data()["errors"].as_array().unwrap();
    let failed: Vec<&str> = errors
        .iter()
        .map(|e| e["project_alias"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["broken", "expired", "slow"]);
    assert!(configs.iter().all(|c| c["project_alias"] == "ok"));
    assert!(
        configs
            .iter()
            .any(|c| c["component_id"] == "keboola.ex-google-drive")
    );
    for c in configs {
        for key in [
            "component_name",
            "component_type",
            "config_id",
            "config_name",
        ] {
            assert!(c[key].is_string(), "{key} in {c}");
        }
    }
    assert_eq!(out.warning_codes().len(), 3);
    // Filters.
    let (out, _) = env.json(&[
        "config",
        "list",
        "--project",
        "ok",
        "--component-type",
        "extractor",
    ]);
    let types: Vec<&str> = out.data()["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component_type"].as_str().unwrap())
        .collect();
    assert!(
        !types.is_empty() && types.iter().all(|t| *t == "extractor"),
        "{types:?}"
    );
    let (out, _) = env.json(&[
        "config",
        "list",
        "--project",
        "ok",
        "--component-id",
        "keboola.ex-google-drive",
    ]);
    assert!(
        out.data()["configs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["component_id"] == "keboola.ex-google-drive")
    );
}

#[test]
fn config_detail_and_branches() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = env.json(&[
        "config",
        "detail",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["id"], json!(oauth.config_id));
    assert_eq!(out.data()["project_alias"], "p");
    assert!(out.data()["configuration"].is_object());
    let (out, code) = env.json(&[
        "config",
        "detail",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        "424242",
    ]);
    assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1));
    assert!(out.err().message.contains("424242"));
    // Secrets are shown as stored: encrypted.
    let (list, _) = env.json(&[
        "config",
        "list",
        "--component-id",
        "keboola.ex-db-snowflake",
    ]);
    let id = list.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (out, _) = env.json(&[
        "config",
        "detail",
        "--component-id",
        "keboola.ex-db-snowflake",
        "--config-id",
        &id,
    ]);
    let text = out.data().to_string();
    assert!(text.contains("KBC::ProjectSecure::"), "{text}");
    // A development branch.
    let (list, code) = env.json(&["config", "list", "--branch", "424242"]);
    assert_eq!(code, 0);
    assert_eq!(list.data()["errors"][0]["error_code"], "NOT_FOUND");
    let (out, code) = env.json(&[
        "config",
        "detail",
        "--component-id",
        "x y",
        "--config-id",
        "1",
    ]);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
}

#[test]
fn info_reports_the_authority_that_would_mint() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");
    env.add("ui", 1, "storage");
    let (out, code) = env.json(&["project", "info", "--project", "m"]);
    assert_eq!(code, 0);
    let d = out.data();
    assert_eq!(d["is_master_token"], true);
    assert_eq!(d["child_token_authority"], "storage-master");
    assert_eq!(d["project_id"], json!(env.project_id(0)));
    assert!(d["default_backend"].is_string());
    assert!(d["features"].is_array());
    let (out, _) = env.json(&["project", "info", "--project", "ui"]);
    assert_eq!(out.data()["child_token_minting"], "not-master");
    assert_eq!(out.data()["child_token_authority"], Value::Null);
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args([
                "--allow-env-manage-token",
                "--json",
                "project",
                "info",
                "--project",
                "ui",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.envelope().data()["child_token_authority"], "manage-api");
}

#[test]
fn doctor_checks_config_and_projects() {
    let env = troubled();
    let r = run_fast(&env, &["--json", "doctor"]);
    assert_eq!(r.code, 0);
    let out = r.envelope();
    let checks = out.data()["checks"].as_array().unwrap();
    let status_of = |check: &str, alias: Option<&str>| {
        checks
            .iter()
            .find(|c| c["check"] == check && alias.is_none_or(|a| c["alias"] == a))
            .map(|c| c["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of("config_file", None).as_deref(), Some("pass"));
    assert_eq!(status_of("config_valid", None).as_deref(), Some("pass"));
    assert_eq!(
        status_of("connectivity", Some("ok")).as_deref(),
        Some("pass")
    );
    assert_eq!(
        status_of("connectivity", Some("broken")).as_deref(),
        Some("fail")
    );
    assert_eq!(
        status_of("token_minting", Some("ok")).as_deref(),
        Some("pass")
    );
    let summary = &out.data()["summary"];
    assert_eq!(summary["failed"], 3);
    assert_eq!(summary["healthy"], false);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let r = run_fast(&env, &["--json", "doctor"]);
        let out = r.envelope();
        let perm = out.data()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "config_file")
            .unwrap()
            .clone();
        assert_eq!(perm["status"], "fail");
        // The next write restores 0600.
        env.json(&["project", "use", "ok"]);
        assert_eq!(mode(&env.config_path()), 0o600);
    }
    // An unusable config is the one thing doctor fails on.
    env.write_config("{broken");
    let (out, code) = env.json(&["doctor"]);
    assert_eq!((out.err().code.as_str(), code), ("CONFIG_ERROR", 5));
}

#[test]
fn context_mentions_every_command_and_the_ladder() {
    let env = TestEnv::new();
    let (out, code) = env.json(&["context"]);
    assert_eq!(code, 0);
    let text = out.data()["context"].as_str().unwrap();
    // Every leaf command, walked from `--help` output (not from the library), appears.
    let mut leaves = Vec::new();
    for top in commands_of(&env.run(&["--help"]).stdout) {
        let subs = commands_of(&env.run(&[&top, "--help"]).stdout);
        if subs.is_empty() {
            leaves.push(top.clone());
        }
        for sub in subs {
            leaves.push(format!("{top} {sub}"));
        }
    }
    assert!(leaves.len() >= 20, "{leaves:?}");
    for leaf in &leaves {
        assert!(
            text.contains(&format!("kbagent {leaf}")),
            "context does not mention `kbagent {leaf}`"
        );
    }
    for must in [
        "MISSING_MASTER_TOKEN",
        "storage-master",
        "manage-api",
        "--allow-env-manage-token",
        "Never",
    ] {
        assert!(text.contains(must), "{must}");
    }
    let listed: Vec<&str> = out.data()["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), leaves.len());
}

#[test]
fn completions_and_version() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = env.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(
            // The script asks kbagent itself, so it names the binary and the request variable.
            r.stdout.contains("kbagent") && r.stdout.contains("KBAGENT_COMPLETE"),
            "{shell}"
        );
    }
    let r = env.run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
    let (out, _) = env.json(&["version"]);
    assert_eq!(out.data()["version"], env!("CARGO_PKG_VERSION"));
    let r = env.run(&["--version"]);
    assert_eq!(
        r.stdout.trim(),
        format!("kbagent {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn parallelism_is_configurable() {
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    let r = Run::from(
        env.cmd()
            .env("KBAGENT_MAX_PARALLEL_WORKERS", "0")
            .args(["--json", "project", "status"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        (r.envelope().err().code.as_str(), r.code),
        ("CONFIG_ERROR", 5)
    );
    let r = env.run(&["--json", "--parallel", "0", "project", "status"]);
    assert_eq!(r.code, 2);
    let (out, code) = env.json(&["--parallel", "3", "project", "status"]);
    assert_eq!(code, 0, "{out:?}");
}
