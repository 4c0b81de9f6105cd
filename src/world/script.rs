//! What the issuer does on its own, scripted by a scenario's timeline or asked through the
//! control API: post a card transaction, change a card's status, decide a KYC review, settle
//! recharges in flight, end a card's production now. Each records what it did (or why it did
//! nothing) in the world's events log.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ledger::{Posting, TransactionKind, TransactionStatus};
use super::timeline::{Event, Notification};
use super::{CardStatus, KycStatus, Money, World};

/// An issuer-side action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Scripted {
    /// A card transaction; `authorization` names an earlier timeline transaction by label.
    Transaction {
        posting: Posting,
        authorization: Option<String>,
    },
    CardStatus {
        card: String,
        status: CardStatus,
    },
    Kyc {
        cardholder: String,
        decision: KycStatus,
        reason: Option<String>,
        codes: Vec<String>,
    },
    SettleRecharges {
        card: String,
    },
    CompleteProduction {
        card: String,
    },
}

/// What a scripted event did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventRecord {
    pub at: Timestamp,
    pub label: Option<String>,
    pub action: Scripted,
    /// `ok`, the transaction id, or why nothing happened.
    pub outcome: String,
}

/// Why an issuer-side action could not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("no transaction labelled `{0}` yet")]
    NoLabel(String),
    #[error(transparent)]
    Ledger(#[from] super::ledger::LedgerError),
    #[error("no card {0}")]
    NoCard(String),
    #[error("card {card} is {status:?}: not the issuer's to change now")]
    NotTheIssuers { card: String, status: CardStatus },
    #[error("no cardholder {0}")]
    NoCardholder(String),
    #[error("card {0} is not in production")]
    NotInProduction(String),
}

impl World {
    /// Runs an issuer-side action now; the outcome, or why it could not happen.
    pub fn run_scripted(
        &mut self,
        at: Timestamp,
        label: Option<String>,
        action: Scripted,
    ) -> Result<String, ScriptError> {
        let outcome = self.perform(at, &action);
        if let (Ok(id), Some(label), Scripted::Transaction { .. }) = (&outcome, &label, &action) {
            self.labels.insert(label.clone(), id.clone());
        }
        self.events_log.push(EventRecord {
            at,
            label,
            action,
            outcome: match &outcome {
                Ok(done) => done.clone(),
                Err(why) => format!("nothing happened: {why}"),
            },
        });
        outcome
    }

    fn perform(&mut self, at: Timestamp, action: &Scripted) -> Result<String, ScriptError> {
        match action {
            Scripted::Transaction {
                posting,
                authorization,
            } => {
                let mut posting = posting.clone();
                if let Some(label) = authorization {
                    let id = self
                        .labels
                        .get(label)
                        .ok_or_else(|| ScriptError::NoLabel(label.clone()))?;
                    posting.authorization_id = Some(id.clone());
                }
                let id = self.post_transaction(posting)?;
                self.notify(
                    at,
                    Notification::TransactionPosted {
                        transaction_id: id.clone(),
                    },
                );
                Ok(id)
            }
            Scripted::CardStatus { card, status } => {
                let current = self
                    .cards
                    .get(card)
                    .map(|c| c.status)
                    .ok_or_else(|| ScriptError::NoCard(card.clone()))?;
                if matches!(
                    current,
                    CardStatus::Stock | CardStatus::Closing | CardStatus::Closed
                ) || self.order_in_production(card).is_some()
                {
                    return Err(ScriptError::NotTheIssuers {
                        card: card.clone(),
                        status: current,
                    });
                }
                self.set_card_status(card, *status, at);
                Ok("ok".to_owned())
            }
            Scripted::Kyc {
                cardholder,
                decision,
                reason,
                codes,
            } => {
                if !self.cardholders.contains_key(cardholder) {
                    return Err(ScriptError::NoCardholder(cardholder.clone()));
                }
                self.decide_kyc(cardholder, *decision, reason.clone(), codes.clone(), at);
                Ok("ok".to_owned())
            }
            Scripted::SettleRecharges { card } => {
                let settled = self.settle_recharges(card, at);
                Ok(format!("{settled} settled"))
            }
            Scripted::CompleteProduction { card } => {
                self.complete_production(card, at)?;
                Ok("ok".to_owned())
            }
        }
    }

