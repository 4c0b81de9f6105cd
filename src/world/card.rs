//! Cards: number, expiry, form, status and balances, plus the statuses every issuer maps onto.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};

impl CardStatus {
    /// Whether an issuer may put a card in this status on its own initiative (closing goes
    /// through the provider's close call, production through its order).
    pub fn issuer_settable(self) -> bool {
        matches!(
            self,
            CardStatus::Active
                | CardStatus::Inactive
                | CardStatus::Frozen
                | CardStatus::Lost
                | CardStatus::Failed
        )
    }
}

/// A payment card known to a tenant's world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Card {
    pub id: String,
    /// An opaque handle some issuers expose instead of the number (a card token).
    pub token: Option<String>,
    /// The provider that manages this card (its name), or `None`
    /// for a card that only exists so lookups and verifications can find it.
    pub issuer: Option<String>,
    pub cardholder_id: Option<String>,
    pub pan: String,
    pub cvv: String,
    pub expiry: Expiry,
    pub form: CardForm,
    pub status: CardStatus,
    pub currency: Currency,
    pub available: Money,
    pub blocked: Money,
    pub created_at: Timestamp,
    /// Set by the cardholder; kept as given (test double).
    pub pin: Option<String>,
    /// A physical card's one-time activation code, and whether it was handed out yet.
    pub activation: Option<Activation>,
    /// Spending limits, when the issuer sets them.
    pub limits: Option<Box<Limits>>,
    /// The merchant's own reference for the card (a unique number it chose).
    pub merchant_ref: Option<String>,
    /// The issuer's product the card was made from (a card BIN order number, a card package).
    pub product: Option<String>,
    /// Where the money the card spends sits.
    pub funding: Funding,
}

impl Card {
    /// A card an issuer has just made: pending, empty, valid for the usual three years, with no
    /// holder, PIN, limits or references yet (set those with struct update syntax).
    pub fn ordered(
        id: String,
        issuer: &str,
        pan: String,
        cvv: String,
        currency: Currency,
        created_at: Timestamp,
    ) -> Card {
        Card {
            id,
            token: None,
            issuer: Some(issuer.to_owned()),
            cardholder_id: None,
            pan,
            cvv,
            expiry: Expiry::for_new_card(created_at),
            form: CardForm::Virtual,
            status: CardStatus::Pending,
            available: Money::zero(currency.clone()),
            blocked: Money::zero(currency.clone()),
            currency,
            created_at,
            pin: None,
            activation: None,
            limits: None,
            merchant_ref: None,
            product: None,
            funding: Funding::Own,
        }
    }
}

/// Where a card's spendable money sits.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// On the card itself (`available`): recharged, spent, refunded.
    #[default]
    Own,
    /// In the merchant's account of the card's currency, drawn at each purchase
    /// (authorization mode, where the merchant approves each one).
    MerchantAccount,
    /// In the cardholder's account of the card's currency (credit extension).
    HolderAccount,
}

/// Spending limits of a card, in its currency; days and months are the sandbox clock's (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Limits {
    /// Purchases per day.
    pub daily_transactions: u32,
    /// Largest single purchase.
    pub single_amount: Money,
    pub daily_amount: Money,
    pub monthly_amount: Money,
    /// Over the card's life (share cards).
    pub total_amount: Option<Money>,
}

/// A physical card's activation code; the state shows only whether it was handed out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Activation {
    /// Kept out of the state view; a snapshot carries it beside the card (`world::image`).
    #[serde(skip_serializing, default)]
    pub code: String,
    /// Activation codes are obtainable once (through the control API or the journal).
    pub revealed: bool,
}

/// Card expiry month.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Expiry {
    pub year: i16,
    pub month: i8,
}

impl Expiry {
    /// Whether the card can no longer be used on `today` (it is valid through its whole month).
    pub fn is_past(&self, today: Date) -> bool {
        (today.year(), today.month()) > (self.year, self.month)
    }

    /// The usual validity of a new card: the issue month, three years on (UTC).
    pub fn for_new_card(issued: jiff::Timestamp) -> Expiry {
        let date = issued.to_zoned(jiff::tz::TimeZone::UTC).date();
        Expiry {
            year: date.year() + 3,
            month: date.month(),
        }
    }

    /// `YYMM`, as many issuers print it.
    pub fn yymm(&self) -> String {
        format!("{:02}{:02}", self.year.rem_euclid(100), self.month)
    }
}

/// Virtual or physical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardForm {
    Virtual,
    Physical,
}

/// The issuer-neutral card lifecycle. Each provider maps these to its own names.
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
pub enum CardStatus {
    /// A physical card in the merchant's stock, assigned to nobody yet.
    Stock,
    /// Being produced or reviewed.
    Pending,
    /// Issued, waiting for activation.
    Inactive,
    /// Activation requested, not yet effective.
    Activating,
    Active,
    /// Temporarily blocked by the merchant or cardholder.
    Frozen,
    /// Reported lost or stolen.
    Lost,
    /// Closing requested; the balance is on its way back to the merchant.
    Closing,
    /// Closed for good.
    Closed,
    /// Issuance failed.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_inclusive_of_its_month() {
        let expiry = Expiry {
            year: 2027,
            month: 3,
        };
        assert!(!expiry.is_past(Date::constant(2027, 3, 31)));
        assert!(expiry.is_past(Date::constant(2027, 4, 1)));
        assert!(!expiry.is_past(Date::constant(2026, 12, 1)));
        assert_eq!(expiry.yymm(), "2703");
    }
}
