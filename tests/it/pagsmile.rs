//! Pagsmile Issuing over HTTP: the envelope against OpenSSL-made vectors, the gateway's errors,
//! cardholder audits, card orders (immediate and slow), limits, money and webhooks.

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::pagsmile::client::{Client, Opened};
use serde_json::{Value, json};

use crate::support::*;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/pagsmile");

/// The default scenario's Pagsmile card.
const CARD: &str = "CT202611210000000001";

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{VECTORS}/{name}")).unwrap()).unwrap()
}

/// POSTs `body` to `path` as JSON, with extra headers; returns the HTTP status and the answer.
fn post_raw(sandbox: &Sandbox, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}{path}", sandbox.url()))
        .header("content-type", "application/json; chartset=UTF-8")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    status_json(request.send().unwrap())
}

/// The frozen default scenario, with the demo app's webhooks going to `url` and `profile`
/// (YAML of a top-level `pagsmile:` section) over the built-in Pagsmile profile.
fn scenario(url: Option<&str>, profile: &str) -> String {
    let mut yaml = FROZEN_DEFAULT.replace(
        "name: frozen\n",
        &format!("name: frozen\npagsmile: {profile}\n"),
    );
    if let Some(url) = url {
        yaml = yaml.replace(
            "security_key: Pagsmile_sk_demo_0123456789abcdef\n",
            &format!(
                "security_key: Pagsmile_sk_demo_0123456789abcdef\n        webhook_url: {url}\n"
            ),
        );
    }
    yaml
}

/// A sandbox, a client and fresh request ids for one test.
struct Session {
    sandbox: Sandbox,
    client: Client,
    next: u64,
}

impl Session {
    fn new(yaml: &str) -> Session {
        Session {
            sandbox: sandbox(yaml),
            client: Client::demo(),
            next: 0,
        }
    }

    fn request_id(&mut self) -> String {
        self.next += 1;
        format!("REQ-{:06}", self.next)
    }

    /// Seals `biz`, POSTs it to `path` and opens the answer.
    fn call(&mut self, path: &str, biz: Value) -> (Value, Opened) {
        let request_id = self.request_id();
        let request = self.client.seal_request(&request_id, &biz).unwrap();
        let (status, response) = post_raw(&self.sandbox, path, &request.to_string(), &[]);
        assert_eq!(status, 200, "{response}");
        let opened = self.client.open_response(&response).unwrap();
        (response, opened)
    }

    /// A success; its decrypted data (null when there is none).
    fn ok(&mut self, path: &str, biz: Value) -> Value {
        let (response, opened) = self.call(path, biz);
        assert_eq!(
            (opened.code.as_str(), opened.msg.as_str()),
            ("10000", "Success"),
            "{response}"
        );
        opened.data.unwrap_or(Value::Null)
    }

    /// A failure with `code` and `sub_code`, in clear; returns its sub_msg.
    fn fails(&mut self, path: &str, biz: Value, code: &str, sub_code: &str) -> String {
        let (response, opened) = self.call(path, biz);
        assert_failure(&response, code, sub_code);
        opened.sub_msg.unwrap()
    }

    fn advance(&self, by: &str) {
        let (status, body) = admin_send(
            &self.sandbox,
            "POST",
            "/clock/advance",
            &json!({ "by": by }).to_string(),
        );
        assert_eq!(status, 200, "{body}");
    }

    fn state(&self) -> Value {
        state(&self.sandbox, "demo")
    }

    /// A card transaction from the issuer's side; returns it.
    fn spend(&self, card_id: &str, kind: &str, amount: &str, authorization: Option<&str>) -> Value {
        let mut body = json!({ "card": card_id, "kind": kind, "amount": amount, "merchant_name": "SHOP", "mcc": "5812" });
        if let Some(id) = authorization {
            body["authorization_id"] = json!(id);
        }
        let (status, reply) = admin_send(
            &self.sandbox,
            "POST",
            "/simulate/transaction",
            &body.to_string(),
        );
        assert_eq!(status, 200, "{reply}");
        reply["transaction"].clone()
    }

    /// Money in USD cents, net of what left through purchases: must never move.
    fn usd(&self) -> i64 {
        conserved(&self.state(), "USD")
    }
}

/// The next `N` webhooks, which the sandbox may send in any order, by notify_type (1 apply
/// result, 2 card status, 3 holder audit, 4 transaction).
fn hooks<const N: usize>(receiver: &Receiver) -> [Value; N] {
    let mut received: [Value; N] = std::array::from_fn(|_| receiver.next());
    received.sort_by_key(|hook| hook["notify_type"].as_i64());
    received
}

/// A clear failure: exactly `code`, `msg`, `sub_code` and `sub_msg`, nothing sealed.
fn assert_failure(response: &Value, code: &str, sub_code: &str) {
    assert_eq!(response["code"], code, "{response}");
    assert_eq!(response["sub_code"], sub_code, "{response}");
    assert!(
        response["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{response}"
    );
    assert!(response["sub_msg"].is_string(), "{response}");
    let keys: Vec<&String> = response.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["code", "msg", "sub_code", "sub_msg"], "{response}");
}

fn holder_fields(id_no: &str, email: &str) -> Value {
    json!({
        "mobile": "+5511987654321",
        "first_name": "Joao",
        "last_name": "Souza",
        "id_no": id_no,
        "id_type": 1,
        "issuance_date": "2020-01-15",
        "expires_on": "2030-01-14",
        "email": email,
        "birthday": "1990-05-20",
        "gender": 1,
        "nationality_code": "BR",
        "address": {
            "line": "Rua Augusta 1500, apto 12",
            "line2": "Consolacao",
            "postal_code": "01304001",
            "city_name": "Sao Paulo",
            "state": "Sao Paulo",
            "country_code": "BR"
        }
    })
}

fn limits() -> Value {
    json!({ "daily_transactions": 3, "single_amount": "40.00", "daily_amount": "100.00", "monthly_amount": "150.00" })
}

