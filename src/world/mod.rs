//! Domain state of one tenant (merchant) and the pure operations on it.
//!
//! A [`World`] holds a merchant's cardholders, cards, accounts, its sandbox clock and its seeded
//! random stream. Nothing here knows a provider's field names or wire format: providers map
//! their requests onto these types. Each tenant's world sits behind its own mutex, so a
//! multi-entity update is one short critical section.

pub mod addresses;
pub mod bins;
pub mod card;
pub mod cardholder;
pub mod cardholders;
pub mod cards;
pub mod clock;
pub mod countries;
pub mod deliveries;
pub mod glob;
pub mod holder_accounts;
pub mod ids;
pub mod image;
pub mod ledger;
pub mod money;
pub mod orders;
pub mod ratelimit;
pub mod replay;
pub mod review;
pub mod rng;
pub mod rules;
pub mod script;
pub mod tenant;
pub mod timeline;
pub mod transactions;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use card::{Activation, Card, CardForm, CardStatus, Expiry, Funding};
pub use cardholder::{
    Address, Cardholder, Gender, IdDocument, IdKind, Kyc, KycStatus, Phone, Review,
};
pub use cardholders::{Cardholders, HolderMut};
pub use cards::{CardClash, CardMut, Cards};
pub use clock::{Clock, ClockSpec};
pub use money::{Currency, Money, MoneyError};
use ratelimit::{Meter, RateLimit};
use rng::SandboxRng;
use timeline::{Notice, Notification, Scheduled};

/// Why a card could not be numbered: its BIN has (almost) no unused numbers left.
pub const NO_FREE_NUMBER: &str = "no unused card number is left on this BIN";

/// Who a tenant is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Merchant {
    pub id: String,
    pub name: String,
}

/// The complete state of one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct World {
    pub merchant: Merchant,
    pub clock: Clock,
    /// While a due event runs, the instant it was due: what it does happens then, however far
    /// one advance jumped past it (ids, timestamps and limits do not depend on step sizes).
    #[serde(skip)]
    event_time: Option<Timestamp>,
    /// While a request holds the world, the instant it holds it at (see
    /// [`World::at_one_instant`]).
    #[serde(skip)]
    request_time: Option<Timestamp>,
    #[serde(skip)]
    rng: SandboxRng,
    /// For values that are not business data (trace ids of refused requests), so that refused
    /// requests never shift the ids, PANs and codes of later business.
    #[serde(skip)]
    aux_rng: SandboxRng,
    /// People, found by id and business keys.
    pub cardholders: Cardholders,
    /// Cards, found by id and business keys.
    cards: Cards,
    /// The merchant's own balances, one account per currency.
    pub accounts: BTreeMap<Currency, Money>,
    /// Rate meters keyed by whatever the provider limits on (a token, an API key).
    #[serde(skip)]
    meters: HashMap<String, Meter>,
    /// Card transactions and transfers, oldest first.
    transactions: transactions::Transactions,
    /// Net money that entered (+) or left (−) through card purchases and refunds.
    external: BTreeMap<Currency, Money>,
    /// Uploaded files (KYC images) by id.
    pub files: BTreeMap<String, UploadedFile>,
    /// Card orders by order number; added through [`World::insert_order`].
    orders: BTreeMap<String, orders::Order>,
    /// Card id → the number of the order that made it (an order's card never changes).
    #[serde(skip)]
    order_of_card: HashMap<String, String>,
    /// Cardholders' own accounts (credit extension), by cardholder and currency.
    pub holder_accounts: BTreeMap<String, BTreeMap<Currency, Money>>,
    /// Transfers between the merchant and its cardholders, oldest first.
    holder_transfers: Vec<holder_accounts::HolderTransfer>,
    /// Business idempotency keys already used (a provider's order numbers, namespaced).
    #[serde(skip)]
    used_keys: BTreeSet<String>,
    /// Request numbers spent, for replay checks (remembered for a window).
    #[serde(skip)]
    spent_requests: replay::SpentKeys,
    /// Webhook URL per provider.
    pub webhook_urls: BTreeMap<String, String>,
    /// Events waiting on the sandbox clock.
    timeline: Vec<Scheduled>,
    /// Notifications not yet handed to the webhook dispatcher.
    #[serde(skip)]
    outbox: Vec<Notice>,
    /// Webhooks rendered for the merchant, with their attempts.
    deliveries: Vec<deliveries::Delivery>,
    /// Counters behind generated ids and event order.
    #[serde(skip)]
    sequence: u64,
    /// The scenario's FX table and magic values.
    #[serde(skip)]
    pub rules: std::sync::Arc<rules::Rules>,
    /// Labels of transactions a scenario's timeline posted (`auth1` → its id).
    pub labels: BTreeMap<String, String>,
    /// What the scenario's timeline events did, oldest first (for people reading the state).
    pub events_log: Vec<script::EventRecord>,
}