    /// Settles every recharge on its way to `card` now; how many.
    pub fn settle_recharges(&mut self, card: &str, at: Timestamp) -> usize {
        let pending: Vec<String> = self
            .transactions
            .iter()
            .filter(|t| {
                t.card_id == card
                    && t.kind == TransactionKind::Recharge
                    && t.status == TransactionStatus::Pending
            })
            .map(|t| t.id.clone())
            .collect();
        let mut settled = 0;
        for id in pending {
            if self.settle_transfer(&id, at).is_ok() {
                self.notify(at, Notification::TransferSettled { transaction_id: id });
                settled += 1;
            }
        }
        settled
    }

    /// Ends `card`'s production now: its order finishes (waiting for the holder's review if
    /// that is still running), or its pending status settles as scheduled.
    pub fn complete_production(&mut self, card: &str, at: Timestamp) -> Result<(), ScriptError> {
        if let Some(order) = self.order_in_production(card).map(|o| o.order_no.clone()) {
            if let Some(order) = self.orders.get_mut(&order) {
                order.ready_at = at;
            }
            self.finish_order(&order, at);
            return Ok(());
        }
        let due = self.timeline.iter().position(|s| {
            matches!(&s.event, Event::SettleCard { card_id, from, .. }
                if card_id == card && *from == CardStatus::Pending)
        });
        let Some(index) = due else {
            return Err(ScriptError::NotInProduction(card.to_owned()));
        };
        let scheduled = self.timeline.remove(index);
        if let Event::SettleCard { card_id, from, to } = scheduled.event
            && self.cards.get(&card_id).is_some_and(|c| c.status == from)
        {
            self.set_card_status(&card_id, to, at);
        }
        Ok(())
    }
}

/// A posting of `amount` in the shop's currency on a card in another: converted with the
/// scenario's FX table; `None` when there is no rate.
pub fn foreign_amount(
    world: &World,
    amount: &Money,
    card_currency: &super::Currency,
) -> Option<(Money, Option<Money>)> {
    if amount.currency() == card_currency {
        return Some((amount.clone(), None));
    }
    let converted = world.rules.convert(amount, card_currency)?;
    Some((converted, Some(amount.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Card, Currency};

    fn world_with_pending_card() -> World {
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        let usd = Currency::new("USD").unwrap();
        world
            .accounts
            .insert(usd.clone(), Money::parse("100.00", usd.clone()).unwrap());
        let now = world.now();
        world
            .insert_card(Card::ordered(
                "c".into(),
                "issuer-a",
                "4111111111111111".into(),
                "123".into(),
                usd,
                now,
            ))
            .unwrap();
        let later = now + jiff::SignedDuration::from_hours(1);
        world.schedule(
            later,
            Event::SettleCard {
                card_id: "c".into(),
                from: CardStatus::Pending,
                to: CardStatus::Active,
            },
        );
        world
    }

    #[test]
    fn production_ends_now_and_its_event_is_gone() {
        let mut world = world_with_pending_card();
        let now = world.now();
        assert_eq!(world.complete_production("c", now), Ok(()));
        assert_eq!(world.cards()["c"].status, CardStatus::Active);
        assert!(world.scheduled().is_empty());
        assert!(world.complete_production("c", now).is_err());
    }

    #[test]
    fn recharges_in_flight_arrive_now() {
        let mut world = world_with_pending_card();
        let usd = Currency::new("USD").unwrap();
        world
            .start_recharge("c", &Money::parse("30.00", usd.clone()).unwrap())
            .unwrap();
        let now = world.now();
        assert_eq!(world.settle_recharges("c", now), 1);
        assert_eq!(
            world.cards()["c"].available,
            Money::parse("30.00", usd).unwrap()
        );
        assert_eq!(world.settle_recharges("c", now), 0);
        // Scripted: the outcome is logged, labels are kept for transactions only.
        let outcome = world.run_scripted(
            now,
            Some("x".into()),
            Scripted::SettleRecharges { card: "c".into() },
        );
        assert_eq!(outcome, Ok("0 settled".to_owned()));
        assert_eq!(world.events_log.len(), 1);
        assert!(world.labels.is_empty());
    }
}
