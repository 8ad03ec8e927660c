//! Snapshots of what people read: the complete `--help` reference and the human rendering
//! of the main commands. Review changes with `cargo insta review`.

use crate::common::*;

#[test]
fn help_reference() {
    let env = TestEnv::new();
    let mut doc = String::new();
    let mut visit = vec![Vec::<String>::new()];
    while let Some(path) = visit.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{args:?}");
        doc.push_str(&format!(
            "## kbagent {}\n\n```\n{}```\n\n",
            path.join(" "),
            r.stdout
        ));
        for sub in commands_of(&r.stdout).into_iter().rev() {
            let mut next = path.clone();
            next.push(sub);
            visit.push(next);
        }
    }
    insta::assert_snapshot!("cli_reference", doc);
}

fn filtered<F: FnOnce()>(env: &TestEnv, f: F) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(env.emu.url()), "[STACK]");
    settings.add_filter(r"\b\d{3}-\.\.\.[A-Za-z0-9]{4}\b", "[MASKED]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}", "[TIME]");
    settings.add_filter(r"id \d{3,}", "id [ID]");
    settings.bind(f);
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn human_output() {
    let env = TestEnv::new();
    let add = env.run_stdin(
        &[
            "project",
            "add",
            "--project",
            "prod",
            "--url",
            env.emu.url(),
            "--token-stdin",
        ],
        &env.token(0, "storage"),
    );
    env.add("dev", 1, "admin");
    let list = env.run(&["project", "list"]);
    let status = env.run(&["project", "status"]);
    let missing = env.run(&[
        "config",
        "oauth-url",
        "--project",
        "prod",
        "--component-id",
        "keboola.ex-google-drive",
        "--config-id",
        &env.emu.projects()[0].oauth_config.config_id,
    ]);
    filtered(&env, || {
        insta::assert_snapshot!(
            "project_add_non_master",
            format!(
                "stdout:\n{}stderr:\n{}exit: {}",
                add.stdout, add.stderr, add.code
            )
        );
        insta::assert_snapshot!("project_list", list.stdout);
        // Response times vary, and with them the column widths: compare words, not spacing.
        let words: Vec<String> = status
            .stdout
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                let ms = cells.iter().position(|c| *c == "ok").map(|i| i + 1);
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| if Some(i) == ms { "[MS]" } else { c })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        insta::assert_snapshot!("project_status", words.join("\n"));
        insta::assert_snapshot!(
            "oauth_url_missing_master",
            format!(
                "stdout:\n{}stderr:\n{}exit: {}",
                missing.stdout, missing.stderr, missing.code
            )
        );
    });
}

/// Every file in this directory must be a module of the test binary, or its tests never run.
#[test]
fn no_forgotten_test_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            if stem != "main" {
                assert!(
                    main.contains(&format!("mod {stem};")),
                    "tests/cli/{stem}.rs is not in main.rs"
                );
            }
        }
    }
}
