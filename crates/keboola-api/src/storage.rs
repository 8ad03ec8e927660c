//! The Storage API (`/v2/storage/...`).

use serde_json::Value;
use url::Url;

use crate::error::{ApiError, ApiErrorKind};
use crate::http::{Auth, Http, Method, Request};
use crate::models::{
    Component, CreateTokenRequest, DevBranch, NewToken, StackIndex, TokenInfo, TokenRequestTarget,
    list_of,
};
use crate::secret::Token;
use crate::stack::StackUrl;

pub(crate) const STORAGE_TOKEN_HEADER: &str = "X-StorageApi-Token";

/// A client for one project's Storage API, authenticated with a Storage token.
#[derive(Debug, Clone)]
pub struct StorageClient {
    http: Http,
    stack: StackUrl,
    token: Token,
}

/// Filters for [`StorageClient::list_components`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentsQuery {
    /// Branch id; `None` is the default branch.
    pub branch: Option<String>,
    /// For example `extractor`, `writer`, `application`.
    pub component_type: Option<String>,
    /// Include configuration rows.
    pub include_rows: bool,
}

impl StorageClient {
    pub fn new(http: &Http, stack: &StackUrl, token: &Token) -> StorageClient {
        StorageClient {
            http: http.clone(),
            stack: stack.clone(),
            token: token.clone(),
        }
    }

    /// `GET /v2/storage/tokens/verify`: who this token is.
    pub fn verify(&self) -> Result<TokenInfo, ApiError> {
        let request = self.request(Method::Get, &["tokens", "verify"])?;
        self.http.fetch(&request, TokenInfo::from_json)
    }

    /// `GET /v2/storage?exclude=components`: the stack's services and features. Sent
    /// without the token, which this endpoint does not need.
    pub fn index(&self) -> Result<StackIndex, ApiError> {
        let mut request = self.request(Method::Get, &[])?;
        request.auth = None;
        request
            .url
            .query_pairs_mut()
            .append_pair("exclude", "components");
        self.http.fetch(&request, StackIndex::from_json)
    }

    /// `GET /v2/storage/tokens`. Tokens without `canManageTokens` see only themselves.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, ApiError> {
        let request = self.request(Method::Get, &["tokens"])?;
        self.http
            .fetch(&request, |v| list_of(v, "tokens", TokenInfo::from_json))
    }

    /// `GET /v2/storage/tokens/{id}`.
    pub fn get_token(&self, id: &str) -> Result<TokenInfo, ApiError> {
        let request = self.request(Method::Get, &["tokens", id])?;
        self.http.fetch(&request, TokenInfo::from_json)
    }

    /// `POST /v2/storage/tokens`. Sent once, never retried: a repeated create could
    /// leave a second live token behind. `can_manage_tokens` and the other Manage-only
    /// privileges of `req` are not sent.
    pub fn create_token(&self, req: &CreateTokenRequest) -> Result<NewToken, ApiError> {
        let mut request = self.request(Method::Post, &["tokens"])?;
        request.json_body = Some(json_bytes(&req.to_json(TokenRequestTarget::Storage)));
        self.http.fetch(&request, NewToken::from_json)
    }

    /// `POST /v2/storage/tokens/{id}/refresh`: a new secret, the old one stops working.
    /// Never retried.
    pub fn refresh_token(&self, id: &str) -> Result<NewToken, ApiError> {
        let request = self.request(Method::Post, &["tokens", id, "refresh"])?;
        self.http.fetch(&request, NewToken::from_json)
    }

    /// `DELETE /v2/storage/tokens/{id}`. Never retried.
    pub fn delete_token(&self, id: &str) -> Result<(), ApiError> {
        let request = self.request(Method::Delete, &["tokens", id])?;
        self.http.send(&request).map(drop)
    }

    /// `GET /v2/storage/branch/{branch|default}/components?include=configuration[,rows]`,
    /// optionally filtered by `componentType`.
    pub fn list_components(&self, q: &ComponentsQuery) -> Result<Vec<Component>, ApiError> {
        let branch = q.branch.as_deref().unwrap_or("default");
        let mut request = self.request(Method::Get, &["branch", branch, "components"])?;
        {
            let mut query = request.url.query_pairs_mut();
            let include = if q.include_rows {
                "configuration,rows"
            } else {
                "configuration"
            };
            query.append_pair("include", include);
            if let Some(component_type) = &q.component_type {
                query.append_pair("componentType", component_type);
            }
        }
        self.http
            .fetch(&request, |v| list_of(v, "components", Component::from_json))
    }

    /// `GET /v2/storage/branch/{branch|default}/components/{component}/configs/{id}`,
    /// returned as received.
    pub fn get_configuration(
        &self,
        branch: Option<&str>,
        component_id: &str,
        config_id: &str,
    ) -> Result<Value, ApiError> {
        let branch = branch.unwrap_or("default");
        let request = self.request(
            Method::Get,
            &[
                "branch",
                branch,
                "components",
                component_id,
                "configs",
                config_id,
            ],
        )?;
        self.http.fetch(&request, Ok)
    }

    /// `GET /v2/storage/dev-branches`, including the default branch.
    pub fn list_dev_branches(&self) -> Result<Vec<DevBranch>, ApiError> {
        let request = self.request(Method::Get, &["dev-branches"])?;
        self.http
            .fetch(&request, |v| list_of(v, "branches", DevBranch::from_json))
    }

    fn request(&self, method: Method, segments: &[&str]) -> Result<Request<'_>, ApiError> {
        let mut path = vec!["v2", "storage"];
        path.extend_from_slice(segments);
        Ok(Request {
            method,
            url: build_url(&self.stack, &path, method)?,
            auth: Some(Auth {
                header: STORAGE_TOKEN_HEADER,
                token: &self.token,
            }),
            json_body: None,
        })
    }
}

/// `stack` plus path segments, each percent-encoded on its own so an id can never
/// add segments, a query or a fragment. Empty, `.` and `..` segments are refused:
/// the URL library drops dot segments, which would silently address another resource.
pub(crate) fn build_url(
    stack: &StackUrl,
    segments: &[&str],
    method: Method,
) -> Result<Url, ApiError> {
    let mut url = stack.to_url();
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || **s == "." || **s == "..")
    {
        return Err(ApiError::transport(
            ApiErrorKind::Config,
            method.as_str(),
            &format!("/{}", segments.join("/")),
            format!("{bad:?} is not a valid identifier"),
            false,
        ));
    }
    match url.path_segments_mut() {
        Ok(mut path) => {
            path.clear().extend(segments);
        }
        Err(()) => {
            return Err(ApiError::transport(
                ApiErrorKind::Config,
                method.as_str(),
                "",
                "the stack URL cannot take a path",
                false,
            ));
        }
    }
    Ok(url)
}

pub(crate) fn json_bytes(value: &Value) -> Vec<u8> {
    // Serializing a Value cannot fail: all its keys are strings.
    serde_json::to_vec(value).unwrap_or_default()
}
