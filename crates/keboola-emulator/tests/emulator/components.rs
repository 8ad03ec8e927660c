//! Index, components and configurations, dev branches, events.

use serde_json::{Value, json};

use crate::common::{Client, assert_storage_error, start};

#[test]
fn index_needs_no_token_and_points_at_the_emulator() {
    let emu = start();
    let c = Client::new(&emu);
    let v = c.get_anon("/v2/storage").json();
    assert_eq!(v["api"], "storage");
    assert_eq!(v["version"], "v2");
    assert!(v["revision"].is_string());
    assert!(v["stack"].is_string());
    assert!(v["features"].is_array());
    assert!(v["urlTemplates"]["orchestrationJob"].is_string());
    let services = v["services"].as_array().unwrap();
    let url = |id: &str| {
        services
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["url"].as_str().unwrap().to_owned())
    };
    assert_eq!(url("manage").as_deref(), Some(emu.url()));
    for id in [
        "encryption",
        "oauth",
        "queue",
        "scheduler",
        "sync-actions",
        "query",
    ] {
        assert_eq!(url(id), Some(format!("{}/{id}", emu.url())), "{id}");
    }
    let components = v["components"].as_array().unwrap();
    assert!(
        components
            .iter()
            .any(|c| c["id"] == "keboola.ex-google-drive")
    );
    let v = c.get_anon("/v2/storage?exclude=components").json();
    assert!(v.get("components").is_none());
    assert!(v["services"].is_array());
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

#[test]
fn master_lists_components_with_configurations() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let list = c
        .get(
            "/v2/storage/branch/default/components?include=configuration,rows",
            &p.tokens.admin,
        )
        .json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in [
        "keboola.ex-db-snowflake",
        "keboola.ex-google-drive",
        "keboola.snowflake-transformation",
        "keboola.flow",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // Components without configurations are not listed.
    assert!(!ids.contains(&"keboola.ex-http"));

    let db = find(&list, "id", "keboola.ex-db-snowflake");
    assert_eq!(db["type"], "extractor");
    let config = &db["configurations"][0];
    assert!(config["id"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(config["rows"].as_array().unwrap().len(), 2);
    let password = config["configuration"]["parameters"]["db"]["#password"]
        .as_str()
        .unwrap();
    assert!(password.starts_with("KBC::ProjectSecure::"), "{password}");
    assert!(config["creatorToken"]["id"].is_u64());

    let drive = find(&list, "id", "keboola.ex-google-drive");
    assert!(
        drive["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "genericDockerUI-authorization")
    );
    let drive_config = &drive["configurations"][0];
    assert_eq!(drive_config["id"], p.oauth_config.config_id.as_str());
    assert!(drive_config["configuration"].get("authorization").is_none());
    assert!(!drive_config["rows"].as_array().unwrap().is_empty());

    // Without include, no configuration bodies.
    let bare = c.get("/v2/storage/components", &p.tokens.admin).json();
    assert!(
        find(&bare, "id", "keboola.flow")["configurations"][0]
            .get("configuration")
            .is_none()
    );

    let extractors = c
        .get(
            "/v2/storage/components?componentType=extractor",
            &p.tokens.admin,
        )
        .json();
    assert!(
        extractors
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] == "extractor")
    );
    assert_eq!(extractors.as_array().unwrap().len(), 2);
}

#[test]
fn component_access_is_enforced() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    // The UI token has canManageBuckets ("full access"): every component is reachable.
    let ui_list = c
        .get(
            "/v2/storage/branch/default/components?include=configuration",
            &p.tokens.storage,
        )
        .json();
    assert!(ui_list.as_array().unwrap().len() >= 4);
    // A token with neither canManageBuckets nor componentAccess reaches none.
    let bare = c.mint(&p.tokens.admin, &json!({}));
    let ui = bare["token"].as_str().unwrap();
    let denied = |resp| {
        assert_storage_error(
            &resp,
            403,
            "You don't have access to the resource.",
            "accessDenied",
        );
    };
    denied(c.get(
        "/v2/storage/branch/default/components?include=configuration",
        ui,
    ));
    denied(c.get("/v2/storage/components/keboola.ex-db-snowflake/configs", ui));
    denied(c.get(
        &format!(
            "/v2/storage/components/keboola.ex-google-drive/configs/{}",
            p.oauth_config.config_id
        ),
        ui,
    ));

    let child = c.mint(
        &p.tokens.admin,
        &json!({"componentAccess": ["keboola.ex-db-snowflake"]}),
    );
    let token = child["token"].as_str().unwrap();
    let list = c
        .get("/v2/storage/components?include=configuration", token)
        .json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["keboola.ex-db-snowflake"]);
    let configs = c
        .get(
            "/v2/storage/components/keboola.ex-db-snowflake/configs",
            token,
        )
        .json();
    let id = configs[0]["id"].as_str().unwrap();
    assert_eq!(
        c.get(
            &format!("/v2/storage/components/keboola.ex-db-snowflake/configs/{id}"),
            token
        )
        .status,
        200
    );
    denied(c.get(
        &format!(
            "/v2/storage/components/keboola.ex-google-drive/configs/{}",
            p.oauth_config.config_id
        ),
        token,
    ));
}

