//! AceData over HTTP: lookups, verifications, every gateway error, and that bad input changes
//! nothing.

use serde_json::{Value, json};

use crate::support::*;

fn lookup(sandbox: &issuer_sandbox::Sandbox, card: &str) -> (u16, Value) {
    acedata(
        sandbox,
        "check-1e",
        "beta-token",
        json!({ "bank_card": card }),
    )
}

#[test]
fn default_scenario_answers_an_icbc_debit_card_like_the_seed() {
    let sandbox = issuer_sandbox::Sandbox::builder().start().unwrap();
    let (status, body) = acedata(
        &sandbox,
        "check-1e",
        "demo-acedata-token",
        json!({ "bank_card": "6222020200112233446" }),
    );
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({ "result": "0", "description": "Query successful", "account_bank": "Industrial and Commercial Bank of China", "account_type": 1 })
    );
    // Field order as documented.
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["result", "description", "account_bank", "account_type"]
    );
}

/// Seed 000 answers in English; `language: zh` answers as AceData's Chinese guides do, bank
/// names from the same table. `failure_account_type` replaces the assumed -1 of failures.
#[test]
fn answer_language_and_failure_account_type_are_scenario_knobs() {
    let chinese = sandbox(&TWO_MERCHANTS.replace(
        "name: two-merchants",
        "name: chinese\nacedata: { language: zh, failure_account_type: 0 }",
    ));
    assert_eq!(
        lookup(&chinese, "6222020200112233446").1,
        json!({ "result": "0", "description": "查询成功", "account_bank": "工商银行", "account_type": 1 })
    );
    assert_eq!(
        lookup(&chinese, "9999999999999995").1,
        json!({ "result": "-1", "description": "未查到信息", "account_bank": "", "account_type": 0 })
    );
    let (_, body) = acedata(
        &chinese,
        "check-2e",
        "alpha-token",
        json!({ "bank_card": "6222020200112233446", "name": "张三" }),
    );
    assert_eq!(body, json!({ "result": "-1", "description": "认证未通过" }));

    let english = sandbox(TWO_MERCHANTS);
    assert_eq!(
        lookup(&english, "9999999999999995").1,
        json!({ "result": "-1", "description": "No information found", "account_bank": "", "account_type": -1 })
    );
    // A pinned answer may use the configured failure value, not another outside 1–4.
    let pinned = |failure: i64, pin: i64| {
        TWO_MERCHANTS.replace(
            "name: two-merchants",
            &format!(
                "name: pins\nacedata:\n  failure_account_type: {failure}\n  answers:\n    - {{ bank_card: \"6200000000000005\", result: \"-1\", account_type: {pin} }}"
            ),
        )
    };
    assert_eq!(
        lookup(&sandbox(&pinned(0, 0)), "6200000000000005").1["account_type"],
        0
    );
    let problems = scenario_problems(&pinned(0, -1));
    assert!(
        problems.contains("account_type -1 is not 1, 2, 3, 4 or the failure_account_type 0"),
        "{problems}"
    );
    let problems = scenario_problems(&TWO_MERCHANTS.replace(
        "name: two-merchants",
        "name: bad\nacedata: { language: fr }",
    ));
    assert!(problems.contains("language"), "{problems}");
}

#[test]
fn lookup_reports_card_nature_from_the_bin_table() {
    let sandbox = sandbox(TWO_MERCHANTS);
    for (card, bank, account_type) in [
        ("6225751234567893", "China Merchants Bank", 2), // CMB credit
        ("6228480011223344554", "Agricultural Bank of China", 1), // ABC debit
        ("4147201234567899", "JPMorgan Chase Bank, N.A.", 2), // Chase Visa credit
    ] {
        let (status, body) = lookup(&sandbox, card);
        assert_eq!(status, 200);
        assert_eq!(body["result"], "0", "{card}: {body}");
        assert_eq!(body["account_bank"], bank, "{card}");
        assert_eq!(body["account_type"], account_type, "{card}");
    }
}

