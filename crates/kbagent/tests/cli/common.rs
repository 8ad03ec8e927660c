//! Hermetic test environment: a temporary HOME and config dir, an in-process emulator, and
//! the real `kbagent` binary. Envelopes are read into types owned by the tests, not the
//! CLI's, so the wire format is checked independently.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use keboola_emulator::{Emulator, EmulatorOptions};
use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub status: String,
    /// The projects and branches the command acted on; absent when it chose none.
    #[serde(default)]
    pub targets: Option<Vec<TargetBody>>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub warnings: Option<Vec<WarningBody>>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// One entry of the envelope's `targets`, typed as the tests expect it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub role: String,
    pub project_alias: String,
    pub branch_id: Option<u64>,
    pub branch_name: Option<String>,
    pub branch_source: String,
    pub active_branch: Option<ActiveBranchBody>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBranchBody {
    pub branch_id: u64,
    pub branch_name: Option<String>,
}

impl TargetBody {
    /// The target of a command on `alias` in production, no active branch.
    pub fn production(alias: &str) -> Self {
        Self {
            role: "target".into(),
            project_alias: alias.into(),
            branch_id: None,
            branch_name: None,
            branch_source: "production".into(),
            active_branch: None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct WarningBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: String,
    pub error_type: String,
    pub message: String,
    pub project: String,
    pub retryable: bool,
    #[serde(default)]
    pub details: Option<Value>,
}

impl Envelope {
    pub fn data(&self) -> &Value {
        self.data.as_ref().expect("ok envelope has data")
    }

    pub fn err(&self) -> &ErrorBody {
        self.error.as_ref().expect("error envelope has error")
    }

    pub fn warning_codes(&self) -> Vec<&str> {
        self.warnings
            .iter()
            .flatten()
            .map(|w| w.code.as_str())
            .collect()
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: text(out.stdout),
            stderr: text(out.stderr),
        }
    }

    /// Parses stdout as exactly one JSON document.
    pub fn envelope(&self) -> Envelope {
        let mut stream = serde_json::Deserializer::from_str(&self.stdout).into_iter::<Envelope>();
        let first = stream
            .next()
            .unwrap_or_else(|| panic!("no JSON on stdout; stderr: {}", self.stderr))
            .unwrap_or_else(|e| {
                panic!("bad envelope {e}: {}\nstderr: {}", self.stdout, self.stderr)
            });
        assert!(
            stream.next().is_none(),
            "more than one JSON document: {}",
            self.stdout
        );
        match first.status.as_str() {
            "ok" => assert!(first.error.is_none() && first.data.is_some()),
            "error" => assert!(first.error.is_some() && first.data.is_none()),
            other => panic!("unknown status {other}"),
        }
        first
    }
}

pub struct TestEnv {
    pub emu: Emulator,
    pub home: TempDir,
    pub config_dir: PathBuf,
}

impl TestEnv {
    pub fn new() -> Self {
        Self::with(EmulatorOptions::default())
    }

    pub fn with(opts: EmulatorOptions) -> Self {
        let emu = keboola_emulator::spawn(opts).expect("emulator starts");
        let home = tempfile::tempdir().unwrap();
        let config_dir = home.path().join("cfg");
        Self {
            emu,
            home,
            config_dir,
        }
    }

