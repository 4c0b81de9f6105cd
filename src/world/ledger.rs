//! Money movements: card transactions and transfers between the merchant's account and its
//! cards, with the bookkeeping that proves no operation creates or loses money.
//!
//! Every movement goes through [`World`] methods here. Money inside a tenant lives in three
//! places: merchant accounts, card balances (available + blocked), and recharges in flight.
//! Only *external* flows (a purchase leaving for a shop, a refund arriving) change the total,
//! and each is recorded, so `total − external == initial` always holds.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::money::{Currency, Money, MoneyError};
use super::{CardStatus, Funding, World};

/// What a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// Merchant account → card.
    Recharge,
    /// A purchase hold: available → blocked.
    Authorization,
    /// A hold (or a direct purchase) settles: the money leaves for the shop.
    Clearing,
    /// A hold is released: blocked → available.
    Reversal,
    /// A shop gives money back to the card.
    Refund,
    /// Closing a card: its balance goes back to the merchant account.
    CloseRefund,
    /// Part of a card's balance goes back to the merchant account (a recharge returned).
    Return,
}

impl TransactionKind {
    /// Why a card network could not send a posting of this kind (that does or does not name an
    /// earlier authorization), if it could not.
    pub fn network_problem(self, names_authorization: bool) -> Option<&'static str> {
        match (self, names_authorization) {
            (Self::Recharge | Self::CloseRefund | Self::Return, _) => Some(
                "the card network sends authorization, clearing, reversal or refund; this kind \
                 comes from the provider's own calls",
            ),
            (Self::Authorization, true) => {
                Some("an authorization is new: it names no earlier authorization")
            }
            (Self::Reversal, false) => Some("a reversal names the authorization it releases"),
            _ => None,
        }
    }
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Pending,
    Success,
    Failed,
    /// An authorization whose hold was released.
    Reversed,
}

/// One card transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Transaction {
    pub id: String,
    pub card_id: String,
    pub kind: TransactionKind,
    pub status: TransactionStatus,
    /// In the card's currency; negative when money leaves the card.
    pub amount: Money,
    /// In the currency the shop charged, when it differs.
    pub original_amount: Option<Money>,
    /// Charged to the card on top of `amount` (negative or zero).
    pub fee: Money,
    pub merchant_name: Option<String>,
    pub mcc: Option<String>,
    /// The authorization a clearing or reversal refers to.
    pub authorization_id: Option<String>,
    /// Why a failed transaction failed.
    pub decline_reason: Option<String>,
    pub created_at: Timestamp,
    pub settled_at: Option<Timestamp>,
}

/// Spending counted against a card's limits, in minor units of its currency.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Usage {
    pub daily_transactions: u32,
    pub daily_amount: i64,
    pub monthly_amount: i64,
    pub total_amount: i64,
}

impl Transaction {
    /// A purchase that counts against limits: an authorization not released, or a direct
    /// clearing (a clearing of an authorization is the same purchase).
    fn is_purchase(&self) -> bool {
        match self.kind {
            TransactionKind::Authorization => {
                matches!(
                    self.status,
                    TransactionStatus::Pending | TransactionStatus::Success
                )
            }
            TransactionKind::Clearing => {
                self.authorization_id.is_none() && self.status == TransactionStatus::Success
            }
            _ => false,
        }
    }

    /// A pending transfer between the merchant account and a card.
    fn transfer(
        id: &str,
        card_id: &str,
        kind: TransactionKind,
        amount: Money,
        at: Timestamp,
    ) -> Transaction {
        Transaction {
            id: id.to_owned(),
            card_id: card_id.to_owned(),
            kind,
            status: TransactionStatus::Pending,
            fee: Money::zero(amount.currency().clone()),
            amount,
            original_amount: None,
            merchant_name: None,
            mcc: None,
            authorization_id: None,
            decline_reason: None,
            created_at: at,
            settled_at: None,
        }
    }

    /// The money a transfer carries between account and card: a recharge's amount, a close
    /// refund's amount seen from the card (negative) turned around.
    fn in_flight(&self) -> Money {
        match self.kind {
            TransactionKind::CloseRefund => neg(&self.amount),
            _ => self.amount.clone(),
        }
    }

