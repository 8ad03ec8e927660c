//! A local Keboola Connection stack for offline use and tests.
//!
//! It serves the Storage API (`/v2/storage`), the Manage API (`/manage`), the Encryption API
//! (`/encrypt`) and an OAuth wizard page (`/oauth/index.html`) from one origin, with the
//! token rules, JSON shapes and error bodies of the real services. State lives in embedded
//! SQLite databases (in memory, or files under `EmulatorOptions::data_dir`) and is seeded with
//! an organization, users, projects, tokens and configurations. Sibling services (Job Queue,
//! Query Service, ...) are routed by `Host` under `EmulatorOptions::hostname`, or by path.
//!
//! ```no_run
//! let emulator = keboola_emulator::spawn(keboola_emulator::EmulatorOptions::default())?;
//! let admin_token = &emulator.projects()[0].tokens.admin;
//! // point a client at emulator.url() ...
//! # let _ = admin_token;
//! # Ok::<(), anyhow::Error>(())
//! ```

mod ai;
mod control;
mod crypto;
mod db;
mod encryption;
mod http;
mod manage;
mod oauth;
mod objects;
mod query;
mod queue;
mod seed;
mod server;
mod services;
mod state;
mod storage;
mod tls;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use control::{Fault, FaultBody, LoggedRequest};
pub use http::mask_token;
pub use objects::FileProvider;
pub use queue::QueueJobControl;
pub use seed::{Seed, SeedProject, SeedTokens, load_seed};
pub use storage::jobs::StorageJobControl;

use manage::projects::Role;
use state::{Seeded, Shared, lock};
use storage::components::OAUTH_COMPONENT;
use storage::tokens::TokenOrigin;

/// How to start an emulator.
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
    /// Address to listen on. Defaults to 127.0.0.1.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a freshly generated certificate.
    pub tls: bool,
    /// Number of seeded projects (ids 101, 102, ...).
    pub projects: usize,
    /// Delay added to every API response (not to `/_emulator`).
    pub latency_ms: u64,
    /// Fixed secrets for the seeded state.
    pub seed: Option<Seed>,
    /// Where `tls` writes `ca.pem`; a temporary directory removed on drop when `None`.
    pub cert_dir: Option<PathBuf>,
    /// The host name the emulator is reached under, e.g. `keboola.local`: then
    /// `connection.keboola.local` is the stack URL, `queue.keboola.local` the Job Queue and
    /// so on (the `Host` header picks the service). `None`: services by path on the
    /// listener's own address.
    pub hostname: Option<String>,
    /// Where the SQLite databases live (`emulator.sqlite`, `project_<id>.sqlite`); in
    /// memory when `None`. Re-seeded at every start. File Storage bytes go to
    /// `<data_dir>/files`, else to a temporary directory removed on drop.
    pub data_dir: Option<PathBuf>,
    /// Which cloud File Storage imitates (upload and download protocol). Default Azure.
    pub file_provider: FileProvider,
    /// Rows of the first project's `in.c-crm.orders` (default 2,000), for benchmarks.
    pub seed_rows: Option<u64>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: false,
            projects: 2,
            latency_ms: 0,
            seed: None,
            cert_dir: None,
            hostname: None,
            data_dir: None,
            file_provider: FileProvider::default(),
            seed_rows: None,
        }
    }
}

/// The seeded Storage tokens of one project.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTokens {
    /// Master token of the admin user (role `admin`, can manage tokens).
    pub admin: String,
    /// Master token of the guest user (role `guest`, cannot manage tokens).
    pub guest: String,
    /// Master token of the read-only user (role `readOnly`).
    pub read_only: String,
    /// A non-master token "copied from the UI": `canManageBuckets`, no `canManageTokens`,
    /// no `componentAccess`, never expires.
    pub storage: String,
}

impl fmt::Debug for ProjectTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectTokens")
            .field("admin", &mask_token(&self.admin))
            .field("guest", &mask_token(&self.guest))
            .field("read_only", &mask_token(&self.read_only))
            .field("storage", &mask_token(&self.storage))
            .finish()
    }
}

/// The configuration that needs the OAuth wizard (not authorized in the seeded state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OauthConfig {
    pub component_id: String,
    pub config_id: String,
}

/// One seeded project as announced in the ready line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededProject {
    pub id: u64,
    pub name: String,
    pub tokens: ProjectTokens,
    pub oauth_config: OauthConfig,
}

