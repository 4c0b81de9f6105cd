//! Failure injection over HTTP: every action and every `when` mode, rules from the scenario and
//! from the control API, the journal's record of them, and state left as production leaves it.

use std::time::{Duration, Instant};

use issuer_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::support::*;

/// The frozen default scenario without AceData's rate limit, plus `extra` top-level YAML.
fn scenario(extra: &str) -> String {
    FROZEN_DEFAULT.replace(
        "name: frozen\n",
        &format!("name: frozen\nacedata: {{ rate_limit: {{ per_second: 0 }} }}\n{extra}"),
    )
}

const CARD: &str = "6222020200112233446";

fn lookup(sandbox: &Sandbox, card: &str) -> reqwest::Result<reqwest::blocking::Response> {
    client()
        .post(format!("{}/identity/bankcard/check-1e", sandbox.url()))
        .header("Authorization", "Bearer demo-acedata-token")
        .json(&json!({ "bank_card": card }))
        .send()
}

/// KeySecure's token request with the demo key.
fn keysecure_token(sandbox: &Sandbox) -> reqwest::Result<reqwest::blocking::Response> {
    client()
        .get(format!("{}/open-api/v1/merchant/token", sandbox.url()))
        .header("Api-Key", "demo-keysecure-api-key")
        .header(
            "Timestamp",
            jiff::Timestamp::now().as_millisecond().to_string(),
        )
        .send()
}

/// A scenario whose only fault is `rule` fails to load with `message`, located at the rule's
/// line (the one containing `marker`), column 5.
fn assert_located_fault_error(rule: &str, marker: &str, message: &str) {
    let bad = scenario(&format!("faults:\n  - {rule}\n"));
    let line = 1 + bad.lines().position(|l| l.contains(marker)).unwrap();
    let error = Sandbox::builder()
        .scenario_yaml(bad)
        .start()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(message) && error.contains(&format!(":{line}:5")),
        "{error}"
    );
}

