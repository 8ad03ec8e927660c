//! Client tests against scripted local HTTP servers.

mod branches;
mod config_metadata;
mod errors;
mod manage;
mod proxy;
mod query;
mod queue;
mod requests;
mod retry;
mod server;
mod services;
mod sigv4;
mod snapshots;
mod storage;
mod tables;
mod tls;
mod transfer;

use std::time::Duration;

use keboola_api::{ApiError, Http, HttpConfig, ManageClient, StorageClient, Token};

use crate::server::Server;

/// A Storage token in Keboola's format; tests assert it never leaks.
pub const SECRET: &str = "901-12345-q9w8e7r6t5y4u3i2o1p0asdfghjklzxcv";
pub const MANAGE_SECRET: &str = "777-manageTokenSecretValue0123456789";
pub const USER_AGENT: &str = "kbagent-test/9.9.9";

/// Fast settings: tiny backoff and timeouts so failure paths finish quickly.
pub fn config() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(400),
        max_attempts: 3,
        backoff_base: Duration::from_millis(1),
        max_retry_after: Duration::from_millis(5),
        user_agent: USER_AGENT.to_owned(),
        extra_ca_file: None,
        proxy: None,
        default_headers: Vec::new(),
    }
}

pub fn token() -> Token {
    Token::new(SECRET).unwrap()
}

pub fn storage(server: &Server) -> StorageClient {
    storage_with(server, config())
}

pub fn storage_with(server: &Server, cfg: HttpConfig) -> StorageClient {
    let http = Http::new(cfg).unwrap();
    StorageClient::new(&http, &server.stack(), &token())
}

pub fn manage(server: &Server) -> ManageClient {
    let http = Http::new(config()).unwrap();
    ManageClient::new(&http, &server.stack(), &Token::new(MANAGE_SECRET).unwrap())
}

/// Neither the error's message nor its Debug form may contain a secret (or its tail).
pub fn assert_no_secret(err: &ApiError) {
    let shown = format!("{err} | {err:?}");
    for secret in [SECRET, MANAGE_SECRET] {
        assert!(!shown.contains(secret), "secret leaked: {shown}");
        let (_, tail) = secret.split_once('-').unwrap();
        assert!(!shown.contains(tail), "secret tail leaked: {shown}");
    }
    assert!(!shown.contains('\n'), "Display must be one line: {err}");
}

#[test]
fn clients_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Http>();
    assert_send_sync::<StorageClient>();
    assert_send_sync::<ManageClient>();
    assert_send_sync::<Token>();
    assert_send_sync::<ApiError>();
}
