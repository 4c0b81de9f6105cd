//! Cardholder accounts (credit extension): the merchant moves money between its own
//! account and a cardholder's, and the cardholder's cards spend from it. Every transfer is
//! immediate and recorded; money only changes place, so the books' total does not move.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::World;
use super::ledger::LedgerError;
use super::money::{Currency, Money};

/// Which way a transfer goes, seen from the cardholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Direction {
    /// Merchant account → cardholder account.
    In,
    /// Cardholder account → merchant account.
    Out,
}

/// One transfer between the merchant and a cardholder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HolderTransfer {
    pub id: String,
    pub holder_id: String,
    /// The merchant's own reference for the transfer (a unique number it chose).
    pub merchant_ref: String,
    pub direction: Direction,
    /// Positive.
    pub amount: Money,
    /// The cardholder's balance before and after.
    pub before: Money,
    pub after: Money,
    pub at: Timestamp,
}

impl World {
    /// The cardholder's account in `currency`, zero if it has none.
    pub fn holder_account(&self, holder_id: &str, currency: &Currency) -> Money {
        self.holder_accounts
            .get(holder_id)
            .and_then(|accounts| accounts.get(currency))
            .cloned()
            .unwrap_or_else(|| Money::zero(currency.clone()))
    }

    /// Moves `amount` between the merchant's account and the cardholder's, at once.
    pub fn transfer_with_holder(
        &mut self,
        holder_id: &str,
        direction: Direction,
        amount: &Money,
        merchant_ref: &str,
    ) -> Result<HolderTransfer, LedgerError> {
        if !amount.is_positive() {
            return Err(LedgerError::NotPositive);
        }
        let currency = amount.currency();
        let before = self.holder_account(holder_id, currency);
        let account = self.account(currency);
        let (after, account_after) = match direction {
            Direction::In => (before.checked_add(amount)?, account.checked_sub(amount)?),
            Direction::Out => (before.checked_sub(amount)?, account.checked_add(amount)?),
        };
        if account_after.is_negative() {
            return Err(LedgerError::InsufficientAccount {
                available: account.to_string(),
                needed: amount.to_string(),
            });
        }
        if after.is_negative() {
            return Err(LedgerError::InsufficientCard {
                available: before.to_string(),
                needed: amount.to_string(),
            });
        }
        let (at, id) = (self.now(), self.next_id("TRF"));
        self.accounts.insert(currency.clone(), account_after);
        self.holder_accounts
            .entry(holder_id.to_owned())
            .or_default()
            .insert(currency.clone(), after.clone());
        let transfer = HolderTransfer {
            id,
            holder_id: holder_id.to_owned(),
            merchant_ref: merchant_ref.to_owned(),
            direction,
            amount: amount.clone(),
            before,
            after,
            at,
        };
        self.holder_transfers.push(transfer.clone());
        Ok(transfer)
    }

    /// Every transfer with cardholders, oldest first.
    pub fn holder_transfers(&self) -> &[HolderTransfer] {
        &self.holder_transfers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tusdt(text: &str) -> Money {
        Money::parse(text, Currency::new("TUSDT").unwrap()).unwrap()
    }

    #[test]
    fn transfers_move_money_both_ways_and_refuse_overdrafts() {
        let mut w = crate::world::test_world("2026-01-01T00:00:00Z");
        let code = Currency::new("TUSDT").unwrap();
        w.accounts.insert(code.clone(), tusdt("100.00"));
        let total = w.total(&code);
        let t = w
            .transfer_with_holder("h", Direction::In, &tusdt("30.00"), "u1")
            .unwrap();
        assert_eq!((t.before.clone(), t.after), (tusdt("0.00"), tusdt("30.00")));
        assert_eq!(w.account(&code), tusdt("70.00"));
        assert_eq!(w.total(&code), total);
        assert!(matches!(
            w.transfer_with_holder("h", Direction::In, &tusdt("70.01"), "u2"),
            Err(LedgerError::InsufficientAccount { .. })
        ));
        assert!(matches!(
            w.transfer_with_holder("h", Direction::Out, &tusdt("30.01"), "u2"),
            Err(LedgerError::InsufficientCard { .. })
        ));
        let out = w
            .transfer_with_holder("h", Direction::Out, &tusdt("10.00"), "u3")
            .unwrap();
        assert_eq!(out.after, tusdt("20.00"));
        assert_eq!(w.holder_account("h", &code), tusdt("20.00"));
        assert_eq!(w.total(&code), total);
        assert_eq!(
            w.holder_transfers().len(),
            2,
            "refused transfers are not recorded"
        );
    }
}
