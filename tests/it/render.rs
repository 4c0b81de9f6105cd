//! "Save this state as a scenario": a sandbox changed over HTTP through every card-issuing
//! provider and the control API, rendered as a scenario, loads cleanly and starts a sandbox
//! whose business state is the same, tenant by tenant, and which goes on working from there.

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::kazepay::client::Client as KazePay;
use issuer_sandbox::providers::pagsmile::client::Client as Pagsmile;
use issuer_sandbox::scenario::Scenario;
use issuer_sandbox::scenario::render::as_scenario;
use issuer_sandbox::world::World;
use serde_json::{Value, json};

use crate::support::*;

/// The frozen default scenario plus a KeySecure credit-extension merchant.
fn two_tenants() -> String {
    let mut yaml = FROZEN_DEFAULT.trim_end().to_owned();
    yaml.push_str(
        r#"
  - id: credit
    credentials:
      keysecure: { api_key: credit-keysecure-api-key, api_secret: "0123456789abcdef", mode: CREDIT_EXTENSION }
    accounts: [ { currency: TUSDT, balance: "1000.00" } ]
"#,
    );
    yaml
}

/// A KeySecure merchant's session: its Api-Key and an access token.
struct KeySecure<'s> {
    sandbox: &'s Sandbox,
    api_key: &'static str,
    token: String,
}

