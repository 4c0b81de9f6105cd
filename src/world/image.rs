//! A tenant's world as a snapshot keeps it: every field, including what the state view leaves
//! out (the random streams' positions, counters, rate meters, spent request numbers, activation
//! codes, notifications not yet handed over), in an order that does not depend on hashing. A
//! world restored from its image answers the next requests exactly as the original would, and
//! its image is the same, byte for byte.
//!
//! The indexes (by number, token, email, order of card, ...) are not kept: restoring rebuilds
//! them by adding each entity again, which also checks the keys that must be unique.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::clock::{Clock, ClockState};
use super::deliveries::Delivery;
use super::holder_accounts::HolderTransfer;
use super::ledger::Transaction;
use super::orders::Order;
use super::ratelimit::Meter;
use super::replay::SpentKeys;
use super::rng::SandboxRng;
use super::rules::Rules;
use super::script::EventRecord;
use super::timeline::{Notice, Scheduled};
use super::{Card, CardClash, Cardholder, Currency, Merchant, Money, UploadedFile, World};

/// Everything a tenant's world holds.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldImage {
    pub merchant: Merchant,
    pub clock: ClockState,
    /// The business stream (ids, PANs, CVVs, codes).
    pub rng: SandboxRng,
    /// The stream for values that are not business data (trace ids, session keys).
    pub aux_rng: SandboxRng,
    /// The counter behind generated ids and the order of events due at one instant.
    pub sequence: u64,
    /// By id.
    pub cardholders: Vec<Cardholder>,
    /// In the order they were added (lists of an issuer's cards follow it).
    pub cards: Vec<Card>,
    /// Physical cards' activation codes by card id (the state view hides them).
    pub activation_codes: BTreeMap<String, String>,
    pub accounts: BTreeMap<Currency, Money>,
    /// Net money that entered or left through card purchases and refunds.
    pub external: BTreeMap<Currency, Money>,
    pub holder_accounts: BTreeMap<String, BTreeMap<Currency, Money>>,
    pub holder_transfers: Vec<HolderTransfer>,
    /// Oldest first.
    pub transactions: Vec<Transaction>,
    /// By order number.
    pub orders: Vec<Order>,
    /// By id.
    pub files: Vec<UploadedFile>,
    /// Rate meters by key.
    pub meters: BTreeMap<String, Meter>,
    /// Business idempotency keys already used.
    pub used_keys: BTreeSet<String>,
    /// Request numbers spent (replay protection), oldest first.
    pub spent_requests: Vec<Spending>,
    pub webhook_urls: BTreeMap<String, String>,
    /// Events waiting on the clock, soonest first.
    pub timeline: Vec<Scheduled>,
    /// Notifications not yet handed to the webhook dispatcher.
    pub outbox: Vec<Notice>,
    /// Webhooks with their attempts and what is owed.
    pub deliveries: Vec<Delivery>,
    pub labels: BTreeMap<String, String>,
    pub events_log: Vec<EventRecord>,
}

/// One spent request number and when it was spent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spending {
    pub key: String,
    pub at: Timestamp,
}

/// Why an image cannot become a world: where (a JSON path under the world) and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageProblem {
    pub path: String,
    pub message: String,
}

impl World {
    /// The complete image of this world.
    pub fn image(&self) -> WorldImage {
        let activation_codes = self
            .cards
            .iter()
            .filter_map(|card| {
                let code = &card.activation.as_ref()?.code;
                (!code.is_empty()).then(|| (card.id.clone(), code.clone()))
            })
            .collect();
        WorldImage {
            merchant: self.merchant.clone(),
            clock: self.clock.state(),
            rng: self.rng.clone(),
            aux_rng: self.aux_rng.clone(),
            sequence: self.sequence,
            cardholders: self.cardholders.values().cloned().collect(),
            cards: self.cards.iter().cloned().collect(),
            activation_codes,
            accounts: self.accounts.clone(),
            external: self.external.clone(),
            holder_accounts: self.holder_accounts.clone(),
            holder_transfers: self.holder_transfers.clone(),
            transactions: self.transactions.iter().cloned().collect(),
            orders: self.orders.values().cloned().collect(),
            files: self.files.values().cloned().collect(),
            meters: self
                .meters
                .iter()
                .map(|(key, meter)| (key.clone(), *meter))
                .collect(),
            used_keys: self.used_keys.clone(),
            spent_requests: self
                .spent_requests
                .spendings()
                .map(|(key, at)| Spending {
                    key: key.to_owned(),
                    at,
                })
                .collect(),
            webhook_urls: self.webhook_urls.clone(),
            timeline: self.timeline.clone(),
            outbox: self.outbox.clone(),
            deliveries: self
                .deliveries
                .iter()
                .cloned()
                .map(Delivery::owed_again)
                .collect(),
            labels: self.labels.clone(),
            events_log: self.events_log.clone(),
        }
    }

