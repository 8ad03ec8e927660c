//! The state container shared by every connection of one emulator.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use jiff::{SignedDuration, Timestamp};

use crate::control::{Fault, LoggedRequest};
use crate::manage::organizations::User;
use crate::manage::projects::Project;
use crate::manage::tokens::ManageToken;
use crate::services::Urls;
use crate::storage::tokens::StorageToken;

/// Seconds an expired token keeps answering `storage.tokenExpired` before it is purged
/// (Connection deletes expired tokens from a cron that runs every minute).
pub(crate) const EXPIRED_GRACE_SECONDS: i64 = 60;

/// Everything a client can read or change, one value so a reset is a plain copy.
#[derive(Clone)]
pub(crate) struct Store {
    pub org_id: u64,
    pub org_name: String,
    pub org_created: Timestamp,
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

/// State shared by every connection of one emulator.
pub(crate) struct Shared {
    /// The stack URL clients use: Connection's URL.
    pub base_url: String,
    pub urls: Urls,
    /// The host name sibling services are addressed under, when set.
    pub hostname: Option<String>,
    pub store: Mutex<Store>,
    pub seeded: Store,
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
    pub fn new(urls: Urls, hostname: Option<String>, store: Store, latency_ms: u64) -> Self {
        Self {
            base_url: urls.connection(),
            urls,
            hostname,
            seeded: store.clone(),
            store: Mutex::new(store),
            clock_offset_ms: AtomicI64::new(0),
            latency_ms: AtomicU64::new(latency_ms),
            faults: Mutex::new(Vec::new()),
            next_fault_id: AtomicU64::new(1),
            log: Mutex::new(Vec::new()),
            echo_to_stderr: AtomicBool::new(false),
        }
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
        let mut guard = lock(&self.store);
        guard.purge_expired(now);
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
        *lock(&self.store) = self.seeded.clone();
        lock(&self.faults).clear();
        lock(&self.log).clear();
        self.clock_offset_ms.store(0, Ordering::SeqCst);
    }
}
