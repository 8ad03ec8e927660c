//! Configuration metadata and the search over it (the UI's folders).

use serde_json::{Value, json};

use crate::common::{Client, assert_storage_error, start};

const FOLDER: &str = "KBC.configuration.folderName";

fn search(c: &Client, token: &str, branch: &str, query: &str) -> Value {
    let r = c.get(
        &format!("/v2/storage/branch/{branch}/search/component-configurations{query}"),
        token,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// `(component, config, folder)` of every search hit that carries metadata.
fn folders(hits: &Value) -> Vec<(String, String, String)> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let folder = h["metadata"]
                .as_array()
                .and_then(|m| m.iter().find(|e| e["key"] == FOLDER))
                .map(|e| e["value"].as_str().unwrap().to_owned())
                .unwrap_or_default();
            (
                h["idComponent"].as_str().unwrap().to_owned(),
                h["configurationId"].as_str().unwrap().to_owned(),
                folder,
            )
        })
        .collect()
}

#[test]
fn seeded_folders_are_found_and_written_per_branch() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let admin = &p.tokens.admin;
    let drive = &p.oauth_config.config_id;
    let query = format!("?metadataKeys[]={FOLDER}&include=filteredMetadata");
    let hits = folders(&search(&c, admin, "default", &query));
    assert!(
        hits.contains(&(
            "keboola.ex-google-drive".into(),
            drive.clone(),
            "Sources".into()
        )),
        "{hits:?}"
    );
    // The flow has no folder, so it is not a hit.
    assert!(hits.iter().all(|h| h.0 != "keboola.flow"), "{hits:?}");
    // Without include=filteredMetadata the hits carry no metadata.
    let bare = search(&c, admin, "default", &format!("?metadataKeys[]={FOLDER}"));
    assert!(bare[0].get("metadata").is_none(), "{bare}");
    // Another key matches nothing.
    let none = search(
        &c,
        admin,
        "default",
        "?metadataKeys[]=KBC.other&include=filteredMetadata",
    );
    assert_eq!(none, json!([]));

    // Writing a folder: 201 with the configuration's entries; read back and searched.
    let path = format!(
        "/v2/storage/branch/default/components/keboola.ex-google-drive/configs/{drive}/metadata"
    );
    let r = c.post_json(
        &path,
        admin,
        &json!({"metadata": [{"key": FOLDER, "value": "Budgets"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let entries = r.json();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["value"], "Budgets");
    assert!(entries[0]["id"].is_string() && entries[0]["timestamp"].is_string());
    let listed = c
        .get(
            &format!("/v2/storage/components/keboola.ex-google-drive/configs/{drive}/metadata"),
            admin,
        )
        .json();
    assert_eq!(listed, entries);
    let hits = folders(&search(&c, admin, "default", &query));
    assert!(hits.contains(&(
        "keboola.ex-google-drive".into(),
        drive.clone(),
        "Budgets".into()
    )));

    // Form bodies work as well (PHP's metadata[0][key]=...).
    let r = c.send_form(
        "POST",
        &path,
        admin,
        &format!("metadata%5B0%5D%5Bkey%5D={FOLDER}&metadata%5B0%5D%5Bvalue%5D=Forms"),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()[0]["value"], "Forms");

    // Another branch has its own metadata.
    let branches = c.get("/v2/storage/dev-branches", admin).json();
    let dev = branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] == false)
        .unwrap()["id"]
        .to_string();
    let dev_hits = folders(&search(&c, admin, &dev, &query));
    assert!(dev_hits.iter().all(|h| h.2 != "Forms"), "{dev_hits:?}");
}

#[test]
fn configuration_metadata_is_guarded() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let drive = &p.oauth_config.config_id;
    let path = format!("/v2/storage/components/keboola.ex-google-drive/configs/{drive}/metadata");
    let body = json!({"metadata": [{"key": FOLDER, "value": "x"}]});
    let r = c.post_json(&path, &p.tokens.read_only, &body);
    assert_eq!(r.status, 403, "{}", r.text);
    let r = c.get(
        "/v2/storage/components/keboola.ex-google-drive/configs/999999/metadata",
        &p.tokens.admin,
    );
    assert_storage_error(
        &r,
        404,
        "Configuration 999999 not found",
        "storage.configuration.notFound",
    );
    let r = c.post_json(
        &path,
        &p.tokens.admin,
        &json!({"metadata": [{"key": "bad key", "value": "x"}]}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    // Another project's configurations are not searched.
    let other = &emu.projects()[1];
    let hits = folders(&search(
        &c,
        &other.tokens.admin,
        "default",
        &format!("?metadataKeys[]={FOLDER}&include=filteredMetadata"),
    ));
    assert!(hits.iter().all(|h| h.1 != *drive), "{hits:?}");
}
