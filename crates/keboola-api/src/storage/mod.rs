//! The Storage API (`/v2/storage/...`), one module per resource. Each module holds the
//! resource's models and its `impl StorageClient` block.

pub(crate) mod branches;
pub(crate) mod buckets;
pub(crate) mod components;
pub(crate) mod configurations;
pub(crate) mod configurations_write;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod index;
pub(crate) mod jobs;
pub(crate) mod metadata;
pub(crate) mod search;
pub(crate) mod snapshots;
pub(crate) mod tables;
pub(crate) mod tokens;
pub(crate) mod workspaces;

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
    /// The dev branch that bucket, table and file calls address; `None` is the default
    /// branch, addressed without a prefix.
    branch: Option<String>,
}

impl StorageClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> StorageClient {
        StorageClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
            branch: None,
        }
    }

    /// This client with bucket, table and file calls scoped to a dev branch
    /// (`/v2/storage/branch/{id}/...`); `None` is the default branch.
    pub fn with_branch(&self, branch: Option<&str>) -> StorageClient {
        StorageClient {
            branch: branch.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The dev branch set with [`StorageClient::with_branch`].
    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
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

    /// Like [`StorageClient::call`], under `branch/{id}/` when a branch is set.
    pub(crate) fn scoped(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        match &self.branch {
            Some(branch) => {
                let mut path = vec!["branch", branch.as_str()];
                path.extend_from_slice(segments);
                self.call(method, &path)
            }
            None => self.call(method, segments),
        }
    }
}
