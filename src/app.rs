//! The process-wide state every request sees: configuration, providers, the journal, and the
//! running scenario with its tenants.
//!
//! The running scenario is swapped whole (`PUT /__admin/scenario`) behind a read-write lock that
//! is only held long enough to clone an `Arc`; requests already in flight finish on the old one.
//! Each tenant's world has its own mutex, so tenants never contend with each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::journal::Journal;
use crate::providers::Provider;
use crate::scenario::Scenario;
use crate::sync::lock;
use crate::world::World;
use crate::world::rng::{self, SandboxRng};

/// Server settings fixed at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// When set, every control-API call must present it.
    pub admin_token: Option<String>,
    /// Allow control-API calls from non-loopback peers without a token.
    pub admin_allow_remote: bool,
    /// Journal entries kept before the oldest are dropped.
    pub journal_capacity: usize,
    /// How long a graceful shutdown waits for open connections.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            body_limit: 16 * 1024 * 1024,
            admin_token: None,
            admin_allow_remote: false,
            journal_capacity: 1000,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Everything shared by the connection tasks.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub providers: Vec<Arc<dyn Provider>>,
    pub journal: Journal,
    running: RwLock<Arc<Running>>,
    started: Instant,
    /// Wakes the webhook dispatcher: something may have become due.
    pub webhook_wake: tokio::sync::Notify,
}

impl App {
    pub fn new(config: Config, providers: Vec<Arc<dyn Provider>>, scenario: Scenario) -> App {
        App {
            journal: Journal::new(config.journal_capacity),
            config,
            providers,
            running: RwLock::new(Arc::new(Running::new(scenario))),
            started: Instant::now(),
            webhook_wake: tokio::sync::Notify::new(),
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
        let fresh = Arc::new(Running::new(scenario));
        *self.running.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }

    /// Time since the app was created.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A loaded scenario with the live state of its tenants.
#[derive(Debug)]
pub struct Running {
    pub scenario: Scenario,
    tenants: Vec<Tenant>,
    by_id: HashMap<String, usize>,
    /// (provider, credential) → tenant index.
    credentials: DashMap<(&'static str, String), usize>,
    /// (provider, token) → the session a provider opened at run time (KeySecure access
    /// tokens). Kept across tenant resets, like a platform keeps its sessions across the
    /// merchant's test runs; dropped with the scenario.
    sessions: DashMap<(&'static str, String), Session>,
    /// Random values not tied to a tenant (trace ids of requests no tenant could be found for).
    shared_rng: Mutex<SandboxRng>,
    /// Failure injection: the scenario's rules and those added at run time.
    pub faults: crate::faults::FaultBook,
}

/// A session token's owner and end (on that tenant's sandbox clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub tenant: usize,
    pub expires_at: jiff::Timestamp,
}

/// One merchant's live world.
#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    pub index: usize,
    world: Mutex<World>,
}

impl Tenant {
    /// Runs `f` with exclusive access to the world. Keep `f` short and free of I/O.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.world))
    }
}

impl Running {
    fn new(scenario: Scenario) -> Running {
        let credentials = DashMap::new();
        let mut tenants = Vec::with_capacity(scenario.tenants.len());
        let mut by_id = HashMap::new();
        for (index, setup) in scenario.tenants.iter().enumerate() {
            let c = &setup.credentials;
            for token in &c.acedata {
                credentials.insert(("acedata", token.token.clone()), index);
            }
            if let Some(k) = &c.keysecure {
                credentials.insert(("keysecure", k.api_key.clone()), index);
            }
            if let Some(p) = &c.pagsmile {
                credentials.insert(("pagsmile", p.app_id.clone()), index);
            }
            if let Some(k) = &c.kazepay {
                credentials.insert(("kazepay", k.sys_id.clone()), index);
            }
            let world = scenario
                .fresh_world(index)
                .expect("index comes from the same list");
            by_id.insert(setup.id().to_owned(), index);
            tenants.push(Tenant {
                id: setup.id().to_owned(),
                index,
                world: Mutex::new(world),
            });
        }
        let shared_rng = Mutex::new(rng::stream(scenario.seed, "shared"));
        let faults = crate::faults::FaultBook::new(&scenario.faults, scenario.seed);
        Running {
            faults,
            scenario,
            tenants,
            by_id,
            credentials,
            sessions: DashMap::new(),
            shared_rng,
        }
    }

