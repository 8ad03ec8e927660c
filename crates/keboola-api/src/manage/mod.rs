//! The Manage API (`/manage/...`) on the same host as the Storage API, one module per
//! resource.

pub(crate) mod projects;
pub(crate) mod tokens;

use crate::http::{Http, Method, RequestBuilder};
use crate::secret::Token;
use crate::stack::StackUrl;

pub(crate) const MANAGE_TOKEN_HEADER: &str = "X-KBC-ManageApiToken";

/// A client for the Manage API, authenticated with a Manage token.
#[derive(Debug, Clone)]
pub struct ManageClient {
    http: Http,
    stack: StackUrl,
    token: Token,
}

impl ManageClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> ManageClient {
        ManageClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
        }
    }

    /// A request to `/manage/<segments>` with the Manage token.
    pub(crate) fn call(&self, method: Method, segments: &[&str]) -> RequestBuilder<'_> {
        let mut path = vec!["manage"];
        path.extend_from_slice(segments);
        self.http
            .request(method, &self.stack, &path)
            .manage_token(&self.token)
    }
}
