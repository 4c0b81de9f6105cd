//! The registry: the providers a sandbox serves, in order, each behind the object-safe faces
//! the rest of the sandbox uses — [`Served`] for the server, the control API, the webhook
//! dispatcher and the test runner, [`Plugin`] for scenario loading. A provider gets both by
//! implementing [`Provider`]; the pipeline does the rest.

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use super::client::{MerchantClient, SendError};
use super::command::ProviderCommand;
use super::contract::{Cx, Draft, Failure, Provider, Reply, Request};
use super::pipeline;
use crate::running::Running;
use crate::scenario::ScenarioError;
use crate::scenario::section::{Build, BuiltinKey, Parts, Plugin, Plugins, read_parts};
use crate::scenario::steps::StepTarget;
use crate::world::World;
use crate::world::deliveries::DecisionCall;
use crate::world::ledger::Posting;
use crate::world::timeline::Notice;

/// The providers served, in the order they are listed and matched.
#[derive(Clone, Default)]
pub struct Registry {
    served: Vec<Arc<dyn Registered>>,
}

/// Both faces of a registered provider.
trait Registered: Served + Plugin {
    fn served(&self) -> &dyn Served;
    fn plugin(&self) -> &dyn Plugin;
}

impl<P: Provider> Registered for P {
    fn served(&self) -> &dyn Served {
        self
    }

    fn plugin(&self) -> &dyn Plugin {
        self
    }
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
        self.iter().map(|s| s.name()).collect()
    }

    /// Every provider, in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Served> {
        self.served.iter().map(|r| r.served())
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Served> {
        self.iter().find(|s| s.name() == name)
    }

    /// The provider claiming the longest prefix of `path` under the running scenario (the
    /// table of prefixes is made once per running scenario).
    pub fn route(&self, running: &Running, path: &str) -> Option<&dyn Served> {
        let routes = running.routes(|| {
            let mut routes: Vec<(String, usize)> = self
                .iter()
                .enumerate()
                .flat_map(|(index, p)| p.prefixes(running).into_iter().map(move |x| (x, index)))
                .collect();
            // Longest first, so the first match is the longest; ties keep registry order.
            routes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
            routes
        });
        let (_, index) = routes
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))?;
        self.iter().nth(*index)
    }
}

impl Plugins for Registry {
    fn plugins(&self) -> Vec<&dyn Plugin> {
        self.served.iter().map(|r| r.plugin()).collect()
    }
}

/// A registered provider, as the server, the control API, the webhook dispatcher and the
/// test runner see it. Everything answers for the running scenario; a provider the scenario
/// was not built for serves nothing.
pub trait Served: Send + Sync {
    /// Its name (`Provider::NAME`).
    fn name(&self) -> &'static str;
    /// Path prefixes served under the running scenario.
    fn prefixes(&self, running: &Running) -> Vec<String>;
    /// Answers a request through the pipeline.
    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply;
    /// The provider's reply to a failure the server detected.
    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply;
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
    /// Merchant `tenant`'s credentials, as the control API shows them.
    fn credentials(&self, running: &Running, tenant: usize) -> Value;
    /// The platform's public key (PEM), if it has one.
    fn platform_public_key(&self, running: &Running) -> Option<String>;
    /// Merchant `tenant`'s client, for the test runner.
    fn client(
        &self,
        running: &Running,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError>;
    /// Its lines of the start-up banner.
    fn banner(&self, running: &Running, base_url: &str) -> String;
    /// Its own subcommand of `issuer-sandbox`, if it has one.
    fn command(&self) -> Option<ProviderCommand>;
}

/// The provider's view of the running scenario, if the scenario was built for it.
fn cx<'r, P: Provider>(running: &'r Running) -> Option<Cx<'r, P>> {
    let settings = running
        .scenario
        .settings(P::NAME)?
        .downcast_ref::<P::Settings>()?;
    Some(Cx { settings, running })
}

/// The answer for a request to a provider the running scenario was not built for (routing
/// never sends one; the control API might).
fn unconfigured<P: Provider>() -> Reply {
    Reply::json(
        http::StatusCode::NOT_FOUND,
        &serde_json::json!({ "error": "not_found", "message": format!("{} is not configured by the running scenario", P::NAME) }),
        super::Trace::default(),
    )
}

