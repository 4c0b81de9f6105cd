//! The provider contract: what a provider's folder implements so that the one request pipeline
//! ([`super::pipeline`]) serves it, and what the pipeline hands to its hooks.
//!
//! A request goes through the hooks in this order (the pipeline owns everything between them):
//!
//! ```text
//! direct? ─► admit ─► open ─► read          (no lock: routes, credentials, crypto, parsing)
//!            ─► [ one world lock: catch up the timeline ─► check ─► fault rules ─► meter
//!                 ─► replay ─► the read's refusal ─► operate ]
//!            ─► respond                      (no lock: sealing, signing, serialising)
//! ```
//!
//! Refusals before the lock are the provider's [`Provider::Refusal`]s (answered as the
//! provider answers callers it cannot trust yet); everything that goes wrong once the caller is
//! admitted is a [`Provider::Error`] of its catalog, answered by [`Provider::respond`] like any
//! other outcome.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use jiff::Timestamp;
use serde_json::Value;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::client::{MerchantClient, SendError};
use crate::faults::Fired;
use crate::running::{Running, Sessions};
use crate::scenario::section::{Build, BuiltinKey, BuiltinProfile, Located, Merge};
use crate::scenario::steps::StepTarget;
use crate::world::World;
use crate::world::deliveries::{DecisionCall, Outbound};
use crate::world::ledger::Posting;
use crate::world::ratelimit::RateLimit;
use crate::world::rng::SandboxRng;
use crate::world::tenant::Tenant;
use crate::world::timeline::Notice;

