//! The worked examples under `scenarios/` run through `issuer-sandbox test`'s runner: each
//! passes, and a deliberately broken twin of each is reported as failed with a useful diff.

use std::path::{Path, PathBuf};

use issuer_sandbox::runner::{self, Verdict};
use issuer_sandbox::scenario::Scenario;

/// Every example with steps.
fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("\nsteps:"))
        .collect();
    files.sort();
    files
}

#[test]
fn at_least_eight_examples_all_pass() {
    let files = examples();
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let outcome = runner::run_file(&file, &issuer_sandbox::providers::builtin());
        let report = runner::report(std::slice::from_ref(&outcome));
        assert_eq!(outcome.failed(), 0, "{report}");
        assert!(outcome.passed() >= 3, "{report}");
        assert_eq!(outcome.skipped(), 0, "{report}");
    }
}

/// The file with its first inline `expect: { code: …` or `expect: { status: …` made wrong, and
/// which of the two it was.
fn break_first_expectation(text: &str) -> (String, &'static str) {
    let found = [("code", "\"WRONG\""), ("status", "599")]
        .into_iter()
        .filter_map(|(field, wrong)| {
            text.find(&format!("expect: {{ {field}: "))
                .map(|at| (at + "expect: { ".len() + field.len() + 2, field, wrong))
        })
        .min_by_key(|(at, _, _)| *at);
    let (start, field, wrong) = found.expect("an inline expectation to break");
    let end = start + text[start..].find([',', '}']).unwrap();
    let mut broken = text.to_owned();
    broken.replace_range(start..end, &format!("{wrong} "));
    (broken, field)
}

#[test]
fn a_broken_twin_of_each_example_fails_with_a_diff() {
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        let (broken, field) = break_first_expectation(&text);
        let scenario = match Scenario::from_source(
            &broken,
            &file.display().to_string(),
            None,
            &issuer_sandbox::providers::builtin(),
        ) {
            Ok(scenario) => scenario,
            Err(error) => panic!(
                "the twin of {} does not load: {error}\n{broken}",
                file.display()
            ),
        };
        let outcome = runner::run(scenario, "twin", &issuer_sandbox::providers::builtin());
        let report = runner::report(std::slice::from_ref(&outcome));
        assert_eq!(outcome.failed(), 1, "{}: {report}", file.display());
        let failed = outcome
            .steps
            .iter()
            .find_map(|s| match &s.verdict {
                Verdict::Failed(diff) => Some(diff.clone()),
                _ => None,
            })
            .unwrap();
        assert!(
            failed.contains(&format!("{field}: expected")),
            "{}: {failed}",
            file.display()
        );
        assert!(failed.contains("but got"), "{failed}");
        assert!(
            report.contains("✗") && report.contains("1 failed"),
            "{report}"
        );
        let junit = runner::junit(std::slice::from_ref(&outcome));
        assert!(
            junit.contains("<failure message=") && junit.contains("failures=\"1\""),
            "{junit}"
        );
    }
}

// ---- The runner's own rules: what it refuses at load time, and what makes a step fail. ----

/// Two merchants: `shop` speaks every provider (its card `CT1` notifies `webhook`), `other`
/// only AceData.
fn two_merchants(webhook: &str) -> String {
    format!(
        r#"seed: 3
clock: {{ start: 2026-11-21T00:00:00Z, frozen: true }}
merchants:
  - id: shop
    credentials:
      acedata: [ {{ token: shop-token }} ]
      pagsmile:
        app_id: "2017051914172236111"
        partner_id: "1666000000000001"
        security_key: Pagsmile_sk_demo_0123456789abcdef
        merchant_public_key: builtin:demo-merchant
        merchant_private_key: builtin:demo-merchant
        webhook_url: {webhook}
      kazepay:
        sys_id: "202402271432298822660001"
        merchant_public_key: builtin:demo-merchant
        merchant_private_key: builtin:demo-merchant
      keysecure: {{ api_key: shop-key, api_secret: ShopSecret0123456789abcdefABCDEF }}
    accounts: [ {{ currency: USD, balance: "1000.00" }} ]
    cardholders:
      - {{ id: "20000001", first_name: Maria, last_name: Silva }}
    cards:
      - {{ id: "30000001", issuer: pagsmile, token: CT1, cardholder: "20000001", pan: "6587040000000111", currency: USD, balance: "50.00" }}
  - id: other
    credentials:
      acedata: [ {{ token: other-token }} ]
"#
    )
}

