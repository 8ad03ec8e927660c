//! The in-memory Keboola stack: organization, users, projects, tokens, configurations.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::mask_token;

/// Seconds an expired token keeps answering `storage.tokenExpired` before it is purged
/// (Connection deletes expired tokens from a cron that runs every minute).
pub(crate) const EXPIRED_GRACE_SECONDS: i64 = 60;

pub(crate) const OAUTH_COMPONENT: &str = "keboola.ex-google-drive";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Admin,
    Guest,
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Guest => "guest",
            Role::ReadOnly => "readOnly",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

#[derive(Clone)]
pub(crate) struct ManageToken {
    pub id: u64,
    pub secret: String,
    pub description: String,
    pub user_id: u64,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

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

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub description: String,
    pub configuration: Value,
    pub is_disabled: bool,
    pub version: u64,
    pub created: Timestamp,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub component_id: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub creator: Creator,
    pub version: u64,
    pub change_description: String,
    pub version_created: Timestamp,
    pub version_creator: Creator,
    pub is_disabled: bool,
    pub configuration: Value,
    pub rows: Vec<Row>,
    pub state: Value,
}

#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub created: Timestamp,
    pub creator: Option<Creator>,
    pub configs: Vec<Config>,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub id: u64,
    pub name: String,
    pub created: Timestamp,
    pub buckets: Vec<String>,
    pub branches: Vec<Branch>,
    pub members: Vec<(u64, Role)>,
}

impl Project {
    pub fn default_branch(&self) -> &Branch {
        self.branches
            .iter()
            .find(|b| b.is_default)
            .unwrap_or(&self.branches[0])
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ComponentDef {
    pub id: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub flags: &'static [&'static str],
    pub categories: &'static [&'static str],
}

impl ComponentDef {
    pub fn uses_oauth(&self) -> bool {
        self.flags.contains(&"genericDockerUI-authorization")
    }
}

pub(crate) const COMPONENTS: &[ComponentDef] = &[
    ComponentDef {
        id: "keboola.ex-db-snowflake",
        kind: "extractor",
        name: "Snowflake",
        description: "Cloud data warehouse",
        flags: &["genericDockerUI-tableInput"],
        categories: &["Database"],
    },
    ComponentDef {
        id: "keboola.ex-google-drive",
        kind: "extractor",
        name: "Google Drive",
        description: "Import spreadsheets from Google Drive",
        flags: &["genericDockerUI", "genericDockerUI-authorization"],
        categories: &["Files"],
    },
    ComponentDef {
        id: "keboola.ex-http",
        kind: "extractor",
        name: "HTTP",
        description: "Download CSV files from a URL",
        flags: &["genericDockerUI"],
        categories: &["Files"],
    },
    ComponentDef {
        id: "keboola.snowflake-transformation",
        kind: "transformation",
        name: "Snowflake SQL",
        description: "Transform data with Snowflake SQL",
        flags: &["genericCodeBlocksUI", "genericVariablesUI"],
        categories: &[],
    },
    ComponentDef {
        id: "keboola.flow",
        kind: "other",
        name: "Flow",
        description: "Run components in phases",
        flags: &["excludeFromNewList"],
        categories: &[],
    },
];

pub(crate) fn component_def(id: &str) -> Option<&'static ComponentDef> {
    COMPONENTS.iter().find(|c| c.id == id)
}

#[derive(Clone)]
pub(crate) struct Store {
    pub org_id: u64,
    pub org_name: String,
    pub users: Vec<User>,
    pub admin_user_id: u64,
    pub outsider_user_id: u64,
    pub manage_tokens: Vec<ManageToken>,
    pub projects: BTreeMap<u64, Project>,
    pub tokens: BTreeMap<u64, StorageToken>,
    pub next_token_id: u64,
    pub next_config_id: u64,
    pub next_event_id: u64,
}

impl Store {
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn token_by_secret(&self, secret: &str) -> Option<&StorageToken> {
        self.tokens.values().find(|t| t.secret == secret)
    }

    /// Deletes tokens whose grace period after expiry is over, as Connection's cron does.
    pub fn purge_expired(&mut self, now: Timestamp) {
        let grace = SignedDuration::from_secs(EXPIRED_GRACE_SECONDS);
        self.tokens.retain(|_, t| {
            t.expires
                .is_none_or(|e| now < e.saturating_add(grace).unwrap_or(e))
        });
    }

