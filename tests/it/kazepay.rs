//! KazePay over HTTP: the envelope against OpenSSL-made vectors, every catalogued error, and
//! the operations.

use issuer_sandbox::Sandbox;
use issuer_sandbox::providers::kazepay::client::{Client, Opened};
use serde_json::{Value, json};

use crate::support::*;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/kazepay");

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{VECTORS}/{name}")).unwrap()).unwrap()
}

/// POSTs an envelope and returns the HTTP status and the response envelope.
fn post(sandbox: &Sandbox, envelope: &Value) -> (u16, Value) {
    post_raw(sandbox, &envelope.to_string())
}

fn post_raw(sandbox: &Sandbox, body: &str) -> (u16, Value) {
    status_json(
        client()
            .post(format!("{}/kazepay", sandbox.url()))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap(),
    )
}

/// Seals `body`, sends it and opens the answer.
pub fn call(
    sandbox: &Sandbox,
    client: &mut Client,
    api_code: &str,
    request_no: &str,
    body: Value,
) -> Opened {
    let envelope = client.seal_request(api_code, request_no, &body).unwrap();
    let (status, response) = post(sandbox, &envelope);
    assert_eq!(status, 200, "{response}");
    client.open_response(&response).unwrap()
}

#[test]
fn a_request_made_by_openssl_is_accepted_and_the_answer_is_the_openssl_verified_vector() {
    let sandbox = Sandbox::builder().start().unwrap();
    let request = vector("request-sha256-raw.json");
    let (status, response) = post(&sandbox, &request["request"]);
    assert_eq!(status, 200);
    // response-sha256-raw.json was produced by this exchange and then checked with the OpenSSL
    // CLI alone (verify-response.sh): key unwrapped, body decrypted, signature verified.
    let expected = vector("response-sha256-raw.json");
    assert_eq!(
        response, expected["response"],
        "the sandbox's answer changed; re-run the vector scripts"
    );
    let opened = Client::demo().open_response(&response).unwrap();
    assert_eq!(
        (opened.code.as_str(), opened.detail.as_str()),
        ("SUCCESS", "SUCCESS")
    );
    assert_eq!(
        opened.body,
        Some(json!({ "encrypt": "SUCCESS", "status": "PASSED" }))
    );
    assert_eq!(opened.head["apiCode"], "queryUcardKycStatus");
    assert_eq!(opened.head["requestNo"], "2024062810200868740754");

    // The SHA-1, Base64-key vector is this merchant's only when its profile says so.
    let sha1 = vector("request-sha1-base64.json");
    let sandbox = Sandbox::builder()
        .scenario_yaml(default_with_kazepay(&[
            "sign_hash: SHA-1",
            "key_wrap: base64",
        ]))
        .start()
        .unwrap();
    let (_, response) = post(&sandbox, &sha1["request"]);
    let opened = Client::demo().open_response(&response).unwrap();
    assert_eq!(
        opened.body,
        Some(json!({ "encrypt": "SUCCESS", "url": "" }))
    );
    // The journal shows both decrypted bodies.
    let entry = sandbox.journal().pop().unwrap();
    assert_eq!(entry.request.decrypted(), Some(json!({})));
    assert_eq!(
        entry.response.decrypted(),
        Some(json!({ "encrypt": "SUCCESS", "url": "" }))
    );
}

/// Strict by default: a request signed or wrapped otherwise than the merchant's profile says is
/// not authentic (SIGN_ERROR, nothing recorded as spent); `strictness: lenient`, or relaxing
/// just `signature_variants`, lets either variant through.
#[test]
fn requests_must_use_the_merchants_own_signature_hash_and_key_form_unless_relaxed() {
    // Each vector is one variant: SHA-256 with a raw key, SHA-1 with a Base64 key.
    let sha256_raw = vector("request-sha256-raw.json");
    let sha1_base64 = vector("request-sha1-base64.json");
    let strict_sha256 = Sandbox::builder()
        .scenario_yaml(default_with_kazepay(&[]))
        .start()
        .unwrap();
    let before = state(&strict_sha256, "demo");
    assert_in_clear(
        &post(&strict_sha256, &sha1_base64["request"]).1,
        "SIGN_ERROR",
    );
    assert_eq!(
        state(&strict_sha256, "demo"),
        before,
        "a refusal changes nothing"
    );
    // The answer is KazePay's SIGN_ERROR; the journal tells the variant from a bad signature.
    let note = last_note(&strict_sha256, "kazepay");
    assert!(
        note.contains("sealed with the other signature hash or key form than the merchant's sign_hash Sha256 / key_wrap Raw")
            && note.contains("strict rule `signature_variants`"),
        "{note}"
    );
    // A signature no variant verifies is just that.
    let mut forged = sha256_raw["request"].clone();
    let sign = forged["head"]["sign"].as_str().unwrap().to_owned();
    let flipped = if sign.starts_with('0') { "1" } else { "0" };
    forged["head"]["sign"] = json!(format!("{flipped}{}", &sign[1..]));
    assert_in_clear(&post(&strict_sha256, &forged).1, "SIGN_ERROR");
    let note = last_note(&strict_sha256, "kazepay");
    assert!(
        note.starts_with("sign:") && !note.contains("strict rule"),
        "{note}"
    );
    // A request in the merchant's own profile passes.
    let (_, accepted) = post(&strict_sha256, &sha256_raw["request"]);
    assert_eq!(accepted["head"]["code"], "SUCCESS", "{accepted}");
    let strict_sha1 = Sandbox::builder()
        .scenario_yaml(default_with_kazepay(&[
            "sign_hash: SHA-1",
            "key_wrap: base64",
        ]))
        .start()
        .unwrap();
    assert_in_clear(&post(&strict_sha1, &sha256_raw["request"]).1, "SIGN_ERROR");
    // Only the hash differs from this merchant's profile (SHA-1, raw keys).
    let sha1_raw_merchant = Sandbox::builder()
        .scenario_yaml(default_with_kazepay(&["sign_hash: SHA-1"]))
        .start()
        .unwrap();
    assert_in_clear(
        &post(&sha1_raw_merchant, &sha256_raw["request"]).1,
        "SIGN_ERROR",
    );
    for relaxed in [
        vec!["strictness: lenient"],
        vec!["relax: [signature_variants]"],
    ] {
        let sandbox = Sandbox::builder()
            .scenario_yaml(default_with_kazepay(&relaxed))
            .start()
            .unwrap();
        for request in [&sha256_raw, &sha1_base64] {
            let (_, response) = post(&sandbox, &request["request"]);
            assert_eq!(
                response["head"]["code"], "SUCCESS",
                "{relaxed:?}: {response}"
            );
        }
    }
    // The provider-wide setting applies to merchants without their own.
    let yaml = default_with_kazepay(&[]).replacen(
        "merchants:
",
        "kazepay: { strictness: lenient }
merchants:
",
        1,
    );
    let sandbox = Sandbox::builder().scenario_yaml(&yaml).start().unwrap();
    let (_, response) = post(&sandbox, &sha1_base64["request"]);
    assert_eq!(response["head"]["code"], "SUCCESS", "{response}");
    // A merchant's own setting wins over the section's.
    let yaml = default_with_kazepay(&["strictness: strict"]).replacen(
        "merchants:\n",
        "kazepay: { strictness: lenient }\nmerchants:\n",
        1,
    );
    let sandbox = Sandbox::builder().scenario_yaml(&yaml).start().unwrap();
    assert_in_clear(&post(&sandbox, &sha1_base64["request"]).1, "SIGN_ERROR");
}

