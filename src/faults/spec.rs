//! The written form of a fault rule, the same in scenario files (YAML) and in
//! `POST /__admin/faults` (JSON), and its compilation into a checked [`Rule`].

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A fault rule as written.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Default `f1`, `f2`, ... in order.
    pub id: Option<String>,
    #[serde(rename = "match", default)]
    pub matcher: MatchSpec,
    pub action: ActionSpec,
    /// Process the request first, then act (the card was issued but the answer was lost).
    #[serde(default)]
    pub after: bool,
    #[serde(default)]
    pub when: WhenSpec,
}

/// Which requests a rule looks at; every given part must match.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// A provider's name.
    pub provider: Option<String>,
    /// Glob on the operation as the provider names it (an endpoint, an apiCode, a path).
    pub operation: Option<String>,
    /// Merchant id.
    pub tenant: Option<String>,
    /// Dotted path in the (decrypted) request body → glob on its value as text.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// What a rule does.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// A business error from the provider's catalog, by its name there (`system_busy`).
    Error(String),
    /// This HTTP status with the provider's gateway error shape.
    Status(u16),
    /// Answer after a delay (wall-clock).
    Delay(DelaySpec),
    /// Send the answer slowly: `chunk_bytes` every `interval`.
    Slow(SlowSpec),
    /// Close the connection without answering.
    Reset,
    /// Answer 200 with an empty body.
    Empty,
    /// Answer 200 with random bytes.
    Garbage,
    /// Never answer (until the client gives up or the server stops).
    Hang,
    /// Answer normally with the signature or encryption broken (providers whose answers
    /// carry crypto).
    BreakCrypto,
    /// Break HTTPS handshakes: the connection is dropped after the client's hello. Matched
    /// against handshakes, before any request, so it takes no `match` and no `after`.
    TlsHandshakeFailure,
}

/// A delay: `2s`, `{uniform: [100ms, 2s]}`, `{lognormal: {median: 200ms, sigma: 0.5}}`.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum DelaySpec {
    Fixed(String),
    Uniform { uniform: [String; 2] },
    LogNormal { lognormal: LogNormalSpec },
}

#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogNormalSpec {
    pub median: String,
    pub sigma: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowSpec {
    #[serde(default = "default_chunk")]
    pub chunk_bytes: usize,
    pub interval: String,
}

fn default_chunk() -> usize {
    16
}

/// When a matching request makes the rule fire; every given condition must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhenSpec {
    /// The first N matches.
    pub first: Option<u64>,
    /// Every Nth match (the Nth, 2Nth, ...).
    pub every: Option<u64>,
    /// Matches after the first N.
    pub after: Option<u64>,
    /// With this probability, drawn from the scenario's seed.
    pub probability: Option<f64>,
    /// From this instant of the tenant's sandbox clock.
    pub from: Option<Timestamp>,
    /// Until (before) this instant.
    pub until: Option<Timestamp>,
}

/// A delay, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub enum Delay {
    Fixed(SignedDuration),
    Uniform(SignedDuration, SignedDuration),
    LogNormal { median: SignedDuration, sigma: f64 },
}

/// A checked action.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Error(String),
    Status(u16),
    Delay(Delay),
    Slow {
        chunk_bytes: usize,
        interval: SignedDuration,
    },
    Reset,
    Empty,
    Garbage,
    Hang,
    BreakCrypto,
    TlsHandshakeFailure,
}

impl Action {
    /// Whether the action replaces the provider's answer (so it may come before processing or,
    /// with `after`, once the request was processed); the others shape the provider's answer.
    pub fn answers_instead(&self) -> bool {
        matches!(
            self,
            Action::Status(_) | Action::Reset | Action::Empty | Action::Garbage | Action::Hang
        )
    }
}

/// A checked rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub spec: FaultSpec,
    pub action: Action,
}

