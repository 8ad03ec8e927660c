//! Storage API token endpoints and the authorization matrix.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Client, assert_storage_error, start};

fn is_token_string(token: &str, project_id: u64, token_id: &str) -> bool {
    let prefix = format!("{project_id}-{token_id}-");
    token
        .strip_prefix(&prefix)
        .is_some_and(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[test]
fn verify_without_token_or_with_unknown_token_is_401() {
    let emu = start();
    let c = Client::new(&emu);
    let resp = c.get_anon("/v2/storage/tokens/verify");
    assert_storage_error(&resp, 401, "Access token must be set", "");

    let bogus = "101-1001-thisisnotarealtokenvalue0000000000000000";
    let resp = c.get("/v2/storage/tokens/verify", bogus);
    assert_storage_error(&resp, 401, "Invalid access token", "storage.tokenInvalid");
    assert!(!resp.text.contains(bogus));
}

#[test]
fn verify_admin_master_token() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let v = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json();
    let id = v["id"].as_str().expect("id is a string");
    assert!(is_token_string(v["token"].as_str().unwrap(), 101, id));
    assert_eq!(v["token"], p.tokens.admin.as_str());
    assert_eq!(v["isMasterToken"], true);
    for flag in [
        "canManageBuckets",
        "canManageTokens",
        "canReadAllFileUploads",
        "canPurgeTrash",
    ] {
        assert_eq!(v[flag], true, "{flag}");
    }
    assert_eq!(v["description"], "ada@example.com");
    assert!(v["admin"]["id"].is_u64());
    assert_eq!(v["admin"]["role"], "admin");
    assert_eq!(v["admin"]["name"], "Ada Admin");
    assert!(v["admin"]["features"].is_array());
    assert!(v["admin"]["isOrganizationMember"].is_boolean());
    assert_eq!(v["adminOwner"]["email"], "ada@example.com");
    assert_eq!(v["organization"]["id"], "1");
    assert_eq!(v["owner"]["id"], 101);
    assert_eq!(v["owner"]["name"], "Sales Analytics");
    assert_eq!(v["owner"]["defaultBackend"], "snowflake");
    assert!(v["owner"]["features"].is_array());
    assert!(v["owner"]["limits"].is_object());
    assert!(v["owner"]["metrics"].is_object());
    assert_eq!(v["owner"]["assignedBackends"], json!(["snowflake"]));
    assert!(v.get("creatorToken").is_none());
    let perms = v["bucketPermissions"].as_object().expect("bucket map");
    assert!(perms.contains_key("in.c-crm"));
    assert!(perms.values().all(|p| p == "manage"));
    // ISO-8601 with a numeric offset and no colon, e.g. 2025-01-01T10:00:00+0100.
    let created = v["created"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.as_bytes()[19] == b'+' || created.as_bytes()[19] == b'-');
    assert_eq!(v["expires"], Value::Null);
    assert_eq!(v["isExpired"], false);
}

#[test]
fn verify_guest_read_only_and_ui_token() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[1];
    let guest = c.get("/v2/storage/tokens/verify", &p.tokens.guest).json();
    assert_eq!(guest["isMasterToken"], true);
    assert_eq!(guest["canManageTokens"], false);
    assert_eq!(guest["canPurgeTrash"], false);
    assert_eq!(guest["canManageBuckets"], true);
    assert_eq!(guest["admin"]["role"], "guest");
    assert_eq!(guest["owner"]["id"], 102);
    assert_eq!(guest["owner"]["name"], "Marketing Sandbox");

    let ro = c
        .get("/v2/storage/tokens/verify", &p.tokens.read_only)
        .json();
    assert_eq!(ro["isMasterToken"], true);
    assert_eq!(ro["canManageBuckets"], false);
    assert_eq!(ro["admin"]["role"], "readOnly");
    assert!(
        ro["bucketPermissions"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p == "read")
    );

    let ui = c.get("/v2/storage/tokens/verify", &p.tokens.storage).json();
    assert_eq!(ui["isMasterToken"], false);
    assert_eq!(ui["canManageBuckets"], true);
    assert_eq!(ui["canReadAllFileUploads"], true);
    assert_eq!(ui["canManageTokens"], false);
    assert!(ui.get("admin").is_none());
    assert!(ui.get("adminOwner").is_none());
    assert!(ui.get("componentAccess").is_none());
    assert_eq!(ui["expires"], Value::Null);
    let admin_id: u64 = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ui["creatorToken"]["id"], admin_id);
    assert!(ui["creatorToken"]["id"].is_u64());
}