const KYC_IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/kyc");

/// A fresh client and request numbers for one test.
struct Session {
    sandbox: Sandbox,
    client: Client,
    next: u64,
}

impl Session {
    fn new(yaml: Option<&str>) -> Session {
        let builder = Sandbox::builder();
        let sandbox = match yaml {
            Some(yaml) => builder.scenario_yaml(yaml),
            None => builder,
        }
        .start()
        .unwrap();
        Session {
            sandbox,
            client: Client::demo(),
            next: 0,
        }
    }

    fn request_no(&mut self) -> String {
        self.next += 1;
        format!("2026112100000000{:06}", self.next)
    }

    /// Calls `api_code`; returns (head.code, decrypted body).
    fn call(&mut self, api_code: &str, body: Value) -> (String, Value) {
        let request_no = self.request_no();
        let opened = call(&self.sandbox, &mut self.client, api_code, &request_no, body);
        assert_eq!(opened.head["apiCode"], api_code);
        assert_eq!(opened.head["requestNo"], request_no.as_str());
        (opened.code, opened.body.unwrap_or(Value::Null))
    }

    /// Calls and expects SUCCESS; returns the body.
    fn ok(&mut self, api_code: &str, body: Value) -> Value {
        let (code, answer) = self.call(api_code, body);
        assert_eq!(code, "SUCCESS", "{api_code}: {answer}");
        if answer.is_object() {
            assert_eq!(answer["encrypt"], "SUCCESS", "{answer}");
        }
        answer
    }

    /// Calls and expects the error `code`, sealed with `"encrypt":"FAILED"`.
    fn fails(&mut self, api_code: &str, body: Value, code: &str) -> String {
        let request_no = self.request_no();
        let opened = call(&self.sandbox, &mut self.client, api_code, &request_no, body);
        assert_eq!(opened.code, code, "{api_code}: {}", opened.detail);
        assert_eq!(opened.body, Some(json!({ "encrypt": "FAILED" })));
        opened.detail
    }

    /// Uploads a KYC image through multipart; returns the fileId.
    fn upload(&mut self, email: &str, file: &str) -> (String, Value) {
        let request_no = self.request_no();
        let envelope = self
            .client
            .seal_request(
                "fileUpload",
                &request_no,
                &json!({ "email": email, "mobileNumber": "15659874544", "mobilePrefix": "60" }),
            )
            .unwrap();
        let bytes = std::fs::read(format!("{KYC_IMAGES}/{file}")).unwrap();
        let form = reqwest::blocking::multipart::Form::new()
            .text("request", envelope.to_string())
            .part(
                "file",
                reqwest::blocking::multipart::Part::bytes(bytes).file_name(file.to_owned()),
            );
        let response = client()
            .post(format!("{}/kazepay", self.sandbox.url()))
            .multipart(form)
            .send()
            .unwrap();
        let (_, envelope) = status_json(response);
        let opened = self.client.open_response(&envelope).unwrap();
        (opened.code, opened.body.unwrap_or(Value::Null))
    }

    fn advance(&self, by: &str) {
        let (status, body) = admin_send(
            &self.sandbox,
            "POST",
            "/clock/advance",
            &json!({ "by": by }).to_string(),
        );
        assert_eq!(status, 200, "{body}");
    }

    fn state(&self) -> Value {
        state(&self.sandbox, "demo")
    }
}

fn kyc_fields(email: &str, kind: &str) -> Value {
    json!({
        "email": email,
        "mobileNumber": "15659874544",
        "mobilePrefix": "60",
        "mobilePrefixCountry": "MY",
        "firstName": "Trump",
        "lastName": "Donald",
        "dateOfBirth": "1958-04-25",
        "addressLine": "Nashville TN 37011",
        "city": "Paris",
        "countryCode": "FR",
        "postCode": "223456",
        "state": "dizhi",
        "identificationType": kind,
        "identificationNumber": "A563F186",
        "identificationExpiryDate": "2099-12-31",
    })
}

