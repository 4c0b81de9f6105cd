//! AceData Cloud bank-card APIs: `POST /identity/bankcard/check-1e` (BIN lookup) and
//! `check-2e/3e/4e` (card + holder verification), behind AceData's gateway (bearer token,
//! per-token rate limit, `{"success":false,"error":{..},"trace_id"}` errors).
//!
//! Checks run in this order: route, method, token, token scope, body; then the rate limit
//! counts the request (so a refused request leaves no trace in the world); then the business
//! answer, which is always HTTP 200 with a `result` code. Behaviour tables are data
//! ([`settings`]).

mod lookup;
pub mod settings;
mod verify;
mod wire;

use http::{Method, StatusCode};

use self::settings::{Endpoint, GatewayError};
use self::verify::Claim;
use self::wire::{Answer, FieldError, Fields, GatewayErrorBody, GatewayErrorDetail};
use super::{Failure, Provider, Reply, Request, Trace};
use crate::app::{Running, Tenant};
use crate::credentials::AceDataToken;
use crate::faults::Probe;
use crate::headers::bearer_token;
use crate::world::ids;

/// Path prefix of every AceData identity API.
const PREFIX: &str = "/identity/";

/// The AceData provider.
#[derive(Debug)]
pub struct AceData;

/// A request body that passed every check, ready to answer.
enum Query {
    Lookup(String),
    Verify(Claim),
}

impl Provider for AceData {
    fn name(&self) -> &'static str {
        "acedata"
    }

    fn prefixes(&self, _running: &Running) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        let mut trace = Trace::default();
        let Some(endpoint) = Endpoint::from_path(request.path) else {
            // Other identity APIs (id card, phone) exist at AceData but are not emulated.
            return gateway_error(running, None, GatewayError::ApiNotImplemented, None, trace);
        };
        trace.operation = Some(endpoint.name().to_owned());
        if request.method != Method::POST {
            let message = format!("Use POST for /identity/bankcard/{}.", endpoint.name());
            return gateway_error(
                running,
                None,
                GatewayError::MethodNotAllowed,
                Some(message),
                trace,
            );
        }
        let Some((tenant, token)) = authenticate(running, request) else {
            return gateway_error(running, None, GatewayError::InvalidToken, None, trace);
        };
        trace.tenant = Some(tenant.id.clone());
        let refuse =
            |error, message, trace| gateway_error(running, Some(tenant), error, message, trace);
        if let Some(apis) = &token.apis
            && !apis.iter().any(|api| api == endpoint.name())
        {
            return refuse(GatewayError::TokenMismatched, None, trace);
        }
        let query = match parse(endpoint, request.body) {
            Ok(query) => query,
            Err(FieldError(message)) => {
                return refuse(GatewayError::BadRequest, Some(message), trace);
            }
        };
        let now = tenant.with_world(|world| world.now());
        trace.sandbox_time = Some(now);
        let fields: serde_json::Value =
            serde_json::from_slice(request.body).unwrap_or(serde_json::Value::Null);
        let probe = Probe {
            provider: self.name(),
            operation: endpoint.name(),
            tenant: Some(&tenant.id),
            fields: &fields,
            now: Some(now),
        };
        // Before the rate meter: an injected failure never reached the provider, so it spends
        // none of the token's quota.
        let decision = running.faults.decide(&probe, GatewayError::ApiError);
        if let Some(error) = decision.error {
            return gateway_error(running, Some(tenant), error, None, trace)
                .with_fault(decision.fired);
        }
        if decision.skip {
            return super::placeholder(trace).with_fault(decision.fired);
        }
        let allowed = token.rate_limit.is_none_or(|limit| {
            tenant.with_world(|world| {
                world
                    .take_rate_token(&format!("acedata:{}", token.token), limit)
                    .is_ok()
            })
        });
        if !allowed {
            return refuse(GatewayError::TooManyRequests, None, trace).with_fault(decision.fired);
        }
        let settings = &running.scenario.acedata;
        let bins = &running.scenario.bins;
        let answer = match query {
            Query::Lookup(card) => Answer::Lookup(lookup::answer(settings, bins, &card)),
            Query::Verify(claim) => {
                Answer::Verify(verify::answer(endpoint, settings, bins, tenant, &claim))
            }
        };
        Reply::json(StatusCode::OK, &answer, trace).with_fault(decision.fired)
    }

    fn failure(&self, running: &Running, path: &str, failure: &Failure) -> Reply {
        let (error, message) = match failure {
            Failure::BodyTooLarge { limit } => (
                GatewayError::RequestTooLarge,
                Some(format!(
                    "The request body exceeds the limit of {limit} bytes."
                )),
            ),
            Failure::BodyUnreadable => (
                GatewayError::BadRequest,
                Some("The request body could not be read.".to_owned()),
            ),
            Failure::Panic { .. } => (GatewayError::ApiError, None),
            Failure::Injected { status } if status.as_u16() == 429 => {
                (GatewayError::TooManyRequests, None)
            }
            Failure::Injected { .. } => (GatewayError::ApiError, None),
        };
        let trace = Trace {
            operation: Endpoint::from_path(path).map(|e| e.name().to_owned()),
            ..Trace::default()
        };
        gateway_error(running, None, error, message, trace)
    }

    fn banner(&self, running: &Running, base_url: &str) -> String {
        let mut out = format!(
            "AceData          POST {base_url}/identity/bankcard/check-1e   (also check-2e, check-3e, check-4e)\n"
        );
        for (setup, tenant) in running.scenario.tenants.iter().zip(running.tenants()) {
            for token in &setup.credentials.acedata {
                out.push_str(&format!(
                    "                 Authorization: Bearer {}   (merchant {})\n",
                    token.token, tenant.id
                ));
            }
        }
        out
    }
}

/// Checks the body of a request to `endpoint`; nothing is looked up yet.
fn parse(endpoint: Endpoint, body: &[u8]) -> Result<Query, FieldError> {
    let fields = Fields::parse(body)?;
    fields.check_encryption()?;
    match endpoint {
        Endpoint::Check1e => Ok(Query::Lookup(fields.required_str("bank_card")?.to_owned())),
        _ => Ok(Query::Verify(Claim::parse(endpoint, &fields)?)),
    }
}

/// The tenant and token record for the request's `Authorization: Bearer` token.
fn authenticate<'r>(
    running: &'r Running,
    request: &Request<'_>,
) -> Option<(&'r Tenant, &'r AceDataToken)> {
    let token = bearer_token(request.headers)?;
    let tenant = running.tenant_by_credential("acedata", token)?;
    let record = running.scenario.tenants[tenant.index]
        .credentials
        .acedata
        .iter()
        .find(|t| t.token == token)?;
    Some((tenant, record))
}

/// A gateway error reply; `message` replaces the profile's default text. The trace id comes
/// from the tenant's random stream when the credentials identified one.
fn gateway_error(
    running: &Running,
    tenant: Option<&Tenant>,
    error: GatewayError,
    message: Option<String>,
    trace: Trace,
) -> Reply {
    let (status, default_message) = running.scenario.acedata.gateway_error(error);
    let trace_id = match tenant {
        Some(tenant) => tenant.with_world(|world| ids::uuid(world.aux_rng())),
        None => running.with_shared_rng(ids::uuid),
    };
    let body = GatewayErrorBody {
        success: false,
        error: GatewayErrorDetail {
            code: error.code(),
            message: message.unwrap_or_else(|| default_message.to_owned()),
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
