//! Card orders: an application for a card that may take time to produce (an issuer's card
//! application). The card exists from the start in `pending`; when the order finishes it becomes
//! active with its initial balance, or fails and the balance goes back to the merchant.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ledger::{TransactionKind, TransactionStatus};
use super::timeline::Notification;
use super::{CardStatus, KycStatus, World};

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Processing,
    Completed,
    Failed,
}

/// A card order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Order {
    pub order_no: String,
    pub issuer: String,
    pub holder_id: String,
    pub card_id: String,
    pub state: OrderState,
    /// Cards ordered (always 1 in the sandbox).
    pub count: u32,
    pub share_card: bool,
    pub shared_account: Option<String>,
    /// The merchant account that paid the initial balance.
    pub pay_account: String,
    /// The transfer carrying the initial balance, if any.
    pub funding: Option<String>,
    pub remark: Option<String>,
    /// The card's account number (balances and limits are reported under it).
    pub account_num: String,
    /// The card's static 3-D Secure password.
    pub acs_password: String,
    pub failure: Option<String>,
    pub created_at: Timestamp,
    /// When production ends (the order then completes, or waits for its holder's review).
    pub ready_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl World {
    /// Card orders by order number.
    pub fn orders(&self) -> &BTreeMap<String, Order> {
        &self.orders
    }

    /// Adds an order, or replaces the one with its number (whose card then has no order).
    pub fn insert_order(&mut self, order: Order) {
        if let Some(replaced) = self.orders.get(&order.order_no) {
            self.order_of_card.remove(&replaced.card_id);
        }
        self.order_of_card
            .insert(order.card_id.clone(), order.order_no.clone());
        self.orders.insert(order.order_no.clone(), order);
    }

    /// The order that made `card_id`, if an order did.
    pub fn order_of_card(&self, card_id: &str) -> Option<&Order> {
        self.orders.get(self.order_of_card.get(card_id)?)
    }

    /// Finishes a processing order: completed if its holder passed review, failed if they were
    /// rejected; a holder still in review leaves the order processing (it is retried when the
    /// review ends).
    pub fn finish_order(&mut self, order_no: &str, at: Timestamp) {
        let Some(order) = self
            .orders
            .get(order_no)
            .filter(|o| o.state == OrderState::Processing)
        else {
            return;
        };
        let (card_id, funding) = (order.card_id.clone(), order.funding.clone());
        let holder = self.cardholders.get(&order.holder_id).map(|h| h.kyc.status);
        let state = match holder {
            Some(KycStatus::Passed) => OrderState::Completed,
            Some(KycStatus::Pending) => return,
            _ => OrderState::Failed,
        };
        if let Some(transfer) = &funding {
            match state {
                OrderState::Completed => {
                    let _ = self.settle_transfer(transfer, at);
                }
                _ => self.cancel_transfer(transfer, at),
            }
        }
        let card_state = if state == OrderState::Completed {
            CardStatus::Active
        } else {
            CardStatus::Failed
        };
        // Nothing else may move a card in production (the control API refuses); should
        // something have, its status stands.
        if self.cards.get(&card_id).map(|c| c.status) == Some(CardStatus::Pending) {
            self.set_card_status(&card_id, card_state, at);
        }
        if let Some(order) = self.orders.get_mut(order_no) {
            order.state = state;
            order.finished_at = Some(at);
            if state == OrderState::Failed {
                order.failure = Some("the cardholder's audit was rejected".to_owned());
            }
        }
        self.notify(
            at,
            Notification::OrderFinished {
                order_no: order_no.to_owned(),
            },
        );
    }

    /// The order producing `card_id`, while it is processing.
    pub fn order_in_production(&self, card_id: &str) -> Option<&Order> {
        self.order_of_card(card_id)
            .filter(|o| o.state == OrderState::Processing)
    }

    /// Finishes the orders that were produced but waited for `holder_id`'s review.
    pub(super) fn finish_orders_waiting_on(&mut self, holder_id: &str, at: Timestamp) {
        let waiting: Vec<String> = self
            .orders
            .values()
            .filter(|o| {
                o.holder_id == holder_id && o.state == OrderState::Processing && o.ready_at <= at
            })
            .map(|o| o.order_no.clone())
            .collect();
        for order_no in waiting {
            self.finish_order(&order_no, at);
        }
    }

    /// Sends a recharge in flight back to the merchant account (its card will never exist).
    fn cancel_transfer(&mut self, transaction_id: &str, at: Timestamp) {
        let Some(tx) = self
            .transactions
            .position(transaction_id)
            .and_then(|at| self.transactions.get_mut(at))
            .filter(|t| {
                t.status == TransactionStatus::Pending && t.kind == TransactionKind::Recharge
            })
        else {
            return;
        };
        tx.status = TransactionStatus::Failed;
        tx.settled_at = Some(at);
        tx.decline_reason = Some("order failed".to_owned());
        let amount = tx.amount.clone();
        let account = self
            .account(amount.currency())
            .checked_add(&amount)
            .unwrap_or(amount);
        self.accounts.insert(account.currency().clone(), account);
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::world::{Card, Cardholder, Currency, Kyc, Money};

    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::new("USD").unwrap()).unwrap()
    }

    /// A world with 100.00 in the account, holder `h` in `kyc`, and order `o` for a pending card
    /// funded with 30.00, ready one minute from now.
    fn world(kyc: KycStatus) -> World {
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        let now = world.now();
        world
            .accounts
            .insert(Currency::new("USD").unwrap(), usd("100.00"));
        world.cardholders.insert(
            "h".into(),
            Cardholder {
                issuer: Some("issuer-a".into()),
                ..Cardholder::named("h", "Ada", "Lovelace", Kyc::settled(kyc, None, now), now)
            },
        );
        world
            .insert_card(Card {
                token: Some("t".into()),
                cardholder_id: Some("h".into()),
                ..Card::ordered(
                    "c".into(),
                    "issuer-a",
                    "6587040000000000".into(),
                    "123".into(),
                    Currency::new("USD").unwrap(),
                    now,
                )
            })
            .unwrap();
        let funding = world.start_recharge("c", &usd("30.00")).unwrap();
        world.insert_order(Order {
            order_no: "o".into(),
            issuer: "issuer-a".into(),
            holder_id: "h".into(),
            card_id: "c".into(),
            state: OrderState::Processing,
            count: 1,
            share_card: false,
            shared_account: None,
            pay_account: "acct".into(),
            funding: Some(funding),
            remark: None,
            account_num: "1".into(),
            acs_password: "123456".into(),
            failure: None,
            created_at: now,
            finished_at: None,
            ready_at: now + SignedDuration::from_mins(1),
        });
        world
    }

    fn usd_total(world: &World) -> i64 {
        world.total(&Currency::new("USD").unwrap()).minor()
    }

    #[test]
    fn an_order_is_found_by_its_card_until_replaced() {
        let mut w = world(KycStatus::Passed);
        assert_eq!(w.order_of_card("c").unwrap().order_no, "o");
        assert_eq!(w.order_in_production("c").unwrap().order_no, "o");
        assert!(w.order_of_card("nobody").is_none());
        let mut other = w.orders()["o"].clone();
        other.card_id = "d".into();
        w.insert_order(other);
        assert!(
            w.order_of_card("c").is_none(),
            "the replaced order's card has none"
        );
        assert_eq!(w.order_of_card("d").unwrap().order_no, "o");
    }

    #[test]
    fn a_finished_order_activates_its_card_with_the_initial_balance() {
        let mut w = world(KycStatus::Passed);
        let at = w.now();
        w.finish_order("o", at);
        assert_eq!(w.orders["o"].state, OrderState::Completed);
        assert_eq!(w.cards()["c"].status, CardStatus::Active);
        assert_eq!(w.cards()["c"].available, usd("30.00"));
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("70.00"));
        assert_eq!(usd_total(&w), 10_000);
        // Finishing twice changes nothing.
        w.finish_order("o", at);
        assert_eq!(w.cards()["c"].available, usd("30.00"));
    }

    #[test]
    fn an_order_for_a_rejected_holder_fails_and_returns_the_money() {
        let mut w = world(KycStatus::Rejected);
        let at = w.now();
        w.finish_order("o", at);
        assert_eq!(w.orders["o"].state, OrderState::Failed);
        assert_eq!(w.cards()["c"].status, CardStatus::Failed);
        assert_eq!(w.cards()["c"].available, usd("0"));
        assert_eq!(w.account(&Currency::new("USD").unwrap()), usd("100.00"));
        assert_eq!(usd_total(&w), 10_000);
    }

    #[test]
    fn an_order_waits_for_its_holders_review_once_produced() {
        let mut w = world(KycStatus::Pending);
        let early = w.now();
        // A decision before production ends leaves the order to its own event.
        w.finish_order("o", early);
        assert_eq!(w.orders["o"].state, OrderState::Processing);
        let ready = w.orders["o"].ready_at;
        w.decide_kyc("h", KycStatus::Passed, None, Vec::new(), early);
        assert_eq!(w.orders["o"].state, OrderState::Processing);
        w.cardholders.get_mut("h").unwrap().kyc.status = KycStatus::Pending;
        w.decide_kyc("h", KycStatus::Passed, None, Vec::new(), ready);
        assert_eq!(w.orders["o"].state, OrderState::Completed);
        assert_eq!(w.orders["o"].finished_at, Some(ready));
        let notices = w.take_notices();
        assert!(notices.iter().any(|n| n.notification
            == Notification::OrderFinished {
                order_no: "o".into()
            }));
    }
}
