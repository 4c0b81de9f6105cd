//! Lookups of a tenant's cards by business key without a scan: by number, by token, by the
//! merchant's reference, by holder, and an issuer's cards in the order they were made (for
//! paged lists). [`World`](super::World) keeps it true: cards are added through
//! `insert_card` and changed through `card_mut`, whose guard re-indexes what changed.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;

use super::card::Card;

/// The indexed keys of one card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Keys {
    id: String,
    pan: String,
    token: Option<String>,
    merchant_ref: Option<String>,
    cardholder_id: Option<String>,
    issuer: Option<String>,
    created_at: Timestamp,
}

impl Keys {
    pub(super) fn of(card: &Card) -> Keys {
        Keys {
            id: card.id.clone(),
            pan: card.pan.clone(),
            token: card.token.clone(),
            merchant_ref: card.merchant_ref.clone(),
            cardholder_id: card.cardholder_id.clone(),
            issuer: card.issuer.clone(),
            created_at: card.created_at,
        }
    }

    /// Whether two cards' keys index alike (cheap enough to run on every change).
    pub(super) fn same_as(&self, card: &Card) -> bool {
        self.id == card.id
            && self.pan == card.pan
            && self.token == card.token
            && self.merchant_ref == card.merchant_ref
            && self.cardholder_id == card.cardholder_id
            && self.issuer == card.issuer
            && self.created_at == card.created_at
    }
}

/// The indexes.
#[derive(Clone, Debug, Default)]
pub struct CardIndex {
    by_pan: HashMap<String, String>,
    by_token: HashMap<String, String>,
    by_ref: HashMap<String, BTreeSet<String>>,
    by_holder: HashMap<String, BTreeSet<String>>,
    /// Per issuer (`""` for cards without one): (made at, id), oldest first. A sorted vector,
    /// not a tree: a page is a slice. Cards are made in time order, so inserting is appending
    /// (a card made "earlier", after the clock was set back, is moved into place).
    by_issuer: HashMap<String, Vec<(Timestamp, String)>>,
}

impl CardIndex {
    pub(super) fn add(&mut self, keys: &Keys) {
        let id = || keys.id.clone();
        self.by_pan.insert(keys.pan.clone(), id());
        if let Some(token) = &keys.token {
            self.by_token.insert(token.clone(), id());
        }
        if let Some(reference) = &keys.merchant_ref {
            self.by_ref
                .entry(reference.clone())
                .or_default()
                .insert(id());
        }
        if let Some(holder) = &keys.cardholder_id {
            self.by_holder
                .entry(holder.clone())
                .or_default()
                .insert(id());
        }
        let issuer = keys.issuer.clone().unwrap_or_default();
        let cards = self.by_issuer.entry(issuer).or_default();
        let entry = (keys.created_at, id());
        match cards.last() {
            Some(last) if *last > entry => {
                let at = cards.partition_point(|card| *card < entry);
                cards.insert(at, entry);
            }
            _ => cards.push(entry),
        }
    }

    pub(super) fn remove(&mut self, keys: &Keys) {
        if self.by_pan.get(&keys.pan) == Some(&keys.id) {
            self.by_pan.remove(&keys.pan);
        }
        if let Some(token) = &keys.token
            && self.by_token.get(token) == Some(&keys.id)
        {
            self.by_token.remove(token);
        }
        let forget = |map: &mut HashMap<String, BTreeSet<String>>, key: &Option<String>| {
            if let Some(key) = key
                && let Some(ids) = map.get_mut(key)
            {
                ids.remove(&keys.id);
                if ids.is_empty() {
                    map.remove(key);
                }
            }
        };
        forget(&mut self.by_ref, &keys.merchant_ref);
        forget(&mut self.by_holder, &keys.cardholder_id);
        let issuer = keys.issuer.clone().unwrap_or_default();
        if let Some(cards) = self.by_issuer.get_mut(&issuer)
            && let Ok(at) = cards.binary_search(&(keys.created_at, keys.id.clone()))
        {
            cards.remove(at);
        }
    }

    /// The card id with this number.
    pub fn by_pan(&self, pan: &str) -> Option<&String> {
        self.by_pan.get(pan)
    }

    /// The card id with this token.
    pub fn by_token(&self, token: &str) -> Option<&String> {
        self.by_token.get(token)
    }

    /// Ids of the cards with this merchant reference.
    pub fn by_ref(&self, reference: &str) -> impl Iterator<Item = &String> {
        self.by_ref.get(reference).into_iter().flatten()
    }

    /// Ids of the holder's cards.
    pub fn by_holder(&self, holder: &str) -> impl Iterator<Item = &String> {
        self.by_holder.get(holder).into_iter().flatten()
    }

    /// The issuer's cards, oldest first: (made at, id).
    pub fn by_issuer(&self, issuer: &str) -> &[(Timestamp, String)] {
        self.by_issuer.get(issuer).map_or(&[], Vec::as_slice)
    }
}
