//! KazePay "ucard": one endpoint, operations chosen by `head.apiCode`, every body sealed in the
//! envelope of [`envelope`].
//!
//! A request goes: envelope shape → sysId → open (unwrap key, decrypt, verify signature) — any
//! failure so far is answered in clear, since the caller is not trusted yet — then, in the
//! tenant's lock, fault rules, the requestNo replay check, the decrypted body and the
//! operation, whose answer (success or failure) is sealed for the merchant with
//! `"encrypt":"SUCCESS"` or `"FAILED"` first in the body.

pub mod client;
mod command;
pub mod envelope;
mod hosted;
mod notify;
mod ops;
mod section;
pub mod settings;
mod upload;
mod wire;

use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use self::envelope::{Accepted, Sealed, open, seal};
use self::settings::{ErrorKind, Settings, SysIdentity};
use self::wire::{Head, OpError, RequestHead, Response, parse_envelope};
use super::client::{
    ClientAnswer, MerchantClient, SendError, Transport, json_content_type, with_step_headers,
};
use super::command::ProviderCommand;
use super::fields::{Blank, Fields};
use super::strictness::{refusal_note, rule_name};
use super::{
    Admission, Cx, Draft, Failure, Outcome, Payload, Provider, Replay, Reply, Request, Trace,
    Unopened, Unsealed, corrupt,
};
use crate::scenario::section::{Build, BuiltinKey, BuiltinProfile, Located};
use crate::scenario::steps::{RequestStep, StepTarget};
use crate::world::World;
use crate::world::rng::{self, SandboxRng};
use crate::world::timeline::Notice;

/// The KazePay provider.
#[derive(Debug)]
pub struct KazePay;

/// The platform's test-only key pair.
pub const PLATFORM: BuiltinKey = BuiltinKey {
    name: "kazepay-platform",
    private_pem: include_str!("../../../fixtures/keys/kazepay-platform.test-only.pem"),
    public_pem: include_str!("../../../fixtures/keys/kazepay-platform.pub.pem"),
};

/// An admitted request: its envelope and, for `fileUpload`, the file.
#[derive(Debug)]
pub struct Caller {
    head: RequestHead,
    encrypt: String,
    file: Option<bytes::Bytes>,
    /// `http://host:port` as the client reached the sandbox (for links it hands out).
    base_url: String,
}

/// A failure answered before the caller is trusted: the head as far as it was read, in clear.
#[derive(Debug)]
pub struct Refusal {
    head: RequestHead,
    kind: ErrorKind,
    reason: String,
}

/// An operation's answer and what the journal should say about it.
#[derive(Debug)]
pub struct Answered {
    answer: ops::Answer,
    note: Option<String>,
}

impl Provider for KazePay {
    const NAME: &'static str = "kazepay";
    type Section = section::Section;
    type Credentials = section::Credentials;
    type Settings = Settings;
    type Caller = Caller;
    type Request = Map<String, Value>;
    type Answer = Answered;
    type Error = OpError;
    type Refusal = Refusal;
    /// The seed of a sealed answer's session key.
    type Draw = u64;

    fn profile(&self) -> Option<BuiltinProfile> {
        Some(section::PROFILE)
    }

    fn build(
        &self,
        section: section::Section,
        merchants: Vec<(usize, Located<section::Credentials>)>,
        build: &mut Build<'_, '_>,
    ) -> Option<Settings> {
        section::build(section, merchants, build)
    }

    fn platform(&self) -> Option<BuiltinKey> {
        Some(PLATFORM)
    }

    fn command(&self) -> Option<ProviderCommand> {
        Some(ProviderCommand::new::<command::ToolCommand>(
            Self::NAME,
            "Seal a KazePay request or open a response with given keys (default: the demo keys)",
            command::EXAMPLES,
            command::run,
        ))
    }

    fn platform_public_key(&self, settings: &Settings) -> Option<String> {
        Some(settings.platform_public_pem.clone())
    }

