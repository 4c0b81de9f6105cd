//! The browser console (`/__admin/ui`): static files compiled into the binary, plain
//! JavaScript over the control API (no build step, works offline). The files hold no data and
//! no secret, so they are served to any client the control API would answer by address
//! (loopback, or any when remote access is allowed) without the admin token; the console asks
//! for the token once and sends it with every call it makes, which are checked as always.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::respond::{self, HttpResponse};

const INDEX: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/style.css");

/// The console's file at `route` (the path after `/__admin`), if it is one.
pub(super) fn file(route: &str) -> Option<HttpResponse> {
    let (text, content_type) = match route {
        "/ui" | "/ui/" | "/ui/index.html" => (INDEX, "text/html; charset=utf-8"),
        "/ui/app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "/ui/style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    let mut response = respond::with_body(
        StatusCode::OK,
        HeaderValue::from_static(content_type),
        respond::whole(Bytes::from_static(text.as_bytes())),
    );
    // The page runs only its own script and style, and talks only to this origin.
    response.headers_mut().insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    Some(response)
}

/// Whether `accept` (a request's `Accept` header) prefers a page: a browser's navigation.
pub fn wants_html(accept: Option<&HeaderValue>) -> bool {
    accept.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',')
            .next()
            .is_some_and(|first| first.trim().starts_with("text/html"))
    })
}

/// Where a browser opening `/` is sent.
pub fn redirect_to_console() -> HttpResponse {
    let mut response = respond::with_body(
        StatusCode::SEE_OTHER,
        HeaderValue::from_static("text/plain; charset=utf-8"),
        respond::whole(Bytes::from_static(b"the console is at /__admin/ui\n")),
    );
    response.headers_mut().insert(
        http::header::LOCATION,
        HeaderValue::from_static("/__admin/ui"),
    );
    response
}
