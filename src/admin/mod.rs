//! The control API under `/__admin`: health, reset, scenario replacement, state, the request
//! journal, credentials and the sandbox clock.
//!
//! Access: loopback clients only, unless `--admin-allow-remote` (other machines then need a token,
//! made at start if none is set); with `--admin-token` every call
//! must present the token (`Authorization: Bearer T` or `X-Admin-Token: T`) from anywhere.
//! Errors are `{"error": code, "message": text}` with a fitting HTTP status.

mod clock;
pub(crate) mod console;
mod faults;
mod inspect;
mod scenario;
mod simulate;
mod snapshot;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{AdminAccess, App};
use crate::providers::Failure;
use crate::respond::{self, HttpResponse};
use crate::running::Running;
use crate::world::tenant::Tenant;

/// The endpoints, for the admin 404 listing.
const ENDPOINTS: &[&str] = &[
    "GET /__admin/health",
    "POST /__admin/reset[?tenant=ID]",
    "GET /__admin/scenario",
    "PUT /__admin/scenario (YAML body)",
    "GET /__admin/state[?tenant=ID]",
    "GET /__admin/requests[?provider=&tenant=&operation=&path=&since=&limit=]",
    "DELETE /__admin/requests",
    "GET /__admin/credentials",
    "GET /__admin/clock",
    "POST /__admin/clock/advance {\"by\": \"90s\", \"tenant\"?}",
    "PUT /__admin/clock {\"now\": RFC 3339, \"frozen\"?, \"tenant\"?}",
    "POST /__admin/simulate/kyc {\"email\"|\"cardholder\", \"decision\", \"reason\"?, \"tenant\"?}",
    "POST /__admin/simulate/transaction {\"card\", \"kind\", \"amount\", \"fee\"?, ...}",
    "POST /__admin/simulate/card-status {\"card\", \"status\", \"tenant\"?}",
    "POST /__admin/simulate/production {\"card\", \"tenant\"?}",
    "POST /__admin/simulate/recharge {\"card\", \"tenant\"?}",
    "GET /__admin/activation-code?card=ID[&tenant=ID]",
    "GET /__admin/ui (the browser console)",
    "GET /__admin/ca.pem",
    "GET /__admin/snapshot[?tenant=ID]",
    "PUT /__admin/snapshot {snapshot document}",
    "GET /__admin/faults",
    "POST /__admin/faults {\"match\"?, \"action\", \"after\"?, \"when\"?}",
    "DELETE /__admin/faults[/ID]",
    "POST /__admin/faults/ID/disable, POST /__admin/faults/ID/enable",
];

/// A control-API error.
#[derive(Debug)]
pub(crate) struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
}

impl AdminError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> AdminError {
        AdminError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn into_response(self) -> HttpResponse {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let (Some(details), Some(object)) = (self.details, body.as_object_mut()) {
            object.extend(details.as_object().cloned().unwrap_or_default());
        }
        respond::json(self.status, &body)
    }
}

type AdminResult = Result<HttpResponse, AdminError>;

/// A control request, read whole.
struct AdminRequest {
    method: Method,
    /// The path after `/__admin`, e.g. `/clock/advance`.
    route: String,
    /// Whether the path ended in `/` (trimmed from `route`): `DELETE /faults/` names an empty
    /// id, not every rule.
    trailing_slash: bool,
    query: HashMap<String, String>,
    body: Bytes,
}

impl AdminRequest {
    /// The body as JSON of type `T`; an empty body counts as `{}`.
    fn json<T: for<'de> Deserialize<'de>>(&self) -> Result<T, AdminError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body)
            .map_err(|e| AdminError::bad_request(format!("invalid JSON body: {e}")))
    }

    /// The tenant named by `?tenant=ID` or a `{"tenant": ID}` body, if any. Any other body is
    /// refused, so a typo never widens a call to every tenant.
    fn tenant_param(&self) -> Result<Option<String>, AdminError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TenantBody {
            tenant: Option<String>,
        }
        let from_body = self.json::<TenantBody>()?.tenant;
        self.tenant_from(from_body)
    }

    /// The tenant named by the query and/or a body's `tenant` (400 when they disagree).
    fn tenant_from(&self, from_body: Option<String>) -> Result<Option<String>, AdminError> {
        match (self.query.get("tenant"), from_body) {
            (Some(q), Some(b)) if *q != b => Err(AdminError::bad_request(format!(
                "the query names tenant `{q}` and the body `{b}`"
            ))),
            (Some(q), _) => Ok(Some(q.clone())),
            (None, b) => Ok(b),
        }
    }
}

