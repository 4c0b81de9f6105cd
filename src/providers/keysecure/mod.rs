//! KeySecure open platform: `/open-api/...`, plain JSON with header authentication, answers
//! `{"code":0,"msg":"Success","data":...}` and failures `{"code":N,"msg":...}`, always HTTP 200.
//!
//! Checks run in the documented precedence: Api-Key missing (1002), unknown (1008) at
//! admission; then in the tenant's lock disabled (1010), expired (1011); caller IP (1003);
//! Timestamp (1005, against the wall clock); — except for the token request — Access-Token
//! missing (1006) or invalid/expired (1007); fault rules; the per-key rate limit (1009); the
//! route (1004); the merchant's integration mode (1012); PCI (1013); method, `Timezone`, body
//! (1004); a scenario's outage (1001); the operation. `Language` picks the message language.

mod gate;
mod notify;
mod ops;
mod section;
pub mod sensitive;
pub mod settings;
mod wire;

use http::StatusCode;
use serde_json::Value;

use self::gate::Caller;
use self::ops::{Lookup, Modes};
use self::settings::{ErrorKind, KeyIdentity, Language, Settings};
use self::wire::{FailureBody, Input, OpError, Success, body_object};
use super::client::{
    ClientAnswer, MerchantClient, SendError, Transport, json_content_type, with_step_headers,
};
use super::fields::Fields;
use super::{
    Admission, Cx, Draft, Failure, Outcome, Payload, Provider, Quota, Reply, Request, Trace,
};
use crate::scenario::section::{Build, BuiltinProfile, Located};
use crate::scenario::steps::{RequestStep, StepTarget};
use crate::world::World;
use crate::world::timeline::Notice;

pub use notify::authorization_call;

/// Path prefix of every KeySecure API.
const PREFIX: &str = "/open-api/";

/// The KeySecure provider.
#[derive(Debug)]
pub struct KeySecure;

/// A request, read: the token request, or an operation with its input.
#[derive(Debug)]
pub enum Call {
    Token,
    Operation(Routed),
}

/// An operation's route and what it reads: the path's parameters, the body, the `Timezone`.
#[derive(Debug)]
pub struct Routed {
    route: &'static ops::Route,
    params: Vec<String>,
    body: serde_json::Map<String, Value>,
    timezone: jiff::tz::Offset,
}

/// A refusal before the caller is known, in the language it asked for.
#[derive(Debug)]
pub struct Refusal {
    error: OpError,
    language: Language,
}

impl Provider for KeySecure {
    const NAME: &'static str = "keysecure";
    type Section = section::Section;
    type Credentials = section::Credentials;
    type Settings = Settings;
    type Caller = Caller;
    type Request = Call;
    type Answer = Value;
    type Error = OpError;
    type Refusal = Refusal;
    type Draw = ();

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

    fn prepare(
        &self,
        settings: &Settings,
        tenant: usize,
        world: &mut World,
        build: &mut Build<'_, '_>,
    ) {
        section::prepare(settings, tenant, world, build);
    }

    fn credentials(&self, settings: &Settings, tenant: usize) -> Value {
        merchant_of(settings, tenant).map_or(Value::Null, |m| {
            serde_json::to_value(&m.key).unwrap_or_default()
        })
    }

    fn step_target(&self) -> StepTarget {
        StepTarget::PathAndMethod
    }

    fn client(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let merchant =
            merchant_of(cx.settings, tenant).ok_or("the merchant has no KeySecure key")?;
        Ok(Box::new(StepClient {
            api_key: merchant.key.api_key.clone(),
            token: None,
        }))
    }

    fn prefixes(&self, _settings: &Settings) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    /// 1002 and 1008: the Api-Key names the merchant.
    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self> {
        let language = Language::from_header(request.header("language"));
        let operation = Some(request.path.to_owned());
        let refuse = |error| Admission::Refused {
            tenant: None,
            operation: operation.clone(),
            refusal: Refusal { error, language },
        };
        let merchant = match gate::identify(cx.settings, request) {
            Ok(merchant) => merchant,
            Err(error) => return refuse(error),
        };
        let Some(tenant) = cx.tenant(merchant.tenant) else {
            return refuse(OpError::new(ErrorKind::UnknownApiKey));
        };
        Admission::Admitted {
            tenant,
            operation: request.path.to_owned(),
            caller: Caller {
                api_key: merchant.key.api_key.clone(),
                language,
                token_request: request.path == ops::TOKEN_PATH,
            },
        }
    }