#[test]
fn the_whole_physical_card_journey() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let email = "kyc@kazepay.io";
    let initial_usd = usd_in_the_system(&s.state(), 0);

    // 1. Upload the three KYC images (multipart: `request` envelope + `file`).
    let mut ids = Vec::new();
    for file in ["front.png", "back.png", "handheld.png"] {
        let (code, body) = s.upload(email, file);
        assert_eq!(code, "SUCCESS", "{body}");
        let id = body["fileId"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "a UUID like the docs' example");
        ids.push(id);
    }
    let (code, _) = s.upload(email, "not-an-image.gif");
    assert_eq!(code, "FILE_TYPE_ERROR");

    // 2. KYC with file ids (ID_CARD needs the back image).
    let mut kyc = kyc_fields(email, "ID_CARD");
    kyc["frontImgFileId"] = json!(ids[0]);
    kyc["handheldImgFileId"] = json!(ids[2]);
    let detail = s.fails("setUcardKyc", kyc.clone(), "PARAM_ERROR");
    assert!(detail.contains("backImgFileId"), "{detail}");
    kyc["backImgFileId"] = json!(ids[1]);
    assert_eq!(
        s.ok("setUcardKyc", kyc.clone()),
        json!({ "encrypt": "SUCCESS", "status": "WAITING_KYC" })
    );
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "WAITING_KYC"
    );
    s.fails("setUcardKyc", kyc, "KYC_IN_PROGRESS");

    // 3. The decision comes after the profile's 30 s review.
    s.advance("29s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "WAITING_KYC"
    );
    s.advance("1s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "PASSED"
    );

    // 4. Assign a stock physical card without autoActive; its code comes from the control API, once.
    s.fails(
        "ucardAssign",
        json!({ "email": email, "cardNumber": "4111111111111111", "autoActive": false }),
        "CARD_NOT_AVAILABLE",
    );
    let card_id = s.ok(
        "ucardAssign",
        json!({ "email": email, "cardNumber": "4937240800070619", "autoActive": false }),
    )["cardID"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(card_id, "3377");
    s.fails(
        "ucardAssign",
        json!({ "email": email, "cardNumber": "4937240800070619", "autoActive": false }),
        "CARD_NOT_AVAILABLE",
    );
    let (status, code) = admin_get(&s.sandbox, "/activation-code?card=3377");
    assert_eq!(status, 200, "{code}");
    let code = code["activation_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(
        admin_get(&s.sandbox, "/activation-code?card=3377").0,
        410,
        "obtainable once"
    );

    // 5. Activate: ACTIVE_PROCESSING, ACTIVE after 10 s.
    s.fails(
        "ucardActive",
        json!({ "cardID": card_id, "activationCode": "00000000" }),
        "ACTIVATION_CODE_ERROR",
    );
    let active = s.ok(
        "ucardActive",
        json!({ "cardID": card_id, "activationCode": code }),
    );
    assert_eq!(
        active,
        json!({ "encrypt": "SUCCESS", "cardID": "3377", "status": "ACTIVE_PROCESSING" })
    );
    s.advance("10s");
    let card = s.ok("queryCard", json!({ "cardID": card_id }));
    assert_eq!(card["userBankCardStatus"], "ACTIVE");
    assert_eq!(card["cardNo"], "4937240800070619");
    assert!(
        card.get("cardCvv").is_none(),
        "CVV only for virtual cards: {card}"
    );
    assert_eq!(card["expiryDate"].as_str().unwrap().len(), 4);
    assert_eq!(card["currency"], "USD");
    assert_eq!(card["cardHolderEmail"], email);
    assert_eq!(
        (
            card["cardHolderMobileNumber"].as_str(),
            card["cardHolderMobilePrefix"].as_str()
        ),
        (Some("15659874544"), Some("60"))
    );
    assert_eq!(
        card["billingAddress"],
        "17/F FWD FINANCIAL CTR 308 DES VOEUX RD CENTRAL HK"
    );
    let keys: Vec<&String> = card.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "encrypt",
            "cardID",
            "cardNo",
            "expiryDate",
            "currency",
            "userBankCardStatus",
            "cardHolderEmail",
            "cardHolderMobileNumber",
            "cardHolderMobilePrefix",
            "countryCode",
            "billingState",
            "billingCity",
            "billingAddress",
            "billingZipCode"
        ]
    );
    assert_eq!(
        s.ok("getCardId", json!({ "cardNo": "4937240800070619" })),
        json!({ "encrypt": "SUCCESS", "cardID": "3377", "cardNo": "4937240800070619" })
    );

    // 6. PIN: exactly six digits.
    for bad in ["12345", "1234567", "12a456"] {
        let detail = s.fails(
            "cardSetPin",
            json!({ "cardID": card_id, "pin": bad }),
            "PARAM_ERROR",
        );
        assert!(detail.contains("pin"), "{detail}");
    }
    assert_eq!(
        s.ok("cardSetPin", json!({ "cardID": card_id, "pin": "375426" })),
        json!({ "encrypt": "SUCCESS" })
    );

    // 7. Recharge: PENDING now, on the card after 30 s; the merchant account pays at once.
    let recharge = s.ok(
        "cardRecharge",
        json!({ "cardID": card_id, "currency": "USD", "amount": 5000.00 }),
    );
    assert_eq!(recharge["transactionStatus"], "PENDING");
    assert_eq!(recharge["sendAmount"], "5000.00");
    assert_eq!(recharge["currency"], "USD");
    let recharge_id = recharge["transactionId"].as_str().unwrap().to_owned();
    let balance = s.ok(
        "cardBalance",
        json!({ "cardID": card_id, "currency": "USD" }),
    );
    assert_eq!(
        balance,
        json!({ "encrypt": "SUCCESS", "cardID": "3377", "currency": "USD", "avaBalance": 0.0, "blockBalance": 0.0 })
    );
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "95000.00");
    assert_eq!(
        usd_in_the_system(&s.state(), 0),
        initial_usd,
        "money in flight is still money"
    );
    s.advance("30s");
    assert_eq!(
        s.ok(
            "cardBalance",
            json!({ "cardID": card_id, "currency": "USD" })
        )["avaBalance"],
        5000.0
    );

    // 8. Card transactions from the network: an authorization holds, a clearing settles.
    let auth = simulate(
        &s,
        json!({ "card": card_id, "kind": "authorization", "amount": "13.09", "fee": "0.25",
        "original_amount": "11.90", "original_currency": "EUR", "merchant_name": "MEITUAN FOOD BEIJING CHN", "mcc": "5812" }),
    );
    let balance = s.ok(
        "cardBalance",
        json!({ "cardID": card_id, "currency": "USD" }),
    );
    assert_eq!(
        (
            balance["avaBalance"].as_f64(),
            balance["blockBalance"].as_f64()
        ),
        (Some(4986.66), Some(13.34))
    );
    simulate(
        &s,
        json!({ "card": card_id, "kind": "clearing", "amount": "13.09", "fee": "0.25", "authorization_id": auth }),
    );
    let list = s.ok("queryTransactions", json!({ "cardID": card_id }));
    let items = list
        .as_array()
        .expect("queryTransactions answers a bare array");
    assert_eq!(items.len(), 3, "{list}");
    let clearing = &items[0];
    assert_eq!(clearing["cardCurrencyAmt"], -13.09);
    assert_eq!(clearing["transCurrency"], "USD");
    assert_eq!(clearing["fee"], -0.25);
    assert_eq!(clearing["transStatus"], "Success");
    assert_eq!(clearing["transType"], "Expenditure");
    assert_eq!(clearing["respCode"], "000000");
    let authorization = &items[1];
    assert_eq!(
        (
            authorization["transCurrency"].as_str(),
            authorization["transCurrencyAmt"].as_f64()
        ),
        (Some("EUR"), Some(-11.90))
    );
    assert_eq!(authorization["merchantName"], "MEITUAN FOOD BEIJING CHN");
    let item_keys: Vec<&String> = clearing.as_object().unwrap().keys().collect();
    assert_eq!(
        item_keys,
        [
            "cardID",
            "transactionId",
            "transactionTime",
            "cardCurrency",
            "cardCurrencyAmt",
            "transCurrency",
            "transCurrencyAmt",
            "feeCurrency",
            "fee",
            "transStatus",
            "transType",
            "merchantName",
            "respCode",
            "respCodeDesc"
        ]
    );
    let only = s.ok(
        "queryTransactions",
        json!({ "cardID": card_id, "transactionId": recharge_id }),
    );
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["transType"], "Recharge");
    let paged = s.ok(
        "queryTransactions",
        json!({ "cardID": card_id, "pageSize": 2, "pageNum": 2 }),
    );
    assert_eq!(paged.as_array().unwrap().len(), 1);
    let external = -(1309 + 25);
    assert_eq!(usd_in_the_system(&s.state(), external), initial_usd);

    // 9. Freeze and unfreeze.
    assert_eq!(
        s.ok(
            "updCardStatus",
            json!({ "cardID": card_id, "status": "INACTIVE" })
        )["status"],
        "INACTIVE"
    );
    s.fails(
        "updCardStatus",
        json!({ "cardID": card_id, "status": "INACTIVE" }),
        "CARD_STATUS_ERROR",
    );
    assert_eq!(
        s.ok(
            "updCardStatus",
            json!({ "cardID": card_id, "status": "ACTIVE" })
        )["status"],
        "ACTIVE"
    );

    // 10. Close: the balance goes back to the merchant account.
    let closed = s.ok("closeCard", json!({ "cardID": card_id }));
    assert_eq!(closed["status"], "CLOSE_PROCESSING");
    assert_eq!(closed["refundAmt"], "4986.66");
    assert_eq!(closed["currency"], "USD");
    assert!(closed["txnId"].as_str().is_some_and(|t| !t.is_empty()));
    s.fails(
        "cardRecharge",
        json!({ "cardID": card_id, "currency": "USD", "amount": 1 }),
        "CARD_STATUS_ERROR",
    );
    s.advance("10s");
    assert_eq!(
        s.ok("queryCard", json!({ "cardID": card_id }))["userBankCardStatus"],
        "CLOSED"
    );
    assert_eq!(s.state()["accounts"]["USD"]["amount"], "99986.66");
    assert_eq!(
        usd_in_the_system(&s.state(), external),
        initial_usd,
        "no operation created or lost money"
    );
}