fn add_fault(sandbox: &Sandbox, rule: Value) -> String {
    let (status, body) = admin_send(sandbox, "POST", "/faults", &rule.to_string());
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Whether each of `n` lookups was hit by a fault (answered with an empty body).
fn pattern(sandbox: &Sandbox, n: usize) -> Vec<bool> {
    (0..n)
        .map(|_| lookup(sandbox, CARD).unwrap().bytes().unwrap().is_empty())
        .collect()
}

#[test]
fn every_when_mode_fires_on_the_right_requests() {
    let sandbox = sandbox(&scenario(""));
    let rule = |when: Value| json!({ "match": { "provider": "acedata", "operation": "check-1e" }, "action": "empty", "when": when });
    let run = |when: Value| {
        add_fault(&sandbox, rule(when));
        let seen = pattern(&sandbox, 6);
        admin_send(&sandbox, "DELETE", "/faults", "");
        seen
    };
    assert_eq!(
        run(json!({ "first": 2 })),
        [true, true, false, false, false, false]
    );
    assert_eq!(
        run(json!({ "every": 3 })),
        [false, false, true, false, false, true]
    );
    assert_eq!(
        run(json!({ "after": 4 })),
        [false, false, false, false, true, true]
    );
    // A window on the sandbox clock: from 10 minutes after the start, for 10 minutes.
    add_fault(
        &sandbox,
        rule(json!({ "from": "2026-11-21T00:10:00Z", "until": "2026-11-21T00:20:00Z" })),
    );
    assert_eq!(pattern(&sandbox, 1), [false]);
    advance_clock(&sandbox, "10m");
    assert_eq!(pattern(&sandbox, 2), [true, true]);
    advance_clock(&sandbox, "10m");
    assert_eq!(pattern(&sandbox, 1), [false]);
    admin_send(&sandbox, "DELETE", "/faults", "");
    // Only matching requests count: another card number neither fires nor counts.
    add_fault(
        &sandbox,
        json!({ "match": { "provider": "acedata", "fields": { "bank_card": CARD } }, "action": "empty", "when": { "every": 2 } }),
    );
    let other = lookup(&sandbox, "6225751234567893")
        .unwrap()
        .bytes()
        .unwrap();
    assert!(!other.is_empty());
    assert_eq!(pattern(&sandbox, 2), [false, true]);
    let (_, listed) = admin_get(&sandbox, "/faults");
    assert_eq!(
        (
            listed["faults"][0]["matches"].clone(),
            listed["faults"][0]["fired"].clone()
        ),
        (json!(2), json!(1))
    );
}

#[test]
fn the_probability_mode_is_reproducible_under_a_seed() {
    let yaml = scenario(
        "faults:\n  - { match: { provider: acedata }, action: empty, when: { probability: 0.5 } }\n",
    );
    let first = pattern(&sandbox(&yaml), 20);
    let second = pattern(&sandbox(&yaml), 20);
    assert_eq!(first, second);
    assert!(
        first.iter().filter(|hit| **hit).count() >= 4
            && first.iter().filter(|hit| !**hit).count() >= 4,
        "{first:?}"
    );
    // Another seed, another draw; a reset restarts the draws.
    let other = pattern(&sandbox(&yaml.replace("seed: 42\n", "seed: 99\n")), 20);
    assert_ne!(first, other);
    let again = sandbox(&yaml);
    let before = pattern(&again, 20);
    assert_eq!(admin_send(&again, "POST", "/reset", "").0, 200);
    assert_eq!(pattern(&again, 20), before);
}

#[test]
fn transport_actions_answer_as_production_fails() {
    let sandbox = sandbox(&scenario(""));
    let only = |action: Value| {
        admin_send(&sandbox, "DELETE", "/faults", "");
        add_fault(
            &sandbox,
            json!({ "match": { "provider": "acedata" }, "action": action }),
        )
    };

    only(json!("empty"));
    let empty = lookup(&sandbox, CARD).unwrap();
    assert_eq!(empty.status(), 200);
    assert!(empty.bytes().unwrap().is_empty());

    only(json!("garbage"));
    let garbage = lookup(&sandbox, CARD).unwrap().bytes().unwrap();
    assert_eq!(garbage.len(), 64);
    assert!(serde_json::from_slice::<Value>(&garbage).is_err());

    only(json!("reset"));
    assert!(
        lookup(&sandbox, CARD).is_err(),
        "the connection closes without an answer"
    );

    only(json!({ "status": 429 }));
    let (status, body) = status_json(lookup(&sandbox, CARD).unwrap());
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "too_many_requests");
    only(json!({ "status": 503 }));
    let (status, body) = status_json(lookup(&sandbox, CARD).unwrap());
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (503, json!("api_error"))
    );

    only(json!({ "delay": "150ms" }));
    let started = Instant::now();
    assert_eq!(lookup(&sandbox, CARD).unwrap().status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    only(json!({ "delay": { "uniform": ["50ms", "80ms"] } }));
    let started = Instant::now();
    lookup(&sandbox, CARD).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    only(json!({ "delay": { "lognormal": { "median": "40ms", "sigma": 0.1 } } }));
    let started = Instant::now();
    lookup(&sandbox, CARD).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(25),
        "{:?}",
        started.elapsed()
    );

    only(json!({ "slow": { "chunk_bytes": 20, "interval": "30ms" } }));
    let started = Instant::now();
    let (status, body) = status_json(lookup(&sandbox, CARD).unwrap());
    assert_eq!(
        (status, body["result"].clone()),
        (200, json!("0")),
        "the whole answer arrives"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );

    only(json!("hang"));
    let impatient = crate::support::client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let hung = impatient
        .post(format!("{}/identity/bankcard/check-1e", sandbox.url()))
        .header("Authorization", "Bearer demo-acedata-token")
        .json(&json!({ "bank_card": CARD }))
        .send();
    assert!(hung.is_err_and(|e| e.is_timeout()));

    // The journal says which rules fired and what became of the answer.
    only(json!("reset"));
    let _ = lookup(&sandbox, CARD);
    let entry = sandbox.journal().pop().unwrap();
    assert!(
        entry
            .note
            .as_deref()
            .is_some_and(|n| n.contains("no answer sent")),
        "{:?}",
        entry.note
    );
    assert_eq!(entry.faults.len(), 1);
}

