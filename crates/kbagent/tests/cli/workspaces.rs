//! `kbagent workspace ...` and `kbagent query` against the emulator's workspaces and
//! Query Service: loads, joins, the database's own errors, a failing transformation
//! reproduced statement by statement, clean-up, and the password's one reveal.

use serde_json::Value;

use crate::common::*;

const TRANSFORMATION: &str = "keboola.snowflake-transformation";
/// The seeded transformation; its dev-branch copy has a typo (`SUMM`).
const TRANSFORMATION_CONFIG: &str = "10007";
const DEV_BRANCH: &str = "10102";

fn env_with_project() -> TestEnv {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env
}

/// The workspaces of project 0's default branch, read outside kbagent.
fn emulator_workspaces(env: &TestEnv) -> Vec<Value> {
    let mut resp = ureq::get(format!("{}/v2/storage/workspaces", env.emu.url()))
        .header("X-StorageApi-Token", &env.token(0, "admin"))
        .call()
        .unwrap();
    let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    v.as_array().unwrap().clone()
}

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (e, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {e:?}");
    e.data().clone()
}

#[test]
fn create_load_two_tables_join_and_delete() {
    let env = env_with_project();
    let created = ok(&env, &["workspace", "create", "--name", "scratch"]);
    let id = created["workspace_id"].as_str().unwrap().to_owned();
    let password = created["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 16);
    assert_eq!(created["backend"], "snowflake");
    assert_eq!(created["component_id"], "keboola.sandboxes");

    // Detail and list never show the password.
    let r = env.run(&["--json", "workspace", "detail", "--workspace-id", &id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&password) && !r.stderr.contains(&password));
    assert_eq!(r.envelope().data()["schema"], format!("WORKSPACE_{id}"));
    let r = env.run(&["workspace", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&id) && !r.stdout.contains(&password));

    let loaded = ok(
        &env,
        &[
            "workspace",
            "load",
            "--workspace-id",
            &id,
            "--tables",
            "in.c-crm.orders",
            "--tables",
            "in.c-crm.customers",
        ],
    );
    let tables = loaded["tables"].as_array().unwrap();
    assert_eq!(tables[0]["destination"], "orders");
    assert_eq!(tables[0]["rows"], 2000);
    assert_eq!(tables[1]["rows"], 500);

    let rows = ok(
        &env,
        &[
            "workspace",
            "query",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT c.country, COUNT(*) AS orders FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.country ORDER BY c.country",
        ],
    );
    assert_eq!(rows["columns"], serde_json::json!(["country", "orders"]));
    let list = rows["rows"].as_array().unwrap();
    assert_eq!(list.len(), 8, "eight seeded countries: {list:?}");
    assert_eq!(list[0]["country"], "CZ");
    let total: u64 = list
        .iter()
        .map(|r| r["orders"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 2000, "every order has its customer");

    // --limit cuts, and says so; CSV for people.
    let limited = ok(
        &env,
        &[
            "workspace",
            "query",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT order_id FROM orders ORDER BY order_id",
            "--limit",
            "3",
        ],
    );
    assert_eq!(limited["row_count"], 3);
    assert_eq!(limited["total_rows"], 2000);
    assert_eq!(limited["truncated"], true);
    // Every statement that returns rows carries its own; the top level is the last one's.
    let two = ok(
        &env,
        &[
            "workspace",
            "query",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT COUNT(*) AS n FROM orders; SELECT order_id FROM orders ORDER BY order_id LIMIT 2",
        ],
    );
    let stmts = two["statements"].as_array().unwrap();
    assert_eq!(stmts.len(), 2, "{two}");
    assert_eq!(stmts[0]["columns"][0]["name"], "n");
    // The Query Service's column objects as it gives them (the Python kbagent passes them on).
    assert!(stmts[0]["columns"][0]["nullable"].is_boolean(), "{two}");
    assert!(stmts[0]["columns"][0].get("length").is_some(), "{two}");
    assert_eq!(stmts[0]["rows"], serde_json::json!([["2000"]]), "{two}");
    assert_eq!(stmts[0]["csv_data"], "n\n2000\n");
    assert_eq!(stmts[1]["row_count"], 2);
    assert_eq!(two["columns"], serde_json::json!(["order_id"]));
    assert_eq!(two["rows"].as_array().unwrap().len(), 2);
    let r = env.run(&[
        "workspace",
        "query",
        "--workspace-id",
        &id,
        "--format",
        "csv",
        "--sql",
        "SELECT order_id, status FROM orders ORDER BY order_id LIMIT 2",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().next(), Some("order_id,status"));
    assert_eq!(r.stdout.lines().count(), 3);

    // A filtered load keeps what the filter asks for.
    ok(
        &env,
        &[
            "workspace",
            "load",
            "--workspace-id",
            &id,
            "--tables",
            "in.c-crm.orders",
            "--where-column",
            "status",
            "--where-values",
            "completed",
            "--columns",
            "order_id,status",
        ],
    );
    let only = ok(
        &env,
        &[
            "workspace",
            "query",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT DISTINCT status FROM orders",
        ],
    );
    assert_eq!(only["rows"], serde_json::json!([{"status": "completed"}]));

    let (e, code) = env.json(&["workspace", "delete", "--workspace-id", &id, "--yes"]);
    assert_eq!(code, 0, "{e:?}");
    assert_eq!(e.data()["config_deleted"], true);
    assert!(emulator_workspaces(&env).is_empty());
}

#[test]
fn a_syntax_error_returns_the_database_message() {
    let env = env_with_project();
    let created = ok(&env, &["workspace", "create"]);
    let id = created["workspace_id"].as_str().unwrap();
    let (e, code) = env.json(&[
        "workspace",
        "query",
        "--workspace-id",
        id,
        "--sql",
        "SELECT 1; SELEC 2",
    ]);
    assert_eq!(code, 1, "{e:?}");
    let err = e.err();
    assert_eq!(err.code, "QUERY_JOB_FAILED");
    assert!(
        err.message.contains("near \"SELEC\": syntax error"),
        "{}",
        err.message
    );
    let details = err.details.as_ref().unwrap();
    assert_eq!(details["statement_index"], 2);
    assert_eq!(details["statement"], "SELEC 2");
}

#[test]
fn from_transformation_reproduces_the_failing_statement() {
    let env = env_with_project();
    // The dev copy of the transformation fails as a job...
    let (job, code) = env.json(&[
        "job",
        "run",
        "--component-id",
        TRANSFORMATION,
        "--config-id",
        TRANSFORMATION_CONFIG,
        "--branch",
        DEV_BRANCH,
        "--wait",
    ]);
    assert_eq!(code, 1, "{job:?}");
    assert!(
        job.err().message.contains("no such function: SUMM"),
        "{}",
        job.err().message
    );

    // ...and in a workspace loaded with its input mapping, its statement fails the same way.
    let ws = ok(
        &env,
        &[
            "workspace",
            "from-transformation",
            "--component-id",
            TRANSFORMATION,
            "--config-id",
            TRANSFORMATION_CONFIG,
            "--branch",
            DEV_BRANCH,
        ],
    );
    let id = ws["workspace_id"].as_str().unwrap();
    assert_eq!(ws["component_id"], TRANSFORMATION);
    let tables: Vec<&str> = ws["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["destination"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["customers", "orders"]);
    let script = ws["scripts"][0]["sql"].as_str().unwrap();
    let (e, code) = env.json(&[
        "workspace",
        "query",
        "--workspace-id",
        id,
        "--branch",
        DEV_BRANCH,
        "--sql",
        script,
    ]);
    assert_eq!(code, 1);
    assert_eq!(e.err().code, "QUERY_JOB_FAILED");
    assert!(
        e.err().message.contains("no such function: SUMM"),
        "{}",
        e.err().message
    );
    // The fixed statement runs.
    let fixed = script
        .replace("SUMM(", "SUM(")
        .replace("CREATE TABLE \"revenue\" AS ", "");
    let rows = ok(
        &env,
        &[
            "workspace",
            "query",
            "--workspace-id",
            id,
            "--branch",
            DEV_BRANCH,
            "--sql",
            &fixed,
        ],
    );
    assert!(rows["row_count"].as_u64().unwrap() > 0);
}

#[test]
fn query_loads_what_the_sql_names_and_cleans_up() {
    let env = env_with_project();
    let data = ok(
        &env,
        &[
            "query",
            "--sql",
            "SELECT status, COUNT(*) AS n FROM \"in.c-crm.orders\" GROUP BY status ORDER BY status",
        ],
    );
    assert_eq!(data["workspace_created"], true);
    assert_eq!(data["workspace_deleted"], true);
    assert_eq!(data["tables"][0]["destination"], "in.c-crm.orders");
    let n: u64 = data["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(n, 2000);
    assert!(emulator_workspaces(&env).is_empty());

    // A failing query cleans up too.
    let (e, code) = env.json(&[
        "query",
        "--sql",
        "SELECT nope FROM orders",
        "--table",
        "in.c-crm.orders",
    ]);
    assert_eq!(code, 1);
    assert_eq!(e.err().code, "QUERY_JOB_FAILED");
    assert_eq!(e.err().details.as_ref().unwrap()["workspace_deleted"], true);
    assert!(emulator_workspaces(&env).is_empty());

    // --keep keeps it; --full writes every row.
    let out = env.home.path().join("orders.csv");
    let kept = ok(
        &env,
        &[
            "query",
            "--sql",
            "SELECT * FROM orders",
            "--table",
            "in.c-crm.orders",
            "--keep",
            "--full",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(kept["workspace_deleted"], false);
    assert_eq!(kept["row_count"], 2000);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2001);
    assert!(text.starts_with("order_id,customer_id,order_date,status,amount,currency\n"));
    assert_eq!(emulator_workspaces(&env).len(), 1);
}

#[test]
fn the_password_is_shown_only_on_create_and_reset() {
    let env = env_with_project();
    let r = env.run(&["workspace", "create"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let password = r
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .unwrap()
        .trim()
        .to_owned();
    let id = emulator_workspaces(&env)[0]["id"].to_string();
    let r = env.run(&["--json", "workspace", "password", "--workspace-id", &id]);
    assert_eq!(
        r.code, 2,
        "a reset needs --yes off a terminal: {}",
        r.stdout
    );
    let (e, code) = env.json(&["workspace", "password", "--workspace-id", &id, "--yes"]);
    assert_eq!(code, 0);
    let new_password = e.data()["password"].as_str().unwrap().to_owned();
    assert_ne!(new_password, password);
    for args in [
        vec!["workspace", "detail", "--workspace-id", &id],
        vec!["--json", "workspace", "list"],
        vec![
            "--json",
            "workspace",
            "query",
            "--workspace-id",
            &id,
            "--sql",
            "SELECT 1",
        ],
        vec![
            "--json",
            "workspace",
            "delete",
            "--workspace-id",
            &id,
            "--yes",
        ],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        for p in [&password, &new_password] {
            assert!(
                !r.stdout.contains(p.as_str()) && !r.stderr.contains(p.as_str()),
                "{args:?}"
            );
        }
    }
}

/// Ctrl-C while rows stream in: the command stops at the next page and still deletes the
/// workspace it made.
#[cfg(unix)]
#[test]
fn ctrl_c_deletes_the_workspace_made_for_a_query() {
    let env = env_with_project();
    // Every answer takes a while, so the signal arrives while pages are still coming.
    env.emu.set_latency_ms(150);
    let out = env.home.path().join("rows.csv");
    let child = env
        .base()
        .args([
            "--json", "query", "--full", "--output", out.to_str().unwrap(), "--sql",
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) SELECT x FROM n",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) == 0 {
        assert!(std::time::Instant::now() < deadline, "no rows arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["status"], "error", "{doc}");
    assert_eq!(doc["error"]["details"]["interrupted"], true, "{doc}");
    assert_eq!(doc["error"]["details"]["workspace_deleted"], true);
    env.emu.set_latency_ms(0);
    assert!(emulator_workspaces(&env).is_empty());
}
