//! A tenant's cards, each stored once, found by business key without a scan: by id, number,
//! token, the merchant's reference, holder, and an issuer's cards in the order they were made
//! (for paged lists).
//!
//! Cards sit in a vector in the order they were added (they are never removed: a closed card
//! stays closed), and every index holds slot numbers rather than copies of the keys: the hash
//! tables compare against the stored card, so a million cards cost the cards themselves plus a
//! few bytes each (see `examples/scale.rs`). Cards change only through [`CardMut`], whose guard
//! re-indexes whatever keys changed.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::card::Card;

/// A card's place in [`Cards`].
type Slot = u32;

/// Why a card could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardClash {
    /// Another card has this id.
    Id,
    /// Another card has this number.
    Pan,
    /// The tenant holds as many cards as a slot number can count (4,294,967,295).
    Full,
}

/// The cards of one tenant and their indexes.
#[derive(Clone, Default)]
pub struct Cards {
    slots: Vec<Card>,
    hasher: DefaultHashBuilder,
    by_id: HashTable<Slot>,
    by_pan: HashTable<Slot>,
    by_token: HashTable<Slot>,
    /// Several cards may share a reference (the table holds one entry per card).
    by_ref: HashTable<Slot>,
    /// Per holder, their cards by id.
    by_holder: HashMap<String, Vec<Slot>>,
    /// Per issuer (`""` for cards without one): its cards by (made at, slot), oldest first,
    /// cards made at one instant in the order they were added. A sorted vector, not a tree: a
    /// page is a slice. Cards are made in time order, so adding is appending (a card made
    /// "earlier", after the clock was set back, is moved into place).
    by_issuer: HashMap<String, Vec<Slot>>,
}

/// The keys a card was indexed under, kept while it changes: strings that are unique per card
/// as hashes (a change of one moves the card between hash-table entries), the grouping keys as
/// they were (to find the group the card leaves).
#[derive(Debug)]
struct Keys {
    id: u64,
    pan: u64,
    token: Option<u64>,
    merchant_ref: Option<u64>,
    cardholder_id: Option<String>,
    issuer: Option<String>,
    created_at: jiff::Timestamp,
}

impl Cards {
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    fn keys(&self, card: &Card) -> Keys {
        Keys {
            id: self.hash(&card.id),
            pan: self.hash(&card.pan),
            token: card.token.as_deref().map(|t| self.hash(t)),
            merchant_ref: card.merchant_ref.as_deref().map(|r| self.hash(r)),
            cardholder_id: card.cardholder_id.clone(),
            issuer: card.issuer.clone(),
            created_at: card.created_at,
        }
    }

    fn card(&self, slot: Slot) -> &Card {
        &self.slots[slot as usize]
    }

    /// How many cards there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The card with this id.
    pub fn get(&self, id: &str) -> Option<&Card> {
        let slot = self.by_id.find(self.hash(id), |&s| self.card(s).id == id)?;
        Some(self.card(*slot))
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Every card in the order added (for sums and searches whose answer has no order).
    pub fn iter(&self) -> impl Iterator<Item = &Card> {
        self.slots.iter()
    }

    /// Every card, by id (sorts: for whole-world views, not for serving paths).
    pub fn values(&self) -> impl Iterator<Item = &Card> {
        let mut cards: Vec<&Card> = self.slots.iter().collect();
        cards.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        cards.into_iter()
    }

    /// The card with this number.
    pub fn by_pan(&self, pan: &str) -> Option<&Card> {
        let slot = self
            .by_pan
            .find(self.hash(pan), |&s| self.card(s).pan == pan)?;
        Some(self.card(*slot))
    }

    /// The card with this token.
    pub fn by_token(&self, token: &str) -> Option<&Card> {
        let slot = self.by_token.find(self.hash(token), |&s| {
            self.card(s).token.as_deref() == Some(token)
        })?;
        Some(self.card(*slot))
    }

    /// The cards with this merchant reference, by id.
    pub fn by_ref(&self, reference: &str) -> Vec<&Card> {
        let mut cards: Vec<&Card> = self
            .by_ref
            .iter_hash(self.hash(reference))
            .map(|&s| self.card(s))
            .filter(|c| c.merchant_ref.as_deref() == Some(reference))
            .collect();
        cards.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        cards
    }

    /// The holder's cards, by id.
    pub fn by_holder(&self, holder: &str) -> impl Iterator<Item = &Card> {
        let slots = self.by_holder.get(holder).map_or(&[][..], Vec::as_slice);
        slots.iter().map(|&s| self.card(s))
    }

    /// How many cards `issuer` manages, and those from the `skip`th on, oldest first.
    pub fn by_issuer(&self, issuer: &str, skip: usize) -> (usize, impl Iterator<Item = &Card>) {
        let all = self.by_issuer.get(issuer).map_or(&[][..], Vec::as_slice);
        let from = all.get(skip..).unwrap_or_default();
        (all.len(), from.iter().map(|&s| self.card(s)))
    }

    /// Adds a card unless its id or number is taken.
    pub fn insert(&mut self, card: Card) -> Result<(), CardClash> {
        if self.contains_key(&card.id) {
            return Err(CardClash::Id);
        }
        if self.by_pan(&card.pan).is_some() {
            return Err(CardClash::Pan);
        }
        let slot = Slot::try_from(self.slots.len()).map_err(|_| CardClash::Full)?;
        self.slots.push(card);
        self.index(slot);
        Ok(())
    }

    /// Makes room for `more` cards (a scenario about to generate many).
    pub fn reserve(&mut self, more: usize) {
        let Cards {
            slots,
            hasher,
            by_id,
            by_pan,
            ..
        } = self;
        let rehash = |key: fn(&Card) -> &str| {
            let (slots, hasher) = (&*slots, &*hasher);
            move |s: &Slot| hasher.hash_one(key(&slots[*s as usize]))
        };
        by_id.reserve(more, rehash(|c| &c.id));
        by_pan.reserve(more, rehash(|c| &c.pan));
        slots.reserve(more);
    }

    /// A card to change; the indexes follow when the guard goes.
    pub fn get_mut(&mut self, id: &str) -> Option<CardMut<'_>> {
        let slot = *self.by_id.find(self.hash(id), |&s| self.card(s).id == id)?;
        let before = self.keys(self.card(slot));
        Some(CardMut {
            cards: self,
            slot,
            before,
        })
    }

