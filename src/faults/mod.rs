//! Failure injection: rules that match requests (provider, operation, tenant, fields of the
//! decrypted body) and make them fail the way production does — a catalog error, a gateway
//! status, latency, a reset or empty or garbage or slow or missing answer, broken crypto —
//! when their conditions hold (first N, every Nth, after N, a seeded probability, a window on
//! the sandbox clock).
//!
//! Providers ask [`FaultBook::check`] once they know what a request is; they answer catalog
//! errors themselves and skip processing when the fault answers instead; the server applies
//! everything about delivery (`server::dispatch`). The journal records which rules fired.

pub mod spec;

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use serde_json::{Value, json};

use self::spec::{Action, Delay, FaultSpec, Rule};
use crate::sync::lock;
use crate::world::rng::{self, SandboxRng};

/// What a provider must do about a request's faults.
#[derive(Debug)]
pub enum Verdict {
    /// Process as usual (and attach what fired, if anything).
    Proceed(Option<Fired>),
    /// Answer with this catalog error instead of processing.
    Error(String, Fired),
    /// Do not process: the server answers (or does not) as the rule says.
    Skip(Fired),
}

/// A verdict in a provider's terms: skip processing, or answer with an entry of its catalog
/// `K`, and what to attach to the answer.
#[derive(Debug)]
pub struct Decision<K> {
    pub skip: bool,
    pub error: Option<K>,
    pub fired: Option<Fired>,
}

impl FaultBook {
    /// The verdict for `probe`, with a catalog error as the provider's own kind (the rule was
    /// checked against the catalog when it was loaded; `fallback` only guards the impossible).
    pub fn decide<K: serde::de::DeserializeOwned>(
        &self,
        probe: &Probe<'_>,
        fallback: K,
    ) -> Decision<K> {
        match self.verdict(probe) {
            Verdict::Proceed(fired) => Decision {
                skip: false,
                error: None,
                fired,
            },
            Verdict::Error(name, fired) => Decision {
                skip: false,
                error: Some(serde_json::from_value(Value::String(name)).unwrap_or(fallback)),
                fired: Some(fired),
            },
            Verdict::Skip(fired) => Decision {
                skip: true,
                error: None,
                fired: Some(fired),
            },
        }
    }
}

/// What a provider knows about a request when it asks.
#[derive(Debug)]
pub struct Probe<'a> {
    pub provider: &'a str,
    pub operation: &'a str,
    pub tenant: Option<&'a str>,
    /// The (decrypted) request body.
    pub fields: &'a Value,
    /// The tenant's sandbox time.
    pub now: Option<Timestamp>,
}

/// The rules that fired for a request and what they add up to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fired {
    /// Ids of every rule that fired, in order.
    pub rules: Vec<String>,
    /// Delays add up.
    pub delay: Duration,
    /// The first other action; `None` when only delays fired.
    pub action: Option<Action>,
    /// Whether that action comes after processing.
    pub after: bool,
}

impl Fired {
    /// Whether the fault answers instead of the provider (nothing is processed).
    pub fn skips_processing(&self) -> bool {
        match &self.action {
            Some(Action::Error(_)) => true,
            Some(action) => action.answers_instead() && !self.after,
            None => false,
        }
    }

    /// The catalog error to answer with, if that is the action.
    pub fn error(&self) -> Option<&str> {
        match &self.action {
            Some(Action::Error(name)) => Some(name),
            _ => None,
        }
    }
}

struct Armed {
    rule: Rule,
    matches: u64,
    fired: u64,
    rng: SandboxRng,
}

struct Book {
    armed: Vec<Armed>,
    next: u64,
    seed: u64,
}

/// The running rules and their counters.
pub struct FaultBook {
    book: Mutex<Book>,
}

impl std::fmt::Debug for FaultBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultBook({} rules)", lock(&self.book).armed.len())
    }
}

fn arm(rule: Rule, seed: u64) -> Armed {
    let rng = rng::stream(seed, &format!("fault:{}", rule.id));
    Armed {
        rule,
        matches: 0,
        fired: 0,
        rng,
    }
}

