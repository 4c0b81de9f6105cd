//! KeySecure open platform: `/open-api/...`, plain JSON with header authentication, answers
//! `{"code":0,"msg":"Success","data":...}` and failures `{"code":N,"msg":...}`, always HTTP 200.
//!
//! Checks run in the documented precedence: Api-Key missing (1002), unknown (1008), disabled
//! (1010), expired (1011); caller IP (1003); Timestamp (1005, against the wall clock); then —
//! except for the token request — Access-Token missing (1006) or invalid/expired (1007); the
//! per-key rate limit (1009); the route (1004); the merchant's integration mode (1012); PCI
//! (1013); a scenario's outage (1001); the body and the operation. `Language` picks the
//! message language.

mod gate;
mod notify;
mod ops;
pub mod sensitive;
pub mod settings;
mod wire;

use http::StatusCode;
use serde_json::Value;

use self::gate::Caller;
use self::ops::{Lookup, Modes};
use self::settings::{ErrorKind, Language, Settings};
use self::wire::{Failure as WireFailure, Input, OpError, Success, parse_body};
use super::fields::Fields;
use super::{Failure, Provider, Reply, Request, Trace};
use crate::app::Running;
use crate::faults::Probe;
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::timeline::Notice;

pub use notify::authorization_call;

/// Path prefix of every KeySecure API.
const PREFIX: &str = "/open-api/";

/// The KeySecure provider.
#[derive(Debug)]
pub struct KeySecure;

impl Provider for KeySecure {
    fn name(&self) -> &'static str {
        "keysecure"
    }

    fn prefixes(&self, _running: &Running) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        let settings = &running.scenario.keysecure;
        let language = Language::from_header(header(request, "language"));
        let mut trace = Trace {
            operation: Some(request.path.to_owned()),
            ..Trace::default()
        };
        let caller = match gate::admit(running, settings, request) {
            Ok(caller) => caller,
            Err(error) => return failure(settings, language, &error, trace),
        };
        trace.tenant = Some(caller.tenant.id.clone());
        trace.sandbox_time = Some(caller.now);
        let fields: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
        let probe = Probe {
            provider: "keysecure",
            operation: request.path,
            tenant: Some(&caller.tenant.id),
            fields: &fields,
            now: Some(caller.now),
        };
        let decision = running.faults.decide(&probe, ErrorKind::SystemError);
        let fired = decision.fired;
        if let Some(kind) = decision.error {
            return failure(settings, language, &OpError::new(kind), trace).with_fault(fired);
        }
        if decision.skip {
            return super::placeholder(trace).with_fault(fired);
        }
        if let Err(error) = gate::meter(&caller, request) {
            return failure(settings, language, &error, trace).with_fault(fired);
        }
        let outcome = if request.path == ops::TOKEN_PATH {
            gate::issue_token(running, settings, &caller)
        } else {
            route(settings, request, &caller).and_then(|(route, params, body, timezone)| {
                let context = ops::Context {
                    settings,
                    key: &caller.merchant.key,
                    timezone,
                };
                let input = Input {
                    params,
                    body: Fields::new(&body),
                };
                caller.tenant.with_world(|world| {
                    world.catch_up();
                    (route.operation)(&context, world, &input)
                })
            })
        };
        answer(settings, language, outcome, trace).with_fault(fired)
    }

    fn failure(&self, running: &Running, _path: &str, failure: &Failure) -> Reply {
        let settings = &running.scenario.keysecure;
        let (error, status) = match failure {
            Failure::Panic { .. } => (OpError::new(ErrorKind::SystemError), StatusCode::OK),
            Failure::Injected { status } => (OpError::new(ErrorKind::SystemError), *status),
            Failure::BodyTooLarge { .. } => (
                OpError::field("body", failure.to_string()),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            Failure::BodyUnreadable => {
                (OpError::field("body", failure.to_string()), StatusCode::OK)
            }
        };
        let mut reply = self::failure(settings, Language::English, &error, Trace::default());
        reply.status = status;
        reply
    }

    fn notifies(&self) -> bool {
        true
    }

    fn webhook(
        &self,
        running: &Running,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Outbound> {
        let tenant = running.tenant(&world.merchant.id)?.index;
        let settings = &running.scenario.keysecure;
        let merchant = settings.merchants.values().find(|m| m.tenant == tenant)?;
        notify::render(settings, &merchant.key, world, notice, seed)
    }

    fn authorization_call(
        &self,
        running: &Running,
        world: &mut World,
        posting: &crate::world::ledger::Posting,
    ) -> Option<crate::world::deliveries::DecisionCall> {
        let tenant = running.tenant(&world.merchant.id)?.index;
        let settings = &running.scenario.keysecure;
        let merchant = settings.merchants.values().find(|m| m.tenant == tenant)?;
        notify::authorization_call(settings, &merchant.key, world, posting)
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        let mut out = format!(
            "KeySecure        {base_url}{PREFIX}v1/...   (token: GET {base_url}{})\n",
            ops::TOKEN_PATH
        );
        for (setup, tenant) in running.scenario.tenants.iter().zip(running.tenants()) {
            if let Some(key) = &setup.credentials.keysecure {
                out.push_str(&format!(
                    "                 Api-Key {}   ({:?} mode, merchant {})\n",
                    key.api_key, key.mode, tenant.id
                ));
            }
        }
        out
    }
}

/// A header's text, if present and readable.
fn header<'r>(request: &'r Request<'_>, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

type Routed<'p> = (
    &'static ops::Route,
    Vec<&'p str>,
    serde_json::Map<String, Value>,
    jiff::tz::Offset,
);

