//! The transport's baseline for `benches/perf.sh`: a bare hyper 1 server on the sandbox's own
//! settings (HTTP/1.1, keep-alive, one connection task per client, no delay) answering every
//! request with the 90 bytes of a check-1e answer once its body is read, and nothing else: no
//! routing, no state, no journal, no log.
//!
//!   cargo run --release --example bare_server -- 127.0.0.1:18100

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

/// AceData's check-1e answer for the demo card, as the sandbox sends it.
const ANSWER: &str =
    r#"{"result":"0","description":"查询成功","account_bank":"工商银行","account_type":1}"#;

async fn answer(
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    // Read like any server must (an unread body ends keep-alive).
    let _ = request.into_body().collect().await;
    let mut response = http::Response::new(Full::new(Bytes::from_static(ANSWER.as_bytes())));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(response)
}

fn main() {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18100".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .expect("the address is free");
        println!(
            "bare server listening on http://{}",
            listener.local_addr().unwrap()
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
}
