//! The request journal: a bounded log of provider requests and responses for inspection and
//! test assertions, bounded both in entries and in the bytes it keeps. Bodies are kept as the
//! bytes received and sent (decrypted views as JSON text), cut at [`BODY_CAP`]; JSON views are
//! made only when the journal is read, so a small body that parses into a large tree costs
//! nothing here. The oldest entries are dropped first; ids keep increasing across drops and
//! clears so a client can poll with `since`.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::sync::lock;

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
    /// Why the server, not the provider, produced the answer (a panic, an oversized body, a
    /// fault rule).
    pub note: Option<String>,
    /// Fault rules that fired for this request.
    pub faults: Vec<String>,
    /// The TLS version of an HTTPS request (`TLSv1_3`); `None` over plain HTTP.
    pub tls: Option<String>,
    /// The request's headers as they arrived, `[name, value]` (at most [`HEADERS_CAP`], each
    /// value cut at [`HEADER_VALUE_CAP`] bytes).
    pub request_headers: Vec<(String, String)>,
    /// The answer's headers as sent, kept the same way.
    pub response_headers: Vec<(String, String)>,
}

/// Headers kept per entry.
pub const HEADERS_CAP: usize = 64;

/// Bytes kept of one header value.
pub const HEADER_VALUE_CAP: usize = 1024;

/// A request's headers as an entry keeps them.
pub fn kept_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .take(HEADERS_CAP)
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let cut = text
                .char_indices()
                .take_while(|(at, _)| *at < HEADER_VALUE_CAP)
                .map(|(_, c)| c)
                .collect();
            (name.as_str().to_owned(), cut)
        })
        .collect()
}

/// Bodies are kept up to this many bytes; longer ones are cut (and marked `truncated`), so a
/// full journal stays small whatever clients send.
pub const BODY_CAP: usize = 64 * 1024;

/// A body as the journal keeps it: the raw bytes (cut at [`BODY_CAP`]) and, for providers
/// whose wire body is an envelope, the decrypted form as JSON text (cut the same way). Shown as
/// parsed JSON when it is JSON, text otherwise.
#[derive(Clone, Debug)]
pub struct Body {
    bytes: Bytes,
    size: usize,
    decrypted: Option<Decrypted>,
}

/// A decrypted view's JSON text, or its first [`BODY_CAP`] bytes (then no longer JSON).
#[derive(Clone, Debug)]
enum Decrypted {
    Json(Bytes),
    Cut(Bytes),
}

impl Body {
    /// Keeps `bytes` (a copy of the first [`BODY_CAP`] bytes if longer) and `decrypted`.
    pub fn new(bytes: Bytes, decrypted: Option<Value>) -> Body {
        let size = bytes.len();
        // A slice would keep the whole (up to 16 MiB) buffer alive; copy the prefix instead.
        let bytes = if size > BODY_CAP {
            Bytes::copy_from_slice(&bytes[..BODY_CAP])
        } else {
            bytes
        };
        let decrypted = decrypted.map(|value| {
            let text = value.to_string();
            if text.len() > BODY_CAP {
                Decrypted::Cut(Bytes::copy_from_slice(cut(&text).as_bytes()))
            } else {
                Decrypted::Json(Bytes::from(text))
            }
        });
        Body {
            bytes,
            size,
            decrypted,
        }
    }

    /// The body as JSON if it parses, else as (lossy UTF-8) text, `null` when empty.
    pub fn raw(&self) -> Value {
        if self.bytes.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.bytes).into_owned()))
    }

    /// The kept bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The body's size on the wire.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether only the first [`BODY_CAP`] bytes were kept.
    pub fn is_truncated(&self) -> bool {
        self.size > self.bytes.len()
    }

    /// The decrypted body, when the provider could decrypt it (text when it was cut).
    pub fn decrypted(&self) -> Option<Value> {
        self.decrypted.as_ref().map(|decrypted| match decrypted {
            Decrypted::Json(text) => serde_json::from_slice(text).unwrap_or(Value::Null),
            Decrypted::Cut(text) => Value::String(String::from_utf8_lossy(text).into_owned()),
        })
    }

    /// The bytes this body holds in memory.
    fn kept_bytes(&self) -> usize {
        let decrypted = match &self.decrypted {
            Some(Decrypted::Json(text) | Decrypted::Cut(text)) => text.len(),
            None => 0,
        };
        self.bytes.len() + decrypted
    }
}

/// The longest prefix of `text` within [`BODY_CAP`] bytes that ends on a character boundary.
fn cut(text: &str) -> &str {
    let mut end = BODY_CAP.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `{"raw": ..., "size": N, "truncated": true?, "decrypted": ...?}`
impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("raw", &self.raw())?;
        map.serialize_entry("size", &self.size)?;
        if self.is_truncated() {
            map.serialize_entry("truncated", &true)?;
        }
        if let Some(decrypted) = self.decrypted() {
            map.serialize_entry("decrypted", &decrypted)?;
        }
        map.end()
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

impl Entry {
    /// What the entry holds in memory, approximately: its bodies and texts, plus a fixed
    /// allowance for the rest.
    fn kept_bytes(&self) -> usize {
        const FIXED: usize = 256;
        let texts = [&self.provider, &self.method, &self.path].map(|s| s.len());
        let optional =
            [&self.operation, &self.tenant, &self.note].map(|s| s.as_ref().map_or(0, String::len));
        let faults: usize = self.faults.iter().map(String::len).sum();
        let headers: usize = self
            .request_headers
            .iter()
            .chain(&self.response_headers)
            .map(|(name, value)| name.len() + value.len())
            .sum();
        FIXED
            + texts.iter().sum::<usize>()
            + optional.iter().sum::<usize>()
            + faults
            + headers
            + self.request.kept_bytes()
            + self.response.kept_bytes()
    }
}

/// The bounded log.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<(Entry, usize)>,
    next_id: u64,
    dropped: u64,
    /// The sum of the kept entries' sizes.
    bytes: usize,
}

