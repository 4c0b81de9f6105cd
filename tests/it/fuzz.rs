//! Mutated requests for every provider: valid requests taken apart — wrong types, huge and
//! deeply nested values, truncated and bit-flipped envelopes, keys and signatures, bad UTF-8 —
//! must each get an answer in the provider's own shape, never a 5xx or a hang, and a refused
//! one must leave the merchant's world as it was.
//!
//! `cargo test` runs [`CASES`] cases per provider; set `ISSUER_SANDBOX_FUZZ_CASES` for a long run
//! (e.g. `ISSUER_SANDBOX_FUZZ_CASES=20000 cargo test --release --test it fuzz::`).

use std::cell::RefCell;

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::kazepay::client::Client as KazePay;
use issuer_sandbox::providers::pagsmile::client::Client as Pagsmile;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::*;

/// Cases per provider in an ordinary test run.
const CASES: u32 = 48;

fn cases() -> u32 {
    std::env::var("ISSUER_SANDBOX_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES)
}

/// The default scenario on a frozen clock, without rate limits (the fuzzer is not a client
/// over its quota).
fn fuzz_sandbox() -> Sandbox {
    sandbox(&FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: frozen\nacedata: { rate_limit: { per_second: 0 } }\nkeysecure: { rate_limit: { per_second: 0 } }\n",
    ))
}

/// Any JSON value: scalars, strings with any characters, arrays and objects a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "[0-9]{1,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What is done to a valid request's JSON before it is sent (or sealed).
#[derive(Clone, Debug)]
enum Content {
    /// One field (an existing one, by index, or a new one) set to any value.
    Field(usize, Value),
    /// One field removed.
    Remove(usize),
    /// The whole body replaced.
    Whole(Value),
    /// A field set to a very long string.
    Huge(usize, usize),
    /// A field nested deeper than any parser should follow.
    Deep(usize, usize),
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        4 => (any::<usize>(), any_json()).prop_map(|(i, v)| Content::Field(i, v)),
        1 => any::<usize>().prop_map(Content::Remove),
        2 => any_json().prop_map(Content::Whole),
        1 => (any::<usize>(), 10_000..300_000usize).prop_map(|(i, n)| Content::Huge(i, n)),
        1 => (any::<usize>(), 100..2_000usize).prop_map(|(i, n)| Content::Deep(i, n)),
    ]
}

fn apply(content: &Content, valid: &Value) -> Value {
    let Value::Object(fields) = valid else {
        return valid.clone();
    };
    let names: Vec<String> = fields.keys().cloned().collect();
    let name = |i: usize| {
        names
            .get(i % (names.len() + 1))
            .cloned()
            .unwrap_or_else(|| "extra".to_owned())
    };
    let mut out = fields.clone();
    match content {
        Content::Field(i, value) => {
            out.insert(name(*i), value.clone());
        }
        Content::Remove(i) => {
            out.remove(&name(*i));
        }
        Content::Whole(value) => return value.clone(),
        Content::Huge(i, n) => {
            out.insert(name(*i), Value::String("9".repeat(*n)));
        }
        Content::Deep(i, depth) => {
            let mut nested = Value::from(1);
            for _ in 0..*depth {
                nested = Value::Array(vec![nested]);
            }
            out.insert(name(*i), nested);
        }
    }
    Value::Object(out)
}

/// What is done to the bytes on the wire.
#[derive(Clone, Debug)]
enum Wire {
    Intact,
    Truncate(usize),
    FlipBit(usize),
    /// Arbitrary bytes (often not UTF-8) spliced in.
    Splice(usize, Vec<u8>),
}

fn wire() -> impl Strategy<Value = Wire> {
    prop_oneof![
        4 => Just(Wire::Intact),
        1 => any::<usize>().prop_map(Wire::Truncate),
        2 => any::<usize>().prop_map(Wire::FlipBit),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Wire::Splice(at, bytes)),
    ]
}

fn on_the_wire(wire: &Wire, mut bytes: Vec<u8>) -> Vec<u8> {
    match wire {
        Wire::Intact => {}
        Wire::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
        Wire::FlipBit(bit) if !bytes.is_empty() => {
            let bit = bit % (bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        Wire::FlipBit(_) => {}
        Wire::Splice(at, extra) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, extra.iter().copied());
        }
    }
    bytes
}

/// Sends raw bytes; the status and the body (`None` when the server did not answer in time).
fn send(
    sandbox: &Sandbox,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let mut request = client()
        .post(format!("{}{path}", sandbox.url()))
        .timeout(std::time::Duration::from_secs(30))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let response = request.send().expect("the sandbox answers every request");
    let status = response.status().as_u16();
    (status, response.bytes().unwrap().to_vec())
}

