//! Reading a request body under the transport's rules, the same for providers and the control
//! API: the limit is checked from `Content-Length` before a byte is read, then again while the
//! body streams in, and the whole body must arrive within the configured time of its headers
//! (`Config::body_read_timeout`, 30 s by default).

use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use crate::app::Config;
use crate::providers::Failure;

/// The request's body under the configured limit and read timeout.
pub async fn read_request(
    request: http::Request<Incoming>,
    config: &Config,
) -> (http::request::Parts, Result<Bytes, Failure>) {
    let (parts, body) = request.into_parts();
    let body = read(
        body,
        &parts.headers,
        config.body_limit,
        config.body_read_timeout,
    )
    .await;
    (parts, body)
}

/// The whole body, or why there is none: more than `limit` bytes (declared or sent), or a body
/// that did not arrive within `timeout`, broke off or was malformed.
async fn read(
    body: Incoming,
    headers: &http::HeaderMap,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Failure> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Failure::BodyTooLarge { limit });
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Failure::BodyTooLarge { limit })
        }
        Ok(Err(_)) | Err(_) => Err(Failure::BodyUnreadable),
    }
}