impl Journal {
    /// A journal keeping at most `capacity` entries and `max_bytes` of them.
    pub fn new(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            capacity,
            max_bytes,
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
        }
    }

    /// Appends an entry, assigning its id, and drops the oldest until both bounds hold (an
    /// entry larger than the byte bound alone is not kept); returns the id.
    pub fn record(&self, mut entry: Entry) -> u64 {
        let size = entry.kept_bytes();
        let mut inner = lock(&self.inner);
        entry.id = inner.next_id;
        inner.next_id += 1;
        let id = entry.id;
        if self.capacity == 0 || size > self.max_bytes {
            inner.dropped += 1;
            return id;
        }
        while inner.entries.len() >= self.capacity || inner.bytes + size > self.max_bytes {
            let Some((_, dropped)) = inner.entries.pop_front() else {
                break;
            };
            inner.bytes -= dropped;
            inner.dropped += 1;
        }
        inner.bytes += size;
        inner.entries.push_back((entry, size));
        id
    }

    /// Matching entries, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let inner = lock(&self.inner);
        let mut matching: Vec<Entry> = inner
            .entries
            .iter()
            .map(|(entry, _)| entry)
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
        // A fresh queue: `clear` would keep the old one's allocation.
        inner.entries = VecDeque::new();
        inner.bytes = 0;
        count
    }

    /// Bytes the kept entries hold (see [`Journal::max_bytes`]).
    pub fn bytes(&self) -> usize {
        lock(&self.inner).bytes
    }

    /// Most bytes kept before the oldest entries are dropped.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
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
            request: Body::new(Bytes::from_static(b"{}"), None),
            response: Body::new(Bytes::from_static(b"not json"), None),
            note: None,
            faults: Vec::new(),
            tls: None,
            request_headers: Vec::new(),
            response_headers: Vec::new(),
        }
    }

    #[test]
    fn drops_oldest_first_and_keeps_ids_increasing() {
        let journal = Journal::new(2, usize::MAX);
        for _ in 0..3 {
            journal.record(entry("bank-a", None));
        }
        let ids: Vec<u64> = journal
            .list(&Filter::default())
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(journal.dropped(), 1);
        journal.clear();
        assert_eq!(journal.record(entry("bank-a", None)), 4);
    }

    #[test]
    fn filters_and_limits() {
        let journal = Journal::new(10, usize::MAX);
        journal.record(entry("bank-a", Some("a")));
        journal.record(entry("bank-a", Some("b")));
        journal.record(entry("bank-b", Some("a")));
        let f = Filter {
            tenant: Some("a".into()),
            ..Filter::default()
        };
        assert_eq!(journal.list(&f).len(), 2);
        let f = Filter {
            provider: Some("bank-a".into()),
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
        let e = entry("bank-a", None);
        assert_eq!(e.request.raw(), serde_json::json!({}));
        assert_eq!(e.response.raw(), Value::String("not json".into()));
        assert_eq!(
            serde_json::to_value(&e.request).unwrap(),
            serde_json::json!({ "raw": {}, "size": 2 })
        );
    }

    #[test]
    fn big_bodies_are_cut_and_marked() {
        let big = Bytes::from(vec![b'x'; BODY_CAP * 3]);
        let body = Body::new(big, Some(Value::String("é".repeat(BODY_CAP))));
        assert_eq!(body.bytes().len(), BODY_CAP);
        assert_eq!(body.size(), BODY_CAP * 3);
        assert!(body.is_truncated());
        let shown = serde_json::to_value(&body).unwrap();
        assert_eq!(shown["truncated"], true);
        assert!(shown["decrypted"].as_str().unwrap().len() <= BODY_CAP);
    }

    #[test]
    fn the_bytes_kept_stay_within_the_bound() {
        let body = |n| Body::new(Bytes::from(vec![b'x'; n]), None);
        let mut big = entry("bank-a", None);
        big.request = body(10_000);
        let one = big.kept_bytes();
        let journal = Journal::new(100, 3 * one);
        for _ in 0..5 {
            journal.record(big.clone());
        }
        assert_eq!((journal.bytes(), journal.dropped()), (3 * one, 2));
        assert_eq!(journal.list(&Filter::default()).len(), 3);
        // One entry beyond the whole bound is not kept at all.
        let mut huge = entry("bank-a", None);
        huge.request = body(BODY_CAP);
        huge.response = body(BODY_CAP);
        let small = Journal::new(100, BODY_CAP);
        small.record(huge);
        assert_eq!((small.bytes(), small.dropped()), (0, 1));
        journal.clear();
        assert_eq!(journal.bytes(), 0);
    }

    #[test]
    fn decrypted_views_are_kept_as_text() {
        // 32,000 zeros: 64 KB of text, a tree many times that size once parsed.
        let zeros = Value::Array(vec![Value::from(0); 32_000]);
        let body = Body::new(
            Bytes::new(),
            Some(serde_json::json!({ "card_token": zeros })),
        );
        assert!(body.kept_bytes() <= BODY_CAP);
        assert_eq!(body.decrypted().unwrap()["card_token"][31_999], 0);
    }
}
