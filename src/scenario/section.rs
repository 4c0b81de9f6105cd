//! What a provider's part of a scenario is written with: the plug-in face scenario loading
//! needs from every provider ([`Plugin`]), the located values of its serde model, one merge of
//! a section over the provider's built-in profile ([`Merge`]), and the kit its section builder
//! is handed ([`Build`]): located problems, durations, offsets, keys, rate limits, claims.
//!
//! The YAML itself is read here, never by a provider: [`read_parts`] reads one provider's
//! parts of a file (its top-level section and each merchant's credentials) with that
//! provider's types, so every error keeps its line and column.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::{Problems, ScenarioError};
use super::keys::{self, KeyRole, KeySource};
use super::model::RateLimitSection;
use super::steps::StepTarget;
use crate::world::World;
use crate::world::bins::BinTable;
use crate::world::ratelimit::RateLimit;

/// A value with the place in the scenario file it came from.
pub type Located<T> = serde_saphyr::Spanned<T>;

/// A place in a scenario file.
pub type Location = serde_saphyr::Location;

/// A test-only key pair shipped in the binary, named `builtin:NAME` in scenarios.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinKey {
    pub name: &'static str,
    pub private_pem: &'static str,
    pub public_pem: &'static str,
}

/// An RSA key pair in PEM form.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyPair {
    pub public_pem: String,
    #[serde(skip)]
    pub private_pem: String,
}

/// A built-in profile: the provider's defaults as YAML of its section's shape.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinProfile {
    /// How problems in it are located (`<built-in fixtures/profiles/x.yaml>`).
    pub origin: &'static str,
    pub text: &'static str,
}

