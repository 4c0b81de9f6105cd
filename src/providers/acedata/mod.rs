//! AceData Cloud bank-card APIs: `POST /identity/bankcard/check-1e` (BIN lookup) and
//! `check-2e/3e/4e` (card + holder verification), behind AceData's gateway (bearer token,
//! per-token rate limit, `{"success":false,"error":{..},"trace_id"}` errors).
//!
//! Checks run in this order: route, method, token, token scope (admission); then, in the
//! tenant's lock, fault rules, the rate limit (counting only well-formed requests, so a
//! refused request leaves no trace in the world), the body's refusal, and the business answer,
//! which is always HTTP 200 with a `result` code. Behaviour tables are data ([`settings`]).

mod lookup;
mod section;
pub mod settings;
mod verify;
mod wire;

use http::{Method, StatusCode};

use self::settings::{Endpoint, GatewayError, Settings};
use self::verify::Claim;
use self::wire::{Answer, FieldError, GatewayErrorBody, GatewayErrorDetail};
use super::client::{
    ClientAnswer, MerchantClient, SendError, Transport, json_content_type, with_step_headers,
};
use super::{Admission, Cx, Failure, Outcome, Payload, Provider, Quota, Reply, Request, Trace};
use crate::headers::bearer_token;
use crate::scenario::section::{Build, BuiltinProfile, Located};
use crate::scenario::steps::{RequestStep, StepTarget};
use crate::world::rng::SandboxRng;
use crate::world::{World, ids};

/// Path prefix of every AceData identity API.
const PREFIX: &str = "/identity/";

/// The AceData provider.
#[derive(Debug)]
pub struct AceData;

/// An admitted request: its endpoint and the token's rate quota.
#[derive(Debug)]
pub struct Caller {
    endpoint: Endpoint,
    quota: Option<(String, crate::world::ratelimit::RateLimit)>,
}

/// A request body that passed every check, ready to answer.
#[derive(Debug)]
pub enum Query {
    Lookup(String),
    Verify(Claim),
}

/// A gateway error: its catalog entry and, where the profile's text is too vague, the message.
#[derive(Clone, Debug)]
pub struct Gateway {
    error: GatewayError,
    message: Option<String>,
}

impl Gateway {
    fn new(error: GatewayError) -> Gateway {
        Gateway {
            error,
            message: None,
        }
    }

    fn with_message(error: GatewayError, message: String) -> Gateway {
        Gateway {
            error,
            message: Some(message),
        }
    }
}

impl Provider for AceData {
    const NAME: &'static str = "acedata";
    type Section = section::Section;
    type Credentials = Vec<section::TokenSection>;
    type Settings = Settings;
    type Caller = Caller;
    type Request = Query;
    type Answer = Answer;
    type Error = Gateway;
    type Refusal = Gateway;
    /// A gateway error's trace id.
    type Draw = String;

    fn profile(&self) -> Option<BuiltinProfile> {
        Some(section::PROFILE)
    }

    fn build(
        &self,
        section: section::Section,
        merchants: Vec<(usize, Located<Vec<section::TokenSection>>)>,
        build: &mut Build<'_, '_>,
    ) -> Option<Settings> {
        Some(section::build(section, merchants, build))
    }

    /// Every token of the merchant (a list, empty without any).
    fn credentials(&self, settings: &Settings, tenant: usize) -> serde_json::Value {
        let tokens: Vec<_> = settings
            .tokens
            .iter()
            .filter(|t| t.tenant == tenant)
            .map(|t| &t.credential)
            .collect();
        serde_json::to_value(tokens).unwrap_or_default()
    }

    fn step_target(&self) -> StepTarget {
        StepTarget::Operation
    }

    fn client(
        &self,
        cx: &Cx<'_, Self>,
        tenant: usize,
    ) -> Result<Box<dyn MerchantClient>, SendError> {
        let token = cx
            .settings
            .tokens
            .iter()
            .find(|t| t.tenant == tenant)
            .ok_or("the merchant has no AceData token")?;
        Ok(Box::new(StepClient {
            token: token.credential.token.clone(),
        }))
    }

