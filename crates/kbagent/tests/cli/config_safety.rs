//! Which configs kbagent trusts and how it reads and writes them when the surroundings are
//! hostile: a config planted above `$HOME`, files other users can write, symlinks, endless or
//! silent inputs, a lock that is never released, backups of removed tokens, a token given as
//! an alias, and a file-size limit.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

/// Generous: only a hang gets near it.
const LIMIT: Duration = Duration::from_secs(90);
/// The wait bound the tests give kbagent (lock and token input), instead of 30 s.
const WAIT_MS: &str = "1500";

fn add_args<'a>(alias: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "--json",
        "project",
        "add",
        "--project",
        alias,
        "--url",
        url,
        "--no-warn-non-master",
    ]
}

fn config_with(env: &TestEnv, alias: &str) -> String {
    json!({"version": 1, "projects": {alias: {
        "stack_url": env.emu.url(),
        "token": env.token(0, "admin"),
        "project_id": env.project_id(0),
    }}})
    .to_string()
}

/// `program -c script kbagent-binary`, with the hermetic environment of [`TestEnv::base`].
fn shell(env: &TestEnv, program: &str, script: &str) -> Command {
    let base = env.base();
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_kbagent"))
        .current_dir(env.home.path());
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn aliases(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alias"].as_str().unwrap().to_owned())
        .collect()
}

/// A refused config: CONFIG_ERROR, exit 5, the path named, nothing leaked.
fn assert_refused(run: &Run, path: &Path, why: &str, env: &TestEnv) {
    let out = run.envelope();
    assert_eq!(run.code, 5, "{}", run.stdout);
    assert_eq!(out.err().code, "CONFIG_ERROR");
    let msg = &out.err().message;
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(why), "{msg}");
    assert_no_leak(&format!("{}{}", run.stdout, run.stderr), &all_secrets(env));
}

#[test]
fn local_config_search_never_leaves_home() {
    let env = TestEnv::new();
    let root = env.home.path();
    let home = root.join("home");
    let outside = root.join("shared/work");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&outside).unwrap();
    // Planted by someone else in a directory above the working directory, outside $HOME.
    let planted = root.join("shared/.kbagent");
    fs::create_dir_all(&planted).unwrap();
    fs::write(planted.join("config.json"), config_with(&env, "planted")).unwrap();
    let list = |cwd: &Path| {
        let mut cmd = env.base();
        cmd.env_remove("KBAGENT_CONFIG_DIR")
            .env("HOME", &home)
            .current_dir(cwd)
            .args(["--json", "project", "list"]);
        Run::from(cmd.output().unwrap())
    };
    let r = list(&outside);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(aliases(r.envelope().data()).is_empty(), "{}", r.stdout);

    // The global config (the platform directory under $HOME) is checked the same way.
    let global = home.join(".config/keboola-agent-cli");
    fs::create_dir_all(&global).unwrap();
    fs::write(global.join("config.json"), config_with(&env, "global")).unwrap();
    chmod(&global.join("config.json"), 0o664);
    assert_refused(
        &list(&outside),
        &global.join("config.json"),
        "writable by its group",
        &env,
    );
    chmod(&global.join("config.json"), 0o600);
    assert_eq!(aliases(list(&outside).envelope().data()), ["global"]);

    // Inside $HOME the nearest .kbagent/ is still found, and the walk ends at $HOME.
    let repo = home.join("repo/src");
    fs::create_dir_all(&repo).unwrap();
    fs::create_dir_all(home.join("repo/.kbagent")).unwrap();
    fs::write(
        home.join("repo/.kbagent/config.json"),
        config_with(&env, "mine"),
    )
    .unwrap();
    let r = list(&repo);
    assert_eq!(aliases(r.envelope().data()), ["mine"]);

    // A local config another user can write is refused, not skipped.
    chmod(&home.join("repo/.kbagent/config.json"), 0o666);
    let r = list(&repo);
    assert_refused(
        &r,
        &home.join("repo/.kbagent/config.json"),
        "writable by group and others",
        &env,
    );
}

