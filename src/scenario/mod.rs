//! Scenarios: the YAML files that say what a sandbox starts with and how it behaves.
//!
//! This is the only module that reads YAML or touches the file system for scenarios. A source
//! goes through three steps: [`model`] parses the core of it (unknown keys and wrong types are
//! errors with a location) while each provider reads its own parts with its own types
//! ([`section`]); `build` checks what types cannot (duplicates, references, formats) and
//! resolves it into a [`Scenario`], handing each provider its section; [`generate`] adds
//! seeded fake cardholders and cards. A [`Scenario`] is immutable; resetting a tenant clones
//! its initial world again. [`render`] goes the other way: running worlds written back as a
//! scenario file.

mod banks;
mod build;
pub mod error;
pub mod generate;
pub mod keys;
mod merchants;
pub mod model;
pub mod render;
pub mod section;
pub mod steps;
mod timeline;
mod units;
mod values;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use self::section::{Plugin, Plugins};
use crate::world::bins::BinTable;
use crate::world::{Clock, ClockSpec, World};

pub use error::{Problem, ScenarioError};

/// The built-in default scenario (`scenarios/default.yaml`), compiled into the binary.
pub const DEFAULT_SOURCE: &str = include_str!("../../scenarios/default.yaml");
/// How the built-in default scenario is named in messages.
pub const DEFAULT_ORIGIN: &str = "<built-in scenarios/default.yaml>";

/// A validated, resolved scenario.
#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// Where it came from: a path, or a label for built-in and uploaded scenarios.
    pub origin: String,
    /// The YAML text it was built from.
    pub source: String,
    /// The key files it read, by the reference that names them (a snapshot carries them).
    pub key_files: BTreeMap<String, String>,
    /// CAs webhooks to https receivers trust besides the system's and the sandbox's.
    pub webhook_ca: Vec<rustls_pki_types::CertificateDer<'static>>,
    pub seed: u64,
    pub clock: ClockSpec,
    pub bins: Arc<BinTable>,
    /// Failure injection rules, in order.
    pub faults: Vec<crate::faults::spec::Rule>,
    /// What `issuer-sandbox test` runs.
    pub steps: Vec<steps::Step>,
    pub tenants: Vec<TenantSetup>,
    /// Each provider's settings, built from its section and the merchants' credentials.
    providers: Vec<Configured>,
    /// (provider, credential) → the merchant it names.
    claims: HashMap<(&'static str, String), usize>,
}

/// A provider's settings as built for this scenario.
struct Configured {
    name: &'static str,
    settings: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Configured({})", self.name)
    }
}

/// One merchant: its id and what its world looks like at the start.
#[derive(Debug)]
pub struct TenantSetup {
    id: String,
    initial: World,
    /// Whether webhooks to its https receivers check their certificates.
    verifies_webhook_tls: bool,
}

impl TenantSetup {
    /// The merchant id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether webhooks to its `https://` receivers check their certificates.
    pub fn verifies_webhook_tls(&self) -> bool {
        self.verifies_webhook_tls
    }
}

impl Scenario {
    /// The built-in default scenario.
    pub fn builtin_default(plugins: &dyn Plugins) -> Result<Scenario, ScenarioError> {
        Scenario::from_source(DEFAULT_SOURCE, DEFAULT_ORIGIN, None, plugins)
    }

    /// Loads a scenario file; relative key paths resolve against its directory.
    pub fn from_file(path: &Path, plugins: &dyn Plugins) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let source = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::unlocated(&origin, format!("cannot read the file: {e}")))?;
        Scenario::from_source(&source, &origin, path.parent(), plugins)
    }

    /// Builds a scenario from its text and the key files it names, as a snapshot carries them
    /// (no file is read).
    pub fn from_carried(
        source: &str,
        origin: &str,
        key_files: &BTreeMap<String, String>,
        plugins: &dyn Plugins,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_from(source, origin, &keys::KeySource::given(key_files), plugins)
    }

    /// Builds a scenario from YAML text for the providers `plugins` lists. `base_dir` resolves
    /// relative key paths; without it only inline and built-in keys are allowed.
    pub fn from_source(
        source: &str,
        origin: &str,
        base_dir: Option<&Path>,
        plugins: &dyn Plugins,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_from(source, origin, &keys::KeySource::in_dir(base_dir), plugins)
    }

    fn build_from(
        source: &str,
        origin: &str,
        key_files: &keys::KeySource<'_>,
        plugins: &dyn Plugins,
    ) -> Result<Scenario, ScenarioError> {
        let plugins = plugins.plugins();
        let names: Vec<&str> = plugins.iter().map(|p| p.name()).collect();
        let file = parse(source, origin, &names)?;
        // Each provider reads its own parts; their first errors are reported together.
        let mut parts = Vec::with_capacity(plugins.len());
        let mut problems = Vec::new();
        for plugin in &plugins {
            match plugin.read(source) {
                Ok(part) => parts.push(part),
                Err(e) => problems.extend(yaml_error(&e, source, origin).problems),
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| (p.line, p.column));
            return Err(ScenarioError {
                origin: origin.to_owned(),
                problems,
            });
        }
        build::build(file, parts, source, origin, key_files, &plugins)
    }

    /// Tenant `index`'s starting world, to look at (see [`Scenario::fresh_world`] for one to run).
    pub fn initial_world(&self, index: usize) -> Option<&World> {
        self.tenants.get(index).map(|t| &t.initial)
    }

    /// A fresh copy of tenant `index`'s starting world, its clock restarted.
    pub fn fresh_world(&self, index: usize) -> Option<World> {
        let mut world = self.tenants.get(index)?.initial.clone();
        world.clock = Clock::from_spec(self.clock);
        Some(world)
    }

    /// `provider`'s settings, if this scenario was built for it.
    pub fn settings(&self, provider: &str) -> Option<&(dyn Any + Send + Sync)> {
        self.providers
            .iter()
            .find(|c| c.name == provider)
            .map(|c| c.settings.as_ref())
    }

    /// The merchant (by index) a provider credential names.
    pub fn claimant(&self, provider: &'static str, credential: &str) -> Option<usize> {
        self.claims.get(&(provider, credential.to_owned())).copied()
    }
}