/// Handles a request under `/__admin`.
pub(crate) async fn handle(
    app: &App,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> HttpResponse {
    // The console's static files need the network rule only (see `console`).
    if request.method() == Method::GET
        && let Some(route) = request.uri().path().strip_prefix("/__admin")
        && let Some(file) = console::file(route)
    {
        return match reachable(app, peer) {
            Ok(()) => file,
            Err(error) => error.into_response(),
        };
    }
    if let Err(error) = authorize(app, peer, request.headers()) {
        return error.into_response();
    }
    let (parts, body) = crate::body::read_request(request, &app.config).await;
    let body = match body {
        Ok(bytes) => bytes,
        Err(Failure::BodyTooLarge { limit }) => {
            let message = format!("the body exceeds the limit of {limit} bytes");
            return AdminError::new(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", message)
                .into_response();
        }
        Err(_) => {
            let message = format!(
                "the body did not arrive in full within {} s, or could not be read",
                app.config.body_read_timeout.as_secs_f64()
            );
            return AdminError::new(StatusCode::REQUEST_TIMEOUT, "body_unreadable", message)
                .into_response();
        }
    };
    let route = parts
        .uri
        .path()
        .trim_start_matches("/__admin")
        .trim_end_matches('/')
        .to_owned();
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let request = AdminRequest {
        trailing_slash: parts.uri.path().ends_with('/'),
        method: parts.method,
        route,
        query,
        body,
    };
    // A simulated purchase may have to ask the merchant first (over HTTP, no lock held).
    if request.method == Method::POST && request.route == "/simulate/transaction" {
        return simulate::transaction(app, &request)
            .await
            .unwrap_or_else(AdminError::into_response);
    }
    // A bug in a control endpoint must not take the connection down with it.
    match catch_unwind(AssertUnwindSafe(|| route_request(app, &request))) {
        Ok(result) => result.unwrap_or_else(AdminError::into_response),
        Err(payload) => {
            let message = crate::sync::panic_message(payload.as_ref());
            tracing::error!(route = %request.route, %message, "control endpoint panicked");
            AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message).into_response()
        }
    }
}

fn route_request(app: &App, request: &AdminRequest) -> AdminResult {
    let running = app.running();
    match (&request.method, request.route.as_str()) {
        (&Method::GET, "/health") => inspect::health(app, &running),
        (&Method::POST, "/reset") => scenario::reset(&running, request),
        (&Method::GET, "/scenario") => scenario::show(&running),
        (&Method::PUT, "/scenario") => scenario::replace(app, request),
        (&Method::GET, "/state") => inspect::state(&running, request),
        (&Method::GET, "/snapshot") => snapshot::take(app, request),
        (&Method::GET, "/ca.pem") => inspect::ca(app),
        (&Method::PUT, "/snapshot") => snapshot::restore(app, request),
        (&Method::GET, "/requests") => inspect::requests(app, request),
        (&Method::DELETE, "/requests") => inspect::clear_requests(app),
        (&Method::GET, "/credentials") => inspect::credentials(app, &running),
        (&Method::GET, "/clock") => clock::show(&running, request),
        (&Method::POST, "/clock/advance") => clock::advance(&running, request),
        (&Method::PUT, "/clock") => clock::set(&running, request),
        (&Method::POST, "/simulate/kyc") => simulate::kyc(&running, request),
        (&Method::POST, "/simulate/card-status") => simulate::card_status(&running, request),
        (&Method::POST, "/simulate/production") => simulate::production(&running, request),
        (&Method::POST, "/simulate/recharge") => simulate::recharge(&running, request),
        (&Method::GET, "/activation-code") => simulate::activation_code(&running, request),
        (&Method::GET, "/faults") => faults::list(&running),
        (&Method::POST, route)
            if route.starts_with("/faults/")
                && (route.ends_with("/disable") || route.ends_with("/enable")) =>
        {
            let (id, switch) = route["/faults/".len()..]
                .rsplit_once('/')
                .unwrap_or_default();
            faults::set_disabled(&running, id, switch == "disable")
        }
        (&Method::POST, "/faults") => faults::add(app, &running, request),
        (&Method::DELETE, "/faults") if request.trailing_slash => {
            faults::remove(&running, Some(""))
        }
        (&Method::DELETE, "/faults") => faults::remove(&running, None),
        (&Method::DELETE, route) if route.starts_with("/faults/") => {
            faults::remove(&running, route.strip_prefix("/faults/"))
        }
        (_, route) => {
            let known = ENDPOINTS
                .iter()
                .any(|e| e.split([' ', '[']).nth(1) == Some(&format!("/__admin{route}")));
            let (status, code) = if known {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            } else {
                (StatusCode::NOT_FOUND, "not_found")
            };
            let mut error = AdminError::new(
                status,
                code,
                format!("no control endpoint {} /__admin{route}", request.method),
            );
            error.details = Some(json!({ "endpoints": ENDPOINTS }));
            Err(error)
        }
    }
}

/// Loopback clients only, or a token ([`AdminAccess`]).
/// Whether `peer` may reach the control API at all, token aside: loopback always; others
/// only when a token opens it to them.
fn reachable(app: &App, peer: SocketAddr) -> Result<(), AdminError> {
    match &app.admin_access {
        AdminAccess::LoopbackOnly if !crate::peer::is_loopback(peer.ip()) => Err(AdminError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the control API answers loopback clients only; start the sandbox with --admin-token or --admin-allow-remote",
        )),
        _ => Ok(()),
    }
}

