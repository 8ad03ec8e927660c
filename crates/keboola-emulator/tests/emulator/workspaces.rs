//! Workspaces (a database per workspace, loaded by storage jobs) and the Query Service
//! running statements on them.

use std::time::{Duration, Instant};

use keboola_emulator::Emulator;
use serde_json::{Value, json};

use crate::common::{Client, start};

fn admin(emu: &Emulator) -> String {
    emu.projects()[0].tokens.admin.clone()
}

fn default_branch(c: &Client, token: &str) -> String {
    let branches = c.get("/v2/storage/dev-branches", token).json();
    branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] == true)
        .unwrap()["id"]
        .to_string()
}

/// A sandbox configuration and a workspace under it; gives (config id, workspace).
fn create_workspace(c: &Client, token: &str, branch: &str) -> (String, Value) {
    let cfg = c.send_form(
        "POST",
        &format!("/v2/storage/branch/{branch}/components/keboola.sandboxes/configs"),
        token,
        "name=Scratch&description=Created+by+a+test",
    );
    assert_eq!(cfg.status, 201, "{}", cfg.text);
    let config_id = cfg.json()["id"].as_str().unwrap().to_owned();
    let ws = c.post_json(
        &format!(
            "/v2/storage/branch/{branch}/components/keboola.sandboxes/configs/{config_id}/workspaces"
        ),
        token,
        &json!({"backend": "snowflake"}),
    );
    assert_eq!(ws.status, 201, "{}", ws.text);
    (config_id, ws.json())
}