/// An uploaded file: its type and size (the bytes themselves are not kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UploadedFile {
    pub id: String,
    pub media_type: String,
    pub size: usize,
    /// Whose file it is (an email).
    pub owner: String,
    pub uploaded_at: Timestamp,
}

impl World {
    /// An empty world for `merchant` whose random streams derive from `seed`.
    pub fn new(merchant: Merchant, clock: Clock, seed: u64) -> World {
        World {
            rng: rng::stream(seed, &format!("tenant:{}", merchant.id)),
            aux_rng: rng::stream(seed, &format!("tenant-aux:{}", merchant.id)),
            merchant,
            clock,
            event_time: None,
            request_time: None,
            cardholders: Cardholders::default(),
            cards: Cards::default(),
            accounts: BTreeMap::new(),
            meters: HashMap::new(),
            transactions: transactions::Transactions::default(),
            external: BTreeMap::new(),
            files: BTreeMap::new(),
            orders: BTreeMap::new(),
            order_of_card: HashMap::new(),
            holder_accounts: BTreeMap::new(),
            holder_transfers: Vec::new(),
            used_keys: BTreeSet::new(),
            spent_requests: replay::SpentKeys::default(),
            webhook_urls: BTreeMap::new(),
            timeline: Vec::new(),
            outbox: Vec::new(),
            deliveries: Vec::new(),
            sequence: 0,
            rules: std::sync::Arc::default(),
            labels: BTreeMap::new(),
            events_log: Vec::new(),
        }
    }

    /// The tenant's current sandbox instant.
    pub fn now(&self) -> Timestamp {
        self.event_time
            .or(self.request_time)
            .unwrap_or_else(|| self.clock.now())
    }

    /// The tenant's seeded random stream, for business values.
    pub fn rng(&mut self) -> &mut SandboxRng {
        &mut self.rng
    }

    /// The tenant's second seeded stream, for values that are not business data.
    pub fn aux_rng(&mut self) -> &mut SandboxRng {
        &mut self.aux_rng
    }

    /// All cards.
    pub fn cards(&self) -> &Cards {
        &self.cards
    }

    /// Makes room for `more` cards.
    pub fn reserve_cards(&mut self, more: usize) {
        self.cards.reserve(more);
    }

    /// Adds a card unless its id or PAN is already taken.
    pub fn insert_card(&mut self, card: Card) -> Result<(), CardClash> {
        self.cards.insert(card)
    }

    /// A new Luhn-valid number on `bin` that none of the tenant's cards has. `None` when every
    /// draw collides (a long BIN whose few numbers are nearly all taken): callers answer an
    /// error rather than loop.
    /// A refusal for want of one leaves the random stream where it was.
    pub fn unused_pan(&mut self, bin: &str, length: usize) -> Option<String> {
        self.draw_if(|rng, world| world.free_pan(rng, bin, length))
    }

    /// [`World::unused_pan`] drawn from `rng`, for use inside [`World::draw_if`].
    pub fn free_pan(&self, rng: &mut SandboxRng, bin: &str, length: usize) -> Option<String> {
        const ATTEMPTS: usize = 64;
        (0..ATTEMPTS)
            .map(|_| ids::pan(rng, bin, length))
            .find(|pan| self.cards.by_pan(pan).is_none())
    }

    /// Draws from the business stream, keeping the draws only when `draw` finds what it looks
    /// for: a request refused for want of a free number must not shift the ids, PANs and codes
    /// of later business.
    pub fn draw_if<T>(
        &mut self,
        draw: impl FnOnce(&mut SandboxRng, &World) -> Option<T>,
    ) -> Option<T> {
        let mut rng = self.rng.clone();
        let drawn = draw(&mut rng, self)?;
        self.rng = rng;
        Some(drawn)
    }

    /// The card with this PAN, if the tenant has one.
    pub fn card_by_pan(&self, pan: &str) -> Option<&Card> {
        self.cards.by_pan(pan)
    }

    /// The card with this token, if the tenant has one.
    pub fn card_by_token(&self, token: &str) -> Option<&Card> {
        self.cards.by_token(token)
    }

    /// The cards with this merchant reference, by id.
    pub fn cards_with_ref(&self, reference: &str) -> impl Iterator<Item = &Card> {
        self.cards.by_ref(reference).into_iter()
    }