/// The JSON Schema of scenario files for the providers `plugins` lists, for editors
/// (`issuer-sandbox schema`).
///
/// Generated from the same serde models the loader uses, so it cannot drift; checks that need
/// more than a type (references, formats, duplicates) stay with `issuer-sandbox check`.
pub fn json_schema(plugins: &dyn Plugins) -> String {
    let plugins = plugins.plugins();
    let mut generator = schemars::SchemaGenerator::default();
    let schemas: Vec<(&dyn Plugin, schemars::Schema, schemars::Schema)> = plugins
        .iter()
        .map(|p| {
            let (section, credentials) = p.schemas(&mut generator);
            (*p, section, credentials)
        })
        .collect();
    let key_pair = generator
        .subschema_for::<model::KeyPairSection>()
        .to_value();
    let root = generator.into_root_schema_for::<model::ScenarioFile>();
    let mut root: Value = serde_json::to_value(root).expect("a schema is JSON");
    let names: Vec<&str> = plugins.iter().map(|p| p.name()).collect();
    let mut credentials = serde_json::Map::new();
    let mut platform_keys = serde_json::Map::new();
    for (plugin, section, credential) in schemas {
        root["properties"][plugin.name()] = json!({ "anyOf": [section, { "type": "null" }] });
        credentials.insert(plugin.name().to_owned(), credential.to_value());
        if plugin.platform().is_some() {
            platform_keys.insert(plugin.name().to_owned(), key_pair.clone());
        }
    }
    let closed = |properties| json!({ "type": ["object", "null"], "properties": properties, "additionalProperties": false });
    root["properties"]["platform_keys"] = closed(platform_keys);
    root["$defs"]["MerchantSection"]["properties"]["credentials"] = closed(credentials);
    root["$defs"]["RequestStep"]["properties"]["provider"] = json!({
        "description": "A provider's name.",
        "type": "string",
        "enum": names,
    });
    let mut text = serde_json::to_string_pretty(&root).expect("a schema serializes");
    text.push('\n');
    text
}

/// Parses YAML into the core file model, the providers' sections skipped (they read them
/// themselves), turning a parse error into a located problem.
fn parse(
    source: &str,
    origin: &str,
    providers: &[&str],
) -> Result<model::ScenarioFile, ScenarioError> {
    serde_saphyr::with_deserializer_from_str_with_options(source, yaml_options(source), |de| {
        Core { providers }.deserialize(de)
    })
    .map_err(|e| yaml_error(&e, source, origin))
}

/// The YAML reader's limits for `source`. The default budget (250,000 nodes, a million
/// events) stops a scenario at about 25,000 listed cards; a large file may hold as many nodes
/// and events as it has bytes, since every node written out takes at least one. Aliases stay
/// under the reader's own caps, so expansion cannot outgrow the file by much.
pub(crate) fn yaml_options(source: &str) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(source.len());
    budget.max_events = budget.max_events.max(source.len());
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// The core model of a file, without the providers' top-level sections.
struct Core<'a> {
    providers: &'a [&'a str],
}

impl<'de> DeserializeSeed<'de> for Core<'_> {
    type Value = model::ScenarioFile;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Core<'_> {
    type Value = model::ScenarioFile;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a scenario")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        model::ScenarioFile::deserialize(serde::de::value::MapAccessDeserializer::new(
            WithoutProviders {
                map,
                providers: self.providers,
            },
        ))
    }
}

/// A map whose providers' keys are skipped.
struct WithoutProviders<'a, A> {
    map: A,
    providers: &'a [&'a str],
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutProviders<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            match self.map.next_key::<String>()? {
                None => return Ok(None),
                Some(key) if self.providers.contains(&key.as_str()) => {
                    self.map.next_value::<IgnoredAny>()?;
                }
                Some(key) => return seed.deserialize(key.into_deserializer()).map(Some),
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Converts a serde-saphyr error into our located form.
fn yaml_error(error: &serde_saphyr::Error, source: &str, origin: &str) -> ScenarioError {
    let mut problems = error::Problems::new(source);
    let message = error.without_snippet().to_string();
    match error.location() {
        Some(location) => {
            // The library appends " at line L, column C"; our rendering shows it already.
            let suffix = format!(" at line {}, column {}", location.line(), location.column());
            let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
            problems.at(location, message);
        }
        None => problems.at_line_column(0, 0, message),
    }
    problems.into_error(origin)
}
