//! The scenario file as written: serde structs that mirror the YAML, nothing resolved yet.
//!
//! Every struct denies unknown keys. Values that need checks beyond their type (ids, references,
//! amounts, card numbers) are wrapped in [`Spanned`] so a later error can point at them.
//! `schema`-style documentation of each key lives in `docs/scenarios.md`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::credentials::IntegrationMode;
use crate::crypto::rsa::SignatureHash;
use crate::providers::acedata::settings::{
    Endpoint, GatewayError, GatewayErrorText, Language, ResultText, Situation,
};
use crate::providers::kazepay::envelope::KeyWrap;
use crate::providers::kazepay::settings::{
    ErrorKind as KazePayError, ErrorText as KazePayErrorText,
};
use crate::providers::keysecure::settings::{
    AuthFallback, ErrorKind as KeySecureError, ErrorText as KeySecureErrorText,
    Message as KeySecureMessage,
};
use crate::providers::pagsmile::settings::{
    AuditStatus, CardStatusCodes, ErrorKind as PagsmileError, ErrorText as PagsmileErrorText,
    HolderStatus, NotifyType, OrderStatus, SuccessText,
};
use crate::world::bins::{CardKind, Scheme};
use crate::world::{CardForm, CardStatus, Gender, IdKind, KycStatus};

