//! Failure injection: rules that match requests (provider, operation, tenant, fields of the
//! decrypted body) and make them fail the way production does — a catalog error, a gateway
//! status, latency, a reset or empty or garbage or slow or missing answer, broken crypto —
//! when their conditions hold (first N, every Nth, after N, a seeded probability, a window on
//! the sandbox clock).
//!
//! The request pipeline asks [`FaultBook::check`] at one point for every provider (the request
//! admitted and opened, inside the tenant's lock, before quotas, replays and the operation);
//! the provider answers a catalog error, processing is skipped when the fault answers
//! instead, and the server applies everything about delivery. The journal records which
//! rules fired. Rules are read without a book-wide lock: tenants contend only on the counters
//! of a rule both their requests match.

pub mod spec;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use serde_json::{Value, json};

use self::spec::{Action, Catalogs, Delay, FaultSpec, Rule, RuleError};
use crate::sync::lock;
use crate::world::rng::{self, SandboxRng};

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

/// The fault rules in force, as a snapshot keeps them.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultsImage {
    /// In the order they are checked.
    pub rules: Vec<ArmedImage>,
    /// The number the next rule added without an id gets (`f<next>`).
    pub next: u64,
}

/// One rule (its id set), how often it matched and fired, and where its stream stands.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArmedImage {
    pub spec: FaultSpec,
    pub matches: u64,
    pub fired: u64,
    pub rng: SandboxRng,
    #[serde(default)]
    pub disabled: bool,
}

/// A rule with its counters and its own seeded stream (drawn at each match).
struct Armed {
    rule: Rule,
    counters: Mutex<Counters>,
}

struct Counters {
    matches: u64,
    fired: u64,
    rng: SandboxRng,
    /// A disabled rule matches nothing (and counts nothing) until enabled again.
    disabled: bool,
}

/// The rules in force and the number the next unnamed one gets.
struct Book {
    armed: Arc<[Arc<Armed>]>,
    next: u64,
}

/// The running rules and their counters.
pub struct FaultBook {
    seed: u64,
    book: RwLock<Book>,
}

impl std::fmt::Debug for FaultBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultBook({} rules)", self.armed().len())
    }
}

fn arm(rule: Rule, seed: u64) -> Arc<Armed> {
    let rng = rng::stream(seed, &format!("fault:{}", rule.id));
    Arc::new(Armed {
        rule,
        counters: Mutex::new(Counters {
            matches: 0,
            fired: 0,
            rng,
            disabled: false,
        }),
    })
}

impl FaultBook {
    /// The scenario's rules, counters at zero.
    pub fn new(rules: &[Rule], seed: u64) -> FaultBook {
        FaultBook {
            seed,
            book: RwLock::new(Book {
                armed: rules.iter().cloned().map(|r| arm(r, seed)).collect(),
                next: rules.len() as u64 + 1,
            }),
        }
    }

    /// The rules in force now (a snapshot: a rule added meanwhile applies to later requests).
    fn armed(&self) -> Arc<[Arc<Armed>]> {
        self.book
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .armed
            .clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Book> {
        self.book.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Back to the scenario's rules (runtime rules dropped), counters and draws restarted.
    pub fn reset(&self, rules: &[Rule]) {
        let mut book = self.write();
        book.armed = rules.iter().cloned().map(|r| arm(r, self.seed)).collect();
        book.next = rules.len() as u64 + 1;
    }

    /// Adds a rule at run time, if it names only `merchants` and what `catalogs` knows; its id
    /// (given, or the next free `fN`).
    pub fn add<'a>(
        &self,
        spec: FaultSpec,
        merchants: impl IntoIterator<Item = &'a str>,
        catalogs: &dyn Catalogs,
    ) -> Result<String, RuleError> {
        let mut book = self.write();
        let mut next = book.next;
        let id = spec::unnamed_id(&mut next, |id| book.armed.iter().any(|a| a.rule.id == id));
        let rule = spec.compile(id, catalogs)?;
        rule.check_tenant(merchants)?;
        if book.armed.iter().any(|a| a.rule.id == rule.id) {
            return Err(RuleError::Exists(rule.id));
        }
        if rule.spec.id.is_none() {
            book.next = next;
        }
        let id = rule.id.clone();
        let mut armed = book.armed.to_vec();
        armed.push(arm(rule, self.seed));
        book.armed = armed.into();
        Ok(id)
    }

    /// Removes a rule; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let mut book = self.write();
        let before = book.armed.len();
        let kept: Vec<Arc<Armed>> = book
            .armed
            .iter()
            .filter(|a| a.rule.id != id)
            .cloned()
            .collect();
        book.armed = kept.into();
        book.armed.len() != before
    }

