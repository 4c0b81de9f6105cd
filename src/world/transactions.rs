//! A tenant's card transactions and transfers, oldest first, found without a scan: by id, by
//! card (in order), and a clearing by the authorization it clears.
//!
//! Transactions are only ever added; what changes afterwards is their status and settlement
//! time, never the keys indexed here (id, card, authorization, kind): the ledger, the only
//! writer, changes them through [`Transactions::get_mut`], inside the `world` module.

use hashbrown::HashMap;
use serde::{Serialize, Serializer};

use super::ledger::{Transaction, TransactionKind};

/// The transactions of one tenant and their indexes.
#[derive(Clone, Debug, Default)]
pub struct Transactions {
    all: Vec<Transaction>,
    by_id: HashMap<String, usize>,
    by_card: HashMap<String, Vec<usize>>,
    /// Authorization id → its clearing.
    clearing_of: HashMap<String, usize>,
}

impl Transactions {
    /// Every transaction, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Transaction> {
        self.all.iter()
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The transaction with this id.
    pub fn get(&self, id: &str) -> Option<&Transaction> {
        self.all.get(*self.by_id.get(id)?)
    }

    /// Where the transaction with this id is.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The card's transactions, oldest first.
    pub fn of_card(&self, card_id: &str) -> impl DoubleEndedIterator<Item = &Transaction> {
        let positions = self.by_card.get(card_id).map_or(&[][..], Vec::as_slice);
        positions.iter().map(|&at| &self.all[at])
    }

    /// The clearing of this authorization, if it was cleared.
    pub fn clearing_of(&self, authorization_id: &str) -> Option<&Transaction> {
        self.all.get(*self.clearing_of.get(authorization_id)?)
    }

    /// Adds a transaction (its id must be new: ids come from the tenant's sequence).
    pub(super) fn push(&mut self, transaction: Transaction) {
        let at = self.all.len();
        self.by_id.insert(transaction.id.clone(), at);
        self.by_card
            .entry(transaction.card_id.clone())
            .or_default()
            .push(at);
        if transaction.kind == TransactionKind::Clearing
            && let Some(authorization) = &transaction.authorization_id
        {
            self.clearing_of.entry(authorization.clone()).or_insert(at);
        }
        self.all.push(transaction);
    }

    /// The transaction at `at`, to change its status or settlement time (never its id, card,
    /// authorization or kind, which are indexed).
    pub(super) fn get_mut(&mut self, at: usize) -> Option<&mut Transaction> {
        self.all.get_mut(at)
    }
}

impl std::ops::Index<usize> for Transactions {
    type Output = Transaction;
    fn index(&self, at: usize) -> &Transaction {
        &self.all[at]
    }
}

/// As a list, oldest first.
impl Serialize for Transactions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.all.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::ledger::TransactionStatus;
    use crate::world::{Currency, Money};

    fn transaction(id: &str, card: &str, kind: TransactionKind, of: Option<&str>) -> Transaction {
        let usd = Currency::new("USD").unwrap();
        Transaction {
            id: id.into(),
            card_id: card.into(),
            kind,
            status: TransactionStatus::Pending,
            amount: Money::from_minor(-100, usd.clone()),
            original_amount: None,
            fee: Money::zero(usd),
            merchant_name: None,
            mcc: None,
            authorization_id: of.map(Into::into),
            decline_reason: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            settled_at: None,
        }
    }

    #[test]
    fn transactions_are_found_by_id_card_and_authorization() {
        let mut all = Transactions::default();
        for n in 0..1000 {
            let card = format!("c{}", n % 10);
            all.push(transaction(
                &format!("a{n}"),
                &card,
                TransactionKind::Authorization,
                None,
            ));
        }
        all.push(transaction(
            "k",
            "c3",
            TransactionKind::Clearing,
            Some("a13"),
        ));
        all.push(transaction(
            "r",
            "c3",
            TransactionKind::Reversal,
            Some("a23"),
        ));
        assert_eq!(all.len(), 1002);
        assert_eq!(all.get("a500").unwrap().card_id, "c0");
        assert_eq!(all.position("k"), Some(1000));
        assert_eq!(all.clearing_of("a13").unwrap().id, "k");
        assert!(
            all.clearing_of("a23").is_none(),
            "a reversal is no clearing"
        );
        let of_c3: Vec<&str> = all.of_card("c3").map(|t| t.id.as_str()).collect();
        assert_eq!(of_c3.len(), 102);
        assert_eq!((of_c3[0], of_c3[1]), ("a3", "a13"));
        assert_eq!(all.of_card("c3").next_back().unwrap().id, "r");
        assert!(all.of_card("nobody").next().is_none());
        all.get_mut(0).unwrap().status = TransactionStatus::Success;
        assert_eq!(all.get("a0").unwrap().status, TransactionStatus::Success);
    }
}
