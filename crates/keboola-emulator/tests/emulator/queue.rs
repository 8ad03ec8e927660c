//! The Job Queue: jobs that run against the stored tables, flows of child jobs, kills,
//! search, and the Storage events jobs write.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use keboola_emulator::{Emulator, EmulatorOptions};
use serde_json::{Value, json};

use crate::common::{Client, Resp, SAPI, start, start_with};

/// Seeded configurations of the first project (ids are fixed).
const DB_CONFIG: &str = "10001";
const DRIVE_CONFIG: &str = "10004";
const TRANSFORMATION: &str = "10007";
const FLOW_CONFIG: &str = "10008";
const DEV_BRANCH: &str = "10102";

fn admin(emu: &Emulator) -> String {
    emu.projects()[0].tokens.admin.clone()
}

fn submit(c: &Client, token: &str, body: &Value) -> Resp {
    c.post_json("/queue/jobs", token, body)
}

fn submit_ok(c: &Client, token: &str, body: &Value) -> Value {
    let resp = submit(c, token, body);
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.json()
}

fn job(c: &Client, token: &str, id: &str) -> Value {
    let resp = c.get(&format!("/queue/jobs/{id}"), token);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()
}

/// Polls until `done` holds; a job that never gets there fails the test.
fn wait_for(c: &Client, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(c, token, id);
        if done(&j) {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} stuck at {j}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finished(c: &Client, token: &str, id: &str) -> Value {
    wait_for(c, token, id, |j| j["isFinished"] == true)
}

fn run(c: &Client, token: &str, body: &Value) -> Value {
    let created = submit_ok(c, token, body);
    finished(c, token, created["id"].as_str().unwrap())
}

fn events(c: &Client, token: &str, query: &str) -> Vec<Value> {
    let resp = c.get(&format!("/v2/storage/events?{query}"), token);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json().as_array().unwrap().clone()
}

fn messages(events: &[Value]) -> Vec<String> {
    // Oldest first reads like a log.
    events
        .iter()
        .rev()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

/// All rows of a table through data-preview (JSON format), as column -> value maps.
fn rows(c: &Client, token: &str, table: &str) -> Vec<BTreeMap<String, String>> {
    let resp = c.get(
        &format!("/v2/storage/tables/{table}/data-preview?format=json&limit=1000"),
        token,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|cell| {
                    (
                        cell["columnName"].as_str().unwrap().to_owned(),
                        cell["value"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Runs the seeded flow, which must fail, and gives the finished job.
fn failed_flow(c: &Client, token: &str) -> Value {
    let done = run(
        c,
        token,
        &json!({"component": "keboola.flow", "config": FLOW_CONFIG}),
    );
    assert_eq!(done["status"], "error", "{done}");
    done
}

fn put_configuration(c: &Client, token: &str, component: &str, id: &str, configuration: &Value) {
    let form = format!(
        "configuration={}",
        url::form_urlencoded::byte_serialize(configuration.to_string().as_bytes())
            .collect::<String>()
    );
    let resp = c.send_form(
        "PUT",
        &format!("/v2/storage/components/{component}/configs/{id}"),
        token,
        &form,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
}

#[test]
fn a_new_job_is_created_and_shaped_like_the_queues() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let created = submit_ok(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION, "mode": "run", "tag": "1.2.3"}),
    );
    let id = created["id"].as_str().expect("id is a string");
    assert_eq!(created["status"], "created");
    assert_eq!(created["isFinished"], false);
    assert_eq!(created["runId"], id);
    assert_eq!(created["parentRunId"], "");
    assert_eq!(created["component"], "keboola.snowflake-transformation");
    assert_eq!(created["config"], TRANSFORMATION);
    assert_eq!(created["mode"], "run");
    assert_eq!(created["tag"], "1.2.3");
    assert_eq!(created["branchId"], Value::Null);
    assert_eq!(created["type"], "standard");
    assert_eq!(created["result"], json!([]));
    assert_eq!(created["project"]["id"], "101");
    assert_eq!(created["token"]["id"], "1001");
    assert_eq!(
        created["token"].as_object().unwrap().len(),
        2,
        "token carries id and description only"
    );
    assert!(
        !created.to_string().contains(&token),
        "no secret in the job"
    );
    assert_eq!(created["url"], format!("{}/queue/jobs/{id}", emu.url()));
    let done = finished(&c, &token, id);
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(done["result"]["message"], "Component processing finished.");
    assert!(done["startTime"].is_string() && done["endTime"].is_string());
    assert_eq!(
        done["result"]["output"]["tables"][0]["id"],
        "out.c-reports.revenue"
    );

    // A job submitted with the run id of a running job is its child.
    let body = serde_json::to_vec(
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {}}}),
    )
    .unwrap();
    let child = c.request(
        "POST",
        "/queue/jobs",
        &[(SAPI, &token), ("X-KBC-RunId", id)],
        Some(("application/json", body)),
    );
    assert_eq!(child.status, 201, "{}", child.text);
    let child = child.json();
    assert_eq!(child["parentRunId"], id);
    assert_eq!(
        child["runId"],
        format!("{id}.{}", child["id"].as_str().unwrap())
    );
}

#[test]
fn a_sql_transformation_writes_the_rows_its_query_computes() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let sql = "CREATE TABLE \"by_country\" AS SELECT \"country\", COUNT(*) AS \"customers\", \
               SUM(\"is_active\" = 'true') AS \"active\" FROM \"people\" GROUP BY 1;";
    let configuration = json!({
        "parameters": {"blocks": [{"name": "Count", "codes": [{"name": "By country", "script": [sql]}]}]},
        "storage": {
            "input": {"tables": [{"source": "in.c-crm.customers", "destination": "people"}]},
            "output": {"tables": [{"source": "by_country", "destination": "out.c-reports.customers_by_country", "primary_key": ["country"]}]}
        }
    });
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "configData": configuration}),
    );
    assert_eq!(done["status"], "success", "{done}");

    // The same counts, computed here from the customers table.
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in rows(&c, &token, "in.c-crm.customers") {
        let e = expected.entry(row["country"].clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(row["is_active"] == "true");
    }
    let written: BTreeMap<String, (u64, u64)> =
        rows(&c, &token, "out.c-reports.customers_by_country")
            .into_iter()
            .map(|r| {
                (
                    r["country"].clone(),
                    (
                        r["customers"].parse().unwrap(),
                        r["active"].parse().unwrap(),
                    ),
                )
            })
            .collect();
    assert_eq!(written, expected);
    let table = c
        .get(
            "/v2/storage/tables/out.c-reports.customers_by_country",
            &token,
        )
        .json();
    assert_eq!(table["primaryKey"], json!(["country"]));
    assert_eq!(table["rowsCount"], expected.len());

    // Incremental output upserts by the primary key; a full one replaces.
    let mut configuration = configuration;
    configuration["parameters"]["blocks"][0]["codes"][0]["script"] = json!([
        "CREATE TABLE \"by_country\" AS SELECT 'ZZ' AS \"country\", 1 AS \"customers\", 0 AS \"active\" UNION ALL SELECT 'CZ', 7, 7;"
    ]);
    configuration["storage"]["output"]["tables"][0]["incremental"] = json!(true);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "configData": configuration}),
    );
    assert_eq!(done["status"], "success", "{done}");
    let after = rows(&c, &token, "out.c-reports.customers_by_country");
    assert_eq!(after.len(), expected.len() + 1);
    let cz = after.iter().find(|r| r["country"] == "CZ").unwrap();
    assert_eq!(cz["customers"], "7");
    configuration["storage"]["output"]["tables"][0]["incremental"] = json!(false);
    run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "configData": configuration}),
    );
    assert_eq!(
        rows(&c, &token, "out.c-reports.customers_by_country").len(),
        2
    );

    // Variables fill `{{ name }}` in the scripts.
    configuration["parameters"]["blocks"][0]["codes"][0]["script"] = json!([
        "CREATE TABLE \"by_country\" AS SELECT '{{ code }}' AS \"country\", {{n}} AS \"customers\", 0 AS \"active\";"
    ]);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "configData": configuration,
                "variableValuesData": {"values": [{"name": "code", "value": "XX"}, {"name": "n", "value": "42"}]}}),
    );
    assert_eq!(done["status"], "success", "{done}");
    let only = rows(&c, &token, "out.c-reports.customers_by_country");
    assert_eq!(only.len(), 1);
    assert_eq!(
        (only[0]["country"].as_str(), only[0]["customers"].as_str()),
        ("XX", "42")
    );
}

