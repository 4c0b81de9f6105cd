//! Checks what types cannot and resolves the file model into a [`Scenario`]: the clock, banks,
//! rules, merchants' worlds ([`super::merchants`]), platform keys, fault rules and steps here;
//! each provider's section and credentials through its [`Plugin`].
//!
//! Every check records a located problem and carries on, so one `check` run reports all of a
//! file's problems rather than the first.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde_saphyr::{Location, Spanned};

use super::error::{Problems, ScenarioError};
use super::keys::{self, DEMO_MERCHANT, KeyRole, KeySource};
use super::model::{ByProvider, KeyPairSection, ScenarioFile};
use super::section::{Build, BuiltinKey, KeyPair, Located, Plugin};
use super::steps::Step;
use super::{Configured, Scenario, TenantSetup, banks, merchants, timeline};
use crate::faults::spec::{Catalogs, FaultSpec, Rule};
use crate::world::ClockSpec;

/// Validates and resolves `file` with each plugin's `parts` of it; all problems found are
/// reported together.
pub(super) fn build(
    file: ScenarioFile,
    parts: Vec<Box<dyn Any>>,
    source: &str,
    origin: &str,
    key_files: &KeySource<'_>,
    plugins: &[&dyn Plugin],
) -> Result<Scenario, ScenarioError> {
    let mut problems = Problems::new(source);
    let clock = ClockSpec {
        start: file.clock.as_ref().and_then(|c| c.start),
        frozen: file.clock.as_ref().is_some_and(|c| c.frozen),
    };
    let start = clock.start.unwrap_or_else(Timestamp::now);
    let bins = Arc::new(banks::build(&file, &mut problems, origin)?);
    let rules = Arc::new(timeline::rules(&file.fx, &file.magic, &mut problems));
    let builtin_keys: Vec<BuiltinKey> = std::iter::once(DEMO_MERCHANT)
        .chain(plugins.iter().filter_map(|p| p.platform()))
        .collect();
    let platform_keys = platform_keys(
        file.platform_keys,
        plugins,
        key_files,
        &builtin_keys,
        &mut problems,
    );
    let context = merchants::Setup {
        rules,
        seed: file.seed,
        start,
        bins: &bins,
        issuers: plugins
            .iter()
            .filter(|p| p.issues_cards())
            .map(|p| p.name())
            .collect(),
    };

    if file.merchants.value.is_empty() {
        problems.at(
            file.merchants.referenced,
            "a scenario needs at least one merchant",
        );
    }
    let names: Vec<&str> = plugins.iter().map(|p| p.name()).collect();
    let mut merchant_ids = Vec::new();
    let mut verifies_tls = Vec::new();
    let mut worlds = Vec::new();
    let mut card_locations = Vec::new();
    for merchant in file.merchants.value {
        if merchant_ids.contains(&merchant.id.value) {
            problems.at(
                merchant.id.referenced,
                format!("duplicate merchant id `{}`", merchant.id.value),
            );
        }
        merchant_ids.push(merchant.id.value.clone());
        verifies_tls.push(merchant.webhook_tls_verify.unwrap_or(true));
        for (provider, _) in &merchant.credentials.entries {
            if !names.contains(&provider.value.as_str()) {
                problems.at(
                    provider.referenced,
                    format!(
                        "unknown field `{}`, expected one of {}",
                        provider.value,
                        quoted(&names)
                    ),
                );
            }
        }
        let (world, cards) = merchants::build_tenant(merchant, &context, &mut problems);
        worlds.push(world);
        card_locations.push(cards);
    }

    let mut claims = Vec::new();
    let mut providers = Vec::new();
    let mut incomplete = false;
    for (plugin, parts) in plugins.iter().zip(parts) {
        let mut build = Build {
            problems: &mut problems,
            provider: plugin.name(),
            section_at: None,
            key_files,
            builtin_keys: &builtin_keys,
            platform_keys: &platform_keys,
            merchants: &merchant_ids,
            cards: &card_locations,
            claims: &mut claims,
            start,
            bins: &bins,
        };
        match plugin.build(parts, &mut build)? {
            Some(settings) => {
                for (tenant, world) in worlds.iter_mut().enumerate() {
                    plugin.prepare(settings.as_ref(), tenant, world, &mut build);
                }
                providers.push(Configured {
                    name: plugin.name(),
                    settings,
                });
            }
            None => incomplete = true,
        }
    }
    let claims = check_claims(claims, &mut problems);
    let faults = build_faults(file.faults, &merchant_ids, plugins, &mut problems);
    let webhook_ca = file
        .webhook_ca
        .iter()
        .filter_map(|reference| {
            key_files
                .text(&reference.value)
                .map_err(|e| e.to_string())
                .and_then(|pem| {
                    crate::tls::certificates(&pem, "webhook_ca").map_err(|e| e.to_string())
                })
                .map_err(|why| problems.at(reference.referenced, why))
                .ok()
        })
        .flatten()
        .collect();
    let steps = build_steps(file.steps, &merchant_ids, plugins, &mut problems);
    if incomplete || !problems.is_empty() {
        return Err(problems.into_error(origin));
    }
    Ok(Scenario {
        name: file.name.unwrap_or_else(|| origin.to_owned()),
        description: file.description,
        origin: origin.to_owned(),
        source: source.to_owned(),
        key_files: key_files.read_so_far(),
        seed: file.seed,
        clock,
        bins,
        faults,
        steps,
        tenants: merchant_ids
            .into_iter()
            .zip(worlds)
            .zip(verifies_tls)
            .map(|((id, initial), verifies_webhook_tls)| TenantSetup {
                id,
                initial,
                verifies_webhook_tls,
            })
            .collect(),
        webhook_ca,
        providers,
        claims,
    })
}