#[test]
fn configuration_detail_and_update() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let admin = &p.tokens.admin;
    let path = format!(
        "/v2/storage/components/keboola.ex-google-drive/configs/{}",
        p.oauth_config.config_id
    );
    let detail = c.get(&path, admin).json();
    assert_eq!(detail["version"], 1);
    assert!(detail["currentVersion"]["creatorToken"]["id"].is_u64());

    let resp = c.get(
        "/v2/storage/components/keboola.ex-google-drive/configs/999999",
        admin,
    );
    assert_storage_error(
        &resp,
        404,
        "Configuration 999999 not found",
        "storage.configuration.notFound",
    );

    let resp = c.send_form(
        "PUT",
        &path,
        admin,
        "name=Renamed&changeDescription=rename&configuration=%7B%22parameters%22%3A%7B%22outputBucket%22%3A%22in.c-new%22%7D%7D",
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["name"], "Renamed");
    assert_eq!(body["version"], 2);
    assert_eq!(body["changeDescription"], "rename");
    assert_eq!(
        body["configuration"]["parameters"]["outputBucket"],
        "in.c-new"
    );

    let resp = c.send_json(
        "PUT",
        &path,
        admin,
        &json!({"description": "json update", "configuration": {"parameters": {}}}),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(c.get(&path, admin).json()["version"], 3);
    assert_eq!(c.get(&path, admin).json()["description"], "json update");

    let resp = c.send_json("PUT", &path, &p.tokens.read_only, &json!({"name": "x"}));
    assert_eq!(resp.status, 403);
    let resp = c.send_form("PUT", &path, admin, "configuration=not-json");
    assert_eq!(resp.status, 400);
}

#[test]
fn dev_branches() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.storage;
    let branches = c.get("/v2/storage/dev-branches", token).json();
    let branches = branches.as_array().unwrap();
    assert_eq!(branches.len(), 2);
    let main = branches.iter().find(|b| b["isDefault"] == true).unwrap();
    assert_eq!(main["name"], "Main");
    assert_eq!(main["creatorToken"], json!([]));
    assert!(main["id"].is_u64());
    let dev = branches.iter().find(|b| b["isDefault"] == false).unwrap();
    assert!(dev["creatorToken"]["id"].is_u64());
    let dev_id = dev["id"].as_u64().unwrap();

    let admin = &emu.projects()[0].tokens.admin;
    let list = c
        .get(
            &format!("/v2/storage/branch/{dev_id}/components?include=configuration"),
            admin,
        )
        .json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["keboola.snowflake-transformation"]);
    let main_list = c
        .get(
            &format!("/v2/storage/branch/{}/components", main["id"]),
            admin,
        )
        .json();
    assert_eq!(main_list.as_array().unwrap().len(), 4);

    let resp = c.get("/v2/storage/branch/424242/components", admin);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"], "Branch id:\"424242\" was not found.");
    // Another project's branch is unknown here.
    let other = c
        .get("/v2/storage/dev-branches", &emu.projects()[1].tokens.admin)
        .json();
    let other_id = other[0]["id"].as_u64().unwrap();
    assert_eq!(
        c.get(&format!("/v2/storage/branch/{other_id}/components"), admin)
            .status,
        404
    );
}

#[test]
fn events() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.storage;
    let resp = c.post_json(
        "/v2/storage/events",
        token,
        &json!({"message": "hello", "component": "kbagent", "type": "info"}),
    );
    assert_eq!(resp.status, 201);
    let first = resp.json()["id"].as_str().unwrap().parse::<u64>().unwrap();
    let resp = c.send_form(
        "POST",
        "/v2/storage/events",
        token,
        "message=again&component=kbagent",
    );
    let second = resp.json()["id"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(second > first);
    assert_eq!(
        c.request("POST", "/v2/storage/events", &[], None).status,
        401
    );
}

#[test]
fn unknown_routes_are_json_404() {
    let emu = start();
    let c = Client::new(&emu);
    let resp = c.get("/v2/storage/nothing-here", &emu.projects()[0].tokens.admin);
    assert_eq!(resp.status, 404);
    assert!(resp.json()["error"].is_string());
    assert_eq!(c.get_anon("/nope").status, 404);
}
