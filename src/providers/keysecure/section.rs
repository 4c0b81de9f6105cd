//! KeySecure's part of a scenario: the `keysecure:` section (also the shape of
//! `fixtures/profiles/keysecure.yaml`, which it is merged over) and each merchant's
//! `credentials.keysecure` (an open-platform key), resolved into [`Settings`].

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::settings::{
    AuthFallback, CardBin, ErrorKind, ErrorText, KeyIdentity, Message, Package, Settings,
};
use crate::providers::strictness::{Leniency, Strictness};
use crate::scenario::model::RateLimitSection;
use crate::scenario::section::{Build, BuiltinProfile, Deep, Located};
use crate::world::bins::valid_range;
use crate::world::deliveries::{URL_RULE, deliverable_url};
use crate::world::ratelimit::RateLimit;
use crate::world::review::{ReviewPolicy, ReviewRule};
use crate::world::{Funding, KycStatus, World};
use crate::{merge_fields, merge_whole};

/// The built-in profile.
pub const PROFILE: BuiltinProfile = BuiltinProfile {
    origin: "<built-in fixtures/profiles/keysecure.yaml>",
    text: include_str!("../../../fixtures/profiles/keysecure.yaml"),
};

/// Overrides of `fixtures/profiles/keysecure.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KeySecureProfileSection")]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub success: Option<Message>,
    #[serde(default)]
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    #[schemars(with = "Option<String>")]
    pub token_lifetime: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub timestamp_tolerance: Option<Spanned<String>>,
    /// Per Api-Key; a key's own `rate_limit` overrides it.
    pub rate_limit: Option<RateLimitSection>,
    /// The `Timezone` header's default, e.g. `+08:00`.
    #[schemars(with = "Option<String>")]
    pub timezone: Option<Spanned<String>>,
    #[serde(default)]
    pub delays: DelaysSection,
    pub review_default: Option<ReviewDecision>,
    #[serde(default)]
    #[schemars(with = "Vec<ReviewRuleSection>")]
    pub review_rules: Vec<Spanned<ReviewRuleSection>>,
    /// Globs on card_unique_no: those cards' production fails.
    pub failing_cards: Option<Vec<String>>,
    /// Either knob may be given alone.
    #[serde(default)]
    pub auth: Deep<AuthSection>,
    #[schemars(with = "Option<Vec<String>>")]
    pub callback_retries: Option<Vec<Spanned<String>>>,
    pub card_bins: Option<Vec<CardBinSection>>,
    pub packages: Option<Vec<PackageSection>>,
    /// Paths that answer 1001 (system error).
    #[serde(default)]
    pub unavailable_paths: Vec<String>,
    /// `strict` (the default) or `lenient`, for merchants that do not set their own.
    pub strictness: Option<Strictness>,
}

merge_fields!(Section {
    success,
    errors,
    token_lifetime,
    timestamp_tolerance,
    rate_limit,
    timezone,
    delays,
    review_default,
    review_rules,
    failing_cards,
    auth,
    callback_retries,
    card_bins,
    packages,
    unavailable_paths,
    strictness,
});
merge_whole!(ErrorText);

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KeySecureDelaysSection")]
#[serde(deny_unknown_fields)]
pub struct DelaysSection {
    #[schemars(with = "Option<String>")]
    pub cardholder_review: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub card_production: Option<Spanned<String>>,
}

merge_fields!(DelaysSection {
    cardholder_review,
    card_production,
});

/// A KeySecure review's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Success,
    Fail,
}

impl ReviewDecision {
    fn status(self) -> KycStatus {
        match self {
            ReviewDecision::Success => KycStatus::Passed,
            ReviewDecision::Fail => KycStatus::Rejected,
        }
    }
}

/// Decides cardholder reviews whose unique number and KYC token match every glob given.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRuleSection {
    pub unique_no: Option<String>,
    pub token: Option<String>,
    pub decision: ReviewDecision,
    pub reason: Option<String>,
    #[schemars(with = "Option<String>")]
    pub after: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
    pub fallback: Option<AuthFallback>,
}

merge_fields!(AuthSection { timeout, fallback });

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardBinSection {
    pub card_bin_no: String,
    #[schemars(with = "String")]
    pub card_bin: Spanned<String>,
    pub organization: String,
    pub support_physical: bool,
    pub support_virtual: bool,
    pub currencies: Vec<String>,
    pub length: usize,
    pub balance_limit: serde_json::Value,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageSection {
    pub package_no: String,
    pub package_name_en: String,
    pub package_name_cn: String,
    #[schemars(with = "String")]
    pub card_bin: Spanned<String>,
    pub organization: String,
    pub card_types: Vec<String>,
    #[schemars(with = "String")]
    pub currency: Spanned<String>,
    pub length: usize,
    pub fee_detail: serde_json::Value,
}

/// How a merchant funds its cards.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntegrationMode {
    /// The merchant approves each authorization through its Auth callback.
    #[default]
    Authorization,
    /// Cardholders have accounts (TUSDT) the merchant transfers into; cards spend from them.
    CreditExtension,
}

