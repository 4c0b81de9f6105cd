//! KeySecure over HTTP: the header gate's precedence, both integration modes end to end, the
//! signed callbacks (checked with the test's own HMAC), the Auth question and its timeout, and
//! every catalogued code.

use std::collections::HashMap;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use issuer_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::support::*;

const KEY: &str = "demo-keysecure-api-key";
const SECRET: &str = "DemoKeySecureApiSecret0123456789";

fn now_ms() -> String {
    jiff::Timestamp::now().as_millisecond().to_string()
}

/// Sends a request with these headers (a JSON body for POSTs); the HTTP status and the answer.
fn send(
    sandbox: &Sandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let http = client();
    let url = format!("{}{path}", sandbox.url());
    let mut request = match method {
        "GET" => http.get(url),
        "POST" => http.post(url),
        "PUT" => http.put(url),
        other => panic!("{other}"),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    status_json(request.send().unwrap())
}

/// A merchant's session: its Api-Key and a fresh token.
struct Ks<'s> {
    sandbox: &'s Sandbox,
    api_key: String,
    token: String,
}

impl<'s> Ks<'s> {
    fn login(sandbox: &'s Sandbox, api_key: &str) -> Ks<'s> {
        let (status, answer) = send(
            sandbox,
            "GET",
            "/open-api/v1/merchant/token",
            &[("Api-Key", api_key), ("Timestamp", &now_ms())],
            None,
        );
        assert_eq!(
            (status, answer["code"].clone()),
            (200, json!(0)),
            "{answer}"
        );
        Ks {
            sandbox,
            api_key: api_key.to_owned(),
            token: answer["data"]["access_token"].as_str().unwrap().to_owned(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let (status, answer) = send(
            self.sandbox,
            method,
            path,
            &[
                ("Api-Key", &self.api_key),
                ("Timestamp", &now_ms()),
                ("Access-Token", &self.token),
            ],
            body.as_deref(),
        );
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self.call(method, path, body);
        assert_eq!(
            (answer["code"].clone(), answer["msg"].clone()),
            (json!(0), json!("Success")),
            "{answer}"
        );
        answer["data"].clone()
    }

    fn fails(&self, method: &str, path: &str, body: Option<Value>, code: i64) -> String {
        let answer = self.call(method, path, body);
        assert_eq!(answer["code"], code, "{answer}");
        assert!(answer.get("data").is_none(), "{answer}");
        answer["msg"].as_str().unwrap().to_owned()
    }
}

fn advance(sandbox: &Sandbox, tenant: &str, by: &str) {
    let (status, body) = admin_send(
        sandbox,
        "POST",
        "/clock/advance",
        &json!({ "by": by, "tenant": tenant }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
}

const GATE: &str = r#"
name: keysecure-gate
clock: { start: 2026-11-21T00:00:00Z, frozen: true }
keysecure: { rate_limit: { per_second: 0 }, unavailable_paths: [/open-api/v1/card/list] }
merchants:
  - id: a
    credentials: { keysecure: { api_key: key-a, api_secret: "0123456789abcdef" } }
  - id: disabled
    credentials: { keysecure: { api_key: key-off, api_secret: "0123456789abcdef", enabled: false, ip_whitelist: ["10.9.9.9"] } }
  - id: expired
    credentials: { keysecure: { api_key: key-old, api_secret: "0123456789abcdef", expires_at: 2026-01-01T00:00:00Z, ip_whitelist: ["10.9.9.9"] } }
  - id: elsewhere
    credentials: { keysecure: { api_key: key-ip, api_secret: "0123456789abcdef", ip_whitelist: ["10.9.9.9"] } }
  - id: slow
    credentials: { keysecure: { api_key: key-slow, api_secret: "0123456789abcdef", rate_limit: { per_second: 1, burst: 2 } } }
  - id: nopci
    credentials: { keysecure: { api_key: key-nopci, api_secret: "0123456789abcdef", pci_enabled: false } }
  - id: credit
    credentials: { keysecure: { api_key: key-credit, api_secret: "0123456789abcdef", mode: CREDIT_EXTENSION } }
"#;

#[test]
fn every_auth_failure_has_its_code_in_the_documented_precedence() {
    let sandbox = sandbox(GATE);
    let list = "/open-api/v1/cardholder/list";
    let code = |headers: &[(&str, &str)]| {
        send(&sandbox, "POST", list, headers, Some("{}")).1["code"].clone()
    };
    let now = now_ms();
    let old = (jiff::Timestamp::now().as_millisecond() - 61_000).to_string();
    let future = (jiff::Timestamp::now().as_millisecond() + 30_000).to_string();
    let seconds = (jiff::Timestamp::now().as_second()).to_string();

    // Each case breaks every later rule too: only the first broken rule answers.
    assert_eq!(code(&[]), 1002);
    assert_eq!(code(&[("Api-Key", "")]), 1002);
    assert_eq!(code(&[("Api-Key", "key-zzz")]), 1008);
    assert_eq!(code(&[("Api-Key", "key-off")]), 1010);
    assert_eq!(code(&[("Api-Key", "key-old")]), 1011);
    assert_eq!(code(&[("Api-Key", "key-ip")]), 1003);
    assert_eq!(code(&[("Api-Key", "key-a")]), 1005);
    for bad in [
        "",
        "12345",
        old.as_str(),
        future.as_str(),
        seconds.as_str(),
        "17163072000x0",
    ] {
        assert_eq!(
            code(&[("Api-Key", "key-a"), ("Timestamp", bad)]),
            1005,
            "{bad:?}"
        );
    }
    assert_eq!(code(&[("Api-Key", "key-a"), ("Timestamp", &now)]), 1006);
    assert_eq!(
        code(&[
            ("Api-Key", "key-a"),
            ("Timestamp", &now),
            ("Access-Token", "nope")
        ]),
        1007
    );
    // A token is the merchant's own.
    let slow = Ks::login(&sandbox, "key-slow");
    assert_eq!(
        code(&[
            ("Api-Key", "key-a"),
            ("Timestamp", &now),
            ("Access-Token", &slow.token)
        ]),
        1007
    );
    // The token request itself needs only Api-Key and Timestamp, and GET.
    let token = |key: &str, method: &str| {
        send(
            &sandbox,
            method,
            "/open-api/v1/merchant/token",
            &[("Api-Key", key), ("Timestamp", &now_ms())],
            None,
        )
        .1
    };
    assert_eq!(token("key-off", "GET")["code"], 1010);
    assert_eq!(token("key-a", "POST")["code"], 1004);
    let issued = token("key-a", "GET");
    assert_eq!(issued["code"], 0);
    let expired_time = issued["data"]["expired_time"].as_i64().unwrap();
    assert_eq!(
        expired_time,
        jiff::Timestamp::from_second(1_795_219_200 + 7200)
            .unwrap()
            .as_millisecond(),
        "two sandbox hours"
    );
    let a = Ks {
        sandbox: &sandbox,
        api_key: "key-a".into(),
        token: issued["data"]["access_token"].as_str().unwrap().to_owned(),
    };
    let window = json!({ "start_time": "2026-11-01", "end_time": "2026-11-30" });
    a.ok("POST", list, Some(window.clone()));

    // Rate limit after the token (burst 2, frozen clock): the token request took one, one
    // call passes, then calls and token requests alike are too frequent.
    slow.ok("POST", list, Some(window.clone()));
    assert_eq!(
        slow.fails("POST", list, Some(window.clone()), 1009),
        "Operation too frequent, please try again later"
    );
    assert_eq!(token("key-slow", "GET")["code"], 1009);
    // ... but a missing token comes first.
    assert_eq!(
        send(
            &sandbox,
            "POST",
            list,
            &[("Api-Key", "key-slow"), ("Timestamp", &now_ms())],
            Some("{}")
        )
        .1["code"],
        1006
    );

    // Then the route, the mode, PCI, an outage, the body.
    a.fails("POST", "/open-api/v1/card/teleport", Some(json!({})), 1004);
    let msg = a.fails("GET", list, None, 1004);
    assert!(msg.contains("method"), "{msg}");
    a.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(json!({})),
        1012,
    );
    let credit = Ks::login(&sandbox, "key-credit");
    credit.fails(
        "POST",
        "/open-api/v1/card/support/bins",
        Some(json!({})),
        1012,
    );
    let nopci = Ks::login(&sandbox, "key-nopci");
    nopci.fails("GET", "/open-api/v1/card/KC-none/private/info", None, 1013);
    a.fails("GET", "/open-api/v1/card/KC-none/private/info", None, 4001);
    a.fails("POST", "/open-api/v1/card/list", Some(json!({})), 1001);
    let (_, not_json) = send(
        &sandbox,
        "POST",
        list,
        &[
            ("Api-Key", "key-a"),
            ("Timestamp", &now_ms()),
            ("Access-Token", &a.token),
        ],
        Some("{"),
    );
    assert_eq!(not_json["code"], 1004);
    let msg = a.fails(
        "POST",
        list,
        Some(json!({ "start_time": "2026-11-01", "end_time": "2026-11-30", "size": 101 })),
        1004,
    );
    assert_eq!(msg, "Invalid request parameter: size must be 1 to 100");

    // Language picks the message language.
    let (_, chinese) = send(
        &sandbox,
        "POST",
        list,
        &[
            ("Api-Key", "key-a"),
            ("Timestamp", &now_ms()),
            ("Language", "zh_CN"),
        ],
        Some("{}"),
    );
    assert_eq!(
        chinese,
        json!({ "code": 1006, "msg": "Access-Token不能为空" })
    );

    // Tokens end with their lifetime on the merchant's sandbox clock.
    advance(&sandbox, "a", "2h");
    a.fails("POST", list, Some(window), 1007);
}

fn decrypt(secret: &str, text: &str) -> Vec<u8> {
    let bytes = BASE64.decode(text).unwrap();
    ecb::Decryptor::<aes::Aes256>::new_from_slice(secret.as_bytes())
        .unwrap()
        .decrypt_padded_vec::<Pkcs7>(&bytes)
        .unwrap()
}

fn encrypt(secret: &str, text: &str) -> String {
    BASE64.encode(
        ecb::Encryptor::<aes::Aes256>::new_from_slice(secret.as_bytes())
            .unwrap()
            .encrypt_padded_vec::<Pkcs7>(text.as_bytes()),
    )
}

/// Checks a callback's V1 signature with this test's own HMAC: TreeMap of appId, timestamp
/// and the data's non-null fields, strings as they are, others as JSON.
fn assert_signed(callback: &Received) {
    assert_eq!(callback.headers["sign-version"], "V1");
    assert_eq!(callback.headers["timezone"], "UTC+8");
    let timestamp = &callback.headers["timestamp"];
    let mut fields: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    fields.insert("appId".into(), KEY.into());
    fields.insert("timestamp".into(), timestamp.clone());
    for (k, v) in callback.body["data"].as_object().unwrap() {
        match v {
            Value::Null => {}
            Value::String(s) => {
                fields.insert(k.clone(), s.clone());
            }
            // fastjson's toJSONString leaves null members out.
            other => {
                fields.insert(k.clone(), without_nulls(other).to_string());
            }
        }
    }
    let message: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(message.join("&").as_bytes());
    assert_eq!(
        callback.headers["signature"],
        hex::encode(mac.finalize().into_bytes()),
        "{:?}",
        callback.body
    );
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The next `n` callbacks, each checked for its signature, by action.
fn callbacks(receiver: &Receiver, n: usize) -> HashMap<String, Vec<Value>> {
    let mut by_action: HashMap<String, Vec<Value>> = HashMap::new();
    for _ in 0..n {
        let callback = receiver.next_request();
        assert_signed(&callback);
        assert!(
            callback.body["id"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
        let action = callback.body["action"].as_str().unwrap().to_owned();
        by_action
            .entry(action)
            .or_default()
            .push(callback.body["data"].clone());
    }
    by_action
}

fn with_callbacks(url: &str, profile: &str) -> String {
    FROZEN_DEFAULT
        .replace(
            "name: frozen\n",
            &format!("name: frozen\nkeysecure: {profile}\n"),
        )
        .replace(
            "api_secret: DemoKeySecureApiSecret0123456789",
            &format!("api_secret: DemoKeySecureApiSecret0123456789\n        callback_url: {url}"),
        )
}

fn simulate(sandbox: &Sandbox, body: Value) -> Value {
    let (status, reply) = admin_send(sandbox, "POST", "/simulate/transaction", &body.to_string());
    assert_eq!(status, 200, "{reply}");
    reply["transaction"].clone()
}

#[test]
fn the_authorization_mode_journey_with_signed_callbacks() {
    // The merchant approves 1.00 and 2.00, refuses 3.00 and is too slow for 4.00.
    let receiver = Receiver::deciding(|request| {
        let amount = request.body["data"]["amount"].to_string();
        match (request.body["action"].as_str(), amount.as_str()) {
            (Some("Auth"), "3.0") => Answer::Reply(200, r#"{"code":1,"message":"no"}"#),
            (Some("Auth"), "4.0") => Answer::Hold,
            _ => Answer::Reply(200, r#"{"code":0,"message":""}"#),
        }
    });
    let sandbox = sandbox(&with_callbacks(
        &receiver.url,
        "{ auth: { timeout: 300ms, fallback: decline } }",
    ));
    let ks = Ks::login(&sandbox, KEY);
    let initial = conserved(&state(&sandbox, "demo"), "USD");

    // Cardholder: applied (idempotent by unique number), reviewed in 30 s.
    let apply = json!({ "cardholder_unique_no": "U-1", "sumsub_share_token": "_act-sbx-jwt-eyJhbGciOiJub25lIn0.e30" });
    let holder = ks.ok("POST", "/open-api/v1/cardholder/apply", Some(apply.clone()));
    let holder_no = holder["cardholder_no"].as_str().unwrap().to_owned();
    assert_eq!(
        ks.ok("POST", "/open-api/v1/cardholder/apply", Some(apply)),
        holder
    );
    let window = json!({ "start_time": "2026-11-21", "end_time": "2026-11-21", "cardholder_unique_no": "U-1" });
    let listed = ks.ok("POST", "/open-api/v1/cardholder/list", Some(window.clone()));
    assert_eq!(listed["list"][0]["status"], "Pending");
    assert_eq!(listed["total"], 1);
    let card_apply = json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder_no, "card_type": "Virtual", "card_unique_no": "CARD-V1" });
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card_apply.clone()),
        2003,
    );
    advance(&sandbox, "demo", "30s");
    let listed = ks.ok("POST", "/open-api/v1/cardholder/list", Some(window));
    assert_eq!(
        (
            listed["list"][0]["status"].clone(),
            listed["list"][0]["fail_reason"].clone()
        ),
        (json!("Success"), Value::Null)
    );

    // BINs (seed 001's shape).
    let bins = ks.ok(
        "POST",
        "/open-api/v1/card/support/bins",
        Some(json!({ "card_bin_no": "", "page": 0, "size": 10 })),
    );
    assert_eq!(bins["list"].as_array().unwrap().len(), 2);
    assert_eq!(
        bins["list"][0],
        json!({ "card_bin_no": "BIN202405210001", "card_bin": "49387520", "organization": "Visa", "support_physical": true,
                "support_virtual": true, "currencies": ["USD"],
                "balance_limit": { "limit_balance": "100000.00", "limit_week_balance": "50000.00", "limit_atm_day_balance": "2000.00", "limit_atm_month_balance": "10000.00" } })
    );

    // Cards: one virtual, one physical; produced in 10 s.
    let virtual_card = ks.ok("POST", "/open-api/v1/card/apply", Some(card_apply));
    assert_eq!(virtual_card["card_unique_no"], "CARD-V1");
    let virtual_no = virtual_card["card_no"].as_str().unwrap().to_owned();
    let address = json!({ "first_name": "Wei", "last_name": "Zhang", "phone_code": "86", "phone": "13800138000", "postal_code": "100010",
                          "country": "CN", "state": "Beijing", "city": "Beijing", "address_line1": "1 East Chang'an Avenue", "address_line2": "" });
    let physical = ks.ok("POST", "/open-api/v1/card/apply", Some(json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder_no, "card_type": "Physical", "card_unique_no": "CARD-P1", "address_info": address })));
    let physical_no = physical["card_no"].as_str().unwrap().to_owned();
    let detail = ks.ok(
        "GET",
        &format!("/open-api/v1/card/{virtual_no}/detail"),
        None,
    );
    assert_eq!(detail["status"], "Pending");
    advance(&sandbox, "demo", "10s");
    let updates = callbacks(&receiver, 2)["Card_update"].clone();
    let produced: HashMap<String, String> = updates
        .iter()
        .map(|u| {
            (
                u["card_no"].as_str().unwrap().to_owned(),
                u["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(produced[&virtual_no], "Activated");
    assert_eq!(produced[&physical_no], "ToActivate");
    assert!(
        updates
            .iter()
            .all(|u| u["pre_status"] == "Pending" && u["time"].is_i64())
    );
    let detail = ks.ok(
        "GET",
        &format!("/open-api/v1/card/{virtual_no}/detail"),
        None,
    );
    assert_eq!(
        (
            detail["status"].clone(),
            detail["card_type"].clone(),
            detail["organization"].clone(),
            detail["fee_detail"].clone()
        ),
        (
            json!("Activated"),
            json!("Virtual"),
            json!("Visa"),
            Value::Null
        )
    );

    // Private info, decrypted here with the apiSecret.
    let sealed = ks.ok(
        "GET",
        &format!("/open-api/v1/card/{physical_no}/private/info"),
        None,
    );
    let private: Value =
        serde_json::from_slice(&decrypt(SECRET, sealed.as_str().unwrap())).unwrap();
    let world = state(&sandbox, "demo");
    let card_state = &world["cards"][&physical_no];
    assert_eq!(private["card_number"], card_state["pan"]);
    assert_eq!(private["cvv"], card_state["cvv"]);
    assert_eq!(private["expire_year"], "2029");
    assert_eq!(detail["card_last_no"].as_str().unwrap().len(), 4);

    // Activation: physical only, the right CVV, encrypted.
    let cvv = private["cvv"].as_str().unwrap();
    ks.fails(
        "POST",
        "/open-api/v1/card/active",
        Some(json!({ "card_no": virtual_no, "cvv": encrypt(SECRET, cvv) })),
        4007,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/active",
        Some(json!({ "card_no": physical_no, "cvv": encrypt(SECRET, "000") })),
        4008,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/active",
        Some(json!({ "card_no": physical_no, "cvv": "plain" })),
        4010,
    );
    assert_eq!(
        ks.ok(
            "POST",
            "/open-api/v1/card/active",
            Some(json!({ "card_no": physical_no, "cvv": encrypt(SECRET, cvv) }))
        ),
        json!({ "result": true })
    );
    let activated = callbacks(&receiver, 1)["Card_update"][0].clone();
    assert_eq!(
        (
            activated["pre_status"].clone(),
            activated["status"].clone(),
            activated["reason"].clone()
        ),
        (
            json!("ToActivate"),
            json!("Activated"),
            json!("card activated")
        )
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/active",
        Some(json!({ "card_no": physical_no, "cvv": encrypt(SECRET, cvv) })),
        4006,
    );

    // PIN, encrypted.
    ks.ok(
        "POST",
        "/open-api/v1/card/pin/set",
        Some(json!({ "card_no": physical_no, "pin": encrypt(SECRET, "123456") })),
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/pin/set",
        Some(json!({ "card_no": physical_no, "pin": encrypt(SECRET, "12a") })),
        4010,
    );
    assert_eq!(
        state(&sandbox, "demo")["cards"][&physical_no]["pin"],
        "123456"
    );

    // Purchases ask the merchant first; the merchant's account pays.
    let approved = simulate(
        &sandbox,
        json!({ "card": virtual_no, "kind": "authorization", "amount": "1.00", "merchant_name": "CAFE", "mcc": "5814" }),
    );
    assert_eq!(approved["status"], "pending");
    let first = callbacks(&receiver, 2);
    let auth = &first["Auth"][0];
    assert_eq!(
        (
            auth["consume_no"].clone(),
            auth["card_no"].clone(),
            auth["type"].clone(),
            auth["amount"].clone(),
            auth["status"].clone(),
            auth["merchant_info"]["merchant_name"].clone()
        ),
        (
            approved["id"].clone(),
            json!(virtual_no),
            json!("Consumption"),
            json!(1.0),
            json!("Pending"),
            json!("CAFE")
        )
    );
    assert_eq!(first["Consumption"][0]["status"], "Pending");
    let refused = simulate(
        &sandbox,
        json!({ "card": virtual_no, "kind": "authorization", "amount": "3.00" }),
    );
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["decline_reason"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{refused}"
    );
    let late = simulate(
        &sandbox,
        json!({ "card": virtual_no, "kind": "authorization", "amount": "4.00" }),
    );
    assert_eq!(late["status"], "failed");
    assert!(
        late["decline_reason"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{late}"
    );
    let _ = callbacks(&receiver, 4); // two Auth questions, two Consumption notices
    let info = ks.ok(
        "GET",
        &format!(
            "/open-api/v1/card/consume/{}/info",
            late["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(
        (
            info["status"].clone(),
            info["type"].clone(),
            info["amount"].clone()
        ),
        (json!("Fail"), json!("Consumption"), json!("4.00"))
    );
    let consumptions = ks.ok(
        "POST",
        "/open-api/v1/card/consume/list",
        Some(
            json!({ "card_no": virtual_no, "start_time": "2026-11-21", "end_time": "2026-11-21" }),
        ),
    );
    assert_eq!(consumptions["total"], 3);
    assert_eq!(
        state(&sandbox, "demo")["accounts"]["USD"]["amount"],
        "99999.00",
        "the held 1.00 left the account"
    );
    assert_eq!(conserved(&state(&sandbox, "demo"), "USD"), initial);

    // Freeze, unfreeze, delete (not with an authorization pending).
    let update = |card: &str, status: &str| json!({ "card_no": card, "status": status });
    ks.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Frozen")),
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Frozen")),
        4006,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "ToActivate")),
        1004,
    );
    ks.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Activated")),
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Delete")),
        4006,
    );
    simulate(
        &sandbox,
        json!({ "card": virtual_no, "kind": "clearing", "amount": "1.00", "authorization_id": approved["id"] }),
    );
    ks.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Delete")),
    );
    let last = callbacks(&receiver, 4);
    let statuses: Vec<&str> = last["Card_update"]
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 3);
    assert!(
        statuses.contains(&"Frozen") && statuses.contains(&"Delete"),
        "{statuses:?}"
    );
    assert_eq!(last["Consumption"][0]["status"], "Success");
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(update(&virtual_no, "Activated")),
        4006,
    );
    let world = state(&sandbox, "demo");
    assert_eq!(world["external"]["USD"]["amount"], "-1.00");
    assert_eq!(conserved(&world, "USD"), initial);

    // The cardholder's info lists both cards.
    let info = ks.ok(
        "GET",
        &format!("/open-api/v1/cardholder/{holder_no}/info"),
        None,
    );
    assert_eq!(info["card_list"].as_array().unwrap().len(), 2);
    assert_eq!(
        (info["status"].clone(), info["total_balance"].clone()),
        (json!("Success"), json!("0.00"))
    );
}

#[test]
fn the_credit_extension_journey_with_transfers() {
    let receiver = Receiver::start(vec![]);
    let yaml = with_callbacks(&receiver.url, "{}")
        .replace("api_secret: DemoKeySecureApiSecret0123456789\n", "api_secret: DemoKeySecureApiSecret0123456789\n        mode: CREDIT_EXTENSION\n")
        .replace("      - { currency: CNY, balance: \"500000.00\" }\n", "      - { currency: CNY, balance: \"500000.00\" }\n      - { currency: TUSDT, balance: \"1000.00\" }\n");
    let sandbox = sandbox(&yaml);
    let ks = Ks::login(&sandbox, KEY);
    let initial = conserved(&state(&sandbox, "demo"), "TUSDT");

    let packages = ks.ok("POST", "/open-api/v1/card/package/list", Some(json!({})));
    assert_eq!(packages["list"][0]["package_no"], "PKG202405210001");
    let holder_no = ks.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(
            json!({ "cardholder_unique_no": "U-C", "sumsub_share_token": "share-token-credit-1" }),
        ),
    )["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let transfer = |unique: &str, kind: &str, balance: &str| json!({ "cardholder_no": holder_no, "transfer_unique_no": unique, "type": kind, "balance": balance });
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-0", "In", "1.00")),
        2004,
    );
    advance(&sandbox, "demo", "30s");

    // Transfers in and out, idempotent by transfer_unique_no.
    let first = ks.ok(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-1", "In", "100.00")),
    );
    assert_eq!(
        (
            first["before_balance"].clone(),
            first["after_balance"].clone(),
            first["transfer_unique_no"].clone()
        ),
        (json!("0.00"), json!("100.00"), json!("T-1"))
    );
    assert_eq!(
        ks.ok(
            "POST",
            "/open-api/v1/account/transfer",
            Some(transfer("T-1", "In", "100.00"))
        ),
        first
    );
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-1", "In", "50.00")),
        3003,
    );
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-2", "In", "900.01")),
        3002,
    );
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-2", "Out", "100.01")),
        3002,
    );
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-2", "In", "1.001")),
        1004,
    );
    ks.fails(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-2", "Sideways", "1.00")),
        1004,
    );
    assert_eq!(
        ks.ok(
            "GET",
            &format!("/open-api/v1/account/{holder_no}/info"),
            None
        ),
        json!({ "cardholder_no": holder_no, "list": [{ "currency": "TUSDT", "balance": "100.00" }] })
    );

    // A card from the package spends from the cardholder's account.
    let apply = json!({ "package_no": "PKG202405210001", "cardholder_no": holder_no, "card_type": "Virtual", "card_unique_no": "CARD-C1" });
    let mut bin_only = apply.clone();
    bin_only.as_object_mut().unwrap().remove("package_no");
    bin_only["card_bin_no"] = json!("BIN202405210001");
    ks.fails("POST", "/open-api/v1/card/apply", Some(bin_only), 1004);
    let card_no = ks.ok("POST", "/open-api/v1/card/apply", Some(apply))["card_no"]
        .as_str()
        .unwrap()
        .to_owned();
    advance(&sandbox, "demo", "10s");
    let detail = ks.ok("GET", &format!("/open-api/v1/card/{card_no}/detail"), None);
    assert_eq!(
        (
            detail["package_name_en"].clone(),
            detail["fee_detail"]["open_cost"].clone()
        ),
        (json!("Global Virtual Card"), json!("5.00"))
    );
    let bought = simulate(
        &sandbox,
        json!({ "card": card_no, "kind": "clearing", "amount": "30.00", "merchant_name": "SHOP" }),
    );
    assert_eq!(bought["status"], "success");
    let declined = simulate(
        &sandbox,
        json!({ "card": card_no, "kind": "clearing", "amount": "70.01" }),
    );
    assert_eq!(declined["decline_reason"], "insufficient funds");
    let out = ks.ok(
        "POST",
        "/open-api/v1/account/transfer",
        Some(transfer("T-3", "Out", "20.00")),
    );
    assert_eq!(
        (out["before_balance"].clone(), out["after_balance"].clone()),
        (json!("70.00"), json!("50.00"))
    );
    let transfers = ks.ok("POST", "/open-api/v1/account/transfer/list", Some(json!({ "cardholder_no": holder_no, "start_time": "2026-11-21", "end_time": "2026-11-21 23:59:59" })));
    assert_eq!(transfers["total"], 2);
    assert_eq!(transfers["list"][1]["type"], "Out");
    let world = state(&sandbox, "demo");
    assert_eq!(world["accounts"]["TUSDT"]["amount"], "920.00");
    assert_eq!(world["external"]["TUSDT"]["amount"], "-30.00");
    assert_eq!(
        conserved(&world, "TUSDT"),
        initial,
        "no operation created or lost money"
    );
    // The card's callbacks: produced, then two consumptions.
    let mut actions: Vec<String> = (0..3)
        .map(|_| receiver.next()["action"].as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    assert_eq!(actions, ["Card_update", "Consumption", "Consumption"]);
}

