//! Project registration and selection: `project add/list/remove/edit/use/current`, the
//! config store's guarantees, and the output contract.

use std::process::Stdio;

use serde_json::json;

use crate::common::*;

#[test]
fn add_stores_project_and_makes_first_one_default() {
    let env = TestEnv::new();
    let token = env.token(0, "admin");
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "prod",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &format!("{token}\n"),
    );
    assert_eq!(code, 0, "{out:?}");
    let d = out.data();
    assert_eq!(d["alias"], "prod");
    assert_eq!(d["project_id"], json!(env.project_id(0)));
    assert_eq!(d["project_name"], json!(env.emu.projects()[0].name));
    assert_eq!(d["stack_url"], json!(env.emu.url()));
    assert_eq!(d["active_project_set"], "prod");
    assert_eq!(d["is_master_token"], true);
    assert_eq!(d["org_id"], 1);
    assert!(out.warnings.is_none(), "a master token adds silently");
    let masked = d["token"].as_str().unwrap();
    assert!(
        masked.ends_with(&token[token.len() - 4..]) && masked.contains("-..."),
        "{masked}"
    );

    let cfg = env.config_json();
    assert_eq!(cfg["version"], 1);
    assert_eq!(cfg["default_project"], "prod");
    assert_eq!(cfg["projects"]["prod"]["token"], json!(token));
    assert_eq!(
        cfg["projects"]["prod"]["project_id"],
        json!(env.project_id(0))
    );
    assert_eq!(cfg["projects"]["prod"]["org_id"], 1);

    // The second project does not take over the default.
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "dev",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &env.token(1, "admin"),
    );
    assert_eq!(code, 0);
    assert_eq!(out.data()["active_project_set"], json!(null));
    assert_eq!(env.config_json()["default_project"], "prod");
}

#[cfg(unix)]
#[test]
fn config_files_are_private() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin"); // second write creates the backup
    assert_eq!(mode(&env.config_dir), 0o700);
    assert_eq!(mode(&env.config_path()), 0o600);
    assert_eq!(mode(&env.config_dir.join("config.json.bak")), 0o600);
    assert_eq!(mode(&env.config_dir.join("config.json.lock")), 0o600);
    let ignore = std::fs::read_to_string(env.config_dir.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"));
    // The backup is the previous document.
    let bak: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.config_dir.join("config.json.bak")).unwrap())
            .unwrap();
    assert!(bak["projects"].get("prod").is_some() && bak["projects"].get("dev").is_none());
}