#[test]
fn broken_sql_fails_with_the_database_message_and_writes_nothing() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION, "branchId": DEV_BRANCH}),
    );
    assert_eq!(done["status"], "error", "{done}");
    assert_eq!(done["branchId"], DEV_BRANCH);
    let message = done["result"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Query \"CREATE TABLE \\\"revenue\\\"")
            || message.starts_with("Query \"CREATE TABLE \"revenue\""),
        "{message}"
    );
    assert!(
        message.ends_with("in \"Aggregate\" failed with error: \"no such function: SUMM\""),
        "{message}"
    );
    assert_eq!(done["result"]["error"]["type"], "user");
    let table = c.get("/v2/storage/tables/out.c-reports.revenue", &token);
    assert_eq!(table.status, 404, "nothing was written: {}", table.text);
    let log = events(
        &c,
        &token,
        &format!("runId={}", done["id"].as_str().unwrap()),
    );
    assert_eq!(log[0]["type"], "error");
    assert_eq!(log[0]["message"], message);
}

#[test]
fn the_oauth_extractor_fails_until_the_wizard_authorized_it() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let body = json!({"component": "keboola.ex-google-drive", "config": DRIVE_CONFIG});
    let failed = run(&c, &token, &body);
    assert_eq!(failed["status"], "error", "{failed}");
    let message = failed["result"]["message"].as_str().unwrap();
    assert!(message.contains("Authorization is missing"), "{message}");
    assert_eq!(
        c.get("/v2/storage/tables/in.c-budget.budget-summary", &token)
            .status,
        404
    );

    let resp = c.request(
        "POST",
        "/oauth/authorize",
        &[(SAPI, &token)],
        Some((
            "application/json",
            serde_json::to_vec(&json!({"componentId": "keboola.ex-google-drive", "configId": DRIVE_CONFIG, "sapiUrl": emu.url()})).unwrap(),
        )),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);

    let done = run(&c, &token, &body);
    assert_eq!(done["status"], "success", "{done}");
    let summary = rows(&c, &token, "in.c-budget.budget-summary");
    assert_eq!(summary.len(), 12);
    assert_eq!(
        summary[0].keys().cloned().collect::<Vec<_>>(),
        ["actual", "department", "month", "planned"]
    );
    assert_eq!(rows(&c, &token, "in.c-budget.campaign-costs").len(), 8);
}