#[test]
fn cardholder_and_card_codes_over_http() {
    let sandbox = sandbox(&FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: frozen\nkeysecure: { failing_cards: [\"FAIL-*\"], review_rules: [ { unique_no: \"BAD-*\", decision: fail, reason: \"document expired\", after: 1m } ] }\n",
    ));
    let ks = Ks::login(&sandbox, KEY);
    let apply = |unique: &str| json!({ "cardholder_unique_no": unique, "sumsub_share_token": "share-token-0001" });
    ks.fails(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(json!({ "cardholder_unique_no": "U-1", "sumsub_share_token": "bad token!" })),
        2007,
    );
    ks.fails(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(json!({ "sumsub_share_token": "share-token-0001" })),
        1004,
    );
    let good = ks.ok("POST", "/open-api/v1/cardholder/apply", Some(apply("U-1")))["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = ks.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(apply("BAD-1")),
    )["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    // Under review: no update; someone else's unique number: refused.
    ks.fails("POST", "/open-api/v1/cardholder/apply", Some(json!({ "cardholder_no": good, "cardholder_unique_no": "U-1", "sumsub_share_token": "share-token-0002" })), 2003);
    ks.fails("POST", "/open-api/v1/cardholder/apply", Some(json!({ "cardholder_no": good, "cardholder_unique_no": "BAD-1", "sumsub_share_token": "share-token-0002" })), 2002);
    ks.fails("POST", "/open-api/v1/cardholder/apply", Some(json!({ "cardholder_no": "CH-none", "cardholder_unique_no": "U-9", "sumsub_share_token": "share-token-0002" })), 2001);
    ks.fails("GET", "/open-api/v1/cardholder/CH-none/info", None, 2001);
    advance(&sandbox, "demo", "1m");
    let list = ks.ok("POST", "/open-api/v1/cardholder/list", Some(json!({ "cardholder_no": bad, "start_time": "2026-11-21 00:00:00", "end_time": "2026-11-21 08:00:00" })));
    assert_eq!(
        (
            list["list"][0]["status"].clone(),
            list["list"][0]["fail_reason"].clone()
        ),
        (json!("Fail"), json!("document expired"))
    );
    // Time windows: format, order, 90 days.
    for (start, end) in [
        ("2026/11/01", "2026-11-21"),
        ("2026-11-21", "2026-11-01"),
        ("2026-01-01", "2026-11-21"),
    ] {
        ks.fails(
            "POST",
            "/open-api/v1/cardholder/list",
            Some(json!({ "start_time": start, "end_time": end })),
            2008,
        );
    }
    ks.fails(
        "POST",
        "/open-api/v1/cardholder/list",
        Some(json!({ "end_time": "2026-11-21" })),
        1004,
    );
    // A rejected cardholder may apply again with a new token, and gets no card meanwhile.
    let card = |holder: &str, bin: &str, kind: &str, unique: &str| json!({ "card_bin_no": bin, "cardholder_no": holder, "card_type": kind, "card_unique_no": unique });
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&bad, "BIN202405210001", "Virtual", "K-1")),
        2004,
    );
    ks.ok("POST", "/open-api/v1/cardholder/apply", Some(json!({ "cardholder_no": bad, "cardholder_unique_no": "BAD-1", "sumsub_share_token": "share-token-0003" })));

    // Card apply rules (seed 004).
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(json!({ "cardholder_no": good, "card_type": "Virtual", "card_unique_no": "K-1" })),
        1004,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&good, "BIN-none", "Virtual", "K-1")),
        4003,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&good, "BIN202405210001", "Plastic", "K-1")),
        1004,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&good, "BIN202405210001", "Virtual", &"K".repeat(65))),
        1004,
    );
    let msg = ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&good, "BIN202405210001", "Physical", "K-1")),
        1004,
    );
    assert!(msg.contains("address_info"), "{msg}");
    let with_address = |address: Value| {
        let mut body = card(&good, "BIN202405210001", "Physical", "K-2");
        body["address_info"] = address;
        body
    };
    let full = json!({ "first_name": "Wei", "last_name": "Zhang", "phone_code": "86", "phone": "13800138000", "postal_code": "100010",
                       "country": "CN", "state": "Beijing", "city": "Beijing", "address_line1": "1 Chang'an Avenue" });
    for (field, value, needle) in [
        (
            "phone_code",
            json!("+86"),
            "address_info.phone_code must be digits only",
        ),
        (
            "city",
            json!("北京"),
            "address_info.city must be written in English",
        ),
        ("country", json!("China"), "address_info.country must be"),
        (
            "first_name",
            Value::Null,
            "address_info.first_name is required",
        ),
    ] {
        let mut address = full.clone();
        address[field] = value;
        let msg = ks.fails(
            "POST",
            "/open-api/v1/card/apply",
            Some(with_address(address)),
            1004,
        );
        assert!(msg.contains(needle), "{msg}");
    }
    // Fields first, then the product: BIN 2 issues virtual cards only.
    let mut on_bin2 = with_address(full);
    on_bin2["card_bin_no"] = json!("BIN202405210002");
    ks.fails("POST", "/open-api/v1/card/apply", Some(on_bin2), 4005);
    // A virtual card's address, when given, needs the address fields but not the names.
    let mut virtual_card = card(&good, "BIN202405210001", "Virtual", "K-3");
    virtual_card["address_info"] =
        json!({ "postal_code": "100010", "country": "CN", "state": "Beijing", "city": "Beijing" });
    let msg = ks.fails(
        "POST",
        "/open-api/v1/card/apply",
        Some(virtual_card.clone()),
        1004,
    );
    assert!(msg.contains("address_info.address_line1"), "{msg}");
    virtual_card["address_info"]["address_line1"] = json!("1 Chang'an Avenue");
    let card_no = ks.ok(
        "POST",
        "/open-api/v1/card/apply",
        Some(virtual_card.clone()),
    )["card_no"]
        .as_str()
        .unwrap()
        .to_owned();
    ks.fails("POST", "/open-api/v1/card/apply", Some(virtual_card), 4002);
    // Not produced yet: no private info, no status change.
    ks.fails(
        "GET",
        &format!("/open-api/v1/card/{card_no}/private/info"),
        None,
        4006,
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(json!({ "card_no": card_no, "status": "Frozen" })),
        4006,
    );
    ks.fails("GET", "/open-api/v1/card/KC-none/detail", None, 4001);
    ks.fails("GET", "/open-api/v1/card/consume/TXN-none/info", None, 4009);
    let cards = ks.ok(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "cardholder_no": good, "status": "Pending" })),
    );
    assert_eq!(cards["total"], 1);
    ks.fails(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "status": "Lost" })),
        1004,
    );
    // A production the scenario makes fail.
    let failed = ks.ok(
        "POST",
        "/open-api/v1/card/apply",
        Some(card(&good, "BIN202405210001", "Virtual", "FAIL-1")),
    )["card_no"]
        .as_str()
        .unwrap()
        .to_owned();
    advance(&sandbox, "demo", "10s");
    assert_eq!(
        ks.ok("GET", &format!("/open-api/v1/card/{failed}/detail"), None)["status"],
        "Fail"
    );
    ks.fails(
        "POST",
        "/open-api/v1/card/status/update",
        Some(json!({ "card_no": failed, "status": "Delete" })),
        4006,
    );
}

