//! The clients webhooks, callbacks and decision calls go out with: HTTP/1.1 over plain TCP or
//! TLS. An `https://` receiver's certificate is checked against the system's roots, the
//! sandbox CA and the scenario's `webhook_ca`; a merchant with `webhook_tls_verify: false`
//! gets a client that accepts any certificate (and its attempts say so). Built once per
//! running scenario (its CAs may change with it).

use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::app::App;
use crate::running::Running;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// What an attempt over an unchecked certificate records.
pub const UNVERIFIED_NOTE: &str =
    "TLS certificate not verified (the merchant's webhook_tls_verify is false)";

/// Both clients of one running scenario.
#[derive(Clone, Debug)]
pub struct Clients {
    verifying: HttpClient,
    unverified: HttpClient,
}

impl Clients {
    fn build(app: &App, running: &Running) -> Clients {
        let mut extra = running.scenario.webhook_ca.clone();
        if let Some(ca) = app.tls_ca.as_ref().and_then(|ca| ca.cert_der().ok()) {
            extra.push(ca);
        }
        let client = |config: Arc<rustls::ClientConfig>| {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config((*config).clone())
                .https_or_http()
                .enable_http1()
                .build();
            Client::builder(TokioExecutor::new()).build(connector)
        };
        Clients {
            verifying: client(crate::tls::verifying_client(&extra)),
            unverified: client(crate::tls::unverified_client()),
        }
    }

    /// The client for tenant `index`, and the note its attempts carry (over https only).
    pub fn for_tenant(
        &self,
        running: &Running,
        index: usize,
        url: &str,
    ) -> (&HttpClient, Option<&'static str>) {
        let verifies = running
            .scenario
            .tenants
            .get(index)
            .is_none_or(crate::scenario::TenantSetup::verifies_webhook_tls);
        if verifies {
            (&self.verifying, None)
        } else {
            let note = url.starts_with("https://").then_some(UNVERIFIED_NOTE);
            (&self.unverified, note)
        }
    }
}

/// The clients for `running`, made on first use and kept in `app` while it runs (a weak
/// handle tells a replaced running scenario from its successor).
pub fn clients(app: &App, running: &Arc<Running>) -> Arc<Clients> {
    let mut cache = app
        .webhook_clients
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some((made_for, clients)) = &*cache
        && made_for.upgrade().is_some_and(|r| Arc::ptr_eq(&r, running))
        && let Ok(clients) = clients.clone().downcast::<Clients>()
    {
        return clients;
    }
    let clients = Arc::new(Clients::build(app, running));
    *cache = Some((Arc::downgrade(running), clients.clone()));
    clients
}
