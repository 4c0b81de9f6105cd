//! Resolves the `keysecure:` section over `fixtures/profiles/keysecure.yaml` into the provider's
//! [`Settings`]: the code catalog, token and timestamp rules, delays, review rules, the Auth
//! callback policy, card BINs and packages.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::TenantSetup;
use super::error::{Problems, ScenarioError};
use super::model::{KeySecureProfileSection, RateLimitSection, ReviewDecision};
use super::profiles;
use super::units::{duration, utc_offset};
use crate::providers::keysecure::settings::{
    AuthFallback, CardBin, ErrorKind, Merchant, Package, ReviewRule, Settings,
};
use crate::world::bins::valid_range;
use crate::world::ratelimit::RateLimit;

/// The per-key rate limit a merchant's key gets when it sets none: the section's, else the
/// profile's.
pub(super) fn default_rate_limit(
    section: Option<&Spanned<KeySecureProfileSection>>,
) -> Result<Option<RateLimit>, ScenarioError> {
    let given: Option<RateLimitSection> = section.and_then(|s| s.value.rate_limit);
    Ok(given
        .or(profiles::keysecure()?.rate_limit)
        .and_then(super::build::rate_limit))
}

/// Merges the scenario's section over the built-in profile; `None` when something essential
/// is unusable (a located problem says what).
pub(super) fn build(
    section: Option<Spanned<KeySecureProfileSection>>,
    tenants: &[TenantSetup],
    problems: &mut Problems<'_>,
) -> Result<Option<Settings>, ScenarioError> {
    let base = profiles::keysecure()?;
    let location = section.as_ref().map(|s| s.referenced);
    let over = section.map(|s| s.value).unwrap_or_default();
    let report = |problems: &mut Problems<'_>, message: String| match location {
        Some(at) => problems.at(at, message),
        None => problems.at_line_column(0, 0, format!("built-in KeySecure profile: {message}")),
    };
    let mut errors = base.errors;
    errors.extend(over.errors);
    for kind in ErrorKind::ALL {
        if !errors.contains_key(&kind) {
            report(problems, format!("keysecure: error `{kind:?}` has no code"));
        }
    }
    let mut delay = |given: Option<Spanned<String>>, fallback: Option<Spanned<String>>| {
        given
            .or(fallback)
            .and_then(|text| duration(&text, problems))
            .unwrap_or_default()
    };
    let token_lifetime = delay(over.token_lifetime, base.token_lifetime);
    let timestamp_tolerance = delay(over.timestamp_tolerance, base.timestamp_tolerance);
    let cardholder_review = delay(over.delays.cardholder_review, base.delays.cardholder_review);
    let card_production = delay(over.delays.card_production, base.delays.card_production);
    let review_rules = over
        .review_rules
        .into_iter()
        .map(|rule| {
            let r = rule.value;
            ReviewRule {
                unique_no: r.unique_no,
                token: r.token,
                approve: r.decision == ReviewDecision::Success,
                reason: r.reason,
                after: r.after.and_then(|text| duration(&text, problems)),
            }
        })
        .collect();
    // Either knob may be overridden alone.
    let (over_auth, base_auth) = (over.auth, base.auth);
    let auth_timeout = over_auth
        .as_ref()
        .and_then(|a| a.timeout.clone())
        .or_else(|| base_auth.as_ref().and_then(|a| a.timeout.clone()))
        .and_then(|text| duration(&text, problems))
        .unwrap_or(jiff::SignedDuration::from_millis(800));
    let auth_fallback = over_auth
        .and_then(|a| a.fallback)
        .or_else(|| base_auth.and_then(|a| a.fallback))
        .unwrap_or(AuthFallback::Decline);
    let callback_retries = over
        .callback_retries
        .or(base.callback_retries)
        .unwrap_or_default()
        .iter()
        .filter_map(|text| duration(text, problems))
        .collect();
    let card_bins: Vec<CardBin> = over
        .card_bins
        .or(base.card_bins)
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            check_bin(&b.card_bin, b.length, problems);
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
    let packages: Vec<Package> = over
        .packages
        .or(base.packages)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            check_bin(&p.card_bin, p.length, problems);
            if crate::world::Currency::new(&p.currency.value).is_err() {
                problems.at(
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
    let Some(timezone) = utc_offset(over.timezone.or(base.timezone), problems) else {
        return Ok(None);
    };
    let Some(success) = over.success.or(base.success) else {
        report(
            problems,
            "keysecure: the profile lacks `success`".to_owned(),
        );
        return Ok(None);
    };
    let merchants: HashMap<String, Merchant> = tenants
        .iter()
        .enumerate()
        .filter_map(|(tenant, setup)| {
            let key = setup.credentials.keysecure.clone()?;
            Some((key.api_key.clone(), Merchant { tenant, key }))
        })
        .collect();
    Ok(Some(Settings {
        success,
        errors,
        token_lifetime,
        timestamp_tolerance,
        timezone,
        cardholder_review,
        card_production,
        review_default_approve: over.review_default.or(base.review_default)
            != Some(ReviewDecision::Fail),
        review_rules,
        failing_cards: over
            .failing_cards
            .or(base.failing_cards)
            .unwrap_or_default(),
        auth_timeout,
        auth_fallback,
        callback_retries,
        card_bins,
        packages,
        unavailable_paths: over.unavailable_paths,
        merchants,
    }))
}

/// A BIN the card numbers can be drawn on, or a located problem.
fn check_bin(bin: &Spanned<String>, length: usize, problems: &mut Problems<'_>) {
    if !valid_range(&bin.value, length) {
        problems.at(
            bin.referenced,
            format!(
                "card BIN `{}` with length {length} is not usable",
                bin.value
            ),
        );
    }
}