/// One emulated provider API, as its folder implements it.
pub trait Provider: Send + Sync + Sized + 'static {
    /// The provider's name in scenario files, fault rules, runner steps, journals and logs.
    const NAME: &'static str;

    /// Its top-level scenario section (`NAME:`), which is also the shape of its built-in
    /// profile.
    type Section: DeserializeOwned + JsonSchema + Merge + Default + 'static;
    /// One merchant's `credentials.NAME`.
    type Credentials: DeserializeOwned + JsonSchema + 'static;
    /// What the provider serves from: its resolved scenario section and merchants.
    type Settings: Send + Sync + 'static;
    /// Who is calling and what they ask for, once admitted (credentials, the operation, the
    /// envelope's head...).
    type Caller: Send;
    /// A request read into its typed form, before it touches the world.
    type Request: Send;
    /// What an operation produced.
    type Answer: Send;
    /// An entry of the provider's error catalog, with what it concerns.
    type Error: Send;
    /// Why a caller was refused before it could be trusted (answered in clear).
    type Refusal: Send;
    /// What an answer takes from the tenant's auxiliary stream while the request holds the
    /// lock (the seed of a sealed answer's session key, a trace id); `()` if answers draw
    /// nothing.
    type Draw: Default + Send;

    /// Its built-in profile, under the scenario's section.
    fn profile(&self) -> Option<BuiltinProfile> {
        None
    }

    /// Builds its settings from its section (merged over the profile) and the credentials of
    /// the merchants that have them (by index). Report problems through `build`; `None` when
    /// the settings cannot be made.
    fn build(
        &self,
        section: Self::Section,
        merchants: Vec<(usize, Located<Self::Credentials>)>,
        build: &mut Build<'_, '_>,
    ) -> Option<Self::Settings>;

    /// Adjusts and checks merchant `tenant`'s starting world (the cards it manages).
    fn prepare(
        &self,
        _settings: &Self::Settings,
        _tenant: usize,
        _world: &mut World,
        _build: &mut Build<'_, '_>,
    ) {
    }

    /// The test-only key pair it plays the platform with, when it has one: shipped as
    /// `builtin:NAME`, replaced by a scenario's `platform_keys.NAME`.
    fn platform(&self) -> Option<BuiltinKey> {
        None
    }

    /// The platform's public key (PEM) merchants verify and encrypt with, if it has one.
    fn platform_public_key(&self, _settings: &Self::Settings) -> Option<String> {
        None
    }

    /// Merchant `tenant`'s credentials as `GET /__admin/credentials` shows them.
    fn credentials(&self, _settings: &Self::Settings, _tenant: usize) -> Value {
        Value::Null
    }

    /// What its request steps name.
    fn step_target(&self) -> StepTarget {
        StepTarget::Path
    }

    /// Merchant `tenant`'s side of the API, for the test runner's request steps.
    fn client(
        &self,
        _cx: &Cx<'_, Self>,
        _tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        Err(SendError::Request(format!(
            "{} has no merchant client",
            Self::NAME
        )))
    }

    /// Path prefixes served; the longest matching prefix of any provider wins.
    fn prefixes(&self, settings: &Self::Settings) -> Vec<String>;

    /// Answers a request entirely by itself when it is no API call (a hosted page a person
    /// opens in a browser); `None` sends it through the pipeline.
    fn direct(&self, _cx: &Cx<'_, Self>, _request: &Request<'_>) -> Option<Reply> {
        None
    }

    /// Route and credentials: the tenant and the operation, or a refusal. Touches no world.
    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self>;

    /// Opens the envelope: `Plain(bytes)` for a decrypted body (the journal shows it),
    /// `Clear` when the body travels in clear. Crypto happens here, outside every lock. An
    /// envelope that cannot be opened gets one refusal whatever failed inside ([`Unopened`]).
    fn open(
        &self,
        _cx: &Cx<'_, Self>,
        _caller: &Self::Caller,
        _request: &Request<'_>,
    ) -> Result<Unsealed, Unopened<Self::Refusal>> {
        Ok(Unsealed::Clear)
    }

    /// Reads the opened body into the typed request. A refusal here is answered only after
    /// the checks the provider documents first (fault rules, rate limits, replays).
    fn read(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Self::Caller,
        request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Self::Request, Self::Error>;

    /// Checks that need the tenant's world (its sandbox clock: expired keys and tokens), inside
    /// the lock, before fault rules are consulted.
    fn check(
        &self,
        _cx: &Cx<'_, Self>,
        _caller: &Self::Caller,
        _request: &Request<'_>,
        _body: &Payload<'_>,
        _world: &World,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The rate quota this request draws on, if any, and the error beyond it. Sees the
    /// read request: a provider that only counts well-formed requests says so here.
    fn meter(
        &self,
        _cx: &Cx<'_, Self>,
        _caller: &Self::Caller,
        _read: &Result<Self::Request, Self::Error>,
    ) -> Option<Quota<Self::Error>> {
        None
    }

    /// The idempotency key the request spends when it succeeds, and the error for a key
    /// spent before.
    fn replay(&self, _caller: &Self::Caller) -> Option<Replay<Self::Error>> {
        None
    }

    /// Runs the operation on the tenant's world, inside its lock.
    fn operate(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Self::Caller,
        request: Self::Request,
        world: &mut World,
    ) -> Result<Self::Answer, Self::Error>;

    /// The catalog entry a fault rule names (`system_busy`), if the catalog has it.
    fn catalog_error(&self, name: &str) -> Option<Self::Error>;

    /// The `relax:` name of the strict rule behind `error`, if one refused the request; the
    /// journal's note then names it and how to relax it. Default: none.
    fn strict_rule<'e>(&self, _error: &'e Self::Error) -> Option<&'e str> {
        None
    }

    /// How answering `outcome` draws its [`Provider::Draw`], if it draws at all. Draws come
    /// from the auxiliary stream (the shared one when no tenant is known), never from the
    /// business stream: answers must not shift later ids.
    fn draw(&self, _outcome: &Outcome<Self>) -> Option<fn(&mut SandboxRng) -> Self::Draw> {
        None
    }

    /// The answer on the wire, with what it drew. Runs with no lock held: seal, sign and
    /// serialise here.
    fn respond(
        &self,
        cx: &Cx<'_, Self>,
        outcome: Outcome<Self>,
        draw: Self::Draw,
        trace: Trace,
    ) -> Reply;

    /// The provider's own error reply for a failure the server detected on a request to
    /// `path` (a body too large or unreadable, a panic, a fault rule's status).
    fn failure(&self, cx: &Cx<'_, Self>, path: &str, failure: &Failure) -> Reply;

    /// Whether the provider manages cards (a scenario's cards may name it as their `issuer`).
    fn issues_cards(&self) -> bool {
        false
    }

    /// Whether answers carry a signature or encryption a fault rule's `break_crypto` can break.
    fn has_crypto(&self) -> bool {
        false
    }

    /// Breaks the signature or encryption of an answer, so a client proves it verifies.
    fn break_crypto(&self, _reply: &mut Reply) {}

    /// Whether requests can leave notifications for webhooks (the server then wakes the
    /// dispatcher after each).
    fn notifies(&self) -> bool {
        false
    }

    /// The webhook this provider sends for `notice`, if it concerns the provider and the
    /// merchant registered a URL. Runs inside the tenant's lock: compose the plaintext here and
    /// leave sealing to the draft's `seal`, which runs with no lock held. `seed` makes any
    /// randomness reproducible.
    fn webhook(
        &self,
        _cx: &Cx<'_, Self>,
        _tenant: usize,
        _world: &World,
        _notice: &Notice,
        _seed: u64,
    ) -> Option<Draft> {
        None
    }

    /// The question to put to the merchant before `posting` can happen (an issuer's
    /// synchronous authorization callback), if this provider manages the card and asks one.
    fn authorization_call(
        &self,
        _cx: &Cx<'_, Self>,
        _tenant: usize,
        _world: &mut World,
        _posting: &Posting,
    ) -> Option<DecisionCall> {
        None
    }

    /// Its own subcommand of `issuer-sandbox` (`issuer-sandbox NAME ...`), if it has one.
    fn command(&self) -> Option<super::command::ProviderCommand> {
        None
    }

    /// Lines for the start-up banner: where to send requests and with which credentials.
    fn banner(&self, cx: &Cx<'_, Self>, base_url: &str) -> String {
        let mut out = String::new();
        for prefix in self.prefixes(cx.settings) {
            out.push_str(&format!("{:<16} {base_url}{prefix}\n", Self::NAME));
        }
        out
    }
}

