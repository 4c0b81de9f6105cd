//! Prints N sealed KazePay requests (one JSON envelope per line, distinct requestNos) for the
//! load benchmark: `cargo run --release --example kazepay_requests -- 20000 > requests.jsonl`.

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let mut client = issuer_sandbox::kazepay::Client::demo();
    let body = serde_json::json!({ "email": "zhang.wei@example.com" });
    for n in 0..count {
        let envelope = client
            .seal_request("queryUcardKycStatus", &format!("BENCH{n:012}"), &body)
            .expect("the demo keys seal");
        println!("{envelope}");
    }
}