#[test]
fn token_sources_file_env_and_kbc_token() {
    let env = TestEnv::new();
    let file = env.home.path().join("tok.txt");
    std::fs::write(&file, format!("{}\r\n", env.token(0, "admin"))).unwrap();
    let (out, code) = env.json(&[
        "project",
        "add",
        "--project",
        "a",
        "--url",
        env.emu.url(),
        "--token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out:?}");

    let r = Run::from(
        env.cmd()
            .env("MY_TOKEN", env.token(1, "admin"))
            .args([
                "--json",
                "project",
                "add",
                "--project",
                "b",
                "--url",
                env.emu.url(),
                "--token-env",
                "MY_TOKEN",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);

    let r = Run::from(
        env.cmd()
            .env("KBC_TOKEN", env.token(0, "guest"))
            .env("KBC_STORAGE_API_URL", env.emu.url())
            .args([
                "--json",
                "project",
                "add",
                "--project",
                "c",
                "--no-warn-non-master",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.envelope().data()["stack_url"], json!(env.emu.url()));

    // --token works but warns that argv is visible.
    let (out, code) = env.json(&[
        "project",
        "add",
        "--project",
        "d",
        "--url",
        env.emu.url(),
        "--token",
        &env.token(1, "guest"),
        "--no-warn-non-master",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.warning_codes(), ["TOKEN_ON_COMMAND_LINE"]);
    assert_eq!(env.config_json()["projects"].as_object().unwrap().len(), 4);
}

#[test]
fn token_sources_are_mutually_exclusive_and_required() {
    let env = TestEnv::new();
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "a",
            "--url",
            env.emu.url(),
            "--token-stdin",
            "--token-env",
            "X",
        ],
        "x",
    );
    assert_eq!(code, 2);
    assert_eq!(out.err().code, "USAGE_ERROR");
    // No token anywhere and no terminal: a usage error, not a hang.
    let r = Run::from(
        env.base()
            .args([
                "--json",
                "project",
                "add",
                "--project",
                "a",
                "--url",
                env.emu.url(),
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.envelope().err().code, "USAGE_ERROR");
    assert!(env.config_bytes().is_none(), "nothing written");
}

#[test]
fn bad_input_is_refused_and_config_is_untouched() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let before = env.config_bytes().unwrap();
    let url = env.emu.url().to_owned();
    let admin = env.token(1, "admin");
    let cases: Vec<(Vec<&str>, &str, &str, i32)> = vec![
        (
            vec!["--url", "ftp://example.com"],
            admin.as_str(),
            "INVALID_ARGUMENT",
            2,
        ),
        (
            vec!["--url", "http://connection.keboola.com"],
            admin.as_str(),
            "INVALID_ARGUMENT",
            2,
        ),
        (
            vec!["--url", "https://"],
            admin.as_str(),
            "INVALID_ARGUMENT",
            2,
        ),
        (vec!["--url", &url], "", "INVALID_ARGUMENT", 2),
        (vec!["--url", &url], "   ", "INVALID_ARGUMENT", 2),
        (vec!["--url", &url], "901-1-abc def", "INVALID_ARGUMENT", 2),
        (
            vec!["--url", &url],
            "901-1-abc\u{7}def",
            "INVALID_ARGUMENT",
            2,
        ),
        (
            vec!["--url", &url],
            "101-999-unknownunknownunknown",
            "INVALID_TOKEN",
            3,
        ),
    ];
    for (extra, token, code, exit) in cases {
        let mut args = vec!["project", "add", "--project", "new"];
        args.extend(extra.iter());
        args.push("--token-stdin");
        let (out, got) = env.json_stdin(&args, token);
        assert_eq!(
            (out.err().code.as_str(), got),
            (code, exit),
            "{args:?} {token:?}: {out:?}"
        );
        assert_eq!(
            env.config_bytes().unwrap(),
            before,
            "config changed by {args:?}"
        );
    }
    for alias in ["", "-x", "has space", "a/b", "ünï", ".hidden"] {
        let flag = format!("--project={alias}");
        let (out, code) = env.json_stdin(
            &["project", "add", &flag, "--url", &url, "--token-stdin"],
            &admin,
        );
        assert_eq!(
            (out.err().code.as_str(), code),
            ("INVALID_ARGUMENT", 2),
            "alias {alias:?}"
        );
    }
    // Duplicate alias: CONFIG_ERROR pointing at `project edit`.
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "prod",
            "--url",
            &url,
            "--token-stdin",
        ],
        &admin,
    );
    assert_eq!((out.err().code.as_str(), code), ("CONFIG_ERROR", 5));
    assert!(
        out.err().details.as_ref().unwrap()["hints"][0]
            .as_str()
            .unwrap()
            .contains("project edit")
    );
    for args in [
        vec!["project", "remove", "--project", "nope"],
        vec!["project", "use", "nope"],
        vec!["project", "edit", "--project", "nope", "--new-alias", "x"],
        vec!["project", "info", "--project", "nope"],
    ] {
        let (out, code) = env.json(&args);
        assert_eq!(
            (out.err().code.as_str(), code),
            ("CONFIG_ERROR", 5),
            "{args:?}"
        );
    }
    assert_eq!(env.config_bytes().unwrap(), before);
}

#[test]
fn loopback_http_is_accepted_and_urls_are_normalized() {
    let env = TestEnv::new();
    let url = format!(
        "{}/v2/storage/",
        env.emu.url().replace("127.0.0.1", "LOCALHOST")
    );
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "p",
            "--url",
            &url,
            "--token-stdin",
        ],
        &env.token(0, "admin"),
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        out.data()["stack_url"],
        json!(env.emu.url().replace("127.0.0.1", "localhost"))
    );
}

#[test]
fn corrupt_or_newer_config_is_reported_and_never_overwritten() {
    let env = TestEnv::new();
    for text in [
        "{not json",
        r#"{"version": 99, "projects": {}}"#,
        "",
        r#"{"version":1,"projects":{"a":{"stack_url":"http://evil.example.com","token":"1-2-abcdefgh"}}}"#,
    ] {
        env.write_config(text);
        let (out, code) = env.json_stdin(
            &[
                "project",
                "add",
                "--project",
                "x",
                "--url",
                env.emu.url(),
                "--token-stdin",
            ],
            &env.token(0, "admin"),
        );
        assert_eq!(
            (out.err().code.as_str(), code),
            ("CONFIG_ERROR", 5),
            "{text}"
        );
        assert!(
            out.err()
                .message
                .contains(env.config_path().to_str().unwrap()),
            "{}",
            out.err().message
        );
        assert_eq!(env.config_bytes().unwrap(), text.as_bytes());
        let (out, code) = env.json(&["project", "list"]);
        assert_eq!((out.err().code.as_str(), code), ("CONFIG_ERROR", 5));
    }
}

#[test]
fn unknown_keys_written_by_other_tools_are_kept() {
    let env = TestEnv::new();
    env.write_config(
        r#"{"_warning":"w","version":1,"default_project":"","permissions":{"mode":"allow","allow":[],"deny":["token.delete"]},
        "dev_portal_identities":{},"projects":{}}"#,
    );
    env.add("prod", 0, "admin");
    env.json(&["project", "use", "prod"]);
    let cfg = env.config_json();
    assert_eq!(cfg["permissions"]["deny"], json!(["token.delete"]));
    assert_eq!(cfg["dev_portal_identities"], json!({}));
    assert_eq!(cfg["default_project"], "prod");
}

