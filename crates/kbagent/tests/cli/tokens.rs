//! The token authority ladder end to end: the non-master warning, `project refresh`,
//! `config oauth-url` (completed in the emulator's wizard), and `token create/list/delete/refresh`.

use std::time::Duration;

use keboola_emulator::Fault;
use serde_json::{Value, json};

use crate::common::*;

fn fault(v: Value) -> Fault {
    serde_json::from_value(v).unwrap()
}

/// Completes the emulator's OAuth wizard the way its page does: one request with the
/// token carried by the URL.
fn complete_wizard(url: &str) -> Result<Value, (u16, String)> {
    let parsed = url::Url::parse(url).unwrap();
    let q: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let fragment = parsed.fragment().unwrap();
    let mut parts = fragment.trim_start_matches('/').split('/');
    let (component, config) = (parts.next().unwrap(), parts.next().unwrap());
    let base = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap());
    let base = match parsed.port() {
        Some(p) => format!("{base}:{p}"),
        None => base,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{base}/oauth/authorize"))
        .header("X-StorageApi-Token", &q["token"])
        .send_json(json!({"componentId": component, "configId": config, "sapiUrl": q["sapiUrl"]}))
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    if status == 200 {
        Ok(serde_json::from_str(&body).unwrap())
    } else {
        Err((status, body))
    }
}

fn storage_posts(env: &TestEnv) -> usize {
    env.emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/storage/tokens")
        .count()
}

fn with_manage(env: &TestEnv, args: &[&str]) -> (Envelope, i32) {
    let mut all = vec!["--allow-env-manage-token", "--json"];
    all.extend_from_slice(args);
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args(&all)
            .output()
            .unwrap(),
    );
    assert_no_leak(&r.stdout, &[env.emu.manage_token().to_owned()]);
    assert_no_leak(&r.stderr, &[env.emu.manage_token().to_owned()]);
    (r.envelope(), r.code)
}

fn oauth_args<'a>(alias: &'a str, oauth: &'a keboola_emulator::OauthConfig) -> Vec<&'a str> {
    vec![
        "config",
        "oauth-url",
        "--project",
        alias,
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
    ]
}

fn config_authorization(
    env: &TestEnv,
    alias: &str,
    oauth: &keboola_emulator::OauthConfig,
) -> Value {
    let (out, code) = env.json(&[
        "config",
        "detail",
        "--project",
        alias,
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
    ]);
    assert_eq!(code, 0, "{out:?}");
    out.data()["configuration"]["authorization"]["oauth_api"]["id"].clone()
}

#[test]
fn add_warns_about_tokens_that_cannot_mint() {
    let env = TestEnv::new();
    let url = env.emu.url().to_owned();
    for (alias, kind) in [("s", "storage"), ("g", "guest"), ("r", "read_only")] {
        let (out, code) = env.json_stdin(
            &[
                "project",
                "add",
                "--project",
                alias,
                "--url",
                &url,
                "--token-stdin",
            ],
            &env.token(0, kind),
        );
        assert_eq!(code, 0);
        let w = &out.warnings.as_ref().expect("warned")[0];
        assert_eq!(w.code, "NON_MASTER_TOKEN", "{kind}");
        assert!(w.message.contains("config oauth-url"), "{}", w.message);
        let hint = w.hint.as_deref().unwrap();
        assert!(
            hint.contains("project edit") && hint.contains("KBC_MANAGE_API_TOKEN"),
            "{hint}"
        );
        assert_eq!(w.extra["alias"], alias);
        assert_eq!(w.extra["is_master_token"], kind != "storage");
    }
    let (out, _) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "quiet",
            "--url",
            &url,
            "--token-stdin",
            "--no-warn-non-master",
        ],
        &env.token(1, "storage"),
    );
    assert!(out.warnings.is_none());
    // Human mode: the warning goes to stderr, the result to stdout.
    let r = env.run_stdin(
        &[
            "project",
            "add",
            "--project",
            "h",
            "--url",
            &url,
            "--token-stdin",
        ],
        &env.token(1, "guest"),
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("Warning:") && r.stderr.contains("cannot mint"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("Warning"));
}