/// After the gate, in the documented precedence: the merchant's mode (1012), PCI (1013), the
/// request itself — path, method, `Timezone`, body (1004) — and a scenario's outage (1001).
fn route<'p>(
    settings: &Settings,
    request: &Request<'p>,
    caller: &Caller<'_>,
) -> Result<Routed<'p>, OpError> {
    let (route, params, right_method) = match ops::find(request.method, request.path) {
        Lookup::Found(route, params) => (route, params, true),
        Lookup::WrongMethod(route) => (route, Vec::new(), false),
        Lookup::NotFound => {
            return Err(OpError::new(ErrorKind::UnknownApi).with_field(request.path));
        }
    };
    if let Modes::Only(mode) = route.modes
        && mode != caller.merchant.key.mode
    {
        return Err(OpError::new(ErrorKind::ModeNotSupported));
    }
    if route.needs_pci && !caller.merchant.key.pci_enabled {
        return Err(OpError::new(ErrorKind::PciNotEnabled));
    }
    if !right_method {
        return Err(OpError::field(
            "method",
            format!("must be {} for {}", route.method, request.path),
        ));
    }
    let timezone = match header(request, "timezone") {
        None => settings.timezone,
        Some(text) => gate::parse_timezone(text.trim())
            .ok_or_else(|| OpError::field("Timezone", "must look like UTC+8 or +08:00"))?,
    };
    let body = parse_body(request.body)?;
    if settings
        .unavailable_paths
        .iter()
        .any(|p| p == route.pattern || p == request.path)
    {
        return Err(OpError::new(ErrorKind::SystemError));
    }
    Ok((route, params, body, timezone))
}

fn answer(
    settings: &Settings,
    language: Language,
    outcome: Result<Value, OpError>,
    trace: Trace,
) -> Reply {
    match outcome {
        Ok(data) => {
            let success = Success {
                code: 0,
                msg: settings.success(language),
                data,
            };
            Reply::json(StatusCode::OK, &success, trace)
        }
        Err(error) => failure(settings, language, &error, trace),
    }
}

fn failure(settings: &Settings, language: Language, error: &OpError, trace: Trace) -> Reply {
    let (code, msg) = settings.error(error.kind, language, &error.field, &error.reason);
    Reply::json(StatusCode::OK, &WireFailure { code, msg }, trace)
}
