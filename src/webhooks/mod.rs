//! Outbound webhooks: turns each tenant's notifications into provider-rendered deliveries and
//! sends the ones due on the sandbox clock, recording every attempt and scheduling retries.
//!
//! One task per server. It wakes when a request or a control call may have produced something
//! (and on a short tick, for running clocks); all HTTP happens with no lock held.

use std::sync::Arc;
use std::time::Duration;

mod clients;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use self::clients::{HttpClient, clients};

use crate::app::App;
use crate::providers::Draft;
use crate::running::Running;
use crate::world::World;
use crate::world::deliveries::{DecisionCall, Delivery};
use crate::world::rng;
use crate::world::tenant::Tenant;

/// How long a merchant endpoint may take to answer one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often running clocks are checked for due work when nothing wakes the task.
const TICK: Duration = Duration::from_millis(100);

/// Runs until `shutdown` resolves.
pub async fn run(app: Arc<App>, shutdown: impl Future<Output = ()>) {
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
                let clients = clients(&app, &running);
                let (app, running) = (app.clone(), running.clone());
                let tenant_index = tenant.index;
                tokio::spawn(async move {
                    let (client, note) =
                        clients.for_tenant(&running, tenant_index, &delivery.outbound.url);
                    let (status, error) = send(client, &delivery).await;
                    // The scenario may have been replaced meanwhile; record only if it was not.
                    let now_running = app.running();
                    if Arc::ptr_eq(&now_running, &running)
                        && let Some(tenant) = running.tenants().get(tenant_index)
                    {
                        tenant.with_world(|w| {
                            w.record_attempt(delivery.id, status, error, note.map(str::to_owned));
                        });
                    }
                    app.webhook_wake.notify_one();
                    app.state_changed();
                });
            }
        }
    }
}

/// Renders new notifications into deliveries and takes those due.
fn prepare(app: &App, running: &Running, tenant: &Tenant) -> Vec<Delivery> {
    render(app, running, tenant, World::take_due_deliveries)
}

/// Runs what came due and turns the notifications it left into deliveries: composed by the
/// providers inside the tenant's lock, sealed with no lock held, then queued. `then` runs in
/// the last critical section (one, when there was nothing to render).
fn render<R>(
    app: &App,
    running: &Running,
    tenant: &Tenant,
    then: impl FnOnce(&mut World) -> R,
) -> R {
    // One renderer per tenant at a time: deliveries keep their notifications' order and seeds.
    let _rendering = tenant.render_turn();
    let mut then = Some(then);
    let (drafts, done) = tenant.with_world(|world| {
        world.catch_up();
        let queued = world.deliveries().len();
        let mut drafts: Vec<Draft> = Vec::new();
        for notice in world.take_notices() {
            for provider in app.registry.iter() {
                // A seed per delivery keeps session keys reproducible whatever else happens.
                let label = format!("webhook:{}:{}", tenant.id, queued + drafts.len());
                let seed = rng::derive(running.scenario.seed, &label);
                drafts.extend(provider.webhook(running, world, &notice, seed));
            }
        }
        let done = drafts
            .is_empty()
            .then(|| then.take().map(|f| f(world)))
            .flatten();
        (drafts, done)
    });
    if let Some(done) = done {
        return done;
    }
    let sealed: Vec<_> = drafts.into_iter().map(Draft::sealed).collect();
    tenant.with_world(|world| {
        for outbound in sealed {
            world.enqueue_delivery(outbound);
        }
        let then = then
            .take()
            .expect("`then` runs once: not yet run when there were drafts");
        then(world)
    })
}

/// Whether the tenant (by id) owes its merchant no attempt right now: every notification
/// rendered, none being sent, none due on its clock. Then its state holds every attempt
/// made so far, which is what a reader of the state (the test runner) waits for. Not
/// settled wakes the dispatcher; an unknown tenant has nothing in flight.
pub fn settled(app: &App, tenant: &str) -> bool {
    let running = app.running();
    let Some(tenant) = running.tenant(tenant) else {
        return true;
    };
    let settled = render(app, &running, tenant, |world| world.deliveries_settled());
    if !settled {
        app.webhook_wake.notify_one();
    }
    settled
}

/// POSTs one attempt; returns the HTTP status or why there was none.
async fn send(client: &HttpClient, delivery: &Delivery) -> (Option<u16>, Option<String>) {
    let outbound = &delivery.outbound;
    match post(
        client,
        &outbound.url,
        &outbound.body,
        &outbound.headers,
        ATTEMPT_TIMEOUT,
    )
    .await
    {
        Ok((status, _)) => (Some(status), None),
        Err(error) => (None, Some(error)),
    }
}

/// POSTs a JSON body; the status and the whole answer, or why there was none in `timeout`.
async fn post(
    client: &HttpClient,
    url: &str,
    body: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<(u16, Bytes), String> {
    let mut request =
        http::Request::post(url).header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| format!("bad request: {e}"))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| causes(&e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
}

/// An error with its causes (`client error (Connect): invalid peer certificate: UnknownIssuer`):
/// the legacy client's own message alone says nothing of a TLS failure.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The merchant said no (or nothing, where that declines): why, as the transaction records it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Declined(pub String);

/// Puts `call` to the merchant (no lock may be held); `Ok` to go on, `Err(reason)` if refused.
pub async fn ask(app: &App, tenant: usize, call: &DecisionCall) -> Result<(), Declined> {
    let running = app.running();
    let clients = clients(app, &running);
    let (client, _) = clients.for_tenant(&running, tenant, &call.url);
    let answer = post(client, &call.url, &call.body, &call.headers, call.timeout).await;
    let approved = answer
        .as_ref()
        .is_ok_and(|(status, body)| (call.approves)(*status, body));
    if approved {
        return Ok(());
    }
    let why = match &answer {
        Ok((status, _)) => format!("the merchant refused (HTTP {status})"),
        Err(error) => format!("the merchant did not answer: {error}"),
    };
    match &call.refusal {
        None => Ok(()),
        Some(reason) => Err(Declined(format!("{reason}: {why}"))),
    }
}
