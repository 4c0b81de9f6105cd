//! AceData behaviour as data: result-code tables, which situation gets which code, gateway error
//! texts, the rate limit and pinned answers.
//!
//! Defaults come from `fixtures/profiles/acedata.yaml`; a scenario's `acedata:` section
//! overrides any part (its `section` module resolves it). Nothing here is wire format.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::world::bins::BinTable;
use crate::world::ratelimit::RateLimit;

/// The four bank-card endpoints.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Endpoint {
    #[serde(rename = "check-1e")]
    Check1e,
    #[serde(rename = "check-2e")]
    Check2e,
    #[serde(rename = "check-3e")]
    Check3e,
    #[serde(rename = "check-4e")]
    Check4e,
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Check1e,
        Endpoint::Check2e,
        Endpoint::Check3e,
        Endpoint::Check4e,
    ];

    /// The name used in paths, journals and token scopes (`check-1e`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Check1e => "check-1e",
            Endpoint::Check2e => "check-2e",
            Endpoint::Check3e => "check-3e",
            Endpoint::Check4e => "check-4e",
        }
    }

    /// The endpoint served at `path`, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let name = path.strip_prefix("/identity/bankcard/")?;
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The situations this endpoint must have an outcome for.
    pub fn situations(self) -> Vec<Situation> {
        use Situation::*;
        if self == Endpoint::Check1e {
            return vec![Found, MalformedCard, LuhnFailure, UnknownBin];
        }
        let mut situations = vec![
            Passed,
            MalformedCard,
            LuhnFailure,
            InvalidName,
            UnknownBin,
            UnknownCard,
            HolderMismatch,
            CardPending,
            CardInactive,
            CardFrozen,
            CardLost,
            CardClosed,
            CardFailed,
            CardExpired,
        ];
        if matches!(self, Endpoint::Check3e | Endpoint::Check4e) {
            situations.push(InvalidIdNumber);
        }
        if self == Endpoint::Check4e {
            situations.push(InvalidPhone);
        }
        situations
    }
}

/// The language of `description` and `account_bank`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Chinese, like the real service.
    Zh,
    /// English, like the translated documentation.
    En,
}

/// What the sandbox found about a request; each endpoint maps these to a result code.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// check-1e: the BIN is known.
    Found,
    /// check-2e/3e/4e: every element matches a usable card.
    Passed,
    /// Not 12–19 ASCII digits.
    MalformedCard,
    /// Digits of a plausible length that fail the Luhn check.
    LuhnFailure,
    /// A name that is empty, too long or has characters no name has.
    InvalidName,
    /// An id number that is malformed (a mainland ID card number with a bad checksum, ...).
    InvalidIdNumber,
    /// A phone number that is not 11 digits starting with 1 (mainland mobile format).
    InvalidPhone,
    /// No BIN range matches the card number.
    UnknownBin,
    /// The BIN is known but the tenant's world has no such card.
    UnknownCard,
    /// The card exists but the name, id number or phone differ from its holder's.
    HolderMismatch,
    CardPending,
    CardInactive,
    CardFrozen,
    CardLost,
    CardClosed,
    CardFailed,
    CardExpired,
}

/// One result code's description in both languages, and whether the real service bills it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultText {
    pub zh: String,
    pub en: String,
    pub charged: bool,
}

impl ResultText {
    /// The description in `language`.
    pub fn text(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

/// An endpoint's result codes and which situation gets which code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EndpointTable {
    pub results: BTreeMap<String, ResultText>,
    pub outcomes: BTreeMap<Situation, String>,
}

/// The gateway errors AceData documents, plus the sandbox's own for bad requests.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GatewayError {
    BadRequest,
    TokenMismatched,
    ApiNotImplemented,
    InvalidToken,
    TooManyRequests,
    ApiError,
    MethodNotAllowed,
    RequestTooLarge,
}