#[test]
fn branch_verify_is_byte_identical() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.storage;
    let plain = c.get("/v2/storage/tokens/verify", token).text;
    assert_eq!(
        c.get("/v2/storage/branch/default/tokens/verify", token)
            .text,
        plain
    );
    let branches = c
        .get("/v2/storage/dev-branches", &emu.projects()[0].tokens.admin)
        .json();
    for b in branches.as_array().unwrap() {
        let id = b["id"].as_u64().unwrap();
        assert_eq!(
            c.get(&format!("/v2/storage/branch/{id}/tokens/verify"), token)
                .text,
            plain
        );
    }
    let resp = c.get("/v2/storage/branch/999999/tokens/verify", token);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"], "Branch id:\"999999\" was not found.");
}

#[test]
fn admin_master_creates_default_token() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let before = emu.token_count(101);
    let t = c.mint(&p.tokens.admin, &json!({}));
    assert_eq!(emu.token_count(101), before + 1);
    assert_eq!(t["description"], "Created by ada@example.com");
    assert_eq!(t["expires"], Value::Null);
    assert_eq!(t["isMasterToken"], false);
    for flag in [
        "canManageBuckets",
        "canManageTokens",
        "canReadAllFileUploads",
        "canPurgeTrash",
    ] {
        assert_eq!(t[flag], false, "{flag}");
    }
    assert_eq!(t["bucketPermissions"], json!([]));
    assert!(t.get("componentAccess").is_none());
    assert!(t.get("admin").is_none());
    let id = t["id"].as_str().unwrap();
    assert!(is_token_string(t["token"].as_str().unwrap(), 101, id));
    let admin_id: u64 = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(t["creatorToken"]["id"], admin_id);
    assert_eq!(t["creatorToken"]["description"], "ada@example.com");
    // The new token works.
    let v = c
        .get("/v2/storage/tokens/verify", t["token"].as_str().unwrap())
        .json();
    assert_eq!(v["id"], id);
}

#[test]
fn admin_master_grants_requested_privileges_but_never_manage_tokens() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let t = c.mint(
        admin,
        &json!({"description": "etl", "canManageBuckets": true, "canReadAllFileUploads": true, "canPurgeTrash": true,
                "expiresIn": 360, "componentAccess": ["keboola.ex-db-snowflake"], "canManageTokens": true}),
    );
    assert_eq!(t["description"], "etl");
    assert_eq!(t["canManageBuckets"], true);
    assert_eq!(t["canReadAllFileUploads"], true);
    assert_eq!(t["canPurgeTrash"], true);
    assert_eq!(t["canManageTokens"], false);
    assert_eq!(t["isMasterToken"], false);
    assert!(t["expires"].is_string());
    assert_eq!(t["componentAccess"], json!(["keboola.ex-db-snowflake"]));
    assert!(
        t["bucketPermissions"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p == "manage")
    );
}

#[test]
fn form_encoded_create_is_understood() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let resp = c.send_form(
        "POST",
        "/v2/storage/tokens",
        admin,
        "description=form+token&bucketPermissions%5Bin.c-crm%5D=read&bucketPermissions[out.c-reports]=write\
         &componentAccess[]=keboola.ex-db-snowflake&componentAccess[]=keboola.flow&canReadAllFileUploads=1\
         &canPurgeTrash=false&canManageTokens=1&expiresIn=3600",
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let t = resp.json();
    assert_eq!(t["description"], "form token");
    assert_eq!(
        t["bucketPermissions"],
        json!({"in.c-crm": "read", "out.c-reports": "write"})
    );
    assert_eq!(
        t["componentAccess"],
        json!(["keboola.ex-db-snowflake", "keboola.flow"])
    );
    assert_eq!(t["canReadAllFileUploads"], true);
    assert_eq!(t["canPurgeTrash"], false);
    assert_eq!(t["canManageTokens"], false);
    assert!(t["expires"].is_string());
}

