//! Manage tokens (`/manage/tokens/...`) and Storage tokens minted through the Manage API.

use serde::Deserialize;

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient;
use crate::manage::ManageClient;
use crate::storage::tokens::{CreateTokenRequest, NewToken, TokenRequestTarget};

/// The answer of `GET /manage/tokens/verify`. Only the listed fields are decoded: the
/// object is not kept, so a `token` the server may send back is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageTokenInfo {
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub expires: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_expired: bool,
    #[serde(default, deserialize_with = "lenient::block")]
    pub user: Option<ManageUser>,
}

/// The user a Manage token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManageUser {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub email: String,
}

impl ManageClient {
    /// `GET /manage/tokens/verify`.
    pub fn verify(&self) -> Result<ManageTokenInfo, ApiError> {
        self.call(Method::Get, &["tokens", "verify"]).fetch()
    }

    /// `POST /manage/projects/{id}/tokens`: mints a Storage token in that project. May
    /// send `canManageTokens`. Never retried.
    pub fn create_project_token(
        &self,
        project_id: u64,
        req: &CreateTokenRequest,
    ) -> Result<NewToken, ApiError> {
        let id = project_id.to_string();
        self.call(Method::Post, &["projects", &id, "tokens"])
            .json(&req.to_json(TokenRequestTarget::Manage))
            .fetch_with(NewToken::from_json)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn manage_verify_decodes() {
        let value = json!({"id":13702,"description":"Example token","created":"2021-06-28T22:27:28+0200",
            "expires":"2031-06-26T22:27:28+0200","isSessionToken":false,"isExpired":false,
            "isDisabled":false,"scopes":[],"type":"admin","creator":{"id":7919,"name":"John Doe"},
            "user":{"id":7919,"name":"John Doe","email":"john.doe@keboola.com","mfaEnabled":true}});
        let info: ManageTokenInfo = serde_json::from_value(value).unwrap();
        assert_eq!(info.id, Some(13702));
        assert_eq!(info.r#type.as_deref(), Some("admin"));
        assert_eq!(info.expires.as_deref(), Some("2031-06-26T22:27:28+0200"));
        assert_eq!(
            info.user,
            Some(ManageUser {
                id: 7919,
                name: "John Doe".into(),
                email: "john.doe@keboola.com".into()
            })
        );
        let info: ManageTokenInfo = serde_json::from_value(json!({"type":"super"})).unwrap();
        assert_eq!(info.id, None);
        assert!(info.user.is_none());
    }
}
