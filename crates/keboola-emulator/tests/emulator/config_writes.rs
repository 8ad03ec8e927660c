//! Configuration writes: create, versions, rollback, copy, trash and restore, rows, state.

use serde_json::{Value, json};

use crate::common::{Client, assert_storage_error, start};

const C: &str = "keboola.ex-db-snowflake";

fn base(id: &str) -> String {
    format!("/v2/storage/branch/default/components/{C}/configs/{id}")
}

fn create(c: &Client, token: &str, form: &str) -> Value {
    let r = c.send_form(
        "POST",
        &format!("/v2/storage/branch/default/components/{C}/configs"),
        token,
        form,
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

#[test]
fn every_write_is_a_version_and_versions_roll_back_and_copy() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let made = create(
        &c,
        admin,
        "name=One&configuration=%7B%22parameters%22%3A%7B%22a%22%3A1%7D%7D",
    );
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["version"], 1);
    assert_eq!(made["configuration"], json!({"parameters": {"a": 1}}));

    // Form update with a change description: v2. The same update again: still v2.
    let form = "configuration=%7B%22parameters%22%3A%7B%22a%22%3A2%7D%7D&changeDescription=set+a";
    let r = c.send_form("PUT", &base(&id), admin, form);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["version"], 2);
    assert_eq!(
        c.send_form("PUT", &base(&id), admin, form).json()["version"],
        2
    );

    // A row bumps the configuration; state does not.
    let r = c.send_form(
        "POST",
        &format!("{}/rows", base(&id)),
        admin,
        "name=r1&configuration=%7B%7D",
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let row_id = r.json()["id"].as_str().unwrap().to_owned();
    let r = c.send_json(
        "PUT",
        &format!("{}/state", base(&id)),
        admin,
        &json!({"state": {"k": 1}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let now = c.get(&base(&id), admin).json();
    assert_eq!(now["version"], 3);
    assert_eq!(now["state"], json!({"k": 1}));
    assert_eq!(now["rowsSortOrder"], json!([row_id]));

    let versions = c.get(&format!("{}/versions", base(&id)), admin).json();
    let numbers: Vec<u64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(versions[1]["changeDescription"], "set a");
    let v1 = c.get(&format!("{}/versions/1", base(&id)), admin).json();
    assert_eq!(v1["configuration"], json!({"parameters": {"a": 1}}));
    assert_eq!(v1["rows"], json!([]));
    assert!(v1.get("state").is_none());
    let missing = c.get(&format!("{}/versions/99", base(&id)), admin);
    assert_eq!(missing.status, 404);

    // Rollback to v1: v4 with v1's body and rows, the state kept.
    let r = c.send_form(
        "POST",
        &format!("{}/versions/1/rollback", base(&id)),
        admin,
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let rolled = c.get(&base(&id), admin).json();
    assert_eq!(rolled["version"], 4);
    assert_eq!(rolled["configuration"], json!({"parameters": {"a": 1}}));
    assert_eq!(rolled["rows"], json!([]));
    assert_eq!(rolled["state"], json!({"k": 1}));

    // A copy of v3: a new configuration with the row and no state.
    let r = c.send_form(
        "POST",
        &format!("{}/versions/3/create", base(&id)),
        admin,
        "name=Copy",
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let copy = r.json();
    assert_ne!(copy["id"], json!(id));
    assert_eq!(copy["version"], 1);
    assert_eq!(copy["rows"].as_array().unwrap().len(), 1);
    assert_eq!(copy["state"], json!({}));
}

#[test]
fn delete_goes_to_the_trash_restore_brings_it_back_and_a_second_delete_purges() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let id = create(&c, admin, "name=Trash+me")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c.delete(&base(&id), admin);
    assert_eq!(r.status, 204, "{}", r.text);
    assert_storage_error(
        &c.get(&base(&id), admin),
        404,
        &format!("Configuration {id} not found"),
        "storage.configuration.notFound",
    );
    let list = format!("/v2/storage/branch/default/components/{C}/configs");
    assert!(!c.get(&list, admin).text.contains(&format!("\"{id}\"")));
    let trash = c.get(&format!("{list}?isDeleted=1"), admin).json();
    let item = trash
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!(id))
        .expect("in the trash")
        .clone();
    assert_eq!(item["isDeleted"], true);
    assert_eq!(item["version"], 2);
    assert_eq!(item["changeDescription"], "Configuration deleted");

    let r = c.send_form("POST", &format!("{}/restore", base(&id)), admin, "");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["version"], 3);
    assert_eq!(c.get(&base(&id), admin).status, 200);
    // Restoring a live configuration: 404.
    assert_eq!(
        c.send_form("POST", &format!("{}/restore", base(&id)), admin, "")
            .status,
        404
    );

    assert_eq!(c.delete(&base(&id), admin).status, 204);
    assert_eq!(c.delete(&base(&id), admin).status, 204);
    assert!(
        !c.get(&format!("{list}?isDeleted=1"), admin)
            .text
            .contains(&format!("\"{id}\""))
    );
    assert_eq!(c.delete(&base(&id), admin).status, 404);
}

#[test]
fn rows_are_created_updated_and_deleted_with_versions_and_errors() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let id = create(&c, admin, "name=Rows")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rows = format!("{}/rows", base(&id));
    let r = c.send_json(
        "POST",
        &rows,
        admin,
        &json!({"name": "a", "configuration": {"x": 1}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let r = c.send_form(
        "PUT",
        &format!("{rows}/{rid}"),
        admin,
        "configuration=%7B%22x%22%3A2%7D",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["version"], 2);
    assert_eq!(
        c.get(&format!("{rows}/{rid}"), admin).json()["configuration"],
        json!({"x": 2})
    );
    assert_eq!(c.get(&base(&id), admin).json()["version"], 3);
    assert_eq!(c.delete(&format!("{rows}/{rid}"), admin).status, 204);
    assert_eq!(c.get(&base(&id), admin).json()["version"], 4);
    assert_eq!(c.get(&rows, admin).json(), json!([]));
    let gone = c.delete(&format!("{rows}/{rid}"), admin);
    assert_eq!(gone.status, 404, "{}", gone.text);
}

#[test]
fn creation_is_validated() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let path = format!("/v2/storage/branch/default/components/{C}/configs");
    let r = c.send_form("POST", &path, admin, "description=x");
    assert_storage_error(
        &r,
        400,
        "Invalid request: name: This value should not be blank.",
        "storage.components.validation",
    );
    let r = c.send_form("POST", &path, admin, "name=x&configuration=not-json");
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["code"], "validation.invalidConfigurationFormat");
    let r = c.send_form("POST", &path, admin, "name=x&configurationId=fixed-id");
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["id"], "fixed-id");
    let r = c.send_form("POST", &path, admin, "name=y&configurationId=fixed-id");
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["code"], "configurationAlreadyExists");
    // A read-only user cannot create.
    let ro = &emu.projects()[0].tokens.read_only;
    assert_eq!(c.send_form("POST", &path, ro, "name=z").status, 403);
}

