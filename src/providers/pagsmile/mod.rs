//! Pagsmile Issuing: `POST /issuing/...`, every business body sealed in the hybrid envelope of
//! [`envelope`] (no signature: `sign_type: "RSA"` names the scheme).
//!
//! A request goes: method → media type → path → common envelope → app_id and partner_id →
//! optional Basic Authorization → open `biz_data` with the platform key — any failure so far is
//! answered in clear, with `code`/`msg`/`sub_code`/`sub_msg` — then, in the tenant's lock, an
//! outage the scenario declared, fault rules, the request_id replay check and the operation. A
//! success seals `data` for the merchant with a fresh key; a failure is in clear.

pub mod client;
mod command;
pub mod envelope;
mod notify;
mod ops;
mod section;
pub mod settings;
mod wire;

use http::{Method, StatusCode};
use serde_json::{Map, Value};

use self::envelope::{Sealed, open, seal};
use self::settings::{AppIdentity, ErrorKind, Settings};
use self::wire::{Answer, BareSuccess, OpError, SealedSuccess, parse_envelope};
use super::client::{
    ClientAnswer, MerchantClient, SendError, Transport, json_content_type, with_step_headers,
};
use super::command::ProviderCommand;
use super::fields::{Fields, Typing};
use super::{
    Admission, Cx, Draft, Failure, Outcome, Payload, Provider, Replay, Reply, Request, Trace,
    Unopened, Unsealed, corrupt,
};
use crate::headers::basic_credentials;
use crate::scenario::section::{Build, BuiltinKey, BuiltinProfile, Located};
use crate::scenario::steps::RequestStep;
use crate::world::World;
use crate::world::rng::{self, SandboxRng};
use crate::world::timeline::Notice;

/// Path prefix of every Pagsmile Issuing API.
const PREFIX: &str = "/issuing/";

/// The Pagsmile provider.
#[derive(Debug)]
pub struct Pagsmile;

/// The platform's test-only key pair.
pub const PLATFORM: BuiltinKey = BuiltinKey {
    name: "pagsmile-platform",
    private_pem: include_str!("../../../fixtures/keys/pagsmile-platform.test-only.pem"),
    public_pem: include_str!("../../../fixtures/keys/pagsmile-platform.pub.pem"),
};

/// An admitted request: the operation its path names and the envelope's checked fields.
#[derive(Debug)]
pub struct Caller {
    operation: ops::Operation,
    envelope: wire::RequestEnvelope,
}