/// What a provider's hooks see of the running sandbox: its own settings, the tenants, its
/// run-time sessions.
pub struct Cx<'r, P: Provider> {
    pub settings: &'r P::Settings,
    pub(crate) running: &'r Running,
}

impl<P: Provider> std::fmt::Debug for Cx<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cx({})", P::NAME)
    }
}

impl<'r, P: Provider> Cx<'r, P> {
    /// Every tenant, in scenario order.
    pub fn tenants(&self) -> &'r [Tenant] {
        self.running.tenants()
    }

    /// The tenant at `index` (scenario order).
    pub fn tenant(&self, index: usize) -> Option<&'r Tenant> {
        self.running.tenants().get(index)
    }

    /// The tenant with merchant id `id`.
    pub fn tenant_by_id(&self, id: &str) -> Option<&'r Tenant> {
        self.running.tenant(id)
    }

    /// The tenant a credential names, as the provider's `build` claimed it.
    pub fn tenant_by_claim(&self, credential: &str) -> Option<&'r Tenant> {
        self.tenant(self.running.scenario.claimant(P::NAME, credential)?)
    }

    /// Runs `f` with the random stream of requests no tenant could be found for.
    pub fn with_shared_rng<R>(&self, f: impl FnOnce(&mut crate::world::rng::SandboxRng) -> R) -> R {
        self.running.with_shared_rng(f)
    }

    /// Sessions this provider opened at run time (access tokens), kept across tenant resets.
    pub fn sessions(&self) -> Sessions<'r> {
        self.running.sessions(P::NAME)
    }
}

/// The outcome of admission: who is calling and what for, or why not.
pub enum Admission<'r, P: Provider> {
    Admitted {
        tenant: &'r Tenant,
        /// The operation's name (an endpoint, an apiCode, a path): journals, logs, fault rules.
        operation: String,
        caller: P::Caller,
    },
    Refused {
        /// The tenant, when the credentials named one before the refusal.
        tenant: Option<&'r Tenant>,
        operation: Option<String>,
        refusal: P::Refusal,
    },
}

impl<P: Provider> std::fmt::Debug for Admission<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admission::Admitted {
                tenant, operation, ..
            } => write!(f, "Admitted({operation} for {})", tenant.id),
            Admission::Refused { operation, .. } => write!(f, "Refused({operation:?})"),
        }
    }
}

/// Why a request's envelope was not opened: the refusal its caller gets and, kept from the
/// caller, the precise cause (which part failed: the wrapped key, the padding, the signature,
/// the decrypted text). An untrusted caller must get the same answer whatever failed inside,
/// or a forger learns from each refusal which part of a tampered envelope passed (a padding
/// oracle); the cause goes to the journal's `note` and the log.
#[derive(Debug)]
pub struct Unopened<R> {
    pub refusal: R,
    pub cause: Option<String>,
}