#[test]
fn oauth_url_with_master_token_works_end_to_end() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let oauth = env.emu.projects()[0].oauth_config.clone();
    assert_eq!(config_authorization(&env, "prod", &oauth), Value::Null);
    let (out, code) = env.json(&oauth_args("prod", &oauth));
    assert_eq!(code, 0, "{out:?}");
    let d = out.data();
    assert_eq!(d["authority"], "storage-master");
    assert_eq!(d["project_alias"], "prod");
    assert_eq!(d["browser_opened"], false);
    let url = d["url"].as_str().unwrap();
    let wizard = format!("{}/oauth/index.html?token=", env.emu.url());
    assert!(url.starts_with(&wizard), "{url}");
    let sapi = url::form_urlencoded::byte_serialize(env.emu.url().as_bytes()).collect::<String>();
    assert!(url.contains(&format!("&sapiUrl={sapi}")), "{url}");
    assert!(url.ends_with(&format!("#/{}/{}", oauth.component_id, oauth.config_id)));
    assert!(d["expires"].is_string());
    // The child token is scoped to the component and expires in an hour.
    let (list, _) = env.json(&["token", "list", "--project", "prod"]);
    let child = list.data()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == d["child_token_id"])
        .unwrap()
        .clone();
    assert_eq!(child["componentAccess"], json!([oauth.component_id]));
    assert_eq!(child["isMasterToken"], false);
    assert!(complete_wizard(url).is_ok());
    assert!(config_authorization(&env, "prod", &oauth).is_string());
    // The URL is printed unwrapped on one line in human mode.
    let r = env.run(
        &oauth_args("prod", &oauth)
            .iter()
            .copied()
            .chain(["--no-open"])
            .collect::<Vec<_>>(),
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 1);
    assert!(r.stdout.starts_with("http") && r.stdout.trim_end().ends_with(&oauth.config_id));
}

#[test]
fn oauth_url_without_any_authority_fails_before_writing() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let tokens_before = env.emu.token_count(env.project_id(0));
    env.emu.clear_requests();
    let (out, code) = env.json(&oauth_args("ui", &oauth));
    assert_eq!(code, 3, "{out:?}");
    let e = out.err();
    assert_eq!(
        (e.code.as_str(), e.error_type.as_str()),
        ("MISSING_MASTER_TOKEN", "authentication")
    );
    assert_eq!(e.project, "ui");
    let hints = e.details.as_ref().unwrap()["hints"].to_string();
    assert!(
        hints.contains("project edit") && hints.contains("KBC_MANAGE_API_TOKEN"),
        "{hints}"
    );
    assert!(
        env.emu.requests().iter().all(|r| r.method == "GET"),
        "no write may happen"
    );
    assert_eq!(env.emu.token_count(env.project_id(0)), tokens_before);
    // The env token is ignored without the opt-in, and the error says so.
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args(["--json"])
            .args(oauth_args("ui", &oauth))
            .output()
            .unwrap(),
    );
    let e = r.envelope();
    assert_eq!(e.err().code, "MISSING_MASTER_TOKEN");
    assert!(
        e.err().details.as_ref().unwrap()["hints"]
            .to_string()
            .contains("ignored")
    );
    assert_eq!(env.emu.token_count(env.project_id(0)), tokens_before);
}

#[test]
fn guest_and_read_only_masters_use_the_manage_api_rung() {
    let env = TestEnv::new();
    env.add("guest", 0, "guest");
    env.add("ro", 1, "read_only");
    for (alias, idx) in [("guest", 0), ("ro", 1)] {
        let oauth = env.emu.projects()[idx].oauth_config.clone();
        let (out, code) = env.json(&oauth_args(alias, &oauth));
        assert_eq!(
            (out.err().code.as_str(), code),
            ("MISSING_MASTER_TOKEN", 3),
            "{alias}"
        );
        let (out, code) = with_manage(&env, &oauth_args(alias, &oauth));
        assert_eq!(code, 0, "{out:?}");
        assert_eq!(out.data()["authority"], "manage-api");
        complete_wizard(out.data()["url"].as_str().unwrap())
            .expect("wizard accepts the child token");
    }
    assert!(
        env.emu.requests().iter().all(|r| r.status != 500),
        "the Storage API's 500 quirk is never reached"
    );
}