    /// Enters the card in `slot` in every index.
    fn index(&mut self, slot: Slot) {
        let Cards {
            slots,
            hasher,
            by_id,
            by_pan,
            by_token,
            by_ref,
            by_holder,
            by_issuer,
        } = self;
        let (slots, hasher) = (&*slots, &*hasher);
        let card = &slots[slot as usize];
        // The tables call this back for entries they move when they grow.
        let rehash = |key: fn(&Card) -> Option<&str>| {
            move |s: &Slot| hasher.hash_one(key(&slots[*s as usize]).unwrap_or_default())
        };
        by_id.insert_unique(hasher.hash_one(&card.id), slot, rehash(|c| Some(&c.id)));
        by_pan.insert_unique(hasher.hash_one(&card.pan), slot, rehash(|c| Some(&c.pan)));
        if let Some(token) = &card.token {
            by_token.insert_unique(hasher.hash_one(token), slot, rehash(|c| c.token.as_deref()));
        }
        if let Some(reference) = &card.merchant_ref {
            by_ref.insert_unique(
                hasher.hash_one(reference),
                slot,
                rehash(|c| c.merchant_ref.as_deref()),
            );
        }
        if let Some(holder) = &card.cardholder_id {
            let cards = by_holder.entry(holder.clone()).or_default();
            let at = cards.partition_point(|&s| slots[s as usize].id < card.id);
            cards.insert(at, slot);
        }
        let cards = by_issuer
            .entry(card.issuer.clone().unwrap_or_default())
            .or_default();
        let at =
            cards.partition_point(|&s| (slots[s as usize].created_at, s) < (card.created_at, slot));
        cards.insert(at, slot);
    }

    /// Takes the card in `slot` out of the indexes it was entered in under `keys`.
    fn unindex(&mut self, slot: Slot, keys: &Keys) {
        let forget = |table: &mut HashTable<Slot>, hash: Option<u64>| {
            if let Some(hash) = hash
                && let Ok(entry) = table.find_entry(hash, |&s| s == slot)
            {
                entry.remove();
            }
        };
        forget(&mut self.by_id, Some(keys.id));
        forget(&mut self.by_pan, Some(keys.pan));
        forget(&mut self.by_token, keys.token);
        forget(&mut self.by_ref, keys.merchant_ref);
        let leave = |groups: &mut HashMap<String, Vec<Slot>>, key: &str| {
            if let Some(cards) = groups.get_mut(key) {
                cards.retain(|&s| s != slot);
                if cards.is_empty() {
                    groups.remove(key);
                }
            }
        };
        if let Some(holder) = &keys.cardholder_id {
            leave(&mut self.by_holder, holder);
        }
        leave(
            &mut self.by_issuer,
            keys.issuer.as_deref().unwrap_or_default(),
        );
    }
}

impl fmt::Debug for Cards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values().map(|c| (&c.id, c)))
            .finish()
    }
}

/// As a map from id to card, by id.
impl Serialize for Cards {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for card in self.values() {
            map.serialize_entry(&card.id, card)?;
        }
        map.end()
    }
}

