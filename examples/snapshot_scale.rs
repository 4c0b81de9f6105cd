//! Snapshot cost at scale, for the closing note of the snapshots issue:
//!
//!   cargo run --release --example snapshot_scale -- 100000
//!
//! An embedded sandbox (the default scenario) gets N KeySecure cards made straight in its
//! world, and one authorization per hundred cards. Printed, as medians of three: the size of
//! the document; `GET /__admin/snapshot` over HTTP; `PUT /__admin/snapshot` of that document
//! into a second sandbox over HTTP; `serve --state`'s save (snapshot, write, fsync, rename);
//! and reading plus restoring in process.

use std::time::{Duration, Instant};

use issuer_sandbox::Sandbox;
use issuer_sandbox::persist::StateFile;
use issuer_sandbox::world::{Card, CardStatus, Currency, Money};

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn three(mut f: impl FnMut() -> Duration) -> f64 {
    median((0..3).map(|_| f()).collect())
}

fn main() {
    let cards: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let body_limit = 1 << 30;
    let sandbox = Sandbox::builder()
        .body_limit(body_limit)
        .start()
        .expect("the default scenario");
    sandbox
        .with_world("demo", |world| {
            let usd = Currency::new("USD").unwrap();
            let now = world.now();
            world.reserve_cards(cards);
            for n in 0..cards {
                let pan = world.unused_pan("49387520", 16).expect("numbers left");
                let card = Card {
                    merchant_ref: Some(format!("SCALE-{n:08}")),
                    status: CardStatus::Active,
                    available: Money::parse("100.00", usd.clone()).unwrap(),
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
    // reqwest's TLS wants the process's crypto provider chosen.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    for n in (0..cards).step_by(100) {
        let posted = http
            .post(format!("{}/__admin/simulate/transaction", sandbox.url()))
            .body(format!(
                r#"{{"card":"KCS{n:08}","kind":"authorization","amount":"1.00"}}"#
            ))
            .send()
            .unwrap();
        assert!(posted.status().is_success());
    }

    let mut document = Vec::new();
    let get = three(|| {
        let started = Instant::now();
        document = http
            .get(format!("{}/__admin/snapshot", sandbox.url()))
            .send()
            .and_then(|r| r.bytes())
            .unwrap()
            .to_vec();
        started.elapsed()
    });
    let target = Sandbox::builder().body_limit(body_limit).start().unwrap();
    let put = three(|| {
        let started = Instant::now();
        let response = http
            .put(format!("{}/__admin/snapshot", target.url()))
            .body(document.clone())
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{:?}", response.text());
        started.elapsed()
    });
    let dir = std::env::temp_dir().join(format!("snapshot-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = StateFile::new(dir.join("state.json"));
    let save = three(|| {
        let started = Instant::now();
        file.save(&sandbox.app().running()).unwrap();
        started.elapsed()
    });
    let registry = issuer_sandbox::providers::builtin();
    let load = three(|| {
        let started = Instant::now();
        file.load(&registry).unwrap().expect("the file");
        started.elapsed()
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{cards} cards, {} authorizations: document {:.1} MB ({} bytes/card); \
         GET {get:.0} ms, PUT {put:.0} ms, --state save {save:.0} ms, load at start {load:.0} ms \
         (medians of 3)",
        cards.div_ceil(100),
        document.len() as f64 / 1e6,
        document.len() / cards.max(1)
    );
}