    /// After the rate limit, in the documented precedence: the token request's method, or the
    /// merchant's mode (1012), PCI (1013), the request itself — path, method, `Timezone`, body
    /// (1004) — and a scenario's outage (1001).
    fn read(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Call, OpError> {
        if caller.token_request {
            gate::read_token_request(request)?;
            gate::check_content_type(request, &merchant(cx, caller)?.key)?;
            return Ok(Call::Token);
        }
        route(cx.settings, merchant(cx, caller)?, request, body).map(Call::Operation)
    }

    /// 1010, 1011, 1003, 1005, then 1006 and 1007: on the tenant's sandbox clock.
    fn check(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        request: &Request<'_>,
        _body: &Payload<'_>,
        world: &World,
    ) -> Result<(), OpError> {
        let merchant = merchant(cx, caller)?;
        gate::check(cx.settings, merchant, cx.sessions(), request, world.now())
    }

    /// 1009, per Api-Key. Token requests count too: refreshing cannot go faster than calling.
    fn meter(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        _read: &Result<Call, OpError>,
    ) -> Option<Quota<OpError>> {
        let limit = merchant(cx, caller).ok()?.key.rate_limit?;
        Some(Quota {
            key: format!("keysecure:{}", caller.api_key),
            limit,
            refusal: OpError::new(ErrorKind::TooFrequent),
        })
    }

    fn operate(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        call: Call,
        world: &mut World,
    ) -> Result<Value, OpError> {
        let merchant = merchant(cx, caller)?;
        match call {
            Call::Token => Ok(gate::issue_token(
                cx.settings,
                merchant,
                cx.sessions(),
                world,
            )),
            Call::Operation(routed) => {
                let context = ops::Context {
                    settings: cx.settings,
                    key: &merchant.key,
                    timezone: routed.timezone,
                };
                let input = Input {
                    params: routed.params.iter().map(String::as_str).collect(),
                    body: Fields::new(&routed.body),
                };
                (routed.route.operation)(&context, world, &input)
            }
        }
    }

    fn catalog_error(&self, name: &str) -> Option<OpError> {
        let kind: ErrorKind = serde_json::from_value(Value::String(name.to_owned())).ok()?;
        Some(OpError::new(kind))
    }

    fn strict_rule<'e>(&self, error: &'e OpError) -> Option<&'e str> {
        error.rule.as_deref()
    }

    fn respond(&self, cx: &Cx<'_, Self>, outcome: Outcome<Self>, _: (), trace: Trace) -> Reply {
        let settings = cx.settings;
        match outcome {
            Outcome::Refused(refusal) => failure(settings, refusal.language, &refusal.error, trace),
            Outcome::Done(caller, Ok(data)) => {
                let success = Success {
                    code: 0,
                    msg: settings.success(caller.language),
                    data,
                };
                Reply::json(StatusCode::OK, &success, trace)
            }
            Outcome::Done(caller, Err(error)) => failure(settings, caller.language, &error, trace),
        }
    }

    fn failure(&self, cx: &Cx<'_, Self>, _path: &str, failure: &Failure) -> Reply {
        let error = OpError::of_failure(failure, ErrorKind::SystemError);
        let mut reply = self::failure(cx.settings, Language::English, &error, Trace::default());
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
        let merchant = merchant_of(cx.settings, tenant)?;
        notify::render(cx.settings, &merchant.key, world, notice, seed)
    }

    fn authorization_call(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
        world: &mut World,
        posting: &crate::world::ledger::Posting,
    ) -> Option<crate::world::deliveries::DecisionCall> {
        let merchant = merchant_of(cx.settings, tenant)?;
        notify::authorization_call(cx.settings, &merchant.key, world, posting)
    }

    fn banner(&self, cx: &Cx<'_, Self>, base_url: &str) -> String {
        let mut out = format!(
            "KeySecure        {base_url}{PREFIX}v1/...   (token: GET {base_url}{})\n",
            ops::TOKEN_PATH
        );
        for tenant in cx.tenants() {
            if let Some(merchant) = cx
                .settings
                .merchants
                .values()
                .find(|m| m.tenant == tenant.index)
            {
                out.push_str(&format!(
                    "                 Api-Key {}   ({:?} mode, merchant {})\n",
                    merchant.key.api_key, merchant.key.mode, tenant.id
                ));
            }
        }
        out
    }
}

/// KeyIdentity `tenant`'s key.
fn merchant_of(settings: &Settings, tenant: usize) -> Option<&KeyIdentity> {
    settings.merchants.values().find(|m| m.tenant == tenant)
}