/// The two-merchant scenario with these steps (and faults), loaded.
fn load(faults_and_steps: &str) -> Result<Scenario, String> {
    let yaml = format!(
        "{}{faults_and_steps}",
        two_merchants("http://127.0.0.1:9/hooks")
    );
    Scenario::from_source(
        &yaml,
        "case.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .map_err(|e| e.to_string())
}

/// Runs the steps; the outcome and its printed report.
fn run_steps(faults_and_steps: &str) -> (runner::FileRun, String) {
    let scenario = load(faults_and_steps).unwrap_or_else(|e| panic!("{e}"));
    let outcome = runner::run(scenario, "case.yaml", &issuer_sandbox::providers::builtin());
    let report = runner::report(std::slice::from_ref(&outcome));
    (outcome, report)
}

/// The failure text of the only failed step.
fn failure(outcome: &runner::FileRun, report: &str) -> String {
    let failed: Vec<&String> = outcome
        .steps
        .iter()
        .filter_map(|s| match &s.verdict {
            Verdict::Failed(diff) => Some(diff),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    failed[0].clone()
}

/// Where `culprit` first appears in the steps of the scenario, as `case.yaml:LINE:`.
fn line_of(steps: &str, culprit: &str) -> String {
    let before = two_merchants("http://127.0.0.1:9/hooks").lines().count();
    let line = steps.lines().position(|l| l.contains(culprit)).unwrap();
    format!("case.yaml:{}:", before + line + 1)
}

/// Asserts the steps do not load, with `message` located at the (first) step.
fn assert_refused(steps: &str, message: &str) {
    let Err(error) = load(steps) else {
        panic!("loaded: {steps}")
    };
    assert!(error.contains(message), "{steps}\n{error}");
    assert!(error.contains(&line_of(steps, "  - ")), "located: {error}");
}

#[test]
fn refused_control_calls_fail_the_step_unless_it_expects_them() {
    for (steps, status) in [
        (
            "steps:\n  - admin: { method: GET, path: /no-such-thing }\n",
            "404",
        ),
        (
            "steps:\n  - simulate: { card-status: { card: no-such-card, status: frozen } }\n",
            "404",
        ),
        // A duration only known when the step runs is refused by the control API.
        (
            "steps:\n  - name: keep\n    admin: { method: GET, path: /clock }\n    capture: { when: body.clocks.0.now }\n  - advance: \"${when}\"\n",
            "400",
        ),
    ] {
        let (outcome, report) = run_steps(steps);
        let diff = failure(&outcome, &report);
        assert!(diff.contains(&format!("HTTP {status}")), "{diff}");
    }
    let (outcome, report) = run_steps(
        "steps:\n  - admin: { method: GET, path: /no-such-thing }\n    expect: { status: 404 }\n",
    );
    assert_eq!(outcome.failed(), 0, "{report}");
}

#[test]
fn bad_durations_kinds_paths_and_tenants_are_load_errors() {
    assert_refused("steps:\n  - advance: soon\n", "`soon` is not a duration");
    assert_refused("steps:\n  - advance: -5m\n", "the clock only advances");
    assert_refused(
        "steps:\n  - simulate: { explode: { card: x } }\n",
        "explode",
    );
    assert_refused(
        "steps:\n  - simulate: { kyc: { email: a@b.c, decision: passed }, recharge: { card: x } }\n",
        "exactly one",
    );
    assert_refused(
        "steps:\n  - request: { provider: pagsmile, path: issuing/card/freeze, body: {} }\n",
        "must start with `/`",
    );
    assert_refused(
        "steps:\n  - admin: { method: GET, path: faults }\n",
        "must start with `/`",
    );
    assert_refused(
        "steps:\n  - tenant: nobody\n    advance: 1m\n",
        "no merchant `nobody`",
    );
    assert_refused(
        "steps:\n  - request: { provider: acedta, operation: check-1e }\n",
        "acedta",
    );
    assert_refused(
        "steps:\n  - request: { provider: acedata, path: /check-1e }\n",
        "`operation`",
    );
}

#[test]
fn expectations_need_something_that_answers() {
    assert_refused(
        "steps:\n  - advance: 1m\n    expect: { no_answer: true }\n",
        "`no_answer` is only for requests",
    );
    assert_refused(
        "steps:\n  - expect: { status: 200 }\n",
        "needs one of request, advance, simulate, admin",
    );
    assert_refused(
        "steps:\n  - capture: { x: body.y }\n",
        "needs one of request, advance, simulate, admin",
    );
    assert_refused(
        "steps:\n  - request: { provider: acedata, operation: check-1e }\n    expect: { no_answer: true, status: 200 }\n",
        "nothing else to check",
    );
    // State alone is something to check.
    let (outcome, report) =
        run_steps("steps:\n  - expect_state: { accounts.USD.amount: \"1000.00\" }\n");
    assert_eq!((outcome.passed(), outcome.failed()), (1, 0), "{report}");
}

#[test]
fn step_fields_are_as_strict_as_the_schema() {
    for (steps, culprit) in [
        (
            "steps:\n  - request: { provider: acedata, operation: check-1e }\n    expect: { code: 0 }\n",
            "code",
        ),
        (
            "steps:\n  - request: { provider: acedata, operation: check-1e }\n    expect: { status: \"200\" }\n",
            "status",
        ),
        (
            "steps:\n  - request: { provider: acedata, operation: check-1e }\n    expect: { no_answer: \"yes\" }\n",
            "no_answer",
        ),
        ("steps:\n  - advance: 30\n", "advance"),
    ] {
        let Err(error) = load(steps) else {
            panic!("loaded: {steps}")
        };
        assert!(error.contains(&line_of(steps, culprit)), "{steps}\n{error}");
        assert!(schema_refuses(steps), "{steps}");
    }
    // Unknown providers and simulations are schema errors too.
    for steps in [
        "steps:\n  - request: { provider: acedta, operation: check-1e }\n",
        "steps:\n  - simulate: { explode: {} }\n",
    ] {
        assert!(schema_refuses(steps), "{steps}");
    }
    assert!(!schema_refuses("steps:\n  - advance: 30s\n"));
}

/// Whether the scenario's JSON Schema (what an editor checks) refuses these steps.
fn schema_refuses(steps: &str) -> bool {
    let schema: serde_json::Value = serde_json::from_str(&issuer_sandbox::scenario::json_schema(
        &issuer_sandbox::providers::builtin(),
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let yaml = format!("{}{steps}", two_merchants("http://127.0.0.1:9/hooks"));
    let instance: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    !validator.is_valid(&instance)
}

#[test]
fn control_characters_reach_neither_the_xml_nor_the_terminal() {
    let (outcome, report) = run_steps(
        "steps:\n  - name: \"it's \\e[31mred\\a\\x01\"\n    admin: { method: GET, path: /clock }\n    expect: { status: 599 }\n",
    );
    assert_eq!(outcome.failed(), 1, "{report}");
    assert!(
        !report.contains('\u{1b}') && !report.contains('\u{7}'),
        "{report:?}"
    );
    assert!(report.contains("\\u{1b}[31mred\\u{7}"), "{report}");
    let xml = runner::junit(std::slice::from_ref(&outcome));
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    assert!(!xml.contains(forbidden), "{xml:?}");
    assert!(xml.contains("name=\"it&apos;s "), "{xml}");
}

#[test]
fn no_answer_is_only_a_closed_connection() {
    // A connection closed by a fault rule is no answer; an answer is not.
    let (outcome, report) = run_steps(
        "faults:\n  - { match: { provider: acedata }, action: reset, when: { first: 1 } }\nsteps:\n  - request: { provider: acedata, operation: check-1e, body: { bank_card: \"6222020200112233446\" } }\n    expect: { no_answer: true }\n  - request: { provider: acedata, operation: check-1e, body: { bank_card: \"6222020200112233446\" } }\n    expect: { no_answer: true }\n",
    );
    assert_eq!((outcome.passed(), outcome.failed()), (1, 1), "{report}");
    assert!(
        failure(&outcome, &report).contains("expected no answer"),
        "{report}"
    );
}

#[test]
fn step_headers_replace_the_runners_own() {
    let (outcome, report) = run_steps(
        "steps:\n  - request: { provider: acedata, operation: check-1e, body: { bank_card: \"6222020200112233446\" }, headers: { Authorization: Bearer wrong } }\n    expect: { status: 401, code: invalid_token }\n  - request: { provider: keysecure, path: /open-api/v1/card/support/bins, body: { page: 0, size: 10 }, headers: { access-token: wrong } }\n    expect: { status: 200, code: \"1007\" }\n",
    );
    assert_eq!(outcome.failed(), 0, "{report}");
}

#[test]
fn advance_moves_only_the_steps_tenant_when_it_names_one() {
    let (outcome, report) = run_steps(
        "steps:\n  - tenant: other\n    advance: 1h\n  - admin: { method: GET, path: /clock }\n    expect: { fields: { body.clocks.0.now: \"2026-11-21T00:00:00Z\", body.clocks.1.now: \"2026-11-21T01:00:00Z\" } }\n  - advance: 1h\n  - admin: { method: GET, path: /clock }\n    expect: { fields: { body.clocks.0.now: \"2026-11-21T01:00:00Z\", body.clocks.1.now: \"2026-11-21T02:00:00Z\" } }\n",
    );
    assert_eq!(outcome.failed(), 0, "{report}");
}

#[test]
fn answers_that_cannot_be_opened_still_have_a_status() {
    for provider in ["pagsmile", "kazepay"] {
        let request = if provider == "pagsmile" {
            "{ provider: pagsmile, path: /issuing/card/query-card-balance, body: { card_token: CT1 } }"
        } else {
            "{ provider: kazepay, operation: queryUcardKycStatus, body: { email: ana@example.com } }"
        };
        let faults =
            format!("faults:\n  - {{ match: {{ provider: {provider} }}, action: break_crypto }}\n");
        let (outcome, report) = run_steps(&format!(
            "{faults}steps:\n  - request: {request}\n    expect: {{ status: 200 }}\n"
        ));
        assert_eq!(outcome.failed(), 0, "{provider}: {report}");
        let (outcome, report) = run_steps(&format!(
            "{faults}steps:\n  - request: {request}\n    expect: {{ status: 200, code: \"10000\" }}\n"
        ));
        let diff = failure(&outcome, &report);
        assert!(diff.contains("could not be opened"), "{provider}: {diff}");
        assert!(!diff.contains("status: expected"), "{provider}: {diff}");
    }
    // An empty answer: the status, a null body.
    let (outcome, report) = run_steps(
        "faults:\n  - { match: { provider: pagsmile }, action: empty }\nsteps:\n  - request: { provider: pagsmile, path: /issuing/card/query-card-balance, body: { card_token: CT1 } }\n    expect: { status: 200, fields: { body: { exists: false } } }\n",
    );
    assert_eq!(outcome.failed(), 0, "{report}");
}

#[test]
fn a_file_without_steps_says_so() {
    let scenario = load("").unwrap();
    let outcome = runner::run(scenario, "case.yaml", &issuer_sandbox::providers::builtin());
    let report = runner::report(std::slice::from_ref(&outcome));
    assert!(
        report.contains("case.yaml (") && report.contains("(no steps)"),
        "{report}"
    );
    assert_eq!(outcome.failed(), 0);
}

/// A merchant endpoint that takes `latency` to accept each webhook: long after the request
/// that caused it has been answered.
fn slow_endpoint(latency: std::time::Duration) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // Read the whole request so closing the socket does not reset it.
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = stream.read(&mut chunk).unwrap_or(0);
                bytes.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&bytes);
                let complete = text.find("\r\n\r\n").is_some_and(|end| {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    bytes.len() >= end + 4 + length
                });
                if n == 0 || complete {
                    break;
                }
            }
            // Simulated merchant latency (not synchronisation): the attempt is recorded late.
            std::thread::sleep(latency);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    url
}

#[test]
fn state_is_checked_once_webhooks_have_settled() {
    let url = slow_endpoint(std::time::Duration::from_millis(300));
    let freeze = "  - request: { provider: pagsmile, path: /issuing/card/freeze, body: { card_token: CT1 } }\n    expect: { code: \"10000\" }\n";
    let run = |check: &str| {
        let yaml = format!(
            "{}steps:\n{freeze}    expect_state: {check}\n",
            two_merchants(&url)
        );
        let registry = issuer_sandbox::providers::builtin();
        let outcome = runner::run(
            Scenario::from_source(&yaml, "case.yaml", None, &registry).unwrap(),
            "case.yaml",
            &registry,
        );
        let report = runner::report(std::slice::from_ref(&outcome));
        (outcome, report)
    };
    // The attempt is under way when the freeze is answered: absence must not pass early.
    let (outcome, report) = run("{ deliveries.0.attempts.0: { exists: false } }");
    assert!(
        failure(&outcome, &report).contains("state.deliveries.0.attempts.0"),
        "{report}"
    );
    let (outcome, report) =
        run("{ deliveries.0.state: delivered, deliveries.0.attempts.1: { exists: false } }");
    assert_eq!(outcome.failed(), 0, "{report}");
}
