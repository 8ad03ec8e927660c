//! Fields the Python kbagent's scripts read: `project current`'s resolution report, the
//! envelope's `targets`, the project named in errors of the project commands, and the table
//! width on a terminal that reports none.

use serde::Deserialize;
use serde_json::Value;

use crate::common::*;

/// `project current`'s `data`, as far as these tests read it.
#[derive(Debug, Deserialize, PartialEq)]
struct Current {
    alias: Option<String>,
    source: String,
    env_override: Option<String>,
    env_points_to_configured_project: Option<bool>,
    env_error: Option<String>,
    resolved_alias: Option<String>,
    resolved_source: String,
}

fn current(env: &TestEnv, project_env: Option<&str>, args: &[&str]) -> (Current, i32) {
    let mut cmd = env.cmd();
    if let Some(v) = project_env {
        cmd.env("KBAGENT_PROJECT", v);
    }
    let r = Run::from(
        cmd.args(["--json", "project", "current"])
            .args(args)
            .output()
            .unwrap(),
    );
    assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &all_secrets(env));
    let data = r.envelope().data().clone();
    (serde_json::from_value(data).unwrap(), r.code)
}

#[test]
fn project_current_reports_what_resolves_and_why() {
    let env = TestEnv::new();
    let (c, code) = current(&env, None, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        (c.resolved_alias, c.resolved_source.as_str()),
        (None, "none")
    );
    assert_eq!(c.env_points_to_configured_project, None);

    env.add("prod", 0, "admin");
    env.add("dev", 1, "admin");
    // The pin (the first project added).
    let (c, _) = current(&env, None, &[]);
    assert_eq!(
        c,
        Current {
            alias: Some("prod".into()),
            source: "pin".into(),
            env_override: None,
            env_points_to_configured_project: None,
            env_error: None,
            resolved_alias: Some("prod".into()),
            resolved_source: "active_project".into(),
        }
    );
    // KBAGENT_PROJECT naming a registered project, by alias or by project id.
    let (c, _) = current(&env, Some("dev"), &[]);
    assert_eq!(c.env_points_to_configured_project, Some(true));
    assert_eq!(c.env_error, None);
    assert_eq!(
        (c.resolved_alias.as_deref(), c.resolved_source.as_str()),
        (Some("dev"), "env")
    );
    let id = env.project_id(1).to_string();
    let (c, _) = current(&env, Some(&id), &[]);
    assert_eq!(
        (
            c.env_points_to_configured_project,
            c.resolved_alias.as_deref()
        ),
        (Some(true), Some("dev"))
    );
    // An unregistered one: an answer (exit 0), not an error; nothing resolves.
    let (c, code) = current(&env, Some("nope"), &[]);
    assert_eq!(code, 0);
    assert_eq!(c.env_points_to_configured_project, Some(false));
    assert!(c.env_error.as_deref().unwrap().contains("'nope'"), "{c:?}");
    assert_eq!(
        (c.alias, c.resolved_alias, c.resolved_source.as_str()),
        (None, None, "none")
    );
    assert_eq!(c.env_override.as_deref(), Some("nope"));
    // --project wins, and the unusable variable is still reported.
    let (c, _) = current(&env, Some("nope"), &["--project", "dev"]);
    assert_eq!(
        (c.resolved_alias.as_deref(), c.resolved_source.as_str()),
        (Some("dev"), "flag")
    );
    assert_eq!(c.env_points_to_configured_project, Some(false));
    assert!(c.env_error.is_some());
    // A token pasted into the variable: reported, never shown.
    let token = env.token(0, "admin");
    let (c, code) = current(&env, Some(&token), &[]);
    assert_eq!(code, 0);
    assert_eq!(c.env_points_to_configured_project, Some(false));
    assert!(
        c.env_error
            .as_deref()
            .unwrap()
            .contains("looks like an API token"),
        "{c:?}"
    );
    // The only project, nothing pinned.
    env.json(&["project", "remove", "--project", "prod"]);
    let (c, _) = current(&env, None, &[]);
    assert_eq!(
        (c.resolved_alias.as_deref(), c.resolved_source.as_str()),
        (Some("dev"), "sole")
    );
    // People see the unusable variable too.
    let r = Run::from(
        env.cmd()
            .env("KBAGENT_PROJECT", "nope")
            .args(["project", "current"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("KBAGENT_PROJECT is unusable"),
        "{}",
        r.stdout
    );
}

fn targets(out: &Envelope) -> Vec<TargetBody> {
    out.targets.clone().unwrap_or_default()
}

#[test]
fn branch_scoped_commands_report_their_targets() {
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    env.add("b", 1, "admin");
    let (out, code) = env.json(&["config", "list"]);
    assert_eq!(code, 0);
    assert_eq!(
        targets(&out),
        vec![TargetBody::production("a"), TargetBody::production("b")]
    );
    let (out, _) = env.json(&["config", "list", "--project", "b"]);
    assert_eq!(targets(&out), vec![TargetBody::production("b")]);

    let conf = env.emu.projects()[0].oauth_config.clone();
    let detail = [
        "config",
        "detail",
        "--project",
        "a",
        "--component-id",
        conf.component_id.as_str(),
        "--config-id",
        conf.config_id.as_str(),
    ];
    let (out, code) = env.json(&detail);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(targets(&out), vec![TargetBody::production("a")]);

    // The storage reads, single-project and fan-out.
    for args in [
        &["storage", "buckets", "--project", "a"][..],
        &["storage", "tables", "--project", "a"],
        &["storage", "files", "--project", "a"],
        &[
            "storage",
            "table-detail",
            "--project",
            "a",
            "--table-id",
            "in.c-crm.orders",
        ],
    ] {
        let (out, code) = env.json(args);
        assert_eq!(code, 0, "{args:?}: {out:?}");
        assert_eq!(targets(&out), vec![TargetBody::production("a")], "{args:?}");
    }
    let (out, _) = env.json(&["storage", "buckets"]);
    assert_eq!(targets(&out).len(), 2);

    // An error after the project was chosen still says where the command acted.
    let (out, code) = env.json(&[
        "storage",
        "table-detail",
        "--project",
        "a",
        "--table-id",
        "in.c-crm.nosuch",
    ]);
    assert_eq!((out.err().code.as_str(), code), ("NOT_FOUND", 1));
    assert_eq!(targets(&out), vec![TargetBody::production("a")]);

    // --branch: the branch, chosen explicitly.
    let (out, _) = env.json(&["config", "list", "--project", "a", "--branch", "424242"]);
    let expected = TargetBody {
        branch_id: Some(424242),
        branch_source: "explicit".into(),
        ..TargetBody::production("a")
    };
    assert_eq!(targets(&out), vec![expected]);

    // Commands that choose no branch carry none.
    for args in [
        &["token", "list", "--project", "a"][..],
        &["project", "info", "--project", "a"],
        &["project", "list"],
    ] {
        let (out, _) = env.json(args);
        assert!(out.targets.is_none(), "{args:?}: {out:?}");
    }
}

#[test]
fn targets_name_the_active_branch_the_python_tool_stored() {
    let env = TestEnv::new();
    env.add("a", 0, "admin");
    let mut cfg = env.config_json();
    cfg["projects"]["a"]["active_branch_id"] = Value::from(77);
    cfg["projects"]["a"]["active_branch_name"] = Value::from("feature");
    env.write_config(&serde_json::to_string_pretty(&cfg).unwrap());
    // A storage read stays in production and still names the active branch.
    let (out, code) = env.json(&["storage", "buckets"]);
    assert_eq!(code, 0, "{out:?}");
    let active = Some(ActiveBranchBody {
        branch_id: 77,
        branch_name: Some("feature".into()),
    });
    let expected = TargetBody {
        active_branch: active.clone(),
        ..TargetBody::production("a")
    };
    assert_eq!(targets(&out), vec![expected]);
    // A configuration read follows it.
    let (out, code) = env.json(&["config", "list"]);
    assert_eq!(code, 0, "{out:?}");
    let expected = TargetBody {
        branch_id: Some(77),
        branch_name: Some("feature".into()),
        branch_source: "active".into(),
        active_branch: active,
        ..TargetBody::production("a")
    };
    assert_eq!(targets(&out), vec![expected]);
}

#[test]
fn errors_of_project_commands_name_the_project() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let url = env.emu.url().to_owned();
    let add = |alias: &str, token: &str| {
        env.json_stdin(
            &[
                "project",
                "add",
                "--project",
                alias,
                "--url",
                &url,
                "--token-stdin",
            ],
            token,
        )
    };
    let (out, code) = add("prod", &env.token(1, "admin"));
    assert_eq!(code, 5, "{out:?}");
    assert_eq!(out.err().project, "prod");
    let (out, code) = add("new", "101-424242-nopenopenopenopenopenope");
    assert_eq!(code, 3, "{out:?}");
    assert_eq!(out.err().project, "new");
    // By project id: the error names the alias.
    let id = env.project_id(0).to_string();
    let (out, code) = env.json_stdin(
        &["project", "edit", "--project", &id, "--token-stdin"],
        "101-424242-nopenopenopenopenopenope",
    );
    assert_eq!((out.err().code.as_str(), code), ("INVALID_TOKEN", 3));
    assert_eq!(out.err().project, "prod");
    // A config that cannot be written (its backup's place is taken by a directory).
    let bak = env.config_dir.join("config.json.bak");
    std::fs::create_dir_all(bak.join("blocker")).unwrap();
    for args in [
        &["project", "use", &id][..],
        &["project", "remove", "--project", "prod"],
    ] {
        let (out, code) = env.json(args);
        assert_eq!(code, 5, "{args:?}: {out:?}");
        assert_eq!(out.err().project, "prod", "{args:?}");
    }
    // An alias that is not registered names no project.
    let (out, _) = env.json(&["project", "use", "nope"]);
    assert_eq!(out.err().project, "");
}

/// The widest line of a table, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn tables_on_a_sizeless_terminal_follow_columns() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let table_at = |columns: Option<&str>| {
        let mut cmd = env.base();
        cmd.args(["config", "list"]);
        match columns {
            Some(c) => cmd.env("COLUMNS", c),
            None => cmd.env_remove("COLUMNS"),
        };
        let r = in_pty(&cmd, None);
        assert_eq!(r.code, 0, "{}", r.stdout);
        let table: String = r
            .stdout
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '└', '╞', '├']))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(!table.is_empty(), "{}", r.stdout);
        widest(&table)
    };
    let fallback = table_at(None);
    assert!((100..=120).contains(&fallback), "{fallback}");
    let narrow = table_at(Some("60"));
    assert!((40..=60).contains(&narrow), "{narrow}");
    // Nonsense falls back to 120.
    assert_eq!(table_at(Some("0")), fallback);
    assert_eq!(table_at(Some("5000")), fallback);
    assert_eq!(table_at(Some("wide")), fallback);
}