/// `a`, `b`, `c`: names as serde lists them.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// Each credential names one merchant only, or requests could not find their tenant: the
/// second use is the problem. The index of credentials to tenants.
fn check_claims(
    claims: Vec<(&'static str, Located<String>, usize)>,
    problems: &mut Problems<'_>,
) -> HashMap<(&'static str, String), usize> {
    let mut first: HashMap<(&'static str, String), (Location, usize)> = HashMap::new();
    for (provider, credential, tenant) in claims {
        let key = (provider, credential.value.clone());
        match first.get(&key) {
            Some((at, _)) => problems.at(
                credential.referenced,
                format!(
                    "{provider} credential `{}` is already used at line {}; each credential belongs to one merchant",
                    credential.value,
                    at.line()
                ),
            ),
            None => {
                first.insert(key, (credential.referenced, tenant));
            }
        }
    }
    first
        .into_iter()
        .map(|(key, (_, tenant))| (key, tenant))
        .collect()
}

/// The key pairs `platform_keys:` gives, by provider; each must name a provider that plays a
/// platform and be a usable RSA pair.
fn platform_keys(
    section: ByProvider<KeyPairSection>,
    plugins: &[&dyn Plugin],
    key_files: &KeySource<'_>,
    builtin: &[BuiltinKey],
    problems: &mut Problems<'_>,
) -> HashMap<String, KeyPair> {
    let with_keys: Vec<&str> = plugins
        .iter()
        .filter(|p| p.platform().is_some())
        .map(|p| p.name())
        .collect();
    let mut pairs = HashMap::new();
    for (provider, given) in section.entries {
        if !with_keys.contains(&provider.value.as_str()) {
            problems.at(
                provider.referenced,
                format!(
                    "unknown field `{}`, expected one of {}",
                    provider.value,
                    quoted(&with_keys)
                ),
            );
            continue;
        }
        let resolve = |reference: &Spanned<String>, role, problems: &mut Problems<'_>| {
            keys::resolve(&reference.value, role, key_files, builtin)
                .map_err(|error| problems.at(reference.referenced, error.to_string()))
                .ok()
        };
        let private_pem = resolve(&given.private_key, KeyRole::Private, problems).filter(|pem| {
            match crate::crypto::rsa::private_key(pem) {
                Ok(_) => true,
                Err(e) => {
                    problems.at(given.private_key.referenced, e.to_string());
                    false
                }
            }
        });
        let public_pem = resolve(&given.public_key, KeyRole::Public, problems).filter(|pem| {
            match crate::crypto::rsa::public_key(pem) {
                Ok(_) => true,
                Err(e) => {
                    problems.at(given.public_key.referenced, e.to_string());
                    false
                }
            }
        });
        if let (Some(private_pem), Some(public_pem)) = (private_pem, public_pem) {
            pairs.insert(
                provider.value,
                KeyPair {
                    public_pem,
                    private_pem,
                },
            );
        }
    }
    pairs
}

/// Checks each step beyond its types (one action, known tenant and provider, parsable
/// duration, ...), each problem located at its step.
fn build_steps(
    specs: Vec<Spanned<Step>>,
    merchants: &[String],
    plugins: &[&dyn Plugin],
    problems: &mut Problems<'_>,
) -> Vec<Step> {
    let merchants: Vec<&str> = merchants.iter().map(String::as_str).collect();
    let providers: Vec<_> = plugins
        .iter()
        .map(|p| (p.name(), p.step_target()))
        .collect();
    specs
        .into_iter()
        .map(|spec| {
            for problem in spec.value.problems(&merchants, &providers) {
                problems.at(spec.referenced, problem);
            }
            spec.value
        })
        .collect()
}

/// What fault rules may name of the providers a scenario is loaded for.
pub(super) struct PluginCatalogs<'a>(pub &'a [&'a dyn Plugin]);

impl Catalogs for PluginCatalogs<'_> {
    fn providers(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.name()).collect()
    }

    fn catalog_has(&self, provider: &str, error: &str) -> bool {
        self.0
            .iter()
            .any(|p| p.name() == provider && p.catalog_has(error))
    }

    fn has_crypto(&self, provider: &str) -> bool {
        self.0
            .iter()
            .any(|p| p.name() == provider && p.has_crypto())
    }
}

/// Checks the fault rules, numbering those without an id `f1`, `f2`, ...
fn build_faults(
    specs: Vec<Spanned<FaultSpec>>,
    merchants: &[String],
    plugins: &[&dyn Plugin],
    problems: &mut Problems<'_>,
) -> Vec<Rule> {
    let named: HashSet<String> = specs.iter().filter_map(|s| s.value.id.clone()).collect();
    let catalogs = PluginCatalogs(plugins);
    let mut next = 1;
    let mut rules: Vec<Rule> = Vec::new();
    for spec in specs {
        let at = spec.referenced;
        let id = crate::faults::spec::unnamed_id(&mut next, |id| named.contains(id));
        let compiled = spec.value.compile(id, &catalogs).and_then(|rule| {
            rule.check_tenant(merchants.iter().map(String::as_str))?;
            Ok(rule)
        });
        match compiled {
            Ok(rule) if rules.iter().any(|r| r.id == rule.id) => {
                problems.at(at, format!("duplicate fault id `{}`", rule.id));
            }
            Ok(rule) => rules.push(rule),
            Err(message) => problems.at(at, format!("fault: {message}")),
        }
    }
    rules
}