/// Posts a card transaction through the control API; returns its id.
fn simulate(s: &Session, body: Value) -> String {
    let (status, reply) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/transaction",
        &body.to_string(),
    );
    assert_eq!(status, 200, "{reply}");
    reply["transaction"]["id"].as_str().unwrap().to_owned()
}

/// Opens an answer that must be a clear (unsealed) failure with `code`.
fn assert_in_clear(response: &Value, code: &str) {
    let head = &response["head"];
    assert_eq!(head["code"], code, "{response}");
    assert!(head["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(
        head.get("sign").is_none() && head.get("keyEnc").is_none(),
        "nothing sealed: {response}"
    );
    assert_eq!(response["body"], json!({}));
}

#[test]
fn failures_before_the_caller_is_trusted_come_back_in_clear() {
    let s = Session::new(None);
    let mut kazepay = Client::demo();
    // MalformedEnvelope: not JSON, missing head fields, no body.encrypt, wrong method.
    for body in [
        "nope",
        r#"{"head":{}}"#,
        r#"{"head":{"apiCode":"x","sysId":"s","requestNo":"1","sign":"a","keyEnc":"b"}}"#,
    ] {
        let (status, response) = post_raw(&s.sandbox, body);
        assert_eq!(status, 200);
        assert_in_clear(&response, "ILLEGAL_REQUEST");
    }
    let (_, response) = status_json(
        client()
            .get(format!("{}/kazepay", s.sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_in_clear(&response, "ILLEGAL_REQUEST");
    // The readable part of the head is echoed.
    let (_, response) = post_raw(
        &s.sandbox,
        r#"{"head":{"apiCode":"queryCard","requestNo":"77"},"body":{}}"#,
    );
    assert_eq!(
        (
            response["head"]["apiCode"].as_str(),
            response["head"]["requestNo"].as_str()
        ),
        (Some("queryCard"), Some("77"))
    );

    let mut envelope = kazepay
        .seal_request("getWebhookUrl", "1", &json!({}))
        .unwrap();
    envelope["head"]["sysId"] = json!("H0000000000");
    assert_in_clear(&post(&s.sandbox, &envelope).1, "SYS_ID_NOT_EXIST");

    let good = kazepay
        .seal_request("getWebhookUrl", "2", &json!({}))
        .unwrap();
    // Whatever fails inside an envelope, the answer is the same, word for word: telling a
    // forger which part passed would be a padding oracle. The journal keeps the cause.
    let mut refusals = Vec::new();
    for (field, value) in [("keyEnc", json!("zz")), ("keyEnc", json!("00".repeat(256)))] {
        let mut broken = good.clone();
        broken["head"][field] = value;
        refusals.push(post(&s.sandbox, &broken).1);
    }
    let mut broken = good.clone();
    broken["body"]["encrypt"] = json!("AAAA");
    refusals.push(post(&s.sandbox, &broken).1);
    for refusal in &refusals {
        assert_in_clear(refusal, "SIGN_ERROR");
        assert_eq!(refusal["head"]["detail"], refusals[0]["head"]["detail"]);
    }
    let causes: Vec<String> = s
        .sandbox
        .journal()
        .iter()
        .rev()
        .take(3)
        .map(|e| e.note.clone().unwrap_or_default())
        .collect();
    assert!(causes[0].starts_with("body.encrypt:"), "{causes:?}");
    assert!(
        causes[1].starts_with("keyEnc:") && causes[2].starts_with("keyEnc:"),
        "{causes:?}"
    );
    // Sealed by a stranger (a key the sandbox does not know for this sysId): the signature fails.
    let stranger_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/pagsmile-platform.test-only.pem"
    ))
    .unwrap();
    let platform_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/kazepay-platform.pub.pem"
    ))
    .unwrap();
    let mut stranger = Client::from_pems(
        issuer_sandbox::providers::kazepay::client::DEMO_SYS_ID,
        &stranger_pem,
        &platform_pem,
        Default::default(),
    )
    .unwrap();
    let forged = stranger
        .seal_request("getWebhookUrl", "3", &json!({}))
        .unwrap();
    let forged = post(&s.sandbox, &forged).1;
    assert_in_clear(&forged, "SIGN_ERROR");
    assert_eq!(forged["head"]["detail"], refusals[0]["head"]["detail"]);
    let mut tampered = good;
    tampered["head"]["sign"] = json!("00".repeat(256));
    assert_in_clear(&post(&s.sandbox, &tampered).1, "SIGN_ERROR");
    // None of it reached an operation: nothing was recorded.
    let entries = s.sandbox.journal();
    assert!(entries.iter().all(|e| e.response.decrypted().is_none()));
}

