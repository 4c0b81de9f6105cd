//! Pagsmile Issuing: `POST /issuing/...`, every business body sealed in the hybrid envelope of
//! [`envelope`] (no signature: `sign_type: "RSA"` names the scheme).
//!
//! A request goes: method → media type → path → common envelope → app_id and partner_id →
//! optional Basic Authorization → open `biz_data` with the platform key — any failure so far is
//! answered in clear, with `code`/`msg`/`sub_code`/`sub_msg` — then an outage the scenario
//! declared, the request_id replay check and the operation. A success seals `data` for the
//! merchant with a fresh key; a failure is in clear.

pub mod client;
pub mod envelope;
mod notify;
mod ops;
pub mod settings;
mod wire;

use http::{Method, StatusCode};
use serde_json::{Map, Value};

use self::envelope::{Sealed, open, seal};
use self::settings::{App, ErrorKind, Settings};
use self::wire::{Answer, BareSuccess, OpError, SealedSuccess, parse_envelope};
use super::fields::Fields;
use super::{Failure, Provider, Reply, Request, Trace};
use crate::app::Running;
use crate::faults::Probe;
use crate::headers::basic_credentials;
use crate::providers::corrupt;
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::rng;
use crate::world::timeline::Notice;

/// Path prefix of every Pagsmile Issuing API.
const PREFIX: &str = "/issuing/";

/// The Pagsmile provider.
#[derive(Debug)]
pub struct Pagsmile;

impl Provider for Pagsmile {
    fn name(&self) -> &'static str {
        "pagsmile"
    }

    fn prefixes(&self, _running: &Running) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        let settings = &running.scenario.pagsmile;
        let mut trace = Trace {
            operation: Some(request.path.to_owned()),
            ..Trace::default()
        };
        let (operation, envelope, app) = match admit(settings, request) {
            Ok(admitted) => admitted,
            Err(error) => return in_clear(settings, &error, trace),
        };
        let Some(tenant) = running.tenants().get(app.tenant) else {
            return in_clear(settings, &OpError::new(ErrorKind::UnknownApp), trace);
        };
        trace.tenant = Some(tenant.id.clone());
        let sealed = Sealed {
            data: envelope.biz_data.clone(),
            random_key: envelope.random_key.clone(),
        };
        let plaintext = match open(&sealed, &settings.platform_private) {
            Ok(plaintext) => plaintext,
            Err(e) => {
                let error = OpError::new(ErrorKind::InvalidSignature).with_reason(e.to_string());
                return in_clear(settings, &error, trace);
            }
        };
        let biz: Option<Map<String, Value>> = serde_json::from_slice(&plaintext).ok();
        trace.request_plain =
            Some(biz.clone().map(Value::Object).unwrap_or_else(|| {
                Value::String(String::from_utf8_lossy(&plaintext).into_owned())
            }));
        let Some(biz) = biz else {
            let error = OpError::field("biz_data", "must decrypt to a JSON object");
            return in_clear(settings, &error, trace);
        };
        if settings.unavailable_paths.iter().any(|p| p == request.path) {
            return in_clear(settings, &OpError::new(ErrorKind::Unavailable), trace);
        }
        let context = ops::Context { settings, app };
        // The operation and the replay check are one critical section; the answer's seed is
        // drawn inside it (from the stream for non-business values) and sealing happens after.
        let fields = Value::Object(biz.clone());
        let (now, outcome, seal_seed, decision) = tenant.with_world(|world| {
            world.catch_up();
            let probe = Probe {
                provider: "pagsmile",
                operation: request.path,
                tenant: Some(&tenant.id),
                fields: &fields,
                now: Some(world.now()),
            };
            let decision = running.faults.decide(&probe, ErrorKind::Unavailable);
            if decision.skip {
                return (world.now(), Ok(Answer::Nothing), 0, decision);
            }
            let replay_key = format!("pagsmile:{}:{}", envelope.app_id, envelope.request_id);
            let outcome = if let Some(kind) = decision.error {
                Err(OpError::new(kind))
            } else if world.key_used(&replay_key) {
                Err(OpError::new(ErrorKind::DuplicateRequest).with_field(&envelope.request_id))
            } else {
                operation.perform(&context, world, &Fields::new(&biz))
            };
            if outcome.is_ok() {
                world.use_key(replay_key);
            }
            (
                world.now(),
                outcome,
                rand::RngExt::random::<u64>(world.aux_rng()),
                decision,
            )
        });
        trace.sandbox_time = Some(now);
        if decision.skip {
            return super::placeholder(trace).with_fault(decision.fired);
        }
        match outcome {
            Ok(answer) => success(settings, &envelope.app_id, app, answer, seal_seed, trace),
            Err(error) => in_clear(settings, &error, trace),
        }
        .with_fault(decision.fired)
    }

    fn break_crypto(&self, reply: &mut Reply) {
        // A random_key the merchant's key cannot unwrap.
        if let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(key) = body.get("random_key").and_then(Value::as_str)
        {
            body["random_key"] = Value::String(corrupt(key));
            reply.body = bytes::Bytes::from(body.to_string());
        }
    }

    fn failure(&self, running: &Running, _path: &str, failure: &Failure) -> Reply {
        let settings = &running.scenario.pagsmile;
        let (error, status) = match failure {
            Failure::Panic { .. } => (OpError::new(ErrorKind::Unavailable), StatusCode::OK),
            Failure::Injected { status } => (OpError::new(ErrorKind::Unavailable), *status),
            Failure::BodyTooLarge { .. } => (
                OpError::field("body", failure.to_string()),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            Failure::BodyUnreadable => {
                (OpError::field("body", failure.to_string()), StatusCode::OK)
            }
        };
        let mut reply = in_clear(settings, &error, Trace::default());
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
        let settings = &running.scenario.pagsmile;
        let (app_id, app) = settings.apps.iter().find(|(_, a)| a.tenant == tenant)?;
        notify::render(settings, app_id, app, world, notice, seed)
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        let mut out = format!("Pagsmile         POST {base_url}{PREFIX}...   (");
        out.push_str(&ops::paths().count().to_string());
        out.push_str(" operations, hybrid RSA+AES envelope)\n");
        for (setup, tenant) in running.scenario.tenants.iter().zip(running.tenants()) {
            if let Some(app) = &setup.credentials.pagsmile {
                out.push_str(&format!(
                    "                 app_id {}   (merchant {})\n",
                    app.app_id, tenant.id
                ));
            }
        }
        out
    }
}

