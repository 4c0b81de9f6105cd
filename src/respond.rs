//! Building hyper responses: JSON bodies, whole or streamed, with the sandbox's headers. Shared
//! by the transport (provider replies) and the control API.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde::Serialize;

/// The body of every response: whole, or streamed (a fault's slow answer).
pub type ResponseBody = UnsyncBoxBody<Bytes, std::convert::Infallible>;

/// The response type of every handler.
pub type HttpResponse = Response<ResponseBody>;

/// A JSON response.
pub fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    let bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    with_body(
        status,
        HeaderValue::from_static("application/json; charset=utf-8"),
        whole(Bytes::from(bytes)),
    )
}

/// A body sent whole.
pub fn whole(bytes: Bytes) -> ResponseBody {
    Full::new(bytes).boxed_unsync()
}

/// A response with this status, type and (whole or streamed) body.
pub fn with_body(
    status: StatusCode,
    content_type: HeaderValue,
    body: ResponseBody,
) -> HttpResponse {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("issuer-sandbox"));
    response
}
