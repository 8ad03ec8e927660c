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
use crate::services::Urls;
use crate::storage::branches::{self, Branch};
use crate::storage::components::{self, Component};
use crate::storage::configurations::{self, Config};
use crate::storage::tokens::{self, StorageToken};
use crate::storage::{buckets, events};

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
    /// Bucket ids per project.
    pub buckets: BTreeMap<u64, Vec<String>>,
    pub next_token_id: u64,
    pub next_config_id: u64,
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
}

impl Store {
    /// Opens the databases and loads the seeded state into them, replacing whatever an
    /// existing data directory held (the seed decides the secrets of this run).
    pub fn open(location: Location, seeded: &Seeded) -> anyhow::Result<Self> {
        let db = location.open_metadata()?;
        let mut store = Self {
            db,
            project_dbs: BTreeMap::new(),
            location,
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
        db::set_next_id(&tx, tokens::SEQUENCE, seeded.next_token_id)?;
        db::set_next_id(&tx, configurations::SEQUENCE, seeded.next_config_id)?;
        db::set_next_id(&tx, events::SEQUENCE, 1)?;
        tx.commit()?;
        for &project_id in seeded.projects.keys() {
            if !self.project_dbs.contains_key(&project_id) {
                let conn = self.location.open_project(project_id)?;
                self.project_dbs.insert(project_id, conn);
            }
        }
        for (project_id, conn) in &mut self.project_dbs {
            let tx = conn.transaction()?;
            db::clear(&tx)?;
            for bucket in seeded.buckets.get(project_id).into_iter().flatten() {
                buckets::insert(&tx, bucket)?;
            }
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
    ) -> anyhow::Result<Self> {
        let store = Store::open(location, &seeded)?;
        Ok(Self {
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
        })
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
        self.clock_offset_ms.store(0, Ordering::SeqCst);
    }
}
