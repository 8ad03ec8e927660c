//! Tokens, reads and error hints: `token refresh` never undoes a concurrent edit nor loses a
//! rotated secret, token ids compare as numbers, `token list` and `token delete` say what
//! they act on, single-project reads fail loudly, and errors name their project and a way out.

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use keboola_emulator::EmulatorOptions;
use serde_json::Value;

use crate::common::*;

/// Generous: only a hang gets near it.
const LIMIT: Duration = Duration::from_secs(60);

fn own_id(token: &str) -> &str {
    token.split('-').nth(1).unwrap()
}

fn hints(err: &ErrorBody) -> Vec<String> {
    err.details
        .as_ref()
        .and_then(|d| d.get("hints"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn hold_lock(env: &TestEnv) -> fs::File {
    let held = fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(env.config_dir.join("config.json.lock"))
        .unwrap();
    held.lock().unwrap();
    held
}

/// Whether `token` verifies against the emulator (checked through `project add`, which
/// stores nothing when verification fails).
fn works(env: &TestEnv, alias: &str, token: &str) -> bool {
    let (_, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            alias,
            "--url",
            env.emu.url(),
            "--token-stdin",
            "--no-warn-non-master",
        ],
        token,
    );
    code == 0
}

fn refresh_posts(env: &TestEnv, id: &str) -> usize {
    let path = format!("/v2/storage/tokens/{id}/refresh");
    env.emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

/// `kbagent [global] token refresh` of `alias`'s token `id` while another process holds the
/// config lock for longer than kbagent waits.
fn refresh_while_locked(env: &TestEnv, global: &[&str], alias: &str, id: &str) -> Run {
    let held = hold_lock(env);
    let mut cmd = env.base();
    cmd.args(global)
        .args([
            "token",
            "refresh",
            "--project",
            alias,
            "--token-id",
            id,
            "--yes",
        ])
        .env("KBAGENT_WAIT_TIMEOUT_MS", "300");
    let (run, _) = run_or_kill(cmd, None, LIMIT);
    held.unlock().unwrap();
    run
}

/// The secret an error carries in `details.token`.
fn revealed(err: &ErrorBody) -> String {
    err.details.as_ref().unwrap()["token"]
        .as_str()
        .expect("details.token")
        .to_owned()
}

#[test]
fn a_refresh_does_not_undo_a_concurrent_token_edit() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    let id = own_id(&env.token(0, "storage")).to_owned();
    // The lock is held from before the refresh starts, so its write can only happen after
    // the edit below: the order is fixed by the lock, not by timing.
    let held = hold_lock(&env);
    let child = env
        .base()
        .args([
            "--json",
            "token",
            "refresh",
            "--project",
            "ui",
            "--token-id",
            &id,
            "--yes",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while refresh_posts(&env, &id) == 0 {
        assert!(start.elapsed() < LIMIT, "the refresh request never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Another process edits the project's token meanwhile (as `project edit` would, under
    // the lock).
    let mut cfg = env.config_json();
    cfg["projects"]["ui"]["token"] = env.token(0, "admin").into();
    fs::write(env.config_path(), serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    held.unlock().unwrap();
    let run = Run::from(child.wait_with_output().unwrap());

    let out = run.envelope();
    assert_eq!(run.code, 5, "{out:?}");
    let err = out.err();
    assert_eq!(err.code, "CONFIG_CONFLICT");
    assert_eq!(err.project, "ui");
    assert!(
        err.message.contains("changed by another process"),
        "{}",
        err.message
    );
    // The edit survived, and the new secret is still handed out: the old one is dead.
    assert_eq!(
        env.config_json()["projects"]["ui"]["token"],
        env.token(0, "admin")
    );
    assert!(works(&env, "new", &revealed(err)));
    assert!(!works(&env, "old", &env.token(0, "storage")));
    assert_eq!(refresh_posts(&env, &id), 1);
}

#[test]
fn a_rotated_secret_that_cannot_be_stored_is_shown_to_people() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    let id = own_id(&env.token(0, "storage")).to_owned();
    let before = env.config_bytes().unwrap();
    let run = refresh_while_locked(&env, &[], "ui", &id);

    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Save this now"), "{}", run.stdout);
    assert!(run.stderr.contains("could not be stored"), "{}", run.stderr);
    let secret = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Token: "))
        .unwrap_or_else(|| panic!("no secret on stdout: {}", run.stdout))
        .to_owned();
    assert_ne!(secret, env.token(0, "storage"));
    let home = env.home.path().display().to_string();
    insta::assert_snapshot!(
        "refresh_unstored_secret",
        format!("{}--- stderr\n{}", run.stdout, run.stderr)
            .replace(&secret, "<new secret>")
            .replace(&home, "<home>")
    );
    assert_eq!(env.config_bytes().unwrap(), before);
    assert!(works(&env, "saved", &secret));
    assert!(!works(&env, "old", &env.token(0, "storage")));

    // Under --json the secret is in the error's details.
    let run = refresh_while_locked(&env, &["--json"], "saved", &id);
    let out = run.envelope();
    assert_eq!((out.err().code.as_str(), run.code), ("CONFIG_ERROR", 5));
    assert_eq!(out.err().project, "saved");
    assert!(works(&env, "saved-again", &revealed(out.err())));
}

#[test]
fn token_ids_compare_as_numbers() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    let padded = format!("00{}", own_id(&env.token(0, "storage")));

    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "ui",
        "--token-id",
        &padded,
        "--yes",
    ]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("INVALID_ARGUMENT", 2),
        "{out:?}"
    );
    assert!(out.err().message.contains("the token kbagent uses"));
    let (out, code) = env.json(&["project", "info", "--project", "ui"]);
    assert_eq!(code, 0, "the stored token was deleted: {out:?}");

    let (out, code) = env.json(&[
        "token",
        "refresh",
        "--project",
        "ui",
        "--token-id",
        &padded,
        "--yes",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["stored_token_updated"], true);
    assert_eq!(out.data()["id"], own_id(&env.token(0, "storage")));
    assert_eq!(
        env.config_json()["projects"]["ui"]["token"],
        out.data()["token"]
    );
    let (out, code) = env.json(&["project", "info", "--project", "ui"]);
    assert_eq!(code, 0, "kbagent lost access: {out:?}");
}

#[test]
fn token_list_warns_when_it_can_see_only_its_own_token() {
    let env = TestEnv::new();
    env.add("ui", 0, "storage");
    env.add("m", 0, "admin");
    let (out, code) = env.json(&["token", "list", "--project", "ui"]);
    assert_eq!(code, 0);
    assert_eq!(out.data()["count"], 1);
    assert_eq!(out.warning_codes(), ["OWN_TOKEN_ONLY"]);
    let w = &out.warnings.as_ref().unwrap()[0];
    assert_eq!(w.extra["project_alias"], "ui");
    assert!(
        w.hint
            .as_deref()
            .unwrap()
            .contains("project edit --project ui")
    );
    let r = env.run(&["token", "list", "--project", "ui"]);
    assert!(r.stderr.contains("lists only that token"), "{}", r.stderr);

    let (out, code) = env.json(&["token", "list", "--project", "m"]);
    assert_eq!(code, 0);
    assert!(out.data()["count"].as_u64().unwrap() > 1);
    assert!(out.warning_codes().is_empty(), "{out:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn token_delete_asks_about_the_token_by_description_and_project() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");
    let id = own_id(&env.token(0, "storage")).to_owned();
    let Some(run) = env.in_terminal(
        &["token", "delete", "--project", "m", "--token-id", &id],
        "n\n",
    ) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    assert!(
        run.stdout
            .contains("Delete token 1004 (\"UI token for agents\") of project 'm'? [y/N]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Aborted; nothing was changed."),
        "{}",
        run.stdout
    );
    assert!(works(&env, "still", &env.token(0, "storage")));
}

#[test]
fn single_project_reads_fail_with_the_projects_error() {
    let env = TestEnv::new();
    // No projects at all.
    for args in [
        &["config", "list"][..],
        &["config", "list", "--project", "p"],
    ] {
        let (out, code) = env.json(args);
        assert_eq!(
            (out.err().code.as_str(), code),
            ("CONFIG_ERROR", 5),
            "{args:?}"
        );
        assert!(
            hints(out.err()).iter().any(|h| h.contains("project add")),
            "{out:?}"
        );
    }

    env.add("good", 0, "admin");
    let (out, code) = env.json(&[
        "token",
        "create",
        "--project",
        "good",
        "--description",
        "short",
        "--expires-in",
        "60",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert!(works(
        &env,
        "expired",
        out.data()["token"].as_str().unwrap()
    ));
    env.emu.advance_clock(Duration::from_secs(120));

    // One named project: its failure is the command's.
    let (out, code) = env.json(&["config", "list", "--project", "expired"]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("INVALID_TOKEN", 3),
        "{out:?}"
    );
    assert_eq!(out.err().project, "expired");
    let r = env.run(&["config", "list", "--project", "expired"]);
    assert_eq!(r.code, 3);
    assert!(
        !r.stdout.contains("No configurations found"),
        "{}",
        r.stdout
    );

    for args in [
        &["config", "list", "--project", "good", "--branch", "999"][..],
        &[
            "config",
            "detail",
            "--project",
            "good",
            "--branch",
            "999",
            "--component-id",
            "keboola.ex-google-drive",
            "--config-id",
            "10004",
        ],
    ] {
        let (out, code) = env.json(args);
        assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1), "{out:?}");
        assert_eq!(out.err().project, "good");
        assert!(
            out.err().message.contains("Branch 999 does not exist"),
            "{out:?}"
        );
        assert!(
            hints(out.err()).iter().any(|h| h.contains("Main")),
            "{out:?}"
        );
    }

    // The fan-out over all projects reports per project and goes on.
    let (out, code) = env.json(&["config", "list"]);
    assert_eq!(code, 0, "{out:?}");
    let errors = out.data()["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["project_alias"], "expired");
    assert_eq!(errors[0]["error_code"], "INVALID_TOKEN");
    assert!(!out.data()["configs"].as_array().unwrap().is_empty());
    assert_eq!(out.warning_codes(), ["PROJECT_FAILED"]);
}

#[test]
fn errors_name_their_project_and_a_way_out() {
    let env = TestEnv::new();
    env.add("m", 0, "admin");

    // Known project, error not from the API.
    let (out, _) = env.json(&[
        "token",
        "delete",
        "--project",
        "m",
        "--token-id",
        own_id(&env.token(0, "admin")),
        "--yes",
    ]);
    assert_eq!(out.err().project, "m", "{out:?}");

    // An invalid stored token: replace it.
    let mut cfg = env.config_json();
    cfg["projects"]["m"]["token"] = "101-1999-Zy8xW7vU6tS5rQ4pO3nM2lK1jI0hG9fE8dC7bA6z".into();
    fs::write(env.config_path(), serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    for args in [
        &["project", "info", "--project", "m"][..],
        &["token", "list", "--project", "m"],
    ] {
        let (out, code) = env.json(args);
        assert_eq!(
            (out.err().code.as_str(), code),
            ("INVALID_TOKEN", 3),
            "{out:?}"
        );
        let h = hints(out.err()).join("\n");
        assert!(
            h.contains("project edit --project m") && h.contains("project refresh --project m"),
            "{args:?}: {h}"
        );
    }

    // Nothing listens: the connection hint names the CA variables.
    cfg["projects"]["m"]["stack_url"] = "http://127.0.0.1:9".into();
    cfg["projects"]["m"]["token"] = env.token(0, "admin").into();
    fs::write(env.config_path(), serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let (out, code) = env.json(&["token", "list", "--project", "m"]);
    assert_eq!(
        (out.err().code.as_str(), code),
        ("CONNECTION_ERROR", 4),
        "{out:?}"
    );
    assert!(
        hints(out.err())
            .iter()
            .any(|h| h.contains("KBAGENT_CA_FILE") && h.contains("SSL_CERT_FILE")),
        "{out:?}"
    );

    // An untrusted certificate: the hint says why and names the CA variables.
    let tls = TestEnv::with(EmulatorOptions {
        tls: true,
        ..EmulatorOptions::default()
    });
    let (out, code) = tls.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "t",
            "--url",
            tls.emu.url(),
            "--token-stdin",
        ],
        &tls.token(0, "admin"),
    );
    assert_eq!(
        (out.err().code.as_str(), code),
        ("CONNECTION_ERROR", 4),
        "{out:?}"
    );
    let h = hints(out.err()).join("\n");
    assert!(
        h.contains("not trust") && h.contains("KBAGENT_CA_FILE") && h.contains("SSL_CERT_FILE"),
        "{h}"
    );

    // --token-env names a variable: unset and empty are told apart, with a way out.
    let add = |var_value: Option<&str>| {
        let mut cmd = env.cmd();
        if let Some(v) = var_value {
            cmd.env("MY_TOKEN", v);
        }
        let r = Run::from(
            cmd.args([
                "--json",
                "project",
                "add",
                "--project",
                "x",
                "--url",
                env.emu.url(),
                "--token-env",
                "MY_TOKEN",
            ])
            .output()
            .unwrap(),
        );
        (r.envelope(), r.code)
    };
    let (out, code) = add(None);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
    assert!(
        out.err().message.contains("MY_TOKEN") && out.err().message.contains("is not set"),
        "{out:?}"
    );
    assert!(!out.err().message.contains("empty"));
    assert!(
        hints(out.err()).iter().any(|h| h.contains("--token-stdin")),
        "{out:?}"
    );
    let (out, _) = add(Some(""));
    assert!(out.err().message.contains("set but empty"), "{out:?}");
}