#[test]
fn the_components_listing_with_is_deleted_shows_the_trash_of_every_component() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let db = create(&c, admin, "name=Gone+db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drive = "keboola.ex-google-drive";
    let r = c.send_form(
        "POST",
        &format!("/v2/storage/branch/default/components/{drive}/configs"),
        admin,
        "name=Gone+sheet",
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let sheet = r.json()["id"].as_str().unwrap().to_owned();
    let listing = "/v2/storage/branch/default/components?include=configuration&isDeleted=true";
    assert_eq!(
        c.get(listing, admin).json(),
        json!([]),
        "nothing in the trash yet"
    );
    assert_eq!(c.delete(&base(&db), admin).status, 204);
    let path = format!("/v2/storage/branch/default/components/{drive}/configs/{sheet}");
    assert_eq!(c.delete(&path, admin).status, 204);

    let trash = c.get(listing, admin).json();
    let found: Vec<(String, String, bool)> = trash
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|comp| {
            comp["configurations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|cfg| {
                    (
                        comp["id"].as_str().unwrap().to_owned(),
                        cfg["id"].as_str().unwrap().to_owned(),
                        cfg["isDeleted"] == true,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        found,
        [(C.to_owned(), db, true), (drive.to_owned(), sheet, true)]
    );
    // The live listing still shows neither.
    let live = c
        .get(
            "/v2/storage/branch/default/components?include=configuration",
            admin,
        )
        .text;
    assert!(!live.contains("Gone db") && !live.contains("Gone sheet"));
}

#[test]
fn a_row_has_its_own_state_that_no_version_records() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let id = create(&c, admin, "name=Rows")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c.send_form("POST", &format!("{}/rows", base(&id)), admin, "name=r1");
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["state"], json!({}));
    let row_id = r.json()["id"].as_str().unwrap().to_owned();
    let version = c.get(&base(&id), admin).json()["version"].clone();

    let state_path = format!("{}/rows/{row_id}/state", base(&id));
    let r = c.send_json("PUT", &state_path, admin, &json!({"state": {"cursor": 7}}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["id"], row_id.as_str());
    assert_eq!(r.json()["state"], json!({"cursor": 7}));

    let row = c.get(&format!("{}/rows/{row_id}", base(&id)), admin).json();
    assert_eq!(row["state"], json!({"cursor": 7}));
    assert_eq!(row["version"], 1);
    let config = c.get(&base(&id), admin).json();
    assert_eq!(config["version"], version, "state is not a version");
    assert_eq!(config["rows"][0]["state"], json!({"cursor": 7}));
    assert_eq!(config["state"], json!({}), "the configuration's own state");
    let versions = c
        .get(&format!("{}/versions/{version}", base(&id)), admin)
        .json();
    assert_eq!(versions["rows"][0]["state"], json!({}));

    // Refusals: no state, an unknown row.
    let r = c.send_json("PUT", &state_path, admin, &json!({}));
    assert_eq!(r.status, 400, "{}", r.text);
    let r = c.send_json(
        "PUT",
        &format!("{}/rows/999999/state", base(&id)),
        admin,
        &json!({"state": {}}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
}
