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

/// A blocking HTTP client without proxies or connection reuse surprises.
pub fn client() -> Client {
    Client::builder().no_proxy().build().expect("client builds")
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