impl FaultBook {
    /// The scenario's rules, counters at zero.
    pub fn new(rules: &[Rule], seed: u64) -> FaultBook {
        FaultBook {
            book: Mutex::new(Book {
                armed: rules.iter().cloned().map(|r| arm(r, seed)).collect(),
                next: rules.len() as u64 + 1,
                seed,
            }),
        }
    }

    /// Back to the scenario's rules (runtime rules dropped), counters and draws restarted.
    pub fn reset(&self, rules: &[Rule]) {
        let mut book = lock(&self.book);
        let seed = book.seed;
        book.armed = rules.iter().cloned().map(|r| arm(r, seed)).collect();
        book.next = rules.len() as u64 + 1;
    }

    /// Adds a rule at run time, if it names only `merchants`; its id (given, or the next free
    /// `fN`).
    pub fn add<'a>(
        &self,
        spec: FaultSpec,
        merchants: impl IntoIterator<Item = &'a str>,
    ) -> Result<String, String> {
        let mut book = lock(&self.book);
        let mut next = book.next;
        let id = spec::unnamed_id(&mut next, |id| book.armed.iter().any(|a| a.rule.id == id));
        let rule = spec.compile(id, error_exists)?;
        rule.check_tenant(merchants)?;
        if book.armed.iter().any(|a| a.rule.id == rule.id) {
            return Err(format!("a rule `{}` exists already", rule.id));
        }
        if rule.spec.id.is_none() {
            book.next = next;
        }
        let id = rule.id.clone();
        let seed = book.seed;
        book.armed.push(arm(rule, seed));
        Ok(id)
    }

    /// Removes a rule; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let mut book = lock(&self.book);
        let before = book.armed.len();
        book.armed.retain(|a| a.rule.id != id);
        book.armed.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) -> usize {
        let mut book = lock(&self.book);
        std::mem::take(&mut book.armed).len()
    }

    /// Every rule with its counters, for the control API.
    pub fn list(&self) -> Value {
        let book = lock(&self.book);
        Value::Array(
            book.armed
                .iter()
                .map(|a| {
                    let mut spec = serde_json::to_value(&a.rule.spec).unwrap_or(Value::Null);
                    spec["id"] = json!(a.rule.id);
                    json!({ "rule": spec, "matches": a.matches, "fired": a.fired })
                })
                .collect(),
        )
    }

    /// What the provider must do about `probe`.
    pub fn verdict(&self, probe: &Probe<'_>) -> Verdict {
        match self.check(probe) {
            None => Verdict::Proceed(None),
            Some(fired) => match fired.error().map(str::to_owned) {
                Some(name) => Verdict::Error(name, fired),
                None if fired.skips_processing() => Verdict::Skip(fired),
                None => Verdict::Proceed(Some(fired)),
            },
        }
    }

    /// The rules firing for `probe` (counting the match of every rule that matches).
    pub fn check(&self, probe: &Probe<'_>) -> Option<Fired> {
        let mut book = lock(&self.book);
        let mut fired = Fired::default();
        for armed in &mut book.armed {
            if !matches(&armed.rule.spec, probe) {
                continue;
            }
            armed.matches += 1;
            // Drawn at every match, so the sequence of outcomes depends on the matches alone.
            let draw: f64 = armed.rng.random();
            let when = &armed.rule.spec.when;
            let n = armed.matches;
            let due = when.first.is_none_or(|first| n <= first)
                && when.every.is_none_or(|every| n % every == 0)
                && when.after.is_none_or(|after| n > after)
                && when.probability.is_none_or(|p| draw < p)
                && when
                    .from
                    .is_none_or(|from| probe.now.is_some_and(|now| now >= from))
                && when
                    .until
                    .is_none_or(|until| probe.now.is_some_and(|now| now < until));
            if !due {
                continue;
            }
            armed.fired += 1;
            fired.rules.push(armed.rule.id.clone());
            match &armed.rule.action {
                Action::Delay(delay) => fired.delay += sample(delay, &mut armed.rng),
                action if fired.action.is_none() => {
                    fired.action = Some(action.clone());
                    fired.after = armed.rule.spec.after;
                }
                _ => {}
            }
        }
        (!fired.rules.is_empty()).then_some(fired)
    }
}