#[test]
fn seed_scenario_add_refresh_oauth_without_editing_files() {
    let env = TestEnv::new();
    let oauth = env.emu.projects()[0].oauth_config.clone();
    // 1. An agent adds a token copied from the UI: it works, with a warning.
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "padak",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &env.token(0, "storage"),
    );
    assert_eq!(code, 0);
    assert_eq!(out.warning_codes(), ["NON_MASTER_TOKEN"]);
    // 2. `project refresh` mints a new project token through the Manage API and says what it is.
    let (out, code) = with_manage(&env, &["project", "refresh", "--project", "padak", "--yes"]);
    assert_eq!(code, 0, "{out:?}");
    let row = &out.data()["projects_refreshed"][0];
    assert_eq!(row["action"], "refreshed");
    assert_eq!(
        row["is_master_token"], false,
        "the Manage API never mints master tokens"
    );
    assert_eq!(row["can_manage_tokens"], true);
    assert_eq!(row["child_token_authority"], "manage-api");
    let stored = env.config_json()["projects"]["padak"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(stored, env.token(0, "storage"));
    assert!(
        !env.config_json()
            .to_string()
            .contains(env.emu.manage_token()),
        "manage token never stored"
    );
    // 3. oauth-url mints the child through the Manage API, never through the Storage API.
    let posts_before = storage_posts(&env);
    let (out, code) = with_manage(&env, &oauth_args("padak", &oauth));
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["authority"], "manage-api");
    assert_eq!(
        storage_posts(&env),
        posts_before,
        "a non-master token is never sent to POST /v2/storage/tokens"
    );
    // 4. The wizard accepts the URL and the configuration is authorized.
    complete_wizard(out.data()["url"].as_str().unwrap()).expect("wizard completes");
    assert!(config_authorization(&env, "padak", &oauth).is_string());
    assert!(env.emu.requests().iter().all(|r| r.status != 500));
    let log = serde_json::to_string(&env.emu.requests()).unwrap();
    assert_no_leak(&log, &[env.emu.manage_token().to_owned(), stored]);
}

