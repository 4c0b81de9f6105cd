//! Scenario validation: every kind of mistake is reported with file, line, column and snippet.

use issuer_sandbox::scenario::{Scenario, ScenarioError};

fn problems(yaml: &str) -> ScenarioError {
    Scenario::from_source(
        yaml,
        "test.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .expect_err("the scenario should be refused")
}

/// Asserts one problem at `line`:`column` whose message contains `needle`.
#[track_caller]
fn assert_problem(yaml: &str, line: u64, column: u64, needle: &str) {
    let error = problems(yaml);
    let found = error.problems.iter().find(|p| p.message.contains(needle));
    let Some(problem) = found else {
        panic!("no problem mentions {needle:?}; got:\n{error}");
    };
    assert_eq!((problem.line, problem.column), (line, column), "{error}");
    assert!(
        problem.snippet.contains(&format!("{line} |")),
        "{}",
        problem.snippet
    );
    let rendered = error.to_string();
    assert!(
        rendered.contains(&format!(" --> test.yaml:{line}:{column}")),
        "{rendered}"
    );
}

/// A scenario whose only merchant `m` has the given (indented) body.
macro_rules! merchant {
    ($body:literal) => {
        concat!("merchants:\n  - id: m\n", $body)
    };
}

/// `(yaml, line, column, text the problem's message contains)`.
type Case = (&'static str, u64, u64, &'static str);

#[track_caller]
fn assert_cases(cases: &[Case]) {
    for (yaml, line, column, needle) in cases {
        assert_problem(yaml, *line, *column, needle);
    }
}

#[test]
fn unknown_keys_are_errors_at_the_key() {
    assert_cases(&[
        (
            "seed: 1\nmerchant:\n  - id: m\n",
            2,
            1,
            "unknown field `merchant`",
        ),
        (
            merchant!(
                "    cardholders:\n      - id: a\n        first_name: A\n        last_name: B\n        emial: x\n"
            ),
            7,
            9,
            "unknown field `emial`",
        ),
    ]);
}

#[test]
fn wrong_types_are_errors_at_the_value() {
    assert_cases(&[
        ("seed: many\nmerchants: []\n", 1, 7, "invalid u64"),
        (
            merchant!("    cards:\n      - { id: c, pan: \"4111111111111111\", form: plastic }\n"),
            4,
            49,
            "unknown variant `plastic`",
        ),
        (
            "clock: { frozen: maybe }\nmerchants: []\n",
            1,
            18,
            "invalid boolean",
        ),
    ]);
}

#[test]
fn bad_dates_are_errors() {
    assert_cases(&[
        (
            merchant!(
                "    cardholders:\n      - { id: a, first_name: A, last_name: B, birthday: 1990-13-01 }\n"
            ),
            4,
            57,
            "month",
        ),
        (
            "clock: { start: yesterday }\nmerchants: []\n",
            1,
            17,
            "year",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, pan: \"4111111111111111\", expiry: 2029-13 }\n"
            ),
            4,
            51,
            "expiry `2029-13` is not YYYY-MM",
        ),
        (
            merchant!(
                "    cardholders:\n      - id: a\n        first_name: A\n        last_name: B\n        id_document: { type: passport, number: X1, issued_on: 2020-01-01, expires_on: 2019-01-01 }\n"
            ),
            7,
            87,
            "is not after issued_on",
        ),
    ]);
}

#[test]
fn duplicate_ids_and_credentials_are_errors_at_the_second() {
    assert_cases(&[
        (
            merchant!(
                "    cardholders:\n      - { id: a, first_name: A, last_name: B }\n      - { id: a, first_name: C, last_name: D }\n"
            ),
            5,
            15,
            "duplicate cardholder id `a`",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, pan: \"4111111111111111\" }\n      - { id: c, pan: \"5555555555554444\" }\n"
            ),
            5,
            15,
            "duplicate card id `c`",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, pan: \"4111111111111111\" }\n      - { id: d, pan: \"4111111111111111\" }\n"
            ),
            5,
            15,
            "already used by the card at line 4",
        ),
        (
            "merchants:\n  - id: m\n  - id: m\n",
            3,
            9,
            "duplicate merchant id `m`",
        ),
        (
            "merchants:\n  - id: a\n    credentials: { acedata: [ { token: t } ] }\n  - id: b\n    credentials: { acedata: [ { token: t } ] }\n",
            5,
            40,
            "acedata credential `t` is already used at line 3",
        ),
        (
            merchant!(
                "    accounts:\n      - { currency: USD, balance: \"1\" }\n      - { currency: USD, balance: \"2\" }\n"
            ),
            5,
            21,
            "duplicate account for USD",
        ),
    ]);
}

