//! The provider contract and the registry of emulated providers.
//!
//! A provider claims path prefixes, turns a raw request into a reply in its own wire format, and
//! knows its own error shape for failures the server detects before or around it (an oversized
//! body, a panic). Everything about a provider's wire format lives in its folder; adding one is
//! a folder plus a line in [`builtin`].

pub mod acedata;
pub mod failure;
pub mod fields;

pub mod kazepay;
pub mod keysecure;
pub mod pagsmile;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use jiff::Timestamp;
use serde_json::Value;

use crate::app::Running;
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::timeline::Notice;

/// Every emulated provider's name (`Provider::name`).
pub const NAMES: &[&str] = &["acedata", "keysecure", "pagsmile", "kazepay"];

/// Providers whose cards live in the world and can be named as a card's `issuer`.
pub const ISSUERS: &[&str] = &["kazepay", "pagsmile", "keysecure"];

/// The providers every sandbox serves.
pub fn builtin() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(acedata::AceData),
        Arc::new(keysecure::KeySecure),
        Arc::new(pagsmile::Pagsmile),
        Arc::new(kazepay::KazePay),
    ]
}

/// A request as a provider sees it: fully read, body within the size limit.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub peer: SocketAddr,
}

/// What went wrong outside the provider's own handling (more may come: match with a `_` arm).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The body exceeded the configured limit (bytes).
    #[error("request body larger than the {limit}-byte limit")]
    BodyTooLarge { limit: usize },
    /// The body could not be read (the client went away mid-body, a malformed chunk, a stall).
    #[error("request body could not be read")]
    BodyUnreadable,
    /// The handler panicked; the message is for logs and the journal, not the client.
    #[error("handler panicked: {message}")]
    Panic { message: String },
    /// A fault rule asked for this HTTP status (answered in the provider's gateway shape).
    #[error("injected HTTP {status}")]
    Injected { status: StatusCode },
}

/// A provider's answer plus what the journal should record about it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub body: Bytes,
    pub trace: Trace,
    /// Fault rules that fired for the request: what the server must do to the answer.
    pub fault: Option<crate::faults::Fired>,
}

/// Journal annotations a provider can add to its reply.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Operation name (an endpoint, an apiCode).
    pub operation: Option<String>,
    /// Merchant id, once the credentials identified one.
    pub tenant: Option<String>,
    /// The tenant's sandbox time when the request was handled.
    pub sandbox_time: Option<Timestamp>,
    /// Decrypted request body, for providers whose wire body is an envelope.
    pub request_plain: Option<Value>,
    /// Decrypted response body.
    pub response_plain: Option<Value>,
    /// Something the journal should say about the exchange (a one-time code handed out, ...).
    pub note: Option<String>,
}

impl Reply {
    /// Attaches the faults that fired (the server applies them).
    pub fn with_fault(mut self, fault: Option<crate::faults::Fired>) -> Reply {
        self.fault = fault;
        self
    }

    /// A JSON reply.
    pub fn json(status: StatusCode, body: &impl serde::Serialize, trace: Trace) -> Reply {
        // Serialising our own wire structs cannot fail (no maps with non-string keys).
        let body = serde_json::to_vec(body).unwrap_or_default();
        Reply {
            status,
            content_type: HeaderValue::from_static("application/json; charset=utf-8"),
            body: Bytes::from(body),
            trace,
            fault: None,
        }
    }
}

impl Reply {
    /// An HTML page (hosted flows such as KazePay's KYC page).
    pub fn html(status: StatusCode, page: String, trace: Trace) -> Reply {
        Reply {
            status,
            content_type: HeaderValue::from_static("text/html; charset=utf-8"),
            body: Bytes::from(page),
            trace,
            fault: None,
        }
    }
}

/// `text` with its first character changed (within Base64 and hex alphabets): still well
/// formed, no longer what was signed or wrapped.
pub fn corrupt(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(first) = chars.first_mut() {
        *first = if *first == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

/// The answer of a request a fault keeps from being processed; the server replaces or drops
/// it.
pub fn placeholder(trace: Trace) -> Reply {
    Reply::json(StatusCode::OK, &serde_json::json!({}), trace)
}

/// One emulated provider API.
pub trait Provider: Send + Sync + 'static {
    /// Short lower-case name used in journals, logs and the 404 listing (`acedata`).
    fn name(&self) -> &'static str;

    /// Path prefixes served under the running scenario; the longest matching prefix wins.
    fn prefixes(&self, running: &Running) -> Vec<String>;

    /// Answers a request. Must not block on I/O; the tenant's world lock is the only lock it
    /// may take, briefly.
    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply;

    /// The provider's own error reply for a failure the server detected on a request to `path`.
    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply;

    /// Whether this provider's requests can leave notifications for webhooks (so the server
    /// wakes the dispatcher after each of them).
    fn notifies(&self) -> bool {
        false
    }

    /// The webhook this provider sends for `notice`, if the notice concerns it and the merchant
    /// registered a URL. `seed` makes any randomness (session keys) reproducible.
    fn webhook(
        &self,
        _running: &Running,
        _world: &World,
        _notice: &Notice,
        _seed: u64,
    ) -> Option<Outbound> {
        None
    }

    /// The question to put to the merchant before `posting` can happen (KeySecure's Auth
    /// callback in authorization mode), if this provider manages the card and asks one.
    fn authorization_call(
        &self,
        _running: &Running,
        _world: &mut World,
        _posting: &crate::world::ledger::Posting,
    ) -> Option<crate::world::deliveries::DecisionCall> {
        None
    }

    /// Breaks the signature or encryption of an answer (a fault rule's `break_crypto`), so a
    /// client proves it verifies. Providers without crypto leave it as it is.
    fn break_crypto(&self, _reply: &mut Reply) {}

    /// Lines for the start-up banner: where to send requests and with which credentials.
    fn banner(&self, running: &Running, base_url: &str) -> String {
        let mut out = String::new();
        for prefix in self.prefixes(running) {
            out.push_str(&format!("{:<16} {base_url}{prefix}\n", self.name()));
        }
        out
    }
}

impl std::fmt::Debug for dyn Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Provider({})", self.name())
    }
}
