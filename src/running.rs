//! A loaded scenario with the live state of its tenants: what every request, control call and
//! webhook of one scenario sees.
//!
//! It is swapped whole when the scenario is replaced (see `app`); requests already in flight
//! finish on the old one. Each tenant's world has its own mutex; the run-time sessions and the
//! fault book are shared, and none of them is held across I/O.

use std::collections::HashMap;
use std::sync::Mutex;

use dashmap::DashMap;
use jiff::Timestamp;

use crate::faults::FaultBook;
use crate::scenario::Scenario;
use crate::sync::lock;
use crate::world::rng::{self, SandboxRng};
use crate::world::tenant::Tenant;

/// A loaded scenario with the live state of its tenants.
#[derive(Debug)]
pub struct Running {
    pub scenario: Scenario,
    tenants: Vec<Tenant>,
    by_id: HashMap<String, usize>,
    /// (provider, token) → the session a provider opened at run time (access tokens). Kept
    /// across tenant resets, like a platform keeps its sessions across the merchant's test
    /// runs; dropped with the scenario.
    sessions: DashMap<(&'static str, String), Session>,
    /// Random values not tied to a tenant (trace ids of requests no tenant could be found for).
    shared_rng: Mutex<SandboxRng>,
    /// Failure injection: the scenario's rules and those added at run time.
    pub faults: FaultBook,
    /// Path prefixes (longest first) and the index of the registered provider serving each:
    /// worked out on the first request, since the scenario decides the prefixes.
    routes: std::sync::OnceLock<Vec<(String, usize)>>,
}

/// A session token's owner and end (on that tenant's sandbox clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub tenant: usize,
    pub expires_at: Timestamp,
}

/// The most sessions one tenant holds at once per provider; opening another ends the one that
/// would end first (a client that logs in on every call cannot grow the table without bound).
pub const MOST_SESSIONS: usize = 1_000;

/// One provider's sessions.
#[derive(Clone, Copy, Debug)]
pub struct Sessions<'r> {
    provider: &'static str,
    all: &'r DashMap<(&'static str, String), Session>,
}

impl Sessions<'_> {
    /// Opens a session (an access token) for a tenant until `expires_at`, ending the tenant's
    /// soonest-ending ones beyond [`MOST_SESSIONS`].
    pub fn open(&self, token: String, session: Session) {
        // Collected first: no dashmap guard is held while entries are removed.
        let mut held: Vec<(Timestamp, String)> = self
            .all
            .iter()
            .filter(|e| e.key().0 == self.provider && e.value().tenant == session.tenant)
            .map(|e| (e.value().expires_at, e.key().1.clone()))
            .collect();
        if held.len() >= MOST_SESSIONS {
            held.sort();
            for (_, old) in &held[..=held.len() - MOST_SESSIONS] {
                self.all.remove(&(self.provider, old.clone()));
            }
        }
        self.all.insert((self.provider, token), session);
    }

    /// The session `token` opened, if any (expired or not: the caller compares with its clock).
    pub fn get(&self, token: &str) -> Option<Session> {
        // Copied out at once: no dashmap guard outlives this line.
        self.all.get(&(self.provider, token.to_owned())).map(|s| *s)
    }

    /// Forgets the tenant's sessions that ended by `now` (so refreshing tokens cannot grow the
    /// table without bound).
    pub fn forget_ended(&self, tenant: usize, now: Timestamp) {
        let provider = self.provider;
        self.all.retain(|(p, _), session| {
            *p != provider || session.tenant != tenant || session.expires_at > now
        });
    }
}

impl Running {
    pub fn new(scenario: Scenario) -> Running {
        let mut tenants = Vec::with_capacity(scenario.tenants.len());
        let mut by_id = HashMap::new();
        for (index, setup) in scenario.tenants.iter().enumerate() {
            let world = scenario
                .fresh_world(index)
                .expect("index comes from the same list");
            by_id.insert(setup.id().to_owned(), index);
            tenants.push(Tenant::new(setup.id().to_owned(), index, world));
        }
        let shared_rng = Mutex::new(rng::stream(scenario.seed, "shared"));
        let faults = FaultBook::new(&scenario.faults, scenario.seed);
        Running {
            faults,
            scenario,
            tenants,
            by_id,
            sessions: DashMap::new(),
            routes: std::sync::OnceLock::new(),
            shared_rng,
        }
    }

