//! Faults on the wire: every command that calls an API, against every kind of failure the
//! emulator can inject, checked for the error code, exit code, `retryable`, the number of
//! attempts the emulator saw (GETs retried, POST and DELETE never), a bounded run time, and
//! a config file left untouched. Fan-out commands must report the one failing project in
//! their data and leave the others' results exactly as without the fault.
//!
//! The matrix printed by these tests is the one in docs/reliability.md.

#![allow(
    clippy::print_stderr,
    reason = "the tests print the figures they measured"
)]

use std::time::{Duration, Instant};

use keboola_emulator::{EmulatorOptions, Fault};
use serde_json::{Value, json};

use crate::common::*;

/// Read timeout for every run here: far above a normal emulator answer, far below `SLOW_MS`.
const TIMEOUT_MS: u64 = 500;
/// Latency of the slow-response fault.
const SLOW_MS: u64 = 3000;
/// Faults apply to this many requests; what is left tells how many requests arrived, even
/// for requests that never got an answer logged.
const FAULT_BUDGET: u64 = 1000;
/// A hang guard, not a speed target: the slowest case (three read timeouts of 500 ms) takes
/// under 2 s, so only a run that never ends (or retries without limit) gets near this.
const MAX_RUN: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    S500,
    S502,
    S503,
    S429,
    Malformed,
    Empty,
    Truncated,
    Dropped,
    /// Last on purpose: the emulator still serves a slow request after the client gave up,
    /// and that late effect must not reach the next case.
    Slow,
}