impl<'s> KeySecure<'s> {
    fn login(sandbox: &'s Sandbox, api_key: &'static str) -> KeySecure<'s> {
        let answer = keysecure_send(
            sandbox,
            api_key,
            None,
            "GET",
            "/open-api/v1/merchant/token",
            None,
        );
        KeySecure {
            sandbox,
            api_key,
            token: answer["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A success's `data`.
    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        keysecure_send(
            self.sandbox,
            self.api_key,
            Some(&self.token),
            method,
            path,
            body,
        )
    }
}

fn keysecure_send(
    sandbox: &Sandbox,
    api_key: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let url = format!("{}{path}", sandbox.url());
    let mut request = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    }
    .header("Api-Key", api_key)
    .header(
        "Timestamp",
        jiff::Timestamp::now().as_millisecond().to_string(),
    );
    if let Some(token) = token {
        request = request.header("Access-Token", token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let (status, answer) = status_json(request.send().unwrap());
    assert_eq!(
        (status, &answer["code"]),
        (200, &json!(0)),
        "{path}: {answer}"
    );
    answer["data"].clone()
}

/// A sealed Pagsmile call of the demo app; the opened `data` of a success.
fn pagsmile(sandbox: &Sandbox, request_id: &str, path: &str, biz: Value) -> Value {
    let mut merchant = Pagsmile::demo();
    let request = merchant.seal_request(request_id, &biz).unwrap();
    let response = client()
        .post(format!("{}{path}", sandbox.url()))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send()
        .unwrap();
    let (status, response) = status_json(response);
    assert_eq!(status, 200, "{response}");
    let opened = merchant.open_response(&response).unwrap();
    assert_eq!(opened.code, "10000", "{path}: {response}");
    opened.data.unwrap_or(Value::Null)
}

/// A sealed KazePay call of the demo system; the opened body of a success.
fn kazepay(sandbox: &Sandbox, request_no: &str, api_code: &str, body: Value) -> Value {
    let mut merchant = KazePay::demo();
    let envelope = merchant.seal_request(api_code, request_no, &body).unwrap();
    let response = client()
        .post(format!("{}/kazepay", sandbox.url()))
        .header("content-type", "application/json")
        .body(envelope.to_string())
        .send()
        .unwrap();
    let (status, response) = status_json(response);
    assert_eq!(status, 200, "{response}");
    let opened = merchant.open_response(&response).unwrap();
    assert_eq!(opened.code, "SUCCESS", "{api_code}: {}", opened.detail);
    opened.body.unwrap_or(Value::Null)
}

fn control(sandbox: &Sandbox, path: &str, body: Value) -> Value {
    let (status, reply) = admin_send(sandbox, "POST", path, &body.to_string());
    assert_eq!(status, 200, "{path}: {reply}");
    reply
}

fn advance(sandbox: &Sandbox, tenant: &str, by: &str) {
    control(
        sandbox,
        "/clock/advance",
        json!({ "by": by, "tenant": tenant }),
    );
}

/// What a scenario carries of a tenant's state: its people, cards and balances, without the
/// instants each was made or decided at and the KYC history (submissions, images, reviews),
/// which a scenario cannot carry.
fn business(state: &Value) -> Value {
    let mut cardholders = state["cardholders"].clone();
    for holder in cardholders.as_object_mut().unwrap().values_mut() {
        let holder = holder.as_object_mut().unwrap();
        holder.remove("created_at");
        let kyc = holder["kyc"].as_object_mut().unwrap();
        for history in [
            "decided_at",
            "submitted_at",
            "documents",
            "review",
            "hosted_token",
        ] {
            kyc.remove(history);
        }
    }
    let mut cards = state["cards"].clone();
    for card in cards.as_object_mut().unwrap().values_mut() {
        card.as_object_mut().unwrap().remove("created_at");
    }
    json!({
        "cardholders": cardholders,
        "cards": cards,
        "accounts": state["accounts"],
        "holder_accounts": state["holder_accounts"],
    })
}

/// Changes the state through KeySecure (both modes), Pagsmile, KazePay and the control API.
fn change_everything(sandbox: &Sandbox) {
    // KazePay first: a user it registers by contact details only takes the tenant's first
    // number, `kp-user-1`, which the restored sandbox's counter starts from again.
    let user = kazepay(
        sandbox,
        "20261121000000000000",
        "createCard",
        json!({ "email": "v@example.com", "mobileNumber": "123456", "mobilePrefix": "60", "cardBin": "222929" }),
    );
    assert_eq!(user["cardID"], "10002", "{user}");

    // KeySecure, authorization mode: a reviewed cardholder and an active virtual card.
    let demo = KeySecure::login(sandbox, "demo-keysecure-api-key");
    let holder = demo.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(json!({ "cardholder_unique_no": "U-R1", "sumsub_share_token": "share-token-review" })),
    )["cardholder_no"]
        .clone();
    advance(sandbox, "demo", "30s");
    demo.ok(
        "POST",
        "/open-api/v1/card/apply",
        Some(json!({ "card_bin_no": "BIN202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": "U-R1-card" })),
    );
    advance(sandbox, "demo", "10s");

    // KeySecure, credit extension: the cardholder's own account, spent by its card.
    let credit = KeySecure::login(sandbox, "credit-keysecure-api-key");
    let holder = credit.ok(
        "POST",
        "/open-api/v1/cardholder/apply",
        Some(
            json!({ "cardholder_unique_no": "U-C", "sumsub_share_token": "share-token-credit-1" }),
        ),
    )["cardholder_no"]
        .clone();
    advance(sandbox, "credit", "30s");
    credit.ok(
        "POST",
        "/open-api/v1/account/transfer",
        Some(json!({ "cardholder_no": holder, "transfer_unique_no": "T-1", "type": "In", "balance": "100.00" })),
    );
    let card = credit.ok(
        "POST",
        "/open-api/v1/card/apply",
        Some(json!({ "package_no": "PKG202405210001", "cardholder_no": holder, "card_type": "Virtual", "card_unique_no": "CARD-C1" })),
    )["card_no"]
        .clone();
    advance(sandbox, "credit", "10s");
    let bought = control(
        sandbox,
        "/simulate/transaction",
        json!({ "tenant": "credit", "card": card, "kind": "clearing", "amount": "30.00" }),
    );
    assert_eq!(bought["transaction"]["status"], "success", "{bought}");

    // Pagsmile: an audited cardholder and a card with an initial balance and limits.
    let holder = pagsmile(
        sandbox,
        "REQ-1",
        "/issuing/holder/create",
        json!({
            "mobile": "+5511987654321", "first_name": "Joao", "last_name": "Souza",
            "id_no": "KL123456", "id_type": 1, "issuance_date": "2020-01-15", "expires_on": "2030-01-14",
            "email": "kl@example.com", "birthday": "1990-05-20", "gender": 1, "nationality_code": "BR",
            "address": { "line": "Rua Augusta 1500, apto 12", "line2": "Consolacao", "postal_code": "01304001",
                         "city_name": "Sao Paulo", "state": "Sao Paulo", "country_code": "BR" }
        }),
    )["holder_id"]
        .clone();
    advance(sandbox, "demo", "30s");
    let order = pagsmile(
        sandbox,
        "REQ-2",
        "/issuing/card/apply",
        json!({
            "order_no": "ORD-1", "card_scheme": 3, "card_type": 1, "card_bin": "658705",
            "pay_account_num": "PA2017051914172236111", "initial_balance": "100.00", "holder_id": holder,
            "card_limit": { "daily_transactions": 3, "single_amount": "40.00", "daily_amount": "100.00", "monthly_amount": "150.00" },
        }),
    );
    assert_eq!(order["order_status"], 5, "{order}");

    // KazePay: a stock card given without activation (its code waits), another activated and
    // recharged.
    kazepay(
        sandbox,
        "20261121000000000001",
        "ucardAssign",
        json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": false }),
    );
    kazepay(
        sandbox,
        "20261121000000000002",
        "ucardAssign",
        json!({ "email": "li.na@example.com", "cardNumber": "4937240800070619", "autoActive": true }),
    );
    advance(sandbox, "demo", "10s");
    kazepay(
        sandbox,
        "20261121000000000003",
        "cardRecharge",
        json!({ "cardID": "3377", "currency": "USD", "amount": 50.00 }),
    );
    advance(sandbox, "demo", "30s");

    // The control API: a KYC rejected with codes, a purchase held, the clocks apart.
    control(
        sandbox,
        "/simulate/kyc",
        json!({ "tenant": "demo", "cardholder": "ch-bob-chen", "decision": "rejected", "reason": "blurry photo", "codes": ["1", "7"] }),
    );
    control(
        sandbox,
        "/simulate/transaction",
        json!({ "tenant": "demo", "card": "card-alice-chase", "kind": "authorization", "amount": "20.00" }),
    );
    advance(sandbox, "credit", "2h");
}

/// Each tenant's world, caught up, as the running sandbox holds it.
fn worlds(sandbox: &Sandbox) -> Vec<World> {
    sandbox
        .app()
        .running()
        .tenants()
        .iter()
        .map(|tenant| {
            tenant.with_world(|world| {
                world.catch_up();
                world.clone()
            })
        })
        .collect()
}

#[test]
fn a_saved_state_starts_a_sandbox_with_the_same_business() {
    let original = sandbox(&two_tenants());
    change_everything(&original);
    let before: Vec<Value> = ["demo", "credit"]
        .iter()
        .map(|tenant| state(&original, tenant))
        .collect();
    // Every provider's business is in the state being saved.
    let demo = &before[0];
    for issuer in ["keysecure", "pagsmile", "kazepay"] {
        assert!(
            demo["cardholders"]
                .as_object()
                .unwrap()
                .values()
                .any(|h| h["issuer"] == issuer),
            "a {issuer} cardholder"
        );
    }
    assert_eq!(before[1]["holder_accounts"].as_object().unwrap().len(), 1);
    assert_eq!(
        demo["cards"]["3378"]["activation"],
        json!({ "revealed": false })
    );
    assert_eq!(
        demo["cards"]["card-alice-chase"]["blocked"]["amount"],
        "20.00"
    );

    // Through the control API, as `issuer-sandbox snapshot --as-scenario` fetches it.
    let response = client()
        .get(format!(
            "{}/__admin/snapshot?format=scenario",
            original.url()
        ))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml")
    );
    let rendered = response.text().unwrap();
    let worlds = worlds(&original);
    let running = original.app().running();
    assert_eq!(
        rendered,
        as_scenario(&running.scenario, &worlds.iter().collect::<Vec<_>>()).unwrap(),
        "the endpoint renders what the function does"
    );
    // `issuer-sandbox check` accepts the file.
    let file = std::env::temp_dir().join(format!("rendered-{}.yaml", std::process::id()));
    std::fs::write(&file, &rendered).unwrap();
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_issuer-sandbox"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        checked.status.success(),
        "{}\n{rendered}",
        String::from_utf8_lossy(&checked.stdout)
    );
    Scenario::from_source(
        &rendered,
        "rendered.yaml",
        None,
        &issuer_sandbox::providers::builtin(),
    )
    .unwrap_or_else(|problems| panic!("{problems}\n{rendered}"));

    let restored = sandbox(&rendered);
    assert_ne!(
        before[0]["clock"], before[1]["clock"],
        "the tenants' clocks were apart"
    );
    let ahead = before
        .iter()
        .map(|s| {
            s["clock"]["now"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
        .max()
        .unwrap();
    for (tenant, before) in ["demo", "credit"].iter().zip(&before) {
        let after = state(&restored, tenant);
        assert_eq!(
            business(&after),
            business(before),
            "tenant {tenant}\n{rendered}"
        );
        assert_eq!(
            after["clock"],
            json!({ "now": ahead.to_string(), "frozen": true }),
            "every tenant starts where the furthest one was"
        );
    }

    // The restored sandbox goes on from there, with each provider's own.
    let (status, code) = admin_get(&original, "/activation-code?card=3378&tenant=demo");
    assert_eq!(status, 200, "{code}");
    assert_eq!(
        admin_get(&restored, "/activation-code?card=3378&tenant=demo").1,
        code
    );
    let credit = KeySecure::login(&restored, "credit-keysecure-api-key");
    let holder = before[1]["holder_accounts"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap();
    assert_eq!(
        credit.ok("GET", &format!("/open-api/v1/account/{holder}/info"), None)["list"],
        json!([{ "currency": "TUSDT", "balance": "70.00" }])
    );
    let token = before[0]["cards"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["issuer"] == "pagsmile" && c["id"] != "30000001")
        .map(|c| c["token"].clone())
        .unwrap();
    let info = pagsmile(
        &restored,
        "REQ-1",
        "/issuing/card/query-card-info",
        json!({ "card_token": token }),
    );
    assert_eq!(info["card_status"], 3, "{info}");
    // A new KazePay user does not take the restored `kp-user-1`'s id: everyone is still who
    // they were.
    kazepay(
        &restored,
        "20261121000000000001",
        "createCard",
        json!({ "email": "w@example.com", "mobileNumber": "654321", "mobilePrefix": "60", "cardBin": "222929" }),
    );
    let (saved, now) = (business(demo), business(&state(&restored, "demo")));
    let people = saved["cardholders"].as_object().unwrap();
    for (id, holder) in people {
        assert_eq!(
            &now["cardholders"][id], holder,
            "{id} is still who they were"
        );
    }
    assert_eq!(
        now["cardholders"].as_object().unwrap().len(),
        people.len() + 1
    );
}