/// What scenario loading needs from each provider served. Every `Provider` has it (the
/// provider registry implements it); scenario code never names a provider.
pub trait Plugin: Send + Sync {
    /// The provider's name: its section, its credentials key, its steps' `provider`.
    fn name(&self) -> &'static str;
    /// Whether a scenario's cards may name it as their issuer.
    fn issues_cards(&self) -> bool;
    /// What its request steps name: an operation or a path.
    fn step_target(&self) -> StepTarget;
    /// Whether its catalog has an entry named `error` (fault rules name them).
    fn catalog_has(&self, error: &str) -> bool;
    /// Whether its answers carry crypto a fault rule may break.
    fn has_crypto(&self) -> bool;
    /// The test-only key pair it plays the platform with, when it has one: shipped as
    /// `builtin:NAME`, replaced by a scenario's `platform_keys.NAME`.
    fn platform(&self) -> Option<BuiltinKey>;
    /// Reads its parts of `source` (its section, each merchant's credentials) with its types.
    fn read(&self, source: &str) -> Result<Box<dyn Any>, serde_saphyr::Error>;
    /// Merges its section over its profile and builds its settings; `None` when it could not
    /// (the problems say why).
    fn build(
        &self,
        parts: Box<dyn Any>,
        build: &mut Build<'_, '_>,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, ScenarioError>;
    /// Adjusts and checks a merchant's starting world (its cards) under its settings.
    fn prepare(
        &self,
        settings: &(dyn Any + Send + Sync),
        tenant: usize,
        world: &mut World,
        build: &mut Build<'_, '_>,
    );
    /// The JSON Schemas of its section and of a merchant's credentials.
    fn schemas(
        &self,
        generator: &mut schemars::SchemaGenerator,
    ) -> (schemars::Schema, schemars::Schema);
}

/// The providers a scenario is loaded for, in order.
pub trait Plugins {
    fn plugins(&self) -> Vec<&dyn Plugin>;
}

/// One provider's parts of a scenario file.
#[derive(Debug)]
pub struct Parts<S, C> {
    /// Its top-level section.
    pub section: Option<Located<S>>,
    /// Each merchant's credentials for it, in the file's order (`None`: not set up for it).
    pub credentials: Vec<Option<Located<C>>>,
}

/// Reads `name`'s parts of `source`: the section `name:` as `S`, each merchant's
/// `credentials.name` as `C`; everything else is skipped (the core model reads it).
pub fn read_parts<S: DeserializeOwned, C: DeserializeOwned>(
    source: &str,
    name: &'static str,
) -> Result<Parts<S, C>, serde_saphyr::Error> {
    serde_saphyr::with_deserializer_from_str_with_options(
        source,
        super::yaml_options(source),
        |de| {
            PartsSeed::<S, C> {
                name,
                types: PhantomData,
            }
            .deserialize(de)
        },
    )
}

/// Reads a built-in profile (the section's shape).
pub fn read_profile<S: DeserializeOwned>(profile: BuiltinProfile) -> Result<S, ScenarioError> {
    serde_saphyr::from_str(profile.text)
        .map_err(|e| super::yaml_error(&e, profile.text, profile.origin))
}

struct PartsSeed<S, C> {
    name: &'static str,
    types: PhantomData<fn() -> (S, C)>,
}

impl<'de, S: DeserializeOwned, C: DeserializeOwned> DeserializeSeed<'de> for PartsSeed<S, C> {
    type Value = Parts<S, C>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parts<S, C>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: DeserializeOwned, C: DeserializeOwned> Visitor<'de> for PartsSeed<S, C> {
    type Value = Parts<S, C>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a scenario")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts<S, C>, A::Error> {
        let mut parts = Parts {
            section: None,
            credentials: Vec::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == self.name {
                parts.section = Some(map.next_value()?);
            } else if key == "merchants" {
                parts.credentials = map.next_value_seed(Merchants::<C> {
                    name: self.name,
                    types: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(parts)
    }
}

/// Each merchant's credentials for one provider.
struct Merchants<C> {
    name: &'static str,
    types: PhantomData<fn() -> C>,
}

impl<'de, C: DeserializeOwned> DeserializeSeed<'de> for Merchants<C> {
    type Value = Vec<Option<Located<C>>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, C: DeserializeOwned> Visitor<'de> for Merchants<C> {
    type Value = Vec<Option<Located<C>>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of merchants")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut all = Vec::new();
        while let Some(credentials) = seq.next_element_seed(CredentialsSeed::<C> {
            name: self.name,
            within: false,
            types: PhantomData,
        })? {
            all.push(credentials);
        }
        Ok(all)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// One merchant's credentials for one provider: `credentials.NAME` of a merchant (`within`
/// false), then `NAME` of its credentials (`within` true).
struct CredentialsSeed<C> {
    name: &'static str,
    within: bool,
    types: PhantomData<fn() -> C>,
}

impl<'de, C: DeserializeOwned> DeserializeSeed<'de> for CredentialsSeed<C> {
    type Value = Option<Located<C>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, C: DeserializeOwned> Visitor<'de> for CredentialsSeed<C> {
    type Value = Option<Located<C>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if self.within && key == self.name {
                found = map.next_value()?;
            } else if !self.within && key == "credentials" {
                found = map.next_value_seed(CredentialsSeed::<C> {
                    name: self.name,
                    within: true,
                    types: PhantomData,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    // Anything but a map is the core model's to refuse.
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// One merge of a scenario's section over a profile: what the scenario gives wins; maps merge
/// entry by entry (deeply where their values merge); a list the scenario gives replaces the
/// profile's.
pub trait Merge: Sized {
    /// `self` (the scenario's) over `base` (the profile's).
    fn merge(self, base: Self) -> Self;
}

impl<T> Merge for Option<T> {
    fn merge(self, base: Self) -> Self {
        self.or(base)
    }
}

impl<T> Merge for Vec<T> {
    fn merge(self, base: Self) -> Self {
        if self.is_empty() { base } else { self }
    }
}

impl<K: Ord, V: Merge> Merge for BTreeMap<K, V> {
    fn merge(self, mut base: Self) -> Self {
        for (key, value) in self {
            let merged = match base.remove(&key) {
                Some(under) => value.merge(under),
                None => value,
            };
            base.insert(key, merged);
        }
        base
    }
}

/// An optional nested section whose parts a scenario may give alone: merged part by part with
/// the profile's (an `Option` is replaced whole).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Deep<T>(pub Option<T>);

impl<T: schemars::JsonSchema> schemars::JsonSchema for Deep<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Option::<T>::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Option::<T>::json_schema(generator)
    }

    fn inline_schema() -> bool {
        true
    }
}

impl<T: Merge> Merge for Deep<T> {
    fn merge(self, base: Self) -> Self {
        Deep(match (self.0, base.0) {
            (Some(over), Some(under)) => Some(over.merge(under)),
            (over, under) => over.or(under),
        })
    }
}

impl Merge for () {
    fn merge(self, _base: Self) -> Self {}
}

/// Implements [`Merge`] for a section struct, field by field.
#[macro_export]
macro_rules! merge_fields {
    ($type:ty { $($field:ident),* $(,)? }) => {
        impl $crate::scenario::section::Merge for $type {
            fn merge(self, base: Self) -> Self {
                Self {
                    $($field: $crate::scenario::section::Merge::merge(self.$field, base.$field),)*
                }
            }
        }
    };
}

/// Implements [`Merge`] for values the scenario replaces whole (catalog texts, ...).
#[macro_export]
macro_rules! merge_whole {
    ($($type:ty),* $(,)?) => {
        $(impl $crate::scenario::section::Merge for $type {
            fn merge(self, _base: Self) -> Self {
                self
            }
        })*
    };
}

merge_whole!(String, bool, u32, u64, usize, i64, serde_json::Value);

/// What a provider's section builder is handed: the scenario around it and a way to report
/// located problems.
pub struct Build<'b, 'p> {
    pub(super) problems: &'b mut Problems<'p>,
    /// The provider being built, and where its section is (profile problems are reported
    /// there, or as the built-in profile's).
    pub(super) provider: &'static str,
    pub(super) section_at: Option<Location>,
    pub(super) key_files: &'b KeySource<'b>,
    pub(super) builtin_keys: &'b [BuiltinKey],
    /// Key pairs given under `platform_keys:`, by provider.
    pub(super) platform_keys: &'b HashMap<String, KeyPair>,
    /// Each merchant's id, in order.
    pub(super) merchants: &'b [String],
    /// Where each merchant's cards are (for problems about them).
    pub(super) cards: &'b [HashMap<String, Location>],
    pub(super) claims: &'b mut Vec<(&'static str, Located<String>, usize)>,
    pub(super) start: Timestamp,
    pub(super) bins: &'b Arc<BinTable>,
}

impl std::fmt::Debug for Build<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Build({})", self.provider)
    }
}

impl Build<'_, '_> {
    /// The provider's section merged over its built-in profile. Problems of the merged section
    /// are located at the scenario's section from then on (or said to be the profile's).
    pub fn merge_profile<S: DeserializeOwned + Merge + Default>(
        &mut self,
        section: Option<Located<S>>,
        profile: Option<BuiltinProfile>,
    ) -> Result<S, ScenarioError> {
        let base = match profile {
            Some(profile) => read_profile::<S>(profile)?,
            None => S::default(),
        };
        self.section_at = section.as_ref().map(|s| s.referenced);
        Ok(section.map(|s| s.value).unwrap_or_default().merge(base))
    }

    /// Reports `message` at `at`.
    pub fn problem(&mut self, at: Location, message: impl Into<String>) {
        self.problems.at(at, message);
    }

    /// Reports a problem of the merged section: at the scenario's section, or (without one)
    /// as the built-in profile's.
    pub fn profile_problem(&mut self, message: impl Into<String>) {
        let message = message.into();
        match self.section_at {
            Some(at) => self.problems.at(at, message),
            None => self.problems.at_line_column(
                0,
                0,
                format!("built-in {} profile: {message}", self.provider),
            ),
        }
    }

    /// Reports a problem no place in the file is to blame for.
    pub fn unlocated(&mut self, message: impl Into<String>) {
        self.problems.at_line_column(0, 0, message.into());
    }

    /// The merchants' ids, in the scenario's order.
    pub fn merchants(&self) -> &[String] {
        self.merchants
    }

    /// Where merchant `tenant`'s card `id` is written.
    pub fn card_location(&self, tenant: usize, id: &str) -> Option<Location> {
        self.cards.get(tenant)?.get(id).copied()
    }

    /// The scenario's start instant (or its load time).
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The scenario's BIN table.
    pub fn bins(&self) -> &Arc<BinTable> {
        self.bins
    }

    /// Records that `credential` names merchant `tenant` in requests; a credential naming two
    /// merchants is a problem.
    pub fn claim(&mut self, tenant: usize, credential: &Located<String>) {
        self.claims
            .push((self.provider, credential.clone(), tenant));
    }

    /// A non-negative duration such as `30s`, `1h 30m` or `PT10S`.
    pub fn duration(&mut self, text: &Located<String>) -> Option<SignedDuration> {
        super::units::duration(text, self.problems)
    }

    /// The first of `given`, `fallback` that is given, as a duration; zero when neither is.
    pub fn duration_or(
        &mut self,
        given: Option<Located<String>>,
        fallback: Option<Located<String>>,
    ) -> SignedDuration {
        given
            .or(fallback)
            .and_then(|text| self.duration(&text))
            .unwrap_or_default()
    }

    /// A UTC offset (`+08:00`); UTC when not given, `None` when unreadable.
    pub fn utc_offset(&mut self, text: Option<Located<String>>) -> Option<jiff::tz::Offset> {
        super::units::utc_offset(text, self.problems)
    }

    /// A rate limit as written (`per_second: 0` means none).
    pub fn rate_limit(section: RateLimitSection) -> Option<RateLimit> {
        super::values::rate_limit(section)
    }

    /// A public key reference resolved and parsed as RSA (empty, with a problem, if not).
    pub fn public_key(&mut self, reference: &Located<String>) -> String {
        let Some(pem) = self.resolve_key(reference, KeyRole::Public) else {
            return String::new();
        };
        if let Err(e) = crate::crypto::rsa::public_key(&pem) {
            self.problems.at(reference.referenced, e.to_string());
        }
        pem
    }

    /// A private key reference resolved (empty, with a problem, if not).
    pub fn private_key(&mut self, reference: &Located<String>) -> String {
        self.resolve_key(reference, KeyRole::Private)
            .unwrap_or_default()
    }

    fn resolve_key(&mut self, reference: &Located<String>, role: KeyRole) -> Option<String> {
        keys::resolve(&reference.value, role, self.key_files, self.builtin_keys)
            .map_err(|error| self.problems.at(reference.referenced, error.to_string()))
            .ok()
    }

    /// The provider's platform key pair: the scenario's `platform_keys` entry, else its
    /// built-in pair.
    pub fn platform_keys(&self, builtin: BuiltinKey) -> KeyPair {
        self.platform_keys
            .get(self.provider)
            .cloned()
            .unwrap_or_else(|| KeyPair {
                public_pem: builtin.public_pem.to_owned(),
                private_pem: builtin.private_pem.to_owned(),
            })
    }
}
