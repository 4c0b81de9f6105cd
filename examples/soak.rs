//! Mixed load against a running sandbox (the default scenario), for `benches/soak.sh`.
//!
//!   soak URL max SECONDS               closed loop, 32 clients: prints the requests per second
//!   soak URL rate PER_SECOND MINUTES PID
//!                                      open loop at a fixed rate: per minute, the requests sent,
//!                                      those not answered 2xx-4xx, p50/p99 latency and the
//!                                      server's resident memory (PID's VmRSS)
//!   soak URL latency PER_SECOND SECONDS
//!                                      open loop of check-1e alone (any server that answers a
//!                                      POST: the bare baseline too): p50 and p99 latency
//!
//! The mix, by weight: AceData check-1e 60, check-2e 10, KeySecure support/bins 10, Pagsmile
//! query-card-balance 8, KazePay queryCard 7, the control API's state and journal 5. Envelope
//! requests are sealed beforehand (2,000 distinct request numbers each, then repeated: repeats
//! are refused as replays after the envelope is opened, which is load too).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use issuer_sandbox::providers::{kazepay, pagsmile};
use serde_json::json;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A header value replaced by the time of sending, in Unix milliseconds (KeySecure's
/// `Timestamp` must be at most a minute old).
const NOW_MS: &str = "<now-ms>";

/// One request of the mix.
struct Call {
    method: http::Method,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

/// The requests, by weight, with the sealed pools to rotate through.
struct Mix {
    calls: Vec<(u32, Vec<Arc<Call>>)>,
    total: u32,
    next: AtomicU64,
}

impl Mix {
    fn pick(&self) -> Arc<Call> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut slot = (n.wrapping_mul(2_654_435_761) % u64::from(self.total)) as u32;
        for (weight, calls) in &self.calls {
            if slot < *weight {
                return calls[(n as usize / 7) % calls.len()].clone();
            }
            slot -= weight;
        }
        self.calls[0].1[0].clone()
    }
}

async fn keysecure_token(client: &HttpClient, url: &str) -> String {
    let stamp = jiff::Timestamp::now().as_millisecond().to_string();
    let request = http::Request::get(format!("{url}/open-api/v1/merchant/token"))
        .header("api-key", "demo-keysecure-api-key")
        .header("timestamp", &stamp)
        .body(Full::new(Bytes::new()))
        .expect("a request");
    let response = client.request(request).await.expect("the sandbox answers");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    answer["data"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

async fn mix(client: &HttpClient, url: &str) -> Mix {
    let json = |path, auth: &str, body: serde_json::Value| Call {
        method: http::Method::POST,
        path,
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("authorization", auth.to_owned()),
        ],
        body: Bytes::from(body.to_string()),
    };
    let acedata = "Bearer demo-acedata-token";
    let lookup = json(
        "/identity/bankcard/check-1e",
        acedata,
        json!({ "bank_card": "6222020200112233446" }),
    );
    let verify = json(
        "/identity/bankcard/check-2e",
        acedata,
        json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    let token = keysecure_token(client, url).await;
    let bins = Call {
        method: http::Method::POST,
        path: "/open-api/v1/card/support/bins",
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("api-key", "demo-keysecure-api-key".to_owned()),
            ("access-token", token),
            ("timestamp", NOW_MS.to_owned()),
        ],
        body: Bytes::from_static(br#"{"page":0,"size":10}"#),
    };
    let mut pagsmile_client = pagsmile::client::Client::demo();
    let balance = json!({ "card_token": "CT202611210000000001" });
    let pagsmile: Vec<Call> = (0..2_000)
        .map(|n| Call {
            method: http::Method::POST,
            path: "/issuing/card/query-card-balance",
            headers: vec![("content-type", "application/json".to_owned())],
            body: Bytes::from(
                pagsmile_client
                    .seal_request(&format!("SOAK{n:08}"), &balance)
                    .expect("the demo keys seal")
                    .to_string(),
            ),
        })
        .collect();
    let mut kazepay_client = kazepay::client::Client::demo();
    let card = json!({ "cardID": "3377" });
    let kazepay: Vec<Call> = (0..2_000)
        .map(|n| Call {
            method: http::Method::POST,
            path: "/kazepay",
            headers: vec![("content-type", "application/json".to_owned())],
            body: Bytes::from(
                kazepay_client
                    .seal_request("queryCard", &format!("2026120200{n:012}"), &card)
                    .expect("the demo keys seal")
                    .to_string(),
            ),
        })
        .collect();
    let control = |path| Call {
        method: http::Method::GET,
        path,
        headers: Vec::new(),
        body: Bytes::new(),
    };
    let calls = vec![
        (60, vec![lookup]),
        (10, vec![verify]),
        (10, vec![bins]),
        (8, pagsmile),
        (7, kazepay),
        (
            5,
            vec![
                control("/__admin/state?tenant=demo"),
                control("/__admin/requests?limit=50"),
            ],
        ),
    ];
    let calls: Vec<(u32, Vec<Arc<Call>>)> = calls
        .into_iter()
        .map(|(weight, calls)| (weight, calls.into_iter().map(Arc::new).collect()))
        .collect();
    let total = calls.iter().map(|(w, _)| w).sum();
    Mix {
        calls,
        total,
        next: AtomicU64::new(0),
    }
}

/// Sends one call; its latency, or `None` when it got no answer or a 5xx.
async fn send(client: &HttpClient, url: &str, call: &Call) -> Option<Duration> {
    let started = Instant::now();
    let mut request = http::Request::builder()
        .method(call.method.clone())
        .uri(format!("{url}{}", call.path));
    for (name, value) in &call.headers {
        request = if value == NOW_MS {
            request.header(*name, jiff::Timestamp::now().as_millisecond().to_string())
        } else {
            request.header(*name, value)
        };
    }
    let request = request.body(Full::new(call.body.clone())).ok()?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .ok()?
        .ok()?;
    let status = response.status();
    response.into_body().collect().await.ok()?;
    (!status.is_server_error()).then(|| started.elapsed())
}

/// Sends `rate` requests a second for `seconds` (a hundredth of a second's worth every 10 ms,
/// whatever the answers do), each made by `call`; the sorted latencies and the failures.
async fn open_loop(
    client: &HttpClient,
    url: &str,
    rate: u64,
    seconds: u64,
    call: impl Fn(u64) -> Arc<Call>,
) -> (Vec<Duration>, u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let ends = Instant::now() + Duration::from_secs(seconds);
    let (mut due, mut sent) = (0u64, 0u64);
    while Instant::now() < ends {
        tick.tick().await;
        due += rate;
        for _ in 0..due / 100 {
            let (client, url, sender, call) =
                (client.clone(), url.to_owned(), sender.clone(), call(sent));
            tokio::spawn(async move {
                let _ = sender.send(send(&client, &url, &call).await);
            });
            sent += 1;
        }
        due %= 100;
    }
    drop(sender);
    let mut latencies = Vec::with_capacity(sent as usize);
    let mut failed = 0;
    while let Some(outcome) = receiver.recv().await {
        match outcome {
            Some(latency) => latencies.push(latency),
            None => failed += 1,
        }
    }
    latencies.sort();
    (latencies, failed)
}

fn rss_mib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: soak URL max SECONDS | soak URL rate PER_SECOND MINUTES PID | soak URL latency PER_SECOND SECONDS";
    let url = args.first().expect(usage).trim_end_matches('/').to_owned();
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(512)
        .build_http();
    if args.get(1).map(String::as_str) == Some("latency") {
        let rate: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
        let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).expect(usage);
        let lookup = Arc::new(Call {
            method: http::Method::POST,
            path: "/identity/bankcard/check-1e",
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("authorization", "Bearer demo-acedata-token".to_owned()),
            ],
            body: Bytes::from_static(br#"{"bank_card":"6222020200112233446"}"#),
        });
        let (latencies, failed) = open_loop(&client, &url, rate, seconds, |_| lookup.clone()).await;
        println!(
            "latency at {rate}/s for {seconds} s: p50 {:.3} ms, p99 {:.3} ms ({} answered, {failed} failed)",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.len()
        );
        return;
    }
    let mix = Arc::new(mix(&client, &url).await);
    match args.get(1).map(String::as_str) {
        Some("max") => {
            let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
            let until = Instant::now() + Duration::from_secs(seconds);
            let done = Arc::new(AtomicU64::new(0));
            let workers: Vec<_> = (0..32)
                .map(|_| {
                    let (client, mix, url, done) =
                        (client.clone(), mix.clone(), url.clone(), done.clone());
                    tokio::spawn(async move {
                        while Instant::now() < until {
                            if send(&client, &url, &mix.pick()).await.is_some() {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            for worker in workers {
                let _ = worker.await;
            }
            let rate = done.load(Ordering::Relaxed) as f64 / seconds as f64;
            println!("max: {rate:.0} requests/s (32 clients, {seconds} s)");
        }
        Some("rate") => {
            let rate: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
            let minutes: u64 = args.get(3).and_then(|s| s.parse().ok()).expect(usage);
            let pid = args.get(4).expect(usage).clone();
            println!("minute  sent    failed  p50_ms  p99_ms  rss_mib");
            println!(
                "0       -       -       -       -       {:.1}",
                rss_mib(&pid)
            );
            // An open loop, so a slow server shows as latency and failures, not fewer requests.
            for minute in 1..=minutes {
                let (latencies, failed) = open_loop(&client, &url, rate, 60, |_| mix.pick()).await;
                println!(
                    "{minute:<7} {:<7} {failed:<7} {:<7.2} {:<7.2} {:.1}",
                    latencies.len() as u64 + failed,
                    percentile(&latencies, 0.5),
                    percentile(&latencies, 0.99),
                    rss_mib(&pid)
                );
            }
        }
        _ => panic!("{usage}"),
    }
}
