//! `component list/detail`, `search`, and `config oauth-url`'s refusal of components
//! without an OAuth flow.

use keboola_emulator::{EmulatorOptions, Fault};
use serde_json::{Value, json};

use crate::common::TestEnv;

fn projects(n: usize) -> TestEnv {
    TestEnv::with(EmulatorOptions {
        projects: n,
        ..EmulatorOptions::default()
    })
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["component_id"].as_str().unwrap())
        .collect()
}

#[test]
fn component_list_filters_by_type_and_ranks_query_words() {
    let env = projects(1);
    env.add("prod", 0, "admin");
    let (out, code) = env.json(&["component", "list"]);
    assert_eq!(code, 0, "{out:?}");
    let all = &out.data()["components"];
    assert!(all.as_array().unwrap().len() >= 30);
    // Every kind of component, and the ones the emulator runs.
    for id in [
        "keboola.ex-db-snowflake",
        "keboola.wr-snowflake",
        "keboola.flow",
        "keboola.orchestrator",
        "keboola.sandboxes",
        "keboola.snowflake-transformation",
        "kds-team.app-custom-python",
    ] {
        assert!(ids(all).contains(&id), "{id}");
    }

    let (out, _) = env.json(&["component", "list", "--type", "writer"]);
    let writers = out.data()["components"].as_array().unwrap();
    assert!(writers.len() >= 5);
    assert!(writers.iter().all(|c| c["component_type"] == "writer"));
    let sheets = writers
        .iter()
        .find(|c| c["component_id"] == "keboola.wr-google-sheets")
        .unwrap();
    assert_eq!(sheets["uses_oauth"], true);
    assert!(writers.iter().any(|c| c["uses_oauth"] == false));

    let (out, _) = env.json(&["component", "list", "--query", "postgres extractor"]);
    let found = &out.data()["components"];
    assert_eq!(ids(found), ["keboola.ex-db-pgsql"], "{found}");
    assert_eq!(out.data()["query"], "postgres extractor");

    let (out, _) = env.json(&["component", "list", "-q", "google"]);
    let found = out.data()["components"].as_array().unwrap();
    assert!(found.len() >= 5);
    let scores: Vec<f64> = found.iter().map(|c| c["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let (out, code) = env.json(&["component", "list", "--type", "loader"]);
    assert_eq!(code, 2);
    assert_eq!(out.err().code, "INVALID_ARGUMENT");
}

#[test]
fn component_detail_shows_flags_oauth_and_schema() {
    let env = projects(1);
    env.add("prod", 0, "admin");
    let (out, code) = env.json(&[
        "component",
        "detail",
        "--component-id",
        "keboola.ex-db-pgsql",
    ]);
    assert_eq!(code, 0, "{out:?}");
    let d = out.data();
    assert_eq!(d["component_name"], "PostgreSQL");
    assert_eq!(d["component_type"], "extractor");
    assert_eq!(d["uses_oauth"], false);
    assert_eq!(d["project_alias"], "prod");
    assert_eq!(d["schema_summary"]["has_row_schema"], true);
    assert_eq!(d["schema_summary"]["property_count"], 1);
    assert!(d["configuration_schema"]["properties"]["db"]["properties"]["#password"].is_object());

    let (out, _) = env.json(&[
        "component",
        "detail",
        "--component-id",
        "keboola.ex-google-drive",
    ]);
    assert_eq!(out.data()["uses_oauth"], true);
    assert!(
        out.data()["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("genericDockerUI-authorization"))
    );
    let (out, _) = env.json(&["component", "detail", "--component-id", "keboola.flow"]);
    assert_eq!(out.data()["configuration_schema"], Value::Null);

    let (out, code) = env.json(&["component", "detail", "--component-id", "keboola.no-such"]);
    assert_eq!(code, 1);
    assert_eq!(out.err().code, "NOT_FOUND");
    assert!(
        out.err().message.contains("keboola.no-such"),
        "{}",
        out.err().message
    );

    let human = env.run(&[
        "component",
        "detail",
        "--component-id",
        "keboola.ex-google-drive",
    ]);
    assert!(
        human.stdout.contains("OAuth:       yes"),
        "{}",
        human.stdout
    );
}

#[test]
fn oauth_url_refuses_a_component_without_oauth_before_minting() {
    let env = projects(1);
    env.add("prod", 0, "admin");
    let pid = env.project_id(0);
    let (list, _) = env.json(&[
        "config",
        "list",
        "--component-id",
        "keboola.ex-db-snowflake",
    ]);
    let config_id = list.data()["configs"][0]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = env.emu.token_count(pid);
    env.emu.clear_requests();
    let (out, code) = env.json(&[
        "config",
        "oauth-url",
        "--component-id",
        "keboola.ex-db-snowflake",
        "--config-id",
        &config_id,
        "--no-open",
    ]);
    assert_eq!(code, 2, "{out:?}");
    assert_eq!(out.err().code, "INVALID_ARGUMENT");
    assert!(
        out.err().message.contains("does not use OAuth"),
        "{}",
        out.err().message
    );
    assert_eq!(env.emu.token_count(pid), before);
    assert!(
        env.emu
            .requests()
            .iter()
            .all(|r| !(r.method == "POST" && r.path.ends_with("/tokens"))),
        "a token was requested"
    );

    // A component with an OAuth flow still gets its URL (and its child token).
    let oauth = &env.emu.projects()[0].oauth_config;
    let (out, code) = env.json(&[
        "config",
        "oauth-url",
        "--component-id",
        &oauth.component_id,
        "--config-id",
        &oauth.config_id,
        "--no-open",
    ]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(env.emu.token_count(pid), before + 1);
}

/// `p1` (with global search), `p2` and `p3` (without).
fn three() -> TestEnv {
    let env = projects(3);
    for (i, alias) in ["p1", "p2", "p3"].iter().enumerate() {
        env.add(alias, i, "admin");
    }
    env.emu
        .set_project_feature(env.project_id(0), "global-search", true);
    env
}

fn results(out: &crate::common::Envelope) -> Vec<Value> {
    out.data()["results"].as_array().unwrap().clone()
}

const RANKS: &[&str] = &[
    "exact_name",
    "name_prefix",
    "name_word",
    "name_substring",
    "column",
    "description",
    "body",
];

fn rank(hit: &Value) -> usize {
    RANKS.iter().position(|r| hit["match"] == *r).unwrap()
}

#[test]
fn search_ranks_across_projects_global_and_local() {
    let env = three();
    // Names that match "orders" at every tier, in a project without global search.
    for (name, description) in [
        ("orders-archive", "old"),
        ("web-orders", "site"),
        ("preorders", "x"),
    ] {
        let (out, code) = env.json(&[
            "storage",
            "create-bucket",
            "--project",
            "p2",
            "--stage",
            "in",
            "--name",
            name,
            "--description",
            description,
        ]);
        assert_eq!(code, 0, "{out:?}");
    }
    env.emu.clear_requests();
    let (out, code) = env.json(&["search", "orders"]);
    assert_eq!(code, 0, "{out:?}");
    let hits = results(&out);
    let ranks: Vec<usize> = hits.iter().map(rank).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    let p2 = |name: &str| {
        hits.iter()
            .find(|h| h["project_alias"] == "p2" && h["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    assert_eq!(p2("orders")["match"], "exact_name");
    assert_eq!(p2("orders-archive")["match"], "name_prefix");
    assert_eq!(p2("web-orders")["match"], "name_word");
    assert_eq!(p2("preorders")["match"], "name_substring");
    assert_eq!(p2("crm")["match"], "description");
    let table = hits
        .iter()
        .find(|h| h["project_alias"] == "p3" && h["type"] == "table" && h["name"] == "orders")
        .unwrap();
    assert_eq!(
        table["path"],
        "kbagent storage table-detail --project p3 --table-id in.c-crm.orders"
    );
    let row = hits
        .iter()
        .find(|h| h["type"] == "configuration-row" && h["project_alias"] == "p1")
        .unwrap();
    assert_eq!(row["source"], "global_search");
    assert_eq!(row["component_id"], "keboola.ex-db-snowflake");
    assert!(row["path"].as_str().unwrap().ends_with(&format!(
        "--config-id {}",
        row["config_id"].as_str().unwrap()
    )));
    for h in &hits {
        let expected = if h["project_alias"] == "p1" {
            "global_search"
        } else {
            "local"
        };
        assert_eq!(h["source"], expected, "{h}");
        assert!(h["project_id"].is_u64());
    }
    // Global search matches names (and columns) only; the local search finds the same
    // items by name in an identically seeded project, and descriptions besides.
    let names = |alias: &str, max_rank: usize| {
        let mut n: Vec<String> = hits
            .iter()
            .filter(|h| h["project_alias"] == alias && rank(h) <= max_rank)
            .map(|h| format!("{}:{}", h["type"], h["name"]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(names("p1", RANKS.len()), names("p3", 4));
    assert!(names("p3", RANKS.len()).len() > names("p1", RANKS.len()).len());
    let stats = &out.data()["stats"];
    assert_eq!(stats["projects_searched"], 3);
    assert_eq!(stats["global_search_projects"], 1);
    assert_eq!(stats["local_search_projects"], 2);
    assert_eq!(stats["results_found"], hits.len());
    let global: Vec<Option<u64>> = env
        .emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/global-search"))
        .map(|r| r.project_id)
        .collect();
    assert_eq!(global, [Some(env.project_id(0))]);

    // Type filter, on both paths.
    let (out, _) = env.json(&["search", "orders", "--type", "table", "-t", "bucket"]);
    let hits = results(&out);
    assert!(
        hits.iter()
            .all(|h| h["type"] == "table" || h["type"] == "bucket")
    );
    assert!(
        hits.iter()
            .any(|h| h["project_alias"] == "p1" && h["type"] == "table")
    );
    assert!(
        hits.iter()
            .any(|h| h["project_alias"] == "p2" && h["type"] == "bucket")
    );

    // --limit caps each project.
    let (out, _) = env.json(&["search", "orders", "--limit", "2", "--project", "p2"]);
    let hits = results(&out);
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h["match"] == "exact_name"));
}

#[test]
fn search_in_bodies_reads_configuration_bodies_everywhere() {
    let env = three();
    let (out, code) = env.json(&["search", "sum(o", "--in-bodies", "--type", "transformation"]);
    assert_eq!(code, 0, "{out:?}");
    let hits = results(&out);
    assert_eq!(hits.len(), 3, "{hits:?}");
    for h in &hits {
        assert_eq!(h["match"], "body");
        assert_eq!(h["source"], "local");
        assert_eq!(h["type"], "transformation");
        assert!(
            h["match_locations"][0]
                .as_str()
                .unwrap()
                .starts_with("parameters.blocks[0]")
        );
    }
    assert_eq!(out.data()["stats"]["global_search_projects"], 0);
    // Without --in-bodies, bodies are not searched.
    let (out, _) = env.json(&["search", "sum(o"]);
    assert!(results(&out).is_empty());
    // Secret values are never searched.
    let (out, _) = env.json(&["search", "KBC::ProjectSecure", "--in-bodies"]);
    assert!(results(&out).is_empty(), "{:?}", results(&out));
}

#[test]
fn search_reports_a_failing_project_and_keeps_the_others() {
    let env = three();
    env.emu.add_fault(
        serde_json::from_value::<Fault>(
            json!({"path": "/v2/storage/**", "project_id": env.project_id(2), "status": 500}),
        )
        .unwrap(),
    );
    let (out, code) = env.json(&["search", "customers"]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.warning_codes(), ["PROJECT_FAILED"]);
    let errors = out.data()["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["project_alias"], "p3");
    let hits = results(&out);
    assert!(hits.iter().any(|h| h["project_alias"] == "p1"));
    assert!(hits.iter().any(|h| h["project_alias"] == "p2"));
    assert!(hits.iter().all(|h| h["project_alias"] != "p3"));
    assert_eq!(out.data()["stats"]["projects_searched"], 2);

    // One named project that fails is the command's error; an empty query is a usage error.
    let (out, code) = env.json(&["search", "customers", "--project", "p3"]);
    assert_eq!(code, 4, "{out:?}");
    let (out, code) = env.json(&["search", "  "]);
    assert_eq!(code, 2);
    assert_eq!(out.err().code, "USAGE_ERROR");
}