impl GatewayError {
    pub const ALL: [GatewayError; 8] = [
        GatewayError::BadRequest,
        GatewayError::TokenMismatched,
        GatewayError::ApiNotImplemented,
        GatewayError::InvalidToken,
        GatewayError::TooManyRequests,
        GatewayError::ApiError,
        GatewayError::MethodNotAllowed,
        GatewayError::RequestTooLarge,
    ];

    /// The `error.code` string on the wire.
    pub fn code(self) -> &'static str {
        match self {
            GatewayError::BadRequest => "bad_request",
            GatewayError::TokenMismatched => "token_mismatched",
            GatewayError::ApiNotImplemented => "api_not_implemented",
            GatewayError::InvalidToken => "invalid_token",
            GatewayError::TooManyRequests => "too_many_requests",
            GatewayError::ApiError => "api_error",
            GatewayError::MethodNotAllowed => "method_not_allowed",
            GatewayError::RequestTooLarge => "request_too_large",
        }
    }
}

/// HTTP status and default message of a gateway error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayErrorText {
    pub status: u16,
    pub message: String,
}

/// A scenario-pinned answer for one card number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PinnedAnswer {
    /// Only for this endpoint; `None` pins all four.
    pub endpoint: Option<Endpoint>,
    pub result: String,
    pub description: Option<String>,
    pub account_bank: Option<String>,
    pub account_type: Option<i64>,
}

/// A merchant's bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The merchant's place in the scenario.
    pub tenant: usize,
    pub credential: super::section::TokenCredentials,
}

/// Everything the AceData provider needs to know about the running scenario.
#[derive(Clone, Debug)]
pub struct Settings {
    pub language: Language,
    /// `account_type` of an answer without a card nature.
    pub failure_account_type: i64,
    /// Default limit of a token that sets none; `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
    pub endpoints: BTreeMap<Endpoint, EndpointTable>,
    pub gateway_errors: BTreeMap<GatewayError, GatewayErrorText>,
    /// Pinned answers by card number.
    pub answers: HashMap<String, Vec<PinnedAnswer>>,
    /// The BIN table lookups answer from.
    pub bins: Arc<BinTable>,
    /// Every merchant's tokens, in scenario order.
    pub tokens: Vec<Token>,
}

impl Settings {
    /// The record of bearer token `token`.
    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.credential.token == token)
    }
}

impl Settings {
    /// The pinned answer for `card` on `endpoint`, an endpoint-specific pin winning.
    pub fn pinned(&self, card: &str, endpoint: Endpoint) -> Option<&PinnedAnswer> {
        let pins = self.answers.get(card)?;
        pins.iter()
            .find(|a| a.endpoint == Some(endpoint))
            .or_else(|| pins.iter().find(|a| a.endpoint.is_none()))
    }

    /// Code and description for `situation` on `endpoint`.
    ///
    /// The scenario loader guarantees every endpoint has an outcome for each of its situations
    /// and a text for each outcome code, so a miss here is a bug; it degrades to the bare code.
    pub fn outcome(&self, endpoint: Endpoint, situation: Situation) -> (String, String) {
        let table = self.endpoints.get(&endpoint);
        let code = table
            .and_then(|t| t.outcomes.get(&situation))
            .cloned()
            .unwrap_or_else(|| "-1".to_owned());
        let description = self.describe(endpoint, &code);
        (code, description)
    }

    /// The description of result `code` on `endpoint` in the scenario's language.
    pub fn describe(&self, endpoint: Endpoint, code: &str) -> String {
        self.endpoints
            .get(&endpoint)
            .and_then(|t| t.results.get(code))
            .map(|r| r.text(self.language).to_owned())
            .unwrap_or_default()
    }

    /// Status and message for a gateway error.
    pub fn gateway_error(&self, error: GatewayError) -> (u16, &str) {
        self.gateway_errors
            .get(&error)
            .map(|t| (t.status, t.message.as_str()))
            .unwrap_or((500, "Internal server error."))
    }
}