fn matches(spec: &FaultSpec, probe: &Probe<'_>) -> bool {
    let m = &spec.matcher;
    let glob = |pattern: &Option<String>, value: Option<&str>| {
        pattern
            .as_deref()
            .is_none_or(|p| value.is_some_and(|v| crate::world::glob::matches(p, v)))
    };
    glob(&m.provider, Some(probe.provider))
        && glob(&m.operation, Some(probe.operation))
        && glob(&m.tenant, probe.tenant)
        && m.fields.iter().all(|(path, pattern)| {
            let value = path.split('.').try_fold(probe.fields, |v, key| match v {
                Value::Array(items) => items.get(key.parse::<usize>().ok()?),
                _ => v.get(key),
            });
            let text = match value {
                Some(Value::String(s)) => Some(std::borrow::Cow::Borrowed(s.as_str())),
                Some(Value::Null) | None => None,
                Some(other) => Some(std::borrow::Cow::Owned(other.to_string())),
            };
            text.is_some_and(|t| crate::world::glob::matches(pattern, &t))
        })
}

/// The longest delay a rule adds (documented in docs/scenarios.md).
const MAX_DELAY: Duration = Duration::from_secs(600);

fn sample(delay: &Delay, rng: &mut SandboxRng) -> Duration {
    let chosen = match delay {
        Delay::Fixed(d) => *d,
        Delay::Uniform(low, high) => {
            let span = high.as_secs_f64() - low.as_secs_f64();
            SignedDuration::from_secs_f64(low.as_secs_f64() + span * rng.random::<f64>())
        }
        Delay::LogNormal { median, sigma } => {
            // Box–Muller: a standard normal from two uniforms.
            let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            // Capped before converting: a wide sigma overflows any duration.
            let secs = median.as_secs_f64() * (sigma * z).exp();
            let secs = if secs.is_nan() {
                0.0
            } else {
                secs.clamp(0.0, MAX_DELAY.as_secs_f64())
            };
            SignedDuration::from_secs_f64(secs)
        }
    };
    chosen.unsigned_abs().min(MAX_DELAY)
}