impl<R> Unopened<R> {
    /// A refusal with nothing more to tell (a check before any crypto: an unknown merchant).
    pub fn plain(refusal: R) -> Unopened<R> {
        Unopened {
            refusal,
            cause: None,
        }
    }

    /// The uniform refusal for an envelope that failed inside, and why.
    pub fn because(refusal: R, cause: impl std::fmt::Display) -> Unopened<R> {
        Unopened {
            refusal,
            cause: Some(cause.to_string()),
        }
    }
}

/// An envelope, opened.
#[derive(Debug)]
pub enum Unsealed {
    /// The body travels in clear: read it as it came.
    Clear,
    /// The decrypted body.
    Plain(Vec<u8>),
}

/// A request body as the hooks read it: the bytes (decrypted for envelope providers) and,
/// parsed once, their JSON (`Null` when they are not JSON).
#[derive(Debug)]
pub struct Payload<'a> {
    pub bytes: &'a [u8],
    pub json: &'a Value,
}

/// The rate quota a request draws on: its meter's key in the tenant's world, the limit, and
/// the error beyond it.
#[derive(Debug)]
pub struct Quota<E> {
    pub key: String,
    pub limit: RateLimit,
    pub refusal: E,
}

/// An idempotency key a successful request spends, and the error when it was spent before.
#[derive(Debug)]
pub struct Replay<E> {
    pub key: String,
    pub refusal: E,
}

/// What the provider answers.
pub enum Outcome<P: Provider> {
    /// Refused before the caller could be trusted.
    Refused(P::Refusal),
    /// Admitted: the operation's answer or the catalog error that stopped it.
    Done(P::Caller, Result<P::Answer, P::Error>),
}

impl<P: Provider> std::fmt::Debug for Outcome<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Refused(_) => f.write_str("Refused"),
            Outcome::Done(_, Ok(_)) => f.write_str("Done(Ok)"),
            Outcome::Done(_, Err(_)) => f.write_str("Done(Err)"),
        }
    }
}

/// Turns a draft's plaintext body into the one sent.
pub type Seal = Box<dyn FnOnce(&mut Outbound) + Send>;

/// A webhook composed inside the tenant's lock and sealed outside it.
pub struct Draft {
    /// The notification, its body still the plaintext when `seal` is given.
    pub outbound: Outbound,
    /// Turns the plaintext body into the one sent (encryption, signatures, their headers).
    pub seal: Option<Seal>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("outbound", &self.outbound)
            .field("sealed_later", &self.seal.is_some())
            .finish()
    }
}

impl Draft {
    /// The outbound request as it will be sent.
    pub fn sealed(self) -> Outbound {
        let mut outbound = self.outbound;
        if let Some(seal) = self.seal {
            seal(&mut outbound);
        }
        outbound
    }
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

impl Request<'_> {
    /// A header's text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The caller's IP address, IPv4-mapped IPv6 read as the IPv4 address it is.
    pub fn peer_ip(&self) -> std::net::IpAddr {
        crate::peer::canonical(self.peer.ip())
    }
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

impl Failure {
    /// The HTTP status of a provider that answers failures in its body: the injected status,
    /// 413 for a body too large, 200 otherwise.
    pub fn status_in_band(&self) -> StatusCode {
        match self {
            Failure::Injected { status } => *status,
            Failure::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::OK,
        }
    }

    /// Whether the request's body is to blame (too large, unreadable).
    pub fn is_the_bodys(&self) -> bool {
        matches!(self, Failure::BodyTooLarge { .. } | Failure::BodyUnreadable)
    }
}

/// A provider's answer plus what the journal should record about it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub body: Bytes,
    pub trace: Trace,
    /// Fault rules that fired for the request: what the server must do to the answer.
    pub fault: Option<Fired>,
}

/// Journal annotations of an exchange.
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

    /// An HTML page (hosted flows such as a KYC page).
    pub fn html(status: StatusCode, page: String, trace: Trace) -> Reply {
        Reply {
            status,
            content_type: HeaderValue::from_static("text/html; charset=utf-8"),
            body: Bytes::from(page),
            trace,
            fault: None,
        }
    }

    /// The answer of a request a fault keeps from being processed; the server replaces or
    /// drops it.
    pub(crate) fn placeholder(trace: Trace) -> Reply {
        Reply::json(StatusCode::OK, &serde_json::json!({}), trace)
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
