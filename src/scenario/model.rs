//! The scenario file as written: serde structs that mirror the YAML, nothing resolved yet.
//!
//! Every struct denies unknown keys. Values that need checks beyond their type (ids, references,
//! amounts, card numbers) are wrapped in [`Spanned`] so a later error can point at them.
//! `schema`-style documentation of each key lives in `docs/scenarios.md`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

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
    /// The key pairs a provider plays the platform with, by provider: an inline PEM,
    /// `builtin:NAME` (a test-only key), or a path relative to the scenario file.
    #[serde(default)]
    pub platform_keys: ByProvider<KeyPairSection>,
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
    /// CAs (inline PEM or a path relative to the file) that webhooks and callbacks to
    /// `https://` receivers trust, besides the system's roots and the sandbox CA.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub webhook_ca: Vec<Spanned<String>>,
    /// Steps for `issuer-sandbox test` (docs/scenarios.md).
    #[serde(default)]
    #[schemars(with = "Vec<super::steps::Step>")]
    pub steps: Vec<Spanned<super::steps::Step>>,
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

/// A map keyed by provider name, each key with its place in the file (the providers that may
/// be named are known only when the scenario is built). Each provider reads its own value of a
/// merchant's `credentials`: the core model keeps only the names there.
#[derive(Debug)]
pub struct ByProvider<T> {
    pub entries: Vec<(Spanned<String>, T)>,
}

impl<T> Default for ByProvider<T> {
    fn default() -> Self {
        ByProvider {
            entries: Vec::new(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ByProvider<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = ByProvider<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from provider names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(ByProvider { entries })
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ByProvider::default())
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

impl<T> schemars::JsonSchema for ByProvider<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByProvider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The providers' own schemas are filled in by `json_schema()`.
        schemars::json_schema!({ "type": "object" })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPairSection {
    #[schemars(with = "String")]
    pub private_key: Spanned<String>,
    #[schemars(with = "String")]
    pub public_key: Spanned<String>,
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
pub struct MerchantSection {
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    pub name: Option<String>,
    /// Per provider, as each provider's page documents.
    #[serde(default)]
    pub credentials: ByProvider<IgnoredAny>,
    /// Whether webhooks to this merchant's `https://` receivers check their certificates
    /// (default true); false accepts any certificate, and every attempt says so.
    pub webhook_tls_verify: Option<bool>,
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
    /// The provider that registered the person (only its API sees them); none: a person every
    /// provider may serve. A provider's person is kept as that provider recorded them, so the
    /// file's checks of names, email and phone apply only to people without one.
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// The merchant's own reference for the person (KeySecure's `cardholder_unique_no`).
    pub merchant_ref: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
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
    /// Machine-readable reasons of a rejection, for providers that send codes.
    #[serde(default)]
    pub kyc_codes: Vec<String>,
    /// The person's own accounts (credit extension), one per currency.
    #[serde(default)]
    pub accounts: Vec<AccountSection>,
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
    /// The provider that manages the card (one whose cards live in the world).
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
    /// The token a provider knows the card by (an opaque card token); default the id.
    #[schemars(with = "Option<String>")]
    pub token: Option<Spanned<String>>,
    /// Spending limits, in the card's currency.
    pub limits: Option<LimitsSection>,
    /// The merchant's own reference for the card (KeySecure's `card_unique_no`).
    pub merchant_ref: Option<String>,
    /// The issuer's product the card was made from (a KeySecure card BIN or package number).
    pub product: Option<String>,
    /// The PIN the cardholder set, 4–12 digits.
    #[schemars(with = "Option<String>")]
    pub pin: Option<Spanned<String>>,
    /// A physical card's one-time activation code, waiting to be used.
    pub activation: Option<ActivationSection>,
}

/// A physical card's activation code and whether it was handed out yet.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationSection {
    /// 1–32 letters or digits.
    #[schemars(with = "String")]
    pub code: Spanned<String>,
    /// Codes are obtainable once (control API); default false.
    #[serde(default)]
    pub revealed: bool,
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
    /// Glob on "first_name last_name" (where a provider knows no names: on the merchant's own
    /// reference for the person).
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
