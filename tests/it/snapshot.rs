//! Snapshots over HTTP: export → restore → export is the same document byte for byte for states
//! reached by random requests across the four providers, and the original and the restored
//! sandbox answer what comes next identically; refused documents change nothing.

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::{kazepay, pagsmile};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

const KS_KEY: &str = "demo-keysecure-api-key";
/// The default scenario's Pagsmile card.
const PAGSMILE_CARD: &str = "CT202611210000000001";

/// The frozen default scenario with Pagsmile webhooks and KeySecure callbacks going to `url`.
fn scenario(url: &str) -> String {
    let yaml = default_with_keysecure(&[&format!("callback_url: {url}/keysecure")]);
    let anchor = "security_key: Pagsmile_sk_demo_0123456789abcdef\n";
    yaml.replacen(
        anchor,
        &format!("{anchor}        webhook_url: {url}/pagsmile\n"),
        1,
    )
}

/// One request (or control call) of a random sequence.
#[derive(Clone, Debug)]
enum Op {
    /// AceData BIN lookup of one of a few cards (found, unknown, malformed).
    Lookup(usize),
    /// A KeySecure token, then a cardholder application.
    KeySecureHolder,
    /// A KeySecure card for the latest cardholder (refused while its review runs).
    KeySecureCard,
    /// A Pagsmile recharge of the default card: pending until it settles.
    PagsmileRecharge(u32),
    /// An authorization on the Pagsmile card: a held amount, a webhook owed.
    Authorization(u32),
    /// The clearing of the latest authorization.
    Clearing,
    /// A KazePay virtual card (a new id and PAN) or a read that spends a request number.
    KazePayCard,
    KazePayRead,
    /// The sandbox clock moves (reviews end, recharges settle, webhook retries come due).
    Advance(u32),
    /// A fault rule added at run time, with its counters.
    Fault,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize).prop_map(Op::Lookup),
        Just(Op::KeySecureHolder),
        Just(Op::KeySecureCard),
        (1..5000u32).prop_map(Op::PagsmileRecharge),
        (1..3000u32).prop_map(Op::Authorization),
        Just(Op::Clearing),
        Just(Op::KazePayCard),
        Just(Op::KazePayRead),
        (1..900u32).prop_map(Op::Advance),
        Just(Op::Fault),
    ]
}

/// A client of one sandbox, with what its requests created so far.
struct Driver<'s> {
    sandbox: &'s Sandbox,
    pagsmile: pagsmile::client::Client,
    kazepay: kazepay::client::Client,
    /// Numbers requests get (envelope request ids, order numbers, unique numbers).
    next: u64,
    holders: Vec<String>,
    authorizations: Vec<String>,
}

