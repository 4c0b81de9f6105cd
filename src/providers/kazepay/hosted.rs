//! The hosted KYC page `setUserKyc` links to (`{path}/kyc/{token}`): a small HTML page where a
//! person approves or rejects the submission, so the hosted flow can be clicked through
//! locally. `GET` shows it; `POST decision=PASSED|REJECTED[&reason=…]` decides.

use http::{Method, StatusCode};

use super::KazePay;
use super::ops::kyc_status_name;
use crate::providers::{Cx, Reply, Request, Trace};
use crate::world::KycStatus;

/// Answers a request for the page with `token`.
pub fn page(cx: &Cx<'_, KazePay>, request: &Request<'_>, token: &str) -> Reply {
    let tenant = token
        .split_once('~')
        .and_then(|(tenant, _)| cx.tenant_by_id(tenant));
    let trace = Trace {
        operation: Some("hostedKyc".to_owned()),
        tenant: tenant.map(|t| t.id.clone()),
        ..Trace::default()
    };
    let Some(tenant) = tenant else {
        return gone(trace);
    };
    let decision = if request.method == Method::POST {
        let form: Vec<(String, String)> =
            form_urlencoded::parse(request.body).into_owned().collect();
        let value = |key: &str| {
            form.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
        };
        match value("decision").as_deref() {
            Some("PASSED") => Some((KycStatus::Passed, None)),
            Some("REJECTED") => Some((
                KycStatus::Rejected,
                value("reason").filter(|r| !r.is_empty()),
            )),
            _ => {
                return html(
                    StatusCode::BAD_REQUEST,
                    "Choose PASSED or REJECTED.",
                    "",
                    trace,
                );
            }
        }
    } else if request.method == Method::GET {
        None
    } else {
        return html(
            StatusCode::METHOD_NOT_ALLOWED,
            "Use GET to see the page, POST to decide.",
            "",
            trace,
        );
    };
    let shown = tenant.with_world(|world| {
        world.catch_up();
        let holder = world.cardholders.by_hosted_token(token).into_iter().next()?;
        let id = holder.id.clone();
        let summary = format!(
            "<dl><dt>Name</dt><dd>{} {}</dd><dt>Email</dt><dd>{}</dd><dt>Document</dt><dd>{}</dd></dl>",
            escape(&holder.first_name),
            escape(&holder.last_name),
            escape(holder.email.as_deref().unwrap_or_default()),
            escape(holder.id_document.as_ref().map(|d| d.number.as_str()).unwrap_or_default()),
        );
        if let Some((status, reason)) = decision {
            let now = world.now();
            world.decide_kyc(&id, status, reason, Vec::new(), now);
            return Some((format!("Decision recorded: {}.", kyc_status_name(status)), summary, true));
        }
        Some(("Review this KYC submission.".to_owned(), summary, false))
    });
    match shown {
        None => gone(trace),
        Some((message, summary, true)) => html(StatusCode::OK, &message, &summary, trace),
        Some((message, summary, false)) => {
            let form = "<form method=\"post\"><label>Reason (if rejected) <input name=\"reason\"></label>\
                <button name=\"decision\" value=\"PASSED\">Approve</button>\
                <button name=\"decision\" value=\"REJECTED\">Reject</button></form>";
            html(StatusCode::OK, &message, &format!("{summary}{form}"), trace)
        }
    }
}

fn gone(trace: Trace) -> Reply {
    html(
        StatusCode::NOT_FOUND,
        "This KYC link is not valid, or the review is finished.",
        "",
        trace,
    )
}

fn html(status: StatusCode, message: &str, content: &str, trace: Trace) -> Reply {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>KazePay KYC (sandbox)</title></head>\
         <body><h1>KazePay KYC (sandbox)</h1><p id=\"message\">{}</p>{content}</body></html>",
        escape(message)
    );
    Reply::html(status, page, trace)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