#[test]
fn every_catalogued_business_error_is_sealed_with_encrypt_failed() {
    let yaml = DEFAULT_WITH_BUSY_RECHARGE.as_str();
    let mut s = Session::new(Some(yaml));
    let email = "kyc@kazepay.io";
    s.fails("noSuchApi", json!({}), "API_CODE_NOT_EXIST");
    // A decrypted body that is not a JSON object.
    let request_no = s.request_no();
    let envelope = s
        .client
        .seal_request("getWebhookUrl", &request_no, &json!([1, 2]))
        .unwrap();
    let opened = s
        .client
        .open_response(&post(&s.sandbox, &envelope).1)
        .unwrap();
    assert_eq!(
        (opened.code.as_str(), opened.body),
        ("ILLEGAL_JSON", Some(json!({ "encrypt": "FAILED" })))
    );
    let detail = s.fails("queryUcardKycStatus", json!({}), "PARAM_ERROR");
    assert!(detail.contains("email"), "{detail}");
    s.fails(
        "queryUcardKycStatus",
        json!({ "email": "nobody@example.com" }),
        "USER_NOT_EXIST",
    );
    s.fails("queryCard", json!({ "cardID": "nope" }), "CARD_NOT_EXIST");
    s.fails("queryCard", json!({ "cardID": "3377" }), "CARD_NOT_EXIST"); // in stock, not issued
    s.fails("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4111111111111111", "autoActive": true }), "CARD_NOT_AVAILABLE");
    let mut kyc = kyc_fields(email, "PASSPORT");
    kyc["frontImgFileId"] = json!("00000000-0000-0000-0000-000000000000");
    kyc["handheldImgFileId"] = json!("00000000-0000-0000-0000-000000000000");
    s.fails("setUcardKyc", kyc, "FILE_NOT_EXIST");
    let (code, _) = s.upload(email, "not-an-image.gif");
    assert_eq!(code, "FILE_TYPE_ERROR");
    // KYC not passed: a waiting user cannot get an auto-activated card.
    let mut hosted = kyc_fields("waiting@example.com", "PASSPORT");
    hosted["email"] = json!("waiting@example.com");
    s.ok("setUserKyc", hosted.clone());
    s.fails("ucardAssign", json!({ "email": "waiting@example.com", "cardNumber": "4937240800070619", "autoActive": true }), "KYC_NOT_PASSED");
    s.fails("setUserKyc", hosted, "KYC_IN_PROGRESS");
    // Status errors, activation code, balance, replay, busy.
    let card = s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": false }))["cardID"].clone();
    s.fails(
        "updCardStatus",
        json!({ "cardID": card, "status": "ACTIVE" }),
        "CARD_STATUS_ERROR",
    );
    s.fails(
        "ucardActive",
        json!({ "cardID": card, "activationCode": "1" }),
        "ACTIVATION_CODE_ERROR",
    );
    s.fails(
        "cardBalance",
        json!({ "cardID": card, "currency": "CNY" }),
        "PARAM_ERROR",
    );
    let detail = s.fails(
        "cardRecharge",
        json!({ "cardID": card, "currency": "USD", "amount": 1 }),
        "SYSTEM_BUSY",
    );
    assert!(!detail.is_empty());
    let request_no = s.request_no();
    let first = call(
        &s.sandbox,
        &mut s.client,
        "getWebhookUrl",
        &request_no,
        json!({}),
    );
    assert_eq!(first.code, "SUCCESS");
    let again = call(
        &s.sandbox,
        &mut s.client,
        "getWebhookUrl",
        &request_no,
        json!({}),
    );
    assert_eq!(again.code, "REQUEST_NO_REPEAT");
    // A failed request does not use up its requestNo.
    let request_no = s.request_no();
    assert_eq!(
        call(
            &s.sandbox,
            &mut s.client,
            "queryCard",
            &request_no,
            json!({ "cardID": "x" })
        )
        .code,
        "CARD_NOT_EXIST"
    );
    assert_eq!(
        call(
            &s.sandbox,
            &mut s.client,
            "getWebhookUrl",
            &request_no,
            json!({})
        )
        .code,
        "SUCCESS"
    );
}

#[test]
fn recharges_beyond_the_merchant_account_are_refused_and_change_nothing() {
    let mut s = Session::new(None);
    let card = s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": true }))["cardID"].clone();
    s.advance("10s");
    // The default scenario's clock runs in real time; compare everything else.
    let without_clock = |mut state: Value| {
        state.as_object_mut().unwrap().remove("clock");
        state
    };
    let before = without_clock(s.state());
    let detail = s.fails(
        "cardRecharge",
        json!({ "cardID": card, "currency": "USD", "amount": 100000.01 }),
        "BALANCE_NOT_ENOUGH",
    );
    assert!(detail.contains("100000.00"), "{detail}");
    for (amount, reason) in [
        (json!(0), "greater than 0"),
        (json!(1.001), "decimal places"),
        (json!("5"), "a number"),
    ] {
        let detail = s.fails(
            "cardRecharge",
            json!({ "cardID": card, "currency": "USD", "amount": amount }),
            "PARAM_ERROR",
        );
        assert!(detail.contains(reason), "{detail}");
    }
    assert_eq!(without_clock(s.state()), before);
}

/// The default scenario with cardRecharge answering SYSTEM_BUSY.
static DEFAULT_WITH_BUSY_RECHARGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let default = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/default.yaml"
    ))
    .unwrap();
    default.replace(
        "name: default\n",
        "name: busy\nkazepay: { busy_api_codes: [cardRecharge] }\n",
    )
});