    /// A recharge or close refund whose money has left one side and not reached the other.
    pub fn is_transfer_in_flight(&self) -> bool {
        self.status == TransactionStatus::Pending
            && matches!(
                self.kind,
                TransactionKind::Recharge | TransactionKind::CloseRefund
            )
    }
}

/// What an open authorization holds.
struct Hold {
    amount: Money,
    total: Money,
}

/// Why a money movement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("no card {0}")]
    UnknownCard(String),
    #[error("no transaction {0}")]
    UnknownTransaction(String),
    #[error("the card is {0:?}")]
    CardStatus(CardStatus),
    #[error("the merchant account holds {available}, {needed} needed")]
    InsufficientAccount { available: String, needed: String },
    #[error("the card holds {available}, {needed} needed")]
    InsufficientCard { available: String, needed: String },
    #[error("the amount must be positive")]
    NotPositive,
    #[error("transaction {0} cannot be settled or reversed in its state")]
    NotPending(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A card transaction posted from outside (the issuer's side), before it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Posting {
    pub card_id: String,
    pub kind: TransactionKind,
    /// Positive, in the card's currency.
    pub amount: Money,
    pub original_amount: Option<Money>,
    /// Positive or zero, in the card's currency.
    pub fee: Money,
    pub merchant_name: Option<String>,
    pub mcc: Option<String>,
    /// For clearings and reversals of an earlier authorization.
    pub authorization_id: Option<String>,
    /// The id to record it under, when it was drawn beforehand (to show it to the merchant's
    /// authorization callback); otherwise one is drawn.
    pub id: Option<String>,
    /// Why the merchant declined it (its authorization callback), before any issuer check.
    pub declined_by_merchant: Option<String>,
}

impl World {
    /// The merchant account in `currency`, zero if it has none.
    pub fn account(&self, currency: &Currency) -> Money {
        self.accounts
            .get(currency)
            .cloned()
            .unwrap_or_else(|| Money::zero(currency.clone()))
    }

    /// All money of `currency` inside the tenant: accounts, cards and recharges in flight.
    pub fn total(&self, currency: &Currency) -> Money {
        let mut total = self.account(currency).minor();
        for card in self.cards.iter().filter(|c| &c.currency == currency) {
            total += card.available.minor() + card.blocked.minor();
        }
        for accounts in self.holder_accounts.values() {
            total += accounts.get(currency).map_or(0, Money::minor);
        }
        for tx in self
            .transactions
            .iter()
            .filter(|t| t.is_transfer_in_flight() && t.amount.currency() == currency)
        {
            total += tx.in_flight().minor();
        }
        Money::from_minor(total, currency.clone())
    }

    /// Net money that came in (positive) or went out (negative) through external flows.
    pub fn external_flows(&self) -> &BTreeMap<Currency, Money> {
        &self.external
    }

    /// All transactions, oldest first.
    pub fn transactions(&self) -> &super::transactions::Transactions {
        &self.transactions
    }

    /// Starts a recharge: the merchant account is debited now, the card credited when
    /// [`World::settle_transfer`] runs. Returns the pending transaction's id.
    pub fn start_recharge(&mut self, card_id: &str, amount: &Money) -> Result<String, LedgerError> {
        if !amount.is_positive() {
            return Err(LedgerError::NotPositive);
        }
        let card = self
            .cards
            .get(card_id)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))?;
        if !matches!(
            card.status,
            CardStatus::Pending
                | CardStatus::Active
                | CardStatus::Frozen
                | CardStatus::Inactive
                | CardStatus::Activating
        ) {
            return Err(LedgerError::CardStatus(card.status));
        }
        let account = self.account(amount.currency());
        let remaining = account.checked_sub(amount)?;
        if remaining.is_negative() {
            return Err(LedgerError::InsufficientAccount {
                available: account.to_string(),
                needed: amount.to_string(),
            });
        }
        self.accounts.insert(amount.currency().clone(), remaining);
        let id = self.next_id("TXN");
        let now = self.now();
        self.transactions.push(Transaction::transfer(
            &id,
            card_id,
            TransactionKind::Recharge,
            amount.clone(),
            now,
        ));
        Ok(id)
    }

    /// Completes a transfer in flight: a recharge reaches its card, a close refund the
    /// merchant account.
    pub fn settle_transfer(
        &mut self,
        transaction_id: &str,
        at: Timestamp,
    ) -> Result<(), LedgerError> {
        let index = self.transaction_index(transaction_id)?;
        let tx = &self.transactions[index];
        if !tx.is_transfer_in_flight() {
            return Err(LedgerError::NotPending(transaction_id.to_owned()));
        }
        let amount = tx.in_flight();
        if tx.kind == TransactionKind::Recharge {
            let card_id = tx.card_id.clone();
            let mut card = self
                .cards
                .get_mut(&card_id)
                .ok_or(LedgerError::UnknownCard(card_id))?;
            card.available = card.available.checked_add(&amount)?;
        } else {
            let account = self.account(amount.currency()).checked_add(&amount)?;
            self.accounts.insert(amount.currency().clone(), account);
        }
        if let Some(tx) = self.transactions.get_mut(index) {
            tx.status = TransactionStatus::Success;
            tx.settled_at = Some(at);
        }
        Ok(())
    }

    /// Moves `amount` of a card's available balance back to the merchant account at once.
    pub fn return_to_merchant(
        &mut self,
        card_id: &str,
        amount: &Money,
    ) -> Result<String, LedgerError> {
        if !amount.is_positive() {
            return Err(LedgerError::NotPositive);
        }
        let card = self
            .cards
            .get(card_id)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))?;
        if card.available.minor() < amount.minor() {
            return Err(LedgerError::InsufficientCard {
                available: card.available.to_string(),
                needed: amount.to_string(),
            });
        }
        let remaining = card.available.checked_sub(amount)?;
        let account = self.account(amount.currency()).checked_add(amount)?;
        // Ids are drawn once nothing can refuse: a refused movement shifts no later id.
        let (now, id) = (self.now(), self.next_id("TXN"));
        if let Some(mut card) = self.cards.get_mut(card_id) {
            card.available = remaining;
        }
        self.accounts.insert(amount.currency().clone(), account);
        let mut tx = Transaction::transfer(&id, card_id, TransactionKind::Return, neg(amount), now);
        tx.status = TransactionStatus::Success;
        tx.settled_at = Some(now);
        self.transactions.push(tx);
        Ok(id)
    }

    /// Starts closing a card's balance back to the merchant: the whole available balance
    /// leaves the card now and reaches the account when [`World::settle_transfer`] runs.
    /// Returns the transaction id and the amount.
    pub fn start_close_refund(&mut self, card_id: &str) -> Result<(String, Money), LedgerError> {
        let card = self
            .cards
            .get(card_id)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))?;
        if card.available.is_negative() {
            return Err(LedgerError::InsufficientCard {
                available: card.available.to_string(),
                needed: "0".to_owned(),
            });
        }
        let (now, id) = (self.now(), self.next_id("TXN"));
        let Some(mut card) = self.cards.get_mut(card_id) else {
            return Err(LedgerError::UnknownCard(card_id.to_owned()));
        };
        let zero = Money::zero(card.currency.clone());
        let amount = std::mem::replace(&mut card.available, zero);
        drop(card);
        self.transactions.push(Transaction::transfer(
            &id,
            card_id,
            TransactionKind::CloseRefund,
            neg(&amount),
            now,
        ));
        Ok((id, amount))
    }

    /// What posting `posting` would do, changing nothing: refused (`Err`), declined
    /// (`Ok(Some(reason))`) or accepted (`Ok(None)`). The merchant's own decline is left out:
    /// it is asked only about postings the issuer accepts.
    pub fn assess_posting(&self, posting: &Posting) -> Result<Option<String>, LedgerError> {
        let mut without_merchant = posting.clone();
        without_merchant.declined_by_merchant = None;
        self.assess(&without_merchant).map(|(_, decline)| decline)
    }

    /// The debit and the decline of a posting, or why it cannot be posted at all.
    fn assess(&self, posting: &Posting) -> Result<(Money, Option<String>), LedgerError> {
        let card = self
            .cards
            .get(&posting.card_id)
            .ok_or_else(|| LedgerError::UnknownCard(posting.card_id.clone()))?;
        if !posting.amount.is_positive() || posting.fee.is_negative() {
            return Err(LedgerError::NotPositive);
        }
        if posting.amount.currency() != &card.currency || posting.fee.currency() != &card.currency {
            return Err(MoneyError::CurrencyMismatch(
                posting.amount.currency().to_string(),
                card.currency.to_string(),
            )
            .into());
        }
        let debit = posting.amount.checked_add(&posting.fee)?;
        let decline = match posting.kind {
            TransactionKind::Authorization | TransactionKind::Clearing
                if posting.authorization_id.is_none() =>
            {
                if card.status != CardStatus::Active {
                    Some(format!("card {:?}", card.status).to_lowercase())
                } else if let Some(reason) = self.rules.magic_decline(&posting.amount) {
                    Some(reason)
                } else if self.spendable(card).minor() < debit.minor() {
                    Some("insufficient funds".to_owned())
                } else {
                    // The merchant answers last, about a purchase the issuer would allow.
                    self.limit_breach(card, &posting.amount)
                        .or_else(|| posting.declined_by_merchant.clone())
                }
            }
            TransactionKind::Clearing | TransactionKind::Reversal => {
                let held = self.check_open_authorization(
                    posting.authorization_id.as_deref(),
                    &posting.card_id,
                )?;
                if posting.kind == TransactionKind::Reversal
                    && (posting.amount != held.amount || posting.fee.is_positive())
                {
                    return Err(LedgerError::Refused(format!(
                        "a reversal releases its whole authorization: amount {} and no fee",
                        held.amount
                    )));
                }
                let spendable = self.spendable(card);
                if posting.kind == TransactionKind::Clearing
                    && debit.minor() > held.total.minor() + spendable.minor()
                {
                    return Err(LedgerError::InsufficientCard {
                        available: held.total.checked_add(&spendable)?.to_string(),
                        needed: debit.to_string(),
                    });
                }
                None
            }
            TransactionKind::Refund => {
                // A card never used (in stock, in production, failed) has nothing to refund.
                if matches!(
                    card.status,
                    CardStatus::Stock
                        | CardStatus::Pending
                        | CardStatus::Failed
                        | CardStatus::Closing
                        | CardStatus::Closed
                ) {
                    return Err(LedgerError::CardStatus(card.status));
                }
                if posting.fee.minor() > posting.amount.minor() {
                    return Err(LedgerError::Refused(
                        "a refund's fee cannot exceed its amount".to_owned(),
                    ));
                }
                None
            }
            TransactionKind::Recharge
            | TransactionKind::CloseRefund
            | TransactionKind::Return
            | TransactionKind::Authorization => {
                return Err(LedgerError::NotPending(format!(
                    "{:?} cannot be posted",
                    posting.kind
                )));
            }
        };
        Ok((debit, decline))
    }

    /// Applies a card transaction posted by the issuer's side. A purchase the card cannot pay
    /// (or a card that cannot pay at all) is recorded as a failed transaction that moves no
    /// money, as an issuer records a decline.
    pub fn post_transaction(&mut self, posting: Posting) -> Result<String, LedgerError> {
        let (debit, decline) = self.assess(&posting)?;
        let status = match (&decline, posting.kind) {
            (Some(_), _) => TransactionStatus::Failed,
            (None, TransactionKind::Authorization) => TransactionStatus::Pending,
            (None, _) => TransactionStatus::Success,
        };
        if decline.is_none() {
            self.apply_posting(&posting, &debit)?;
        }
        let signed = match posting.kind {
            TransactionKind::Reversal | TransactionKind::Refund => posting.amount.clone(),
            _ => neg(&posting.amount),
        };
        let now = self.now();
        let id = match posting.id {
            Some(id) => id,
            None => self.next_id("TXN"),
        };
        self.transactions.push(Transaction {
            id: id.clone(),
            card_id: posting.card_id,
            kind: posting.kind,
            status,
            amount: signed,
            original_amount: posting.original_amount,
            fee: neg(&posting.fee),
            merchant_name: posting.merchant_name,
            mcc: posting.mcc,
            authorization_id: posting.authorization_id,
            decline_reason: decline,
            created_at: now,
            settled_at: (status == TransactionStatus::Success).then_some(now),
        });
        Ok(id)
    }

    /// What a card had spent against its limits by the end of `on` (a UTC day on the sandbox
    /// clock): that day's and that month's purchases, and all purchases up to then.
    pub fn limit_usage(&self, card_id: &str, on: jiff::civil::Date) -> Usage {
        let mut usage = Usage::default();
        for t in self
            .transactions
            .iter()
            .filter(|t| t.card_id == card_id && t.is_purchase())
        {
            let spent = -t.amount.minor();
            let day = t.created_at.to_zoned(jiff::tz::TimeZone::UTC).date();
            if day > on {
                continue;
            }
            usage.total_amount += spent;
            if (day.year(), day.month()) == (on.year(), on.month()) {
                usage.monthly_amount += spent;
                if day == on {
                    usage.daily_amount += spent;
                    usage.daily_transactions += 1;
                }
            }
        }
        usage
    }

    /// Why a purchase of `amount` would break the card's limits, if it would.
    fn limit_breach(&self, card: &super::Card, amount: &Money) -> Option<String> {
        let limits = card.limits.as_ref()?;
        let today = self.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let usage = self.limit_usage(&card.id, today);
        let over = |used: i64, limit: &Money| used + amount.minor() > limit.minor();
        if amount.minor() > limits.single_amount.minor() {
            Some("single amount limit".to_owned())
        } else if usage.daily_transactions >= limits.daily_transactions {
            Some("daily transactions limit".to_owned())
        } else if over(usage.daily_amount, &limits.daily_amount) {
            Some("daily amount limit".to_owned())
        } else if over(usage.monthly_amount, &limits.monthly_amount) {
            Some("monthly amount limit".to_owned())
        } else if limits
            .total_amount
            .as_ref()
            .is_some_and(|total| over(usage.total_amount, total))
        {
            Some("total amount limit".to_owned())
        } else {
            None
        }
    }

    /// The open authorization a clearing or reversal refers to: its amount and its whole hold
    /// (amount + fee), both positive.
    fn check_open_authorization(
        &self,
        id: Option<&str>,
        card_id: &str,
    ) -> Result<Hold, LedgerError> {
        let id = id.ok_or_else(|| LedgerError::UnknownTransaction(String::new()))?;
        let tx = &self.transactions[self.transaction_index(id)?];
        if tx.kind != TransactionKind::Authorization
            || tx.status != TransactionStatus::Pending
            || tx.card_id != card_id
        {
            return Err(LedgerError::NotPending(id.to_owned()));
        }
        let amount = neg(&tx.amount);
        let total = amount.checked_sub(&tx.fee)?;
        Ok(Hold { amount, total })
    }

    /// Moves the money of an accepted posting and records the external flow.
    fn apply_posting(&mut self, posting: &Posting, debit: &Money) -> Result<(), LedgerError> {
        let currency = debit.currency().clone();
        let authorization = match &posting.authorization_id {
            Some(id) => Some(self.transaction_index(id)?),
            None => None,
        };
        // (change of the spendable money, change of the card's holds, external flow)
        let (spendable, blocked, external) = match (posting.kind, authorization) {
            (TransactionKind::Authorization, _) => (neg(debit), debit.clone(), None),
            (TransactionKind::Clearing, None) => {
                (neg(debit), Money::zero(currency), Some(neg(debit)))
            }
            (TransactionKind::Clearing | TransactionKind::Reversal, Some(index)) => {
                // The hold (amount + fee of the authorization) is released in full; a clearing
                // then takes its own amount + fee from it, the rest returns to spendable.
                let authorization = &self.transactions[index];
                let held = neg(&authorization.amount.checked_add(&authorization.fee)?);
                let (returned, outflow) = if posting.kind == TransactionKind::Clearing {
                    (held.checked_sub(debit)?, Some(neg(debit)))
                } else {
                    (held.clone(), None)
                };
                let status = if posting.kind == TransactionKind::Clearing {
                    TransactionStatus::Success
                } else {
                    TransactionStatus::Reversed
                };
                if let Some(authorization) = self.transactions.get_mut(index) {
                    authorization.status = status;
                }
                (returned, neg(&held), outflow)
            }
            (TransactionKind::Refund, _) => {
                let credit = posting.amount.checked_sub(&posting.fee)?;
                (credit.clone(), Money::zero(currency), Some(credit))
            }
            _ => return Ok(()),
        };
        let mut card = self
            .cards
            .get_mut(&posting.card_id)
            .ok_or_else(|| LedgerError::UnknownCard(posting.card_id.clone()))?;
        card.blocked = card.blocked.checked_add(&blocked)?;
        drop(card);
        self.add_spendable(&posting.card_id, &spendable)?;
        if let Some(flow) = external {
            let entry = self
                .external
                .entry(flow.currency().clone())
                .or_insert_with(|| Money::zero(flow.currency().clone()));
            *entry = entry.checked_add(&flow)?;
        }
        Ok(())
    }

    /// The money `card` may spend now: its own balance, or its funding account's.
    pub fn spendable(&self, card: &super::Card) -> Money {
        match card.funding {
            Funding::Own => card.available.clone(),
            Funding::MerchantAccount => self.account(&card.currency),
            Funding::HolderAccount => card.cardholder_id.as_deref().map_or_else(
                || Money::zero(card.currency.clone()),
                |h| self.holder_account(h, &card.currency),
            ),
        }
    }

    /// Adds `delta` (signed) to the money the card spends.
    fn add_spendable(&mut self, card_id: &str, delta: &Money) -> Result<(), LedgerError> {
        let card = self
            .cards
            .get(card_id)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))?;
        match card.funding {
            Funding::Own => {
                let available = card.available.checked_add(delta)?;
                if let Some(mut card) = self.cards.get_mut(card_id) {
                    card.available = available;
                }
            }
            Funding::MerchantAccount => {
                let account = self.account(delta.currency()).checked_add(delta)?;
                self.accounts.insert(delta.currency().clone(), account);
            }
            Funding::HolderAccount => {
                let holder = card.cardholder_id.clone().ok_or_else(|| {
                    LedgerError::Refused(format!("card {card_id} has no cardholder"))
                })?;
                let balance = self
                    .holder_account(&holder, delta.currency())
                    .checked_add(delta)?;
                self.holder_accounts
                    .entry(holder)
                    .or_default()
                    .insert(delta.currency().clone(), balance);
            }
        }
        Ok(())
    }

    fn transaction_index(&self, id: &str) -> Result<usize, LedgerError> {
        self.transactions
            .position(id)
            .ok_or_else(|| LedgerError::UnknownTransaction(id.to_owned()))
    }
}