const KINDS: [Kind; 9] = [
    Kind::S500,
    Kind::S502,
    Kind::S503,
    Kind::S429,
    Kind::Malformed,
    Kind::Empty,
    Kind::Truncated,
    Kind::Dropped,
    Kind::Slow,
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::S500 => "500",
            Kind::S502 => "502 + Retry-After",
            Kind::S503 => "503 + Retry-After",
            Kind::S429 => "429 + Retry-After",
            Kind::Malformed => "malformed JSON",
            Kind::Empty => "empty body",
            Kind::Truncated => "truncated body",
            Kind::Dropped => "dropped connection",
            Kind::Slow => "slow (past timeout)",
        }
    }

    fn fields(self) -> Value {
        match self {
            Kind::S500 => json!({"status": 500}),
            Kind::S502 => json!({"status": 502, "retry_after": 1}),
            Kind::S503 => json!({"status": 503, "retry_after": 1}),
            Kind::S429 => json!({"status": 429, "retry_after": 1}),
            Kind::Malformed => json!({"body": "malformed"}),
            Kind::Empty => json!({"body": "empty"}),
            Kind::Truncated => json!({"body": "truncated"}),
            Kind::Dropped => json!({"drop_connection": true}),
            Kind::Slow => json!({"latency_ms": SLOW_MS}),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Expect {
    code: &'static str,
    exit: i32,
    retryable: bool,
    attempts: u64,
}

/// The contract: what a persistent fault on one request must produce.
///
/// GET is retried on 429/5xx, timeouts and broken connections (3 attempts); once they are
/// used up the failure is a network one (exit 4) worth retrying later. POST and DELETE are
/// sent once: a 5xx is an API error (exit 1), retryable only when the server says it did
/// nothing (429, 503); a connection broken or timed out after sending is a network error
/// (exit 4) that is not retryable, since the server may have acted. A 200 whose body is
/// unusable (malformed, empty, or cut short by a closed connection) is an API error (exit 1),
/// never retried: the server did answer, and acted. DELETE reads no body, so a malformed or
/// empty one does not matter.
fn expect(kind: Kind, method: &str) -> Expect {
    let get = method == "GET";
    let e = |code, exit, retryable, attempts| Expect {
        code,
        exit,
        retryable,
        attempts,
    };
    match kind {
        Kind::S500 | Kind::S502 | Kind::S503 | Kind::S429 if get => {
            e("RETRY_EXHAUSTED", 4, true, 3)
        }
        Kind::S503 | Kind::S429 => e("API_ERROR", 1, true, 1),
        Kind::Malformed | Kind::Empty if method == "DELETE" => e("", 0, false, 1),
        Kind::S500 | Kind::S502 | Kind::Malformed | Kind::Empty | Kind::Truncated => {
            e("API_ERROR", 1, false, 1)
        }
        Kind::Dropped if get => e("CONNECTION_ERROR", 4, true, 3),
        Kind::Dropped => e("CONNECTION_ERROR", 4, false, 1),
        Kind::Slow if get => e("TIMEOUT", 4, true, 3),
        Kind::Slow => e("TIMEOUT", 4, false, 1),
    }
}

/// Where a command reports the failure of the faulted project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// A single-project command: the error envelope.
    Envelope,
    /// `project status`: the faulted project's row, exit 0.
    StatusRow,
    /// `config list`: `data.errors`, exit 0.
    ConfigListErrors,
    /// `doctor`: the faulted project's connectivity check, exit 0.
    DoctorCheck,
    /// `project refresh`: the project in `projects_failed`, exit 1, nothing minted.
    RefreshFailed,
}

/// Three registered projects: `p0` (admin master token of project 0, the default), `p1`
/// (a non-master token of project 1, so `project refresh` may replace it) and `p2` (admin of
/// project 2). Faults are scoped to one project, so the others must stay unaffected.
struct Bed {
    env: TestEnv,
    baseline_config: Vec<u8>,
}

impl Bed {
    fn new() -> Self {
        Self::with(EmulatorOptions {
            projects: 3,
            ..EmulatorOptions::default()
        })
    }

    fn with(opts: EmulatorOptions) -> Self {
        let env = TestEnv::with(opts);
        env.add("p0", 0, "admin");
        env.add("p1", 1, "storage");
        env.add("p2", 2, "admin");
        let baseline_config = env.config_bytes().unwrap();
        Self {
            env,
            baseline_config,
        }
    }

    fn run(&self, row: &Row, extra_env: &[(&str, &str)]) -> (Run, Duration) {
        let mut cmd = self.env.cmd();
        cmd.env("KBAGENT_HTTP_TIMEOUT_MS", TIMEOUT_MS.to_string());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        if row.manage {
            cmd.env("KBC_MANAGE_API_TOKEN", self.env.emu.manage_token())
                .arg("--allow-env-manage-token");
        }
        cmd.arg("--json").args(&row.args);
        cmd.write_stdin(row.stdin.clone().unwrap_or_default());
        let started = Instant::now();
        let out = cmd.output().unwrap();
        (Run::from(out), started.elapsed())
    }

    /// Requests the emulator served for `row`'s target.
    fn logged(&self, row: &Row) -> u64 {
        let project = row.fault_project.map(|i| self.env.project_id(i));
        self.env
            .emu
            .requests()
            .iter()
            .filter(|r| {
                r.method == row.method
                    && r.path == row.path
                    && (project.is_none() || r.project_id == project)
            })
            .count() as u64
    }

    fn requests_to(&self, method: &str, prefix: &str) -> usize {
        self.env
            .emu
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }

    /// How many requests hit the one active fault (read through the control API, since a
    /// timed-out request is logged only once the emulator answers it).
    fn fault_hits(&self) -> u64 {
        let url = format!("{}/_emulator/faults", self.env.emu.url());
        let body: Value = ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        let left = body
            .as_array()
            .and_then(|a| a.first())
            .and_then(|f| f["times"].as_u64())
            .unwrap_or(0);
        FAULT_BUDGET - left
    }

    fn add_fault(&self, row: &Row, kind: Kind) {
        let mut f = kind.fields();
        f["method"] = json!(row.method);
        f["path"] = json!(row.path);
        f["times"] = json!(FAULT_BUDGET);
        if let Some(i) = row.fault_project {
            f["project_id"] = json!(self.env.project_id(i));
        }
        let fault: Fault = serde_json::from_value(f).unwrap();
        self.env.emu.add_fault(fault);
    }

    /// Back to the registered state: seeded emulator (same secrets), no faults, empty log,
    /// the config as registered.
    fn reset(&self) {
        self.env.emu.reset();
        std::fs::write(self.env.config_path(), &self.baseline_config).unwrap();
    }
}

struct Row {
    name: &'static str,
    args: Vec<String>,
    stdin: Option<String>,
    manage: bool,
    /// The faulted request.
    method: &'static str,
    path: String,
    /// Fault only this emulator project's requests.
    fault_project: Option<usize>,
    reading: Reading,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn token_id(secret: &str) -> String {
    secret.split('-').nth(1).unwrap().to_owned()
}

const VERIFY: &str = "/v2/storage/tokens/verify";

/// Strips what legitimately differs between two runs (timings).
fn stable(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("response_time_ms");
            for (_, x) in map.iter_mut() {
                *x = stable(x.take());
            }
        }
        Value::Array(items) => {
            for x in items.iter_mut() {
                *x = stable(x.take());
            }
        }
        _ => {}
    }
    v
}