#[test]
fn a_credit_merchant_asks_for_unknown_packages_and_timezones_shift_days() {
    let yaml = FROZEN_DEFAULT.replace(
        "api_secret: DemoKeySecureApiSecret0123456789",
        "api_secret: DemoKeySecureApiSecret0123456789\n        mode: CREDIT_EXTENSION",
    );
    let sandbox = sandbox(&yaml);
    let ks = Ks::login(&sandbox, KEY);
    let holder = ks.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(json!({ "cardholder_unique_no": "U-T", "sumsub_share_token": "share-token-tz01" })),
    )["cardholder_no"]
        .clone();
    advance(&sandbox, "demo", "30s");
    ks.fails("POST", "/open-api/v1/card/apply", Some(json!({ "package_no": "PKG-none", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": "K-1" })), 4004);
    // Created at 00:00 UTC = 08:00 in UTC+8 (the default): on 2026-11-21 there, but on
    // 2026-11-20 in UTC-5.
    let list = |timezone: &str| {
        let (_, answer) = send(
            &sandbox,
            "POST",
            "/open-api/v1/cardholder/list",
            &[("Api-Key", KEY), ("Timestamp", &now_ms()), ("Access-Token", &ks.token), ("Timezone", timezone)],
            Some(&json!({ "cardholder_unique_no": "U-T", "start_time": "2026-11-21", "end_time": "2026-11-21" }).to_string()),
        );
        answer
    };
    assert_eq!(list("UTC+8")["data"]["total"], 1);
    assert_eq!(list("UTC-5")["data"]["total"], 0);
    assert_eq!(list("Mars")["code"], 1004);
}

/// A callback endpoint that approves every Auth and keeps every request body.
fn recording_receiver() -> (Receiver, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let receiver = Receiver::deciding(move |r| {
        log.lock().unwrap().push(r.body.clone());
        Answer::Reply(200, r#"{"code":0,"message":""}"#)
    });
    (receiver, seen)
}

fn auth_questions(seen: &std::sync::Mutex<Vec<Value>>) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|b| b["action"] == "Auth")
        .cloned()
        .collect()
}

/// An approved cardholder with an active virtual card (authorization mode).
/// A cardholder of the demo merchant whose review has passed.
fn passed_holder(sandbox: &Sandbox, ks: &Ks<'_>, unique: &str) -> String {
    let holder = ks.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(json!({ "cardholder_unique_no": unique, "sumsub_share_token": "share-token-review" })),
    )["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    advance(sandbox, "demo", "30s");
    holder
}

fn active_virtual_card(sandbox: &Sandbox, ks: &Ks<'_>, unique: &str) -> String {
    let holder = passed_holder(sandbox, ks, unique);
    let card = ks.ok(
        "POST",
        "/open-api/v1/card/apply",
        Some(json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": format!("{unique}-card") })),
    )["card_no"]
        .as_str()
        .unwrap()
        .to_owned();
    advance(sandbox, "demo", "10s");
    card
}

#[test]
fn only_purchases_the_issuer_accepts_are_put_to_the_merchant() {
    let (receiver, seen) = recording_receiver();
    let yaml = with_callbacks(&receiver.url, "{ auth: { timeout: 500ms } }");
    let (a, b) = (sandbox(&yaml), sandbox(&yaml));
    let (ks_a, ks_b) = (Ks::login(&a, KEY), Ks::login(&b, KEY));
    let (card_a, card_b) = (
        active_virtual_card(&a, &ks_a, "U-R"),
        active_virtual_card(&b, &ks_b, "U-R"),
    );
    // Refused outright: no question, no id drawn.
    let (status, reply) = admin_send(
        &a,
        "POST",
        "/simulate/transaction",
        &json!({ "card": card_a, "kind": "authorization", "amount": "0.00" }).to_string(),
    );
    assert_eq!(status, 400, "{reply}");
    let buy = |s: &Sandbox, card: &str| {
        simulate(
            s,
            json!({ "card": card, "kind": "authorization", "amount": "1.00" }),
        )["id"]
            .clone()
    };
    assert_eq!(
        buy(&a, &card_a),
        buy(&b, &card_b),
        "a refused posting shifted later ids"
    );
    eventually(|| auth_questions(&seen).len() == 2);
    // Declined by the issuer (a frozen card): no question, the real reason.
    ks_a.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(json!({ "card_no": card_a, "status": "Frozen" })),
    );
    let frozen = simulate(
        &a,
        json!({ "card": card_a, "kind": "authorization", "amount": "1.00" }),
    );
    assert_eq!(
        (frozen["status"].clone(), frozen["decline_reason"].clone()),
        (json!("failed"), json!("card frozen"))
    );
    // Over the merchant's account: no question either.
    ks_a.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(json!({ "card_no": card_a, "status": "Activated" })),
    );
    let too_much = simulate(
        &a,
        json!({ "card": card_a, "kind": "authorization", "amount": "100000.00" }),
    );
    assert_eq!(too_much["decline_reason"], "insufficient funds");
    // Four Consumption notices: the approved 1.00 in each sandbox and the two declines.
    eventually(|| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|b| b["action"] == "Consumption")
            .count()
            == 4
    });
    assert_eq!(
        auth_questions(&seen).len(),
        2,
        "{:?}",
        auth_questions(&seen)
    );
}