    fn credentials(&self, settings: &Settings, tenant: usize) -> Value {
        merchant_of(settings, tenant).map_or(Value::Null, |m| {
            serde_json::to_value(&m.system).unwrap_or_default()
        })
    }

    fn step_target(&self) -> StepTarget {
        StepTarget::Operation
    }

    fn client(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let system = &merchant_of(cx.settings, tenant)
            .ok_or("the merchant has no KazePay sysId")?
            .system;
        let private = system
            .merchant_private_key
            .as_deref()
            .ok_or("the scenario gives no kazepay merchant_private_key to seal with")?;
        let profile = envelope::Profile {
            hash: system.sign_hash,
            key_wrap: system.key_wrap,
        };
        let client = client::Client::from_pems(
            &system.sys_id,
            private,
            &cx.settings.platform_public_pem,
            profile,
        )
        .map_err(|e| SendError::Request(e.to_string()))?;
        Ok(Box::new(StepClient {
            client,
            path: cx.settings.path.clone(),
        }))
    }

    fn prefixes(&self, settings: &Settings) -> Vec<String> {
        vec![settings.path.clone()]
    }

    /// The hosted KYC page is for people, not an API call.
    fn direct(&self, cx: &Cx<'_, Self>, request: &Request<'_>) -> Option<Reply> {
        let token = request
            .path
            .strip_prefix(&format!("{}/kyc/", cx.settings.path))?;
        Some(hosted::page(cx, request, token))
    }

    /// The envelope's shape, then its sysId: failures in clear (the caller is not trusted yet).
    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self> {
        let (envelope, file) = match read_request(cx.settings, request) {
            Ok(parts) => parts,
            Err(error) => {
                let (head, reason) = *error;
                return Admission::Refused {
                    tenant: None,
                    operation: None,
                    refusal: Refusal {
                        head,
                        kind: ErrorKind::MalformedEnvelope,
                        reason,
                    },
                };
            }
        };
        let head = envelope.head;
        let operation = head.api_code.clone();
        let tenant = cx
            .settings
            .merchants
            .get(&head.sys_id)
            .and_then(|m| cx.tenant(m.tenant));
        match tenant {
            Some(tenant) => Admission::Admitted {
                tenant,
                operation,
                caller: Caller {
                    head,
                    encrypt: envelope.encrypt,
                    file,
                    base_url: base_url(request),
                },
            },
            None => Admission::Refused {
                tenant: None,
                operation: Some(operation),
                refusal: Refusal {
                    head,
                    kind: ErrorKind::UnknownSysId,
                    reason: String::new(),
                },
            },
        }
    }

    /// Unwraps the key with the platform key, decrypts, verifies the merchant's signature.
    fn open(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        _request: &Request<'_>,
    ) -> Result<Unsealed, Unopened<Refusal>> {
        let refuse = |kind| Refusal {
            head: caller.head.clone(),
            kind,
            reason: String::new(),
        };
        let merchant = merchant(cx.settings, &caller.head)
            .ok_or_else(|| Unopened::plain(refuse(ErrorKind::UnknownSysId)))?;
        let sealed = Sealed {
            sign: caller.head.sign.clone(),
            key_enc: caller.head.key_enc.clone(),
            encrypt: caller.encrypt.clone(),
        };
        // Strict: exactly the merchant's hash and key form (design §4).
        let accepted = if merchant
            .system
            .leniency
            .relaxes(&section::Rule::SignatureVariants)
        {
            Accepted::Any
        } else {
            Accepted::Exactly(merchant.profile)
        };
        // keyEnc, the body and the signature fail alike: SIGN_ERROR, the envelope not authentic.
        open(
            &sealed,
            &cx.settings.platform_private,
            &merchant.public_key,
            accepted,
        )
        .map(|(plaintext, _hash)| Unsealed::Plain(plaintext))
        .map_err(|cause| {
            // Only on a refusal: would the other hash or key form have opened it? Then the
            // journal names the strict rule rather than leaving a "bad signature" to puzzle over.
            let variant = accepted != Accepted::Any
                && open(
                    &sealed,
                    &cx.settings.platform_private,
                    &merchant.public_key,
                    Accepted::Any,
                )
                .is_ok();
            let cause = if variant {
                format!(
                    "{cause}: sealed with the other signature hash or key form than the merchant's sign_hash {:?} / key_wrap {:?}; {}",
                    merchant.profile.hash,
                    merchant.profile.key_wrap,
                    refusal_note(Self::NAME, &rule_name(&section::Rule::SignatureVariants))
                )
            } else {
                cause.to_string()
            };
            Unopened::because(refuse(ErrorKind::BadSignature), cause)
        })
    }