fn neg(money: &Money) -> Money {
    Money::from_minor(-money.minor(), money.currency().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Card;

    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::new("USD").unwrap()).unwrap()
    }

    fn world() -> World {
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        world
            .accounts
            .insert(Currency::new("USD").unwrap(), usd("100.00"));
        let card = Card {
            status: CardStatus::Active,
            ..Card::ordered(
                "c".into(),
                "issuer-a",
                "4111111111111111".into(),
                "123".into(),
                Currency::new("USD").unwrap(),
                at,
            )
        };
        world.insert_card(card).unwrap();
        world
    }

    fn posting(kind: TransactionKind, amount: &str, fee: &str, auth: Option<String>) -> Posting {
        Posting {
            card_id: "c".into(),
            kind,
            amount: usd(amount),
            original_amount: None,
            fee: usd(fee),
            merchant_name: Some("SHOP".into()),
            mcc: Some("5812".into()),
            authorization_id: auth,
            id: None,
            declined_by_merchant: None,
        }
    }

    /// total − external flows never moves.
    fn assert_conserved(world: &World) {
        let usd_code = Currency::new("USD").unwrap();
        let external = world
            .external_flows()
            .get(&usd_code)
            .map_or(0, Money::minor);
        assert_eq!(world.total(&usd_code).minor() - external, 10_000);
    }

    #[test]
    fn recharge_moves_money_from_account_to_card_through_flight() {
        let mut w = world();
        let id = w.start_recharge("c", &usd("30.00")).unwrap();
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("70.00"));
        assert_eq!(w.cards["c"].available, usd("0.00"));
        assert_conserved(&w);
        w.settle_transfer(&id, w.now()).unwrap();
        assert_eq!(w.cards["c"].available, usd("30.00"));
        assert_conserved(&w);
        assert!(w.settle_transfer(&id, w.now()).is_err(), "settles once");
        assert!(matches!(
            w.start_recharge("c", &usd("70.01")),
            Err(LedgerError::InsufficientAccount { .. })
        ));
        assert!(matches!(
            w.start_recharge("c", &usd("0")),
            Err(LedgerError::NotPositive)
        ));
    }

    #[test]
    fn cards_funded_by_an_account_spend_from_it() {
        let mut w = world();
        w.card_mut("c").unwrap().funding = Funding::MerchantAccount;
        let auth = w
            .post_transaction(posting(
                TransactionKind::Authorization,
                "20.00",
                "0.50",
                None,
            ))
            .unwrap();
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("79.50"));
        assert_eq!(
            (w.cards["c"].available.clone(), w.cards["c"].blocked.clone()),
            (usd("0"), usd("20.50"))
        );
        assert_conserved(&w);
        w.post_transaction(posting(TransactionKind::Clearing, "15.00", "0", Some(auth)))
            .unwrap();
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("85.00"));
        assert_eq!(w.cards["c"].blocked, usd("0"));
        assert_conserved(&w);
        // A purchase beyond the account is declined.
        let id = w
            .post_transaction(posting(TransactionKind::Authorization, "85.01", "0", None))
            .unwrap();
        let declined = w.transactions().iter().find(|t| t.id == id).unwrap();
        assert_eq!(
            declined.decline_reason.as_deref(),
            Some("insufficient funds")
        );
        // The merchant's own decline comes first, and the id drawn beforehand is used.
        let mut refused = posting(TransactionKind::Authorization, "1.00", "0", None);
        refused.declined_by_merchant = Some("merchant declined".into());
        refused.id = Some("TXN-EARLY".into());
        w.post_transaction(refused).unwrap();
        let t = w
            .transactions()
            .iter()
            .find(|t| t.id == "TXN-EARLY")
            .unwrap();
        assert_eq!(
            (t.status, t.decline_reason.as_deref()),
            (TransactionStatus::Failed, Some("merchant declined"))
        );
        // Holder-funded: the cardholder's account pays.
        w.card_mut("c").unwrap().funding = Funding::HolderAccount;
        w.card_mut("c").unwrap().cardholder_id = Some("h".into());
        w.transfer_with_holder(
            "h",
            crate::world::holder_accounts::Direction::In,
            &usd("10.00"),
            "t",
        )
        .unwrap();
        w.post_transaction(posting(TransactionKind::Clearing, "4.00", "0", None))
            .unwrap();
        assert_eq!(
            w.holder_account("h", &Currency::new("USD").unwrap()),
            usd("6.00")
        );
        assert_conserved(&w);
    }

    #[test]
    fn a_return_moves_part_of_the_balance_back_at_once() {
        let mut w = world();
        let recharge = w.start_recharge("c", &usd("50.00")).unwrap();
        w.settle_transfer(&recharge, w.now()).unwrap();
        let id = w.return_to_merchant("c", &usd("20.00")).unwrap();
        assert_eq!(w.cards["c"].available, usd("30.00"));
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("70.00"));
        let tx = w.transactions().iter().find(|t| t.id == id).unwrap();
        assert_eq!(
            (tx.kind, tx.status, tx.amount.clone()),
            (
                TransactionKind::Return,
                TransactionStatus::Success,
                usd("-20.00")
            )
        );
        assert_conserved(&w);
        assert!(matches!(
            w.return_to_merchant("c", &usd("30.01")),
            Err(LedgerError::InsufficientCard { .. })
        ));
        assert!(matches!(
            w.return_to_merchant("c", &usd("0")),
            Err(LedgerError::NotPositive)
        ));
        assert_conserved(&w);
    }

    #[test]
    fn authorization_clearing_reversal_and_refund_keep_the_books() {
        let mut w = world();
        let recharge = w.start_recharge("c", &usd("50.00")).unwrap();
        w.settle_transfer(&recharge, w.now()).unwrap();

        let auth = w
            .post_transaction(posting(
                TransactionKind::Authorization,
                "20.00",
                "0.50",
                None,
            ))
            .unwrap();
        assert_eq!(
            (w.cards["c"].available.clone(), w.cards["c"].blocked.clone()),
            (usd("29.50"), usd("20.50"))
        );
        assert_conserved(&w);
        w.post_transaction(posting(
            TransactionKind::Clearing,
            "18.00",
            "0.50",
            Some(auth.clone()),
        ))
        .unwrap();
        assert_eq!(
            (w.cards["c"].available.clone(), w.cards["c"].blocked.clone()),
            (usd("31.50"), usd("0.00"))
        );
        assert_conserved(&w);
        assert!(
            w.post_transaction(posting(TransactionKind::Reversal, "1.00", "0", Some(auth)))
                .is_err(),
            "already cleared"
        );

        let auth = w
            .post_transaction(posting(TransactionKind::Authorization, "10.00", "0", None))
            .unwrap();
        w.post_transaction(posting(
            TransactionKind::Reversal,
            "10.00",
            "0",
            Some(auth.clone()),
        ))
        .unwrap();
        assert_eq!(w.cards["c"].available, usd("31.50"));
        let reversed = w.transactions().iter().find(|t| t.id == auth).unwrap();
        assert_eq!(reversed.status, TransactionStatus::Reversed);

        w.post_transaction(posting(TransactionKind::Refund, "5.00", "0", None))
            .unwrap();
        assert_eq!(w.cards["c"].available, usd("36.50"));
        assert_conserved(&w);

        let declined = w
            .post_transaction(posting(TransactionKind::Authorization, "999.00", "0", None))
            .unwrap();
        let declined = w.transactions().iter().find(|t| t.id == declined).unwrap();
        assert_eq!(
            (declined.status, declined.decline_reason.as_deref()),
            (TransactionStatus::Failed, Some("insufficient funds"))
        );
        assert_eq!(w.cards["c"].available, usd("36.50"));

        let (refund, amount) = w.start_close_refund("c").unwrap();
        assert_eq!(amount, usd("36.50"));
        assert_conserved(&w);
        w.settle_transfer(&refund, w.now()).unwrap();
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("86.50"));
        assert_conserved(&w);
    }

    #[test]
    fn limits_decline_purchases_by_single_amount_count_day_month_and_total() {
        let mut w = world();
        let recharge = w.start_recharge("c", &usd("100.00")).unwrap();
        w.settle_transfer(&recharge, w.now()).unwrap();
        w.card_mut("c").unwrap().limits = Some(Box::new(crate::world::card::Limits {
            daily_transactions: 2,
            single_amount: usd("10.00"),
            daily_amount: usd("15.00"),
            monthly_amount: usd("25.00"),
            total_amount: Some(usd("30.00")),
        }));
        let buy = |w: &mut World, amount: &str| {
            let id = w
                .post_transaction(posting(TransactionKind::Authorization, amount, "0", None))
                .unwrap();
            w.transactions()
                .iter()
                .find(|t| t.id == id)
                .unwrap()
                .decline_reason
                .clone()
        };
        assert_eq!(buy(&mut w, "10.01"), Some("single amount limit".into()));
        assert_eq!(buy(&mut w, "8.00"), None);
        assert_eq!(buy(&mut w, "7.01"), Some("daily amount limit".into()));
        assert_eq!(buy(&mut w, "7.00"), None);
        assert_eq!(buy(&mut w, "1.00"), Some("daily transactions limit".into()));
        let first_day = w.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let usage = w.limit_usage("c", first_day);
        assert_eq!(
            (
                usage.daily_transactions,
                usage.daily_amount,
                usage.monthly_amount
            ),
            (2, 1500, 1500)
        );
        w.clock.advance(jiff::SignedDuration::from_hours(24));
        assert_eq!(buy(&mut w, "10.00"), None);
        assert_eq!(buy(&mut w, "0.01"), Some("monthly amount limit".into()));
        // A released hold no longer counts.
        let held = w
            .transactions()
            .iter()
            .rev()
            .find(|t| t.status == TransactionStatus::Pending)
            .unwrap()
            .id
            .clone();
        w.post_transaction(posting(TransactionKind::Reversal, "10.00", "0", Some(held)))
            .unwrap();
        let today = w.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        assert_eq!(w.limit_usage("c", today).monthly_amount, 1500);
        // Usage as of an earlier day leaves out what came later.
        let then = w.limit_usage("c", first_day);
        assert_eq!((then.daily_amount, then.total_amount), (1500, 1500));
    }
}