    pub fn allocate_token_id(&mut self) -> u64 {
        let id = self.next_token_id;
        self.next_token_id += 1;
        id
    }

    pub fn allocate_event_id(&mut self) -> u64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        id
    }
}

pub(crate) fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    rng.sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub(crate) fn new_storage_secret(rng: &mut impl Rng, project_id: u64, token_id: u64) -> String {
    format!("{project_id}-{token_id}-{}", random_alnum(rng, 40))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An opaque cipher text. Nothing ever decrypts it, so random bytes sized after the
/// plaintext are as good as real ciphertext for every client-visible purpose.
pub(crate) fn cipher(rng: &mut impl Rng, prefix: &str, plaintext: &str) -> String {
    let mut bytes = vec![0u8; 48 + plaintext.len()];
    rng.fill(bytes.as_mut_slice());
    format!("KBC::{prefix}::{}", base64(&bytes))
}

/// A seed file: fixes the secrets of the seeded state so the ready line is reproducible.
///
/// Every field is optional. `random_seed` makes all generated secrets deterministic;
/// explicit token values override single secrets.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outsider_manage_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<SeedProject>,
}

/// Overrides for one seeded project, matched by `id`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub tokens: SeedTokens,
}

/// Full Storage token values (`<projectId>-<tokenId>-<secret>`) for a seeded project.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTokens {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

impl Seed {
    /// Reads a seed file (JSON).
    pub fn from_file(path: &Path) -> anyhow::Result<Seed> {
        load_seed(path)
    }
}

/// Reads and parses a seed file (JSON, see docs/emulator.md for the format).
pub fn load_seed(path: &Path) -> anyhow::Result<Seed> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read seed file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("seed file {} is not valid", path.display()))
}

fn opt_masked(v: Option<&String>) -> Option<String> {
    v.map(|s| mask_token(s))
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seed")
            .field("random_seed", &self.random_seed)
            .field("manage_token", &opt_masked(self.manage_token.as_ref()))
            .field(
                "outsider_manage_token",
                &opt_masked(self.outsider_manage_token.as_ref()),
            )
            .field("projects", &self.projects)
            .finish()
    }
}

impl fmt::Debug for SeedProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedProject")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl fmt::Debug for SeedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedTokens")
            .field("admin", &opt_masked(self.admin.as_ref()))
            .field("guest", &opt_masked(self.guest.as_ref()))
            .field("read_only", &opt_masked(self.read_only.as_ref()))
            .field("storage", &opt_masked(self.storage.as_ref()))
            .finish()
    }
}

const FIRST_PROJECT_ID: u64 = 101;
const FIRST_STORAGE_TOKEN_ID: u64 = 1001;
const FIRST_CONFIG_ID: u64 = 10001;

pub(crate) fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

// Fixed past instants keep the seeded state identical between runs.
pub(crate) const ORG_CREATED: i64 = 1_704_103_200; // 2024-01-01T10:00:00Z
const PROJECT_CREATED: i64 = 1_709_805_600; // 2024-03-07T10:00:00Z
const TOKENS_CREATED: i64 = 1_735_722_000; // 2025-01-01T09:00:00Z
const CONFIGS_CREATED: i64 = 1_748_772_000; // 2025-06-01T10:00:00Z

fn project_name(index: usize, id: u64) -> String {
    match index {
        0 => "Sales Analytics".to_owned(),
        1 => "Marketing Sandbox".to_owned(),
        _ => format!("Project {id}"),
    }
}

fn check_seed_token(value: &str, project_id: u64, token_id: u64, role: &str) -> anyhow::Result<()> {
    let prefix = format!("{project_id}-{token_id}-");
    let secret = value.strip_prefix(&prefix).unwrap_or("");
    if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
        bail!(
            "seed token for project {project_id} ({role}) must look like \"{prefix}<letters and digits>\" (token ids are fixed by the seeded structure)"
        );
    }
    Ok(())
}

