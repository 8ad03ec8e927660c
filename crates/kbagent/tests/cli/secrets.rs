//! Canary secrets: every command and subcommand, in success and error paths, in every output
//! mode, runs with Storage and Manage tokens that carry an unmistakable marker, and the marker
//! must never show up in stdout, stderr or the emulator's request log. The only tokens
//! allowed on stdout are the documented one-time reveals (`token create`, `token refresh`,
//! the OAuth URL of `config oauth-url`), and those never reach stderr or the log either.

use std::collections::{BTreeMap, BTreeSet};

use keboola_emulator::{EmulatorOptions, Seed};
use serde_json::{Value, json};

use crate::common::*;
use crate::storage_read::{finished_job, start_export};

/// What every canary secret contains; nothing else kbagent prints contains it.
const CANARY: &str = "CANARY";
const PROJECTS: u64 = 2;
const FIRST_PROJECT: u64 = 101;
const FIRST_TOKEN_ID: u64 = 1001;
const ROLES: [&str; 4] = ["admin", "guest", "read_only", "storage"];

/// A Storage token in Keboola's shape whose secret part is a canary. The last four
/// characters (which masking shows) are digits, so the marker itself is never among them.
fn storage_canary(project: u64, token_id: u64, role: &str) -> String {
    let role = role.replace('_', "").to_ascii_uppercase();
    format!("{project}-{token_id}-{CANARY}STORAGE{role}P{project}T{token_id}X{token_id:0>16}")
}

fn manage_canary(id: u64, who: &str) -> String {
    format!("{id}-{CANARY}MANAGE{who}X{id:0>24}")
}

/// Seeds every Storage token and both Manage tokens with canaries. Token ids are fixed by the
/// seeded structure: per project, admin, guest and read-only masters, then the UI token.
fn canary_seed() -> Seed {
    let projects: Vec<Value> = (0..PROJECTS)
        .map(|i| {
            let project = FIRST_PROJECT + i;
            let mut tokens = serde_json::Map::new();
            for (j, role) in ROLES.iter().enumerate() {
                let id = FIRST_TOKEN_ID + i * 4 + j as u64;
                tokens.insert((*role).to_owned(), json!(storage_canary(project, id, role)));
            }
            json!({"id": project, "tokens": tokens})
        })
        .collect();
    serde_json::from_value(json!({
        "manage_token": manage_canary(501, "ADA"),
        "outsider_manage_token": manage_canary(502, "OTTO"),
        "projects": projects,
    }))
    .unwrap()
}

/// A canary token the emulator does not know (refused with 401).
fn unknown_canary() -> String {
    storage_canary(FIRST_PROJECT, 1999, "unknown")
}

/// Words that are whole Storage tokens (`<digits>-<digits>-<16+ letters or digits>`). Masked
/// tokens (`101-...abcd`) and timestamps do not match.
fn full_tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| {
            let mut parts = w.splitn(3, '-');
            let (Some(a), Some(b), Some(c)) = (parts.next(), parts.next(), parts.next()) else {
                return false;
            };
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|x| x.is_ascii_digit())
                && b.bytes().all(|x| x.is_ascii_digit())
                && c.len() >= 16
                && c.bytes().all(|x| x.is_ascii_alphanumeric())
        })
        .map(str::to_owned)
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reveal {
    /// No token of any kind may be printed.
    Nothing,
    /// Stdout carries exactly the newly minted or rotated secret.
    NewToken,
    /// Stdout carries the OAuth URL with a short-lived child token.
    OauthUrl,
}

#[derive(Clone, Debug)]
enum Expect {
    /// Exit 0, status ok.
    Ok,
    /// Status ok with some items failed: the given non-zero exit code.
    Partial(i32),
    /// An error envelope with this code and exit code.
    Err(&'static str, i32),
}

#[derive(Clone, Debug)]
struct Case {
    leaf: String,
    args: Vec<String>,
    stdin: Option<String>,
    vars: Vec<(String, String)>,
    expect: Expect,
    reveal: Reveal,
    fault: Option<Value>,
    /// Replaces the template config for this case.
    config: Option<String>,
    /// Runs after the reset and returns arguments to append (ids of what it created).
    setup: Option<fn(&TestEnv) -> Vec<String>>,
    /// A `kbagent --json` command run first (after the reset); the `id` in its data
    /// replaces `{id}` in `args` (a job to read or stop).
    before: Option<Vec<String>>,
}

fn case(leaf: &str, args: &[&str], expect: Expect) -> Case {
    Case {
        leaf: leaf.to_owned(),
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        stdin: None,
        vars: Vec::new(),
        expect,
        reveal: Reveal::Nothing,
        fault: None,
        config: None,
        setup: None,
        before: None,
    }
}

impl Case {
    fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    fn reveals(mut self, what: Reveal) -> Self {
        self.reveal = what;
        self
    }

    fn fault(mut self, fault: Value) -> Self {
        self.fault = Some(fault);
        self
    }

    fn config(mut self, text: &str) -> Self {
        self.config = Some(text.to_owned());
        self
    }

    fn setup(mut self, setup: fn(&TestEnv) -> Vec<String>) -> Self {
        self.setup = Some(setup);
        self
    }

    fn before(mut self, args: &str) -> Self {
        self.before = Some(args.split(' ').map(str::to_owned).collect());
        self
    }
}

/// The global options each case runs under.
const MODES: [&[&str]; 5] = [&[], &["-v"], &["-vv"], &["--json"], &["--json", "-vv"]];

struct Canary {
    env: TestEnv,
    secrets: Vec<String>,
    template: Vec<u8>,
    invocations: usize,
    leaves_run: BTreeMap<String, (usize, usize)>,
}

impl Canary {
    fn new() -> Self {
        let env = TestEnv::with(EmulatorOptions {
            projects: PROJECTS as usize,
            seed: Some(canary_seed()),
            ..EmulatorOptions::default()
        });
        let mut secrets = all_secrets(&env);
        secrets.push(unknown_canary());
        for s in &secrets {
            assert!(s.contains(CANARY), "the seed did not fix every secret");
        }
        Self {
            env,
            secrets,
            template: Vec::new(),
            invocations: 0,
            leaves_run: BTreeMap::new(),
        }
    }

    fn token(&self, project: usize, kind: &str) -> String {
        self.env.token(project, kind)
    }

    fn manage(&self) -> String {
        self.env.emu.manage_token().to_owned()
    }

    /// Registers the projects every case starts from, through the CLI itself, and keeps the
    /// resulting config as the template each run starts with.
    fn build_template(&mut self) {
        let url = self.env.emu.url().to_owned();
        // `ui` holds a guest master token (reads configurations, cannot mint), `copied` a
        // non-master token copied from the UI.
        for (alias, project, kind) in [
            ("prod", 0, "admin"),
            ("ui", 1, "guest"),
            ("copied", 1, "storage"),
        ] {
            let token = self.token(project, kind);
            let c = case(
                "project add",
                &[
                    "project",
                    "add",
                    "--project",
                    alias,
                    "--url",
                    &url,
                    "--token-stdin",
                ],
                Expect::Ok,
            )
            .stdin(&format!("{token}\n"));
            let r = self.run_once(&c, &["--json"]);
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        }
        // A project whose stored canary token the stack does not know: error paths inside
        // fan-out commands and single-project commands.
        let mut cfg = self.env.config_json();
        cfg["projects"]["ghost"] = json!({
            "stack_url": url,
            "token": unknown_canary(),
            "project_name": "Ghost",
            "project_id": FIRST_PROJECT,
            "org_id": 1,
        });
        assert_eq!(cfg["default_project"], "prod");
        self.template = serde_json::to_vec_pretty(&cfg).unwrap();
        std::fs::write(self.env.config_path(), &self.template).unwrap();

        // The config file is the one place the tokens belong, and it and its backup are private.
        let text = String::from_utf8(self.env.config_bytes().unwrap()).unwrap();
        assert!(text.contains(&self.token(0, "admin")));
        assert!(text.contains(&self.token(1, "guest")));
        assert!(text.contains(&self.token(1, "storage")));
        let bak = self.env.config_dir.join("config.json.bak");
        let bak_text = std::fs::read_to_string(&bak).expect("second write leaves a backup");
        assert!(bak_text.contains(&self.token(0, "admin")));
        #[cfg(unix)]
        {
            assert_eq!(mode(&self.env.config_path()), 0o600);
            assert_eq!(mode(&bak), 0o600);
            assert_eq!(mode(&self.env.config_dir), 0o700);
        }
    }