    /// A running scenario whose tenants, sessions, shared stream and fault rules are given
    /// (restored from a snapshot); `worlds` holds one world per tenant of `scenario`, in order.
    pub fn assemble(
        scenario: Scenario,
        worlds: Vec<crate::world::World>,
        sessions: Vec<(&'static str, String, Session)>,
        shared_rng: SandboxRng,
        faults: FaultBook,
    ) -> Running {
        let mut by_id = HashMap::new();
        let tenants = scenario
            .tenants
            .iter()
            .zip(worlds)
            .enumerate()
            .map(|(index, (setup, world))| {
                by_id.insert(setup.id().to_owned(), index);
                Tenant::new(setup.id().to_owned(), index, world)
            })
            .collect();
        Running {
            faults,
            scenario,
            tenants,
            by_id,
            sessions: sessions
                .into_iter()
                .map(|(provider, token, session)| ((provider, token), session))
                .collect(),
            routes: std::sync::OnceLock::new(),
            shared_rng: Mutex::new(shared_rng),
        }
    }

    /// Every open session, by provider and token (sorted: a snapshot's order must not depend
    /// on hashing).
    pub fn all_sessions(&self) -> Vec<(&'static str, String, Session)> {
        let mut all: Vec<_> = self
            .sessions
            .iter()
            .map(|e| (e.key().0, e.key().1.clone(), *e.value()))
            .collect();
        all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        all
    }

    /// Replaces one tenant's world and sessions (a snapshot restored into the running
    /// scenario it came from).
    pub fn put_tenant(
        &self,
        tenant: &Tenant,
        world: crate::world::World,
        sessions: Vec<(&'static str, String, Session)>,
    ) {
        tenant.with_world(|current| *current = world);
        self.sessions
            .retain(|_, session| session.tenant != tenant.index);
        for (provider, token, session) in sessions {
            self.sessions.insert((provider, token), session);
        }
    }

    /// The shared stream's position.
    pub fn shared_rng(&self) -> SandboxRng {
        lock(&self.shared_rng).clone()
    }

    /// The routing table, made by `make` the first time it is asked for.
    pub fn routes(&self, make: impl FnOnce() -> Vec<(String, usize)>) -> &[(String, usize)] {
        self.routes.get_or_init(make)
    }

    /// All tenants, in scenario order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The tenant with merchant id `id`.
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.get(*self.by_id.get(id)?)
    }

    /// The sessions `provider` opened.
    pub fn sessions(&self, provider: &'static str) -> Sessions<'_> {
        Sessions {
            provider,
            all: &self.sessions,
        }
    }

    /// Puts one tenant back to its scenario start.
    pub fn reset_tenant(&self, tenant: &Tenant) {
        if let Some(fresh) = self.scenario.fresh_world(tenant.index) {
            let (before, after) = tenant.with_world(|world| {
                let before = world.now();
                *world = fresh;
                (before, world.now())
            });
            self.rebase_sessions(tenant.index, before, after);
        }
    }

    /// Keeps the tenant's sessions' remaining life across a clock jump (a reset winds the
    /// sandbox clock back): what had expired stays expired.
    fn rebase_sessions(&self, tenant: usize, before: Timestamp, after: Timestamp) {
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

    #[test]
    fn a_tenant_holds_at_most_so_many_sessions_and_the_soonest_ending_go_first() {
        let registry = crate::providers::builtin();
        let running = Running::new(Scenario::builtin_default(&registry).unwrap());
        let sessions = running.sessions("test-bank");
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let ends = |seconds| {
            t0.saturating_add(jiff::SignedDuration::from_secs(seconds))
                .unwrap()
        };
        for n in 0..MOST_SESSIONS as i64 + 5 {
            let session = Session {
                tenant: 0,
                expires_at: ends(10_000 - n),
            };
            sessions.open(format!("token-{n}"), session);
        }
        // Another tenant's sessions are not counted against this one.
        let theirs = Session {
            tenant: 1,
            expires_at: ends(1),
        };
        sessions.open("theirs".into(), theirs);
        assert_eq!(running.sessions.len(), MOST_SESSIONS + 1);
        let last = MOST_SESSIONS + 4;
        assert!(
            sessions.get(&format!("token-{last}")).is_some(),
            "the newest stays"
        );
        assert!(
            sessions.get("token-0").is_some(),
            "the one ending last stays"
        );
        assert!(sessions.get(&format!("token-{}", last - 1)).is_none());
        assert!(sessions.get("theirs").is_some());
    }
}
