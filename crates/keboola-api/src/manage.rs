//! The Manage API (`/manage/...`) on the same host as the Storage API.

use crate::error::ApiError;
use crate::http::{Auth, Http, Method, Request};
use crate::models::{
    CreateTokenRequest, ManageProject, ManageTokenInfo, NewToken, TokenRequestTarget,
};
use crate::secret::Token;
use crate::stack::StackUrl;
use crate::storage::{build_url, json_bytes};

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

    /// `GET /manage/tokens/verify`.
    pub fn verify(&self) -> Result<ManageTokenInfo, ApiError> {
        let request = self.request(Method::Get, &["tokens", "verify"])?;
        self.http
            .fetch(&request, |v| ManageTokenInfo::from_json(&v))
    }

    /// `GET /manage/projects/{id}`.
    pub fn get_project(&self, project_id: u64) -> Result<ManageProject, ApiError> {
        let id = project_id.to_string();
        let request = self.request(Method::Get, &["projects", &id])?;
        self.http.fetch(&request, ManageProject::from_json)
    }

    /// `POST /manage/projects/{id}/tokens`: mints a Storage token in that project. May
    /// send `canManageTokens`. Never retried.
    pub fn create_project_token(
        &self,
        project_id: u64,
        req: &CreateTokenRequest,
    ) -> Result<NewToken, ApiError> {
        let id = project_id.to_string();
        let mut request = self.request(Method::Post, &["projects", &id, "tokens"])?;
        request.json_body = Some(json_bytes(&req.to_json(TokenRequestTarget::Manage)));
        self.http.fetch(&request, NewToken::from_json)
    }

    fn request(&self, method: Method, segments: &[&str]) -> Result<Request<'_>, ApiError> {
        let mut path = vec!["manage"];
        path.extend_from_slice(segments);
        Ok(Request {
            method,
            url: build_url(&self.stack, &path, method)?,
            auth: Some(Auth {
                header: MANAGE_TOKEN_HEADER,
                token: &self.token,
            }),
            json_body: None,
        })
    }
}