impl Rule {
    /// Refuses a `match.tenant` glob that no merchant of the scenario matches (a typo would
    /// otherwise leave the rule silently idle).
    pub fn check_tenant<'a>(
        &self,
        merchants: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), RuleError> {
        let Some(pattern) = &self.spec.matcher.tenant else {
            return Ok(());
        };
        let mut merchants: Vec<&str> = merchants.into_iter().collect();
        merchants.sort_unstable();
        if merchants
            .iter()
            .any(|m| crate::world::glob::matches(pattern, m))
        {
            return Ok(());
        }
        Err(RuleError::NoSuchTenant {
            pattern: pattern.clone(),
            merchants: merchants.join(", "),
        })
    }
}

/// The id of a rule written without one: the first `fN` from `next` on that is not taken.
pub fn unnamed_id(next: &mut u64, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let id = format!("f{next}");
        *next += 1;
        if !taken(&id) {
            return id;
        }
    }
}

/// Beyond this a log-normal delay is all cap (see `MAX_DELAY` in the fault book).
const MAX_SIGMA: f64 = 10.0;

/// A dribbling answer slower than this is a hang; `hang` says so more plainly.
const MAX_SLOW_INTERVAL: SignedDuration = SignedDuration::from_secs(60);

/// Rule ids travel in URL paths unescaped.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Why a fault rule cannot be used, in words for the person who wrote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("match.provider `{provider}` is not one of {known}")]
    UnknownProvider { provider: String, known: String },
    #[error("an `error` action needs match.provider (each catalog is a provider's)")]
    ErrorWithoutProvider,
    #[error("`{error}` is not an entry of {provider}'s error catalog")]
    NotInCatalog { error: String, provider: String },
    #[error("status {0}: give an error status, 400 to 599")]
    Status(u16),
    #[error("{what}: `{text}` is not a duration such as 200ms or 2s")]
    Duration { what: &'static str, text: String },
    #[error("delay.uniform: the second bound is below the first")]
    UniformBounds,
    #[error("delay.lognormal.sigma must be between 0 and {MAX_SIGMA}")]
    Sigma,
    #[error("slow needs chunk_bytes ≥ 1 and an interval above 0, at most {MAX_SLOW_INTERVAL:#}")]
    Slow,
    #[error("break_crypto needs match.provider, one of {with_crypto}")]
    BreakCryptoWithoutProvider { with_crypto: String },
    #[error("id `{0}`: use letters, digits, `-`, `_` and `.` (it goes in /__admin/faults/ID)")]
    Id(String),
    #[error("when.first must be 1 or more (0 would never fire)")]
    FirstZero,
    #[error("when.until must come after when.from")]
    UntilBeforeFrom,
    #[error("when.every must be 1 or more")]
    EveryZero,
    #[error("when.probability must be between 0 and 1")]
    Probability,
    #[error(
        "`after` applies to reset, empty, garbage, hang and status: the request is processed, then the answer is lost or replaced"
    )]
    AfterNotApplicable,
    #[error("match.tenant `{pattern}` matches no merchant (there are: {merchants})")]
    NoSuchTenant { pattern: String, merchants: String },
    #[error("a rule `{0}` exists already")]
    Exists(String),
    #[error(
        "tls_handshake_failure breaks handshakes, before any request: it takes no match, no after and no when.from/until (use first, every, after or probability)"
    )]
    HandshakeMatch,
}

/// What fault rules may name: the providers served and their catalogs (the provider registry
/// answers).
pub trait Catalogs {
    /// Every provider's name, in order.
    fn providers(&self) -> Vec<&'static str>;
    /// Whether `provider`'s catalog has an entry named `error`.
    fn catalog_has(&self, provider: &str, error: &str) -> bool;
    /// Whether `provider`'s answers carry a signature or encryption to break.
    fn has_crypto(&self, provider: &str) -> bool;
}

fn duration(text: &str, what: &'static str) -> Result<SignedDuration, RuleError> {
    text.parse::<SignedDuration>()
        .ok()
        .filter(|d| !d.is_negative())
        .ok_or_else(|| RuleError::Duration {
            what,
            text: text.to_owned(),
        })
}