#[test]
fn scenario_keysecure_cards_spend_where_the_mode_says() {
    let (receiver, seen) = recording_receiver();
    let yaml = with_callbacks(&receiver.url, "{ auth: { timeout: 500ms } }").replace(
        "      - { id: card-alice-chase, cardholder: ch-alice-smith, pan: \"4147201234567899\", currency: USD, balance: \"250.00\" }\n",
        "      - { id: card-alice-chase, cardholder: ch-alice-smith, pan: \"4147201234567899\", currency: USD, issuer: keysecure }\n",
    );
    let sandbox = sandbox(&yaml);
    let ks = Ks::login(&sandbox, KEY);
    assert_eq!(
        ks.ok(
            "POST",
            "/open-api/v1/card/list",
            Some(json!({ "card_no": "card-alice-chase" }))
        )["total"],
        1
    );
    let tx = simulate(
        &sandbox,
        json!({ "card": "card-alice-chase", "kind": "authorization", "amount": "1.00" }),
    );
    assert_eq!(tx["status"], "pending");
    eventually(|| auth_questions(&seen).len() == 1);
    let world = state(&sandbox, "demo");
    assert_eq!(
        world["cards"]["card-alice-chase"]["funding"],
        "merchant_account"
    );
    assert_eq!(world["accounts"]["USD"]["amount"], "99999.00");
    // A balance on such a card is refused, with its place.
    let with_balance = FROZEN_DEFAULT.replace(
        "pan: \"4147201234567899\", currency: USD, balance: \"250.00\" }",
        "pan: \"4147201234567899\", currency: USD, balance: \"250.00\", issuer: keysecure }",
    );
    let error = Sandbox::builder()
        .scenario_yaml(with_balance)
        .start()
        .unwrap_err()
        .to_string();
    assert!(error.contains("holds no money of its own"), "{error}");
    // Callback URLs are absolute http:// or https:// URLs.
    Sandbox::builder()
        .scenario_yaml(with_callbacks("https://127.0.0.1:9/hooks", "{}"))
        .start()
        .expect("https callbacks are allowed");
    let error = Sandbox::builder()
        .scenario_yaml(with_callbacks("ftp://127.0.0.1:9/hooks", "{}"))
        .start()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("callback_url must be an absolute http:// or https:// URL"),
        "{error}"
    );
}

