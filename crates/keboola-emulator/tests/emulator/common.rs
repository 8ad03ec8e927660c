//! Shared helpers: a small HTTP client that never turns statuses into errors.

use std::sync::Arc;

use keboola_emulator::{Emulator, EmulatorOptions, spawn};
use serde_json::Value;
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

pub const SAPI: &str = "X-StorageApi-Token";
pub const MAPI: &str = "X-KBC-ManageApiToken";

pub fn start() -> Emulator {
    spawn(EmulatorOptions::default()).expect("emulator starts")
}

pub fn start_with(opts: EmulatorOptions) -> Emulator {
    spawn(opts).expect("emulator starts")
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Client {
    agent: Agent,
    pub base: String,
}

impl Client {
    pub fn new(emu: &Emulator) -> Self {
        // Redirects are answers to look at (GCS resumable uploads answer 308), not to follow.
        let mut config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0);
        if let Some(ca) = emu.ca_cert() {
            let pem = std::fs::read(ca).expect("read CA");
            let cert = Certificate::from_pem(&pem).expect("parse CA").to_owned();
            config = config.tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::Specific(Arc::new(vec![cert])))
                    .build(),
            );
        }
        Self {
            agent: config.build().into(),
            base: emu.url().to_owned(),
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        self.request_url(method, &format!("{}{path}", self.base), headers, body)
    }

    /// A request to a full URL (file URLs, object endpoints), never outside the emulator.
    pub fn request_url(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        assert!(url.starts_with(&self.base), "{url} is not on the emulator");
        let path = url;
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let result = match body {
            None => self.agent.run(builder.body(()).unwrap()),
            Some((content_type, bytes)) => self.agent.run(
                builder
                    .header("Content-Type", content_type)
                    .body(bytes)
                    .unwrap(),
            ),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .unwrap_or_default();
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.request("GET", path, &[(SAPI, token)], None)
    }

    pub fn get_anon(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    pub fn send_json(&self, method: &str, path: &str, token: &str, body: &Value) -> Resp {
        self.request(
            method,
            path,
            &[(SAPI, token)],
            Some(("application/json", serde_json::to_vec(body).unwrap())),
        )
    }

    pub fn post_json(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send_json("POST", path, token, body)
    }

    pub fn send_form(&self, method: &str, path: &str, token: &str, form: &str) -> Resp {
        self.request(
            method,
            path,
            &[(SAPI, token)],
            Some((
                "application/x-www-form-urlencoded",
                form.as_bytes().to_vec(),
            )),
        )
    }

    pub fn delete(&self, path: &str, token: &str) -> Resp {
        self.request("DELETE", path, &[(SAPI, token)], None)
    }

    pub fn manage_get(&self, path: &str, token: &str) -> Resp {
        self.request("GET", path, &[(MAPI, token)], None)
    }

    pub fn manage_post(&self, path: &str, token: &str, body: &str) -> Resp {
        self.request(
            "POST",
            path,
            &[(MAPI, token)],
            Some(("application/json", body.as_bytes().to_vec())),
        )
    }

    /// Creates a child token with the admin master token of project `index` and returns
    /// the full 201 body.
    pub fn mint(&self, admin_token: &str, body: &Value) -> Value {
        let resp = self.post_json("/v2/storage/tokens", admin_token, body);
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.json()
    }
}

/// The `exceptionId` has the documented shape and the rest matches.
pub fn assert_storage_error(resp: &Resp, status: u16, message: &str, code: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["error"], message, "{}", resp.text);
    assert_eq!(body["code"], code, "{}", resp.text);
    assert_eq!(body["status"], "error");
    let id = body["exceptionId"].as_str().unwrap_or_default();
    let hex = id.strip_prefix("keboola-emulator-").unwrap_or_default();
    assert_eq!(hex.len(), 32, "exceptionId {id}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
}
