//! Storage tokens: state, the Keboola JSON shape, and (in `handlers`) the endpoints.

mod handlers;
mod table;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::http::{ApiError, mask_token, time};
use crate::manage::projects::{self, Role, owner};
use crate::manage::{organizations, users};
use crate::state::Store;
use crate::storage::buckets;

pub(crate) use handlers::{
    authenticate, create, delete, get, list, new_child, parse_bucket_permissions,
    parse_component_access, parse_expires_in, refresh, update,
};
pub(crate) use table::{
    SCHEMA, SEQUENCE, by_id, by_secret, count_of_project, delete as delete_row, of_project,
    purge_expired, save,
};

/// The token that created another token or a configuration version.
#[derive(Clone, Debug)]
pub(crate) struct Creator {
    pub id: u64,
    pub description: String,
}

#[derive(Clone, Debug)]
pub(crate) enum TokenOrigin {
    /// The per-user token of a project member: `isMasterToken` true, carries `admin`.
    Master { user_id: u64, role: Role },
    /// Minted through the Storage API by another token.
    Storage {
        creator: Creator,
        admin_owner: Option<u64>,
    },
    /// Minted through the Manage API by a user's personal access token.
    Manage,
}

#[derive(Clone)]
pub(crate) struct StorageToken {
    pub id: u64,
    pub project_id: u64,
    pub secret: String,
    pub description: String,
    pub created: Timestamp,
    pub refreshed: Timestamp,
    pub expires: Option<Timestamp>,
    pub origin: TokenOrigin,
    pub can_manage_buckets: bool,
    pub can_manage_tokens: bool,
    pub can_read_all_file_uploads: bool,
    pub can_purge_trash: bool,
    pub can_read_all_project_events: bool,
    pub can_manage_dev_branches: bool,
    /// Explicit grants; ignored when `can_manage_buckets` (every bucket is `manage` then).
    pub bucket_permissions: BTreeMap<String, String>,
    /// `None` renders as an absent key, which is what Connection does for fresh tokens.
    pub component_access: Option<Vec<String>>,
}

impl StorageToken {
    pub fn is_master(&self) -> bool {
        matches!(self.origin, TokenOrigin::Master { .. })
    }

    pub fn role(&self) -> Option<Role> {
        match self.origin {
            TokenOrigin::Master { role, .. } => Some(role),
            _ => None,
        }
    }

    pub fn creator(&self) -> Creator {
        Creator {
            id: self.id,
            description: self.description.clone(),
        }
    }

    /// Whether this token may read and edit configurations of `component_id`. A token with
    /// `canManageBuckets` ("full access" in the UI's token form) reaches every component;
    /// other non-master tokens only those listed in `componentAccess`. UNCERTAIN: inferred
    /// from tokens minted with canManageBuckets (e.g. by the Manage API) being used to list
    /// configurations in practice; the SAPI tests only show tokens without it being refused.
    pub fn can_use_component(&self, component_id: &str) -> bool {
        self.can_manage_buckets || self.has_component_access(component_id)
    }

    /// Whether this token may use any component endpoint at all.
    pub fn can_use_some_component(&self) -> bool {
        self.is_master()
            || self.can_manage_buckets
            || self
                .component_access
                .as_ref()
                .is_some_and(|l| !l.is_empty())
    }

    /// Whether this token is master or explicitly scoped to `component_id`: what the OAuth
    /// wizard requires of the token it is given.
    pub fn has_component_access(&self, component_id: &str) -> bool {
        self.is_master()
            || self
                .component_access
                .as_ref()
                .is_some_and(|list| list.iter().any(|c| c == component_id))
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }
}

impl fmt::Debug for StorageToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageToken")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("secret", &mask_token(&self.secret))
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

pub(crate) fn creator(c: &Creator) -> Value {
    json!({"id": c.id, "description": c.description})
}

/// How much of a token to show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenView {
    /// verify, create, refresh: includes the secret.
    WithSecret,
    /// `GET /tokens/{id}`: no secret, `adminOwner` on tokens an admin created.
    Detail,
    /// `GET /tokens`: no secret, `admin` trimmed to `{id,name,role}`.
    List,
}