impl FaultSpec {
    /// Checks the rule against what `catalogs` knows; `id` names it when it has no id of its
    /// own.
    pub fn compile(self, id: String, catalogs: &dyn Catalogs) -> Result<Rule, RuleError> {
        let provider = self.matcher.provider.as_deref();
        if let Some(p) = provider
            && !catalogs.providers().contains(&p)
        {
            return Err(RuleError::UnknownProvider {
                provider: p.to_owned(),
                known: catalogs.providers().join(", "),
            });
        }
        let action = match &self.action {
            ActionSpec::Error(name) => {
                let Some(p) = provider else {
                    return Err(RuleError::ErrorWithoutProvider);
                };
                if !catalogs.catalog_has(p, name) {
                    return Err(RuleError::NotInCatalog {
                        error: name.clone(),
                        provider: p.to_owned(),
                    });
                }
                Action::Error(name.clone())
            }
            ActionSpec::Status(code) => {
                // 1xx, 204, 205 and 304 cannot carry the gateway error body.
                if !(400..=599).contains(code) {
                    return Err(RuleError::Status(*code));
                }
                Action::Status(*code)
            }
            ActionSpec::Delay(DelaySpec::Fixed(text)) => {
                Action::Delay(Delay::Fixed(duration(text, "delay")?))
            }
            ActionSpec::Delay(DelaySpec::Uniform {
                uniform: [low, high],
            }) => {
                let (low, high) = (duration(low, "delay")?, duration(high, "delay")?);
                if high < low {
                    return Err(RuleError::UniformBounds);
                }
                Action::Delay(Delay::Uniform(low, high))
            }
            ActionSpec::Delay(DelaySpec::LogNormal { lognormal }) => {
                if !(0.0..=MAX_SIGMA).contains(&lognormal.sigma) {
                    return Err(RuleError::Sigma);
                }
                Action::Delay(Delay::LogNormal {
                    median: duration(&lognormal.median, "delay.lognormal.median")?,
                    sigma: lognormal.sigma,
                })
            }
            ActionSpec::Slow(slow) => {
                let interval = duration(&slow.interval, "slow.interval")?;
                if slow.chunk_bytes == 0 || interval.is_zero() || interval > MAX_SLOW_INTERVAL {
                    return Err(RuleError::Slow);
                }
                Action::Slow {
                    chunk_bytes: slow.chunk_bytes,
                    interval,
                }
            }
            ActionSpec::Reset => Action::Reset,
            ActionSpec::Empty => Action::Empty,
            ActionSpec::Garbage => Action::Garbage,
            ActionSpec::Hang => Action::Hang,
            ActionSpec::BreakCrypto => {
                if !provider.is_some_and(|p| catalogs.has_crypto(p)) {
                    let with_crypto: Vec<&str> = catalogs
                        .providers()
                        .into_iter()
                        .filter(|p| catalogs.has_crypto(p))
                        .collect();
                    return Err(RuleError::BreakCryptoWithoutProvider {
                        with_crypto: with_crypto.join(", "),
                    });
                }
                Action::BreakCrypto
            }
            ActionSpec::TlsHandshakeFailure => {
                let m = &self.matcher;
                let matches_requests = m.provider.is_some()
                    || m.operation.is_some()
                    || m.tenant.is_some()
                    || !m.fields.is_empty();
                if matches_requests
                    || self.after
                    || self.when.from.is_some()
                    || self.when.until.is_some()
                {
                    return Err(RuleError::HandshakeMatch);
                }
                Action::TlsHandshakeFailure
            }
        };
        let id = self.id.clone().unwrap_or(id);
        if !valid_id(&id) {
            return Err(RuleError::Id(id));
        }
        let when = &self.when;
        if when.first == Some(0) {
            return Err(RuleError::FirstZero);
        }
        if let (Some(from), Some(until)) = (when.from, when.until)
            && until <= from
        {
            return Err(RuleError::UntilBeforeFrom);
        }
        if when.every == Some(0) {
            return Err(RuleError::EveryZero);
        }
        if when.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err(RuleError::Probability);
        }
        if self.after && !action.answers_instead() {
            return Err(RuleError::AfterNotApplicable);
        }
        Ok(Rule {
            id,
            spec: self,
            action,
        })
    }
}
