//! The transport: routing, 404s, body limits on the wire, panics, shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;

use issuer_sandbox::providers::{
    Admission, Cx, Failure, Outcome, Payload, Provider, Reply, Request, Trace,
};
use issuer_sandbox::scenario::section::{Build, Located};
use issuer_sandbox::world::World;
use serde_json::{Value, json};

use crate::support::*;

/// A provider that panics on `/boom/now` and answers `{"ok":true}` elsewhere under `/boom/`
/// (by itself: it has no tenants, no credentials, no operations).
struct Explosive;

impl Provider for Explosive {
    const NAME: &'static str = "explosive";
    type Section = ();
    type Credentials = ();
    type Settings = ();
    type Caller = ();
    type Request = ();
    type Answer = ();
    type Error = ();
    type Refusal = ();
    type Draw = ();

    fn build(
        &self,
        _section: (),
        _merchants: Vec<(usize, Located<()>)>,
        _build: &mut Build<'_, '_>,
    ) -> Option<()> {
        Some(())
    }

    fn prefixes(&self, _settings: &()) -> Vec<String> {
        vec!["/boom/".to_owned()]
    }

    fn direct(&self, _cx: &Cx<'_, Self>, request: &Request<'_>) -> Option<Reply> {
        if request.path == "/boom/now" {
            panic!("kaboom in the handler");
        }
        Some(Reply::json(
            http::StatusCode::OK,
            &json!({ "ok": true }),
            Trace::default(),
        ))
    }

    fn admit<'r>(&self, _cx: &Cx<'r, Self>, _request: &Request<'_>) -> Admission<'r, Self> {
        Admission::Refused {
            tenant: None,
            operation: None,
            refusal: (),
        }
    }

    fn read(&self, _: &Cx<'_, Self>, _: &(), _: &Request<'_>, _: &Payload<'_>) -> Result<(), ()> {
        Ok(())
    }

    fn operate(&self, _: &Cx<'_, Self>, _: &(), _: (), _: &mut World) -> Result<(), ()> {
        Ok(())
    }

    fn catalog_error(&self, _name: &str) -> Option<()> {
        None
    }

    fn respond(&self, _: &Cx<'_, Self>, _: Outcome<Self>, _: (), trace: Trace) -> Reply {
        Reply::json(http::StatusCode::OK, &json!({ "ok": true }), trace)
    }

    fn failure(&self, _cx: &Cx<'_, Self>, _path: &str, failure: &Failure) -> Reply {
        let kind = match failure {
            Failure::Panic { .. } => "panic",
            Failure::BodyTooLarge { .. } => "too_large",
            Failure::BodyUnreadable => "unreadable",
            _ => "other",
        };
        Reply::json(
            http::StatusCode::BAD_GATEWAY,
            &json!({ "explosive_error": kind }),
            Trace::default(),
        )
    }
}

#[test]
fn unknown_paths_get_a_json_404_listing_provider_prefixes() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let (status, body) = status_json(
        client()
            .post(format!("{}/v1/cards", sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    assert_eq!(body["message"], "no provider serves POST /v1/cards");
    assert_eq!(
        body["providers"],
        json!([
            { "provider": "acedata", "prefixes": ["/identity/"] },
            { "provider": "keysecure", "prefixes": ["/open-api/"] },
            { "provider": "pagsmile", "prefixes": ["/issuing/"] },
            { "provider": "kazepay", "prefixes": ["/kazepay"] }
        ])
    );
    assert_eq!(body["admin"], "/__admin");
}

#[test]
fn a_panicking_handler_gets_the_providers_error_shape_is_journaled_and_the_server_keeps_serving() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .provider(Explosive)
        .start()
        .unwrap();
    let (status, body) = status_json(
        client()
            .post(format!("{}/boom/now", sandbox.url()))
            .body("{}")
            .send()
            .unwrap(),
    );
    assert_eq!((status, body), (502, json!({ "explosive_error": "panic" })));
    let entry = sandbox.journal().pop().unwrap();
    assert_eq!(entry.provider, "explosive");
    assert_eq!(entry.status, 502);
    assert_eq!(
        entry.note.as_deref(),
        Some("handler panicked: kaboom in the handler")
    );
    // Same connection pool, same server: still serving, both providers.
    let (status, _) = status_json(
        client()
            .post(format!("{}/boom/fine", sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(lookup_status(&sandbox, "beta-token"), 200);
}

#[test]
fn acedata_answers_a_panic_with_500_api_error() {
    // The failure path is provider-specific; exercise AceData's directly.
    let scenario = issuer_sandbox::scenario::Scenario::from_source(
        TWO_MERCHANTS,
        "t",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap();
    let app = issuer_sandbox::app::App::new(
        Default::default(),
        issuer_sandbox::providers::builtin(),
        scenario,
    );
    let running = app.running();
    let reply = app.registry.get("acedata").unwrap().failure(
        &running,
        "/identity/bankcard/check-1e",
        &Failure::Panic {
            message: "x".into(),
        },
    );
    assert_eq!(reply.status.as_u16(), 500);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(
        body["error"],
        json!({ "code": "api_error", "message": "Internal server error." })
    );
}

#[test]
fn a_chunked_body_over_the_limit_is_refused_without_reading_it_all() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .body_limit(64)
        .start()
        .unwrap();
    let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
    let chunk = "x".repeat(100);
    let request = format!(
        "POST /identity/bankcard/check-1e HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer beta-token\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains(r#""code":"request_too_large""#),
        "{response}"
    );
}

#[test]
fn a_malformed_http_request_does_not_hurt_the_server() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
    stream.write_all(b"THIS IS NOT HTTP\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 400"),
        "{response}"
    );
    assert_eq!(lookup_status(&sandbox, "beta-token"), 200);
}

#[test]
fn concurrent_clients_are_all_answered() {
    let sandbox = sandbox(TWO_MERCHANTS);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..20 {
                    let (status, body) = acedata(
                        &sandbox,
                        "check-1e",
                        "beta-token",
                        json!({ "bank_card": "6222020200112233446" }),
                    );
                    assert_eq!((status, body["result"].as_str()), (200, Some("0")));
                }
            });
        }
    });
    assert_eq!(sandbox.journal().len(), 160);
}

