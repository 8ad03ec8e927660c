//! Typed views of Keboola's JSON objects.
//!
//! Decoding is tolerant on purpose: unknown keys are kept (in `raw`), ids may arrive
//! as strings or numbers, PHP serializes an empty map as `[]`, and optional blocks may
//! be missing. Only a missing identity (such as a token without `id`) is an error.
//! Each type's `Deserialize` goes through `serde_json::Value`, so `raw` always holds
//! the object as received (minus any secret).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::secret::Token;

/// A Storage API token's metadata. The secret itself is never kept here: the `token`
/// key is removed from `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: String,
    pub description: Option<String>,
    pub created: Option<String>,
    pub refreshed: Option<String>,
    pub expires: Option<String>,
    pub is_expired: bool,
    pub is_disabled: bool,
    pub is_master_token: bool,
    pub can_manage_tokens: bool,
    pub can_manage_buckets: bool,
    pub can_read_all_file_uploads: bool,
    pub can_purge_trash: bool,
    pub component_access: Vec<String>,
    pub bucket_permissions: BTreeMap<String, String>,
    pub admin: Option<TokenAdmin>,
    pub creator_token: Option<CreatorToken>,
    pub owner: Option<ProjectOwner>,
    pub organization_id: Option<u64>,
    /// The object as received, without the `token` key.
    pub raw: Value,
}

/// The user behind a master token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAdmin {
    pub id: u64,
    pub name: String,
    pub role: Option<String>,
}

/// The token that created this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorToken {
    pub id: u64,
    pub description: Option<String>,
}

/// The project a token belongs to (`owner` in Keboola's JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectOwner {
    pub id: u64,
    pub name: String,
    pub region: Option<String>,
    pub r#type: Option<String>,
    pub default_backend: Option<String>,
    pub features: Vec<String>,
    pub limits: Value,
    pub metrics: Value,
    pub data_size_bytes: Option<u64>,
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

/// The answer of `GET /manage/tokens/verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageTokenInfo {
    pub id: Option<u64>,
    pub description: Option<String>,
    pub r#type: Option<String>,
    pub expires: Option<String>,
    pub is_expired: bool,
    pub user: Option<ManageUser>,
}

/// The user a Manage token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageUser {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// A project as the Manage API describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ManageProject {
    pub id: u64,
    pub name: String,
    pub organization: Option<ManageOrganization>,
    pub raw: Value,
}

/// The organization a project belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageOrganization {
    pub id: u64,
    pub name: String,
}

/// The Storage API index (`GET /v2/storage`).
#[derive(Debug, Clone, PartialEq)]
pub struct StackIndex {
    pub services: Vec<ServiceEntry>,
    pub features: Vec<String>,
    pub raw: Value,
}

/// One service of the stack, such as `queue` or `encryption`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub id: String,
    pub url: String,
}

impl StackIndex {
    /// The base URL of the service with this id, if the stack lists it.
    pub fn service_url(&self, id: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.url.as_str())
    }
}

/// A component with its configurations in one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub r#type: String,
    pub configurations: Vec<Configuration>,
    /// The component definition as received, without `configurations`.
    pub raw: Value,
}

/// A component configuration as listed with the component.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created: Option<String>,
    pub version: Option<u64>,
    pub change_description: Option<String>,
    pub is_disabled: bool,
    pub is_deleted: bool,
    pub current_version: Option<Value>,
    pub creator_token: Option<Value>,
    /// Present when rows were requested.
    pub rows: Option<Vec<Value>>,
    pub raw: Value,
}

/// A development branch; the default branch has `is_default` set.
#[derive(Debug, Clone, PartialEq)]
pub struct DevBranch {
    pub id: u64,
    pub name: String,
    pub is_default: bool,
    pub raw: Value,
}

/// Why a JSON value did not fit a model. Says which field, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShapeError(pub(crate) String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn expect_object<'v>(value: &'v Value, what: &str) -> Result<&'v Map<String, Value>, ShapeError> {
    value
        .as_object()
        .ok_or_else(|| ShapeError(format!("expected {what} to be a JSON object")))
}