#[test]
fn the_database_extractor_delivers_the_crm_tables() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let before = rows(&c, &token, "in.c-crm.customers");
    c.delete("/v2/storage/tables/in.c-crm.customers?force=true", &token);
    assert_eq!(
        c.get("/v2/storage/tables/in.c-crm.customers", &token)
            .status,
        404
    );
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.ex-db-snowflake", "config": DB_CONFIG, "configRowIds": ["10002"]}),
    );
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(done["configRowIds"], json!(["10002"]));
    assert_eq!(rows(&c, &token, "in.c-crm.customers"), before);
    let table = c
        .get("/v2/storage/tables/in.c-crm.customers", &token)
        .json();
    assert_eq!(table["primaryKey"], json!(["id"]));
}

#[test]
fn a_flow_runs_its_tasks_as_child_jobs_in_phase_order() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.flow", "config": FLOW_CONFIG}),
    );
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(done["type"], "orchestrationContainer");
    let flow_run = done["runId"].as_str().unwrap();
    let children = c
        .get(
            &format!("/queue/search/jobs?parentRunId={flow_run}&sortBy=id&sortOrder=asc"),
            &token,
        )
        .json();
    let children = children.as_array().unwrap();
    let components: Vec<&str> = children
        .iter()
        .map(|j| j["component"].as_str().unwrap())
        .collect();
    assert_eq!(
        components,
        [
            "keboola.ex-db-snowflake",
            "keboola.snowflake-transformation"
        ]
    );
    for child in children {
        assert_eq!(child["status"], "success", "{child}");
        assert_eq!(child["parentRunId"], flow_run);
        assert_eq!(
            child["runId"],
            format!("{flow_run}.{}", child["id"].as_str().unwrap())
        );
    }
    // The second phase started after the first one ended.
    assert!(children[0]["endTime"].as_str() <= children[1]["startTime"].as_str());
    // A child's events are found by its plain id.
    let child_id = children[1]["id"].as_str().unwrap();
    let log = messages(&events(&c, &token, &format!("runId={child_id}")));
    assert!(
        log.contains(&"Running block \"Revenue\".".to_owned()),
        "{log:?}"
    );
}

