//! Resolves the `pagsmile:` section over `fixtures/profiles/pagsmile.yaml` into the provider's
//! [`Settings`]: answer codes, dictionaries, BINs, delays, audit rules, parsed keys.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::TenantSetup;
use super::error::{Problems, ScenarioError};
use super::model::{AuditDecision, PagsmileProfileSection};
use super::profiles;
use super::units::{duration, utc_offset};
use crate::credentials::KeyPair;
use crate::crypto::rsa;
use crate::providers::pagsmile::settings::{App, AuditRule, ErrorKind, Settings};

/// Merges the scenario's section over the built-in profile; `None` when something essential is
/// missing (a located problem says what).
pub(super) fn build(
    section: Option<Spanned<PagsmileProfileSection>>,
    platform: &KeyPair,
    tenants: &[TenantSetup],
    problems: &mut Problems<'_>,
) -> Result<Option<Settings>, ScenarioError> {
    let base = profiles::pagsmile()?;
    let location = section.as_ref().map(|s| s.referenced);
    let over = section.map(|s| s.value).unwrap_or_default();
    let report = |problems: &mut Problems<'_>, message: String| match location {
        Some(at) => problems.at(at, message),
        None => problems.at_line_column(0, 0, format!("built-in Pagsmile profile: {message}")),
    };
    let mut errors = base.errors;
    errors.extend(over.errors);
    for kind in ErrorKind::ALL {
        if !errors.contains_key(&kind) {
            report(problems, format!("pagsmile: error `{kind:?}` has no codes"));
        }
    }
    let card_bins = over.card_bins.or(base.card_bins).unwrap_or_default();
    let Some(default_bin) = card_bins.keys().next().cloned() else {
        report(problems, "pagsmile: card_bins is empty".to_owned());
        return Ok(None);
    };
    for (bin, length) in &card_bins {
        if !crate::world::bins::valid_range(bin, *length) {
            report(
                problems,
                format!("pagsmile: card BIN `{bin}` with length {length} is not usable"),
            );
        }
    }
    let (b, o) = (base.delays, over.delays);
    let delay = |problems: &mut Problems<'_>,
                 given: Option<Spanned<String>>,
                 fallback: Option<Spanned<String>>| {
        given
            .or(fallback)
            .and_then(|text| duration(&text, problems))
            .unwrap_or_default()
    };
    let holder_audit = delay(problems, o.holder_audit, b.holder_audit);
    let card_production = delay(problems, o.card_production, b.card_production);
    let audit_rules = over
        .audit_rules
        .into_iter()
        .map(|rule| {
            let r = rule.value;
            AuditRule {
                email: r.email,
                name: r.name,
                id_no: r.id_no,
                approve: r.decision == AuditDecision::Approved,
                codes: r.codes,
                remark: r.remark,
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
    let (
        Some(success),
        Some(order_status),
        Some(audit_status),
        Some(card_status),
        Some(holder_status),
        Some(notify_type),
    ) = (
        over.success.or(base.success),
        over.order_status.or(base.order_status),
        over.audit_status.or(base.audit_status),
        over.card_status.or(base.card_status),
        over.holder_status.or(base.holder_status),
        over.notify_type.or(base.notify_type),
    )
    else {
        report(
            problems,
            "pagsmile: the profile lacks a dictionary".to_owned(),
        );
        return Ok(None);
    };
    let card_types = over.card_types.or(base.card_types).unwrap_or_default();
    let id_types = over.id_types.or(base.id_types).unwrap_or_default();
    if card_types.is_empty() || id_types.is_empty() {
        report(
            problems,
            "pagsmile: card_types and id_types need at least one entry".to_owned(),
        );
    }
    let Some(utc_offset) = utc_offset(over.utc_offset.or(base.utc_offset), problems) else {
        return Ok(None);
    };
    let Ok(platform_private) = rsa::private_key(&platform.private_pem) else {
        problems.at_line_column(
            0,
            0,
            "the Pagsmile platform key is not a usable RSA key".to_owned(),
        );
        return Ok(None);
    };
    let mut apps = HashMap::new();
    for (tenant, setup) in tenants.iter().enumerate() {
        let Some(app) = &setup.credentials.pagsmile else {
            continue;
        };
        // Parsed (with a located problem on failure) when the credentials were built.
        let Ok(public_key) = rsa::public_key(&app.merchant_public_key) else {
            continue;
        };
        apps.insert(
            app.app_id.clone(),
            App {
                tenant,
                partner_id: app.partner_id.clone(),
                security_key: app.security_key.clone(),
                public_key,
                pay_account_num: app.pay_account_num.clone(),
                webhook_url: app.webhook_url.clone(),
            },
        );
    }
    Ok(Some(Settings {
        success,
        errors,
        order_status,
        audit_status,
        card_status,
        holder_status,
        card_types,
        id_types,
        genders: over.genders.or(base.genders).unwrap_or_default(),
        notify_type,
        card_bins,
        default_bin,
        holder_audit,
        card_production,
        audit_default_approve: over.audit_default.or(base.audit_default)
            != Some(AuditDecision::Rejected),
        audit_rules,
        webhook_retries,
        utc_offset,
        unavailable_paths: over.unavailable_paths,
        platform_private,
        apps,
    }))
}