/// The checks before decryption: the operation, the envelope and the app it names.
fn admit<'s>(
    settings: &'s Settings,
    request: &Request<'_>,
) -> Result<(ops::Operation, wire::RequestEnvelope, &'s App), OpError> {
    if request.method != Method::POST {
        return Err(OpError::new(ErrorKind::MethodNotSupported));
    }
    let media_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_ascii_lowercase());
    // The documentation's own examples send `application/json; chartset=UTF-8`.
    if media_type.is_some_and(|m| !m.trim_start().starts_with("application/json")) {
        return Err(OpError::new(ErrorKind::MediaType));
    }
    let operation = ops::find(request.path)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApi).with_field(request.path))?;
    let envelope = parse_envelope(request.body)?;
    let app = settings
        .apps
        .get(&envelope.app_id)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApp).with_field(&envelope.app_id))?;
    if app.partner_id != envelope.partner_id {
        return Err(OpError::field(
            "partner_id",
            "does not belong to the app_id",
        ));
    }
    match basic_credentials(request.headers) {
        None => {}
        Some(Some((user, password))) if user == envelope.app_id && password == app.security_key => {
        }
        Some(_) => return Err(OpError::new(ErrorKind::InvalidAuthorization)),
    }
    Ok((operation, envelope, app))
}

/// A failure, in clear.
fn in_clear(settings: &Settings, error: &OpError, trace: Trace) -> Reply {
    let text = settings.error(error.kind, &error.field, &error.reason);
    Reply::json(StatusCode::OK, &text, trace)
}

/// A success: `data` sealed for the merchant (with `total` for lists), or bare.
fn success(
    settings: &Settings,
    app_id: &str,
    app: &App,
    answer: Answer,
    seed: u64,
    mut trace: Trace,
) -> Reply {
    let (data, total) = match answer {
        Answer::Nothing => {
            let bare = BareSuccess {
                code: &settings.success.code,
                msg: &settings.success.msg,
            };
            return Reply::json(StatusCode::OK, &bare, trace);
        }
        Answer::Object(map) => (Value::Object(map), None),
        Answer::List(items) => {
            let total = items.len();
            (Value::Array(items), Some(total))
        }
    };
    let mut stream = rng::stream(seed, "pagsmile-seal");
    match seal(data.to_string().as_bytes(), &app.public_key, &mut stream) {
        Ok(sealed) => {
            trace.response_plain = Some(data);
            let body = SealedSuccess {
                code: &settings.success.code,
                msg: &settings.success.msg,
                data: sealed.data,
                total,
                random_key: sealed.random_key,
                sign_type: "RSA",
                app_id,
            };
            Reply::json(StatusCode::OK, &body, trace)
        }
        Err(e) => in_clear(
            settings,
            &OpError::new(ErrorKind::Unavailable).with_reason(e.to_string()),
            trace,
        ),
    }
}
