//! The config file under stress: many kbagent processes writing at once, processes killed
//! with SIGKILL in the middle of a write, and readers racing writers.
//!
//! Counts come from environment variables so a longer run is one command away
//! (`scripts/reliability.sh`); the defaults keep CI fast. Every test prints its figures.

#![allow(
    clippy::print_stderr,
    reason = "the tests print the figures they measured"
)]

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;

/// A positive count from the environment, or `default`.
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// xorshift64*: enough randomness for kill delays, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn from_env() -> (Self, u64) {
        let seed = std::env::var("REL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                nanos ^ u64::from(std::process::id()).rotate_left(32)
            });
        (Rng(seed.max(1)), seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// `kbagent --json <args>` with the hermetic environment.
fn kbagent(env: &TestEnv, args: &[&str]) -> Command {
    let mut cmd = env.base();
    cmd.arg("--json").args(args);
    cmd
}

fn spawn(mut cmd: Command, stdin: Option<&str>) -> std::process::Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kbagent starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(text) = stdin {
        // A process killed before it reads its token closes the pipe: that is expected.
        let _ = pipe.write_all(text.as_bytes());
    }
    drop(pipe);
    child
}

/// Runs a command to completion; `Err` describes the failure (for use off the main thread).
fn run_ok(cmd: Command, stdin: Option<&str>) -> Result<Value, String> {
    let out: Output = spawn(cmd, stdin).wait_with_output().expect("kbagent runs");
    let run = Run::from(out);
    let parsed: Result<Value, _> = serde_json::from_str(&run.stdout);
    match parsed {
        Ok(v) if run.code == 0 && v["status"] == "ok" => Ok(v["data"].clone()),
        _ => Err(format!(
            "exit {}: stdout {} stderr {}",
            run.code, run.stdout, run.stderr
        )),
    }
}

fn read_config(path: &Path) -> Value {
    let bytes = fs::read(path).expect("config.json exists");
    assert!(!bytes.is_empty(), "config.json is empty");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "config.json is not valid JSON ({e}):\n{}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

/// Temporary files a writer leaves behind when it dies between creating and renaming one.
fn temp_files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".config-") && n.ends_with(".tmp"))
        .collect()
}

/// The lock must be free once no kbagent runs: the kernel drops it with the process.
fn assert_lock_free(dir: &Path) {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("config.json.lock"))
        .expect("lock file exists");
    file.try_lock()
        .expect("config.json.lock is free after the writer died");
    file.unlock().unwrap();
}

