//! Malformed input, table-driven: every row gets the right error code and exit code, a message
//! that names what was wrong, nothing on stdout in human mode, and the config file exactly as
//! it was (or still absent). Property tests of the config store, token masking and stack URL
//! normalization are in `props` below.

use std::path::PathBuf;

use crate::common::*;

/// What the config directory holds before a row runs.
#[derive(Clone, Debug)]
enum State {
    /// `prod` registered through the CLI (project 0, admin token).
    Registered,
    /// No config file at all.
    Absent,
    /// These exact bytes in config.json.
    Bytes(Vec<u8>),
    /// config.json is a directory.
    ConfigIsDir,
}

#[derive(Clone, Debug)]
struct Row {
    args: Vec<String>,
    stdin: String,
    vars: Vec<(String, String)>,
    state: State,
    code: &'static str,
    exit: i32,
    /// The message names the offending thing: each of these appears in it.
    mentions: Vec<String>,
    /// Never repeated anywhere in the output (a password, a token).
    forbid: Vec<String>,
}

fn row(args: &[&str], code: &'static str, exit: i32) -> Row {
    Row {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        stdin: String::new(),
        vars: Vec::new(),
        state: State::Registered,
        code,
        exit,
        mentions: Vec::new(),
        forbid: Vec::new(),
    }
}

impl Row {
    fn stdin(mut self, s: &str) -> Self {
        self.stdin = s.to_owned();
        self
    }
    fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.to_owned(), v.to_owned()));
        self
    }
    fn state(mut self, s: State) -> Self {
        self.state = s;
        self
    }
    fn config(self, text: &str) -> Self {
        self.state(State::Bytes(text.as_bytes().to_vec()))
    }
    fn names(mut self, what: &str) -> Self {
        self.mentions.push(what.to_owned());
        self
    }
    fn never(mut self, what: &str) -> Self {
        self.forbid.push(what.to_owned());
        self
    }
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The "file" whose read fails with a permission or type error. Tests usually run as root,
/// for whom mode 000 does not stop reads; a directory fails to read for everyone.
fn unreadable_token_file(env: &TestEnv) -> (PathBuf, &'static str) {
    let path = env.home.path().join("unreadable-token.txt");
    std::fs::write(&path, env.token(1, "admin")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&path).is_err() {
            return (path, "mode 000 file");
        }
    }
    let dir = env.home.path().join("token-dir");
    std::fs::create_dir_all(&dir).unwrap();
    (dir, "directory (mode 000 does not stop this user)")
}

