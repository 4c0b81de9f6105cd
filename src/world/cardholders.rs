//! A tenant's cardholders by id, found by business key without a scan: by email (any case),
//! by the merchant's reference, by identity-document number and by hosted-KYC token.
//!
//! People change only through [`HolderMut`], whose guard re-indexes whatever keys changed.
//! Several people may share a key (one person registered with two issuers); lookups give them
//! by id.

use std::collections::BTreeMap;
use std::fmt;

use hashbrown::HashMap;
use serde::{Serialize, Serializer};

use super::cardholder::Cardholder;

/// Ids of the people sharing one key, sorted (a vector: most keys belong to one person, and a
/// one-element tree would take a whole node).
type Ids = Vec<String>;

/// The cardholders of one tenant and their indexes.
#[derive(Clone, Default)]
pub struct Cardholders {
    /// Boxed: a person is large, and a tree's half-empty nodes would hold that size per slot.
    by_id: BTreeMap<String, Box<Cardholder>>,
    /// Lower-case email → ids.
    by_email: HashMap<String, Ids>,
    by_ref: HashMap<String, Ids>,
    by_document: HashMap<String, Ids>,
    by_hosted_token: HashMap<String, Ids>,
}

/// The keys a person is indexed under.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Keys {
    email: Option<String>,
    merchant_ref: Option<String>,
    document: Option<String>,
    hosted_token: Option<String>,
}

impl Keys {
    fn of(holder: &Cardholder) -> Keys {
        Keys {
            email: holder.email.as_deref().map(str::to_ascii_lowercase),
            merchant_ref: holder.merchant_ref.clone(),
            document: holder.id_document.as_ref().map(|d| d.number.clone()),
            hosted_token: holder.kyc.hosted_token.clone(),
        }
    }

    /// Each index with the key it files this person under.
    fn each(&self) -> [(Index, Option<&str>); 4] {
        [
            (Index::Email, self.email.as_deref()),
            (Index::Ref, self.merchant_ref.as_deref()),
            (Index::Document, self.document.as_deref()),
            (Index::HostedToken, self.hosted_token.as_deref()),
        ]
    }
}

#[derive(Clone, Copy)]
enum Index {
    Email,
    Ref,
    Document,
    HostedToken,
}

impl Cardholders {
    fn index_mut(&mut self, index: Index) -> &mut HashMap<String, Ids> {
        match index {
            Index::Email => &mut self.by_email,
            Index::Ref => &mut self.by_ref,
            Index::Document => &mut self.by_document,
            Index::HostedToken => &mut self.by_hosted_token,
        }
    }

    fn file(&mut self, id: &str, keys: &Keys) {
        for (index, key) in keys.each() {
            if let Some(key) = key {
                let ids = self.index_mut(index).entry(key.to_owned()).or_default();
                if let Err(at) = ids.binary_search_by(|other| other.as_str().cmp(id)) {
                    ids.insert(at, id.to_owned());
                }
            }
        }
    }

    fn unfile(&mut self, id: &str, keys: &Keys) {
        for (index, key) in keys.each() {
            let index = self.index_mut(index);
            if let Some(key) = key
                && let Some(ids) = index.get_mut(key)
            {
                if let Ok(at) = ids.binary_search_by(|other| other.as_str().cmp(id)) {
                    ids.remove(at);
                }
                if ids.is_empty() {
                    index.remove(key);
                }
            }
        }
    }

    fn found<'a>(&'a self, index: &'a HashMap<String, Ids>, key: &str) -> Vec<&'a Cardholder> {
        index
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|id| self.get(id))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Cardholder> {
        self.by_id.get(id).map(|holder| &**holder)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Everyone, by id.
    pub fn values(&self) -> impl Iterator<Item = &Cardholder> {
        self.by_id.values().map(|holder| &**holder)
    }

    /// The people with this email, compared without case.
    pub fn by_email(&self, email: &str) -> Vec<&Cardholder> {
        self.found(&self.by_email, &email.to_ascii_lowercase())
    }

    /// The people with this merchant reference.
    pub fn by_ref(&self, reference: &str) -> Vec<&Cardholder> {
        self.found(&self.by_ref, reference)
    }

    /// The people holding an identity document with this number (of any kind).
    pub fn by_document(&self, number: &str) -> Vec<&Cardholder> {
        self.found(&self.by_document, number)
    }

    /// The people whose hosted KYC page has this token.
    pub fn by_hosted_token(&self, token: &str) -> Vec<&Cardholder> {
        self.found(&self.by_hosted_token, token)
    }

    /// Adds or replaces the person with `id`; the one replaced, if any.
    pub fn insert(&mut self, id: String, holder: Cardholder) -> Option<Cardholder> {
        let replaced = self.by_id.remove(&id).map(|old| *old);
        if let Some(old) = &replaced {
            self.unfile(&id, &Keys::of(old));
        }
        self.file(&id, &Keys::of(&holder));
        self.by_id.insert(id, Box::new(holder));
        replaced
    }

    /// A person to change; the indexes follow when the guard goes.
    pub fn get_mut(&mut self, id: &str) -> Option<HolderMut<'_>> {
        let before = Keys::of(self.by_id.get(id)?);
        Some(HolderMut {
            holders: self,
            id: id.to_owned(),
            before,
        })
    }
}

