//! HTTPS both ways: every provider answers over TLS as over plain HTTP (to a client trusting
//! only the exported CA, and to Python's `ssl`), an untrusting client fails the handshake, a
//! fault rule breaks handshakes, and webhooks reach https receivers whose certificates the
//! scenario's CA signed (and fail, retried, on others).

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::{kazepay, pagsmile};
use issuer_sandbox::tls::SandboxCa;
use serde_json::{Value, json};

use crate::support::*;

/// A blocking client that trusts `ca_pem` and nothing else.
fn trusting(ca_pem: &str) -> reqwest::blocking::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in issuer_sandbox::tls::certificates(ca_pem, "the CA").unwrap() {
        roots.add(cert).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    crate::support::client_builder()
        .use_preconfigured_tls(config)
        .build()
        .unwrap()
}

/// The same requests to each provider; what came back (opened where sealed).
fn exchange(sandbox: &Sandbox, http: &reqwest::blocking::Client) -> Vec<Value> {
    let base = sandbox.url();
    let json_of = |response: reqwest::blocking::Response| -> Value {
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    };
    let mut answers = Vec::new();
    answers.push(json_of(
        http.post(format!("{base}/identity/bankcard/check-1e"))
            .bearer_auth("demo-acedata-token")
            .json(&json!({ "bank_card": "6222020200112233446" }))
            .send()
            .unwrap(),
    ));
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    let token = json_of(
        http.get(format!("{base}/open-api/v1/merchant/token"))
            .header("Api-Key", "demo-keysecure-api-key")
            .header("Timestamp", &now)
            .send()
            .unwrap(),
    );
    let access = token["data"]["access_token"].as_str().unwrap().to_owned();
    answers.push(json!(access.len()));
    answers.push(json_of(
        http.post(format!("{base}/open-api/v1/cardholder/apply"))
            .header("Api-Key", "demo-keysecure-api-key")
            .header("Timestamp", &now)
            .header("Access-Token", &access)
            .json(&json!({ "cardholder_unique_no": "TLS-1", "sumsub_share_token": "share-token-tls" }))
            .send()
            .unwrap(),
    ));
    let mut pagsmile = pagsmile::client::Client::demo();
    let sealed = pagsmile
        .seal_request("REQ-TLS-1", &json!({ "holder_id": 20000001 }))
        .unwrap();
    let response = json_of(
        http.post(format!("{base}/issuing/holder/query"))
            .json(&sealed)
            .send()
            .unwrap(),
    );
    answers.push(response.clone());
    answers.push(pagsmile.open_response(&response).unwrap().data.unwrap());
    let mut kazepay = kazepay::client::Client::demo();
    let envelope = kazepay
        .seal_request("getWebhookUrl", "202611210000000777", &json!({}))
        .unwrap();
    let response = json_of(
        http.post(format!("{base}/kazepay"))
            .json(&envelope)
            .send()
            .unwrap(),
    );
    answers.push(response.clone());
    answers.push(json!(kazepay.open_response(&response).unwrap().code));
    answers
}