#[test]
fn a_request_made_by_openssl_is_accepted_and_the_answer_is_the_openssl_opened_vector() {
    let sandbox = Sandbox::builder().start().unwrap();
    let request = vector("request.json");
    let path = request["path"].as_str().unwrap();
    let (status, response) = post_raw(&sandbox, path, &request["request"].to_string(), &[]);
    assert_eq!(status, 200);
    // response.json is this exchange's answer, opened with the OpenSSL CLI alone
    // (verify-response.sh): random_key unwrapped, data decrypted.
    let expected = vector("response.json");
    assert_eq!(
        response, expected["response"],
        "the sandbox's answer changed; re-run the vector scripts"
    );
    let opened = Client::demo().open_response(&response).unwrap();
    let plaintext: Value = serde_json::from_str(expected["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(opened.data, Some(plaintext));
    assert_eq!(opened.total, Some(1));
    // The journal shows the decrypted request.
    let entry = sandbox.journal().pop().unwrap();
    assert_eq!(
        entry.request.decrypted(),
        Some(json!({ "card_token": CARD }))
    );
}

#[test]
fn gateway_failures_are_answered_in_clear_with_the_most_specific_code() {
    let mut s = Session::new(&scenario(
        None,
        "{ unavailable_paths: [/issuing/card/recharge] }",
    ));
    let good = s
        .client
        .seal_request("G-1", &json!({ "card_token": CARD }))
        .unwrap();
    let balance = "/issuing/card/query-card-balance";
    let send = |s: &Session, body: &str, headers: &[(&str, &str)]| {
        post_raw(&s.sandbox, balance, body, headers)
    };
    let with = |field: &str, value: Value| {
        let mut copy = good.clone();
        copy[field] = value;
        copy.to_string()
    };

    let (status, get) = status_json(
        client()
            .get(format!("{}{balance}", s.sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_failure(&get, "40004", "method-not-supported");
    let (_, form) = status_json(
        client()
            .post(format!("{}{balance}", s.sandbox.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(good.to_string())
            .send()
            .unwrap(),
    );
    assert_failure(&form, "40005", "media-type-not-supported");
    let (_, unknown) = post_raw(&s.sandbox, "/issuing/card/teleport", &good.to_string(), &[]);
    assert_failure(&unknown, "40004", "api-not-exist");
    assert_failure(&send(&s, "{not json", &[]).1, "40002", "invalid-parameter");
    assert_failure(
        &send(&s, &with("app_id", Value::Null), &[]).1,
        "40001",
        "missing-required-arguments",
    );
    assert_failure(
        &send(&s, &with("random_key", json!("")), &[]).1,
        "40001",
        "missing-required-arguments",
    );
    let (_, bad_version) = send(&s, &with("version", json!("3.0")), &[]);
    assert_failure(&bad_version, "40002", "invalid-parameter");
    assert_eq!(bad_version["sub_msg"], "version must be 1.0 or 2.0");
    assert_failure(
        &send(&s, &with("timestamp", json!("21/11/2026")), &[]).1,
        "40002",
        "invalid-parameter",
    );
    assert_failure(
        &send(&s, &with("sign_type", json!("MD5")), &[]).1,
        "40002",
        "invalid-parameter",
    );
    assert_failure(
        &send(&s, &with("app_id", json!("999")), &[]).1,
        "40002",
        "invalid-app-id",
    );
    assert_failure(
        &send(&s, &with("partner_id", json!("1")), &[]).1,
        "40002",
        "invalid-parameter",
    );
    assert_failure(
        &send(&s, &with("random_key", json!("AAAA")), &[]).1,
        "40002",
        "invalid-signature",
    );
    let mut other = good.clone();
    other["biz_data"] = s.client.seal_request("x", &json!({})).unwrap()["biz_data"].clone();
    assert_failure(
        &send(&s, &other.to_string(), &[]).1,
        "40002",
        "invalid-signature",
    );

    // Basic Authorization is optional; when sent it must be base64(app_id:security_key).
    let wrong = format!("Basic {}", b64("2017051914172236111:nope"));
    assert_failure(
        &send(&s, &good.to_string(), &[("authorization", &wrong)]).1,
        "40002",
        "invalid-authorization",
    );
    assert_failure(
        &send(&s, &good.to_string(), &[("authorization", "Bearer x")]).1,
        "40002",
        "invalid-authorization",
    );
    let right = format!(
        "Basic {}",
        b64("2017051914172236111:Pagsmile_sk_demo_0123456789abcdef")
    );
    let (_, ok) = send(&s, &good.to_string(), &[("authorization", &right)]);
    assert_eq!(ok["code"], "10000", "{ok}");

    // The request_id was used by that success: a replay is refused; a refused one is not used.
    let (_, replay) = send(&s, &good.to_string(), &[]);
    assert_failure(&replay, "40002", "request-id-repeated");
    let refused = s
        .client
        .seal_request("G-2", &json!({ "card_token": "nope" }))
        .unwrap();
    assert_failure(
        &send(&s, &refused.to_string(), &[]).1,
        "40002",
        "card-not-exist",
    );
    let mut again = s
        .client
        .seal_request("G-2", &json!({ "card_token": CARD }))
        .unwrap();
    assert_eq!(send(&s, &again.to_string(), &[]).1["code"], "10000");

    // biz_data that decrypts to no JSON object gets the refusal a broken key or padding gets,
    // word for word (anything else is a padding oracle); the journal keeps the cause.
    again = s.client.seal_request("G-3", &json!([1, 2])).unwrap();
    let (_, not_an_object) = send(&s, &again.to_string(), &[]);
    let (_, bad_key) = send(&s, &with("random_key", json!("AAAA")), &[]);
    assert_failure(&not_an_object, "40002", "invalid-signature");
    assert_eq!(not_an_object, bad_key);
    let notes: Vec<String> = s
        .sandbox
        .journal()
        .iter()
        .rev()
        .take(2)
        .map(|e| e.note.clone().unwrap_or_default())
        .collect();
    assert!(notes[0].starts_with("random_key:"), "{notes:?}");
    assert_eq!(notes[1], "biz_data: decrypts to no JSON object");

    // The scenario's outage.
    let before = s.usd();
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "O-1", "amount": "1.00", "currency": "USD" }),
        "20000",
        "isp.service-unavailable",
    );
    assert_eq!(s.usd(), before);
    assert_eq!(
        s.state()["cards"]["30000001"]["available"]["amount"],
        "500.00"
    );
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn an_oversized_pagsmile_body_is_a_413_in_clear() {
    let sandbox = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .body_limit(1024)
        .start()
        .unwrap();
    let (status, response) = post_raw(&sandbox, "/issuing/card/apply", &"x".repeat(4096), &[]);
    assert_eq!(status, 413);
    assert_failure(&response, "40002", "invalid-parameter");
}

#[test]
fn cardholders_are_audited_by_rule_and_can_be_queried_and_updated() {
    let receiver = Receiver::start(vec![]);
    let profile = r#"{ audit_rules: [ { email: "*@reject.example", decision: rejected, codes: ["1"], remark: "The picture of the ID document does not meet the requirements", after: 1m } ] }"#;
    let mut s = Session::new(&scenario(Some(&receiver.url), profile));

    let created = s.ok(
        "/issuing/holder/create",
        holder_fields("AB123456", "joao@example.com"),
    );
    let holder_id = created["holder_id"].as_u64().expect("holder_id is a long");
    assert_eq!(
        created,
        json!({ "holder_id": holder_id, "id_no": "AB123456", "id_type": 1, "audit_status": 4, "audit_msg": "" })
    );
    s.fails(
        "/issuing/holder/create",
        holder_fields("AB123456", "other@example.com"),
        "40002",
        "holder-already-exists",
    );
    let mut in_audit = holder_fields("AB123456", "joao@example.com");
    in_audit["holder_id"] = json!(holder_id);
    s.fails(
        "/issuing/holder/update",
        in_audit,
        "40002",
        "holder-under-audit",
    );

    // The audit ends after the profile's 30 s.
    s.advance("29s");
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": holder_id }))["audit_status"],
        4
    );
    s.advance("1s");
    let queried = s.ok(
        "/issuing/holder/query",
        json!({ "id_no": "AB123456", "id_type": 1 }),
    );
    assert_eq!(
        queried,
        json!({
            "holder_id": holder_id, "mobile": "+5511987654321", "first_name": "Joao", "last_name": "Souza",
            "id_no": "AB123456", "id_type": 1, "issuance_date": "2020-01-15", "expires_on": "2030-01-14",
            "email": "joao@example.com", "birthday": "1990-05-20", "gender": 1, "nationality_code": "BR",
            "status": 1, "audit_status": 3,
            "address": { "line": "Rua Augusta 1500, apto 12", "line2": "Consolacao", "postal_code": "01304001",
                         "city_name": "Sao Paulo", "state": "Sao Paulo", "country_code": "BR" }
        })
    );
    let hook = receiver.next();
    assert_eq!(hook["notify_type"], 3);
    assert_eq!(
        hook["biz_data"],
        json!({ "holder_id": holder_id, "pre_status": 4, "status": 3, "codes": [], "remark": "" })
    );
    assert_eq!(
        (
            hook["version"].clone(),
            hook["random_key"].clone(),
            hook["sign_type"].clone(),
            hook["partner_id"].clone(),
            hook["app_id"].clone()
        ),
        (
            json!("1.0"),
            Value::Null,
            json!(""),
            json!("1666000000000001"),
            json!("2017051914172236111")
        )
    );
    assert_eq!(hook["timestamp"], "2026-11-21 00:00:30");
    assert!(
        hook["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("IC") && r.len() == 21),
        "{hook}"
    );

    // A rule rejects after its own minute, with the webhook example's codes and remark.
    let rejected = s.ok(
        "/issuing/holder/create",
        holder_fields("CD654321", "ana@reject.example"),
    )["holder_id"]
        .clone();
    s.advance("1m");
    let hook = receiver.next();
    assert_eq!(
        hook["biz_data"],
        json!({ "holder_id": rejected, "pre_status": 4, "status": 2, "codes": ["1"],
                "remark": "The picture of the ID document does not meet the requirements" })
    );
    let queried = s.ok("/issuing/holder/query", json!({ "holder_id": rejected }));
    assert_eq!(
        (queried["audit_status"].clone(), queried["status"].clone()),
        (json!(2), json!(0))
    );

    // A rejected holder is updated with new data (another email, no longer rejected) and
    // audited again; its document may not be another holder's.
    let mut update = holder_fields("CD654321", "ana@example.com");
    update["holder_id"] = rejected.clone();
    let updated = s.ok("/issuing/holder/update", update.clone());
    assert_eq!(
        updated,
        json!({ "holder_id": rejected, "id_no": "CD654321", "id_type": 1, "audit_status": 4 })
    );
    s.advance("30s");
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": rejected }))["audit_status"],
        3
    );
    update["id_no"] = json!("AB123456");
    s.fails(
        "/issuing/holder/update",
        update,
        "40002",
        "holder-already-exists",
    );

    s.fails(
        "/issuing/holder/query",
        json!({ "holder_id": 1 }),
        "40002",
        "holder-not-exist",
    );
    s.fails(
        "/issuing/holder/query",
        json!({ "id_no": "ZZ999999", "id_type": 1 }),
        "40002",
        "holder-not-exist",
    );
    s.fails(
        "/issuing/holder/query",
        json!({ "id_no": "ZZ999999" }),
        "40001",
        "missing-required-arguments",
    );
    // A scenario's cardholder with a numeric id is a Pagsmile holder too.
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": 20000001 }))["mobile"],
        "+5511987654321"
    );
}

#[test]
fn cardholder_fields_are_checked_as_the_seed_says() {
    let mut s = Session::new(&scenario(None, "{}"));
    let cases: &[(&str, Value, &str, &str)] = &[
        (
            "mobile",
            json!("5511-9876"),
            "invalid-parameter",
            "mobile must be digits",
        ),
        (
            "mobile",
            json!("+55119876543210000"),
            "invalid-parameter",
            "mobile must be at most 16 characters",
        ),
        (
            "first_name",
            json!("x".repeat(51)),
            "invalid-parameter",
            "first_name must be at most 50",
        ),
        (
            "last_name",
            Value::Null,
            "missing-required-arguments",
            "last_name is required",
        ),
        (
            "id_no",
            json!("12345"),
            "invalid-parameter",
            "id_no must be 6 to 20",
        ),
        (
            "id_no",
            json!("1".repeat(21)),
            "invalid-parameter",
            "id_no must be 6 to 20",
        ),
        (
            "id_type",
            json!(9),
            "invalid-parameter",
            "id_type must be one of 1, 2, 3",
        ),
        (
            "id_type",
            json!("passport"),
            "invalid-parameter",
            "id_type must be an integer",
        ),
        (
            "issuance_date",
            json!("2020/01/15"),
            "invalid-parameter",
            "issuance_date must be a date",
        ),
        (
            "issuance_date",
            json!("2027-01-01"),
            "invalid-parameter",
            "issuance_date must not be in the future",
        ),
        (
            "expires_on",
            json!("2019-01-01"),
            "invalid-parameter",
            "expires_on must be after",
        ),
        (
            "email",
            json!("not-an-email"),
            "invalid-parameter",
            "email is not an email address",
        ),
        (
            "email",
            json!(format!("{}@example.com", "a".repeat(70))),
            "invalid-parameter",
            "email must be at most 80",
        ),
        (
            "birthday",
            json!("2030-01-01"),
            "invalid-parameter",
            "birthday must be in the past",
        ),
        (
            "birthday",
            Value::Null,
            "missing-required-arguments",
            "birthday is required",
        ),
        (
            "gender",
            json!(7),
            "invalid-parameter",
            "gender must be one of 1, 2",
        ),
        (
            "nationality_code",
            json!("BRA"),
            "invalid-parameter",
            "nationality_code must be exactly 2 characters",
        ),
        (
            "nationality_code",
            json!("XX"),
            "invalid-parameter",
            "nationality_code must be an ISO 3166",
        ),
        (
            "address",
            Value::Null,
            "missing-required-arguments",
            "address is required",
        ),
        (
            "address",
            json!("Rua Augusta"),
            "invalid-parameter",
            "address must be an object",
        ),
    ];
    for (field, value, sub_code, message) in cases {
        let mut body = holder_fields("EF123456", "x@example.com");
        body[*field] = value.clone();
        let code = if *sub_code == "missing-required-arguments" {
            "40001"
        } else {
            "40002"
        };
        let sub_msg = s.fails("/issuing/holder/create", body, code, sub_code);
        assert!(sub_msg.starts_with(message), "{field}: {sub_msg}");
    }
    let address_cases: &[(&str, Value, &str)] = &[
        (
            "line",
            json!("Short st 1"),
            "address.line must be 12 to 128",
        ),
        (
            "line2",
            json!("x".repeat(129)),
            "address.line2 must be at most 128",
        ),
        (
            "postal_code",
            json!("123"),
            "address.postal_code must be 4 to 8",
        ),
        (
            "city_name",
            json!("Rio"),
            "address.city_name must be 4 to 80",
        ),
        ("state", json!("SP"), "address.state must be 4 to 48"),
        (
            "country_code",
            json!("br"),
            "address.country_code must be an ISO 3166",
        ),
        (
            "country_code",
            Value::Null,
            "address.country_code is required",
        ),
    ];
    for (field, value, message) in address_cases {
        let mut body = holder_fields("EF123456", "x@example.com");
        body["address"][*field] = value.clone();
        let (response, opened) = s.call("/issuing/holder/create", body);
        assert!(
            opened
                .sub_msg
                .as_deref()
                .is_some_and(|m| m.starts_with(message)),
            "{field}: {response}"
        );
    }
    // Nothing was created.
    let holders = s.state()["cardholders"].as_object().unwrap().len();
    assert_eq!(holders, 8, "only the scenario's cardholders");
}

#[test]
fn card_applications_are_checked_and_a_refused_one_changes_nothing() {
    let mut s = Session::new(&scenario(None, "{}"));
    let apply = |order_no: &str| json!({ "order_no": order_no, "card_scheme": 3, "card_type": 1, "holder_id": 20000001 });
    let before = s.state();
    let cases: Vec<(Value, &str, &str, &str)> = vec![
        (
            json!({ "card_scheme": 3, "card_type": 1, "holder_id": 20000001 }),
            "40001",
            "missing-required-arguments",
            "order_no is required",
        ),
        (
            {
                let mut b = apply("A-1");
                b["card_scheme"] = json!(2);
                b
            },
            "40002",
            "invalid-parameter",
            "card_scheme must be 3",
        ),
        (
            {
                let mut b = apply("A-1");
                b["card_type"] = json!(2);
                b
            },
            "40002",
            "invalid-parameter",
            "card_type must be one of 1, 3",
        ),
        (
            {
                let mut b = apply("A-1");
                b["card_bin"] = json!("411111");
                b
            },
            "40002",
            "invalid-parameter",
            "card_bin must be one of 658704, 658705",
        ),
        (
            {
                let mut b = apply("A-1");
                b["is_share_card"] = json!("yes");
                b
            },
            "40002",
            "invalid-parameter",
            "is_share_card must be true or false",
        ),
        (
            {
                let mut b = apply("A-1");
                b["shared_account_num"] = json!("SA1");
                b
            },
            "40002",
            "invalid-parameter",
            "shared_account_num is only for share cards",
        ),
        (
            {
                let mut b = apply("A-1");
                b["pay_account_num"] = json!("PA-other");
                b
            },
            "40002",
            "account-not-exist",
            "no such account: PA-other",
        ),
        (
            {
                let mut b = apply("A-1");
                b["initial_balance"] = json!("-1.00");
                b
            },
            "40002",
            "invalid-parameter",
            "initial_balance must not be negative",
        ),
        (
            {
                let mut b = apply("A-1");
                b["initial_balance"] = json!("1.001");
                b
            },
            "40002",
            "invalid-parameter",
            "initial_balance",
        ),
        (
            {
                let mut b = apply("A-1");
                b["initial_balance"] = json!("100000.01");
                b
            },
            "40002",
            "insufficient-balance",
            "the pay account holds 100000.00",
        ),
        (
            {
                let mut b = apply("A-1");
                b["card_limit"] = json!({ "daily_transactions": 3, "single_amount": "40.00", "daily_amount": "100.00" });
                b
            },
            "40001",
            "missing-required-arguments",
            "card_limit.monthly_amount is required",
        ),
        (
            {
                let mut b = apply("A-1");
                b["card_limit"] = json!({ "daily_transactions": -1, "single_amount": "1", "daily_amount": "1", "monthly_amount": "1" });
                b
            },
            "40002",
            "invalid-parameter",
            "card_limit.daily_transactions must be 0 to 4294967295",
        ),
        (
            {
                let mut b = apply("A-1");
                b["holder_id"] = json!(7);
                b
            },
            "40002",
            "holder-not-exist",
            "",
        ),
        (
            {
                let mut b = apply("A-1");
                b.as_object_mut().unwrap().remove("holder_id");
                b
            },
            "40001",
            "missing-required-arguments",
            "holder_id is required",
        ),
        (
            {
                let mut b = apply("A-1");
                b["holder"] = holder_fields("GH123456", "g@example.com");
                b
            },
            "40002",
            "invalid-parameter",
            "holder give holder_id or holder, not both",
        ),
        (
            {
                let mut b = apply("A-1");
                b.as_object_mut().unwrap().remove("holder_id");
                b["holder"] = holder_fields("GH123456", "bad");
                b
            },
            "40002",
            "invalid-parameter",
            "holder.email is not an email address",
        ),
        (
            {
                let mut b = apply("A-1");
                b.as_object_mut().unwrap().remove("holder_id");
                b["holder"] = holder_fields("FZ123456", "g@example.com");
                b
            },
            "40002",
            "holder-already-exists",
            "",
        ),
    ];
    for (body, code, sub_code, message) in cases {
        let sub_msg = s.fails("/issuing/card/apply", body.clone(), code, sub_code);
        assert!(sub_msg.starts_with(message), "{body}: {sub_msg}");
    }
    let after = s.state();
    for part in ["cards", "cardholders", "orders", "accounts", "transactions"] {
        assert_eq!(before[part], after[part], "{part} changed");
    }

    // A holder in audit (or rejected) cannot be given a card by id.
    let pending = s.ok(
        "/issuing/holder/create",
        holder_fields("IJ123456", "i@example.com"),
    )["holder_id"]
        .clone();
    let mut body = apply("A-2");
    body["holder_id"] = pending;
    s.fails("/issuing/card/apply", body, "40002", "holder-not-approved");
    // An order number is used once, across applications, recharges and returns.
    s.ok("/issuing/card/apply", apply("A-3"));
    s.fails(
        "/issuing/card/apply",
        apply("A-3"),
        "40002",
        "order-no-repeated",
    );
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "A-3", "amount": "1.00", "currency": "USD" }),
        "40002",
        "order-no-repeated",
    );
    s.fails(
        "/issuing/card/query-apply-card-result",
        json!({ "order_no": "nope" }),
        "40002",
        "order-not-exist",
    );
}

