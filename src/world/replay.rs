//! Request numbers a tenant has spent, for replay checks (the number an envelope provider puts
//! in each request). No provider documents how long it remembers them; the sandbox remembers
//! each for [`WINDOW`] of sandbox time and at most [`MOST`] per tenant (the oldest forgotten
//! first), so a client that numbers every request afresh cannot grow the world without bound.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

/// How long a spent request number stays spent.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The most request numbers remembered per tenant.
pub const MOST: usize = 50_000;

/// Spent request numbers, with when they were spent.
#[derive(Clone, Debug, Default)]
pub struct SpentKeys {
    spent_at: HashMap<String, Timestamp>,
    /// The same keys, oldest first, to forget them in order.
    order: VecDeque<(Timestamp, String)>,
}

impl SpentKeys {
    /// Whether `key` was spent within the window before `now`.
    pub fn is_spent(&self, key: &str, now: Timestamp) -> bool {
        self.spent_at.get(key).is_some_and(|at| !expired(*at, now))
    }

    /// Spends `key` at `now`, forgetting what fell out of the window or beyond the count.
    pub fn spend(&mut self, key: String, now: Timestamp) {
        while let Some((at, _)) = self.order.front()
            && (expired(*at, now) || self.order.len() >= MOST)
        {
            if let Some((at, old)) = self.order.pop_front()
                && self.spent_at.get(&old) == Some(&at)
            {
                self.spent_at.remove(&old);
            }
        }
        self.spent_at.insert(key.clone(), now);
        self.order.push_back((now, key));
    }

    /// How many are remembered.
    pub fn remembered(&self) -> usize {
        self.spent_at.len()
    }

    /// Every spending remembered, oldest first (a key spent twice appears twice).
    pub fn spendings(&self) -> impl Iterator<Item = (&str, Timestamp)> {
        self.order.iter().map(|(at, key)| (key.as_str(), *at))
    }

    /// The memory of these spendings, oldest first (as [`SpentKeys::spendings`] gives them).
    pub fn from_spendings(spendings: impl IntoIterator<Item = (String, Timestamp)>) -> SpentKeys {
        let mut keys = SpentKeys::default();
        for (key, at) in spendings {
            keys.spent_at.insert(key.clone(), at);
            keys.order.push_back((at, key));
        }
        keys
    }
}

fn expired(spent_at: Timestamp, now: Timestamp) -> bool {
    spent_at
        .saturating_add(WINDOW)
        .is_ok_and(|until| until <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_spent_for_the_window_and_are_forgotten_after() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let later = |hours| {
            t0.saturating_add(SignedDuration::from_hours(hours))
                .unwrap()
        };
        let mut keys = SpentKeys::default();
        keys.spend("a".into(), t0);
        assert!(keys.is_spent("a", later(23)));
        assert!(!keys.is_spent("a", later(24)));
        keys.spend("b".into(), later(24));
        assert_eq!(keys.remembered(), 1, "a was forgotten when b was spent");
        // Spent again later: the new time counts.
        keys.spend("b".into(), later(30));
        assert!(keys.is_spent("b", later(50)));
        assert!(!keys.is_spent("b", later(54)));
    }

    #[test]
    fn no_more_than_the_most_are_remembered() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut keys = SpentKeys::default();
        for n in 0..MOST + 10 {
            keys.spend(n.to_string(), t0);
        }
        assert_eq!(keys.remembered(), MOST);
        assert!(!keys.is_spent("0", t0));
        assert!(keys.is_spent(&(MOST + 9).to_string(), t0));
    }
}
