//! The `keboola-emulator` binary: ready line, request log on stderr, clean stop.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_keboola-emulator");

fn http_get(url: &str, token: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .get(url)
        .header("X-StorageApi-Token", token)
        .call()
        .unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn ready_line_request_log_and_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--projects", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad ready line ({e}): {line}"));

    let keys: Vec<&str> = ready
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "url",
            "ca_cert",
            "manage_token",
            "organization_id",
            "projects",
            "outsider_manage_token",
            "oauth_wizard_url"
        ]
    );
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(ready["ca_cert"], Value::Null);
    assert_eq!(ready["organization_id"], 1);
    assert_eq!(ready["oauth_wizard_url"], format!("{url}/oauth/index.html"));
    let projects = ready["projects"].as_array().unwrap();
    let names: Vec<&str> = projects
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Sales Analytics", "Marketing Sandbox", "Project 103"]
    );
    let first = &projects[0];
    assert_eq!(first["id"], 101);
    let token_keys: Vec<&str> = first["tokens"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(token_keys, ["admin", "guest", "read_only", "storage"]);
    assert_eq!(
        first["oauth_config"]["component_id"],
        "keboola.ex-google-drive"
    );
    assert!(
        first["oauth_config"]["config_id"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );

    let admin = first["tokens"]["admin"].as_str().unwrap();
    let (status, body) = http_get(
        &format!("{url}/v2/storage/tokens/verify?token={admin}"),
        admin,
    );
    assert_eq!(status, 200);
    assert!(body.contains("\"isMasterToken\":true"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");

    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "nothing but the ready line on stdout");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("GET /v2/storage/tokens/verify"), "{stderr}");
    assert!(stderr.contains("200"));
    assert!(
        !stderr.contains(&admin[admin.len() - 20..]),
        "a token leaked to stderr: {stderr}"
    );
}

#[test]
fn quiet_and_sigint() {
    let mut child = Command::new(BIN)
        .args(["--quiet", "--projects", "1", "--latency-ms", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["projects"].as_array().unwrap().len(), 1);
    let url = ready["url"].as_str().unwrap();
    let (status, _) = http_get(
        &format!("{url}/v2/storage/tokens/verify"),
        ready["projects"][0]["tokens"]["guest"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "");
}

#[test]
fn refuses_non_loopback_without_allow_remote() {
    let out = Command::new(BIN)
        .args(["--host", "0.0.0.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
}

#[test]
fn tls_and_seed_flags() {
    let dir =
        std::env::temp_dir().join(format!("keboola-emulator-bin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        r#"{"random_seed": 9, "projects": [{"id": 101, "name": "Seeded"}]}"#,
    )
    .unwrap();
    let run = || {
        let mut cmd = Command::new(BIN);
        cmd.args(["--quiet", "--projects", "1", "--tls", "--cert-dir"])
            .arg(&dir)
            .arg("--seed")
            .arg(&seed);
        ready_line_then_stop(cmd)
    };
    let a = run();
    let b = run();
    assert!(a["url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(
        a["ca_cert"].as_str().unwrap(),
        dir.join("ca.pem").to_str().unwrap()
    );
    assert_eq!(a["projects"][0]["name"], "Seeded");
    assert_eq!(
        a["projects"], b["projects"],
        "a random_seed makes the secrets reproducible"
    );
    assert_eq!(a["manage_token"], b["manage_token"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostname_flag_names_the_stack_url() {
    let mut cmd = Command::new(BIN);
    cmd.args(["--quiet", "--projects", "1", "--hostname", "keboola.local"]);
    let ready = ready_line_then_stop(cmd);
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("http://connection.keboola.local:"), "{url}");
    assert_eq!(ready["oauth_wizard_url"], format!("{url}/oauth/index.html"));

    let out = Command::new(BIN)
        .args(["--hostname", "http://keboola.local"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid"));
}

/// Starts the binary, reads its ready line, stops it with SIGTERM and checks it exits 0.
fn ready_line_then_stop(mut cmd: Command) -> Value {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad ready line ({e}): {line}"))
}

#[test]
fn file_provider_and_seed_rows_flags() {
    let mut child = Command::new(BIN)
        .args([
            "--quiet",
            "--projects",
            "1",
            "--file-provider",
            "gcp",
            "--seed-rows",
            "25",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    let url = ready["url"].as_str().unwrap();
    let token = ready["projects"][0]["tokens"]["admin"].as_str().unwrap();
    let (status, body) = http_get(&format!("{url}/v2/storage/tables/in.c-crm.orders"), token);
    assert_eq!(status, 200, "{body}");
    let table: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(table["rowsCount"], 25);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(&format!("{url}/v2/storage/files/prepare"))
        .header("X-StorageApi-Token", token)
        .send_form([("name", "x.csv")])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let file: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(file["provider"], "gcp");
    assert!(file["gcsUploadParams"]["access_token"].is_string());
    // SIGTERM, so the emulator removes its temporary file directory on the way out.
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());

    let refused = Command::new(BIN)
        .args(["--file-provider", "dropbox"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("dropbox"));
}