    /// The holder's cards, by id.
    pub fn cards_of_holder(&self, holder: &str) -> impl Iterator<Item = &Card> {
        self.cards.by_holder(holder)
    }

    /// How many cards `issuer` manages, and those from the `skip`th on, oldest first (by
    /// creation, then the order they were added): a page of them is a slice of an index, not a
    /// sort.
    pub fn issuer_cards(&self, issuer: &str, skip: usize) -> (usize, impl Iterator<Item = &Card>) {
        self.cards.by_issuer(issuer, skip)
    }

    /// The cardholder a card belongs to.
    pub fn holder_of(&self, card: &Card) -> Option<&Cardholder> {
        self.cardholders.get(card.cardholder_id.as_deref()?)
    }

    /// A cardholder by email (case-insensitive), among those `issuer` serves (any, if none).
    pub fn cardholder_by_email(&self, email: &str, issuer: Option<&str>) -> Option<&Cardholder> {
        self.cardholders
            .by_email(email)
            .into_iter()
            .find(|h| issuer.is_none_or(|i| h.serves(i)))
    }

    /// A card by id, to change; the indexes follow when the guard goes.
    pub fn card_mut(&mut self, id: &str) -> Option<CardMut<'_>> {
        self.cards.get_mut(id)
    }

    /// A fresh id: `prefix`, the sandbox time as `yyMMddHHmmss`, and a sequence number.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.sequence += 1;
        let stamp = self
            .now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%y%m%d%H%M%S")
            .to_string();
        format!("{prefix}{stamp}{:06}", self.sequence)
    }

    /// The next number of a plain counter (card ids and the like).
    pub fn next_number(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// Whether a business idempotency key (an order number) was used before.
    pub fn key_used(&self, key: &str) -> bool {
        self.used_keys.contains(key)
    }

    /// Marks a business idempotency key as used, for good.
    pub fn use_key(&mut self, key: String) {
        self.used_keys.insert(key);
    }

    /// Whether a request number was spent recently ([`replay::WINDOW`]).
    pub fn request_spent(&self, key: &str) -> bool {
        self.spent_requests.is_spent(key, self.now())
    }

    /// Spends a request number now.
    pub fn spend_request(&mut self, key: String) {
        let now = self.now();
        self.spent_requests.spend(key, now);
    }

    /// Changes a card's status now and tells the webhooks; no-op when unchanged or unknown.
    pub fn set_card_status(&mut self, card_id: &str, to: CardStatus, at: Timestamp) {
        let Some(mut card) = self.cards.get_mut(card_id) else {
            return;
        };
        let from = card.status;
        if from == to {
            return;
        }
        card.status = to;
        drop(card);
        self.notify(
            at,
            Notification::CardStatusChanged {
                card_id: card_id.to_owned(),
                from,
                to,
            },
        );
    }

    /// Settles a cardholder's KYC now, tells the webhooks and finishes the card orders that
    /// waited for it.
    pub fn decide_kyc(
        &mut self,
        cardholder_id: &str,
        decision: KycStatus,
        reason: Option<String>,
        codes: Vec<String>,
        at: Timestamp,
    ) {
        let Some(mut holder) = self.cardholders.get_mut(cardholder_id) else {
            return;
        };
        let from = holder.kyc.status;
        holder.kyc.status = decision;
        holder.kyc.reason = reason;
        holder.kyc.codes = codes;
        holder.kyc.decided_at = Some(at);
        holder.kyc.review = None;
        holder.kyc.hosted_token = None;
        drop(holder);
        self.notify(
            at,
            Notification::KycDecided {
                cardholder_id: cardholder_id.to_owned(),
                from,
                status: decision,
            },
        );
        self.finish_orders_waiting_on(cardholder_id, at);
    }

    /// Counts one request against the meter `key`; `Err(ms)` says when the next one would pass.
    pub fn take_rate_token(&mut self, key: &str, limit: RateLimit) -> Result<(), u64> {
        let now = self.now();
        self.meters
            .entry(key.to_owned())
            .or_insert_with(|| Meter::full(limit, now))
            .try_take(limit, now)
    }
}