    fn run_once(&mut self, c: &Case, mode: &[&str]) -> Run {
        let mut cmd = self.env.cmd();
        cmd.args(mode).args(&c.args);
        for (k, v) in &c.vars {
            cmd.env(k, v);
        }
        // No stdin is an empty stdin: a command waiting for input sees end-of-file at once.
        cmd.write_stdin(c.stdin.clone().unwrap_or_default());
        self.invocations += 1;
        Run::from(cmd.output().unwrap())
    }

    fn assert_clean(&self, what: &str, text: &str, ctx: &str) {
        if let Some(at) = text.find(CANARY) {
            let start = at.saturating_sub(120);
            let end = (at + 80).min(text.len());
            panic!(
                "a canary leaked into {what} of {ctx}:\n...{}...",
                &text[start..end]
            );
        }
        assert_no_leak(text, &self.secrets);
    }

    /// Runs a case in every mode from the template state and checks every channel.
    fn check(&mut self, c: &Case) {
        let mut exits = BTreeSet::new();
        for mode in MODES {
            self.env.emu.reset();
            let config = c
                .config
                .as_ref()
                .map_or(&self.template[..], |t| t.as_bytes());
            std::fs::write(self.env.config_path(), config).unwrap();
            let prepared = c.before.as_ref().map(|before| {
                let mut args = vec!["--json".to_owned()];
                args.extend(before.iter().cloned());
                let first = Run::from(self.env.cmd().args(&args).output().unwrap());
                let id = first.envelope().data()["id"].as_str().unwrap().to_owned();
                Case {
                    args: c.args.iter().map(|a| a.replace("{id}", &id)).collect(),
                    ..c.clone()
                }
            });
            let c = prepared.as_ref().unwrap_or(c);
            if let Some(f) = &c.fault {
                self.env
                    .emu
                    .add_fault(serde_json::from_value(f.clone()).unwrap());
            }
            let mut run = c.clone();
            if let Some(setup) = c.setup {
                run.args.extend(setup(&self.env));
            }
            let r = self.run_once(&run, mode);
            let ctx = format!("`kbagent {} {}`", mode.join(" "), run.args.join(" "));
            self.assert_clean("stdout", &r.stdout, &ctx);
            self.assert_clean("stderr", &r.stderr, &ctx);
            let log = serde_json::to_string(&self.env.emu.requests()).unwrap();
            self.assert_clean("the emulator's request log", &log, &ctx);

            // Whole tokens on stdout are reveals; they never go anywhere else.
            let shown = full_tokens(&r.stdout);
            for t in &shown {
                assert!(!r.stderr.contains(t.as_str()), "{ctx}: reveal on stderr");
                assert!(!log.contains(t.as_str()), "{ctx}: reveal in request log");
            }
            assert!(
                full_tokens(&r.stderr).is_empty(),
                "{ctx}: a token on stderr:\n{}",
                r.stderr
            );
            let json = mode.contains(&"--json");
            let succeeded = matches!(c.expect, Expect::Ok);
            match c.reveal {
                Reveal::Nothing => assert!(shown.is_empty(), "{ctx}: printed {shown:?}"),
                Reveal::NewToken | Reveal::OauthUrl if succeeded => {
                    assert_eq!(shown.len(), 1, "{ctx}: expected one reveal: {}", r.stdout);
                }
                _ => {}
            }
            if c.reveal == Reveal::OauthUrl && succeeded {
                let url_line = r
                    .stdout
                    .lines()
                    .find(|l| l.contains("token="))
                    .unwrap_or_else(|| panic!("{ctx}: no OAuth URL: {}", r.stdout));
                let child = shown.iter().next().unwrap();
                assert!(url_line.contains(&format!("token={child}")), "{ctx}");
            }

            if json {
                let out = r.envelope();
                match &c.expect {
                    Expect::Ok => {
                        assert_eq!((out.status.as_str(), r.code), ("ok", 0), "{ctx}: {out:?}");
                    }
                    Expect::Partial(code) => {
                        assert_eq!(
                            (out.status.as_str(), r.code),
                            ("ok", *code),
                            "{ctx}: {out:?}"
                        );
                    }
                    Expect::Err(code, exit) => assert_eq!(
                        (out.err().code.as_str(), r.code),
                        (*code, *exit),
                        "{ctx}: {out:?}"
                    ),
                }
                if c.reveal == Reveal::NewToken && succeeded {
                    let t = out.data()["token"].as_str().expect("token in data");
                    assert!(shown.contains(t), "{ctx}");
                }
            } else if matches!(c.expect, Expect::Err(..)) {
                assert!(
                    r.stderr.to_ascii_lowercase().contains("error"),
                    "{ctx}: {}",
                    r.stderr
                );
            }
            exits.insert(r.code);
        }
        assert_eq!(
            exits.len(),
            1,
            "{}: exit codes differ by mode",
            c.args.join(" ")
        );
        let entry = self.leaves_run.entry(c.leaf.clone()).or_default();
        if matches!(c.expect, Expect::Err(..)) {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
}

/// Leaf commands as `--help` lists them, so a new command is found without editing this file.
fn command_tree(c: &mut Canary) -> (Vec<String>, Vec<String>) {
    let help = case("", &["--help"], Expect::Ok);
    let top = commands_of(&c.run_once(&help, &[]).stdout);
    let mut groups = Vec::new();
    let mut leaves = Vec::new();
    for t in top {
        let h = case(&t, &[t.as_str(), "--help"], Expect::Ok);
        let subs = commands_of(&c.run_once(&h, &[]).stdout);
        if subs.is_empty() {
            leaves.push(t.clone());
        } else {
            groups.push(t.clone());
        }
        for s in subs {
            leaves.push(format!("{t} {s}"));
        }
    }
    (groups, leaves)
}

fn split(s: &str) -> Vec<&str> {
    s.split(' ').collect()
}

/// The curated success and error scenarios of each leaf command.
#[allow(clippy::too_many_lines)]
fn scenarios(c: &Canary) -> Vec<Case> {
    let url = c.env.emu.url().to_owned();
    let oauth = c.env.emu.projects()[0].oauth_config.clone();
    let oauth1 = c.env.emu.projects()[1].oauth_config.clone();
    let manage = c.manage();
    let admin1 = c.token(1, "admin");
    let guest1 = c.token(1, "guest");
    let unknown = unknown_canary();
    let file = c.env.home.path().join("canary-token.txt");
    std::fs::write(&file, format!("{guest1}\n")).unwrap();
    let file = file.to_str().unwrap().to_owned();
    let csv = c.env.home.path().join("canary.csv");
    std::fs::write(
        &csv,
        "customer_id,customer_name,orders_count,revenue\n1,Canary,2,3.5\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap().to_owned();
    let add = |extra: &[&str]| {
        let mut a = vec!["project", "add", "--project", "new", "--url", url.as_str()];
        a.extend_from_slice(extra);
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    };
    let with_args = |leaf: &str, args: Vec<String>, expect: Expect| Case {
        args,
        ..case(leaf, &[], expect)
    };
    let oauth_args = |alias: &str, cfg: &keboola_emulator::OauthConfig| {
        format!(
            "config oauth-url --project {alias} --component-id {} --config-id {} --no-open",
            cfg.component_id, cfg.config_id
        )
    };
    let m = "--allow-env-manage-token";
    let bad_url = format!("https://agent:{CANARY}URLPASSWORD1234@connection.keboola.com");
    let spaced = format!("{guest1} x");
    // Config files kbagent must refuse, each holding a canary it must not repeat.
    let broken_config =
        format!(r#"{{"version":1,"projects":{{"a":{{"stack_url":"{url}","token":"{guest1}"#);
    let spaced_config =
        format!(r#"{{"version":1,"projects":{{"a":{{"stack_url":"{url}","token":"{spaced}"}}}}}}"#);

    // The seeded extractor of project 0, which runs and succeeds.
    let extractor: Value = ureq::get(format!(
        "{url}/v2/storage/components/keboola.ex-db-snowflake/configs"
    ))
    .header("X-StorageApi-Token", &c.token(0, "admin"))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    let job_run = format!(
        "job run --project prod --component-id keboola.ex-db-snowflake --config-id {}",
        extractor[0]["id"].as_str().unwrap()
    );
    // The seeded SQL transformation of project 0, for `workspace from-transformation`.
    let transformation: Value = ureq::get(format!(
        "{url}/v2/storage/components/keboola.snowflake-transformation/configs"
    ))
    .header("X-StorageApi-Token", &c.token(0, "admin"))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    let from_tr = format!(
        "workspace from-transformation --project prod --component-id keboola.snowflake-transformation --config-id {}",
        transformation[0]["id"].as_str().unwrap()
    );

    vec![
        // project add: every token source, and the refusals.
        with_args("project add", add(&["--token-stdin"]), Expect::Ok).stdin(&format!("{guest1}\n")),
        with_args("project add", add(&["--token-file", &file]), Expect::Ok),
        with_args("project add", add(&["--token-env", "MY_TOKEN"]), Expect::Ok)
            .var("MY_TOKEN", &guest1),
        with_args("project add", add(&[]), Expect::Ok).var("KBC_TOKEN", &guest1),
        with_args("project add", add(&["--token", &guest1]), Expect::Ok),
        with_args(
            "project add",
            add(&["--token", &unknown]),
            Expect::Err("INVALID_TOKEN", 3),
        ),
        with_args(
            "project add",
            add(&["--token-stdin"]),
            Expect::Err("INVALID_ARGUMENT", 2),
        )
        .stdin(&spaced),
        with_args(
            "project add",
            add(&["--token", &guest1, "--token-stdin"]),
            Expect::Err("USAGE_ERROR", 2),
        ),
        // A token pasted where no value belongs.
        with_args(
            "project add",
            add(&["--token-stdin", &guest1]),
            Expect::Err("USAGE_ERROR", 2),
        ),
        with_args(
            "project add",
            split("project add --project prod --token-stdin")
                .into_iter()
                .map(str::to_owned)
                .chain(["--url".to_owned(), url.clone()])
                .collect(),
            Expect::Err("CONFIG_ERROR", 5),
        )
        .stdin(&guest1),
        with_args(
            "project add",
            vec![
                "project".into(),
                "add".into(),
                "--project".into(),
                "new".into(),
                "--url".into(),
                bad_url.clone(),
                "--token".into(),
                guest1.clone(),
            ],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        with_args(
            "project add",
            add(&["--token-stdin"]),
            Expect::Err("RETRY_EXHAUSTED", 4),
        )
        .stdin(&guest1)
        .fault(json!({"path": "/v2/storage/tokens/verify", "status": 503})),
        // project list / remove / use / current
        case("project list", &split("project list"), Expect::Ok),
        case(
            "project list",
            &split("project list"),
            Expect::Err("CONFIG_ERROR", 5),
        )
        .config(&broken_config),
        case(
            "project list",
            &split("project list"),
            Expect::Err("CONFIG_ERROR", 5),
        )
        .config(&spaced_config),
        case(
            "project remove",
            &split("project remove --project ui"),
            Expect::Ok,
        ),
        case(
            "project remove",
            &["project", "remove", "--project", &unknown],
            Expect::Err("CONFIG_ERROR", 5),
        ),
        case("project use", &split("project use ui"), Expect::Ok),
        case(
            "project use",
            &["project", "use", &unknown],
            Expect::Err("CONFIG_ERROR", 5),
        ),
        case("project current", &split("project current"), Expect::Ok),
        case(
            "project current",
            &split("project current --project nope"),
            Expect::Err("CONFIG_ERROR", 5),
        ),
        // project edit
        case(
            "project edit",
            &split("project edit --project ui --token-stdin"),
            Expect::Ok,
        )
        .stdin(&admin1),
        case(
            "project edit",
            &["project", "edit", "--project", "ui", "--token", &admin1],
            Expect::Ok,
        ),
        case(
            "project edit",
            &split("project edit --project ui --new-alias renamed"),
            Expect::Ok,
        ),
        case(
            "project edit",
            &["project", "edit", "--project", "ui", "--url", &url],
            Expect::Ok,
        ),
        case(
            "project edit",
            &["project", "edit", "--project", "ui", "--token", &unknown],
            Expect::Err("INVALID_TOKEN", 3),
        ),
        case(
            "project edit",
            &["project", "edit", "--project", "nope", "--token", &admin1],
            Expect::Err("CONFIG_ERROR", 5),
        ),
        case(
            "project edit",
            &["project", "edit", "--project", "ui", "--url", &bad_url],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        // project status / info
        case("project status", &split("project status"), Expect::Ok),
        case(
            "project status",
            &["project", "status", "--project", &unknown],
            Expect::Err("CONFIG_ERROR", 5),
        ),
        case(
            "project status",
            &split("project status --project prod"),
            Expect::Ok,
        )
        .fault(json!({"path": "/v2/storage/tokens/verify", "drop_connection": true})),
        case(
            "project info",
            &split("project info --project prod"),
            Expect::Ok,
        ),
        case(
            "project info",
            &split("project info --project ui"),
            Expect::Ok,
        ),
        case(
            "project info",
            &split("project info --project copied"),
            Expect::Ok,
        ),
        case(
            "project info",
            &[m, "project", "info", "--project", "copied"],
            Expect::Ok,
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project info",
            &split("project info --project ghost"),
            Expect::Err("INVALID_TOKEN", 3),
        ),
        // project refresh through the Manage API
        case(
            "project refresh",
            &[m, "project", "refresh", "--project", "copied", "--yes"],
            Expect::Ok,
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project refresh",
            &[m, "project", "refresh", "--all", "--yes"],
            Expect::Ok,
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project refresh",
            &[m, "project", "refresh", "--all", "--dry-run"],
            Expect::Ok,
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project refresh",
            &[m, "project", "refresh", "--project", "prod", "--yes"],
            Expect::Partial(1),
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project refresh",
            &split("project refresh --project copied --yes"),
            Expect::Err("USAGE_ERROR", 2),
        )
        .var("KBC_MANAGE_API_TOKEN", &manage),
        case(
            "project refresh",
            &split("project refresh --project copied --yes"),
            Expect::Err("USAGE_ERROR", 2),
        ),
        case(
            "project refresh",
            &[m, "project", "refresh", "--project", "copied", "--yes"],
            Expect::Err("INVALID_TOKEN", 3),
        )
        .var("KBC_MANAGE_API_TOKEN", &manage_canary(501, "WRONG")),
        case(
            "project refresh",
            &[m, "project", "refresh", "--project", "copied", "--yes"],
            Expect::Partial(1),
        )
        .var("KBC_MANAGE_API_TOKEN", c.env.emu.outsider_manage_token()),
        case(
            "project refresh",
            &[m, "project", "refresh", "--project", "copied", "--yes"],
            Expect::Err("INVALID_ARGUMENT", 2),
        )
        .var("KBC_MANAGE_API_TOKEN", &format!("{manage} x")),
        // token list / create / refresh / delete
        case(
            "token list",
            &split("token list --project prod"),
            Expect::Ok,
        ),
        case(
            "token list",
            &split("token list --project copied"),
            Expect::Ok,
        ),
        case(
            "token list",
            &split("token list --project ghost"),
            Expect::Err("INVALID_TOKEN", 3),
        ),
        case(
            "token create",
            &split("token create --project prod --description canary-check --expires-in 600"),
            Expect::Ok,
        )
        .reveals(Reveal::NewToken),
        case(
            "token create",
            &[
                m,
                "token",
                "create",
                "--project",
                "ui",
                "--description",
                "via-manage",
            ],
            Expect::Ok,
        )
        .var("KBC_MANAGE_API_TOKEN", &manage)
        .reveals(Reveal::NewToken),
        case(
            "token create",
            &split("token create --project ui --description nope"),
            Expect::Err("MISSING_MASTER_TOKEN", 3),
        )
        .var("KBC_MANAGE_API_TOKEN", &manage)
        .reveals(Reveal::NewToken),
        case(
            "token create",
            &split("token create --project prod --description boom"),
            Expect::Err("API_ERROR", 1),
        )
        .fault(json!({"method": "POST", "path": "/v2/storage/tokens", "status": 500}))
        .reveals(Reveal::NewToken),
        case(
            "token refresh",
            &split("token refresh --project prod --token-id 1001 --yes"),
            Expect::Ok,
        )
        .reveals(Reveal::NewToken),
        case(
            "token refresh",
            &split("token refresh --project prod --token-id 1004 --yes"),
            Expect::Ok,
        )
        .reveals(Reveal::NewToken),
        case(
            "token refresh",
            &split("token refresh --project prod --token-id 99999 --yes"),
            Expect::Err("NOT_FOUND", 1),
        )
        .reveals(Reveal::NewToken),
        case(
            "token refresh",
            &[
                "token",
                "refresh",
                "--project",
                "prod",
                "--token-id",
                &guest1,
                "--yes",
            ],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        case(
            "token delete",
            &split("token delete --project prod --token-id 1004 --yes"),
            Expect::Ok,
        ),
        case(
            "token delete",
            &split("token delete --project prod --token-id 1001 --yes"),
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        case(
            "token delete",
            &split("token delete --project prod --token-id 1002 --yes"),
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        // storage writes and transfers: success, refusal and failure paths, the object
        // protocol's answers included (which must never echo a signature).
        case("storage download-table", &split("storage download-table --project prod --table-id in.c-crm.orders --limit 5 --output canary.csv"), Expect::Ok),
        case("storage download-table", &split("storage download-table --project prod --table-id in.c-crm.nope --output canary.csv"), Expect::Err("NOT_FOUND", 1)),
        case("storage download-table", &split("storage download-table --project prod --table-id in.c-crm.orders --output canary.csv"), Expect::Err("ACCESS_DENIED", 1))
            .fault(json!({"service": "abs", "method": "GET", "status": 403})),
        case("storage upload-table", &["storage", "upload-table", "--project", "prod", "--table-id", "in.c-crm.canary", "--file", &csv], Expect::Ok),
        case("storage upload-table", &["storage", "upload-table", "--project", "prod", "--table-id", "in.c-crm.canary", "--file", &csv, "--no-auto-create"], Expect::Err("NOT_FOUND", 1)),
        case("storage upload-table", &["storage", "upload-table", "--project", "prod", "--table-id", "in.c-crm.canary", "--file", &csv], Expect::Err("ACCESS_DENIED", 1))
            .fault(json!({"service": "abs", "method": "PUT", "status": 403})),
        case("storage upload-table", &["storage", "upload-table", "--project", "prod", "--table-id", "out.c-reports.revenue_by_customer", "--file", &csv, "--incremental"], Expect::Err("API_ERROR", 1))
            .fault(json!({"method": "POST", "path": "/v2/storage/tables/*/import-async", "status": 500})),
        case("storage load-file", &split("storage load-file --project prod --table-id in.c-crm.canary"), Expect::Err("NOT_FOUND", 1)).setup(uploaded_file),
        case("storage load-file", &split("storage load-file --project prod --table-id out.c-reports.revenue_by_customer --incremental --no-wait"), Expect::Ok).setup(uploaded_file),
        case("storage create-bucket", &split("storage create-bucket --project prod --stage out --name canary"), Expect::Ok),
        case("storage create-bucket", &split("storage create-bucket --project prod --stage in --name crm"), Expect::Err("API_ERROR", 1)),
        case("storage create-table", &split("storage create-table --project prod --bucket-id in.c-crm --name canary --column id:INTEGER --primary-key id"), Expect::Ok),
        case("storage create-table", &split("storage create-table --project prod --bucket-id in.c-nope --name canary --column id"), Expect::Err("NOT_FOUND", 1)),
        case("storage delete-table", &split("storage delete-table --project prod --table-id in.c-crm.orders --yes"), Expect::Ok),
        case("storage delete-table", &split("storage delete-table --project prod --table-id in.c-crm.orders"), Expect::Err("USAGE_ERROR", 2)),
        case("storage delete-bucket", &split("storage delete-bucket --project prod --bucket-id in.c-crm --force --dry-run"), Expect::Ok),
        case("storage delete-bucket", &split("storage delete-bucket --project prod --bucket-id in.c-crm --force"), Expect::Err("USAGE_ERROR", 2)),
        case("storage truncate-table", &split("storage truncate-table --project prod --table-id in.c-crm.orders --yes"), Expect::Ok),
        case("storage truncate-table", &split("storage truncate-table --project prod --table-id in.c-crm.orders"), Expect::Err("USAGE_ERROR", 2)),
        case("storage swap-tables", &split("storage swap-tables --project prod --table-id in.c-crm.orders --target-table-id in.c-budget.budget_lines --yes"), Expect::Ok),
        case("storage swap-tables", &split("storage swap-tables --project prod --table-id in.c-crm.orders --target-table-id in.c-budget.budget_lines"), Expect::Err("USAGE_ERROR", 2)),
        case("storage snapshot-create", &split("storage snapshot-create --project prod --table-id in.c-crm.orders --description canary"), Expect::Ok),
        case("storage snapshot-create", &split("storage snapshot-create --project prod --table-id in.c-crm.nope"), Expect::Err("NOT_FOUND", 1)),
        case("storage snapshots", &split("storage snapshots --project prod --table-id in.c-crm.orders"), Expect::Ok).setup(|env| {
            snapshot_made(env);
            Vec::new()
        }),
        case("storage snapshots", &split("storage snapshots --project prod --table-id in.c-crm.nope"), Expect::Err("NOT_FOUND", 1)),
        case("storage snapshot-detail", &split("storage snapshot-detail --project prod"), Expect::Ok).setup(snapshot_made),
        case("storage snapshot-detail", &split("storage snapshot-detail --project prod --snapshot-id 999"), Expect::Err("NOT_FOUND", 1)),
        case("storage snapshot-delete", &split("storage snapshot-delete --project prod --yes"), Expect::Ok).setup(snapshot_made),
        case("storage snapshot-delete", &split("storage snapshot-delete --project prod"), Expect::Err("USAGE_ERROR", 2)).setup(snapshot_made),
        case("storage table-from-snapshot", &split("storage table-from-snapshot --project prod --bucket-id out.c-reports --name canary"), Expect::Ok).setup(snapshot_made),
        case("storage table-from-snapshot", &split("storage table-from-snapshot --project prod --bucket-id out.c-reports --name canary --snapshot-id 999"), Expect::Err("NOT_FOUND", 1)),
        case("storage file-upload", &["storage", "file-upload", "--project", "prod", "--file", &csv, "--tag", "canary"], Expect::Ok),
        case("storage file-upload", &["storage", "file-upload", "--project", "prod", "--file", &csv], Expect::Err("ACCESS_DENIED", 1))
            .fault(json!({"service": "abs", "status": 403})),
        case("storage file-download", &split("storage file-download --project prod --output canary.out"), Expect::Ok).setup(uploaded_file),
        case("storage file-download", &split("storage file-download --project prod --output canary.out"), Expect::Err("ACCESS_DENIED", 1))
            .setup(uploaded_file)
            .fault(json!({"service": "abs", "method": "GET", "status": 403})),
        case("storage file-delete", &split("storage file-delete --project prod --yes"), Expect::Ok).setup(uploaded_file),
        case("storage file-delete", &split("storage file-delete --project prod"), Expect::Err("USAGE_ERROR", 2)).setup(uploaded_file),
        // config list / detail / oauth-url
        case("config list", &split("config list"), Expect::Ok),
        case(
            "config list",
            &["config", "list", "--component-id", &spaced],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        case(
            "config list",
            &split("config list --project prod --component-id keboola.ex-google-drive"),
            Expect::Err("API_ERROR", 1),
        )
        .fault(json!({"path": "/v2/storage/**", "body": "malformed"})),
        case(
            "config detail",
            &[
                "config",
                "detail",
                "--project",
                "prod",
                "--component-id",
                &oauth.component_id,
                "--config-id",
                &oauth.config_id,
            ],
            Expect::Ok,
        ),
        case(
            "config detail",
            &split(
                "config detail --project prod --component-id keboola.ex-db-snowflake --config-id 424242",
            ),
            Expect::Err("NOT_FOUND", 1),
        ),
        case(
            "config oauth-url",
            &split(&oauth_args("prod", &oauth)),
            Expect::Ok,
        )
        .reveals(Reveal::OauthUrl),
        {
            let mut a = vec![m.to_owned()];
            a.extend(oauth_args("ui", &oauth1).split(' ').map(str::to_owned));
            with_args("config oauth-url", a, Expect::Ok)
                .var("KBC_MANAGE_API_TOKEN", &manage)
                .reveals(Reveal::OauthUrl)
        },
        case(
            "config oauth-url",
            &split(&oauth_args("ui", &oauth1)),
            Expect::Err("MISSING_MASTER_TOKEN", 3),
        )
        .var("KBC_MANAGE_API_TOKEN", &manage)
        .reveals(Reveal::OauthUrl),
        {
            let mut a: Vec<String> = split(&oauth_args("prod", &oauth))
                .into_iter()
                .map(str::to_owned)
                .collect();
            a.extend([
                "--redirect-url".to_owned(),
                "ftp://example.com/back".to_owned(),
            ]);
            with_args("config oauth-url", a, Expect::Err("INVALID_ARGUMENT", 2))
        },
        // job: runs of the seeded extractor (project 0), then reads and a stop of that job.
        case("job run", &split(&job_run), Expect::Ok),
        case(
            "job run",
            &["job", "run", "--project", "prod", "--component-id", &guest1, "--config-id", "1"],
            Expect::Err("API_ERROR", 1),
        ),
        case("job run", &split(&job_run), Expect::Err("JOB_STATE_UNKNOWN", 8))
            .fault(json!({"method": "POST", "service": "queue", "path": "**/jobs", "drop_connection": true})),
        case("job list", &split("job list"), Expect::Ok),
        case(
            "job list",
            &split("job list --project prod"),
            Expect::Err("API_ERROR", 1),
        )
        .fault(json!({"service": "queue", "body": "malformed"})),
        case("job detail", &split("job detail --project prod --job-id {id} --log-tail-lines 5"), Expect::Ok)
            .before(&job_run),
        case("job detail", &split("job detail --project prod --job-id 4242424242"), Expect::Err("NOT_FOUND", 1)),
        case("job wait", &split("job wait --project prod --job-id {id}"), Expect::Ok).before(&job_run),
        case("job wait", &split("job wait --project prod --job-id 4242424242"), Expect::Err("NOT_FOUND", 1)),
        case("job events", &split("job events --project prod --job-id {id} --follow"), Expect::Ok)
            .before(&job_run),
        case("job events", &["job", "events", "--project", "prod", "--job-id", &guest1], Expect::Err("INVALID_ARGUMENT", 2)),
        case("job terminate", &split("job terminate --project prod --job-id {id} --yes"), Expect::Ok)
            .before(&job_run),
        case(
            "job terminate",
            &split("job terminate --project prod --job-id 4242424242 --yes"),
            Expect::Err("NOT_FOUND", 1),
        ),
        // development branches
        case("branch list", &split("branch list"), Expect::Ok),
        case("branch list", &split("branch list --project nope"), Expect::Err("CONFIG_ERROR", 5)),
        case("branch create", &split("branch create --project prod --name canary"), Expect::Ok),
        case("branch create", &split("branch create --project prod --name Main"), Expect::Err("API_ERROR", 1)),
        case("branch use", &split("branch use --project prod"), Expect::Ok).setup(dev_branch),
        case("branch use", &split("branch use --project prod --branch 424242"), Expect::Err("NOT_FOUND", 1)),
        case("branch current", &split("branch current --project prod"), Expect::Ok),
        case("branch current", &split("branch current --project nope"), Expect::Err("CONFIG_ERROR", 5)),
        case("branch reset", &split("branch reset --project prod"), Expect::Ok),
        case("branch reset", &split("branch reset --project nope"), Expect::Err("CONFIG_ERROR", 5)),
        case("branch delete", &split("branch delete --project prod --yes"), Expect::Ok).setup(dev_branch),
        case("branch delete", &split("branch delete --project prod"), Expect::Err("USAGE_ERROR", 2)).setup(dev_branch),
        case("branch merge", &split("branch merge --project prod"), Expect::Ok).setup(dev_branch),
        case("branch merge", &split("branch merge --project prod"), Expect::Err("USAGE_ERROR", 2)),
        // component list / detail, search
        case("component list", &split("component list --type extractor"), Expect::Ok),
        case("component list", &["component", "list", "--query", &guest1], Expect::Err("USAGE_ERROR", 2)),
        case("component list", &split("component list --project prod"), Expect::Err("API_ERROR", 1))
            .fault(json!({"path": "/v2/storage", "body": "malformed"})),
        case("component detail", &split("component detail --project prod --component-id keboola.ex-google-drive"), Expect::Ok),
        case("component detail", &split("component detail --project prod --component-id keboola.no-such"), Expect::Err("NOT_FOUND", 1)),
        case("search", &split("search orders"), Expect::Ok),
        case("search", &split("search orders --in-bodies --type configuration"), Expect::Ok),
        case("search", &["search", &guest1], Expect::Err("USAGE_ERROR", 2)),
        case("search", &split("search orders --project prod"), Expect::Err("API_ERROR", 1))
            .fault(json!({"path": "/v2/storage/**", "body": "malformed"})),
        case(
            "config oauth-url",
            &split("config oauth-url --project prod --component-id keboola.ex-db-snowflake --no-open"),
            Expect::Err("INVALID_ARGUMENT", 2),
        )
        .setup(snowflake_config),
        // workspace and query: the password is not a token, but nothing else may leak.
        case("workspace create", &split("workspace create --project prod"), Expect::Ok),
        case("workspace create", &split("workspace create --project prod"), Expect::Err("API_ERROR", 1))
            .fault(json!({"method": "POST", "service": "storage", "path": "**/workspaces", "status": 400})),
        case("workspace list", &split("workspace list --project prod"), Expect::Ok),
        case("workspace list", &split("workspace list --project prod"), Expect::Err("API_ERROR", 1))
            .fault(json!({"service": "storage", "path": "**/workspaces", "body": "malformed"})),
        case("workspace detail", &split("workspace detail --project prod"), Expect::Ok).setup(workspace_made),
        case("workspace detail", &split("workspace detail --project prod --workspace-id 4242"), Expect::Err("NOT_FOUND", 1)),
        case("workspace load", &split("workspace load --project prod --tables in.c-crm.orders"), Expect::Ok)
            .setup(workspace_made),
        case("workspace load", &split("workspace load --project prod --workspace-id 4242 --tables in.c-crm.orders"), Expect::Err("NOT_FOUND", 1)),
        case("workspace query", &["workspace", "query", "--project", "prod", "--sql", "SELECT 1 AS one"], Expect::Ok)
            .setup(workspace_made),
        case("workspace query", &["workspace", "query", "--project", "prod", "--sql", "SELEC 1"], Expect::Err("QUERY_JOB_FAILED", 1))
            .setup(workspace_made),
        case("workspace password", &split("workspace password --project prod --yes"), Expect::Ok).setup(workspace_made),
        case("workspace password", &split("workspace password --project prod --workspace-id 4242 --yes"), Expect::Err("NOT_FOUND", 1)),
        case("workspace delete", &split("workspace delete --project prod --yes"), Expect::Ok).setup(workspace_made),
        case("workspace delete", &split("workspace delete --project prod --workspace-id 4242 --yes"), Expect::Err("NOT_FOUND", 1)),
        case("workspace from-transformation", &split(&from_tr), Expect::Ok),
        case(
            "workspace from-transformation",
            &split("workspace from-transformation --project prod --component-id keboola.snowflake-transformation --config-id 4242"),
            Expect::Err("NOT_FOUND", 1),
        ),
        case("query", &["query", "--project", "prod", "--sql", "SELECT COUNT(*) FROM \"in.c-crm.orders\""], Expect::Ok),
        case("query", &["query", "--project", "prod", "--sql", "SELECT nope FROM \"in.c-crm.orders\""], Expect::Err("QUERY_JOB_FAILED", 1)),
        // the rest
        case("doctor", &["doctor"], Expect::Ok),
        case("doctor", &[m, "doctor"], Expect::Ok).var("KBC_MANAGE_API_TOKEN", &manage),
        case("doctor", &["doctor"], Expect::Err("CONFIG_ERROR", 5)).config(&broken_config),
        case("context", &["context"], Expect::Ok),
        case(
            "context",
            &["context", &guest1],
            Expect::Err("USAGE_ERROR", 2),
        ),
        case("completions", &split("completions bash"), Expect::Ok),
        case(
            "completions",
            &split("completions tcsh"),
            Expect::Err("USAGE_ERROR", 2),
        ),
        // init and headless sessions
        case("init", &split("init --from-global --force"), Expect::Ok),
        case("init", &["init"], Expect::Err("CONFIG_ERROR", 5))
            .var("KBAGENT_PROJECT_FROM_ENV", "1")
            .var("KBC_STORAGE_API_URL", &url)
            .var("KBC_TOKEN", &guest1),
        case("project status", &["project", "status"], Expect::Ok)
            .var("KBAGENT_PROJECT_FROM_ENV", "1")
            .var("KBC_STORAGE_API_URL", &url)
            .var("KBC_TOKEN", &guest1),
        case("version", &["version"], Expect::Ok),
        case(
            "version",
            &["version", &guest1],
            Expect::Err("USAGE_ERROR", 2),
        ),
        // permissions: set and reset succeed only for a person typing a code on a terminal
        // (`permissions.rs` checks that path for leaks); here, their refusals.
        case("permissions show", &split("permissions show"), Expect::Ok),
        case(
            "permissions show",
            &split("permissions show"),
            Expect::Err("CONFIG_ERROR", 5),
        )
        .config(&broken_config),
        case(
            "permissions show",
            &split("permissions show"),
            Expect::Err("CONFIG_ERROR", 5),
        )
        .var("KBAGENT_DENY", &guest1),
        case(
            "permissions check",
            &split("permissions check token.create"),
            Expect::Ok,
        ),
        case(
            "permissions check",
            &split("--deny-writes permissions check token.create"),
            Expect::Partial(6),
        ),
        case(
            "permissions check",
            &["permissions", "check", &guest1],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        case(
            "permissions set",
            &split("permissions set --mode allow --deny cli:write"),
            Expect::Err("PERMISSION_DENIED", 6),
        )
        .stdin(&format!("{guest1}\n")),
        case(
            "permissions set",
            &["permissions", "set", "--mode", "allow", "--deny", &guest1],
            Expect::Err("INVALID_ARGUMENT", 2),
        ),
        case(
            "permissions reset",
            &split("permissions reset"),
            Expect::Err("PERMISSION_DENIED", 6),
        ),
        case(
            "token create",
            &split("--deny-writes token create --project prod --description x"),
            Expect::Err("PERMISSION_DENIED", 6),
        ),
    ]
}

/// Commands whose success needs a person typing a code on a terminal.
const PERSON_ONLY: [&str; 2] = ["permissions set", "permissions reset"];

#[test]
fn canary_tokens_never_leak() {
    let mut c = Canary::new();
    c.build_template();
    let (groups, leaves) = command_tree(&mut c);
    assert!(leaves.len() >= 19, "{leaves:?}");

    // Every node of the tree: --help, with every canary variable set, in both output modes.
    let env_vars = [
        ("KBC_TOKEN", c.token(0, "admin")),
        ("KBC_MANAGE_API_TOKEN", c.manage()),
    ];
    let mut nodes: Vec<String> = vec![String::new()];
    nodes.extend(groups.iter().cloned());
    nodes.extend(leaves.iter().cloned());
    for node in &nodes {
        let mut args: Vec<&str> = node.split_whitespace().collect();
        args.push("--help");
        let mut h = case(node, &args, Expect::Ok);
        for (k, v) in &env_vars {
            h = h.var(k, v);
        }
        c.check(&h);
    }
    c.leaves_run.clear();

    // Every leaf run bare and with a canary pasted as a stray argument: refused input that
    // reaches argument parsing with secrets all around.
    for leaf in &leaves {
        let mut args: Vec<String> = vec!["--allow-env-manage-token".into()];
        args.extend(leaf.split_whitespace().map(str::to_owned));
        let bare = Case {
            args: args.clone(),
            ..case(leaf, &[], Expect::Ok)
        };
        let mut stray = bare.clone();
        stray.args.push(c.token(0, "guest"));
        for mut probe in [bare, stray] {
            for (k, v) in &env_vars {
                probe = probe.var(k, v);
            }
            // The outcome differs by command; what matters here is that nothing leaks, so
            // check every channel without an expected result.
            for mode in MODES {
                c.env.emu.reset();
                std::fs::write(c.env.config_path(), &c.template).unwrap();
                let r = c.run_once(&probe, mode);
                let ctx = format!("`kbagent {} {}`", mode.join(" "), probe.args.join(" "));
                c.assert_clean("stdout", &r.stdout, &ctx);
                c.assert_clean("stderr", &r.stderr, &ctx);
                let log = serde_json::to_string(&c.env.emu.requests()).unwrap();
                c.assert_clean("the emulator's request log", &log, &ctx);
                if mode.contains(&"--json") {
                    r.envelope();
                }
            }
        }
    }

    // The curated scenarios: success and error paths of every leaf.
    for s in scenarios(&c)
        .into_iter()
        .chain(storage_read_scenarios())
        .chain(config_write_scenarios(&c))
    {
        assert!(
            leaves.contains(&s.leaf),
            "scenario for unknown command {}",
            s.leaf
        );
        c.check(&s);
    }
    for leaf in &leaves {
        let (ok, err) = c.leaves_run.get(leaf).copied().unwrap_or_default();
        assert!(
            (ok > 0 || PERSON_ONLY.contains(&leaf.as_str())) && err > 0,
            "`{leaf}` needs canary scenarios for its success and error paths (ok {ok}, error {err})"
        );
    }
    let successes: usize = c.leaves_run.values().map(|(a, _)| a).sum();
    let errors: usize = c.leaves_run.values().map(|(_, b)| b).sum();
    let scenario_count = successes + errors;
    eprintln!(
        "canary: {} commands ({} groups, {} leaves), {} scenarios ({successes} success, {errors} error paths) x {} modes, {} kbagent runs in all (help and stray-argument probes included), no canary in stdout, stderr or request log",
        groups.len() + leaves.len(),
        groups.len(),
        leaves.len(),
        scenario_count,
        MODES.len(),
        c.invocations
    );
}

/// `project edit --token` works, warns that argv is visible, and names the safer options;
/// the value itself is never echoed.
#[test]
fn token_on_command_line_warns_for_edit_too() {
    let c = Canary::new();
    let env = &c.env;
    env.add("prod", 0, "storage");
    let admin = c.token(0, "admin");
    let (out, code) = env.json(&["project", "edit", "--project", "prod", "--token", &admin]);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.warning_codes(), ["TOKEN_ON_COMMAND_LINE"]);
    let w = &out.warnings.as_ref().unwrap()[0];
    let hint = w.hint.as_deref().unwrap_or_default();
    for safer in ["--token-stdin", "--token-file", "--token-env", "prompt"] {
        assert!(hint.contains(safer), "hint does not name {safer}: {hint}");
    }
    assert!(w.message.contains("visible") && w.message.contains("history"));
    assert_eq!(out.data()["changed"]["token"], true);
    assert_eq!(env.config_json()["projects"]["prod"]["token"], json!(admin));
    let shown = serde_json::to_string(out.data()).unwrap();
    assert!(!shown.contains(CANARY), "{shown}");

    // Human mode: the warning goes to stderr, the token nowhere.
    let guest = c.token(0, "guest");
    let r = env.run(&[
        "project",
        "edit",
        "--project",
        "prod",
        "--token",
        &guest,
        "--no-warn-non-master",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("visible to other processes"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--token-stdin"), "{}", r.stderr);
    assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));

    // project add says the same.
    let (out, _) = env.json(&[
        "project",
        "add",
        "--project",
        "other",
        "--url",
        env.emu.url(),
        "--token",
        &c.token(1, "admin"),
    ]);
    let hint = out.warnings.as_ref().unwrap()[0]
        .hint
        .clone()
        .unwrap_or_default();
    assert!(
        hint.contains("--token-stdin") && hint.contains("--token-file"),
        "{hint}"
    );

    // A safe source does not warn.
    let (out, code) = env.json_stdin(
        &["project", "edit", "--project", "prod", "--token-stdin"],
        &admin,
    );
    assert_eq!(code, 0);
    assert!(out.warnings.is_none(), "{out:?}");
}

/// The OAuth URL carries a live child token: it is the command's result on stdout and never
/// appears in stderr, `-v`/`-vv` logs or the request log, whichever authority minted it.
#[test]
fn oauth_url_child_token_only_on_stdout() {
    let c = Canary::new();
    let env = &c.env;
    env.add("prod", 0, "admin");
    env.add("ui", 1, "guest");
    let mut checked = 0;
    for (alias, index, manage) in [("prod", 0, false), ("ui", 1, true)] {
        let oauth = env.emu.projects()[index].oauth_config.clone();
        for mode in [&["-v"][..], &["-vv"], &["--json", "-vv"]] {
            let mut cmd = env.cmd();
            if manage {
                cmd.arg("--allow-env-manage-token")
                    .env("KBC_MANAGE_API_TOKEN", c.manage());
            }
            cmd.args(mode).args([
                "config",
                "oauth-url",
                "--project",
                alias,
                "--component-id",
                &oauth.component_id,
                "--config-id",
                &oauth.config_id,
                "--no-open",
            ]);
            let r = Run::from(cmd.output().unwrap());
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(!r.stderr.is_empty(), "-v logs something");
            let url = if mode.contains(&"--json") {
                r.envelope().data()["url"].as_str().unwrap().to_owned()
            } else {
                r.stdout.trim().to_owned()
            };
            let parsed = url::Url::parse(&url).unwrap();
            let child = parsed
                .query_pairs()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
                .expect("the URL carries the child token");
            assert!(!child.contains(CANARY));
            assert!(!r.stderr.contains(&child), "child token in stderr");
            assert!(
                !r.stderr.contains(leak_marker(&child)),
                "child token in stderr"
            );
            assert!(!r.stderr.contains("token="), "OAuth URL in stderr");
            let log = serde_json::to_string(&env.emu.requests()).unwrap();
            assert!(
                !log.contains(leak_marker(&child)),
                "child token in request log"
            );
            checked += 1;
        }
    }
    eprintln!("oauth-url: {checked} runs, child token only on stdout");
}

/// `--workspace-id` of a workspace just created in project 101 (`prod`).
fn workspace_made(env: &TestEnv) -> Vec<String> {
    let (out, code) = env.json(&["workspace", "create", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    vec![
        "--workspace-id".to_owned(),
        out.data()["workspace_id"].as_str().unwrap().to_owned(),
    ]
}

/// `--file-id` of a file just uploaded to project 101 (`prod`).
fn uploaded_file(env: &TestEnv) -> Vec<String> {
    let path = env.home.path().join("canary.csv");
    let (out, code) = env.json(&[
        "storage",
        "file-upload",
        "--project",
        "prod",
        "--file",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out:?}");
    vec!["--file-id".to_owned(), out.data()["id"].to_string()]
}

/// A snapshot of `in.c-crm.orders` in project 101 (`prod`), as `--snapshot-id ID`.
fn snapshot_made(env: &TestEnv) -> Vec<String> {
    let (out, code) = env.json(&[
        "storage",
        "snapshot-create",
        "--project",
        "prod",
        "--table-id",
        "in.c-crm.orders",
    ]);
    assert_eq!(code, 0, "{out:?}");
    vec![
        "--snapshot-id".to_owned(),
        out.data()["snapshot_id"].to_string(),
    ]
}

/// A finished export of `in.c-crm.orders` in project 101 (`prod`): its job and its file.
fn export_orders(env: &TestEnv) -> (String, String) {
    let job = finished_job(env, start_export(env));
    assert_eq!(job["status"], "success", "{job}");
    (
        job["id"].to_string(),
        job["results"]["file"]["id"].to_string(),
    )
}

/// Success and error paths of the storage reads. `ghost`'s token is unknown to the stack.
fn storage_read_scenarios() -> Vec<Case> {
    let ok = |args: &str| case(&leaf(args), &split(args), Expect::Ok);
    let err = |args: &str, code, exit| case(&leaf(args), &split(args), Expect::Err(code, exit));
    vec![
        ok("storage buckets"),
        err("storage buckets --project ghost", "INVALID_TOKEN", 3),
        ok("storage bucket-detail --project prod --bucket-id in.c-crm"),
        err(
            "storage bucket-detail --project prod --bucket-id in.c-none",
            "NOT_FOUND",
            1,
        ),
        ok("storage tables --project prod --branch 10102"),
        err("storage tables --branch 10102", "USAGE_ERROR", 2),
        err(
            "storage tables --project ghost --bucket-id in.c-crm",
            "INVALID_TOKEN",
            3,
        ),
        ok("storage table-detail --project copied --table-id in.c-crm.orders"),
        err(
            "storage table-detail --project ghost --table-id in.c-crm.orders",
            "INVALID_TOKEN",
            3,
        ),
        ok("storage preview --project prod --table-id in.c-crm.customers --limit 5"),
        err(
            "storage preview --project prod --table-id in.c-crm.none",
            "NOT_FOUND",
            1,
        ),
        ok("storage files --project prod").setup(|env| {
            export_orders(env);
            Vec::new()
        }),
        err("storage files --project ghost", "INVALID_TOKEN", 3),
        ok("storage file-detail --project prod")
            .setup(|env| vec!["--file-id".to_owned(), export_orders(env).1]),
        err(
            "storage file-detail --project prod --file-id 1",
            "NOT_FOUND",
            1,
        ),
        ok("storage job-detail --project prod --wait")
            .setup(|env| vec!["--job-id".to_owned(), export_orders(env).0]),
        err(
            "storage job-detail --project ghost --job-id 5000001",
            "INVALID_TOKEN",
            3,
        ),
    ]
}

/// `storage buckets --project p` is the leaf `storage buckets`.
fn leaf(args: &str) -> String {
    args.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

/// The seeded development branch of project 101 (`prod`), as `--branch ID`.
fn dev_branch(env: &TestEnv) -> Vec<String> {
    let (out, code) = env.json(&["branch", "list", "--project", "prod"]);
    assert_eq!(code, 0, "{out:?}");
    let dev = out.data()["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] == false)
        .expect("a development branch")
        .clone();
    vec!["--branch".to_owned(), dev["id"].to_string()]
}

/// Success and error paths of the configuration writes and `encrypt values`, on the seeded
/// OAuth configuration of `prod`; `ghost`'s token is unknown to the stack.
fn config_write_scenarios(c: &Canary) -> Vec<Case> {
    let oauth = c.env.emu.projects()[0].oauth_config.clone();
    let on = |verb: &str, extra: &str| -> Vec<String> {
        let mut a: Vec<String> = vec!["config".into(), verb.into()];
        a.extend(
            format!(
                "--project prod --component-id {} --config-id {}",
                oauth.component_id, oauth.config_id
            )
            .split(' ')
            .map(str::to_owned),
        );
        if !extra.is_empty() {
            a.extend(extra.split(' ').map(str::to_owned));
        }
        a
    };
    let ghost = |verb: &str, extra: &str| -> Vec<String> {
        on(verb, extra)
            .into_iter()
            .map(|a| if a == "prod" { "ghost".to_owned() } else { a })
            .collect()
    };
    let mk = |leaf: &str, args: Vec<String>, expect: Expect| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        case(leaf, &refs, expect)
    };
    let bad = || Expect::Err("INVALID_TOKEN", 3);
    let component = oauth.component_id.clone();
    vec![
        mk(
            "config update",
            on("update", "--set parameters.x=1 --set parameters.#s=plain"),
            Expect::Ok,
        ),
        mk(
            "config update",
            ghost("update", "--set parameters.x=1"),
            bad(),
        ),
        mk(
            "config new",
            vec![
                "config".into(),
                "new".into(),
                "--project".into(),
                "prod".into(),
                "--component-id".into(),
                component.clone(),
                "--name".into(),
                "N".into(),
            ],
            Expect::Ok,
        ),
        mk(
            "config new",
            vec![
                "config".into(),
                "new".into(),
                "--project".into(),
                "ghost".into(),
                "--component-id".into(),
                component.clone(),
                "--name".into(),
                "N".into(),
            ],
            bad(),
        ),
        mk("config delete", on("delete", "--yes"), Expect::Ok),
        mk(
            "config delete",
            on("delete", ""),
            Expect::Err("USAGE_ERROR", 2),
        ),
        mk("config restore", on("restore", ""), Expect::Ok).setup(trashed_oauth_config),
        mk(
            "config restore",
            on("restore", ""),
            Expect::Err("NOT_FOUND", 1),
        ),
        mk(
            "config trash",
            vec![
                "config".into(),
                "trash".into(),
                "--project".into(),
                "prod".into(),
                "--component-id".into(),
                component.clone(),
            ],
            Expect::Ok,
        ),
        mk(
            "config trash",
            vec![
                "config".into(),
                "trash".into(),
                "--project".into(),
                "prod".into(),
            ],
            Expect::Ok,
        )
        .setup(trashed_oauth_config),
        mk(
            "config trash",
            vec![
                "config".into(),
                "trash".into(),
                "--project".into(),
                "ghost".into(),
                "--component-id".into(),
                component.clone(),
            ],
            bad(),
        ),
        mk("config rename", on("rename", "--name Renamed"), Expect::Ok),
        mk("config rename", ghost("rename", "--name Renamed"), bad()),
        mk("config versions", on("versions", ""), Expect::Ok),
        mk("config versions", ghost("versions", ""), bad()),
        mk(
            "config rollback",
            on("rollback", "--version 1 --dry-run"),
            Expect::Ok,
        ),
        mk(
            "config rollback",
            on("rollback", "--version 99"),
            Expect::Err("NOT_FOUND", 1),
        ),
        mk(
            "config row-create",
            on("row-create", "--name r --configuration {\"#k\":\"plain\"}"),
            Expect::Ok,
        ),
        mk("config row-create", ghost("row-create", "--name r"), bad()),
        mk(
            "config row-update",
            on("row-update", "--set a=1"),
            Expect::Ok,
        )
        .setup(first_oauth_row),
        mk(
            "config row-update",
            on("row-update", "--row-id 424242 --set a=1"),
            Expect::Err("NOT_FOUND", 1),
        ),
        mk("config row-delete", on("row-delete", "--yes"), Expect::Ok).setup(first_oauth_row),
        mk(
            "config row-delete",
            on("row-delete", "--row-id 424242 --yes"),
            Expect::Err("NOT_FOUND", 1),
        ),
        mk("config state-get", on("state-get", ""), Expect::Ok),
        mk("config state-get", ghost("state-get", ""), bad()),
        mk(
            "config state-set",
            on("state-set", "--state {}"),
            Expect::Ok,
        ),
        mk("config state-set", ghost("state-set", "--state {}"), bad()),
        mk("config clone", on("clone", "--name Copy"), Expect::Ok),
        mk("config clone", ghost("clone", "--name Copy"), bad()),
        mk(
            "encrypt values",
            vec![
                "encrypt".into(),
                "values".into(),
                "--project".into(),
                "prod".into(),
                "--component-id".into(),
                component.clone(),
                "--input".into(),
                "{\"#a\":\"plain\"}".into(),
            ],
            Expect::Ok,
        ),
        mk(
            "encrypt values",
            vec![
                "encrypt".into(),
                "values".into(),
                "--project".into(),
                "prod".into(),
                "--component-id".into(),
                component,
                "--input".into(),
                "{\"a\":\"plain\"}".into(),
            ],
            Expect::Err("USAGE_ERROR", 2),
        ),
    ]
}

/// The seeded OAuth configuration of `prod`, moved to the trash.
fn trashed_oauth_config(env: &TestEnv) -> Vec<String> {
    let o = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = env.json(&[
        "config",
        "delete",
        "--project",
        "prod",
        "--component-id",
        &o.component_id,
        "--config-id",
        &o.config_id,
        "--yes",
    ]);
    assert_eq!(code, 0, "{out:?}");
    Vec::new()
}

/// `--row-id` of the first row of the seeded OAuth configuration of `prod`.
fn first_oauth_row(env: &TestEnv) -> Vec<String> {
    let o = env.emu.projects()[0].oauth_config.clone();
    let (out, code) = env.json(&[
        "config",
        "detail",
        "--project",
        "prod",
        "--component-id",
        &o.component_id,
        "--config-id",
        &o.config_id,
    ]);
    assert_eq!(code, 0, "{out:?}");
    vec![
        "--row-id".to_owned(),
        out.data()["rows"][0]["id"].as_str().unwrap().to_owned(),
    ]
}

/// The seeded Snowflake extractor configuration of `prod` (no OAuth), as `--config-id ID`.
fn snowflake_config(env: &TestEnv) -> Vec<String> {
    let (out, code) = env.json(&[
        "config",
        "list",
        "--project",
        "prod",
        "--component-id",
        "keboola.ex-db-snowflake",
    ]);
    assert_eq!(code, 0, "{out:?}");
    let id = out.data()["configs"][0]["config_id"].as_str().unwrap();
    vec!["--config-id".to_owned(), id.to_owned()]
}