#[test]
fn rules_compose_and_the_control_api_manages_them() {
    let yaml = scenario(
        "faults:\n  - { id: slowly, match: { provider: acedata }, action: { delay: 50ms } }\n",
    );
    let sandbox = sandbox(&yaml);
    add_fault(
        &sandbox,
        json!({ "id": "gone", "match": { "provider": "acedata" }, "action": "empty", "when": { "first": 1 } }),
    );
    let started = Instant::now();
    assert!(lookup(&sandbox, CARD).unwrap().bytes().unwrap().is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "the delay applies too"
    );
    let entry = sandbox.journal().pop().unwrap();
    assert_eq!(entry.faults, ["slowly", "gone"]);
    // Refused rules say why; ids are unique; removal by id; a reset restores the scenario's.
    let (status, body) = admin_send(
        &sandbox,
        "POST",
        "/faults",
        &json!({ "action": { "error": "system_busy" } }).to_string(),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("match.provider"));
    let (status, _) = admin_send(
        &sandbox,
        "POST",
        "/faults",
        &json!({ "id": "gone", "action": "empty" }).to_string(),
    );
    assert_eq!(status, 400);
    assert_eq!(admin_send(&sandbox, "DELETE", "/faults/gone", "").0, 200);
    assert_eq!(admin_send(&sandbox, "DELETE", "/faults/gone", "").0, 404);
    assert_eq!(
        admin_send(&sandbox, "DELETE", "/faults", "").1["removed"],
        1
    );
    assert_eq!(admin_send(&sandbox, "POST", "/reset", "").0, 200);
    let (_, listed) = admin_get(&sandbox, "/faults");
    assert_eq!(listed["faults"].as_array().unwrap().len(), 1);
    assert_eq!(listed["faults"][0]["rule"]["id"], "slowly");
    // A bad rule in a scenario file is located.
    assert_located_fault_error(
        "{ match: { provider: kazepay }, action: { error: no_such_code } }",
        "no_such_code",
        "`no_such_code` is not an entry of kazepay's error catalog",
    );
}

#[test]
fn catalog_errors_are_answered_in_the_providers_own_encrypted_format() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { match: { provider: kazepay, operation: queryCard, fields: { cardID: \"3377\" } }, action: { error: system_busy } }\n",
    ));
    let mut client = issuer_sandbox::providers::kazepay::client::Client::demo();
    let query =
        |client: &mut issuer_sandbox::providers::kazepay::client::Client, card: &str, no: &str| {
            let envelope = client
                .seal_request("queryCard", no, &json!({ "cardID": card }))
                .unwrap();
            let (_, response) = status_json(client_post(&sandbox, "/kazepay", &envelope));
            client.open_response(&response).unwrap()
        };
    let busy = query(&mut client, "3377", "1");
    assert_eq!(busy.code, "SYSTEM_BUSY");
    assert_eq!(
        busy.body,
        Some(json!({ "encrypt": "FAILED" })),
        "sealed, as every KazePay failure"
    );
    let other = query(&mut client, "3378", "2");
    assert_ne!(other.code, "SYSTEM_BUSY");
}

fn client_post(sandbox: &Sandbox, path: &str, body: &Value) -> reqwest::blocking::Response {
    client()
        .post(format!("{}{path}", sandbox.url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
}

#[test]
fn broken_crypto_is_caught_by_clients_that_verify() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { match: { provider: kazepay }, action: break_crypto }\n  - { match: { provider: pagsmile }, action: break_crypto }\n",
    ));
    let mut kazepay = issuer_sandbox::providers::kazepay::client::Client::demo();
    let envelope = kazepay
        .seal_request("getWebhookUrl", "1", &json!({}))
        .unwrap();
    let (status, response) = status_json(client_post(&sandbox, "/kazepay", &envelope));
    assert_eq!(status, 200);
    let error = kazepay.open_response(&response).unwrap_err().to_string();
    assert!(error.contains("signature"), "{error}");
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let request = pagsmile
        .seal_request("R-1", &json!({ "card_token": "CT202611210000000001" }))
        .unwrap();
    let (_, response) = status_json(client_post(
        &sandbox,
        "/issuing/card/query-card-balance",
        &request,
    ));
    assert_eq!(response["code"], "10000");
    assert!(
        pagsmile.open_response(&response).is_err(),
        "the random_key no longer unwraps"
    );
}

