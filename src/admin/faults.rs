//! `/__admin/faults`: the running fault rules — list them with their counters, add one (the
//! scenario file's rule format, as JSON), remove one or all.

use http::StatusCode;
use serde_json::json;

use super::{AdminError, AdminRequest, AdminResult};
use crate::app::App;
use crate::faults::spec::FaultSpec;
use crate::respond;
use crate::running::Running;

/// `GET /__admin/faults` → `{faults: [{rule, matches, fired}]}`.
pub(super) fn list(running: &Running) -> AdminResult {
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "faults": running.faults.list() }),
    ))
}

/// `POST /__admin/faults` with a rule → `{id}` (201).
pub(super) fn add(app: &App, running: &Running, request: &AdminRequest) -> AdminResult {
    let spec: FaultSpec = request.json()?;
    let merchants = running.tenants().iter().map(|t| t.id.as_str());
    let id = running
        .faults
        .add(spec, merchants, &app.registry)
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    Ok(respond::json(StatusCode::CREATED, &json!({ "id": id })))
}

/// `POST /__admin/faults/ID/disable` or `/enable` → `{id, disabled}`, or 404.
pub(super) fn set_disabled(running: &Running, id: &str, disabled: bool) -> AdminResult {
    if !running.faults.set_disabled(id, disabled) {
        return Err(no_rule(id));
    }
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "id": id, "disabled": disabled }),
    ))
}

/// `DELETE /__admin/faults` → `{removed: n}`; `DELETE /__admin/faults/ID` → `{removed: 1}` or
/// 404.
pub(super) fn remove(running: &Running, id: Option<&str>) -> AdminResult {
    let removed = match id {
        None => running.faults.clear(),
        Some(id) if running.faults.remove(id) => 1,
        Some(id) => return Err(no_rule(id)),
    };
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "removed": removed }),
    ))
}

fn no_rule(id: &str) -> AdminError {
    AdminError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no fault rule {id}"),
    )
}