#[test]
fn a_flow_stops_at_a_failed_task_unless_it_may_fail() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let flow = |continue_on_failure: bool| {
        json!({
            "phases": [
                {"id": "extract", "name": "Extract", "dependsOn": []},
                {"id": "transform", "name": "Transform", "dependsOn": ["extract"]}
            ],
            "tasks": [
                {"id": "t1", "name": "Sheets", "phase": "extract", "enabled": true, "continueOnFailure": continue_on_failure,
                 "task": {"componentId": "keboola.ex-google-drive", "configId": DRIVE_CONFIG, "mode": "run"}},
                {"id": "t2", "name": "Skipped", "phase": "extract", "enabled": false,
                 "task": {"componentId": "keboola.ex-db-snowflake", "configId": DB_CONFIG, "mode": "run"}},
                {"id": "t3", "name": "Revenue", "phase": "transform", "enabled": true,
                 "task": {"componentId": "keboola.snowflake-transformation", "configId": TRANSFORMATION, "mode": "run"}}
            ]
        })
    };
    let children = |run_id: &str| -> Vec<Value> {
        c.get(&format!("/queue/search/jobs?parentRunId={run_id}"), &token)
            .json()
            .as_array()
            .unwrap()
            .clone()
    };

    put_configuration(&c, &token, "keboola.flow", FLOW_CONFIG, &flow(false));
    let done = failed_flow(&c, &token);
    let message = done["result"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Task \"Sheets\" in phase \"Extract\" failed"),
        "{message}"
    );
    let ran = children(done["runId"].as_str().unwrap());
    assert_eq!(ran.len(), 1, "the Transform phase never ran: {ran:?}");
    assert_eq!(ran[0]["component"], "keboola.ex-google-drive");
    assert_eq!(ran[0]["status"], "error");

    put_configuration(&c, &token, "keboola.flow", FLOW_CONFIG, &flow(true));
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.flow", "config": FLOW_CONFIG}),
    );
    assert_eq!(done["status"], "warning", "{done}");
    assert_eq!(done["isFinished"], true);
    let statuses: Vec<String> = children(done["runId"].as_str().unwrap())
        .iter()
        .rev()
        .map(|j| j["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["error", "success"]);
}

#[test]
fn a_stuck_job_is_killed_promptly_and_a_finished_one_cannot_be() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let created = submit_ok(
        &c,
        &token,
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {"emulator": {"stuck": true}}}}),
    );
    let id = created["id"].as_str().unwrap();
    wait_for(&c, &token, id, |j| j["status"] == "processing");
    let killed = c.post_json(&format!("/queue/jobs/{id}/kill"), &token, &json!({}));
    assert_eq!(killed.status, 202, "{}", killed.text);
    assert_eq!(killed.json()["desiredStatus"], "terminating");
    assert_eq!(killed.json()["status"], "terminating");
    let done = finished(&c, &token, id);
    assert_eq!(done["status"], "terminated", "{done}");

    let again = c.post_json(&format!("/queue/jobs/{id}/kill"), &token, &json!({}));
    assert_eq!(again.status, 400, "{}", again.text);
    let body = again.json();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not in one of killable states")
    );
    assert_eq!(body["code"], 400);

    // Killing a flow ends its running child too.
    let flow = json!({
        "phases": [{"id": 1, "name": "Wait", "dependsOn": []}],
        "tasks": [{"id": 1, "name": "Hang", "phase": 1, "enabled": true,
                   "task": {"componentId": "keboola.ex-db-snowflake", "configId": DB_CONFIG, "mode": "run"}}]
    });
    put_configuration(
        &c,
        &token,
        "keboola.ex-db-snowflake",
        DB_CONFIG,
        &json!({"parameters": {"emulator": {"stuck": true}}}),
    );
    let created = submit_ok(
        &c,
        &token,
        &json!({"component": "keboola.flow", "configData": flow}),
    );
    let flow_id = created["id"].as_str().unwrap();
    let child = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = c
                .get(
                    &format!("/queue/search/jobs?parentRunId={flow_id}&status=processing"),
                    &token,
                )
                .json();
            if let Some(j) = found.as_array().unwrap().first() {
                break j["id"].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "the child never started");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let killed = c.post_json(&format!("/queue/jobs/{flow_id}/kill"), &token, &json!({}));
    assert_eq!(killed.status, 202, "{}", killed.text);
    assert_eq!(finished(&c, &token, &child)["status"], "terminated");
    assert_eq!(finished(&c, &token, flow_id)["status"], "terminated");
}