#[test]
fn dangling_references_are_errors() {
    assert_cases(&[
        (
            merchant!(
                "    cards:\n      - { id: c, cardholder: nobody, pan: \"4111111111111111\" }\n"
            ),
            4,
            30,
            "no cardholder `nobody` in this merchant",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, issuer: visa-direct, pan: \"4111111111111111\" }\n"
            ),
            4,
            26,
            "unknown issuer `visa-direct`",
        ),
        (
            merchant!("    cards:\n      - { id: c, bin: \"999999\" }\n"),
            4,
            23,
            "BIN 999999 is not in the BIN table",
        ),
        (
            "bins:\n  - { bin: \"999999\", length: 16, kind: debit, bank: NOBANK, scheme: visa }\nmerchants: [{ id: m }]\n",
            2,
            5,
            "unknown bank code `NOBANK`",
        ),
        (
            merchant!(
                "    credentials:\n      kazepay: { sys_id: s, merchant_public_key: builtin:nobody }\n"
            ),
            4,
            50,
            "unknown built-in key `nobody`",
        ),
    ]);
}

#[test]
fn card_numbers_amounts_and_codes_are_checked() {
    assert_cases(&[
        (
            merchant!("    cards:\n      - { id: c, pan: \"4111111111111112\" }\n"),
            4,
            23,
            "fails the Luhn check (a valid last digit would be 1)",
        ),
        (
            merchant!("    cards:\n      - { id: c, pan: \"41111\" }\n"),
            4,
            23,
            "12–19 digits",
        ),
        (
            merchant!("    cards:\n      - { id: c }\n"),
            4,
            15,
            "needs a `pan` or a `bin`",
        ),
        (
            merchant!("    accounts:\n      - { currency: usd, balance: \"1\" }\n"),
            4,
            21,
            "not a currency code",
        ),
        (
            merchant!("    accounts:\n      - { currency: USD, balance: \"1.001\" }\n"),
            4,
            35,
            "more than 2 decimal places",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, pan: \"4111111111111111\", balance: \"-5\" }\n"
            ),
            4,
            52,
            "cannot be negative",
        ),
        (
            merchant!(
                "    cardholders:\n      - { id: a, first_name: A, last_name: B, nationality: China }\n"
            ),
            4,
            60,
            "ISO 3166",
        ),
        (
            merchant!(
                "    cardholders:\n      - { id: a, first_name: A, last_name: B, email: nope }\n"
            ),
            4,
            54,
            "not an email address",
        ),
    ]);
    let error = problems(merchant!(
        "    cardholders:\n      - { id: a, first_name: A, last_name: B, phone: { country_code: \"+86\", number: \"1\" } }\n"
    ));
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(error.problems[0].message.contains("without `+`"));
    assert!(error.problems[1].message.contains("4–15 digits"));
}

