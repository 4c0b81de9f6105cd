//! The control API over HTTP.

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn health_lists_scenario_tenants_and_providers() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let (status, body) = admin_get(&sandbox, "/health");
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["scenario"], "two-merchants");
    assert_eq!(body["tenants"], json!(["alpha", "beta"]));
    assert_eq!(
        body["providers"],
        json!(["acedata", "keysecure", "pagsmile", "kazepay"])
    );
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn state_shows_one_tenant_or_all_and_refuses_unknown_ones() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let alpha = state(&sandbox, "alpha");
    assert_eq!(alpha["merchant"]["id"], "alpha");
    assert_eq!(alpha["cards"]["icbc"]["pan"], "6222020200112233446");
    assert_eq!(
        alpha["cards"]["icbc"]["available"],
        json!({ "amount": "10.00", "currency": "CNY" })
    );
    assert_eq!(
        alpha["accounts"]["CNY"],
        json!({ "amount": "1000.00", "currency": "CNY" })
    );
    assert_eq!(
        alpha["clock"],
        json!({ "now": "2026-03-01T08:00:00Z", "frozen": true })
    );
    assert_eq!(alpha["cardholders"]["zhang"]["kyc"]["status"], "passed");
    let (status, all) = admin_get(&sandbox, "/state");
    assert_eq!(status, 200);
    assert_eq!(all["tenants"].as_object().unwrap().len(), 2);
    let (status, body) = admin_get(&sandbox, "/state?tenant=gamma");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "unknown_tenant");
    assert!(body["message"].as_str().unwrap().contains("alpha, beta"));
}

#[test]
fn two_tenants_cannot_see_each_others_data() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let alpha = state(&sandbox, "alpha");
    let beta = state(&sandbox, "beta");
    assert!(beta["cards"].get("icbc").is_none());
    assert!(beta["cardholders"].get("zhang").is_none());
    assert!(alpha["cardholders"].get("li").is_none());
    // The same PAN exists in both worlds with different holders and statuses.
    let alpha_says = acedata(
        &sandbox,
        "check-2e",
        "alpha-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜" }),
    );
    let beta_says = acedata(
        &sandbox,
        "check-2e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜" }),
    );
    assert_eq!(alpha_says.1["result"], "-13");
    assert_eq!(beta_says.1["result"], "0");
    // Alpha's card is unknown to beta.
    let (_, answer) = acedata(
        &sandbox,
        "check-2e",
        "beta-token",
        json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    assert_eq!(answer["result"], "-1");
    // Journal entries carry their tenant.
    let (_, journal) = admin_get(&sandbox, "/requests?tenant=beta");
    assert_eq!(journal["count"], 2);
    // Advancing one tenant's clock leaves the other alone.
    admin_send(
        &sandbox,
        "POST",
        "/clock/advance",
        r#"{"by": "1h", "tenant": "alpha"}"#,
    );
    let clocks = || {
        (
            state(&sandbox, "alpha")["clock"]["now"].clone(),
            state(&sandbox, "beta")["clock"]["now"].clone(),
        )
    };
    let after_one_hour = (json!("2026-03-01T09:00:00Z"), json!("2026-03-01T08:00:00Z"));
    assert_eq!(clocks(), after_one_hour);
    // Refused, moving nothing: two different tenants, a jump beyond a century.
    for (path, body) in [
        (
            "/clock/advance?tenant=beta",
            r#"{"by": "1h", "tenant": "alpha"}"#,
        ),
        (
            "/clock?tenant=beta",
            r#"{"now": "2027-01-01T00:00:00Z", "tenant": "alpha"}"#,
        ),
        ("/clock/advance", r#"{"seconds": 9223372036854775807}"#),
    ] {
        let method = if path.starts_with("/clock?") {
            "PUT"
        } else {
            "POST"
        };
        let (status, reply) = admin_send(&sandbox, method, path, body);
        assert_eq!(status, 400, "{path} {body}: {reply}");
    }
    assert_eq!(clocks(), after_one_hour);
}

#[test]
fn reset_restores_one_tenant_or_all() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let body = json!({ "bank_card": "6222020200112233446" });
    for _ in 0..3 {
        acedata(&sandbox, "check-1e", "alpha-token", body.clone());
    }
    assert_eq!(
        acedata(&sandbox, "check-1e", "alpha-token", body.clone()).0,
        429
    );
    admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "2h"}"#);

    let (status, reply) = admin_send(&sandbox, "POST", "/reset?tenant=alpha", "");
    assert_eq!(status, 200);
    assert_eq!(reply["reset"], json!(["alpha"]));
    assert_eq!(
        state(&sandbox, "alpha")["clock"]["now"],
        "2026-03-01T08:00:00Z"
    );
    assert_eq!(
        state(&sandbox, "beta")["clock"]["now"],
        "2026-03-01T10:00:00Z"
    );
    // The rate meter is part of the world: it is full again.
    assert_eq!(acedata(&sandbox, "check-1e", "alpha-token", body).0, 200);

    let (_, reply) = admin_send(&sandbox, "POST", "/reset", r#"{"tenant": "beta"}"#);
    assert_eq!(reply["reset"], json!(["beta"]));
    admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "5m"}"#);
    let (_, reply) = admin_send(&sandbox, "POST", "/reset", "");
    assert_eq!(reply["reset"], json!(["alpha", "beta"]));
    assert_eq!(
        state(&sandbox, "beta")["clock"]["now"],
        "2026-03-01T08:00:00Z"
    );
    let (status, reply) = admin_send(&sandbox, "POST", "/reset?tenant=nope", "");
    assert_eq!(
        (status, reply["error"].as_str()),
        (404, Some("unknown_tenant"))
    );
}