    /// The world `image` describes, with the scenario's `rules`; every problem found (keys
    /// that must be unique and are not), each with its path under the world.
    pub fn from_image(image: WorldImage, rules: Arc<Rules>) -> Result<World, Vec<ImageProblem>> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: &str| {
            problems.push(ImageProblem {
                path,
                message: message.to_owned(),
            });
        };
        let mut world = World {
            rng: image.rng,
            aux_rng: image.aux_rng,
            sequence: image.sequence,
            clock: Clock::from_state(image.clock),
            accounts: image.accounts,
            external: image.external,
            holder_accounts: image.holder_accounts,
            holder_transfers: image.holder_transfers,
            meters: image.meters.into_iter().collect(),
            used_keys: image.used_keys,
            spent_requests: SpentKeys::from_spendings(
                image.spent_requests.into_iter().map(|s| (s.key, s.at)),
            ),
            webhook_urls: image.webhook_urls,
            outbox: image.outbox,
            deliveries: image.deliveries,
            labels: image.labels,
            events_log: image.events_log,
            rules,
            ..World::new(image.merchant, Clock::from_state(image.clock), 0)
        };
        for (n, holder) in image.cardholders.into_iter().enumerate() {
            let id = holder.id.clone();
            if world.cardholders.insert(id, holder).is_some() {
                problem(
                    format!("cardholders[{n}].id"),
                    "another cardholder has this id",
                );
            }
        }
        world.cards.reserve(image.cards.len());
        let mut codes = image.activation_codes;
        for (n, mut card) in image.cards.into_iter().enumerate() {
            if let (Some(activation), Some(code)) = (&mut card.activation, codes.remove(&card.id)) {
                activation.code = code;
            }
            match world.cards.insert(card) {
                Ok(()) => {}
                Err(CardClash::Id) => problem(format!("cards[{n}].id"), "another card has this id"),
                Err(CardClash::Pan) => {
                    problem(format!("cards[{n}].pan"), "another card has this number");
                }
                Err(CardClash::Full) => problem(format!("cards[{n}]"), "too many cards"),
            }
        }
        for id in codes.keys() {
            problem(
                format!("activation_codes.{id}"),
                "names no physical card with an activation",
            );
        }
        for (n, transaction) in image.transactions.into_iter().enumerate() {
            if world.transactions.get(&transaction.id).is_some() {
                problem(
                    format!("transactions[{n}].id"),
                    "another transaction has this id",
                );
            } else {
                world.transactions.push(transaction);
            }
        }
        for (n, order) in image.orders.into_iter().enumerate() {
            if world.orders.contains_key(&order.order_no) {
                problem(
                    format!("orders[{n}].order_no"),
                    "another order has this number",
                );
            } else {
                world.insert_order(order);
            }
        }
        for (n, file) in image.files.into_iter().enumerate() {
            if world.files.insert(file.id.clone(), file).is_some() {
                problem(format!("files[{n}].id"), "another file has this id");
            }
        }
        let mut timeline = image.timeline;
        timeline.sort_by_key(|s| (s.due, s.seq));
        world.timeline = timeline;
        if problems.is_empty() {
            Ok(world)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_world_has_the_same_image_and_refuses_clashing_keys() {
        let registry = crate::providers::builtin();
        let scenario = crate::scenario::Scenario::builtin_default(&registry).unwrap();
        let mut world = scenario.fresh_world(0).unwrap();
        // A frozen clock, so that the state view's `now` compares.
        world.clock = Clock::starting_at("2026-01-02T03:04:05Z".parse().unwrap(), true);
        let image = world.image();
        let json = serde_json::to_string(&image).unwrap();
        let read: WorldImage = serde_json::from_str(&json).unwrap();
        let restored = World::from_image(read, world.rules.clone()).unwrap();
        assert_eq!(serde_json::to_string(&restored.image()).unwrap(), json);
        assert_eq!(
            serde_json::to_value(&restored).unwrap(),
            serde_json::to_value(&world).unwrap(),
            "the state view"
        );

        let mut clashing = world.image();
        let first = clashing.cards[0].clone();
        clashing.cards.push(first);
        let problems = World::from_image(clashing, world.rules.clone()).unwrap_err();
        let last = world.image().cards.len();
        assert_eq!(problems[0].path, format!("cards[{last}].id"));
    }
}