#[test]
fn every_provider_answers_over_https_as_over_http() {
    let plain = sandbox(&FROZEN_DEFAULT);
    let secure = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .tls()
        .start()
        .unwrap();
    assert!(secure.url().starts_with("https://127.0.0.1:"));
    let ca = secure.ca_pem().unwrap().to_owned();
    assert_eq!(
        exchange(&secure, &trusting(&ca)),
        exchange(&plain, &client()),
        "the same answers, byte for byte where sealed"
    );
    // The control API and the CA itself, over TLS; the journal says which TLS.
    let http = trusting(&ca);
    let pem = http
        .get(format!("{}/__admin/ca.pem", secure.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(pem, ca);
    let journal: Value = http
        .get(format!(
            "{}/__admin/requests?provider=acedata",
            secure.url()
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(journal["requests"][0]["tls"], "TLSv1_3", "{journal}");
    assert_eq!(
        admin_get(&plain, "/ca.pem").0,
        404,
        "no HTTPS, no CA to hand out"
    );
}

/// Python's `ssl` and `urllib`, an implementation of its own, trusting the exported CA file,
/// gets the answer plain HTTP gives; without the CA it refuses the certificate.
#[test]
fn python_trusting_the_exported_ca_gets_the_same_answer() {
    let plain = sandbox(&FROZEN_DEFAULT);
    let secure = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .tls()
        .start()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("issuer-sandbox-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, secure.ca_pem().unwrap()).unwrap();
    let script = r#"
import json, ssl, sys, urllib.request
url, cafile = sys.argv[1], sys.argv[2]
request = urllib.request.Request(url + "/identity/bankcard/check-1e",
    data=json.dumps({"bank_card": "6222020200112233446"}).encode(),
    headers={"Authorization": "Bearer demo-acedata-token", "Content-Type": "application/json"})
context = ssl.create_default_context(cafile=cafile if cafile != "-" else None)
try:
    with urllib.request.urlopen(request, context=context) as response:
        print(json.dumps(json.load(response), sort_keys=True))
except urllib.error.URLError as error:
    print("refused:", type(error.reason).__name__, error.reason)
"#;
    let run = |cafile: &str| {
        let output = std::process::Command::new("python3")
            .args(["-c", script, &secure.url(), cafile])
            .output()
            .expect("python3 (installed by .ci/run)");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let expected = acedata(
        &plain,
        "check-1e",
        "demo-acedata-token",
        json!({ "bank_card": "6222020200112233446" }),
    )
    .1;
    let answered: Value = serde_json::from_str(&run(ca_file.to_str().unwrap())).unwrap();
    assert_eq!(answered, expected);
    let refused = run("-");
    assert!(
        refused.starts_with("refused: SSLCertVerificationError"),
        "{refused}"
    );
}

/// A client that does not trust the CA fails the handshake; a `tls_handshake_failure` rule
/// breaks handshakes as scheduled, then they succeed again.
#[test]
fn untrusting_clients_and_broken_handshakes_fail() {
    let secure = Sandbox::builder().tls().start().unwrap();
    let stranger = SandboxCa::generate().unwrap();
    let failed = trusting(stranger.cert_pem())
        .get(format!("{}/__admin/health", secure.url()))
        .send()
        .unwrap_err();
    assert!(failed.is_connect(), "{failed:?}");
    let http = trusting(secure.ca_pem().unwrap());
    let health = |http: &reqwest::blocking::Client| {
        http.get(format!("{}/__admin/health", secure.url()))
            .send()
            .map(|r| r.status().as_u16())
    };
    assert_eq!(health(&http).unwrap(), 200);
    let rule = http
        .post(format!("{}/__admin/faults", secure.url()))
        .json(&json!({ "action": "tls_handshake_failure", "when": { "first": 1 } }))
        .send()
        .unwrap();
    assert_eq!(rule.status(), 201);
    // A fresh client each time: a new connection, a new handshake.
    let broken = health(&trusting(secure.ca_pem().unwrap())).unwrap_err();
    assert!(broken.is_connect(), "{broken:?}");
    assert_eq!(health(&trusting(secure.ca_pem().unwrap())).unwrap(), 200);
    let faults: Value = http
        .get(format!("{}/__admin/faults", secure.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(faults["faults"][0]["fired"], 1, "{faults}");
    let refused = http
        .post(format!("{}/__admin/faults", secure.url()))
        .json(&json!({ "match": { "provider": "acedata" }, "action": "tls_handshake_failure" }))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 400, "a handshake knows no provider");
}

/// An https webhook receiver with a certificate from `ca`, answering 200; what it received.
struct TlsReceiver {
    url: String,
    received: std::sync::mpsc::Receiver<String>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TlsReceiver {
    fn start(ca: &SandboxCa) -> TlsReceiver {
        use http_body_util::{BodyExt, Full};
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;

        let config = ca.server_config(&[]).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "https://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let (sender, received) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            return;
                        };
                        let (acceptor, sender) = (acceptor.clone(), sender.clone());
                        tokio::spawn(async move {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let service = service_fn(
                                move |request: hyper::Request<hyper::body::Incoming>| {
                                    let sender = sender.clone();
                                    async move {
                                        let body = request.into_body().collect().await?.to_bytes();
                                        let _ = sender
                                            .send(String::from_utf8_lossy(&body).into_owned());
                                        Ok::<_, hyper::Error>(hyper::Response::new(Full::new(
                                            bytes::Bytes::from_static(b"{}"),
                                        )))
                                    }
                                },
                            );
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stopped => {}
                }
            });
        });
        TlsReceiver {
            url,
            received,
            _stop: stop,
        }
    }
}

/// The frozen default scenario, Pagsmile's webhooks going to `url`, with `top` (top-level YAML)
/// and `merchant` (the demo merchant's keys) added.
fn webhook_scenario(url: &str, top: &str, merchant: &str) -> String {
    let anchor = "security_key: Pagsmile_sk_demo_0123456789abcdef\n";
    FROZEN_DEFAULT
        .replacen(anchor, &format!("{anchor}        webhook_url: {url}\n"), 1)
        .replacen("name: frozen\n", &format!("name: frozen\n{top}\n"), 1)
        .replacen(
            "    name: Demo Merchant Ltd.\n",
            &format!("    name: Demo Merchant Ltd.\n{merchant}"),
            1,
        )
}

/// An authorization on the Pagsmile card: a webhook to the merchant; the delivery once no
/// attempt is in flight.
fn webhook_after_authorization(sandbox: &Sandbox) -> Value {
    let (status, _) = admin_send(
        sandbox,
        "POST",
        "/simulate/transaction",
        r#"{"card":"30000001","kind":"authorization","amount":"1.00"}"#,
    );
    assert_eq!(status, 200);
    eventually(|| sandbox.webhooks_settled("demo"));
    state(sandbox, "demo")["deliveries"][0].clone()
}

#[test]
fn webhooks_reach_https_receivers_the_scenario_trusts_and_retry_the_others() {
    let test_ca = SandboxCa::generate().unwrap();
    let receiver = TlsReceiver::start(&test_ca);
    let pem = test_ca.cert_pem().replace('\n', "\\n");

    // Trusted through the scenario's webhook_ca: delivered.
    let trusted = sandbox(&webhook_scenario(
        &receiver.url,
        &format!("webhook_ca: [\"{pem}\"]"),
        "",
    ));
    let delivery = webhook_after_authorization(&trusted);
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["attempts"][0]["status"], 200);
    assert!(delivery["attempts"][0].get("note").is_none());
    assert!(receiver.received.recv().unwrap().contains("notify_type"));

    // Not trusted: a failed attempt naming the TLS problem, retried on schedule.
    let untrusted = sandbox(&webhook_scenario(&receiver.url, "", ""));
    let delivery = webhook_after_authorization(&untrusted);
    assert_eq!(delivery["state"], "pending", "{delivery}");
    let error = delivery["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("certificate"), "{error}");
    assert!(delivery["next_at"].is_string());
    advance_clock(&untrusted, "10m");
    eventually(|| untrusted.webhooks_settled("demo"));
    let delivery = state(&untrusted, "demo")["deliveries"][0].clone();
    assert_eq!(
        delivery["attempts"].as_array().unwrap().len(),
        2,
        "{delivery}"
    );

    // A merchant that skips verification: delivered, and the attempt says how.
    let careless = sandbox(&webhook_scenario(
        &receiver.url,
        "",
        "    webhook_tls_verify: false\n",
    ));
    let delivery = webhook_after_authorization(&careless);
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(
        delivery["attempts"][0]["note"],
        "TLS certificate not verified (the merchant's webhook_tls_verify is false)"
    );

    // A webhook_ca that is no certificate is a located scenario problem.
    let problems = scenario_problems(&webhook_scenario(
        &receiver.url,
        "webhook_ca: [\"-----BEGIN CERTIFICATE-----\\nnope\\n-----END CERTIFICATE-----\\n\"]",
        "",
    ));
    assert!(
        problems.contains("webhook_ca is not a usable PEM certificate"),
        "{problems}"
    );
}

/// Over TLS as over plain HTTP: the body limit answers 413 and a `reset` fault closes the
/// connection (after the handshake) without an answer.
#[test]
fn the_body_limit_and_reset_faults_hold_over_tls() {
    let secure = Sandbox::builder().body_limit(100).tls().start().unwrap();
    let http = trusting(secure.ca_pem().unwrap());
    let check_1e = format!("{}/identity/bankcard/check-1e", secure.url());
    let big = http
        .post(&check_1e)
        .bearer_auth("demo-acedata-token")
        .header("Content-Type", "application/json")
        .body(format!("{{\"bank_card\":\"{}\"}}", "6".repeat(200)))
        .send()
        .unwrap();
    assert_eq!(big.status(), 413);
    let rule = http
        .post(format!("{}/__admin/faults", secure.url()))
        .json(&json!({ "match": { "provider": "acedata" }, "action": "reset", "when": { "first": 1 } }))
        .send()
        .unwrap();
    assert_eq!(rule.status(), 201);
    let lookup = || {
        trusting(secure.ca_pem().unwrap())
            .post(&check_1e)
            .bearer_auth("demo-acedata-token")
            .json(&json!({ "bank_card": "6222020200112233446" }))
            .send()
    };
    let reset = lookup().unwrap_err();
    assert!(
        !reset.is_connect(),
        "the handshake succeeded, the answer never came: {reset:?}"
    );
    assert_eq!(lookup().unwrap().status(), 200);
}
