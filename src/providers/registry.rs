//! The registry: the providers a sandbox serves, in order, each behind the one object-safe face
//! the server, the control API, the webhook dispatcher and the fault rules use. A provider gets
//! that face by implementing [`Provider`]; the pipeline does the rest.

use std::sync::Arc;

use super::contract::{Cx, Draft, Failure, Provider, Reply, Request};
use super::pipeline;
use crate::running::Running;
use crate::world::World;
use crate::world::deliveries::DecisionCall;
use crate::world::ledger::Posting;
use crate::world::timeline::Notice;

/// The providers served, in the order they are listed and matched.
#[derive(Clone, Default)]
pub struct Registry {
    served: Vec<Arc<dyn Served>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Registry {
    /// No providers yet.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a provider after those registered so far.
    #[must_use]
    pub fn with<P: Provider>(mut self, provider: P) -> Registry {
        self.add(provider);
        self
    }

    /// Adds a provider after those registered so far.
    pub fn add<P: Provider>(&mut self, provider: P) {
        self.served.push(Arc::new(provider));
    }

    /// Every provider's name, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.served.iter().map(|s| s.name()).collect()
    }

    /// The providers that manage cards, in order.
    pub fn issuers(&self) -> Vec<&'static str> {
        self.iter()
            .filter(|s| s.issues_cards())
            .map(|s| s.name())
            .collect()
    }

    /// Every provider, in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Served> {
        self.served.iter().map(AsRef::as_ref)
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Served> {
        self.iter().find(|s| s.name() == name)
    }

    /// The provider claiming the longest prefix of `path` under the running scenario.
    pub fn route(&self, running: &Running, path: &str) -> Option<&dyn Served> {
        self.iter()
            .filter_map(|p| {
                let longest = p
                    .prefixes(running)
                    .into_iter()
                    .filter(|prefix| path.starts_with(prefix.as_str()))
                    .map(|prefix| prefix.len())
                    .max()?;
                Some((longest, p))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, p)| p)
    }
}

/// A registered provider, as the rest of the sandbox sees it.
pub trait Served: Send + Sync {
    /// Its name (`Provider::NAME`).
    fn name(&self) -> &'static str;
    /// Path prefixes served under the running scenario.
    fn prefixes(&self, running: &Running) -> Vec<String>;
    /// Answers a request through the pipeline.
    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply;
    /// The provider's reply to a failure the server detected.
    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply;
    /// Whether a scenario's cards may name it as their issuer.
    fn issues_cards(&self) -> bool;
    /// Whether a fault rule's `break_crypto` applies to its answers.
    fn has_crypto(&self) -> bool;
    /// Breaks an answer's signature or encryption.
    fn break_crypto(&self, reply: &mut Reply);
    /// Whether its requests can leave notifications for webhooks.
    fn notifies(&self) -> bool;
    /// Its webhook for `notice`, composed (sealing comes later, with no lock held).
    fn webhook(
        &self,
        running: &Running,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Draft>;
    /// The question to put to the merchant before `posting`, if the provider asks one.
    fn authorization_call(
        &self,
        running: &Running,
        world: &mut World,
        posting: &Posting,
    ) -> Option<DecisionCall>;
    /// Whether its catalog has an entry named `name` (fault rules name them).
    fn catalog_has(&self, name: &str) -> bool;
    /// Its lines of the start-up banner.
    fn banner(&self, running: &Running, base_url: &str) -> String;
}

impl<P: Provider> Served for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn prefixes(&self, running: &Running) -> Vec<String> {
        Provider::prefixes(self, self.settings(&running.scenario))
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        pipeline::run(self, &cx(self, running), request)
    }

    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply {
        Provider::failure(self, &cx(self, running), path, failure)
    }

    fn issues_cards(&self) -> bool {
        Provider::issues_cards(self)
    }

    fn has_crypto(&self) -> bool {
        Provider::has_crypto(self)
    }

    fn break_crypto(&self, reply: &mut Reply) {
        Provider::break_crypto(self, reply);
    }

    fn notifies(&self) -> bool {
        Provider::notifies(self)
    }

    fn webhook(
        &self,
        running: &Running,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Draft> {
        Provider::webhook(self, &cx(self, running), world, notice, seed)
    }

    fn authorization_call(
        &self,
        running: &Running,
        world: &mut World,
        posting: &Posting,
    ) -> Option<DecisionCall> {
        Provider::authorization_call(self, &cx(self, running), world, posting)
    }

    fn catalog_has(&self, name: &str) -> bool {
        self.catalog_error(name).is_some()
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        Provider::banner(self, &cx(self, running), base_url)
    }
}

fn cx<'r, P: Provider>(provider: &P, running: &'r Running) -> Cx<'r, P> {
    Cx {
        settings: provider.settings(&running.scenario),
        running,
    }
}

impl crate::faults::spec::Catalogs for Registry {
    fn providers(&self) -> Vec<&'static str> {
        self.names()
    }

    fn catalog_has(&self, provider: &str, error: &str) -> bool {
        self.get(provider).is_some_and(|p| p.catalog_has(error))
    }

    fn has_crypto(&self, provider: &str) -> bool {
        self.get(provider).is_some_and(Served::has_crypto)
    }
}