impl<'s> Driver<'s> {
    fn new(sandbox: &'s Sandbox) -> Driver<'s> {
        Driver {
            sandbox,
            pagsmile: pagsmile::client::Client::demo(),
            kazepay: kazepay::client::Client::demo(),
            next: 0,
            holders: Vec::new(),
            authorizations: Vec::new(),
        }
    }

    fn number(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Runs `op`, then waits until no webhook attempt is in flight or due (the dispatcher runs
    /// on its own: without this, whether an attempt comes before the next clock move would be a
    /// race); what the client saw (status and answer, opened where sealed).
    fn run(&mut self, op: &Op) -> String {
        let seen = self.request(op);
        self.settle();
        seen
    }

    fn request(&mut self, op: &Op) -> String {
        match op {
            Op::Lookup(n) => {
                let card = ["6222020200112233446", "9999999999999995", "12"][*n];
                format!(
                    "{:?}",
                    acedata(
                        self.sandbox,
                        "check-1e",
                        "demo-acedata-token",
                        json!({ "bank_card": card })
                    )
                )
            }
            Op::KeySecureHolder => {
                let n = self.number();
                let answer = self.keysecure(
                    "/open-api/v1/cardholder/apply",
                    json!({ "cardholder_unique_no": format!("P-{n}"), "sumsub_share_token": "share-token-review" }),
                );
                if let Some(no) = answer["data"]["cardholder_no"].as_str() {
                    self.holders.push(no.to_owned());
                }
                answer.to_string()
            }
            Op::KeySecureCard => {
                let n = self.number();
                let holder = self.holders.last().cloned().unwrap_or_default();
                self.keysecure(
                    "/open-api/v1/card/apply",
                    json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": format!("K-{n}") }),
                )
                .to_string()
            }
            Op::PagsmileRecharge(cents) => {
                let n = self.number();
                let amount = format!("{}.{:02}", cents / 100, cents % 100);
                self.pagsmile(
                    "/issuing/card/recharge",
                    json!({ "card_token": PAGSMILE_CARD, "order_no": format!("R-{n}"), "amount": amount, "currency": "USD" }),
                )
            }
            Op::Authorization(cents) => {
                let amount = format!("{}.{:02}", cents / 100, cents % 100);
                let (status, reply) = admin_send(
                    self.sandbox,
                    "POST",
                    "/simulate/transaction",
                    &json!({ "card": "30000001", "kind": "authorization", "amount": amount, "merchant_name": "SHOP", "mcc": "5812" }).to_string(),
                );
                if let Some(id) = reply["transaction"]["id"].as_str() {
                    self.authorizations.push(id.to_owned());
                }
                format!("{status} {reply}")
            }
            Op::Clearing => {
                let Some(id) = self.authorizations.pop() else {
                    return "no authorization".to_owned();
                };
                let (status, reply) = admin_send(
                    self.sandbox,
                    "POST",
                    "/simulate/transaction",
                    &json!({ "card": "30000001", "kind": "clearing", "amount": "0.01", "authorization_id": id }).to_string(),
                );
                format!("{status} {reply}")
            }
            Op::KazePayCard => {
                let n = self.number();
                self.kazepay(
                    "createCard",
                    json!({ "email": format!("v{n}@example.com"), "mobileNumber": "123456", "mobilePrefix": "60", "cardBin": "222929" }),
                )
            }
            Op::KazePayRead => self.kazepay("getWebhookUrl", json!({})),
            Op::Advance(seconds) => {
                advance_clock(self.sandbox, &format!("{seconds}s"));
                "advanced".to_owned()
            }
            Op::Fault => {
                let (status, reply) = admin_send(
                    self.sandbox,
                    "POST",
                    "/faults",
                    &json!({ "match": { "provider": "acedata" }, "action": { "status": 503 }, "when": { "probability": 0.5 } }).to_string(),
                );
                format!("{status} {reply}")
            }
        }
    }

    fn keysecure(&mut self, path: &str, body: Value) -> Value {
        let now = jiff::Timestamp::now().as_millisecond().to_string();
        let (_, token) = status_json(
            client()
                .get(format!("{}/open-api/v1/merchant/token", self.sandbox.url()))
                .header("Api-Key", KS_KEY)
                .header("Timestamp", &now)
                .send()
                .unwrap(),
        );
        let token = token["data"]["access_token"].as_str().unwrap_or_default();
        status_json(
            client()
                .post(format!("{}{path}", self.sandbox.url()))
                .header("Api-Key", KS_KEY)
                .header("Timestamp", &now)
                .header("Access-Token", token)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .unwrap(),
        )
        .1
    }

    /// The raw answer (its encryption included) and what it opens to.
    fn pagsmile(&mut self, path: &str, biz: Value) -> String {
        let request_id = format!("REQ-{:06}", self.number());
        let request = self.pagsmile.seal_request(&request_id, &biz).unwrap();
        let (status, response) = status_json(
            client()
                .post(format!("{}{path}", self.sandbox.url()))
                .header("content-type", "application/json")
                .body(request.to_string())
                .send()
                .unwrap(),
        );
        let opened = self.pagsmile.open_response(&response).map(|o| o.data);
        format!("{status} {response} {opened:?}")
    }

    /// The raw answer (signature included) and what it opens to.
    fn kazepay(&mut self, api_code: &str, body: Value) -> String {
        let request_no = format!("2026112100000000{:06}", self.number());
        let envelope = self
            .kazepay
            .seal_request(api_code, &request_no, &body)
            .unwrap();
        let (status, response) = status_json(
            client()
                .post(format!("{}/kazepay", self.sandbox.url()))
                .header("content-type", "application/json")
                .body(envelope.to_string())
                .send()
                .unwrap(),
        );
        let opened = self.kazepay.open_response(&response).map(|o| o.body);
        format!("{status} {response} {opened:?}")
    }

    /// Waits until no webhook attempt is in flight or due, so the state holds every attempt.
    fn settle(&self) {
        eventually(|| self.sandbox.webhooks_settled("demo"));
    }
}

/// Where two documents first differ, with some text around it.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |d: &[u8]| {
        String::from_utf8_lossy(&d[at.saturating_sub(300)..(at + 200).min(d.len())]).into_owned()
    };
    format!("at byte {at}:\n{}\n---\n{}", around(a), around(b))
}

fn snapshot_bytes(sandbox: &Sandbox) -> Vec<u8> {
    let response = client()
        .get(format!("{}/__admin/snapshot", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().unwrap().to_vec()
}

fn put_snapshot(sandbox: &Sandbox, body: &[u8]) -> (u16, Value) {
    status_json(
        client()
            .put(format!("{}/__admin/snapshot", sandbox.url()))
            .body(body.to_vec())
            .send()
            .unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    /// The round trip is lossless and the restored sandbox is the same machine: the next
    /// requests get the same answers (ids, PANs, encrypted and signed bodies) and leave the
    /// same state (webhooks and their attempts included).
    #[test]
    fn a_restored_sandbox_is_the_same_document_and_answers_the_same(
        before in proptest::collection::vec(op(), 4..14),
        after in proptest::collection::vec(op(), 3..8),
    ) {
        let receiver = Receiver::deciding(|_| Answer::Reply(500, "{}"));
        let yaml = scenario(&receiver.url);
        let original = sandbox(&yaml);
        let mut driver = Driver::new(&original);
        for op in &before {
            driver.run(op);
        }
        driver.settle();
        let exported = snapshot_bytes(&original);

        // A sandbox started on another scenario becomes the original.
        let restored = Sandbox::builder().start().unwrap();
        let (status, answer) = put_snapshot(&restored, &exported);
        prop_assert_eq!(status, 200, "{}", answer);
        prop_assert!(snapshot_bytes(&restored) == exported, "export → restore → export differs");

        let mut twin = Driver::new(&restored);
        twin.next = driver.next;
        twin.holders = driver.holders.clone();
        twin.authorizations = driver.authorizations.clone();
        for op in &after {
            let (mine, theirs) = (driver.run(op), twin.run(op));
            prop_assert_eq!(mine, theirs, "{:?}", op);
        }
        driver.settle();
        twin.settle();
        let (mine, theirs) = (snapshot_bytes(&original), snapshot_bytes(&restored));
        prop_assert!(mine == theirs, "the states part after {:?}: {}", after, first_difference(&mine, &theirs));
    }
}

/// A snapshot restores on a sandbox started without the original scenario file, with its
/// clocks (frozen and advanced), tokens and spent request numbers: a KeySecure token still
/// works and a replayed KazePay envelope is still refused.
#[test]
fn tokens_and_spent_request_numbers_survive_a_restore() {
    let original = sandbox(&FROZEN_DEFAULT);
    let mut driver = Driver::new(&original);
    let envelope = driver
        .kazepay
        .seal_request("getWebhookUrl", "202611210000000099", &json!({}))
        .unwrap();
    let post = |sandbox: &Sandbox| {
        status_json(
            client()
                .post(format!("{}/kazepay", sandbox.url()))
                .header("content-type", "application/json")
                .body(envelope.to_string())
                .send()
                .unwrap(),
        )
        .1
    };
    assert_eq!(post(&original)["head"]["code"], "SUCCESS");
    advance_clock(&original, "2h");
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    let (_, token) = status_json(
        client()
            .get(format!("{}/open-api/v1/merchant/token", original.url()))
            .header("Api-Key", KS_KEY)
            .header("Timestamp", &now)
            .send()
            .unwrap(),
    );
    let token = token["data"]["access_token"].as_str().unwrap().to_owned();
    let clock = admin_get(&original, "/clock").1;

    let restored = Sandbox::builder().start().unwrap();
    assert_eq!(put_snapshot(&restored, &snapshot_bytes(&original)).0, 200);
    assert_eq!(
        admin_get(&restored, "/clock").1,
        clock,
        "the frozen, advanced clock"
    );
    assert_ne!(
        post(&restored)["head"]["code"],
        "SUCCESS",
        "a replay is refused"
    );
    let (_, holders) = status_json(
        client()
            .post(format!("{}/open-api/v1/cardholder/list", restored.url()))
            .header("Api-Key", KS_KEY)
            .header("Timestamp", &now)
            .header("Access-Token", &token)
            .header("Content-Type", "application/json")
            .body(json!({ "start_time": "2026-11-21", "end_time": "2026-11-22" }).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(
        holders["code"], 0,
        "the token still opens the API: {holders}"
    );
}

/// A refused document changes nothing, and says where each problem is.
#[test]
fn refused_snapshots_name_the_problem_and_change_nothing() {
    let sandbox = sandbox(&FROZEN_DEFAULT);
    advance_clock(&sandbox, "1h");
    let before = snapshot_bytes(&sandbox);
    let mut document: Value = serde_json::from_slice(&before).unwrap();

    let refused = |body: &[u8], path: &str, words: &str| {
        let (status, answer) = put_snapshot(&sandbox, body);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "invalid_snapshot");
        let problems = answer["problems"].as_array().unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p["path"] == path && p["message"].as_str().unwrap().contains(words)),
            "{answer}"
        );
        assert!(
            snapshot_bytes(&sandbox) == before,
            "a refused PUT changed the state"
        );
    };
    refused(b"{not json", "$", "not JSON");
    refused(b"[1, 2]", "$", "not a snapshot document");
    refused(b"", "$", "not a snapshot document");
    refused(
        br#"{"snapshot_version": 2}"#,
        "$.snapshot_version",
        "version 2 is not one this sandbox reads",
    );
    let mut wrong_type = document.clone();
    wrong_type["tenants"][0]["world"]["cards"][2]["cvv"] = json!(123);
    refused(
        wrong_type.to_string().as_bytes(),
        "$.tenants[0].world.cards[2].cvv",
        "expected a string",
    );
    let cards = document["tenants"][0]["world"]["cards"]
        .as_array_mut()
        .unwrap();
    let pan = cards[0]["pan"].clone();
    cards[1]["pan"] = pan;
    document["sessions"] = json!([{ "provider": "nobank", "token": "t", "tenant": "demo", "expires_at": "2026-01-01T00:00:00Z" }]);
    let (status, answer) = put_snapshot(&sandbox, document.to_string().as_bytes());
    assert_eq!(status, 400);
    let paths: Vec<&str> = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["$.tenants[0].world.cards[1].pan", "$.sessions[0].provider"],
        "every semantic problem at once: {answer}"
    );
    assert!(snapshot_bytes(&sandbox) == before);
    let mut bad_scenario: Value = serde_json::from_slice(&before).unwrap();
    bad_scenario["scenario"]["source"] = json!("name: [unclosed");
    refused(bad_scenario.to_string().as_bytes(), "$.scenario.source", "");
}

/// `?tenant=` takes one merchant; restoring it into the running scenario replaces only its
/// world and leaves the others.
#[test]
fn one_tenant_is_taken_and_restored_alone() {
    let sandbox = sandbox(TWO_MERCHANTS);
    let alpha_before = state(&sandbox, "alpha");
    let (status, snapshot) = admin_get(&sandbox, "/snapshot?tenant=alpha");
    assert_eq!(status, 200);
    let tenants: Vec<&str> = snapshot["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, ["alpha"]);
    // Both merchants change; restoring alpha's snapshot undoes only alpha's change.
    for tenant in ["alpha", "beta"] {
        let (status, _) = admin_send(
            &sandbox,
            "POST",
            "/clock/advance",
            &json!({ "by": "3h", "tenant": tenant }).to_string(),
        );
        assert_eq!(status, 200);
    }
    let beta_changed = state(&sandbox, "beta");
    let (status, answer) = put_snapshot(&sandbox, snapshot.to_string().as_bytes());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["restored"],
        json!({ "scope": "tenants", "tenants": ["alpha"] })
    );
    assert_eq!(state(&sandbox, "alpha"), alpha_before);
    assert_eq!(state(&sandbox, "beta"), beta_changed);
    assert_eq!(
        admin_get(&sandbox, "/snapshot?tenant=nobody").0,
        404,
        "an unknown tenant"
    );
    for (query, words) in [
        ("?tenant=alpha&format=scenario", "renders every merchant"),
        ("?format=xml", "is not json or scenario"),
    ] {
        let (status, answer) = admin_get(&sandbox, &format!("/snapshot{query}"));
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(words),
            "{answer}"
        );
    }
}

/// The embedding API takes and restores the same documents as the control API.
#[test]
fn the_embedding_api_snapshots_and_restores() {
    let original = sandbox(&FROZEN_DEFAULT);
    advance_clock(&original, "5m");
    let taken = original.snapshot(None);
    assert_eq!(
        issuer_sandbox::snapshot::to_bytes(&taken),
        snapshot_bytes(&original),
        "the same document as GET /__admin/snapshot"
    );
    let other = Sandbox::builder().start().unwrap();
    let restored = other.restore(taken.clone()).unwrap();
    assert_eq!(restored.scope, "all");
    assert_eq!(snapshot_bytes(&other), snapshot_bytes(&original));
    let mut foreign = taken;
    foreign.tenants[0].id = "nobody".to_owned();
    let refused = other.restore(foreign).unwrap_err();
    assert_eq!(refused.problems[0].path, "$.tenants[0].id");
    assert_eq!(
        snapshot_bytes(&other),
        snapshot_bytes(&original),
        "unchanged"
    );
}