/// The journey of the issue's "Done means": holder → audit → apply (immediate and slow) →
/// result → info → recharge → spending to each limit → return → revoke, with webhooks and the
/// money invariant checked throughout.
#[test]
fn the_whole_pagsmile_journey_with_webhooks_and_the_money_invariant() {
    let receiver = Receiver::start(vec![]);
    let mut s = Session::new(&scenario(Some(&receiver.url), "{}"));
    let initial = s.usd();

    // 1. A cardholder, audited in 30 s.
    let holder = s.ok(
        "/issuing/holder/create",
        holder_fields("KL123456", "kl@example.com"),
    )["holder_id"]
        .clone();
    s.advance("30s");
    assert_eq!(receiver.next()["biz_data"]["status"], 3);

    // 2. The immediate path: completed within the call, with 100.00 from the pay account.
    let mut application = json!({
        "order_no": "ORD-1", "card_scheme": 3, "card_type": 1, "card_bin": "658705",
        "pay_account_num": "PA2017051914172236111", "initial_balance": "100.00",
        "card_remark": "travel", "card_limit": limits(), "holder_id": holder,
    });
    let order = s.ok("/issuing/card/apply", application.clone());
    let token = order["card_token"].as_str().unwrap().to_owned();
    let card_id = order["card_id"].as_u64().unwrap().to_string();
    let pan = order["card_pan"].as_str().unwrap().to_owned();
    assert!(pan.starts_with("658705******") && pan.len() == 16, "{pan}");
    assert_eq!(
        order,
        json!({
            "card_id": order["card_id"], "holder_id": holder, "holder_name": "Joao Souza", "order_no": "ORD-1",
            "order_status": 5, "order_count": 1, "card_token": token, "card_pan": pan, "card_scheme": 3,
            "card_type": 1, "is_share_card": false, "card_bin": "658705"
        })
    );
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "99900.00");
    assert_eq!(s.usd(), initial);
    let hook = receiver.next();
    assert_eq!(hook["notify_type"], 1);
    assert_eq!(
        hook["biz_data"],
        json!({
            "holder_id": holder, "holder_name": "Joao Souza", "order_no": "ORD-1", "order_status": 5,
            "order_count": 1, "card_token": token, "card_pan": pan, "card_scheme": 3, "card_type": 1,
            "is_share_card": false
        })
    );

    // 3. Its result and its details.
    let result = s.ok(
        "/issuing/card/query-apply-card-result",
        json!({ "order_no": "ORD-1" }),
    );
    assert_eq!(
        (
            result["order_status"].clone(),
            result["pay_account_num"].clone(),
            result["initial_balance"].clone(),
            result["card_remark"].clone()
        ),
        (
            json!(5),
            json!("PA2017051914172236111"),
            json!("100.00"),
            json!("travel")
        )
    );
    let info = s.ok(
        "/issuing/card/query-card-info",
        json!({ "card_token": token }),
    );
    let full_pan = info["card_pan"].as_str().unwrap();
    assert!(
        full_pan.starts_with("658705") && full_pan.ends_with(&pan[12..]),
        "{info}"
    );
    assert_eq!(info["expired_date"], "11/29");
    assert_eq!(info["active_time"], "2026-11-21 00:00:30");
    assert_eq!(info["card_status"], 3);
    assert_eq!(info["virtual"], true);
    assert_eq!(info["card_id"].as_u64().unwrap().to_string(), card_id);
    assert!(info["cvv"].as_str().is_some_and(|c| c.len() == 3));
    assert!(info["acs_password"].as_str().is_some_and(|c| c.len() == 6));

    // 4. Recharge 50.00: the account pays at once.
    let recharge = s.ok(
        "/issuing/card/recharge",
        json!({ "pay_account_num": "PA2017051914172236111", "card_token": token, "order_no": "RC-1", "amount": "50.00", "currency": "USD", "reference": "top-up" }),
    );
    assert!(recharge["transaction_id"].is_string());
    let balance = s.ok(
        "/issuing/card/query-card-balance",
        json!({ "card_token": token }),
    );
    assert_eq!(
        balance,
        json!([{ "account_name": "Joao Souza", "account_num": format!("CA{card_id}"), "currency": "USD",
                 "balance": "150.00", "available_balance": "150.00", "block_amount": "0.00" }])
    );
    assert_eq!(s.usd(), initial);

    // 5. Spending up to each limit (single 40, daily 3 purchases / 100.00, monthly 150.00).
    let declined = |t: &Value| t["decline_reason"].as_str().map(str::to_owned);
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "40.01", None)),
        Some("single amount limit".into())
    );
    let refused = receiver.next();
    assert_eq!(
        (
            refused["biz_data"]["bill_amount"].clone(),
            refused["biz_data"]["note"].clone()
        ),
        (json!("40.01"), json!("single amount limit"))
    );
    let auth = s.spend(&card_id, "authorization", "40.00", None);
    assert_eq!(declined(&auth), None);
    let hook = receiver.next();
    assert_eq!(hook["notify_type"], 4);
    assert_eq!(hook["biz_data"]["data_type"], "cardAuthorization");
    assert_eq!(hook["biz_data"]["card_token"], token.as_str());
    assert_eq!(hook["biz_data"]["bill_amount"], "40.00");
    assert_eq!(hook["biz_data"]["transaction_id"], auth["id"]);
    s.spend(&card_id, "clearing", "40.00", auth["id"].as_str());
    let settled = receiver.next();
    assert_eq!(settled["biz_data"]["data_type"], "cardSettlement");
    assert_eq!(settled["biz_data"]["auth_id"], auth["id"]);
    assert_eq!(settled["biz_data"]["original_auth_id"], auth["id"]);
    assert_eq!(
        settled["biz_data"]["auth_code"],
        hook["biz_data"]["auth_code"]
    );
    assert_eq!(settled["biz_data"]["settled_amount"], "40.00");
    assert_eq!(
        declined(&s.spend(&card_id, "clearing", "40.00", None)),
        None
    );
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "20.01", None)),
        Some("daily amount limit".into())
    );
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "20.00", None)),
        None
    );
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "0.01", None)),
        Some("daily transactions limit".into())
    );
    let remaining = s.ok(
        "/issuing/card/query-remaining-limit",
        json!({ "card_token": token, "stat_date": "2026-11-21" }),
    );
    assert_eq!(
        remaining,
        json!({
            "card_token": token, "account_num": format!("CA30****{}", &card_id[card_id.len() - 2..]),
            "daily_used_transactions": 3, "daily_used_amount": "100.00", "monthly_used_amount": "100.00",
            "total_used_amount": "100.00", "daily_remaining_transactions": 0, "daily_remaining_amount": "0.00",
            "monthly_remaining_amount": "50.00", "total_remaining_amount": null
        })
    );
    // The next day, with 50.00 more on the card: the month is what stops spending.
    s.advance("24h");
    s.ok(
        "/issuing/card/recharge",
        json!({ "card_token": token, "order_no": "RC-2", "amount": "50.00", "currency": "USD" }),
    );
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "40.00", None)),
        None
    );
    assert_eq!(
        declined(&s.spend(&card_id, "authorization", "10.01", None)),
        Some("monthly amount limit".into())
    );
    let yesterday = s.ok(
        "/issuing/card/query-remaining-limit",
        json!({ "card_token": token, "stat_date": "2026-11-21" }),
    );
    assert_eq!(yesterday["daily_used_amount"], "100.00");
    let today = s.ok(
        "/issuing/card/query-remaining-limit",
        json!({ "card_token": token }),
    );
    assert_eq!(
        (
            today["daily_used_amount"].clone(),
            today["monthly_used_amount"].clone()
        ),
        (json!("40.00"), json!("140.00"))
    );
    s.fails(
        "/issuing/card/query-remaining-limit",
        json!({ "card_token": token, "stat_date": "22/11/2026" }),
        "40002",
        "invalid-parameter",
    );
    for _ in 0..6 {
        receiver.next();
    }
    assert_eq!(
        s.usd(),
        initial,
        "purchases leave through the books' external flows"
    );
    assert_eq!(
        s.state()["external"]["USD"]["amount"],
        "-80.00",
        "two purchases settled"
    );

    // 6. Part of the balance goes back; not more than is available (60.00; 60.00 is held).
    s.fails(
        "/issuing/card/recharge-return",
        json!({ "payee_account_num": "PA2017051914172236111", "card_token": token, "order_no": "RT-1", "amount": "60.01", "currency": "USD" }),
        "40002",
        "insufficient-balance",
    );
    s.fails(
        "/issuing/card/recharge-return",
        json!({ "card_token": token, "order_no": "RT-1", "amount": "1.00", "currency": "EUR" }),
        "40002",
        "invalid-parameter",
    );
    s.ok(
        "/issuing/card/recharge-return",
        json!({ "payee_account_num": "PA2017051914172236111", "card_token": token, "order_no": "RT-1", "amount": "4.00", "currency": "USD" }),
    );
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "99804.00");
    assert_eq!(s.usd(), initial);

    // 7. Revoke: the held 20.00 and 40.00 clear first, the rest (56.00) returns to the
    // account, and the card is revoked.
    let revoked = s
        .call("/issuing/card/revoke", json!({ "card_token": token }))
        .0;
    assert_eq!(revoked, json!({ "code": "10000", "msg": "Success" }));
    let [status, first, second] = hooks(&receiver);
    let mut settled = [&first, &second].map(|h| {
        assert_eq!(h["biz_data"]["data_type"], "cardSettlement");
        h["biz_data"]["bill_amount"].as_str().unwrap().to_owned()
    });
    settled.sort();
    assert_eq!(settled, ["20.00", "40.00"]);
    assert_eq!(s.state()["external"]["USD"]["amount"], "-140.00");
    assert_eq!(
        status["biz_data"],
        json!({ "card_token": token, "card_pan": pan, "pre_status": 3, "status": 6, "desc": "revoked" })
    );
    let card = &s.state()["cards"][&card_id];
    assert_eq!(
        (
            card["available"]["amount"].clone(),
            card["blocked"]["amount"].clone()
        ),
        (json!("0.00"), json!("0.00"))
    );
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "99860.00");
    assert_eq!(s.usd(), initial, "no operation created or lost money");
    assert_eq!(
        s.ok(
            "/issuing/card/query-card-info",
            json!({ "card_token": token })
        )["card_status"],
        6
    );
    s.fails(
        "/issuing/card/revoke",
        json!({ "card_token": token }),
        "40002",
        "card-status-invalid",
    );
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": token, "order_no": "RC-2", "amount": "1.00", "currency": "USD" }),
        "40002",
        "card-status-invalid",
    );

    // 8. The slow path: production takes 10 s and an inline holder is audited meanwhile.
    let sandbox_yaml = scenario(
        Some(&receiver.url),
        "{ delays: { card_production: 10s, holder_audit: 20s } }",
    );
    let mut slow = Session::new(&sandbox_yaml);
    let initial = slow.usd();
    application["order_no"] = json!("ORD-2");
    application.as_object_mut().unwrap().remove("holder_id");
    application["holder"] = holder_fields("MN123456", "mn@example.com");
    // A share card, with a total limit.
    application["is_share_card"] = json!(true);
    application["shared_account_num"] = json!("SA-TEAM-1");
    application["card_limit"]["total_amount"] = json!("70.00");
    let order = slow.ok("/issuing/card/apply", application.clone());
    assert_eq!(order["is_share_card"], true);
    assert_eq!(
        (
            order["card_id"].clone(),
            order["order_status"].clone(),
            order["card_token"].clone(),
            order["card_pan"].clone()
        ),
        (Value::Null, json!(3), json!(""), json!(""))
    );
    let holder_id = order["holder_id"].clone();
    let state = slow.state();
    let in_production = &state["cards"][state["orders"]["ORD-2"]["card_id"].as_str().unwrap()];
    assert_eq!(in_production["status"], "pending");
    let hidden = json!({ "card_token": in_production["token"] });
    slow.fails(
        "/issuing/card/query-card-info",
        hidden,
        "40002",
        "card-not-exist",
    );
    assert_eq!(
        slow.state()["accounts"]["USD"]["amount"],
        "99900.00",
        "the initial balance left the account"
    );
    assert_eq!(slow.usd(), initial, "and is in flight to the card");
    // Produced at 10 s, but the holder's audit ends at 20 s: the order waits for it.
    slow.advance("10s");
    assert_eq!(
        slow.ok(
            "/issuing/card/query-apply-card-result",
            json!({ "order_no": "ORD-2" })
        )["order_status"],
        3
    );
    slow.advance("10s");
    let [finished, audit] = hooks(&receiver);
    assert_eq!(audit["biz_data"]["holder_id"], holder_id);
    assert_eq!(finished["biz_data"]["order_status"], 5);
    let token = finished["biz_data"]["card_token"].as_str().unwrap();
    assert!(token.starts_with("CT"));
    let result = slow.ok(
        "/issuing/card/query-apply-card-result",
        json!({ "order_no": "ORD-2" }),
    );
    assert_eq!(result["card_token"], token);
    let balance = slow.ok(
        "/issuing/card/query-card-balance",
        json!({ "card_token": token }),
    );
    assert_eq!(
        (
            balance[0]["available_balance"].clone(),
            balance[0]["account_num"].clone()
        ),
        (json!("100.00"), json!("SA-TEAM-1"))
    );
    assert_eq!(slow.usd(), initial);

    // The total limit (70.00) over two days: 40.00, then 30.00; a cent more is declined.
    let card_id = slow.state()["orders"]["ORD-2"]["card_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        slow.spend(&card_id, "clearing", "40.00", None)["decline_reason"],
        Value::Null
    );
    slow.advance("24h");
    assert_eq!(
        slow.spend(&card_id, "clearing", "30.00", None)["decline_reason"],
        Value::Null
    );
    assert_eq!(
        slow.spend(&card_id, "clearing", "0.01", None)["decline_reason"],
        "total amount limit"
    );
    let remaining = slow.ok(
        "/issuing/card/query-remaining-limit",
        json!({ "card_token": token }),
    );
    assert_eq!(
        (
            remaining["total_used_amount"].clone(),
            remaining["total_remaining_amount"].clone()
        ),
        (json!("70.00"), json!("0.00"))
    );
    assert_eq!(slow.usd(), initial);
}

