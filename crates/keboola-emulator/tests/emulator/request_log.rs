//! The request log: content, and above all no secrets.

use serde_json::json;

use crate::common::{Client, SAPI, start};

#[test]
fn log_never_contains_a_token() {
    let emu = start();
    let c = Client::new(&emu);
    let mut secrets: Vec<String> = vec![
        emu.manage_token().to_owned(),
        emu.outsider_manage_token().to_owned(),
    ];
    for p in emu.projects() {
        secrets.extend([
            p.tokens.admin.clone(),
            p.tokens.guest.clone(),
            p.tokens.read_only.clone(),
            p.tokens.storage.clone(),
        ]);
    }
    let p = &emu.projects()[0];

    // Exercise many endpoints, including every way a token can travel.
    c.get("/v2/storage/tokens/verify", &p.tokens.admin);
    c.get(
        "/v2/storage/tokens/verify",
        "101-1-thisisnotavalidtokenatall00000000",
    );
    c.get("/v2/storage/tokens", &p.tokens.guest);
    let minted = c.mint(
        &p.tokens.admin,
        &json!({"componentAccess": [p.oauth_config.component_id], "expiresIn": 3600}),
    );
    let minted_token = minted["token"].as_str().unwrap().to_owned();
    secrets.push(minted_token.clone());
    let refreshed = c.request(
        "POST",
        &format!(
            "/v2/storage/tokens/{}/refresh",
            minted["id"].as_str().unwrap()
        ),
        &[(SAPI, &minted_token)],
        None,
    );
    let refreshed_token = refreshed.json()["token"].as_str().unwrap().to_owned();
    secrets.push(refreshed_token.clone());
    c.get(
        "/v2/storage/components?include=configuration,rows",
        &p.tokens.admin,
    );
    c.get(
        &format!("/v2/storage/tokens/verify?token={}", p.tokens.storage),
        &p.tokens.storage,
    );
    c.get_anon(&format!(
        "/oauth/index.html?token={}&sapiUrl={}&returnUrl=http%3A%2F%2Flocalhost%2Fdone",
        refreshed_token,
        emu.url()
    ));
    let body = serde_json::to_vec(&json!({"componentId": p.oauth_config.component_id, "configId": p.oauth_config.config_id, "sapiUrl": emu.url()})).unwrap();
    c.request(
        "POST",
        "/oauth/authorize",
        &[(SAPI, &refreshed_token)],
        Some(("application/json", body)),
    );
    c.manage_get("/manage/tokens/verify", emu.manage_token());
    let manage_minted = c.manage_post(
        "/manage/projects/102/tokens",
        emu.manage_token(),
        r#"{"description":"m"}"#,
    );
    secrets.push(manage_minted.json()["token"].as_str().unwrap().to_owned());
    c.manage_get("/manage/projects/101", emu.outsider_manage_token());
    c.request(
        "POST",
        "/encrypt?componentId=keboola.flow&projectId=101",
        &[],
        Some(("application/json", br##"{"#a":"b"}"##.to_vec())),
    );
    c.get(
        &format!("/v2/storage/tokens/{}", p.tokens.admin),
        &p.tokens.admin,
    );

    let log = emu.requests();
    assert!(log.len() >= 14, "{}", log.len());
    let from_library = serde_json::to_string(&log).unwrap();
    let from_http = c.get_anon("/_emulator/requests").text;
    for text in [&from_library, &from_http, &format!("{log:?}")] {
        for secret in &secrets {
            let tail = &secret[secret.len() - 20..];
            assert!(!text.contains(tail), "a secret leaked into the log: {text}");
        }
    }
    // The masked form keeps the project and the last four characters.
    let wizard = log.iter().find(|r| r.path == "/oauth/index.html").unwrap();
    let tail = &refreshed_token[refreshed_token.len() - 4..];
    assert!(
        wizard.query.contains(&format!("101-...{tail}")),
        "{}",
        wizard.query
    );
    assert!(wizard.query.contains("returnUrl="));
}

#[test]
fn log_records_project_token_and_status() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[1];
    c.get("/v2/storage/tokens/verify", &p.tokens.storage);
    c.manage_get("/manage/projects/102", emu.manage_token());
    c.get_anon("/v2/storage/tokens/verify");
    c.get_anon("/_emulator/requests");
    let log = emu.requests();
    assert_eq!(log.len(), 3, "controls are not logged: {log:?}");
    let id = c.get("/v2/storage/tokens/verify", &p.tokens.storage).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/v2/storage/tokens/verify");
    assert_eq!(log[0].status, 200);
    assert_eq!(log[0].project_id, Some(102));
    assert_eq!(log[0].token_id.as_deref(), Some(id.as_str()));
    assert_eq!(log[1].project_id, Some(102));
    assert_eq!(log[1].token_id, None);
    assert_eq!(log[2].status, 401);
    assert_eq!(log[2].project_id, None);

    let http = c.get_anon("/_emulator/requests").json();
    assert_eq!(http[0]["project_id"], 102);
    assert!(http[0]["duration_ms"].is_u64());
    emu.clear_requests();
    assert!(emu.requests().is_empty());
    c.get("/v2/storage/tokens/verify", &p.tokens.storage);
    assert_eq!(
        c.request("DELETE", "/_emulator/requests", &[], None).status,
        204
    );
    assert!(emu.requests().is_empty());
}

#[test]
fn log_records_the_conversation_id_when_it_is_printable() {
    let emu = start();
    let c = Client::new(&emu);
    let token = emu.projects()[0].tokens.admin.clone();
    let long = "c".repeat(300);
    for id in ["conv-42", long.as_str(), "tab\there"] {
        c.request(
            "GET",
            "/v2/storage/tokens/verify",
            &[(SAPI, &token), ("X-Conversation-ID", id)],
            None,
        );
    }
    c.get("/v2/storage/tokens/verify", &token);
    let ids: Vec<Option<String>> = emu
        .requests()
        .into_iter()
        .map(|r| r.conversation_id)
        .collect();
    assert_eq!(
        ids,
        vec![
            Some("conv-42".to_owned()),
            Some("c".repeat(256)),
            None,
            None
        ]
    );
    let http = c.get_anon("/_emulator/requests").json();
    assert_eq!(http[0]["conversation_id"], "conv-42");
    assert!(http[3]["conversation_id"].is_null());
}