#[test]
fn replacing_a_built_in_bank_renames_it_in_every_answer() {
    let yaml = TWO_MERCHANTS.replace(
        "name: two-merchants",
        "name: rename\nbanks:\n  - { code: ICBC, name_zh: 中国工商银行, name_en: ICBC Ltd, country: CN }",
    );
    let sandbox = sandbox(&yaml);
    assert_eq!(
        lookup(&sandbox, "6222020200112233446").1["account_bank"],
        "ICBC Ltd"
    );
}

#[test]
fn quasi_credit_and_prepaid_ranges_map_to_types_3_and_4() {
    let sandbox = sandbox(TWO_MERCHANTS);
    // ICBC 622210 is quasi-credit; generate valid numbers on it and on a prepaid range.
    let quasi = with_luhn("622210123456789");
    let (_, body) = lookup(&sandbox, &quasi);
    assert_eq!(body["account_type"], 4, "{body}");
    let prepaid_bin =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/bins.csv"))
            .unwrap()
            .lines()
            .find(|l| l.contains(",prepaid,"))
            .map(|l| {
                l.split(',')
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap();
    let length: usize = prepaid_bin[1].parse().unwrap();
    let partial = format!(
        "{}{}",
        prepaid_bin[0],
        "1".repeat(length - prepaid_bin[0].len() - 1)
    );
    let (_, body) = lookup(&sandbox, &with_luhn(&partial));
    assert_eq!(body["account_type"], 3, "{body}");
}

#[test]
fn english_language_uses_english_texts_and_bank_names() {
    let yaml = TWO_MERCHANTS.replace("name: two-merchants", "name: en\nacedata: { language: en }");
    let sandbox = sandbox(&yaml);
    let (_, body) = lookup(&sandbox, "6222020200112233446");
    assert_eq!(body["description"], "Query successful");
    assert_eq!(
        body["account_bank"],
        "Industrial and Commercial Bank of China"
    );
    let (_, body) = lookup(&sandbox, "6222020200112233445");
    assert_eq!(body["description"], "Bank card does not exist");
}

#[test]
fn malformed_luhn_invalid_and_unknown_cards_get_the_documented_codes() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let cases = [
        ("6222020200112233445", "-3", "Bank card does not exist"), // Luhn failure
        ("6222 0202 0011 2233", "-3", "Bank card does not exist"), // non-digits
        ("62220202", "-3", "Bank card does not exist"),            // too short
        ("62220202001122334460", "-3", "Bank card does not exist"), // too long (20)
        ("9999999999999995", "-1", "No information found"),        // valid Luhn, unknown BIN
    ];
    for (card, result, description) in cases {
        let (status, body) = lookup(&sandbox, card);
        assert_eq!(status, 200, "{card}");
        assert_eq!(
            body,
            json!({ "result": result, "description": description, "account_bank": "", "account_type": -1 }),
            "{card}"
        );
    }
}

#[test]
fn missing_unknown_or_malformed_tokens_are_401_invalid_token() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let body = r#"{"bank_card":"6222020200112233446"}"#;
    assert_gateway_error(
        &acedata_raw(&sandbox, "check-1e", None, body),
        401,
        "invalid_token",
    );
    assert_gateway_error(
        &acedata_raw(&sandbox, "check-1e", Some("nope"), body),
        401,
        "invalid_token",
    );
    let basic = client()
        .post(format!("{}/identity/bankcard/check-1e", sandbox.url()))
        .header("authorization", "Basic YWxwaGEtdG9rZW46")
        .body(body)
        .send()
        .unwrap();
    assert_gateway_error(&status_json(basic), 401, "invalid_token");
    let message = acedata_raw(&sandbox, "check-1e", None, body).1["error"]["message"].clone();
    assert_eq!(message, "The specified token is invalid or wrong.");
}

