//! Helpers shared by the integration tests: starting sandboxes and speaking HTTP to them.

use issuer_sandbox::Sandbox;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

/// A frozen-clock scenario with two merchants, used wherever the default scenario's real-time
/// clock or single tenant would get in the way.
pub const TWO_MERCHANTS: &str = r#"
name: two-merchants
seed: 7
clock: { start: 2026-03-01T08:00:00Z, frozen: true }
merchants:
  - id: alpha
    credentials:
      acedata:
        - token: alpha-token
          rate_limit: { per_second: 2, burst: 3 }
        - token: alpha-lookup-only
          apis: [check-1e]
    accounts:
      - { currency: CNY, balance: "1000.00" }
    cardholders:
      - id: zhang
        first_name: 伟
        last_name: 张
        phone: { country_code: "86", number: "13800138000" }
        id_document: { type: id_card, number: "110101199003074514" }
      - id: alice
        first_name: Alice
        last_name: Smith
        phone: { country_code: "1", number: "4155550123" }
        id_document: { type: passport, number: "X12345678" }
    cards:
      - { id: icbc, cardholder: zhang, pan: "6222020200112233446", currency: CNY, balance: "10.00" }
      - { id: frozen, cardholder: zhang, pan: "6217009988776655442", status: frozen }
      - { id: lost, cardholder: zhang, pan: "6228480011223344554", status: lost }
      - { id: closed, cardholder: zhang, pan: "6225751234567893", status: closed }
      - { id: pending, cardholder: zhang, pan: "6225881234123411", status: pending }
      - { id: expired, cardholder: zhang, bin: "622202", expiry: 2026-02 }
      - { id: orphan, pan: "4147201234567899" }
      - { id: alice-visa, cardholder: alice, pan: "4147209999999991" }
  - id: beta
    credentials:
      acedata:
        - token: beta-token
          rate_limit: { per_second: 0 }
    cardholders:
      - id: li
        first_name: 娜
        last_name: 李
        id_document: { type: id_card, number: "310101198805120028" }
      - id: alice
        first_name: Alice
        last_name: Smith
        id_document: { type: passport, number: X12345678 }
    cards:
      - { id: li-card, cardholder: li, pan: "6217009988776655442" }
      - { id: alice-visa, cardholder: alice, pan: "4147209999999991" }
"#;

/// Starts a sandbox on the given scenario text.
pub fn sandbox(yaml: &str) -> Sandbox {
    Sandbox::builder()
        .scenario_yaml(yaml)
        .start()
        .expect("sandbox starts")
}

/// The problems the loader reports for scenario text that must not load.
pub fn scenario_problems(yaml: &str) -> String {
    issuer_sandbox::scenario::Scenario::from_source(
        yaml,
        "problem.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .expect_err("the scenario must not load")
    .to_string()
}

/// A blocking HTTP client without proxies or connection reuse surprises.
pub fn client() -> Client {
    client_builder().build().expect("client builds")
}

/// A client builder without proxies. reqwest's TLS (the https tests) wants the process's
/// crypto provider chosen first; a second install is refused, which is fine.
pub fn client_builder() -> reqwest::blocking::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Client::builder().no_proxy()
}

/// Status and parsed JSON body of a response.
pub fn status_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().expect("body reads");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

/// POSTs a raw body to an AceData endpoint with a bearer token.
pub fn acedata_raw(
    sandbox: &Sandbox,
    endpoint: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}/identity/bankcard/{endpoint}", sandbox.url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    status_json(request.send().expect("request sent"))
}

/// POSTs a JSON body to an AceData endpoint with a bearer token.
pub fn acedata(sandbox: &Sandbox, endpoint: &str, token: &str, body: Value) -> (u16, Value) {
    acedata_raw(sandbox, endpoint, Some(token), &body.to_string())
}

/// HTTP status of a check-1e lookup of the ICBC debit card `6222020200112233446` with `token`.
pub fn lookup_status(sandbox: &Sandbox, token: &str) -> u16 {
    acedata(
        sandbox,
        "check-1e",
        token,
        serde_json::json!({ "bank_card": "6222020200112233446" }),
    )
    .0
}

/// Status of a GET with one extra header.
pub fn get_status_with(url: &str, header: &str, value: &str) -> u16 {
    client()
        .get(url)
        .header(header, value)
        .send()
        .expect("request sent")
        .status()
        .as_u16()
}