    /// All tenants, in scenario order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The tenant with merchant id `id`.
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.get(*self.by_id.get(id)?)
    }

    /// The tenant a provider credential belongs to.
    pub fn tenant_by_credential(
        &self,
        provider: &'static str,
        credential: &str,
    ) -> Option<&Tenant> {
        let index = *self.credentials.get(&(provider, credential.to_owned()))?;
        self.tenants.get(index)
    }

    /// Opens a session (an access token) for a tenant until `expires_at`.
    pub fn open_session(&self, provider: &'static str, token: String, session: Session) {
        self.sessions.insert((provider, token), session);
    }

    /// The session `token` opened, if any (expired or not: the caller compares with its clock).
    pub fn session(&self, provider: &'static str, token: &str) -> Option<Session> {
        // Copied out at once: no dashmap guard outlives this line.
        self.sessions.get(&(provider, token.to_owned())).map(|s| *s)
    }

    /// Puts one tenant back to its scenario start.
    pub fn reset_tenant(&self, tenant: &Tenant) {
        if let Some(fresh) = self.scenario.fresh_world(tenant.index) {
            let (before, after) = {
                let mut world = lock(&tenant.world);
                let before = world.now();
                *world = fresh;
                (before, world.now())
            };
            self.rebase_sessions(tenant.index, before, after);
        }
    }

    /// Keeps the tenant's sessions' remaining life across a clock jump (a reset winds the
    /// sandbox clock back): what had expired stays expired.
    fn rebase_sessions(&self, tenant: usize, before: jiff::Timestamp, after: jiff::Timestamp) {
        self.sessions.retain(|_, session| {
            if session.tenant != tenant {
                return true;
            }
            let remaining = session.expires_at.duration_since(before);
            if remaining.is_negative() || remaining.is_zero() {
                return false;
            }
            session.expires_at = after.saturating_add(remaining).unwrap_or(after);
            true
        });
    }

    /// Forgets the tenant's sessions that ended by `now` (so refreshing tokens cannot grow the
    /// table without bound).
    pub fn forget_ended_sessions(&self, tenant: usize, now: jiff::Timestamp) {
        self.sessions
            .retain(|_, session| session.tenant != tenant || session.expires_at > now);
    }

    /// Puts every tenant, and the stream shared by tenant-less requests, back to the start.
    pub fn reset_all(&self) {
        for tenant in &self.tenants {
            self.reset_tenant(tenant);
        }
        *lock(&self.shared_rng) = rng::stream(self.scenario.seed, "shared");
        self.faults.reset(&self.scenario.faults);
    }

    /// Runs `f` with the random stream shared by requests that have no tenant.
    pub fn with_shared_rng<R>(&self, f: impl FnOnce(&mut SandboxRng) -> R) -> R {
        f(&mut lock(&self.shared_rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Arc<Running> {
        let app = App::new(
            Config::default(),
            Vec::new(),
            Scenario::builtin_default().unwrap(),
        );
        app.running()
    }

    #[test]
    fn credentials_find_their_tenant_including_ones_issued_at_run_time() {
        let running = running();
        let demo = running
            .tenant_by_credential("acedata", "demo-acedata-token")
            .unwrap();
        assert_eq!(demo.id, "demo");
        assert!(
            running
                .tenant_by_credential("kazepay", "demo-acedata-token")
                .is_none()
        );
        assert!(running.session("keysecure", "issued-later").is_none());
        let session = Session {
            tenant: demo.index,
            expires_at: jiff::Timestamp::UNIX_EPOCH,
        };
        running.open_session("keysecure", "issued-later".to_owned(), session);
        assert_eq!(running.session("keysecure", "issued-later"), Some(session));
        assert!(running.session("acedata", "issued-later").is_none());
    }

    #[test]
    fn a_full_reset_restarts_the_shared_stream() {
        let running = running();
        let first = running.with_shared_rng(crate::world::ids::uuid);
        running.reset_all();
        assert_eq!(running.with_shared_rng(crate::world::ids::uuid), first);
    }
}
