//! The permission firewall: every command under the session flags, the persisted policy and
//! its narrowing, the rule a refusal names, and the person-only gate of a policy change.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

const CLASSES: [&str; 4] = ["read", "write", "admin", "destructive"];

fn rank(class: &str) -> usize {
    CLASSES.iter().position(|c| *c == class).unwrap()
}

/// A project `prod` on the emulator, and nothing else.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env
}

/// The first example of a command (from the catalogue; from `--help` with its continued lines
/// joined when it goes on), as arguments after `kbagent`: shell redirections and what follows
/// them dropped, URLs pointed at the emulator.
fn example_args(env: &TestEnv, command: &str, first: &str) -> Vec<String> {
    if !first.ends_with('\\') {
        return words_of(env, first);
    }
    let mut args: Vec<&str> = command.split(' ').collect();
    args.push("--help");
    let help = env.run(&args).stdout;
    let mut joined = String::new();
    for line in help
        .lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .skip(1)
    {
        let line = line.trim();
        if let Some(rest) = line.strip_suffix('\\') {
            joined.push_str(rest);
            continue;
        }
        joined.push_str(line);
        if joined.contains("kbagent ") {
            break;
        }
        joined.clear();
    }
    words_of(env, &joined)
}

fn words_of(env: &TestEnv, joined: &str) -> Vec<String> {
    let from = joined.find("kbagent ").expect("an example") + "kbagent ".len();
    let mut out = Vec::new();
    for word in shell_words(&joined[from..]) {
        if ["<", ">", "|", "#", "&&"].contains(&word.as_str()) {
            break;
        }
        out.push(if word.starts_with("https://") {
            env.emu.url().to_owned()
        } else {
            word
        });
    }
    out
}

/// Whitespace-separated words; single and double quotes group.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (_, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Runs `kbagent --json <flags> <args>` from the template config with an empty request log.
/// Remote hosts go to a dead proxy, so nothing can leave the machine.
fn run_from(env: &TestEnv, template: &[u8], flags: &[&str], args: &[String]) -> Run {
    env.emu.reset();
    std::fs::write(env.config_path(), template).unwrap();
    env.emu.clear_requests();
    let mut cmd = env.base();
    cmd.env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .arg("--json")
        .args(flags)
        .args(args);
    run_or_kill(cmd, Some(b""), Duration::from_secs(120)).0
}

/// Whether the run was refused by the firewall (not by anything else that exits 6).
fn firewall_refusal(r: &Run) -> Option<Value> {
    let out = r.envelope();
    let err = out.error?;
    let details = err.details.unwrap_or_default();
    (err.code == "PERMISSION_DENIED" && details.get("rule").is_some()).then_some(details)
}