/// GET on the control API.
pub fn admin_get(sandbox: &Sandbox, path: &str) -> (u16, Value) {
    status_json(
        client()
            .get(format!("{}/__admin{path}", sandbox.url()))
            .send()
            .expect("request sent"),
    )
}

/// A request with a body on the control API.
pub fn admin_send(sandbox: &Sandbox, method: &str, path: &str, body: &str) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    status_json(
        client()
            .request(method, format!("{}/__admin{path}", sandbox.url()))
            .body(body.to_owned())
            .send()
            .expect("request sent"),
    )
}

/// The JSON state of one tenant.
pub fn state(sandbox: &Sandbox, tenant: &str) -> Value {
    let (status, body) = admin_get(sandbox, &format!("/state?tenant={tenant}"));
    assert_eq!(status, 200, "{body}");
    body
}

/// Asserts an AceData gateway error: status, code, and the documented shape.
#[track_caller]
pub fn assert_gateway_error(reply: &(u16, Value), status: u16, code: &str) {
    let (actual_status, body) = reply;
    assert_eq!(*actual_status, status, "{body}");
    assert_eq!(body["success"], Value::Bool(false), "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let trace_id = body["trace_id"].as_str().expect("trace_id");
    assert_eq!(trace_id.len(), 36, "{trace_id}");
}

/// How the test endpoint answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status and body.
    Reply(u16, &'static str),
    /// No answer until the endpoint is dropped (a merchant too slow to answer).
    Hold,
}

/// A request the test endpoint received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Header names in lower case.
    pub headers: std::collections::HashMap<String, String>,
    pub body: Value,
}

/// A merchant's webhook endpoint for tests: answers each POST as scripted (then 200 `{}`) and
/// hands the requests to the test in arrival order.
pub struct Receiver {
    pub url: String,
    requests: std::sync::mpsc::Receiver<Received>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Receiver {
    /// Answers with these statuses (body `{}`), then 200.
    pub fn start(statuses: Vec<u16>) -> Receiver {
        Receiver::answering(
            statuses
                .into_iter()
                .map(|s| Answer::Reply(s, "{}"))
                .collect(),
        )
    }

    /// Answers as scripted, then 200 `{}`.
    pub fn answering(script: Vec<Answer>) -> Receiver {
        let script = std::sync::Mutex::new(std::collections::VecDeque::from(script));
        Receiver::deciding(move |_| {
            script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Answer::Reply(200, "{}"))
        })
    }

