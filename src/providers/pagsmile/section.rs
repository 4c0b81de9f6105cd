//! Pagsmile's part of a scenario: the `pagsmile:` section (also the shape of
//! `fixtures/profiles/pagsmile.yaml`, which it is merged over) and each merchant's
//! `credentials.pagsmile` (an app), resolved into [`Settings`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::settings::{
    AppIdentity, AuditStatus, CardStatusCodes, ErrorKind, ErrorText, HolderStatus, NotifyType,
    OrderStatus, Settings, SuccessText,
};
use crate::crypto::rsa;
use crate::providers::strictness::{Leniency, Strictness};
use crate::scenario::section::{Build, BuiltinProfile, Located};
use crate::world::deliveries::{URL_RULE, deliverable_url};
use crate::world::review::{ReviewPolicy, ReviewRule};
use crate::world::{CardForm, Gender, IdKind, KycStatus};
use crate::{merge_fields, merge_whole};

/// The built-in profile.
pub const PROFILE: BuiltinProfile = BuiltinProfile {
    origin: "<built-in fixtures/profiles/pagsmile.yaml>",
    text: include_str!("../../../fixtures/profiles/pagsmile.yaml"),
};

/// Overrides of `fixtures/profiles/pagsmile.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "PagsmileProfileSection")]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub success: Option<SuccessText>,
    #[serde(default)]
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    pub order_status: Option<OrderStatus>,
    pub audit_status: Option<AuditStatus>,
    pub card_status: Option<CardStatusCodes>,
    pub holder_status: Option<HolderStatus>,
    pub card_types: Option<BTreeMap<i64, CardForm>>,
    pub id_types: Option<BTreeMap<i64, IdKind>>,
    pub genders: Option<BTreeMap<i64, Gender>>,
    pub notify_type: Option<NotifyType>,
    /// BIN → card-number length; the first is the default.
    pub card_bins: Option<BTreeMap<String, usize>>,
    #[serde(default)]
    pub delays: DelaysSection,
    /// `approved` or `rejected`.
    pub audit_default: Option<AuditDecision>,
    #[serde(default)]
    #[schemars(with = "Vec<AuditRuleSection>")]
    pub audit_rules: Vec<Spanned<AuditRuleSection>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub webhook_retries: Option<Vec<Spanned<String>>>,
    /// Paths that answer 20000 Service Currently Unavailable.
    #[serde(default)]
    pub unavailable_paths: Vec<String>,
    /// Offset of the times the API writes (`+00:00`).
    #[schemars(with = "Option<String>")]
    pub utc_offset: Option<Spanned<String>>,
    /// `strict` (the default) or `lenient`, for merchants that do not set their own.
    pub strictness: Option<Strictness>,
}

merge_fields!(Section {
    success,
    errors,
    order_status,
    audit_status,
    card_status,
    holder_status,
    card_types,
    id_types,
    genders,
    notify_type,
    card_bins,
    delays,
    audit_default,
    audit_rules,
    webhook_retries,
    unavailable_paths,
    utc_offset,
    strictness,
});
merge_whole!(ErrorText);

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "PagsmileDelaysSection")]
#[serde(deny_unknown_fields)]
pub struct DelaysSection {
    #[schemars(with = "Option<String>")]
    pub holder_audit: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub card_production: Option<Spanned<String>>,
}

merge_fields!(DelaysSection {
    holder_audit,
    card_production,
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    Approved,
    Rejected,
}

impl AuditDecision {
    fn status(self) -> KycStatus {
        match self {
            AuditDecision::Approved => KycStatus::Passed,
            AuditDecision::Rejected => KycStatus::Rejected,
        }
    }
}

/// Decides cardholder audits whose fields match every pattern given (`*` and `?` globs).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRuleSection {
    pub email: Option<String>,
    /// Against "first_name last_name".
    pub name: Option<String>,
    pub id_no: Option<String>,
    pub decision: AuditDecision,
    /// The rejection codes of the audit webhook, e.g. ["1"].
    #[serde(default)]
    pub codes: Vec<String>,
    pub remark: Option<String>,
    #[schemars(with = "Option<String>")]
    pub after: Option<Spanned<String>>,
}

/// A merchant's Pagsmile Issuing application.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "PagsmileSection")]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schemars(with = "String")]
    pub app_id: Spanned<String>,
    pub partner_id: String,
    pub security_key: String,
    #[schemars(with = "String")]
    pub merchant_public_key: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub merchant_private_key: Option<Spanned<String>>,
    /// The merchant's issuing (pay) account number; default `PA` + the app_id.
    pub pay_account_num: Option<String>,
    /// Where webhooks go; none: no webhooks.
    #[schemars(with = "Option<String>")]
    pub webhook_url: Option<Spanned<String>>,
    /// `strict` or `lenient` for this merchant (default: the `pagsmile:` section's, else
    /// strict).
    pub strictness: Option<Strictness>,
    /// Strict rules this merchant relaxes one by one.
    #[serde(default)]
    pub relax: Vec<Rule>,
}

/// Pagsmile's strict rules, by the name `relax:` gives them (docs/providers/pagsmile.md,
/// "Strict by default").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Fields seed 002 types `integer`/`long` are JSON numbers, amounts it types `string` are
    /// JSON strings; relaxed, `"3"` reads as 3 and `100.5` as `"100.5"`.
    JsonTypes,
}