/// Reads an id that may be a string or a non-negative integer.
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an unsigned integer that may be sent as a number or a numeric string.
fn uint(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64().is_some_and(|n| n != 0),
        _ => false,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| text(Some(v))).collect())
        .unwrap_or_default()
}

/// `{"bucket": "read"}`, or `[]` for an empty map as PHP writes it.
fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| text(Some(v)).map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

fn json_or_null(value: Option<&Value>) -> Value {
    value.cloned().unwrap_or(Value::Null)
}

/// `null`, `[]` and `{}` all mean "absent" for optional blocks.
fn block(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object).filter(|m| !m.is_empty())
}

impl TokenInfo {
    pub(crate) fn from_json(mut value: Value) -> Result<TokenInfo, ShapeError> {
        if let Some(map) = value.as_object_mut() {
            map.remove("token");
        }
        let o = expect_object(&value, "a token")?;
        let id =
            id_text(o.get("id")).ok_or_else(|| ShapeError("the token has no \"id\"".into()))?;
        let admin = block(o.get("admin")).and_then(|a| {
            Some(TokenAdmin {
                id: uint(a.get("id"))?,
                name: text(a.get("name")).unwrap_or_default(),
                role: text(a.get("role")),
            })
        });
        let creator_token = block(o.get("creatorToken")).and_then(|c| {
            Some(CreatorToken {
                id: uint(c.get("id"))?,
                description: text(c.get("description")),
            })
        });
        let owner = block(o.get("owner")).and_then(|p| {
            Some(ProjectOwner {
                id: uint(p.get("id"))?,
                name: text(p.get("name")).unwrap_or_default(),
                region: text(p.get("region")),
                r#type: text(p.get("type")),
                default_backend: text(p.get("defaultBackend")),
                features: strings(p.get("features")),
                limits: json_or_null(p.get("limits")),
                metrics: json_or_null(p.get("metrics")),
                data_size_bytes: uint(p.get("dataSizeBytes")),
                rows_count: uint(p.get("rowsCount")),
            })
        });
        let organization_id = block(o.get("organization")).and_then(|org| uint(org.get("id")));
        Ok(TokenInfo {
            id,
            description: text(o.get("description")),
            created: text(o.get("created")),
            refreshed: text(o.get("refreshed")),
            expires: text(o.get("expires")),
            is_expired: flag(o.get("isExpired")),
            is_disabled: flag(o.get("isDisabled")),
            is_master_token: flag(o.get("isMasterToken")),
            can_manage_tokens: flag(o.get("canManageTokens")),
            can_manage_buckets: flag(o.get("canManageBuckets")),
            can_read_all_file_uploads: flag(o.get("canReadAllFileUploads")),
            can_purge_trash: flag(o.get("canPurgeTrash")),
            component_access: strings(o.get("componentAccess")),
            bucket_permissions: string_map(o.get("bucketPermissions")),
            admin,
            creator_token,
            owner,
            organization_id,
            raw: value,
        })
    }
}

impl NewToken {
    /// A create or refresh answer: the token object including its `token` secret.
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
        let info = TokenInfo::from_json(value)?;
        Ok(NewToken { info, secret })
    }
}

impl ManageTokenInfo {
    pub(crate) fn from_json(value: &Value) -> Result<ManageTokenInfo, ShapeError> {
        let o = expect_object(value, "a Manage token")?;
        let user = block(o.get("user")).and_then(|u| {
            Some(ManageUser {
                id: uint(u.get("id"))?,
                name: text(u.get("name")).unwrap_or_default(),
                email: text(u.get("email")).unwrap_or_default(),
            })
        });
        Ok(ManageTokenInfo {
            id: uint(o.get("id")),
            description: text(o.get("description")),
            r#type: text(o.get("type")),
            expires: text(o.get("expires")),
            is_expired: flag(o.get("isExpired")),
            user,
        })
    }
}

