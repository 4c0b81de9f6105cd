//! AceData Cloud bank-card APIs: `POST /identity/bankcard/check-1e` (BIN lookup) and
//! `check-2e/3e/4e` (card + holder verification), behind AceData's gateway (bearer token,
//! per-token rate limit, `{"success":false,"error":{..},"trace_id"}` errors).
//!
//! The order of checks mirrors a gateway in front of a service: route, method, token, token
//! scope, rate limit, body; only then the business answer, which is always HTTP 200 with a
//! `result` code. Behaviour tables are data ([`settings`]).

mod lookup;
pub mod settings;
mod verify;
mod wire;

use http::{Method, StatusCode};

use self::settings::{Endpoint, GatewayError, Settings};
use self::wire::{Answer, FieldError, Fields, GatewayErrorBody, GatewayErrorDetail};
use super::{Failure, Provider, Reply, Request, Trace};
use crate::app::{Running, Tenant};
use crate::credentials::AceDataToken;
use crate::world::ids;

/// Path prefix of every AceData identity API.
const PREFIX: &str = "/identity/";

/// The AceData provider.
#[derive(Debug)]
pub struct AceData;

impl Provider for AceData {
    fn name(&self) -> &'static str {
        "acedata"
    }

    fn prefixes(&self, _running: &Running) -> Vec<String> {
        vec![PREFIX.to_owned()]
    }

    fn handle(&self, running: &Running, request: &Request<'_>) -> Reply {
        let settings = &running.scenario.acedata;
        let mut trace = Trace::default();
        let Some(endpoint) = Endpoint::from_path(request.path) else {
            // Other identity APIs (id card, phone) exist at AceData but are not emulated.
            return gateway_error(running, GatewayError::ApiNotImplemented, None, trace);
        };
        trace.operation = Some(endpoint.name().to_owned());
        if request.method != Method::POST {
            let message = format!("Use POST for /identity/bankcard/{}.", endpoint.name());
            return gateway_error(
                running,
                GatewayError::MethodNotAllowed,
                Some(message),
                trace,
            );
        }
        let Some((tenant, token)) = authenticate(running, request) else {
            return gateway_error(running, GatewayError::InvalidToken, None, trace);
        };
        trace.tenant = Some(tenant.id.clone());
        if let Some(apis) = &token.apis
            && !apis.iter().any(|api| api == endpoint.name())
        {
            return gateway_error(running, GatewayError::TokenMismatched, None, trace);
        }
        let (now, allowed) = tenant.with_world(|world| {
            let allowed = match token.rate_limit {
                Some(limit) => world
                    .take_rate_token(&format!("acedata:{}", token.token), limit)
                    .is_ok(),
                None => true,
            };
            (world.now(), allowed)
        });
        trace.sandbox_time = Some(now);
        if !allowed {
            return gateway_error(running, GatewayError::TooManyRequests, None, trace);
        }
        let fields =
            match Fields::parse(request.body).and_then(|f| f.check_encryption().map(|()| f)) {
                Ok(fields) => fields,
                Err(FieldError(message)) => {
                    return gateway_error(running, GatewayError::BadRequest, Some(message), trace);
                }
            };
        let answer = match endpoint {
            Endpoint::Check1e => {
                lookup::answer(settings, &running.scenario.bins, &fields).map(Answer::Lookup)
            }
            _ => verify::answer(endpoint, settings, &running.scenario.bins, tenant, &fields)
                .map(Answer::Verify),
        };
        match answer {
            Ok(answer) => Reply::json(StatusCode::OK, &answer, trace),
            Err(FieldError(message)) => {
                gateway_error(running, GatewayError::BadRequest, Some(message), trace)
            }
        }
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

    fn failure(&self, running: &Running, failure: &Failure) -> Reply {
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
        };
        gateway_error(running, error, message, Trace::default())
    }
}

/// The tenant and token record for the request's `Authorization: Bearer` token.
fn authenticate<'r>(
    running: &'r Running,
    request: &Request<'_>,
) -> Option<(&'r Tenant, &'r AceDataToken)> {
    let header = request
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    let tenant = running.tenant_by_credential("acedata", token)?;
    let record = running.scenario.tenants[tenant.index]
        .credentials
        .acedata
        .iter()
        .find(|t| t.token == token)?;
    Some((tenant, record))
}

/// A gateway error reply with a fresh trace id; `message` replaces the profile's default text.
fn gateway_error(
    running: &Running,
    error: GatewayError,
    message: Option<String>,
    trace: Trace,
) -> Reply {
    let settings: &Settings = &running.scenario.acedata;
    let (status, default_message) = settings.gateway_error(error);
    let body = GatewayErrorBody {
        success: false,
        error: GatewayErrorDetail {
            code: error.code(),
            message: message.unwrap_or_else(|| default_message.to_owned()),
        },
        trace_id: running.with_shared_rng(ids::uuid),
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