/// The whole file.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Seed of every random business value. Default 0.
    #[serde(default)]
    pub seed: u64,
    pub clock: Option<ClockSection>,
    /// Banks added to (or replacing) the built-in bank list.
    #[serde(default)]
    #[schemars(with = "Vec<BankSection>")]
    pub banks: Vec<Spanned<BankSection>>,
    /// BIN ranges added to (or replacing) the built-in BIN table.
    #[serde(default)]
    #[schemars(with = "Vec<BinSection>")]
    pub bins: Vec<Spanned<BinSection>>,
    pub platform_keys: Option<PlatformKeysSection>,
    #[schemars(with = "Option<AceDataSection>")]
    pub acedata: Option<Spanned<AceDataSection>>,
    #[schemars(with = "Option<KazePayProfileSection>")]
    pub kazepay: Option<Spanned<KazePayProfileSection>>,
    #[schemars(with = "Option<PagsmileProfileSection>")]
    pub pagsmile: Option<Spanned<PagsmileProfileSection>>,
    #[schemars(with = "Option<KeySecureProfileSection>")]
    pub keysecure: Option<Spanned<KeySecureProfileSection>>,
    /// Failure injection rules (docs/scenarios.md).
    #[serde(default)]
    #[schemars(with = "Vec<crate::faults::spec::FaultSpec>")]
    pub faults: Vec<Spanned<crate::faults::spec::FaultSpec>>,
    /// Fixed exchange rates, `"EUR/USD": "1.0850"` (units of USD per EUR).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub fx: BTreeMap<String, Spanned<String>>,
    /// Magic values: amounts that decline, names that fail KYC.
    #[serde(default)]
    pub magic: MagicSection,
    /// Steps for `issuer-sandbox test` (docs/scenarios.md).
    #[serde(default)]
    #[schemars(with = "Vec<crate::runner::step::Step>")]
    pub steps: Vec<Spanned<crate::runner::step::Step>>,
    #[schemars(with = "Vec<MerchantSection>")]
    pub merchants: Spanned<Vec<MerchantSection>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSection {
    /// RFC 3339 instant; default: the real time when the scenario is loaded or reset.
    pub start: Option<Timestamp>,
    /// Stand still until advanced through the control API. Default false.
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankSection {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub country: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BinSection {
    pub bin: String,
    pub length: usize,
    pub kind: CardKind,
    pub bank: String,
    pub scheme: Scheme,
}

/// Key references: an inline PEM, `builtin:NAME` (a key under `fixtures/keys/`), or a path
/// relative to the scenario file.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformKeysSection {
    pub kazepay: Option<KeyPairSection>,
    pub pagsmile: Option<KeyPairSection>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPairSection {
    #[schemars(with = "String")]
    pub private_key: Spanned<String>,
    #[schemars(with = "String")]
    pub public_key: Spanned<String>,
}

/// Overrides of `fixtures/profiles/acedata.yaml` plus pinned answers. The profile file itself
/// is read with this same struct.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AceDataSection {
    pub language: Option<Language>,
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

#[derive(Clone, Copy, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSection {
    /// Average requests per second; 0 means unlimited.
    pub per_second: u32,
    /// Largest burst; default `per_second`.
    pub burst: Option<u32>,
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantSection {
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub credentials: CredentialsSection,
    #[serde(default)]
    pub accounts: Vec<AccountSection>,
    #[serde(default)]
    pub cardholders: Vec<CardholderSection>,
    #[serde(default)]
    pub cards: Vec<CardSection>,
    #[schemars(with = "Option<GenerateSection>")]
    pub generate: Option<Spanned<GenerateSection>>,
    /// Issuer-side events on the sandbox clock.
    #[serde(default)]
    #[schemars(with = "Vec<TimelineEventSection>")]
    pub timeline: Vec<Spanned<TimelineEventSection>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    #[serde(default)]
    pub acedata: Vec<AceDataTokenSection>,
    pub keysecure: Option<KeySecureSection>,
    pub pagsmile: Option<PagsmileSection>,
    pub kazepay: Option<KazePaySection>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AceDataTokenSection {
    #[schemars(with = "String")]
    pub token: Spanned<String>,
    /// This token's limit; default the profile's.
    pub rate_limit: Option<RateLimitSection>,
    /// Endpoints the token may call; default all. Others answer `token_mismatched`.
    pub apis: Option<Vec<Endpoint>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySecureSection {
    #[schemars(with = "String")]
    pub api_key: Spanned<String>,
    #[schemars(with = "String")]
    pub api_secret: Spanned<String>,
    /// `AUTHORIZATION` (default) or `CREDIT_EXTENSION`.
    pub mode: Option<IntegrationMode>,
    /// Default true; false answers 1010.
    pub enabled: Option<bool>,
    /// RFC 3339; from then on the key answers 1011.
    pub expires_at: Option<Timestamp>,
    /// Default loopback (`127.0.0.1`, `::1`); `*` allows any caller.
    #[schemars(with = "Option<Vec<String>>")]
    pub ip_whitelist: Option<Vec<Spanned<String>>>,
    /// Default true; false answers 1013 to private info.
    pub pci_enabled: Option<bool>,
    #[schemars(with = "Option<String>")]
    pub callback_url: Option<Spanned<String>>,
    /// Default the profile's.
    pub rate_limit: Option<RateLimitSection>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagsmileSection {
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
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KazePaySection {
    #[schemars(with = "String")]
    pub sys_id: Spanned<String>,
    #[schemars(with = "String")]
    pub merchant_public_key: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub merchant_private_key: Option<Spanned<String>>,
    /// Hash of the signatures the platform makes for this merchant (SHA-256 or SHA-1);
    /// requests may use either.
    pub sign_hash: Option<SignatureHash>,
    /// How the platform wraps response keys for this merchant (`raw` or `base64`).
    pub key_wrap: Option<KeyWrap>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    #[schemars(with = "String")]
    pub currency: Spanned<String>,
    #[schemars(with = "String")]
    pub balance: Spanned<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardholderSection {
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    pub first_name: String,
    pub last_name: String,
    #[schemars(with = "Option<String>")]
    pub email: Option<Spanned<String>>,
    pub phone: Option<PhoneSection>,
    pub id_document: Option<IdDocumentSection>,
    pub birthday: Option<Date>,
    pub gender: Option<Gender>,
    #[schemars(with = "Option<String>")]
    pub nationality: Option<Spanned<String>>,
    pub address: Option<AddressSection>,
    /// Default `passed`.
    pub kyc: Option<KycStatus>,
    pub kyc_reason: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneSection {
    /// International calling code, digits only (`86`).
    #[schemars(with = "String")]
    pub country_code: Spanned<String>,
    #[schemars(with = "String")]
    pub number: Spanned<String>,
    /// ISO 3166 alpha-2 country of the number (`CN`), for issuers that ask for it.
    #[schemars(with = "Option<String>")]
    pub country: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdDocumentSection {
    #[serde(rename = "type")]
    pub kind: IdKind,
    pub number: String,
    pub issued_on: Option<Date>,
    #[schemars(with = "Option<Date>")]
    pub expires_on: Option<Spanned<Date>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressSection {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    #[schemars(with = "String")]
    pub country: Spanned<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardSection {
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Id of a cardholder of the same merchant.
    #[schemars(with = "Option<String>")]
    pub cardholder: Option<Spanned<String>>,
    /// Provider API that manages the card (`kazepay`, `pagsmile`, `keysecure`).
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// Full card number (Luhn-checked), or leave it out and give `bin`.
    #[schemars(with = "Option<String>")]
    pub pan: Option<Spanned<String>>,
    /// Generate a PAN on this BIN (it must be in the BIN table, or give `length`).
    #[schemars(with = "Option<String>")]
    pub bin: Option<Spanned<String>>,
    pub length: Option<usize>,
    #[schemars(with = "Option<String>")]
    pub cvv: Option<Spanned<String>>,
    /// `YYYY-MM`; default three years after the clock start.
    #[schemars(with = "Option<String>")]
    pub expiry: Option<Spanned<String>>,
    /// Default `virtual`.
    pub form: Option<CardForm>,
    /// Default `active`.
    pub status: Option<CardStatus>,
    /// Default `USD`.
    #[schemars(with = "Option<String>")]
    pub currency: Option<Spanned<String>>,
    /// Available balance; default 0.
    #[schemars(with = "Option<String>")]
    pub balance: Option<Spanned<String>>,
    /// Held by pending authorisations; default 0.
    #[schemars(with = "Option<String>")]
    pub blocked: Option<Spanned<String>>,
    /// The token a provider knows the card by (Pagsmile's `card_token`); default the id.
    #[schemars(with = "Option<String>")]
    pub token: Option<Spanned<String>>,
    /// Spending limits, in the card's currency.
    pub limits: Option<LimitsSection>,
}

/// A card's spending limits: all four, and a total if wanted.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub daily_transactions: u32,
    #[schemars(with = "String")]
    pub single_amount: Spanned<String>,
    #[schemars(with = "String")]
    pub daily_amount: Spanned<String>,
    #[schemars(with = "String")]
    pub monthly_amount: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub total_amount: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateSection {
    /// How many fake cardholders to create.
    pub cardholders: usize,
    /// `zh_CN` (default) or `en`.
    #[schemars(with = "Option<String>")]
    pub locale: Option<Spanned<String>>,
    /// Cards per generated cardholder; default 1.
    pub cards_per_cardholder: Option<usize>,
    /// BINs to draw generated cards from; default a few major Chinese debit BINs.
    #[schemars(with = "Option<Vec<String>>")]
    pub bins: Option<Vec<Spanned<String>>>,
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub currency: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub balance: Option<Spanned<String>>,
    pub form: Option<CardForm>,
}

/// Overrides of `fixtures/profiles/kazepay.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KazePayProfileSection {
    /// The endpoint every apiCode is POSTed to.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub errors: BTreeMap<KazePayError, KazePayErrorText>,
    #[serde(default)]
    pub card_statuses: BTreeMap<CardStatus, String>,
    #[serde(default)]
    pub delays: KazePayDelaysSection,
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
}

/// The billing address queryCard reports, field names as on the wire.
#[derive(Clone, Debug, Deserialize, serde::Serialize, schemars::JsonSchema)]
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
#[serde(deny_unknown_fields)]
pub struct KazePayDelaysSection {
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

/// Overrides of `fixtures/profiles/pagsmile.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagsmileProfileSection {
    pub success: Option<SuccessText>,
    #[serde(default)]
    pub errors: BTreeMap<PagsmileError, PagsmileErrorText>,
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
    pub delays: PagsmileDelaysSection,
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
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagsmileDelaysSection {
    #[schemars(with = "Option<String>")]
    pub holder_audit: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub card_production: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditDecision {
    Approved,
    Rejected,
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

/// Overrides of `fixtures/profiles/keysecure.yaml`; the profile file is read with this struct too.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySecureProfileSection {
    pub success: Option<KeySecureMessage>,
    #[serde(default)]
    pub errors: BTreeMap<KeySecureError, KeySecureErrorText>,
    #[schemars(with = "Option<String>")]
    pub token_lifetime: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub timestamp_tolerance: Option<Spanned<String>>,
    /// Per Api-Key; a key's own `rate_limit` overrides it.
    pub rate_limit: Option<RateLimitSection>,
    /// The `Timezone` header's default, e.g. `+08:00`.
    #[schemars(with = "Option<String>")]
    pub timezone: Option<Spanned<String>>,
    #[serde(default)]
    pub delays: KeySecureDelaysSection,
    pub review_default: Option<ReviewDecision>,
    #[serde(default)]
    #[schemars(with = "Vec<ReviewRuleSection>")]
    pub review_rules: Vec<Spanned<ReviewRuleSection>>,
    /// Globs on card_unique_no: those cards' production fails.
    pub failing_cards: Option<Vec<String>>,
    pub auth: Option<AuthSection>,
    #[schemars(with = "Option<Vec<String>>")]
    pub callback_retries: Option<Vec<Spanned<String>>>,
    pub card_bins: Option<Vec<CardBinSection>>,
    pub packages: Option<Vec<PackageSection>>,
    /// Paths that answer 1001 (system error).
    #[serde(default)]
    pub unavailable_paths: Vec<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySecureDelaysSection {
    #[schemars(with = "Option<String>")]
    pub cardholder_review: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub card_production: Option<Spanned<String>>,
}

/// A KeySecure review's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Success,
    Fail,
}

/// Decides cardholder reviews whose unique number and KYC token match every glob given.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRuleSection {
    pub unique_no: Option<String>,
    pub token: Option<String>,
    pub decision: ReviewDecision,
    pub reason: Option<String>,
    #[schemars(with = "Option<String>")]
    pub after: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
    pub fallback: Option<AuthFallback>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardBinSection {
    pub card_bin_no: String,
    #[schemars(with = "String")]
    pub card_bin: Spanned<String>,
    pub organization: String,
    pub support_physical: bool,
    pub support_virtual: bool,
    pub currencies: Vec<String>,
    pub length: usize,
    pub balance_limit: serde_json::Value,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageSection {
    pub package_no: String,
    pub package_name_en: String,
    pub package_name_cn: String,
    #[schemars(with = "String")]
    pub card_bin: Spanned<String>,
    pub organization: String,
    pub card_types: Vec<String>,
    #[schemars(with = "String")]
    pub currency: Spanned<String>,
    pub length: usize,
    pub fee_detail: serde_json::Value,
}

/// Magic values, the Stripe test-card idea for these providers.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MagicSection {
    /// Purchases whose amount (text in the card's currency) matches decline.
    #[serde(default)]
    pub declines: Vec<MagicDeclineSection>,
    /// Cardholders whose name matches get this KYC / audit / review outcome, in every provider.
    #[serde(default)]
    pub kyc: Vec<MagicKycSection>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MagicDeclineSection {
    /// Glob, e.g. `*.51`.
    pub amount: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MagicKycSection {
    /// Glob on "first_name last_name" (KeySecure, which knows no names: on
    /// cardholder_unique_no).
    pub name: String,
    pub decision: KycStatus,
    pub reason: Option<String>,
}

/// One issuer-side event: when (`at`, or `after` the clock start) and exactly one action.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEventSection {
    pub at: Option<Timestamp>,
    #[schemars(with = "Option<String>")]
    pub after: Option<Spanned<String>>,
    /// A label for a transaction, so a later clearing or reversal can name it.
    pub id: Option<String>,
    pub transaction: Option<TimelineTransactionSection>,
    pub card_status: Option<TimelineCardStatusSection>,
    pub kyc: Option<TimelineKycSection>,
    pub settle_recharges: Option<TimelineCardSection>,
    pub complete_production: Option<TimelineCardSection>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineTransactionSection {
    #[schemars(with = "String")]
    pub card: Spanned<String>,
    pub kind: crate::world::ledger::TransactionKind,
    /// Decimal text in `currency` (default the card's; others convert with `fx`).
    #[schemars(with = "String")]
    pub amount: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub currency: Option<Spanned<String>>,
    /// In the card's currency; default 0.
    #[schemars(with = "Option<String>")]
    pub fee: Option<Spanned<String>>,
    pub merchant_name: Option<String>,
    pub mcc: Option<String>,
    /// The label (`id`) of an earlier authorization, for a clearing or reversal.
    pub authorization: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineCardStatusSection {
    pub card: String,
    pub status: CardStatus,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineKycSection {
    pub cardholder: String,
    pub decision: KycStatus,
    pub reason: Option<String>,
    #[serde(default)]
    pub codes: Vec<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineCardSection {
    pub card: String,
}