#[test]
fn webhooks_are_sealed_for_the_merchant_and_retried_on_the_sandbox_clock() {
    let receiver = Receiver::start(vec![500]);
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    s.ok("setWebhookUrl", json!({ "url": receiver.url }));
    assert_eq!(
        s.ok("getWebhookUrl", json!({}))["url"],
        receiver.url.as_str()
    );
    s.fails("setWebhookUrl", json!({ "url": "ftp://x" }), "PARAM_ERROR");

    // KYC with inline Base64 images (the deprecated variant), PASSPORT: no back image needed.
    let png = std::fs::read(format!("{KYC_IMAGES}/front.png")).unwrap();
    let png = format!("data:image/png;base64,{}", base64_encode(&png));
    let mut kyc = kyc_fields("hook@example.com", "PASSPORT");
    kyc["frontImgBase64"] = json!(png);
    kyc["handheldImgBase64"] = json!(png);
    assert_eq!(s.ok("setUcardKyc", kyc)["status"], "WAITING_KYC");
    s.advance("30s");

    // First attempt: the merchant answers 500.
    let first = receiver.next();
    assert_eq!(first["head"]["apiCode"], "notify");
    assert_eq!(
        first["head"]["sysId"],
        issuer_sandbox::providers::kazepay::client::DEMO_SYS_ID
    );
    let opened = s.client.open_response(&first).unwrap();
    let event = opened.body.unwrap();
    assert_eq!(
        event,
        json!({ "eventType": "KYC_STATUS", "email": "hook@example.com", "status": "PASSED", "reason": null })
    );
    // The retry comes one sandbox minute later.
    eventually(|| {
        s.state()["deliveries"][0]["attempts"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    });
    s.advance("59s");
    s.advance("1s");
    let retry = receiver.next();
    assert_eq!(retry, first, "the same notification is sent again");
    eventually(|| s.state()["deliveries"][0]["state"] == "delivered");
    let delivery = &s.state()["deliveries"][0];
    assert_eq!(delivery["attempts"][0]["status"], 500);
    assert_eq!(delivery["attempts"][1]["status"], 200);
    assert_eq!(delivery["event"], "KYC_STATUS");

    // A card status change and a recharge notify too.
    let card = s.ok("ucardAssign", json!({ "email": "hook@example.com", "cardNumber": "4937240800070619", "autoActive": true }))["cardID"].clone();
    let event = s
        .client
        .open_response(&receiver.next())
        .unwrap()
        .body
        .unwrap();
    assert_eq!(
        event,
        json!({ "eventType": "CARD_STATUS", "cardID": card, "previousStatus": "UNASSIGNED", "status": "ACTIVE_PROCESSING" })
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The frozen default scenario with KYC rules.
static WITH_KYC_RULES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    FROZEN_DEFAULT.replace(
        "name: frozen\n",
        "name: rules\nkazepay:\n  kyc_rules:\n    - { email: \"*@reject.test\", decision: rejected, reason: Blurry document photo, after: 5m }\n    - { name: \"REJECT *\", decision: rejected }\n",
    )
});

fn with_images(mut kyc: Value, s: &mut Session, email: &str) -> Value {
    let front = s.upload(email, "front.png").1["fileId"].clone();
    let handheld = s.upload(email, "handheld.png").1["fileId"].clone();
    kyc["frontImgFileId"] = front;
    kyc["handheldImgFileId"] = handheld;
    kyc
}

#[test]
fn kyc_rules_decide_by_pattern_after_their_delay_and_a_rejected_user_may_resubmit() {
    let mut s = Session::new(Some(&WITH_KYC_RULES));
    let email = "bob@reject.test";
    let kyc = with_images(kyc_fields(email, "PASSPORT"), &mut s, email);
    s.ok("setUcardKyc", kyc.clone());
    s.advance("30s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "WAITING_KYC",
        "this rule waits 5 minutes"
    );
    s.advance("4m 30s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "REJECTED"
    );
    let holder = s.state()["cardholders"]
        .as_object()
        .unwrap()
        .values()
        .find(|h| h["email"] == email)
        .unwrap()
        .clone();
    assert_eq!(holder["kyc"]["reason"], "Blurry document photo");
    // Resubmission is allowed after a rejection; here the decision control API passes it.
    s.ok("setUcardKyc", kyc);
    let (status, reply) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/kyc",
        &json!({ "email": email, "decision": "passed" }).to_string(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "PASSED"
    );
    // The name rule.
    let mut named = kyc_fields("someone@example.com", "PASSPORT");
    named["firstName"] = json!("Reject");
    named["lastName"] = json!("Me");
    let named = with_images(named, &mut s, "someone@example.com");
    s.ok("setUcardKyc", named);
    s.advance("30s");
    assert_eq!(
        s.ok(
            "queryUcardKycStatus",
            json!({ "email": "someone@example.com" })
        )["status"],
        "REJECTED"
    );
}

#[test]
fn kyc_fields_are_checked_as_the_seed_says() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let email = "fields@example.com";
    let base = with_images(kyc_fields(email, "PASSPORT"), &mut s, email);
    let cases = [
        ("email", json!("not-an-email"), "email"),
        ("firstName", json!("伟"), "English"),
        ("lastName", json!("x".repeat(51)), "at most 50"),
        ("dateOfBirth", json!("1958/04/25"), "yyyy-MM-dd"),
        ("dateOfBirth", json!("2999-01-01"), "in the past"),
        ("addressLine", json!("a".repeat(141)), "at most 140"),
        ("countryCode", json!("ZZ"), "ISO 3166"),
        ("mobilePrefixCountry", json!("MYS"), "at most 2"),
        ("mobileNumber", json!("12ab"), "digits"),
        (
            "identificationType",
            json!("DRIVER_LICENSE"),
            "PASSPORT, ID_CARD",
        ),
        ("identificationExpiryDate", json!("2020-01-01"), "expired"),
        ("postCode", json!("12#4"), "letters, digits"),
    ];
    for (field, value, reason) in cases {
        let mut body = base.clone();
        body[field] = value;
        let detail = s.fails("setUcardKyc", body, "PARAM_ERROR");
        assert!(
            detail.contains(field) && detail.contains(reason),
            "{field}: {detail}"
        );
    }
    let mut missing = base;
    missing.as_object_mut().unwrap().remove("state");
    assert!(
        s.fails("setUcardKyc", missing, "PARAM_ERROR")
            .contains("state: is required")
    );
    // Nothing was recorded by the refused submissions.
    assert!(
        s.state()["cardholders"]
            .as_object()
            .unwrap()
            .values()
            .all(|h| h["email"] != email)
    );
}

#[test]
fn the_hosted_kyc_page_can_be_clicked_through() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let url = s.ok("setUserKyc", kyc_fields("hosted@example.com", "PASSPORT"))["kycUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/kazepay/kyc/demo~", s.sandbox.url())),
        "{url}"
    );
    let page = client().get(&url).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().unwrap();
    assert!(
        html.contains("Trump Donald")
            && html.contains("hosted@example.com")
            && html.contains("value=\"PASSED\""),
        "{html}"
    );
    // No automatic decision for hosted KYC.
    s.advance("1h");
    assert_eq!(
        s.ok(
            "queryUcardKycStatus",
            json!({ "email": "hosted@example.com" })
        )["status"],
        "WAITING_KYC"
    );
    let bad = client()
        .post(&url)
        .body("decision=MAYBE")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let decided = client()
        .post(&url)
        .body("decision=REJECTED&reason=Expired+passport")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .unwrap();
    assert_eq!(decided.status().as_u16(), 200);
    assert!(
        decided
            .text()
            .unwrap()
            .contains("Decision recorded: REJECTED.")
    );
    assert_eq!(
        s.ok(
            "queryUcardKycStatus",
            json!({ "email": "hosted@example.com" })
        )["status"],
        "REJECTED"
    );
    assert_eq!(
        client().get(&url).send().unwrap().status().as_u16(),
        404,
        "the link is spent"
    );
    assert_eq!(
        client()
            .get(format!("{}/kazepay/kyc/nobody~x", s.sandbox.url()))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}

#[test]
fn virtual_cards_are_reviewed_then_active_with_a_cvv() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let detail = s.fails("createCard", json!({ "email": "v@example.com", "mobileNumber": "123456", "mobilePrefix": "60", "cardBin": "411111" }), "PARAM_ERROR");
    assert!(detail.contains("222929"), "{detail}");
    let created = s.ok("createCard", json!({ "email": "v@example.com", "mobileNumber": "123456", "mobilePrefix": "60", "cardBin": "222929" }));
    assert_eq!(created["status"], "AUDITING");
    let card = created["cardID"].clone();
    assert_eq!(
        s.ok("createCardQuery", json!({ "cardID": card }))["status"],
        "AUDITING"
    );
    s.advance("10s");
    assert_eq!(
        s.ok("createCardQuery", json!({ "cardID": card }))["status"],
        "ACTIVE"
    );
    let details = s.ok("queryCard", json!({ "cardID": card }));
    let number = details["cardNo"].as_str().unwrap();
    assert!(number.starts_with("222929") && number.len() == 16);
    assert!(issuer_sandbox::world::ids::luhn_valid(number));
    assert_eq!(
        details["cardCvv"].as_str().unwrap().len(),
        3,
        "virtual cards show their CVV"
    );
}

