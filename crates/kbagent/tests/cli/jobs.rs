//! `kbagent job ...` against the emulator's Job Queue: runs that do real work on stored
//! tables, failures with their log tail in one document, the OAuth scenario, flows,
//! terminate, timeouts, and a lost answer to `POST /jobs`.

use std::collections::BTreeMap;

use keboola_emulator::{EmulatorOptions, Fault};
use serde_json::{Value, json};

use crate::common::*;

const TRANSFORMATION: &str = "keboola.snowflake-transformation";
const EXTRACTOR: &str = "keboola.ex-db-snowflake";
const FLOW: &str = "keboola.flow";

fn fault(v: Value) -> Fault {
    serde_json::from_value(v).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A Storage API read of project 0 with its admin token, outside kbagent.
fn storage_get(env: &TestEnv, path: &str) -> (u16, String) {
    let mut resp = agent()
        .get(format!("{}/v2/storage/{path}", env.emu.url()))
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

/// A table's rows as `column -> value` maps (names in lower case), read through the
/// Storage API.
fn table_rows(env: &TestEnv, table_id: &str) -> Vec<BTreeMap<String, String>> {
    let (status, body) = storage_get(env, &format!("tables/{table_id}/data-preview?limit=1000"));
    assert_eq!(status, 200, "{table_id}: {body}");
    let mut lines = parse_csv(&body).into_iter();
    let header = lines.next().expect("a header row");
    lines
        .map(|r| header.iter().map(|h| h.to_lowercase()).zip(r).collect())
        .collect()
}

/// RFC 4180 CSV: quoted fields with doubled quotes, commas and newlines inside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (_, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The id of the seeded configuration of `component` in project 0.
fn config_of(env: &TestEnv, component: &str) -> String {
    let (out, code) = env.json(&[
        "config",
        "list",
        "--project",
        "p",
        "--component-id",
        component,
    ]);
    assert_eq!(code, 0, "{out:?}");
    out.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no configuration of {component}: {out:?}"))
        .to_owned()
}

/// The id of project 0's development branch.
fn dev_branch(env: &TestEnv) -> String {
    let (_, body) = storage_get(env, "dev-branches");
    let branches: Vec<Value> = serde_json::from_str(&body).unwrap();
    let dev = branches
        .iter()
        .find(|b| b["isDefault"] != json!(true))
        .expect("a dev branch");
    match &dev["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets `parameters.emulator` (the emulator's steering) of a configuration, keeping the rest.
fn steer(env: &TestEnv, component: &str, config: &str, steering: Value) {
    update_configuration(env, component, config, |c| {
        c["parameters"]["emulator"] = steering;
    });
}

/// Changes a configuration's contents through the Storage API.
fn update_configuration(
    env: &TestEnv,
    component: &str,
    config: &str,
    change: impl FnOnce(&mut Value),
) {
    let (_, body) = storage_get(env, &format!("components/{component}/configs/{config}"));
    let mut configuration = serde_json::from_str::<Value>(&body).unwrap()["configuration"].clone();
    change(&mut configuration);
    let resp = agent()
        .put(format!(
            "{}/v2/storage/components/{component}/configs/{config}",
            env.emu.url()
        ))
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .send_form([("configuration", configuration.to_string())])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

fn posts_to_jobs(env: &TestEnv) -> usize {
    env.emu
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST" && r.service.as_deref() == Some("queue") && r.path.ends_with("/jobs")
        })
        .count()
}

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.add("p", 0, "admin");
    env
}

fn run_job(env: &TestEnv, component: &str, config: &str, extra: &[&str]) -> (Envelope, i32) {
    let mut args = vec![
        "job",
        "run",
        "--project",
        "p",
        "--component-id",
        component,
        "--config-id",
        config,
    ];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// `kbagent --json job VERB --project p --job-id ID [EXTRA]`.
fn on_job(env: &TestEnv, verb: &str, id: &str, extra: &[&str]) -> (Envelope, i32) {
    let mut args = vec!["job", verb, "--project", "p", "--job-id", id];
    args.extend_from_slice(extra);
    env.json(&args)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn a_transformation_writes_a_table_that_reads_back() {
    // Few enough orders that one data preview holds them all.
    let env = TestEnv::with(EmulatorOptions {
        seed_rows: Some(300),
        ..EmulatorOptions::default()
    });
    env.add("p", 0, "admin");
    let config = config_of(&env, TRANSFORMATION);
    let (out, code) = run_job(&env, TRANSFORMATION, &config, &["--wait"]);
    assert_eq!(code, 0, "{out:?}");
    let data = out.data();
    assert_eq!(data["status"], "success");
    assert_eq!(data["isFinished"], true);
    assert_eq!(data["project_alias"], "p");
    assert_eq!(data["branch_id"], Value::Null);
    assert_eq!(data["waited"], true);
    assert!(data["polls"].as_u64().unwrap() >= 1);

    assert_revenue(&env, 0.0);
}

/// The output table holds the revenue per customer over orders above `floor`, computed
/// here from the input tables.
fn assert_revenue(env: &TestEnv, floor: f64) {
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    let names: BTreeMap<String, String> = table_rows(env, "in.c-crm.customers")
        .into_iter()
        .map(|r| (r["id"].clone(), r["name"].clone()))
        .collect();
    for o in table_rows(env, "in.c-crm.orders") {
        let amount = o["amount"].parse::<f64>().unwrap();
        if names.contains_key(&o["customer_id"]) && amount > floor {
            *expected.entry(o["customer_id"].clone()).or_default() += amount;
        }
    }
    assert!(
        !expected.is_empty(),
        "the seed has orders of known customers"
    );
    let written = table_rows(env, "out.c-reports.revenue");
    assert_eq!(written.len(), expected.len(), "{written:?}");
    for row in &written {
        let id = &row["id"];
        assert_eq!(row["name"], names[id]);
        let revenue: f64 = row["revenue"].parse().unwrap();
        assert!(
            (revenue - expected[id]).abs() < 1e-6,
            "{id}: {revenue} vs {}",
            expected[id]
        );
    }
}

#[test]
fn variables_reach_the_transformations_sql() {
    let env = TestEnv::with(EmulatorOptions {
        seed_rows: Some(300),
        ..EmulatorOptions::default()
    });
    env.add("p", 0, "admin");
    let config = config_of(&env, TRANSFORMATION);
    update_configuration(&env, TRANSFORMATION, &config, |c| {
        c["parameters"]["blocks"][0]["codes"][0]["script"] = json!([
            "CREATE TABLE \"revenue\" AS SELECT c.\"ID\", c.\"NAME\", SUM(o.\"AMOUNT\") AS \"REVENUE\" FROM \"customers\" c JOIN \"orders\" o ON o.\"CUSTOMER_ID\" = c.\"ID\" WHERE o.\"AMOUNT\" > {{ floor }} GROUP BY 1, 2;"
        ]);
    });
    let (out, code) = run_job(
        &env,
        TRANSFORMATION,
        &config,
        &["--variable", "floor=2500", "--wait"],
    );
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(
        out.data()["variableValuesData"]["values"],
        json!([{"name": "floor", "value": "2500"}])
    );
    assert_revenue(&env, 2500.0);
}

#[test]
fn broken_sql_fails_with_the_message_and_the_log_tail_in_one_document() {
    let env = setup();
    let config = config_of(&env, TRANSFORMATION);
    let dev = dev_branch(&env);
    let (out, code) = run_job(
        &env,
        TRANSFORMATION,
        &config,
        &["--branch", &dev, "--wait", "--log-tail-lines", "3"],
    );
    assert_eq!(code, 1, "{out:?}");
    let err = out.err();
    assert_eq!(err.code, "QUEUE_JOB_FAILED");
    assert_eq!(err.project, "p");
    let d = err.details.as_ref().unwrap();
    let reason = d["result_message"].as_str().unwrap();
    assert!(err.message.ends_with(reason), "{}", err.message);
    assert!(
        reason.to_lowercase().contains("summ"),
        "the database names the bad function: {reason}"
    );
    assert_eq!(d["status"], "error");
    assert_eq!(text(&d["branch_id"]), dev);
    assert_eq!(d["job"]["id"], d["job_id"]);
    let tail = d["logTail"].as_array().unwrap();
    assert!(!tail.is_empty() && tail.len() <= 3, "{tail:?}");
    // Oldest first, and the failure is in it.
    let ids: Vec<u64> = tail
        .iter()
        .map(|e| text(&e["id"]).parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(tail.iter().any(|e| e["type"] == "error"), "{tail:?}");
    // Nothing was written on the branch or in production.
    assert_ne!(storage_get(&env, "tables/out.c-reports.revenue").0, 200);

    // The human form says the same on stderr.
    let r = env.run(&[
        "job",
        "run",
        "--project",
        "p",
        "--component-id",
        TRANSFORMATION,
        "--config-id",
        &config,
        "--branch",
        &dev,
        "--wait",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(reason), "{}", r.stderr);
}

/// Completes the emulator's OAuth wizard as its page does, with the URL's child token.
fn complete_wizard(url: &str) {
    let parsed = url::Url::parse(url).unwrap();
    let q: BTreeMap<String, String> = parsed.query_pairs().into_owned().collect();
    let fragment = parsed
        .fragment()
        .unwrap()
        .trim_start_matches('/')
        .to_owned();
    let (component, config) = fragment.split_once('/').unwrap();
    let base = format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str().unwrap(),
        parsed.port().unwrap()
    );
    let resp = agent()
        .post(format!("{base}/oauth/authorize"))
        .header("X-StorageApi-Token", &q["token"])
        .send_json(json!({"componentId": component, "configId": config, "sapiUrl": q["sapiUrl"]}))
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[test]
fn the_oauth_extractor_fails_until_the_wizard_authorizes_it() {
    let env = setup();
    let oauth = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = run_job(&env, &oauth.component_id, &oauth.config_id, &["--wait"]);
    assert_eq!(code, 1, "{out:?}");
    assert_eq!(out.err().code, "QUEUE_JOB_FAILED");
    let reason = out.err().details.as_ref().unwrap()["result_message"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(reason.contains("authoriz"), "{reason}");

    let (url, code) = env.json(&[
        "config",
        "oauth-url",
        "--project",
        "p",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
        "--no-open",
    ]);
    assert_eq!(code, 0, "{url:?}");
    complete_wizard(url.data()["url"].as_str().unwrap());

    let (out, code) = run_job(&env, &oauth.component_id, &oauth.config_id, &["--wait"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["status"], "success");
}

#[test]
fn a_flow_runs_its_tasks_as_child_jobs() {
    let env = setup();
    let flow = config_of(&env, FLOW);
    let (out, code) = run_job(&env, FLOW, &flow, &["--wait"]);
    assert_eq!(code, 0, "{out:?}");
    let flow_id = text(&out.data()["id"]);
    let (list, code) = env.json(&["job", "list", "--project", "p"]);
    assert_eq!(code, 0, "{list:?}");
    let jobs = list.data()["jobs"].as_array().unwrap();
    let children: Vec<&Value> = jobs
        .iter()
        .filter(|j| text(&j["parentRunId"]) == flow_id)
        .collect();
    let components: Vec<&str> = children
        .iter()
        .map(|j| j["component"].as_str().unwrap())
        .collect();
    assert!(components.contains(&EXTRACTOR), "{components:?}");
    assert!(components.contains(&TRANSFORMATION), "{components:?}");
    assert!(children.iter().all(|j| j["status"] == "success"));
    // Newest first.
    let ids: Vec<u64> = jobs
        .iter()
        .map(|j| text(&j["id"]).parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] >= w[1]), "{ids:?}");
    // Its events, oldest first, from start to end.
    let (events, code) = on_job(&env, "events", &flow_id, &[]);
    assert_eq!(code, 0);
    assert_eq!(events.data()["job_status"], "success");
    assert!(events.data()["count"].as_u64().unwrap() >= 2);
}

#[test]
fn terminate_stops_a_stuck_job_and_wait_reports_it() {
    let env = setup();
    let config = config_of(&env, EXTRACTOR);
    steer(&env, EXTRACTOR, &config, json!({"stuck": true}));
    let (out, code) = run_job(&env, EXTRACTOR, &config, &[]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["waited"], false);
    let id = text(&out.data()["id"]);

    let (dry, code) = on_job(&env, "terminate", &id, &["--dry-run"]);
    assert_eq!(code, 0, "{dry:?}");
    assert_eq!(dry.data()["would_terminate"], json!([id]));
    assert_eq!(dry.data()["dry_run"], true);
    let (refused, code) = on_job(&env, "terminate", &id, &[]);
    assert_eq!(code, 2, "no --yes and no terminal: {refused:?}");
    assert_eq!(
        refused.err().details.as_ref().unwrap()["confirmation_required"],
        true
    );
    let kills = |env: &TestEnv| {
        env.emu
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/kill"))
            .count()
    };
    assert_eq!(kills(&env), 0);

    let (done, code) = on_job(&env, "terminate", &id, &["--yes"]);
    assert_eq!(code, 0, "{done:?}");
    assert_eq!(done.data()["killed"][0]["id"], json!(id));
    assert_eq!(done.data()["killed"][0]["desiredStatus"], "terminating");
    assert_eq!(kills(&env), 1);

    let (waited, code) = on_job(&env, "wait", &id, &[]);
    assert_eq!(code, 7, "{waited:?}");
    assert_eq!(waited.err().code, "JOB_TERMINATED");
    assert!(waited.err().details.as_ref().unwrap()["logTail"].is_array());

    let (again, code) = on_job(&env, "terminate", &id, &["--yes"]);
    assert_eq!(code, 0);
    assert_eq!(again.data()["already_finished"][0]["id"], json!(id));
    assert!(again.data()["killed"].as_array().unwrap().is_empty());
}

#[test]
fn a_wait_that_times_out_leaves_the_job_running() {
    let env = setup();
    let config = config_of(&env, EXTRACTOR);
    steer(&env, EXTRACTOR, &config, json!({"stuck": true}));
    let (out, code) = run_job(&env, EXTRACTOR, &config, &["--wait", "--timeout", "1"]);
    assert_eq!(code, 4, "{out:?}");
    let err = out.err();
    assert_eq!(err.code, "QUEUE_JOB_TIMEOUT");
    assert!(err.message.contains("left running"), "{}", err.message);
    let id = text(&err.details.as_ref().unwrap()["job_id"]);
    let (detail, code) = on_job(&env, "detail", &id, &[]);
    assert_eq!(code, 0);
    assert_eq!(detail.data()["isFinished"], false, "{detail:?}");
    let (_, code) = on_job(&env, "terminate", &id, &["--yes"]);
    assert_eq!(code, 0);
}

#[test]
fn a_lost_answer_to_post_jobs_is_job_state_unknown_and_never_sent_twice() {
    let env = setup();
    let config = config_of(&env, TRANSFORMATION);
    env.emu.clear_requests();
    // The Queue creates the job, then the answer is cut short.
    env.emu.add_fault(fault(json!({
        "method": "POST", "service": "queue", "path": "**/jobs", "body": "truncated", "times": 1
    })));
    let (out, code) = run_job(&env, TRANSFORMATION, &config, &["--wait"]);
    assert_eq!(code, 8, "{out:?}");
    let err = out.err();
    assert_eq!(err.code, "JOB_STATE_UNKNOWN");
    assert_eq!(err.error_type, "job");
    assert!(!err.retryable);
    assert!(err.message.contains("may have started"), "{}", err.message);
    let d = err.details.as_ref().unwrap();
    assert_eq!(d["component_id"], TRANSFORMATION);
    assert_eq!(d["config_id"], json!(config));
    let since = d["since"].as_str().unwrap();
    assert!(since.parse::<jiff::Timestamp>().is_ok(), "{since}");
    assert_eq!(posts_to_jobs(&env), 1, "{:#?}", env.emu.requests());

    // The hint's command finds the one job that was started.
    let (list, code) = env.json(&[
        "job",
        "list",
        "--project",
        "p",
        "--component-id",
        TRANSFORMATION,
        "--config-id",
        &config,
        "--since",
        since,
    ]);
    assert_eq!(code, 0, "{list:?}");
    assert_eq!(list.data()["jobs"].as_array().unwrap().len(), 1, "{list:?}");

    // A connection dropped before any answer: the same, still one request.
    env.emu.clear_requests();
    env.emu.add_fault(fault(json!({
        "method": "POST", "service": "queue", "path": "**/jobs", "drop_connection": true, "times": 1
    })));
    let r = env.run(&[
        "job",
        "run",
        "--project",
        "p",
        "--component-id",
        TRANSFORMATION,
        "--config-id",
        &config,
    ]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("may have started"), "{}", r.stderr);
    assert!(
        r.stderr.contains("kbagent job list --project p"),
        "{}",
        r.stderr
    );
    assert_eq!(posts_to_jobs(&env), 1);
}

#[test]
fn job_list_fans_out_and_reports_a_failing_project() {
    let env = TestEnv::with(EmulatorOptions {
        projects: 2,
        ..EmulatorOptions::default()
    });
    env.add("p", 0, "admin");
    env.add("q", 1, "admin");
    let config = config_of(&env, TRANSFORMATION);
    let (_, code) = run_job(&env, TRANSFORMATION, &config, &["--wait"]);
    assert_eq!(code, 0);
    env.emu.add_fault(fault(json!({
        "service": "queue", "path": "**/search/jobs", "project_id": env.project_id(1), "status": 500
    })));
    let (out, code) = env.json(&["job", "list", "--status", "success"]);
    assert_eq!(code, 0, "{out:?}");
    let data = out.data();
    assert!(
        data["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["project_alias"] == "p" && j["status"] == "success")
    );
    assert!(!data["jobs"].as_array().unwrap().is_empty());
    assert_eq!(data["errors"][0]["project_alias"], "q");
    assert_eq!(out.warning_codes(), ["PROJECT_FAILED"]);
    // One named project: its failure is the command's.
    let (out, code) = env.json(&["job", "list", "--project", "q"]);
    assert_ne!(code, 0, "{out:?}");
}

#[test]
fn bad_job_arguments_fail_before_any_request() {
    let env = setup();
    env.emu.clear_requests();
    for args in [
        vec!["job", "detail", "--project", "p", "--job-id", "12x"],
        vec![
            "job",
            "run",
            "--project",
            "p",
            "--component-id",
            "c",
            "--config-id",
            "1",
            "--timeout",
            "5",
        ],
        vec![
            "job",
            "run",
            "--project",
            "p",
            "--component-id",
            "c",
            "--config-id",
            "1",
            "--variable",
            "novalue",
        ],
        vec!["job", "list", "--since", "yesterday"],
        vec!["job", "list", "--status", "done"],
    ] {
        let (out, code) = env.json(&args);
        assert_eq!(code, 2, "{args:?}: {out:?}");
    }
    assert!(env.emu.requests().is_empty());
}

#[test]
fn events_follow_a_running_job_to_its_end() {
    let env = setup();
    let config = config_of(&env, EXTRACTOR);
    steer(&env, EXTRACTOR, &config, json!({"sleep_ms": 1500}));
    let (out, code) = run_job(&env, EXTRACTOR, &config, &[]);
    assert_eq!(code, 0, "{out:?}");
    let id = text(&out.data()["id"]);
    let (events, code) = on_job(&env, "events", &id, &["--follow"]);
    assert_eq!(code, 0, "{events:?}");
    let data = events.data();
    assert_eq!(data["job_status"], "success");
    let list = data["events"].as_array().unwrap();
    assert_eq!(data["count"].as_u64().unwrap() as usize, list.len());
    // Oldest first, each event once, the last one written as the job ended.
    let ids: Vec<u64> = list
        .iter()
        .map(|e| text(&e["id"]).parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let (tail, _) = on_job(&env, "detail", &id, &["--log-tail-lines", "1"]);
    assert_eq!(tail.data()["logTail"][0]["id"], list.last().unwrap()["id"]);
}

#[test]
fn a_wait_rides_out_503s_on_the_job_reads() {
    let env = setup();
    let config = config_of(&env, EXTRACTOR);
    env.emu.clear_requests();
    // Every read of the job fails three times before it is answered again.
    env.emu.add_fault(fault(json!({
        "method": "GET", "service": "queue", "path": "**/jobs/*", "status": 503, "times": 3
    })));
    let (out, code) = run_job(&env, EXTRACTOR, &config, &["--wait"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.data()["status"], "success");
    let reads: Vec<u16> = env
        .emu
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.service.as_deref() == Some("queue"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        reads.iter().filter(|s| **s == 503).count(),
        3,
        "the fault was not hit: {reads:?}"
    );
    assert_eq!(reads.last(), Some(&200), "{reads:?}");
    assert_eq!(posts_to_jobs(&env), 1);
}
