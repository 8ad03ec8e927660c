//! The Encryption API (`encryption` in the Storage index): `POST /encrypt` turns plain
//! values under `#` keys into Keboola ciphers bound to a scope. It needs no token, and
//! there is no way back: only Keboola's job runners decrypt.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::{Http, Method};
use crate::stack::StackUrl;

/// The service id of the Encryption API in the Storage index.
pub const ENCRYPTION_SERVICE: &str = "encryption";

/// Who may decrypt: the component alone (`KBC::ComponentSecure::`), within a project
/// (`KBC::ProjectSecure::`), or one configuration of it (`KBC::ConfigSecure::`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionScope {
    pub component_id: String,
    pub project_id: Option<u64>,
    /// Needs `project_id`.
    pub config_id: Option<String>,
}

/// A client for one stack's Encryption API.
#[derive(Debug, Clone)]
pub struct EncryptionClient {
    http: Http,
    stack: StackUrl,
}

impl EncryptionClient {
    pub fn new(http: &Http, stack: &StackUrl) -> EncryptionClient {
        EncryptionClient {
            http: http.clone(),
            stack: stack.clone(),
        }
    }

    /// Encrypts `values` (keys starting with `#`) for `scope` and returns the same keys
    /// with ciphers; values that already are ciphers come back unchanged. Not retried
    /// (a POST); the plain values travel only in the request body.
    pub fn encrypt(
        &self,
        scope: &EncryptionScope,
        values: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiError> {
        let mut call =
            self.http
                .service_request(Method::Post, &self.stack, ENCRYPTION_SERVICE, &["encrypt"]);
        call = call.query("componentId", &scope.component_id);
        if let Some(p) = scope.project_id {
            call = call.query("projectId", &p.to_string());
        }
        if let Some(k) = &scope.config_id {
            call = call.query("configId", k);
        }
        call.json(values).fetch()
    }
}

/// Whether `text` is already a Keboola cipher (or a vault reference), which must pass
/// through encryption unchanged.
pub fn is_encrypted(text: &str) -> bool {
    text.starts_with("KBC::") || text.trim_start().starts_with("{{ vault.")
}