#[test]
fn an_order_whose_holder_is_rejected_fails_and_its_money_returns() {
    let receiver = Receiver::start(vec![]);
    let profile = r#"{ delays: { card_production: 5s }, audit_rules: [ { id_no: "RJ*", decision: rejected, codes: ["1", "3"], remark: "blurred" } ] }"#;
    let mut s = Session::new(&scenario(Some(&receiver.url), profile));
    let initial = s.usd();
    let order = s.ok(
        "/issuing/card/apply",
        json!({ "order_no": "ORD-R", "card_scheme": 3, "card_type": 3, "initial_balance": "25.00", "holder": holder_fields("RJ123456", "rj@example.com") }),
    );
    assert_eq!(order["order_status"], 3);
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "99975.00");
    s.advance("30s");
    let [finished, audit] = hooks(&receiver);
    assert_eq!(
        (
            audit["biz_data"]["codes"].clone(),
            audit["biz_data"]["remark"].clone()
        ),
        (json!(["1", "3"]), json!("blurred"))
    );
    assert_eq!(finished["biz_data"]["order_status"], 7);
    assert_eq!(finished["biz_data"]["card_token"], "");
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "100000.00");
    assert_eq!(s.usd(), initial);
    let result = s.ok(
        "/issuing/card/query-apply-card-result",
        json!({ "order_no": "ORD-R" }),
    );
    assert_eq!(
        (result["order_status"].clone(), result["card_pan"].clone()),
        (json!(7), json!(""))
    );
}

