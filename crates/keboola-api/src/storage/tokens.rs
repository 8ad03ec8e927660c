//! Storage tokens: `/v2/storage/tokens/...`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient::{self, ShapeError, keep_raw};
use crate::secret::Token;
use crate::storage::StorageClient;

/// A Storage API token's metadata. No secret is ever kept here: every `token` key, also
/// of nested token objects such as `creatorToken`, is removed from `raw`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct TokenInfo {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub refreshed: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub expires: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_expired: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_disabled: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_master_token: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub can_manage_tokens: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub can_manage_buckets: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub can_read_all_file_uploads: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub can_purge_trash: bool,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub component_access: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_map")]
    pub bucket_permissions: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient::block")]
    pub admin: Option<TokenAdmin>,
    #[serde(default, deserialize_with = "lenient::block")]
    pub creator_token: Option<CreatorToken>,
    #[serde(default, deserialize_with = "lenient::block")]
    pub owner: Option<ProjectOwner>,
    #[serde(
        rename = "organization",
        default,
        deserialize_with = "lenient::nested_id"
    )]
    pub organization_id: Option<u64>,
    /// The object as received, without any `token` key.
    #[serde(skip)]
    pub raw: Value,
}

keep_raw!(TokenInfo, lenient::strip_all_tokens);

/// The user behind a master token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenAdmin {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub role: Option<String>,
}

/// The token that created this one. Its secret, should a server send one, is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatorToken {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
}

/// The project a token belongs to (`owner` in Keboola's JSON).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectOwner {
    #[serde(deserialize_with = "lenient::uint")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub default_backend: Option<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub features: Vec<String>,
    #[serde(default)]
    pub limits: Value,
    #[serde(default)]
    pub metrics: Value,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub data_size_bytes: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub rows_count: Option<u64>,
}

/// A freshly created or refreshed token: its metadata plus the one-time secret.
#[derive(Clone)]
pub struct NewToken {
    pub info: TokenInfo,
    pub secret: Token,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("info", &self.info)
            .field("secret", &self.secret)
            .finish()
    }
}

impl NewToken {
    /// A create or refresh answer: the token object including its `token` secret, which
    /// goes straight into a [`Token`] and never into `info.raw`.
    pub(crate) fn from_json(mut value: Value) -> Result<NewToken, ShapeError> {
        let secret = value
            .as_object_mut()
            .and_then(|o| o.remove("token"))
            .ok_or_else(|| ShapeError("the response does not include the new token".into()))?;
        let Value::String(secret) = secret else {
            return Err(ShapeError("the new token is not a string".into()));
        };
        let secret = Token::new(secret)
            .map_err(|e| ShapeError(format!("the new token is malformed: {e}")))?;
        let info = lenient::decode(value)?;
        Ok(NewToken { info, secret })
    }
}

impl<'de> Deserialize<'de> for NewToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NewToken::from_json(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Options for a new Storage token, for [`crate::StorageClient::create_token`] and
/// [`crate::ManageClient::create_project_token`]. False, empty and `None` fields are
/// left out of the request, which Keboola reads as "not granted".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateTokenRequest {
    pub description: Option<String>,
    /// Lifetime in seconds; `None` means the token does not expire.
    pub expires_in: Option<u64>,
    pub component_access: Vec<String>,
    /// Bucket id to `read` or `write`.
    pub bucket_permissions: BTreeMap<String, String>,
    pub can_manage_buckets: bool,
    pub can_read_all_file_uploads: bool,
    pub can_purge_trash: bool,
    /// Sent only by the Manage API call; the Storage API never receives it.
    pub can_manage_tokens: bool,
    /// Sent only by the Manage API call.
    pub can_read_all_project_events: bool,
    /// Sent only by the Manage API call.
    pub can_manage_dev_branches: bool,
}

/// Which API a token request body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRequestTarget {
    Storage,
    Manage,
}

impl CreateTokenRequest {
    /// The JSON body. Privileges that only the Manage API accepts are omitted for the
    /// Storage API, whatever their value.
    pub(crate) fn to_json(&self, target: TokenRequestTarget) -> Value {
        let mut body = Map::new();
        if let Some(description) = &self.description {
            body.insert("description".into(), Value::from(description.as_str()));
        }
        if let Some(expires_in) = self.expires_in {
            body.insert("expiresIn".into(), Value::from(expires_in));
        }
        if !self.component_access.is_empty() {
            body.insert(
                "componentAccess".into(),
                Value::from(self.component_access.clone()),
            );
        }
        if !self.bucket_permissions.is_empty() {
            let map: Map<String, Value> = self
                .bucket_permissions
                .iter()
                .map(|(bucket, perm)| (bucket.clone(), Value::from(perm.as_str())))
                .collect();
            body.insert("bucketPermissions".into(), Value::Object(map));
        }
        let mut flag = |key: &str, on: bool| {
            if on {
                body.insert(key.into(), Value::Bool(true));
            }
        };
        flag("canManageBuckets", self.can_manage_buckets);
        flag("canReadAllFileUploads", self.can_read_all_file_uploads);
        flag("canPurgeTrash", self.can_purge_trash);
        if target == TokenRequestTarget::Manage {
            flag("canManageTokens", self.can_manage_tokens);
            flag("canReadAllProjectEvents", self.can_read_all_project_events);
            flag("canManageDevBranches", self.can_manage_dev_branches);
        }
        Value::Object(body)
    }
}