impl ManageProject {
    pub(crate) fn from_json(value: Value) -> Result<ManageProject, ShapeError> {
        let o = expect_object(&value, "a project")?;
        let id = uint(o.get("id"))
            .ok_or_else(|| ShapeError("the project has no numeric \"id\"".into()))?;
        let organization = block(o.get("organization")).and_then(|org| {
            Some(ManageOrganization {
                id: uint(org.get("id"))?,
                name: text(org.get("name")).unwrap_or_default(),
            })
        });
        Ok(ManageProject {
            id,
            name: text(o.get("name")).unwrap_or_default(),
            organization,
            raw: value,
        })
    }
}

impl StackIndex {
    pub(crate) fn from_json(value: Value) -> Result<StackIndex, ShapeError> {
        let o = expect_object(&value, "the API index")?;
        let services = o
            .get("services")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| {
                        Some(ServiceEntry {
                            id: text(s.get("id"))?,
                            url: text(s.get("url"))?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(StackIndex {
            services,
            features: strings(o.get("features")),
            raw: value,
        })
    }
}

impl Component {
    pub(crate) fn from_json(mut value: Value) -> Result<Component, ShapeError> {
        let configs = value
            .as_object_mut()
            .and_then(|o| o.remove("configurations"))
            .unwrap_or(Value::Null);
        let o = expect_object(&value, "a component")?;
        let id =
            id_text(o.get("id")).ok_or_else(|| ShapeError("a component has no \"id\"".into()))?;
        let configurations = match configs {
            Value::Array(items) => items
                .into_iter()
                .map(Configuration::from_json)
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        Ok(Component {
            id,
            name: text(o.get("name")).unwrap_or_default(),
            r#type: text(o.get("type")).unwrap_or_default(),
            configurations,
            raw: value,
        })
    }
}

impl Configuration {
    pub(crate) fn from_json(value: Value) -> Result<Configuration, ShapeError> {
        let o = expect_object(&value, "a configuration")?;
        let id = id_text(o.get("id"))
            .ok_or_else(|| ShapeError("a configuration has no \"id\"".into()))?;
        let present = |key: &str| o.get(key).filter(|v| !v.is_null()).cloned();
        let mut config = Configuration {
            id,
            name: text(o.get("name")).unwrap_or_default(),
            description: text(o.get("description")),
            created: text(o.get("created")),
            version: uint(o.get("version")),
            change_description: text(o.get("changeDescription")),
            is_disabled: flag(o.get("isDisabled")),
            is_deleted: flag(o.get("isDeleted")),
            current_version: present("currentVersion"),
            creator_token: present("creatorToken"),
            rows: o.get("rows").and_then(Value::as_array).cloned(),
            raw: Value::Null,
        };
        config.raw = value;
        Ok(config)
    }
}

impl DevBranch {
    pub(crate) fn from_json(value: Value) -> Result<DevBranch, ShapeError> {
        let o = expect_object(&value, "a branch")?;
        let id =
            uint(o.get("id")).ok_or_else(|| ShapeError("a branch has no numeric \"id\"".into()))?;
        Ok(DevBranch {
            id,
            name: text(o.get("name")).unwrap_or_default(),
            is_default: flag(o.get("isDefault")),
            raw: value,
        })
    }
}

/// Decodes a JSON array with `item`, failing on anything that is not an array.
pub(crate) fn list_of<T>(
    value: Value,
    what: &str,
    item: impl Fn(Value) -> Result<T, ShapeError>,
) -> Result<Vec<T>, ShapeError> {
    match value {
        Value::Array(items) => items.into_iter().map(item).collect(),
        _ => Err(ShapeError(format!("expected a JSON array of {what}"))),
    }
}

macro_rules! deserialize_via_value {
    ($($ty:ty => $conv:expr),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                #[allow(clippy::redundant_closure_call, reason = "the macro takes a conversion expression")]
                ($conv)(value).map_err(|e: ShapeError| serde::de::Error::custom(e.0))
            }
        }
    )*};
}

deserialize_via_value! {
    TokenInfo => TokenInfo::from_json,
    NewToken => NewToken::from_json,
    ManageTokenInfo => |v: Value| ManageTokenInfo::from_json(&v),
    ManageProject => ManageProject::from_json,
    StackIndex => StackIndex::from_json,
    Component => Component::from_json,
    Configuration => Configuration::from_json,
    DevBranch => DevBranch::from_json,
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
        let err = TokenInfo::from_json(json!({"description": "x", "token": SECRET})).unwrap_err();
        assert!(!err.0.contains(SECRET));
        assert!(TokenInfo::from_json(json!([1, 2])).is_err());
        assert!(TokenInfo::from_json(json!({"id": null})).is_err());
    }

