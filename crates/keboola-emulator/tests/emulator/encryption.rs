//! Encryption API.

use serde_json::json;

use crate::common::{Client, start};

fn encrypt(c: &Client, query: &str, body: &str) -> crate::common::Resp {
    c.request(
        "POST",
        &format!("/encrypt?{query}"),
        &[],
        Some(("application/json", body.as_bytes().to_vec())),
    )
}

#[test]
fn json_values_under_hash_keys_are_encrypted() {
    let emu = start();
    let c = Client::new(&emu);
    let resp = encrypt(
        &c,
        "componentId=keboola.ex-db-snowflake&projectId=101",
        r##"{"#password":"secret-one","user":"reader","nested":{"#key":"secret-two","port":443},
            "list":[{"#inner":"secret-three"}],"#done":"KBC::ProjectSecure::AAAA"}"##,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let v = resp.json();
    for cipher in [
        &v["#password"],
        &v["nested"]["#key"],
        &v["list"][0]["#inner"],
    ] {
        assert!(
            cipher.as_str().unwrap().starts_with("KBC::ProjectSecure::"),
            "{cipher}"
        );
    }
    assert_eq!(v["user"], "reader");
    assert_eq!(v["nested"]["port"], 443);
    assert_eq!(v["#done"], "KBC::ProjectSecure::AAAA");
    for plain in ["secret-one", "secret-two", "secret-three"] {
        assert!(!resp.text.contains(plain));
    }
}

#[test]
fn cipher_prefix_follows_parameters() {
    let emu = start();
    let c = Client::new(&emu);
    let body = r##"{"#x":"value"}"##;
    let component_only = encrypt(&c, "componentId=keboola.flow", body).json();
    assert!(
        component_only["#x"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ComponentSecure::")
    );
    let config = encrypt(
        &c,
        "componentId=keboola.flow&projectId=101&configId=10001",
        body,
    )
    .json();
    assert!(
        config["#x"]
            .as_str()
            .unwrap()
            .starts_with("KBC::ConfigSecure::")
    );
    let resp = encrypt(&c, "componentId=keboola.flow&configId=10001", body);
    assert_eq!(resp.status, 400);
    assert!(resp.json()["error"].is_string());
    assert_eq!(encrypt(&c, "", body).status, 400);
    assert_eq!(
        encrypt(&c, "componentId=keboola.flow", "{broken").status,
        400
    );
}

#[test]
fn plain_text_body_is_encrypted_whole() {
    let emu = start();
    let c = Client::new(&emu);
    let resp = c.request(
        "POST",
        "/encrypt?componentId=keboola.flow&projectId=102",
        &[],
        Some(("text/plain", b"my secret".to_vec())),
    );
    assert_eq!(resp.status, 200);
    assert!(resp.text.starts_with("KBC::ProjectSecure::"));
    assert!(!resp.text.contains("my secret"));
    let _ = json!(null);
}
