//! The transport's responses: a provider's reply, and the sandbox's own 404.

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::providers::Reply;
use crate::respond::{HttpResponse, json, whole, with_body};
use crate::running::Running;

/// A response carrying a provider's reply.
pub fn response(reply: &Reply) -> HttpResponse {
    with_body(
        reply.status,
        reply.content_type.clone(),
        whole(reply.body.clone()),
    )
}

/// The answer for a path no provider claims: which prefixes exist.
pub fn not_found(app: &App, running: &Running, method: &str, path: &str) -> HttpResponse {
    let providers: Vec<_> = app
        .registry
        .iter()
        .map(|p| json!({ "provider": p.name(), "prefixes": p.prefixes(running) }))
        .collect();
    json(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "not_found",
            "message": format!("no provider serves {method} {path}"),
            "providers": providers,
            "admin": "/__admin",
        }),
    )
}
