//! Read-only control endpoints: health, state, journal, credentials.

use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::journal::{Entry, Filter};
use crate::respond;
use crate::running::Running;
use crate::world::tenant::Tenant;

/// `GET /__admin/health`, serialized straight from these fields (health checks poll it often).
#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    version: &'static str,
    uptime_ms: u64,
    scenario: &'a str,
    tenants: Vec<&'a str>,
    providers: Vec<&'static str>,
    journal: JournalHealth,
    connections: ConnectionsHealth,
    /// Log and banner lines nobody read in time (see `logs`).
    logs: LogsHealth,
}

#[derive(Serialize)]
struct JournalHealth {
    capacity: usize,
    dropped: u64,
    bytes: usize,
    max_bytes: usize,
}

#[derive(Serialize)]
struct ConnectionsHealth {
    open: usize,
    limit: usize,
}

#[derive(Serialize)]
struct LogsHealth {
    dropped_lines: u64,
}

pub(super) fn health(app: &App, running: &Running) -> AdminResult {
    let health = Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_ms: app.uptime().as_millis() as u64,
        scenario: &running.scenario.name,
        tenants: running.tenants().iter().map(|t| t.id.as_str()).collect(),
        providers: app.registry.names(),
        journal: JournalHealth {
            capacity: app.journal.capacity(),
            dropped: app.journal.dropped(),
            bytes: app.journal.bytes(),
            max_bytes: app.journal.max_bytes(),
        },
        connections: ConnectionsHealth {
            open: app.open_connections(),
            limit: app.config.max_connections,
        },
        logs: LogsHealth {
            dropped_lines: crate::logs::dropped_lines(),
        },
    };
    Ok(respond::json(StatusCode::OK, &health))
}

/// One tenant's world (`?tenant=`), or all of them keyed by id. Serialized straight from each
/// world, under its lock (caught up first): no copy of the state is made on the way.
pub(super) fn state(running: &Running, request: &AdminRequest) -> AdminResult {
    /// A tenant's world, serialized while its lock is held.
    struct Caught<'t>(&'t Tenant);
    impl Serialize for Caught<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.with_world(|world| {
                world.catch_up();
                world.serialize(serializer)
            })
        }
    }
    /// `{"tenants": {id: world, ...}}`.
    struct All<'t>(Vec<&'t Tenant>);
    impl Serialize for All<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut tenants = serializer.serialize_map(Some(self.0.len()))?;
            for tenant in &self.0 {
                tenants.serialize_entry(&tenant.id, &Caught(tenant))?;
            }
            tenants.end()
        }
    }
    let tenant = request.tenant_param()?;
    let selected = selected_tenants(running, tenant.as_deref())?;
    Ok(match (tenant, selected.as_slice()) {
        (Some(_), [one]) => respond::json(StatusCode::OK, &Caught(one)),
        _ => {
            #[derive(Serialize)]
            struct States<'t> {
                tenants: All<'t>,
            }
            let states = States {
                tenants: All(selected),
            };
            respond::json(StatusCode::OK, &states)
        }
    })
}

pub(super) fn requests(app: &App, request: &AdminRequest) -> AdminResult {
    let number = |name: &str| -> Result<Option<u64>, AdminError> {
        request
            .query
            .get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    AdminError::bad_request(format!("`{name}` must be a non-negative integer"))
                })
            })
            .transpose()
    };
    let filter = Filter {
        provider: request.query.get("provider").cloned(),
        tenant: request.query.get("tenant").cloned(),
        operation: request.query.get("operation").cloned(),
        path: request.query.get("path").cloned(),
        since: number("since")?,
        limit: number("limit")?.map(|n| n as usize),
    };
    /// Serialized straight from the entries: no JSON tree of the whole journal is built.
    #[derive(Serialize)]
    struct Listing {
        count: usize,
        requests: Vec<Entry>,
    }
    let requests = app.journal.list(&filter);
    let listing = Listing {
        count: requests.len(),
        requests,
    };
    Ok(respond::json(StatusCode::OK, &listing))
}

pub(super) fn clear_requests(app: &App) -> AdminResult {
    let cleared = app.journal.clear();
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "cleared": cleared }),
    ))
}

/// Every merchant's credentials (each provider's as it shows them) and the platform public
/// keys.
pub(super) fn credentials(app: &App, running: &Running) -> AdminResult {
    let merchants: Vec<Value> = running
        .tenants()
        .iter()
        .map(|tenant| {
            let mut merchant = Map::new();
            for provider in app.registry.iter() {
                merchant.insert(
                    provider.name().to_owned(),
                    provider.credentials(running, tenant.index),
                );
            }
            merchant.insert("merchant".to_owned(), Value::String(tenant.id.clone()));
            Value::Object(merchant)
        })
        .collect();
    let platform_keys: Map<String, Value> = app
        .registry
        .iter()
        .filter_map(|p| {
            let pem = p.platform_public_key(running)?;
            Some((p.name().to_owned(), json!({ "public_pem": pem })))
        })
        .collect();
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "merchants": merchants, "platform_keys": platform_keys }),
    ))
}

/// The sandbox CA's certificate, for clients to trust; 404 when HTTPS is not served.
pub(super) fn ca(app: &App) -> AdminResult {
    let Some(ca) = &app.tls_ca else {
        return Err(AdminError::new(
            StatusCode::NOT_FOUND,
            "tls_off",
            "this sandbox serves no HTTPS (serve --tls-bind ADDR), so it has no CA",
        ));
    };
    Ok(crate::respond::with_body(
        StatusCode::OK,
        http::HeaderValue::from_static("application/x-pem-file"),
        crate::respond::whole(bytes::Bytes::from(ca.cert_pem().to_owned())),
    ))
}