#[test]
fn steering_parameters_fail_or_slow_a_job() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {"emulator": {"fail": "Broken on purpose", "sleep_ms": 30}}}}),
    );
    assert_eq!(done["status"], "error");
    assert_eq!(done["result"]["message"], "Broken on purpose");
    // A sleeping job is processing until its time is up, and a kill cuts the sleep short.
    let slow = submit_ok(
        &c,
        &token,
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {"emulator": {"sleep_ms": 600_000}}}}),
    );
    let id = slow["id"].as_str().unwrap();
    let seen = wait_for(&c, &token, id, |j| {
        j["status"] != "created" && j["status"] != "waiting"
    });
    assert_eq!(seen["status"], "processing", "{seen}");
    let killed = c.post_json(&format!("/queue/jobs/{id}/kill"), &token, &json!({}));
    assert_eq!(killed.status, 202, "{}", killed.text);
    assert_eq!(finished(&c, &token, id)["status"], "terminated");
    let short = run(
        &c,
        &token,
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {"emulator": {"sleep_ms": 20}}}}),
    );
    assert_eq!(short["status"], "success", "{short}");
}

#[test]
fn search_filters_sorts_and_pages() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let quick = |fail: bool| {
        let params = if fail {
            json!({"emulator": {"fail": "no"}})
        } else {
            json!({})
        };
        run(
            &c,
            &token,
            &json!({"component": "keboola.ex-http", "configData": {"parameters": params}}),
        )
    };
    let a = quick(false);
    let b = quick(true);
    let t = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION}),
    );
    let ids = |query: &str| -> Vec<String> {
        let resp = c.get(&format!("/queue/search/jobs?{query}"), &token);
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |j: &Value| j["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(""), [id(&t), id(&b), id(&a)], "newest first");
    assert_eq!(ids("sortBy=id&sortOrder=asc"), [id(&a), id(&b), id(&t)]);
    assert_eq!(ids("component=keboola.ex-http"), [id(&b), id(&a)]);
    assert_eq!(
        ids("componentId[]=keboola.snowflake-transformation"),
        [id(&t)]
    );
    assert_eq!(ids(&format!("configId={TRANSFORMATION}")), [id(&t)]);
    assert_eq!(ids("status=error"), [id(&b)]);
    assert_eq!(
        ids("status[]=error&status[]=success"),
        [id(&t), id(&b), id(&a)]
    );
    assert_eq!(ids("limit=1&offset=1"), [id(&b)]);
    assert_eq!(ids("branchId[]=null"), [id(&t), id(&b), id(&a)]);
    assert_eq!(ids(&format!("branchId={DEV_BRANCH}")), Vec::<String>::new());
    assert_eq!(ids("createdTimeFrom=-1%20hours").len(), 3);
    assert!(ids("createdTimeTo=2000-01-01").is_empty());
    let bad = c.get("/queue/search/jobs?sortBy=nope", &token);
    assert_eq!(bad.status, 400, "{}", bad.text);
    // Another project sees none of them.
    let other = c.get("/queue/search/jobs", &emu.projects()[1].tokens.admin);
    assert_eq!(other.json(), json!([]));
    let foreign = c.get(
        &format!("/queue/jobs/{}", id(&a)),
        &emu.projects()[1].tokens.admin,
    );
    assert_eq!(foreign.status, 404, "{}", foreign.text);
}

#[test]
fn events_follow_a_job_run() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let done = run(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION}),
    );
    let run_id = done["runId"].as_str().unwrap();
    let log = events(&c, &token, &format!("runId={run_id}"));
    let rows_written = c
        .get("/v2/storage/tables/out.c-reports.revenue", &token)
        .json()["rowsCount"]
        .clone();
    let texts = messages(&log);
    assert_eq!(
        texts.first().unwrap(),
        &format!("Job \"{run_id}\" of component \"keboola.snowflake-transformation\" started.")
    );
    for expected in [
        "Table \"in.c-crm.customers\" loaded as \"customers\": 500 rows.".to_owned(),
        "Running block \"Revenue\".".to_owned(),
        "Running code \"Aggregate\".".to_owned(),
        format!("Table \"out.c-reports.revenue\" written: {rows_written} rows."),
    ] {
        assert!(texts.contains(&expected), "{expected} not in {texts:?}");
    }
    assert_eq!(log[0]["type"], "success");
    for e in &log {
        assert_eq!(e["runId"], run_id);
        assert_eq!(e["component"], "keboola.snowflake-transformation");
        assert_eq!(e["event"], "ext.keboola.snowflake-transformation.");
        assert!(e["id"].is_string() && e["created"].is_string());
    }
    // limit, sinceId/maxId, q, component.
    assert_eq!(
        events(&c, &token, &format!("runId={run_id}&limit=2")).len(),
        2
    );
    let first_id: u64 = log.last().unwrap()["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        events(&c, &token, &format!("runId={run_id}&sinceId={first_id}")).len(),
        log.len() - 1
    );
    assert_eq!(events(&c, &token, &format!("maxId={first_id}")).len(), 1);
    assert_eq!(events(&c, &token, "q=running%20block").len(), 1);
    assert!(events(&c, &token, "component=keboola.flow").is_empty());
    assert!(events(&c, &token, "runId=1").is_empty());
}

