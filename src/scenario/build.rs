//! Checks what types cannot and resolves the file model into a [`Scenario`].
//!
//! Every check records a located problem and carries on, so one `check` run reports all of a
//! file's problems rather than the first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use serde_saphyr::{Location, Spanned};

use super::error::{Problems, ScenarioError};
use super::keys::{self, KeyRole};
use super::model::{
    AccountSection, AceDataSection, AceDataTokenSection, AddressSection, AnswerSection,
    CardSection, CardholderSection, CredentialsSection, KeyPairSection, MerchantSection,
    RateLimitSection, ScenarioFile,
};
use super::{Scenario, TenantSetup, generate, profiles};
use crate::credentials::IntegrationMode;
use crate::credentials::{
    AceDataToken, Credentials, KazePaySystem, KeyPair, KeySecureKey, PagsmileApp, PlatformKeys,
};
use crate::providers;
use crate::providers::acedata::settings::{
    Answer, Endpoint, EndpointTable, GatewayError, Language, Settings, Token,
};
use crate::world::Funding;
use crate::world::bins::{Bank, BinTable};
use crate::world::card::Limits;
use crate::world::cardholder::plausible_email;
use crate::world::ratelimit::RateLimit;
use crate::world::rng::{self, SandboxRng};
use crate::world::{
    Address, Card, CardForm, CardStatus, Cardholder, Clock, ClockSpec, Currency, Expiry,
    IdDocument, Kyc, KycStatus, Merchant, Money, Phone, World, ids,
};

/// What every part of the build needs to know.
struct Context<'a> {
    seed: u64,
    /// The scenario's start instant (or the load time): `created_at` of starting data and the
    /// base of default expiry dates.
    start: Timestamp,
    bins: &'a BinTable,
    base_dir: Option<&'a Path>,
    /// What a KeySecure key without its own `rate_limit` gets.
    keysecure_rate_limit: Option<RateLimit>,
    /// The FX table and magic declines every world follows.
    rules: Arc<crate::world::rules::Rules>,
}

/// Validates and resolves `file`; all problems found are reported together.
pub(super) fn build(
    file: ScenarioFile,
    source: &str,
    origin: &str,
    base_dir: Option<&Path>,
) -> Result<Scenario, ScenarioError> {
    let mut problems = Problems::new(source);
    let clock = ClockSpec {
        start: file.clock.as_ref().and_then(|c| c.start),
        frozen: file.clock.as_ref().is_some_and(|c| c.frozen),
    };
    let bins = Arc::new(build_bins(&file, &mut problems, origin)?);
    let mut acedata = build_acedata(file.acedata, bins.clone(), &mut problems)?;
    let platform_keys = build_platform_keys(file.platform_keys, base_dir, &mut problems);
    let keysecure_rate_limit = super::keysecure::default_rate_limit(file.keysecure.as_ref())?;
    let rules = Arc::new(super::timeline::rules(&file.fx, &file.magic, &mut problems));
    let context = Context {
        rules,
        keysecure_rate_limit,
        seed: file.seed,
        start: clock.start.unwrap_or_else(Timestamp::now),
        bins: &bins,
        base_dir,
    };

    if file.merchants.value.is_empty() {
        problems.at(
            file.merchants.referenced,
            "a scenario needs at least one merchant",
        );
    }
    let mut merchant_ids = HashSet::new();
    let mut credential_owners = HashMap::new();
    let mut tenants = Vec::new();
    for merchant in file.merchants.value {
        if !merchant_ids.insert(merchant.id.value.clone()) {
            problems.at(
                merchant.id.referenced,
                format!("duplicate merchant id `{}`", merchant.id.value),
            );
        }
        check_unique_credentials(&merchant.credentials, &mut credential_owners, &mut problems);
        tenants.push(build_tenant(merchant, &context, &acedata, &mut problems));
    }
    acedata.tokens = tenants
        .iter()
        .enumerate()
        .flat_map(|(tenant, setup)| {
            setup
                .credentials
                .acedata
                .iter()
                .map(move |credential| Token {
                    tenant,
                    credential: credential.clone(),
                })
        })
        .collect();

    let kazepay = super::kazepay::build(
        file.kazepay,
        &platform_keys.kazepay,
        &tenants,
        &mut problems,
    )?;
    let pagsmile = super::pagsmile::build(
        file.pagsmile,
        &platform_keys.pagsmile,
        &tenants,
        &mut problems,
    )?;
    let keysecure = super::keysecure::build(file.keysecure, &tenants, &mut problems)?;
    let (mut kazepay, mut pagsmile, mut keysecure) = (kazepay, pagsmile, keysecure);
    super::timeline::apply_magic_kyc(
        &file.magic,
        kazepay.as_mut(),
        pagsmile.as_mut(),
        keysecure.as_mut(),
    );
    let faults = build_faults(file.faults, &merchant_ids, &mut problems);
    let steps = build_steps(file.steps, &tenants, &mut problems);
    let (Some(kazepay), Some(pagsmile), Some(keysecure), true) =
        (kazepay, pagsmile, keysecure, problems.is_empty())
    else {
        return Err(problems.into_error(origin));
    };
    Ok(Scenario {
        name: file.name.unwrap_or_else(|| origin.to_owned()),
        description: file.description,
        origin: origin.to_owned(),
        source: source.to_owned(),
        seed: file.seed,
        clock,
        bins,
        acedata: Arc::new(acedata),
        kazepay: Arc::new(kazepay),
        pagsmile: Arc::new(pagsmile),
        keysecure: Arc::new(keysecure),
        faults,
        steps,
        platform_keys,
        tenants,
    })
}

