//! KazePay's part of a scenario: the `kazepay:` section (also the shape of
//! `fixtures/profiles/kazepay.yaml`, which it is merged over) and each merchant's
//! `credentials.kazepay`, resolved into [`Settings`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::envelope::{KeyWrap, Profile};
use super::settings::{Billing, Delays, ErrorKind, ErrorText, Settings, SysIdentity};
use crate::crypto::rsa::{self, SignatureHash};
use crate::providers::strictness::{Leniency, Strictness};
use crate::scenario::section::{Build, BuiltinProfile, Located};
use crate::world::review::{ReviewPolicy, ReviewRule};
use crate::world::{CardStatus, KycStatus};
use crate::{merge_fields, merge_whole};

/// The built-in profile.
pub const PROFILE: BuiltinProfile = BuiltinProfile {
    origin: "<built-in fixtures/profiles/kazepay.yaml>",
    text: include_str!("../../../fixtures/profiles/kazepay.yaml"),
};

/// Overrides of `fixtures/profiles/kazepay.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KazePayProfileSection")]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The endpoint every apiCode is POSTed to.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    #[serde(default)]
    pub card_statuses: BTreeMap<CardStatus, String>,
    #[serde(default)]
    pub delays: DelaysSection,
    pub kyc_default: Option<KycStatus>,
    #[serde(default)]
    #[schemars(with = "Vec<KycRuleSection>")]
    pub kyc_rules: Vec<Spanned<KycRuleSection>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub webhook_retries: Option<Vec<Spanned<String>>>,
    /// BIN → card-number length, for createCard.
    #[serde(default)]
    pub virtual_card_bins: BTreeMap<String, usize>,
    pub billing: Option<BillingSection>,
    /// `+08:00`: the offset of the times KazePay prints and parses.
    #[schemars(with = "Option<String>")]
    pub utc_offset: Option<Spanned<String>>,
    /// apiCodes that answer SYSTEM_BUSY (after authentication, changing nothing).
    #[serde(default)]
    pub busy_api_codes: Vec<String>,
    /// `strict` (the default) or `lenient`, for merchants that do not set their own.
    pub strictness: Option<Strictness>,
}

merge_fields!(Section {
    path,
    errors,
    card_statuses,
    delays,
    kyc_default,
    kyc_rules,
    webhook_retries,
    virtual_card_bins,
    billing,
    utc_offset,
    busy_api_codes,
    strictness,
});
merge_whole!(ErrorText);

/// The billing address queryCard reports, field names as on the wire.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingSection {
    #[serde(rename = "countryCode")]
    pub country_code: String,
    #[serde(rename = "billingState")]
    pub state: String,
    #[serde(rename = "billingCity")]
    pub city: String,
    #[serde(rename = "billingAddress")]
    pub address: String,
    #[serde(rename = "billingZipCode")]
    pub zip_code: String,
}

/// Durations such as `30s`, `2m`, `1h 30m` or `PT10S`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KazePayDelaysSection")]
#[serde(deny_unknown_fields)]
pub struct DelaysSection {
    #[schemars(with = "Option<String>")]
    pub kyc_review: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub activation: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub close: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub recharge: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub virtual_card_review: Option<Spanned<String>>,
}

merge_fields!(DelaysSection {
    kyc_review,
    activation,
    close,
    recharge,
    virtual_card_review,
});

/// Decides KYC submissions whose fields match every pattern given (`*` and `?` globs).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KycRuleSection {
    pub email: Option<String>,
    /// Against "firstName lastName".
    pub name: Option<String>,
    /// Against the identification number.
    pub document: Option<String>,
    pub decision: KycStatus,
    pub reason: Option<String>,
    /// Review time for matching submissions; default the profile's `kyc_review`.
    #[schemars(with = "Option<String>")]
    pub after: Option<Spanned<String>>,
}

/// A merchant's KazePay system: its id, its RSA keys and crypto knobs.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KazePaySection")]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schemars(with = "String")]
    pub sys_id: Spanned<String>,
    #[schemars(with = "String")]
    pub merchant_public_key: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub merchant_private_key: Option<Spanned<String>>,
    /// Hash of the signatures the platform makes for this merchant (SHA-256 or SHA-1);
    /// requests may use either.
    pub sign_hash: Option<SignatureHash>,
    /// How the platform wraps response keys for this merchant (`raw` or `base64`); requests
    /// must wrap theirs the same way.
    pub key_wrap: Option<KeyWrap>,
    /// `strict` or `lenient` for this merchant (default: the `kazepay:` section's, else strict).
    pub strictness: Option<Strictness>,
    /// Strict rules this merchant relaxes one by one.
    #[serde(default)]
    pub relax: Vec<Rule>,
}

/// KazePay's strict rules, by the name `relax:` gives them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A request is signed with the merchant's `sign_hash` and wraps its key the merchant's
    /// `key_wrap` way; relaxed, either hash and either form pass.
    SignatureVariants,
}