#[test]
fn tokens_need_access_to_the_component() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0].tokens;
    let body = json!({"component": "keboola.ex-http", "configData": {"parameters": {}}});
    let read_only = submit(&c, &p.read_only, &body);
    assert_eq!(read_only.status, 403, "{}", read_only.text);
    let narrow = c.mint(
        &p.admin,
        &json!({"description": "narrow", "componentAccess": ["keboola.ex-http"]}),
    );
    let narrow = narrow["token"].as_str().unwrap();
    assert_eq!(submit(&c, narrow, &body).status, 201);
    let other = submit(
        &c,
        narrow,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION}),
    );
    assert_eq!(other.status, 403, "{}", other.text);
    let none = c.mint(&p.admin, &json!({"description": "none"}));
    assert_eq!(
        submit(&c, none["token"].as_str().unwrap(), &body).status,
        403
    );
    let bad = submit(&c, "101-1001-nope", &body);
    assert_eq!(bad.status, 401, "{}", bad.text);
    assert_eq!(bad.json()["code"], 401);
    assert_eq!(bad.json()["error"], "Invalid access token");
    // Validation.
    let missing = submit(&c, &p.admin, &json!({"config": "1"}));
    assert_eq!(missing.status, 400, "{}", missing.text);
    let unknown = submit(
        &c,
        &p.admin,
        &json!({"component": "keboola.snowflake-transformation", "config": "999"}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.text);
}