    #[test]
    fn empty_array_blocks_are_absent() {
        let info = TokenInfo::from_json(
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

    #[test]
    fn manage_project_decodes() {
        let project: ManageProject = serde_json::from_value(
            json!({"id":"58","name":"Prod","organization":{"id":"73","name":"Acme","allowAutoJoin":true}}),
        )
        .unwrap();
        assert_eq!(project.id, 58);
        assert_eq!(
            project.organization,
            Some(ManageOrganization {
                id: 73,
                name: "Acme".into()
            })
        );
        assert_eq!(project.raw["organization"]["allowAutoJoin"], true);
        assert!(serde_json::from_value::<ManageProject>(json!({"name":"x"})).is_err());
    }

    #[test]
    fn index_decodes() {
        let index: StackIndex = serde_json::from_value(json!({"api":"storage","version":"v2",
            "services":[{"id":"queue","url":"https://queue.keboola.com"},{"id":"encryption","url":"https://encryption.keboola.com"},{"bogus":1}],
            "features":["a","b"]})).unwrap();
        assert_eq!(
            index.service_url("queue"),
            Some("https://queue.keboola.com")
        );
        assert_eq!(
            index.service_url("encryption"),
            Some("https://encryption.keboola.com")
        );
        assert_eq!(index.service_url("scheduler"), None);
        assert_eq!(index.services.len(), 2);
        assert_eq!(index.features, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(index.raw["api"], "storage");
    }

    #[test]
    fn components_decode_with_rows() {
        let value = json!({"id":"keboola.ex-db-mysql","type":"extractor","name":"MySQL","flags":[],
            "configurations":[{"id":"123","name":"Prod DB","description":"","created":"2024-01-01T10:00:00+0100",
                "creatorToken":{"id":5,"description":"me"},"version":4,"changeDescription":"edit",
                "isDeleted":false,"isDisabled":true,"currentVersion":{"versionIdentifier":"x"},
                "configuration":{"#password":"KBC::ProjectSecure::abc"},
                "rows":[{"id":"r1"}]}]});
        let c: Component = serde_json::from_value(value).unwrap();
        assert_eq!(
            (c.id.as_str(), c.name.as_str(), c.r#type.as_str()),
            ("keboola.ex-db-mysql", "MySQL", "extractor")
        );
        assert!(c.raw.get("configurations").is_none());
        assert_eq!(c.raw["flags"], json!([]));
        let cfg = &c.configurations[0];
        assert_eq!(cfg.id, "123");
        assert_eq!(cfg.version, Some(4));
        assert!(cfg.is_disabled && !cfg.is_deleted);
        assert_eq!(cfg.change_description.as_deref(), Some("edit"));
        assert_eq!(cfg.rows.as_ref().map(Vec::len), Some(1));
        assert_eq!(cfg.creator_token.as_ref().unwrap()["id"], 5);
        assert_eq!(
            cfg.raw["configuration"]["#password"],
            "KBC::ProjectSecure::abc"
        );
        let bare: Component =
            serde_json::from_value(json!({"id":"x","configurations":[{"id":7}]})).unwrap();
        assert_eq!(bare.configurations[0].id, "7");
        assert_eq!(bare.configurations[0].rows, None);
    }

    #[test]
    fn dev_branches_decode() {
        let list = list_of(
            json!([{"id":123,"name":"My branch","isDefault":false,"creatorToken":{"id":267}},
                   {"id":"5","name":"Main","isDefault":true,"creatorToken":[]}]),
            "branches",
            DevBranch::from_json,
        )
        .unwrap();
        assert_eq!(list[0].id, 123);
        assert!(!list[0].is_default);
        assert_eq!(list[1].id, 5);
        assert!(list[1].is_default);
        assert_eq!(list[1].raw["creatorToken"], json!([]));
        assert!(list_of(json!({"id":1}), "branches", DevBranch::from_json).is_err());
    }
}
