//! How the sandbox behaves as one merchant's card count grows, for `benches/perf.sh`:
//!
//!   cargo run --release --example scale -- 1000 100000 1000000
//!
//! For each count N: an embedded sandbox (the default scenario) gets one approved KeySecure
//! cardholder and then N KeySecure cards made straight in its world; printed are the resident
//! memory per card, and the median time of KeySecure `card/list` (first and last page) and of
//! `card/apply` (a new card each, its `card_unique_no` checked against all N) over HTTP. Then,
//! in a fresh process, the resident bytes of 100,000 cardholders and of 100,000 transactions.

use std::time::{Duration, Instant};

use issuer_sandbox::Sandbox;
use issuer_sandbox::world::{Card, Currency};
use serde_json::{Value, json};

const KEY: &str = "demo-keysecure-api-key";
const SAMPLES: usize = 40;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn now_ms() -> String {
    jiff::Timestamp::now().as_millisecond().to_string()
}

/// A KeySecure call with a fresh timestamp; its `data`.
fn call(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> Value {
    let answer: Value = http
        .post(format!("{base}{path}"))
        .header("api-key", KEY)
        .header("timestamp", now_ms())
        .header("access-token", token)
        .json(body)
        .send()
        .and_then(|r| r.json())
        .expect("the sandbox answers");
    assert_eq!(answer["code"], 0, "{answer}");
    answer["data"].clone()
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn measure(cards: usize) {
    let sandbox = Sandbox::builder().start().expect("the default scenario");
    let base = sandbox.url();
    // reqwest's TLS wants the process's crypto provider chosen.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let token: Value = http
        .get(format!("{base}/open-api/v1/merchant/token"))
        .header("api-key", KEY)
        .header("timestamp", now_ms())
        .send()
        .and_then(|r| r.json())
        .unwrap();
    let token = token["data"]["access_token"].as_str().unwrap().to_owned();
    let holder = call(
        &http,
        &base,
        &token,
        "/open-api/v1/cardholder/apply",
        &json!({ "cardholder_unique_no": "SCALE", "sumsub_share_token": "share-token-review" }),
    )["cardholder_no"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.advance_clock(Duration::from_secs(60));
    let before = rss_bytes();
    let made = Instant::now();
    sandbox
        .with_world("demo", |world| {
            let usd = Currency::new("USD").unwrap();
            let now = world.now();
            for n in 0..cards {
                let pan = world.unused_pan("49387520", 16).expect("numbers left");
                let card = Card {
                    merchant_ref: Some(format!("SCALE-{n:08}")),
                    cardholder_id: Some(holder.clone()),
                    ..Card::ordered(
                        format!("KCS{n:08}"),
                        "keysecure",
                        pan,
                        "123".into(),
                        usd.clone(),
                        now,
                    )
                };
                world.insert_card(card).expect("distinct cards");
            }
        })
        .unwrap();
    let made = made.elapsed();
    let per_card = (rss_bytes().saturating_sub(before)) as f64 / cards as f64;
    let timed = |path: &str, body: &dyn Fn(usize) -> Value| -> f64 {
        median(
            (0..SAMPLES)
                .map(|i| {
                    let started = Instant::now();
                    call(&http, &base, &token, path, &body(i));
                    started.elapsed()
                })
                .collect(),
        )
    };
    let last_page = cards / 10;
    let first = timed(
        "/open-api/v1/card/list",
        &|_| json!({ "page": 0, "size": 10 }),
    );
    let last = timed(
        "/open-api/v1/card/list",
        &|_| json!({ "page": last_page, "size": 10 }),
    );
    let apply = timed(
        "/open-api/v1/card/apply",
        &|i| json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": format!("NEW-{i}") }),
    );
    println!(
        "{cards:>9} cards: {per_card:>6.0} B/card (made in {:.1} s); card/list p50 first page {first:.2} ms, last page {last:.2} ms; card/apply p50 {apply:.2} ms",
        made.as_secs_f64()
    );
}

/// Resident bytes per cardholder (with a name, email, phone, document and address, as the
/// providers' KYC calls leave them) and per card transaction (a purchase), `count` of each.
fn entities(count: usize) {
    use issuer_sandbox::world::ledger::{Posting, TransactionKind};
    use issuer_sandbox::world::{
        Address, CardStatus, Cardholder, IdDocument, IdKind, Kyc, KycStatus, Money, Phone,
    };
    let sandbox = Sandbox::builder().start().expect("the default scenario");
    let before = rss_bytes();
    sandbox
        .with_world("demo", |world| {
            let now = world.now();
            for n in 0..count {
                let id = format!("CH{n:016}");
                let holder = Cardholder {
                    id: id.clone(),
                    issuer: Some("kazepay".into()),
                    merchant_ref: Some(format!("REF-{n:010}")),
                    first_name: "Maria".into(),
                    last_name: "Silva".into(),
                    email: Some(format!("maria.silva.{n}@example.com")),
                    phone: Some(Phone {
                        country_code: "55".into(),
                        number: format!("119{n:08}"),
                        country: Some("BR".into()),
                    }),
                    id_document: Some(IdDocument {
                        kind: IdKind::Passport,
                        number: format!("P{n:09}"),
                        issued_on: None,
                        expires_on: None,
                    }),
                    birthday: None,
                    gender: None,
                    nationality: Some("BR".into()),
                    address: Some(Address {
                        line1: "Avenida Paulista 1000".into(),
                        line2: None,
                        city: "São Paulo".into(),
                        state: Some("SP".into()),
                        postal_code: Some("01310-100".into()),
                        country: "BR".into(),
                    }),
                    kyc: Kyc::settled(KycStatus::Passed, None, now),
                    created_at: now,
                };
                world.cardholders.insert(id, holder);
            }
        })
        .unwrap();
    let per_holder = (rss_bytes().saturating_sub(before)) as f64 / count as f64;
    let before = rss_bytes();
    sandbox
        .with_world("demo", |world| {
            let usd = Currency::new("USD").unwrap();
            let now = world.now();
            let pan = world.unused_pan("49387520", 16).expect("numbers left");
            let card = Card {
                status: CardStatus::Active,
                available: Money::parse("100000000.00", usd.clone()).unwrap(),
                ..Card::ordered(
                    "SPENDER".into(),
                    "kazepay",
                    pan,
                    "123".into(),
                    usd.clone(),
                    now,
                )
            };
            world.insert_card(card).unwrap();
            for _ in 0..count {
                world
                    .post_transaction(Posting {
                        card_id: "SPENDER".into(),
                        kind: TransactionKind::Clearing,
                        amount: Money::parse("1.00", usd.clone()).unwrap(),
                        original_amount: None,
                        fee: Money::zero(usd.clone()),
                        merchant_name: Some("Coffee Shop".into()),
                        mcc: Some("5814".into()),
                        authorization_id: None,
                        id: None,
                        declined_by_merchant: None,
                    })
                    .expect("a purchase");
            }
        })
        .unwrap();
    let per_transaction = (rss_bytes().saturating_sub(before)) as f64 / count as f64;
    println!(
        "{count:>9} each: {per_holder:>6.0} B/cardholder, {per_transaction:>6.0} B/transaction"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Entities are measured in a process of their own: memory freed by the card measurements
    // would be reused and hide what they take.
    if args.first().map(String::as_str) == Some("--entities") {
        entities(100_000);
        return;
    }
    let counts: Vec<usize> = args
        .iter()
        .map(|n| n.parse().expect("card counts"))
        .collect();
    let counts = if counts.is_empty() {
        vec![1_000, 100_000, 1_000_000]
    } else {
        counts
    };
    for cards in counts {
        measure(cards);
    }
    let entities = std::env::current_exe()
        .and_then(|me| std::process::Command::new(me).arg("--entities").status());
    if !entities.as_ref().is_ok_and(|status| status.success()) {
        eprintln!("the entity measurement failed: {entities:?}");
    }
}