/// A merchant's client for the test runner's steps: the key's headers, and an access token
/// fetched on first use (or the one the steps fetched themselves).
struct StepClient {
    api_key: String,
    token: Option<String>,
}

impl StepClient {
    fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("api-key".to_owned(), self.api_key.clone()),
            (
                "timestamp".to_owned(),
                jiff::Timestamp::now().as_millisecond().to_string(),
            ),
        ]
    }

    /// The access token, fetched once.
    fn token(&mut self, transport: &dyn Transport) -> Result<String, SendError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let (_, bytes) = transport.exchange("GET", ops::TOKEN_PATH, &self.headers(), Vec::new())?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let token = answer["data"]["access_token"]
            .as_str()
            .ok_or_else(|| SendError::Request(format!("no KeySecure token: {answer}")))?
            .to_owned();
        self.token = Some(token.clone());
        Ok(token)
    }
}

impl MerchantClient for StepClient {
    fn send(
        &mut self,
        step: &RequestStep,
        _index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError> {
        let path = step
            .path
            .as_deref()
            .ok_or("a keysecure request needs `path`")?;
        let token_request = path == ops::TOKEN_PATH;
        let mut own = vec![json_content_type()];
        own.extend(self.headers());
        // No token to fetch when the step sends its own (or asks for one).
        let own_token = step
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("access-token"));
        if !token_request && !own_token {
            own.push(("access-token".to_owned(), self.token(transport)?));
        }
        let method = step
            .method
            .as_deref()
            .unwrap_or(if token_request { "GET" } else { "POST" });
        let body = if method == "GET" {
            Vec::new()
        } else {
            step.body.to_string().into_bytes()
        };
        let (status, bytes) =
            transport.exchange(method, path, &with_step_headers(own, &step.headers), body)?;
        Ok(ClientAnswer::of(status, bytes, |answer| {
            // A token the steps fetched themselves is the one later requests use.
            if let Some(token) = answer["data"]["access_token"].as_str() {
                self.token = Some(token.to_owned());
            }
            Ok(
                serde_json::json!({ "status": status, "code": answer.get("code"), "msg": answer.get("msg"), "body": answer.get("data") }),
            )
        }))
    }
}

/// The admitted caller's merchant.
fn merchant<'s>(cx: &Cx<'s, KeySecure>, caller: &Caller) -> Result<&'s KeyIdentity, OpError> {
    cx.settings
        .merchants
        .get(&caller.api_key)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApiKey))
}

/// The operation's route and input: the merchant's mode (1012), PCI (1013), path, method,
/// `Timezone`, body (1004), a scenario's outage (1001).
fn route(
    settings: &Settings,
    merchant: &KeyIdentity,
    request: &Request<'_>,
    body: &Payload<'_>,
) -> Result<Routed, OpError> {
    let (route, params, right_method) = match ops::find(request.method, request.path) {
        Lookup::Found(route, params) => (route, params, true),
        Lookup::WrongMethod(route) => (route, Vec::new(), false),
        Lookup::NotFound => {
            return Err(OpError::new(ErrorKind::UnknownApi).with_field(request.path));
        }
    };
    if let Modes::Only(mode) = route.modes
        && mode != merchant.key.mode
    {
        return Err(OpError::new(ErrorKind::ModeNotSupported));
    }
    if route.needs_pci && !merchant.key.pci_enabled {
        return Err(OpError::new(ErrorKind::PciNotEnabled));
    }
    if !right_method {
        return Err(OpError::field(
            "method",
            format!("must be {} for {}", route.method, request.path),
        ));
    }
    gate::check_content_type(request, &merchant.key)?;
    let timezone = match request.header("timezone") {
        None => settings.timezone,
        Some(text) => gate::parse_timezone(text.trim())
            .ok_or_else(|| OpError::field("Timezone", "must look like UTC+8 or +08:00"))?,
    };
    let body = body_object(body)?;
    if settings
        .unavailable_paths
        .iter()
        .any(|p| p == route.pattern || p == request.path)
    {
        return Err(OpError::new(ErrorKind::SystemError));
    }
    Ok(Routed {
        route,
        params: params.into_iter().map(str::to_owned).collect(),
        body,
        timezone,
    })
}

fn failure(settings: &Settings, language: Language, error: &OpError, trace: Trace) -> Reply {
    let (code, msg) = settings.error(error.kind, language, &error.field, &error.reason);
    Reply::json(StatusCode::OK, &FailureBody { code, msg }, trace)
}