#[test]
fn tokens_keep_their_remaining_life_across_a_reset() {
    let sandbox = sandbox(GATE);
    let window = json!({ "start_time": "2026-11-01", "end_time": "2026-11-30" });
    let early = Ks::login(&sandbox, "key-a");
    advance(&sandbox, "a", "90m");
    let late = Ks::login(&sandbox, "key-a");
    advance(&sandbox, "a", "31m");
    early.fails(
        "POST",
        "/open-api/v1/cardholder/list",
        Some(window.clone()),
        1007,
    );
    late.ok("POST", "/open-api/v1/cardholder/list", Some(window.clone()));
    // The reset winds the clock back 2 h 1 m: the expired token stays expired, the other keeps
    // its 89 minutes.
    assert_eq!(admin_send(&sandbox, "POST", "/reset", "").0, 200);
    early.fails(
        "POST",
        "/open-api/v1/cardholder/list",
        Some(window.clone()),
        1007,
    );
    late.ok("POST", "/open-api/v1/cardholder/list", Some(window.clone()));
    advance(&sandbox, "a", "89m");
    late.fails("POST", "/open-api/v1/cardholder/list", Some(window), 1007);
}

#[test]
fn mode_and_pci_come_before_the_request_and_an_outage_after_it() {
    let sandbox = sandbox(GATE);
    let (credit, nopci, a) = (
        Ks::login(&sandbox, "key-credit"),
        Ks::login(&sandbox, "key-nopci"),
        Ks::login(&sandbox, "key-a"),
    );
    let with = |ks: &Ks<'_>, method: &str, path: &str, timezone: &str, body: Option<&str>| {
        send(
            &sandbox,
            method,
            path,
            &[
                ("Api-Key", &ks.api_key),
                ("Timestamp", &now_ms()),
                ("Access-Token", &ks.token),
                ("Timezone", timezone),
            ],
            body,
        )
        .1["code"]
            .clone()
    };
    assert_eq!(
        with(
            &credit,
            "POST",
            "/open-api/v1/card/support/bins",
            "Mars",
            Some("{")
        ),
        1012
    );
    assert_eq!(
        with(
            &credit,
            "GET",
            "/open-api/v1/card/support/bins",
            "UTC+8",
            None
        ),
        1012
    );
    assert_eq!(
        with(
            &nopci,
            "GET",
            "/open-api/v1/card/KC1/private/info",
            "Mars",
            None
        ),
        1013
    );
    assert_eq!(
        with(&a, "POST", "/open-api/v1/card/list", "UTC+8", Some("{")),
        1004
    );
    assert_eq!(
        with(&a, "POST", "/open-api/v1/card/list", "Mars", Some("{}")),
        1004
    );
    assert_eq!(
        with(&a, "POST", "/open-api/v1/card/list", "UTC+8", Some("{}")),
        1001
    );
}