#[allow(clippy::too_many_lines)]
fn rows(env: &TestEnv) -> Vec<Row> {
    let url = env.emu.url().to_owned();
    let admin1 = env.token(1, "admin");
    let home = env.home.path();
    let add = |alias: &str, u: &str| {
        owned(&[
            "project",
            "add",
            "--project",
            alias,
            "--url",
            u,
            "--token-stdin",
        ])
    };
    let add_url = |u: &str| {
        Row {
            args: add("new", u),
            ..row(&[], "INVALID_ARGUMENT", 2)
        }
        .stdin(&admin1)
        .names("stack URL")
    };
    let add_alias = |alias: &str| {
        Row {
            args: owned(&[
                "project",
                "add",
                &format!("--project={alias}"),
                "--url",
                &url,
                "--token-stdin",
            ]),
            ..row(&[], "INVALID_ARGUMENT", 2)
        }
        .stdin(&admin1)
        .names("alias")
    };
    let add_token = |stdin: &str, why: &str| {
        Row {
            args: add("new", &url),
            ..row(&[], "INVALID_ARGUMENT", 2)
        }
        .stdin(stdin)
        .names("standard input")
        .names(why)
    };
    let token_file = |path: &str| {
        Row {
            args: owned(&[
                "project",
                "add",
                "--project",
                "new",
                "--url",
                &url,
                "--token-file",
                path,
            ]),
            ..row(&[], "INVALID_ARGUMENT", 2)
        }
        .names(path)
    };

    let empty_file = home.join("empty-token.txt");
    std::fs::write(&empty_file, "").unwrap();
    let newline_file = home.join("newline-token.txt");
    std::fs::write(&newline_file, "\n\n").unwrap();
    let binary_file = home.join("binary-token.txt");
    std::fs::write(&binary_file, b"101-1005-\xff\xfe\xfd").unwrap();
    let missing_file = home.join("no-such-token.txt");
    let (unreadable, _) = unreadable_token_file(env);
    let regular_file = home.join("a-regular-file");
    std::fs::write(&regular_file, "not a directory").unwrap();
    let under_file = regular_file.join("cfg");
    let under_file = under_file.to_str().unwrap();
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();

    let oauth = env.emu.projects()[0].oauth_config.clone();
    let oauth_url = |extra: &[&str]| {
        let mut a = owned(&[
            "config",
            "oauth-url",
            "--project",
            "prod",
            "--component-id",
            &oauth.component_id,
            "--config-id",
            &oauth.config_id,
            "--no-open",
        ]);
        a.extend(owned(extra));
        a
    };
    let create = |extra: &[&str]| {
        let mut a = owned(&["token", "create", "--project", "prod", "--description", "d"]);
        a.extend(owned(extra));
        a
    };
    let refresh = |extra: &[&str]| {
        let mut a = owned(&[
            "--allow-env-manage-token",
            "project",
            "refresh",
            "--project",
            "prod",
            "--yes",
        ]);
        a.extend(owned(extra));
        a
    };
    let with = |args: Vec<String>, code: &'static str, exit: i32| Row {
        args,
        ..row(&[], code, exit)
    };
    let leaked = "101-1001-LEAKEDSECRETVALUE0000000001";
    let project_json = |entry: &str| format!(r#"{{"version":1,"projects":{{"p":{entry}}}}}"#);

    vec![
        // Stack URLs.
        add_url("ftp://connection.keboola.com").names("ftp"),
        add_url("http://connection.keboola.com")
            .names("connection.keboola.com")
            .names("https"),
        add_url("http://192.0.2.10:8080").names("192.0.2.10"),
        add_url("https://agent:hunter2secret@connection.keboola.com")
            .names("credentials")
            .never("hunter2secret"),
        add_url("ftp://agent:hunter2secret@example.com").never("hunter2secret"),
        add_url("").names("empty"),
        add_url("   ").names("empty"),
        add_url("https://conn ection.keboola.com"),
        add_url("https://").names("host"),
        add_url("https://connection.keboola.com:99999").names("99999"),
        add_url("http://☃.example").names("xn--n3h.example"),
        add_url("https://exa\u{7}mple.com").names("\\u{7}"),
        Row {
            args: owned(&["project", "add", "--project", "new", "--token-stdin"]),
            ..row(&[], "INVALID_ARGUMENT", 2)
        }
        .var("KBC_STORAGE_API_URL", "http://example.com")
        .stdin(&admin1)
        .names("example.com"),
        row(
            &[
                "project",
                "edit",
                "--project",
                "prod",
                "--url",
                "gopher://x",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("gopher"),
        // Aliases.
        add_alias("").names("''"),
        add_alias("-dash").names("-dash"),
        add_alias(".hidden").names(".hidden"),
        add_alias("a/b").names("a/b"),
        add_alias("has space").names("has space"),
        add_alias(&"a".repeat(65)).names(&"a".repeat(65)),
        add_alias("tab\there").names("tab\\there"),
        add_alias("ünï").names("ünï"),
        row(
            &[
                "project",
                "edit",
                "--project",
                "prod",
                "--new-alias",
                "../up",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("../up"),
        // Tokens.
        add_token("", "empty"),
        add_token("\n", "empty"),
        add_token(" 101-1005-abcdefgh", "whitespace"),
        add_token("101-1005-abc\ndefgh", "whitespace"),
        add_token("101-1005-abc\tdefgh\n", "whitespace"),
        add_token("101-1005-abc\u{0}defgh", "control"),
        add_token("101-1005-abc\u{1b}[31mdefgh", "control"),
        add_token("101-1005-tokén", "non-ASCII"),
        token_file(&p(&empty_file)).names("empty"),
        token_file(&p(&newline_file)).names("empty"),
        token_file(&p(&binary_file)).names("not text"),
        token_file(&p(&missing_file)),
        token_file(&p(&unreadable)),
        with(
            owned(&[
                "project",
                "add",
                "--project",
                "new",
                "--url",
                &url,
                "--token-env",
                "KBAGENT_TEST_UNSET",
            ]),
            "INVALID_ARGUMENT",
            2,
        )
        .names("KBAGENT_TEST_UNSET"),
        with(
            owned(&[
                "project",
                "add",
                "--project",
                "new",
                "--url",
                &url,
                "--token-env",
                "MY_TOKEN",
            ]),
            "INVALID_ARGUMENT",
            2,
        )
        .var("MY_TOKEN", "101-1005-abc\rdef")
        .names("MY_TOKEN"),
        row(
            &[
                "project",
                "edit",
                "--project",
                "prod",
                "--token",
                "101 1005",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("--token"),
        with(refresh(&[]), "INVALID_ARGUMENT", 2)
            .var("KBC_MANAGE_API_TOKEN", "501-abc def")
            .names("KBC_MANAGE_API_TOKEN"),
        // Token and configuration ids.
        row(
            &[
                "token",
                "delete",
                "--project",
                "prod",
                "--token-id",
                "abc",
                "--yes",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("abc"),
        row(
            &[
                "token",
                "refresh",
                "--project",
                "prod",
                "--token-id=-1",
                "--yes",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("-1"),
        row(
            &[
                "token",
                "delete",
                "--project",
                "prod",
                "--token-id",
                leaked,
                "--yes",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .never("LEAKEDSECRET"),
        row(
            &[
                "token",
                "refresh",
                "--project",
                "prod",
                "--token-id",
                "99999999",
                "--yes",
            ],
            "NOT_FOUND",
            1,
        ),
        row(
            &[
                "config",
                "detail",
                "--project",
                "prod",
                "--component-id",
                "keboola.ex-db-snowflake",
                "--config-id",
                "987654",
            ],
            "NOT_FOUND",
            1,
        )
        .names("987654"),
        row(
            &[
                "config",
                "detail",
                "--project",
                "prod",
                "--component-id",
                "no.such-component",
                "--config-id",
                "1",
            ],
            "NOT_FOUND",
            1,
        )
        .names("no.such-component"),
        row(
            &[
                "config",
                "detail",
                "--project",
                "prod",
                "--component-id",
                "keboola ex",
                "--config-id",
                "1",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("keboola ex"),
        row(
            &[
                "config",
                "detail",
                "--project",
                "prod",
                "--component-id",
                "keboola.ex",
                "--config-id",
                "1/../2",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("1/../2"),
        row(
            &[
                "config",
                "oauth-url",
                "--project",
                "prod",
                "--component-id",
                "a/b",
                "--config-id",
                "1",
                "--no-open",
            ],
            "INVALID_ARGUMENT",
            2,
        )
        .names("a/b"),
        row(
            &["config", "list", "--component-id", "x y"],
            "INVALID_ARGUMENT",
            2,
        )
        .names("x y"),
        row(
            &["config", "list", "--branch", "1?x=2"],
            "INVALID_ARGUMENT",
            2,
        )
        .names("1?x=2"),
        // Expiry values.
        with(create(&["--expires-in=-5"]), "USAGE_ERROR", 2).names("-5"),
        with(create(&["--expires-in", "0"]), "USAGE_ERROR", 2).names("0"),
        with(create(&["--expires-in", "315360001"]), "USAGE_ERROR", 2).names("315360001"),
        with(
            create(&["--expires-in", "99999999999999999999999"]),
            "USAGE_ERROR",
            2,
        )
        .names("99999999999999999999999"),
        with(create(&["--expires-in", "1h"]), "USAGE_ERROR", 2).names("1h"),
        with(refresh(&["--token-expires-in", "0"]), "USAGE_ERROR", 2).names("0"),
        with(refresh(&["--token-expires-in=-1"]), "USAGE_ERROR", 2).names("-1"),
        with(
            refresh(&["--token-expires-in", "18446744073709551616"]),
            "USAGE_ERROR",
            2,
        ),
        // Conflicting, unknown and missing arguments.
        row(
            &["project", "refresh", "--project", "prod", "--all"],
            "USAGE_ERROR",
            2,
        )
        .names("--all"),
        Row {
            args: owned(&[
                "project",
                "add",
                "--project",
                "new",
                "--url",
                &url,
                "--token-stdin",
                "--token-file",
                &p(&empty_file),
            ]),
            ..row(&[], "USAGE_ERROR", 2)
        }
        .names("--token-file"),
        row(&["project", "list", "--frobnicate"], "USAGE_ERROR", 2).names("--frobnicate"),
        row(&["frobnicate"], "USAGE_ERROR", 2).names("frobnicate"),
        row(&["project", "frobnicate"], "USAGE_ERROR", 2).names("frobnicate"),
        row(&["token", "create", "--project", "prod"], "USAGE_ERROR", 2).names("--description"),
        row(&["project", "edit", "--project", "prod"], "USAGE_ERROR", 2).names("Nothing to change"),
        row(&["project", "info", "--project", "nope"], "CONFIG_ERROR", 5).names("nope"),
        row(&["token", "list"], "CONFIG_ERROR", 5)
            .var("KBAGENT_PROJECT", "nope")
            .names("nope"),
        // Config files kbagent must refuse and leave alone.
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .state(State::Bytes(
                b"{\"version\":1,\"projects\":{\"\xff\xfe\":{}}}".to_vec(),
            ))
            .names("UTF-8"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .state(State::ConfigIsDir)
            .names("config.json"),
        Row {
            args: add("new", &url),
            ..row(&[], "CONFIG_ERROR", 5)
        }
        .stdin(&admin1)
        .var("KBAGENT_CONFIG_DIR", under_file)
        .state(State::Absent)
        .names(under_file),
        row(&["project", "use", "prod"], "CONFIG_ERROR", 5)
            .config(r#"{"version": 2, "projects": {}}"#)
            .names("version 2"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config(r#"{"version": "1", "projects": {}}"#)
            .names("version"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config("[]")
            .names("not a JSON object"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config("null")
            .names("not a JSON object"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config(&project_json(&format!(r#"{{"stack_url":"{url}"}}"#)))
            .names("token"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config(&project_json(&format!(
                r#"{{"stack_url":"{url}","token":"101-1001-abc def"}}"#
            )))
            .names("whitespace"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config(&project_json(&format!(
                r#"{{"stack_url":"{url}","token":"101-1001-abcdefgh","project_id":"{leaked}"}}"#
            )))
            .never("LEAKEDSECRET"),
        row(&["project", "list"], "CONFIG_ERROR", 5)
            .config(r#"{"version": 1, "projects": []}"#)
            .names("config.json"),
        // Parallelism and URLs from the environment.
        row(&["--parallel", "0", "project", "status"], "USAGE_ERROR", 2).names("0"),
        row(
            &["--parallel", "101", "project", "status"],
            "USAGE_ERROR",
            2,
        )
        .names("101"),
        row(&["project", "status"], "CONFIG_ERROR", 5)
            .var("KBAGENT_MAX_PARALLEL_WORKERS", "ten")
            .names("KBAGENT_MAX_PARALLEL_WORKERS")
            .names("ten"),
        row(&["config", "list"], "CONFIG_ERROR", 5)
            .var("KBAGENT_MAX_PARALLEL_WORKERS", "0")
            .names("KBAGENT_MAX_PARALLEL_WORKERS"),
        with(oauth_url(&[]), "CONFIG_ERROR", 5)
            .var("KBAGENT_OAUTH_WIZARD_URL", "not a url")
            .names("KBAGENT_OAUTH_WIZARD_URL"),
        with(oauth_url(&[]), "CONFIG_ERROR", 5)
            .var("KBAGENT_OAUTH_WIZARD_URL", "javascript:alert(1)")
            .names("KBAGENT_OAUTH_WIZARD_URL"),
        with(
            oauth_url(&["--redirect-url", "ftp://example.com/back"]),
            "INVALID_ARGUMENT",
            2,
        )
        .names("--redirect-url")
        .names("ftp://example.com/back"),
        with(
            oauth_url(&["--redirect-url", "not a url"]),
            "INVALID_ARGUMENT",
            2,
        )
        .names("--redirect-url"),
    ]
}

/// Puts the config directory into `state`; returns what must still be there afterwards.
fn prepare(env: &TestEnv, state: &State, registered: &[u8]) -> Option<Vec<u8>> {
    let _ = std::fs::remove_dir_all(&env.config_dir);
    match state {
        State::Registered => {
            env.write_config(std::str::from_utf8(registered).unwrap());
            Some(registered.to_vec())
        }
        State::Absent => None,
        State::Bytes(b) => {
            std::fs::create_dir_all(&env.config_dir).unwrap();
            std::fs::write(env.config_path(), b).unwrap();
            Some(b.clone())
        }
        State::ConfigIsDir => {
            std::fs::create_dir_all(env.config_path()).unwrap();
            None
        }
    }
}

#[test]
fn malformed_input_is_refused_clearly_and_changes_nothing() {
    let env = TestEnv::new();
    env.add("prod", 0, "admin");
    let registered = env.config_bytes().unwrap();
    let (_, unreadable_kind) = unreadable_token_file(&env);
    let table = rows(&env);
    assert!(table.len() >= 40, "{} rows", table.len());
    let regular_file = env.home.path().join("a-regular-file");
    let mut runs = 0;
    for r in &table {
        for json in [true, false] {
            let before = prepare(&env, &r.state, &registered);
            let mut cmd = env.cmd();
            if json {
                cmd.arg("--json");
            }
            cmd.args(&r.args).write_stdin(r.stdin.clone());
            for (k, v) in &r.vars {
                cmd.env(k, v);
            }
            let out = Run::from(cmd.output().unwrap());
            runs += 1;
            let what = format!("{:?} (json: {json})", r.args);
            assert_eq!(out.code, r.exit, "{what}: {}{}", out.stdout, out.stderr);
            let message = if json {
                let e = out.envelope();
                let err = e.err();
                assert_eq!(err.code, r.code, "{what}: {err:?}");
                assert!(!err.message.trim().is_empty());
                err.message.clone()
            } else {
                assert!(out.stdout.is_empty(), "{what}: stdout {}", out.stdout);
                // Warnings may come first (`--token` warns even when its value is refused).
                assert!(
                    out.stderr
                        .lines()
                        .any(|l| l.starts_with("Error: ") || l.starts_with("error: ")),
                    "{what}: {}",
                    out.stderr
                );
                out.stderr.clone()
            };
            for m in &r.mentions {
                assert!(
                    message.contains(m.as_str()),
                    "{what}: no {m:?} in {message}"
                );
            }
            for f in &r.forbid {
                assert!(
                    !out.stdout.contains(f.as_str()) && !out.stderr.contains(f.as_str()),
                    "{what}: {f:?} repeated:\n{}{}",
                    out.stdout,
                    out.stderr
                );
            }
            match &r.state {
                State::ConfigIsDir => {
                    assert!(env.config_path().is_dir(), "{what}");
                    assert_eq!(std::fs::read_dir(env.config_path()).unwrap().count(), 0);
                }
                _ => assert_eq!(env.config_bytes(), before, "{what}: config changed"),
            }
            assert_eq!(
                std::fs::read(&regular_file).unwrap(),
                b"not a directory",
                "{what}"
            );
        }
    }
    eprintln!(
        "bad input: {} rows x 2 output modes = {runs} runs; right code, exit code and message, config unchanged; unreadable token file: {unreadable_kind}; read-only config dir: a path under a regular file",
        table.len()
    );
}

/// Property tests on the libraries the CLI is built from.
mod props {
    use kbagent::store::{ConfigFile, ConfigSource, ConfigStore, ProjectEntry};
    use keboola_api::{StackUrl, Token, mask_token};
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    static ROUND_TRIPS: AtomicU32 = AtomicU32::new(0);
    static MASKS: AtomicU32 = AtomicU32::new(0);
    static URLS: AtomicU32 = AtomicU32::new(0);
    static URLS_ACCEPTED: AtomicU32 = AtomicU32::new(0);

    /// Counts a passing case and prints the figure once all cases of a property ran.
    #[allow(
        clippy::print_stderr,
        reason = "the figure is part of the test's report"
    )]
    fn count(counter: &AtomicU32, what: &str) {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if n == cases() {
            let extra = if what.starts_with("stack URL") {
                format!(
                    " ({} accepted, all https or loopback http)",
                    URLS_ACCEPTED.load(Ordering::SeqCst)
                )
            } else {
                String::new()
            };
            eprintln!("proptest: {what}: {n} cases held{extra}");
        }
    }

    fn cases() -> u32 {
        std::env::var("KBAGENT_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    /// Keys `ConfigFile` and `ProjectEntry` know; extra keys must differ from them.
    const TOP_KEYS: [&str; 5] = [
        "_warning",
        "version",
        "default_project",
        "max_parallel_workers",
        "projects",
    ];
    const ENTRY_KEYS: [&str; 5] = ["stack_url", "token", "project_name", "project_id", "org_id"];

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // Quarters are exact in binary, so the comparison after a round trip is exact.
            (-4_000_000i64..4_000_000).prop_map(|n| Value::from(n as f64 / 4.0)),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_#.-]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn extra_keys(known: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map("[a-z_#.][a-zA-Z0-9_ .-]{0,10}", json_value(), 0..4).prop_map(
            move |m| {
                m.into_iter()
                    .filter(|(k, _)| !known.contains(&k.as_str()))
                    .collect()
            },
        )
    }

    fn stack_url() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,6}){1,3}".prop_map(|h| format!("https://{h}")),
            (1u16..).prop_map(|p| format!("http://127.0.0.1:{p}")),
            Just("https://connection.keboola.com".to_owned()),
        ]
    }

    fn entry() -> impl Strategy<Value = Value> {
        (
            stack_url(),
            "[0-9]{1,4}-[0-9]{1,6}-[a-zA-Z0-9]{8,40}",
            proptest::option::of(".{0,16}"),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            extra_keys(&ENTRY_KEYS),
        )
            .prop_map(|(url, token, name, id, org, extra)| {
                let mut m = extra;
                m.insert("stack_url".into(), json!(url));
                m.insert("token".into(), json!(token));
                m.insert("project_name".into(), json!(name));
                m.insert("project_id".into(), json!(id));
                m.insert("org_id".into(), json!(org));
                Value::Object(m)
            })
    }

    fn config() -> impl Strategy<Value = Value> {
        (
            ".{0,24}",
            proptest::option::of("[a-z]{1,6}"),
            proptest::option::of(1u32..=100),
            prop::collection::btree_map("[a-z][a-z0-9_.-]{0,8}", entry(), 0..4),
            extra_keys(&TOP_KEYS),
        )
            .prop_map(|(warning, default, workers, projects, extra)| {
                let mut m = extra;
                m.insert("_warning".into(), json!(warning));
                m.insert("version".into(), json!(1));
                if let Some(d) = default {
                    m.insert("default_project".into(), json!(d));
                }
                if let Some(w) = workers {
                    m.insert("max_parallel_workers".into(), json!(w));
                }
                m.insert(
                    "projects".into(),
                    Value::Object(projects.into_iter().collect::<Map<_, _>>()),
                );
                Value::Object(m)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// A file written by another tool survives an update that touches one project:
        /// every other field, known or not, at every level, comes back as it was.
        #[test]
        fn config_round_trip_keeps_every_field(original in config(), added in entry()) {
            let dir = tempfile::tempdir().unwrap();
            let store = ConfigStore::at(dir.path().join("cfg"), ConfigSource::CliFlag);
            std::fs::create_dir_all(store.dir()).unwrap();
            let written_before = serde_json::to_vec_pretty(&original).unwrap();
            std::fs::write(store.file(), &written_before).unwrap();

            // Stack URLs are stored normalized (`:80` on http is dropped, for one).
            let mut original = original;
            for p in original["projects"].as_object_mut().unwrap().values_mut() {
                let url = StackUrl::parse(p["stack_url"].as_str().unwrap()).unwrap();
                p["stack_url"] = json!(url.as_str());
            }
            let loaded: ConfigFile = store.load().unwrap();
            prop_assert_eq!(serde_json::to_value(&loaded).unwrap(), original.clone());

            let new_entry: ProjectEntry = serde_json::from_value(added.clone()).unwrap();
            store
                .update(|cfg| {
                    cfg.projects.insert("zz-added".into(), new_entry);
                    Ok(())
                })
                .unwrap();
            let written: Value =
                serde_json::from_slice(&std::fs::read(store.file()).unwrap()).unwrap();
            let mut expected = original.clone();
            let mut added = added;
            let normalized = StackUrl::parse(added["stack_url"].as_str().unwrap()).unwrap();
            added["stack_url"] = json!(normalized.as_str());
            expected["projects"]["zz-added"] = added;
            prop_assert_eq!(&written, &expected);
            // The backup is the file as it was before the update.
            let bak = std::fs::read(store.dir().join("config.json.bak")).unwrap();
            prop_assert_eq!(bak, written_before);

            // Debug output of the typed config never shows a stored token in full.
            let shown = format!("{:?}", store.load().unwrap());
            for p in written["projects"].as_object().unwrap().values() {
                let token = p["token"].as_str().unwrap();
                prop_assert!(!shown.contains(token), "token in Debug output");
            }
            count(&ROUND_TRIPS, "config round trip");
        }

        /// The masked form is "***" or exactly the text before the first '-', "-...", and the
        /// last four characters: nothing else of the token, whatever it looks like.
        #[test]
        fn masking_reveals_at_most_prefix_and_last_four(
            raw in prop_oneof![
                ".{0,48}",
                "[0-9]{1,5}-[0-9]{1,7}-[a-zA-Z0-9]{0,48}",
                "[0-9]{1,5}-[a-zA-Z0-9]{0,48}",
                "[a-z_]{0,12}[-]{0,3}[^-]{0,20}",
            ]
        ) {
            let masked = mask_token(&raw);
            let chars: Vec<char> = raw.chars().collect();
            let dash = chars.iter().position(|&c| c == '-');
            match dash {
                Some(d) if chars.len() >= 8 && d < chars.len() - 4 => {
                    let prefix: String = chars[..d].iter().collect();
                    let last4: String = chars[chars.len() - 4..].iter().collect();
                    prop_assert_eq!(&masked, &format!("{prefix}-...{last4}"));
                    // The hidden middle never shows, unless it is so short it is a
                    // coincidence of the visible parts.
                    let hidden: String = chars[d + 1..chars.len() - 4].iter().collect();
                    if hidden.chars().count() >= 5 {
                        prop_assert!(!masked.contains(&hidden));
                    }
                }
                _ => prop_assert_eq!(&masked, "***"),
            }
            if let Ok(token) = Token::new(raw.clone()) {
                prop_assert_eq!(token.masked(), masked.clone());
                prop_assert_eq!(format!("{token:?}"), format!("Token({masked})"));
            }
            count(&MASKS, "masking");
        }

        /// Normalizing twice changes nothing; whatever is accepted is https, or http on a
        /// loopback host, with no credentials, path, query or fragment, and a lowercase host.
        #[test]
        fn stack_url_normalization(
            scheme in prop_oneof![
                Just(String::new()),
                "[hH][tT][tT][pP][sS]://",
                "[hH][tT][tT][pP]://",
                "([fF][tT][pP]|[fF][iI][lL][eE]|[wW][sS])://",
            ],
            userinfo in proptest::option::of("[a-z]{1,6}(:[a-z0-9]{1,8})?@"),
            host in prop_oneof![
                "[a-zA-Z][a-zA-Z0-9-]{0,12}(\\.[a-zA-Z][a-zA-Z0-9-]{0,8}){0,3}",
                "(?i:localhost)",
                "(?i:localhost)\\.[a-z]{2,8}",
                "[a-z]{1,8}\\.(?i:localhost)",
                (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
                    .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
                (0u8..=255, 0u8..=255, 0u8..=255).prop_map(|(b, c, d)| format!("127.{b}.{c}.{d}")),
                Just("[::1]".to_owned()),
                Just("[2001:db8::1]".to_owned()),
                Just("[::ffff:127.0.0.1]".to_owned()),
                Just("127.0.0.1.nip.io".to_owned()),
            ],
            port in proptest::option::of(0u32..70000),
            tail in "(/[a-zA-Z0-9._%-]{0,8}){0,3}(\\?[a-z=&0-9]{0,10})?(#[a-z@/]{0,8})?",
        ) {
            let input = match port {
                Some(p) => format!("{scheme}{}{host}:{p}{tail}", userinfo.clone().unwrap_or_default()),
                None => format!("{scheme}{}{host}{tail}", userinfo.clone().unwrap_or_default()),
            };
            let Ok(url) = StackUrl::parse(&input) else {
                count(&URLS, "stack URL normalization");
                return Ok(());
            };
            URLS_ACCEPTED.fetch_add(1, Ordering::SeqCst);
            prop_assert!(userinfo.is_none(), "credentials accepted: {}", input);
            let text = url.as_str().to_owned();
            let again = StackUrl::parse(&text);
            prop_assert_eq!(again.as_ref(), Ok(&url), "{}", input);
            let (out_scheme, authority) = text.split_once("://").unwrap();
            prop_assert!(!authority.contains(['/', '?', '#', '@']), "{}", text);
            prop_assert_eq!(authority.to_ascii_lowercase(), authority, "{}", text);
            let out_host = match authority.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && !p.contains(']') => h,
                _ => authority,
            };
            let loopback = out_host == "localhost"
                || out_host == "[::1]"
                || out_host
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback());
            match out_scheme {
                "https" => {}
                "http" => {
                    prop_assert!(loopback, "http accepted for {} from {}", out_host, input);
                    prop_assert!(url.is_loopback());
                }
                other => prop_assert!(false, "scheme {} from {}", other, input),
            }
            let lower = scheme.to_ascii_lowercase();
            prop_assert!(lower.is_empty() || lower == "https://" || lower == "http://");
            if lower == "http://" {
                prop_assert_eq!(out_scheme, "http");
            }
            count(&URLS, "stack URL normalization");
        }
    }

    /// Hand-picked look-alikes of loopback hosts that plain http must not reach.
    #[test]
    fn loopback_look_alikes_need_https() {
        for input in [
            "http://localhost.evil.example",
            "http://evil.example#@localhost",
            "http://evil.example?@127.0.0.1",
            "http://127.0.0.1.nip.io",
            "http://localhost@evil.example",
            "http://evil.example\\@localhost",
            "http://[::ffff:7f00:1]",
            "http://0.0.0.0",
            "http://169.254.169.254",
            "http://[::]",
            "HTTP://EVIL.example:80/",
        ] {
            let got = StackUrl::parse(input);
            assert!(got.is_err(), "{input} -> {got:?}");
        }
        // Encodings the URL standard maps to 127.0.0.1 are loopback and stay allowed.
        for input in ["http://2130706433:8080", "http://0x7f.1", "http://127.1"] {
            let url = StackUrl::parse(input).unwrap();
            assert!(
                url.as_str().starts_with("http://127.0.0.1"),
                "{input} -> {url}"
            );
        }
    }
}