#[test]
fn transactions_page_filter_and_block_a_close() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let card = s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": true }))["cardID"].clone();
    s.advance("10s");
    s.ok(
        "cardRecharge",
        json!({ "cardID": card, "currency": "USD", "amount": 100 }),
    );
    s.advance("30s");
    let auth = simulate(
        &s,
        json!({ "card": card, "kind": "authorization", "amount": "10.00", "merchant_name": "SHOP" }),
    );
    // A pending authorization holds money: the card cannot close until it clears.
    let detail = s.fails("closeCard", json!({ "cardID": card }), "CARD_STATUS_ERROR");
    assert!(detail.contains("pending authorizations"), "{detail}");
    simulate(
        &s,
        json!({ "card": card, "kind": "reversal", "amount": "10.00", "authorization_id": auth }),
    );
    let declined = simulate(
        &s,
        json!({ "card": card, "kind": "authorization", "amount": "5000.00", "merchant_name": "BIG SHOP" }),
    );
    let items = s.ok("queryTransactions", json!({ "cardID": card }));
    let failed = items
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["transactionId"] == declined.as_str())
        .unwrap();
    assert_eq!(
        (failed["transStatus"].as_str(), failed["respCode"].as_str()),
        (Some("Failed"), Some("000051"))
    );
    // Times are Hong Kong time (UTC+8): the frozen clock started at 00:00Z.
    let all = s.ok("queryTransactions", json!({ "cardID": card, "transactionStartTime": "2026-11-21 08:00:00", "transactionEndTime": "2026-11-21 08:00:09" }));
    assert_eq!(
        all.as_array().unwrap().len(),
        0,
        "the recharge was at 08:00:10, the rest later"
    );
    let later = s.ok(
        "queryTransactions",
        json!({ "cardID": card, "transactionStartTime": "2026-11-21 08:00:10" }),
    );
    assert_eq!(later.as_array().unwrap().len(), 4);
    for (field, value) in [
        ("pageSize", json!(0)),
        ("pageSize", json!(101)),
        ("pageNum", json!(11)),
        ("transactionStartTime", json!("2026-11-21")),
    ] {
        let detail = s.fails(
            "queryTransactions",
            json!({ "cardID": card, field: value }),
            "PARAM_ERROR",
        );
        assert!(detail.contains(field), "{detail}");
    }
    // Nor while a recharge is on its way to the card.
    s.ok(
        "cardRecharge",
        json!({ "cardID": card, "currency": "USD", "amount": 1 }),
    );
    let detail = s.fails("closeCard", json!({ "cardID": card }), "CARD_STATUS_ERROR");
    assert!(detail.contains("receiving a recharge"), "{detail}");
    s.advance("30s");
    assert_eq!(
        s.ok("closeCard", json!({ "cardID": card }))["refundAmt"],
        "101.00"
    );
}

#[test]
fn issuer_simulations_refuse_what_cannot_happen() {
    let s = Session::new(Some(&FROZEN_DEFAULT));
    for (path, body, status) in [
        (
            "/simulate/transaction",
            json!({ "card": "nope", "kind": "refund", "amount": "1" }),
            404,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "recharge", "amount": "1" }),
            400,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "reversal", "amount": "1" }),
            400,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "authorization", "amount": "1", "authorization_id": "TXN0" }),
            400,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "refund", "amount": "1", "fee": "-1" }),
            400,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "clearing", "amount": "1", "authorization_id": "TXN0" }),
            404,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "refund", "amount": "-1" }),
            400,
        ),
        (
            "/simulate/transaction",
            json!({ "card": "3377", "kind": "refund", "amount": "1.001" }),
            400,
        ),
        (
            "/simulate/kyc",
            json!({ "email": "nobody@example.com", "decision": "passed" }),
            404,
        ),
        (
            "/simulate/kyc",
            json!({ "email": "zhang.wei@example.com", "decision": "pending" }),
            400,
        ),
        (
            "/simulate/card-status",
            json!({ "card": "nope", "status": "frozen" }),
            404,
        ),
    ] {
        let (actual, reply) = admin_send(&s.sandbox, "POST", path, &body.to_string());
        assert_eq!(actual, status, "{path} {body}: {reply}");
    }
    let (status, _) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/card-status",
        &json!({ "card": "card-alice-chase", "status": "lost" }).to_string(),
    );
    assert_eq!(status, 200);
    assert_eq!(s.state()["cards"]["card-alice-chase"]["status"], "lost");
    assert_eq!(
        admin_get(&s.sandbox, "/activation-code?card=3378").0,
        404,
        "no code before assignment"
    );
}

#[test]
fn the_books_cannot_be_broken_from_the_issuer_side() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let card = s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": true }))["cardID"].clone();
    s.advance("10s");
    s.ok(
        "cardRecharge",
        json!({ "cardID": card, "currency": "USD", "amount": 20 }),
    );
    s.advance("30s");
    let initial = usd_in_the_system(&s.state(), 0);
    let auth = simulate(
        &s,
        json!({ "card": card, "kind": "authorization", "amount": "10.00" }),
    );
    let refused = [
        // A clearing larger than its hold plus the available balance.
        json!({ "card": card, "kind": "clearing", "amount": "500.00", "authorization_id": auth }),
        // A reversal is of the whole authorization, without a fee.
        json!({ "card": card, "kind": "reversal", "amount": "1.00", "authorization_id": auth }),
        json!({ "card": card, "kind": "reversal", "amount": "10.00", "fee": "3.00", "authorization_id": auth }),
        // A refund whose fee exceeds it.
        json!({ "card": card, "kind": "refund", "amount": "1.00", "fee": "5.00" }),
    ];
    for body in refused {
        let (status, reply) = admin_send(
            &s.sandbox,
            "POST",
            "/simulate/transaction",
            &body.to_string(),
        );
        assert_eq!(status, 409, "{body}: {reply}");
    }
    assert_eq!(
        usd_in_the_system(&s.state(), 0),
        initial,
        "refused postings move nothing"
    );
    let balance = s.ok("cardBalance", json!({ "cardID": card, "currency": "USD" }));
    assert_eq!(
        (
            balance["avaBalance"].as_f64(),
            balance["blockBalance"].as_f64()
        ),
        (Some(10.0), Some(10.0))
    );
    simulate(
        &s,
        json!({ "card": card, "kind": "clearing", "amount": "20.00", "authorization_id": auth }),
    );
    assert_eq!(
        s.ok("cardBalance", json!({ "cardID": card, "currency": "USD" }))["avaBalance"],
        0.0
    );
    // The issuer cannot close a card behind the provider's back, nor revive a closed one.
    let (status, _) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/card-status",
        &json!({ "card": card, "status": "closed" }).to_string(),
    );
    assert_eq!(status, 400);
    admin_send(
        &s.sandbox,
        "POST",
        "/simulate/card-status",
        &json!({ "card": card, "status": "lost" }).to_string(),
    );
    assert_eq!(
        s.ok("closeCard", json!({ "cardID": card }))["status"],
        "CLOSE_PROCESSING",
        "a lost card can close"
    );
    let (status, _) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/card-status",
        &json!({ "card": card, "status": "active" }).to_string(),
    );
    assert_eq!(status, 409);
    s.advance("10s");
    let (status, _) = admin_send(
        &s.sandbox,
        "POST",
        "/simulate/transaction",
        &json!({ "card": card, "kind": "refund", "amount": "5.00" }).to_string(),
    );
    assert_eq!(status, 409, "no refunds onto a closed card");
    assert_eq!(usd_in_the_system(&s.state(), -2000), initial);
}

