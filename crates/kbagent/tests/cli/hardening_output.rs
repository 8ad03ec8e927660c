//! Terminal output, global options and prompts: hostile text from the server, colour in
//! logs, `--json=true`, global flags after the command, terminals without a size, shell
//! completion of aliases, doctor on a broken config, unwritable stdout and confirmations.

use serde_json::Value;

use crate::common::*;

/// Control sequences a project member could put into a configuration's name.
const HOSTILE_NAME: &str = "Evil\x1b]52;c;SGVsbG8=\x07\x1b[2J\rX\u{9b}31mY\u{202e}Z";
const HOSTILE_DESCRIPTION: &str = "about\x1b]0;pwned\x07\x1b[1A";

/// Renames project 0's OAuth configuration through the Storage API, as any member could.
fn rename_config(env: &TestEnv) -> (String, String) {
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let url = format!(
        "{}/v2/storage/components/{}/configs/{}",
        env.emu.url(),
        oauth.component_id,
        oauth.config_id
    );
    let resp = ureq::put(&url)
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .send_form([("name", HOSTILE_NAME), ("description", HOSTILE_DESCRIPTION)])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    (oauth.component_id, oauth.config_id)
}

/// No byte that a terminal would act on: ESC, other C0 controls but newline and tab, a
/// carriage return (but the terminal's own `\r\n` line ends), DEL, C1 controls, bidi
/// overrides. `sgr` lets our own colour sequences (`ESC [ digits m`) through.
fn assert_inert(what: &str, text: &str, sgr: bool) {
    let text = text.replace("\r\n", "\n");
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        if sgr && rest.starts_with("\x1b[") {
            let body = &rest[2..];
            let n = body
                .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .unwrap_or(body.len());
            if body[n..].starts_with('m') {
                rest = &body[n + 1..];
                continue;
            }
        }
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: raw {c:?} reaches the terminal in:\n{text:?}");
        rest = &rest[c.len_utf8()..];
    }
}