#[test]
fn list_remove_use_current() {
    let env = TestEnv::new();
    let (out, _) = env.json(&["project", "list"]);
    assert_eq!(out.data(), &json!([]));
    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin");
    let (out, code) = env.json(&["project", "list"]);
    assert_eq!(code, 0);
    let rows = out.data().as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let prod = rows.iter().find(|r| r["alias"] == "prod").unwrap();
    assert_eq!(prod["is_default"], true);
    assert_eq!(prod["auth_mode"], "static");
    let stdout = env.run(&["--json", "project", "list"]).stdout;
    assert_no_leak(&stdout, &all_secrets(&env));

    let (out, _) = env.json(&["project", "current"]);
    assert_eq!(
        (out.data()["alias"].as_str(), out.data()["source"].as_str()),
        (Some("prod"), Some("pin"))
    );
    let (out, _) = env.json(&["project", "current", "--project", "dev"]);
    assert_eq!(out.data()["source"], "flag");
    let r = Run::from(
        env.cmd()
            .env("KBAGENT_PROJECT", "dev")
            .args(["--json", "project", "current"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.envelope().data()["source"], "env");
    // A project id works where an alias does.
    let id = env.project_id(1).to_string();
    let (out, _) = env.json(&["project", "current", "--project", &id]);
    assert_eq!(out.data()["alias"], "dev");

    let (out, code) = env.json(&["project", "use", "dev"]);
    assert_eq!(code, 0);
    assert_eq!(
        (
            out.data()["alias"].as_str(),
            out.data()["previous"].as_str()
        ),
        (Some("dev"), Some("prod"))
    );
    assert_eq!(env.config_json()["default_project"], "dev");

    let (out, code) = env.json(&["project", "remove", "--project", "dev"]);
    assert_eq!(code, 0);
    assert_eq!(out.data()["active_project_cleared"], "dev");
    // One project left, no pin: it is used as the only one.
    let (out, _) = env.json(&["project", "current"]);
    assert_eq!(
        (out.data()["alias"].as_str(), out.data()["source"].as_str()),
        (Some("prod"), Some("sole"))
    );
    env.json(&["project", "remove", "--project", "prod"]);
    let (out, code) = env.json(&["project", "current"]);
    assert_eq!(code, 0);
    assert_eq!(out.data()["source"], "none");
}

#[test]
fn edit_reverifies_and_renames() {
    let env = TestEnv::new();
    env.add("prod", 0, "storage");
    let (out, code) = env.json(&["project", "edit", "--project", "prod"]);
    assert_eq!((out.err().code.as_str(), code), ("USAGE_ERROR", 2));
    // A bad new token is refused before anything is written.
    let before = env.config_bytes().unwrap();
    let (out, code) = env.json_stdin(
        &["project", "edit", "--project", "prod", "--token-stdin"],
        "101-424242-nopenopenopenope",
    );
    assert_eq!((out.err().code.as_str(), code), ("INVALID_TOKEN", 3));
    assert_eq!(env.config_bytes().unwrap(), before);
    // A good one replaces the token, and a master token gives no warning.
    let admin = env.token(0, "admin");
    let (out, code) = env.json_stdin(
        &["project", "edit", "--project", "prod", "--token-stdin"],
        &admin,
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["is_master_token"], true);
    assert!(out.warnings.is_none());
    assert_eq!(env.config_json()["projects"]["prod"]["token"], json!(admin));
    // Rename keeps the pin pointing at the project.
    let (out, code) = env.json(&[
        "project",
        "edit",
        "--project",
        "prod",
        "--new-alias",
        "production",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.data()["old_alias"], "prod");
    let cfg = env.config_json();
    assert_eq!(cfg["default_project"], "production");
    assert!(cfg["projects"].get("prod").is_none());
}

#[test]
fn concurrent_adds_lose_nothing() {
    let env = TestEnv::new();
    let token = env.token(0, "admin");
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut cmd = env.base();
            cmd.args([
                "--json",
                "project",
                "add",
                "--project",
                &format!("p{i}"),
                "--url",
                env.emu.url(),
                "--token-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(token.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let cfg = env.config_json();
    let projects = cfg["projects"].as_object().unwrap();
    assert_eq!(projects.len(), 16);
    assert!(projects.contains_key(cfg["default_project"].as_str().unwrap()));
}

#[test]
fn json_mode_prints_one_document_for_usage_errors_help_and_version() {
    let env = TestEnv::new();
    for args in [
        vec!["--json", "frobnicate"],
        vec!["--json", "project", "add"],
        vec!["--json", "project", "list", "--bogus"],
        vec!["-j"],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{args:?}");
        let e = r.envelope();
        assert_eq!(e.err().code, "USAGE_ERROR");
        assert_eq!(e.err().error_type, "validation");
        assert!(!e.err().retryable);
    }
    let r = env.run(&["--json", "--version"]);
    assert_eq!(r.code, 0);
    assert!(
        r.envelope().data()["version"]
            .as_str()
            .unwrap()
            .contains(env!("CARGO_PKG_VERSION"))
    );
    let r = env.run(&["--json", "project", "--help"]);
    assert_eq!(r.code, 0);
    assert!(
        r.envelope().data()["help"]
            .as_str()
            .unwrap()
            .contains("refresh")
    );
    // Without --json, usage errors are plain text on stderr and nothing on stdout.
    let r = env.run(&["frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("frobnicate"));
}

#[test]
fn human_output_is_plain_when_piped() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let r = env.run(&["project", "list"]);
    assert_eq!(r.code, 0);
    assert!(
        !r.stdout.contains('│') && !r.stdout.contains('\u{1b}'),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("prod"));
    assert_no_leak(&r.stdout, &all_secrets(&env));
    let r = env.run(&["project", "remove", "--project", "nope"]);
    assert_eq!(r.code, 5);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
}

#[test]
fn broken_pipe_exits_quietly() {
    let env = TestEnv::new();
    for i in 0..3 {
        env.add(&format!("p{i}"), 0, "admin");
    }
    let mut child = env
        .base()
        .args(["context"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before kbagent writes
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn https_stack_with_a_custom_ca() {
    let env = TestEnv::with(keboola_emulator::EmulatorOptions {
        tls: true,
        ..Default::default()
    });
    assert!(env.emu.url().starts_with("https://127.0.0.1:"));
    let ca = env
        .emu
        .ca_cert()
        .expect("tls emulator writes its certificate")
        .to_owned();
    let token = env.token(0, "admin");
    // Without trusting the emulator's CA, verification fails: a connection error, exit 4.
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "tls",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &token,
    );
    assert_eq!(
        (out.err().code.as_str(), code),
        ("CONNECTION_ERROR", 4),
        "{out:?}"
    );
    assert!(env.config_bytes().is_none());
    for var in ["SSL_CERT_FILE", "KBAGENT_CA_FILE"] {
        let alias = format!("tls-{}", var.len());
        let r = Run::from(
            env.cmd()
                .env(var, &ca)
                .args([
                    "--json",
                    "project",
                    "add",
                    "--project",
                    &alias,
                    "--url",
                    env.emu.url(),
                    "--token-stdin",
                ])
                .write_stdin(token.clone())
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 0, "{var}: {}", r.stdout);
    }
    let r = Run::from(
        env.cmd()
            .env("SSL_CERT_FILE", &ca)
            .args(["--json", "project", "status"])
            .output()
            .unwrap(),
    );
    assert!(
        r.envelope()
            .data()
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["status"] == "ok")
    );
    // A CA file that does not exist is a clear configuration problem, not a crash.
    let r = Run::from(
        env.cmd()
            .env("SSL_CERT_FILE", env.home.path().join("missing.pem"))
            .args(["--json", "project", "status"])
            .output()
            .unwrap(),
    );
    assert_ne!(r.code, 0);
    assert_eq!(r.envelope().status, "error");
}

#[cfg(unix)]
#[test]
fn symlinked_config_is_followed_and_kept() {
    let env = TestEnv::new();
    let real_dir = env.home.path().join("dotfiles");
    std::fs::create_dir_all(&real_dir).unwrap();
    std::fs::create_dir_all(&env.config_dir).unwrap();
    let real = real_dir.join("kbagent.json");
    std::fs::write(&real, r#"{"version": 1, "projects": {}}"#).unwrap();
    std::os::unix::fs::symlink(&real, env.config_path()).unwrap();
    env.add("prod", 0, "admin");
    let meta = std::fs::symlink_metadata(env.config_path()).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is kept");
    let target: serde_json::Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert!(
        target["projects"].get("prod").is_some(),
        "the file it points to was updated"
    );
    assert_eq!(mode(&real), 0o600);
}

#[test]
fn nearest_local_config_is_used() {
    let env = TestEnv::new();
    let repo = env.home.path().join("work/repo");
    let deep = repo.join("src/module");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(repo.join(".kbagent")).unwrap();
    std::fs::write(
        repo.join(".kbagent/config.json"),
        r#"{"version": 1, "projects": {}}"#,
    )
    .unwrap();
    let r = Run::from(
        env.base()
            .env_remove("KBAGENT_CONFIG_DIR")
            .current_dir(&deep)
            .args([
                "--json",
                "project",
                "add",
                "--project",
                "local",
                "--url",
                env.emu.url(),
                "--token-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(env.token(0, "admin").as_bytes())?;
                c.wait_with_output()
            })
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.envelope().data()["alias"], "local");
    let local: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join(".kbagent/config.json")).unwrap()).unwrap();
    assert!(local["projects"].get("local").is_some());
    assert!(
        !env.config_path().exists(),
        "KBAGENT_CONFIG_DIR was not set, so its dir stays unused"
    );
    let r = Run::from(
        env.base()
            .env_remove("KBAGENT_CONFIG_DIR")
            .current_dir(&deep)
            .args(["--json", "doctor"])
            .output()
            .unwrap(),
    );
    let checks = r.envelope().data()["checks"].clone();
    assert!(
        checks[0]["message"]
            .as_str()
            .unwrap()
            .contains("nearest .kbagent"),
        "{checks}"
    );
}