#[test]
fn a_settled_purchase_is_one_consumption_and_lost_cards_read_as_frozen() {
    let (receiver, seen) = recording_receiver();
    let sandbox = sandbox(&with_callbacks(
        &receiver.url,
        "{ auth: { timeout: 500ms } }",
    ));
    let ks = Ks::login(&sandbox, KEY);
    let card = active_virtual_card(&sandbox, &ks, "U-CL");
    let auth = simulate(
        &sandbox,
        json!({ "card": card, "kind": "authorization", "amount": "10.00", "merchant_name": "SHOP" }),
    );
    simulate(
        &sandbox,
        json!({ "card": card, "kind": "clearing", "amount": "9.50", "authorization_id": auth["id"] }),
    );
    let list = ks.ok(
        "POST",
        "/open-api/v1/card/consume/list",
        Some(json!({ "card_no": card, "start_time": "2026-11-21", "end_time": "2026-11-21" })),
    );
    assert_eq!(list["total"], 1, "{list}");
    let item = &list["list"][0];
    assert_eq!(
        (
            item["consume_no"].clone(),
            item["status"].clone(),
            item["amount"].clone(),
            item["merchant_info"].clone()
        ),
        (
            auth["id"].clone(),
            json!("Success"),
            json!("9.50"),
            json!({ "merchant_name": "SHOP" })
        )
    );
    // The settlement's notice is the same consumption, settled.
    eventually(|| {
        seen.lock()
            .unwrap()
            .iter()
            .any(|b| b["action"] == "Consumption" && b["data"]["status"] == "Success")
    });
    // Lost reads Frozen: reactivated like one, and no Card_update between the two.
    for status in ["lost", "frozen"] {
        let body = json!({ "card": card, "status": status });
        assert_eq!(
            admin_send(&sandbox, "POST", "/simulate/card-status", &body.to_string()).0,
            200
        );
    }
    assert_eq!(
        ks.ok("GET", &format!("/open-api/v1/card/{card}/detail"), None)["status"],
        "Frozen"
    );
    ks.ok(
        "POST",
        "/open-api/v1/card/status/update",
        Some(json!({ "card_no": card, "status": "Activated" })),
    );
    eventually(|| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|b| b["action"] == "Card_update")
            .count()
            >= 3
    });
    let updates: Vec<(Value, Value)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["action"] == "Card_update")
        .map(|b| (b["data"]["pre_status"].clone(), b["data"]["status"].clone()))
        .collect();
    assert!(updates.iter().all(|(from, to)| from != to), "{updates:?}");
    // Exactly 90 days is a window.
    ks.ok(
        "POST",
        "/open-api/v1/cardholder/list",
        Some(json!({ "start_time": "2026-08-23", "end_time": "2026-11-21" })),
    );
    ks.fails(
        "POST",
        "/open-api/v1/cardholder/list",
        Some(json!({ "start_time": "2026-08-22", "end_time": "2026-11-21" })),
        2008,
    );
}