/// For fan-out commands: everything the run reported about projects other than `p1`.
fn others(reading: Reading, data: &Value) -> Value {
    let not_p1 = |v: &Value, key: &str| v[key] != "p1";
    match reading {
        Reading::StatusRow => Value::Array(
            data.as_array()
                .unwrap()
                .iter()
                .filter(|r| not_p1(r, "alias"))
                .cloned()
                .collect(),
        ),
        Reading::ConfigListErrors => Value::Array(
            data["configs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| not_p1(r, "project_alias"))
                .cloned()
                .collect(),
        ),
        Reading::DoctorCheck => Value::Array(
            data["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r.get("alias").is_some_and(|a| a != "p1"))
                .cloned()
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// The faulted project's failure as the command reported it: (code, retryable).
fn reported(reading: Reading, r: &Run) -> (String, bool, Option<u64>) {
    let env = r.envelope();
    match reading {
        Reading::Envelope => {
            let e = env.err();
            let attempts = e
                .details
                .as_ref()
                .and_then(|d| d.get("attempts"))
                .and_then(Value::as_u64);
            (e.code.clone(), e.retryable, attempts)
        }
        Reading::StatusRow => {
            let rows = env.data().as_array().unwrap();
            let row = rows.iter().find(|r| r["alias"] == "p1").unwrap();
            assert_eq!(row["status"], "error", "{row}");
            (
                row["error_code"].as_str().unwrap().to_owned(),
                row["retryable"].as_bool().unwrap(),
                None,
            )
        }
        Reading::ConfigListErrors => {
            let errors = env.data()["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0]["project_alias"], "p1");
            (
                errors[0]["error_code"].as_str().unwrap().to_owned(),
                errors[0]["retryable"].as_bool().unwrap(),
                None,
            )
        }
        Reading::DoctorCheck => {
            let checks = env.data()["checks"].as_array().unwrap();
            let c = checks
                .iter()
                .find(|c| c["check"] == "connectivity" && c["alias"] == "p1")
                .unwrap();
            assert_eq!(c["status"], "fail", "{c}");
            assert_eq!(env.data()["summary"]["healthy"], false);
            (
                c["error_code"].as_str().unwrap().to_owned(),
                c["retryable"].as_bool().unwrap(),
                None,
            )
        }
        Reading::RefreshFailed => {
            let data = env.data();
            assert_eq!(data["projects_refreshed"], json!([]), "{data}");
            let failed = data["projects_failed"].as_array().unwrap();
            assert_eq!(failed.len(), 1, "{data}");
            assert_eq!(failed[0]["alias"], "p1");
            (
                failed[0]["error_code"].as_str().unwrap().to_owned(),
                failed[0]["retryable"].as_bool().unwrap(),
                None,
            )
        }
    }
}

/// Runs `row` once without a fault (it must succeed) and then under every fault kind.
fn matrix(bed: &Bed, row: &Row) {
    bed.reset();
    let (clean, _) = bed.run(row, &[]);
    let baseline = clean.envelope();
    assert_eq!(
        clean.code, 0,
        "{}: fails without a fault: {baseline:?}",
        row.name
    );
    let fanout = matches!(
        row.reading,
        Reading::StatusRow | Reading::ConfigListErrors | Reading::DoctorCheck
    );
    let baseline_others = stable(others(row.reading, baseline.data()));

    let mut lines = Vec::new();
    for kind in KINDS {
        bed.reset();
        bed.add_fault(row, kind);
        let (r, took) = bed.run(row, &[]);
        let want = expect(kind, row.method);
        let case = format!("{} / {}", row.name, kind.label());
        assert!(took < MAX_RUN, "{case}: took {took:?}");
        let exit = if fanout { 0 } else { want.exit };
        let exit = if row.reading == Reading::RefreshFailed {
            1
        } else {
            exit
        };
        assert_eq!(
            r.code, exit,
            "{case}: exit code\n{}\n{}",
            r.stdout, r.stderr
        );
        let (code, retryable, attempts) = if want.code.is_empty() {
            // The fault does not touch what the command uses: it succeeds.
            assert_eq!(r.envelope().status, "ok", "{case}");
            ("ok".to_owned(), false, None)
        } else {
            let (code, retryable, attempts) = reported(row.reading, &r);
            assert_eq!(code, want.code, "{case}: error code\n{}", r.stdout);
            assert_eq!(retryable, want.retryable, "{case}: retryable\n{}", r.stdout);
            (code, retryable, attempts)
        };
        let hits = bed.fault_hits();
        assert_eq!(
            hits, want.attempts,
            "{case}: requests that reached the fault"
        );
        if kind != Kind::Slow {
            assert_eq!(bed.logged(row), want.attempts, "{case}: request log");
        }
        if let Some(a) = attempts {
            assert_eq!(a, want.attempts, "{case}: attempts in the error details");
        }
        if fanout {
            let now = stable(others(row.reading, r.envelope().data()));
            assert_eq!(
                now, baseline_others,
                "{case}: other projects' results changed"
            );
        }
        assert_eq!(
            bed.env.config_bytes().unwrap(),
            bed.baseline_config,
            "{case}: a failed run changed the config"
        );
        lines.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} ms |",
            row.name,
            kind.label(),
            code,
            r.code,
            retryable,
            hits,
            took.as_millis()
        ));
    }
    eprintln!("{}", lines.join("\n"));
}

fn storage_row(
    name: &'static str,
    args: &[&str],
    method: &'static str,
    path: String,
    project: usize,
) -> Row {
    Row {
        name,
        args: strings(args),
        stdin: None,
        manage: false,
        method,
        path,
        fault_project: Some(project),
        reading: Reading::Envelope,
    }
}

// ---- single-project commands ----------------------------------------------------------------

#[test]
fn project_add() {
    let bed = Bed::new();
    let url = bed.env.emu.url().to_owned();
    let mut row = storage_row(
        "project add",
        &[
            "project",
            "add",
            "--project",
            "new",
            "--url",
            &url,
            "--token-stdin",
            "--no-warn-non-master",
        ],
        "GET",
        VERIFY.into(),
        0,
    );
    row.stdin = Some(bed.env.token(0, "guest"));
    // The clean run adds "new"; each faulted run starts from the registered config again.
    matrix(&bed, &row);
}

#[test]
fn project_edit_with_new_token() {
    let bed = Bed::new();
    let mut row = storage_row(
        "project edit (new token)",
        &["project", "edit", "--project", "p0", "--token-stdin"],
        "GET",
        VERIFY.into(),
        0,
    );
    row.stdin = Some(bed.env.token(0, "guest"));
    matrix(&bed, &row);
}

#[test]
fn project_info() {
    let bed = Bed::new();
    let row = storage_row(
        "project info",
        &["project", "info", "--project", "p1"],
        "GET",
        VERIFY.into(),
        1,
    );
    matrix(&bed, &row);
}

#[test]
fn token_list() {
    let bed = Bed::new();
    let row = storage_row(
        "token list",
        &["token", "list", "--project", "p0"],
        "GET",
        "/v2/storage/tokens".into(),
        0,
    );
    matrix(&bed, &row);
}

#[test]
fn token_create() {
    let bed = Bed::new();
    let args = [
        "token",
        "create",
        "--project",
        "p0",
        "--description",
        "fault test",
    ];
    let verify = storage_row("token create (verify)", &args, "GET", VERIFY.into(), 0);
    matrix(&bed, &verify);
    let mint = storage_row(
        "token create (mint)",
        &args,
        "POST",
        "/v2/storage/tokens".into(),
        0,
    );
    matrix(&bed, &mint);
}

#[test]
fn token_refresh() {
    let bed = Bed::new();
    let id = token_id(&bed.env.token(0, "storage"));
    let row = storage_row(
        "token refresh",
        &[
            "token",
            "refresh",
            "--project",
            "p0",
            "--token-id",
            &id,
            "--yes",
        ],
        "POST",
        format!("/v2/storage/tokens/{id}/refresh"),
        0,
    );
    matrix(&bed, &row);
}

#[test]
fn token_delete() {
    let bed = Bed::new();
    let id = token_id(&bed.env.token(0, "storage"));
    let row = storage_row(
        "token delete",
        &[
            "token",
            "delete",
            "--project",
            "p0",
            "--token-id",
            &id,
            "--yes",
        ],
        "DELETE",
        format!("/v2/storage/tokens/{id}"),
        0,
    );
    matrix(&bed, &row);
}

#[test]
fn config_detail() {
    let bed = Bed::new();
    let oauth = bed.env.emu.projects()[0].oauth_config.clone();
    let row = storage_row(
        "config detail",
        &[
            "config",
            "detail",
            "--project",
            "p0",
            "--component-id",
            &oauth.component_id,
            "--config-id",
            &oauth.config_id,
        ],
        "GET",
        format!(
            "/v2/storage/branch/default/components/{}/configs/{}",
            oauth.component_id, oauth.config_id
        ),
        0,
    );
    matrix(&bed, &row);
}

#[test]
fn config_oauth_url() {
    let bed = Bed::new();
    let oauth = bed.env.emu.projects()[0].oauth_config.clone();
    let args = [
        "config",
        "oauth-url",
        "--project",
        "p0",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
        "--no-open",
    ];
    let fetch = storage_row(
        "config oauth-url (config)",
        &args,
        "GET",
        format!(
            "/v2/storage/branch/default/components/{}/configs/{}",
            oauth.component_id, oauth.config_id
        ),
        0,
    );
    matrix(&bed, &fetch);
    let mint = storage_row(
        "config oauth-url (mint)",
        &args,
        "POST",
        "/v2/storage/tokens".into(),
        0,
    );
    matrix(&bed, &mint);
}

#[test]
fn project_refresh() {
    let bed = Bed::new();
    let args = ["project", "refresh", "--project", "p1", "--yes"];
    // The stored token cannot be checked: nothing may be minted on a guess.
    let mut check = storage_row(
        "project refresh (check stored token)",
        &args,
        "GET",
        VERIFY.into(),
        1,
    );
    check.manage = true;
    check.reading = Reading::RefreshFailed;
    matrix(&bed, &check);
    let mut who = storage_row(
        "project refresh (Manage verify)",
        &args,
        "GET",
        "/manage/tokens/verify".into(),
        1,
    );
    who.manage = true;
    who.fault_project = None;
    matrix(&bed, &who);
    let id = bed.env.project_id(1);
    let mut mint = storage_row(
        "project refresh (Manage mint)",
        &args,
        "POST",
        format!("/manage/projects/{id}/tokens"),
        1,
    );
    mint.manage = true;
    mint.reading = Reading::RefreshFailed;
    matrix(&bed, &mint);
}

#[test]
fn refresh_never_mints_when_the_stored_token_cannot_be_checked() {
    let bed = Bed::new();
    // p0 holds a working master token: a transient failure must not let refresh replace it.
    for kind in [Kind::S503, Kind::Dropped] {
        bed.reset();
        let row = Row {
            name: "project refresh --all --force",
            args: strings(&["project", "refresh", "--all", "--force", "--yes"]),
            stdin: None,
            manage: true,
            method: "GET",
            path: VERIFY.into(),
            fault_project: Some(0),
            reading: Reading::RefreshFailed,
        };
        // Exactly the three tries of the check fail; a mint would then verify and store.
        let mut f = kind.fields();
        f["method"] = json!("GET");
        f["path"] = json!(VERIFY);
        f["project_id"] = json!(bed.env.project_id(0));
        f["times"] = json!(3);
        bed.env.emu.add_fault(serde_json::from_value(f).unwrap());
        let (r, _) = bed.run(&row, &[]);
        let out = r.envelope();
        assert_eq!(r.code, 1, "{out:?}");
        let failed = out.data()["projects_failed"].as_array().unwrap();
        assert!(
            failed.iter().any(|f| f["alias"] == "p0"),
            "{kind:?}: {out:?} {:?}",
            bed.env.emu.requests()
        );
        let refreshed: Vec<&str> = out.data()["projects_refreshed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["alias"].as_str().unwrap())
            .collect();
        assert!(!refreshed.contains(&"p0"), "{kind:?}: {refreshed:?}");
        let stored = bed.env.config_json()["projects"]["p0"]["token"].clone();
        assert_eq!(stored, json!(bed.env.token(0, "admin")), "{kind:?}");
        // Only the projects that were checked were minted for.
        let mints = bed.requests_to("POST", "/manage/projects/");
        assert_eq!(mints, refreshed.len(), "{kind:?}");
    }
}

// ---- fan-out commands -----------------------------------------------------------------------

#[test]
fn project_status_fanout() {
    let bed = Bed::new();
    let row = Row {
        name: "project status",
        args: strings(&["project", "status"]),
        stdin: None,
        manage: false,
        method: "GET",
        path: VERIFY.into(),
        fault_project: Some(1),
        reading: Reading::StatusRow,
    };
    matrix(&bed, &row);
}

#[test]
fn config_list_fanout() {
    let bed = Bed::new();
    let row = Row {
        name: "config list",
        args: strings(&["config", "list"]),
        stdin: None,
        manage: false,
        method: "GET",
        path: "/v2/storage/branch/default/components".into(),
        fault_project: Some(1),
        reading: Reading::ConfigListErrors,
    };
    matrix(&bed, &row);
}

#[test]
fn doctor_fanout() {
    let bed = Bed::new();
    let row = Row {
        name: "doctor",
        args: strings(&["doctor"]),
        stdin: None,
        manage: false,
        method: "GET",
        path: VERIFY.into(),
        fault_project: Some(1),
        reading: Reading::DoctorCheck,
    };
    matrix(&bed, &row);
}

// ---- transient faults are absorbed ----------------------------------------------------------

#[test]
fn transient_get_faults_are_retried_away() {
    let bed = Bed::new();
    for kind in [
        Kind::S500,
        Kind::S503,
        Kind::S429,
        Kind::Dropped,
        Kind::Slow,
    ] {
        bed.reset();
        let row = storage_row(
            "project info",
            &["project", "info", "--project", "p1"],
            "GET",
            VERIFY.into(),
            1,
        );
        let mut f = kind.fields();
        f["path"] = json!(VERIFY);
        f["times"] = json!(2);
        bed.env.emu.add_fault(serde_json::from_value(f).unwrap());
        let (r, took) = bed.run(&row, &[]);
        let out = r.envelope();
        assert_eq!(r.code, 0, "{kind:?}: {out:?}");
        assert_eq!(out.data()["alias"], "p1");
        assert!(took < MAX_RUN);
        if kind != Kind::Slow {
            assert_eq!(
                bed.logged(&row),
                3,
                "{kind:?}: two faulted tries and a good one"
            );
        }
    }
}

// ---- TLS ------------------------------------------------------------------------------------

#[test]
fn untrusted_tls_is_a_connection_error_for_every_command() {
    let env = TestEnv::with(EmulatorOptions {
        tls: true,
        projects: 3,
        ..EmulatorOptions::default()
    });
    let ca = env.emu.ca_cert().unwrap().to_owned();
    let ca = ca.to_str().unwrap();
    let url = env.emu.url().to_owned();
    // Registered while the CA was trusted.
    for (alias, i, kind) in [("p0", 0, "admin"), ("p1", 1, "storage"), ("p2", 2, "admin")] {
        let r = Run::from(
            env.cmd()
                .env("KBAGENT_CA_FILE", ca)
                .args([
                    "--json",
                    "project",
                    "add",
                    "--project",
                    alias,
                    "--url",
                    &url,
                    "--token-stdin",
                    "--no-warn-non-master",
                ])
                .write_stdin(env.token(i, kind))
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 0, "{}", r.stdout);
    }
    let before = env.config_bytes().unwrap();
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let id = token_id(&env.token(0, "storage"));
    let single: Vec<(Vec<&str>, Option<String>, bool)> = vec![
        (
            vec![
                "project",
                "add",
                "--project",
                "new",
                "--url",
                &url,
                "--token-stdin",
            ],
            Some(env.token(0, "guest")),
            false,
        ),
        (
            vec!["project", "edit", "--project", "p0", "--token-stdin"],
            Some(env.token(0, "guest")),
            false,
        ),
        (vec!["project", "info", "--project", "p0"], None, false),
        (vec!["token", "list", "--project", "p0"], None, false),
        (
            vec!["token", "create", "--project", "p0", "--description", "x"],
            None,
            false,
        ),
        (
            vec![
                "token",
                "refresh",
                "--project",
                "p0",
                "--token-id",
                &id,
                "--yes",
            ],
            None,
            false,
        ),
        (
            vec![
                "token",
                "delete",
                "--project",
                "p0",
                "--token-id",
                &id,
                "--yes",
            ],
            None,
            false,
        ),
        (
            vec![
                "config",
                "detail",
                "--project",
                "p0",
                "--component-id",
                &oauth.component_id,
                "--config-id",
                &oauth.config_id,
            ],
            None,
            false,
        ),
        (
            vec![
                "config",
                "oauth-url",
                "--project",
                "p0",
                "--component-id",
                &oauth.component_id,
                "--config-id",
                &oauth.config_id,
                "--no-open",
            ],
            None,
            false,
        ),
    ];
    let run = |args: &[&str], stdin: Option<&String>, manage: bool| {
        let mut cmd = env.cmd();
        if manage {
            cmd.env("KBC_MANAGE_API_TOKEN", env.emu.manage_token())
                .arg("--allow-env-manage-token");
        }
        cmd.arg("--json")
            .args(args)
            .write_stdin(stdin.cloned().unwrap_or_default());
        let started = Instant::now();
        let r = Run::from(cmd.output().unwrap());
        assert!(started.elapsed() < MAX_RUN);
        r
    };
    env.emu.clear_requests();
    for (args, stdin, manage) in &single {
        let r = run(args, stdin.as_ref(), *manage);
        let out = r.envelope();
        assert_eq!(r.code, 4, "{args:?}: {out:?}");
        let e = out.err();
        assert_eq!(e.code, "CONNECTION_ERROR", "{args:?}");
        assert!(
            !e.retryable,
            "{args:?}: a certificate problem does not heal itself"
        );
        assert!(e.message.contains("TLS"), "{args:?}: {}", e.message);
    }
    // Fan-out reads report every project's failure in their data and exit 0.
    let r = run(&["project", "status"], None, false);
    assert_eq!(r.code, 0);
    for row in r.envelope().data().as_array().unwrap() {
        assert_eq!(row["error_code"], "CONNECTION_ERROR", "{row}");
        assert_eq!(row["retryable"], false);
    }
    let r = run(&["config", "list"], None, false);
    assert_eq!(r.code, 0);
    let data = r.envelope().data().clone();
    assert_eq!(data["errors"].as_array().unwrap().len(), 3, "{data}");
    for e in data["errors"].as_array().unwrap() {
        assert_eq!(e["error_code"], "CONNECTION_ERROR", "{e}");
    }
    let r = run(&["doctor"], None, false);
    assert_eq!(r.code, 0);
    let data = r.envelope().data().clone();
    let failed: Vec<&Value> = data["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "connectivity")
        .collect();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|c| c["error_code"] == "CONNECTION_ERROR"));
    let r = run(
        &["project", "refresh", "--project", "p1", "--yes"],
        None,
        true,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let data = r.envelope().data().clone();
    assert_eq!(data["projects_failed"][0]["error_code"], "CONNECTION_ERROR");
    assert_eq!(data["projects_refreshed"], json!([]));
    // Not one request got through the handshake, and nothing was written.
    assert_eq!(env.emu.requests().len(), 0, "{:?}", env.emu.requests());
    assert_eq!(env.config_bytes().unwrap(), before);
    // With the CA trusted again the same config works.
    let r = Run::from(
        env.cmd()
            .env("KBAGENT_CA_FILE", ca)
            .args(["--json", "project", "status"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0);
    for row in r.envelope().data().as_array().unwrap() {
        assert_eq!(row["status"], "ok", "{row}");
    }
    eprintln!(
        "tls: {} commands against an untrusted certificate: CONNECTION_ERROR, exit 4 (fan-out: \
         exit 0 with the error per project), retryable false, 0 requests reached the API",
        single.len() + 4
    );
}
