//! The process-wide state every request sees: configuration, the provider registry, the
//! journal, and the running scenario with its tenants.
//!
//! The running scenario is swapped whole (`PUT /__admin/scenario`) behind a read-write lock that
//! is only held long enough to clone an `Arc`; requests already in flight finish on the old one.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::journal::Journal;
use crate::providers::Registry;
use crate::running::Running;
use crate::scenario::Scenario;

/// Server settings fixed at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a client may take to send a whole body once its headers are in.
    pub body_read_timeout: Duration,
    /// Connections served at once; more wait in the listen queue until one closes.
    pub max_connections: usize,
    /// When set, every control-API call must present it (from any address).
    pub admin_token: Option<String>,
    /// Allow control-API calls from non-loopback peers; they need a token all the same (one is
    /// made at start when none is set; see [`AdminAccess`]).
    pub admin_allow_remote: bool,
    /// Journal entries kept before the oldest are dropped.
    pub journal_capacity: usize,
    /// Journal bytes kept before the oldest entries are dropped.
    pub journal_max_bytes: usize,
    /// How long a graceful shutdown waits for open connections.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            body_limit: 16 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            admin_token: None,
            admin_allow_remote: false,
            journal_capacity: 1000,
            journal_max_bytes: 32 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Who may call the control API. It can replace the scenario and hands out merchants' keys,
/// so no configuration opens it to other machines without a token.
#[derive(Clone, PartialEq, Eq)]
pub enum AdminAccess {
    /// Loopback clients, without a token (the default).
    LoopbackOnly,
    /// Any client presenting the configured token; no other.
    Token(String),
    /// Loopback clients without a token, others with this one, made at start because remote
    /// access was allowed without a token (printed in the banner).
    RemoteByToken(String),
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself: debug output ends up in logs.
        f.write_str(match self {
            AdminAccess::LoopbackOnly => "LoopbackOnly",
            AdminAccess::Token(_) => "Token(..)",
            AdminAccess::RemoteByToken(_) => "RemoteByToken(..)",
        })
    }
}

impl AdminAccess {
    /// The access `config` asks for, with a fresh random token where one must be made.
    fn of(config: &Config) -> AdminAccess {
        match (&config.admin_token, config.admin_allow_remote) {
            (Some(token), _) => AdminAccess::Token(token.clone()),
            (None, false) => AdminAccess::LoopbackOnly,
            (None, true) => AdminAccess::RemoteByToken(random_token()),
        }
    }
}

/// 128 bits from the operating system, as hex (no seed can predict it).
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // Without an OS random source no token can be made; a fixed one would be worse than none.
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// Something made for one running scenario (the webhook clients), with a weak handle to it.
pub(crate) type ClientsFor = (
    std::sync::Weak<Running>,
    Arc<dyn std::any::Any + Send + Sync>,
);

/// Everything shared by the connection tasks.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub admin_access: AdminAccess,
    pub registry: Registry,
    pub journal: Journal,
    running: RwLock<Arc<Running>>,
    started: Instant,
    /// Wakes the webhook dispatcher: something may have become due.
    pub webhook_wake: tokio::sync::Notify,
    /// Changes announced by [`App::state_changed`].
    changes: std::sync::atomic::AtomicU64,
    /// Wakes the persister (`serve --state`).
    pub state_wake: tokio::sync::Notify,
    /// The sandbox CA, when HTTPS is served (`GET /__admin/ca.pem`, the webhook client's trust).
    pub tls_ca: Option<crate::tls::SandboxCa>,
    /// The webhook clients of the running scenario (`webhooks::clients`), kept type-erased so
    /// the app does not depend on the dispatcher.
    pub(crate) webhook_clients: std::sync::Mutex<Option<ClientsFor>>,
    /// One permit per connection served at once (`Config::max_connections`).
    pub connections: Arc<tokio::sync::Semaphore>,
}

impl App {
    pub fn new(config: Config, registry: Registry, scenario: Scenario) -> App {
        App::with_running(config, registry, Running::new(scenario))
    }

    /// An app on a running state made elsewhere (restored from a snapshot).
    pub fn with_running(config: Config, registry: Registry, running: Running) -> App {
        App {
            journal: Journal::new(config.journal_capacity, config.journal_max_bytes),
            admin_access: AdminAccess::of(&config),
            connections: Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1))),
            config,
            registry,
            running: RwLock::new(Arc::new(running)),
            started: Instant::now(),
            webhook_wake: tokio::sync::Notify::new(),
            changes: std::sync::atomic::AtomicU64::new(0),
            state_wake: tokio::sync::Notify::new(),
            tls_ca: None,
            webhook_clients: std::sync::Mutex::new(None),
        }
    }

    /// The running scenario and tenants, as of now.
    pub fn running(&self) -> Arc<Running> {
        self.running
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the running scenario; all tenants start afresh.
    pub fn replace_scenario(&self, scenario: Scenario) {
        self.replace_running(Running::new(scenario));
    }

    /// Replaces the whole running state (a restored snapshot, a new scenario).
    pub fn replace_running(&self, running: Running) {
        *self.running.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(running);
        self.state_changed();
        // Webhooks the new state owes may be due now.
        self.webhook_wake.notify_one();
    }

    /// Something may have changed the running state: the persister saves it soon. Cheap (an
    /// atomic and a notify), so every request that reaches a tenant announces one.
    pub fn state_changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.state_wake.notify_one();
    }

    /// How many changes were announced so far (the persister compares it with what it saved).
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections being served now.
    pub fn open_connections(&self) -> usize {
        self.config.max_connections.max(1) - self.connections.available_permits()
    }

    /// Time since the app was created.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Arc<Running> {
        let app = App::new(
            Config::default(),
            Registry::new(),
            Scenario::builtin_default(&crate::providers::builtin()).unwrap(),
        );
        app.running()
    }

    #[test]
    fn a_full_reset_restarts_the_shared_stream() {
        let running = running();
        let first = running.with_shared_rng(crate::world::ids::uuid);
        running.reset_all();
        assert_eq!(running.with_shared_rng(crate::world::ids::uuid), first);
    }
}