/// A merchant's open-platform key and its settings, as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KeySecureSection")]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schemars(with = "String")]
    pub api_key: Spanned<String>,
    #[schemars(with = "String")]
    pub api_secret: Spanned<String>,
    /// `AUTHORIZATION` (default) or `CREDIT_EXTENSION`.
    pub mode: Option<IntegrationMode>,
    /// Default true; false answers 1010.
    pub enabled: Option<bool>,
    /// RFC 3339; from then on the key answers 1011.
    pub expires_at: Option<Timestamp>,
    /// Default loopback (`127.0.0.1`, `::1`); `*` allows any caller.
    #[schemars(with = "Option<Vec<String>>")]
    pub ip_whitelist: Option<Vec<Spanned<String>>>,
    /// Default true; false answers 1013 to private info.
    pub pci_enabled: Option<bool>,
    #[schemars(with = "Option<String>")]
    pub callback_url: Option<Spanned<String>>,
    /// Default the profile's.
    pub rate_limit: Option<RateLimitSection>,
    /// `strict` or `lenient` for this merchant (default: the `keysecure:` section's, else
    /// strict).
    pub strictness: Option<Strictness>,
    /// Strict rules this merchant relaxes one by one.
    #[serde(default)]
    pub relax: Vec<Rule>,
}

/// KeySecure's strict rules, by the name `relax:` gives them (docs/providers/keysecure.md,
/// "Strict by default").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A `Content-Type` given must be `application/json` (seeds 001/004: "Fixed to
    /// application/json"; absent means that default).
    ContentType,
    /// `card/apply` takes `card_bin_no` or `package_no`, not both (seed 004: "provide one of
    /// the two").
    OneOfBinOrPackage,
    /// `address_info.postal_code` fits the country's postal-code pattern (seed 004: "conform
    /// to the address format of the relevant country").
    PostalCodeFormat,
    /// `address_info.state` is one of the country's states or provinces, where the address
    /// data lists them (seed 004, as above).
    Subdivision,
}

/// An open-platform key and the merchant's settings around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    pub api_key: String,
    /// Keys the AES of sensitive fields and the callbacks' HMAC (its UTF-8 bytes).
    pub api_secret: String,
    pub mode: IntegrationMode,
    /// A disabled key answers 1010.
    pub enabled: bool,
    /// From then on the key answers 1011 (sandbox time).
    pub expires_at: Option<Timestamp>,
    /// Caller addresses allowed (exact IPs, or `*`); others answer 1003.
    pub ip_whitelist: Vec<String>,
    /// Whether card private info may be read (else 1013).
    pub pci_enabled: bool,
    /// Where callbacks (Auth, Consumption, Card_update) go.
    pub callback_url: Option<String>,
    /// Requests per second on this key (1009 beyond); `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
    /// How strictly requests are held to the documents.
    pub leniency: Leniency<Rule>,
}

/// Resolves the merged section and the merchants' keys; `None` when something essential is
/// unusable (a located problem says what).
pub fn build(
    section: Section,
    merchants: Vec<(usize, Located<Credentials>)>,
    build: &mut Build<'_, '_>,
) -> Option<Settings> {
    for kind in ErrorKind::ALL {
        if !section.errors.contains_key(&kind) {
            build.profile_problem(format!("keysecure: error `{kind:?}` has no code"));
        }
    }
    let token_lifetime = build.duration_or(section.token_lifetime, None);
    let timestamp_tolerance = build.duration_or(section.timestamp_tolerance, None);
    let cardholder_review = build.duration_or(section.delays.cardholder_review, None);
    let card_production = build.duration_or(section.delays.card_production, None);
    let rules = section
        .review_rules
        .into_iter()
        .map(|rule| {
            let r = rule.value;
            ReviewRule {
                reference: r.unique_no,
                token: r.token,
                reason: r.reason,
                after: r.after.and_then(|text| build.duration(&text)),
                ..ReviewRule::deciding(r.decision.status())
            }
        })
        .collect();
    let auth = section.auth.0.unwrap_or_default();
    let auth_timeout = auth
        .timeout
        .and_then(|text| build.duration(&text))
        .unwrap_or(jiff::SignedDuration::from_millis(800));
    let callback_retries = section
        .callback_retries
        .unwrap_or_default()
        .iter()
        .filter_map(|text| build.duration(text))
        .collect();
    let card_bins = section
        .card_bins
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            check_bin(&b.card_bin, b.length, build);
            CardBin {
                card_bin_no: b.card_bin_no,
                card_bin: b.card_bin.value,
                organization: b.organization,
                support_physical: b.support_physical,
                support_virtual: b.support_virtual,
                currencies: b.currencies,
                length: b.length,
                balance_limit: b.balance_limit,
            }
        })
        .collect();
    let packages = section
        .packages
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            check_bin(&p.card_bin, p.length, build);
            if crate::world::Currency::new(&p.currency.value).is_err() {
                build.problem(
                    p.currency.referenced,
                    format!("`{}` is not a currency code", p.currency.value),
                );
            }
            Package {
                package_no: p.package_no,
                package_name_en: p.package_name_en,
                package_name_cn: p.package_name_cn,
                card_bin: p.card_bin.value,
                organization: p.organization,
                card_types: p.card_types,
                currency: p.currency.value,
                length: p.length,
                fee_detail: p.fee_detail,
            }
        })
        .collect();
    let timezone = build.utc_offset(section.timezone)?;
    let Some(success) = section.success else {
        build.profile_problem("keysecure: the profile lacks `success`");
        return None;
    };
    let default_rate_limit = section.rate_limit.and_then(Build::rate_limit);
    let merchants: HashMap<String, KeyIdentity> = merchants
        .into_iter()
        .map(|(tenant, credentials)| {
            let key = key(
                credentials.value,
                section.strictness,
                default_rate_limit,
                tenant,
                build,
            );
            (key.api_key.clone(), KeyIdentity { tenant, key })
        })
        .collect();
    Some(Settings {
        success,
        errors: section.errors,
        token_lifetime,
        timestamp_tolerance,
        timezone,
        review: ReviewPolicy {
            rules,
            default: section
                .review_default
                .map_or(KycStatus::Passed, ReviewDecision::status),
            delay: cardholder_review,
        },
        card_production,
        failing_cards: section.failing_cards.unwrap_or_default(),
        auth_timeout,
        auth_fallback: auth.fallback.unwrap_or(AuthFallback::Decline),
        callback_retries,
        card_bins,
        packages,
        unavailable_paths: section.unavailable_paths,
        merchants,
    })
}

