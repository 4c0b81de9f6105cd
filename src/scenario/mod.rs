//! Scenarios: the YAML files that say what a sandbox starts with and how it behaves.
//!
//! This is the only module that reads YAML or touches the file system for scenarios. A source
//! goes through three steps: [`model`] parses it (unknown keys and wrong types are errors with a
//! location), [`build`] checks what types cannot (duplicates, references, formats) and resolves
//! it into a [`Scenario`], and [`generate`] adds seeded fake cardholders and cards. A
//! [`Scenario`] is immutable; resetting a tenant clones its initial world again.

pub mod build;
pub mod error;
pub mod generate;
mod kazepay;
pub mod keys;
mod keysecure;
pub mod model;
mod pagsmile;
mod profiles;
mod timeline;
mod units;

use std::path::Path;
use std::sync::Arc;

use crate::credentials::{Credentials, PlatformKeys};
use crate::providers::acedata::settings::Settings as AceDataSettings;
use crate::providers::kazepay::settings::Settings as KazePaySettings;
use crate::providers::keysecure::settings::Settings as KeySecureSettings;
use crate::providers::pagsmile::settings::Settings as PagsmileSettings;
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
    pub seed: u64,
    pub clock: ClockSpec,
    pub bins: Arc<BinTable>,
    pub acedata: Arc<AceDataSettings>,
    pub kazepay: Arc<KazePaySettings>,
    pub pagsmile: Arc<PagsmileSettings>,
    pub keysecure: Arc<KeySecureSettings>,
    /// Failure injection rules, in order.
    pub faults: Vec<crate::faults::spec::Rule>,
    /// What `issuer-sandbox test` runs.
    pub steps: Vec<crate::runner::step::Step>,
    pub platform_keys: PlatformKeys,
    pub tenants: Vec<TenantSetup>,
}

/// One merchant: how it authenticates and what its world looks like at the start.
#[derive(Debug)]
pub struct TenantSetup {
    pub credentials: Credentials,
    initial: World,
}

impl TenantSetup {
    /// The merchant id.
    pub fn id(&self) -> &str {
        &self.initial.merchant.id
    }
}

impl Scenario {
    /// The built-in default scenario.
    pub fn builtin_default() -> Result<Scenario, ScenarioError> {
        Scenario::from_source(DEFAULT_SOURCE, DEFAULT_ORIGIN, None)
    }

    /// Loads a scenario file; relative key paths resolve against its directory.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let source = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::unlocated(&origin, format!("cannot read the file: {e}")))?;
        Scenario::from_source(&source, &origin, path.parent())
    }

    /// Builds a scenario from YAML text. `base_dir` resolves relative key paths; without it
    /// only inline and built-in keys are allowed.
    pub fn from_source(
        source: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Scenario, ScenarioError> {
        let file = parse(source, origin)?;
        build::build(file, source, origin, base_dir)
    }

    /// A fresh copy of tenant `index`'s starting world, its clock restarted.
    pub fn fresh_world(&self, index: usize) -> Option<World> {
        let mut world = self.tenants.get(index)?.initial.clone();
        world.clock = Clock::from_spec(self.clock);
        Some(world)
    }
}

/// The JSON Schema of scenario files, for editors (`issuer-sandbox schema`).
///
/// Generated from the same serde model the loader uses, so it cannot drift; checks that need
/// more than a type (references, formats, duplicates) stay with `issuer-sandbox check`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(model::ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// Parses YAML into the file model, turning a parse error into a located problem.
fn parse(source: &str, origin: &str) -> Result<model::ScenarioFile, ScenarioError> {
    serde_saphyr::from_str::<model::ScenarioFile>(source)
        .map_err(|e| yaml_error(&e, source, origin))
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