fn authorize(app: &App, peer: SocketAddr, headers: &http::HeaderMap) -> Result<(), AdminError> {
    reachable(app, peer)?;
    let loopback = crate::peer::is_loopback(peer.ip());
    let expected = match &app.admin_access {
        AdminAccess::LoopbackOnly => return Ok(()),
        AdminAccess::RemoteByToken(_) if loopback => return Ok(()),
        AdminAccess::Token(token) | AdminAccess::RemoteByToken(token) => token,
    };
    let presented = headers
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or_else(|| crate::headers::bearer_token(headers));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this sandbox requires its admin token: send `Authorization: Bearer <token>` or `X-Admin-Token: <token>` (a token the sandbox made itself is in its banner)",
        )),
    }
}

/// Compares without an early exit, so response timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The named tenant, or every tenant when none is named.
fn selected_tenants<'r>(
    running: &'r Running,
    tenant: Option<&str>,
) -> Result<Vec<&'r Tenant>, AdminError> {
    match tenant {
        None => Ok(running.tenants().iter().collect()),
        Some(id) => running
            .tenant(id)
            .map(|t| vec![t])
            .ok_or_else(|| unknown_tenant(running, id)),
    }
}

fn unknown_tenant(running: &Running, id: &str) -> AdminError {
    let known: Vec<&str> = running.tenants().iter().map(|t| t.id.as_str()).collect();
    AdminError::new(
        StatusCode::NOT_FOUND,
        "unknown_tenant",
        format!("no tenant `{id}`; known: {}", known.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Config;
    use crate::scenario::Scenario;

    fn app(config: Config) -> App {
        App::new(
            config,
            crate::providers::builtin(),
            Scenario::builtin_default(&crate::providers::builtin()).unwrap(),
        )
    }

    fn peer(addr: &str) -> SocketAddr {
        addr.parse().unwrap()
    }

    #[test]
    fn remote_peers_are_refused_unless_allowed_or_tokened() {
        let headers = http::HeaderMap::new();
        let closed = app(Config::default());
        assert!(authorize(&closed, peer("127.0.0.1:5000"), &headers).is_ok());
        assert!(authorize(&closed, peer("[::1]:5000"), &headers).is_ok());
        let refused = authorize(&closed, peer("10.1.2.3:5000"), &headers).unwrap_err();
        assert_eq!(
            (refused.status, refused.code),
            (StatusCode::FORBIDDEN, "forbidden")
        );

        assert!(authorize(&closed, peer("[::ffff:127.0.0.1]:5000"), &headers).is_ok());

        // Remote access allowed without a token: other machines need the one made at start.
        let open = app(Config {
            admin_allow_remote: true,
            ..Config::default()
        });
        let AdminAccess::RemoteByToken(made) = &open.admin_access else {
            panic!("{:?}", open.admin_access);
        };
        assert_eq!(made.len(), 32);
        let anonymous = authorize(&open, peer("10.1.2.3:5000"), &headers).unwrap_err();
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let mut bearer = http::HeaderMap::new();
        bearer.insert("authorization", format!("Bearer {made}").parse().unwrap());
        assert!(authorize(&open, peer("10.1.2.3:5000"), &bearer).is_ok());
        assert!(authorize(&open, peer("127.0.0.1:5000"), &headers).is_ok());
        let another = app(Config {
            admin_allow_remote: true,
            ..Config::default()
        });
        assert_ne!(
            another.admin_access, open.admin_access,
            "each start makes its own"
        );

        let tokened = app(Config {
            admin_token: Some("t0k".into()),
            ..Config::default()
        });
        let missing = authorize(&tokened, peer("127.0.0.1:5000"), &headers).unwrap_err();
        assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
        let mut with_token = http::HeaderMap::new();
        with_token.insert("x-admin-token", "t0k".parse().unwrap());
        assert!(authorize(&tokened, peer("10.1.2.3:5000"), &with_token).is_ok());
    }

    #[test]
    fn token_comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
