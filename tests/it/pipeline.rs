//! The one request pipeline, as every provider sees it: one world lock per request, fault rules
//! consulted at the same point, timeline events caught up before a provider reads the world,
//! webhooks sealed with no lock held.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use issuer_sandbox::Sandbox;
use issuer_sandbox::app::{App, Config};
use issuer_sandbox::providers::{self, Reply, Request};
use issuer_sandbox::running::Running;
use issuer_sandbox::scenario::Scenario;
use serde_json::{Value, json};

use crate::support::*;

/// A request to send straight to a provider's pipeline (no server, so no webhook dispatcher
/// touches the tenants meanwhile).
struct Call {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Call {
    fn new(method: Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Call {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Call {
            method,
            path: path.to_owned(),
            headers: map,
            body,
        }
    }

    fn post(path: &str, headers: &[(&str, &str)], body: &Value) -> Call {
        let mut headers = headers.to_vec();
        headers.push(("content-type", "application/json"));
        Call::new(Method::POST, path, &headers, body.to_string().into_bytes())
    }

    /// Sends the call to `provider`; the reply and how many times the demo tenant's world was
    /// locked meanwhile.
    fn send(&self, app: &App, running: &Running, provider: &str) -> (Reply, u64) {
        let tenant = running.tenant("demo").unwrap();
        let before = tenant.locks();
        let request = Request {
            method: &self.method,
            path: &self.path,
            query: None,
            headers: &self.headers,
            body: &self.body,
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
        };
        let reply = app
            .registry
            .get(provider)
            .unwrap()
            .handle(running, &request);
        (reply, tenant.locks() - before)
    }
}

fn body(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).unwrap()
}

fn serverless(yaml: &str) -> (App, Arc<Running>) {
    let scenario =
        Scenario::from_source(yaml, "test", None, &issuer_sandbox::providers::builtin()).unwrap();
    let app = App::new(Config::default(), providers::builtin(), scenario);
    let running = app.running();
    (app, running)
}

fn now_millis() -> String {
    jiff::Timestamp::now().as_millisecond().to_string()
}

#[test]
fn every_provider_locks_the_tenants_world_once_per_request() {
    let (app, running) = serverless(&FROZEN_DEFAULT);
    let bearer = [("authorization", "Bearer demo-acedata-token")];
    let lookup = Call::post(
        "/identity/bankcard/check-2e",
        &bearer,
        &json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    let (reply, locks) = lookup.send(&app, &running, "acedata");
    assert_eq!(
        (reply.status.as_u16(), body(&reply)["result"].clone()),
        (200, json!("0"))
    );
    assert_eq!(locks, 1, "AceData verification");
    // A refusal with a tenant draws its trace id under that one lock; without one, none.
    let scoped = Call::post(
        "/identity/bankcard/check-2e",
        &[("authorization", "Bearer demo-acedata-lookup-only")],
        &json!({}),
    );
    assert_eq!(scoped.send(&app, &running, "acedata").1, 1);
    let stranger = Call::post("/identity/bankcard/check-1e", &[], &json!({}));
    assert_eq!(stranger.send(&app, &running, "acedata").1, 0);

    let stamp = now_millis();
    let key = [
        ("api-key", "demo-keysecure-api-key"),
        ("timestamp", stamp.as_str()),
    ];
    let token = Call::new(Method::GET, "/open-api/v1/merchant/token", &key, Vec::new());
    let (reply, locks) = token.send(&app, &running, "keysecure");
    assert_eq!(locks, 1, "KeySecure token");
    let access = body(&reply)["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut headers = key.to_vec();
    headers.push(("access-token", &access));
    let list = Call::post("/open-api/v1/card/list", &headers, &json!({}));
    let (reply, locks) = list.send(&app, &running, "keysecure");
    assert_eq!(body(&reply)["code"], 0, "{}", body(&reply));
    assert_eq!(locks, 1, "KeySecure card list");

    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let sealed = pagsmile
        .seal_request("L-1", &json!({ "card_token": "CT202611210000000001" }))
        .unwrap();
    let balance = Call::post("/issuing/card/query-card-balance", &[], &sealed);
    let (reply, locks) = balance.send(&app, &running, "pagsmile");
    assert_eq!(body(&reply)["code"], "10000", "{}", body(&reply));
    assert_eq!(locks, 1, "Pagsmile balance");

    let mut kazepay = issuer_sandbox::providers::kazepay::client::Client::demo();
    let sealed = kazepay
        .seal_request("getWebhookUrl", "L-1", &json!({}))
        .unwrap();
    let (reply, locks) = Call::post("/kazepay", &[], &sealed).send(&app, &running, "kazepay");
    assert_eq!(
        kazepay.open_response(&body(&reply)).unwrap().code,
        "SUCCESS"
    );
    assert_eq!(locks, 1, "KazePay");
}

#[test]
fn fault_rules_are_consulted_at_the_same_point_for_every_provider() {
    // Every provider's requests fail with 503; each request below is admitted and opened but
    // its body is wrong: the rule still answers, in every provider alike.
    let mut yaml = FROZEN_DEFAULT.replace("name: frozen\n", "name: frozen\nfaults:\n");
    for provider in ["acedata", "keysecure", "pagsmile", "kazepay"] {
        yaml = yaml.replace(
            "faults:\n",
            &format!("faults:\n  - {{ id: {provider}, match: {{ provider: {provider} }}, action: {{ status: 503 }} }}\n"),
        );
    }
    let sandbox = sandbox(&yaml);
    let post = |path: &str, headers: &[(&str, &str)], body: &str| {
        let mut request = client()
            .post(format!("{}{path}", sandbox.url()))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        status_json(request.body(body.to_owned()).send().unwrap())
    };
    let acedata = post(
        "/identity/bankcard/check-1e",
        &[("authorization", "Bearer demo-acedata-token")],
        "{",
    );
    assert_eq!(acedata.0, 503, "{}", acedata.1);
    let stamp = now_millis();
    let access = {
        let response = client()
            .get(format!("{}/open-api/v1/merchant/token", sandbox.url()))
            .header("api-key", "demo-keysecure-api-key")
            .header("timestamp", &stamp)
            .send()
            .unwrap();
        // The token request is a KeySecure request too: it fails first.
        assert_eq!(response.status(), 503);
        admin_send(&sandbox, "DELETE", "/faults/keysecure", "");
        let (_, body) = status_json(
            client()
                .get(format!("{}/open-api/v1/merchant/token", sandbox.url()))
                .header("api-key", "demo-keysecure-api-key")
                .header("timestamp", &stamp)
                .send()
                .unwrap(),
        );
        admin_send(
            &sandbox,
            "POST",
            "/faults",
            r#"{"id":"keysecure","match":{"provider":"keysecure"},"action":{"status":503}}"#,
        );
        body["data"]["access_token"].as_str().unwrap().to_owned()
    };
    let keysecure = post(
        "/open-api/v1/card/list",
        &[
            ("api-key", "demo-keysecure-api-key"),
            ("timestamp", &stamp),
            ("access-token", &access),
        ],
        "{",
    );
    assert_eq!(keysecure.0, 503, "{}", keysecure.1);
    let mut pagsmile = issuer_sandbox::providers::pagsmile::client::Client::demo();
    let sealed = pagsmile.seal_request("F-1", &json!({})).unwrap();
    let pagsmile_reply = post("/issuing/card/query-card-balance", &[], &sealed.to_string());
    assert_eq!(pagsmile_reply.0, 503, "{}", pagsmile_reply.1);
    let mut kazepay = issuer_sandbox::providers::kazepay::client::Client::demo();
    let sealed = kazepay
        .seal_request("queryCard", "F-1", &json!({}))
        .unwrap();
    let kazepay_reply = post("/kazepay", &[], &sealed.to_string());
    assert_eq!(kazepay_reply.0, 503, "{}", kazepay_reply.1);

    // Requests refused before they are admitted never reach the rules.
    let stranger = post(
        "/identity/bankcard/check-1e",
        &[("authorization", "Bearer nobody")],
        "{}",
    );
    assert_eq!(stranger.0, 401);
    let unknown_key = post(
        "/open-api/v1/card/list",
        &[("api-key", "nobody"), ("timestamp", &stamp)],
        "{}",
    );
    assert_eq!(
        (unknown_key.0, unknown_key.1["code"].clone()),
        (200, json!(1008))
    );
    let (_, rules) = admin_get(&sandbox, "/faults");
    let counts: Vec<(Value, Value, Value)> = rules["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"]["id"].clone(),
                f["matches"].clone(),
                f["fired"].clone(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            (json!("kazepay"), json!(1), json!(1)),
            (json!("pagsmile"), json!(1), json!(1)),
            (json!("acedata"), json!(1), json!(1)),
            (json!("keysecure"), json!(1), json!(1)),
        ]
    );
}

#[test]
fn acedata_verification_sees_the_timeline_events_that_came_due() {
    let yaml = FROZEN_DEFAULT.replace(
        "  - id: demo\n",
        "  - id: demo\n    timeline:\n      - { after: 1m, card_status: { card: card-zhang-icbc, status: frozen } }\n",
    );
    let (app, running) = serverless(&yaml);
    // The clock moves on, and nothing has looked at the world since: the event is due, not run.
    running.tenant("demo").unwrap().with_world(|world| {
        world.clock.advance(jiff::SignedDuration::from_mins(2));
    });
    let verify = Call::post(
        "/identity/bankcard/check-2e",
        &[("authorization", "Bearer demo-acedata-token")],
        &json!({ "bank_card": "6222020200112233446", "name": "张伟" }),
    );
    let (reply, _) = verify.send(&app, &running, "acedata");
    assert_eq!(
        body(&reply)["result"],
        "-13",
        "the card was frozen a minute ago"
    );
}

/// What the watcher's seals saw: whether the demo tenant's world was locked while sealing.
static SEALED_WITH_WORLD_LOCKED: Mutex<Vec<bool>> = Mutex::new(Vec::new());
static WATCHED: OnceLock<Arc<App>> = OnceLock::new();

#[test]
fn webhooks_are_composed_in_the_lock_and_sealed_outside_it() {
    // A KazePay webhook leaves the tenant's lock unsealed: composing does no RSA.
    let (app, running) = serverless(&FROZEN_DEFAULT);
    let tenant = running.tenant("demo").unwrap();
    let notice = tenant.with_world(|world| {
        world
            .webhook_urls
            .insert("kazepay".into(), "http://127.0.0.1:9/hook".into());
        let now = world.now();
        world.set_card_status("3377", issuer_sandbox::world::CardStatus::Inactive, now);
        world.take_notices().remove(0)
    });
    let draft = tenant
        .with_world(|world| {
            app.registry
                .get("kazepay")
                .unwrap()
                .webhook(&running, world, &notice, 7)
        })
        .expect("a status change of a KazePay card is notified");
    assert_eq!(draft.outbound.plain["eventType"], "CARD_STATUS");
    assert!(draft.outbound.body.is_empty() && draft.seal.is_some());
    let sent: Value = serde_json::from_str(&draft.sealed().body).unwrap();
    assert_eq!(sent["head"]["apiCode"], "notify");
    assert!(sent["head"]["sign"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        sent["body"]["encrypt"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );

    // The dispatcher seals every draft with the world's lock released.
    let sandbox = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .provider(watcher::Watcher)
        .start()
        .unwrap();
    WATCHED.set(sandbox.app().clone()).unwrap();
    let (status, body) = admin_send(
        &sandbox,
        "POST",
        "/simulate/card-status",
        r#"{"card":"card-zhang-icbc","status":"frozen"}"#,
    );
    assert_eq!(status, 200, "{body}");
    eventually(|| sandbox.webhooks_settled("demo"));
    let seen = SEALED_WITH_WORLD_LOCKED.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the watcher sealed its webhook");
    assert!(seen.iter().all(|locked| !locked), "{seen:?}");
}

/// A provider that sends a webhook for every notice and watches the world's lock while its
/// webhook is sealed.
mod watcher {
    use issuer_sandbox::providers::{
        Admission, Cx, Draft, Failure, Outcome, Payload, Provider, Reply, Request, Trace,
    };
    use issuer_sandbox::scenario::section::{Build, Located};
    use issuer_sandbox::world::World;
    use issuer_sandbox::world::deliveries::Outbound;
    use issuer_sandbox::world::timeline::Notice;

    use super::{SEALED_WITH_WORLD_LOCKED, WATCHED};

    pub struct Watcher;

    impl Provider for Watcher {
        const NAME: &'static str = "watcher";
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
            vec!["/watcher/".to_owned()]
        }

        fn admit<'r>(&self, _cx: &Cx<'r, Self>, _request: &Request<'_>) -> Admission<'r, Self> {
            Admission::Refused {
                tenant: None,
                operation: None,
                refusal: (),
            }
        }

        fn read(
            &self,
            _: &Cx<'_, Self>,
            _: &(),
            _: &Request<'_>,
            _: &Payload<'_>,
        ) -> Result<(), ()> {
            Ok(())
        }

        fn operate(&self, _: &Cx<'_, Self>, _: &(), _: (), _: &mut World) -> Result<(), ()> {
            Ok(())
        }

        fn catalog_error(&self, _name: &str) -> Option<()> {
            None
        }

        fn respond(&self, _: &Cx<'_, Self>, _: Outcome<Self>, _: (), trace: Trace) -> Reply {
            Reply::json(http::StatusCode::OK, &serde_json::json!({}), trace)
        }

        fn failure(&self, _: &Cx<'_, Self>, _path: &str, _failure: &Failure) -> Reply {
            Reply::json(
                http::StatusCode::OK,
                &serde_json::json!({}),
                Trace::default(),
            )
        }

        fn webhook(
            &self,
            _: &Cx<'_, Self>,
            _tenant: usize,
            _: &World,
            notice: &Notice,
            _: u64,
        ) -> Option<Draft> {
            let outbound = Outbound {
                provider: Self::NAME.to_owned(),
                event: "watched".to_owned(),
                url: "http://127.0.0.1:9/watched".to_owned(),
                body: String::new(),
                plain: serde_json::to_value(notice).unwrap_or_default(),
                headers: Vec::new(),
                retries: Vec::new(),
            };
            let seal = |outbound: &mut Outbound| {
                let app = WATCHED.get().expect("the test shares its sandbox");
                let locked = app.running().tenant("demo").unwrap().is_locked();
                SEALED_WITH_WORLD_LOCKED.lock().unwrap().push(locked);
                outbound.body = outbound.plain.to_string();
            };
            Some(Draft {
                outbound,
                seal: Some(Box::new(seal)),
            })
        }
    }
}
