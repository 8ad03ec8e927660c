//! Network and client safety: proxy variables never tunnel loopback traffic, a token
//! pasted as the stack URL is refused before any lookup, an oversized CA file is refused,
//! tokens glued to other text are masked, and a token a server nests in a token object
//! (`creatorToken.token`) is never printed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::json;

use crate::common::*;

const PROXY_VARS: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// A listener on 127.0.0.1 that counts connections and refuses each with 502 at once, so
/// a client that wrongly uses it as a proxy fails fast instead of timing out.
struct Tripwire {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    fn start() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&hits);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                seen.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            }
        });
        Tripwire { port, hits }
    }
}

/// `kbagent --json project add --project <alias> [--url <url>] --token-stdin` with the
/// token on stdin and extra environment variables.
fn add_project(
    env: &TestEnv,
    vars: &[(&str, &str)],
    alias: &str,
    url: Option<&str>,
    token: &str,
) -> Run {
    let mut cmd = env.cmd();
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.args([
        "--json",
        "project",
        "add",
        "--project",
        alias,
        "--token-stdin",
    ]);
    if let Some(url) = url {
        cmd.args(["--url", url]);
    }
    Run::from(cmd.write_stdin(token.to_owned()).output().unwrap())
}

#[test]
fn proxy_variables_do_not_tunnel_loopback_traffic() {
    let env = TestEnv::new();
    let proxy = Tripwire::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let token = env.token(0, "admin");
    let vars: Vec<(&str, &str)> = PROXY_VARS
        .iter()
        .map(|v| (*v, proxy_url.as_str()))
        .collect();
    let add = add_project(&env, &vars, "p", Some(env.emu.url()), &token);
    assert_eq!(add.code, 0, "{}{}", add.stdout, add.stderr);
    let mut cmd = env.cmd();
    for (name, value) in &vars {
        cmd.env(name, value);
    }
    let status = Run::from(cmd.args(["--json", "project", "status"]).output().unwrap());
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert_eq!(status.envelope().status, "ok");
    assert_eq!(
        proxy.hits.load(Ordering::SeqCst),
        0,
        "the proxy saw a loopback request"
    );
    assert!(
        !env.emu.requests().is_empty(),
        "the emulator was reached directly"
    );
}

/// `project add` with the token where the URL belongs, via `--url` and via
/// `KBC_STORAGE_API_URL`: refused as an invalid argument, nothing sent, nothing echoed.
#[test]
fn a_token_given_as_the_url_is_refused_before_any_request() {
    let env = TestEnv::new();
    let token = env.token(0, "admin");
    let secrets = all_secrets(&env);
    let by_flag = add_project(&env, &[], "p", Some(&token), &token);
    let by_env = add_project(&env, &[("KBC_STORAGE_API_URL", &token)], "p", None, &token);
    for run in [by_flag, by_env] {
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        let envelope = run.envelope();
        let err = envelope.err();
        assert_eq!(err.code, "INVALID_ARGUMENT");
        assert!(err.message.contains("swapped"), "{}", err.message);
        assert_no_leak(&format!("{}{}", run.stdout, run.stderr), &secrets);
    }
    assert!(env.emu.requests().is_empty(), "{:?}", env.emu.requests());
    assert!(env.config_bytes().is_none());
}

#[test]
fn an_oversized_ca_file_is_refused_with_a_clear_error() {
    let env = TestEnv::new();
    let huge = env.home.path().join("huge-ca.pem");
    let file = std::fs::File::create(&huge).unwrap();
    // Sparse: takes no disk space, but reads as 5 MiB.
    file.set_len(5 * 1024 * 1024).unwrap();
    let huge = huge.to_str().unwrap();
    let run = add_project(
        &env,
        &[("KBAGENT_CA_FILE", huge)],
        "p",
        Some(env.emu.url()),
        &env.token(0, "admin"),
    );
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    let envelope = run.envelope();
    assert_eq!(envelope.err().code, "CONFIG_ERROR");
    assert!(
        envelope.err().message.contains("larger than 4 MiB"),
        "{}",
        envelope.err().message
    );
    assert!(env.emu.requests().is_empty());
}

#[test]
fn a_token_glued_to_other_characters_in_an_argument_is_masked() {
    let env = TestEnv::new();
    let secrets = all_secrets(&env);
    let token = env.token(0, "admin");
    for alias in [
        format!("x{token}!"),
        format!("--{token}!"),
        format!("a={token}"),
    ] {
        let run = add_project(&env, &[], &alias, Some(env.emu.url()), &token);
        assert_ne!(run.code, 0, "{alias}: {}", run.stdout);
        assert_no_leak(&format!("{}{}", run.stdout, run.stderr), &secrets);
    }
}

/// A minimal Storage API on 127.0.0.1 whose token list nests a creator's secret, as a
/// misbehaving server or proxy might.
struct EchoingStack {
    port: u16,
    paths: Arc<Mutex<Vec<String>>>,
}

const CREATOR_SECRET: &str = "58-44-NESTEDCREATORSECRETzz0123456789abcdefgh";

fn echoing_answer(path: &str) -> (u16, String) {
    let owner = json!({"id": 58, "name": "Echo"});
    match path {
        "/v2/storage/tokens/verify" => (
            200,
            json!({"id": "44", "description": "master", "isMasterToken": true,
                "canManageTokens": true, "owner": owner, "organization": {"id": 7}})
            .to_string(),
        ),
        "/v2/storage/tokens" => (
            200,
            json!([
                {"id": "44", "description": "master", "isMasterToken": true, "owner": owner},
                {"id": "45", "description": "child", "isMasterToken": false,
                 "creatorToken": {"id": 44, "description": "master", "token": CREATOR_SECRET},
                 "admin": {"id": 1, "name": "A", "token": CREATOR_SECRET},
                 "owner": owner}
            ])
            .to_string(),
        ),
        _ => (
            404,
            json!({"error": "not here", "code": "notFound"}).to_string(),
        ),
    }
}

impl EchoingStack {
    fn start() -> EchoingStack {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&paths);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                thread::spawn(move || serve(stream, &seen));
            }
        });
        EchoingStack { port, paths }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = target.split('?').next().unwrap_or("").to_owned();
        seen.lock().unwrap().push(path.clone());
        let (status, body) = echoing_answer(&path);
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

#[test]
fn a_nested_token_secret_from_the_server_is_never_printed() {
    let env = TestEnv::new();
    let stack = EchoingStack::start();
    let token = "58-44-OURMASTERSECRETzzzz0123456789abcdefghij";
    let (added, code) = env.json_stdin(
        &[
            "project",
            "add",
            "--project",
            "echo",
            "--url",
            &stack.url(),
            "--token-stdin",
        ],
        token,
    );
    assert_eq!(code, 0, "{added:?}");
    let secrets = vec![token.to_owned(), CREATOR_SECRET.to_owned()];
    let json_run = env.run(&["--json", "token", "list", "--project", "echo"]);
    assert_eq!(json_run.code, 0, "{}{}", json_run.stdout, json_run.stderr);
    let envelope = json_run.envelope();
    let tokens = envelope.data()["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens[1]["creatorToken"],
        json!({"id": 44, "description": "master"})
    );
    let human = env.run(&["token", "list", "--project", "echo"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    for out in [&json_run, &human] {
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains("NESTEDCREATORSECRET"), "{all}");
        assert_no_leak(&all, &secrets);
    }
    assert!(
        stack
            .paths
            .lock()
            .unwrap()
            .contains(&"/v2/storage/tokens".to_owned())
    );
}
