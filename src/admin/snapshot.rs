//! Snapshots over the control API: `GET /__admin/snapshot` takes one (all tenants, or
//! `?tenant=`), `PUT /__admin/snapshot` restores one after checking all of it.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::respond;
use crate::running::Running;
use crate::scenario::render;
use crate::snapshot::{self, SnapshotError};
use crate::world::World;

pub(super) fn take(app: &App, request: &AdminRequest) -> AdminResult {
    let running = app.running();
    let tenant = request.query.get("tenant").cloned();
    match request.query.get("format").map(String::as_str) {
        None | Some("json") => {}
        Some("scenario") if tenant.is_some() => {
            return Err(AdminError::bad_request(
                "format=scenario renders every merchant (a scenario has them all); leave out tenant",
            ));
        }
        Some("scenario") => return as_scenario(&running),
        Some(other) => {
            return Err(AdminError::bad_request(format!(
                "format `{other}` is not json or scenario"
            )));
        }
    }
    selected_tenants(&running, tenant.as_deref())?;
    let taken = snapshot::take(&running, tenant.as_deref());
    Ok(respond::with_body(
        StatusCode::OK,
        HeaderValue::from_static("application/json; charset=utf-8"),
        respond::whole(Bytes::from(snapshot::to_bytes(&taken))),
    ))
}

/// The business state as a scenario file: each world caught up and copied under its lock, then
/// rendered with no lock held.
fn as_scenario(running: &Running) -> AdminResult {
    let worlds: Vec<World> = running
        .tenants()
        .iter()
        .map(|t| {
            t.with_world(|world| {
                world.catch_up();
                world.clone()
            })
        })
        .collect();
    let borrowed: Vec<&World> = worlds.iter().collect();
    let yaml = render::as_scenario(&running.scenario, &borrowed).map_err(|error| {
        AdminError::new(
            StatusCode::CONFLICT,
            "not_renderable",
            format!("the state cannot be written as a scenario: {error}"),
        )
    })?;
    Ok(respond::with_body(
        StatusCode::OK,
        HeaderValue::from_static("application/yaml; charset=utf-8"),
        respond::whole(Bytes::from(yaml)),
    ))
}

pub(super) fn restore(app: &App, request: &AdminRequest) -> AdminResult {
    let document = snapshot::read(&request.body).map_err(refused)?;
    let restored = snapshot::restore_into(app, document).map_err(refused)?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "restored": restored }),
    ))
}

fn refused(error: SnapshotError) -> AdminError {
    let message = format!("the snapshot was not restored: {error}");
    let mut refusal = AdminError::new(StatusCode::BAD_REQUEST, "invalid_snapshot", message);
    // The problems move into the answer (each with its JSON path).
    let problems = serde_json::to_value(error.problems).unwrap_or_default();
    refusal.details = Some(json!({ "problems": problems }));
    refusal
}