impl fmt::Debug for Cardholders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.by_id.fmt(f)
    }
}

/// As a map from id to person, by id.
impl Serialize for Cardholders {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(serializer)
    }
}

impl std::ops::Index<&str> for Cardholders {
    type Output = Cardholder;
    /// The person with this id; panics without one (for tests and ids just looked up).
    fn index(&self, id: &str) -> &Cardholder {
        &self.by_id[id]
    }
}

impl std::ops::Index<&String> for Cardholders {
    type Output = Cardholder;
    fn index(&self, id: &String) -> &Cardholder {
        &self.by_id[id.as_str()]
    }
}

/// A person being changed ([`Cardholders::get_mut`]).
pub struct HolderMut<'w> {
    holders: &'w mut Cardholders,
    id: String,
    before: Keys,
}

impl HolderMut<'_> {
    fn holder(&self) -> &Cardholder {
        // The guard exists only for an id that is there, and nothing removes people.
        &self.holders.by_id[self.id.as_str()]
    }
}

impl fmt::Debug for HolderMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.holder().fmt(f)
    }
}

impl std::ops::Deref for HolderMut<'_> {
    type Target = Cardholder;
    fn deref(&self) -> &Cardholder {
        self.holder()
    }
}

impl std::ops::DerefMut for HolderMut<'_> {
    fn deref_mut(&mut self) -> &mut Cardholder {
        self.holders
            .by_id
            .get_mut(self.id.as_str())
            .expect("the guard's person is there")
    }
}

impl Drop for HolderMut<'_> {
    fn drop(&mut self) {
        let after = Keys::of(self.holder());
        if after != self.before {
            let id = std::mem::take(&mut self.id);
            self.holders.unfile(&id, &self.before);
            self.holders.file(&id, &after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::cardholder::{IdDocument, IdKind, Kyc, KycStatus};

    fn person(id: &str, email: &str) -> Cardholder {
        let at = jiff::Timestamp::UNIX_EPOCH;
        Cardholder {
            email: Some(email.into()),
            id_document: Some(IdDocument {
                kind: IdKind::Passport,
                number: format!("P-{id}"),
                issued_on: None,
                expires_on: None,
            }),
            ..Cardholder::named(
                id,
                "Ann",
                "Lee",
                Kyc::settled(KycStatus::Passed, None, at),
                at,
            )
        }
    }

    #[test]
    fn people_are_found_by_key_after_they_change() {
        let mut holders = Cardholders::default();
        for n in 0..1000 {
            holders.insert(format!("h{n:04}"), person(&format!("h{n:04}"), "x@a.io"));
        }
        holders.insert("solo".into(), person("solo", "Solo@Example.com"));
        let ids = |found: Vec<&Cardholder>| found.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(holders.by_email("solo@EXAMPLE.com")), vec!["solo"]);
        assert_eq!(holders.by_email("x@a.io").len(), 1000);
        assert_eq!(ids(holders.by_document("P-h0042")), vec!["h0042"]);
        {
            let mut changed = holders.get_mut("h0042").unwrap();
            changed.email = Some("new@a.io".into());
            changed.merchant_ref = Some("R-1".into());
            changed.kyc.hosted_token = Some("tok".into());
        }
        assert_eq!(holders.by_email("x@a.io").len(), 999);
        assert_eq!(ids(holders.by_email("NEW@a.io")), vec!["h0042"]);
        assert_eq!(ids(holders.by_ref("R-1")), vec!["h0042"]);
        assert_eq!(ids(holders.by_hosted_token("tok")), vec!["h0042"]);
        // Replacing a person files the new one's keys only.
        holders.insert("h0042".into(), person("h0042", "other@a.io"));
        assert!(holders.by_email("new@a.io").is_empty());
        assert!(holders.by_ref("R-1").is_empty());
        assert_eq!(ids(holders.by_email("other@a.io")), vec!["h0042"]);
        assert_eq!(holders.len(), 1001);
    }
}
