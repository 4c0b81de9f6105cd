//! Resolves the `kazepay:` section over `fixtures/profiles/kazepay.yaml` into the provider's
//! [`Settings`]: catalog, status names, delays, KYC rules, and the parsed keys.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Spanned;

use super::TenantSetup;
use super::error::{Problems, ScenarioError};
use super::model::KazePayProfileSection;
use super::profiles;
use super::units::{duration, utc_offset};
use crate::credentials::KeyPair;
use crate::crypto::rsa;
use crate::providers::kazepay::envelope::Profile;
use crate::providers::kazepay::settings::{
    Billing, Delays, ErrorKind, KycRule, Merchant, Settings,
};
use crate::world::{CardStatus, KycStatus};

/// Merges the scenario's section over the built-in profile; `None` when a key cannot be used
/// (a located problem says why).
pub(super) fn build(
    section: Option<Spanned<KazePayProfileSection>>,
    platform: &KeyPair,
    tenants: &[TenantSetup],
    problems: &mut Problems<'_>,
) -> Result<Option<Settings>, ScenarioError> {
    let base = profiles::kazepay()?;
    let location = section.as_ref().map(|s| s.referenced);
    let over = section.map(|s| s.value).unwrap_or_default();
    let report = |problems: &mut Problems<'_>, message: String| match location {
        Some(at) => problems.at(at, message),
        None => problems.at_line_column(0, 0, format!("built-in KazePay profile: {message}")),
    };

    let path = over.path.or(base.path);
    let path = match &path {
        Some(p)
            if p.value.starts_with('/')
                && p.value.len() > 1
                && !p.value.starts_with("/__admin") =>
        {
            p.value.clone()
        }
        Some(p) => {
            problems.at(
                p.referenced,
                format!(
                    "kazepay path `{}` must start with / and not be under /__admin",
                    p.value
                ),
            );
            return Ok(None);
        }
        None => "/kazepay".to_owned(),
    };
    let mut errors = base.errors;
    errors.extend(over.errors);
    for kind in ErrorKind::ALL {
        match errors.get(&kind) {
            None => report(
                problems,
                format!("kazepay: error `{kind:?}` has no code and detail"),
            ),
            Some(text) if text.code.is_empty() || text.code == "SUCCESS" => {
                report(
                    problems,
                    format!("kazepay: error `{kind:?}` needs a code other than SUCCESS"),
                );
            }
            Some(_) => {}
        }
    }
    let mut card_statuses: BTreeMap<CardStatus, String> = base.card_statuses;
    card_statuses.extend(over.card_statuses);

    let delay = |problems: &mut Problems<'_>,
                 given: Option<Spanned<String>>,
                 fallback: Option<Spanned<String>>| {
        given
            .or(fallback)
            .and_then(|text| duration(&text, problems))
            .unwrap_or_default()
    };
    let (b, o) = (base.delays, over.delays);
    let delays = Delays {
        kyc_review: delay(problems, o.kyc_review, b.kyc_review),
        activation: delay(problems, o.activation, b.activation),
        close: delay(problems, o.close, b.close),
        recharge: delay(problems, o.recharge, b.recharge),
        virtual_card_review: delay(problems, o.virtual_card_review, b.virtual_card_review),
    };
    let kyc_default = over
        .kyc_default
        .or(base.kyc_default)
        .unwrap_or(KycStatus::Passed);
    if kyc_default == KycStatus::Pending {
        report(
            problems,
            "kazepay: kyc_default decides `passed` or `rejected`".to_owned(),
        );
    }
    let kyc_rules = over
        .kyc_rules
        .into_iter()
        .map(|rule| {
            let at = rule.referenced;
            let r = rule.value;
            if r.decision == KycStatus::Pending {
                problems.at(at, "a KYC rule decides `passed` or `rejected`");
            }
            KycRule {
                email: r.email,
                name: r.name,
                document: r.document,
                decision: r.decision,
                reason: r.reason,
                after: r.after.and_then(|text| duration(&text, problems)),
            }
        })
        .collect();
    let webhook_retries = over
        .webhook_retries
        .or(base.webhook_retries)
        .unwrap_or_default()
        .iter()
        .filter_map(|text| duration(text, problems))
        .collect();

    let mut virtual_card_bins = base.virtual_card_bins;
    virtual_card_bins.extend(over.virtual_card_bins);
    for (bin, length) in &virtual_card_bins {
        if !crate::world::bins::valid_range(bin, *length) {
            report(
                problems,
                format!("kazepay: virtual card BIN `{bin}` with length {length} is not usable"),
            );
        }
    }
    let billing = over.billing.or(base.billing).map(|b| Billing {
        country_code: b.country_code,
        state: b.state,
        city: b.city,
        address: b.address,
        zip_code: b.zip_code,
    });
    let Some(billing) = billing else {
        report(problems, "kazepay: no billing address".to_owned());
        return Ok(None);
    };
    let Some(utc_offset) = utc_offset(over.utc_offset.or(base.utc_offset), problems) else {
        return Ok(None);
    };

    let (Ok(platform_private), Ok(platform_public)) = (
        rsa::private_key(&platform.private_pem),
        rsa::public_key(&platform.public_pem),
    ) else {
        problems.at_line_column(
            0,
            0,
            "the KazePay platform key pair is not a usable RSA key".to_owned(),
        );
        return Ok(None);
    };
    let mut merchants = HashMap::new();
    for (tenant, setup) in tenants.iter().enumerate() {
        let Some(system) = &setup.credentials.kazepay else {
            continue;
        };
        // Parsed (with a located problem on failure) when the credentials were built.
        let Ok(public_key) = rsa::public_key(&system.merchant_public_key) else {
            continue;
        };
        let profile = Profile {
            hash: system.sign_hash,
            key_wrap: system.key_wrap,
        };
        merchants.insert(
            system.sys_id.clone(),
            Merchant {
                tenant,
                public_key,
                profile,
            },
        );
    }
    Ok(Some(Settings {
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
        busy_api_codes: over.busy_api_codes,
        platform_private,
        platform_public,
        merchants,
    }))
}