/// `(component_id, config_id) -> folder` of `config list`'s rows.
fn folders(out: &Envelope) -> Vec<(String, String, String)> {
    out.data()["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["component_id"].as_str().unwrap().to_owned(),
                c["config_id"].as_str().unwrap().to_owned(),
                c["folder"].as_str().expect("folder is a string").to_owned(),
            )
        })
        .collect()
}

#[test]
fn config_list_shows_each_configurations_folder() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let drive = env.emu.projects()[0].oauth_config.config_id.clone();
    let (out, code) = env.json(&["config", "list"]);
    assert_eq!(code, 0, "{out:?}");
    let rows = folders(&out);
    let folder_of = |rows: &[(String, String, String)], component: &str| {
        rows.iter()
            .find(|r| r.0 == component)
            .map(|r| r.2.clone())
            .unwrap_or_else(|| panic!("no {component} in {rows:?}"))
    };
    assert_eq!(folder_of(&rows, "keboola.ex-google-drive"), "Sources");
    assert_eq!(
        folder_of(&rows, "keboola.snowflake-transformation"),
        "Revenue"
    );
    // No folder: an empty string, as the Python kbagent prints it.
    assert_eq!(folder_of(&rows, "keboola.flow"), "");

    // A folder set through the API shows on the next listing.
    let flow = rows
        .iter()
        .find(|r| r.0 == "keboola.flow")
        .unwrap()
        .1
        .clone();
    crate::storage_read::api(
        &env,
        "POST",
        &format!("/v2/storage/branch/default/components/keboola.flow/configs/{flow}/metadata"),
        &[
            ("metadata[0][key]", "KBC.configuration.folderName"),
            ("metadata[0][value]", "Orchestration"),
        ],
    );
    let (out, _) = env.json(&["config", "list", "--project", "prod"]);
    let rows = folders(&out);
    assert_eq!(folder_of(&rows, "keboola.flow"), "Orchestration");
    assert_eq!(folder_of(&rows, "keboola.ex-google-drive"), "Sources");
    assert!(rows.iter().any(|r| r.1 == drive));
}