#[test]
fn a_token_scoped_to_check_1e_gets_token_mismatched_elsewhere() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let (status, _) = acedata(
        &sandbox,
        "check-1e",
        "alpha-lookup-only",
        json!({ "bank_card": "6222020200112233446" }),
    );
    assert_eq!(status, 200);
    let reply = acedata(
        &sandbox,
        "check-2e",
        "alpha-lookup-only",
        json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    assert_gateway_error(&reply, 400, "token_mismatched");
}

#[test]
fn exceeding_the_token_rate_limit_is_429_until_the_clock_moves() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let body = json!({ "bank_card": "6222020200112233446" });
    // burst 3 at 2/s on a frozen clock: three pass, the fourth is refused.
    for _ in 0..3 {
        assert_eq!(
            acedata(&sandbox, "check-1e", "alpha-token", body.clone()).0,
            200
        );
    }
    let refused = acedata(&sandbox, "check-1e", "alpha-token", body.clone());
    assert_gateway_error(&refused, 429, "too_many_requests");
    assert_eq!(
        refused.1["error"]["message"],
        "You have exceeded the rate limit."
    );
    // Another merchant's unlimited token is unaffected.
    assert_eq!(
        acedata(&sandbox, "check-1e", "beta-token", body.clone()).0,
        200
    );
    // Half a second refills one token at 2/s.
    let (status, _) = admin_send(&sandbox, "POST", "/clock/advance", r#"{"by": "500ms"}"#);
    assert_eq!(status, 200);
    assert_eq!(
        acedata(&sandbox, "check-1e", "alpha-token", body.clone()).0,
        200
    );
    assert_gateway_error(
        &acedata(&sandbox, "check-1e", "alpha-token", body),
        429,
        "too_many_requests",
    );
}

#[test]
fn bad_bodies_are_400_bad_request_naming_the_problem() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let cases = [
        ("", "empty"),
        ("{", "not valid JSON"),
        ("[1,2]", "JSON object"),
        ("{}", "`bank_card` is required"),
        (r#"{"bank_card": null}"#, "`bank_card` is required"),
        (r#"{"bank_card": ""}"#, "`bank_card` must not be empty"),
        (
            r#"{"bank_card": 6222020200112233446}"#,
            "`bank_card` must be a string",
        ),
        (
            r#"{"bank_card": "6222020200112233446", "encryption": "x"}"#,
            "`encryption`",
        ),
    ];
    for (body, needle) in cases {
        let reply = acedata_raw(&sandbox, "check-1e", Some("beta-token"), body);
        assert_gateway_error(&reply, 400, "bad_request");
        let message = reply.1["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body:?}: {message}");
    }
    // The documented encryption shape is accepted.
    let ok =
        r#"{"bank_card": "6222020200112233446", "encryption": [{"algorithm": "AES-256-CBC"}]}"#;
    assert_eq!(
        acedata_raw(&sandbox, "check-1e", Some("beta-token"), ok).0,
        200
    );
    let missing_name = acedata(
        &sandbox,
        "check-2e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442" }),
    );
    assert_gateway_error(&missing_name, 400, "bad_request");
    let missing_id = acedata(
        &sandbox,
        "check-3e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜" }),
    );
    assert!(
        missing_id.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`id_card`")
    );
    let bad_cert = acedata(
        &sandbox,
        "check-3e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜", "id_card": "310101198805120028", "cert_type": "0" }),
    );
    assert!(
        bad_cert.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`cert_type`")
    );
    let phone_as_number = acedata(
        &sandbox,
        "check-4e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜", "id_card": "310101198805120028", "phone": 13800138000u64 }),
    );
    assert_gateway_error(&phone_as_number, 400, "bad_request");
    assert!(
        phone_as_number.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`phone` must be a string")
    );
    for cert_type in [json!(-1), json!(8), json!(1.5)] {
        let reply = acedata(
            &sandbox,
            "check-3e",
            "beta-token",
            json!({ "bank_card": "6217009988776655442", "name": "李娜", "id_card": "310101198805120028", "cert_type": cert_type }),
        );
        assert_gateway_error(&reply, 400, "bad_request");
        assert!(
            reply.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`cert_type`"),
            "{cert_type}"
        );
    }
}