/// A one-merchant world with a frozen clock at `at`, for unit tests.
#[cfg(test)]
pub(crate) fn test_world(at: &str) -> World {
    let at: Timestamp = at.parse().expect("an RFC 3339 instant");
    World::new(
        Merchant {
            id: "m".into(),
            name: "m".into(),
        },
        Clock::starting_at(at, true),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_pans_avoid_taken_numbers_and_give_up_when_none_is_left() {
        // An 8-digit BIN on 12-digit cards has exactly 1,000 numbers.
        let (bin, length) = ("45678901", 12);
        let mut world = test_world("2026-01-01T00:00:00Z");
        let usd = Currency::new("USD").unwrap();
        let now = world.now();
        for n in 0..999 {
            let partial = format!("{bin}{n:03}");
            let pan = format!("{partial}{}", ids::luhn_check_digit(&partial));
            let card = Card::ordered(
                n.to_string(),
                "issuer-a",
                pan,
                "123".into(),
                usd.clone(),
                now,
            );
            world.insert_card(card).unwrap();
        }
        // One number is left; 64 draws find it with probability 1 - (999/1000)^64 ≈ 6 %, so
        // the answer is either that number or None; after taking it, always None.
        let last = format!("{bin}999{}", ids::luhn_check_digit(&format!("{bin}999")));
        if let Some(pan) = world.unused_pan(bin, length) {
            assert_eq!(pan, last);
        }
        let card = Card::ordered("last".into(), "issuer-a", last, "123".into(), usd, now);
        world.insert_card(card).unwrap();
        // Refused for want of a number, the stream stays where it was.
        let mut position = world.rng().clone();
        assert_eq!(world.unused_pan(bin, length), None);
        assert_eq!(world.cards().len(), 1000);
        assert_eq!(ids::digits(world.rng(), 16), ids::digits(&mut position, 16));
        // Found, the draws are kept.
        let mut before = world.rng().clone();
        world.unused_pan("622202", 19).unwrap();
        assert_ne!(ids::digits(world.rng(), 16), ids::digits(&mut before, 16));
    }

    #[test]
    fn unused_pans_are_valid_numbers_on_the_bin() {
        let mut world = test_world("2026-01-01T00:00:00Z");
        let pan = world.unused_pan("622202", 19).unwrap();
        assert_eq!(pan.len(), 19);
        assert!(pan.starts_with("622202"));
        assert!(ids::luhn_valid(&pan));
    }

    #[test]
    fn card_indexes_follow_every_change() {
        let mut world = test_world("2026-01-01T00:00:00Z");
        let usd = Currency::new("USD").unwrap();
        let now = world.now();
        let card = |id: &str, pan: &str| Card {
            token: Some(format!("T-{id}")),
            merchant_ref: Some(format!("R-{id}")),
            ..Card::ordered(
                id.into(),
                "bank-a",
                pan.into(),
                "123".into(),
                usd.clone(),
                now,
            )
        };
        world.insert_card(card("b", "4111111111111111")).unwrap();
        world.insert_card(card("a", "4012888888881881")).unwrap();
        assert_eq!(world.card_by_token("T-a").unwrap().id, "a");
        assert_eq!(world.cards_with_ref("R-b").next().unwrap().id, "b");
        assert_eq!(world.cards_of_holder("h").count(), 0);
        // Same instant: in the order added.
        let (count, order) = world.issuer_cards("bank-a", 0);
        assert_eq!(
            (count, order.map(|c| c.id.as_str()).collect::<Vec<_>>()),
            (2, vec!["b", "a"])
        );
        {
            let mut changed = world.card_mut("a").unwrap();
            changed.cardholder_id = Some("h".into());
            changed.token = Some("T-new".into());
            changed.merchant_ref = None;
        }
        assert_eq!(world.cards_of_holder("h").next().unwrap().id, "a");
        assert!(world.card_by_token("T-a").is_none());
        assert_eq!(world.card_by_token("T-new").unwrap().id, "a");
        assert_eq!(world.cards_with_ref("R-a").count(), 0);
        assert_eq!(world.card_by_pan("4012888888881881").unwrap().id, "a");
        assert_eq!(world.issuer_cards("bank-a", 0).0, 2);
        // A change of holder, token or reference keeps the card's place.
        let (_, second) = world.issuer_cards("bank-a", 1);
        assert_eq!(second.map(|c| c.id.as_str()).collect::<Vec<_>>(), vec!["a"]);
        // A card made earlier (the clock set back) takes its place in the order.
        let earlier = Card {
            created_at: now
                .saturating_sub(jiff::SignedDuration::from_secs(1))
                .unwrap(),
            ..card("c", "5500005555555559")
        };
        world.insert_card(earlier).unwrap();
        let (_, order) = world.issuer_cards("bank-a", 0);
        assert_eq!(
            order.map(|c| c.id.as_str()).collect::<Vec<_>>(),
            vec!["c", "b", "a"]
        );
    }
}