/// Builds the seeded stack. Structure and ids are fixed; secrets come from the seed.
pub(crate) fn build_store(project_count: usize, seed: Option<&Seed>) -> anyhow::Result<Store> {
    let mut rng = match seed.and_then(|s| s.random_seed) {
        Some(n) => StdRng::seed_from_u64(n),
        None => StdRng::from_os_rng(),
    };
    if project_count == 0 {
        bail!("at least one project is needed");
    }
    let project_ids: Vec<u64> = (0..project_count as u64)
        .map(|i| FIRST_PROJECT_ID + i)
        .collect();
    if let Some(seed) = seed {
        for p in &seed.projects {
            if !project_ids.contains(&p.id) {
                bail!(
                    "seed file names project {} but the seeded projects are {:?}",
                    p.id,
                    project_ids
                );
            }
        }
    }
    let seed_project = |id: u64| seed.and_then(|s| s.projects.iter().find(|p| p.id == id));

    let users = vec![
        User {
            id: 1,
            name: "Ada Admin".into(),
            email: "ada@example.com".into(),
        },
        User {
            id: 2,
            name: "Gus Guest".into(),
            email: "gus@example.com".into(),
        },
        User {
            id: 3,
            name: "Rita Reader".into(),
            email: "rita@example.com".into(),
        },
        User {
            id: 4,
            name: "Otto Outsider".into(),
            email: "otto@example.com".into(),
        },
    ];
    let members = vec![(1, Role::Admin), (2, Role::Guest), (3, Role::ReadOnly)];

    let manage_secret = |rng: &mut StdRng, id: u64, given: Option<&String>| -> String {
        given
            .cloned()
            .unwrap_or_else(|| format!("{id}-{}", random_alnum(rng, 40)))
    };
    let admin_manage = manage_secret(&mut rng, 501, seed.and_then(|s| s.manage_token.as_ref()));
    let outsider_manage = manage_secret(
        &mut rng,
        502,
        seed.and_then(|s| s.outsider_manage_token.as_ref()),
    );
    let manage_tokens = vec![
        ManageToken {
            id: 501,
            secret: admin_manage,
            description: "Ada's personal access token".into(),
            user_id: 1,
            created: at(TOKENS_CREATED),
            last_used: None,
        },
        ManageToken {
            id: 502,
            secret: outsider_manage,
            description: "Otto's personal access token".into(),
            user_id: 4,
            created: at(TOKENS_CREATED),
            last_used: None,
        },
    ];

    let mut store = Store {
        org_id: 1,
        org_name: "Emulated Organization".into(),
        users,
        admin_user_id: 1,
        outsider_user_id: 4,
        manage_tokens,
        projects: BTreeMap::new(),
        tokens: BTreeMap::new(),
        next_token_id: FIRST_STORAGE_TOKEN_ID,
        next_config_id: FIRST_CONFIG_ID,
        next_event_id: 1,
    };

    for (index, &project_id) in project_ids.iter().enumerate() {
        let overrides = seed_project(project_id);
        let name = overrides
            .and_then(|p| p.name.clone())
            .unwrap_or_else(|| project_name(index, project_id));
        let given = |role: &str| -> Option<String> {
            let t = &overrides?.tokens;
            match role {
                "admin" => t.admin.clone(),
                "guest" => t.guest.clone(),
                "read_only" => t.read_only.clone(),
                _ => t.storage.clone(),
            }
        };

        let mut master_ids = Vec::new();
        for &(user_id, role) in &members {
            let id = store.allocate_token_id();
            let role_key = match role {
                Role::Admin => "admin",
                Role::Guest => "guest",
                Role::ReadOnly => "read_only",
            };
            let secret = match given(role_key) {
                Some(v) => {
                    check_seed_token(&v, project_id, id, role_key)?;
                    v
                }
                None => new_storage_secret(&mut rng, project_id, id),
            };
            let email = store
                .user(user_id)
                .map(|u| u.email.clone())
                .unwrap_or_default();
            let admin = role == Role::Admin;
            store.tokens.insert(
                id,
                StorageToken {
                    id,
                    project_id,
                    secret,
                    description: email,
                    created: at(TOKENS_CREATED),
                    refreshed: at(TOKENS_CREATED),
                    expires: None,
                    origin: TokenOrigin::Master { user_id, role },
                    can_manage_buckets: role != Role::ReadOnly,
                    can_manage_tokens: admin,
                    can_read_all_file_uploads: true,
                    can_purge_trash: admin,
                    can_read_all_project_events: true,
                    can_manage_dev_branches: admin,
                    bucket_permissions: BTreeMap::new(),
                    component_access: Some(Vec::new()),
                },
            );
            master_ids.push(id);
        }
        let admin_token = store.tokens[&master_ids[0]].creator();

        let storage_id = store.allocate_token_id();
        let storage_secret = match given("storage") {
            Some(v) => {
                check_seed_token(&v, project_id, storage_id, "storage")?;
                v
            }
            None => new_storage_secret(&mut rng, project_id, storage_id),
        };
        store.tokens.insert(
            storage_id,
            StorageToken {
                id: storage_id,
                project_id,
                secret: storage_secret,
                description: "UI token for agents".into(),
                created: at(TOKENS_CREATED + 3600),
                refreshed: at(TOKENS_CREATED + 3600),
                expires: None,
                origin: TokenOrigin::Storage {
                    creator: admin_token.clone(),
                    admin_owner: Some(1),
                },
                can_manage_buckets: true,
                can_manage_tokens: false,
                can_read_all_file_uploads: true,
                can_purge_trash: false,
                can_read_all_project_events: false,
                can_manage_dev_branches: false,
                bucket_permissions: BTreeMap::new(),
                component_access: None,
            },
        );

        let branches = seed_branches(&mut store, &mut rng, project_id, &admin_token);
        store.projects.insert(
            project_id,
            Project {
                id: project_id,
                name,
                created: at(PROJECT_CREATED + index as i64 * 86_400),
                buckets: vec![
                    "in.c-crm".into(),
                    "in.c-budget".into(),
                    "out.c-reports".into(),
                ],
                branches,
                members: members.clone(),
            },
        );
    }
    Ok(store)
}

