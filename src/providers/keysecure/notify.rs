//! KeySecure's callbacks to the merchant's `callback_url`: `{"id","action","data"}` with the
//! headers `Timestamp` (ms, sandbox time), `Signature` (V1, see [`super::sensitive`]),
//! `Sign-Version: V1` and `Timezone`.
//!
//! - `Card_update` on every status change of a KeySecure card:
//!   `{card_no, card_unique_no, pre_status, status, reason, time}`;
//! - `Consumption` when a card transaction is recorded: the consumption list item;
//! - `Auth` before a purchase on an authorization-mode card, put to the merchant synchronously
//!   (see [`authorization_call`]): `{consume_no, card_no, cardholder_no, type, amount,
//!   local_amount, local_currency, merchant_info{...}, status: "Pending", time}`, approved by
//!   `{"code":0}` within the profile's timeout.

use serde_json::{Map, Number, Value, json};

use super::ops::{ISSUER, consumption_item, merchant_info, millis, status_name};
use super::section::{IntegrationMode, Key as KeySecureKey};
use super::sensitive::sign;
use super::settings::{AuthFallback, Settings};
use crate::providers::Draft;
use crate::world::deliveries::DecisionCall;
use crate::world::deliveries::Outbound;
use crate::world::ledger::{Posting, TransactionKind};
use crate::world::timeline::{Notice, Notification};
use crate::world::{CardStatus, Funding, Money, World, ids, rng};

/// The callback for `notice`, when it concerns a KeySecure card and the merchant has a URL;
/// signed when it is sealed (outside the tenant's lock).
pub fn render(
    settings: &Settings,
    key: &KeySecureKey,
    world: &World,
    notice: &Notice,
    seed: u64,
) -> Option<Draft> {
    let url = key.callback_url.as_ref()?;
    let keysecure_card = |id: &str| {
        world
            .cards()
            .get(id)
            .filter(|c| c.issuer.as_deref() == Some(ISSUER))
    };
    let (action, data) = match &notice.notification {
        Notification::CardStatusChanged { card_id, from, to } => {
            let card = keysecure_card(card_id)?;
            // Lost and Frozen read the same here: no visible change, no callback.
            if status_name(*from) == status_name(*to) {
                return None;
            }
            let data = json!({
                "card_no": card.id,
                "card_unique_no": card.merchant_ref.clone().unwrap_or_else(|| card.id.clone()),
                "pre_status": status_name(*from),
                "status": status_name(*to),
                "reason": reason(*from, *to),
                "time": millis(notice.at),
            });
            ("Card_update", data)
        }
        Notification::TransactionPosted { transaction_id } => {
            let transaction = world.transactions().get(transaction_id)?;
            ("Consumption", consumption_item(world, transaction)?)
        }
        _ => return None,
    };
    let outbound = Outbound {
        provider: ISSUER.to_owned(),
        event: action.to_owned(),
        url: url.clone(),
        body: data.to_string(),
        plain: data,
        retries: settings.callback_retries.clone(),
        headers: Vec::new(),
    };
    let signer = Signer::new(settings, key);
    let at = notice.at;
    let seal = move |outbound: &mut Outbound| {
        let mut stream = rng::stream(seed, "keysecure-callback");
        let (body, headers) = signer.envelope(action, &outbound.plain, at, &mut stream);
        outbound.body = body;
        outbound.headers = headers;
    };
    Some(Draft {
        outbound,
        seal: Some(Box::new(seal)),
    })
}

/// The question a purchase on an authorization-mode card must put to the merchant first; it
/// draws the consumption number the purchase will carry.
pub fn authorization_call(
    settings: &Settings,
    key: &KeySecureKey,
    world: &mut World,
    posting: &Posting,
) -> Option<DecisionCall> {
    let card = world
        .cards()
        .get(&posting.card_id)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER) && c.funding == Funding::MerchantAccount)?;
    let purchase = posting.kind == TransactionKind::Authorization
        || (posting.kind == TransactionKind::Clearing && posting.authorization_id.is_none());
    if key.mode != IntegrationMode::Authorization || !purchase {
        return None;
    }
    let number = |m: &Money| Number::from_f64(m.to_f64()).map_or(Value::Null, Value::Number);
    let local = posting.original_amount.as_ref().unwrap_or(&posting.amount);
    let (card_no, holder) = (card.id.clone(), card.cardholder_id.clone());
    let now = world.now();
    let consume_no = world.next_id("TXN");
    let data = json!({
        "consume_no": consume_no,
        "card_no": card_no,
        "cardholder_no": holder,
        "type": "Consumption",
        "amount": number(&posting.amount),
        "local_amount": number(local),
        "local_currency": local.currency().code(),
        "merchant_info": merchant_info(posting.merchant_name.as_deref(), posting.mcc.as_deref()),
        "status": "Pending",
        "time": millis(now),
    });
    let refusal = match settings.auth_fallback {
        AuthFallback::Decline => Some("declined by the merchant's authorization".to_owned()),
        AuthFallback::Approve => None,
    };
    let (body, headers) = match &key.callback_url {
        Some(_) => {
            let seed = rand::RngExt::random::<u64>(world.aux_rng());
            Signer::new(settings, key).envelope(
                "Auth",
                &data,
                now,
                &mut rng::stream(seed, "keysecure-auth"),
            )
        }
        None => (String::new(), Vec::new()),
    };
    Some(DecisionCall {
        // No URL: nobody can approve; the fallback decides (an empty URL fails at once).
        url: key.callback_url.clone().unwrap_or_default(),
        body,
        headers,
        timeout: settings.auth_timeout.unsigned_abs(),
        approves: answer_is_zero,
        refusal,
        id: consume_no,
    })
}