    /// Disables or enables a rule; whether it exists.
    pub fn set_disabled(&self, id: &str, disabled: bool) -> bool {
        let armed = self.armed();
        let Some(rule) = armed.iter().find(|a| a.rule.id == id) else {
            return false;
        };
        lock(&rule.counters).disabled = disabled;
        true
    }

    /// Removes every rule.
    pub fn clear(&self) -> usize {
        let mut book = self.write();
        let removed = book.armed.len();
        book.armed = Arc::new([]);
        removed
    }

    /// Every rule with its counters, for the control API.
    pub fn list(&self) -> Value {
        Value::Array(
            self.armed()
                .iter()
                .map(|a| {
                    let mut spec = serde_json::to_value(&a.rule.spec).unwrap_or(Value::Null);
                    spec["id"] = json!(a.rule.id);
                    let counters = lock(&a.counters);
                    json!({ "rule": spec, "matches": counters.matches, "fired": counters.fired, "disabled": counters.disabled })
                })
                .collect(),
        )
    }

    /// The rules with their counters and streams, as a snapshot keeps them.
    pub fn image(&self) -> FaultsImage {
        let book = self.book.read().unwrap_or_else(PoisonError::into_inner);
        FaultsImage {
            rules: book
                .armed
                .iter()
                .map(|a| {
                    let counters = lock(&a.counters);
                    let mut spec = a.rule.spec.clone();
                    spec.id = Some(a.rule.id.clone());
                    ArmedImage {
                        spec,
                        matches: counters.matches,
                        fired: counters.fired,
                        rng: counters.rng.clone(),
                        disabled: counters.disabled,
                    }
                })
                .collect(),
            next: book.next,
        }
    }

