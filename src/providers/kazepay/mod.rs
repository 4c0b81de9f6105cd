//! KazePay "ucard": one endpoint, operations chosen by `head.apiCode`, every body sealed in the
//! envelope of [`envelope`].
//!
//! A request goes: envelope shape → sysId → open (unwrap key, decrypt, verify signature) — any
//! failure so far is answered in clear, since the caller is not trusted yet — then the decrypted
//! body, the requestNo replay check and the operation, whose answer (success or failure) is
//! sealed for the merchant with `"encrypt":"SUCCESS"` or `"FAILED"` first in the body.

pub mod client;
pub mod envelope;
mod hosted;
mod notify;
mod ops;
pub mod settings;
mod upload;
mod wire;

use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use self::envelope::{Sealed, open, seal};
use self::settings::{ErrorKind, Merchant, Settings};
use self::wire::{Body, Head, OpError, RequestHead, Response, parse_envelope};
use super::{Failure, Provider, Reply, Request, Trace};
use crate::app::Running;
use crate::faults::Probe;
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::rng;
use crate::world::timeline::Notice;

/// The KazePay provider.
#[derive(Debug)]
pub struct KazePay;

impl Provider for KazePay {
    fn name(&self) -> &'static str {
        "kazepay"
    }

    fn prefixes(&self, running: &Running) -> Vec<String> {
        vec![running.scenario.kazepay.path.clone()]
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        let settings = &running.scenario.kazepay;
        let mut trace = Trace::default();
        if let Some(token) = request
            .path
            .strip_prefix(&format!("{}/kyc/", settings.path))
        {
            return hosted::page(running, request, token);
        }
        let (envelope, file) = match read_request(settings, request) {
            Ok(parts) => parts,
            Err(error) => {
                let (head, reason) = *error;
                return in_clear(
                    settings,
                    &head,
                    ErrorKind::MalformedEnvelope,
                    &reason,
                    trace,
                );
            }
        };
        let head = envelope.head;
        trace.operation = Some(head.api_code.clone());
        let Some(merchant) = settings.merchants.get(&head.sys_id) else {
            return in_clear(settings, &head, ErrorKind::UnknownSysId, "", trace);
        };
        let Some(tenant) = running.tenants().get(merchant.tenant) else {
            return in_clear(settings, &head, ErrorKind::UnknownSysId, "", trace);
        };
        trace.tenant = Some(tenant.id.clone());
        let sealed = Sealed {
            sign: head.sign.clone(),
            key_enc: head.key_enc.clone(),
            encrypt: envelope.encrypt,
        };
        let plaintext = match open(&sealed, &settings.platform_private, &merchant.public_key) {
            Ok((plaintext, _hash)) => plaintext,
            Err(e) if e.is_signature() => {
                return in_clear(settings, &head, ErrorKind::BadSignature, "", trace);
            }
            Err(e) => {
                return in_clear(
                    settings,
                    &head,
                    ErrorKind::DecryptFailed,
                    &e.to_string(),
                    trace,
                );
            }
        };
        trace.request_plain =
            Some(serde_json::from_slice(&plaintext).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&plaintext).into_owned())
            }));
        let context = ops::Context {
            settings,
            tenant_id: &tenant.id,
            base_url: base_url(request),
            upload: file.as_deref(),
        };
        // The operation and the replay check are one critical section; the answer's random
        // seed is drawn inside it (from the stream for non-business values, so answers never
        // shift later ids and PANs) and sealing (two RSA operations) happens after the lock.
        let fields: Value = serde_json::from_slice(&plaintext).unwrap_or(Value::Null);
        let (now, outcome, seal_seed, note, decision) = tenant.with_world(|world| {
            world.catch_up();
            let probe = Probe {
                provider: "kazepay",
                operation: &head.api_code,
                tenant: Some(&tenant.id),
                fields: &fields,
                now: Some(world.now()),
            };
            let decision = running.faults.decide(&probe, ErrorKind::SystemBusy);
            if decision.skip {
                return (
                    world.now(),
                    Ok(ops::Answer::List(Vec::new())),
                    0,
                    None,
                    decision,
                );
            }
            let replay_key = format!("kazepay:{}", head.request_no);
            let outcome = if let Some(kind) = decision.error {
                Err(OpError::new(kind))
            } else if settings.busy_api_codes.contains(&head.api_code) {
                Err(OpError::new(ErrorKind::SystemBusy))
            } else if world.key_used(&replay_key) {
                Err(OpError::new(ErrorKind::DuplicateRequest))
            } else {
                Body::parse(&plaintext)
                    .and_then(|body| ops::dispatch(&context, &head.api_code, world, &body))
            };
            if outcome.is_ok() {
                world.use_key(replay_key);
            }
            let note = activation_note(world, &head.api_code, &outcome);
            (
                world.now(),
                outcome,
                rand::RngExt::random::<u64>(world.aux_rng()),
                note,
                decision,
            )
        });
        trace.sandbox_time = Some(now);
        trace.note = note;
        if decision.skip {
            return super::placeholder(trace).with_fault(decision.fired);
        }
        let fired = decision.fired;
        let (code, detail, body) = match outcome {
            Ok(answer) => {
                let body = match answer {
                    ops::Answer::Fields(fields) => with_flag("SUCCESS", fields),
                    ops::Answer::List(items) => Value::Array(items),
                };
                ("SUCCESS".to_owned(), "SUCCESS".to_owned(), body)
            }
            Err(error) => {
                let (code, detail) = settings.error(error.kind, &error.field, &error.reason);
                (code, detail, json!({ "encrypt": "FAILED" }))
            }
        };
        sealed_reply(
            settings, merchant, &head, code, detail, &body, seal_seed, trace,
        )
        .with_fault(fired)
    }

    fn failure(&self, running: &Running, _path: &str, failure: &Failure) -> Reply {
        let settings = &running.scenario.kazepay;
        let (kind, reason, status) = match failure {
            Failure::Panic { .. } => (ErrorKind::SystemBusy, String::new(), StatusCode::OK),
            Failure::Injected { status } => (ErrorKind::SystemBusy, String::new(), *status),
            Failure::BodyTooLarge { .. } => (
                ErrorKind::MalformedEnvelope,
                failure.to_string(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            Failure::BodyUnreadable => (
                ErrorKind::MalformedEnvelope,
                failure.to_string(),
                StatusCode::OK,
            ),
        };
        let mut reply = in_clear(
            settings,
            &RequestHead::default(),
            kind,
            &reason,
            Trace::default(),
        );
        reply.status = status;
        reply
    }

    fn notifies(&self) -> bool {
        true
    }

    fn break_crypto(&self, reply: &mut Reply) {
        // A signature that does not verify (the body still decrypts).
        if let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(sign) = body["head"].get("sign").and_then(Value::as_str)
        {
            body["head"]["sign"] = Value::String(super::corrupt(sign));
            reply.body = bytes::Bytes::from(body.to_string());
        }
    }

    fn webhook(
        &self,
        running: &Running,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Outbound> {
        let tenant = running.tenant(&world.merchant.id)?.index;
        notify::render(&running.scenario.kazepay, tenant, world, notice, seed)
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        let settings = &running.scenario.kazepay;
        let mut out = format!(
            "KazePay          POST {base_url}{}   (dispatch by head.apiCode)\n",
            settings.path
        );
        for (setup, tenant) in running.scenario.tenants.iter().zip(running.tenants()) {
            if let Some(system) = &setup.credentials.kazepay {
                out.push_str(&format!(
                    "                 sysId {}   (merchant {})\n",
                    system.sys_id, tenant.id
                ));
            }
        }
        out
    }
}

/// The journal's copy of the activation code a `ucardAssign` without `autoActive` created:
/// as the cardholder would receive it by message, once.
fn activation_note(
    world: &World,
    api_code: &str,
    outcome: &Result<ops::Answer, OpError>,
) -> Option<String> {
    let Ok(ops::Answer::Fields(fields)) = outcome else {
        return None;
    };
    if api_code != "ucardAssign" {
        return None;
    }
    let card_id = fields.get("cardID")?.as_str()?;
    let code = &world.cards().get(card_id)?.activation.as_ref()?.code;
    Some(format!("activation code for card {card_id}: {code}"))
}

/// The envelope (from the body, or the `request` part of a multipart upload) and the uploaded
/// file, if any.
fn read_request(
    settings: &Settings,
    request: &Request<'_>,
) -> Result<(wire::RequestEnvelope, Option<bytes::Bytes>), wire::EnvelopeError> {
    let refuse = |reason: String| Box::new((RequestHead::default(), reason));
    if request.path != settings.path || request.method != Method::POST {
        return Err(refuse(format!("send POST {}", settings.path)));
    }
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if upload::is_multipart(content_type) {
        let parts =
            upload::parse(content_type.unwrap_or_default(), request.body).map_err(refuse)?;
        Ok((parse_envelope(&parts.envelope)?, parts.file))
    } else {
        Ok((parse_envelope(request.body)?, None))
    }
}

/// `{"encrypt": flag, ...fields}`: the flag first, as in every documented response body.
fn with_flag(flag: &str, fields: Map<String, Value>) -> Value {
    let mut body = Map::with_capacity(fields.len() + 1);
    body.insert("encrypt".to_owned(), Value::String(flag.to_owned()));
    body.extend(fields);
    Value::Object(body)
}

/// The base URL the client used (for links the sandbox hands out, such as `kycUrl`).
fn base_url(request: &Request<'_>) -> String {
    let host = request
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    format!("http://{}", host.unwrap_or("127.0.0.1"))
}

/// A failure answered before the caller is trusted: head only, nothing sealed.
fn in_clear(
    settings: &Settings,
    head: &RequestHead,
    kind: ErrorKind,
    reason: &str,
    trace: Trace,
) -> Reply {
    let (code, detail) = settings.error(kind, "", reason);
    let response = Response {
        head: response_head(head, code, detail, None),
        body: json!({}),
    };
    Reply::json(StatusCode::OK, &response, trace)
}

/// An answer sealed for the merchant; sealing that fails (it cannot with parsed keys) is
/// answered in clear as a system error.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one response, each needed once"
)]
fn sealed_reply(
    settings: &Settings,
    merchant: &Merchant,
    head: &RequestHead,
    code: String,
    detail: String,
    body: &Value,
    seed: u64,
    mut trace: Trace,
) -> Reply {
    let plaintext = body.to_string();
    let mut stream = rng::stream(seed, "kazepay-seal");
    match seal(
        plaintext.as_bytes(),
        &settings.platform_private,
        &merchant.public_key,
        merchant.profile,
        &mut stream,
    ) {
        Ok(sealed) => {
            trace.response_plain = Some(body.clone());
            let response = Response {
                head: response_head(head, code, detail, Some((sealed.sign, sealed.key_enc))),
                body: json!({ "encrypt": sealed.encrypt }),
            };
            Reply::json(StatusCode::OK, &response, trace)
        }
        Err(e) => in_clear(settings, head, ErrorKind::SystemBusy, &e.to_string(), trace),
    }
}

fn response_head(
    head: &RequestHead,
    code: String,
    detail: String,
    crypto: Option<(String, String)>,
) -> Head {
    let (sign, key_enc) = crypto.unzip();
    Head {
        api_code: head.api_code.clone(),
        sys_id: head.sys_id.clone(),
        request_no: head.request_no.clone(),
        version: if head.version.is_empty() {
            "1.0".to_owned()
        } else {
            head.version.clone()
        },
        code,
        detail,
        sign,
        key_enc,
    }
}