/// Runs `case` on generated inputs; `case` says whether the answer was a refusal, and a
/// refusal must leave the tenant's world as it was.
fn fuzz<S: Strategy>(
    sandbox: &Sandbox,
    strategy: S,
    case: impl FnMut(S::Value) -> Result<bool, TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    // The runner takes a `Fn`; the cases number their requests.
    let case = RefCell::new(case);
    let result = runner.run(&strategy, |input| {
        let before = state(sandbox, "demo");
        let refused = (case.borrow_mut())(input)?;
        if refused {
            prop_assert_eq!(
                state(sandbox, "demo"),
                before,
                "a refusal changed the world"
            );
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

fn json_of(bytes: &[u8]) -> Result<Value, TestCaseError> {
    serde_json::from_slice(bytes).map_err(|e| {
        TestCaseError::fail(format!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        ))
    })
}

#[test]
fn mutated_acedata_requests_get_gateway_or_business_answers() {
    let sandbox = fuzz_sandbox();
    let endpoints = [
        ("check-1e", json!({ "bank_card": "6222020200112233446" })),
        (
            "check-2e",
            json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
        ),
        (
            "check-3e",
            json!({ "bank_card": "6222020200112233446", "name": "张伟", "id_card": "110101199003074514" }),
        ),
    ];
    let auth = [("authorization", "Bearer demo-acedata-token".to_owned())];
    fuzz(
        &sandbox,
        (0..3usize, content(), wire()),
        |(e, content, wire)| {
            let (endpoint, valid) = &endpoints[e];
            let body = on_the_wire(&wire, apply(&content, valid).to_string().into_bytes());
            let (status, answer) = send(
                &sandbox,
                &format!("/identity/bankcard/{endpoint}"),
                &auth,
                body,
            );
            prop_assert!(status < 500, "HTTP {}", status);
            let answer = json_of(&answer)?;
            let shaped = answer["result"].is_string()
                || (answer["success"] == false && answer["error"]["code"].is_string());
            prop_assert!(shaped, "not AceData's shape: {}", answer);
            // AceData only reads the world.
            Ok(true)
        },
    );
}

#[test]
fn mutated_keysecure_requests_get_coded_answers() {
    let sandbox = fuzz_sandbox();
    let key = "demo-keysecure-api-key";
    let now = || jiff::Timestamp::now().as_millisecond().to_string();
    let token_answer = client()
        .get(format!("{}/open-api/v1/merchant/token", sandbox.url()))
        .header("api-key", key)
        .header("timestamp", now())
        .send()
        .unwrap();
    let (_, token) = status_json(token_answer);
    let token = token["data"]["access_token"].as_str().unwrap().to_owned();
    let paths = [
        ("/open-api/v1/card/list", json!({ "page": 0, "size": 10 })),
        (
            "/open-api/v1/cardholder/apply",
            json!({ "cardholder_unique_no": "F-1", "sumsub_share_token": "share-token-0001" }),
        ),
        (
            "/open-api/v1/card/support/bins",
            json!({ "page": 0, "size": 10 }),
        ),
    ];
    fuzz(
        &sandbox,
        (0..3usize, content(), wire(), any::<bool>()),
        |(p, content, wire, stale)| {
            let (path, valid) = &paths[p];
            let body = on_the_wire(&wire, apply(&content, valid).to_string().into_bytes());
            let stamp = if stale { "17".to_owned() } else { now() };
            let headers = [
                ("api-key", key.to_owned()),
                ("timestamp", stamp),
                ("access-token", token.clone()),
            ];
            let (status, answer) = send(&sandbox, path, &headers, body);
            prop_assert!(status < 500, "HTTP {}", status);
            let answer = json_of(&answer)?;
            prop_assert!(answer["code"].is_i64(), "not KeySecure's shape: {}", answer);
            Ok(answer["code"] != 0)
        },
    );
}

/// A mutation of one field of an envelope (by index) on the wire.
#[derive(Clone, Debug)]
enum EnvelopeField {
    Intact,
    /// A character of the field's text changed.
    Flip(usize, usize),
    /// The field cut short.
    Cut(usize, usize),
    /// The field replaced by any JSON value.
    Replace(usize, Value),
}

fn envelope_field() -> impl Strategy<Value = EnvelopeField> {
    prop_oneof![
        3 => Just(EnvelopeField::Intact),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(f, at)| EnvelopeField::Flip(f, at)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(f, at)| EnvelopeField::Cut(f, at)),
        1 => (any::<usize>(), any_json()).prop_map(|(f, v)| EnvelopeField::Replace(f, v)),
    ]
}

/// Applies `mutation` to one of `fields` (dotted paths) of `envelope`.
fn mutate_envelope(envelope: &mut Value, fields: &[&str], mutation: &EnvelopeField) {
    let pointer = |f: usize| format!("/{}", fields[f % fields.len()].replace('.', "/"));
    match mutation {
        EnvelopeField::Intact => {}
        EnvelopeField::Flip(f, at) | EnvelopeField::Cut(f, at) => {
            let Some(slot) = envelope.pointer_mut(&pointer(*f)) else {
                return;
            };
            let Some(text) = slot.as_str() else {
                return;
            };
            let mut chars: Vec<char> = text.chars().collect();
            if chars.is_empty() {
                return;
            }
            let at = at % chars.len();
            if matches!(mutation, EnvelopeField::Cut(..)) {
                chars.truncate(at);
            } else {
                // Another character of the same alphabet (hex stays hex, Base64 stays Base64).
                chars[at] = match chars[at] {
                    '0' => '1',
                    'A' => 'B',
                    'a' => 'b',
                    c if c.is_ascii_digit() => '0',
                    c if c.is_ascii_uppercase() => 'A',
                    _ => 'a',
                };
            }
            *slot = Value::String(chars.into_iter().collect());
        }
        EnvelopeField::Replace(f, value) => {
            if let Some(slot) = envelope.pointer_mut(&pointer(*f)) {
                *slot = value.clone();
            }
        }
    }
}

#[test]
fn mutated_pagsmile_envelopes_get_answers_in_pagsmiles_shape() {
    let sandbox = fuzz_sandbox();
    let mut sealer = Pagsmile::demo();
    let mut numbers = 0u64;
    let paths = [
        (
            "/issuing/card/query-card-balance",
            json!({ "card_token": "CT202611210000000001" }),
        ),
        (
            "/issuing/card/freeze",
            json!({ "card_token": "CT202611210000000001" }),
        ),
        (
            "/issuing/card/recharge",
            json!({ "card_token": "CT202611210000000001", "order_no": "F-1", "amount": "1.00", "currency": "USD" }),
        ),
    ];
    let fields = [
        "biz_data",
        "random_key",
        "app_id",
        "partner_id",
        "request_id",
        "version",
        "timestamp",
    ];
    let strategy = (0..3usize, content(), envelope_field(), wire());
    fuzz(&sandbox, strategy, |(p, content, field, wire)| {
        let (path, valid) = &paths[p];
        numbers += 1;
        let mut envelope = sealer
            .seal_request(&format!("FUZZ{numbers:08}"), &apply(&content, valid))
            .unwrap();
        mutate_envelope(&mut envelope, &fields, &field);
        let body = on_the_wire(&wire, envelope.to_string().into_bytes());
        let (status, answer) = send(&sandbox, path, &[], body);
        prop_assert!(status < 500, "HTTP {}", status);
        let answer = json_of(&answer)?;
        prop_assert!(
            answer["code"].is_string(),
            "not Pagsmile's shape: {}",
            answer
        );
        Ok(answer["code"] != "10000")
    });
}

#[test]
fn mutated_kazepay_envelopes_get_answers_in_kazepays_shape() {
    let sandbox = fuzz_sandbox();
    let mut sealer = KazePay::demo();
    let mut numbers = 0u64;
    let calls = [
        ("queryCard", json!({ "cardID": "3377" })),
        (
            "cardRecharge",
            json!({ "cardID": "3377", "currency": "USD", "amount": 1.0 }),
        ),
        (
            "queryUcardKycStatus",
            json!({ "email": "zhang.wei@example.com" }),
        ),
    ];
    let fields = [
        "head.keyEnc",
        "head.sign",
        "body.encrypt",
        "head.sysId",
        "head.apiCode",
        "head.requestNo",
    ];
    let strategy = (0..3usize, content(), envelope_field(), wire());
    fuzz(&sandbox, strategy, |(c, content, field, wire)| {
        let (api_code, valid) = &calls[c];
        numbers += 1;
        let mut envelope = sealer
            .seal_request(
                api_code,
                &format!("20261202{numbers:014}"),
                &apply(&content, valid),
            )
            .unwrap();
        mutate_envelope(&mut envelope, &fields, &field);
        let body = on_the_wire(&wire, envelope.to_string().into_bytes());
        let (status, answer) = send(&sandbox, "/kazepay", &[], body);
        prop_assert!(status < 500, "HTTP {}", status);
        let answer = json_of(&answer)?;
        let code = &answer["head"]["code"];
        prop_assert!(code.is_string(), "not KazePay's shape: {}", answer);
        Ok(code != "SUCCESS")
    });
}

#[test]
fn the_mutations_reach_past_the_envelope() {
    // The generators are only worth their cases if some mutated requests are opened and read:
    // a sealed body with a wrong type must come back as a field error, not an envelope refusal.
    let sandbox = fuzz_sandbox();
    let mut sealer = KazePay::demo();
    let envelope = sealer
        .seal_request(
            "queryCard",
            "20261202000000000099",
            &json!({ "cardID": 3377 }),
        )
        .unwrap();
    let (status, answer) = send(&sandbox, "/kazepay", &[], envelope.to_string().into_bytes());
    assert_eq!(status, 200);
    let opened = sealer
        .open_response(&serde_json::from_slice(&answer).unwrap())
        .unwrap();
    assert_eq!(opened.code, "PARAM_ERROR");
}
