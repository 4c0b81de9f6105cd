//! What fault rules do to an answer once the provider has produced it: replace it by the
//! provider's gateway error with another status, break its crypto, or deliver it differently
//! (late, slowly, empty, as garbage, never, or by closing the connection).

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::StatusCode;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rand::RngExt;

use super::dispatch::Dropped;
use super::reply;
use crate::faults::spec::Action;
use crate::providers::{Failure, Reply, Served};
use crate::respond::{self, HttpResponse};
use crate::running::Running;
use crate::world::rng;

/// How an answer leaves the server.
#[derive(Debug)]
pub(super) struct Sending {
    rules: Vec<String>,
    delay: Duration,
    manner: Manner,
}

#[derive(Debug)]
enum Manner {
    Whole,
    Slow {
        chunk_bytes: usize,
        interval: Duration,
    },
    Reset,
    Hang,
}

/// The longest a hanging answer waits (the client has long given up by then).
const HANG: Duration = Duration::from_secs(3600);

/// Applies the fired rules of `reply` (if any) to it; the delivery says the rest.
pub(super) fn apply(
    running: &Running,
    provider: &dyn Served,
    path: &str,
    mut reply: Reply,
) -> (Reply, Sending) {
    let Some(fired) = reply.fault.clone() else {
        let delivery = Sending {
            rules: Vec::new(),
            delay: Duration::ZERO,
            manner: Manner::Whole,
        };
        return (reply, delivery);
    };
    let mut manner = Manner::Whole;
    match &fired.action {
        Some(Action::Status(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let trace = std::mem::take(&mut reply.trace);
            reply = provider.failure(running, path, &Failure::Injected { status });
            reply.status = status;
            reply.trace = trace;
            reply.fault = Some(fired.clone());
        }
        Some(Action::BreakCrypto) => provider.break_crypto(&mut reply),
        // Handshake rules never fire for a request (`FaultBook::check` skips them).
        Some(Action::TlsHandshakeFailure) => {}
        Some(Action::Empty) => {
            reply.status = StatusCode::OK;
            reply.body = Bytes::new();
        }
        Some(Action::Garbage) => {
            let mut stream = rng::stream(
                running.scenario.seed,
                &format!("garbage:{}", fired.rules.join(",")),
            );
            let bytes: Vec<u8> = (0..64).map(|_| stream.random()).collect();
            reply.status = StatusCode::OK;
            reply.body = Bytes::from(bytes);
        }
        Some(Action::Slow {
            chunk_bytes,
            interval,
        }) => {
            manner = Manner::Slow {
                chunk_bytes: *chunk_bytes,
                interval: interval.unsigned_abs(),
            };
        }
        Some(Action::Reset) => {
            reply.body = Bytes::new();
            manner = Manner::Reset;
        }
        Some(Action::Hang) => {
            reply.body = Bytes::new();
            manner = Manner::Hang;
        }
        Some(Action::Error(_) | Action::Delay(_)) | None => {}
    }
    let delivery = Sending {
        rules: fired.rules.clone(),
        delay: fired.delay,
        manner,
    };
    (reply, delivery)
}

impl Sending {
    /// The journal's note: which rules fired and what became of the answer.
    pub(super) fn note(&self) -> Option<String> {
        if self.rules.is_empty() {
            return None;
        }
        let what = match self.manner {
            Manner::Whole => "",
            Manner::Slow { .. } => ", answer sent slowly",
            Manner::Reset => ", connection closed: no answer sent",
            Manner::Hang => ", no answer sent (hanging)",
        };
        Some(format!(
            "fault rules fired: {}{what}",
            self.rules.join(", ")
        ))
    }

    /// How long to wait before answering.
    pub(super) fn delay(&self) -> Duration {
        self.delay
    }

    /// The response to send for `reply`.
    pub(super) fn response(&self, reply: &Reply) -> HttpResponse {
        match self.manner {
            Manner::Slow {
                chunk_bytes,
                interval,
            } => {
                let chunks: Vec<Bytes> = reply
                    .body
                    .chunks(chunk_bytes)
                    .map(Bytes::copy_from_slice)
                    .collect();
                let frames = stream::unfold(chunks.into_iter(), move |mut rest| async move {
                    let chunk = rest.next()?;
                    tokio::time::sleep(interval).await;
                    Some((Ok(Frame::data(chunk)), rest))
                });
                respond::with_body(
                    reply.status,
                    reply.content_type.clone(),
                    StreamBody::new(frames).boxed_unsync(),
                )
            }
            _ => reply::response(reply),
        }
    }

    /// Sends `response`, or not.
    pub(super) async fn deliver(self, response: HttpResponse) -> Result<HttpResponse, Dropped> {
        match self.manner {
            Manner::Reset => Err(Dropped),
            Manner::Hang => {
                tokio::time::sleep(HANG).await;
                Err(Dropped)
            }
            Manner::Whole | Manner::Slow { .. } => Ok(response),
        }
    }
}
