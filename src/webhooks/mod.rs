//! Outbound webhooks: turns each tenant's notifications into provider-rendered deliveries and
//! sends the ones due on the sandbox clock, recording every attempt and scheduling retries.
//!
//! One task per server. It wakes when a request or a control call may have produced something
//! (and on a short tick, for running clocks); all HTTP happens with no lock held.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::app::{App, Running, Tenant};
use crate::world::deliveries::Delivery;
use crate::world::rng;

/// How long a merchant endpoint may take to answer one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often running clocks are checked for due work when nothing wakes the task.
const TICK: Duration = Duration::from_millis(100);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Runs until `shutdown` resolves.
pub async fn run(app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = app.webhook_wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        let running = app.running();
        for tenant in running.tenants() {
            for delivery in prepare(&app, &running, tenant) {
                let (client, app) = (client.clone(), app.clone());
                let tenant_index = tenant.index;
                tokio::spawn(async move {
                    let (status, error) = send(&client, &delivery).await;
                    // The scenario may have been replaced meanwhile; record only if it was not.
                    let running = app.running();
                    if let Some(tenant) = running.tenants().get(tenant_index) {
                        tenant.with_world(|w| w.record_attempt(delivery.id, status, error));
                    }
                    app.webhook_wake.notify_one();
                });
            }
        }
    }
}

/// Renders new notifications into deliveries and takes those due, in one critical section.
fn prepare(app: &App, running: &Running, tenant: &Tenant) -> Vec<Delivery> {
    tenant.with_world(|world| {
        world.catch_up();
        for notice in world.take_notices() {
            for provider in &app.providers {
                // A seed per notice keeps session keys reproducible whatever else happens.
                let label = format!("webhook:{}:{}", tenant.id, world.deliveries().len());
                let seed = rng::derive(running.scenario.seed, &label);
                if let Some(outbound) = provider.webhook(running, world, &notice, seed) {
                    world.enqueue_delivery(outbound);
                }
            }
        }
        world.take_due_deliveries()
    })
}

/// POSTs one attempt; returns the HTTP status or why there was none.
async fn send(client: &HttpClient, delivery: &Delivery) -> (Option<u16>, Option<String>) {
    let request = http::Request::post(&delivery.outbound.url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(delivery.outbound.body.clone())));
    let request = match request {
        Ok(request) => request,
        Err(e) => return (None, Some(format!("bad request: {e}"))),
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(request)).await {
        Ok(Ok(response)) => (Some(response.status().as_u16()), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(_) => (None, Some(format!("no answer within {ATTEMPT_TIMEOUT:?}"))),
    }
}