#[test]
fn refresh_flags_downgrade_protection_and_dry_run() {
    let env = TestEnv::new();
    env.add("admin", 0, "admin");
    env.add("ui", 1, "storage");
    // No Manage token: a clear usage error, with a hint when the env var is set but ignored.
    let (out, code) = env.json(&["project", "refresh", "--project", "ui"]);
    assert_eq!((out.err().code.as_str(), code), ("USAGE_ERROR", 2));
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args(["--json", "project", "refresh", "--project", "ui"])
            .output()
            .unwrap(),
    );
    let e = r.envelope();
    assert_eq!((e.err().code.as_str(), r.code), ("USAGE_ERROR", 2));
    assert!(e.err().details.as_ref().unwrap()["env_manage_token_ignored"] == true);
    let (out, code) = env.json(&["project", "refresh"]);
    assert_eq!((out.err().code.as_str(), code), ("USAGE_ERROR", 2));

    // --no-master: a regular token without canManageTokens.
    let (out, code) = with_manage(
        &env,
        &[
            "project",
            "refresh",
            "--project",
            "ui",
            "--no-master",
            "--token-expires-in",
            "7200",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out:?}");
    let row = &out.data()["projects_refreshed"][0];
    assert_eq!(row["can_manage_tokens"], false);
    assert!(row["expires"].is_string());

    // A working master token is not replaced by a weaker one without an explicit yes.
    let before = env.config_bytes().unwrap();
    let (out, code) = with_manage(&env, &["project", "refresh", "--project", "admin"]);
    assert_eq!(code, 1, "{out:?}");
    assert_eq!(out.status, "ok");
    assert_eq!(
        out.data()["projects_failed"][0]["error_code"],
        "MASTER_TOKEN_KEPT"
    );
    assert_eq!(env.config_bytes().unwrap(), before);
    let (out, code) = with_manage(
        &env,
        &[
            "project",
            "refresh",
            "--project",
            "admin",
            "--replace-master",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        out.data()["projects_refreshed"][0]["is_master_token"],
        false
    );

    // --all refreshes only invalid tokens unless --force; --dry-run mints nothing.
    let (out, code) = env.json(&["token", "list", "--project", "ui"]);
    assert_eq!(code, 0, "{out:?}");
    let count = env.emu.token_count(env.project_id(1));
    let (out, code) = env.json(&["project", "refresh", "--all", "--dry-run"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["projects_refreshed"], json!([]));
    assert_eq!(out.data()["projects_valid"].as_array().unwrap().len(), 2);
    let (out, _) = env.json(&["project", "refresh", "--all", "--force", "--dry-run"]);
    assert_eq!(
        out.data()["projects_refreshed"].as_array().unwrap().len(),
        2
    );
    assert!(
        out.data()["projects_refreshed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "would_refresh" && r["token"] == "***")
    );
    assert_eq!(env.emu.token_count(env.project_id(1)), count);
}

#[test]
fn refresh_all_replaces_expired_tokens_only() {
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    env.add("b", 1, "storage");
    // Give 'b' a token that expires in a minute, then let it expire.
    let (out, code) = with_manage(
        &env,
        &[
            "project",
            "refresh",
            "--project",
            "b",
            "--token-expires-in",
            "60",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out:?}");
    env.emu.advance_clock(Duration::from_secs(120));
    let (out, code) = env.json(&["project", "status"]);
    assert_eq!(code, 0);
    let rows = out.data().as_array().unwrap();
    assert_eq!(
        rows.iter().find(|r| r["alias"] == "b").unwrap()["error_code"],
        "INVALID_TOKEN"
    );
    let (out, code) = with_manage(&env, &["project", "refresh", "--all", "--yes"]);
    assert_eq!(code, 0, "{out:?}");
    let refreshed: Vec<&str> = out.data()["projects_refreshed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alias"].as_str().unwrap())
        .collect();
    assert_eq!(refreshed, ["b"]);
    assert_eq!(out.data()["projects_valid"][0]["alias"], "a");
    let (out, _) = env.json(&["project", "status"]);
    assert!(
        out.data()
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "ok")
    );
}

#[test]
fn token_create_follows_the_ladder_and_reveals_the_secret_once() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");
    env.add("ui", 1, "storage");
    let args = [
        "token",
        "create",
        "--description",
        "ci",
        "--expires-in",
        "600",
        "--component-access",
        "keboola.ex-db-snowflake",
        "--bucket-read",
        "in.c-crm",
    ];
    let mut m = args.to_vec();
    m.extend(["--project", "m"]);
    let (out, code) = env.json(&m);
    assert_eq!(code, 0, "{out:?}");
    let d = out.data();
    assert_eq!(d["authority"], "storage-master");
    assert_eq!(d["isMasterToken"], false);
    assert_eq!(d["componentAccess"], json!(["keboola.ex-db-snowflake"]));
    assert_eq!(d["bucketPermissions"]["in.c-crm"], "read");
    let secret = d["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(&format!("{}-", env.project_id(0))));
    // The secret is in the result, and nowhere in the emulator's log.
    assert_no_leak(
        &serde_json::to_string(&env.emu.requests()).unwrap(),
        &[secret],
    );

    let mut ui = args.to_vec();
    ui.extend(["--project", "ui"]);
    let posts = storage_posts(&env);
    let (out, code) = env.json(&ui);
    assert_eq!((out.err().code.as_str(), code), ("MISSING_MASTER_TOKEN", 3));
    let (out, code) = with_manage(&env, &ui);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["authority"], "manage-api");
    assert_eq!(out.data()["canManageTokens"], false);
    assert_eq!(storage_posts(&env), posts);
}

#[test]
fn minting_posts_are_never_retried() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");
    env.emu.add_fault(fault(
        json!({"method": "POST", "path": "/v2/storage/tokens", "status": 503, "retry_after": 0}),
    ));
    env.emu.clear_requests();
    let (out, code) = env.json(&["token", "create", "--project", "m", "--description", "x"]);
    assert_eq!(code, 1, "{out:?}");
    assert_eq!(out.err().code, "API_ERROR");
    assert_eq!(storage_posts(&env), 1);
    env.emu.clear_faults();
    env.emu.add_fault(fault(
        json!({"method": "POST", "path": "/v2/storage/tokens", "drop_connection": true}),
    ));
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = env.json(&oauth_args("m", &oauth));
    assert_eq!(code, 4, "{out:?}");
    assert_eq!(storage_posts(&env), 2);
    // GETs are retried: one 503 on verify is absorbed.
    env.emu.clear_faults();
    env.emu.add_fault(fault(
        json!({"method": "GET", "path": "/v2/storage/tokens/verify", "status": 503, "times": 1}),
    ));
    let (out, code) = env.json(&["project", "info", "--project", "m"]);
    assert_eq!(code, 0, "{out:?}");
}