#[test]
fn a_body_is_a_json_object_or_blank() {
    let sandbox = sandbox(&FROZEN_DEFAULT);
    let ks = Ks::login(&sandbox, KEY);
    let list = |body: &str| {
        let headers = [
            ("Api-Key", KEY),
            ("Timestamp", &now_ms()),
            ("Access-Token", &ks.token),
        ];
        let (status, answer) = send(
            &sandbox,
            "POST",
            "/open-api/v1/card/list",
            &headers,
            Some(body),
        );
        assert_eq!(status, 200, "{answer}");
        answer
    };
    let cut_short = list(r#"{"page":"#);
    assert_eq!(cut_short["code"], 1004, "{cut_short}");
    assert!(
        cut_short["msg"]
            .as_str()
            .unwrap()
            .starts_with("Invalid request parameter: body is not JSON (EOF while parsing"),
        "{cut_short}"
    );
    let array = list("[1]");
    assert_eq!(
        (array["code"].clone(), array["msg"].clone()),
        (
            json!(1004),
            json!("Invalid request parameter: body must be a JSON object")
        )
    );
    let null = list("null");
    assert_eq!(null["msg"], array["msg"]);
    // A blank body asks for the defaults; an object is read as sent.
    assert_eq!(list(" \n")["data"]["size"], 10);
    assert_eq!(list(r#"{"page":0,"size":3}"#)["data"]["size"], 3);
}

#[test]
fn cards_are_found_by_index_among_a_hundred_thousand() {
    use issuer_sandbox::world::{Card, Currency};
    let sandbox = sandbox(&FROZEN_DEFAULT);
    let ks = Ks::login(&sandbox, KEY);
    let first = active_virtual_card(&sandbox, &ks, "U-BULK");
    let holder = ks.ok("GET", &format!("/open-api/v1/card/{first}/detail"), None)["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    // 100,000 more of the merchant's cards, made straight in its world a second later.
    const BULK: usize = 100_000;
    advance(&sandbox, "demo", "1s");
    sandbox
        .with_world("demo", |world| {
            let usd = Currency::new("USD").unwrap();
            let now = world.now();
            for n in 0..BULK {
                let pan = world.unused_pan("49387520", 16).unwrap();
                let card = Card {
                    merchant_ref: Some(format!("BULK-{n:06}")),
                    cardholder_id: Some(holder.clone()),
                    ..Card::ordered(
                        format!("KCB{n:06}"),
                        "keysecure",
                        pan,
                        "123".into(),
                        usd.clone(),
                        now,
                    )
                };
                world.insert_card(card).unwrap();
            }
        })
        .unwrap();
    // A duplicate reference deep in the set is found (and refused) without a scan.
    let apply = json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": "BULK-099999" });
    ks.fails("POST", "/open-api/v1/card/apply", Some(apply), 4002);
    // The last page of the whole list, oldest first: the first card, then the bulk by number.
    let total = BULK + 1;
    let last_page = (total - 1) / 10;
    let page = ks.ok(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "page": last_page, "size": 10 })),
    );
    assert_eq!(page["total"], total);
    let numbers: Vec<&str> = page["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["card_no"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (BULK - (total % 10)..BULK)
        .map(|n| format!("KCB{n:06}"))
        .collect();
    assert_eq!(numbers, expected);
    let page = ks.ok(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "page": 0, "size": 2 })),
    );
    assert_eq!(page["list"][0]["card_no"], first.as_str());
    assert_eq!(page["list"][1]["card_no"], "KCB000000");
    // Narrowed by reference and by holder, through their indexes.
    let one = ks.ok(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "card_unique_no": "BULK-050000", "page": 0, "size": 10 })),
    );
    assert_eq!(
        (one["total"].clone(), one["list"][0]["card_no"].clone()),
        (json!(1), json!("KCB050000"))
    );
    let mine = ks.ok(
        "POST",
        "/open-api/v1/card/list",
        Some(json!({ "cardholder_no": holder, "status": "Activated", "page": 0, "size": 1 })),
    );
    assert_eq!(
        (mine["total"].clone(), mine["list"][0]["card_no"].clone()),
        (json!(1), json!(first))
    );
}