impl std::ops::Index<&str> for Cards {
    type Output = Card;
    /// The card with this id; panics without one (for tests).
    fn index(&self, id: &str) -> &Card {
        self.get(id).expect("a card with this id")
    }
}

/// A card being changed ([`Cards::get_mut`]); when it goes, the indexes are brought up to date
/// with whatever keys changed.
pub struct CardMut<'w> {
    cards: &'w mut Cards,
    slot: Slot,
    before: Keys,
}

impl fmt::Debug for CardMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cards.card(self.slot).fmt(f)
    }
}

impl std::ops::Deref for CardMut<'_> {
    type Target = Card;
    fn deref(&self) -> &Card {
        self.cards.card(self.slot)
    }
}

impl std::ops::DerefMut for CardMut<'_> {
    fn deref_mut(&mut self) -> &mut Card {
        &mut self.cards.slots[self.slot as usize]
    }
}

impl Drop for CardMut<'_> {
    fn drop(&mut self) {
        // Unique keys compare by hash: a changed key whose hash collides with the old one's
        // (odds 2^-64) would stay filed under the old entry.
        let cards = &*self.cards;
        let card = cards.card(self.slot);
        let before = &self.before;
        let hash = |key: Option<&str>| key.map(|k| cards.hash(k));
        let unchanged = cards.hash(&card.id) == before.id
            && cards.hash(&card.pan) == before.pan
            && hash(card.token.as_deref()) == before.token
            && hash(card.merchant_ref.as_deref()) == before.merchant_ref
            && card.cardholder_id == before.cardholder_id
            && card.issuer == before.issuer
            && card.created_at == before.created_at;
        if !unchanged {
            self.cards.unindex(self.slot, &self.before);
            self.cards.index(self.slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Currency, ids};

    fn card(n: usize, at: jiff::Timestamp) -> Card {
        let partial = format!("411111{n:09}");
        Card {
            merchant_ref: Some(format!("R-{}", n % 1000)),
            cardholder_id: Some(format!("H-{}", n % 7)),
            token: Some(format!("T-{n}")),
            ..Card::ordered(
                format!("card-{n:06}"),
                "bank-a",
                format!("{partial}{}", ids::luhn_check_digit(&partial)),
                "123".into(),
                Currency::new("USD").unwrap(),
                at,
            )
        }
    }

    #[test]
    fn keys_are_found_among_many_cards_after_they_change() {
        let at = jiff::Timestamp::UNIX_EPOCH;
        let mut cards = Cards::default();
        for n in 0..10_000 {
            cards.insert(card(n, at)).unwrap();
        }
        // Clashes are refused and change nothing.
        assert_eq!(cards.insert(card(5, at)), Err(CardClash::Id));
        let same_pan = Card {
            id: "other".into(),
            ..card(5, at)
        };
        assert_eq!(cards.insert(same_pan), Err(CardClash::Pan));
        assert_eq!(cards.len(), 10_000);
        // A shared reference finds every card with it, by id.
        let ids = |found: Vec<&Card>| found.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(cards.by_ref("R-7")),
            (0..10)
                .map(|k| format!("card-{:06}", k * 1000 + 7))
                .collect::<Vec<_>>()
        );
        {
            let mut changed = cards.get_mut("card-001007").unwrap();
            changed.merchant_ref = Some("R-new".into());
            changed.token = None;
            changed.cardholder_id = Some("H-new".into());
        }
        assert_eq!(cards.by_ref("R-7").len(), 9);
        assert_eq!(ids(cards.by_ref("R-new")), vec!["card-001007"]);
        assert!(cards.by_token("T-1007").is_none());
        assert_eq!(cards.by_token("T-1008").unwrap().id, "card-001008");
        let holder: Vec<&str> = cards.by_holder("H-new").map(|c| c.id.as_str()).collect();
        assert_eq!(holder, vec!["card-001007"]);
        let of_h0: Vec<&str> = cards.by_holder("H-0").map(|c| c.id.as_str()).collect();
        assert_eq!(of_h0.len(), 1429);
        assert!(of_h0.windows(2).all(|w| w[0] < w[1]), "by id");
        // Pages of an issuer's cards are slices in creation order.
        let (count, page) = cards.by_issuer("bank-a", 9_998);
        let page: Vec<&str> = page.map(|c| c.id.as_str()).collect();
        assert_eq!((count, page), (10_000, vec!["card-009998", "card-009999"]));
        assert_eq!(cards["card-000042"].pan, card(42, at).pan);
        assert_eq!(
            cards.by_pan(&card(9_999, at).pan).unwrap().id,
            "card-009999"
        );
    }
}