#[test]
fn guest_master_gets_a_minimal_token() {
    let emu = start();
    let c = Client::new(&emu);
    let guest = &emu.projects()[0].tokens.guest;
    let t = c.mint(
        guest,
        &json!({"description": "guest child", "canManageBuckets": true, "canReadAllFileUploads": true, "canPurgeTrash": true,
                "expiresIn": 600, "componentAccess": ["keboola.flow"], "bucketPermissions": {"in.c-crm": "read"}}),
    );
    assert_eq!(t["description"], "guest child");
    assert!(t["expires"].is_string());
    assert_eq!(t["canManageBuckets"], false);
    assert_eq!(t["canReadAllFileUploads"], false);
    assert_eq!(t["canPurgeTrash"], false);
    assert_eq!(t["bucketPermissions"], json!([]));
    assert!(t.get("componentAccess").is_none());
    assert_eq!(t["isMasterToken"], false);
}

#[test]
fn read_only_master_and_plain_token_cannot_create() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let before = emu.token_count(101);
    let resp = c.post_json(
        "/v2/storage/tokens",
        &p.tokens.read_only,
        &json!({"description": "x"}),
    );
    assert_storage_error(
        &resp,
        403,
        "You don't have access to the resource.",
        "accessDenied",
    );
    let resp = c.post_json(
        "/v2/storage/tokens",
        &p.tokens.storage,
        &json!({"description": "x"}),
    );
    assert_storage_error(
        &resp,
        403,
        "You don't have access to the resource.",
        "accessDenied",
    );
    assert_eq!(emu.token_count(101), before);
}

#[test]
fn non_master_with_manage_tokens_gets_500_and_leaves_an_orphan() {
    let emu = start();
    let c = Client::new(&emu);
    let resp = c.manage_post(
        "/manage/projects/101/tokens",
        emu.manage_token(),
        r#"{"description":"automation","canManageTokens":true,"canManageBuckets":true}"#,
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let minted = resp.json()["token"].as_str().unwrap().to_owned();
    let before = emu.token_count(101);
    let resp = c.post_json(
        "/v2/storage/tokens",
        &minted,
        &json!({"description": "child"}),
    );
    assert_storage_error(&resp, 500, "Application error.", "APPLICATION_ERROR");
    assert_eq!(
        emu.token_count(101),
        before + 1,
        "the child row is persisted despite the 500"
    );
    // Such a token can still list, refresh and delete.
    let list = c.get("/v2/storage/tokens", &minted).json();
    assert!(list.as_array().unwrap().len() > 1);
}

#[test]
fn create_validation_errors() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let before = emu.token_count(101);
    let resp = c.post_json(
        "/v2/storage/tokens",
        admin,
        &json!({"bucketPermissions": {"in.c-crm": "manage"}}),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["code"], "storage.tokens.invalidPermissions");
    let resp = c.post_json(
        "/v2/storage/tokens",
        admin,
        &json!({"bucketPermissions": {"in.c-nope": "read"}}),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["code"], "storage.tokens.invalidPermissions");
    let resp = c.post_json("/v2/storage/tokens", admin, &json!({"expiresIn": 0}));
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.json()["error"],
        "Minimal expiration must be greater or equal to 1 second(s)"
    );
    // The guest's parameters are dropped, but the expiry is still validated.
    let resp = c.send_form(
        "POST",
        "/v2/storage/tokens",
        &emu.projects()[0].tokens.guest,
        "expiresIn=0",
    );
    assert_eq!(resp.status, 400);
    assert_eq!(emu.token_count(101), before);
}

#[test]
fn listing_tokens() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let all = c.get("/v2/storage/tokens", &p.tokens.admin).json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), emu.token_count(101));
    assert!(all.iter().all(|t| t.get("token").is_none()));
    let master = all.iter().find(|t| t["isMasterToken"] == true).unwrap();
    let admin_keys: Vec<&String> = master["admin"].as_object().unwrap().keys().collect();
    assert_eq!(admin_keys, ["id", "name", "role"]);

    for own in [&p.tokens.storage, &p.tokens.guest, &p.tokens.read_only] {
        let me = c.get("/v2/storage/tokens/verify", own).json();
        let list = c.get("/v2/storage/tokens", own).json();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["id"], me["id"]);
    }
}