#[test]
fn every_command_is_allowed_or_refused_by_its_class_under_the_session_flags() {
    let env = setup();
    let template = env.config_bytes().unwrap();
    let (ctx, _) = env.json(&["context"]);
    let catalogue = ctx.data()["catalogue"].as_array().unwrap().clone();
    assert!(catalogue.len() > 40, "{}", catalogue.len());
    let mut refused = 0;
    let mut dry_runs = 0;
    for entry in &catalogue {
        let command = entry["command"].as_str().unwrap();
        let class = entry["operation"].as_str().unwrap();
        let has_dry_run = entry["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "--dry-run");
        let first = entry["examples"][0].as_str().unwrap();
        let base: Vec<String> = example_args(&env, command, first)
            .into_iter()
            .filter(|a| a != "--dry-run")
            .collect();
        // The class after the escalating flags the example gives.
        let mut effective = rank(class);
        for e in entry["escalations"].as_array().unwrap() {
            if base.iter().any(|a| a == e["flag"].as_str().unwrap()) {
                effective = effective.max(rank(e["class"].as_str().unwrap()));
            }
        }
        // The classes the command also counts as (none under --dry-run).
        let also: Vec<usize> = entry["also"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| rank(c.as_str().unwrap()))
            .collect();
        let mut variants = vec![(base.clone(), effective, also)];
        if has_dry_run {
            let mut dry = base.clone();
            dry.push("--dry-run".to_owned());
            variants.push((dry, rank("read"), Vec::new()));
        }
        for (args, effective, also) in variants {
            let highest = also.iter().copied().fold(effective, usize::max);
            for (flag, blocks) in [
                ("--deny-writes", highest >= rank("write")),
                (
                    "--deny-destructive",
                    effective == rank("destructive") || also.contains(&rank("destructive")),
                ),
            ] {
                let what = format!("`kbagent {flag} {}`", args.join(" "));
                let r = run_from(&env, &template, &[flag], &args);
                let refusal = firewall_refusal(&r);
                let parsed = r
                    .envelope()
                    .error
                    .is_none_or(|e| e.details.is_none_or(|d| d.get("usage").is_none()));
                assert!(parsed, "{what} does not parse: {}", r.stdout);
                if blocks {
                    refused += 1;
                    let d = refusal.unwrap_or_else(|| panic!("{what} ran: {}", r.stdout));
                    assert_eq!(r.code, 6, "{what}");
                    assert_eq!(d["source"], "flag", "{what}");
                    assert_eq!(d["origin"], flag, "{what}");
                    assert_eq!(d["command"], command, "{what}");
                    assert_eq!(d["class"], CLASSES[effective], "{what}");
                    let rule = if flag == "--deny-writes" {
                        "cli:write"
                    } else {
                        "cli:destructive"
                    };
                    assert_eq!(d["rule"], rule, "{what}");
                    let requests = env.emu.requests();
                    assert!(requests.is_empty(), "{what} sent {requests:?}");
                    assert_eq!(env.config_bytes().unwrap(), template, "{what}");
                } else {
                    if args.iter().any(|a| a == "--dry-run") {
                        dry_runs += 1;
                    }
                    assert!(refusal.is_none(), "{what} was refused: {}", r.stdout);
                }
            }
        }
    }
    assert!(refused > 20, "{refused}");
    assert!(dry_runs > 10, "{dry_runs}");
}

fn policy_config(env: &TestEnv, policy: Value) {
    let mut cfg = env.config_json();
    cfg["permissions"] = policy;
    env.write_config(&serde_json::to_string_pretty(&cfg).unwrap());
}

#[test]
fn a_persisted_policy_refuses_and_names_its_rule() {
    let env = setup();
    policy_config(
        &env,
        json!({"mode": "allow", "allow": [], "deny": ["token.*", "storage.create-bucket"]}),
    );
    let before = env.config_bytes().unwrap();
    env.emu.clear_requests();
    let (out, code) = env.json(&[
        "token",
        "delete",
        "--project",
        "prod",
        "--token-id",
        "1",
        "--yes",
    ]);
    assert_eq!(code, 6);
    let err = out.err();
    assert_eq!(err.code, "PERMISSION_DENIED");
    assert_eq!(err.error_type, "authorization");
    assert!(err.message.contains("'token.delete'"), "{}", err.message);
    assert!(err.message.contains("token.*"), "{}", err.message);
    let d = err.details.as_ref().unwrap();
    assert_eq!(
        (&d["rule"], &d["source"], &d["command"], &d["class"]),
        (
            &json!("token.*"),
            &json!("config"),
            &json!("token delete"),
            &json!("destructive")
        )
    );
    assert!(env.emu.requests().is_empty());
    assert_eq!(env.config_bytes().unwrap(), before);
    // People see the same on stderr.
    let r = env.run(&[
        "storage",
        "create-bucket",
        "--project",
        "prod",
        "--stage",
        "in",
        "--name",
        "x",
    ]);
    assert_eq!(r.code, 6);
    assert!(r.stderr.contains("storage.create-bucket"), "{}", r.stderr);
    // What the policy does not name runs.
    let (out, code) = env.json(&["storage", "buckets", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
}

/// A policy written for the Python kbagent blocks what it blocks there: `project remove`
/// (destructive here, admin there) and `project add` (write here) are admin commands too.
#[test]
fn a_class_the_python_tool_gives_a_command_blocks_it_too() {
    let env = setup();
    policy_config(
        &env,
        json!({"mode": "allow", "allow": [], "deny": ["cli:admin"]}),
    );
    let before = env.config_bytes().unwrap();
    let (out, code) = env.json(&["project", "remove", "--project", "prod"]);
    assert_eq!(code, 6, "{out:?}");
    let d = out.err().details.clone().unwrap();
    assert_eq!(
        (&d["rule"], &d["class"], &d["also"]),
        (
            &json!("cli:admin"),
            &json!("destructive"),
            &json!(["admin"])
        )
    );
    assert_eq!(env.config_bytes().unwrap(), before);
    let (out, code) = env.json(&["permissions", "check", "project.add"]);
    assert_eq!(code, 6, "{out:?}");
    assert_eq!(
        (&out.data()["class"], &out.data()["also"]),
        (&json!("write"), &json!(["admin"]))
    );
    // An allow rule for the Python class does not let through more than it does there.
    policy_config(
        &env,
        json!({"mode": "deny", "allow": ["cli:admin"], "deny": []}),
    );
    let (out, code) = env.json(&["permissions", "check", "project.remove"]);
    assert_eq!(
        (code, &out.data()["rule"]),
        (6, &json!("mode:deny")),
        "{out:?}"
    );
    // Under --deny-writes, `branch merge` (a read here, a write there) is refused.
    let r = env.run(&[
        "--deny-writes",
        "--json",
        "branch",
        "merge",
        "--project",
        "prod",
    ]);
    assert_eq!(r.code, 6, "{}", r.stdout);
}

#[test]
fn a_default_deny_policy_runs_only_what_it_allows() {
    let env = setup();
    policy_config(
        &env,
        json!({"mode": "deny", "allow": ["cli:read"], "deny": []}),
    );
    let (out, code) = env.json(&["storage", "buckets", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    env.emu.clear_requests();
    let (out, code) = env.json(&[
        "storage",
        "create-bucket",
        "--project",
        "prod",
        "--stage",
        "in",
        "--name",
        "x",
    ]);
    assert_eq!(code, 6);
    let d = out.err().details.as_ref().unwrap();
    assert_eq!(
        (&d["rule"], &d["source"]),
        (&json!("mode:deny"), &json!("config"))
    );
    assert!(env.emu.requests().is_empty());
    // A dry run is a read.
    let (out, _) = env.json(&[
        "storage",
        "delete-table",
        "--project",
        "prod",
        "--table-id",
        "in.c-x.y",
        "--dry-run",
    ]);
    assert!(
        out.error
            .as_ref()
            .is_none_or(|e| e.code != "PERMISSION_DENIED"),
        "{out:?}"
    );
    // `permissions ...` is never locked out by the persisted policy.
    let (out, code) = env.json(&["permissions", "show"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["mode"], "deny");
    assert_eq!(out.data()["persisted"]["allow"], json!(["cli:read"]));
}

#[test]
fn session_rules_narrow_the_persisted_policy() {
    let env = setup();
    // The persisted policy lets every storage command through, even the destructive ones.
    policy_config(
        &env,
        json!({"mode": "allow", "allow": ["storage.*"], "deny": ["cli:destructive"]}),
    );
    let delete = [
        "storage",
        "delete-table",
        "--project",
        "prod",
        "--table-id",
        "in.c-x.y",
        "--yes",
    ];
    let (out, _) = env.json(&delete);
    assert!(
        out.error
            .as_ref()
            .is_none_or(|e| e.code != "PERMISSION_DENIED"),
        "{out:?}"
    );
    assert!(!env.emu.requests().is_empty());

    for (vars, flags, rule, source) in [
        (
            vec![("KBAGENT_DENY", "storage.delete-table")],
            vec![],
            "storage.delete-table",
            "env",
        ),
        (
            vec![("KBAGENT_DENY", "cli:write, job.*")],
            vec![],
            "cli:write",
            "env",
        ),
        (
            vec![],
            vec!["--deny-destructive"],
            "cli:destructive",
            "flag",
        ),
        (vec![], vec!["--deny-writes"], "cli:write", "flag"),
    ] {
        env.emu.clear_requests();
        let mut cmd = env.cmd();
        cmd.arg("--json").args(&flags).args(delete);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let r = Run::from(cmd.output().unwrap());
        assert_eq!(r.code, 6, "{vars:?} {flags:?}: {}", r.stdout);
        let out = r.envelope();
        let d = out.err().details.as_ref().unwrap();
        assert_eq!(
            (&d["rule"], &d["source"]),
            (&json!(rule), &json!(source)),
            "{vars:?}"
        );
        assert!(env.emu.requests().is_empty(), "{vars:?}");
        // Reads still run.
        let mut cmd = env.cmd();
        cmd.arg("--json")
            .args(&flags)
            .args(["storage", "buckets", "--project", "prod"]);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        assert_eq!(Run::from(cmd.output().unwrap()).code, 0, "{vars:?}");
    }

    // `show` and `check` report both layers.
    let mut cmd = env.cmd();
    cmd.env("KBAGENT_DENY", "token.create").args([
        "--json",
        "--deny-destructive",
        "permissions",
        "show",
    ]);
    let out = Run::from(cmd.output().unwrap()).envelope();
    let data = out.data();
    assert_eq!(data["active"], true);
    assert_eq!(data["session_flags"], json!(["--deny-destructive"]));
    assert_eq!(
        data["session_rules"],
        json!([
            {"pattern": "cli:destructive", "source": "flag", "origin": "--deny-destructive"},
            {"pattern": "token.create", "source": "env", "origin": "KBAGENT_DENY"},
        ])
    );
    let r = env.run(&[
        "--json",
        "--deny-writes",
        "permissions",
        "check",
        "storage create-bucket",
    ]);
    assert_eq!(r.code, 6);
    let out = r.envelope();
    assert_eq!(
        out.data(),
        &json!({"operation": "storage.create-bucket", "allowed": false, "class": "write",
                "also": [], "rule": "cli:write", "source": "flag", "origin": "--deny-writes"})
    );
    let (out, code) = env.json(&["permissions", "check", "storage.create-bucket"]);
    assert_eq!(code, 0);
    assert_eq!(out.data()["allowed"], true);
    let (out, code) = env.json(&["permissions", "check", "no-such.command"]);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
}

#[test]
fn an_escalating_flag_is_checked_as_its_own_operation() {
    let env = setup();
    policy_config(
        &env,
        json!({"mode": "allow", "allow": [], "deny": ["project.refresh --force"]}),
    );
    env.emu.clear_requests();
    let (out, code) = env.json(&["project", "refresh", "--all", "--force", "--yes"]);
    assert_eq!(code, 6, "{out:?}");
    let d = out.err().details.as_ref().unwrap();
    assert_eq!(d["operation"], "project.refresh --force");
    assert_eq!(d["class"], "destructive");
    assert!(env.emu.requests().is_empty());
    // Without the flag, or as a dry run, the firewall lets it through.
    for args in [
        &["project", "refresh", "--all", "--yes"][..],
        &["project", "refresh", "--all", "--force", "--dry-run"],
    ] {
        let (out, _) = env.json(args);
        assert!(
            out.error
                .as_ref()
                .is_none_or(|e| e.code != "PERMISSION_DENIED"),
            "{out:?}"
        );
    }
}

#[test]
fn a_mistyped_kbagent_deny_refuses_to_run() {
    let env = setup();
    env.emu.clear_requests();
    let mut cmd = env.cmd();
    cmd.env("KBAGENT_DENY", "storage.delete-tabel").args([
        "--json",
        "storage",
        "buckets",
        "--project",
        "prod",
    ]);
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 5);
    let out = r.envelope();
    assert_eq!(out.err().code, "CONFIG_ERROR");
    assert!(out.err().message.contains("storage.delete-tabel"));
    assert!(env.emu.requests().is_empty());
}

#[test]
fn an_unreadable_config_refuses_everything_but_reads() {
    let env = setup();
    env.write_config("{\"version\": 1, \"permissions\": {\"mode\": \"sometimes\"}}");
    let before = env.config_bytes().unwrap();
    env.emu.clear_requests();
    let (out, code) = env.json(&["project", "use", "prod"]);
    assert_eq!((out.err().code.as_str(), code), ("CONFIG_ERROR", 5));
    let (out, code) = env.json(&["version"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(env.config_bytes().unwrap(), before);
    assert!(env.emu.requests().is_empty());
}

// ---- changing the policy needs a person ----

fn no_policy(env: &TestEnv) {
    assert!(
        env.config_json()
            .get("permissions")
            .is_none_or(Value::is_null),
        "{}",
        env.config_json()
    );
}

#[test]
fn no_flag_variable_pipe_or_json_changes_the_policy() {
    let env = setup();
    let set = [
        "permissions",
        "set",
        "--mode",
        "allow",
        "--deny",
        "cli:write",
    ];
    let refused = |r: &Run, what: &str| {
        assert_eq!(r.code, 6, "{what}: {}{}", r.stdout, r.stderr);
        no_policy(&env);
    };
    refused(&env.run(&set), "no terminal");
    let r = env.run(&[&["--json"][..], &set].concat());
    refused(&r, "--json");
    assert_eq!(
        r.envelope().err().details.as_ref().unwrap()["confirmation_required"],
        true
    );
    refused(&env.run(&["permissions", "reset"]), "reset");
    // A code piped in: stdin is not a terminal, so nothing is asked and nothing is read.
    refused(&env.run_stdin(&set, "00000000\n"), "piped code");
    // No flag skips it.
    for extra in ["--yes", "-y", "--force", "--no-confirm", "--code=00000000"] {
        let r = env.run(&[&set[..], &[extra]].concat());
        assert_eq!(r.code, 2, "{extra}");
        no_policy(&env);
    }
    // No variable skips it.
    for (k, v) in [
        ("KBAGENT_YES", "1"),
        ("KBAGENT_CONFIRM", "1"),
        ("KBAGENT_CONFIRM_CODE", "00000000"),
        ("KBAGENT_ALLOW_PERMISSION_CHANGE", "1"),
        ("CI", "true"),
        ("KBAGENT_DENY", ""),
    ] {
        let mut cmd = env.cmd();
        cmd.env(k, v).args(set);
        refused(&Run::from(cmd.output().unwrap()), k);
    }
    // A typo is refused before any prompt.
    let (out, code) = env.json(&[
        "permissions",
        "set",
        "--mode",
        "allow",
        "--deny",
        "storag.*",
    ]);
    assert_eq!((out.err().code.as_str(), code), ("INVALID_ARGUMENT", 2));
    assert_eq!(
        out.err().details.as_ref().unwrap()["invalid_patterns"],
        json!(["storag.*"])
    );
}

#[test]
fn other_commands_keep_the_policy_as_it_is() {
    let env = setup();
    let policy = json!({"mode": "deny", "allow": ["cli:read", "project.*"], "deny": []});
    policy_config(&env, policy.clone());
    // `project edit` has no way to touch it ...
    let r = env.run(&[
        "project",
        "edit",
        "--project",
        "prod",
        "--permissions",
        "{}",
    ]);
    assert_eq!(r.code, 2);
    // ... and its changes keep it.
    let (out, code) = env.json(&["project", "edit", "--project", "prod", "--new-alias", "p2"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(env.config_json()["permissions"], policy);
    let (out, code) = env.json(&["project", "use", "p2"]);
    assert_eq!(code, 0, "{out:?}");
    let token = env.token(1, "admin");
    let (out, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "other",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &token,
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(env.config_json()["permissions"], policy);
}

/// Runs `kbagent <args>` on a pseudo-terminal (`script`), answers the code prompt with
/// `answer(code)` and returns everything the terminal showed and the exit code.
fn on_terminal(env: &TestEnv, args: &[&str], answer: fn(&str) -> String) -> (String, i32) {
    let inner = env.base();
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(inner.get_program())
        .chain(args.iter().map(std::ffi::OsStr::new))
        .map(quote)
        .collect();
    let mut cmd = std::process::Command::new("script");
    cmd.env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.current_dir(env.home.path())
        .args(["-qec", &line.join(" "), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("`script` (util-linux) is installed");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut stdin = child.stdin.take();
    let marker = "type this code: ";
    // A bound so that a missing prompt fails the test instead of hanging it.
    while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(60)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(at) = seen.find(marker)
            && let Some(code) = seen[at + marker.len()..].split_whitespace().next()
            && seen[at + marker.len()..].contains('\n')
            && let Some(mut pipe) = stdin.take()
        {
            pipe.write_all(format!("{}\n", answer(code)).as_bytes())
                .unwrap();
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    (seen, status.code().unwrap_or(-1))
}

#[test]
fn a_person_on_a_terminal_sets_and_resets_the_policy_by_typing_the_code() {
    let env = setup();
    let set = [
        "permissions",
        "set",
        "--mode",
        "allow",
        "--deny",
        "cli:destructive",
        "--deny",
        "token.*",
    ];
    // A wrong code changes nothing.
    let (seen, code) = on_terminal(&env, &set, |c| format!("{c}0"));
    assert_eq!(code, 6, "{seen}");
    assert!(seen.contains("did not match"), "{seen}");
    no_policy(&env);
    // The code shown, typed back.
    let (seen, code) = on_terminal(&env, &set, str::to_owned);
    assert_eq!(code, 0, "{seen}");
    assert_no_leak(&seen, &all_secrets(&env));
    assert!(seen.contains("Permission policy updated."), "{seen}");
    assert_eq!(
        env.config_json()["permissions"],
        json!({"mode": "allow", "allow": [], "deny": ["cli:destructive", "token.*"]})
    );
    // Each run draws a new code.
    let (first, _) = on_terminal(&env, &["permissions", "reset"], |_| "x".to_owned());
    let (second, code) = on_terminal(&env, &["permissions", "reset"], str::to_owned);
    assert_eq!(code, 0, "{second}");
    let code_of = |s: &str| {
        let at = s.find("type this code: ").unwrap() + "type this code: ".len();
        s[at..].split_whitespace().next().unwrap().to_owned()
    };
    assert_ne!(code_of(&first), code_of(&second));
    no_policy(&env);
}

#[test]
fn a_terminal_without_stdin_is_no_person() {
    let env = setup();
    let answers = env.home.path().join("answers.txt");
    std::fs::write(&answers, "00000000\n").unwrap();
    let mut inner = env.base();
    inner.args([
        "permissions",
        "set",
        "--mode",
        "allow",
        "--deny",
        "cli:write",
    ]);
    let r = in_pty(&inner, Some(answers.to_str().unwrap()));
    assert_eq!(r.code, 6, "{}", r.stdout);
    assert!(!r.stdout.contains("type this code"), "{}", r.stdout);
    no_policy(&env);
}

/// Runs kbagent without `KBAGENT_CONFIG_DIR` (so the platform config and `.kbagent/`
/// discovery apply), from `cwd`, with extra variables.
fn unpinned(env: &TestEnv, cwd: &std::path::Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = env.base();
    cmd.env_remove("KBAGENT_CONFIG_DIR").current_dir(cwd);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    Run::from(cmd.args(&all).output().unwrap())
}

/// Registers project 0 as `alias` in `dir`, or in the platform config.
fn register(env: &TestEnv, dir: Option<&std::path::Path>, alias: &str) {
    let mut cmd = env.base();
    match dir {
        Some(d) => cmd.env("KBAGENT_CONFIG_DIR", d),
        None => cmd.env_remove("KBAGENT_CONFIG_DIR"),
    };
    let r = Run::from(
        assert_cmd::Command::from_std(cmd)
            .args([
                "--json",
                "project",
                "add",
                "--project",
                alias,
                "--url",
                env.emu.url(),
                "--token-stdin",
            ])
            .write_stdin(env.token(0, "admin"))
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// The ways of pointing kbagent at a config without the policy: `--config-dir`,
/// `KBAGENT_CONFIG_DIR`, a new `.kbagent/` from `init`, a headless session. The platform
/// config's policy still applies to each, and `init --force` keeps a replaced file's policy.
#[test]
fn another_config_does_not_shed_the_policy() {
    let env = TestEnv::new();
    let home = env.home.path().to_path_buf();
    register(&env, None, "g");
    let global = home.join(".config/keboola-agent-cli/config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&global).unwrap()).unwrap();
    cfg["permissions"] = json!({"mode": "allow", "allow": [], "deny": ["storage.create-bucket"]});
    std::fs::write(&global, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let create = ["storage", "create-bucket", "--stage", "in", "--name", "x"];
    let refused_by_global = |r: &Run, what: &str| {
        assert_eq!(r.code, 6, "{what}: {}", r.stdout);
        let d = r.envelope().err().details.clone().unwrap();
        assert_eq!(d["rule"], "storage.create-bucket", "{what}");
        assert_eq!(d["origin"], global.display().to_string(), "{what}");
    };

    // Another config directory, by flag and by variable, with the project registered there.
    let other = home.join("other");
    register(&env, Some(&other), "o");
    env.emu.clear_requests();
    let other_s = other.display().to_string();
    let mut by_flag = vec!["--config-dir", other_s.as_str()];
    by_flag.extend_from_slice(&create);
    refused_by_global(&unpinned(&env, &home, &[], &by_flag), "--config-dir");
    refused_by_global(
        &unpinned(
            &env,
            &home,
            &[("KBAGENT_CONFIG_DIR", other_s.as_str())],
            &create,
        ),
        "KBAGENT_CONFIG_DIR",
    );
    let show = unpinned(
        &env,
        &home,
        &[("KBAGENT_CONFIG_DIR", other_s.as_str())],
        &["permissions", "show"],
    );
    let shown = show.envelope().data()["also_enforced"].clone();
    assert_eq!(
        shown[0]["config_file"],
        global.display().to_string(),
        "{}",
        show.stdout
    );
    assert_eq!(shown[0]["deny"], json!(["storage.create-bucket"]));
    // A headless session reads no config file, but answers to the platform config's policy.
    let token = env.token(0, "admin");
    let headless = [
        ("KBAGENT_PROJECT_FROM_ENV", "1"),
        ("KBC_STORAGE_API_URL", env.emu.url()),
        ("KBC_TOKEN", token.as_str()),
    ];
    refused_by_global(&unpinned(&env, &home, &headless, &create), "headless");
    // ... and to the policy of the config directory it is pointed at.
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(other.join("config.json")).unwrap()).unwrap();
    cfg["permissions"] = json!({"mode": "allow", "allow": [], "deny": ["storage.buckets"]});
    std::fs::write(
        other.join("config.json"),
        serde_json::to_vec_pretty(&cfg).unwrap(),
    )
    .unwrap();
    let mut pointed = headless.to_vec();
    pointed.push(("KBAGENT_CONFIG_DIR", other_s.as_str()));
    let r = unpinned(&env, &home, &pointed, &["storage", "buckets"]);
    assert_eq!(r.code, 6, "{}", r.stdout);
    assert_eq!(
        r.envelope().err().details.clone().unwrap()["origin"],
        other.join("config.json").display().to_string()
    );
    assert!(env.emu.requests().is_empty(), "{:?}", env.emu.requests());

    // A new, empty `.kbagent/` workspace shadows the platform config, not its policy.
    let work = home.join("work");
    std::fs::create_dir(&work).unwrap();
    let init = unpinned(&env, &work, &[], &["init"]);
    assert_eq!(init.code, 0, "{}", init.stdout);
    refused_by_global(&unpinned(&env, &work, &[], &create), ".kbagent/");
    // With the projects copied in, the policy comes along.
    let init = unpinned(&env, &work, &[], &["init", "--from-global", "--force"]);
    assert_eq!(init.code, 0, "{}", init.stdout);
    let copied = unpinned(&env, &work, &[], &create);
    assert_eq!(copied.code, 6, "{}", copied.stdout);
    // `permissions check` gives the same answer as the firewall.
    let check = unpinned(
        &env,
        &work,
        &[],
        &["permissions", "check", "storage.create-bucket"],
    );
    assert_eq!(check.code, 6, "{}", check.stdout);
    // What no policy names still runs there.
    assert_eq!(unpinned(&env, &work, &[], &["storage", "buckets"]).code, 0);

    // `init --force` over a workspace keeps the policy that workspace had.
    let local = work.join(".kbagent/config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
    cfg["permissions"] = json!({"mode": "allow", "allow": [], "deny": ["storage.buckets"]});
    std::fs::write(&local, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let again = unpinned(&env, &work, &[], &["init", "--force"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let after: Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
    assert_eq!(after["permissions"]["deny"], json!(["storage.buckets"]));
    assert_eq!(unpinned(&env, &work, &[], &["storage", "buckets"]).code, 6);
}

/// A verb's other name (the Python kbagent's `config trash-list`) runs the same command, and
/// a pattern naming it blocks the command under either name.
#[test]
fn a_pattern_naming_the_python_name_of_a_verb_blocks_it() {
    let env = setup();
    let (out, code) = env.json(&["config", "trash-list", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    let (same, _) = env.json(&["config", "trash", "--project", "prod"]);
    assert_eq!(out.data(), same.data());
    for args in [["config", "trash"], ["config", "trash-list"]] {
        let r = Run::from(
            env.cmd()
                .env("KBAGENT_DENY", "config.trash-list")
                .arg("--json")
                .args(args)
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 6, "{args:?}: {}", r.stdout);
        assert_eq!(
            r.envelope().err().details.clone().unwrap()["rule"],
            "config.trash-list"
        );
    }
    policy_config(
        &env,
        json!({"mode": "allow", "allow": [], "deny": ["config.trash-list"]}),
    );
    let (out, code) = env.json(&["config", "trash", "--project", "prod"]);
    assert_eq!(code, 6, "{out:?}");
}
