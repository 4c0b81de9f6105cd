//! The one request pipeline every provider runs through. It owns, once for all providers:
//! where the tenant's world is locked (exactly once per request), the timeline catch-up, the
//! point where fault rules are consulted, rate quotas, replay keys, that crypto and
//! serialisation run outside the lock, and the journal's decrypted views. Providers fill the
//! hooks of [`Provider`].

use serde_json::Value;

use super::contract::{
    Admission, Cx, Failure, Outcome, Payload, Provider, Reply, Request, Trace, Unopened, Unsealed,
};
use crate::faults::{Fired, Probe};
use crate::world::tenant::Tenant;

/// What happened inside the world lock.
enum Locked<P: Provider> {
    /// A fault rule answers instead: nothing was processed.
    Skipped(Fired),
    /// Processed, or refused while processing; what the answer drew.
    Done(Outcome<P>, Option<Fired>, P::Draw),
    /// A fault rule named a catalog entry the provider does not have (rules are checked
    /// against the catalog when they are added, so this is a bug, answered as one).
    UnknownCatalogEntry(String, Fired),
}

/// Answers `request` for `provider`.
pub(crate) fn run<P: Provider>(provider: &P, cx: &Cx<'_, P>, request: &Request<'_>) -> Reply {
    if let Some(reply) = provider.direct(cx, request) {
        return reply;
    }
    let mut trace = Trace::default();
    let (tenant, caller) = match provider.admit(cx, request) {
        Admission::Admitted {
            tenant,
            operation,
            caller,
        } => {
            trace.operation = Some(operation);
            trace.tenant = Some(tenant.id.clone());
            (tenant, caller)
        }
        Admission::Refused {
            tenant,
            operation,
            refusal,
        } => {
            trace.operation = operation;
            trace.tenant = tenant.map(|t| t.id.clone());
            return refused(provider, cx, tenant, refusal, trace);
        }
    };
    let opened = match provider.open(cx, &caller, request) {
        Ok(opened) => opened,
        Err(Unopened { refusal, cause }) => {
            if let Some(cause) = &cause {
                tracing::info!(provider = P::NAME, %cause, "envelope not opened");
            }
            trace.note = cause;
            return refused(provider, cx, Some(tenant), refusal, trace);
        }
    };
    let bytes: &[u8] = match &opened {
        Unsealed::Clear => request.body,
        Unsealed::Plain(plain) => plain,
    };
    // Parsed once: the fault rules' fields, the journal's view and the read all use it.
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    if let Unsealed::Plain(plain) = &opened {
        trace.request_plain = Some(
            parsed
                .clone()
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(plain).into_owned())),
        );
    }
    let json = parsed.unwrap_or(Value::Null);
    let body = Payload { bytes, json: &json };
    let read = provider.read(cx, &caller, request, &body);
    let operation = trace.operation.as_deref().unwrap_or_default();
    let (locked, now) = tenant.with_world(|world| {
        world.at_one_instant(|world| {
            let now = world.now();
            let probe = Probe {
                provider: P::NAME,
                operation,
                tenant: Some(&tenant.id),
                fields: &json,
                now: Some(now),
            };
            let locked = (|| {
                if let Err(error) = provider.check(cx, &caller, request, &body, world) {
                    return done(provider, world, caller, Err(error), None);
                }
                let fired = cx.running.faults.check(&probe);
                if let Some(fired) = fired {
                    if let Some(name) = fired.error() {
                        return match provider.catalog_error(name) {
                            Some(error) => done(provider, world, caller, Err(error), Some(fired)),
                            None => Locked::UnknownCatalogEntry(name.to_owned(), fired),
                        };
                    }
                    if fired.skips_processing() {
                        return Locked::Skipped(fired);
                    }
                    return process(provider, cx, world, caller, read, Some(fired));
                }
                process(provider, cx, world, caller, read, None)
            })();
            (locked, now)
        })
    });
    trace.sandbox_time = Some(now);
    match locked {
        Locked::Skipped(fired) => Reply::placeholder(trace).with_fault(Some(fired)),
        Locked::Done(outcome, fired, draw) => {
            if let Outcome::Done(_, Err(error)) = &outcome
                && let Some(rule) = provider.strict_rule(error)
            {
                trace.note = Some(super::strictness::refusal_note(P::NAME, rule));
            }
            provider.respond(cx, outcome, draw, trace).with_fault(fired)
        }
        Locked::UnknownCatalogEntry(name, fired) => {
            let message = format!("fault rule names `{name}`, which {} lacks", P::NAME);
            tracing::error!(provider = P::NAME, %message, "fault rule broken");
            let mut reply = provider.failure(cx, request.path, &Failure::Panic { message });
            reply.trace = trace;
            reply.with_fault(Some(fired))
        }
    }
}

/// After the fault rules: the rate quota, the replay key, the read's refusal, the operation.
fn process<P: Provider>(
    provider: &P,
    cx: &Cx<'_, P>,
    world: &mut crate::world::World,
    caller: P::Caller,
    read: Result<P::Request, P::Error>,
    fired: Option<Fired>,
) -> Locked<P> {
    if let Some(quota) = provider.meter(cx, &caller, &read)
        && world.take_rate_token(&quota.key, quota.limit).is_err()
    {
        return done(provider, world, caller, Err(quota.refusal), fired);
    }
    let replay_key = match provider.replay(&caller) {
        Some(replay) if world.request_spent(&replay.key) => {
            return done(provider, world, caller, Err(replay.refusal), fired);
        }
        Some(replay) => Some(replay.key),
        None => None,
    };
    let request = match read {
        Ok(request) => request,
        Err(error) => return done(provider, world, caller, Err(error), fired),
    };
    let result = provider.operate(cx, &caller, request, world);
    if result.is_ok()
        && let Some(key) = replay_key
    {
        world.spend_request(key);
    }
    done(provider, world, caller, result, fired)
}

/// The outcome, with what its answer draws from the tenant's auxiliary stream.
fn done<P: Provider>(
    provider: &P,
    world: &mut crate::world::World,
    caller: P::Caller,
    result: Result<P::Answer, P::Error>,
    fired: Option<Fired>,
) -> Locked<P> {
    let outcome = Outcome::Done(caller, result);
    let draw = match provider.draw(&outcome) {
        Some(draw) => draw(world.aux_rng()),
        None => P::Draw::default(),
    };
    Locked::Done(outcome, fired, draw)
}

/// A refusal before the lock; what its answer draws (if anything) from the tenant's auxiliary
/// stream, or from the shared one when no tenant is known. That draw is the request's only
/// lock.
fn refused<P: Provider>(
    provider: &P,
    cx: &Cx<'_, P>,
    tenant: Option<&Tenant>,
    refusal: P::Refusal,
    trace: Trace,
) -> Reply {
    let outcome = Outcome::Refused(refusal);
    let draw = match (provider.draw(&outcome), tenant) {
        (None, _) => P::Draw::default(),
        (Some(draw), Some(tenant)) => tenant.with_world(|world| draw(world.aux_rng())),
        (Some(draw), None) => cx.running.with_shared_rng(draw),
    };
    provider.respond(cx, outcome, draw, trace)
}

impl Reply {
    /// Attaches the fault rules that fired (the server applies them).
    pub fn with_fault(mut self, fault: Option<Fired>) -> Reply {
        self.fault = fault;
        self
    }
}