#[test]
fn freezing_unfreezing_and_loss_follow_the_card_lifecycle_and_notify() {
    let receiver = Receiver::start(vec![]);
    let mut s = Session::new(&scenario(Some(&receiver.url), "{}"));
    let card = json!({ "card_token": CARD });
    s.fails(
        "/issuing/card/unfreeze",
        card.clone(),
        "40002",
        "card-status-invalid",
    );
    assert_eq!(
        s.call("/issuing/card/freeze", card.clone()).0,
        json!({ "code": "10000", "msg": "Success" })
    );
    assert_eq!(
        receiver.next()["biz_data"],
        json!({ "card_token": CARD, "card_pan": "658704******0111", "pre_status": 3, "status": 4, "desc": "frozen" })
    );
    s.fails(
        "/issuing/card/freeze",
        card.clone(),
        "40002",
        "card-status-invalid",
    );
    // A frozen card declines purchases but money may still move.
    let declined = s.spend("30000001", "authorization", "1.00", None);
    assert_eq!(declined["decline_reason"], "card frozen");
    receiver.next();
    s.ok(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "F-1", "amount": "1.00", "currency": "USD" }),
    );
    s.ok("/issuing/card/unfreeze", card.clone());
    assert_eq!(receiver.next()["biz_data"]["status"], 3);
    s.ok("/issuing/card/report-loss", card.clone());
    assert_eq!(receiver.next()["biz_data"]["status"], 5);
    for path in [
        "/issuing/card/freeze",
        "/issuing/card/unfreeze",
        "/issuing/card/report-loss",
    ] {
        let sub_msg = s.fails(path, card.clone(), "40002", "card-status-invalid");
        assert_eq!(sub_msg, "not allowed while the card is lost (5)");
    }
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "F-2", "amount": "1.00", "currency": "USD" }),
        "40002",
        "card-status-invalid",
    );
    // A lost card's money (the scenario's 500.00 and the 1.00 recharge) comes back by revoking.
    s.ok("/issuing/card/revoke", card);
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "100500.00");
    s.fails(
        "/issuing/card/freeze",
        json!({}),
        "40001",
        "missing-required-arguments",
    );
    s.fails(
        "/issuing/card/freeze",
        json!({ "card_token": "CT0" }),
        "40002",
        "card-not-exist",
    );
}