#[test]
fn token_list_delete_and_refresh() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");
    let (out, code) = env.json(&["token", "list", "--project", "m"]);
    assert_eq!(code, 0);
    let text = out.data().to_string();
    assert_no_leak(&text, &all_secrets(&env));
    assert!(
        out.data()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none())
    );
    assert_eq!(
        out.data()["count"].as_u64().unwrap() as usize,
        out.data()["tokens"].as_array().unwrap().len()
    );
    let tokens = out.data()["tokens"].as_array().unwrap().clone();
    let guest_master = tokens
        .iter()
        .find(|t| t["isMasterToken"] == true && t["admin"]["role"] == "guest")
        .unwrap();
    let ui = tokens.iter().find(|t| t["isMasterToken"] == false).unwrap();

    // Master tokens and the stored token are refused with a clear message.
    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "m",
        "--token-id",
        guest_master["id"].as_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(code, 2, "{out:?}");
    assert!(out.err().message.contains("master token"));
    let own = env.token(0, "admin").split('-').nth(1).unwrap().to_owned();
    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "m",
        "--token-id",
        &own,
        "--yes",
    ]);
    assert_eq!(code, 2, "{out:?}");
    let (out, code) = env.json(&["token", "delete", "--project", "m", "--token-id", "abc"]);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "m",
        "--token-id",
        "999999",
        "--yes",
    ]);
    assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1));

    // Rotating another token reveals its new secret; the old one stops working.
    let (out, code) = env.json(&[
        "token",
        "refresh",
        "--project",
        "m",
        "--token-id",
        ui["id"].as_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(code, 0, "{out:?}");
    let new_secret = out.data()["token"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, env.token(0, "storage"));
    assert_eq!(out.data()["stored_token_updated"], false);
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "old",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &env.token(0, "storage"),
    );
    assert_eq!((out.err().code.as_str(), code), ("INVALID_TOKEN", 3));

    // Deleting it works and the token is gone.
    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "m",
        "--token-id",
        ui["id"].as_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["status"], "deleted");
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "new",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &new_secret,
    );
    assert_eq!((out.err().code.as_str(), code), ("INVALID_TOKEN", 3));
}

#[test]
fn rotating_the_stored_token_keeps_the_alias_working() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    let own = env
        .token(0, "storage")
        .split('-')
        .nth(1)
        .unwrap()
        .to_owned();
    let (out, code) = env.json(&[
        "token",
        "refresh",
        "--project",
        "ui",
        "--token-id",
        &own,
        "--yes",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["stored_token_updated"], true);
    assert_eq!(
        env.config_json()["projects"]["ui"]["token"],
        out.data()["token"]
    );
    let (out, code) = env.json(&["project", "info", "--project", "ui"]);
    assert_eq!(code, 0, "{out:?}");
}

#[test]
fn expired_stored_token_is_an_auth_error() {
    let env = TestEnv::new();
    env.add("b", 0, "storage");
    with_manage(
        &env,
        &[
            "project",
            "refresh",
            "--project",
            "b",
            "--token-expires-in",
            "30",
            "--yes",
        ],
    );
    env.emu.advance_clock(Duration::from_secs(45));
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = with_manage(&env, &oauth_args("b", &oauth));
    assert_eq!((out.err().code.as_str(), code), ("INVALID_TOKEN", 3));
    assert_eq!(
        out.err().details.as_ref().unwrap()["api_error_code"],
        "storage.tokenExpired"
    );
}
