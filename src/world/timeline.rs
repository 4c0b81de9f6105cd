//! Things that happen later on the sandbox clock (a KYC review ends, a card finishes
//! activating, a recharge settles) and the notifications they produce for webhooks.
//!
//! Events wait in a queue ordered by due time. [`World::catch_up`] runs every event that is due
//! at the current sandbox time, in order; callers run it before handling a request and after
//! moving the clock, so advancing the clock "fires everything due".

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{CardStatus, KycStatus, World};

/// Something scheduled to happen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A cardholder's pending KYC review (of the submission made at `submitted_at`) reaches its
    /// decision; a later submission or decision makes it moot.
    DecideKyc {
        cardholder_id: String,
        submitted_at: Timestamp,
    },
    /// A card still in the processing state `from` settles into `to`; if something else changed
    /// the card meanwhile, nothing happens.
    SettleCard {
        card_id: String,
        from: CardStatus,
        to: CardStatus,
    },
    /// A recharge or close refund in flight arrives.
    SettleTransfer { transaction_id: String },
    /// A card order's production ends.
    FinishOrder { order_no: String },
    /// Something a scenario's timeline makes the issuer do.
    Scripted {
        label: Option<String>,
        #[serde(flatten)]
        action: Box<super::script::Scripted>,
    },
}

/// An event and when it is due; `seq` keeps events due at the same instant in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scheduled {
    pub due: Timestamp,
    pub seq: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// A change a merchant may be told about (a webhook).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    KycDecided {
        cardholder_id: String,
        from: KycStatus,
        status: KycStatus,
    },
    /// A card order finished (completed or failed).
    OrderFinished {
        order_no: String,
    },
    CardStatusChanged {
        card_id: String,
        from: CardStatus,
        to: CardStatus,
    },
    TransferSettled {
        transaction_id: String,
    },
    TransactionPosted {
        transaction_id: String,
    },
}

/// A notification and when it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Notice {
    pub at: Timestamp,
    #[serde(flatten)]
    pub notification: Notification,
}

impl World {
    /// Queues `event` at `due`.
    pub fn schedule(&mut self, due: Timestamp, event: Event) {
        self.sequence += 1;
        let scheduled = Scheduled {
            due,
            seq: self.sequence,
            event,
        };
        let at = self
            .timeline
            .partition_point(|s| (s.due, s.seq) <= (due, scheduled.seq));
        self.timeline.insert(at, scheduled);
    }

    /// Events still waiting, soonest first.
    pub fn scheduled(&self) -> &[Scheduled] {
        &self.timeline
    }

