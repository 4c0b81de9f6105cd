//! Prints N sealed requests (one JSON body per line, distinct request numbers) for the envelope
//! load benchmark: `cargo run --release --example sealed_requests -- kazepay 20000 > requests.jsonl`
//! (or `pagsmile`).

fn main() {
    let mut args = std::env::args().skip(1);
    let provider = args.next().unwrap_or_else(|| "kazepay".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    match provider.as_str() {
        "kazepay" => {
            let mut client = issuer_sandbox::providers::kazepay::client::Client::demo();
            let body = serde_json::json!({ "email": "zhang.wei@example.com" });
            for n in 0..count {
                let envelope = client
                    .seal_request("queryUcardKycStatus", &format!("BENCH{n:012}"), &body)
                    .expect("the demo keys seal");
                println!("{envelope}");
            }
        }
        "pagsmile" => {
            let mut client = issuer_sandbox::providers::pagsmile::client::Client::demo();
            let body = serde_json::json!({ "card_token": "CT202611210000000001" });
            for n in 0..count {
                let request = client
                    .seal_request(&format!("BENCH{n:012}"), &body)
                    .expect("the demo keys seal");
                println!("{request}");
            }
        }
        other => panic!("unknown provider {other}: kazepay or pagsmile"),
    }
}
