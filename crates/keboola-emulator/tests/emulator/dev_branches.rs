//! Creating and deleting development branches: async Storage jobs, copy on create, the
//! isolation of a branch's configurations, and the refusals.

use serde_json::{Value, json};

use crate::common::{Client, assert_storage_error, start};
use crate::storage_util::{job_results, wait_job};

fn main_id(c: &Client, token: &str) -> u64 {
    let list = c.get("/v2/storage/dev-branches", token).json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|b| b["isDefault"] == true)
        .and_then(|b| b["id"].as_u64())
        .unwrap()
}

fn configs(c: &Client, token: &str, branch: u64) -> Value {
    let resp = c.get(
        &format!("/v2/storage/branch/{branch}/components?include=configuration"),
        token,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()
}

/// `(component, config id, name)` of every configuration in a components listing.
fn config_keys(list: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for comp in list.as_array().unwrap() {
        for cfg in comp["configurations"].as_array().unwrap() {
            out.push((
                comp["id"].as_str().unwrap().to_owned(),
                cfg["id"].as_str().unwrap().to_owned(),
                cfg["name"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

#[test]
fn create_is_a_job_whose_branch_starts_with_production_configurations() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let main = main_id(&c, admin);
    let before = c.get("/v2/storage/dev-branches", admin).json();

    let resp = c.post_json(
        "/v2/storage/dev-branches",
        admin,
        &json!({"name": "feature-x", "description": "try it"}),
    );
    assert_eq!(resp.status, 202, "{}", resp.text);
    let job = resp.json();
    assert_eq!(job["operationName"], "devBranchCreate");
    assert_eq!(job["operationParams"]["values"]["name"], "feature-x");
    let results = job_results(&c, admin, &resp);
    let id = results["id"].as_u64().expect("the branch id is a number");
    assert_eq!(results["name"], "feature-x");
    assert_eq!(results["description"], "try it");
    assert_eq!(results["isDefault"], false);
    assert!(results["creatorToken"]["id"].is_u64(), "{results}");
    assert!(
        before.as_array().unwrap().iter().all(|b| b["id"] != id),
        "a new id"
    );

    let detail = c.get(&format!("/v2/storage/dev-branches/{id}"), admin);
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json(), results);
    let list = c.get("/v2/storage/dev-branches", admin).json();
    assert_eq!(list.as_array().unwrap().len(), 3);

    // Copy on create: the same configurations, under the same ids.
    let prod = config_keys(&configs(&c, admin, main));
    assert!(!prod.is_empty());
    assert_eq!(config_keys(&configs(&c, admin, id)), prod);
}

#[test]
fn a_change_in_a_branch_stays_in_the_branch() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let main = main_id(&c, admin);
    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "iso"}));
    let dev = job_results(&c, admin, &resp)["id"].as_u64().unwrap();
    let (component, config, name) = config_keys(&configs(&c, admin, main))[0].clone();
    let in_branch = format!("/v2/storage/branch/{dev}/components/{component}/configs/{config}");
    let in_prod = format!("/v2/storage/branch/{main}/components/{component}/configs/{config}");
    let legacy_prod = format!("/v2/storage/components/{component}/configs/{config}");

    let resp = c.send_json("PUT", &in_branch, admin, &json!({"name": "branch only"}));
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(c.get(&in_branch, admin).json()["name"], "branch only");
    assert_eq!(c.get(&in_prod, admin).json()["name"], name);
    assert_eq!(c.get(&legacy_prod, admin).json()["name"], name);

    // And the other way round.
    let resp = c.send_json("PUT", &in_prod, admin, &json!({"description": "prod only"}));
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(c.get(&in_branch, admin).json()["name"], "branch only");
    assert_ne!(c.get(&in_branch, admin).json()["description"], "prod only");
}

#[test]
fn delete_is_a_job_and_takes_the_branch_configurations_with_it() {
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let main = main_id(&c, admin);
    let prod_before = configs(&c, admin, main);
    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "gone"}));
    let dev = job_results(&c, admin, &resp)["id"].as_u64().unwrap();

    let resp = c.delete(&format!("/v2/storage/dev-branches/{dev}"), admin);
    assert_eq!(resp.status, 202, "{}", resp.text);
    assert_eq!(resp.json()["operationName"], "devBranchDelete");
    assert_eq!(resp.json()["operationParams"]["values"]["id"], dev);
    job_results(&c, admin, &resp);

    let detail = c.get(&format!("/v2/storage/dev-branches/{dev}"), admin);
    assert_storage_error(
        &detail,
        404,
        &format!("Branch id:\"{dev}\" was not found."),
        "storage.devBranches.notFound",
    );
    assert_eq!(
        c.get(&format!("/v2/storage/branch/{dev}/components"), admin)
            .status,
        404
    );
    assert_eq!(
        configs(&c, admin, main),
        prod_before,
        "production is untouched"
    );
    // Twice: the branch is unknown now.
    let again = c.delete(&format!("/v2/storage/dev-branches/{dev}"), admin);
    assert_eq!(again.status, 404, "{}", again.text);

    // The name is free again, and ids are not reused.
    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "gone"}));
    let next = job_results(&c, admin, &resp)["id"].as_u64().unwrap();
    assert!(next > dev, "{next} after {dev}");
}