impl StorageClient {
    /// `GET /v2/storage/tokens/verify`: who this token is.
    pub fn verify(&self) -> Result<TokenInfo, ApiError> {
        self.call(Method::Get, &["tokens", "verify"]).fetch()
    }

    /// `GET /v2/storage/tokens`. Tokens without `canManageTokens` see only themselves.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, ApiError> {
        self.call(Method::Get, &["tokens"]).fetch()
    }

    /// `GET /v2/storage/tokens/{id}`.
    pub fn get_token(&self, id: &str) -> Result<TokenInfo, ApiError> {
        self.call(Method::Get, &["tokens", id]).fetch()
    }

    /// `POST /v2/storage/tokens`. Sent once, never retried: a repeated create could
    /// leave a second live token behind. `can_manage_tokens` and the other Manage-only
    /// privileges of `req` are not sent.
    pub fn create_token(&self, req: &CreateTokenRequest) -> Result<NewToken, ApiError> {
        self.call(Method::Post, &["tokens"])
            .json(&req.to_json(TokenRequestTarget::Storage))
            .fetch_with(NewToken::from_json)
    }

    /// `POST /v2/storage/tokens/{id}/refresh`: a new secret, the old one stops working.
    /// Never retried.
    pub fn refresh_token(&self, id: &str) -> Result<NewToken, ApiError> {
        self.call(Method::Post, &["tokens", id, "refresh"])
            .fetch_with(NewToken::from_json)
    }

    /// `DELETE /v2/storage/tokens/{id}`. Never retried.
    pub fn delete_token(&self, id: &str) -> Result<(), ApiError> {
        self.call(Method::Delete, &["tokens", id]).send().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "58-44-460300c259ec3fcba4b95d1d5c14a8419268bc2b";

    fn master_verify() -> Value {
        json!({"id":"44","token":SECRET,"description":"john@example.com",
            "created":"2017-02-13T10:27:50+0100","refreshed":"2017-11-13T16:48:28+0100",
            "uri":"https://connection.keboola.com/v2/storage/tokens/44",
            "isMasterToken":true,"canManageBuckets":true,"canManageTokens":true,
            "canReadAllFileUploads":true,"canPurgeTrash":true,
            "canManageProtectedDefaultBranch":false,"canCreateJobs":false,
            "expires":null,"isExpired":false,"isDisabled":false,"isBYODB":false,"dailyCapacity":0,
            "bucketPermissions":{"in.c-test":"manage"},"componentAccess":[],
            "admin":{"id":124,"name":"John Doe","features":[],"isOrganizationMember":true,"role":"admin","isActivated":false},
            "adminOwner":{"id":124,"name":"John Doe","email":"john@example.com"},
            "organization":{"id":"123"},
            "owner":{"id":58,"name":"Buckets 5","type":"production","region":"us-east-1","features":["f1"],
                "defaultBackend":"snowflake","assignedBackends":["snowflake"],"fileStorageProvider":"aws",
                "dataSizeBytes":112128,"rowsCount":1036,"hasSnowflake":true,"limits":{"a":{"name":"a","value":1}},
                "metrics":{},"isDisabled":false,"dataRetentionTimeInDays":7}})
    }

    #[test]
    fn master_token_verify_decodes() {
        let info: TokenInfo = serde_json::from_value(master_verify()).unwrap();
        assert_eq!(info.id, "44");
        assert!(info.is_master_token && info.can_manage_tokens && info.can_manage_buckets);
        assert!(info.can_read_all_file_uploads && info.can_purge_trash);
        assert!(!info.is_expired && !info.is_disabled);
        assert_eq!(info.expires, None);
        assert_eq!(info.description.as_deref(), Some("john@example.com"));
        assert_eq!(
            info.admin,
            Some(TokenAdmin {
                id: 124,
                name: "John Doe".into(),
                role: Some("admin".into())
            })
        );
        assert_eq!(info.creator_token, None);
        assert_eq!(info.organization_id, Some(123));
        let owner = info.owner.as_ref().unwrap();
        assert_eq!(owner.id, 58);
        assert_eq!(owner.name, "Buckets 5");
        assert_eq!(owner.r#type.as_deref(), Some("production"));
        assert_eq!(owner.region.as_deref(), Some("us-east-1"));
        assert_eq!(owner.default_backend.as_deref(), Some("snowflake"));
        assert_eq!(owner.features, vec!["f1".to_owned()]);
        assert_eq!(owner.data_size_bytes, Some(112_128));
        assert_eq!(owner.rows_count, Some(1036));
        assert_eq!(owner.limits["a"]["value"], 1);
        assert_eq!(
            info.bucket_permissions.get("in.c-test").map(String::as_str),
            Some("manage")
        );
        assert!(info.component_access.is_empty());
        // The secret is gone from the pass-through copy, everything else is kept.
        assert!(info.raw.get("token").is_none());
        assert_eq!(info.raw["adminOwner"]["email"], "john@example.com");
        assert!(!format!("{info:?}").contains(SECRET));
    }

    #[test]
    fn non_master_token_decodes() {
        let value = json!({"id":45,"description":"Created by john","isMasterToken":false,
            "canManageBuckets":false,"canManageTokens":false,"bucketPermissions":[],
            "creatorToken":{"id":44,"description":"john@example.com"},
            "organization":{"id":73},"owner":{"id":"58","name":"P"}});
        let info: TokenInfo = serde_json::from_value(value).unwrap();
        assert_eq!(info.id, "45");
        assert!(!info.is_master_token);
        assert!(info.admin.is_none());
        assert!(info.bucket_permissions.is_empty());
        assert!(info.component_access.is_empty());
        assert_eq!(
            info.creator_token,
            Some(CreatorToken {
                id: 44,
                description: Some("john@example.com".into())
            })
        );
        assert_eq!(info.organization_id, Some(73));
        assert_eq!(info.owner.unwrap().id, 58);
    }

    #[test]
    fn token_without_id_is_a_shape_error() {
        let err =
            lenient::decode::<TokenInfo>(json!({"description": "x", "token": SECRET})).unwrap_err();
        assert!(!err.0.contains(SECRET));
        assert!(lenient::decode::<TokenInfo>(json!([1, 2])).is_err());
        assert!(lenient::decode::<TokenInfo>(json!({"id": null})).is_err());
    }

    #[test]
    fn empty_array_blocks_are_absent() {
        let info = lenient::decode::<TokenInfo>(
            json!({"id":"1","admin":[],"creatorToken":[],"owner":[],"organization":[]}),
        )
        .unwrap();
        assert!(info.admin.is_none() && info.creator_token.is_none());
        assert!(info.owner.is_none() && info.organization_id.is_none());
    }

    #[test]
    fn new_token_takes_the_secret_out() {
        let new: NewToken = serde_json::from_value(master_verify()).unwrap();
        assert_eq!(new.secret.expose(), SECRET);
        assert!(new.info.raw.get("token").is_none());
        let debug = format!("{new:?} {new:#?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("Token(58-...bc2b)"), "{debug}");
        let missing = NewToken::from_json(json!({"id":"1"})).unwrap_err();
        assert!(missing.0.contains("does not include"));
        let bad = NewToken::from_json(json!({"id":"1","token":"has space in it"})).unwrap_err();
        assert!(!bad.0.contains("space in it"));
    }

    #[test]
    fn storage_create_body_never_has_manage_only_flags() {
        let req = CreateTokenRequest {
            description: Some("ci".into()),
            expires_in: Some(3600),
            component_access: vec!["keboola.ex-db".into()],
            bucket_permissions: [("in.c-a".to_owned(), "read".to_owned())].into(),
            can_manage_buckets: true,
            can_read_all_file_uploads: true,
            can_purge_trash: true,
            can_manage_tokens: true,
            can_read_all_project_events: true,
            can_manage_dev_branches: true,
        };
        assert_eq!(
            req.to_json(TokenRequestTarget::Storage),
            json!({"description":"ci","expiresIn":3600,"componentAccess":["keboola.ex-db"],
                "bucketPermissions":{"in.c-a":"read"},"canManageBuckets":true,
                "canReadAllFileUploads":true,"canPurgeTrash":true})
        );
        assert_eq!(
            req.to_json(TokenRequestTarget::Manage),
            json!({"description":"ci","expiresIn":3600,"componentAccess":["keboola.ex-db"],
                "bucketPermissions":{"in.c-a":"read"},"canManageBuckets":true,
                "canReadAllFileUploads":true,"canPurgeTrash":true,"canManageTokens":true,
                "canReadAllProjectEvents":true,"canManageDevBranches":true})
        );
    }

    #[test]
    fn default_create_body_is_empty() {
        let req = CreateTokenRequest::default();
        assert_eq!(req.to_json(TokenRequestTarget::Storage), json!({}));
        assert_eq!(req.to_json(TokenRequestTarget::Manage), json!({}));
    }
}