#[test]
fn webhooks_are_retried_at_the_documented_delays_until_acknowledged() {
    let receiver = Receiver::start(vec![500, 503, 500, 500, 500, 500, 500]);
    let mut s = Session::new(&scenario(Some(&receiver.url), "{}"));
    s.ok("/issuing/card/freeze", json!({ "card_token": CARD }));
    let first = receiver.next();
    let attempts = |s: &Session| {
        s.state()["deliveries"][0]["attempts"]
            .as_array()
            .map_or(0, Vec::len)
    };
    eventually(|| attempts(&s) == 1);
    // 10, 20, 30, 60, 240, 480 minutes of sandbox time between attempts.
    for (minutes, expected) in [(10, 2), (20, 3), (30, 4), (60, 5), (240, 6), (480, 7)] {
        s.advance(&format!("{}m", minutes - 1));
        assert_eq!(
            attempts(&s),
            expected - 1,
            "not due before {minutes} minutes"
        );
        s.advance("1m");
        assert_eq!(receiver.next(), first, "the same notification again");
        eventually(|| attempts(&s) == expected);
    }
    eventually(|| s.state()["deliveries"][0]["state"] == "abandoned");
}

#[test]
fn the_control_api_decides_an_audit_and_money_cannot_come_from_nowhere() {
    let receiver = Receiver::start(vec![]);
    let mut s = Session::new(&scenario(
        Some(&receiver.url),
        "{ delays: { holder_audit: 1h } }",
    ));
    let holder = s.ok(
        "/issuing/holder/create",
        holder_fields("OP123456", "op@example.com"),
    )["holder_id"]
        .clone();
    let decision = json!({ "cardholder": holder.to_string(), "decision": "rejected", "reason": "expired document", "codes": ["2"] });
    let (status, reply) = admin_send(&s.sandbox, "POST", "/simulate/kyc", &decision.to_string());
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        receiver.next()["biz_data"],
        json!({ "holder_id": holder, "pre_status": 4, "status": 2, "codes": ["2"], "remark": "expired document" })
    );
    // The scheduled audit no longer acts: the decision stands an hour later.
    s.advance("1h");
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": holder }))["audit_status"],
        2
    );

    let before = s.state();
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "X-1", "amount": "100000.01", "currency": "USD" }),
        "40002",
        "insufficient-balance",
    );
    s.fails(
        "/issuing/card/recharge",
        json!({ "pay_account_num": "PA-1", "card_token": CARD, "order_no": "X-1", "amount": "1.00", "currency": "USD" }),
        "40002",
        "account-not-exist",
    );
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "X-1", "amount": "0", "currency": "USD" }),
        "40002",
        "invalid-parameter",
    );
    s.fails(
        "/issuing/card/recharge-return",
        json!({ "payee_account_num": "PA-1", "card_token": CARD, "order_no": "X-1", "amount": "1.00", "currency": "USD" }),
        "40002",
        "account-not-exist",
    );
    let after = s.state();
    for part in ["cards", "accounts", "transactions"] {
        assert_eq!(before[part], after[part], "{part} changed");
    }
    // The order number of a refused recharge is still free.
    s.ok(
        "/issuing/card/recharge",
        json!({ "card_token": CARD, "order_no": "X-1", "amount": "1.00", "currency": "USD" }),
    );
}