/// A merchant's KazePay system as `GET /__admin/credentials` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct System {
    pub sys_id: String,
    pub merchant_public_key: String,
    /// Only for keys the sandbox may hand out (test-only keys), so harnesses can seal requests.
    pub merchant_private_key: Option<String>,
    pub sign_hash: SignatureHash,
    pub key_wrap: KeyWrap,
    /// How strictly requests are held to the documents and to this profile.
    pub leniency: Leniency<Rule>,
}

/// Resolves the merged section and the merchants' systems; `None` when something essential is
/// unusable (a located problem says why).
pub fn build(
    section: Section,
    merchants: Vec<(usize, Located<Credentials>)>,
    build: &mut Build<'_, '_>,
) -> Option<Settings> {
    let path = match &section.path {
        Some(p)
            if p.value.starts_with('/')
                && p.value.len() > 1
                && !p.value.starts_with("/__admin") =>
        {
            p.value.clone()
        }
        Some(p) => {
            build.problem(
                p.referenced,
                format!(
                    "kazepay path `{}` must start with / and not be under /__admin",
                    p.value
                ),
            );
            return None;
        }
        None => "/kazepay".to_owned(),
    };
    for kind in ErrorKind::ALL {
        match section.errors.get(&kind) {
            None => {
                build.profile_problem(format!("kazepay: error `{kind:?}` has no code and detail"));
            }
            Some(text) if text.code.is_empty() || text.code == "SUCCESS" => build.profile_problem(
                format!("kazepay: error `{kind:?}` needs a code other than SUCCESS"),
            ),
            Some(_) => {}
        }
    }
    let d = section.delays;
    let delays = Delays {
        kyc_review: build.duration_or(d.kyc_review, None),
        activation: build.duration_or(d.activation, None),
        close: build.duration_or(d.close, None),
        recharge: build.duration_or(d.recharge, None),
        virtual_card_review: build.duration_or(d.virtual_card_review, None),
    };
    let kyc_default = section.kyc_default.unwrap_or(KycStatus::Passed);
    if kyc_default == KycStatus::Pending {
        build.profile_problem("kazepay: kyc_default decides `passed` or `rejected`");
    }
    let rules = section
        .kyc_rules
        .into_iter()
        .map(|rule| {
            let (at, r) = (rule.referenced, rule.value);
            if r.decision == KycStatus::Pending {
                build.problem(at, "a KYC rule decides `passed` or `rejected`");
            }
            ReviewRule {
                email: r.email,
                name: r.name,
                document: r.document,
                reason: r.reason,
                after: r.after.and_then(|text| build.duration(&text)),
                ..ReviewRule::deciding(r.decision)
            }
        })
        .collect();
    let webhook_retries = section
        .webhook_retries
        .unwrap_or_default()
        .iter()
        .filter_map(|text| build.duration(text))
        .collect();
    for (bin, length) in &section.virtual_card_bins {
        if !crate::world::bins::valid_range(bin, *length) {
            build.profile_problem(format!(
                "kazepay: virtual card BIN `{bin}` with length {length} is not usable"
            ));
        }
    }
    let Some(billing) = section.billing else {
        build.profile_problem("kazepay: no billing address");
        return None;
    };
    let billing = Billing {
        country_code: billing.country_code,
        state: billing.state,
        city: billing.city,
        address: billing.address,
        zip_code: billing.zip_code,
    };
    let utc_offset = build.utc_offset(section.utc_offset)?;
    let platform = build.platform_keys(super::PLATFORM);
    let (Ok(platform_private), Ok(platform_public)) = (
        rsa::private_key(&platform.private_pem),
        rsa::public_key(&platform.public_pem),
    ) else {
        build.unlocated("the KazePay platform key pair is not a usable RSA key");
        return None;
    };
    let mut by_sys_id = HashMap::new();
    for (tenant, credentials) in merchants {
        let c = credentials.value;
        build.claim(tenant, &c.sys_id);
        let system = System {
            merchant_public_key: build.public_key(&c.merchant_public_key),
            merchant_private_key: c
                .merchant_private_key
                .as_ref()
                .map(|k| build.private_key(k)),
            sys_id: c.sys_id.value,
            sign_hash: c.sign_hash.unwrap_or_default(),
            key_wrap: c.key_wrap.unwrap_or_default(),
            leniency: Leniency::resolve(c.strictness, section.strictness, c.relax),
        };
        // Parsed (with a located problem on failure) when resolved just above.
        let Ok(public_key) = rsa::public_key(&system.merchant_public_key) else {
            continue;
        };
        let profile = Profile {
            hash: system.sign_hash,
            key_wrap: system.key_wrap,
        };
        by_sys_id.insert(
            system.sys_id.clone(),
            SysIdentity {
                tenant,
                public_key,
                profile,
                system,
            },
        );
    }
    Some(Settings {
        path,
        errors: section.errors,
        card_statuses: section.card_statuses,
        review: ReviewPolicy {
            rules,
            default: kyc_default,
            delay: delays.kyc_review,
        },
        delays,
        webhook_retries,
        virtual_card_bins: section.virtual_card_bins,
        billing,
        utc_offset,
        busy_api_codes: section.busy_api_codes,
        platform_private,
        platform_public,
        platform_public_pem: platform.public_pem,
        merchants: by_sys_id,
    })
}
