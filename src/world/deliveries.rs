//! Webhook deliveries a tenant owes its merchant: what to POST where, the attempts so far, and
//! when the next one is due on the sandbox clock. The bytes are rendered by the provider; the
//! sending is done by the webhook dispatcher, which also puts [`DecisionCall`]s to the merchant.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::World;

/// Whether the dispatcher can deliver to `text`: an absolute `http://` URL with a host. The
/// sandbox speaks plain HTTP (no TLS, like its listener); an `https://` endpoint would only
/// ever fail, so it is refused where it is given.
pub fn deliverable_url(text: &str) -> bool {
    text.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
    })
}

/// What a refused webhook URL is told.
pub const URL_RULE: &str = "must be an absolute http:// or https:// URL";

/// A question the sandbox must put to the merchant before it can go on (an issuer's
/// synchronous authorization callback): where, what, how long to wait, and how to read the
/// answer.
#[derive(Debug)]
pub struct DecisionCall {
    pub url: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub timeout: std::time::Duration,
    /// Whether an answer (status, body) says yes.
    pub approves: fn(u16, &[u8]) -> bool,
    /// What no answer, a late one or a refusal means: `None` to go on, else why not.
    pub refusal: Option<String>,
    /// The id the decided thing will carry (shown to the merchant in the question).
    pub id: String,
}

/// A rendered notification ready to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Outbound {
    pub provider: String,
    /// What happened, for people reading the state (`KYC_STATUS`, `CARD_STATUS`, ...).
    pub event: String,
    pub url: String,
    /// The exact request body.
    pub body: String,
    /// The body before encryption, for people reading the state.
    pub plain: Value,
    /// Headers besides `Content-Type: application/json` (signatures, timestamps).
    pub headers: Vec<(String, String)>,
    /// Delays between failed attempts; their count is the number of retries.
    pub retries: Vec<SignedDuration>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for `next_at`.
    Pending,
    /// An attempt is being sent.
    Sending,
    Delivered,
    /// Every retry failed.
    Abandoned,
}

/// One attempt and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    /// Sandbox time of the attempt.
    pub at: Timestamp,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// How the attempt was made, when that matters (a certificate not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A notification on its way to the merchant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: u64,
    #[serde(flatten)]
    pub outbound: Outbound,
    pub state: DeliveryState,
    pub next_at: Option<Timestamp>,
    pub attempts: Vec<Attempt>,
}

impl Delivery {
    /// As a snapshot keeps it: an attempt being sent is not known to have arrived, so the
    /// restored delivery owes it again (it was due when it was taken).
    pub fn owed_again(mut self) -> Delivery {
        if self.state == DeliveryState::Sending {
            self.state = DeliveryState::Pending;
        }
        self
    }

    /// Waiting for an attempt whose time has come.
    fn is_due(&self, now: Timestamp) -> bool {
        self.state == DeliveryState::Pending && self.next_at.is_some_and(|at| at <= now)
    }
}

impl World {
    /// Queues `outbound` for delivery now.
    pub fn enqueue_delivery(&mut self, outbound: Outbound) -> u64 {
        // Own numbering: the dispatcher runs concurrently with requests, so it must not draw
        // from the counter business ids come from.
        let id = self.deliveries.len() as u64 + 1;
        let now = self.now();
        self.deliveries.push(Delivery {
            id,
            outbound,
            state: DeliveryState::Pending,
            next_at: Some(now),
            attempts: Vec::new(),
        });
        id
    }

    /// All deliveries, oldest first.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }

    /// The deliveries due now, marked as being sent.
    pub fn take_due_deliveries(&mut self) -> Vec<Delivery> {
        let now = self.now();
        let mut due = Vec::new();
        for delivery in &mut self.deliveries {
            if delivery.is_due(now) {
                delivery.state = DeliveryState::Sending;
                due.push(delivery.clone());
            }
        }
        due
    }

    /// Whether no attempt is being sent or due now: the state then holds every attempt made
    /// so far (what the test runner waits for before reading it).
    pub fn deliveries_settled(&self) -> bool {
        let now = self.now();
        self.deliveries
            .iter()
            .all(|d| d.state != DeliveryState::Sending && !d.is_due(now))
    }

    /// Records how an attempt ended and schedules the next one if it failed.
    pub fn record_attempt(
        &mut self,
        id: u64,
        status: Option<u16>,
        error: Option<String>,
        note: Option<String>,
    ) {
        let now = self.now();
        let Some(delivery) = self.deliveries.iter_mut().find(|d| d.id == id) else {
            return;
        };
        let succeeded = status.is_some_and(|s| (200..300).contains(&s));
        delivery.attempts.push(Attempt {
            at: now,
            status,
            error,
            note,
        });
        if succeeded {
            delivery.state = DeliveryState::Delivered;
            delivery.next_at = None;
            return;
        }
        match delivery.outbound.retries.get(delivery.attempts.len() - 1) {
            Some(delay) => {
                // From when this attempt was due, not when it ended: after a jump of the clock
                // every overdue retry fires, one after the other.
                let due = delivery.next_at.unwrap_or(now);
                delivery.state = DeliveryState::Pending;
                delivery.next_at = due.checked_add(*delay).ok();
            }
            None => {
                delivery.state = DeliveryState::Abandoned;
                delivery.next_at = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_attempts_are_retried_on_schedule_then_abandoned() {
        let mut world = crate::world::test_world("2026-01-01T00:00:00Z");
        let id = world.enqueue_delivery(Outbound {
            provider: "p".into(),
            event: "E".into(),
            url: "http://x".into(),
            body: "{}".into(),
            plain: Value::Null,
            retries: vec![SignedDuration::from_mins(1), SignedDuration::from_mins(2)],
            headers: Vec::new(),
        });
        assert_eq!(world.take_due_deliveries().len(), 1);
        assert!(
            world.take_due_deliveries().is_empty(),
            "not twice while sending"
        );
        world.record_attempt(id, Some(500), None, None);
        assert!(world.take_due_deliveries().is_empty());
        world.clock.advance(SignedDuration::from_mins(1));
        assert_eq!(world.take_due_deliveries().len(), 1);
        world.record_attempt(id, None, Some("refused".into()), None);
        world.clock.advance(SignedDuration::from_mins(2));
        assert_eq!(world.take_due_deliveries().len(), 1);
        world.record_attempt(id, Some(502), None, None);
        assert_eq!(world.deliveries()[0].state, DeliveryState::Abandoned);
        assert_eq!(world.deliveries()[0].attempts.len(), 3);
    }
}
