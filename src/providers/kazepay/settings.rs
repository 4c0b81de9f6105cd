//! KazePay behaviour as data: the endpoint path, the error catalog, status names, settle
//! delays, KYC rules and the parsed keys of the platform and each merchant.
//!
//! Defaults come from `fixtures/profiles/kazepay.yaml`; a scenario's `kazepay:` section
//! overrides any part (its `section` module resolves it).

use std::collections::{BTreeMap, HashMap};

use crate::crypto::rsa::{PrivateKey, PublicKey};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::envelope::Profile;
use super::section::System;
use crate::world::CardStatus;
use crate::world::review::ReviewPolicy;

/// Every failure the sandbox can answer, by meaning; the catalog gives each its wire code.
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
    MalformedEnvelope,
    UnknownSysId,
    DecryptFailed,
    BadSignature,
    UnknownApiCode,
    MalformedBody,
    InvalidField,
    UserNotFound,
    CardNotFound,
    CardUnavailable,
    FileNotFound,
    FileType,
    KycNotPassed,
    KycInProgress,
    InvalidState,
    ActivationCode,
    InsufficientBalance,
    DuplicateRequest,
    SystemBusy,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 19] = [
        ErrorKind::MalformedEnvelope,
        ErrorKind::UnknownSysId,
        ErrorKind::DecryptFailed,
        ErrorKind::BadSignature,
        ErrorKind::UnknownApiCode,
        ErrorKind::MalformedBody,
        ErrorKind::InvalidField,
        ErrorKind::UserNotFound,
        ErrorKind::CardNotFound,
        ErrorKind::CardUnavailable,
        ErrorKind::FileNotFound,
        ErrorKind::FileType,
        ErrorKind::KycNotPassed,
        ErrorKind::KycInProgress,
        ErrorKind::InvalidState,
        ErrorKind::ActivationCode,
        ErrorKind::InsufficientBalance,
        ErrorKind::DuplicateRequest,
        ErrorKind::SystemBusy,
    ];

    /// Failures raised before the sandbox can trust the caller are answered in clear.
    pub fn in_clear(self) -> bool {
        matches!(
            self,
            ErrorKind::MalformedEnvelope
                | ErrorKind::UnknownSysId
                | ErrorKind::DecryptFailed
                | ErrorKind::BadSignature
        )
    }
}

/// `head.code` and the `head.detail` template of one failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    pub code: String,
    /// May contain `{field}` and `{reason}`.
    pub detail: String,
}

/// Settle delays on the sandbox clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Delays {
    pub kyc_review: SignedDuration,
    pub activation: SignedDuration,
    pub close: SignedDuration,
    pub recharge: SignedDuration,
    pub virtual_card_review: SignedDuration,
}

/// The billing address queryCard reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Billing {
    pub country_code: String,
    pub state: String,
    pub city: String,
    pub address: String,
    pub zip_code: String,
}

/// One merchant's KazePay identity.
#[derive(Clone, Debug)]
pub struct SysIdentity {
    pub tenant: usize,
    pub public_key: PublicKey,
    pub profile: Profile,
    /// As the scenario gave it (for `GET /__admin/credentials` and merchant clients).
    pub system: System,
}

/// Everything the KazePay provider needs to know about the running scenario.
#[derive(Clone, Debug)]
pub struct Settings {
    pub path: String,
    pub errors: BTreeMap<ErrorKind, ErrorText>,
    pub card_statuses: BTreeMap<CardStatus, String>,
    pub delays: Delays,
    /// How KYC submissions are decided.
    pub review: ReviewPolicy,
    pub webhook_retries: Vec<SignedDuration>,
    /// BIN → card-number length, for createCard.
    pub virtual_card_bins: BTreeMap<String, usize>,
    pub billing: Billing,
    /// Offset of the times KazePay prints and parses.
    pub utc_offset: jiff::tz::Offset,
    /// apiCodes that answer SYSTEM_BUSY.
    pub busy_api_codes: Vec<String>,
    pub platform_private: PrivateKey,
    pub platform_public: PublicKey,
    pub platform_public_pem: String,
    /// By sysId.
    pub merchants: HashMap<String, SysIdentity>,
}

impl Settings {
    /// Wire code and filled-in detail of a failure.
    pub fn error(&self, kind: ErrorKind, field: &str, reason: &str) -> (String, String) {
        match self.errors.get(&kind) {
            Some(text) => (
                text.code.clone(),
                text.detail
                    .replace("{field}", field)
                    .replace("{reason}", reason),
            ),
            None => ("SYSTEM_ERROR".to_owned(), format!("{kind:?}")),
        }
    }

    /// The wire name of a card status.
    pub fn card_status(&self, status: CardStatus) -> String {
        self.card_statuses
            .get(&status)
            .cloned()
            .unwrap_or_else(|| format!("{status:?}").to_uppercase())
    }
}