#[test]
fn a_reset_with_a_malformed_body_is_refused_and_resets_nothing() {
    let sandbox = sandbox(TWO_MERCHANTS);
    admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "1h"}"#);
    let before = (state(&sandbox, "alpha"), state(&sandbox, "beta"));
    for body in [
        r#"{"tenat": "alpha"}"#,
        r#"{"tenant": 5}"#,
        "tenant=alpha",
        "[]",
    ] {
        let (status, reply) = admin_send(&sandbox, "POST", "/reset", body);
        assert_eq!(
            (status, reply["error"].as_str()),
            (400, Some("bad_request")),
            "{body}: {reply}"
        );
    }
    let (status, reply) = admin_send(
        &sandbox,
        "POST",
        "/reset?tenant=alpha",
        r#"{"tenant": "beta"}"#,
    );
    assert_eq!(
        (status, reply["error"].as_str()),
        (400, Some("bad_request"))
    );
    assert_eq!((state(&sandbox, "alpha"), state(&sandbox, "beta")), before);
}

#[test]
fn put_scenario_replaces_the_running_one() {
    let sandbox = issuer_sandbox::Sandbox::builder().start().unwrap();
    let (status, reply) = admin_send(&sandbox, "PUT", "/scenario", TWO_MERCHANTS);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["loaded"]["name"], "two-merchants");
    assert_eq!(reply["loaded"]["tenants"], json!(["alpha", "beta"]));
    assert_eq!(lookup_status(&sandbox, "beta-token"), 200);
    // The old tenant's credentials are gone.
    assert_eq!(lookup_status(&sandbox, "demo-acedata-token"), 401);
    let (_, shown) = admin_get(&sandbox, "/scenario");
    assert_eq!(shown["name"], "two-merchants");
    assert_eq!(shown["source"], TWO_MERCHANTS);
}