    fn prefixes(&self, _settings: &Settings) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    /// Route, method, token, token scope.
    fn admit<'r>(&self, cx: &Cx<'r, Self>, request: &Request<'_>) -> Admission<'r, Self> {
        let Some(endpoint) = Endpoint::from_path(request.path) else {
            // Other identity APIs (id card, phone) exist at AceData but are not emulated.
            return refuse(None, None, Gateway::new(GatewayError::ApiNotImplemented));
        };
        let operation = Some(endpoint.name().to_owned());
        if request.method != Method::POST {
            let message = format!("Use POST for /identity/bankcard/{}.", endpoint.name());
            let error = Gateway::with_message(GatewayError::MethodNotAllowed, message);
            return refuse(None, operation, error);
        }
        let token = bearer_token(request.headers).and_then(|t| cx.settings.token(t));
        let Some((token, tenant)) = token.and_then(|t| Some((t, cx.tenant(t.tenant)?))) else {
            return refuse(None, operation, Gateway::new(GatewayError::InvalidToken));
        };
        if let Some(apis) = &token.credential.apis
            && !apis.iter().any(|api| api == endpoint.name())
        {
            let error = Gateway::new(GatewayError::TokenMismatched);
            return refuse(Some(tenant), operation, error);
        }
        let credential = &token.credential;
        Admission::Admitted {
            tenant,
            operation: endpoint.name().to_owned(),
            caller: Caller {
                endpoint,
                quota: credential
                    .rate_limit
                    .map(|limit| (format!("acedata:{}", credential.token), limit)),
            },
        }
    }

    fn read(
        &self,
        _cx: &Cx<'_, Self>,
        caller: &Caller,
        _request: &Request<'_>,
        body: &Payload<'_>,
    ) -> Result<Query, Gateway> {
        parse(caller.endpoint, body)
            .map_err(|FieldError(message)| Gateway::with_message(GatewayError::BadRequest, message))
    }

    /// Only well-formed requests count against the token's quota.
    fn meter(
        &self,
        _cx: &Cx<'_, Self>,
        caller: &Caller,
        read: &Result<Query, Gateway>,
    ) -> Option<Quota<Gateway>> {
        let (key, limit) = caller.quota.clone().filter(|_| read.is_ok())?;
        Some(Quota {
            key,
            limit,
            refusal: Gateway::new(GatewayError::TooManyRequests),
        })
    }

    fn operate(
        &self,
        cx: &Cx<'_, Self>,
        caller: &Caller,
        query: Query,
        world: &mut World,
    ) -> Result<Answer, Gateway> {
        let settings = cx.settings;
        Ok(match query {
            Query::Lookup(card) => Answer::Lookup(lookup::answer(settings, &settings.bins, &card)),
            Query::Verify(claim) => Answer::Verify(verify::answer(
                caller.endpoint,
                settings,
                &settings.bins,
                world,
                &claim,
            )),
        })
    }

    fn catalog_error(&self, name: &str) -> Option<Gateway> {
        let error = serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()?;
        Some(Gateway::new(error))
    }

    /// Gateway errors carry a trace id.
    fn draw(&self, outcome: &Outcome<Self>) -> Option<fn(&mut SandboxRng) -> String> {
        match outcome {
            Outcome::Refused(_) | Outcome::Done(_, Err(_)) => Some(ids::uuid),
            Outcome::Done(_, Ok(_)) => None,
        }
    }

    fn respond(
        &self,
        cx: &Cx<'_, Self>,
        outcome: Outcome<Self>,
        trace_id: String,
        trace: Trace,
    ) -> Reply {
        match outcome {
            Outcome::Done(_, Ok(answer)) => Reply::json(StatusCode::OK, &answer, trace),
            Outcome::Refused(error) | Outcome::Done(_, Err(error)) => {
                gateway_error(cx.settings, error, trace_id, trace)
            }
        }
    }