#[test]
fn a_lost_answer_after_a_card_was_issued_leaves_the_card_issued() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { match: { provider: pagsmile, operation: /issuing/card/apply }, action: reset, after: true, when: { first: 1 } }\n",
    ));
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let apply = json!({ "order_no": "LOST-1", "card_scheme": 3, "card_type": 1, "holder_id": 20000001, "initial_balance": "10.00" });
    let request = pagsmile.seal_request("A-1", &apply).unwrap();
    let lost = client()
        .post(format!("{}/issuing/card/apply", sandbox.url()))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send();
    assert!(lost.is_err(), "no answer");
    // The card exists and the money moved, as when a real provider's answer is lost.
    let world = state(&sandbox, "demo");
    assert_eq!(world["orders"]["LOST-1"]["state"], "completed");
    assert_eq!(world["accounts"]["USD"]["amount"], "99990.00");
    // The client's retry with the same order number is told it exists; it can look it up.
    let retry = pagsmile.seal_request("A-2", &apply).unwrap();
    let (_, response) = status_json(client_post(&sandbox, "/issuing/card/apply", &retry));
    assert_eq!(response["sub_code"], "order-no-repeated");
    let lookup = pagsmile
        .seal_request("A-3", &json!({ "order_no": "LOST-1" }))
        .unwrap();
    let (_, response) = status_json(client_post(
        &sandbox,
        "/issuing/card/query-apply-card-result",
        &lookup,
    ));
    assert_eq!(
        pagsmile.open_response(&response).unwrap().data.unwrap()["order_status"],
        5
    );
    // A fault before processing changes nothing.
    add_fault(
        &sandbox,
        json!({ "match": { "provider": "pagsmile", "operation": "/issuing/card/apply" }, "action": "reset" }),
    );
    let mut second = apply.clone();
    second["order_no"] = json!("LOST-2");
    let request = pagsmile.seal_request("A-4", &second).unwrap();
    assert!(
        client()
            .post(format!("{}/issuing/card/apply", sandbox.url()))
            .body(request.to_string())
            .send()
            .is_err()
    );
    assert!(state(&sandbox, "demo")["orders"].get("LOST-2").is_none());
}

#[test]
fn keysecure_and_pagsmile_catalog_errors_and_status() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { match: { provider: pagsmile, operation: /issuing/card/query-card-balance }, action: { error: unavailable } }\n  - { match: { provider: keysecure, operation: /open-api/v1/card/support/bins }, action: { status: 503 } }\n",
    ));
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let request = pagsmile
        .seal_request("R-1", &json!({ "card_token": "CT202611210000000001" }))
        .unwrap();
    let (_, response) = status_json(client_post(
        &sandbox,
        "/issuing/card/query-card-balance",
        &request,
    ));
    assert_eq!(
        (response["code"].clone(), response["sub_code"].clone()),
        (json!("20000"), json!("isp.service-unavailable"))
    );
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    let token: Value = keysecure_token(&sandbox).unwrap().json().unwrap();
    let (status, body) = status_json(
        client()
            .post(format!("{}/open-api/v1/card/support/bins", sandbox.url()))
            .header("Api-Key", "demo-keysecure-api-key")
            .header("Timestamp", &now)
            .header(
                "Access-Token",
                token["data"]["access_token"].as_str().unwrap(),
            )
            .json(&json!({}))
            .send()
            .unwrap(),
    );
    assert_eq!((status, body["code"].clone()), (503, json!(1001)));
}

#[test]
fn injected_failures_spend_no_rate_quota() {
    // AceData: two tokens a second; the first two requests are answered by a fault.
    let yaml = FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: frozen\nacedata: { rate_limit: { per_second: 2, burst: 2 } }\nfaults:\n  - { match: { provider: acedata }, action: { status: 503 }, when: { first: 2 } }\n",
    );
    let acedata = sandbox(&yaml);
    let statuses: Vec<u16> = (0..4)
        .map(|_| lookup(&acedata, CARD).unwrap().status().as_u16())
        .collect();
    assert_eq!(statuses, [503, 503, 200, 200]);
    assert_eq!(lookup(&acedata, CARD).unwrap().status().as_u16(), 429);

    // KeySecure: one call allowed; a lost answer before processing leaves it for the next.
    let yaml = FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: frozen\nkeysecure: { rate_limit: { per_second: 1, burst: 1 } }\nfaults:\n  - { match: { provider: keysecure }, action: reset, when: { first: 1 } }\n",
    );
    let sandbox = sandbox(&yaml);
    let token = || keysecure_token(&sandbox);
    assert!(token().is_err(), "the first call is dropped");
    let (_, body) = status_json(token().unwrap());
    assert_eq!(body["code"], 0, "{body}");
    let (_, body) = status_json(token().unwrap());
    assert_eq!(body["code"], 1009, "{body}");
}

#[test]
fn the_keysecure_token_request_is_subject_to_faults() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { match: { provider: keysecure, operation: /open-api/v1/merchant/token }, action: { status: 503 } }\n",
    ));
    let (status, body) = status_json(keysecure_token(&sandbox).unwrap());
    assert_eq!((status, body["code"].clone()), (503, json!(1001)), "{body}");
}

