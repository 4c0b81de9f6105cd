//! Sandbox clock control: show, advance, set — for every tenant or one.

use http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::respond;
use crate::running::Running;
use crate::world::tenant::Tenant;

pub(super) fn show(running: &Running, request: &AdminRequest) -> AdminResult {
    let tenant = request.tenant_param()?;
    clocks(&selected_tenants(running, tenant.as_deref())?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// `90s`, `1h 30m`, `PT2H`, ...
    by: Option<String>,
    seconds: Option<i64>,
    ms: Option<i64>,
    tenant: Option<String>,
}

/// A century: a larger jump is a mistake (and runs into the year 9999).
const MAX_ADVANCE: SignedDuration = SignedDuration::from_hours(24 * 366 * 100);

pub(super) fn advance(running: &Running, request: &AdminRequest) -> AdminResult {
    let body: Advance = request.json()?;
    let by = match (&body.by, body.seconds, body.ms) {
        (Some(text), None, None) => text.parse::<SignedDuration>().map_err(|e| {
            AdminError::bad_request(format!(
                "`by`: `{text}` is not a duration such as \"90s\", \"1h 30m\" or \"PT2H\": {e}"
            ))
        })?,
        (None, Some(seconds), None) => SignedDuration::from_secs(seconds),
        (None, None, Some(ms)) => SignedDuration::from_millis(ms),
        _ => {
            return Err(AdminError::bad_request(
                "give exactly one of `by`, `seconds` or `ms`",
            ));
        }
    };
    if by.is_negative() {
        return Err(AdminError::bad_request(
            "the clock only advances; use PUT /__admin/clock to go back",
        ));
    }
    if by > MAX_ADVANCE {
        return Err(AdminError::bad_request(
            "advance at most 100 years at once (the clock stops at the year 9999)",
        ));
    }
    let tenant = request.tenant_from(body.tenant)?;
    let tenants = selected_tenants(running, tenant.as_deref())?;
    for t in &tenants {
        // Everything that came due on the way fires, in order.
        t.with_world(|w| {
            w.clock.advance(by);
            w.catch_up();
        });
    }
    clocks(&tenants)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    now: Timestamp,
    /// Default: keep each clock's current mode.
    frozen: Option<bool>,
    tenant: Option<String>,
}

pub(super) fn set(running: &Running, request: &AdminRequest) -> AdminResult {
    let body: SetClock = request.json()?;
    let tenant = request.tenant_from(body.tenant)?;
    let tenants = selected_tenants(running, tenant.as_deref())?;
    for t in &tenants {
        t.with_world(|w| {
            let frozen = body.frozen.unwrap_or(w.clock.is_frozen());
            w.clock.set(body.now, frozen);
            w.catch_up();
        });
    }
    clocks(&tenants)
}

fn clocks(tenants: &[&Tenant]) -> AdminResult {
    let list: Vec<Value> = tenants
        .iter()
        .map(|t| {
            t.with_world(
                |w| json!({ "tenant": t.id, "now": w.now(), "frozen": w.clock.is_frozen() }),
            )
        })
        .collect();
    Ok(respond::json(StatusCode::OK, &json!({ "clocks": list })))
}
