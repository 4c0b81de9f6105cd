//! Snapshots over the control API: `GET /__admin/snapshot` takes one (all tenants, or
//! `?tenant=`), `PUT /__admin/snapshot` restores one after checking all of it.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::respond;
use crate::snapshot::{self, SnapshotError};

pub(super) fn take(app: &App, request: &AdminRequest) -> AdminResult {
    let running = app.running();
    let tenant = request.query.get("tenant").cloned();
    selected_tenants(&running, tenant.as_deref())?;
    let taken = snapshot::take(&running, tenant.as_deref());
    Ok(respond::with_body(
        StatusCode::OK,
        HeaderValue::from_static("application/json; charset=utf-8"),
        respond::whole(Bytes::from(snapshot::to_bytes(&taken))),
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