fn aliases(config: &Value) -> BTreeSet<String> {
    config["projects"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

// ---- 50 concurrent processes ----------------------------------------------------------------

/// One process's script: each owns `keep-i` and `temp-i`, so the end state is known exactly,
/// while all of them contend for the same file and lock. Failures are collected, never
/// allowed to skip a barrier (that would hang the others).
fn script(env: &TestEnv, i: usize, url: &str, barrier: &Barrier) -> Vec<String> {
    let mut failures = Vec::new();
    let p = i % 2;
    let keep = format!("keep-{i}");
    let temp = format!("temp-{i}");
    let kept = format!("kept-{i}");
    let mut step = |args: &[&str], stdin: Option<String>| {
        if let Err(e) = run_ok(kbagent(env, args), stdin.as_deref()) {
            failures.push(format!("process {i}: {args:?}: {e}"));
        }
    };
    let add = |alias: &str| {
        vec![
            "project".to_owned(),
            "add".into(),
            "--project".into(),
            alias.to_owned(),
            "--url".into(),
            url.to_owned(),
            "--token-stdin".into(),
            "--no-warn-non-master".into(),
        ]
    };
    barrier.wait();
    let a = add(&keep);
    step(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        Some(env.token(p, "admin")),
    );
    let a = add(&temp);
    step(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        Some(env.token(p, "guest")),
    );
    if i % 2 == 1 {
        // A rename and a new (verified) token in one edit.
        step(
            &[
                "project",
                "edit",
                "--project",
                &keep,
                "--new-alias",
                &kept,
                "--token-stdin",
                "--no-warn-non-master",
            ],
            Some(env.token(p, "storage")),
        );
    } else {
        step(
            &["project", "edit", "--project", &keep, "--new-alias", &kept],
            None,
        );
    }
    // Every process pins its own project at about the same moment.
    barrier.wait();
    step(&["project", "use", &kept], None);
    step(&["project", "remove", "--project", &temp], None);
    failures
}

#[test]
fn concurrent_processes_lose_no_change() {
    let processes = count("REL_PROCESSES", 50);
    let rounds = count("REL_ROUNDS", 2);
    let env = TestEnv::new();
    env.add("anchor", 0, "admin");
    // A key kbagent does not know must survive every write.
    let mut seed = env.config_json();
    seed["future_setting"] = json!({"kept": true, "list": [1, 2, 3]});
    let seed_text = serde_json::to_string_pretty(&seed).unwrap();
    let url = env.emu.url().to_owned();
    let stored_url = seed["projects"]["anchor"]["stack_url"].clone();
    let started = Instant::now();
    let mut commands = 0;
    for round in 0..rounds {
        env.write_config(&seed_text);
        let barrier = Barrier::new(processes);
        let failures: Vec<String> = thread::scope(|s| {
            let handles: Vec<_> = (0..processes)
                .map(|i| {
                    let (env, url, barrier) = (&env, &url, &barrier);
                    s.spawn(move || script(env, i, url, barrier))
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("script thread"))
                .collect()
        });
        assert!(
            failures.is_empty(),
            "round {round}: {} commands failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        commands += processes * 5;

        let cfg = read_config(&env.config_path());
        let mut expected: BTreeSet<String> = (0..processes).map(|i| format!("kept-{i}")).collect();
        expected.insert("anchor".into());
        assert_eq!(aliases(&cfg), expected, "round {round}: wrong project set");
        assert_eq!(
            cfg["projects"]["anchor"], seed["projects"]["anchor"],
            "an untouched project changed"
        );
        assert_eq!(cfg["future_setting"], seed["future_setting"]);
        for i in 0..processes {
            let p = i % 2;
            let entry = &cfg["projects"][format!("kept-{i}")];
            let token = if i % 2 == 1 {
                env.token(p, "storage")
            } else {
                env.token(p, "admin")
            };
            assert_eq!(
                entry["token"],
                json!(token),
                "round {round}: kept-{i} token"
            );
            assert_eq!(entry["project_id"], json!(env.project_id(p)));
            assert_eq!(entry["stack_url"], stored_url);
        }
        let default = cfg["default_project"].as_str().unwrap_or_default();
        assert!(
            default.starts_with("kept-") && expected.contains(default),
            "round {round}: default project {default:?} is not one of the pinned aliases"
        );
        assert!(
            temp_files(&env.config_dir).is_empty(),
            "temporary files left behind: {:?}",
            temp_files(&env.config_dir)
        );
        let backup: Value =
            serde_json::from_slice(&fs::read(env.config_dir.join("config.json.bak")).unwrap())
                .expect("the backup is valid JSON");
        assert!(backup["projects"].is_object());
        // kbagent itself reads back exactly what the file holds.
        let listed = run_ok(kbagent(&env, &["project", "list"]), None).unwrap();
        let listed: BTreeSet<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["alias"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, expected);
    }
    eprintln!(
        "concurrency: {rounds} round(s) x {processes} processes x 5 writes = {commands} commands \
         (add, add, edit --new-alias [+ token], use, remove); every change kept, default one of \
         the pinned aliases, unknown keys kept; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Two edits of the same project at once, one changing the URL and one the token: each
/// changes only its own field, so both changes must survive whatever the order.
#[test]
fn concurrent_edits_of_one_project_keep_both_changes() {
    let rounds = count("REL_EDIT_ROUNDS", 10);
    let env = TestEnv::new();
    env.add("shared", 0, "admin");
    let seed_text = String::from_utf8(env.config_bytes().unwrap()).unwrap();
    // The same emulator under another loopback name is a different stack URL.
    let port = env.emu.url().rsplit(':').next().unwrap().to_owned();
    let other_url = format!("http://localhost:{port}");
    let new_token = env.token(0, "guest");
    let started = Instant::now();
    for round in 0..rounds {
        env.write_config(&seed_text);
        let barrier = Barrier::new(2);
        let results: Vec<Result<Value, String>> = thread::scope(|s| {
            let url_edit = s.spawn(|| {
                barrier.wait();
                run_ok(
                    kbagent(
                        &env,
                        &[
                            "project",
                            "edit",
                            "--project",
                            "shared",
                            "--url",
                            &other_url,
                        ],
                    ),
                    None,
                )
            });
            let token_edit = s.spawn(|| {
                barrier.wait();
                run_ok(
                    kbagent(
                        &env,
                        &[
                            "project",
                            "edit",
                            "--project",
                            "shared",
                            "--token-stdin",
                            "--no-warn-non-master",
                        ],
                    ),
                    Some(&new_token),
                )
            });
            vec![url_edit.join().unwrap(), token_edit.join().unwrap()]
        });
        for r in &results {
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
        let cfg = read_config(&env.config_path());
        let entry = &cfg["projects"]["shared"];
        assert_eq!(
            entry["stack_url"].as_str().map(|u| u.trim_end_matches('/')),
            Some(other_url.as_str()),
            "round {round}: the URL change was lost"
        );
        assert_eq!(
            entry["token"],
            json!(new_token),
            "round {round}: the token change was lost"
        );
    }
    eprintln!(
        "same-project edits: {rounds} rounds of a URL edit racing a token edit; both changes \
         kept every time; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ---- SIGKILL during writes --------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Use,
    Rename,
    AddOrRemove,
}

const OPS: [Op; 3] = [Op::Use, Op::Rename, Op::AddOrRemove];

struct Planned {
    args: Vec<String>,
    stdin: Option<String>,
    new: Value,
}

/// The command to run next and the exact document it must leave when it completes.
fn plan(op: Op, old: &Value, env: &TestEnv, c_entry: &Value) -> Planned {
    let names = aliases(old);
    let a_side = if names.contains("a") { "a" } else { "a2" };
    let default = old["default_project"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut new = old.clone();
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match op {
        Op::Use => {
            let target = if default == "b" { a_side } else { "b" };
            new["default_project"] = json!(target);
            Planned {
                args: strings(&["project", "use", target]),
                stdin: None,
                new,
            }
        }
        Op::Rename => {
            let to = if a_side == "a" { "a2" } else { "a" };
            let projects = new["projects"].as_object_mut().unwrap();
            let entry = projects.remove(a_side).unwrap();
            projects.insert(to.to_owned(), entry);
            if default == a_side {
                new["default_project"] = json!(to);
            }
            Planned {
                args: strings(&["project", "edit", "--project", a_side, "--new-alias", to]),
                stdin: None,
                new,
            }
        }
        Op::AddOrRemove if names.contains("c") => {
            new["projects"].as_object_mut().unwrap().remove("c");
            Planned {
                args: strings(&["project", "remove", "--project", "c"]),
                stdin: None,
                new,
            }
        }
        Op::AddOrRemove => {
            new["projects"]["c"] = c_entry.clone();
            Planned {
                args: strings(&[
                    "project",
                    "add",
                    "--project",
                    "c",
                    "--url",
                    env.emu.url(),
                    "--token-stdin",
                    "--no-warn-non-master",
                ]),
                stdin: Some(env.token(0, "storage")),
                new,
            }
        }
    }
}

#[derive(Default)]
struct KillTally {
    finished_first: usize,
    killed_old: usize,
    killed_old_temp_left: usize,
    killed_new: usize,
}

#[test]
fn sigkill_during_writes_leaves_old_or_new_file() {
    use std::os::unix::process::ExitStatusExt;

    let kills = count("REL_KILLS", 300);
    let (mut rng, seed) = Rng::from_env();
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    env.add("b", 1, "admin");
    // What `project add` writes for "c", learned from one undisturbed run.
    env.add("c", 0, "storage");
    let c_entry = env.config_json()["projects"]["c"].clone();
    let cfg_path = env.config_path();
    let dir = env.config_dir.clone();

    // Kill delays span 0 .. the median undisturbed run of each command, so kills land
    // before, during and after the write.
    let mut window_us = [0u64; 3];
    for (k, op) in OPS.iter().enumerate() {
        let mut runs = Vec::new();
        for _ in 0..5 {
            let old = read_config(&cfg_path);
            let p = plan(*op, &old, &env, &c_entry);
            let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
            let t = Instant::now();
            run_ok(kbagent(&env, &args), p.stdin.as_deref()).unwrap();
            runs.push(t.elapsed().as_micros() as u64);
            assert_eq!(read_config(&cfg_path), p.new, "{op:?} wrote something else");
        }
        runs.sort_unstable();
        window_us[k] = runs[runs.len() / 2];
    }

    let started = Instant::now();
    let mut tally = [
        KillTally::default(),
        KillTally::default(),
        KillTally::default(),
    ];
    for n in 0..kills {
        let k = rng.below(3) as usize;
        let op = OPS[k];
        let old = read_config(&cfg_path);
        let p = plan(op, &old, &env, &c_entry);
        let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
        let temps_before = temp_files(&dir);
        let delay = Duration::from_micros(rng.below(window_us[k]));
        let mut child = spawn(kbagent(&env, &args), p.stdin.as_deref());
        // The random point of death; nothing waits on it.
        thread::sleep(delay);
        let exited = child.try_wait().unwrap().is_some();
        if !exited {
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        let killed = status.signal() == Some(9);

        let now = read_config(&cfg_path);
        let is_new = now == p.new;
        assert!(
            is_new || now == old,
            "kill {n} ({op:?}, killed {killed}): config is neither the old nor the new \
             document:\n{now:#}\nold:\n{old:#}\nnew:\n{:#}",
            p.new
        );
        let t = &mut tally[k];
        if !killed {
            assert!(status.success(), "kill {n} ({op:?}): {status:?}");
            assert!(is_new, "a finished {op:?} did not write its change");
            t.finished_first += 1;
        } else if is_new {
            t.killed_new += 1;
        } else if !temp_files(&dir).is_subset(&temps_before) {
            t.killed_old_temp_left += 1;
        } else {
            t.killed_old += 1;
        }
        if let Ok(bytes) = fs::read(dir.join("config.json.bak")) {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|e| panic!("kill {n}: config.json.bak is torn ({e})"));
        }
        assert_lock_free(&dir);
        // The next command works and sees exactly the file's projects.
        let listed = run_ok(kbagent(&env, &["project", "list"]), None)
            .unwrap_or_else(|e| panic!("kill {n}: the next command failed: {e}"));
        let listed: BTreeSet<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["alias"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, aliases(&now), "kill {n}");
    }
    // One undisturbed write after all the carnage still works.
    let old = read_config(&cfg_path);
    let p = plan(Op::Use, &old, &env, &c_entry);
    let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
    run_ok(kbagent(&env, &args), None).unwrap();
    assert_eq!(read_config(&cfg_path), p.new);
    // The next write clears what killed writers left behind.
    let leftovers = temp_files(&dir);
    assert!(leftovers.is_empty(), "stale temporary files: {leftovers:?}");

    let sum = |f: fn(&KillTally) -> usize| tally.iter().map(f).sum::<usize>();
    let per_command: Vec<String> = OPS
        .iter()
        .zip(&tally)
        .map(|(op, t)| {
            format!(
                "{op:?} {}/{}/{}/{}",
                t.finished_first, t.killed_old, t.killed_old_temp_left, t.killed_new
            )
        })
        .collect();
    eprintln!(
        "sigkill: {kills} runs (seed {seed}), kill windows {:?} us; finished before the kill \
         {}, killed with the old file {} (+{} with a temp file left mid-write), killed after \
         the rename {}; torn or empty files 0; lock free after every kill; per command \
         (finished/old/old+temp/new): {}; stale temp files after the next write: {}; {:.1} s",
        window_us,
        sum(|t| t.finished_first),
        sum(|t| t.killed_old),
        sum(|t| t.killed_old_temp_left),
        sum(|t| t.killed_new),
        per_command.join(", "),
        leftovers.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        sum(|t| t.killed_old + t.killed_old_temp_left + t.killed_new) > 0,
        "no kill landed while kbagent ran; the delays are too long to test anything"
    );
}

// ---- readers during writes ------------------------------------------------------------------

#[test]
fn readers_never_see_a_partial_file() {
    let writes = count("REL_WRITES", 60);
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    env.add("b", 1, "admin");
    // A larger file makes a torn read likely if writes were not atomic.
    let mut cfg = env.config_json();
    let filler = cfg["projects"]["b"].clone();
    for i in 0..200 {
        cfg["projects"][format!("filler-{i:03}")] = filler.clone();
    }
    env.write_config(&serde_json::to_string_pretty(&cfg).unwrap());
    let expected_count = 202;
    let size = fs::metadata(env.config_path()).unwrap().len();

    let done = AtomicBool::new(false);
    let cli_reads = AtomicUsize::new(0);
    let file_reads = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let fail = |what: String| failures.lock().unwrap().push(what);
    let started = Instant::now();
    thread::scope(|s| {
        let writers = [
            s.spawn(|| {
                for n in 0..writes {
                    let alias = if n % 2 == 0 { "a" } else { "b" };
                    if let Err(e) = run_ok(kbagent(&env, &["project", "use", alias]), None) {
                        fail(format!("use {alias}: {e}"));
                    }
                }
            }),
            s.spawn(|| {
                for n in 0..writes {
                    let (from, to) = if n % 2 == 0 {
                        ("filler-000", "renamed")
                    } else {
                        ("renamed", "filler-000")
                    };
                    let args = ["project", "edit", "--project", from, "--new-alias", to];
                    if let Err(e) = run_ok(kbagent(&env, &args), None) {
                        fail(format!("rename {from}: {e}"));
                    }
                }
            }),
        ];
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                match run_ok(kbagent(&env, &["project", "list"]), None) {
                    Ok(v) if v.as_array().map(Vec::len) == Some(expected_count) => {}
                    Ok(v) => fail(format!("project list saw {v}")),
                    Err(e) => fail(format!("project list: {e}")),
                }
                cli_reads.fetch_add(1, Ordering::SeqCst);
            }
        });
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                match fs::read(env.config_path()) {
                    Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                        Ok(v) if aliases(&v).len() == expected_count => {}
                        Ok(_) => fail("a read saw the wrong number of projects".into()),
                        Err(e) => fail(format!("a read saw a partial file ({e})")),
                    },
                    Err(e) => fail(format!("a read failed: {e}")),
                }
                file_reads.fetch_add(1, Ordering::SeqCst);
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (cli, file) = (
        cli_reads.load(Ordering::SeqCst),
        file_reads.load(Ordering::SeqCst),
    );
    eprintln!(
        "readers: {} writes ({writes} use + {writes} rename) on a {size}-byte file, raced by \
         {cli} `project list` runs and {file} direct reads; partial or invalid reads 0; {:.1} s",
        2 * writes,
        started.elapsed().as_secs_f64()
    );
    assert!(cli > 0 && file > 0, "the readers never ran");
}