#[test]
fn hostile_names_are_escaped_in_every_human_output() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let (component, config) = rename_config(&env);
    let detail = [
        "config",
        "detail",
        "--component-id",
        component.as_str(),
        "--config-id",
        config.as_str(),
    ];
    // Piped, colour off.
    for args in [&["config", "list"][..], &detail, &["-v", "config", "list"]] {
        let r = env.run(args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_inert("stdout", &r.stdout, false);
        assert_inert("stderr", &r.stderr, false);
        // Escaped, not dropped: the reader sees that something odd is in the name.
        assert!(
            r.stdout.contains("Evil\\x1b]52;c;SGVsbG8=\\x07"),
            "{}",
            r.stdout
        );
    }
    // On a terminal with colour allowed: only our own styling is raw.
    for args in [&["config", "list"][..], &detail] {
        let mut cmd = env.base();
        cmd.env_remove("NO_COLOR").args(args);
        let r = in_pty(&cmd, None);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_inert("terminal", &r.stdout, true);
        assert!(r.stdout.contains("\\u{9b}31mY\\u{202e}Z"), "{}", r.stdout);
    }
    // JSON keeps the exact value, and escapes C1 and bidi controls too.
    let r = env.run(&["--json", "config", "list"]);
    assert_inert("json", &r.stdout, false);
    let names: Vec<Value> = r.envelope().data()["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["config_name"].clone())
        .collect();
    assert!(names.contains(&Value::from(HOSTILE_NAME)), "{names:?}");
}

#[test]
fn hostile_text_in_errors_and_warnings_is_escaped() {
    let env = TestEnv::new();
    // An alias and a stack nobody answers on: the alias comes back in the error and in the
    // warning of a multi-project read.
    let alias = "p\x1b]0;owned\x07\u{9b}2J";
    let config = serde_json::json!({
        "version": 1,
        "default_project": alias,
        "projects": {alias: {
            "stack_url": "http://127.0.0.1:9",
            "token": env.token(0, "admin"),
            "project_name": "n\x1b[2J",
            "project_id": 1
        }}
    });
    env.write_config(&config.to_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&env.config_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let r = env.run(&["-v", "project", "info"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("p\\x1b]0;owned\\x07"), "{}", r.stderr);
    assert_inert("error", &r.stderr, false);
    let r = env.run(&["config", "list"]);
    assert!(r.stderr.contains("Warning"), "{}", r.stderr);
    assert_inert("warning", &r.stderr, false);
    assert_inert("stdout", &r.stdout, false);
    let r = env.run(&["project", "list"]);
    assert_inert("table", &r.stdout, false);
}

#[test]
fn logs_carry_no_colour_into_files_or_under_no_color() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    // Colour allowed by the environment, but stderr is a file (a pipe here).
    let r = Run::from(
        env.cmd()
            .env_remove("NO_COLOR")
            .args(["-v", "config", "list"])
            .output()
            .unwrap(),
    );
    assert!(r.stderr.contains("DEBUG"), "{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "{:?}", r.stderr);
    // A terminal, but --no-color.
    let mut cmd = env.base();
    cmd.env_remove("NO_COLOR")
        .args(["-v", "--no-color", "--json", "config", "list"]);
    let r = in_pty(&cmd, None);
    assert!(r.stdout.contains("DEBUG"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
}

#[test]
fn json_accepts_an_explicit_value_and_errors_stay_json() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let r = env.run(&["--json=true", "project", "list"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.envelope().status, "ok");
    let r = env.run(&["--json=false", "project", "list"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Sales Analytics") && !r.stdout.contains('{'));
    // A bad value: still a JSON usage error, since the word json was given.
    let r = env.run(&["--json=maybe", "project", "list"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.envelope().err().code, "USAGE_ERROR");
    let r = env.run(&["project", "list", "--json=yes", "--bogus"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.envelope().err().code, "USAGE_ERROR");
}

#[test]
fn global_flags_work_after_the_command() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let r = env.run(&["project", "list", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.envelope().data()[0]["alias"], "p");
    let other = env.home.path().join("other");
    let r = env.run(&[
        "project",
        "list",
        "-j",
        "--config-dir",
        other.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.envelope().data(), &Value::Array(vec![]));
    let r = env.run(&["config", "list", "--no-color", "-v", "--parallel", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("DEBUG"), "{}", r.stderr);
    // The help no longer says they must come first.
    let help = env.run(&["--help"]).stdout;
    assert!(!help.contains("go before the command"), "{help}");
}

#[test]
fn tables_on_a_terminal_without_a_size_keep_their_columns() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let mut cmd = env.base();
    cmd.args(["project", "list"]);
    let r = in_pty(&cmd, None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // Boxed (a terminal), and the project name on one line rather than one letter a row.
    assert!(r.stdout.contains('│'), "{}", r.stdout);
    assert!(r.stdout.contains("Sales Analytics"), "{}", r.stdout);
}

/// Whether `text` holds something shaped like a full Storage token (`<digits>-<digits>-<40>`).
fn has_full_token(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .any(|w| {
            let parts: Vec<&str> = w.splitn(3, '-').collect();
            parts.len() == 3
                && parts[..2]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                && parts[2].len() >= 20
        })
}

#[cfg(target_os = "linux")]
#[test]
fn unwritable_stdout_is_reported_and_a_minted_secret_is_not_lost_in_silence() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let before = env.emu.token_count(env.project_id(0));
    for json in [false, true] {
        let mut cmd = env.base();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["token", "create", "--description", "lost"])
            .stdout(full());
        let r = Run::from(cmd.output().unwrap());
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("could not be written"), "{}", r.stderr);
        assert!(
            r.stderr.contains("secret that this run created"),
            "{}",
            r.stderr
        );
        assert!(!has_full_token(&r.stderr), "{}", r.stderr);
        assert_no_leak(&r.stderr, &all_secrets(&env));
    }
    assert_eq!(env.emu.token_count(env.project_id(0)), before + 2);
    // Output without a secret: the failure is reported, nothing about a secret.
    let mut cmd = env.base();
    cmd.args(["project", "list"]).stdout(full());
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("could not be written"), "{}", r.stderr);
    assert!(!r.stderr.contains("secret"), "{}", r.stderr);
}

#[test]
fn doctor_with_a_broken_config_lists_its_checks_and_exits_with_the_config_error() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    std::fs::write(env.config_path(), "{ not json").unwrap();
    let r = env.run(&["doctor"]);
    assert_eq!(r.code, 5, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Error:"), "{}", r.stderr);
    for line in [
        "[pass] Config location",
        "[pass] Config file permissions",
        "[FAIL] Config file contents",
        "[skip] Projects: not checked: the config file cannot be used",
        "[skip] Child tokens: not checked",
    ] {
        assert!(r.stdout.contains(line), "no {line:?} in:\n{}", r.stdout);
    }
    let (out, code) = env.json(&["doctor"]);
    assert_eq!((out.err().code.as_str(), code), ("CONFIG_ERROR", 5));
    let details = out.err().details.as_ref().unwrap();
    let statuses: Vec<(&str, &str)> = details["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert!(statuses.contains(&("config_valid", "fail")), "{statuses:?}");
    assert!(statuses.contains(&("connectivity", "skip")), "{statuses:?}");
    assert_eq!(details["checks"][3]["error_code"], "CONFIG_ERROR");
    assert_eq!(details["summary"]["healthy"], false);
}

fn new_token(env: &TestEnv) -> String {
    let (out, code) = env.json(&["token", "create", "--description", "to delete"]);
    assert_eq!(code, 0, "{out:?}");
    out.data()["id"].to_string().trim_matches('"').to_owned()
}

fn token_exists(env: &TestEnv, id: &str) -> bool {
    let (out, _) = env.json(&["token", "list"]);
    out.data()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"].to_string().trim_matches('"') == id)
}

#[test]
fn destructive_actions_need_yes_or_a_person_on_a_terminal() {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    let id = new_token(&env);
    let delete = ["token", "delete", "--token-id", id.as_str()];
    // Stdout and stderr on a terminal, stdin from /dev/null: nobody can answer.
    let mut cmd = env.base();
    cmd.args(delete);
    let r = in_pty(&cmd, Some("/dev/null"));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("needs a confirmation") && r.stdout.contains("--yes"),
        "{}",
        r.stdout
    );
    assert!(token_exists(&env, &id));
    // Stdin a pipe (with a yes in it), stdout and stderr pipes: still no person.
    let r = env.run_stdin(&delete, "y\n");
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(token_exists(&env, &id));
    // Under --json: a usage error saying a confirmation is needed.
    let (out, code) = env.json(&delete);
    assert_eq!((out.err().code.as_str(), code), ("USAGE_ERROR", 2));
    assert_eq!(
        out.err().details.as_ref().unwrap()["confirmation_required"],
        true
    );
    assert!(token_exists(&env, &id));
    // A person on the terminal says no, then yes.
    let r = in_pty_typing(&cmd, "n\n");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("[y/N]"), "{}", r.stdout);
    assert!(token_exists(&env, &id));
    let r = in_pty_typing(&cmd, "y\n");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!token_exists(&env, &id));
    // --yes needs no one.
    let id = new_token(&env);
    let r = env.run(&["token", "delete", "--token-id", &id, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!token_exists(&env, &id));
}

#[test]
fn project_refresh_without_yes_and_without_a_terminal_changes_nothing() {
    let env = TestEnv::new();
    env.add("p", 0, "storage");
    let before = env.config_bytes().unwrap();
    let tokens = env.emu.token_count(env.project_id(0));
    let mut cmd = env.base();
    cmd.env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
        .args([
            "--allow-env-manage-token",
            "project",
            "refresh",
            "--project",
            "p",
        ]);
    let r = in_pty(&cmd, Some("/dev/null"));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("needs a confirmation") && r.stdout.contains("--yes"),
        "{}",
        r.stdout
    );
    assert_eq!(env.config_bytes().unwrap(), before);
    assert_eq!(env.emu.token_count(env.project_id(0)), tokens);
}

#[test]
fn shell_completion_offers_the_registered_aliases() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env.add("dev", 0, "storage");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kbagent"))
        .parent()
        .unwrap()
        .to_owned();
    // The real bash script, sourced and run as bash's completion would run it.
    let script = env.run(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.stderr);
    let path = env.home.path().join("kbagent.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let words = |line: &str| {
        let driver = format!(
            "source '{}'; COMP_WORDS=({line}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); \
             COMP_TYPE=9; _clap_complete_kbagent kbagent \"${{COMP_WORDS[COMP_CWORD]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let base = env.base();
        let path_var = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new("bash")
            .env_clear()
            .envs(
                base.get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .env("PATH", path_var)
            .current_dir(env.home.path())
            .args(["-c", &driver])
            .output()
            .unwrap();
        let mut got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect();
        got.sort();
        got
    };
    assert_eq!(words("kbagent config list --project ''"), ["dev", "prod"]);
    assert_eq!(words("kbagent project info -p pr"), ["prod"]);
    assert_eq!(words("kbagent token list --json --project d"), ["dev"]);
    // Flags still complete.
    assert!(words("kbagent project li").contains(&"list".to_owned()));
    // The fish protocol: alias and the project's name.
    let r = Run::from(
        env.cmd()
            .env("KBAGENT_COMPLETE", "fish")
            .args(["--", "kbagent", "config", "list", "--project", ""])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.lines().any(|l| l == "prod\tSales Analytics"),
        "{}",
        r.stdout
    );
}
