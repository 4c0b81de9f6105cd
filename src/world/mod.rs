//! Domain state of one tenant (merchant) and the pure operations on it.
//!
//! A [`World`] holds a merchant's cardholders, cards, accounts, its sandbox clock and its seeded
//! random stream. Nothing here knows a provider's field names or wire format: providers map
//! their requests onto these types. Each tenant's world sits behind its own mutex (see
//! [`crate::app`]), so a multi-entity update is one short critical section.

pub mod bins;
pub mod card;
pub mod cardholder;
pub mod clock;
pub mod ids;
pub mod money;
pub mod ratelimit;
pub mod rng;

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

pub use card::{Card, CardForm, CardStatus, Expiry};
pub use cardholder::{Address, Cardholder, Gender, IdDocument, IdKind, Kyc, KycStatus, Phone};
pub use clock::{Clock, ClockSpec};
pub use money::{Currency, Money, MoneyError};
use ratelimit::{Meter, RateLimit};
use rng::SandboxRng;

/// Why a card could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardClash {
    Id,
    Pan,
}

/// Who a tenant is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Merchant {
    pub id: String,
    pub name: String,
}

/// The complete state of one tenant.
#[derive(Clone, Debug, Serialize)]
pub struct World {
    pub merchant: Merchant,
    pub clock: Clock,
    #[serde(skip)]
    rng: SandboxRng,
    pub cardholders: BTreeMap<String, Cardholder>,
    /// Cards by id; added through [`World::insert_card`] so the PAN index stays true (a PAN
    /// never changes after issue).
    cards: BTreeMap<String, Card>,
    /// PAN → card id.
    #[serde(skip)]
    cards_by_pan: HashMap<String, String>,
    /// The merchant's own balances, one account per currency.
    pub accounts: BTreeMap<Currency, Money>,
    /// Rate meters keyed by whatever the provider limits on (a token, an API key).
    #[serde(skip)]
    meters: HashMap<String, Meter>,
}

impl World {
    /// An empty world for `merchant` whose random stream is `rng`.
    pub fn new(merchant: Merchant, clock: Clock, rng: SandboxRng) -> World {
        World {
            merchant,
            clock,
            rng,
            cardholders: BTreeMap::new(),
            cards: BTreeMap::new(),
            cards_by_pan: HashMap::new(),
            accounts: BTreeMap::new(),
            meters: HashMap::new(),
        }
    }

    /// The tenant's current sandbox instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The tenant's seeded random stream.
    pub fn rng(&mut self) -> &mut SandboxRng {
        &mut self.rng
    }

    /// All cards by id.
    pub fn cards(&self) -> &BTreeMap<String, Card> {
        &self.cards
    }

    /// Adds a card unless its id or PAN is already taken.
    pub fn insert_card(&mut self, card: Card) -> Result<(), CardClash> {
        if self.cards.contains_key(&card.id) {
            return Err(CardClash::Id);
        }
        if self.cards_by_pan.contains_key(&card.pan) {
            return Err(CardClash::Pan);
        }
        self.cards_by_pan.insert(card.pan.clone(), card.id.clone());
        self.cards.insert(card.id.clone(), card);
        Ok(())
    }

    /// The card with this PAN, if the tenant has one.
    pub fn card_by_pan(&self, pan: &str) -> Option<&Card> {
        self.cards.get(self.cards_by_pan.get(pan)?)
    }

    /// The cardholder a card belongs to.
    pub fn holder_of(&self, card: &Card) -> Option<&Cardholder> {
        self.cardholders.get(card.cardholder_id.as_deref()?)
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