    /// The rules a snapshot kept, compiled again against `catalogs`; each rule's problem with
    /// its place in the list.
    pub fn from_image(
        image: FaultsImage,
        seed: u64,
        catalogs: &dyn Catalogs,
    ) -> Result<FaultBook, Vec<(usize, String)>> {
        let mut problems = Vec::new();
        let mut armed = Vec::with_capacity(image.rules.len());
        for (n, rule) in image.rules.into_iter().enumerate() {
            let Some(id) = rule.spec.id.clone() else {
                problems.push((n, "a kept rule has its id".to_owned()));
                continue;
            };
            match rule.spec.compile(id, catalogs) {
                Ok(compiled) => armed.push(Arc::new(Armed {
                    rule: compiled,
                    counters: Mutex::new(Counters {
                        matches: rule.matches,
                        fired: rule.fired,
                        rng: rule.rng,
                        disabled: rule.disabled,
                    }),
                })),
                Err(error) => problems.push((n, error.to_string())),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(FaultBook {
            seed,
            book: RwLock::new(Book {
                armed: armed.into(),
                next: image.next,
            }),
        })
    }

    /// The rules firing for `probe` (counting the match of every rule that matches).
    pub fn check(&self, probe: &Probe<'_>) -> Option<Fired> {
        let armed = self.armed();
        let mut fired = Fired::default();
        for armed in armed.iter() {
            // Handshake rules are for handshakes only (`breaks_handshake`).
            if armed.rule.action == Action::TlsHandshakeFailure || !matches(&armed.rule.spec, probe)
            {
                continue;
            }
            let mut counters = lock(&armed.counters);
            if !counts_as_due(&armed.rule, &mut counters, probe.now) {
                continue;
            }
            fired.rules.push(armed.rule.id.clone());
            match &armed.rule.action {
                Action::Delay(delay) => fired.delay += sample(delay, &mut counters.rng),
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

/// Counts a match of `rule` and says whether it fires now (its `when`), drawing from its
/// stream at every match so the outcomes depend on the matches alone.
fn counts_as_due(rule: &Rule, counters: &mut Counters, now: Option<Timestamp>) -> bool {
    if counters.disabled {
        return false;
    }
    counters.matches += 1;
    let draw: f64 = counters.rng.random();
    let when = &rule.spec.when;
    let n = counters.matches;
    let due = when.first.is_none_or(|first| n <= first)
        && when.every.is_none_or(|every| n.is_multiple_of(every))
        && when.after.is_none_or(|after| n > after)
        && when.probability.is_none_or(|p| draw < p)
        && when
            .from
            .is_none_or(|from| now.is_some_and(|now| now >= from))
        && when
            .until
            .is_none_or(|until| now.is_some_and(|now| now < until));
    if due {
        counters.fired += 1;
    }
    due
}

impl FaultBook {
    /// Whether a `tls_handshake_failure` rule breaks this handshake (every such rule counts
    /// the handshake as a match).
    pub fn breaks_handshake(&self) -> bool {
        let mut broken = false;
        for armed in self.armed().iter() {
            if armed.rule.action == Action::TlsHandshakeFailure {
                let mut counters = lock(&armed.counters);
                broken |= counts_as_due(&armed.rule, &mut counters, None);
            }
        }
        broken
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two providers: `bank` (a catalog with `system_busy`), `sealed` (answers with crypto).
    struct TestCatalogs;

    impl Catalogs for TestCatalogs {
        fn providers(&self) -> Vec<&'static str> {
            vec!["bank", "sealed"]
        }

        fn catalog_has(&self, provider: &str, error: &str) -> bool {
            provider == "bank" && error == "system_busy"
        }

        fn has_crypto(&self, provider: &str) -> bool {
            provider == "sealed"
        }
    }

    fn rule(yaml_json: Value) -> Rule {
        serde_json::from_value::<FaultSpec>(yaml_json)
            .unwrap()
            .compile("f1".into(), &TestCatalogs)
            .unwrap()
    }

    fn probe(fields: &Value) -> Probe<'_> {
        Probe {
            provider: "bank",
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
                json!({ "match": { "provider": "bank", "operation": "card*", "tenant": "demo", "fields": { "cardID": "3377", "amt": "1*" } }, "action": { "error": "system_busy" } }),
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
                .compile("f".into(), &TestCatalogs)
        };
        assert_eq!(
            compile(json!({ "action": { "error": "system_busy" } })).unwrap_err(),
            RuleError::ErrorWithoutProvider
        );
        assert_eq!(
            compile(json!({ "match": { "provider": "bank" }, "action": { "error": "nope" } }))
                .unwrap_err()
                .to_string(),
            "`nope` is not an entry of bank's error catalog"
        );
        assert_eq!(
            compile(json!({ "match": { "provider": "bank" }, "action": "break_crypto" }))
                .unwrap_err()
                .to_string(),
            "break_crypto needs match.provider, one of sealed"
        );
        assert!(
            compile(json!({ "match": { "provider": "sealed" }, "action": "break_crypto" })).is_ok()
        );
        assert!(compile(json!({ "action": { "status": 42 } })).is_err());
        assert!(compile(json!({ "action": "reset", "when": { "probability": 1.5 } })).is_err());
        assert!(compile(json!({ "action": { "delay": "soon" } })).is_err());
        assert!(compile(json!({ "match": { "provider": "nobody" }, "action": "reset" })).is_err());
    }
}