#[test]
fn token_detail_rules() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let me = c.get("/v2/storage/tokens/verify", &p.tokens.storage).json();
    let my_id = me["id"].as_str().unwrap();
    let resp = c.get(&format!("/v2/storage/tokens/{my_id}"), &p.tokens.storage);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["id"], my_id);

    let admin_id = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = c.get(&format!("/v2/storage/tokens/{admin_id}"), &p.tokens.storage);
    assert_storage_error(
        &resp,
        403,
        "You don't have access to the resource.",
        "accessDenied",
    );
    let resp = c.get(&format!("/v2/storage/tokens/{my_id}"), &p.tokens.admin);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["adminOwner"]["id"], 1);

    let resp = c.get("/v2/storage/tokens/foo", &p.tokens.admin);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"], "resource not found");
    let resp = c.get("/v2/storage/tokens/987654", &p.tokens.admin);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["code"], "storage.tokens.notFound");
    // Tokens of another project are not visible either.
    let other = c
        .get(
            "/v2/storage/tokens/verify",
            &emu.projects()[1].tokens.storage,
        )
        .json();
    let resp = c.get(
        &format!("/v2/storage/tokens/{}", other["id"].as_str().unwrap()),
        &p.tokens.admin,
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn refresh_rules() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let old = p.tokens.storage.clone();
    let me = c.get("/v2/storage/tokens/verify", &old).json();
    let id = me["id"].as_str().unwrap();

    let admin_id = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = c.request(
        "POST",
        &format!("/v2/storage/tokens/{admin_id}/refresh"),
        &[("X-StorageApi-Token", &old)],
        None,
    );
    assert_eq!(resp.status, 403);

    let resp = c.request(
        "POST",
        &format!("/v2/storage/tokens/{id}/refresh"),
        &[("X-StorageApi-Token", &old)],
        None,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let refreshed = resp.json();
    assert_eq!(refreshed["id"], id);
    let new = refreshed["token"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(is_token_string(new, 101, id));
    assert!(refreshed["refreshed"].as_str().unwrap() > me["refreshed"].as_str().unwrap());
    assert_storage_error(
        &c.get("/v2/storage/tokens/verify", &old),
        401,
        "Invalid access token",
        "storage.tokenInvalid",
    );
    assert_eq!(c.get("/v2/storage/tokens/verify", new).status, 200);

    // An admin refreshes another (non-master) token.
    let resp = c.request(
        "POST",
        &format!("/v2/storage/tokens/{id}/refresh"),
        &[("X-StorageApi-Token", &p.tokens.admin)],
        None,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(c.get("/v2/storage/tokens/verify", new).status, 401);

    let resp = c.request(
        "POST",
        "/v2/storage/tokens/987654/refresh",
        &[("X-StorageApi-Token", &p.tokens.admin)],
        None,
    );
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["code"], "storage.tokens.notFound");
}

#[test]
fn delete_rules() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let a = c.mint(&p.tokens.admin, &json!({"description": "a"}));
    let b = c.mint(&p.tokens.admin, &json!({"description": "b"}));
    let (a_id, a_token) = (a["id"].as_str().unwrap(), a["token"].as_str().unwrap());
    let (b_id, b_token) = (b["id"].as_str().unwrap(), b["token"].as_str().unwrap());

    // Without canManageTokens, another token cannot be deleted.
    assert_eq!(
        c.delete(&format!("/v2/storage/tokens/{b_id}"), a_token)
            .status,
        403
    );
    // But a token may delete itself.
    assert_eq!(
        c.delete(&format!("/v2/storage/tokens/{a_id}"), a_token)
            .status,
        204
    );
    assert_eq!(c.get("/v2/storage/tokens/verify", a_token).status, 401);
    // The admin deletes another token; it stops working at once.
    let before = emu.token_count(101);
    assert_eq!(
        c.delete(&format!("/v2/storage/tokens/{b_id}"), &p.tokens.admin)
            .status,
        204
    );
    assert_eq!(emu.token_count(101), before - 1);
    assert_storage_error(
        &c.get("/v2/storage/tokens/verify", b_token),
        401,
        "Invalid access token",
        "storage.tokenInvalid",
    );

    // Master tokens cannot be deleted, not even by themselves.
    let guest_id = c.get("/v2/storage/tokens/verify", &p.tokens.guest).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = c.delete(&format!("/v2/storage/tokens/{guest_id}"), &p.tokens.admin);
    assert_eq!(resp.status, 400);
    assert!(
        resp.json()["error"]
            .as_str()
            .unwrap()
            .contains("Master token")
    );
    let admin_id = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        c.delete(&format!("/v2/storage/tokens/{admin_id}"), &p.tokens.admin)
            .status,
        400
    );
    assert_eq!(
        c.get("/v2/storage/tokens/verify", &p.tokens.guest).status,
        200
    );
}

