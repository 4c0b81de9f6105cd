//! The binary: `serve` banner and signals, `check`, `healthcheck`, `--version`, `--help`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_issuer-sandbox");

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Starts `serve` on a free port and returns the child and its base URL (read from the banner).
fn serve(extra: &[&str]) -> (Child, String) {
    let bind = if extra.contains(&"--bind") {
        &[][..]
    } else {
        &["--bind", "127.0.0.1:0"][..]
    };
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(bind)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    // Keep draining the banner so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

#[test]
fn serve_prints_a_banner_answers_and_stops_cleanly_on_sigterm() {
    let (mut child, url) = serve(&[]);
    let response = crate::support::client()
        .post(format!("{url}/identity/bankcard/check-1e"))
        .header("authorization", "Bearer demo-acedata-token")
        .body(r#"{"bank_card":"6222020200112233446"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let health = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&health.stdout).trim(), "healthy");
    let status = terminate(&mut child);
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let health = Command::new(BIN)
        .args(["healthcheck", "--url", &url, "--timeout-ms", "500"])
        .output()
        .unwrap();
    assert_eq!(
        health.status.code(),
        Some(1),
        "healthcheck must fail once the server is gone"
    );
}

#[test]
fn banner_names_urls_credentials_and_keys() {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let last = line.starts_with("test-only keys");
        banner.push(line);
        if last {
            break;
        }
    }
    terminate(&mut child);
    let banner = banner.join("\n");
    for needle in [
        "/identity/bankcard/check-1e",
        "Bearer demo-acedata-token",
        "/__admin/credentials",
        "fixtures/keys",
    ] {
        assert!(banner.contains(needle), "banner lacks {needle}:\n{banner}");
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first stdout line is the listening event a harness parses; nothing else goes there.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let event: serde_json::Value = serde_json::from_str(&stdout.next().unwrap().unwrap()).unwrap();
    assert_eq!(event["event"], "listening");
    assert_eq!(event["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(event["tenants"], serde_json::json!(["demo"]));
    assert!(event["port"].as_u64().unwrap() > 0);
    let url = event["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("http://127.0.0.1:{}", event["port"]));
    let rest = std::thread::spawn(move || stdout.count());
    crate::support::client()
        .post(format!("{url}/identity/bankcard/check-1e"))
        .header("authorization", "Bearer demo-acedata-token")
        .body(r#"{"bank_card":"6222020200112233446"}"#)
        .send()
        .unwrap();
    crate::support::client()
        .get(format!("{url}/__admin/health"))
        .send()
        .unwrap();
    terminate(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(rest.join().unwrap(), 0, "stdout holds the event only");
    let banner = lines
        .iter()
        .find(|l| l["message"] == "banner")
        .expect("the banner, as a log line");
    assert!(
        banner["banner"]
            .as_str()
            .unwrap()
            .contains("demo-acedata-token")
    );
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["provider"] == "acedata")
        .expect("a request log line");
    assert_eq!(request["provider"], "acedata");
    assert_eq!(request["status"], 200);
    assert_eq!(request["level"], "INFO");
    let admin = lines
        .iter()
        .find(|l| l["provider"] == "admin")
        .expect("an admin log line");
    assert_eq!(
        (admin["path"].as_str(), admin["status"].as_u64()),
        (Some("/__admin/health"), Some(200))
    );
}

#[test]
fn healthcheck_uses_the_admin_token() {
    let (mut child, url) = serve(&["--admin-token", "tok"]);
    let without = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .env_remove("ISSUER_SANDBOX_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stderr).contains("401"));
    let with = Command::new(BIN)
        .args(["healthcheck", "--url", &url, "--admin-token", "tok"])
        .output()
        .unwrap();
    assert!(with.status.success());
    terminate(&mut child);
}

#[test]
fn check_accepts_good_files_and_locates_problems_in_bad_ones() {
    let good = Command::new(BIN)
        .args(["check", &scenario("default.yaml")])
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let listed = String::from_utf8_lossy(&good.stdout);
    assert!(
        listed.contains("(1 merchant, "),
        "one merchant, not merchants: {listed}"
    );

    let dir = std::env::temp_dir().join(format!("issuer-sandbox-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // (file, content, location, message): one per kind of mistake `check` must locate.
    let cases = [
        (
            "unknown-key.yaml",
            "merchants:\n  - id: m\n    nmae: x\n",
            "3:5",
            "unknown field `nmae`",
        ),
        (
            "wrong-type.yaml",
            "seed: lots\nmerchants: [{ id: m }]\n",
            "1:7",
            "invalid u64",
        ),
        (
            "bad-date.yaml",
            "merchants:\n  - id: m\n    cardholders:\n      - { id: a, first_name: A, last_name: B, birthday: 1990-02-30 }\n",
            "4:57",
            "birthday",
        ),
        (
            "duplicate-id.yaml",
            "merchants:\n  - id: m\n    cards:\n      - { id: c, pan: \"4111111111111111\" }\n      - { id: c, pan: \"5555555555554444\" }\n",
            "5:15",
            "duplicate card id `c`",
        ),
        (
            "dangling.yaml",
            "merchants:\n  - id: m\n    cards:\n      - { id: c, cardholder: ghost, pan: \"4111111111111111\" }\n",
            "4:30",
            "no cardholder `ghost`",
        ),
    ];
    for (name, content, location, message) in cases {
        let bad = dir.join(name);
        std::fs::write(&bad, content).unwrap();
        let output = Command::new(BIN)
            .args(["check", &scenario("default.yaml"), bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{}:{location}", bad.display())),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(message), "{name}: {stderr}");
        let line = location.split(':').next().unwrap();
        assert!(
            stderr.contains(&format!("{line} |")),
            "{name}: no snippet in {stderr}"
        );
        assert!(
            stderr.contains("1 of 2 scenario files have problems"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_default_scenario_gives_the_documented_errors_from_the_binary() {
    let (mut child, url) = serve(&[]);
    let client = crate::support::client();
    let post = |token: Option<&str>, card: &str| {
        let mut request = client
            .post(format!("{url}/identity/bankcard/check-1e"))
            .body(format!(r#"{{"bank_card":"{card}"}}"#));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().unwrap())
    };
    let (status, body) = post(Some("demo-acedata-token"), "6222020200112233446");
    assert_eq!(
        (
            status,
            body["result"].as_str(),
            body["account_bank"].as_str(),
            body["account_type"].as_i64()
        ),
        (
            200,
            Some("0"),
            Some("Industrial and Commercial Bank of China"),
            Some(1)
        )
    );
    let (status, body) = post(Some("demo-acedata-token"), "6222020200112233445");
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("-3")),
        "Luhn-invalid: {body}"
    );
    let (status, body) = post(None, "6222020200112233446");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_token"))
    );
    // 20 requests/second per token (burst 20): 100 back-to-back requests hit the limit unless
    // each takes over 30 ms.
    let limited = (0..100)
        .map(|_| post(Some("demo-acedata-token"), "6222020200112233446"))
        .find(|(status, _)| *status == 429);
    let (_, body) = limited.expect("no 429 among 100 back-to-back requests");
    assert_eq!(body["error"]["code"], "too_many_requests");
    terminate(&mut child);
}

#[test]
fn serve_refuses_an_invalid_scenario_with_its_location() {
    let dir = std::env::temp_dir().join(format!("issuer-sandbox-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "seed: x\nmerchants: []\n").unwrap();
    let output = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--scenario",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.yaml:1:7"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_and_help() {
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("issuer-sandbox {}", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in ["serve", "check", "healthcheck", "Examples:"] {
        assert!(help.contains(needle), "{help}");
    }
    let serve_help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let serve_help = String::from_utf8_lossy(&serve_help.stdout);
    for needle in ["--bind", "--scenario", "--admin-token", "--body-limit"] {
        assert!(serve_help.contains(needle), "{serve_help}");
    }
}

/// Runs the binary with `args`, feeding `input` on standard input.
fn run_with_input(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Writes `bytes` to a fresh temporary file named after `test`; returns its path.
fn temp_file(test: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("issuer-sandbox-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("request.json");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn kazepay_seal_and_open_round_trip_through_a_sandbox() {
    // A merchant on SHA-1 with Base64-wrapped keys, as the seal flags below say.
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(crate::support::default_with_kazepay(&[
            "sign_hash: SHA-1",
            "key_wrap: base64",
        ]))
        .start()
        .unwrap();
    let envelope = run_with_input(
        &[
            "kazepay",
            "seal",
            "--api-code",
            "queryUcardKycStatus",
            "--request-no",
            "42",
            "--hash",
            "SHA-1",
            "--key-wrap",
            "base64",
        ],
        br#"{"email":"zhang.wei@example.com"}"#,
    );
    assert!(envelope.status.success());
    let response = crate::support::client()
        .post(format!("{}/kazepay", sandbox.url()))
        .body(envelope.stdout.clone())
        .send()
        .unwrap()
        .text()
        .unwrap();
    let opened = run_with_input(&["kazepay", "open", "-"], response.as_bytes());
    let opened: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(opened["code"], "SUCCESS");
    assert_eq!(opened["head"]["requestNo"], "42");
    assert_eq!(
        opened["body"],
        serde_json::json!({ "encrypt": "SUCCESS", "status": "PASSED" })
    );
    // --as-platform opens the request itself: what a developer runs when their envelope is refused.
    let request = temp_file("kazepay", &envelope.stdout);
    let as_platform = Command::new(BIN)
        .args(["kazepay", "open", "--as-platform"])
        .arg(&request)
        .output()
        .unwrap();
    let opened: serde_json::Value = serde_json::from_slice(&as_platform.stdout).unwrap();
    assert_eq!(
        opened["body"],
        serde_json::json!({ "email": "zhang.wei@example.com" })
    );
    std::fs::remove_dir_all(request.parent().unwrap()).unwrap();
    let bad = run_with_input(&["kazepay", "open", "-"], b"");
    assert_eq!(bad.status.code(), Some(2), "an empty input is an error");
}

#[test]
fn pagsmile_seal_and_open_round_trip_through_a_sandbox() {
    let sandbox = issuer_sandbox::Sandbox::builder().start().unwrap();
    let request = run_with_input(
        &["pagsmile", "seal", "--request-id", "CLI-1"],
        br#"{"card_token":"CT202611210000000001"}"#,
    );
    assert!(request.status.success());
    let sealed: serde_json::Value = serde_json::from_slice(&request.stdout).unwrap();
    assert_eq!(sealed["request_id"], "CLI-1");
    assert_eq!(sealed["app_id"], "2017051914172236111");
    let response = crate::support::client()
        .post(format!("{}/issuing/card/query-card-balance", sandbox.url()))
        .header("content-type", "application/json")
        .body(request.stdout.clone())
        .send()
        .unwrap()
        .text()
        .unwrap();
    let opened = run_with_input(&["pagsmile", "open"], response.as_bytes());
    assert!(opened.status.success());
    let opened: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(opened["code"], "10000");
    assert_eq!(opened["total"], 1);
    assert_eq!(opened["data"][0]["available_balance"], "500.00");
    // A failure opens too: codes in clear, no data.
    let failure = run_with_input(
        &["pagsmile", "open"],
        br#"{"code":"40002","msg":"Business Failed","sub_code":"invalid-signature","sub_msg":"invalid signature"}"#,
    );
    let failure: serde_json::Value = serde_json::from_slice(&failure.stdout).unwrap();
    assert_eq!(failure["sub_code"], "invalid-signature");
    assert_eq!(failure["data"], serde_json::Value::Null);
    // --as-platform opens the request's biz_data.
    let path = temp_file("pagsmile", &request.stdout);
    let as_platform = Command::new(BIN)
        .args(["pagsmile", "open", "--as-platform"])
        .arg(&path)
        .output()
        .unwrap();
    let opened: serde_json::Value = serde_json::from_slice(&as_platform.stdout).unwrap();
    assert_eq!(
        opened["biz_data"],
        serde_json::json!({ "card_token": "CT202611210000000001" })
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    let bad = run_with_input(&["pagsmile", "seal"], b"not json");
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a body that is not JSON is an error"
    );
}

#[test]
fn test_runs_scenario_steps_reports_and_writes_junit() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let good = root.join("scenarios/rate-limiting.yaml");
    let broken = temp_file(
        "runner",
        std::fs::read_to_string(&good)
            .unwrap()
            .replace(
                "name: third in the same second\n    expect: { status: 429",
                "name: third in the same second\n    expect: { status: 200",
            )
            .as_bytes(),
    );
    // In a directory that does not exist yet: the runner makes it.
    let junit = broken.with_file_name("reports/results.xml");
    let passing = Command::new(BIN)
        .args(["test"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        passing.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&passing.stdout)
    );
    assert!(String::from_utf8_lossy(&passing.stdout).ends_with("5 passed, 0 failed\n"));
    let failing = Command::new(BIN)
        .args(["test"])
        .arg(&good)
        .arg(&broken)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&failing.stdout);
    assert_eq!(failing.status.code(), Some(1), "{report}");
    assert!(
        report.contains("status: expected 200") && report.contains("but got  429"),
        "{report}"
    );
    assert!(report.contains("7 passed, 1 failed, 2 skipped"), "{report}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuites name=\"issuer-sandbox\" tests=\"10\" failures=\"1\">"),
        "{xml}"
    );
    assert!(xml.contains("<skipped/>"));
    std::fs::remove_dir_all(broken.parent().unwrap()).unwrap();
    let missing = Command::new(BIN)
        .args(["test", "no-such-file.yaml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("cannot run"));
}

/// A loopback port nobody listens on now (the server binds it itself: no banner is read).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_harness_that_never_reads_the_output_does_not_stall_the_server() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // Both pipes are kept open and never read, as `subprocess.Popen(stdout=PIPE, stderr=PIPE)`
    // leaves them: a pipe holds 64 KiB, about 300 request log lines.
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = crate::support::client_builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    while client.get(format!("{url}/__admin/health")).send().is_err() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        std::thread::yield_now();
    }
    for n in 0..5_000 {
        let response = client
            .post(format!("{url}/identity/bankcard/check-1e"))
            .header("authorization", "Bearer demo-acedata-token")
            .body(r#"{"bank_card":"6222020200112233446"}"#)
            .send()
            .unwrap_or_else(|error| panic!("request {n} got no answer: {error}"));
        // The demo token is rate limited: 200 or 429, answered either way.
        assert!(
            [200, 429].contains(&response.status().as_u16()),
            "request {n}: {}",
            response.status()
        );
    }
    let health: serde_json::Value = client
        .get(format!("{url}/__admin/health"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let dropped = health["logs"]["dropped_lines"].as_u64().unwrap();
    assert!(
        dropped > 0,
        "the unread lines were dropped and counted: {health}"
    );
    let status = terminate(&mut child);
    assert!(
        status.success(),
        "exits on SIGTERM though nobody reads: {status:?}"
    );
}

#[test]
fn a_server_bound_to_every_ipv6_address_counts_ipv4_loopback_as_loopback() {
    let port = free_port();
    // A dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1: still this machine.
    let (mut child, _) = serve(&["--bind", &format!("[::]:{port}")]);
    let url = format!("http://127.0.0.1:{port}");
    let health = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let credentials = crate::support::client()
        .get(format!("{url}/__admin/credentials"))
        .send()
        .unwrap();
    assert_eq!(credentials.status().as_u16(), 200);
    terminate(&mut child);
}

#[test]
fn remote_control_access_without_a_token_makes_one_and_prints_it() {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--admin-allow-remote"])
        .env_remove("ISSUER_SANDBOX_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    let url = url.split("listening on ").nth(1).unwrap().trim().to_owned();
    let access = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.starts_with("control access"))
        .expect("the banner says who may use the control API");
    assert!(access.contains("made at start"), "{access}");
    let token = lines.next().unwrap().unwrap();
    let token = token
        .trim()
        .strip_prefix("Authorization: Bearer ")
        .expect("the banner prints the token it made")
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    // This machine's own clients need none: the container's HEALTHCHECK keeps working.
    let health = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .env_remove("ISSUER_SANDBOX_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(health.status.success());
    terminate(&mut child);
}

/// `serve --state`: the state is saved within the window of each change, survives a SIGKILL
/// (cards, balances, KeySecure tokens, spent KazePay request numbers), and a file that cannot
/// be restored stops the start with its problem unless `--state-reset` says to discard it.
#[test]
fn state_survives_a_sigkill_and_an_unusable_state_file_is_refused() {
    use crate::support::{FROZEN_DEFAULT, client, status_json};
    use serde_json::{Value, json};

    let dir = std::env::temp_dir().join(format!("issuer-sandbox-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario_file = dir.join("frozen.yaml");
    std::fs::write(&scenario_file, FROZEN_DEFAULT.as_bytes()).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let state_arg = state.to_str().unwrap();
    let args = [
        "--scenario",
        scenario_file.to_str().unwrap(),
        "--state",
        state_arg,
        "--state-window",
        "50ms",
    ];
    let (mut child, url) = serve(&args);
    assert!(state.exists(), "the file exists from the start");

    // Business over HTTP: a KeySecure token and card, a spent KazePay request number, a held
    // authorization.
    let now = || jiff::Timestamp::now().as_millisecond().to_string();
    let key = "demo-keysecure-api-key";
    let token = status_json(
        client()
            .get(format!("{url}/open-api/v1/merchant/token"))
            .header("Api-Key", key)
            .header("Timestamp", now())
            .send()
            .unwrap(),
    )
    .1["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let keysecure = |path: &str, body: Value| {
        status_json(
            client()
                .post(format!("{url}{path}"))
                .header("Api-Key", key)
                .header("Timestamp", now())
                .header("Access-Token", &token)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .unwrap(),
        )
        .1
    };
    let holder = keysecure(
        "/open-api/v1/cardholder/apply",
        json!({ "cardholder_unique_no": "KILL-1", "sumsub_share_token": "share-token-review" }),
    )["data"]["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let advanced = client()
        .post(format!("{url}/__admin/clock/advance"))
        .body(r#"{"by":"1m"}"#)
        .send()
        .unwrap();
    assert_eq!(advanced.status(), 200);
    let card = keysecure(
        "/open-api/v1/card/apply",
        json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": "KILL-CARD" }),
    );
    let card_no = card["data"]["card_no"].as_str().unwrap().to_owned();
    let mut kazepay = issuer_sandbox::providers::kazepay::client::Client::demo();
    let envelope = kazepay
        .seal_request("getWebhookUrl", "202611210000009999", &json!({}))
        .unwrap();
    let replay = |url: &str| {
        status_json(
            client()
                .post(format!("{url}/kazepay"))
                .header("content-type", "application/json")
                .body(envelope.to_string())
                .send()
                .unwrap(),
        )
        .1["head"]["code"]
            .clone()
    };
    assert_eq!(replay(&url), "SUCCESS");
    let authorized = client()
        .post(format!("{url}/__admin/simulate/transaction"))
        .body(r#"{"card":"30000001","kind":"authorization","amount":"12.34"}"#)
        .send()
        .unwrap();
    assert_eq!(authorized.status(), 200);
    let state_of = |url: &str| {
        status_json(
            client()
                .get(format!("{url}/__admin/state?tenant=demo"))
                .send()
                .unwrap(),
        )
        .1
    };
    let before = state_of(&url);
    assert_eq!(before["cards"]["30000001"]["blocked"]["amount"], "12.34");

    // Once the save window has passed, the file holds all of it; then the process dies hard.
    let saved = || {
        std::fs::read_to_string(&state)
            .is_ok_and(|text| text.contains(&card_no) && text.contains("12.34"))
    };
    crate::support::eventually(saved);
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();

    // Restarted on the file alone (its scenario wins): everything is there.
    let (mut child, url) = serve(&["--state", state_arg]);
    let after = state_of(&url);
    for part in ["cards", "cardholders", "accounts", "transactions", "clock"] {
        assert_eq!(after[part], before[part], "{part}");
    }
    assert_ne!(
        replay(&url),
        "SUCCESS",
        "a replayed envelope is still refused"
    );
    let listed = status_json(
        client()
            .post(format!("{url}/open-api/v1/card/list"))
            .header("Api-Key", key)
            .header("Timestamp", now())
            .header("Access-Token", &token)
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .unwrap(),
    )
    .1;
    assert_eq!(listed["code"], 0, "the token still opens the API: {listed}");
    assert!(listed.to_string().contains(&card_no), "{listed}");
    assert!(terminate(&mut child).success());

    // A file that cannot be restored stops the start, naming it and the problem.
    for (content, problem) in [
        ("{\"snapshot_version\": 1, \"scenario\": ", "not JSON"),
        ("{\"snapshot_version\": 7}", "$.snapshot_version: version 7"),
    ] {
        std::fs::write(&state, content).unwrap();
        let output = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--state", state_arg])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(state_arg)
                && stderr.contains(problem)
                && stderr.contains("--state-reset"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&state).unwrap(),
            content,
            "left as it was"
        );
    }
    // --state-reset discards it and starts from the scenario.
    let (mut child, _) = serve(&["--state", state_arg, "--state-reset"]);
    assert!(terminate(&mut child).success());
    assert!(
        std::fs::read(&state)
            .unwrap()
            .starts_with(b"{\"snapshot_version\":1,")
    );
}

/// `issuer-sandbox snapshot` fetches a running sandbox's snapshot, or its scenario rendering,
/// which `check` accepts.
#[test]
fn the_snapshot_command_fetches_a_document_or_a_scenario_file() {
    let (mut child, url) = serve(&[]);
    let dir = std::env::temp_dir().join(format!("issuer-sandbox-snapcmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let document = dir.join("snapshot.json");
    let status = Command::new(BIN)
        .args(["snapshot", "--url", &url, "--out"])
        .arg(&document)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&document).unwrap();
    assert!(text.starts_with("{\"snapshot_version\":1,"), "{text}");
    let rendered = Command::new(BIN)
        .args(["snapshot", "--url", &url, "--as-scenario"])
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let scenario = dir.join("fixture.yaml");
    std::fs::write(&scenario, &rendered.stdout).unwrap();
    let checked = Command::new(BIN)
        .arg("check")
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let unknown = Command::new(BIN)
        .args(["snapshot", "--url", &url, "--tenant", "nobody"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("404"));
    assert!(terminate(&mut child).success());
}

/// With --state, the sandbox CA is written beside the state file and is the same after a
/// restart; `healthcheck` reaches the https listener trusting it (and fails without it).
#[test]
fn the_sandbox_ca_survives_a_restart_and_healthcheck_speaks_https() {
    use crate::support::client;

    let dir = std::env::temp_dir().join(format!("issuer-sandbox-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let _ = std::fs::remove_file(dir.join("state.json.ca.pem"));
    let _ = std::fs::remove_file(dir.join("state.json.ca-key.pem"));
    let ca_of = |url: &str| {
        client()
            .get(format!("{url}/__admin/ca.pem"))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let start = || {
        let tls = format!("127.0.0.1:{}", free_port());
        let (child, url) = serve(&["--state", state.to_str().unwrap(), "--tls-bind", &tls]);
        (child, url, format!("https://{tls}"))
    };
    let (mut child, url, https) = start();
    let first = ca_of(&url);
    assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
    let ca_file = dir.join("state.json.ca.pem");
    assert_eq!(std::fs::read_to_string(&ca_file).unwrap(), first);
    let healthcheck = |https: &str, cacert: Option<&std::path::Path>| {
        let mut command = Command::new(BIN);
        command.args(["healthcheck", "--url", https]);
        if let Some(file) = cacert {
            command.arg("--cacert").arg(file);
        }
        command.output().unwrap()
    };
    let trusted = healthcheck(&https, Some(&ca_file));
    assert!(trusted.status.success(), "{trusted:?}");
    assert_eq!(String::from_utf8_lossy(&trusted.stdout).trim(), "healthy");
    let untrusted = healthcheck(&https, None);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("certificate"),
        "{untrusted:?}"
    );
    assert!(terminate(&mut child).success());

    let (mut child, url, https) = start();
    assert_eq!(ca_of(&url), first, "the same CA after a restart");
    assert!(healthcheck(&https, Some(&ca_file)).status.success());
    assert!(terminate(&mut child).success());
}

/// `healthcheck --wait` started before the server waits for it; without --wait one attempt
/// fails at once.
#[test]
fn healthcheck_waits_for_a_server_that_is_starting() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let once = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert_eq!(once.status.code(), Some(1), "nothing listens yet");
    let waiting = Command::new(BIN)
        .args(["healthcheck", "--url", &url, "--wait", "20s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut child, _) = serve(&["--bind", &format!("127.0.0.1:{port}")]);
    let waited = waiting.wait_with_output().unwrap();
    assert!(waited.status.success(), "{waited:?}");
    assert_eq!(String::from_utf8_lossy(&waited.stdout).trim(), "healthy");
    assert!(terminate(&mut child).success());
}

/// A second SIGTERM during the drain exits at once, reporting the signal as a shell does:
/// 128 + 15.
#[test]
fn a_second_sigterm_during_the_drain_exits_143() {
    use crate::support::client;

    let (mut child, url) = serve(&[]);
    let added = client()
        .post(format!("{url}/__admin/faults"))
        .body(r#"{"match":{"provider":"acedata"},"action":"hang"}"#)
        .send()
        .unwrap();
    assert_eq!(added.status(), 201);
    let hanging = {
        let url = url.clone();
        std::thread::spawn(move || {
            let _ = client()
                .post(format!("{url}/identity/bankcard/check-1e"))
                .header("authorization", "Bearer demo-acedata-token")
                .body(r#"{"bank_card":"6222020200112233446"}"#)
                .send();
        })
    };
    // The hanging request holds a connection open: the drain will wait for it.
    crate::support::eventually(|| {
        let health: serde_json::Value = client()
            .get(format!("{url}/__admin/health"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        health["connections"]["open"].as_u64().unwrap_or(0) >= 2
    });
    let term = || {
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    term();
    // Draining: the listener is closed (signals would coalesce if sent back to back).
    let addr = url.trim_start_matches("http://").to_owned();
    crate::support::eventually(|| std::net::TcpStream::connect(&addr).is_err());
    term();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status:?}");
    hanging.join().unwrap();
}

/// `--bind off` without `--tls-bind` leaves nothing to listen on: refused at start.
#[test]
fn serve_refuses_to_listen_nowhere() {
    let output = Command::new(BIN)
        .args(["serve", "--bind", "off"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--bind off needs --tls-bind"),
        "{output:?}"
    );
}
