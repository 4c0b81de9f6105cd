//! AceData's part of a scenario: the `acedata:` section (also the shape of
//! `fixtures/profiles/acedata.yaml`, which it is merged over, plus pinned answers) and each
//! merchant's `credentials.acedata` (its bearer tokens), resolved into [`Settings`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::settings::{
    Endpoint, EndpointTable, GatewayError, GatewayErrorText, Language, PinnedAnswer, ResultText,
    Settings, Situation, Token,
};
use crate::scenario::model::RateLimitSection;
use crate::scenario::section::{Build, BuiltinProfile, Located};
use crate::world::ratelimit::RateLimit;
use crate::{merge_fields, merge_whole};

/// The built-in profile.
pub const PROFILE: BuiltinProfile = BuiltinProfile {
    origin: "<built-in fixtures/profiles/acedata.yaml>",
    text: include_str!("../../../fixtures/profiles/acedata.yaml"),
};

/// Overrides of `fixtures/profiles/acedata.yaml` plus pinned answers. The profile file itself
/// is read with this same struct.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "AceDataSection")]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub language: Option<Language>,
    /// `account_type` of answers without a card nature (failures); the profile says -1.
    pub failure_account_type: Option<i64>,
    pub rate_limit: Option<RateLimitSection>,
    #[serde(default)]
    pub endpoints: BTreeMap<Endpoint, EndpointSection>,
    #[serde(default)]
    pub gateway_errors: BTreeMap<GatewayError, GatewayErrorText>,
    #[serde(default)]
    #[schemars(with = "Vec<AnswerSection>")]
    pub answers: Vec<Spanned<AnswerSection>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSection {
    #[serde(default)]
    pub results: BTreeMap<String, ResultText>,
    #[serde(default)]
    pub outcomes: BTreeMap<Situation, String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerSection {
    pub bank_card: String,
    /// Only this endpoint; default all four.
    pub endpoint: Option<Endpoint>,
    pub result: String,
    pub description: Option<String>,
    pub account_bank: Option<String>,
    pub account_type: Option<i64>,
}

merge_fields!(Section {
    language,
    failure_account_type,
    rate_limit,
    endpoints,
    gateway_errors,
    answers,
});
merge_fields!(EndpointSection { results, outcomes });
merge_whole!(ResultText, GatewayErrorText, Language);

/// A merchant's bearer token, as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "AceDataTokenSection")]
#[serde(deny_unknown_fields)]
pub struct TokenSection {
    #[schemars(with = "String")]
    pub token: Spanned<String>,
    /// This token's limit; default the profile's.
    pub rate_limit: Option<RateLimitSection>,
    /// Endpoints the token may call; default all. Others answer `token_mismatched`.
    pub apis: Option<Vec<Endpoint>>,
}

/// A bearer token as `GET /__admin/credentials` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenCredentials {
    pub token: String,
    /// Requests per second allowed on this token; `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The endpoints the token may call (e.g. `check-1e`); `None` means all of them.
    pub apis: Option<Vec<String>>,
}

/// Checks the merged section is complete and resolves it with the merchants' tokens.
pub fn build(
    mut section: Section,
    merchants: Vec<(usize, Located<Vec<TokenSection>>)>,
    build: &mut Build<'_, '_>,
) -> Settings {
    let endpoints = tables(&mut section, build);
    for error in GatewayError::ALL {
        match section.gateway_errors.get(&error) {
            None => build.profile_problem(format!(
                "acedata: gateway error `{}` has no status and message",
                error.code()
            )),
            Some(text) if !(400..=599).contains(&text.status) => build.profile_problem(format!(
                "acedata: gateway error `{}` has status {}; use 400–599",
                error.code(),
                text.status
            )),
            Some(_) => {}
        }
    }
    let failure_account_type = section.failure_account_type.unwrap_or(-1);
    let answers = answers(
        std::mem::take(&mut section.answers),
        &endpoints,
        failure_account_type,
        build,
    );
    let rate_limit = section.rate_limit.and_then(Build::rate_limit);
    let mut tokens = Vec::new();
    for (tenant, sections) in merchants {
        for t in sections.value {
            build.claim(tenant, &t.token);
            if t.token.value.trim().is_empty() || t.token.value.contains(char::is_whitespace) {
                build.problem(
                    t.token.referenced,
                    "an AceData token must be non-empty and contain no spaces",
                );
            }
            tokens.push(Token {
                tenant,
                credential: TokenCredentials {
                    token: t.token.value,
                    rate_limit: t.rate_limit.map_or(rate_limit, Build::rate_limit),
                    apis: t
                        .apis
                        .map(|apis| apis.into_iter().map(|e| e.name().to_owned()).collect()),
                },
            });
        }
    }
    Settings {
        language: section.language.unwrap_or(Language::En),
        failure_account_type,
        rate_limit,
        endpoints,
        gateway_errors: section.gateway_errors,
        answers,
        bins: build.bins().clone(),
        tokens,
    }
}

/// Every endpoint must map each of its situations to a code that has a text. Outcomes for
/// situations an endpoint does not have are ignored (the built-in profile shares one table).
fn tables(merged: &mut Section, build: &mut Build<'_, '_>) -> BTreeMap<Endpoint, EndpointTable> {
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
            build.profile_problem(message);
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
fn answers(
    sections: Vec<Spanned<AnswerSection>>,
    endpoints: &BTreeMap<Endpoint, EndpointTable>,
    failure_account_type: i64,
    build: &mut Build<'_, '_>,
) -> HashMap<String, Vec<PinnedAnswer>> {
    let mut answers: HashMap<String, Vec<PinnedAnswer>> = HashMap::new();
    for answer in sections {
        let (a, at) = (answer.value, answer.referenced);
        let applies_to: Vec<Endpoint> = a.endpoint.map_or(Endpoint::ALL.to_vec(), |e| vec![e]);
        if a.bank_card.is_empty() {
            build.problem(at, "answer: bank_card is empty");
        }
        if a.description.is_none()
            && let Some(missing) = applies_to
                .iter()
                .find(|e| !endpoints[e].results.contains_key(&a.result))
        {
            build.problem(
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
            && !matches!(account_type, 1..=4)
            && account_type != failure_account_type
        {
            build.problem(
                at,
                format!(
                    "answer: account_type {account_type} is not 1, 2, 3, 4 or the failure_account_type {failure_account_type}"
                ),
            );
        }
        let pins = answers.entry(a.bank_card.clone()).or_default();
        if pins.iter().any(|p| p.endpoint == a.endpoint) {
            let scope = a.endpoint.map_or("all endpoints", Endpoint::name);
            build.problem(
                at,
                format!("card {} already has an answer for {scope}", a.bank_card),
            );
        }
        pins.push(PinnedAnswer {
            endpoint: a.endpoint,
            result: a.result,
            description: a.description,
            account_bank: a.account_bank,
            account_type: a.account_type,
        });
    }
    answers
}
