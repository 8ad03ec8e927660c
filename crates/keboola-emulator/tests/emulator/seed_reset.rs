//! Seed files, reset and the clock controls.

use keboola_emulator::{EmulatorOptions, Fault, Seed, SeedProject, SeedTokens, load_seed};
use serde_json::json;

use crate::common::{Client, start, start_with};

#[test]
fn seed_file_fixes_secrets() {
    let path =
        std::env::temp_dir().join(format!("keboola-emulator-seed-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"random_seed": 5, "manage_token": "501-fixedmanagetokenfixedmanagetoken",
            "projects": [{"id": 102, "name": "Renamed", "tokens": {"admin": "102-1005-fixedadminsecret"}}]}"#,
    )
    .unwrap();
    let seed = load_seed(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        !format!("{seed:?}").contains("fixedadminsecret"),
        "Debug masks tokens"
    );

    let emu = start_with(EmulatorOptions {
        seed: Some(seed.clone()),
        ..Default::default()
    });
    let again = start_with(EmulatorOptions {
        seed: Some(seed),
        ..Default::default()
    });
    assert_eq!(emu.manage_token(), "501-fixedmanagetokenfixedmanagetoken");
    assert_eq!(emu.projects()[1].name, "Renamed");
    assert_eq!(emu.projects()[1].tokens.admin, "102-1005-fixedadminsecret");
    assert_eq!(emu.projects(), again.projects());
    assert_eq!(emu.outsider_manage_token(), again.outsider_manage_token());

    let c = Client::new(&emu);
    let v = c
        .get("/v2/storage/tokens/verify", "102-1005-fixedadminsecret")
        .json();
    assert_eq!(v["owner"]["name"], "Renamed");
    assert_eq!(v["id"], "1005");
    assert_eq!(
        c.manage_get(
            "/manage/tokens/verify",
            "501-fixedmanagetokenfixedmanagetoken"
        )
        .status,
        200
    );
}

#[test]
fn invalid_seeds_are_rejected() {
    let bad_id = Seed {
        projects: vec![SeedProject {
            id: 101,
            name: None,
            tokens: SeedTokens {
                guest: Some("101-1-x".into()),
                ..Default::default()
            },
        }],
        ..Default::default()
    };
    assert!(
        keboola_emulator::spawn(EmulatorOptions {
            seed: Some(bad_id),
            ..Default::default()
        })
        .is_err()
    );
    let unknown_project = Seed {
        projects: vec![SeedProject {
            id: 999,
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(
        keboola_emulator::spawn(EmulatorOptions {
            seed: Some(unknown_project),
            ..Default::default()
        })
        .is_err()
    );
    let path = std::env::temp_dir().join(format!(
        "keboola-emulator-badseed-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, r#"{"unknown_key": 1}"#).unwrap();
    assert!(load_seed(&path).is_err());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn reset_restores_the_seeded_state() {
    let emu = start();
    let c = Client::new(&emu);
    let p = &emu.projects()[0];
    let tokens_before = emu.token_count(101);
    c.mint(&p.tokens.admin, &json!({}));
    let refreshed = c.request(
        "POST",
        &format!(
            "/v2/storage/tokens/{}/refresh",
            c.get("/v2/storage/tokens/verify", &p.tokens.storage).json()["id"]
                .as_str()
                .unwrap()
        ),
        &[("X-StorageApi-Token", &p.tokens.storage)],
        None,
    );
    assert_eq!(refreshed.status, 200);
    let body = serde_json::to_vec(&json!({"componentId": p.oauth_config.component_id, "configId": p.oauth_config.config_id, "sapiUrl": emu.url()})).unwrap();
    assert_eq!(
        c.request(
            "POST",
            "/oauth/authorize",
            &[("X-StorageApi-Token", &p.tokens.admin)],
            Some(("application/json", body))
        )
        .status,
        200
    );
    emu.add_fault(Fault {
        path: "/manage/**".into(),
        status: Some(500),
        ..Fault::default()
    });
    emu.advance_clock(std::time::Duration::from_secs(86_400));
    assert_eq!(
        c.get("/v2/storage/tokens/verify", &p.tokens.storage).status,
        401
    );

    emu.reset();
    assert_eq!(emu.token_count(101), tokens_before);
    assert!(emu.requests().is_empty());
    assert_eq!(
        c.get("/v2/storage/tokens/verify", &p.tokens.storage).status,
        200,
        "the seeded secret works again"
    );
    assert_eq!(
        c.manage_get("/manage/tokens/verify", emu.manage_token())
            .status,
        200,
        "faults are gone"
    );
    let path = format!(
        "/v2/storage/components/{}/configs/{}",
        p.oauth_config.component_id, p.oauth_config.config_id
    );
    let config = c.get(&path, &p.tokens.admin).json();
    assert!(config["configuration"].get("authorization").is_none());
    assert_eq!(config["version"], 1);
    assert_eq!(c.get_anon("/_emulator/clock").json()["offset_seconds"], 0.0);

    // Over HTTP too.
    c.mint(&p.tokens.admin, &json!({}));
    assert_eq!(c.request("POST", "/_emulator/reset", &[], None).status, 204);
    assert_eq!(emu.token_count(101), tokens_before);
}

#[test]
fn clock_over_http() {
    let emu = start();
    let c = Client::new(&emu);
    let t = c.mint(&emu.projects()[0].tokens.admin, &json!({"expiresIn": 100}));
    let token = t["token"].as_str().unwrap();
    let before = c.get_anon("/_emulator/clock").json();
    assert!(before["now"].is_string());
    let resp = c.request(
        "POST",
        "/_emulator/clock",
        &[],
        Some(("application/json", br#"{"advance_seconds": 101}"#.to_vec())),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["offset_seconds"], 101.0);
    assert_eq!(
        c.get("/v2/storage/tokens/verify", token).json()["code"],
        "storage.tokenExpired"
    );
    let resp = c.request(
        "POST",
        "/_emulator/clock",
        &[],
        Some(("application/json", br#"{"advance_seconds": -5}"#.to_vec())),
    );
    assert_eq!(resp.status, 400);
}
