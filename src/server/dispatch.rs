//! The per-request pipeline: route, read the body within the limit, call the provider with
//! panics caught, journal and log the exchange.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use hyper::body::Incoming;
use jiff::Timestamp;

use super::faults;
use super::reply;
use crate::admin;
use crate::app::App;
use crate::journal::{Body, Entry};
use crate::providers::{self, Failure, Reply, Served};
use crate::respond::HttpResponse;

/// A fault rule dropped the answer: the connection closes without one.
#[derive(Debug, thiserror::Error)]
#[error("the answer was dropped by a fault rule")]
pub(super) struct Dropped;

/// Handles one request; every failure becomes a response, except a fault rule's reset.
pub(super) async fn handle(
    app: Arc<App>,
    connection: super::Connection,
    request: Request<Incoming>,
) -> Result<HttpResponse, Dropped> {
    let peer = connection.peer;
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if path == "/__admin" || path.starts_with("/__admin/") {
        let response = admin::handle(&app, peer, request).await;
        // A control call that changes something (a clock move, a simulation) may have made
        // webhooks due; reads (health checks, state, the journal) cannot.
        if method != http::Method::GET {
            app.webhook_wake.notify_one();
            app.state_changed();
        }
        log_exchange(
            "admin",
            &method,
            &path,
            response.status().as_u16(),
            started,
            None,
            None,
        );
        return Ok(response);
    }
    let running = app.running();
    if path == "/"
        && method == http::Method::GET
        && crate::admin::console::wants_html(request.headers().get(http::header::ACCEPT))
    {
        log_exchange("admin", &method, &path, 303, started, None, None);
        return Ok(crate::admin::console::redirect_to_console());
    }
    let Some(provider) = app.registry.route(&running, &path) else {
        let response = reply::not_found(&app, &running, method.as_str(), &path);
        log_exchange("-", &method, &path, 404, started, None, None);
        return Ok(response);
    };

    let arrived = Timestamp::now();
    let (parts, body) = crate::body::read_request(request, &app.config).await;
    let (reply, body_bytes, note) = match body {
        Err(failure) => {
            let reply = provider.failure(&running, &path, &failure);
            (reply, Bytes::new(), Some(failure.to_string()))
        }
        Ok(bytes) => {
            let provider_request = providers::Request {
                method: &parts.method,
                path: &path,
                query: parts.uri.query(),
                headers: &parts.headers,
                body: &bytes,
                peer,
            };
            match catch_unwind(AssertUnwindSafe(|| {
                provider.handle(&running, &provider_request)
            })) {
                Ok(reply) => (reply, bytes, None),
                Err(payload) => {
                    let failure = Failure::Panic {
                        message: crate::sync::panic_message(payload.as_ref()),
                    };
                    tracing::error!(provider = provider.name(), %path, %failure, "handler panicked");
                    let reply = provider.failure(&running, &path, &failure);
                    (reply, bytes, Some(failure.to_string()))
                }
            }
        }
    };
    let (reply, delivery) = faults::apply(&running, provider, &path, reply);
    let latency = started.elapsed();
    log_exchange(
        provider.name(),
        &parts.method,
        &path,
        reply.status.as_u16(),
        started,
        reply.trace.operation.as_deref(),
        reply.trace.tenant.as_deref(),
    );
    if provider.notifies() {
        app.webhook_wake.notify_one();
    }
    if reply.trace.tenant.is_some() {
        app.state_changed();
    }
    let note = note.or_else(|| delivery.note());
    let response = delivery.response(&reply);
    let delay = delivery.delay();
    let exchange = Exchange {
        method: &parts.method,
        path,
        arrived,
        latency,
        request_body: body_bytes,
        note,
        tls: connection.tls,
        headers: crate::journal::kept_headers(&parts.headers),
        response_headers: crate::journal::kept_headers(response.headers()),
    };
    journal(&app, provider, exchange, reply);
    // Delays and hangs run with every lock released (the state is already what it will be).
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    delivery.deliver(response).await
}

/// One log line per exchange, providers, control API and 404s alike.
fn log_exchange(
    target: &str,
    method: &http::Method,
    path: &str,
    status: u16,
    started: Instant,
    operation: Option<&str>,
    tenant: Option<&str>,
) {
    tracing::info!(
        provider = target,
        %method,
        %path,
        operation = operation.unwrap_or("-"),
        tenant = tenant.unwrap_or("-"),
        status,
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
}

/// What the server knows about an exchange besides the provider's reply.
struct Exchange<'a> {
    method: &'a http::Method,
    path: String,
    arrived: Timestamp,
    latency: Duration,
    request_body: Bytes,
    note: Option<String>,
    /// The TLS version of an HTTPS connection.
    tls: Option<&'static str>,
    headers: Vec<(String, String)>,
    /// The answer's headers as prepared (a fault that drops the connection sends none).
    response_headers: Vec<(String, String)>,
}

fn journal(app: &App, provider: &dyn Served, exchange: Exchange<'_>, reply: Reply) {
    let trace = reply.trace;
    app.journal.record(Entry {
        id: 0,
        time: exchange.arrived,
        sandbox_time: trace.sandbox_time,
        provider: provider.name().to_owned(),
        method: exchange.method.to_string(),
        path: exchange.path,
        operation: trace.operation,
        tenant: trace.tenant,
        status: reply.status.as_u16(),
        latency_ms: exchange.latency.as_secs_f64() * 1000.0,
        request: Body::new(exchange.request_body, trace.request_plain),
        response: Body::new(reply.body, trace.response_plain),
        note: exchange.note.or(trace.note),
        faults: reply.fault.map(|f| f.rules).unwrap_or_default(),
        tls: exchange.tls.map(str::to_owned),
        request_headers: exchange.headers,
        response_headers: exchange.response_headers,
    });
}