/// What the binary prints as its single stdout line once it accepts connections.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    pub url: String,
    pub ca_cert: Option<PathBuf>,
    pub manage_token: String,
    pub organization_id: u64,
    pub projects: Vec<SeededProject>,
    pub outsider_manage_token: String,
    pub oauth_wizard_url: String,
}

impl Ready {
    /// The ready line: compact JSON without a trailing newline.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("url", &self.url)
            .field("ca_cert", &self.ca_cert)
            .field("manage_token", &mask_token(&self.manage_token))
            .field("organization_id", &self.organization_id)
            .field("projects", &self.projects)
            .field(
                "outsider_manage_token",
                &mask_token(&self.outsider_manage_token),
            )
            .field("oauth_wizard_url", &self.oauth_wizard_url)
            .finish()
    }
}

/// A running emulator. Dropping it stops the server and frees the port.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ready: Ready,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: tokio::sync::watch::Sender<bool>,
    temp_cert_dir: Option<PathBuf>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

/// Binds, seeds the state and starts serving on background threads. Returns once the
/// listening socket is bound, so requests can be sent right away.
pub fn spawn(opts: EmulatorOptions) -> anyhow::Result<Emulator> {
    let EmulatorOptions {
        host,
        port,
        tls,
        projects,
        latency_ms,
        seed,
        cert_dir,
        hostname,
        data_dir,
        file_provider,
        seed_rows,
    } = opts;
    let hostname = hostname
        .as_deref()
        .map(services::check_hostname)
        .transpose()?;
    let mut seeded = seed::build_store(projects, seed.as_ref())?;
    seeded.seed_rows = seed_rows;
    let location = db::Location::new(data_dir)?;
    let listener = std::net::TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let scheme = if tls { "https" } else { "http" };
    let ip = match addr.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let urls = services::Urls::new(scheme, &ip, addr.port(), hostname);
    let base_url = urls.connection();

    let mut temp_cert_dir = None;
    let (acceptor, ca_cert) = if tls {
        let dir = match cert_dir {
            Some(dir) => dir,
            None => {
                let dir = tls::temp_dir()?;
                temp_cert_dir = Some(dir.clone());
                dir
            }
        };
        let (acceptor, ca) = tls::setup(&dir, urls.hostname())?;
        (Some(acceptor), Some(ca))
    } else {
        (None, None)
    };

    let ready = ready_line(&seeded, &base_url, ca_cert);
    let (shared, job_queue, queue_jobs) =
        Shared::new(urls, location, seeded, latency_ms, file_provider)?;
    let shared = Arc::new(shared);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("keboola-emulator")
        .enable_all()
        .build()?;
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    runtime.spawn(storage::jobs::runner(Arc::clone(&shared), job_queue));
    queue::spawn_runner(&runtime, &shared, queue_jobs);
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    runtime.spawn(server::accept_loop(
        listener,
        Arc::clone(&shared),
        acceptor,
        shutdown_rx,
    ));

    Ok(Emulator {
        shared,
        addr,
        ready,
        runtime: Some(runtime),
        shutdown,
        temp_cert_dir,
    })
}

fn ready_line(seeded: &Seeded, base_url: &str, ca_cert: Option<PathBuf>) -> Ready {
    let projects = seeded
        .projects
        .values()
        .map(|p| {
            let project_tokens: Vec<_> = seeded
                .tokens
                .values()
                .filter(|t| t.project_id == p.id)
                .collect();
            let master = |role: Role| {
                project_tokens
                    .iter()
                    .find(|t| matches!(t.origin, TokenOrigin::Master { role: r, .. } if r == role))
                    .map(|t| t.secret.clone())
                    .unwrap_or_default()
            };
            let storage = project_tokens
                .iter()
                .find(|t| !t.is_master())
                .map(|t| t.secret.clone())
                .unwrap_or_default();
            let main = seeded
                .branches
                .iter()
                .find(|b| b.project_id == p.id && b.is_default);
            let oauth = seeded.configs.iter().find(|c| {
                Some(c.branch_id) == main.map(|b| b.id) && c.component_id == OAUTH_COMPONENT
            });
            SeededProject {
                id: p.id,
                name: p.name.clone(),
                tokens: ProjectTokens {
                    admin: master(Role::Admin),
                    guest: master(Role::Guest),
                    read_only: master(Role::ReadOnly),
                    storage,
                },
                oauth_config: OauthConfig {
                    component_id: OAUTH_COMPONENT.to_owned(),
                    config_id: oauth.map(|c| c.id.clone()).unwrap_or_default(),
                },
            }
        })
        .collect();
    let manage = |user_id: u64| {
        seeded
            .manage_tokens
            .iter()
            .find(|t| t.user_id == user_id)
            .map(|t| t.secret.clone())
            .unwrap_or_default()
    };
    Ready {
        url: base_url.to_owned(),
        ca_cert,
        manage_token: manage(seeded.admin_user_id),
        organization_id: seeded.organization.id,
        projects,
        outsider_manage_token: manage(seeded.outsider_user_id),
        oauth_wizard_url: format!("{base_url}/oauth/index.html"),
    }
}

