//! Manage API.

use serde_json::json;

use crate::common::{Client, SAPI, start};

#[test]
fn verify_manage_tokens() {
    let emu = start();
    let c = Client::new(&emu);
    let v = c
        .manage_get("/manage/tokens/verify", emu.manage_token())
        .json();
    assert!(v["id"].is_u64());
    assert_eq!(v["type"], "admin");
    assert_eq!(v["isSessionToken"], false);
    assert_eq!(v["scopes"], json!([]));
    assert_eq!(v["user"]["email"], "ada@example.com");
    assert!(v["user"]["id"].is_u64());
    assert!(v["lastUsed"].is_string());
    let outsider = c
        .manage_get("/manage/tokens/verify", emu.outsider_manage_token())
        .json();
    assert_ne!(outsider["user"]["id"], v["user"]["id"]);

    let resp = c.request("GET", "/manage/tokens/verify", &[], None);
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"], "Access token must be set");
    let resp = c.manage_get(
        "/manage/tokens/verify",
        "999-nonexistentmanagetokenvalue00000",
    );
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"], "Invalid access token");
    assert!(!resp.text.contains("nonexistentmanagetokenvalue"));
    // A Storage token is no Manage token.
    assert_eq!(
        c.manage_get("/manage/tokens/verify", &emu.projects()[0].tokens.admin)
            .status,
        401
    );
}

#[test]
fn projects_and_organizations() {
    let emu = start();
    let c = Client::new(&emu);
    let p = c
        .manage_get("/manage/projects/101", emu.manage_token())
        .json();
    assert_eq!(p["id"], 101);
    assert_eq!(p["name"], "Sales Analytics");
    assert_eq!(p["organization"]["id"], 1);
    assert_eq!(p["organization"]["allowAutoJoin"], false);
    assert_eq!(p["defaultBackend"], "snowflake");
    assert!(p["limits"].is_object());

    let resp = c.manage_get("/manage/projects/101", emu.outsider_manage_token());
    assert_eq!(resp.status, 403);
    assert_eq!(resp.json()["error"], "You don't have access to project");
    assert_eq!(
        c.manage_get("/manage/projects/999", emu.manage_token())
            .status,
        404
    );

    let org = c
        .manage_get("/manage/organizations/1", emu.manage_token())
        .json();
    assert_eq!(org["id"], 1);
    assert_eq!(org["name"], "Emulated Organization");
    assert_eq!(org["projects"].as_array().unwrap().len(), 2);
    let list = c
        .manage_get("/manage/organizations/1/projects", emu.manage_token())
        .json();
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [101, 102]);
    assert_eq!(
        c.manage_get("/manage/organizations/1", emu.outsider_manage_token())
            .status,
        403
    );
    assert_eq!(
        c.manage_get("/manage/organizations/7", emu.manage_token())
            .status,
        404
    );
}

#[test]
fn member_mints_storage_token_with_flags_as_given() {
    let emu = start();
    let c = Client::new(&emu);
    let before = emu.token_count(102);
    let resp = c.manage_post(
        "/manage/projects/102/tokens",
        emu.manage_token(),
        r#"{"description":"kbagent","canManageBuckets":true,"canReadAllFileUploads":true,"canPurgeTrash":true,
            "canManageTokens":true,"canReadAllProjectEvents":true,"canManageDevBranches":true,
            "componentAccess":["keboola.flow"],"expiresIn":7200}"#,
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(emu.token_count(102), before + 1);
    let t = resp.json();
    assert_eq!(t["description"], "kbagent");
    assert_eq!(t["canManageTokens"], true);
    assert_eq!(t["canManageBuckets"], true);
    assert_eq!(t["isMasterToken"], false);
    assert!(t.get("admin").is_none());
    assert!(t["expires"].is_string());
    assert_eq!(t["componentAccess"], json!(["keboola.flow"]));
    let token = t["token"].as_str().unwrap();
    assert!(token.starts_with(&format!("102-{}-", t["id"].as_str().unwrap())));
    let v = c.get("/v2/storage/tokens/verify", token).json();
    assert_eq!(v["owner"]["id"], 102);
    assert_eq!(v["canManageTokens"], true);
    assert_eq!(v["isMasterToken"], false);

    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.manage_token(),
        r#"{"description":"reader","bucketPermissions":{"in.c-crm":"read"}}"#,
    );
    assert_eq!(resp.status, 201);
    let t = resp.json();
    assert_eq!(t["bucketPermissions"], json!({"in.c-crm": "read"}));
    assert_eq!(t["canManageTokens"], false);
    assert!(t.get("componentAccess").is_none());
}

#[test]
fn minting_errors() {
    let emu = start();
    let c = Client::new(&emu);
    let before = emu.token_count(101);
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.outsider_manage_token(),
        r#"{"description":"x"}"#,
    );
    assert_eq!(resp.status, 403);
    assert_eq!(resp.json()["error"], "You don't have access to project");
    let resp = c.request(
        "POST",
        "/manage/projects/101/tokens",
        &[],
        Some(("application/json", b"{}".to_vec())),
    );
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"], "Access token must be set");
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        "1-notarealmanagetokenatall0000",
        r#"{"description":"x"}"#,
    );
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"], "Invalid access token");
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.manage_token(),
        r#"{"description": "#,
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["error"], "Request body not valid");
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.manage_token(),
        r#"{"canManageBuckets":true}"#,
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["errors"][0]["key"], "description");
    let resp = c.manage_post(
        "/manage/projects/999/tokens",
        emu.manage_token(),
        r#"{"description":"x"}"#,
    );
    assert_eq!(resp.status, 404);
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.manage_token(),
        r#"{"description":"x","bucketPermissions":{"in.c-crm":"manage"}}"#,
    );
    assert_eq!(resp.status, 400);
    assert_eq!(emu.token_count(101), before);
    // The Storage token header is not accepted by the Manage API.
    let resp = c.request(
        "POST",
        "/manage/projects/101/tokens",
        &[(SAPI, &emu.projects()[0].tokens.admin)],
        Some(("application/json", br#"{"description":"x"}"#.to_vec())),
    );
    assert_eq!(resp.status, 401);
}