impl Provider for Pagsmile {
    const NAME: &'static str = "pagsmile";
    type Section = section::Section;
    type Credentials = section::Credentials;
    type Settings = Settings;
    type Caller = Caller;
    type Request = Map<String, Value>;
    type Answer = Answer;
    type Error = OpError;
    type Refusal = OpError;
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
            "Seal a Pagsmile request or open a response with given keys (default: the demo keys)",
            command::EXAMPLES,
            command::run,
        ))
    }

    fn platform_public_key(&self, settings: &Settings) -> Option<String> {
        Some(settings.platform_public_pem.clone())
    }

    fn credentials(&self, settings: &Settings, tenant: usize) -> Value {
        app_of(settings, tenant).map_or(Value::Null, |app| {
            serde_json::to_value(&app.credentials).unwrap_or_default()
        })
    }

    fn client(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let app = &app_of(cx.settings, tenant)
            .ok_or("the merchant has no Pagsmile app")?
            .credentials;
        let private = app
            .merchant_private_key
            .as_deref()
            .ok_or("the scenario gives no pagsmile merchant_private_key to open answers with")?;
        let client = client::Client::from_pems(
            &app.app_id,
            &app.partner_id,
            private,
            &cx.settings.platform_public_pem,
        )
        .map_err(|e| SendError::Request(e.to_string()))?;
        Ok(Box::new(StepClient { client }))
    }

    fn prefixes(&self, _settings: &Settings) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    /// Method, media type, path, the common envelope, app_id and partner_id, Basic auth.
    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self> {
        let operation = Some(request.path.to_owned());
        let admitted = admit(cx.settings, request).and_then(|(ops_operation, envelope, app)| {
            let tenant = cx
                .tenant(app.tenant)
                .ok_or_else(|| OpError::new(ErrorKind::UnknownApp))?;
            Ok((tenant, ops_operation, envelope))
        });
        match admitted {
            Ok((tenant, ops_operation, envelope)) => Admission::Admitted {
                tenant,
                operation: request.path.to_owned(),
                caller: Caller {
                    operation: ops_operation,
                    envelope,
                },
            },
            Err(refusal) => Admission::Refused {
                tenant: None,
                operation,
                refusal,
            },
        }
    }

    /// Unwraps `random_key` with the platform key and decrypts `biz_data`.
    fn open(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        _request: &Request<'_>,
    ) -> Result<Unsealed, Unopened<OpError>> {
        let sealed = Sealed {
            data: caller.envelope.biz_data.clone(),
            random_key: caller.envelope.random_key.clone(),
        };
        // A key or padding that fails and a text that decrypts to no JSON object are one
        // refusal: telling them apart would be a CBC padding oracle.
        let refuse =
            |cause: String| Unopened::because(OpError::new(ErrorKind::InvalidSignature), cause);
        let plain =
            open(&sealed, &cx.settings.platform_private).map_err(|e| refuse(e.to_string()))?;
        if !is_json_object(&plain) {
            return Err(refuse("biz_data: decrypts to no JSON object".to_owned()));
        }
        Ok(Unsealed::Plain(plain))
    }

    /// A scenario's outage answers before fault rules.
    fn check(
        &self,
        cx: &Cx<'_, Self>,
        _caller: &Caller,
        request: &Request<'_>,
        _body: &Payload<'_>,
        _world: &World,
    ) -> Result<(), OpError> {
        if cx
            .settings
            .unavailable_paths
            .iter()
            .any(|p| p == request.path)
        {
            return Err(OpError::new(ErrorKind::Unavailable));
        }
        Ok(())
    }

    fn read(
        &self,
        _cx: &Cx<'_, Self>,
        _caller: &Caller,
        _request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Map<String, Value>, OpError> {
        body.json
            .as_object()
            .cloned()
            .ok_or_else(|| OpError::field("biz_data", "must decrypt to a JSON object"))
    }

    /// A request_id is spent by a success (per app).
    fn replay(&self, caller: &Caller) -> Option<Replay<OpError>> {
        let envelope = &caller.envelope;
        Some(Replay {
            key: format!("pagsmile:{}:{}", envelope.app_id, envelope.request_id),
            refusal: OpError::new(ErrorKind::DuplicateRequest).with_field(&envelope.request_id),
        })
    }

    fn operate(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        biz: Map<String, Value>,
        world: &mut World,
    ) -> Result<Answer, OpError> {
        let app = app(cx.settings, caller)?;
        let context = ops::Context {
            settings: cx.settings,
            app,
        };
        // Seed 002's types, unless the merchant relaxes them.
        let typing = if app.credentials.leniency.relaxes(&section::Rule::JsonTypes) {
            Typing::Coerced
        } else {
            Typing::Exact
        };
        caller
            .operation
            .perform(&context, world, &Fields::new(&biz).with_typing(typing))
    }

    fn catalog_error(&self, name: &str) -> Option<OpError> {
        let kind: ErrorKind = serde_json::from_value(Value::String(name.to_owned())).ok()?;
        Some(OpError::new(kind))
    }

    fn strict_rule<'e>(&self, error: &'e OpError) -> Option<&'e str> {
        error.rule.as_deref()
    }

    /// Every processed answer draws the seed of its session key.
    fn draw(&self, outcome: &Outcome<Self>) -> Option<fn(&mut SandboxRng) -> u64> {
        match outcome {
            Outcome::Done(..) => Some(rng::next_seed),
            Outcome::Refused(_) => None,
        }
    }

    fn respond(&self, cx: &Cx<'_, Self>, outcome: Outcome<Self>, seed: u64, trace: Trace) -> Reply {
        let settings = cx.settings;
        match outcome {
            Outcome::Done(caller, Ok(answer)) => match app(settings, &caller) {
                Ok(app) => success(settings, &caller.envelope.app_id, app, answer, seed, trace),
                Err(error) => in_clear(settings, &error, trace),
            },
            Outcome::Refused(error) | Outcome::Done(_, Err(error)) => {
                in_clear(settings, &error, trace)
            }
        }
    }

    fn has_crypto(&self) -> bool {
        true
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

    fn failure(&self, cx: &Cx<'_, Self>, _path: &str, failure: &Failure) -> Reply {
        let error = OpError::of_failure(failure, ErrorKind::Unavailable);
        let mut reply = in_clear(cx.settings, &error, Trace::default());
        reply.status = failure.status_in_band();
        reply
    }

    fn notifies(&self) -> bool {
        true
    }

    fn issues_cards(&self) -> bool {
        true
    }

    fn webhook(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
        world: &World,
        notice: &Notice,
        seed: u64,
    ) -> Option<Draft> {
        let app = app_of(cx.settings, tenant)?;
        let outbound = notify::render(cx.settings, app, world, notice, seed)?;
        // Pagsmile's webhooks travel unencrypted: nothing to seal.
        Some(Draft {
            outbound,
            seal: None,
        })
    }

    fn banner(&self, cx: &Cx<'_, Self>, base_url: &str) -> String {
        let mut out = format!("Pagsmile         POST {base_url}{PREFIX}...   (");
        out.push_str(&ops::paths().count().to_string());
        out.push_str(" operations, hybrid RSA+AES envelope)\n");
        for tenant in cx.tenants() {
            if let Some((app_id, _)) = cx
                .settings
                .apps
                .iter()
                .find(|(_, a)| a.tenant == tenant.index)
            {
                out.push_str(&format!(
                    "                 app_id {app_id}   (merchant {})\n",
                    tenant.id
                ));
            }
        }
        out
    }
}