#[test]
fn configs_other_users_can_write_are_refused() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let file = env.config_path();
    let before = env.config_bytes().unwrap();
    let add_dev = || {
        let mut args = add_args("dev", env.emu.url());
        args.push("--token-stdin");
        env.run_stdin(&args, &env.token(1, "admin"))
    };
    chmod(&file, 0o620);
    assert_refused(
        &env.run(&["--json", "project", "list"]),
        &file,
        "writable by its group",
        &env,
    );
    assert_refused(&add_dev(), &file, "writable by its group", &env);
    chmod(&file, 0o600);
    chmod(&env.config_dir, 0o777);
    assert_refused(
        &add_dev(),
        &env.config_dir,
        "writable by group and others",
        &env,
    );
    chmod(&env.config_dir, 0o700);
    assert_eq!(env.config_bytes().unwrap(), before, "nothing was written");

    // The same through --config-dir (the environment variable is what TestEnv uses).
    let other = env.home.path().join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("config.json"), config_with(&env, "x")).unwrap();
    chmod(&other, 0o757);
    let flag = other.display().to_string();
    assert_refused(
        &env.run(&["--json", "--config-dir", &flag, "project", "list"]),
        &other,
        "writable by others",
        &env,
    );
    chmod(&other, 0o700);
    let r = env.run(&["--json", "--config-dir", &flag, "project", "list"]);
    assert_eq!(aliases(r.envelope().data()), ["x"]);

    // Ownership by another user can only be set up by root.
    if fs::metadata(&file).unwrap().uid() == 0 {
        std::os::unix::fs::chown(&file, Some(4242), None).unwrap();
        assert_refused(
            &env.run(&["--json", "project", "list"]),
            &file,
            "owned by another user",
            &env,
        );
        std::os::unix::fs::chown(&other, Some(4242), None).unwrap();
        assert_refused(
            &env.run(&["--json", "--config-dir", &flag, "project", "list"]),
            &other,
            "owned by another user",
            &env,
        );
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn symlinked_config_keeps_backup_and_gitignore_beside_the_link() {
    let env = TestEnv::new();
    let dotfiles = env.home.path().join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::create_dir_all(&env.config_dir).unwrap();
    let real = dotfiles.join("kbagent.json");
    fs::write(&real, r#"{"version": 1, "projects": {}}"#).unwrap();
    std::os::unix::fs::symlink(&real, env.config_path()).unwrap();
    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin");

    assert_eq!(
        names_in(&dotfiles),
        ["kbagent.json"],
        "only the target changed"
    );
    let target: Value = serde_json::from_slice(&fs::read(&real).unwrap()).unwrap();
    let stored: Vec<&String> = target["projects"].as_object().unwrap().keys().collect();
    assert_eq!(stored, ["dev", "prod"]);
    assert!(
        fs::symlink_metadata(env.config_path())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        names_in(&env.config_dir),
        [
            ".gitignore",
            "config.json",
            "config.json.bak",
            "config.json.lock"
        ]
    );
    let bak: Value =
        serde_json::from_slice(&fs::read(env.config_dir.join("config.json.bak")).unwrap()).unwrap();
    assert!(bak["projects"].get("prod").is_some() && bak["projects"].get("dev").is_none());
    for name in [".gitignore", "config.json.bak", "config.json.lock"] {
        assert_eq!(mode(&env.config_dir.join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&real), 0o600);
}

fn token_file_add(env: &TestEnv, file: &Path) -> (Run, Option<i32>) {
    let mut cmd = env.base();
    let file = file.display().to_string();
    let mut args = add_args("p", env.emu.url());
    args.extend(["--token-file", &file]);
    cmd.args(&args).env("KBAGENT_WAIT_TIMEOUT_MS", WAIT_MS);
    run_or_kill(cmd, None, LIMIT)
}

fn assert_token_refused(run: &Run, says: &str) {
    let out = run.envelope();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(out.err().code, "INVALID_ARGUMENT");
    assert!(out.err().message.contains(says), "{}", out.err().message);
}

#[test]
fn endless_token_input_is_capped() {
    let env = TestEnv::new();
    // `yes` never ends: reading it whole would never finish.
    let mut cmd = shell(&env, "sh", r#"yes | "$0" "$@""#);
    cmd.args(add_args("p", env.emu.url())).arg("--token-stdin");
    let (run, _) = run_or_kill(cmd, None, LIMIT);
    assert_token_refused(&run, "larger than 64 KiB");

    let (run, _) = token_file_add(&env, Path::new("/dev/zero"));
    assert_token_refused(&run, "larger than 64 KiB");

    // Just over the bound, as a regular file.
    let big = env.home.path().join("big-token");
    fs::write(&big, "1".repeat(64 * 1024 + 1)).unwrap();
    let (run, _) = token_file_add(&env, &big);
    assert_token_refused(&run, "larger than 64 KiB");
    assert!(env.config_bytes().is_none(), "nothing was written");
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

#[test]
fn silent_token_fifo_fails_instead_of_hanging_and_a_pipe_still_works() {
    let env = TestEnv::new();
    let fifo = env.home.path().join("token.fifo");
    mkfifo(&fifo);
    let (run, signal) = token_file_add(&env, &fifo);
    assert_eq!(signal, None);
    assert_token_refused(&run, "No token arrived from the file");
    assert!(
        run.stderr.contains("waiting for the token from the file"),
        "{}",
        run.stderr
    );
    assert!(env.config_bytes().is_none());

    // Process substitution hands kbagent a pipe path (/dev/fd/N): that is a normal use.
    let mut cmd = shell(
        &env,
        "bash",
        r#""$0" --json project add --project p --url "$URL" --no-warn-non-master --token-file <(printf %s "$T")"#,
    );
    cmd.env("KBAGENT_WAIT_TIMEOUT_MS", WAIT_MS)
        .env("T", env.token(0, "admin"))
        .env("URL", env.emu.url());
    let (run, _) = run_or_kill(cmd, None, LIMIT);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        env.config_json()["projects"]["p"]["token"],
        env.token(0, "admin")
    );
}

fn list_bounded(env: &TestEnv) -> (Run, Option<i32>) {
    let mut cmd = env.base();
    cmd.args(["--json", "project", "list"]);
    run_or_kill(cmd, None, LIMIT)
}

#[test]
fn config_that_is_not_a_regular_file_or_too_large_is_refused() {
    let env = TestEnv::new();
    fs::create_dir_all(&env.config_dir).unwrap();
    let file = env.config_path();

    mkfifo(&file);
    let (run, signal) = list_bounded(&env);
    assert_eq!(signal, None);
    assert_refused(
        &run,
        &file,
        "is not a regular file (it is a named pipe)",
        &env,
    );
    fs::remove_file(&file).unwrap();

    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    let (run, _) = list_bounded(&env);
    assert_refused(&run, &file, "is not a regular file (it is a device)", &env);
    fs::remove_file(&file).unwrap();

    // A sparse file: large, yet costs no disk.
    let f = fs::File::create(&file).unwrap();
    f.set_len(5 * 1024 * 1024).unwrap();
    drop(f);
    let (run, _) = list_bounded(&env);
    assert_refused(&run, &file, "larger than 4 MiB", &env);
    // Writers refuse it too and leave it alone.
    let mut args = add_args("p", env.emu.url());
    args.push("--token-stdin");
    let run = env.run_stdin(&args, &env.token(0, "admin"));
    assert_refused(&run, &file, "larger than 4 MiB", &env);
    assert_eq!(fs::metadata(&file).unwrap().len(), 5 * 1024 * 1024);
}

#[test]
fn held_lock_makes_a_writer_give_up_with_a_message() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let before = env.config_bytes().unwrap();
    let lock_path = env.config_dir.join("config.json.lock");
    let held = fs::File::options()
        .read(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();

    let mut cmd = env.base();
    cmd.args(["--json", "project", "use", "prod"])
        .env("KBAGENT_WAIT_TIMEOUT_MS", WAIT_MS);
    let (run, _) = run_or_kill(cmd, None, LIMIT);
    assert_refused(&run, &lock_path, "did not release", &env);
    assert!(
        run.stderr.contains(&format!(
            "waiting for another kbagent to release {}",
            lock_path.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(env.config_bytes().unwrap(), before);

    // Readers do not take the lock.
    let r = env.run(&["--json", "project", "list"]);
    assert_eq!(r.code, 0);
    held.unlock().unwrap();
    let (out, code) = env.json(&["project", "use", "prod"]);
    assert_eq!(code, 0, "{out:?}");
}

fn backup_text(env: &TestEnv) -> String {
    fs::read_to_string(env.config_dir.join("config.json.bak")).unwrap()
}

#[test]
fn removed_or_replaced_tokens_do_not_survive_in_the_backup() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin");
    let (out, code) = env.json(&["project", "remove", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    let bak = backup_text(&env);
    assert!(
        !bak.contains(&env.token(0, "admin")),
        "removed token in the backup"
    );
    let bak: Value = serde_json::from_str(&bak).unwrap();
    assert_eq!(bak["projects"]["dev"]["token"], env.token(1, "admin"));

    // A replaced token: the backup keeps neither the old token nor its entry.
    let (out, code) = env.json_stdin(
        &[
            "project",
            "edit",
            "--project",
            "dev",
            "--token-stdin",
            "--no-warn-non-master",
        ],
        &env.token(1, "storage"),
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        env.config_json()["projects"]["dev"]["token"],
        env.token(1, "storage")
    );
    let bak = backup_text(&env);
    assert!(
        !bak.contains(&env.token(1, "admin")),
        "replaced token in the backup"
    );
    // Every token the backup holds is one the config holds.
    let cfg = env.config_json();
    for p in all_secrets(&env) {
        if bak.contains(&p) {
            assert!(cfg.to_string().contains(&p));
        }
    }
}

#[test]
fn token_shaped_alias_is_refused_without_echoing_it() {
    let env = TestEnv::new();
    let shaped = format!(
        "{}-77-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        env.project_id(0)
    );
    let mut args = add_args(&shaped, env.emu.url());
    args.push("--token-stdin");
    let run = env.run_stdin(&args, &env.token(0, "admin"));
    let out = run.envelope();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(out.err().code, "USAGE_ERROR");
    assert!(out.err().message.contains("looks like an API token"));
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains(&shaped[shaped.len() - 4..]), "{all}");
    assert!(!all.contains(leak_marker(&shaped)), "{all}");
    assert!(env.config_bytes().is_none());

    // Nor as a new name for an existing project.
    env.add("prod", 0, "admin");
    let (out, code) = env.json(&[
        "project",
        "edit",
        "--project",
        "prod",
        "--new-alias",
        &shaped,
    ]);
    assert_eq!(code, 2);
    assert_eq!(out.err().code, "USAGE_ERROR");
    // Names that merely start with a number are fine.
    let (out, code) = env.json(&[
        "project",
        "edit",
        "--project",
        "prod",
        "--new-alias",
        "2024-quarterly-reports",
    ]);
    assert_eq!(code, 0, "{out:?}");
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".tmp"))
        .collect()
}

#[test]
fn file_size_limit_is_reported_not_fatal() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let before = env.config_bytes().unwrap();
    // Under `ulimit -f 0` writing to a regular file raises SIGXFSZ; stdout is a pipe, which
    // the limit does not cover, so the error document still gets out.
    let mut cmd = shell(&env, "sh", r#"ulimit -f 0 && exec "$0" "$@""#);
    cmd.args(add_args("dev", env.emu.url()))
        .arg("--token-stdin");
    let (run, signal) = run_or_kill(cmd, Some(env.token(1, "admin").as_bytes()), LIMIT);
    assert_eq!(signal, None, "killed by a signal; stderr: {}", run.stderr);
    let out = run.envelope();
    assert_eq!(run.code, 5, "{}", run.stdout);
    assert_eq!(out.err().code, "CONFIG_ERROR");
    assert!(
        out.err().message.contains("File too large"),
        "{}",
        out.err().message
    );
    assert_eq!(
        env.config_bytes().unwrap(),
        before,
        "the config is unchanged"
    );
    assert!(temp_files(&env.config_dir).is_empty());
}
