//! Timelines, magic values, the FX table and the uniform issuer simulations, over HTTP.

use issuer_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::support::*;

const SCRIPTED: &str = r#"
fx: { "EUR/USD": "1.0850" }
magic:
  declines: [ { amount: "*.51", reason: insufficient funds } ]
  kyc: [ { name: "REJECT*", decision: rejected, reason: magic name } ]
"#;

fn scripted(timeline: &str) -> String {
    let with_rules = FROZEN_DEFAULT.replace("name: frozen\n", &format!("name: frozen\n{SCRIPTED}"));
    if timeline.is_empty() {
        return with_rules;
    }
    with_rules.replace(
        "    generate:\n",
        &format!("    timeline:\n{timeline}    generate:\n"),
    )
}

#[test]
fn a_timeline_fires_in_order_as_the_clock_moves() {
    let timeline = r#"      - { after: 1m, id: a1, transaction: { card: card-alice-chase, kind: authorization, amount: "10.00", currency: EUR, merchant_name: CAFE, mcc: "5814" } }
      - { after: 2m, transaction: { card: card-alice-chase, kind: clearing, amount: "10.85", authorization: a1 } }
      - { after: 3m, transaction: { card: card-alice-chase, kind: authorization, amount: "1.51" } }
      - { at: 2026-11-21T00:04:00Z, card_status: { card: card-alice-chase, status: frozen } }
      - { after: 5m, kyc: { cardholder: ch-bob-chen, decision: rejected, reason: blurry, codes: ["1"] } }
      - { after: 6m, transaction: { card: card-alice-chase, kind: reversal, amount: "10.85", authorization: a1 } }
"#;
    let sandbox = sandbox(&scripted(timeline));
    let initial = conserved(&state(&sandbox, "demo"), "USD");
    advance_clock(&sandbox, "90s");
    let world = state(&sandbox, "demo");
    assert_eq!(
        world["events_log"].as_array().unwrap().len(),
        1,
        "only the first is due"
    );
    let auth = &world["transactions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            auth["amount"]["amount"].clone(),
            auth["original_amount"]["amount"].clone(),
            auth["original_amount"]["currency"].clone()
        ),
        (json!("-10.85"), json!("10.00"), json!("EUR"))
    );
    advance_clock(&sandbox, "10m");
    let world = state(&sandbox, "demo");
    let log = world["events_log"].as_array().unwrap();
    assert_eq!(log.len(), 6);
    assert_eq!(log[0]["label"], "a1");
    assert!(log[2]["outcome"].as_str().unwrap().starts_with("TXN"));
    assert!(
        log[5]["outcome"]
            .as_str()
            .unwrap()
            .contains("cannot be settled or reversed in its state"),
        "{}",
        log[5]
    );
    let declined = world["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["amount"]["amount"] == "-1.51")
        .unwrap();
    assert_eq!(
        (
            declined["status"].clone(),
            declined["decline_reason"].clone()
        ),
        (json!("failed"), json!("insufficient funds"))
    );
    assert_eq!(world["cards"]["card-alice-chase"]["status"], "frozen");
    assert_eq!(
        world["cards"]["card-alice-chase"]["available"]["amount"],
        "239.15"
    );
    assert_eq!(
        world["cardholders"]["ch-bob-chen"]["kyc"]["status"],
        "rejected"
    );
    assert_eq!(
        world["cardholders"]["ch-bob-chen"]["kyc"]["codes"],
        json!(["1"])
    );
    assert_eq!(world["external"]["USD"]["amount"], "-10.85");
    assert_eq!(conserved(&world, "USD"), initial);
    // A reset puts the timeline back.
    assert_eq!(admin_send(&sandbox, "POST", "/reset", "").0, 200);
    assert_eq!(state(&sandbox, "demo")["events_log"], json!([]));
    advance_clock(&sandbox, "10m");
    assert_eq!(
        state(&sandbox, "demo")["events_log"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn timeline_mistakes_are_located() {
    let problems = |timeline: &str| {
        Sandbox::builder()
            .scenario_yaml(scripted(timeline))
            .start()
            .unwrap_err()
            .to_string()
    };
    let both = problems(
        "      - { at: 2026-11-21T00:04:00Z, after: 1m, card_status: { card: x, status: frozen } }\n",
    );
    assert!(both.contains("exactly one of `at` or `after`"), "{both}");
    let none = problems("      - { after: 1m }\n");
    assert!(none.contains("exactly one of transaction"), "{none}");
    let unknown = problems(
        "      - { after: 1m, transaction: { card: ghost, kind: refund, amount: \"1.00\" } }\n",
    );
    assert!(unknown.contains("no card `ghost`"), "{unknown}");
    let no_rate = problems(
        "      - { after: 1m, transaction: { card: card-alice-chase, kind: refund, amount: \"1.00\", currency: GBP } }\n",
    );
    assert!(
        no_rate.contains("no fx rate between GBP and USD"),
        "{no_rate}"
    );
    let bad_fx = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.replace(
            "name: frozen\n",
            "name: frozen\nfx: { \"EURUSD\": \"x\" }\n",
        ))
        .start()
        .unwrap_err()
        .to_string();
    assert!(bad_fx.contains("FROM/TO"), "{bad_fx}");
    // What the control API refuses, a timeline refuses when it is loaded.
    for (event, reason) in [
        (
            "card_status: { card: card-alice-chase, status: closed }",
            "the issuer may set",
        ),
        (
            "kyc: { cardholder: ch-bob-chen, decision: pending }",
            "`passed` or `rejected`",
        ),
        (
            "transaction: { card: card-alice-chase, kind: recharge, amount: \"1.00\" }",
            "the card network sends",
        ),
        (
            "transaction: { card: card-alice-chase, kind: reversal, amount: \"1.00\" }",
            "names the authorization",
        ),
        (
            "transaction: { card: card-alice-chase, kind: clearing, amount: \"1.00\", authorization: nope }",
            "no earlier timeline event labelled `nope`",
        ),
        (
            "transaction: { card: card-alice-chase, kind: refund, amount: \"0\" }",
            "above 0",
        ),
        (
            "transaction: { card: card-alice-chase, kind: refund, amount: \"1\", fee: \"-1\" }",
            "fee cannot be negative",
        ),
    ] {
        let message = problems(&format!("      - {{ after: 1m, {event} }}\n"));
        assert!(message.contains(reason), "{event}: {message}");
    }
    let twice = problems(
        "      - { after: 1m, id: a, transaction: { card: card-alice-chase, kind: authorization, amount: \"1.00\" } }\n      - { after: 2m, id: a, transaction: { card: card-alice-chase, kind: authorization, amount: \"2.00\" } }\n",
    );
    assert!(twice.contains("duplicate timeline label `a`"), "{twice}");
}

#[test]
fn events_happen_when_they_were_due_however_far_the_clock_jumps() {
    let timeline = "      - { after: 5m, transaction: { card: card-alice-chase, kind: authorization, amount: \"3.00\" } }\n";
    let last_transaction = |steps: &[&str]| {
        let sandbox = sandbox(&scripted(timeline));
        for step in steps {
            advance_clock(&sandbox, step);
        }
        let world = state(&sandbox, "demo");
        let last = world["transactions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        (last["id"].clone(), last["created_at"].clone())
    };
    let (id, created_at) = last_transaction(&["10m"]);
    assert_eq!(created_at, "2026-11-21T00:05:00Z");
    assert!(id.as_str().unwrap().starts_with("TXN261121000500"), "{id}");
    assert_eq!(
        last_transaction(&["5m", "5m"]),
        (id.clone(), created_at.clone())
    );
    assert_eq!(last_transaction(&["1h"]), (id, created_at));
}

#[test]
fn magic_names_fail_kyc_in_every_provider_and_magic_amounts_decline() {
    let sandbox = sandbox(&scripted(""));
    // Pagsmile: a holder named REJECT… is rejected by the audit.
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let holder = json!({
        "mobile": "+5511987654321", "first_name": "REJECT", "last_name": "Souza", "id_no": "MG123456", "id_type": 1,
        "email": "r@example.com", "birthday": "1990-05-20", "nationality_code": "BR",
        "address": { "line": "Rua Augusta 1500, apto 12", "postal_code": "01304001", "city_name": "Sao Paulo", "state": "Sao Paulo", "country_code": "BR" }
    });
    let request = pagsmile.seal_request("M-1", &holder).unwrap();
    let response: Value = client()
        .post(format!("{}/issuing/holder/create", sandbox.url()))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let holder_id = pagsmile.open_response(&response).unwrap().data.unwrap()["holder_id"].clone();
    advance_clock(&sandbox, "30s");
    let world = state(&sandbox, "demo");
    let kyc = &world["cardholders"][holder_id.to_string()]["kyc"];
    assert_eq!(
        (kyc["status"].clone(), kyc["reason"].clone()),
        (json!("rejected"), json!("magic name"))
    );
    // A simulated purchase of a magic amount declines; a foreign amount converts.
    let (status, reply) = admin_send(
        &sandbox,
        "POST",
        "/simulate/transaction",
        &json!({ "card": "card-alice-chase", "kind": "clearing", "amount": "3.51" }).to_string(),
    );
    assert_eq!(
        (status, reply["transaction"]["decline_reason"].clone()),
        (200, json!("insufficient funds"))
    );
    let (_, reply) = admin_send(&sandbox, "POST", "/simulate/transaction", &json!({ "card": "card-alice-chase", "kind": "clearing", "amount": "2.00", "currency": "EUR" }).to_string());
    assert_eq!(reply["transaction"]["amount"]["amount"], "-2.17");
    let (status, reply) = admin_send(&sandbox, "POST", "/simulate/transaction", &json!({ "card": "card-alice-chase", "kind": "clearing", "amount": "2.00", "currency": "GBP" }).to_string());
    assert_eq!(status, 400, "{reply}");
}

#[test]
fn production_and_recharges_can_be_completed_from_the_control_api() {
    let sandbox = sandbox(&FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: frozen\npagsmile: { delays: { card_production: 1h } }\n",
    ));
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let apply = json!({ "order_no": "P-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001, "initial_balance": "5.00" });
    let request = pagsmile.seal_request("P-1", &apply).unwrap();
    client()
        .post(format!("{}/issuing/card/apply", sandbox.url()))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send()
        .unwrap();
    let card = state(&sandbox, "demo")["orders"]["P-1"]["card_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let simulate = |path: &str, card: &str| {
        admin_send(&sandbox, "POST", path, &json!({ "card": card }).to_string())
    };
    let (status, reply) = simulate("/simulate/production", &card);
    assert_eq!(
        (status, reply["status"].clone()),
        (200, json!("active")),
        "{reply}"
    );
    let world = state(&sandbox, "demo");
    assert_eq!(world["orders"]["P-1"]["state"], "completed");
    assert_eq!(world["cards"][&card]["available"]["amount"], "5.00");
    let (status, reply) = simulate("/simulate/production", &card);
    assert_eq!(status, 409, "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("not in production")
    );
    let (status, reply) = simulate("/simulate/recharge", &card);
    assert_eq!((status, reply["settled"].clone()), (200, json!(0)));
    assert_eq!(simulate("/simulate/recharge", "nope").0, 404);
}