/// `{"code":0}` (or `"0"`) with a 2xx status.
fn answer_is_zero(status: u16, body: &[u8]) -> bool {
    (200..300).contains(&status)
        && serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("code").cloned())
            .is_some_and(|code| code == json!(0) || code == json!("0"))
}

/// What signing a merchant's callbacks takes, owned (sealing runs after the lock is released).
struct Signer {
    api_key: String,
    api_secret: String,
    timezone: jiff::tz::Offset,
}

impl Signer {
    fn new(settings: &Settings, key: &KeySecureKey) -> Signer {
        Signer {
            api_key: key.api_key.clone(),
            api_secret: key.api_secret.clone(),
            timezone: settings.timezone,
        }
    }

    /// The callback body and its headers.
    fn envelope(
        &self,
        action: &str,
        data: &Value,
        at: jiff::Timestamp,
        stream: &mut rng::SandboxRng,
    ) -> (String, Vec<(String, String)>) {
        let timestamp = millis(at).to_string();
        let fields = data.as_object().cloned().unwrap_or_else(Map::new);
        let signature = sign(&self.api_secret, &self.api_key, &timestamp, &fields);
        let body = json!({ "id": ids::uuid(stream), "action": action, "data": data });
        let headers = vec![
            ("Timestamp".to_owned(), timestamp),
            ("Signature".to_owned(), signature),
            ("Sign-Version".to_owned(), "V1".to_owned()),
            ("Timezone".to_owned(), timezone_header(self.timezone)),
        ];
        (body.to_string(), headers)
    }
}

/// `UTC+8`, `UTC-5:30`.
fn timezone_header(offset: jiff::tz::Offset) -> String {
    let seconds = offset.seconds();
    let (sign, seconds) = if seconds < 0 {
        ('-', -seconds)
    } else {
        ('+', seconds)
    };
    match (seconds / 3600, seconds % 3600 / 60) {
        (hours, 0) => format!("UTC{sign}{hours}"),
        (hours, minutes) => format!("UTC{sign}{hours}:{minutes:02}"),
    }
}

/// Why a card changed status, in words.
fn reason(from: CardStatus, to: CardStatus) -> &'static str {
    match (from, to) {
        (CardStatus::Pending, CardStatus::Active) => "card produced",
        (CardStatus::Pending, CardStatus::Inactive) => "card produced, waiting for activation",
        (_, CardStatus::Failed) => "card production failed",
        (CardStatus::Inactive, CardStatus::Active) => "card activated",
        (_, CardStatus::Frozen) => "card frozen",
        (CardStatus::Frozen, CardStatus::Active) => "card unfrozen",
        (_, CardStatus::Closed | CardStatus::Closing) => "card deleted",
        _ => "status changed by the issuer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timezone_header_is_written_as_the_docs_show() {
        let offset = |s: i32| jiff::tz::Offset::from_seconds(s).unwrap();
        assert_eq!(timezone_header(offset(8 * 3600)), "UTC+8");
        assert_eq!(timezone_header(offset(-(5 * 3600 + 1800))), "UTC-5:30");
    }

    #[test]
    fn only_a_zero_code_approves() {
        assert!(answer_is_zero(200, br#"{"code":0,"message":""}"#));
        assert!(answer_is_zero(200, br#"{"code":"0"}"#));
        assert!(!answer_is_zero(200, br#"{"code":1}"#));
        assert!(!answer_is_zero(500, br#"{"code":0}"#));
        assert!(!answer_is_zero(200, b"ok"));
    }
}