fn bucket_permissions(store: &Store, token: &StorageToken) -> Result<Value, ApiError> {
    let buckets = buckets::ids(store, token.project_id)?;
    let mut map = Map::new();
    if token.can_manage_buckets {
        for b in buckets {
            map.insert(b, json!("manage"));
        }
    } else if token.role() == Some(Role::ReadOnly) {
        for b in buckets {
            map.insert(b, json!("read"));
        }
    } else {
        for (b, p) in &token.bucket_permissions {
            map.insert(b.clone(), json!(p));
        }
    }
    // PHP serializes an empty associative array as a JSON list.
    Ok(if map.is_empty() {
        json!([])
    } else {
        Value::Object(map)
    })
}

pub(crate) fn render(
    store: &Store,
    t: &StorageToken,
    view: TokenView,
    base_url: &str,
    now: Timestamp,
) -> Result<Value, ApiError> {
    let mut o = Map::new();
    o.insert("id".into(), json!(t.id.to_string()));
    if view == TokenView::WithSecret {
        o.insert("token".into(), json!(t.secret));
    }
    o.insert("description".into(), json!(t.description));
    o.insert("created".into(), json!(time(t.created)));
    o.insert("refreshed".into(), json!(time(t.refreshed)));
    o.insert(
        "uri".into(),
        json!(format!("{base_url}/v2/storage/tokens/{}", t.id)),
    );
    o.insert("isMasterToken".into(), json!(t.is_master()));
    o.insert("canManageBuckets".into(), json!(t.can_manage_buckets));
    o.insert("canManageTokens".into(), json!(t.can_manage_tokens));
    o.insert(
        "canReadAllFileUploads".into(),
        json!(t.can_read_all_file_uploads),
    );
    o.insert("canPurgeTrash".into(), json!(t.can_purge_trash));
    o.insert("canManageProtectedDefaultBranch".into(), json!(false));
    o.insert("canCreateJobs".into(), json!(false));
    o.insert(
        "canReadAllProjectEvents".into(),
        json!(t.can_read_all_project_events),
    );
    o.insert(
        "canManageDevBranches".into(),
        json!(t.can_manage_dev_branches),
    );
    o.insert(
        "expires".into(),
        t.expires.map_or(Value::Null, |e| json!(time(e))),
    );
    o.insert("isExpired".into(), json!(t.is_expired(now)));
    o.insert("isDisabled".into(), json!(false));
    o.insert("isBYODB".into(), json!(false));
    o.insert("dailyCapacity".into(), json!(0));
    o.insert("bucketPermissions".into(), bucket_permissions(store, t)?);
    if let Some(list) = &t.component_access
        && (!list.is_empty() || t.is_master())
    {
        o.insert("componentAccess".into(), json!(list));
    }
    match &t.origin {
        TokenOrigin::Master { user_id, role } => {
            let user = users::by_id(&store.db, *user_id)?;
            let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
            let email = user.map(|u| u.email).unwrap_or_default();
            let org_member = organizations::is_member(&store.db, *user_id)?;
            if view == TokenView::List {
                o.insert(
                    "admin".into(),
                    json!({"id": user_id, "name": name, "role": role.as_str()}),
                );
            } else {
                o.insert(
                    "admin".into(),
                    json!({"id": user_id, "name": name, "features": [], "isOrganizationMember": org_member,
                           "role": role.as_str(), "isActivated": true}),
                );
                o.insert(
                    "adminOwner".into(),
                    json!({"id": user_id, "name": name, "email": email}),
                );
            }
        }
        TokenOrigin::Storage {
            creator: c,
            admin_owner,
        } => {
            o.insert("creatorToken".into(), creator(c));
            if view == TokenView::Detail
                && let Some(id) = admin_owner
                && let Some(user) = users::by_id(&store.db, *id)?
            {
                o.insert(
                    "adminOwner".into(),
                    json!({"id": user.id, "name": user.name, "email": user.email}),
                );
            }
        }
        // UNCERTAIN: whether Connection shows a `creatorToken` on Manage-API-minted tokens.
        // They have no creating Storage token, so the key is left out.
        TokenOrigin::Manage => {}
    }
    if view != TokenView::List {
        o.insert(
            "organization".into(),
            json!({"id": organizations::the(&store.db)?.id.to_string()}),
        );
        if let Some(p) = projects::by_id(&store.db, t.project_id)? {
            o.insert("owner".into(), owner(store, &p)?);
        }
    }
    Ok(Value::Object(o))
}