#[test]
fn an_invalid_scenario_is_400_with_locations_and_changes_nothing() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let before = state(&sandbox, "alpha");
    let broken = "seed: 1\nmerchants:\n  - id: x\n    nmae: typo\n";
    let (status, reply) = admin_send(&sandbox, "PUT", "/scenario", broken);
    assert_eq!(status, 400);
    assert_eq!(reply["error"], "invalid_scenario");
    let problem = &reply["problems"][0];
    assert_eq!(
        (problem["line"].as_u64(), problem["column"].as_u64()),
        (Some(4), Some(5))
    );
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `nmae`")
    );
    assert!(
        problem["snippet"]
            .as_str()
            .unwrap()
            .contains("4 |     nmae: typo")
    );
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("<PUT /__admin/scenario>:4:5")
    );

    let (status, reply) = admin_send(&sandbox, "PUT", "/scenario", "");
    assert_eq!(
        (status, reply["error"].as_str()),
        (400, Some("invalid_scenario"))
    );

    let (status, reply) = admin_send(&sandbox, "PUT", "/scenario", "merchants: [\n");
    assert_eq!(status, 400);
    assert_eq!(reply["problems"][0]["line"], 1);

    let (status, reply) = admin_send(
        &sandbox,
        "PUT",
        "/scenario",
        "merchants:\n  - id: a\n    cards:\n      - { id: c, pan: \"4111111111111112\" }\n",
    );
    assert_eq!(status, 400);
    assert!(
        reply["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Luhn")
    );

    assert_eq!(state(&sandbox, "alpha"), before);
    assert_eq!(admin_get(&sandbox, "/scenario").1["name"], "two-merchants");
    assert_eq!(lookup_status(&sandbox, "beta-token"), 200);
}

#[test]
fn the_journal_records_exchanges_with_bodies_and_filters() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .journal_capacity(3)
        .start()
        .unwrap();
    acedata(
        &sandbox,
        "check-1e",
        "alpha-token",
        json!({ "bank_card": "6222020200112233446" }),
    );
    acedata_raw(&sandbox, "check-1e", Some("wrong"), "{not json");
    let (status, journal) = admin_get(&sandbox, "/requests");
    assert_eq!(status, 200);
    assert_eq!(journal["count"], 2);
    let first = &journal["requests"][0];
    assert_eq!(first["provider"], "acedata");
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/identity/bankcard/check-1e");
    assert_eq!(first["operation"], "check-1e");
    assert_eq!(first["tenant"], "alpha");
    assert_eq!(first["status"], 200);
    assert_eq!(first["sandbox_time"], "2026-03-01T08:00:00Z");
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        first["request"]["raw"],
        json!({ "bank_card": "6222020200112233446" })
    );
    assert_eq!(
        first["response"]["raw"]["account_bank"],
        "Industrial and Commercial Bank of China"
    );
    let second = &journal["requests"][1];
    assert_eq!(second["tenant"], Value::Null);
    assert_eq!(second["status"], 401);
    assert_eq!(second["request"]["raw"], "{not json");

    // Bounded: the oldest go first, ids keep counting.
    for _ in 0..3 {
        acedata(
            &sandbox,
            "check-1e",
            "beta-token",
            json!({ "bank_card": "6222020200112233446" }),
        );
    }
    let (_, journal) = admin_get(&sandbox, "/requests");
    let ids: Vec<u64> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 4, 5]);
    assert_eq!(admin_get(&sandbox, "/health").1["journal"]["dropped"], 2);
    assert_eq!(
        admin_get(&sandbox, "/requests?limit=1").1["requests"][0]["id"],
        5
    );
    assert_eq!(admin_get(&sandbox, "/requests?since=4").1["count"], 1);
    assert_eq!(admin_get(&sandbox, "/requests?tenant=alpha").1["count"], 0);
    assert_eq!(
        admin_get(&sandbox, "/requests?operation=check-1e&provider=acedata").1["count"],
        3
    );
    let (status, reply) = admin_get(&sandbox, "/requests?limit=many");
    assert_eq!(
        (status, reply["error"].as_str()),
        (400, Some("bad_request"))
    );

    let (status, reply) = admin_send(&sandbox, "DELETE", "/requests", "");
    assert_eq!((status, reply["cleared"].as_u64()), (200, Some(3)));
    assert_eq!(admin_get(&sandbox, "/requests").1["count"], 0);
    assert!(sandbox.journal().is_empty());
}