/// The card in production of the only processing order: its id and token (from the state).
fn card_in_production(s: &Session) -> (String, String) {
    let state = s.state();
    let (id, card) = state["cards"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, c)| c["status"] == "pending" && c["issuer"] == "pagsmile")
        .expect("a card in production");
    (id.clone(), card["token"].as_str().unwrap().to_owned())
}

#[test]
fn a_card_in_production_is_its_orders_alone_until_the_order_finishes() {
    let profile = r#"{ delays: { card_production: 10s }, audit_rules: [ { id_no: "RJ*", decision: rejected, after: 5s } ] }"#;
    let mut s = Session::new(&scenario(None, profile));
    let initial = s.usd();
    s.ok(
        "/issuing/card/apply",
        json!({ "order_no": "P-1", "card_scheme": 3, "card_type": 1, "initial_balance": "50.00", "holder": holder_fields("RJ123456", "rj@example.com") }),
    );
    let (card_id, token) = card_in_production(&s);
    // The issuer's side cannot move it or put money on it; the card APIs do not know it.
    for status in ["active", "lost", "frozen"] {
        let body = json!({ "card": card_id, "status": status });
        let (code, reply) = admin_send(
            &s.sandbox,
            "POST",
            "/simulate/card-status",
            &body.to_string(),
        );
        assert_eq!(code, 409, "{reply}");
    }
    let refund = json!({ "card": card_id, "kind": "refund", "amount": "5.00" });
    assert_eq!(
        admin_send(
            &s.sandbox,
            "POST",
            "/simulate/transaction",
            &refund.to_string()
        )
        .0,
        409
    );
    s.fails(
        "/issuing/card/revoke",
        json!({ "card_token": token }),
        "40002",
        "card-not-exist",
    );
    // The holder is rejected at 5 s, production ends at 10 s: the order fails, the money is back.
    s.advance("10s");
    let state = s.state();
    assert_eq!(state["orders"]["P-1"]["state"], "failed");
    assert_eq!(state["cards"][&card_id]["status"], "failed");
    assert_eq!(state["cards"][&card_id]["available"]["amount"], "0.00");
    assert_eq!(state["accounts"]["USD"]["amount"], "100000.00");
    assert_eq!(s.usd(), initial);
}

