//! Scenario control: reset to the loaded scenario, show it, replace it.

use http::StatusCode;
use serde_json::json;

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::respond;
use crate::running::Running;
use crate::scenario::Scenario;

/// How an uploaded scenario is named in error messages.
const UPLOAD_ORIGIN: &str = "<PUT /__admin/scenario>";

pub(super) fn reset(running: &Running, request: &AdminRequest) -> AdminResult {
    let tenant = request.tenant_param()?;
    let tenants = selected_tenants(running, tenant.as_deref())?;
    if tenant.is_none() {
        running.reset_all();
    } else {
        for t in &tenants {
            running.reset_tenant(t);
        }
    }
    let ids: Vec<&str> = tenants.iter().map(|t| t.id.as_str()).collect();
    Ok(respond::json(StatusCode::OK, &json!({ "reset": ids })))
}

pub(super) fn show(running: &Running) -> AdminResult {
    Ok(respond::json(
        StatusCode::OK,
        &summary(&running.scenario, true),
    ))
}

/// Replaces the running scenario; an invalid one changes nothing.
pub(super) fn replace(app: &App, request: &AdminRequest) -> AdminResult {
    let source = std::str::from_utf8(&request.body)
        .map_err(|_| AdminError::bad_request("the scenario body must be UTF-8 YAML"))?;
    match Scenario::from_source(source, UPLOAD_ORIGIN, None, &app.registry) {
        Ok(scenario) => {
            let loaded = summary(&scenario, false);
            app.replace_scenario(scenario);
            tracing::info!(scenario = %loaded["name"], "scenario replaced");
            Ok(respond::json(StatusCode::OK, &json!({ "loaded": loaded })))
        }
        Err(error) => {
            let mut admin_error = AdminError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scenario",
                error.to_string(),
            );
            admin_error.details = Some(json!({ "problems": error.problems }));
            Err(admin_error)
        }
    }
}

fn summary(scenario: &Scenario, with_source: bool) -> serde_json::Value {
    let mut value = json!({
        "name": scenario.name,
        "description": scenario.description,
        "origin": scenario.origin,
        "seed": scenario.seed,
        "clock": scenario.clock,
        "tenants": scenario.tenants.iter().map(|t| t.id()).collect::<Vec<_>>(),
    });
    if with_source {
        value["source"] = json!(scenario.source);
    }
    value
}