#[test]
fn check_4e_without_a_phone_compares_the_other_elements() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let body = |name: &str| json!({ "bank_card": "6217009988776655442", "name": name, "id_card": "310101198805120028" });
    assert_eq!(
        acedata(&sandbox, "check-4e", "beta-token", body("李娜")).1["result"],
        "0"
    );
    assert_eq!(
        acedata(&sandbox, "check-4e", "beta-token", body("李四")).1["result"],
        "-1"
    );
}

#[test]
fn other_certificate_types_are_checked_loosely_and_matched_exactly() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let claim = |id: &str, cert_type: i64| json!({ "bank_card": "4147209999999991", "name": "Alice Smith", "id_card": id, "cert_type": cert_type });
    let answer = |body| acedata(&sandbox, "check-3e", "beta-token", body).1["result"].clone();
    assert_eq!(
        answer(claim("X12345678", 2)),
        "0",
        "passport number matches"
    );
    assert_eq!(
        answer(claim("X12345679", 2)),
        "-1",
        "another passport number"
    );
    assert_eq!(answer(claim("X1", 2)), "-4", "too short for any document");
    assert_eq!(
        answer(claim("X12345678", 0)),
        "-4",
        "not a mainland ID number"
    );
}

#[test]
fn names_longer_than_sixty_characters_fail_the_name_check() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let long = "A".repeat(61);
    let (_, answer) = acedata(
        &sandbox,
        "check-2e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": long }),
    );
    assert_eq!(answer["result"], "-2");
}

#[test]
fn refused_requests_do_not_use_up_the_rate_limit() {
    let sandbox = sandbox(TWO_MERCHANTS);
    // alpha-token allows a burst of 3 on a frozen clock.
    for body in ["{", "{}", r#"{"bank_card": 1}"#, "[]", ""] {
        assert_eq!(
            acedata_raw(&sandbox, "check-1e", Some("alpha-token"), body).0,
            400
        );
    }
    for _ in 0..3 {
        assert_eq!(lookup_status(&sandbox, "alpha-token"), 200);
    }
    assert_eq!(lookup_status(&sandbox, "alpha-token"), 429);
}

#[test]
fn trace_ids_repeat_for_the_same_seed_and_requests_after_a_reset() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let trace_ids = || {
        let bad_body = acedata_raw(&sandbox, "check-1e", Some("beta-token"), "{");
        let bad_token = acedata_raw(&sandbox, "check-1e", Some("nope"), "{}");
        let scoped = acedata(&sandbox, "check-2e", "alpha-lookup-only", json!({}));
        [bad_body, bad_token, scoped].map(|(_, body)| body["trace_id"].as_str().unwrap().to_owned())
    };
    let first = trace_ids();
    assert_eq!(admin_send(&sandbox, "POST", "/reset", "").0, 200);
    assert_eq!(trace_ids(), first);
    // Each tenant draws from its own stream: alpha's traffic does not shift beta's ids.
    sandbox.reset();
    acedata_raw(&sandbox, "check-1e", Some("alpha-token"), "{");
    assert_eq!(trace_ids()[0], first[0]);
}

#[test]
fn wrong_method_and_unimplemented_identity_apis_get_gateway_errors() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let get = client()
        .get(format!("{}/identity/bankcard/check-1e", sandbox.url()))
        .header("authorization", "Bearer beta-token")
        .send()
        .unwrap();
    assert_gateway_error(&status_json(get), 405, "method_not_allowed");
    let idcard = acedata(&sandbox, "../idcard/check-1e", "beta-token", json!({}));
    assert_gateway_error(&idcard, 400, "api_not_implemented");
    assert_eq!(idcard.1["error"]["message"], "The API is not implemented.");
}