/// Each strict rule of the KeySecure page, broken once; `true` where the sandbox accepted it.
/// A refusal is 1004 naming the field and leaves the card number free for a lawful retry.
fn broken_rules_accepted(sandbox: &Sandbox) -> [bool; 4] {
    let ks = Ks::login(sandbox, KEY);
    let holder = passed_holder(sandbox, &ks, "STRICT-1");
    let apply = |unique: &str, extra: Value| {
        let mut body = json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": unique });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let address = |postal_code: &str, state: &str| {
        json!({ "address_info": { "postal_code": postal_code, "country": "US", "state": state,
                                  "city": "Cupertino", "address_line1": "1 Infinite Loop" } })
    };
    let outcome = |answer: &Value, field: &str, unique: Option<&str>| -> bool {
        if answer["code"] == 0 {
            return true;
        }
        assert_eq!(answer["code"], 1004, "{answer}");
        let msg = answer["msg"].as_str().unwrap();
        assert!(msg.contains(field), "{field}: {msg}");
        if let Some(unique) = unique {
            ks.ok(
                "POST",
                "/open-api/v1/card/apply",
                Some(apply(unique, address("95014", "CA"))),
            );
        }
        false
    };
    // Content-Type: another media type (a JSON body all the same).
    let (status, answer) = status_json(
        client()
            .post(format!("{}/open-api/v1/card/list", sandbox.url()))
            .header("Api-Key", KEY)
            .header("Timestamp", now_ms())
            .header("Access-Token", &ks.token)
            .header("Content-Type", "text/plain")
            .body(json!({ "page": 0, "size": 10 }).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let content_type = outcome(
        &answer,
        "Content-Type must be application/json, not `text/plain`",
        None,
    );
    if !content_type {
        // The wire answer is KeySecure's; the journal names the rule and how to relax it.
        assert_eq!(
            last_note(sandbox, "keysecure"),
            "refused by keysecure's strict rule `content_type`; `relax: [content_type]` or `strictness: lenient` in the merchant's keysecure credentials accepts it"
        );
    }
    let both = ks.call(
        "POST",
        "/open-api/v1/card/apply",
        Some(apply(
            "STRICT-BOTH",
            json!({ "package_no": "PKG202405210001" }),
        )),
    );
    let both = outcome(
        &both,
        "package_no must not be given with card_bin_no",
        Some("STRICT-BOTH"),
    );
    let postal = ks.call(
        "POST",
        "/open-api/v1/card/apply",
        Some(apply("STRICT-ZIP", address("ABC!!", "CA"))),
    );
    let note = last_note(sandbox, "keysecure");
    let postal = outcome(
        &postal,
        "address_info.postal_code `ABC!!` is not a postal code of US (e.g. 95014)",
        Some("STRICT-ZIP"),
    );
    assert_eq!(postal, !note.contains("`postal_code_format`"), "{note}");
    let state = ks.call(
        "POST",
        "/open-api/v1/card/apply",
        Some(apply("STRICT-STATE", address("95014", "Cali"))),
    );
    let state = outcome(
        &state,
        "address_info.state `Cali` is not a state or province of US (e.g. CA, California",
        Some("STRICT-STATE"),
    );
    [content_type, both, postal, state]
}

#[test]
fn keysecure_holds_requests_to_the_documents_unless_a_rule_is_relaxed() {
    let section = |strictness: &str, merchant: &[&str]| {
        default_with_keysecure(merchant).replacen(
            "name: frozen\n",
            &format!("name: frozen\nkeysecure: {{ strictness: {strictness} }}\n"),
            1,
        )
    };
    for (label, scenario, accepted) in [
        ("strict by default", default_with_keysecure(&[]), [false; 4]),
        (
            "lenient merchant",
            default_with_keysecure(&["strictness: lenient"]),
            [true; 4],
        ),
        ("lenient section", section("lenient", &[]), [true; 4]),
        (
            "strict merchant, lenient section",
            section("lenient", &["strictness: strict"]),
            [false; 4],
        ),
        (
            "content type relaxed",
            default_with_keysecure(&["relax: [content_type]"]),
            [true, false, false, false],
        ),
        (
            "both products relaxed",
            default_with_keysecure(&["relax: [one_of_bin_or_package]"]),
            [false, true, false, false],
        ),
        (
            "postal codes relaxed",
            default_with_keysecure(&["relax: [postal_code_format, subdivision]"]),
            [false, false, true, true],
        ),
    ] {
        let sandbox = sandbox(&scenario);
        assert_eq!(broken_rules_accepted(&sandbox), accepted, "{label}");
    }
    // The token request is held to the same Content-Type; parameters may follow the type.
    let sandbox = sandbox(&default_with_keysecure(&[]));
    let token = |content_type: &str| {
        send(
            &sandbox,
            "GET",
            "/open-api/v1/merchant/token",
            &[
                ("Api-Key", KEY),
                ("Timestamp", &now_ms()),
                ("Content-Type", content_type),
            ],
            None,
        )
        .1
    };
    let refused = token("application/x-www-form-urlencoded");
    assert_eq!(refused["code"], 1004, "{refused}");
    assert!(
        refused["msg"].as_str().unwrap().contains("Content-Type"),
        "{refused}"
    );
    assert_eq!(token("application/json; charset=utf-8")["code"], 0);
    assert_eq!(token("Application/JSON")["code"], 0);
}

/// Seed 004: addresses "conform to the address format of the relevant country": each country's
/// own postal codes and states pass, another's do not; countries without postal codes (HK)
/// take any.
#[test]
fn card_addresses_follow_their_countrys_format() {
    let sandbox = sandbox(&default_with_keysecure(&[]));
    let ks = Ks::login(&sandbox, KEY);
    let holder = passed_holder(&sandbox, &ks, "ADDR-1");
    let apply = |n: usize, country: &str, postal_code: &str, state: &str| {
        ks.call(
            "POST",
            "/open-api/v1/card/apply",
            Some(json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Physical",
                         "card_unique_no": format!("ADDR-{n}"),
                         "address_info": { "first_name": "Ana", "last_name": "Lima", "phone_code": "1", "phone": "5550100",
                                           "postal_code": postal_code, "country": country, "state": state,
                                           "city": "Somewhere", "address_line1": "1 Main Street" } })),
        )
    };
    let lawful = [
        ("US", "22162-1010", "Virginia"),
        ("GB", "SW1A 1AA", "London"),
        ("CN", "100010", "Beijing"),
        ("BR", "01310-100", "Sao Paulo"),
        ("JP", "100-0001", "Tokyo"),
        ("DE", "10115", "Berlin"),
        ("CA", "K1A 0B1", "ON"),
        ("IN", "110001", "Delhi"),
        ("HK", "000000", "Kowloon"),
    ];
    for (n, (country, postal_code, state)) in lawful.into_iter().enumerate() {
        let answer = apply(n, country, postal_code, state);
        assert_eq!(answer["code"], 0, "{country}: {answer}");
    }
    let unlawful = [
        ("US", "SW1A 1AA", "CA", "address_info.postal_code"),
        ("GB", "95014", "London", "address_info.postal_code"),
        ("CN", "1000100", "Beijing", "address_info.postal_code"),
        ("BR", "01310", "SP", "address_info.postal_code"),
        ("CA", "K1A 0B1", "Texas", "address_info.state"),
        ("IN", "110001", "Bavaria", "address_info.state"),
    ];
    for (n, (country, postal_code, state, field)) in unlawful.into_iter().enumerate() {
        let answer = apply(100 + n, country, postal_code, state);
        assert_eq!(answer["code"], 1004, "{country}: {answer}");
        assert!(answer["msg"].as_str().unwrap().contains(field), "{answer}");
    }
}
