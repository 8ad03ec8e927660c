//! Projects, Manage tokens and OAuth under scrutiny: where the Manage API token may go, a
//! refresh racing an edit, what the replaced token and a token's minting power are called,
//! what the browser inherits, and which OAuth wizard URLs are accepted.

use std::path::Path;
use std::time::{Duration, Instant};

use keboola_emulator::{EmulatorOptions, Fault};
use serde_json::Value;

use crate::common::{Envelope, Run, TestEnv, all_secrets, assert_no_leak};

/// `kbagent --json --allow-env-manage-token <args>` with the emulator's Manage token.
fn with_manage(env: &TestEnv, manage: &str, args: &[&str]) -> (Envelope, i32) {
    let mut all = vec!["--allow-env-manage-token", "--json"];
    all.extend_from_slice(args);
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", manage)
            .args(&all)
            .output()
            .unwrap(),
    );
    assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &[manage.to_owned()]);
    (r.envelope(), r.code)
}

/// Registers a project of any stack (emulator) under `alias`.
fn add_at(env: &TestEnv, alias: &str, url: &str, token: &str) {
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            alias,
            "--url",
            url,
            "--token-stdin",
            "--no-warn-non-master",
        ],
        token,
    );
    assert_eq!(code, 0, "{out:?}");
}

