//! The state container shared by every connection of one emulator.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use crate::control::{Fault, LoggedRequest};
use crate::db::{self, Location};
use crate::manage;
use crate::manage::organizations::{self, Organization};
use crate::manage::projects::{self, Project};
use crate::manage::tokens::ManageToken;
use crate::manage::users::{self, User};
use crate::objects::{Blobs, FileProvider};
use crate::seed;
use crate::services::Urls;
use crate::storage::branches::{self, Branch};
use crate::storage::components::{self, Component};
use crate::storage::configurations::{self, Config};
use crate::storage::jobs::{self, Jobs, Queued};
use crate::storage::tokens::{self, StorageToken};
use crate::storage::{events, files};

/// The seeded state as plain values: what a start and a reset load into the databases.
#[derive(Clone)]
pub(crate) struct Seeded {
    pub organization: Organization,
    pub users: Vec<User>,
    pub manage_tokens: Vec<ManageToken>,
    /// The organization member whose Manage token the ready line announces.
    pub admin_user_id: u64,
    /// A user in no project, for access-denied tests.
    pub outsider_user_id: u64,
    pub components: Vec<Component>,
    pub projects: BTreeMap<u64, Project>,
    pub tokens: BTreeMap<u64, StorageToken>,
    pub branches: Vec<Branch>,
    pub configs: Vec<Config>,
    /// Rows of the first project's `in.c-crm.orders` when not the default.
    pub seed_rows: Option<u64>,
    pub next_token_id: u64,
    pub next_config_id: u64,
    /// The ciphers in seeded configurations, with what they decrypt to.
    pub secrets: Vec<crate::encryption::Secret>,
}

impl Seeded {
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn allocate_token_id(&mut self) -> u64 {
        let id = self.next_token_id;
        self.next_token_id += 1;
        id
    }

    pub fn allocate_config_id(&mut self) -> String {
        let id = self.next_config_id;
        self.next_config_id += 1;
        id.to_string()
    }
}

/// The live state: the metadata database and one database per project.
pub(crate) struct Store {
    pub db: Connection,
    project_dbs: BTreeMap<u64, Connection>,
    location: Location,
    /// File Storage bytes.
    pub blobs: Blobs,
    /// What files/prepare and file detail speak.
    pub provider: FileProvider,
    /// The workspaces' databases and the Query Service's jobs.
    pub workspaces: crate::storage::workspaces::Schemas,
}

impl Store {
    /// Opens the databases and loads the seeded state into them, replacing whatever an
    /// existing data directory held (the seed decides the secrets of this run).
    pub fn open(
        location: Location,
        seeded: &Seeded,
        provider: FileProvider,
    ) -> anyhow::Result<Self> {
        let db = location.open_metadata()?;
        let blobs = Blobs::new(location.data_dir())?;
        let workspaces = crate::storage::workspaces::Schemas::new(location.data_dir());
        let mut store = Self {
            db,
            project_dbs: BTreeMap::new(),
            location,
            blobs,
            provider,
            workspaces,
        };
        store.load(seeded)?;
        Ok(store)
    }