#[test]
fn a_failing_folder_search_leaves_folders_empty_and_lists_the_rest() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    env.emu.add_fault(keboola_emulator::Fault {
        path: "/v2/storage/branch/*/search/component-configurations".into(),
        status: Some(500),
        ..keboola_emulator::Fault::default()
    });
    let (out, code) = env.json(&["config", "list", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    let rows = folders(&out);
    assert!(rows.len() >= 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.2.is_empty()), "{rows:?}");
    // The fault was hit: the search was made and failed.
    assert!(
        env.emu
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/search/component-configurations") && r.status == 500),
    );
}

/// `kbagent --json <args>` run in `cwd`.
fn json_in(env: &TestEnv, cwd: &std::path::Path, args: &[&str]) -> (Envelope, i32) {
    let mut cmd = env.base();
    cmd.current_dir(cwd);
    let r = Run::from(cmd.arg("--json").args(args).output().unwrap());
    assert_no_leak(&format!("{}{}", r.stdout, r.stderr), &all_secrets(env));
    (r.envelope(), r.code)
}

#[test]
fn init_read_only_copies_projects_under_a_policy_that_refuses_writes() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let work = env.home.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    // Without projects a read-only workspace could never get one: refused.
    let (e, code) = json_in(&env, &work, &["init", "--read-only"]);
    assert_eq!(code, 5, "{e:?}");
    assert!(!work.join(".kbagent").exists());

    // --project copies from the global config without --from-global, as in the Python tool.
    let (e, code) = json_in(&env, &work, &["init", "--project", "prod", "--read-only"]);
    assert_eq!(code, 0, "{e:?}");
    let data = e.data();
    assert_eq!(data["read_only"], true);
    assert_eq!(data["projects_copied"], 1);
    assert_eq!(data["projects"], serde_json::json!(["prod"]));
    let local = work.join(".kbagent");
    let cfg = local.display().to_string();

    // Reads go through; a write is refused by the policy before any request.
    let (e, code) = json_in(&env, &work, &["--config-dir", &cfg, "config", "list"]);
    assert_eq!(code, 0, "{e:?}");
    let (e, code) = json_in(
        &env,
        &work,
        &[
            "--config-dir",
            &cfg,
            "config",
            "new",
            "--component-id",
            "keboola.ex-db-snowflake",
            "--name",
            "refused",
        ],
    );
    assert_eq!(code, 6, "{e:?}");

    // Replacing the workspace cannot swap its policy for another one, nor drop it.
    let before = std::fs::read(local.join("config.json")).unwrap();
    let mut other = serde_json::from_slice::<serde_json::Value>(&before).unwrap();
    other["permissions"] = serde_json::json!({"mode": "allow", "allow": [], "deny": ["token.*"]});
    std::fs::write(
        local.join("config.json"),
        serde_json::to_vec(&other).unwrap(),
    )
    .unwrap();
    let (e, code) = json_in(
        &env,
        &work,
        &["init", "--project", "prod", "--read-only", "--force"],
    );
    assert_eq!((e.err().code.as_str(), code), ("CONFIG_ERROR", 5), "{e:?}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(local.join("config.json")).unwrap()).unwrap();
    assert_eq!(kept["permissions"], other["permissions"]);
    let (e, code) = json_in(&env, &work, &["init", "--force"]);
    assert_eq!(code, 0, "{e:?}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(local.join("config.json")).unwrap()).unwrap();
    assert_eq!(kept["permissions"], other["permissions"]);
}

#[test]
fn config_update_merges_the_python_tools_configuration_flag() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let (e, code) = env.json(&[
        "config",
        "new",
        "--component-id",
        "keboola.ex-db-snowflake",
        "--name",
        "Merge",
        "--configuration",
        r#"{"parameters": {"db": {"host": "h1", "port": 1}}}"#,
        "--push",
        "--no-files",
    ]);
    assert_eq!(code, 0, "{e:?}");
    let id = e.data()["id"].as_str().unwrap().to_owned();
    let update = |extra: &[&str]| {
        let mut args = vec![
            "config",
            "update",
            "--component-id",
            "keboola.ex-db-snowflake",
            "--config-id",
            &id,
        ];
        args.extend_from_slice(extra);
        let (e, code) = env.json(&args);
        assert_eq!(code, 0, "{e:?}");
        e.data()["configuration"].clone()
    };

    // --configuration --merge keeps the keys it does not name...
    let merged = update(&[
        "--configuration",
        r#"{"parameters": {"db": {"port": 2}}}"#,
        "--merge",
    ]);
    assert_eq!(
        merged,
        serde_json::json!({"parameters": {"db": {"host": "h1", "port": 2}}})
    );
    // ...and --configuration alone replaces the body.
    let replaced = update(&["--configuration", r#"{"parameters": {"other": true}}"#]);
    assert_eq!(replaced, serde_json::json!({"parameters": {"other": true}}));
}

#[test]
fn search_type_config_based_looks_into_bodies() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let (e, code) = env.json(&[
        "config",
        "new",
        "--component-id",
        "keboola.ex-db-snowflake",
        "--name",
        "Plain name",
        "--configuration",
        r#"{"parameters": {"db": {"host": "zebrahost"}}}"#,
    ]);
    assert_eq!(code, 0, "{e:?}");
    let hits = |extra: &[&str]| {
        let mut args = vec!["search", "zebrahost"];
        args.extend_from_slice(extra);
        let (e, code) = env.json(&args);
        assert_eq!(code, 0, "{e:?}");
        e.data()["results"].as_array().unwrap().clone()
    };
    assert!(hits(&[]).is_empty());
    let found = hits(&["--search-type", "config-based", "--all-projects"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "Plain name");
    assert_eq!(found[0]["match_count"], 1);
    assert_eq!(found, hits(&["--in-bodies"]));
}