#[test]
fn an_oversized_body_is_413_in_the_gateway_shape_and_the_server_keeps_serving() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .body_limit(1024)
        .start()
        .unwrap();
    let big = format!(
        r#"{{"bank_card":"6222020200112233446","pad":"{}"}}"#,
        "x".repeat(4096)
    );
    let reply = acedata_raw(&sandbox, "check-1e", Some("beta-token"), &big);
    assert_gateway_error(&reply, 413, "request_too_large");
    assert!(
        reply.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1024 bytes")
    );
    assert_eq!(lookup(&sandbox, "6222020200112233446").0, 200);
}

#[test]
fn a_scenario_can_add_banks_and_bins() {
    let yaml = TWO_MERCHANTS.replace(
        "name: two-merchants",
        r#"name: extra-bins
banks:
  - { code: SBX, name_zh: 沙箱银行, name_en: Sandbox Bank, country: CN }
bins:
  - { bin: "999999", length: 16, kind: prepaid, bank: SBX, scheme: unionpay }
  - { bin: "62220299", length: 19, kind: credit, bank: SBX, scheme: unionpay }"#,
    );
    let sandbox = sandbox(&yaml);
    let (_, body) = lookup(&sandbox, "9999999999999995");
    assert_eq!(
        body,
        json!({ "result": "0", "description": "Query successful", "account_bank": "Sandbox Bank", "account_type": 3 })
    );
    // An 8-digit range refines the built-in 6-digit ICBC range.
    let (_, body) = lookup(&sandbox, &with_luhn("622202991234567890"));
    assert_eq!(
        (body["account_bank"].as_str(), body["account_type"].as_i64()),
        (Some("Sandbox Bank"), Some(2))
    );
    let (_, body) = lookup(&sandbox, "6222020200112233446");
    assert_eq!(
        body["account_bank"],
        "Industrial and Commercial Bank of China"
    );
}