#[test]
fn expiry_follows_the_emulator_clock() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let t = c.mint(admin, &json!({"expiresIn": 3600}));
    let token = t["token"].as_str().unwrap();
    let before = emu.token_count(101);
    let v = c.get("/v2/storage/tokens/verify", token).json();
    assert_eq!(v["isExpired"], false);

    emu.advance_clock(Duration::from_secs(3599));
    assert_eq!(c.get("/v2/storage/tokens/verify", token).status, 200);
    emu.advance_clock(Duration::from_secs(2));
    let resp = c.get("/v2/storage/tokens/verify", token);
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["code"], "storage.tokenExpired");
    assert!(!resp.text.contains(token));
    // A master listing sees it as expired during the grace period.
    let list = c.get("/v2/storage/tokens", admin).json();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == t["id"])
        .unwrap()
        .clone();
    assert_eq!(listed["isExpired"], true);

    emu.advance_clock(Duration::from_secs(61));
    assert_storage_error(
        &c.get("/v2/storage/tokens/verify", token),
        401,
        "Invalid access token",
        "storage.tokenInvalid",
    );
    assert_eq!(emu.token_count(101), before - 1);
}

#[test]
fn updating_tokens() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let managing = c.mint(admin, &json!({"canManageBuckets": true}));
    let id = managing["id"].as_str().unwrap();
    let resp = c.send_json(
        "PUT",
        &format!("/v2/storage/tokens/{id}"),
        admin,
        &json!({"bucketPermissions": {"in.c-crm": "read"}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["canManageBuckets"], true);
    assert!(
        body["bucketPermissions"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p == "manage")
    );

    let plain = c.mint(admin, &json!({"bucketPermissions": {"in.c-crm": "read"}}));
    let pid = plain["id"].as_str().unwrap();
    let ptoken = plain["token"].as_str().unwrap();
    let resp = c.send_json(
        "PUT",
        &format!("/v2/storage/tokens/{pid}"),
        admin,
        &json!({"bucketPermissions": {"in.c-crm": "manage"}}),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["code"], "storage.tokens.invalidPermissions");
    let v = c.get("/v2/storage/tokens/verify", ptoken).json();
    assert_eq!(v["bucketPermissions"], json!({"in.c-crm": "read"}));

    // componentAccess takes effect immediately.
    assert_eq!(c.get("/v2/storage/components", ptoken).status, 403);
    let resp = c.send_form(
        "PUT",
        &format!("/v2/storage/tokens/{pid}"),
        admin,
        "componentAccess[]=keboola.flow&description=renamed",
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.json()["description"], "renamed");
    assert_eq!(c.get("/v2/storage/components", ptoken).status, 200);

    // Without canManageTokens nothing can be updated, and master tokens never.
    assert_eq!(
        c.send_json(
            "PUT",
            &format!("/v2/storage/tokens/{pid}"),
            ptoken,
            &json!({"description": "x"})
        )
        .status,
        403
    );
    let guest_id = c
        .get("/v2/storage/tokens/verify", &emu.projects()[0].tokens.guest)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        c.send_json(
            "PUT",
            &format!("/v2/storage/tokens/{guest_id}"),
            admin,
            &json!({"description": "x"})
        )
        .status,
        400
    );
}