    fn failure(&self, cx: &Cx<'_, Self>, path: &str, failure: &Failure) -> Reply {
        let error = match failure {
            Failure::BodyTooLarge { limit } => Gateway::with_message(
                GatewayError::RequestTooLarge,
                format!("The request body exceeds the limit of {limit} bytes."),
            ),
            Failure::BodyUnreadable => Gateway::with_message(
                GatewayError::BadRequest,
                "The request body could not be read.".to_owned(),
            ),
            Failure::Injected { status } if status.as_u16() == 429 => {
                Gateway::new(GatewayError::TooManyRequests)
            }
            Failure::Panic { .. } | Failure::Injected { .. } => {
                Gateway::new(GatewayError::ApiError)
            }
        };
        let trace = Trace {
            operation: Endpoint::from_path(path).map(|e| e.name().to_owned()),
            ..Trace::default()
        };
        let trace_id = cx.with_shared_rng(ids::uuid);
        gateway_error(cx.settings, error, trace_id, trace)
    }

    fn banner(&self, cx: &Cx<'_, Self>, base_url: &str) -> String {
        let mut out = format!(
            "AceData          POST {base_url}/identity/bankcard/check-1e   (also check-2e, check-3e, check-4e)\n"
        );
        for token in &cx.settings.tokens {
            let merchant = cx.tenant(token.tenant).map_or("", |t| t.id.as_str());
            out.push_str(&format!(
                "                 Authorization: Bearer {}   (merchant {merchant})\n",
                token.credential.token
            ));
        }
        out
    }
}

/// A merchant's client for the test runner's steps: its first token as the bearer.
struct StepClient {
    token: String,
}

impl MerchantClient for StepClient {
    fn send(
        &mut self,
        step: &RequestStep,
        _index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError> {
        let operation = step
            .operation
            .as_deref()
            .ok_or("an acedata request needs `operation`")?;
        let own = vec![
            json_content_type(),
            ("authorization".to_owned(), format!("Bearer {}", self.token)),
        ];
        let (status, bytes) = transport.exchange(
            "POST",
            &format!("/identity/bankcard/{operation}"),
            &with_step_headers(own, &step.headers),
            step.body.to_string().into_bytes(),
        )?;
        Ok(ClientAnswer::of(status, bytes, |body| {
            let code = body
                .get("result")
                .cloned()
                .or_else(|| body["error"].get("code").cloned());
            Ok(serde_json::json!({ "status": status, "code": code, "body": body }))
        }))
    }
}

fn refuse<'r>(
    tenant: Option<&'r crate::world::tenant::Tenant>,
    operation: Option<String>,
    refusal: Gateway,
) -> Admission<'r, AceData> {
    Admission::Refused {
        tenant,
        operation,
        refusal,
    }
}

/// Checks the body of a request to `endpoint`; nothing is looked up yet.
fn parse(endpoint: Endpoint, body: &Payload<'_>) -> Result<Query, FieldError> {
    // The pipeline's parse, when it is an object; the bytes again only to word a refusal.
    let reparsed;
    let object = match body.json {
        serde_json::Value::Object(object) => object,
        _ => {
            reparsed = wire::parse(body.bytes)?;
            &reparsed
        }
    };
    let fields = wire::fields(object);
    wire::check_encryption(&fields)?;
    match endpoint {
        Endpoint::Check1e => Ok(Query::Lookup(
            fields.text("bank_card", 1, usize::MAX)?.to_owned(),
        )),
        _ => Ok(Query::Verify(Claim::parse(endpoint, &fields)?)),
    }
}

/// A gateway error reply; the error's message replaces the profile's default text.
fn gateway_error(settings: &Settings, error: Gateway, trace_id: String, trace: Trace) -> Reply {
    let (status, default_message) = settings.gateway_error(error.error);
    let body = GatewayErrorBody {
        success: false,
        error: GatewayErrorDetail {
            code: error.error.code(),
            message: error.message.unwrap_or_else(|| default_message.to_owned()),
        },
        trace_id,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Reply::json(status, &body, trace)
}

/// How a card number string looks before any lookup.
#[derive(Debug, PartialEq, Eq)]
enum CardShape {
    Malformed,
    LuhnFailure,
    Plausible,
}

fn card_shape(card: &str) -> CardShape {
    if !(12..=19).contains(&card.len()) || !card.bytes().all(|b| b.is_ascii_digit()) {
        CardShape::Malformed
    } else if !ids::luhn_valid(card) {
        CardShape::LuhnFailure
    } else {
        CardShape::Plausible
    }
}
