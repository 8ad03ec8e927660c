//! Global search (only for projects with the `global-search` feature) and component detail.

use serde_json::json;

use crate::common::{Client, assert_storage_error, start};

#[test]
fn global_search_needs_the_feature_and_matches_names() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let path = format!(
        "/v2/storage/global-search?query=ORDERS&projectIds[]={}",
        p.id
    );
    // Off by default, as the feature is rolled out per project.
    assert_eq!(c.get(&path, &p.tokens.admin).status, 404);
    let verify = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json();
    assert!(
        !verify["owner"]["features"]
            .as_array()
            .unwrap()
            .contains(&json!("global-search"))
    );

    // The Manage API turns it on.
    let added = c.manage_post(
        &format!("/manage/projects/{}/features", p.id),
        emu.manage_token(),
        r#"{"feature":"global-search"}"#,
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let verify = c.get("/v2/storage/tokens/verify", &p.tokens.admin).json();
    assert!(
        verify["owner"]["features"]
            .as_array()
            .unwrap()
            .contains(&json!("global-search"))
    );

    let v = c.get(&path, &p.tokens.admin).json();
    let items = v["items"].as_array().unwrap();
    let table = items
        .iter()
        .find(|i| i["id"] == "in.c-crm.orders")
        .expect("the orders table");
    assert_eq!(table["type"], "table");
    assert_eq!(table["projectId"], p.id);
    assert_eq!(table["fullPath"]["bucket"]["id"], "in.c-crm");
    let row = items
        .iter()
        .find(|i| i["type"] == "configuration-row" && i["name"] == "orders")
        .expect("the orders row");
    assert_eq!(row["componentId"], "keboola.ex-db-snowflake");
    assert!(row["fullPath"]["configuration"]["id"].is_string());
    assert_eq!(v["all"], items.len());
    assert_eq!(v["byType"]["total"], items.len());

    // Types filter, limit and a missing query.
    let only = c
        .get(&format!("{path}&types[]=bucket"), &p.tokens.admin)
        .json();
    assert!(
        only["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["type"] == "bucket")
    );
    let flows = c
        .get(
            "/v2/storage/global-search?query=e&types[]=flow",
            &p.tokens.admin,
        )
        .json();
    assert!(!flows["items"].as_array().unwrap().is_empty());
    assert!(
        flows["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["componentId"] == "keboola.flow")
    );
    let one = c.get(&format!("{path}&limit=1"), &p.tokens.admin).json();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    let missing = c.get("/v2/storage/global-search", &p.tokens.admin);
    assert_eq!(missing.status, 400);

    // Other projects keep it off; removing it turns it off again.
    let other = &emu.projects()[1];
    assert_eq!(
        c.get("/v2/storage/global-search?query=x", &other.tokens.admin)
            .status,
        404
    );
    let removed = c.request(
        "DELETE",
        &format!("/manage/projects/{}/features/global-search", p.id),
        &[("X-KBC-ManageApiToken", emu.manage_token())],
        None,
    );
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert_eq!(c.get(&path, &p.tokens.admin).status, 404);
}

#[test]
fn component_detail_has_flags_and_schemas() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let v = c
        .get(
            "/v2/storage/components/keboola.ex-db-pgsql",
            &p.tokens.admin,
        )
        .json();
    assert_eq!(v["type"], "extractor");
    assert_eq!(v["name"], "PostgreSQL");
    assert!(v["configurationSchema"]["properties"]["db"]["properties"]["#password"].is_object());
    assert!(v["configurationRowSchema"]["properties"]["outputTable"].is_object());
    assert!(v["data"]["definition"]["uri"].is_string());
    let drive = c
        .get(
            "/v2/storage/components/keboola.ex-google-drive",
            &p.tokens.admin,
        )
        .json();
    assert!(
        drive["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("genericDockerUI-authorization"))
    );
    let missing = c.get("/v2/storage/components/keboola.nope", &p.tokens.admin);
    assert_storage_error(
        &missing,
        404,
        "Component keboola.nope not found",
        "storage.components.notFound",
    );
    let index = c.get_anon("/v2/storage?exclude=componentDetails").json();
    let list = index["components"].as_array().unwrap();
    assert!(list.len() >= 30, "{}", list.len());
    for kind in [
        "extractor",
        "writer",
        "transformation",
        "application",
        "other",
    ] {
        assert!(list.iter().any(|c| c["type"] == kind), "{kind}");
    }
    assert!(list.iter().all(|c| c.get("configurationSchema").is_none()));
}