    /// Back to `seeded`, in one transaction per database.
    pub fn load(&mut self, seeded: &Seeded) -> anyhow::Result<()> {
        let tx = self.db.transaction()?;
        db::clear(&tx)?;
        for user in &seeded.users {
            users::save(&tx, user)?;
        }
        organizations::save(&tx, &seeded.organization)?;
        for token in &seeded.manage_tokens {
            manage::tokens::save(&tx, token)?;
        }
        for component in &seeded.components {
            components::save(&tx, component)?;
        }
        for project in seeded.projects.values() {
            projects::save(&tx, seeded.organization.id, project)?;
        }
        for token in seeded.tokens.values() {
            tokens::save(&tx, token)?;
        }
        for branch in &seeded.branches {
            branches::save(&tx, branch)?;
        }
        for config in &seeded.configs {
            configurations::save(&tx, config)?;
        }
        seed::seed_folders(&tx, &seeded.configs)?;
        for secret in &seeded.secrets {
            crate::encryption::save(&tx, secret)?;
        }
        db::set_next_id(&tx, tokens::SEQUENCE, seeded.next_token_id)?;
        db::set_next_id(&tx, configurations::SEQUENCE, seeded.next_config_id)?;
        db::set_next_id(&tx, events::SEQUENCE, 1)?;
        db::set_next_id(&tx, jobs::SEQUENCE, jobs::FIRST_ID)?;
        db::set_next_id(&tx, files::SEQUENCE, files::FIRST_ID)?;
        db::set_next_id(&tx, crate::queue::SEQUENCE, crate::queue::FIRST_ID)?;
        tx.commit()?;
        self.blobs.clear()?;
        self.workspaces.clear();
        for &project_id in seeded.projects.keys() {
            if !self.project_dbs.contains_key(&project_id) {
                let conn = self.location.open_project(project_id)?;
                self.project_dbs.insert(project_id, conn);
            }
        }
        let first = seeded.projects.keys().next().copied();
        for (project_id, conn) in &mut self.project_dbs {
            let tx = conn.transaction()?;
            db::recreate_project(&tx)?;
            let orders = match seeded.seed_rows {
                Some(n) if Some(*project_id) == first => n,
                _ => seed::storage::DEFAULT_ORDERS,
            };
            seed::storage::load(&tx, orders)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The database of a project's storage data.
    pub fn project_db(&self, project_id: u64) -> Option<&Connection> {
        self.project_dbs.get(&project_id)
    }
}

/// State shared by every connection of one emulator.
pub(crate) struct Shared {
    /// The stack URL clients use: Connection's URL.
    pub base_url: String,
    pub urls: Urls,
    pub store: Mutex<Store>,
    pub seeded: Seeded,
    pub clock_offset_ms: AtomicI64,
    pub latency_ms: AtomicU64,
    pub faults: Mutex<Vec<(u64, Fault)>>,
    pub next_fault_id: AtomicU64,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub echo_to_stderr: AtomicBool,
    /// The Storage job runner's queue and controls.
    pub jobs: Jobs,
    /// The Job Queue's runner.
    pub queue: crate::queue::Queue,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not take the whole emulator down with a poisoned lock.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(
        urls: Urls,
        location: Location,
        seeded: Seeded,
        latency_ms: u64,
        provider: FileProvider,
    ) -> anyhow::Result<(
        Self,
        tokio::sync::mpsc::UnboundedReceiver<Queued>,
        tokio::sync::mpsc::UnboundedReceiver<u64>,
    )> {
        let store = Store::open(location, &seeded, provider)?;
        let (jobs, queue) = Jobs::new();
        let (queue_jobs, queue_rx) = crate::queue::Queue::new();
        Ok((
            Self {
                base_url: urls.connection(),
                urls,
                seeded,
                store: Mutex::new(store),
                clock_offset_ms: AtomicI64::new(0),
                latency_ms: AtomicU64::new(latency_ms),
                faults: Mutex::new(Vec::new()),
                next_fault_id: AtomicU64::new(1),
                log: Mutex::new(Vec::new()),
                echo_to_stderr: AtomicBool::new(false),
                jobs,
                queue: queue_jobs,
            },
            queue,
            queue_rx,
        ))
    }

    /// The emulator's "now": real time plus whatever the tests advanced the clock by.
    pub fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_millis(self.clock_offset_ms.load(Ordering::SeqCst));
        Timestamp::now()
            .saturating_add(offset)
            .unwrap_or_else(|_| Timestamp::now())
    }

    /// The store with expired tokens already purged.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let now = self.now();
        let guard = lock(&self.store);
        // Purging is housekeeping: a failure shows up on the query that follows.
        let _ = tokens::purge_expired(&guard.db, now);
        guard
    }

    pub fn advance_clock_ms(&self, ms: i64) {
        self.clock_offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::SeqCst)
    }

    pub fn latency_ms(&self) -> u64 {
        self.latency_ms.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        // Loading plain rows into tables that exist does not fail short of a full disk; the
        // controls answer 204 either way and the next request reports the database error.
        let _ = lock(&self.store).load(&self.seeded);
        lock(&self.faults).clear();
        lock(&self.log).clear();
        lock(&self.jobs.controls).clear();
        lock(&self.queue.controls).clear();
        self.clock_offset_ms.store(0, Ordering::SeqCst);
    }
}
