//! Pagsmile behaviour as data: answer codes, dictionaries, card BINs, delays, audit rules, the
//! parsed keys. Defaults from `fixtures/profiles/pagsmile.yaml`, overridable per scenario.

use std::collections::{BTreeMap, HashMap};

use crate::crypto::rsa::{PrivateKey, PublicKey};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::section::AppCredentials;
use crate::world::review::ReviewPolicy;
use crate::world::{CardForm, CardStatus, Gender, IdKind};

/// Every failure, by meaning; the catalog gives each its codes.
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
    MissingArgument,
    InvalidArgument,
    InvalidSignature,
    UnknownApp,
    InvalidAuthorization,
    DuplicateRequest,
    HolderNotFound,
    HolderExists,
    HolderNotApproved,
    HolderInReview,
    OrderExists,
    OrderNotFound,
    CardNotFound,
    CardStatus,
    AccountNotFound,
    InsufficientBalance,
    MethodNotSupported,
    MediaType,
    UnknownApi,
    Unavailable,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 20] = [
        ErrorKind::MissingArgument,
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidSignature,
        ErrorKind::UnknownApp,
        ErrorKind::InvalidAuthorization,
        ErrorKind::DuplicateRequest,
        ErrorKind::HolderNotFound,
        ErrorKind::HolderExists,
        ErrorKind::HolderNotApproved,
        ErrorKind::HolderInReview,
        ErrorKind::OrderExists,
        ErrorKind::OrderNotFound,
        ErrorKind::CardNotFound,
        ErrorKind::CardStatus,
        ErrorKind::AccountNotFound,
        ErrorKind::InsufficientBalance,
        ErrorKind::MethodNotSupported,
        ErrorKind::MediaType,
        ErrorKind::UnknownApi,
        ErrorKind::Unavailable,
    ];
}

/// `code`/`msg` of a success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessText {
    pub code: String,
    pub msg: String,
}

/// `code`/`msg`/`sub_code`/`sub_msg` of a failure; `sub_msg` may hold `{field}` and `{reason}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    pub code: String,
    pub msg: String,
    pub sub_code: String,
    pub sub_msg: String,
}

/// The dictionaries' numbers for the states the sandbox models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatus {
    pub processing: i64,
    pub completed: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditStatus {
    pub reviewing: i64,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardStatusCodes {
    pub pending: i64,
    pub active: i64,
    pub frozen: i64,
    pub lost: i64,
    pub revoked: i64,
    pub failed: i64,
}

impl CardStatusCodes {
    /// The number for a card in `status`: cards not yet usable are pending, closed ones revoked.
    pub fn code(&self, status: CardStatus) -> i64 {
        match status {
            CardStatus::Stock
            | CardStatus::Pending
            | CardStatus::Inactive
            | CardStatus::Activating => self.pending,
            CardStatus::Active => self.active,
            CardStatus::Frozen => self.frozen,
            CardStatus::Lost => self.lost,
            CardStatus::Closing | CardStatus::Closed => self.revoked,
            CardStatus::Failed => self.failed,
        }
    }

    /// The name of the dictionary entry for `status` (webhook `desc`, error texts).
    pub fn name(status: CardStatus) -> &'static str {
        match status {
            CardStatus::Stock
            | CardStatus::Pending
            | CardStatus::Inactive
            | CardStatus::Activating => "pending",
            CardStatus::Active => "active",
            CardStatus::Frozen => "frozen",
            CardStatus::Lost => "lost",
            CardStatus::Closing | CardStatus::Closed => "revoked",
            CardStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderStatus {
    pub initial: i64,
    pub enabled: i64,
    pub disabled: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyType {
    pub apply_result: i64,
    pub card_status: i64,
    pub holder_audit: i64,
    pub transaction: i64,
}

/// One merchant's Pagsmile identity.
#[derive(Clone, Debug)]
pub struct AppIdentity {
    pub tenant: usize,
    pub public_key: PublicKey,
    /// As the scenario gave it (ids, secrets, the pay account, the webhook URL).
    pub credentials: AppCredentials,
}

/// Everything the Pagsmile provider needs to know about the running scenario.
#[derive(Clone, Debug)]
pub struct Settings {
    pub success: SuccessText,
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    pub order_status: OrderStatus,
    pub audit_status: AuditStatus,
    pub card_status: CardStatusCodes,
    pub holder_status: HolderStatus,
    /// card_type number → the card's form.
    pub card_types: BTreeMap<i64, CardForm>,
    /// id_type number → the document.
    pub id_types: BTreeMap<i64, IdKind>,
    /// gender number → gender.
    pub genders: BTreeMap<i64, Gender>,
    pub notify_type: NotifyType,
    /// BIN → card-number length; `default_bin` is used when card_bin is absent.
    pub card_bins: BTreeMap<String, usize>,
    pub default_bin: String,
    /// How cardholder audits are decided (and how long they take).
    pub review: ReviewPolicy,
    pub card_production: SignedDuration,
    pub webhook_retries: Vec<SignedDuration>,
    /// Offset of the `yyyy-MM-dd HH:mm:ss` times the API writes.
    pub utc_offset: jiff::tz::Offset,
    /// Paths answering `20000` (a scenario's outage).
    pub unavailable_paths: Vec<String>,
    pub platform_private: PrivateKey,
    pub platform_public_pem: String,
    /// By app_id.
    pub apps: HashMap<String, AppIdentity>,
}

/// The number `dictionary` gives `value`, if any (the first, when several map to it).
pub fn number_of<T: PartialEq>(dictionary: &BTreeMap<i64, T>, value: &T) -> Option<i64> {
    dictionary
        .iter()
        .find_map(|(number, v)| (v == value).then_some(*number))
}

impl Settings {
    /// `at` as the API writes times.
    pub fn time(&self, at: jiff::Timestamp) -> String {
        at.to_zoned(jiff::tz::TimeZone::fixed(self.utc_offset))
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The failure's answer fields.
    pub fn error(&self, kind: ErrorKind, field: &str, reason: &str) -> ErrorText {
        let mut text = self
            .errors
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| ErrorText {
                code: "20000".to_owned(),
                msg: "Service Currently Unavailable".to_owned(),
                sub_code: format!("{kind:?}"),
                sub_msg: String::new(),
            });
        text.sub_msg = text
            .sub_msg
            .replace("{field}", field)
            .replace("{reason}", reason);
        text
    }
}