/// Merchant `tenant`'s app.
fn app_of(settings: &Settings, tenant: usize) -> Option<&AppIdentity> {
    settings.apps.values().find(|a| a.tenant == tenant)
}

/// A merchant's client for the test runner's steps: requests sealed, answers opened.
struct StepClient {
    client: client::Client,
}

impl MerchantClient for StepClient {
    fn send(
        &mut self,
        step: &RequestStep,
        index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError> {
        let path = step
            .path
            .as_deref()
            .ok_or("a pagsmile request needs `path`")?;
        let request_id = format!("RUN{}{index:06}", jiff::Timestamp::now().as_millisecond());
        let sealed = self
            .client
            .seal_request(&request_id, &step.body)
            .map_err(|e| SendError::Request(e.to_string()))?;
        let (status, bytes) = transport.exchange(
            "POST",
            path,
            &with_step_headers(vec![json_content_type()], &step.headers),
            sealed.to_string().into_bytes(),
        )?;
        Ok(ClientAnswer::of(status, bytes, |response| {
            let o = self
                .client
                .open_response(&response)
                .map_err(|e| e.to_string())?;
            Ok(
                serde_json::json!({ "status": status, "code": o.code, "msg": o.msg, "sub_code": o.sub_code, "sub_msg": o.sub_msg, "total": o.total, "body": o.data }),
            )
        }))
    }
}

/// The admitted caller's app.
fn app<'s>(settings: &'s Settings, caller: &Caller) -> Result<&'s AppIdentity, OpError> {
    settings
        .apps
        .get(&caller.envelope.app_id)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApp))
}

/// The checks before decryption: the operation, the envelope and the app it names.
fn admit<'s>(
    settings: &'s Settings,
    request: &Request<'_>,
) -> Result<(ops::Operation, wire::RequestEnvelope, &'s AppIdentity), OpError> {
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
    if app.credentials.partner_id != envelope.partner_id {
        return Err(OpError::field(
            "partner_id",
            "does not belong to the app_id",
        ));
    }
    match basic_credentials(request.headers) {
        None => {}
        Some(Some((user, password)))
            if user == envelope.app_id && password == app.credentials.security_key => {}
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
    app: &AppIdentity,
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

/// Whether `text` is one JSON object (checked without building it).
fn is_json_object(text: &[u8]) -> bool {
    text.trim_ascii_start().starts_with(b"{")
        && serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
}
