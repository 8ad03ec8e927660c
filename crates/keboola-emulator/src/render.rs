//! JSON shapes of Keboola objects, built by hand so field names and types match the
//! real APIs exactly (ids as strings or ints where Keboola uses them).

use jiff::Timestamp;
use jiff::tz::{self, TimeZone};
use serde_json::{Map, Value, json};

use crate::model::{
    Branch, COMPONENTS, ComponentDef, Config, Creator, ORG_CREATED, Project, Role, Row,
    StorageToken, Store, TokenOrigin, at,
};

/// `2026-11-29T19:14:34+0100`: Connection formats dates in Central European time.
/// A fixed +01:00 offset keeps the output deterministic.
pub(crate) fn time(ts: Timestamp) -> String {
    ts.to_zoned_datetime(TimeZone::fixed(tz::offset(1)))
        .strftime("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
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

pub(crate) fn bucket_permissions(store: &Store, token: &StorageToken) -> Value {
    let buckets = store
        .projects
        .get(&token.project_id)
        .map(|p| p.buckets.clone())
        .unwrap_or_default();
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
    if map.is_empty() {
        json!([])
    } else {
        Value::Object(map)
    }
}

pub(crate) fn token(
    store: &Store,
    t: &StorageToken,
    view: TokenView,
    base_url: &str,
    now: Timestamp,
) -> Value {
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
    o.insert("bucketPermissions".into(), bucket_permissions(store, t));
    if let Some(list) = &t.component_access
        && (!list.is_empty() || t.is_master())
    {
        o.insert("componentAccess".into(), json!(list));
    }
    match &t.origin {
        TokenOrigin::Master { user_id, role } => {
            let user = store.user(*user_id);
            let name = user.map(|u| u.name.clone()).unwrap_or_default();
            let email = user.map(|u| u.email.clone()).unwrap_or_default();
            if view == TokenView::List {
                o.insert(
                    "admin".into(),
                    json!({"id": user_id, "name": name, "role": role.as_str()}),
                );
            } else {
                o.insert(
                    "admin".into(),
                    json!({"id": user_id, "name": name, "features": [], "isOrganizationMember": *user_id == store.admin_user_id,
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
                && let Some(user) = admin_owner.and_then(|id| store.user(id))
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
            json!({"id": store.org_id.to_string()}),
        );
        if let Some(p) = store.projects.get(&t.project_id) {
            o.insert("owner".into(), owner(p));
        }
    }
    Value::Object(o)
}

fn limits() -> Value {
    let mut m = Map::new();
    for (name, value) in [
        ("components.jobsParallelism", json!(10)),
        ("kbc.adminsCount", json!(10)),
        ("kbc.extractorsCount", json!(0)),
        ("storage.dataSizeBytes", json!(50_000_000_000_u64)),
        ("storage.jobsParallelism", json!(10)),
    ] {
        m.insert(name.into(), json!({"name": name, "value": value}));
    }
    Value::Object(m)
}

fn metrics(project: &Project) -> Value {
    let admins = project.members.len();
    let configs = project.default_branch().configs.len();
    json!({
        "kbc.adminsCount": {"name": "kbc.adminsCount", "value": admins},
        "kbc.configurationsCount": {"name": "kbc.configurationsCount", "value": configs},
        "storage.dataSizeBytes": {"name": "storage.dataSizeBytes", "value": 112_128},
        "storage.rowsCount": {"name": "storage.rowsCount", "value": 1036}
    })
}

const PROJECT_FEATURES: &[&str] = &[
    "queuev2",
    "workspace-snowflake-dynamic-backend-size",
    "new-transformations-only",
];

fn project_common(p: &Project) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(p.id));
    o.insert("name".into(), json!(p.name));
    o.insert("type".into(), json!("production"));
    o.insert("region".into(), json!("us-east-1"));
    o.insert("created".into(), json!(time(p.created)));
    o.insert("expires".into(), Value::Null);
    o.insert("features".into(), json!(PROJECT_FEATURES));
    o.insert("dataSizeBytes".into(), json!(112_128));
    o.insert("rowsCount".into(), json!(1036));
    for backend in [
        "hasMysql",
        "hasRedshift",
        "hasSnowflake",
        "hasSynapse",
        "hasExasol",
        "hasTeradata",
        "hasBigquery",
    ] {
        o.insert(backend.into(), json!(backend == "hasSnowflake"));
    }
    o.insert("defaultBackend".into(), json!("snowflake"));
    o.insert("hasTryModeOn".into(), json!(false));
    o.insert("limits".into(), limits());
    o.insert("metrics".into(), metrics(p));
    o.insert("isDisabled".into(), json!(false));
    o.insert("billedMonthlyPrice".into(), Value::Null);
    o.insert("dataRetentionTimeInDays".into(), json!(7));
    o
}

/// The `owner` block of a Storage token (the project, as Storage sees it).
pub(crate) fn owner(p: &Project) -> Value {
    let mut o = project_common(p);
    o.insert("assignedBackends".into(), json!(["snowflake"]));
    o.insert("fileStorageProvider".into(), json!("aws"));
    Value::Object(o)
}

pub(crate) fn organization_brief(store: &Store) -> Value {
    json!({
        "id": store.org_id,
        "name": store.org_name,
        "crmId": "",
        "activityCenterProjectId": null,
        "created": time(at(ORG_CREATED)),
        "allowAutoJoin": false
    })
}

/// Manage API `ProjectModel`.
pub(crate) fn project_model(store: &Store, p: &Project) -> Value {
    let mut o = project_common(p);
    o.insert("organization".into(), organization_brief(store));
    o.insert(
        "fileStorage".into(),
        json!({"id": 1, "provider": "aws", "region": "us-east-1", "awsKey": "AKIAEMULATOR", "filesBucket": "kbc-emulator-files"}),
    );
    o.insert(
        "backends".into(),
        json!({"snowflake": {"id": 1, "host": "emulator.snowflakecomputing.com", "region": "us-east-1", "owner": "keboola"}}),
    );
    o.insert("timezone".into(), json!("Europe/Prague"));
    Value::Object(o)
}

pub(crate) fn organization(store: &Store) -> Value {
    let mut o = organization_brief(store)
        .as_object()
        .cloned()
        .unwrap_or_default();
    o.insert("mfaRequired".into(), json!(false));
    o.insert(
        "projects".into(),
        json!(
            store
                .projects
                .values()
                .map(|p| json!({"id": p.id, "name": p.name, "created": time(p.created)}))
                .collect::<Vec<_>>()
        ),
    );
    Value::Object(o)
}

pub(crate) fn component(def: &ComponentDef, base_url: &str) -> Map<String, Value> {
    let ico = format!("{base_url}/static/icons/{}.png", def.id);
    let mut o = Map::new();
    o.insert("id".into(), json!(def.id));
    o.insert("type".into(), json!(def.kind));
    o.insert("name".into(), json!(def.name));
    o.insert("description".into(), json!(def.description));
    o.insert(
        "longDescription".into(),
        json!(format!("{} (emulated component).", def.description)),
    );
    o.insert("version".into(), json!(1));
    o.insert("complexity".into(), json!("medium"));
    o.insert("categories".into(), json!(def.categories));
    o.insert("hasUI".into(), json!(false));
    o.insert("hasRun".into(), json!(true));
    o.insert("ico32".into(), json!(ico));
    o.insert("ico64".into(), json!(ico));
    o.insert("ico128".into(), json!(ico));
    o.insert(
        "data".into(),
        json!({"definition": {"type": "aws-ecr", "uri": format!("keboola/{}", def.id), "tag": "1.0.0"}}),
    );
    o.insert("flags".into(), json!(def.flags));
    o.insert("configurationSchema".into(), json!({}));
    o.insert("configurationRowSchema".into(), json!({}));
    o.insert("emptyConfiguration".into(), json!({}));
    o.insert("emptyConfigurationRow".into(), json!({}));
    o.insert("uiOptions".into(), json!({}));
    o.insert("configurationDescription".into(), json!(""));
    o.insert("features".into(), json!([]));
    o.insert("expiredOn".into(), Value::Null);
    o.insert("uri".into(), json!(format!("{base_url}/docker/{}", def.id)));
    o.insert(
        "documentationUrl".into(),
        json!(format!("https://help.keboola.com/components/{}/", def.id)),
    );
    o
}

/// The `components` list of the Storage API index.
pub(crate) fn index_components(base_url: &str, details: bool) -> Value {
    let list: Vec<Value> = COMPONENTS
        .iter()
        .map(|def| {
            let full = component(def, base_url);
            if details {
                Value::Object(full)
            } else {
                let keep = [
                    "id",
                    "name",
                    "type",
                    "ico64",
                    "ico128",
                    "description",
                    "features",
                    "flags",
                    "categories",
                ];
                Value::Object(
                    full.into_iter()
                        .filter(|(k, _)| keep.contains(&k.as_str()))
                        .collect(),
                )
            }
        })
        .collect();
    Value::Array(list)
}

fn row(r: &Row) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "isDisabled": r.is_disabled,
        "version": r.version,
        "created": time(r.created),
        "configuration": r.configuration,
        "state": {}
    })
}

/// A configuration. `with_body` adds `configuration`, `with_rows` adds `rows`.
pub(crate) fn config(c: &Config, with_body: bool, with_rows: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(c.id));
    o.insert("name".into(), json!(c.name));
    o.insert("description".into(), json!(c.description));
    o.insert("created".into(), json!(time(c.created)));
    o.insert("creatorToken".into(), creator(&c.creator));
    o.insert("version".into(), json!(c.version));
    o.insert("changeDescription".into(), json!(c.change_description));
    o.insert("isDeleted".into(), json!(false));
    o.insert("isDisabled".into(), json!(c.is_disabled));
    if with_body {
        o.insert("configuration".into(), c.configuration.clone());
    }
    o.insert("rowsSortOrder".into(), json!([]));
    if with_rows {
        o.insert(
            "rows".into(),
            Value::Array(c.rows.iter().map(row).collect()),
        );
    }
    o.insert("state".into(), c.state.clone());
    o.insert(
        "currentVersion".into(),
        json!({
            "created": time(c.version_created),
            "creatorToken": creator(&c.version_creator),
            "changeDescription": c.change_description,
            "versionIdentifier": format!("{:016x}{:016x}", c.id.parse::<u64>().unwrap_or(0), c.version)
        }),
    );
    Value::Object(o)
}

pub(crate) fn branch(b: &Branch, store: &Store) -> Value {
    let creator = match &b.creator {
        // Main has no creator and PHP renders the empty value as a list.
        None => json!([]),
        Some(c) => {
            let name = store
                .tokens
                .get(&c.id)
                .map_or_else(|| c.description.clone(), |t| t.description.clone());
            json!({"id": c.id, "name": name})
        }
    };
    json!({
        "id": b.id,
        "name": b.name,
        "description": b.description,
        "created": time(b.created),
        "isDefault": b.is_default,
        "creatorToken": creator
    })
}
