//! The Storage API (`/v2/storage/...`), one module per resource. Each module holds the
//! resource's models and its `impl StorageClient` block.

pub(crate) mod branches;
pub(crate) mod components;
pub(crate) mod configurations;
pub(crate) mod index;
pub(crate) mod tokens;

use crate::error::ApiError;
use crate::http::{Http, Method, RequestBuilder};
use crate::secret::Token;
use crate::services::ServiceDirectory;
use crate::stack::StackUrl;

pub(crate) const STORAGE_TOKEN_HEADER: &str = "X-StorageApi-Token";

/// A client for one project's Storage API, authenticated with a Storage token.
#[derive(Debug, Clone)]
pub struct StorageClient {
    http: Http,
    stack: StackUrl,
    token: Token,
}

impl StorageClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> StorageClient {
        StorageClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
        }
    }

    /// The stack's other services (Queue, Encryption, ...), from its API index, which is
    /// fetched once per stack for the life of the [`Http`].
    pub fn services(&self) -> Result<ServiceDirectory, ApiError> {
        self.http.services(&self.stack)
    }

    /// The token this client sends, for calls to the stack's other services.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// A request to `/v2/storage/<segments>` with the Storage token.
    pub(crate) fn call(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        let mut path = vec!["v2", "storage"];
        path.extend_from_slice(segments);
        self.http
            .request(method, &self.stack, &path)
            .storage_token(&self.token)
    }
}