/// Checks each step beyond its types (one action, known tenant, parsable duration, ...), each
/// problem located at its step.
fn build_steps(
    specs: Vec<Spanned<crate::runner::step::Step>>,
    tenants: &[TenantSetup],
    problems: &mut Problems<'_>,
) -> Vec<crate::runner::step::Step> {
    let merchants: Vec<&str> = tenants.iter().map(TenantSetup::id).collect();
    specs
        .into_iter()
        .map(|spec| {
            for problem in spec.value.problems(&merchants) {
                problems.at(spec.referenced, problem);
            }
            spec.value
        })
        .collect()
}

/// Checks the fault rules, numbering those without an id `f1`, `f2`, ...
fn build_faults(
    specs: Vec<Spanned<crate::faults::spec::FaultSpec>>,
    merchant_ids: &HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<crate::faults::spec::Rule> {
    let named: HashSet<String> = specs.iter().filter_map(|s| s.value.id.clone()).collect();
    let mut next = 1;
    let mut rules: Vec<crate::faults::spec::Rule> = Vec::new();
    for spec in specs {
        let at = spec.referenced;
        let id = crate::faults::spec::unnamed_id(&mut next, |id| named.contains(id));
        let compiled = spec
            .value
            .compile(id, &crate::providers::builtin())
            .and_then(|rule| {
                rule.check_tenant(merchant_ids.iter().map(String::as_str))?;
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

fn build_bins(
    file: &ScenarioFile,
    problems: &mut Problems<'_>,
    origin: &str,
) -> Result<BinTable, ScenarioError> {
    let mut bins = BinTable::builtin()
        .map_err(|e| ScenarioError::unlocated(origin, format!("built-in BIN table: {e}")))?;
    for bank in &file.banks {
        let b = &bank.value;
        let code_ok = !b.code.is_empty()
            && b.code
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
        if !code_ok {
            problems.at(
                bank.referenced,
                format!("bank code `{}` must be A-Z, 0-9 or _", b.code),
            );
        } else if b.name_zh.trim().is_empty() || b.name_en.trim().is_empty() {
            problems.at(
                bank.referenced,
                format!("bank {} needs name_zh and name_en", b.code),
            );
        } else if !is_country_code(&b.country) {
            problems.at(
                bank.referenced,
                format!(
                    "bank {}: `{}` is not an ISO 3166 two-letter country code",
                    b.code, b.country
                ),
            );
        } else {
            bins.add_bank(Bank {
                code: b.code.clone(),
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
                country: b.country.clone(),
            });
        }
    }
    for range in &file.bins {
        let r = &range.value;
        if let Err(e) = bins.add_range(&r.bin, r.length, r.kind, r.scheme, &r.bank) {
            problems.at(range.referenced, e.to_string());
        }
    }
    Ok(bins)
}

/// Merges the scenario's `acedata:` over the built-in profile and checks the result is complete.
fn build_acedata(
    section: Option<Spanned<AceDataSection>>,
    bins: Arc<BinTable>,
    problems: &mut Problems<'_>,
) -> Result<Settings, ScenarioError> {
    let mut merged = profiles::acedata()?;
    // Problems in the merged profile are the scenario's if it has an `acedata:` section;
    // otherwise the built-in profile is broken, which a unit test rules out.
    let location = section.as_ref().map(|s| s.referenced);
    let overrides = section.map(|s| s.value).unwrap_or_default();
    merged.language = overrides.language.or(merged.language);
    merged.rate_limit = overrides.rate_limit.or(merged.rate_limit);
    for (endpoint, table) in overrides.endpoints {
        let base = merged.endpoints.entry(endpoint).or_default();
        base.results.extend(table.results);
        base.outcomes.extend(table.outcomes);
    }
    merged.gateway_errors.extend(overrides.gateway_errors);

    let endpoints = acedata_tables(&mut merged, location, problems);
    for error in GatewayError::ALL {
        match merged.gateway_errors.get(&error) {
            None => profile_problem(
                problems,
                location,
                format!(
                    "acedata: gateway error `{}` has no status and message",
                    error.code()
                ),
            ),
            Some(text) if !(400..=599).contains(&text.status) => profile_problem(
                problems,
                location,
                format!(
                    "acedata: gateway error `{}` has status {}; use 400–599",
                    error.code(),
                    text.status
                ),
            ),
            Some(_) => {}
        }
    }
    let answers = acedata_answers(overrides.answers, &endpoints, problems);
    Ok(Settings {
        language: merged.language.unwrap_or(Language::Zh),
        rate_limit: merged.rate_limit.and_then(rate_limit),
        endpoints,
        gateway_errors: merged.gateway_errors,
        answers,
        bins,
        tokens: Vec::new(),
    })
}

fn profile_problem(problems: &mut Problems<'_>, location: Option<Location>, message: String) {
    match location {
        Some(at) => problems.at(at, message),
        None => problems.at_line_column(0, 0, format!("built-in AceData profile: {message}")),
    }
}

/// Every endpoint must map each of its situations to a code that has a text. Outcomes for
/// situations an endpoint does not have are ignored (the built-in profile shares one table).
fn acedata_tables(
    merged: &mut AceDataSection,
    location: Option<Location>,
    problems: &mut Problems<'_>,
) -> BTreeMap<Endpoint, EndpointTable> {
    let mut endpoints = BTreeMap::new();
    for endpoint in Endpoint::ALL {
        let table = merged.endpoints.remove(&endpoint).unwrap_or_default();
        for situation in endpoint.situations() {
            // The YAML spelling of the situation (`unknown_bin`), for the message.
            let key = serde_json::to_value(situation)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let message = match table.outcomes.get(&situation) {
                None => format!("acedata: {} has no outcome for `{key}`", endpoint.name()),
                Some(code) if !table.results.contains_key(code) => format!(
                    "acedata: {} outcome `{key}` is result `{code}`, which has no entry under results",
                    endpoint.name()
                ),
                Some(_) => continue,
            };
            profile_problem(problems, location, message);
        }
        endpoints.insert(
            endpoint,
            EndpointTable {
                results: table.results,
                outcomes: table.outcomes,
            },
        );
    }
    endpoints
}

/// Pinned answers by card number; each must have a text and pin a card at most once per
/// endpoint.
fn acedata_answers(
    sections: Vec<Spanned<AnswerSection>>,
    endpoints: &BTreeMap<Endpoint, EndpointTable>,
    problems: &mut Problems<'_>,
) -> HashMap<String, Vec<Answer>> {
    let mut answers: HashMap<String, Vec<Answer>> = HashMap::new();
    for answer in sections {
        let (a, at) = (answer.value, answer.referenced);
        let applies_to: Vec<Endpoint> = a.endpoint.map_or(Endpoint::ALL.to_vec(), |e| vec![e]);
        if a.bank_card.is_empty() {
            problems.at(at, "answer: bank_card is empty");
        }
        if a.description.is_none()
            && let Some(missing) = applies_to
                .iter()
                .find(|e| !endpoints[e].results.contains_key(&a.result))
        {
            problems.at(
                at,
                format!(
                    "answer for {}: result `{}` is not in the {} results table; give a description",
                    a.bank_card,
                    a.result,
                    missing.name()
                ),
            );
        }
        if let Some(account_type) = a.account_type
            && !matches!(account_type, -1 | 1..=4)
        {
            problems.at(
                at,
                format!("answer: account_type {account_type} is not -1, 1, 2, 3 or 4"),
            );
        }
        let pins = answers.entry(a.bank_card.clone()).or_default();
        if pins.iter().any(|p| p.endpoint == a.endpoint) {
            let scope = a.endpoint.map_or("all endpoints", Endpoint::name);
            problems.at(
                at,
                format!("card {} already has an answer for {scope}", a.bank_card),
            );
        }
        pins.push(Answer {
            endpoint: a.endpoint,
            result: a.result,
            description: a.description,
            account_bank: a.account_bank,
            account_type: a.account_type,
        });
    }
    answers
}

/// `per_second: 0` means unlimited.
pub(super) fn rate_limit(section: RateLimitSection) -> Option<RateLimit> {
    (section.per_second > 0).then(|| RateLimit {
        per_second: section.per_second,
        burst: section.burst.unwrap_or(section.per_second).max(1),
    })
}

fn build_platform_keys(
    section: Option<super::model::PlatformKeysSection>,
    base_dir: Option<&Path>,
    problems: &mut Problems<'_>,
) -> PlatformKeys {
    let mut keys = keys::default_platform_keys();
    if let Some(section) = section {
        let mut pair = |given: KeyPairSection, slot: &mut KeyPair| {
            if let Some(private_pem) =
                resolve_key(&given.private_key, KeyRole::Private, base_dir, problems)
            {
                match crate::crypto::rsa::private_key(&private_pem) {
                    Ok(_) => slot.private_pem = private_pem,
                    Err(e) => problems.at(given.private_key.referenced, e.to_string()),
                }
            }
            let public_pem = parsed_public_key(&given.public_key, base_dir, problems);
            if !public_pem.is_empty() {
                slot.public_pem = public_pem;
            }
        };
        if let Some(given) = section.kazepay {
            pair(given, &mut keys.kazepay);
        }
        if let Some(given) = section.pagsmile {
            pair(given, &mut keys.pagsmile);
        }
    }
    keys
}

/// A public key reference resolved and parsed as RSA; a located problem if either fails.
fn parsed_public_key(
    reference: &Spanned<String>,
    base_dir: Option<&Path>,
    problems: &mut Problems<'_>,
) -> String {
    let Some(pem) = resolve_key(reference, KeyRole::Public, base_dir, problems) else {
        return String::new();
    };
    if let Err(e) = crate::crypto::rsa::public_key(&pem) {
        problems.at(reference.referenced, e.to_string());
    }
    pem
}

fn resolve_key(
    reference: &Spanned<String>,
    role: KeyRole,
    base_dir: Option<&Path>,
    problems: &mut Problems<'_>,
) -> Option<String> {
    keys::resolve(&reference.value, role, base_dir)
        .map_err(|message| problems.at(reference.referenced, message))
        .ok()
}

/// Each provider credential may belong to one merchant only, or requests could not find
/// their tenant.
fn check_unique_credentials(
    credentials: &CredentialsSection,
    owners: &mut HashMap<(&'static str, String), Location>,
    problems: &mut Problems<'_>,
) {
    let mut claim = |provider: &'static str, value: &Spanned<String>| {
        if let Some(first) = owners.insert((provider, value.value.clone()), value.referenced) {
            problems.at(
                value.referenced,
                format!(
                    "{provider} credential `{}` is already used at line {}; each credential belongs to one merchant",
                    value.value,
                    first.line()
                ),
            );
        }
    };
    for token in &credentials.acedata {
        claim("acedata", &token.token);
    }
    if let Some(keysecure) = &credentials.keysecure {
        claim("keysecure", &keysecure.api_key);
    }
    if let Some(pagsmile) = &credentials.pagsmile {
        claim("pagsmile", &pagsmile.app_id);
    }
    if let Some(kazepay) = &credentials.kazepay {
        claim("kazepay", &kazepay.sys_id);
    }
}

fn build_tenant(
    section: MerchantSection,
    context: &Context<'_>,
    acedata: &Settings,
    problems: &mut Problems<'_>,
) -> TenantSetup {
    let id = section.id.value.clone();
    if !valid_id(&id) {
        problems.at(
            section.id.referenced,
            format!("merchant id `{id}` must be 1–64 of A-Z a-z 0-9 . _ -"),
        );
    }
    let merchant = Merchant {
        name: section.name.clone().unwrap_or_else(|| id.clone()),
        id: id.clone(),
    };
    let credentials = build_credentials(section.credentials, context, acedata, problems);
    let mut world = World::new(
        merchant,
        Clock::from_spec(ClockSpec {
            start: Some(context.start),
            frozen: true,
        }),
        context.seed,
    );
    let mut setup_rng = rng::stream(context.seed, &format!("setup:{id}"));

    for account in &section.accounts {
        build_account(account, &mut world, problems);
    }
    let mut holder_ids = HashSet::new();
    for holder in section.cardholders {
        if !holder_ids.insert(holder.id.value.clone()) {
            problems.at(
                holder.id.referenced,
                format!("duplicate cardholder id `{}`", holder.id.value),
            );
            continue;
        }
        if let Some(holder) = build_cardholder(holder, context, problems) {
            world.cardholders.insert(holder.id.clone(), holder);
        }
    }
    let mut pan_lines: HashMap<String, u64> = HashMap::new();
    for card in section.cards {
        if world.cards().contains_key(&card.id.value) {
            problems.at(
                card.id.referenced,
                format!("duplicate card id `{}`", card.id.value),
            );
            continue;
        }
        let id_location = card.id.referenced;
        let Some(mut card) = build_card(card, &world, context, &mut setup_rng, problems) else {
            continue;
        };
        if card.issuer.as_deref() == Some("keysecure")
            && let Some(key) = &credentials.keysecure
        {
            // A KeySecure card spends where its merchant's mode says, never its own balance.
            card.funding = match key.mode {
                IntegrationMode::Authorization => Funding::MerchantAccount,
                IntegrationMode::CreditExtension => Funding::HolderAccount,
            };
            if !card.available.is_zero() || !card.blocked.is_zero() {
                problems.at(
                    id_location,
                    "a KeySecure card holds no money of its own (the merchant's account pays in authorization mode, the cardholder's in credit extension): leave out balance and blocked",
                );
            }
        }
        match pan_lines.get(&card.pan) {
            Some(first) => problems.at(
                id_location,
                format!(
                    "card number {} is already used by the card at line {first}",
                    card.pan
                ),
            ),
            None => {
                pan_lines.insert(card.pan.clone(), id_location.line());
                // Ids and PANs were both checked just above, so the insert cannot be refused.
                let _ = world.insert_card(card);
            }
        }
    }
    if let Some(generate) = section.generate {
        generate::run(
            &generate,
            &mut world,
            context.bins,
            context.start,
            &mut setup_rng,
            problems,
        );
    }
    world.rules = context.rules.clone();
    let mut labels = HashSet::new();
    for event in section.timeline {
        super::timeline::schedule(event, &mut world, context.start, &mut labels, problems);
    }
    TenantSetup {
        credentials,
        initial: world,
    }
}

fn build_credentials(
    section: CredentialsSection,
    context: &Context<'_>,
    acedata: &Settings,
    problems: &mut Problems<'_>,
) -> Credentials {
    let acedata_tokens = section
        .acedata
        .into_iter()
        .map(|t: AceDataTokenSection| {
            if t.token.value.trim().is_empty() || t.token.value.contains(char::is_whitespace) {
                problems.at(
                    t.token.referenced,
                    "an AceData token must be non-empty and contain no spaces",
                );
            }
            AceDataToken {
                token: t.token.value,
                rate_limit: t.rate_limit.map_or(acedata.rate_limit, rate_limit),
                apis: t
                    .apis
                    .map(|apis| apis.into_iter().map(|e| e.name().to_owned()).collect()),
            }
        })
        .collect();
    let keysecure = section.keysecure.map(|k| {
        if let Some(url) = &k.callback_url
            && !crate::world::deliveries::deliverable_url(&url.value)
        {
            problems.at(
                url.referenced,
                format!("callback_url {}", crate::world::deliveries::URL_RULE),
            );
        }
        if ![16, 24, 32].contains(&k.api_secret.value.len()) {
            problems.at(
                k.api_secret.referenced,
                "api_secret must be 16, 24 or 32 bytes: its UTF-8 bytes key AES-128/192/256",
            );
        }
        let ip_whitelist = match k.ip_whitelist {
            None => vec!["127.0.0.1".to_owned(), "::1".to_owned()],
            Some(entries) => entries
                .into_iter()
                .map(|entry| {
                    if entry.value != "*" && entry.value.parse::<std::net::IpAddr>().is_err() {
                        problems.at(
                            entry.referenced,
                            format!("`{}` is not an IP address or `*`", entry.value),
                        );
                    }
                    entry.value
                })
                .collect(),
        };
        KeySecureKey {
            api_key: k.api_key.value,
            api_secret: k.api_secret.value,
            mode: k.mode.unwrap_or_default(),
            enabled: k.enabled.unwrap_or(true),
            expires_at: k.expires_at,
            ip_whitelist,
            pci_enabled: k.pci_enabled.unwrap_or(true),
            callback_url: k.callback_url.map(|u| u.value),
            rate_limit: k
                .rate_limit
                .map_or(context.keysecure_rate_limit, rate_limit),
        }
    });
    let kazepay = section.kazepay.map(|k| KazePaySystem {
        merchant_public_key: parsed_public_key(&k.merchant_public_key, context.base_dir, problems),
        merchant_private_key: k.merchant_private_key.as_ref().map(|r| {
            resolve_key(r, KeyRole::Private, context.base_dir, problems).unwrap_or_default()
        }),
        sys_id: k.sys_id.value,
        sign_hash: k.sign_hash.unwrap_or_default(),
        key_wrap: k.key_wrap.unwrap_or_default(),
    });
    let pagsmile = section.pagsmile.map(|p| {
        if let Some(url) = &p.webhook_url
            && !crate::world::deliveries::deliverable_url(&url.value)
        {
            problems.at(
                url.referenced,
                format!("webhook_url {}", crate::world::deliveries::URL_RULE),
            );
        }
        PagsmileApp {
            merchant_public_key: parsed_public_key(
                &p.merchant_public_key,
                context.base_dir,
                problems,
            ),
            merchant_private_key: p.merchant_private_key.as_ref().map(|k| {
                resolve_key(k, KeyRole::Private, context.base_dir, problems).unwrap_or_default()
            }),
            pay_account_num: p
                .pay_account_num
                .unwrap_or_else(|| format!("PA{}", p.app_id.value)),
            webhook_url: p.webhook_url.map(|u| u.value),
            app_id: p.app_id.value,
            partner_id: p.partner_id,
            security_key: p.security_key,
        }
    });
    Credentials {
        acedata: acedata_tokens,
        keysecure,
        pagsmile,
        kazepay,
    }
}

fn build_account(section: &AccountSection, world: &mut World, problems: &mut Problems<'_>) {
    let Some(currency) = currency(&section.currency, problems) else {
        return;
    };
    let Some(balance) = amount(&section.balance, &currency, problems) else {
        return;
    };
    if world.accounts.contains_key(&currency) {
        problems.at(
            section.currency.referenced,
            format!("duplicate account for {currency}"),
        );
        return;
    }
    world.accounts.insert(currency, balance);
}

fn build_cardholder(
    section: CardholderSection,
    context: &Context<'_>,
    problems: &mut Problems<'_>,
) -> Option<Cardholder> {
    let id = &section.id;
    if !valid_id(&id.value) {
        problems.at(
            id.referenced,
            format!(
                "cardholder id `{}` must be 1–64 of A-Z a-z 0-9 . _ -",
                id.value
            ),
        );
    }
    if section.first_name.trim().is_empty() && section.last_name.trim().is_empty() {
        problems.at(
            id.referenced,
            "a cardholder needs a first_name or a last_name",
        );
    }
    if let Some(email) = &section.email
        && !plausible_email(&email.value)
    {
        problems.at(
            email.referenced,
            format!("`{}` is not an email address", email.value),
        );
    }
    let phone = section.phone.map(|p| {
        if !digits_between(&p.country_code.value, 1, 4) {
            problems.at(
                p.country_code.referenced,
                "country_code is 1–4 digits, without `+`",
            );
        }
        if !digits_between(&p.number.value, 4, 15) {
            problems.at(p.number.referenced, "a phone number is 4–15 digits");
        }
        if let Some(country) = &p.country {
            check_country(country, problems);
        }
        Phone {
            country_code: p.country_code.value,
            number: p.number.value,
            country: p.country.map(|c| c.value),
        }
    });
    if let Some(nationality) = &section.nationality {
        check_country(nationality, problems);
    }
    let id_document = section.id_document.map(|d| {
        if let (Some(issued), Some(expires)) = (d.issued_on, &d.expires_on)
            && expires.value <= issued
        {
            problems.at(
                expires.referenced,
                format!(
                    "expires_on {} is not after issued_on {issued}",
                    expires.value
                ),
            );
        }
        IdDocument {
            kind: d.kind,
            number: d.number,
            issued_on: d.issued_on,
            expires_on: d.expires_on.map(|e| e.value),
        }
    });
    let address = section.address.map(|a: AddressSection| {
        check_country(&a.country, problems);
        Address {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country: a.country.value,
        }
    });
    let status = section.kyc.unwrap_or(KycStatus::Passed);
    Some(Cardholder {
        id: section.id.value,
        issuer: None,
        merchant_ref: None,
        first_name: section.first_name,
        last_name: section.last_name,
        email: section.email.map(|e| e.value),
        phone,
        id_document,
        birthday: section.birthday,
        gender: section.gender,
        nationality: section.nationality.map(|n| n.value),
        address,
        kyc: Kyc::settled(status, section.kyc_reason, context.start),
        created_at: context.start,
    })
}

fn build_card(
    section: CardSection,
    world: &World,
    context: &Context<'_>,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) -> Option<Card> {
    let id = &section.id;
    if !valid_id(&id.value) {
        problems.at(
            id.referenced,
            format!("card id `{}` must be 1–64 of A-Z a-z 0-9 . _ -", id.value),
        );
    }
    if let Some(holder) = &section.cardholder
        && !world.cardholders.contains_key(&holder.value)
    {
        problems.at(
            holder.referenced,
            format!("no cardholder `{}` in this merchant", holder.value),
        );
    }
    if let Some(issuer) = &section.issuer
        && !providers::builtin()
            .issuers()
            .contains(&issuer.value.as_str())
    {
        problems.at(
            issuer.referenced,
            format!(
                "unknown issuer `{}`; one of {}",
                issuer.value,
                providers::builtin().issuers().join(", ")
            ),
        );
    }
    let pan = match (&section.pan, &section.bin) {
        (Some(pan), None) => check_pan(pan, problems)?,
        (None, Some(bin)) => generate_pan(bin, section.length, context.bins, rng, problems)?,
        (Some(pan), Some(_)) => {
            problems.at(pan.referenced, "give either `pan` or `bin`, not both");
            return None;
        }
        (None, None) => {
            problems.at(
                id.referenced,
                format!("card `{}` needs a `pan` or a `bin`", id.value),
            );
            return None;
        }
    };
    let cvv = match &section.cvv {
        Some(cvv) if digits_between(&cvv.value, 3, 4) => cvv.value.clone(),
        Some(cvv) => {
            problems.at(cvv.referenced, "a CVV is 3 or 4 digits");
            return None;
        }
        None => ids::cvv(rng),
    };
    let expiry = match &section.expiry {
        Some(text) => parse_expiry(text, problems)?,
        None => Expiry::for_new_card(context.start),
    };
    let currency = match &section.currency {
        Some(code) => currency(code, problems)?,
        None => Currency::new("USD").ok()?,
    };
    let non_negative = |value: &Option<Spanned<String>>, problems: &mut Problems<'_>| match value {
        None => Some(Money::zero(currency.clone())),
        Some(text) => {
            let money = amount(text, &currency, problems)?;
            if money.is_negative() {
                problems.at(
                    text.referenced,
                    "a card balance or limit cannot be negative",
                );
                return None;
            }
            Some(money)
        }
    };
    let available = non_negative(&section.balance, problems)?;
    let blocked = non_negative(&section.blocked, problems)?;
    let limits = match &section.limits {
        None => None,
        Some(l) => Some(Limits {
            daily_transactions: l.daily_transactions,
            single_amount: non_negative(&Some(l.single_amount.clone()), problems)?,
            daily_amount: non_negative(&Some(l.daily_amount.clone()), problems)?,
            monthly_amount: non_negative(&Some(l.monthly_amount.clone()), problems)?,
            total_amount: match &l.total_amount {
                Some(total) => Some(non_negative(&Some(total.clone()), problems)?),
                None => None,
            },
        }),
    };
    if let Some(token) = &section.token
        && !valid_id(&token.value)
    {
        problems.at(
            token.referenced,
            format!(
                "card token `{}` must be 1–64 of A-Z a-z 0-9 . _ -",
                token.value
            ),
        );
    }
    if let Some(token) = &section.token
        && world
            .cards()
            .values()
            .any(|c| c.token.as_deref() == Some(token.value.as_str()))
    {
        problems.at(
            token.referenced,
            format!("card token `{}` is already used", token.value),
        );
    }
    Some(Card {
        token: section.token.map(|t| t.value),
        id: section.id.value,
        issuer: section.issuer.map(|i| i.value),
        cardholder_id: section.cardholder.map(|h| h.value),
        pan,
        cvv,
        expiry,
        form: section.form.unwrap_or(CardForm::Virtual),
        status: section.status.unwrap_or(CardStatus::Active),
        currency,
        available,
        blocked,
        created_at: context.start,
        pin: None,
        activation: None,
        limits,
        merchant_ref: None,
        product: None,
        funding: crate::world::Funding::Own,
    })
}

fn check_pan(pan: &Spanned<String>, problems: &mut Problems<'_>) -> Option<String> {
    if !digits_between(&pan.value, 12, 19) {
        problems.at(pan.referenced, "a card number is 12–19 digits");
        return None;
    }
    if !ids::luhn_valid(&pan.value) {
        problems.at(
            pan.referenced,
            format!(
                "card number {} fails the Luhn check (a valid last digit would be {})",
                pan.value,
                ids::luhn_check_digit(&pan.value[..pan.value.len() - 1])
            ),
        );
        return None;
    }
    Some(pan.value.clone())
}

/// Draws a PAN on `bin`, whose length comes from the BIN table unless given.
pub(super) fn generate_pan(
    bin: &Spanned<String>,
    length: Option<usize>,
    bins: &BinTable,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) -> Option<String> {
    let Some(length) = length.or_else(|| bins.lookup(&bin.value).map(|range| range.length)) else {
        problems.at(
            bin.referenced,
            format!(
                "BIN {} is not in the BIN table; add it to the top-level `bins:` or give `length`",
                bin.value
            ),
        );
        return None;
    };
    if !crate::world::bins::valid_range(&bin.value, length) {
        problems.at(
            bin.referenced,
            format!(
                "BIN `{}` with length {length}: a BIN is 4–8 digits, a card 12–19",
                bin.value
            ),
        );
        return None;
    }
    Some(ids::pan(rng, &bin.value, length))
}

fn parse_expiry(text: &Spanned<String>, problems: &mut Problems<'_>) -> Option<Expiry> {
    let parsed = text.value.split_once('-').and_then(|(year, month)| {
        let year: i16 = year.parse().ok().filter(|y| (2000..=2099).contains(y))?;
        let month: i8 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
        (text.value.len() == 7).then_some(Expiry { year, month })
    });
    if parsed.is_none() {
        problems.at(
            text.referenced,
            format!("expiry `{}` is not YYYY-MM", text.value),
        );
    }
    parsed
}

pub(super) fn currency(code: &Spanned<String>, problems: &mut Problems<'_>) -> Option<Currency> {
    Currency::new(&code.value)
        .map_err(|e| problems.at(code.referenced, e.to_string()))
        .ok()
}

pub(super) fn amount(
    text: &Spanned<String>,
    currency: &Currency,
    problems: &mut Problems<'_>,
) -> Option<Money> {
    Money::parse(&text.value, currency.clone())
        .map_err(|e| problems.at(text.referenced, e.to_string()))
        .ok()
}

fn check_country(code: &Spanned<String>, problems: &mut Problems<'_>) {
    if !is_country_code(&code.value) {
        problems.at(
            code.referenced,
            format!(
                "`{}` is not an ISO 3166 two-letter country code",
                code.value
            ),
        );
    }
}

fn is_country_code(code: &str) -> bool {
    crate::world::countries::is_country_code(code)
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn digits_between(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}
