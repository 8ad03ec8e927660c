//! OAuth wizard page and its authorize request.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Client, SAPI, start};

fn authorize(
    c: &Client,
    token: Option<&str>,
    component: &str,
    config: &str,
    sapi_url: &str,
) -> crate::common::Resp {
    let body = serde_json::to_vec(
        &json!({"componentId": component, "configId": config, "sapiUrl": sapi_url}),
    )
    .unwrap();
    let headers: Vec<(&str, &str)> = token.map(|t| vec![(SAPI, t)]).unwrap_or_default();
    c.request(
        "POST",
        "/oauth/authorize",
        &headers,
        Some(("application/json", body)),
    )
}

/// The token a CLI mints for the wizard: componentAccess for the one component, 1 h expiry.
fn wizard_token(c: &Client, admin: &str, component: &str) -> String {
    let t = c.mint(admin, &json!({"description": "Short-lived token for OAuth URL", "componentAccess": [component], "expiresIn": 3600}));
    t["token"].as_str().unwrap().to_owned()
}

#[test]
fn page_is_self_contained() {
    let emu = start();
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.admin;
    let resp = c.get_anon(&format!(
        "/oauth/index.html?token={token}&sapiUrl={}",
        emu.url()
    ));
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    let html = &resp.text;
    assert!(html.contains("Authorize"));
    assert!(html.contains("X-StorageApi-Token"));
    assert!(html.contains("returnUrl"));
    assert!(!html.contains(token.as_str()));
    // No external assets.
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("href=\"http"));
    assert_eq!(
        emu.ready().oauth_wizard_url,
        format!("{}/oauth/index.html", emu.url())
    );
}

#[test]
fn authorizing_sets_the_credentials() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let cfg = &p.oauth_config;
    let token = wizard_token(&c, &p.tokens.admin, &cfg.component_id);
    let resp = authorize(
        &c,
        Some(&token),
        &cfg.component_id,
        &cfg.config_id,
        emu.url(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["status"], "authorized");
    assert_eq!(body["componentId"], cfg.component_id.as_str());
    assert_eq!(body["configId"], cfg.config_id.as_str());
    let credentials = body["credentialsId"].as_str().unwrap();

    let path = format!(
        "/v2/storage/components/{}/configs/{}",
        cfg.component_id, cfg.config_id
    );
    let config = c.get(&path, &p.tokens.admin).json();
    assert_eq!(
        config["configuration"]["authorization"]["oauth_api"]["id"],
        credentials
    );
    assert_eq!(config["version"], 2);
    // The other project's configuration is untouched.
    let other = &emu.projects()[1];
    let path = format!(
        "/v2/storage/components/{}/configs/{}",
        other.oauth_config.component_id, other.oauth_config.config_id
    );
    assert!(
        c.get(&path, &other.tokens.admin).json()["configuration"]
            .get("authorization")
            .is_none()
    );
}

#[test]
fn authorize_refusals() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let cfg = &p.oauth_config;
    let url = emu.url();

    // Token for another component.
    let wrong = wizard_token(&c, &p.tokens.admin, "keboola.ex-db-snowflake");
    let resp = authorize(&c, Some(&wrong), &cfg.component_id, &cfg.config_id, url);
    assert_eq!(resp.status, 403, "{}", resp.text);
    assert_eq!(
        resp.json()["error"],
        "You don't have access to the resource."
    );

    // Wrong stack URL.
    let good = wizard_token(&c, &p.tokens.admin, &cfg.component_id);
    let resp = authorize(
        &c,
        Some(&good),
        &cfg.component_id,
        &cfg.config_id,
        "https://connection.keboola.com",
    );
    assert_eq!(resp.status, 400);
    assert!(resp.json()["error"].as_str().unwrap().contains("sapiUrl"));

    // A token of another project does not see this configuration.
    let foreign = &emu.projects()[1].tokens.admin;
    let resp = authorize(&c, Some(foreign), &cfg.component_id, &cfg.config_id, url);
    assert!(resp.status == 404 || resp.status == 403, "{}", resp.text);

    // Missing and unknown tokens.
    assert_eq!(
        authorize(&c, None, &cfg.component_id, &cfg.config_id, url).status,
        401
    );
    assert_eq!(
        authorize(
            &c,
            Some("101-1-nosuchtokenxxxxxxxxxxxxxxxxx"),
            &cfg.component_id,
            &cfg.config_id,
            url
        )
        .status,
        401
    );

    // A non-master token without componentAccess, and a read-only master.
    assert_eq!(
        authorize(
            &c,
            Some(&p.tokens.storage),
            &cfg.component_id,
            &cfg.config_id,
            url
        )
        .status,
        403
    );
    assert_eq!(
        authorize(
            &c,
            Some(&p.tokens.read_only),
            &cfg.component_id,
            &cfg.config_id,
            url
        )
        .status,
        403
    );

    // Nothing was authorized by any of these.
    let path = format!(
        "/v2/storage/components/{}/configs/{}",
        cfg.component_id, cfg.config_id
    );
    let config: Value = c.get(&path, &p.tokens.admin).json();
    assert!(config["configuration"].get("authorization").is_none());
    assert_eq!(config["version"], 1);

    // Expired token.
    emu.advance_clock(Duration::from_secs(3601));
    let resp = authorize(&c, Some(&good), &cfg.component_id, &cfg.config_id, url);
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["code"], "storage.tokenExpired");
}

#[test]
fn master_token_and_trailing_slash_are_accepted() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[1];
    let resp = authorize(
        &c,
        Some(&p.tokens.admin),
        &p.oauth_config.component_id,
        &p.oauth_config.config_id,
        &format!("{}/", emu.url()),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
}