impl Emulator {
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, without a trailing slash; with a
    /// host name, Connection's URL (`http://connection.<hostname>:PORT`).
    pub fn url(&self) -> &str {
        &self.ready.url
    }

    /// The socket the emulator listens on, whatever host name it answers under.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ready line the binary prints.
    pub fn ready(&self) -> &Ready {
        &self.ready
    }

    /// The admin user's personal access token (Manage API), member of every project.
    pub fn manage_token(&self) -> &str {
        &self.ready.manage_token
    }

    /// A Manage API token of a user who is a member of no project.
    pub fn outsider_manage_token(&self) -> &str {
        &self.ready.outsider_manage_token
    }

    /// The PEM file of the CA that signed the server certificate, when serving TLS.
    pub fn ca_cert(&self) -> Option<&Path> {
        self.ready.ca_cert.as_deref()
    }

    pub fn projects(&self) -> &[SeededProject] {
        &self.ready.projects
    }

    /// Adds a fault; faults are checked in the order they were added.
    pub fn add_fault(&self, fault: Fault) {
        control::add_fault(&self.shared, fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every API request served so far (controls under `/_emulator` are not logged).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Back to the seeded state with the same secrets; faults, log and clock are reset too.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Moves the emulator's clock forward (token expiry uses it).
    pub fn advance_clock(&self, by: Duration) {
        self.shared
            .advance_clock_ms(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
    }

    /// Live Storage tokens of a project, master tokens included.
    pub fn token_count(&self, project_id: u64) -> usize {
        storage::tokens::count_of_project(&self.shared.store().db, project_id).unwrap_or(0)
    }

    /// Adds or removes a project feature, as the Manage API's `features` endpoints do
    /// (`global-search` turns on `GET /v2/storage/global-search`).
    pub fn set_project_feature(&self, project_id: u64, feature: &str, on: bool) {
        let _ =
            storage::global_search::set_feature(&self.shared.store().db, project_id, feature, on);
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.shared.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// Makes the next Storage jobs fail or take longer (see `StorageJobControl`).
    pub fn add_storage_job_control(&self, control: StorageJobControl) {
        lock(&self.shared.jobs.controls).push(control);
    }

    /// Makes the next Queue jobs fail, sleep or hang (see `QueueJobControl`).
    pub fn add_queue_job_control(&self, control: QueueJobControl) {
        lock(&self.shared.queue.controls).push(control);
    }

    /// Removes every pending Queue job control.
    pub fn clear_queue_job_controls(&self) {
        lock(&self.shared.queue.controls).clear();
    }

    pub fn clear_storage_job_controls(&self) {
        lock(&self.shared.jobs.controls).clear();
    }

    /// The provider File Storage imitates.
    pub fn file_provider(&self) -> FileProvider {
        lock(&self.shared.store).provider
    }

    /// What `AWS_ENDPOINT_URL_S3` is set to for S3 clients: `<url>/_s3` (path-style).
    pub fn s3_endpoint(&self) -> String {
        format!("{}/_s3", self.ready.url)
    }

    /// What `STORAGE_EMULATOR_HOST` is set to for Google Cloud Storage clients: `<url>/_gcs`.
    pub fn gcs_endpoint(&self) -> String {
        format!("{}/_gcs", self.ready.url)
    }

    /// Writes one line per served request to stderr (the binary does this unless `--quiet`).
    pub fn log_requests_to_stderr(&self, on: bool) {
        self.shared.echo_to_stderr.store(on, Ordering::SeqCst);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(runtime) = self.runtime.take() {
            // Blocking on shutdown is not allowed inside another runtime.
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                runtime.shutdown_timeout(Duration::from_secs(5));
            }
        }
        if let Some(dir) = self.temp_cert_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