#[test]
fn each_submission_is_logged_once_under_the_queue_service() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    emu.clear_requests();
    run(
        &c,
        &token,
        &json!({"component": "keboola.ex-http", "configData": {"parameters": {}}}),
    );
    let posts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/queue/jobs")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].service.as_deref(), Some("queue"));
    assert_eq!(posts[0].status, 201);
    assert_eq!(posts[0].project_id, Some(101));
}

/// A raw HTTP/1.1 request with the given `Host`, as a client resolving that name to the
/// emulator sends it: (status line, JSON body).
fn raw(
    emu: &Emulator,
    method: &str,
    host: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (String, Value) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(emu.local_addr()).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nX-StorageApi-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_owned();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn the_queue_answers_under_its_host_name() {
    let emu = start_with(EmulatorOptions {
        hostname: Some("keboola.local".to_owned()),
        ..EmulatorOptions::default()
    });
    let port = emu.local_addr().port();
    let token = admin(&emu);
    let (status, index) = raw(
        &emu,
        "GET",
        &format!("connection.keboola.local:{port}"),
        "/v2/storage?exclude=components",
        &token,
        "",
    );
    assert!(status.contains(" 200 "), "{status}");
    let queue = index["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "queue")
        .unwrap()["url"]
        .clone();
    assert_eq!(queue, format!("http://queue.keboola.local:{port}"));
    let body =
        json!({"component": "keboola.ex-http", "configData": {"parameters": {}}}).to_string();
    let host = format!("queue.keboola.local:{port}");
    let (status, created) = raw(&emu, "POST", &host, "/jobs", &token, &body);
    assert!(status.contains(" 201 "), "{status} {created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        created["url"],
        format!("http://queue.keboola.local:{port}/jobs/{id}")
    );
    let (status, read) = raw(&emu, "GET", &host, &format!("/jobs/{id}"), &token, "");
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(read["id"], id);
}

#[test]
fn job_controls_steer_the_next_jobs_flow_children_included() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let resp = c.request(
        "POST",
        "/_emulator/jobs",
        &[],
        Some((
            "application/json",
            br#"{"component":"keboola.ex-db-snowflake","fail":"Source database is down"}"#.to_vec(),
        )),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        c.get_anon("/_emulator/jobs")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let done = failed_flow(&c, &token);
    let message = done["result"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("failed: Source database is down"),
        "{message}"
    );
    assert_eq!(done["result"]["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(c.get_anon("/_emulator/jobs").json(), json!([]), "used up");
    let bad = c.request(
        "POST",
        "/_emulator/jobs",
        &[],
        Some(("application/json", br#"{"nope":1}"#.to_vec())),
    );
    assert_eq!(bad.status, 400, "{}", bad.text);

    // From Rust: the next job of any component hangs until killed.
    emu.add_queue_job_control(keboola_emulator::QueueJobControl {
        stuck: true,
        ..Default::default()
    });
    let created = submit_ok(
        &c,
        &token,
        &json!({"component": "keboola.snowflake-transformation", "config": TRANSFORMATION}),
    );
    let id = created["id"].as_str().unwrap();
    wait_for(&c, &token, id, |j| j["status"] == "processing");
    c.post_json(&format!("/queue/jobs/{id}/kill"), &token, &json!({}));
    assert_eq!(finished(&c, &token, id)["status"], "terminated");
    assert_eq!(
        c.get("/v2/storage/tables/out.c-reports.revenue", &token)
            .status,
        404,
        "the killed transformation wrote nothing"
    );
}

/// Encrypts `{"#password": plain}` through the Encryption API for `query`'s scope.
fn encrypted_password(c: &Client, query: &str, plain: &str) -> String {
    let resp = c.request(
        "POST",
        &format!("/encrypt?{query}"),
        &[],
        Some((
            "application/json",
            json!({"#password": plain}).to_string().into_bytes(),
        )),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(!resp.text.contains(plain), "{}", resp.text);
    resp.json()["#password"].as_str().unwrap().to_owned()
}

/// A database extractor configuration logging in with `password`; `parameters` adds to
/// its parameters.
fn db_config(c: &Client, token: &str, password: &str, parameters: &Value) -> String {
    let mut params = json!({
        "db": {"user": "reader", "#password": password},
        "table": {"tableName": "CUSTOMERS"}, "outputTable": "in.c-secret.customers"});
    for (k, v) in parameters.as_object().unwrap() {
        params[k] = v.clone();
    }
    let body = json!({"name": "Secret db", "configuration": {"parameters": params}});
    let resp = c.send_json(
        "POST",
        "/v2/storage/branch/default/components/keboola.ex-db-snowflake/configs",
        token,
        &body,
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.json()["id"].as_str().unwrap().to_owned()
}

fn run_db(c: &Client, token: &str, config: &str) -> Value {
    run(
        c,
        token,
        &json!({"component": "keboola.ex-db-snowflake", "config": config}),
    )
}

#[test]
fn a_job_gets_its_secrets_decrypted_only_within_their_scope() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let project = emu.projects()[0].id;
    // What the seeded database source accepts.
    let plain = "emulated-password";
    let scope = format!("componentId=keboola.ex-db-snowflake&projectId={project}");
    let cipher = encrypted_password(&c, &scope, plain);
    let config = db_config(&c, &token, &cipher, &json!({}));
    let stored = c.get(
        &format!("/v2/storage/components/keboola.ex-db-snowflake/configs/{config}"),
        &token,
    );
    assert!(!stored.text.contains(plain), "{}", stored.text);
    let ok = run_db(&c, &token, &config);
    assert_eq!(ok["status"], "success", "{ok}");
    assert!(!rows(&c, &token, "in.c-secret.customers").is_empty());

    // The seeded configuration's cipher decrypts to the same.
    let seeded = run_db(&c, &token, DB_CONFIG);
    assert_eq!(seeded["status"], "success", "{seeded}");

    // A source steered to expect another password refuses this one, by user name only.
    let steered = db_config(
        &c,
        &token,
        &cipher,
        &json!({"emulator": {"expect_secret": "something-else"}}),
    );
    let refused = run_db(&c, &token, &steered);
    assert_eq!(refused["status"], "error", "{refused}");
    let message = refused["result"]["message"].as_str().unwrap();
    assert!(
        message.contains("authentication failed for user \"reader\""),
        "{message}"
    );

    // The same cipher copied into another project, or a cipher bound to another
    // configuration, does not decrypt.
    let other = &emu.projects()[1];
    let copied = db_config(&c, &other.tokens.admin, &cipher, &json!({}));
    let bound = encrypted_password(&c, &format!("{scope}&configId=999"), plain);
    let misbound = db_config(&c, &token, &bound, &json!({}));
    let mut failed_ids = Vec::new();
    for (tok, cfg) in [
        (other.tokens.admin.as_str(), copied),
        (token.as_str(), misbound),
    ] {
        let failed = run_db(&c, tok, &cfg);
        assert_eq!(failed["status"], "error", "{failed}");
        let message = failed["result"]["message"].as_str().unwrap();
        assert!(message.starts_with("Decryption failed"), "{message}");
        assert!(message.contains("#password"), "{message}");
        assert_eq!(failed["result"]["error"]["type"], "user");
        failed_ids.push((tok.to_owned(), failed["id"].as_str().unwrap().to_owned()));
    }

    // Nothing shows the plain text: job details, events, job search, the request log.
    failed_ids.push((token.clone(), ok["id"].as_str().unwrap().to_owned()));
    failed_ids.push((token.clone(), refused["id"].as_str().unwrap().to_owned()));
    for (tok, id) in &failed_ids {
        assert!(!job(&c, tok, id).to_string().contains(plain));
        let log = events(&c, tok, &format!("runId={id}"));
        assert!(!log.is_empty());
        assert!(!Value::from(log).to_string().contains(plain));
    }
    let search = c.get("/queue/search/jobs", &token);
    assert!(!search.text.contains(plain), "{}", search.text);
    let requests = c.get_anon("/_emulator/requests");
    assert_eq!(requests.status, 200);
    assert!(!requests.text.contains(plain));
}