    /// Runs `f` with the world caught up to this instant and held at it: one request sees one
    /// instant, so what it schedules for "now" is all that a catch-up within it can run, however
    /// a running clock moves meanwhile (a panic in `f` releases the instant too).
    pub fn at_one_instant<R>(&mut self, f: impl FnOnce(&mut World) -> R) -> R {
        /// Releases the instant when the request ends, however it ends.
        struct Held<'w>(&'w mut World);
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                self.0.request_time = None;
            }
        }
        let held = Held(self);
        held.0.request_time = Some(held.0.clock.now());
        held.0.catch_up();
        f(&mut *held.0)
    }

    /// Runs every event due by now, in order.
    pub fn catch_up(&mut self) {
        let now = self.now();
        while self.timeline.first().is_some_and(|s| s.due <= now) {
            let scheduled = self.timeline.remove(0);
            self.event_time = Some(scheduled.due);
            self.run(scheduled.due, scheduled.event);
            self.event_time = None;
        }
    }

    /// Records a notification for the webhook dispatcher.
    pub fn notify(&mut self, at: Timestamp, notification: Notification) {
        self.outbox.push(Notice { at, notification });
    }

    /// Takes the notifications recorded so far.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.outbox)
    }

    fn run(&mut self, at: Timestamp, event: Event) {
        match event {
            Event::DecideKyc {
                cardholder_id,
                submitted_at,
            } => {
                let pending = self
                    .cardholders
                    .get_mut(&cardholder_id)
                    .filter(|h| {
                        // This very submission and this very review: a later review submitted
                        // at the same instant has its own due time and its own event.
                        h.kyc.submitted_at == Some(submitted_at)
                            && h.kyc.review.as_ref().is_some_and(|r| r.due == at)
                    })
                    .and_then(|mut h| h.kyc.review.take());
                if let Some(review) = pending {
                    self.decide_kyc(
                        &cardholder_id,
                        review.decision,
                        review.reason,
                        review.codes,
                        at,
                    );
                }
            }
            Event::SettleCard { card_id, from, to } => {
                if self.cards.get(&card_id).is_some_and(|c| c.status == from) {
                    self.set_card_status(&card_id, to, at);
                }
            }
            Event::FinishOrder { order_no } => self.finish_order(&order_no, at),
            Event::Scripted { label, action } => {
                // The outcome, failures included, is in the events log.
                let _ = self.run_scripted(at, label, *action);
            }
            Event::SettleTransfer { transaction_id } => {
                if self.settle_transfer(&transaction_id, at).is_ok() {
                    self.notify(at, Notification::TransferSettled { transaction_id });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Kyc, Review};
    use jiff::SignedDuration;

    #[test]
    fn due_events_run_in_time_order_and_leave_notices() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        let mut holder = crate::world::Cardholder {
            email: Some("a@b.c".into()),
            ..crate::world::Cardholder::named(
                "h",
                "A",
                "B",
                Kyc::settled(KycStatus::Pending, None, t0),
                t0,
            )
        };
        let due = t0.checked_add(SignedDuration::from_secs(30)).unwrap();
        holder.kyc.submitted_at = Some(t0);
        holder.kyc.review = Some(Review {
            codes: Vec::new(),
            decision: KycStatus::Rejected,
            reason: Some("blurry".into()),
            due,
        });
        world.cardholders.insert("h".into(), holder);
        world.schedule(
            due,
            Event::DecideKyc {
                cardholder_id: "h".into(),
                submitted_at: t0,
            },
        );
        world.schedule(
            t0.checked_add(SignedDuration::from_secs(10)).unwrap(),
            Event::SettleTransfer {
                transaction_id: "nope".into(),
            },
        );

        world.clock.advance(SignedDuration::from_secs(29));
        world.catch_up();
        assert_eq!(world.scheduled().len(), 1, "only the 10 s event ran");
        assert_eq!(world.cardholders["h"].kyc.status, KycStatus::Pending);

        world.clock.advance(SignedDuration::from_secs(1));
        world.catch_up();
        let kyc = &world.cardholders["h"].kyc;
        assert_eq!(
            (kyc.status, kyc.reason.as_deref(), kyc.decided_at),
            (KycStatus::Rejected, Some("blurry"), Some(due))
        );
        let notices = world.take_notices();
        assert_eq!(notices.len(), 1);
        assert_eq!(
            notices[0].notification,
            Notification::KycDecided {
                cardholder_id: "h".into(),
                from: KycStatus::Pending,
                status: KycStatus::Rejected
            }
        );
        assert!(world.take_notices().is_empty());
    }

    #[test]
    fn a_request_sees_one_instant_and_lets_it_go_however_it_ends() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        let settle = |world: &mut World, secs| {
            let due = t0.checked_add(SignedDuration::from_secs(secs)).unwrap();
            let transaction_id = format!("t{secs}");
            world.schedule(due, Event::SettleTransfer { transaction_id });
        };
        settle(&mut world, 0);
        settle(&mut world, 60);
        let seen = world.at_one_instant(|world| {
            assert_eq!(world.scheduled().len(), 1, "caught up to the instant first");
            // The clock moves on while the request runs (a running clock does by itself).
            world.clock.advance(SignedDuration::from_secs(120));
            world.catch_up();
            (world.now(), world.scheduled().len())
        });
        assert_eq!(
            seen,
            (t0, 1),
            "held at the instant: the 60 s event is not due in it"
        );
        assert_eq!(
            world.now(),
            t0.checked_add(SignedDuration::from_secs(120)).unwrap()
        );

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            world.at_one_instant(|_| panic!("a bug in an operation"))
        }));
        assert!(panicked.is_err());
        world.clock.advance(SignedDuration::from_secs(1));
        assert_eq!(
            world.now(),
            t0.checked_add(SignedDuration::from_secs(121)).unwrap()
        );
    }
}