    /// Answers each request as `decide` says, whatever order requests arrive in.
    pub fn deciding(decide: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Receiver {
        use http_body_util::{BodyExt, Full};
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;

        let (sender, requests) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let decide = std::sync::Arc::new(decide);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::pin!(stopped);
                loop {
                    let stream = tokio::select! {
                        accepted = listener.accept() => accepted.unwrap().0,
                        _ = &mut stopped => return,
                    };
                    let (sender, decide) = (sender.clone(), decide.clone());
                    tokio::spawn(async move {
                        let service =
                            service_fn(move |request: http::Request<hyper::body::Incoming>| {
                                let (sender, decide) = (sender.clone(), decide.clone());
                                async move {
                                    let headers = request
                                        .headers()
                                        .iter()
                                        .map(|(k, v)| {
                                            (
                                                k.as_str().to_owned(),
                                                v.to_str().unwrap_or_default().to_owned(),
                                            )
                                        })
                                        .collect();
                                    let body =
                                        request.into_body().collect().await.unwrap().to_bytes();
                                    let body = serde_json::from_slice(&body).unwrap_or_else(|_| {
                                        Value::String(String::from_utf8_lossy(&body).into_owned())
                                    });
                                    let received = Received { headers, body };
                                    let answer = decide(&received);
                                    let _ = sender.send(received);
                                    let (status, body) = match answer {
                                        Answer::Reply(status, body) => (status, body),
                                        Answer::Hold => std::future::pending().await,
                                    };
                                    let mut response = http::Response::new(Full::new(
                                        bytes::Bytes::from_static(body.as_bytes()),
                                    ));
                                    *response.status_mut() =
                                        http::StatusCode::from_u16(status).unwrap();
                                    Ok::<_, std::convert::Infallible>(response)
                                }
                            });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Receiver {
            url,
            requests,
            _stop: stop,
        }
    }

    /// The next delivered body (waits for the sandbox's dispatcher, up to 10 s).
    pub fn next(&self) -> Value {
        self.next_request().body
    }

    /// The next delivered request, headers included (up to 10 s).
    pub fn next_request(&self) -> Received {
        self.requests
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a webhook arrives")
    }
}

/// Waits (up to 10 s) until `condition` holds: for effects the sandbox applies asynchronously,
/// such as recording a webhook attempt after the merchant answered.
pub fn eventually(mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met within 10 s"
        );
        std::thread::yield_now();
    }
}

/// Decimal text in minor units (two decimals).
pub fn cents(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    whole.parse::<i64>().unwrap() * 100 + sign * fraction.parse::<i64>().unwrap()
}

/// Money of `code` held in the tenant, in minor units: merchant account, cardholder accounts,
/// card balances (available + blocked) and transfers in flight.
pub fn holdings(state: &Value, code: &str) -> i64 {
    let amount = |v: &Value| v["amount"].as_str().map_or(0, cents);
    let account = amount(&state["accounts"][code]);
    let holder_accounts: i64 = state["holder_accounts"]
        .as_object()
        .map_or(0, |h| h.values().map(|a| amount(&a[code])).sum());
    let cards: i64 = state["cards"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["currency"] == code)
        .map(|c| amount(&c["available"]) + amount(&c["blocked"]))
        .sum();
    let in_flight: i64 = state["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["amount"]["currency"] == code
                && t["status"] == "pending"
                && (t["kind"] == "recharge" || t["kind"] == "close_refund")
        })
        // A recharge carries its amount to the card; a close refund's amount is seen from the
        // card (negative) and carries the opposite to the account.
        .map(|t| {
            if t["kind"] == "recharge" {
                amount(&t["amount"])
            } else {
                -amount(&t["amount"])
            }
        })
        .sum();
    account + holder_accounts + cards + in_flight
}

/// Merchant account + card balances + transfers in flight − external flows, in USD cents.
pub fn usd_in_the_system(state: &Value, external_cents: i64) -> i64 {
    holdings(state, "USD") - external_cents
}

/// What the tenant holds of `code` net of what left or came through purchases and refunds:
/// constant whatever the operations.
pub fn conserved(state: &Value, code: &str) -> i64 {
    holdings(state, code) - state["external"][code]["amount"].as_str().map_or(0, cents)
}

/// The default scenario with a frozen clock.
pub static FROZEN_DEFAULT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let default = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/default.yaml"
    ))
    .unwrap();
    default.replace(
        "name: default\n",
        "name: frozen\nclock: { start: 2026-11-21T00:00:00Z, frozen: true }\n",
    )
});

/// Moves every tenant's sandbox clock forward.
pub fn advance_clock(sandbox: &Sandbox, by: &str) {
    let (status, body) = admin_send(
        sandbox,
        "POST",
        "/clock/advance",
        &serde_json::json!({ "by": by }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
}

/// Sends `request` as raw bytes on a fresh connection and reads the answer until the server
/// closes it (or gives up after 10 s, so a server that never answers fails the test instead of
/// hanging it).
pub fn raw_exchange(sandbox: &Sandbox, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(sandbox.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// The default scenario, clock frozen, with `lines` added to the demo merchant's KazePay
/// credentials (e.g. `sign_hash: SHA-1`), at their indentation.
pub fn default_with_kazepay(lines: &[&str]) -> String {
    default_with_lines_after("        sys_id: \"202402271432298822660001\"", lines)
}

/// The default scenario, clock frozen, with `lines` added to the demo merchant's KeySecure
/// credentials (e.g. `strictness: lenient`), at their indentation.
pub fn default_with_keysecure(lines: &[&str]) -> String {
    default_with_lines_after("        api_key: demo-keysecure-api-key", lines)
}

/// The frozen default scenario with `lines` inserted after its line `anchor`, indented as it is.
fn default_with_lines_after(anchor: &str, lines: &[&str]) -> String {
    let default = FROZEN_DEFAULT.as_str();
    assert!(
        default.contains(anchor),
        "the default scenario has {anchor}"
    );
    let indent = &anchor[..anchor.len() - anchor.trim_start().len()];
    let extra: String = lines.iter().map(|l| format!("\n{indent}{l}")).collect();
    default.replacen(anchor, &format!("{anchor}{extra}"), 1)
}

/// The journal's note on the latest exchange of `provider`.
pub fn last_note(sandbox: &Sandbox, provider: &str) -> String {
    let (status, journal) = admin_get(sandbox, &format!("/requests?provider={provider}"));
    assert_eq!(status, 200, "{journal}");
    let requests = journal["requests"].as_array().expect("a journal");
    let last = requests.last().expect("an exchange");
    last["note"].as_str().unwrap_or_default().to_owned()
}