#[test]
fn a_refused_movement_shifts_no_later_id() {
    let run = |refuse_first: bool| {
        let mut s = Session::new(&scenario(None, "{}"));
        if refuse_first {
            s.fails(
                "/issuing/card/recharge-return",
                json!({ "card_token": CARD, "order_no": "R-0", "amount": "999.00", "currency": "USD" }),
                "40002",
                "insufficient-balance",
            );
        }
        let recharge = s.ok(
            "/issuing/card/recharge",
            json!({ "card_token": CARD, "order_no": "R-1", "amount": "1.00", "currency": "USD" }),
        )["transaction_id"]
            .clone();
        let card_id = s.ok(
            "/issuing/card/apply",
            json!({ "order_no": "A-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001 }),
        )["card_id"]
            .clone();
        (recharge, card_id)
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn an_audit_event_decides_only_its_own_review() {
    let profile = r#"{ delays: { holder_audit: 1h }, audit_rules: [ { email: "*@fast.test", decision: approved, after: 10m } ] }"#;
    let mut s = Session::new(&scenario(None, profile));
    let holder = s.ok(
        "/issuing/holder/create",
        holder_fields("ST123456", "st@fast.test"),
    )["holder_id"]
        .clone();
    let decision = json!({ "cardholder": holder.to_string(), "decision": "rejected" });
    assert_eq!(
        admin_send(&s.sandbox, "POST", "/simulate/kyc", &decision.to_string()).0,
        200
    );
    // Updated in the same instant: a new review, due in an hour.
    let mut update = holder_fields("ST123456", "st@example.com");
    update["holder_id"] = holder.clone();
    s.ok("/issuing/holder/update", update);
    s.advance("10m");
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": holder }))["audit_status"],
        4
    );
    s.advance("50m");
    assert_eq!(
        s.ok("/issuing/holder/query", json!({ "holder_id": holder }))["audit_status"],
        3
    );
}

#[test]
fn a_scenario_holder_is_a_pagsmile_holder_in_everything() {
    let receiver = Receiver::start(vec![]);
    let mut s = Session::new(&scenario(Some(&receiver.url), "{}"));
    let decision = json!({ "cardholder": "20000001", "decision": "rejected", "reason": "expired", "codes": ["2"] });
    assert_eq!(
        admin_send(&s.sandbox, "POST", "/simulate/kyc", &decision.to_string()).0,
        200
    );
    assert_eq!(
        receiver.next()["biz_data"],
        json!({ "holder_id": 20000001, "pre_status": 3, "status": 2, "codes": ["2"], "remark": "expired" })
    );
    // A scenario cardholder whose id is not a number is not one (holder_id is a long).
    s.fails(
        "/issuing/holder/query",
        json!({ "id_no": "X12345678", "id_type": 1 }),
        "40002",
        "holder-not-exist",
    );
    // Updating keeps the person visible to every provider.
    let mut update = holder_fields("FZ123456", "maria.silva@example.com");
    update["holder_id"] = json!(20000001);
    s.ok("/issuing/holder/update", update);
    assert_eq!(s.state()["cardholders"]["20000001"]["issuer"], Value::Null);
}

#[test]
fn revoking_settles_pending_authorizations_as_authorized() {
    let receiver = Receiver::start(vec![]);
    let mut s = Session::new(&scenario(Some(&receiver.url), "{}"));
    let body = json!({ "card": "30000001", "kind": "authorization", "amount": "20.00", "fee": "0.50", "merchant_name": "CAFE", "mcc": "5814" });
    assert_eq!(
        admin_send(
            &s.sandbox,
            "POST",
            "/simulate/transaction",
            &body.to_string()
        )
        .0,
        200
    );
    receiver.next();
    s.ok("/issuing/card/revoke", json!({ "card_token": CARD }));
    // 100000.00 + 500.00 − (20.00 + 0.50 held, now settled)
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "100479.50");
    let [status, settlement] = hooks(&receiver);
    assert_eq!(
        (
            status["biz_data"]["status"].clone(),
            status["biz_data"]["desc"].clone()
        ),
        (json!(6), json!("revoked"))
    );
    let detail = &settlement["biz_data"];
    assert_eq!(
        (
            detail["fee"].clone(),
            detail["merchant_name"].clone(),
            detail["mcc_code"].clone(),
            detail["settled_amount"].clone()
        ),
        (json!("0.50"), json!("CAFE"), json!("5814"), json!("20.00"))
    );
}

#[test]
fn empty_optional_fields_are_absent_and_missing_ones_are_told_first() {
    let mut s = Session::new(&scenario(None, "{}"));
    let order = s.ok(
        "/issuing/card/apply",
        json!({ "order_no": "E-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001, "card_remark": "", "card_bin": "", "initial_balance": "" }),
    );
    assert_eq!(order["card_bin"], "658704");
    s.fails(
        "/issuing/card/recharge",
        json!({ "card_token": "CT-nope" }),
        "40001",
        "missing-required-arguments",
    );
    let sub_msg = s.fails(
        "/issuing/card/apply",
        json!({ "order_no": "H-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001,
                "card_limit": { "daily_transactions": 5_000_000_000_i64, "single_amount": "1", "daily_amount": "1", "monthly_amount": "1" } }),
        "40002",
        "invalid-parameter",
    );
    assert_eq!(
        sub_msg,
        "card_limit.daily_transactions must be 0 to 4294967295"
    );
}

/// Wrong JSON types in every field of the busiest paths: always the field's 40001/40002,
/// never a 20000 (a panic or an internal failure).
#[test]
fn wrong_types_anywhere_are_answered_with_the_field() {
    let mut s = Session::new(&scenario(None, "{ delays: { card_production: 10s } }"));
    let paths = [
        "/issuing/holder/create",
        "/issuing/holder/update",
        "/issuing/card/apply",
        "/issuing/card/recharge",
        "/issuing/card/query-remaining-limit",
    ];
    let weird = [json!(null), json!(1.5), json!({}), json!("9".repeat(400))];
    let fields = [
        "order_no",
        "card_scheme",
        "card_type",
        "card_bin",
        "is_share_card",
        "shared_account_num",
        "pay_account_num",
        "initial_balance",
        "card_remark",
        "card_limit",
        "holder_id",
        "holder",
        "card_token",
        "stat_date",
        "amount",
        "currency",
        "reference",
        "mobile",
        "first_name",
        "id_no",
        "id_type",
        "birthday",
        "address",
        "email",
        "gender",
        "nationality_code",
        "issuance_date",
        "expires_on",
    ];
    let mut base = holder_fields("FU123456", "fu@example.com");
    let extra = json!({ "order_no": "F-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001, "card_token": CARD, "amount": "1.00", "currency": "USD", "card_limit": limits(), "stat_date": "2026-11-21" });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    let mut internal = Vec::new();
    for path in paths {
        for field in fields {
            for value in &weird {
                let mut body = base.clone();
                body[field] = value.clone();
                let (response, _) = s.call(path, body);
                let code = response["code"].as_str().unwrap_or_default().to_owned();
                if code != "10000" && code != "40001" && code != "40002" {
                    internal.push(format!("{path} {field}={value}: {response}"));
                }
            }
        }
    }
    assert!(internal.is_empty(), "{internal:#?}");
}

#[test]
fn requests_that_decrypt_into_huge_trees_keep_the_journal_within_its_bytes() {
    const MAX: usize = 1024 * 1024;
    let mut session = Session {
        sandbox: Sandbox::builder()
            .scenario_yaml(FROZEN_DEFAULT.as_str())
            .journal_max_bytes(MAX)
            .start()
            .unwrap(),
        client: Client::demo(),
        next: 0,
    };
    // 64 KB of biz_data that parses into 32,000 numbers: refused (a card token is a string),
    // with nothing but the public app_id and platform key.
    let zeros = Value::Array(vec![json!(0); 32_000]);
    // 150 here (each costs two RSA and 200 KB of AES in a debug build); `benches/journal_rss.py`
    // sends 1,000 to a release build and reports the memory the process holds.
    for _ in 0..150 {
        let (response, _) = session.call(
            "/issuing/card/query-card-info",
            json!({ "card_token": zeros }),
        );
        assert_failure(&response, "40002", "invalid-parameter");
    }
    let (_, health) = admin_get(&session.sandbox, "/health");
    let journal = &health["journal"];
    assert_eq!(journal["max_bytes"], MAX);
    let bytes = journal["bytes"].as_u64().unwrap();
    assert!(bytes > 0 && bytes <= MAX as u64, "{journal}");
    assert!(journal["dropped"].as_u64().unwrap() > 130, "{journal}");
    // The kept entries still show what was decrypted.
    let entry = session.sandbox.journal().pop().unwrap();
    assert_eq!(entry.request.decrypted().unwrap()["card_token"][31_999], 0);
}

/// The demo app's credentials with `line` added (e.g. `strictness: lenient`).
fn with_app_line(yaml: &str, line: &str) -> String {
    let anchor = "security_key: Pagsmile_sk_demo_0123456789abcdef\n";
    assert!(yaml.contains(anchor), "the demo app");
    yaml.replacen(anchor, &format!("{anchor}        {line}\n"), 1)
}

/// Seed 002 types `card_scheme`, `card_type`, `card_limit.daily_transactions`, `id_type`,
/// `gender` as `integer` and `holder_id` as `long`, and amounts as `string`: strict (the
/// default) refuses the other JSON type naming the field and changes nothing; `lenient` or
/// `relax: [json_types]`, for the merchant or the whole `pagsmile:` section, reads them.
#[test]
fn documented_json_types_are_required_unless_relaxed() {
    let apply = |order_no: &str, change: &dyn Fn(&mut Value)| {
        let mut body = json!({ "order_no": order_no, "card_scheme": 3, "card_type": 1, "holder_id": 20000001,
                               "card_limit": limits() });
        change(&mut body);
        body
    };
    let holder = |id_no: &str, change: &dyn Fn(&mut Value)| {
        let mut body = holder_fields(id_no, &format!("{id_no}@example.com"));
        change(&mut body);
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/issuing/card/apply",
            apply("T-1", &|b| b["card_scheme"] = json!("3")),
            "card_scheme must be an integer (a JSON number, not the string \"3\")",
        ),
        (
            "/issuing/card/apply",
            apply("T-2", &|b| b["card_type"] = json!("1")),
            "card_type must be an integer",
        ),
        (
            "/issuing/card/apply",
            apply("T-3", &|b| b["holder_id"] = json!("20000001")),
            "holder_id must be an integer",
        ),
        (
            "/issuing/card/apply",
            apply("T-4", &|b| {
                b["card_limit"]["daily_transactions"] = json!("3");
            }),
            "card_limit.daily_transactions must be an integer",
        ),
        (
            "/issuing/card/apply",
            apply("T-5", &|b| b["initial_balance"] = json!(10.5)),
            "initial_balance must be a decimal amount in a JSON string (\"10.5\"), not the number 10.5",
        ),
        (
            "/issuing/card/apply",
            apply("T-6", &|b| b["card_limit"]["single_amount"] = json!(40)),
            "card_limit.single_amount must be a decimal amount in a JSON string",
        ),
        (
            "/issuing/holder/create",
            holder("TY100001", &|b| b["id_type"] = json!("1")),
            "id_type must be an integer",
        ),
        (
            "/issuing/holder/create",
            holder("TY100002", &|b| b["gender"] = json!("1")),
            "gender must be an integer",
        ),
        (
            "/issuing/holder/query",
            json!({ "holder_id": "20000001" }),
            "holder_id must be an integer",
        ),
        (
            "/issuing/card/recharge",
            json!({ "card_token": CARD, "order_no": "T-7", "amount": 1.5, "currency": "USD" }),
            "amount must be a decimal amount in a JSON string",
        ),
    ];
    let strict = scenario(None, "{}");
    for (label, yaml, relaxed) in [
        ("strict by default", strict.clone(), false),
        (
            "lenient app",
            with_app_line(&strict, "strictness: lenient"),
            true,
        ),
        (
            "json_types relaxed",
            with_app_line(&strict, "relax: [json_types]"),
            true,
        ),
        (
            "lenient section",
            scenario(None, "{ strictness: lenient }"),
            true,
        ),
        (
            "strict app, lenient section",
            with_app_line(
                &scenario(None, "{ strictness: lenient }"),
                "strictness: strict",
            ),
            false,
        ),
    ] {
        let mut s = Session::new(&yaml);
        let before = s.state();
        // Strings stay strings in every mode: a number is no order number.
        let sub_msg = s.fails(
            "/issuing/card/apply",
            apply("T-0", &|b| b["order_no"] = json!(12345)),
            "40002",
            "invalid-parameter",
        );
        assert!(
            sub_msg.contains("order_no must be a string"),
            "{label}: {sub_msg}"
        );
        for (path, body, message) in &cases {
            if relaxed {
                s.ok(path, body.clone());
            } else {
                let sub_msg = s.fails(path, body.clone(), "40002", "invalid-parameter");
                assert!(
                    sub_msg.contains(message),
                    "{label}: {path} {body}: {sub_msg}"
                );
                let note = last_note(&s.sandbox, "pagsmile");
                assert!(note.contains("strict rule `json_types`"), "{note}");
            }
        }
        if !relaxed {
            let after = s.state();
            for part in ["cards", "cardholders", "orders", "accounts", "transactions"] {
                assert_eq!(before[part], after[part], "{label}: {part} changed");
            }
            // The same requests with the documented types pass.
            s.ok("/issuing/card/apply", apply("T-8", &|_| {}));
            s.ok("/issuing/holder/query", json!({ "holder_id": 20000001 }));
        }
    }
}