#[test]
fn refusals() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let admin = &p.tokens.admin;
    let main = main_id(&c, admin);

    let resp = c.delete(&format!("/v2/storage/dev-branches/{main}"), admin);
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert_eq!(resp.json()["error"], "Cannot delete Main branch");
    assert_eq!(main_id(&c, admin), main);

    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "Main"}));
    assert_storage_error(
        &resp,
        400,
        "There already is a branch with name \"Main\"",
        "devBranch.duplicateName",
    );
    let resp = c.post_json(
        "/v2/storage/dev-branches",
        admin,
        &json!({"description": "x"}),
    );
    assert_eq!(resp.status, 400, "{}", resp.text);

    // Tokens that are not an admin's may read branches, not create or delete them.
    for token in [&p.tokens.storage, &p.tokens.read_only] {
        assert_eq!(c.get("/v2/storage/dev-branches", token).status, 200);
        let resp = c.post_json("/v2/storage/dev-branches", token, &json!({"name": "no"}));
        assert_eq!(resp.status, 403, "{}", resp.text);
    }
    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "mine"}));
    let dev = job_results(&c, admin, &resp)["id"].as_u64().unwrap();
    let resp = c.delete(
        &format!("/v2/storage/dev-branches/{dev}"),
        &p.tokens.storage,
    );
    assert_eq!(resp.status, 403, "{}", resp.text);
    // Another project's admin does not see the branch.
    let other = &emu.projects()[1].tokens.admin;
    let resp = c.delete(&format!("/v2/storage/dev-branches/{dev}"), other);
    assert_eq!(resp.status, 404, "{}", resp.text);
    // A job that fails leaves no branch behind.
    let control = c.request(
        "POST",
        "/_emulator/storage-jobs",
        &[],
        Some((
            "application/json",
            br#"{"fail":true,"operation_name":"devBranchCreate"}"#.to_vec(),
        )),
    );
    assert_eq!(control.status, 201, "{}", control.text);
    let count = || {
        c.get("/v2/storage/dev-branches", admin)
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let before = count();
    let failed = c.post_json(
        "/v2/storage/dev-branches",
        admin,
        &json!({"name": "broken"}),
    );
    assert_eq!(wait_job(&c, admin, &failed)["status"], "error");
    assert_eq!(count(), before);
}

#[test]
fn a_new_branch_copies_configuration_metadata_too() {
    const FOLDER: &str = "KBC.configuration.folderName";
    let emu = start();
    let c = Client::new(&emu);
    let admin = &emu.projects()[0].tokens.admin;
    let drive = "keboola.ex-google-drive";
    let list = c
        .get(&format!("/v2/storage/components/{drive}/configs"), admin)
        .json();
    let config = list[0]["id"].as_str().unwrap().to_owned();
    let meta = format!("/v2/storage/components/{drive}/configs/{config}/metadata");
    let r = c.post_json(
        &meta,
        admin,
        &json!({"metadata": [{"key": FOLDER, "value": "Copied folder"}]}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text);

    let resp = c.post_json("/v2/storage/dev-branches", admin, &json!({"name": "meta"}));
    assert_eq!(resp.status, 202, "{}", resp.text);
    let branch = job_results(&c, admin, &resp)["id"].as_u64().unwrap();
    let in_branch =
        format!("/v2/storage/branch/{branch}/components/{drive}/configs/{config}/metadata");
    let copied = c.get(&in_branch, admin);
    assert_eq!(copied.status, 200, "{}", copied.text);
    let entry = copied
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == FOLDER)
        .cloned()
        .expect("the folder is in the branch");
    assert_eq!(entry["value"], "Copied folder");

    // The copy is the branch's own: a change there leaves production alone.
    let r = c.post_json(
        &in_branch,
        admin,
        &json!({"metadata": [{"key": FOLDER, "value": "Branch folder"}]}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    assert!(c.get(&meta, admin).text.contains("Copied folder"));
    assert!(c.get(&in_branch, admin).text.contains("Branch folder"));
}
