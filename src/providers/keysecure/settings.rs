//! KeySecure behaviour as data: the code catalog with its two languages, token and timestamp
//! rules, delays, review rules, the Auth-callback policy, card BINs and packages. Defaults from
//! `fixtures/profiles/keysecure.yaml`, overridable per scenario.

use std::collections::{BTreeMap, HashMap};

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::world::review::ReviewPolicy;

/// Every failure, by meaning; the catalog gives each its code and messages.
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
pub enum ErrorKind {
    SystemError,
    MissingApiKey,
    IpNotAllowed,
    InvalidParameter,
    InvalidTimestamp,
    MissingAccessToken,
    InvalidAccessToken,
    UnknownApiKey,
    TooFrequent,
    ApiKeyDisabled,
    ApiKeyExpired,
    ModeNotSupported,
    PciNotEnabled,
    UnknownApi,
    CardholderNotFound,
    CardholderUniqueTaken,
    CardholderInReview,
    CardholderNotApproved,
    InvalidKycToken,
    InvalidTimeRange,
    InsufficientBalance,
    TransferUniqueConflict,
    CardNotFound,
    CardUniqueTaken,
    CardBinNotFound,
    PackageNotFound,
    CardTypeNotSupported,
    CardStatusNotAllowed,
    NotPhysicalCard,
    WrongCvv,
    ConsumptionNotFound,
    InvalidCardParameter,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 32] = [
        ErrorKind::SystemError,
        ErrorKind::MissingApiKey,
        ErrorKind::IpNotAllowed,
        ErrorKind::InvalidParameter,
        ErrorKind::InvalidTimestamp,
        ErrorKind::MissingAccessToken,
        ErrorKind::InvalidAccessToken,
        ErrorKind::UnknownApiKey,
        ErrorKind::TooFrequent,
        ErrorKind::ApiKeyDisabled,
        ErrorKind::ApiKeyExpired,
        ErrorKind::ModeNotSupported,
        ErrorKind::PciNotEnabled,
        ErrorKind::UnknownApi,
        ErrorKind::CardholderNotFound,
        ErrorKind::CardholderUniqueTaken,
        ErrorKind::CardholderInReview,
        ErrorKind::CardholderNotApproved,
        ErrorKind::InvalidKycToken,
        ErrorKind::InvalidTimeRange,
        ErrorKind::InsufficientBalance,
        ErrorKind::TransferUniqueConflict,
        ErrorKind::CardNotFound,
        ErrorKind::CardUniqueTaken,
        ErrorKind::CardBinNotFound,
        ErrorKind::PackageNotFound,
        ErrorKind::CardTypeNotSupported,
        ErrorKind::CardStatusNotAllowed,
        ErrorKind::NotPhysicalCard,
        ErrorKind::WrongCvv,
        ErrorKind::ConsumptionNotFound,
        ErrorKind::InvalidCardParameter,
    ];
}

/// A message in the two languages of the `Language` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    #[serde(rename = "en_US")]
    pub en_us: String,
    #[serde(rename = "zh_CN")]
    pub zh_cn: String,
}

/// A catalog entry: the code and its messages (`{field}`, `{reason}` filled in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    pub code: i64,
    #[serde(rename = "en_US")]
    pub en_us: String,
    #[serde(rename = "zh_CN")]
    pub zh_cn: String,
}

/// The `Language` header's choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    #[default]
    English,
    Chinese,
}

impl Language {
    /// `zh_CN` (any case, `-` or `_`) is Chinese; anything else English.
    pub fn from_header(value: Option<&str>) -> Language {
        match value.map(|v| v.trim().replace('-', "_").to_ascii_lowercase()) {
            Some(v) if v == "zh_cn" || v == "zh" => Language::Chinese,
            _ => Language::English,
        }
    }
}

/// What an Auth callback that is missing, late or not `{"code":0}` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthFallback {
    Decline,
    Approve,
}

/// A card BIN of authorization mode (seed 001's list item, plus the card-number length).
#[derive(Clone, Debug, PartialEq)]
pub struct CardBin {
    pub card_bin_no: String,
    pub card_bin: String,
    pub organization: String,
    pub support_physical: bool,
    pub support_virtual: bool,
    pub currencies: Vec<String>,
    pub length: usize,
    /// `{limit_balance, limit_week_balance, limit_atm_day_balance, limit_atm_month_balance}`.
    pub balance_limit: Value,
}

/// A card package of credit-extension mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    pub package_no: String,
    pub package_name_en: String,
    pub package_name_cn: String,
    pub card_bin: String,
    pub organization: String,
    /// `Virtual`, `Physical`.
    pub card_types: Vec<String>,
    pub currency: String,
    pub length: usize,
    /// The fee_detail block of card detail, as given.
    pub fee_detail: Value,
}

/// One merchant's KeySecure key, parsed.
#[derive(Clone, Debug)]
pub struct KeyIdentity {
    pub tenant: usize,
    pub key: super::section::Key,
}

/// Everything the KeySecure provider needs to know about the running scenario.
#[derive(Clone, Debug)]
pub struct Settings {
    pub success: Message,
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    pub token_lifetime: SignedDuration,
    pub timestamp_tolerance: SignedDuration,
    /// The default `Timezone`.
    pub timezone: jiff::tz::Offset,
    /// How cardholder applications are reviewed (and how long it takes).
    pub review: ReviewPolicy,
    pub card_production: SignedDuration,
    /// Globs on card_unique_no whose production ends in Fail.
    pub failing_cards: Vec<String>,
    pub auth_timeout: SignedDuration,
    pub auth_fallback: AuthFallback,
    pub callback_retries: Vec<SignedDuration>,
    pub card_bins: Vec<CardBin>,
    pub packages: Vec<Package>,
    /// Paths that answer 1001 (a scenario's outage).
    pub unavailable_paths: Vec<String>,
    /// By Api-Key.
    pub merchants: HashMap<String, KeyIdentity>,
}

impl Settings {
    /// The code and message of a failure in `language`.
    pub fn error(
        &self,
        kind: ErrorKind,
        language: Language,
        field: &str,
        reason: &str,
    ) -> (i64, String) {
        let Some(text) = self.errors.get(&kind) else {
            return (1001, format!("{kind:?}"));
        };
        let template = match language {
            Language::English => &text.en_us,
            Language::Chinese => &text.zh_cn,
        };
        let message = template
            .replace("{field}", field)
            .replace("{reason}", reason);
        (text.code, message.trim().to_owned())
    }

    /// The success message in `language`.
    pub fn success(&self, language: Language) -> &str {
        match language {
            Language::English => &self.success.en_us,
            Language::Chinese => &self.success.zh_cn,
        }
    }
}