fn next_config_id(store: &mut Store) -> String {
    let id = store.next_config_id;
    store.next_config_id += 1;
    id.to_string()
}

#[allow(clippy::too_many_lines)]
fn seed_branches(
    store: &mut Store,
    rng: &mut StdRng,
    project_id: u64,
    admin: &Creator,
) -> Vec<Branch> {
    let created = at(CONFIGS_CREATED);
    let config = |component_id: &str,
                  id: String,
                  name: &str,
                  description: &str,
                  configuration: Value,
                  rows: Vec<Row>| Config {
        component_id: component_id.to_owned(),
        id,
        name: name.to_owned(),
        description: description.to_owned(),
        created,
        creator: admin.clone(),
        version: 1,
        change_description: "Configuration created".to_owned(),
        version_created: created,
        version_creator: admin.clone(),
        is_disabled: false,
        configuration,
        rows,
        state: json!({}),
    };
    let row = |id: String, name: &str, configuration: Value| Row {
        id,
        name: name.to_owned(),
        description: String::new(),
        configuration,
        is_disabled: false,
        version: 1,
        created,
    };

    let db_id = next_config_id(store);
    let password = cipher(rng, "ProjectSecure", "emulated-password");
    let db_rows = vec![
        row(
            next_config_id(store),
            "customers",
            json!({"parameters": {"table": {"schema": "CRM", "tableName": "CUSTOMERS"}, "outputTable": "in.c-crm.customers", "incremental": false, "primaryKey": ["ID"]}}),
        ),
        row(
            next_config_id(store),
            "orders",
            json!({"parameters": {"table": {"schema": "CRM", "tableName": "ORDERS"}, "outputTable": "in.c-crm.orders", "incremental": true, "incrementalFetchingColumn": "UPDATED_AT", "primaryKey": ["ID"]}}),
        ),
    ];
    let db = config(
        "keboola.ex-db-snowflake",
        db_id.clone(),
        "CRM database",
        "Customers and orders from the CRM warehouse",
        json!({"parameters": {"db": {"host": "crm.snowflakecomputing.com", "port": 443, "database": "CRM", "schema": "CRM", "warehouse": "EXTRACT_WH", "user": "KEBOOLA_READER", "#password": password}}}),
        db_rows,
    );

    let drive_id = next_config_id(store);
    let drive_rows = vec![
        row(
            next_config_id(store),
            "Budget 2026",
            json!({"parameters": {"sheets": [{"fileId": "1aBcD2eFgH3iJkL4mNoP", "fileTitle": "Budget 2026", "sheetId": 0, "sheetTitle": "Summary", "outputTable": "budget-summary", "enabled": true}]}}),
        ),
        row(
            next_config_id(store),
            "Campaign costs",
            json!({"parameters": {"sheets": [{"fileId": "5qRsT6uVwX7yZaB8cDeF", "fileTitle": "Campaign costs", "sheetId": 1532, "sheetTitle": "Costs", "outputTable": "campaign-costs", "enabled": true}]}}),
        ),
    ];
    // Not yet authorized: no `authorization` key until the OAuth wizard runs.
    let drive = config(
        OAUTH_COMPONENT,
        drive_id.clone(),
        "Budget sheets",
        "Budget and campaign spreadsheets",
        json!({"parameters": {"outputBucket": "in.c-budget"}}),
        drive_rows,
    );

    let tr_id = next_config_id(store);
    let transformation = config(
        "keboola.snowflake-transformation",
        tr_id.clone(),
        "Revenue by customer",
        "Joins customers and orders into a revenue report",
        json!({
            "parameters": {"blocks": [{"name": "Revenue", "codes": [{"name": "Aggregate", "script": [
                "CREATE TABLE \"revenue\" AS SELECT c.\"ID\", c.\"NAME\", SUM(o.\"AMOUNT\") AS \"REVENUE\" FROM \"customers\" c JOIN \"orders\" o ON o.\"CUSTOMER_ID\" = c.\"ID\" GROUP BY 1, 2;"
            ]}]}]},
            "storage": {
                "input": {"tables": [
                    {"source": "in.c-crm.customers", "destination": "customers"},
                    {"source": "in.c-crm.orders", "destination": "orders"}
                ]},
                "output": {"tables": [{"source": "revenue", "destination": "out.c-reports.revenue"}]}
            }
        }),
        Vec::new(),
    );

    let flow_id = next_config_id(store);
    let flow = config(
        "keboola.flow",
        flow_id,
        "Nightly CRM refresh",
        "Extracts the CRM and rebuilds the revenue report",
        json!({
            "phases": [
                {"id": 1, "name": "Extract", "dependsOn": []},
                {"id": 2, "name": "Transform", "dependsOn": [1]}
            ],
            "tasks": [
                {"id": 1, "name": "CRM database", "phase": 1, "enabled": true, "continueOnFailure": false,
                 "task": {"componentId": "keboola.ex-db-snowflake", "configId": db_id, "mode": "run"}},
                {"id": 2, "name": "Revenue by customer", "phase": 2, "enabled": true, "continueOnFailure": false,
                 "task": {"componentId": "keboola.snowflake-transformation", "configId": tr_id, "mode": "run"}}
            ]
        }),
        Vec::new(),
    );

    let dev_copy = transformation.clone();
    let main_id = project_id * 100 + 1;
    vec![
        Branch {
            id: main_id,
            name: "Main".into(),
            description: String::new(),
            is_default: true,
            created: at(PROJECT_CREATED),
            creator: None,
            configs: vec![db, drive, transformation, flow],
        },
        Branch {
            id: main_id + 1,
            name: "Revenue tweaks".into(),
            description: "Trying a different revenue definition".into(),
            is_default: false,
            created: at(CONFIGS_CREATED + 86_400),
            creator: Some(Creator {
                id: admin.id,
                description: admin.description.clone(),
            }),
            configs: vec![dev_copy],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn random_seed_makes_secrets_reproducible() {
        let seed = Seed {
            random_seed: Some(7),
            ..Seed::default()
        };
        let a = build_store(2, Some(&seed)).unwrap();
        let b = build_store(2, Some(&seed)).unwrap();
        let secrets = |s: &Store| {
            s.tokens
                .values()
                .map(|t| t.secret.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(secrets(&a), secrets(&b));
        assert_eq!(a.manage_tokens[0].secret, b.manage_tokens[0].secret);
        let c = build_store(2, None).unwrap();
        assert_ne!(secrets(&a), secrets(&c));
    }

    #[test]
    fn seed_tokens_must_match_the_fixed_ids() {
        let mut seed = Seed::default();
        seed.projects.push(SeedProject {
            id: 101,
            name: None,
            tokens: SeedTokens {
                admin: Some("101-9999-abc".into()),
                ..SeedTokens::default()
            },
        });
        assert!(build_store(1, Some(&seed)).is_err());
        seed.projects[0].tokens.admin = Some("101-1001-abc".into());
        let store = build_store(1, Some(&seed)).unwrap();
        assert_eq!(store.tokens[&1001].secret, "101-1001-abc");
    }
}
