//! KazePay's webhooks (their payloads are not public; these are the sandbox's, documented in
//! docs/providers/kazepay.md): the usual envelope, sealed by the platform for the merchant,
//! with `head.apiCode` `notify` and a plaintext body `{"eventType": .., ...}`.
//!
//! Events: `KYC_STATUS` (a review ended), `CARD_STATUS` (any status change of a KazePay card),
//! `RECHARGE` (a recharge reached the card), `CLOSE_REFUND` (a closed card's balance reached the
//! merchant account) and `TRANSACTION` (a card transaction, with the queryTransactions fields).

use serde_json::json;

use super::envelope::seal;
use super::ops::{ISSUER, kyc_status_name, transaction_item};
use super::settings::Settings;
use crate::providers::Draft;
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::ledger::TransactionKind;
use crate::world::rng;
use crate::world::timeline::{Notice, Notification};

/// The webhook for `notice`, when it concerns KazePay and the merchant registered a URL;
/// sealed (two RSA operations) when the draft is, outside the tenant's lock.
pub fn render(
    settings: &Settings,
    tenant: usize,
    world: &World,
    notice: &Notice,
    seed: u64,
) -> Option<Draft> {
    let url = world.webhook_urls.get(ISSUER)?;
    let (sys_id, merchant) = settings
        .merchants
        .iter()
        .find(|(_, m)| m.tenant == tenant)?;
    let kazepay_card = |id: &str| {
        world
            .cards()
            .get(id)
            .filter(|c| c.issuer.as_deref() == Some(ISSUER))
    };
    let plain = match &notice.notification {
        // KazePay has no card orders.
        Notification::OrderFinished { .. } => return None,
        Notification::KycDecided {
            cardholder_id,
            status,
            ..
        } => {
            let holder = world
                .cardholders
                .get(cardholder_id)
                .filter(|h| h.serves(ISSUER) && h.kyc.submitted_at.is_some())?;
            json!({
                "eventType": "KYC_STATUS",
                "email": holder.email,
                "status": kyc_status_name(*status),
                "reason": holder.kyc.reason,
            })
        }
        Notification::CardStatusChanged { card_id, from, to } => {
            kazepay_card(card_id)?;
            json!({
                "eventType": "CARD_STATUS",
                "cardID": card_id,
                "previousStatus": settings.card_status(*from),
                "status": settings.card_status(*to),
            })
        }
        Notification::TransferSettled { transaction_id }
        | Notification::TransactionPosted { transaction_id } => {
            let transaction = world.transactions().get(transaction_id)?;
            kazepay_card(&transaction.card_id)?;
            match (&notice.notification, transaction.kind) {
                (Notification::TransferSettled { .. }, TransactionKind::Recharge) => json!({
                    "eventType": "RECHARGE",
                    "cardID": transaction.card_id,
                    "transactionId": transaction.id,
                    "transactionStatus": "SUCCESS",
                    "amount": transaction.amount.to_string(),
                    "currency": transaction.amount.currency().code(),
                }),
                (Notification::TransferSettled { .. }, _) => json!({
                    "eventType": "CLOSE_REFUND",
                    "cardID": transaction.card_id,
                    "txnId": transaction.id,
                    "refundAmt": money_abs(&transaction.amount),
                    "currency": transaction.amount.currency().code(),
                }),
                _ => {
                    let mut item = transaction_item(settings, transaction);
                    item["eventType"] = json!("TRANSACTION");
                    item
                }
            }
        }
    };
    let platform = settings.platform_private.clone();
    let (public_key, profile) = (merchant.public_key.clone(), merchant.profile);
    let stamp = notice
        .at
        .to_zoned(jiff::tz::TimeZone::fixed(settings.utc_offset))
        .strftime("%Y%m%d%H%M%S")
        .to_string();
    let sys_id = sys_id.clone();
    let seal_body = move |outbound: &mut Outbound| {
        let plaintext = outbound.plain.to_string();
        let mut stream = rng::stream(seed, "kazepay-webhook");
        // Sealing cannot fail with parsed keys; an envelope that could not be made is sent
        // empty (and shows in the state as such).
        let Ok(sealed) = seal(
            plaintext.as_bytes(),
            &platform,
            &public_key,
            profile,
            &mut stream,
        ) else {
            outbound.body = String::new();
            return;
        };
        let body = json!({
            "head": {
                "apiCode": "notify",
                "sysId": sys_id,
                "requestNo": format!("{stamp}{:08}", seed % 100_000_000),
                "version": "1.0",
                "sign": sealed.sign,
                "keyEnc": sealed.key_enc,
            },
            "body": { "encrypt": sealed.encrypt },
        });
        outbound.body = body.to_string();
    };
    Some(Draft {
        outbound: Outbound {
            provider: ISSUER.to_owned(),
            event: plain["eventType"].as_str().unwrap_or_default().to_owned(),
            url: url.clone(),
            body: String::new(),
            plain,
            retries: settings.webhook_retries.clone(),
            headers: Vec::new(),
        },
        seal: Some(Box::new(seal_body)),
    })
}

fn money_abs(money: &crate::world::Money) -> String {
    crate::world::Money::from_minor(money.minor().abs(), money.currency().clone()).to_string()
}