impl<P: Provider> Served for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn prefixes(&self, running: &Running) -> Vec<String> {
        cx::<P>(running).map_or_else(Vec::new, |cx| Provider::prefixes(self, cx.settings))
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        match cx::<P>(running) {
            Some(cx) => pipeline::run(self, &cx, request),
            None => unconfigured::<P>(),
        }
    }

    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply {
        match cx::<P>(running) {
            Some(cx) => Provider::failure(self, &cx, path, failure),
            None => unconfigured::<P>(),
        }
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
        let tenant = running.tenant(&world.merchant.id)?.index;
        Provider::webhook(self, &cx::<P>(running)?, tenant, world, notice, seed)
    }

    fn authorization_call(
        &self,
        running: &Running,
        world: &mut World,
        posting: &Posting,
    ) -> Option<DecisionCall> {
        let tenant = running.tenant(&world.merchant.id)?.index;
        Provider::authorization_call(self, &cx::<P>(running)?, tenant, world, posting)
    }

    fn credentials(&self, running: &Running, tenant: usize) -> Value {
        cx::<P>(running).map_or(Value::Null, |cx| {
            Provider::credentials(self, cx.settings, tenant)
        })
    }

    fn platform_public_key(&self, running: &Running) -> Option<String> {
        Provider::platform_public_key(self, cx::<P>(running)?.settings)
    }

    fn client(
        &self,
        running: &Running,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let cx = cx::<P>(running).ok_or_else(|| {
            SendError::Request(format!("{} is not configured by the scenario", P::NAME))
        })?;
        Provider::client(self, &cx, tenant)
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        cx::<P>(running).map_or_else(String::new, |cx| Provider::banner(self, &cx, base_url))
    }

    fn command(&self) -> Option<ProviderCommand> {
        Provider::command(self)
    }
}

impl<P: Provider> Plugin for P {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn issues_cards(&self) -> bool {
        Provider::issues_cards(self)
    }

    fn step_target(&self) -> StepTarget {
        Provider::step_target(self)
    }

    fn catalog_has(&self, error: &str) -> bool {
        self.catalog_error(error).is_some()
    }

    fn has_crypto(&self) -> bool {
        Provider::has_crypto(self)
    }

    fn platform(&self) -> Option<BuiltinKey> {
        Provider::platform(self)
    }

    fn read(&self, source: &str) -> Result<Box<dyn Any>, serde_saphyr::Error> {
        let parts = read_parts::<P::Section, P::Credentials>(source, P::NAME)?;
        Ok(Box::new(parts))
    }

    fn build(
        &self,
        parts: Box<dyn Any>,
        build: &mut Build<'_, '_>,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, ScenarioError> {
        let Ok(parts) = parts.downcast::<Parts<P::Section, P::Credentials>>() else {
            return Ok(None);
        };
        let section = build.merge_profile(parts.section, self.profile())?;
        let merchants = parts
            .credentials
            .into_iter()
            .enumerate()
            .filter_map(|(tenant, credentials)| Some((tenant, credentials?)))
            .collect();
        let settings = Provider::build(self, section, merchants, build);
        Ok(settings.map(|s| Arc::new(s) as Arc<dyn Any + Send + Sync>))
    }

    fn prepare(
        &self,
        settings: &(dyn Any + Send + Sync),
        tenant: usize,
        world: &mut World,
        build: &mut Build<'_, '_>,
    ) {
        if let Some(settings) = settings.downcast_ref::<P::Settings>() {
            Provider::prepare(self, settings, tenant, world, build);
        }
    }

    fn schemas(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> (schemars::Schema, schemars::Schema) {
        (
            generator.subschema_for::<P::Section>(),
            generator.subschema_for::<P::Credentials>(),
        )
    }
}

impl crate::faults::spec::Catalogs for Registry {
    fn providers(&self) -> Vec<&'static str> {
        self.names()
    }

    fn catalog_has(&self, provider: &str, error: &str) -> bool {
        self.served
            .iter()
            .any(|r| Plugin::name(r.plugin()) == provider && r.plugin().catalog_has(error))
    }

    fn has_crypto(&self, provider: &str) -> bool {
        self.get(provider).is_some_and(Served::has_crypto)
    }
}