/// Whether `provider`'s catalog has an entry named `name` (its snake_case name).
pub fn error_exists(provider: &str, name: &str) -> bool {
    fn parses<T: serde::de::DeserializeOwned>(name: &str) -> bool {
        serde_json::from_value::<T>(Value::String(name.to_owned())).is_ok()
    }
    match provider {
        "acedata" => parses::<crate::providers::acedata::settings::GatewayError>(name),
        "kazepay" => parses::<crate::providers::kazepay::settings::ErrorKind>(name),
        "pagsmile" => parses::<crate::providers::pagsmile::settings::ErrorKind>(name),
        "keysecure" => parses::<crate::providers::keysecure::settings::ErrorKind>(name),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml_json: Value) -> Rule {
        serde_json::from_value::<FaultSpec>(yaml_json)
            .unwrap()
            .compile("f1".into(), error_exists)
            .unwrap()
    }

    fn probe(fields: &Value) -> Probe<'_> {
        Probe {
            provider: "kazepay",
            operation: "cardRecharge",
            tenant: Some("demo"),
            fields,
            now: None,
        }
    }

    #[test]
    fn counting_modes_fire_on_the_right_matches() {
        let fires = |when: Value| {
            let book = FaultBook::new(&[rule(json!({ "action": "reset", "when": when }))], 1);
            let body = json!({});
            (1..=6)
                .map(|_| book.check(&probe(&body)).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fires(json!({ "first": 2 })),
            [true, true, false, false, false, false]
        );
        assert_eq!(
            fires(json!({ "every": 3 })),
            [false, false, true, false, false, true]
        );
        assert_eq!(
            fires(json!({ "after": 4 })),
            [false, false, false, false, true, true]
        );
        assert_eq!(
            fires(json!({ "after": 1, "first": 3 })),
            [false, true, true, false, false, false]
        );
        let seeded = fires(json!({ "probability": 0.5 }));
        assert_eq!(
            seeded,
            fires(json!({ "probability": 0.5 })),
            "reproducible under a seed"
        );
        assert!(
            seeded.contains(&true) && seeded.contains(&false),
            "{seeded:?}"
        );
    }

    #[test]
    fn matching_looks_at_provider_operation_tenant_and_fields() {
        let book = FaultBook::new(
            &[rule(
                json!({ "match": { "provider": "kazepay", "operation": "card*", "tenant": "demo", "fields": { "cardID": "3377", "amt": "1*" } }, "action": { "error": "system_busy" } }),
            )],
            1,
        );
        let hit = json!({ "cardID": "3377", "amt": 100 });
        let miss = json!({ "cardID": "3378", "amt": 100 });
        let fired = book.check(&probe(&hit)).unwrap();
        assert_eq!(
            (fired.error(), fired.skips_processing()),
            (Some("system_busy"), true)
        );
        assert!(book.check(&probe(&miss)).is_none());
        assert_eq!(book.list()[0]["matches"], 1);
    }

    #[test]
    fn field_paths_index_into_arrays() {
        let book = FaultBook::new(
            &[rule(
                json!({ "match": { "fields": { "items.1.pan": "4111*" } }, "action": "empty" }),
            )],
            1,
        );
        let hit = json!({ "items": [{ "pan": "5500" }, { "pan": "4111111111111111" }] });
        let miss = json!({ "items": [{ "pan": "4111111111111111" }] });
        assert!(book.check(&probe(&hit)).is_some());
        assert!(book.check(&probe(&miss)).is_none());
        assert!(
            book.check(&probe(&json!({ "items": { "1": { "pan": "4111" } } })))
                .is_some()
        );
    }

    #[test]
    fn delays_add_up_and_the_first_other_action_wins() {
        let rules = [
            rule(json!({ "id": "slow", "action": { "delay": "100ms" } })),
            rule(json!({ "id": "lost", "action": "reset", "after": true })),
            rule(json!({ "id": "empty", "action": "empty" })),
            rule(json!({ "id": "more", "action": { "delay": { "uniform": ["10ms", "20ms"] } } })),
        ];
        let book = FaultBook::new(&rules, 7);
        let body = json!({});
        let fired = book.check(&probe(&body)).unwrap();
        assert_eq!(fired.rules, ["slow", "lost", "empty", "more"]);
        assert_eq!(fired.action, Some(Action::Reset));
        assert!(fired.after && !fired.skips_processing());
        assert!(
            fired.delay >= Duration::from_millis(110) && fired.delay <= Duration::from_millis(120)
        );
    }

    #[test]
    fn the_widest_lognormal_draws_stay_within_the_cap() {
        let mut rng = rng::stream(7, "test");
        for median in [
            SignedDuration::ZERO,
            SignedDuration::from_nanos(1),
            SignedDuration::from_secs(600),
        ] {
            let delay = Delay::LogNormal {
                median,
                sigma: 10.0,
            };
            let draws: Vec<Duration> = (0..10_000).map(|_| sample(&delay, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= MAX_DELAY));
            if median == SignedDuration::from_secs(600) {
                assert!(draws.contains(&MAX_DELAY) && draws.iter().any(|d| *d < MAX_DELAY));
            }
        }
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        let compile = |v: Value| {
            serde_json::from_value::<FaultSpec>(v)
                .unwrap()
                .compile("f".into(), error_exists)
        };
        assert!(
            compile(json!({ "action": { "error": "system_busy" } }))
                .unwrap_err()
                .contains("match.provider")
        );
        assert!(
            compile(json!({ "match": { "provider": "kazepay" }, "action": { "error": "nope" } }))
                .unwrap_err()
                .contains("catalog")
        );
        assert!(
            compile(json!({ "match": { "provider": "acedata" }, "action": "break_crypto" }))
                .is_err()
        );
        assert!(compile(json!({ "action": { "status": 42 } })).is_err());
        assert!(compile(json!({ "action": "reset", "when": { "probability": 1.5 } })).is_err());
        assert!(compile(json!({ "action": { "delay": "soon" } })).is_err());
        assert!(compile(json!({ "match": { "provider": "nobody" }, "action": "reset" })).is_err());
    }
}