fn wait_job(c: &Client, token: &str, job: &Value) -> Value {
    let id = job["id"].to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = c.get(&format!("/v2/storage/jobs/{id}"), token).json();
        if j["status"] == "success" || j["status"] == "error" {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} stuck: {j}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn query(c: &Client, token: &str, branch: &str, ws: &str, statements: &[&str]) -> Value {
    let resp = c.post_json(
        &format!("/query/api/v1/branches/{branch}/workspaces/{ws}/queries"),
        token,
        &json!({"statements": statements, "transactional": false}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let job = resp.json()["queryJobId"].as_str().unwrap().to_owned();
    let status = c.get(&format!("/query/api/v1/queries/{job}"), token);
    assert_eq!(status.status, 200, "{}", status.text);
    status.json()
}

#[test]
fn a_workspace_loads_tables_and_runs_a_join() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let branch = default_branch(&c, &token);
    let (config_id, ws) = create_workspace(&c, &token, &branch);
    let password = ws["connection"]["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 16);
    assert_eq!(ws["configurationId"], config_id);
    assert_eq!(ws["connection"]["backend"], "snowflake");
    let id = ws["id"].to_string();

    let detail = c.get(
        &format!("/v2/storage/branch/{branch}/workspaces/{id}"),
        &token,
    );
    assert_eq!(detail.status, 200);
    assert!(detail.json()["connection"].get("password").is_none());
    assert!(!detail.text.contains(&password));

    let load = c.post_json(
        &format!("/v2/storage/branch/{branch}/workspaces/{id}/load"),
        &token,
        &json!({"input": [
            {"source": "in.c-crm.customers", "destination": "customers", "columns": ["id", "name", "country"]},
            {"source": "in.c-crm.orders", "destination": "orders",
             "whereColumn": "status", "whereValues": ["completed"], "whereOperator": "eq"}
        ], "preserve": false}),
    );
    assert_eq!(load.status, 202, "{}", load.text);
    let job = wait_job(&c, &token, &load.json());
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(job["operationName"], "workspaceLoad");

    let status = query(
        &c,
        &token,
        &branch,
        &id,
        &[
            "SELECT c.country, COUNT(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1 ORDER BY 1",
        ],
    );
    assert_eq!(status["status"], "completed", "{status}");
    let st = &status["statements"][0];
    let results = c
        .get(
            &format!(
                "/query/api/v1/queries/{}/{}/results?offset=0&pageSize=100",
                status["queryJobId"].as_str().unwrap(),
                st["id"].as_str().unwrap()
            ),
            &token,
        )
        .json();
    let names: Vec<&str> = results["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["country", "n"]);
    let total: u64 = results["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(total > 0 && total < 2000, "{total}");
    // The where filter held: only `completed` orders were loaded.
    let others = query(
        &c,
        &token,
        &branch,
        &id,
        &["SELECT COUNT(*) FROM orders WHERE status <> 'completed'"],
    );
    let page = c
        .get(
            &format!(
                "/query/api/v1/queries/{}/{}/results",
                others["queryJobId"].as_str().unwrap(),
                others["statements"][0]["id"].as_str().unwrap()
            ),
            &token,
        )
        .json();
    assert_eq!(page["data"], json!([["0"]]));
    assert_eq!(
        st["numberOfRows"],
        results["data"].as_array().unwrap().len()
    );

    // The columns filter held: `email` was not loaded.
    let bad = query(&c, &token, &branch, &id, &["SELECT email FROM customers"]);
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["statements"][0]["error"], "no such column: email");

    let reset = c.send_json(
        "POST",
        &format!("/v2/storage/branch/{branch}/workspaces/{id}/password"),
        &token,
        &json!({}),
    );
    assert_eq!(reset.status, 201);
    let new_password = reset.json()["password"].as_str().unwrap().to_owned();
    assert_ne!(new_password, password);

    let gone = c.delete(
        &format!("/v2/storage/branch/{branch}/workspaces/{id}"),
        &token,
    );
    assert_eq!(gone.status, 204);
    let list = c.get(&format!("/v2/storage/branch/{branch}/workspaces"), &token);
    assert_eq!(list.json(), json!([]));
    let cfg_gone = c.delete(
        &format!("/v2/storage/branch/{branch}/components/keboola.sandboxes/configs/{config_id}"),
        &token,
    );
    assert_eq!(cfg_gone.status, 204);

    // Passwords never reach the request log.
    let log = serde_json::to_string(&emu.requests()).unwrap();
    assert!(!log.contains(&password) && !log.contains(&new_password));
}

#[test]
fn statements_fail_with_the_database_message_in_the_service_layout() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let branch = default_branch(&c, &token);
    let (_, ws) = create_workspace(&c, &token, &branch);
    let id = ws["id"].to_string();
    let status = query(
        &c,
        &token,
        &branch,
        &id,
        &["CREATE TABLE t (x INTEGER)", "SELEC 1", "SELECT 2"],
    );
    assert_eq!(status["status"], "failed");
    let st = status["statements"].as_array().unwrap();
    assert_eq!(st[0]["status"], "completed");
    assert_eq!(st[1]["status"], "failed");
    assert_eq!(st[1]["error"], "near \"SELEC\": syntax error");
    assert_eq!(st[2]["status"], "notExecuted");

    // Results of a failed statement, an unknown job, a bad page size: the service's layout.
    let job = status["queryJobId"].as_str().unwrap();
    let resp = c.get(
        &format!(
            "/query/api/v1/queries/{job}/{}/results",
            st[1]["id"].as_str().unwrap()
        ),
        &token,
    );
    assert_eq!(resp.status, 400);
    let body = resp.json();
    assert_eq!(body["error"], 400);
    assert_eq!(body["status"], "error");
    assert!(body["exception"].as_str().unwrap().contains("failed"));
    let resp = c.get("/query/api/v1/queries/nope", &token);
    assert_eq!(resp.status, 404);
    assert!(resp.json()["exception"].as_str().is_some());
    let resp = c.get(
        &format!(
            "/query/api/v1/queries/{job}/{}/results?pageSize=5",
            st[0]["id"].as_str().unwrap()
        ),
        &token,
    );
    assert_eq!(resp.status, 400);

    // The table the first statement created stays: statements are not transactional.
    let again = query(&c, &token, &branch, &id, &["INSERT INTO t VALUES (1), (2)"]);
    assert_eq!(again["statements"][0]["rowsAffected"], 2);
    let resp = c.get("/query/api/v1/queries/x", "not-a-token");
    assert_eq!(resp.status, 401);
}

#[test]
fn results_page_and_export_whole() {
    let emu = start();
    let c = Client::new(&emu);
    let token = admin(&emu);
    let branch = default_branch(&c, &token);
    let (_, ws) = create_workspace(&c, &token, &branch);
    let id = ws["id"].to_string();
    let status = query(
        &c,
        &token,
        &branch,
        &id,
        &[
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 250) SELECT x, 'r' || x AS label FROM n",
        ],
    );
    let job = status["queryJobId"].as_str().unwrap();
    let st = status["statements"][0]["id"].as_str().unwrap();
    assert_eq!(status["statements"][0]["numberOfRows"], 250);
    let page = |offset: u64| {
        c.get(
            &format!("/query/api/v1/queries/{job}/{st}/results?offset={offset}&pageSize=100"),
            &token,
        )
        .json()
    };
    assert_eq!(page(0)["data"][0], json!(["1", "r1"]));
    assert_eq!(page(200)["data"].as_array().unwrap().len(), 50);
    assert_eq!(page(200)["data"][49], json!(["250", "r250"]));
    assert_eq!(page(100)["columns"][0]["type"], "INTEGER");
    let export = c.get(
        &format!("/query/api/v1/queries/{job}/{st}/export?fileType=csv"),
        &token,
    );
    assert_eq!(export.status, 200);
    let lines: Vec<&str> = export.text.lines().collect();
    assert_eq!(lines.len(), 251);
    assert_eq!(lines[0], "x,label");
    assert_eq!(lines[250], "250,r250");

    // Another project's token sees neither the workspace nor the job.
    let other = emu.projects()[1].tokens.admin.clone();
    assert_eq!(
        c.get(&format!("/query/api/v1/queries/{job}"), &other)
            .status,
        404
    );
    let resp = c.post_json(
        &format!("/query/api/v1/branches/{branch}/workspaces/{id}/queries"),
        &other,
        &json!({"statements": ["SELECT 1"]}),
    );
    assert!(resp.status == 404 || resp.status == 400, "{}", resp.text);
}