/// Runs kbagent in a pseudo-terminal (util-linux `script`): what a person at a terminal sees
/// (prompts, notes, a browser being opened), stdout and stderr together. A hidden prompt
/// (`(input hidden)`) is answered with `answer`; the run is killed after 60 s.
fn in_terminal(env: &TestEnv, vars: &[(&str, &str)], args: &[&str], answer: &str) -> String {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_kbagent"));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    // The same hermetic environment as `TestEnv::base`, handed to `script`.
    let base = env.base();
    let mut script = std::process::Command::new("script");
    script.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    script.envs(vars.iter().copied());
    let mut child = script
        .args(["-qec", &line, "/dev/null"])
        .current_dir(env.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script` runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut screen = Vec::new();
    let mut answered = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(bytes) => screen.extend(bytes),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if !answered && String::from_utf8_lossy(&screen).contains("(input hidden)") {
            let _ = stdin.write_all(format!("{answer}\n").as_bytes());
            let _ = stdin.flush();
            answered = true;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after 60 s: {}",
                String::from_utf8_lossy(&screen)
            );
        }
    }
    drop(stdin);
    let _ = child.wait();
    String::from_utf8_lossy(&screen).into_owned()
}

/// The status of `GET /v2/storage/tokens/verify` with `token`: 200 while it works.
fn verify_status(url: &str, token: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(format!("{url}/v2/storage/tokens/verify"))
        .header("X-StorageApi-Token", token)
        .call()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn the_manage_token_is_sent_only_to_its_own_stack() {
    let env = TestEnv::new();
    let other = TestEnv::with(EmulatorOptions::default());
    // Aliases sort so that the project on the Manage token's stack comes first.
    add_at(&env, "a-home", env.emu.url(), &env.token(0, "storage"));
    add_at(&env, "b-other", other.emu.url(), &other.token(0, "storage"));
    add_at(&env, "c-home", env.emu.url(), &env.token(1, "storage"));
    other.emu.clear_requests();

    let (out, code) = with_manage(
        &env,
        env.emu.manage_token(),
        &["project", "refresh", "--all", "--force", "--yes"],
    );
    assert_eq!(code, 1, "{out:?}");
    let d = out.data();
    let refreshed: Vec<&str> = d["projects_refreshed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alias"].as_str().unwrap())
        .collect();
    assert_eq!(refreshed, ["a-home", "c-home"]);
    let failed = &d["projects_failed"][0];
    assert_eq!(failed["alias"], "b-other");
    assert_eq!(failed["error_code"], "MANAGE_TOKEN_OTHER_STACK");
    assert!(
        failed["hint"].as_str().unwrap().contains("--url"),
        "{failed}"
    );
    assert_eq!(d["manage_token_stack"], env.emu.url());
    let manage_calls: Vec<_> = other
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/manage"))
        .collect();
    assert!(manage_calls.is_empty(), "{manage_calls:?}");

    // Naming the other stack uses the token for that stack's projects only.
    env.emu.clear_requests();
    let (out, code) = with_manage(
        &env,
        other.emu.manage_token(),
        &[
            "project",
            "refresh",
            "--all",
            "--force",
            "--yes",
            "--url",
            other.emu.url(),
        ],
    );
    assert_eq!(code, 1, "{out:?}");
    let d = out.data();
    assert_eq!(d["projects_refreshed"][0]["alias"], "b-other");
    assert_eq!(d["projects_failed"].as_array().unwrap().len(), 2);
    let manage_calls: Vec<_> = env
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/manage"))
        .collect();
    assert!(manage_calls.is_empty(), "{manage_calls:?}");
}

#[test]
fn a_refresh_does_not_undo_an_edit_made_while_it_minted() {
    let env = TestEnv::new();
    env.add("p", 0, "storage");
    let pid = env.project_id(0);
    let tokens_before = env.emu.token_count(pid);
    // The mint is held back long enough for an edit to land between read and write; the
    // test waits for the refresh to reach it (its Manage verify is logged) before editing.
    env.emu.add_fault(Fault {
        method: Some("POST".into()),
        path: "/manage/projects/*/tokens".into(),
        latency_ms: Some(8000),
        times: Some(1),
        ..Fault::default()
    });
    env.emu.clear_requests();
    let refresh = env
        .base()
        .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
        .env("KBAGENT_HTTP_TIMEOUT_MS", "30000")
        .args([
            "--allow-env-manage-token",
            "--json",
            "project",
            "refresh",
            "--project",
            "p",
            "--yes",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !env
        .emu
        .requests()
        .iter()
        .any(|r| r.path == "/manage/tokens/verify")
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "refresh never got to mint"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let guest = env.token(0, "guest");
    let (edit, code) = env.json_stdin(
        &["project", "edit", "--project", "p", "--token-stdin"],
        &guest,
    );
    assert_eq!(code, 0, "{edit:?}");
    let r = Run::from(refresh.wait_with_output().unwrap());
    let out = r.envelope();
    assert_eq!(r.code, 1, "{out:?}");
    let failed = &out.data()["projects_failed"][0];
    assert_eq!(failed["error_code"], "TOKEN_CHANGED", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("deleted again"),
        "{failed}"
    );
    assert_eq!(out.data()["projects_refreshed"], serde_json::json!([]));
    assert_eq!(env.config_json()["projects"]["p"]["token"], guest.as_str());
    assert_eq!(
        env.emu.token_count(pid),
        tokens_before,
        "the minted token is left over"
    );
    assert_no_leak(&r.stdout, &all_secrets(&env));
}

#[test]
fn refresh_says_the_old_token_still_works_and_revoke_old_deletes_it() {
    let env = TestEnv::new();
    env.add("p", 0, "storage");
    let first = env.token(0, "storage");
    let (out, code) = with_manage(
        &env,
        env.emu.manage_token(),
        &["project", "refresh", "--project", "p", "--yes"],
    );
    assert_eq!(code, 0, "{out:?}");
    let row = &out.data()["projects_refreshed"][0];
    assert_eq!(row["old_token"], "still_valid", "{row}");
    assert!(row["old_token_id"].is_string(), "{row}");
    assert_eq!(verify_status(env.emu.url(), &first), 200);

    let second = env.config_json()["projects"]["p"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (out, code) = with_manage(
        &env,
        env.emu.manage_token(),
        &[
            "project",
            "refresh",
            "--project",
            "p",
            "--yes",
            "--revoke-old",
        ],
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["projects_refreshed"][0]["old_token"], "revoked");
    assert_eq!(verify_status(env.emu.url(), &second), 401);
    let third = env.config_json()["projects"]["p"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify_status(env.emu.url(), &third), 200);

    // People are told too, and the flag raises the command's class.
    let r = Run::from(
        env.cmd()
            .env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
            .args([
                "--allow-env-manage-token",
                "project",
                "refresh",
                "--project",
                "p",
                "--yes",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("still works until it expires"),
        "{}",
        r.stdout
    );
    let (ctx, _) = env.json(&["context"]);
    let entry = ctx.data()["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["command"] == "project refresh")
        .unwrap()
        .clone();
    let revoke = entry["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["flag"] == "--revoke-old")
        .unwrap_or_else(|| panic!("{entry}"));
    assert_eq!(revoke["class"], "destructive");
}

#[test]
fn project_add_says_where_a_typed_token_goes() {
    let env = TestEnv::new();
    let help = env.run(&["project", "add", "--help"]);
    assert!(
        help.stdout.contains("the token is sent to"),
        "{}",
        help.stdout
    );
    let screen = in_terminal(
        &env,
        &[("KBC_STORAGE_API_URL", env.emu.url())],
        &["project", "add", "--project", "p"],
        "not-a-token",
    );
    assert!(
        screen.contains(&format!("The token will be sent to {}", env.emu.url())),
        "{screen}"
    );
    assert!(screen.contains("KBC_STORAGE_API_URL"), "{screen}");
}

#[test]
fn minting_power_is_reported_without_contradiction() {
    let env = TestEnv::new();
    env.add("admin", 0, "admin");
    env.add("guest", 0, "guest");
    env.add("ro", 0, "read_only");
    env.add("ui", 0, "storage");
    env.add("refreshed", 1, "storage");
    let (out, code) = with_manage(
        &env,
        env.emu.manage_token(),
        &["project", "refresh", "--project", "refreshed", "--yes"],
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        out.data()["projects_refreshed"][0]["can_manage_tokens"],
        true
    );

    let (status, _) = env.json(&["project", "status"]);
    let power: Vec<(String, String)> = status
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["alias"].as_str().unwrap().to_owned(),
                r["child_token_minting"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        ("admin", "full"),
        ("guest", "stripped-children"),
        ("refreshed", "not-master"),
        ("ro", "refused"),
        ("ui", "not-master"),
    ];
    for (alias, p) in expect {
        assert!(
            power.contains(&(alias.to_owned(), p.to_owned())),
            "{power:?}"
        );
    }
    let human = env.run(&["project", "status"]).stdout;
    let row = |alias: &str| {
        human
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{alias} ")))
            .unwrap_or_else(|| panic!("{human}"))
            .to_owned()
    };
    assert!(human.contains("MINTS TOKENS"), "{human}");
    assert!(row("admin").contains(" yes "), "{human}");
    assert!(row("guest").contains("no (guest)"), "{human}");
    assert!(row("ro").contains("no (read-only)"), "{human}");
    assert!(row("ui").contains("no (not master)"), "{human}");
    for alias in ["guest", "ro", "ui", "refreshed"] {
        assert!(!row(alias).contains("yes"), "{human}");
    }

    // A non-master token with canManageTokens: info does not call it able to manage tokens
    // and then say it cannot mint.
    let info = env
        .run(&["project", "info", "--project", "refreshed"])
        .stdout;
    let line = |key: &str| {
        info.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{info}"))
            .to_owned()
    };
    assert!(
        line("Mints child tokens").ends_with("no (not master)"),
        "{info}"
    );
    assert!(!info.contains("Can manage tokens"), "{info}");
    assert!(
        line("canManageTokens flag").contains("mints nothing"),
        "{info}"
    );
    let (json, _) = env.json(&["project", "info", "--project", "refreshed"]);
    assert_eq!(json.data()["privileges"]["canManageTokens"], true);
    assert_eq!(json.data()["child_token_minting"], "not-master");
}

#[test]
fn the_manage_token_prompt_and_hint_say_why_and_where_to_get_one() {
    let env = TestEnv::new();
    env.add("p", 0, "storage");
    let screen = in_terminal(
        &env,
        &[],
        &["project", "refresh", "--project", "p", "--yes"],
        "not-a-token",
    );
    assert!(
        screen.contains("A Manage API token is needed to mint 1 new project token(s)"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("It is sent only to {}", env.emu.url())),
        "{screen}"
    );
    assert!(screen.contains("Personal access tokens"), "{screen}");
    assert!(
        screen.contains(&format!("Manage API token for {}", env.emu.url())),
        "{screen}"
    );

    let (out, code) = env.json(&["token", "create", "--project", "p", "--description", "x"]);
    assert_eq!(code, 3, "{out:?}");
    let e = out.err();
    assert_eq!(e.code, "MISSING_MASTER_TOKEN");
    let hints = e.details.as_ref().unwrap()["hints"].to_string();
    assert!(hints.contains("Personal access tokens"), "{hints}");
    let (out, _) = env.json(&["project", "refresh", "--project", "p", "--yes"]);
    let hints = out.err().details.as_ref().unwrap()["hints"].to_string();
    assert!(hints.contains("Personal access tokens"), "{hints}");
}

#[test]
fn missing_master_token_says_what_was_asked_for() {
    let env = TestEnv::new();
    env.add("p", 0, "storage");
    let (out, code) = env.json(&["token", "create", "--project", "p", "--description", "x"]);
    assert_eq!(code, 3);
    let msg = &out.err().message;
    assert!(!msg.contains("short-lived"), "{msg}");
    assert!(msg.contains("a child token that never expires"), "{msg}");
    let (out, _) = env.json(&[
        "token",
        "create",
        "--project",
        "p",
        "--description",
        "x",
        "--expires-in",
        "600",
    ]);
    assert!(out.err().message.contains("expires in 600 s"), "{out:?}");
}

#[test]
fn a_token_in_kbagent_project_is_never_echoed() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let token = env.token(0, "admin");
    let secrets = all_secrets(&env);
    let run = |args: &[&str]| {
        Run::from(
            env.cmd()
                .env("KBAGENT_PROJECT", &token)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    for args in [
        &["project", "current"][..],
        &["--json", "project", "current"],
        &["project", "info"],
        &["--json", "project", "info"],
        &["project", "use", "p"],
        &["--json", "project", "use", "p"],
        &["project", "info", "--project", &token],
    ] {
        let r = run(args);
        assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &secrets);
        if args.contains(&"info") && !args.contains(&"--project") {
            assert_eq!(r.code, 5, "{args:?}: {}{}", r.stdout, r.stderr);
            assert!(
                format!("{}{}", r.stdout, r.stderr).contains("looks like an API token"),
                "{}",
                r.stderr
            );
        }
    }
    let (out, _) = {
        let r = run(&["--json", "project", "use", "p"]);
        (r.envelope(), r.code)
    };
    let shown = out.data()["env_override"].as_str().unwrap().to_owned();
    assert!(shown.contains("..."), "{shown}");
}

/// A `$BROWSER` that writes its environment to `dump` (through a temporary file, so the test
/// never reads half of it). It ignores the hangup of the terminal session ending, so a
/// browser started in kbagent's own process group still gets to write.
fn dumping_browser(dir: &Path, dump: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntrap '' HUP\nenv > '{0}.tmp'\nmv '{0}.tmp' '{0}'\n",
            dump.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn the_browser_gets_no_secret_variables() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let dump = env.home.path().join("browser-env.txt");
    let browser = dumping_browser(env.home.path(), &dump);
    let manage = env.emu.manage_token().to_owned();
    let kbc = env.token(1, "admin");
    let screen = in_terminal(
        &env,
        &[
            ("BROWSER", browser.to_str().unwrap()),
            ("KBC_MANAGE_API_TOKEN", &manage),
            ("KBC_TOKEN", &kbc),
            ("KBC_STORAGE_TOKEN", "s3cr3t-storage-value"),
            ("MY_SERVICE_SECRET", "s3cr3t-service-value"),
            ("DB_PASSWORD", "s3cr3t-password-value"),
            ("KEEP_ME", "visible"),
        ],
        &[
            "config",
            "oauth-url",
            "--project",
            "p",
            "--component-id",
            &oauth.component_id,
            "--config-id",
            &oauth.config_id,
        ],
        "",
    );
    let start = Instant::now();
    while !dump.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the browser never ran: {screen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = std::fs::read_to_string(&dump).unwrap();
    assert!(seen.contains("KEEP_ME=visible"), "{seen}");
    assert!(seen.contains("HOME="), "{seen}");
    for name in [
        "KBC_MANAGE_API_TOKEN",
        "KBC_TOKEN",
        "KBC_STORAGE_TOKEN",
        "MY_SERVICE_SECRET",
        "DB_PASSWORD",
    ] {
        assert!(
            !seen.contains(&format!("{name}=")),
            "{name} reached the browser"
        );
    }
    assert_no_leak(&seen, &[manage, kbc]);
    assert!(!seen.contains("s3cr3t"), "{seen}");
}

#[test]
fn the_oauth_wizard_url_must_be_https_or_loopback_and_carry_no_password() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let pid = env.project_id(0);
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let args = [
        "--json",
        "config",
        "oauth-url",
        "--project",
        "p",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
        "--no-open",
    ];
    let before = env.emu.token_count(pid);
    for bad in [
        "http://wizard.example.com/oauth/index.html",
        "https://user:hunter2secret@wizard.example.com/oauth/index.html",
        "http://user@127.0.0.1/oauth/index.html",
        "ftp://127.0.0.1/oauth",
    ] {
        let r = Run::from(
            env.cmd()
                .env("KBAGENT_OAUTH_WIZARD_URL", bad)
                .args(args)
                .output()
                .unwrap(),
        );
        let out = r.envelope();
        assert_eq!(r.code, 5, "{bad}: {out:?}");
        assert_eq!(out.err().code, "CONFIG_ERROR");
        assert!(!r.stdout.contains("hunter2secret") && !r.stderr.contains("hunter2secret"));
    }
    assert_eq!(
        env.emu.token_count(pid),
        before,
        "a token was minted for a refused URL"
    );
    for good in [
        format!("{}/oauth/index.html", env.emu.url()),
        format!(
            "http://localhost:{}/oauth/index.html",
            env.emu.local_addr().port()
        ),
    ] {
        let r = Run::from(
            env.cmd()
                .env("KBAGENT_OAUTH_WIZARD_URL", &good)
                .args(args)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 0, "{good}: {}", r.stdout);
        let url: Value = r.envelope().data()["url"].clone();
        assert!(url.as_str().unwrap().starts_with(&good), "{url}");
    }
}
