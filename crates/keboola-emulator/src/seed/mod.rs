//! The seeded state: structure and ids are fixed, secrets come from an optional seed file.

mod components;
mod configs;

pub(crate) use configs::seed_folders;
pub(crate) mod storage;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::crypto::{new_storage_secret, random_alnum};
use crate::http::mask_token;
use crate::manage::organizations::Organization;
use crate::manage::projects::{Project, Role};
use crate::manage::tokens::ManageToken;
use crate::manage::users::User;
use crate::state::Seeded;
use crate::storage::tokens::{StorageToken, TokenOrigin};

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

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

// Fixed past instants keep the seeded state identical between runs.
const ORG_CREATED: i64 = 1_704_103_200; // 2024-01-01T10:00:00Z
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
pub(crate) fn build_store(project_count: usize, seed: Option<&Seed>) -> anyhow::Result<Seeded> {
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

    let mut store = Seeded {
        organization: Organization {
            id: 1,
            name: "Emulated Organization".into(),
            created: at(ORG_CREATED),
            members: vec![1],
        },
        users,
        manage_tokens,
        admin_user_id: 1,
        outsider_user_id: 4,
        components: components::catalogue(),
        projects: BTreeMap::new(),
        tokens: BTreeMap::new(),
        branches: Vec::new(),
        configs: Vec::new(),
        next_config_id: FIRST_CONFIG_ID,
        secrets: Vec::new(),
        seed_rows: None,
        next_token_id: FIRST_STORAGE_TOKEN_ID,
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

        configs::seed_branches(&mut store, &mut rng, project_id, &admin_token);
        store.projects.insert(
            project_id,
            Project {
                id: project_id,
                name,
                created: at(PROJECT_CREATED + index as i64 * 86_400),
                members: members.clone(),
            },
        );
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_seed_makes_secrets_reproducible() {
        let seed = Seed {
            random_seed: Some(7),
            ..Seed::default()
        };
        let a = build_store(2, Some(&seed)).unwrap();
        let b = build_store(2, Some(&seed)).unwrap();
        let secrets = |s: &Seeded| {
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