#[test]
fn rule_ids_never_collide_and_only_named_ids_can_be_deleted() {
    let sandbox = sandbox(&scenario(
        "faults:\n  - { id: f2, match: { provider: acedata, operation: check-4e }, action: empty }\n  - { match: { provider: acedata, operation: check-3e }, action: empty }\n",
    ));
    let ids = |sandbox: &Sandbox| -> Vec<String> {
        admin_get(sandbox, "/faults").1["faults"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // The unnamed scenario rule skipped the taken f2.
    assert_eq!(ids(&sandbox), ["f2", "f3"]);
    let rule =
        json!({ "match": { "provider": "acedata", "operation": "check-2e" }, "action": "empty" });
    assert_eq!(add_fault(&sandbox, rule.clone()), "f4");
    add_fault(
        &sandbox,
        json!({ "id": "f5", "action": "empty", "match": { "provider": "kazepay" } }),
    );
    assert_eq!(add_fault(&sandbox, rule), "f6");
    // An empty id names no rule: nothing is removed.
    let (status, body) = admin_send(&sandbox, "DELETE", "/faults/", "");
    assert_eq!(status, 404, "{body}");
    assert_eq!(ids(&sandbox).len(), 5);
    for bad_id in ["my rule/x", "", "ü"] {
        let (status, body) = admin_send(
            &sandbox,
            "POST",
            "/faults",
            &json!({ "id": bad_id, "action": "empty" }).to_string(),
        );
        assert_eq!(status, 400, "{bad_id}: {body}");
        assert!(body["message"].as_str().unwrap().contains("id"), "{body}");
    }
}

#[test]
fn rules_that_could_not_work_are_refused_with_the_reason() {
    let sandbox = sandbox(&scenario(""));
    for (rule, reason) in [
        (json!({ "action": { "status": 100 } }), "400 to 599"),
        (json!({ "action": { "status": 204 } }), "400 to 599"),
        (
            json!({ "action": { "delay": { "lognormal": { "median": "1s", "sigma": 50 } } } }),
            "sigma",
        ),
        (
            json!({ "action": { "slow": { "chunk_bytes": 1, "interval": "2h" } } }),
            "interval",
        ),
        (
            json!({ "action": "empty", "when": { "first": 0 } }),
            "when.first",
        ),
        (
            json!({ "action": "empty", "when": { "from": "2027-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z" } }),
            "when.until",
        ),
        (
            json!({ "action": { "delay": "1s" }, "after": true }),
            "`after`",
        ),
        (
            json!({ "action": "empty", "match": { "tenant": "nosuchshop" } }),
            "nosuchshop",
        ),
    ] {
        let (status, body) = admin_send(&sandbox, "POST", "/faults", &rule.to_string());
        assert_eq!(status, 400, "{rule}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(reason), "{rule}: {message}");
    }
    assert_eq!(admin_get(&sandbox, "/faults").1["faults"], json!([]));
    // The same checks hold in a scenario file, located.
    assert_located_fault_error(
        "{ match: { tenant: nosuchshop }, action: empty }",
        "nosuchshop",
        "matches no merchant",
    );
}

/// A disabled rule matches and counts nothing until enabled again; unknown ids are 404.
#[test]
fn a_rule_can_be_disabled_and_enabled() {
    let sandbox = sandbox(&FROZEN_DEFAULT);
    let (status, _) = admin_send(
        &sandbox,
        "POST",
        "/faults",
        r#"{"id":"down","match":{"provider":"acedata"},"action":{"status":503}}"#,
    );
    assert_eq!(status, 201);
    let lookup = || lookup_status(&sandbox, "demo-acedata-token");
    assert_eq!(lookup(), 503);
    let (status, answer) = admin_send(&sandbox, "POST", "/faults/down/disable", "");
    assert_eq!(
        (status, answer),
        (200, json!({ "id": "down", "disabled": true }))
    );
    assert_eq!(lookup(), 200);
    let (_, listed) = admin_get(&sandbox, "/faults");
    assert_eq!(listed["faults"][0]["disabled"], true);
    assert_eq!(
        listed["faults"][0]["matches"], 1,
        "a disabled rule counts nothing"
    );
    let (status, _) = admin_send(&sandbox, "POST", "/faults/down/enable", "");
    assert_eq!(status, 200);
    assert_eq!(lookup(), 503);
    let (status, _) = admin_send(&sandbox, "POST", "/faults/nope/disable", "");
    assert_eq!(status, 404);
}