#[test]
fn pinned_answers_override_per_card_and_endpoint() {
    let yaml = TWO_MERCHANTS.replace(
        "name: two-merchants",
        r#"name: pins
acedata:
  answers:
    - { bank_card: "6222020200112233446", endpoint: check-1e, result: "-2" }
    - { bank_card: "6222020200112233446", endpoint: check-2e, result: "-16" }
    - { bank_card: "6200000000000005", result: "0", account_bank: 沙箱银行, account_type: 3 }"#,
    );
    let sandbox = sandbox(&yaml);
    let (_, body) = lookup(&sandbox, "6222020200112233446");
    assert_eq!(
        body,
        json!({ "result": "-2", "description": "Verification center service busy", "account_bank": "", "account_type": -1 })
    );
    let (_, body) = acedata(
        &sandbox,
        "check-2e",
        "alpha-token",
        json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    assert_eq!(
        body,
        json!({ "result": "-16", "description": "Verification center service busy" })
    );
    let (_, body) = lookup(&sandbox, "6200000000000005");
    assert_eq!(body["account_bank"], "沙箱银行");
    assert_eq!(body["account_type"], 3);
}

#[test]
fn verification_passes_only_when_every_element_matches_a_usable_card() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let card = "6222020200112233446";
    let id = "110101199003074514";
    let phone = "13800138000";
    let cases = [
        (
            "check-2e",
            json!({ "bank_card": card, "name": "张伟" }),
            "0",
            "Verification passed",
        ),
        (
            "check-2e",
            json!({ "bank_card": card, "name": "张三" }),
            "-1",
            "Verification failed",
        ),
        (
            "check-3e",
            json!({ "bank_card": card, "name": "张伟", "id_card": id }),
            "0",
            "Verification passed",
        ),
        (
            "check-3e",
            json!({ "bank_card": card, "name": "张伟", "id_card": id, "cert_type": 0 }),
            "0",
            "Verification passed",
        ),
        (
            "check-3e",
            json!({ "bank_card": card, "name": "张伟", "id_card": "310101198805120028" }),
            "-1",
            "Verification failed",
        ),
        (
            "check-3e",
            json!({ "bank_card": card, "name": "张伟", "id_card": "110101199003074515" }),
            "-4",
            "Cardholder information is incorrect",
        ),
        (
            "check-4e",
            json!({ "bank_card": card, "name": "张伟", "id_card": id, "phone": phone }),
            "0",
            "Verification passed",
        ),
        (
            "check-4e",
            json!({ "bank_card": card, "name": "张伟", "id_card": id, "phone": "13900000000" }),
            "-1",
            "Verification failed",
        ),
        (
            "check-4e",
            json!({ "bank_card": card, "name": "张伟", "id_card": id, "phone": "2380013800" }),
            "-4",
            "Cardholder information is incorrect",
        ),
        (
            "check-2e",
            json!({ "bank_card": card, "name": "张伟2" }),
            "-2",
            "Name check failed",
        ),
        (
            "check-2e",
            json!({ "bank_card": "6222020200112233445", "name": "张伟" }),
            "-3",
            "Bank card number is incorrect",
        ),
        (
            "check-2e",
            json!({ "bank_card": "9999999999999995", "name": "张伟" }),
            "-8",
            "No issuing bank for this card",
        ),
        (
            "check-2e",
            json!({ "bank_card": with_luhn("622202999999999999"), "name": "张伟" }),
            "-1",
            "Verification failed",
        ),
    ];
    for (endpoint, body, result, description) in cases {
        let (status, answer) = acedata(&sandbox, endpoint, "alpha-token", body.clone());
        assert_eq!(status, 200);
        assert_eq!(
            answer,
            json!({ "result": result, "description": description }),
            "{endpoint} {body}"
        );
        // Stay under the token's rate limit.
        admin_send(&sandbox, "POST", "/clock/advance", r#"{"seconds": 1}"#);
    }
}

#[test]
fn verification_reflects_the_card_status_in_the_world() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let expired_pan = state(&sandbox, "alpha")["cards"]["expired"]["pan"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("6217009988776655442", "-13", "Restricted card"),
        ("6228480011223344554", "-11", "Card reported lost"),
        ("6225751234567893", "-7", "Invalid card number"),
        ("6225881234123411", "-9", "Card not initialised or dormant"),
        (expired_pan.as_str(), "-12", "Card expired"),
        ("4147201234567899", "-1", "Verification failed"), // a card without a holder cannot match
    ];
    for (card, result, description) in cases {
        let (_, answer) = acedata(
            &sandbox,
            "check-2e",
            "beta-token",
            json!({ "bank_card": card, "name": "张伟" }),
        );
        let beta_sees = answer.clone();
        let (_, answer) = acedata(
            &sandbox,
            "check-2e",
            "alpha-token",
            json!({ "bank_card": card, "name": "张伟" }),
        );
        assert_eq!(
            answer,
            json!({ "result": result, "description": description }),
            "{card}"
        );
        // Beta's world is another world: its only card is li-card.
        if card != "6217009988776655442" {
            assert_eq!(beta_sees["result"], "-1", "{card}: {beta_sees}");
        }
        admin_send(&sandbox, "POST", "/clock/advance", r#"{"seconds": 1}"#);
    }
    let (_, answer) = acedata(
        &sandbox,
        "check-2e",
        "beta-token",
        json!({ "bank_card": "6217009988776655442", "name": "李娜" }),
    );
    assert_eq!(answer["result"], "0");
}

#[test]
fn rejected_requests_change_nothing() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let before = state(&sandbox, "alpha");
    let bodies = [
        r#"{"bank_card": 1}"#,
        "{",
        "",
        r#"{"bank_card":"6222020200112233446","name":"张伟"}"#,
    ];
    for body in bodies {
        acedata_raw(&sandbox, "check-2e", Some("alpha-lookup-only"), body);
        acedata_raw(&sandbox, "check-1e", Some("nope"), body);
        acedata_raw(&sandbox, "check-1e", Some("beta-token"), body);
    }
    assert_eq!(state(&sandbox, "alpha"), before);
}

/// Appends the Luhn check digit.
fn with_luhn(partial: &str) -> String {
    format!(
        "{partial}{}",
        issuer_sandbox::world::ids::luhn_check_digit(partial)
    )
}
