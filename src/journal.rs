//! The request journal: a bounded log of provider requests and responses for inspection and
//! test assertions. The oldest entries are dropped first; ids keep increasing across drops and
//! clears so a client can poll with `since`.

use std::collections::VecDeque;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::app::lock;

/// One provider exchange.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub id: u64,
    /// Wall-clock time the request arrived.
    pub time: Timestamp,
    /// The tenant's sandbox time, when a tenant was identified.
    pub sandbox_time: Option<Timestamp>,
    pub provider: String,
    pub method: String,
    pub path: String,
    pub operation: Option<String>,
    pub tenant: Option<String>,
    pub status: u16,
    pub latency_ms: f64,
    pub request: Body,
    pub response: Body,
    /// Why the server, not the provider, produced the answer (a panic, an oversized body).
    pub note: Option<String>,
}

/// A body as the journal shows it: parsed JSON when it is JSON, text otherwise, and the
/// decrypted form when the provider could decrypt it.
#[derive(Clone, Debug, Serialize)]
pub struct Body {
    pub raw: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrypted: Option<Value>,
}

impl Body {
    /// Journal form of raw bytes.
    pub fn from_bytes(bytes: &[u8], decrypted: Option<Value>) -> Body {
        let raw = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        };
        Body { raw, decrypted }
    }
}

/// Which entries to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub operation: Option<String>,
    pub path: Option<String>,
    /// Only entries with a larger id.
    pub since: Option<u64>,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

impl Filter {
    fn accepts(&self, entry: &Entry) -> bool {
        let same = |wanted: &Option<String>, actual: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == actual)
        };
        same(&self.provider, Some(&entry.provider))
            && same(&self.tenant, entry.tenant.as_deref())
            && same(&self.operation, entry.operation.as_deref())
            && same(&self.path, Some(&entry.path))
            && self.since.is_none_or(|since| entry.id > since)
    }
}

/// The bounded log.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Entry>,
    next_id: u64,
    dropped: u64,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
        }
    }

    /// Appends an entry, assigning its id; returns the id.
    pub fn record(&self, mut entry: Entry) -> u64 {
        let mut inner = lock(&self.inner);
        entry.id = inner.next_id;
        inner.next_id += 1;
        if self.capacity == 0 {
            inner.dropped += 1;
            return entry.id;
        }
        while inner.entries.len() >= self.capacity {
            inner.entries.pop_front();
            inner.dropped += 1;
        }
        let id = entry.id;
        inner.entries.push_back(entry);
        id
    }

    /// Matching entries, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let inner = lock(&self.inner);
        let mut matching: Vec<Entry> = inner
            .entries
            .iter()
            .filter(|e| filter.accepts(e))
            .cloned()
            .collect();
        if let Some(limit) = filter.limit
            && matching.len() > limit
        {
            matching.drain(..matching.len() - limit);
        }
        matching
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = lock(&self.inner);
        let count = inner.entries.len();
        inner.entries.clear();
        count
    }

    /// Entries dropped for lack of room since start.
    pub fn dropped(&self) -> u64 {
        lock(&self.inner).dropped
    }

    /// Maximum entries kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(provider: &str, tenant: Option<&str>) -> Entry {
        Entry {
            id: 0,
            time: Timestamp::UNIX_EPOCH,
            sandbox_time: None,
            provider: provider.into(),
            method: "POST".into(),
            path: "/x".into(),
            operation: None,
            tenant: tenant.map(Into::into),
            status: 200,
            latency_ms: 0.0,
            request: Body::from_bytes(b"{}", None),
            response: Body::from_bytes(b"not json", None),
            note: None,
        }
    }

    #[test]
    fn drops_oldest_first_and_keeps_ids_increasing() {
        let journal = Journal::new(2);
        for _ in 0..3 {
            journal.record(entry("acedata", None));
        }
        let ids: Vec<u64> = journal
            .list(&Filter::default())
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(journal.dropped(), 1);
        journal.clear();
        assert_eq!(journal.record(entry("acedata", None)), 4);
    }

    #[test]
    fn filters_and_limits() {
        let journal = Journal::new(10);
        journal.record(entry("acedata", Some("a")));
        journal.record(entry("acedata", Some("b")));
        journal.record(entry("kazepay", Some("a")));
        let f = Filter {
            tenant: Some("a".into()),
            ..Filter::default()
        };
        assert_eq!(journal.list(&f).len(), 2);
        let f = Filter {
            provider: Some("acedata".into()),
            limit: Some(1),
            ..Filter::default()
        };
        assert_eq!(journal.list(&f)[0].tenant.as_deref(), Some("b"));
        let f = Filter {
            since: Some(2),
            ..Filter::default()
        };
        assert_eq!(journal.list(&f).len(), 1);
    }

    #[test]
    fn bodies_keep_json_and_fall_back_to_text() {
        let e = entry("acedata", None);
        assert_eq!(e.request.raw, serde_json::json!({}));
        assert_eq!(e.response.raw, Value::String("not json".into()));
    }
}