#[test]
fn scheduled_events_do_not_act_on_changed_state() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    // A review rejected early and resubmitted: the first review's end does not decide the second.
    let email = "again@example.com";
    let kyc = with_images(kyc_fields(email, "PASSPORT"), &mut s, email);
    s.ok("setUcardKyc", kyc.clone());
    s.advance("5s");
    admin_send(
        &s.sandbox,
        "POST",
        "/simulate/kyc",
        &json!({ "email": email, "decision": "rejected" }).to_string(),
    );
    s.advance("20s");
    s.ok("setUcardKyc", kyc);
    s.advance("5s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "WAITING_KYC",
        "30 s after the first submission"
    );
    s.advance("25s");
    assert_eq!(
        s.ok("queryUcardKycStatus", json!({ "email": email }))["status"],
        "PASSED",
        "30 s after the second"
    );
    // An activation in progress does not undo the issuer's freeze.
    let card = s.ok(
        "ucardAssign",
        json!({ "email": email, "cardNumber": "4937240800070627", "autoActive": true }),
    )["cardID"]
        .clone();
    admin_send(
        &s.sandbox,
        "POST",
        "/simulate/card-status",
        &json!({ "card": card, "status": "frozen" }).to_string(),
    );
    s.advance("10s");
    assert_eq!(
        s.ok("queryCard", json!({ "cardID": card }))["userBankCardStatus"],
        "INACTIVE"
    );
}

#[test]
fn a_user_who_never_submitted_may_submit_and_refused_submissions_store_nothing() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    // bob.chen is `kyc: pending` in the scenario, without a submission.
    let mut kyc = with_images(
        kyc_fields("bob.chen@example.com", "PASSPORT"),
        &mut s,
        "bob.chen@example.com",
    );
    assert_eq!(s.ok("setUcardKyc", kyc.clone())["status"], "WAITING_KYC");
    // A second submission while waiting is refused and stores none of its inline images.
    let files = s.state()["files"].as_object().unwrap().len();
    let png = format!(
        "data:image/png;base64,{}",
        base64_encode(&std::fs::read(format!("{KYC_IMAGES}/front.png")).unwrap())
    );
    kyc.as_object_mut().unwrap().remove("frontImgFileId");
    kyc.as_object_mut().unwrap().remove("handheldImgFileId");
    kyc["frontImgBase64"] = json!(png);
    kyc["handheldImgBase64"] = json!(png);
    s.fails("setUcardKyc", kyc, "KYC_IN_PROGRESS");
    assert_eq!(s.state()["files"].as_object().unwrap().len(), files);
}

#[test]
fn refused_requests_do_not_shift_later_card_numbers() {
    let pan_after = |refused: usize| {
        let mut s = Session::new(Some(&FROZEN_DEFAULT));
        for _ in 0..refused {
            s.fails("queryCard", json!({ "cardID": "nope" }), "CARD_NOT_EXIST");
        }
        let card = s.ok("createCard", json!({ "email": "v@example.com", "mobileNumber": "123456", "mobilePrefix": "60", "cardBin": "222929" }))["cardID"].clone();
        s.advance("10s");
        s.ok("queryCard", json!({ "cardID": card }))["cardNo"].clone()
    };
    assert_eq!(pan_after(0), pan_after(3));
}

#[test]
fn the_activation_code_is_not_in_the_state_but_once_in_the_journal() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": false }));
    let activation = &s.state()["cards"]["3378"]["activation"];
    assert_eq!(activation, &json!({ "revealed": false }));
    let note = s.sandbox.journal().pop().unwrap().note.unwrap();
    let code = admin_get(&s.sandbox, "/activation-code?card=3378").1["activation_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(note, format!("activation code for card 3378: {code}"));
}

#[test]
fn every_due_webhook_retry_fires_after_one_clock_jump_then_the_delivery_is_abandoned() {
    let receiver = Receiver::start(vec![500; 10]);
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    s.ok("setWebhookUrl", json!({ "url": receiver.url }));
    s.ok("ucardAssign", json!({ "email": "zhang.wei@example.com", "cardNumber": "4937240800070627", "autoActive": false }));
    receiver.next();
    eventually(|| {
        s.state()["deliveries"][0]["attempts"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    });
    // 1 + 2 + 4 + 8 + 16 = 31 minutes: every retry is due.
    s.advance("31m");
    for _ in 0..5 {
        receiver.next();
    }
    eventually(|| s.state()["deliveries"][0]["state"] == "abandoned");
    let attempts = s.state()["deliveries"][0]["attempts"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(attempts, 6, "the first call and five retries");
}

#[test]
fn an_oversized_kazepay_body_is_a_413_in_clear() {
    let sandbox = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .body_limit(1024)
        .start()
        .unwrap();
    let (status, response) = post_raw(&sandbox, &"x".repeat(4096));
    assert_eq!(status, 413);
    assert_in_clear(&response, "ILLEGAL_REQUEST");
}

#[test]
fn a_spent_request_number_is_remembered_for_a_day_of_sandbox_time() {
    let mut s = Session::new(Some(&FROZEN_DEFAULT));
    let ask = |s: &mut Session| {
        let opened = call(
            &s.sandbox,
            &mut s.client,
            "getWebhookUrl",
            "2026112100000000000001",
            json!({}),
        );
        opened.code
    };
    assert_eq!(ask(&mut s), "SUCCESS");
    assert_eq!(ask(&mut s), "REQUEST_NO_REPEAT");
    s.advance("23h");
    assert_eq!(ask(&mut s), "REQUEST_NO_REPEAT");
    // A day after it was spent, the number is forgotten: request numbers cannot pile up.
    s.advance("1h");
    assert_eq!(ask(&mut s), "SUCCESS");
}