#[test]
fn credentials_list_every_merchant_and_the_platform_public_keys() {
    let sandbox = issuer_sandbox::Sandbox::builder().start().unwrap();
    let (status, body) = admin_get(&sandbox, "/credentials");
    assert_eq!(status, 200);
    let demo = &body["merchants"][0];
    assert_eq!(demo["merchant"], "demo");
    assert_eq!(demo["acedata"][0]["token"], "demo-acedata-token");
    assert_eq!(
        demo["acedata"][0]["rate_limit"],
        json!({ "per_second": 20, "burst": 20 })
    );
    assert_eq!(demo["acedata"][1]["apis"], json!(["check-1e"]));
    assert_eq!(demo["keysecure"]["api_key"], "demo-keysecure-api-key");
    assert_eq!(demo["kazepay"]["sys_id"], "202402271432298822660001");
    assert!(
        demo["kazepay"]["merchant_public_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert!(
        demo["pagsmile"]["merchant_private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    for platform in ["kazepay", "pagsmile"] {
        let key = &body["platform_keys"][platform];
        assert!(
            key["public_pem"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert!(
            key.get("private_pem").is_none(),
            "platform private keys are never served"
        );
    }
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/kazepay-platform.pub.pem"
    ))
    .unwrap();
    assert_eq!(body["platform_keys"]["kazepay"]["public_pem"], on_disk);
}

#[test]
fn the_clock_advances_and_is_set_per_tenant_or_for_all() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let (status, body) = admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "1h 30m"}"#);
    assert_eq!(status, 200);
    assert_eq!(
        body["clocks"][0],
        json!({ "tenant": "alpha", "now": "2026-03-01T09:30:00Z", "frozen": true })
    );
    assert_eq!(body["clocks"][1]["now"], "2026-03-01T09:30:00Z");
    admin_send(&sandbox, "POST", "/clock/advance", r#"{"seconds": 30}"#);
    admin_send(
        &sandbox,
        "POST",
        "/clock/advance?tenant=beta",
        r#"{"ms": 250}"#,
    );
    let (_, body) = admin_get(&sandbox, "/clock");
    assert_eq!(body["clocks"][0]["now"], "2026-03-01T09:30:30Z");
    assert_eq!(body["clocks"][1]["now"], "2026-03-01T09:30:30.25Z");
    admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "PT1H"}"#);
    assert_eq!(
        admin_get(&sandbox, "/clock?tenant=alpha").1["clocks"][0]["now"],
        "2026-03-01T10:30:30Z"
    );

    let (status, body) = admin_send(
        &sandbox,
        "PUT",
        "/clock",
        r#"{"now": "2027-01-01T00:00:00Z", "tenant": "alpha"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        body["clocks"],
        json!([{ "tenant": "alpha", "now": "2027-01-01T00:00:00Z", "frozen": true }])
    );
    let before = (state(&sandbox, "alpha"), state(&sandbox, "beta"));
    let refused = [
        ("POST", "/clock/advance", r#"{"by": "soon"}"#, 400),
        ("POST", "/clock/advance", r#"{"by": "-5m"}"#, 400),
        ("POST", "/clock/advance", r#"{"seconds": 1, "ms": 1}"#, 400),
        ("POST", "/clock/advance", r#"{}"#, 400),
        ("POST", "/clock/advance", r#"{"by": "1h", "extra": 1}"#, 400),
        ("POST", "/clock/advance", "not json", 400),
        (
            "POST",
            "/clock/advance",
            r#"{"by": "1h", "tenant": "nope"}"#,
            404,
        ),
        ("PUT", "/clock", r#"{"now": "yesterday"}"#, 400),
        (
            "PUT",
            "/clock",
            r#"{"now": "2030-01-01T00:00:00Z", "frozen": "yes"}"#,
            400,
        ),
    ];
    for (method, path, body, status) in refused {
        let (actual, reply) = admin_send(&sandbox, method, path, body);
        let code = if status == 404 {
            "unknown_tenant"
        } else {
            "bad_request"
        };
        assert_eq!(
            (actual, reply["error"].as_str()),
            (status, Some(code)),
            "{body}: {reply}"
        );
    }
    assert_eq!(
        (state(&sandbox, "alpha"), state(&sandbox, "beta")),
        before,
        "refused clock calls changed state"
    );

    let (_, body) = admin_send(
        &sandbox,
        "PUT",
        "/clock",
        r#"{"now": "2027-01-01T00:00:00Z", "frozen": false}"#,
    );
    assert_eq!(body["clocks"][1]["frozen"], false);
}

#[test]
fn with_an_admin_token_every_control_call_needs_it() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .admin_token("s3cret")
        .start()
        .unwrap();
    let url = format!("{}/__admin/health", sandbox.url());
    let (status, body) = status_json(client().get(&url).send().unwrap());
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(get_status_with(&url, "authorization", "Bearer wrong"), 401);
    assert_eq!(get_status_with(&url, "authorization", "Bearer s3cret"), 200);
    assert_eq!(get_status_with(&url, "x-admin-token", "s3cret"), 200);
    let reset = client()
        .post(format!("{}/__admin/reset", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(reset.status().as_u16(), 401);
    // Provider endpoints are not affected by the admin token.
    assert_eq!(lookup_status(&sandbox, "demo-acedata-token"), 200);
}

#[test]
fn unknown_control_endpoints_and_methods_are_explained() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let (status, body) = admin_get(&sandbox, "/nothing-here");
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert!(body["endpoints"].as_array().unwrap().len() >= 10);
    let (status, body) = admin_send(&sandbox, "DELETE", "/health", "");
    assert_eq!(
        (status, body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    // Refused from its declared length, before the body is sent.
    let huge = raw_exchange(
        &sandbox,
        &format!(
            "PUT /__admin/scenario HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\nxx",
            17 * 1024 * 1024
        ),
    );
    assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
    assert!(huge.contains(r#""error": "request_too_large""#), "{huge}");
    let (status, body) = status_json(
        client()
            .put(format!("{}/__admin/scenario", sandbox.url()))
            .body(vec![0xff, 0xfe, 0x00])
            .send()
            .unwrap(),
    );
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
}

/// The journal keeps each request's headers (for the console and copy-as-curl), each value
/// cut at 1 KiB so a client cannot grow an entry without bound.
#[test]
fn the_journal_keeps_request_headers_within_bounds() {
    let sandbox = sandbox(&FROZEN_DEFAULT);
    let long = "x".repeat(5000);
    let response = client()
        .post(format!("{}/identity/bankcard/check-1e", sandbox.url()))
        .header("Authorization", "Bearer demo-acedata-token")
        .header("X-Trace", &long)
        .json(&json!({ "bank_card": "6222020200112233446" }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, journal) = admin_get(&sandbox, "/requests?provider=acedata");
    let headers = journal["requests"][0]["request_headers"]
        .as_array()
        .unwrap();
    let value = |name: &str| {
        headers
            .iter()
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].as_str().unwrap().to_owned())
    };
    assert_eq!(
        value("authorization").as_deref(),
        Some("Bearer demo-acedata-token")
    );
    assert_eq!(value("x-trace").map(|v| v.len()), Some(1024));
    assert_eq!(value("content-type").as_deref(), Some("application/json"));
    let answered = journal["requests"][0]["response_headers"]
        .as_array()
        .unwrap();
    assert!(
        answered.iter().any(|pair| pair[0] == "content-type"),
        "{answered:?}"
    );
}
