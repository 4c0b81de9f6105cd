//! Read-only control endpoints: health, state, journal, credentials.

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::journal::Filter;
use crate::respond;
use crate::running::Running;

pub(super) fn health(app: &App, running: &Running) -> AdminResult {
    let tenants: Vec<&str> = running.tenants().iter().map(|t| t.id.as_str()).collect();
    Ok(respond::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_ms": app.uptime().as_millis() as u64,
            "scenario": running.scenario.name,
            "tenants": tenants,
            "providers": app.registry.names(),
            "journal": {
                "capacity": app.journal.capacity(),
                "dropped": app.journal.dropped(),
            },
            "connections": {
                "open": app.open_connections(),
                "limit": app.config.max_connections,
            },
            // Log and banner lines nobody read in time (see `logs`).
            "logs": { "dropped_lines": crate::logs::dropped_lines() },
        }),
    ))
}

/// One tenant's world (`?tenant=`), or all of them keyed by id.
pub(super) fn state(running: &Running, request: &AdminRequest) -> AdminResult {
    let tenant = request.tenant_param()?;
    let mut worlds = Map::new();
    for t in selected_tenants(running, tenant.as_deref())? {
        let world = t
            .with_world(|w| {
                w.catch_up();
                serde_json::to_value(&*w)
            })
            .map_err(internal)?;
        worlds.insert(t.id.clone(), world);
    }
    let body = match tenant {
        Some(id) => worlds.remove(&id).unwrap_or(Value::Null),
        None => json!({ "tenants": worlds }),
    };
    Ok(respond::json(StatusCode::OK, &body))
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
    let entries = app.journal.list(&filter);
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "count": entries.len(), "requests": entries }),
    ))
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

pub(super) fn internal(error: impl std::fmt::Display) -> AdminError {
    AdminError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        error.to_string(),
    )
}