    /// A scenario's busy apiCodes, then the decrypted body, which must be a JSON object.
    fn read(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        _request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Map<String, Value>, OpError> {
        if cx.settings.busy_api_codes.contains(&caller.head.api_code) {
            return Err(OpError::new(ErrorKind::SystemBusy));
        }
        body.json
            .as_object()
            .cloned()
            .ok_or_else(|| OpError::new(ErrorKind::MalformedBody))
    }

    /// A requestNo is spent by a success.
    fn replay(&self, caller: &Caller) -> Option<Replay<OpError>> {
        Some(Replay {
            key: format!("kazepay:{}", caller.head.request_no),
            refusal: OpError::new(ErrorKind::DuplicateRequest),
        })
    }

    fn operate(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        body: Map<String, Value>,
        world: &mut World,
    ) -> Result<Answered, OpError> {
        let tenant_id = world.merchant.id.clone();
        let context = ops::Context {
            settings: cx.settings,
            tenant_id: &tenant_id,
            base_url: caller.base_url.clone(),
            upload: caller.file.as_deref(),
        };
        let api_code = &caller.head.api_code;
        // KazePay refuses blank strings where a value is required.
        let body = Fields::new(&body).with_blank(Blank::RefusedWithSpaces);
        let answer = ops::dispatch(&context, api_code, world, &body)?;
        let note = activation_note(world, api_code, &answer);
        Ok(Answered { answer, note })
    }

    fn catalog_error(&self, name: &str) -> Option<OpError> {
        let kind: ErrorKind = serde_json::from_value(Value::String(name.to_owned())).ok()?;
        Some(OpError::new(kind))
    }

    /// Every processed answer is sealed with a fresh key: it draws a seed.
    fn draw(&self, outcome: &Outcome<Self>) -> Option<fn(&mut SandboxRng) -> u64> {
        match outcome {
            Outcome::Done(..) => Some(rng::next_seed),
            Outcome::Refused(_) => None,
        }
    }

    fn respond(
        &self,
        cx: &Cx<'_, Self>,
        outcome: Outcome<Self>,
        seed: u64,
        mut trace: Trace,
    ) -> Reply {
        let settings = cx.settings;
        let (caller, result) = match outcome {
            Outcome::Refused(refusal) => {
                return in_clear(
                    settings,
                    &refusal.head,
                    refusal.kind,
                    &refusal.reason,
                    trace,
                );
            }
            Outcome::Done(caller, result) => (caller, result),
        };
        let (code, detail, body) = match result {
            Ok(answered) => {
                trace.note = answered.note;
                let body = match answered.answer {
                    ops::Answer::Object(fields) => with_flag("SUCCESS", fields),
                    ops::Answer::List(items) => Value::Array(items),
                };
                ("SUCCESS".to_owned(), "SUCCESS".to_owned(), body)
            }
            Err(error) => {
                let (code, detail) = settings.error(error.kind, &error.field, &error.reason);
                (code, detail, json!({ "encrypt": "FAILED" }))
            }
        };
        let Some(merchant) = merchant(settings, &caller.head) else {
            return in_clear(settings, &caller.head, ErrorKind::UnknownSysId, "", trace);
        };
        sealed_reply(
            settings,
            merchant,
            &caller.head,
            code,
            detail,
            &body,
            seed,
            trace,
        )
    }

    fn failure(&self, cx: &Cx<'_, Self>, _path: &str, failure: &Failure) -> Reply {
        // A body the server could not take is a malformed envelope, anything else is busy.
        let (kind, reason) = if failure.is_the_bodys() {
            (ErrorKind::MalformedEnvelope, failure.to_string())
        } else {
            (ErrorKind::SystemBusy, String::new())
        };
        let mut reply = in_clear(
            cx.settings,
            &RequestHead::default(),
            kind,
            &reason,
            Trace::default(),
        );
        reply.status = failure.status_in_band();
        reply
    }

    fn notifies(&self) -> bool {
        true
    }

    fn issues_cards(&self) -> bool {
        true
    }

    fn has_crypto(&self) -> bool {
        true
    }

    fn break_crypto(&self, reply: &mut Reply) {
        // A signature that does not verify (the body still decrypts).
        if let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(sign) = body["head"].get("sign").and_then(Value::as_str)
        {
            body["head"]["sign"] = Value::String(corrupt(sign));
            reply.body = bytes::Bytes::from(body.to_string());
        }
    }

    fn webhook(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Draft> {
        notify::render(cx.settings, tenant, world, notice, seed)
    }

    fn banner(&self, cx: &Cx<'_, Self>, base_url: &str) -> String {
        let settings = cx.settings;
        let mut out = format!(
            "KazePay          POST {base_url}{}   (dispatch by head.apiCode)\n",
            settings.path
        );
        for tenant in cx.tenants() {
            if let Some((sys_id, _)) = settings
                .merchants
                .iter()
                .find(|(_, m)| m.tenant == tenant.index)
            {
                out.push_str(&format!(
                    "                 sysId {sys_id}   (merchant {})\n",
                    tenant.id
                ));
            }
        }
        out
    }
}

/// SysIdentity `tenant`'s identity.
fn merchant_of(settings: &Settings, tenant: usize) -> Option<&SysIdentity> {
    settings.merchants.values().find(|m| m.tenant == tenant)
}

/// A merchant's client for the test runner's steps: requests sealed, answers opened.
struct StepClient {
    client: client::Client,
    path: String,
}

impl MerchantClient for StepClient {
    fn send(
        &mut self,
        step: &RequestStep,
        index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError> {
        let operation = step
            .operation
            .as_deref()
            .ok_or("a kazepay request needs `operation`")?;
        let request_no = format!("{}{index:06}", jiff::Timestamp::now().as_millisecond());
        let envelope = self
            .client
            .seal_request(operation, &request_no, &step.body)
            .map_err(|e| SendError::Request(e.to_string()))?;
        let (status, bytes) = transport.exchange(
            "POST",
            &self.path,
            &with_step_headers(vec![json_content_type()], &step.headers),
            envelope.to_string().into_bytes(),
        )?;
        Ok(ClientAnswer::of(status, bytes, |response| {
            let opened = self
                .client
                .open_response(&response)
                .map_err(|e| e.to_string())?;
            Ok(
                json!({ "status": status, "code": opened.code, "detail": opened.detail, "body": opened.body }),
            )
        }))
    }
}

/// The merchant a head's sysId names.
fn merchant<'s>(settings: &'s Settings, head: &RequestHead) -> Option<&'s SysIdentity> {
    settings.merchants.get(&head.sys_id)
}

/// The journal's copy of the activation code a `ucardAssign` without `autoActive` created:
/// as the cardholder would receive it by message, once.
fn activation_note(world: &World, api_code: &str, answer: &ops::Answer) -> Option<String> {
    let ops::Answer::Object(fields) = answer else {
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
    merchant: &SysIdentity,
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