/// A merchant's app as `GET /__admin/credentials` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppCredentials {
    pub app_id: String,
    pub partner_id: String,
    pub security_key: String,
    pub merchant_public_key: String,
    /// Only for keys the sandbox may hand out (test-only keys), so harnesses can seal requests.
    pub merchant_private_key: Option<String>,
    /// The merchant's issuing account (pays card applications and recharges).
    pub pay_account_num: String,
    pub webhook_url: Option<String>,
    /// How strictly requests are held to the documents.
    pub leniency: Leniency<Rule>,
}

/// Resolves the merged section and the merchants' apps; `None` when something essential is
/// missing (a located problem says what).
pub fn build(
    section: Section,
    merchants: Vec<(usize, Located<Credentials>)>,
    build: &mut Build<'_, '_>,
) -> Option<Settings> {
    for kind in ErrorKind::ALL {
        if !section.errors.contains_key(&kind) {
            build.profile_problem(format!("pagsmile: error `{kind:?}` has no codes"));
        }
    }
    let card_bins = section.card_bins.unwrap_or_default();
    let Some(default_bin) = card_bins.keys().next().cloned() else {
        build.profile_problem("pagsmile: card_bins is empty");
        return None;
    };
    for (bin, length) in &card_bins {
        if !crate::world::bins::valid_range(bin, *length) {
            build.profile_problem(format!(
                "pagsmile: card BIN `{bin}` with length {length} is not usable"
            ));
        }
    }
    let holder_audit = build.duration_or(section.delays.holder_audit, None);
    let card_production = build.duration_or(section.delays.card_production, None);
    let rules = section
        .audit_rules
        .into_iter()
        .map(|rule| {
            let r = rule.value;
            ReviewRule {
                email: r.email,
                name: r.name,
                document: r.id_no,
                reason: r.remark,
                codes: r.codes,
                after: r.after.and_then(|text| build.duration(&text)),
                ..ReviewRule::deciding(r.decision.status())
            }
        })
        .collect();
    let webhook_retries = section
        .webhook_retries
        .unwrap_or_default()
        .iter()
        .filter_map(|text| build.duration(text))
        .collect();
    let (
        Some(success),
        Some(order_status),
        Some(audit_status),
        Some(card_status),
        Some(holder_status),
        Some(notify_type),
    ) = (
        section.success,
        section.order_status,
        section.audit_status,
        section.card_status,
        section.holder_status,
        section.notify_type,
    )
    else {
        build.profile_problem("pagsmile: the profile lacks a dictionary");
        return None;
    };
    let card_types = section.card_types.unwrap_or_default();
    let id_types = section.id_types.unwrap_or_default();
    if card_types.is_empty() || id_types.is_empty() {
        build.profile_problem("pagsmile: card_types and id_types need at least one entry");
    }
    let utc_offset = build.utc_offset(section.utc_offset)?;
    let platform = build.platform_keys(super::PLATFORM);
    let Ok(platform_private) = rsa::private_key(&platform.private_pem) else {
        build.unlocated("the Pagsmile platform key is not a usable RSA key");
        return None;
    };
    let apps = merchants
        .into_iter()
        .filter_map(|(tenant, credentials)| {
            let app = app(tenant, credentials.value, section.strictness, build)?;
            Some((app.credentials.app_id.clone(), app))
        })
        .collect::<HashMap<_, _>>();
    Some(Settings {
        success,
        errors: section.errors,
        order_status,
        audit_status,
        card_status,
        holder_status,
        card_types,
        id_types,
        genders: section.genders.unwrap_or_default(),
        notify_type,
        card_bins,
        default_bin,
        review: ReviewPolicy {
            rules,
            default: section
                .audit_default
                .map_or(KycStatus::Passed, AuditDecision::status),
            delay: holder_audit,
        },
        card_production,
        webhook_retries,
        utc_offset,
        unavailable_paths: section.unavailable_paths,
        platform_private,
        platform_public_pem: platform.public_pem,
        apps,
    })
}

/// One merchant's app, its keys resolved; `None` when its public key is unusable (a located
/// problem says why).
fn app(
    tenant: usize,
    c: Credentials,
    default_strictness: Option<Strictness>,
    build: &mut Build<'_, '_>,
) -> Option<AppIdentity> {
    build.claim(tenant, &c.app_id);
    if let Some(url) = &c.webhook_url
        && !deliverable_url(&url.value)
    {
        build.problem(url.referenced, format!("webhook_url {URL_RULE}"));
    }
    let credentials = AppCredentials {
        merchant_public_key: build.public_key(&c.merchant_public_key),
        merchant_private_key: c
            .merchant_private_key
            .as_ref()
            .map(|k| build.private_key(k)),
        pay_account_num: c
            .pay_account_num
            .unwrap_or_else(|| format!("PA{}", c.app_id.value)),
        webhook_url: c.webhook_url.map(|u| u.value),
        app_id: c.app_id.value,
        partner_id: c.partner_id,
        security_key: c.security_key,
        leniency: Leniency::resolve(c.strictness, default_strictness, c.relax),
    };
    // Parsed (with a located problem on failure) when resolved just above.
    let public_key = rsa::public_key(&credentials.merchant_public_key).ok()?;
    Some(AppIdentity {
        tenant,
        public_key,
        credentials,
    })
}