/// One merchant's key, checked; `default_rate_limit` when it sets none.
fn key(
    k: Credentials,
    default_strictness: Option<Strictness>,
    default_rate_limit: Option<RateLimit>,
    tenant: usize,
    build: &mut Build<'_, '_>,
) -> Key {
    build.claim(tenant, &k.api_key);
    if let Some(url) = &k.callback_url
        && !deliverable_url(&url.value)
    {
        build.problem(url.referenced, format!("callback_url {URL_RULE}"));
    }
    if ![16, 24, 32].contains(&k.api_secret.value.len()) {
        build.problem(
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
                    build.problem(
                        entry.referenced,
                        format!("`{}` is not an IP address or `*`", entry.value),
                    );
                }
                entry.value
            })
            .collect(),
    };
    Key {
        api_key: k.api_key.value,
        api_secret: k.api_secret.value,
        mode: k.mode.unwrap_or_default(),
        enabled: k.enabled.unwrap_or(true),
        expires_at: k.expires_at,
        ip_whitelist,
        pci_enabled: k.pci_enabled.unwrap_or(true),
        callback_url: k.callback_url.map(|u| u.value),
        rate_limit: k.rate_limit.map_or(default_rate_limit, Build::rate_limit),
        leniency: Leniency::resolve(k.strictness, default_strictness, k.relax),
    }
}

/// A scenario's KeySecure cards spend where their merchant's mode says, never their own
/// balance (the merchant's account pays in authorization mode, the cardholder's in credit
/// extension).
pub fn prepare(settings: &Settings, tenant: usize, world: &mut World, build: &mut Build<'_, '_>) {
    let Some(merchant) = settings.merchants.values().find(|m| m.tenant == tenant) else {
        return;
    };
    let funding = match merchant.key.mode {
        IntegrationMode::Authorization => Funding::MerchantAccount,
        IntegrationMode::CreditExtension => Funding::HolderAccount,
    };
    let ids: Vec<String> = world
        .issuer_cards(super::ops::ISSUER, 0)
        .1
        .map(|c| c.id.clone())
        .collect();
    for id in ids {
        // Only the scenario's own `cards:` (generated cards keep what `generate:` gave them).
        let Some(at) = build.card_location(tenant, &id) else {
            continue;
        };
        let Some(mut card) = world.card_mut(&id) else {
            continue;
        };
        card.funding = funding;
        // Holds (`blocked`) are allowed: an authorization on such a card moves the money from
        // its funding account into the card's holds, and a saved state carries them.
        if !card.available.is_zero() {
            build.problem(
                at,
                "a KeySecure card holds no money of its own (the merchant's account pays in authorization mode, the cardholder's in credit extension): leave out balance",
            );
        }
    }
}

/// A BIN the card numbers can be drawn on, or a located problem.
fn check_bin(bin: &Spanned<String>, length: usize, build: &mut Build<'_, '_>) {
    if !valid_range(&bin.value, length) {
        build.problem(
            bin.referenced,
            format!(
                "card BIN `{}` with length {length} is not usable",
                bin.value
            ),
        );
    }
}