#[test]
fn dropping_the_sandbox_stops_it() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let addr = sandbox.addr();
    assert!(TcpStream::connect(addr).is_ok());
    drop(sandbox);
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after drop"
    );
}

#[test]
fn embedding_helpers_reach_the_world_and_journal() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let pan = sandbox
        .with_world("alpha", |w| w.cards()["icbc"].pan.clone())
        .unwrap();
    assert_eq!(pan, "6222020200112233446");
    assert!(sandbox.with_world("nope", |_| ()).is_none());
    sandbox.advance_clock(std::time::Duration::from_secs(60));
    assert_eq!(
        state(&sandbox, "beta")["clock"]["now"],
        "2026-03-01T08:01:00Z"
    );
    assert!(sandbox.reset_tenant("beta"));
    assert!(!sandbox.reset_tenant("nope"));
    assert_eq!(
        state(&sandbox, "beta")["clock"]["now"],
        "2026-03-01T08:00:00Z"
    );
    sandbox.reset();
    assert_eq!(
        state(&sandbox, "alpha")["clock"]["now"],
        "2026-03-01T08:00:00Z"
    );
    assert!(sandbox.url().starts_with("http://127.0.0.1:"));
    acedata(
        &sandbox,
        "check-1e",
        "beta-token",
        json!({ "bank_card": "6222020200112233446" }),
    );
    let filter = issuer_sandbox::journal::Filter {
        tenant: Some("beta".into()),
        ..Default::default()
    };
    assert_eq!(sandbox.journal_matching(&filter).len(), 1);
    sandbox.clear_journal();
    assert!(sandbox.journal().is_empty());
}

#[test]
fn a_sandbox_starts_inside_an_async_test_runtime_too() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = issuer_sandbox::Sandbox::builder().start().unwrap();
        assert!(sandbox.url().starts_with("http://127.0.0.1:"));
        drop(sandbox);
    });
}

#[test]
fn the_control_api_reads_bodies_under_the_transport_rules() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .body_read_timeout(std::time::Duration::from_millis(300))
        .start()
        .unwrap();
    // A body that never arrives in full is answered when the read time is up.
    let stalled = raw_exchange(
        &sandbox,
        "POST /__admin/reset HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{",
    );
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(
        stalled.contains(r#""error": "body_unreadable""#),
        "{stalled}"
    );
    // A declared length over the limit is refused before a byte of it is read.
    let declared = raw_exchange(
        &sandbox,
        "PUT /__admin/scenario HTTP/1.1\r\nHost: t\r\nContent-Length: 16777217\r\n\r\n",
    );
    assert!(declared.starts_with("HTTP/1.1 413"), "{declared}");
    assert!(
        declared.contains(r#""error": "request_too_large""#),
        "{declared}"
    );
    assert_eq!(lookup_status(&sandbox, "beta-token"), 200);
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let sandbox = issuer_sandbox::Sandbox::builder()
        .scenario_yaml(TWO_MERCHANTS)
        .max_connections(1)
        .start()
        .unwrap();
    // An idle client holds the only connection the sandbox serves.
    let idle = TcpStream::connect(sandbox.addr()).unwrap();
    let url = format!("{}/__admin/health", sandbox.url());
    let (answered, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let health = client().get(url).send().and_then(|r| r.json::<Value>());
        let _ = answered.send(health.map_err(|e| e.to_string()));
    });
    assert!(
        answer
            .recv_timeout(std::time::Duration::from_millis(300))
            .is_err(),
        "served beyond the cap"
    );
    drop(idle);
    let health = answer
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(health["connections"], json!({ "open": 1, "limit": 1 }));
}