    /// The kbagent binary with a clean, hermetic environment.
    pub fn base(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kbagent"));
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KBAGENT_CONFIG_DIR", &self.config_dir)
            .env("NO_COLOR", "1")
            .env("BROWSER", "true")
            .env("COLUMNS", "120")
            .env("KBAGENT_RETRY_BASE_MS", "1")
            .env("KBAGENT_HTTP_TIMEOUT_MS", "3000")
            .env(
                "KBAGENT_OAUTH_WIZARD_URL",
                format!("{}/oauth/index.html", self.emu.url()),
            )
            .current_dir(self.home.path());
        cmd
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.base())
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().unwrap())
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::from(
            self.cmd()
                .args(args)
                .write_stdin(stdin.to_owned())
                .output()
                .unwrap(),
        )
    }

    /// `kbagent --json <args>`, checked to print one envelope.
    pub fn json(&self, args: &[&str]) -> (Envelope, i32) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        (r.envelope(), r.code)
    }

    pub fn json_stdin(&self, args: &[&str], stdin: &str) -> (Envelope, i32) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run_stdin(&all, stdin);
        (r.envelope(), r.code)
    }

    pub fn token(&self, project: usize, kind: &str) -> String {
        let p = &self.emu.projects()[project];
        match kind {
            "admin" => p.tokens.admin.clone(),
            "guest" => p.tokens.guest.clone(),
            "read_only" => p.tokens.read_only.clone(),
            "storage" => p.tokens.storage.clone(),
            other => panic!("no token kind {other}"),
        }
    }

    /// Registers project `index` of the emulator under `alias` with one of its seeded tokens.
    pub fn add(&self, alias: &str, project: usize, kind: &str) -> Envelope {
        let token = self.token(project, kind);
        let (env, code) = self.json_stdin(
            &[
                "project",
                "add",
                "--project",
                alias,
                "--url",
                self.emu.url(),
                "--token-stdin",
                "--no-warn-non-master",
            ],
            &token,
        );
        assert_eq!(code, 0, "{env:?}");
        env
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir.join("config.json")
    }

    pub fn config_bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(self.config_path()).ok()
    }

    pub fn config_json(&self) -> Value {
        serde_json::from_slice(&self.config_bytes().expect("config exists")).unwrap()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(&self.config_dir).unwrap();
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn project_id(&self, index: usize) -> u64 {
        self.emu.projects()[index].id
    }
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every seeded secret of the emulator, to check that none leaks.
pub fn all_secrets(env: &TestEnv) -> Vec<String> {
    let mut out = vec![
        env.emu.manage_token().to_owned(),
        env.emu.outsider_manage_token().to_owned(),
    ];
    for p in env.emu.projects() {
        out.extend([
            p.tokens.admin.clone(),
            p.tokens.guest.clone(),
            p.tokens.read_only.clone(),
            p.tokens.storage.clone(),
        ]);
    }
    out
}

/// What of a token must never appear in output: its secret part (after the second '-')
/// without the last four characters, which the masked form shows.
pub fn leak_marker(token: &str) -> &str {
    let secret = token.splitn(3, '-').nth(2).unwrap_or(token);
    &secret[..secret.len().saturating_sub(4)]
}

pub fn assert_no_leak(haystack: &str, tokens: &[String]) {
    for t in tokens {
        let marker = leak_marker(t);
        assert!(marker.len() >= 8, "token too short to check: {t:?}");
        assert!(
            !haystack.contains(marker),
            "a token leaked into output:\n{haystack}"
        );
    }
}

/// The subcommand names listed under "Commands:" in a `--help` text.
pub fn commands_of(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A long about text wraps onto lines indented past the names.
        .filter(|l| !l.starts_with("   "))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Runs `cmd` to the end, feeding it `stdin`, but kills it and fails the test if it is still
/// running after `limit`: for checks that kbagent does not hang, so a regression fails the
/// test instead of stalling the suite. Returns the run and the signal that ended it, if any.
pub fn run_or_kill(
    mut cmd: std::process::Command,
    stdin: Option<&[u8]>,
    limit: std::time::Duration,
) -> (Run, Option<i32>) {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // kbagent may stop reading early (that is what a size bound does).
        let _ = pipe.write_all(bytes);
    }
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kbagent was still running after {limit:?} and was killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: text(out.join().unwrap()),
        stderr: text(err.join().unwrap()),
    };
    (run, signal)
}

impl TestEnv {
    /// Runs `kbagent <args>` on a pseudo-terminal, typing `input`, so that it prompts as it
    /// does for a person. Stdout and stderr both arrive in `stdout`.
    pub fn in_terminal(&self, args: &[&str], input: &str) -> Option<Run> {
        let mut cmd = self.base();
        cmd.args(args).current_dir(self.home.path());
        Some(in_pty_typing(&cmd, input))
    }
}

/// Runs `inner` (a command built from [`TestEnv::base`]) on a pseudo-terminal through
/// `script`: stdout and stderr are the terminal (both end up in `stdout`, with `\r\n` line
/// ends); stdin is the terminal too unless `stdin_from` names a file to read instead. The
/// terminal reports no size (0 columns), as some harnesses' terminals do.
pub fn in_pty(inner: &std::process::Command, stdin_from: Option<&str>) -> Run {
    let mut cmd = pty_command(inner, stdin_from);
    cmd.stdin(std::process::Stdio::null());
    Run::from(cmd.output().expect("`script` (util-linux) is installed"))
}

/// [`in_pty`] with `typed` typed on the terminal (answers to prompts).
pub fn in_pty_typing(inner: &std::process::Command, typed: &str) -> Run {
    use std::io::Write;
    let mut child = pty_command(inner, None)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

fn pty_command(inner: &std::process::Command, stdin_from: Option<&str>) -> std::process::Command {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let mut line: Vec<String> = std::iter::once(inner.get_program())
        .chain(inner.get_args())
        .map(quote)
        .collect();
    if let Some(file) = stdin_from {
        line.push(format!("< {}", quote(file.as_ref())));
    }
    let mut cmd = std::process::Command::new("script");
    cmd.env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd.args(["-qec", &line.join(" "), "/dev/null"]);
    cmd
}