#[test]
fn what_a_saved_state_writes_is_checked_too() {
    assert_cases(&[
        (
            merchant!("    cardholders:\n      - { id: a, issuer: bank, first_name: A }\n"),
            4,
            26,
            "unknown issuer `bank`",
        ),
        (
            merchant!("    cardholders:\n      - { id: a, kyc: passed }\n"),
            4,
            15,
            "needs a first_name or a last_name",
        ),
        (
            merchant!("    cards:\n      - { id: c, pan: \"4111111111111111\", pin: \"12\" }\n"),
            4,
            48,
            "a PIN is 4–12 digits",
        ),
        (
            merchant!(
                "    cards:\n      - { id: c, pan: \"4111111111111111\", activation: { code: \"12 34\" } }\n"
            ),
            4,
            63,
            "1–32 letters or digits",
        ),
        (
            merchant!(
                "    cardholders:\n      - { id: a, first_name: A, accounts: [ { currency: USD, balance: \"1\" }, { currency: USD, balance: \"2\" } ] }\n"
            ),
            4,
            90,
            "duplicate account for USD",
        ),
    ]);
    // A provider's person is kept as the provider recorded them: no names (KeySecure), the
    // mobile number whole with its `+` code (Pagsmile), an email KazePay did not check.
    let scenario = Scenario::from_source(
        merchant!(
            "    cardholders:\n      - { id: CH1, issuer: keysecure, merchant_ref: U-1 }\n      - { id: \"20000002\", issuer: pagsmile, first_name: Joao, phone: { country_code: \"\", number: \"+5511987654321\" } }\n      - { id: kp-user-1, issuer: kazepay, email: v, accounts: [ { currency: TUSDT, balance: \"5.00\" } ] }\n"
        ),
        "test.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let world = scenario.initial_world(0).unwrap();
    assert_eq!(
        world.cardholders["CH1"].merchant_ref.as_deref(),
        Some("U-1")
    );
    assert_eq!(
        world.cardholders["kp-user-1"].issuer.as_deref(),
        Some("kazepay")
    );
    assert_eq!(
        world.holder_accounts["kp-user-1"]
            .values()
            .next()
            .unwrap()
            .to_string(),
        "5.00"
    );
}

#[test]
fn generate_problems_point_at_the_generate_section() {
    assert_cases(&[
        (
            merchant!("    generate: { cardholders: 1, locale: fr }\n"),
            3,
            41,
            "unknown locale `fr`",
        ),
        (
            merchant!("    generate: { cardholders: 2000000 }\n"),
            3,
            15,
            "generate at most 1000000 cardholders",
        ),
        (
            merchant!("    generate: { cardholders: 1, bins: [] }\n"),
            3,
            15,
            "`bins` is empty",
        ),
        (
            merchant!("    generate: { cardholders: 1, bins: [\"999999\"] }\n"),
            3,
            40,
            "BIN 999999 is not in the BIN table",
        ),
        (
            merchant!(
                "    cardholders:\n      - { id: gen-0001, first_name: A, last_name: B }\n    generate: { cardholders: 1 }\n"
            ),
            5,
            15,
            "generated cardholder id `gen-0001` clashes",
        ),
    ]);
}

#[test]
fn acedata_overrides_must_leave_complete_tables() {
    assert_cases(&[
        (
            "acedata:\n  endpoints:\n    check-1e:\n      outcomes: { unknown_bin: \"-42\" }\nmerchants: [{ id: m }]\n",
            2,
            3,
            "check-1e outcome `unknown_bin` is result `-42`, which has no entry under results",
        ),
        (
            "acedata:\n  answers:\n    - { bank_card: \"1\", result: \"-42\" }\nmerchants: [{ id: m }]\n",
            3,
            7,
            "result `-42` is not in the check-1e results table",
        ),
        (
            "acedata:\n  answers:\n    - { bank_card: \"1\", result: \"-42\", description: custom, account_type: 9 }\nmerchants: [{ id: m }]\n",
            3,
            7,
            "account_type 9",
        ),
        (
            "acedata:\n  answers:\n    - { bank_card: \"1\", result: \"-2\", endpoint: check-1e }\n    - { bank_card: \"1\", result: \"-3\", endpoint: check-1e }\nmerchants: [{ id: m }]\n",
            4,
            7,
            "card 1 already has an answer for check-1e",
        ),
        (
            "acedata:\n  gateway_errors:\n    invalid_token: { status: 99, message: x }\nmerchants: [{ id: m }]\n",
            2,
            3,
            "gateway error `invalid_token` has status 99",
        ),
        (
            "banks:\n  - { code: x y, name_zh: 某, name_en: Some, country: CN }\nmerchants: [{ id: m }]\n",
            2,
            5,
            "bank code `x y`",
        ),
        (
            "banks:\n  - { code: XY, name_zh: 某, name_en: Some, country: zz }\nmerchants: [{ id: m }]\n",
            2,
            5,
            "`zz` is not an ISO 3166",
        ),
    ]);
}

#[test]
fn generated_card_numbers_are_distinct_or_the_bin_is_reported() {
    let yaml = |count: usize| {
        format!(
            "bins:\n  - {{ bin: \"62220299\", length: 12, kind: debit, bank: ICBC, scheme: unionpay }}\nmerchants:\n  - id: m\n    generate: {{ cardholders: {count}, bins: [\"62220299\"] }}\n"
        )
    };
    // 3 free digits: 1000 numbers. 600 cards fit (with redraws), 1500 cannot.
    let scenario = Scenario::from_source(
        &yaml(600),
        "g.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap();
    let world = scenario.fresh_world(0).unwrap();
    let pans: std::collections::HashSet<&str> =
        world.cards().values().map(|c| c.pan.as_str()).collect();
    assert_eq!(pans.len(), 600);
    let error = Scenario::from_source(
        &yaml(1500),
        "g.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("leaves too few card numbers"),
        "{error}"
    );
    assert_eq!(error.problems[0].line, 5, "{error}");
}

#[test]
fn all_problems_are_reported_at_once_in_source_order() {
    let error = problems(merchant!(
        "    cards:\n      - { id: a, pan: \"4111111111111112\" }\n      - { id: b, cardholder: x, pan: \"5555555555554444\" }\n"
    ));
    let lines: Vec<u64> = error.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [4, 5], "{error}");
}

#[test]
fn a_scenario_needs_a_merchant() {
    assert_problem("merchants: []\n", 1, 12, "at least one merchant");
}

#[test]
fn the_default_scenario_and_the_built_in_profile_are_valid() {
    let scenario = Scenario::builtin_default(&issuer_sandbox::providers::builtin()).unwrap();
    assert_eq!(scenario.tenants.len(), 1);
    let world = scenario.fresh_world(0).unwrap();
    assert_eq!(world.cardholders.len(), 5 + 3);
    assert_eq!(world.cards().len(), 8 + 3);
}

#[test]
fn generated_data_is_deterministic_per_seed_and_locale() {
    let yaml = |seed: u64, locale: &str| {
        format!(
            "seed: {seed}\nclock: {{ start: 2026-01-01T00:00:00Z }}\nmerchants:\n  - id: m\n    generate: {{ cardholders: 5, locale: {locale}, cards_per_cardholder: 2 }}\n"
        )
    };
    let world = |text: String| {
        let scenario =
            Scenario::from_source(&text, "g.yaml", None, &issuer_sandbox::providers::builtin())
                .unwrap();
        serde_json::to_value(scenario.fresh_world(0).unwrap()).unwrap()
    };
    let a = world(yaml(1, "zh_CN"));
    assert_eq!(a["cards"], world(yaml(1, "zh_CN"))["cards"]);
    assert_eq!(a["cardholders"], world(yaml(1, "zh_CN"))["cardholders"]);
    assert_ne!(a["cardholders"], world(yaml(2, "zh_CN"))["cardholders"]);
    assert_eq!(a["cardholders"].as_object().unwrap().len(), 5);
    assert_eq!(a["cards"].as_object().unwrap().len(), 10);
    let first = &a["cardholders"]["gen-0001"];
    assert_eq!(first["nationality"], "CN");
    assert_eq!(first["id_document"]["kind"], "id_card");
    let en = world(yaml(1, "en"));
    assert_eq!(en["cardholders"]["gen-0001"]["nationality"], "US");
}

#[test]
fn relative_key_paths_resolve_against_the_scenario_file() {
    let dir = std::env::temp_dir().join(format!("issuer-sandbox-keys-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let public = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/demo-merchant.pub.pem"
    ))
    .unwrap();
    std::fs::write(dir.join("keys/merchant.pem"), &public).unwrap();
    let file = dir.join("s.yaml");
    std::fs::write(&file, "merchants:\n  - id: m\n    credentials:\n      kazepay: { sys_id: s, merchant_public_key: keys/merchant.pem }\n").unwrap();
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_file(&file)
        .start()
        .unwrap();
    let (_, credentials) = crate::support::admin_get(&sandbox, "/credentials");
    assert_eq!(
        credentials["merchants"][0]["kazepay"]["merchant_public_key"],
        public
    );
    std::fs::write(&file, "merchants:\n  - id: m\n    credentials:\n      kazepay: { sys_id: s, merchant_public_key: keys/missing.pem }\n").unwrap();
    let error = Scenario::from_file(&file, &issuer_sandbox::providers::builtin()).unwrap_err();
    assert!(
        error.to_string().contains("cannot read key file"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let error = Scenario::from_file(
        &dir.join("gone.yaml"),
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("cannot read the file"),
        "{error}"
    );
}

#[test]
fn large_files_are_read_past_the_yaml_readers_default_node_budget() {
    // 40,000 listed cards are about 280,000 YAML nodes: over the reader's default budget of
    // 250,000, which stopped scenarios at about 25,000 listed cards.
    let mut yaml = String::from("merchants:\n  - id: m\n    cards:\n");
    for n in 0..40_000u64 {
        let partial = format!("411111{n:09}");
        let pan = format!("{partial}{}", luhn_digit(&partial));
        yaml.push_str(&format!(
            "      - {{ id: c{n}, pan: \"{pan}\", currency: USD }}\n"
        ));
    }
    let scenario = Scenario::from_source(
        &yaml,
        "large.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap();
    let world = scenario.initial_world(0).unwrap();
    assert_eq!(world.cards().len(), 40_000);
    assert_eq!(world.cards()["c39999"].pan, "4111110000399993");
}

/// The Luhn check digit of `partial`.
fn luhn_digit(partial: &str) -> u32 {
    let sum: u32 = partial
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}
