//! Pagsmile's webhooks, unencrypted as documented: `{partner_id, sub_partner_id, timestamp,
//! version: "1.0", random_key: null, sign_type: "", request_id, notify_type, biz_data, app_id}`
//! with `biz_data` a plain object, sent to the app's webhook URL from the scenario.
//!
//! notify_type (numbers from the profile): apply result (an order finished), cardholder audit
//! (an audit ended), card status (a produced card changed status), transaction (an
//! authorization or settlement on a card).

use serde_json::{Value, json};

use super::ops::{
    ISSUER, audit_status, is_pagsmile_holder, long, map, masked_pan, order_fields, token_of,
};
use super::settings::{AppIdentity, CardStatusCodes, Settings};
use crate::world::World;
use crate::world::deliveries::Outbound;
use crate::world::ledger::{Transaction, TransactionKind};
use crate::world::timeline::{Notice, Notification};
use crate::world::{Card, CardStatus, Money, ids, rng};

/// The webhook for `notice`, when it concerns a Pagsmile holder, order or card and the app has
/// a webhook URL.
pub fn render(
    settings: &Settings,
    app: &AppIdentity,
    world: &World,
    notice: &Notice,
    seed: u64,
) -> Option<Outbound> {
    let url = app.credentials.webhook_url.as_ref()?;
    let types = &settings.notify_type;
    let card = |id: &str| {
        world
            .cards()
            .get(id)
            .filter(|c| c.issuer.as_deref() == Some(ISSUER))
    };
    let (notify_type, event, biz_data) = match &notice.notification {
        Notification::KycDecided {
            cardholder_id,
            from,
            status,
        } => {
            let holder = world
                .cardholders
                .get(cardholder_id)
                .filter(|h| is_pagsmile_holder(h))?;
            let data = json!({
                "holder_id": long(cardholder_id),
                "pre_status": audit_status(settings, *from),
                "status": audit_status(settings, *status),
                "codes": holder.kyc.codes,
                "remark": holder.kyc.reason.clone().unwrap_or_default(),
            });
            (types.holder_audit, "HOLDER_AUDIT", data)
        }
        Notification::OrderFinished { order_no } => {
            let order = world
                .orders()
                .get(order_no)
                .filter(|o| o.issuer == ISSUER)?;
            let mut data = order_fields(settings, world, order);
            data.shift_remove("card_bin");
            (types.apply_result, "APPLY_RESULT", Value::Object(data))
        }
        Notification::CardStatusChanged { card_id, from, to } => {
            let card = card(card_id)?;
            // Production (pending → active or failed) is told by the apply result.
            if matches!(from, CardStatus::Stock | CardStatus::Pending) {
                return None;
            }
            let data = json!({
                "card_token": token_of(card),
                "card_pan": masked_pan(&card.pan),
                "pre_status": settings.card_status.code(*from),
                "status": settings.card_status.code(*to),
                "desc": CardStatusCodes::name(*to),
            });
            (types.card_status, "CARD_STATUS", data)
        }
        Notification::TransactionPosted { transaction_id } => {
            let transaction = world.transactions().get(transaction_id)?;
            let card = card(&transaction.card_id)?;
            let data = transaction_detail(settings, transaction, card);
            (types.transaction, "TRANSACTION", data)
        }
        Notification::TransferSettled { .. } => return None,
    };
    let mut stream = rng::stream(seed, "pagsmile-webhook");
    let body = json!({
        "partner_id": app.credentials.partner_id,
        "sub_partner_id": "",
        "timestamp": settings.time(notice.at),
        "version": "1.0",
        "random_key": null,
        "sign_type": "",
        "request_id": format!("IC{}", ids::digits(&mut stream, 19)),
        "notify_type": notify_type,
        "biz_data": biz_data,
        "app_id": app.credentials.app_id,
    });
    Some(Outbound {
        provider: ISSUER.to_owned(),
        event: event.to_owned(),
        url: url.clone(),
        body: body.to_string(),
        plain: body,
        retries: settings.webhook_retries.clone(),
        headers: Vec::new(),
    })
}

/// The documented authorization/settlement detail of a card transaction (without the card).
fn transaction_detail(settings: &Settings, t: &Transaction, card: &Card) -> Value {
    let positive = |m: &Money| Money::from_minor(m.minor().abs(), m.currency().clone());
    let bill = positive(&t.amount);
    let original = t.original_amount.as_ref().map(positive);
    let charged = original.clone().unwrap_or_else(|| bill.clone());
    let auth_id = t.authorization_id.clone().unwrap_or_else(|| t.id.clone());
    let settlement = matches!(t.kind, TransactionKind::Clearing | TransactionKind::Refund);
    let rate = match &original {
        Some(o) if o.minor() != 0 => format!("{:.6}", bill.to_f64() / o.to_f64()),
        _ => "1.000000".to_owned(),
    };
    Value::Object(map([
        ("auth_id", json!(auth_id)),
        (
            "data_type",
            json!(if settlement {
                "cardSettlement"
            } else {
                "cardAuthorization"
            }),
        ),
        ("card_token", json!(token_of(card))),
        ("card_pan", json!(masked_pan(&card.pan))),
        ("transaction_id", json!(t.id)),
        (
            "original_auth_id",
            json!(t.authorization_id.clone().unwrap_or_default()),
        ),
        // Stable for an authorization and its settlement; no randomness consumed.
        (
            "auth_code",
            json!(format!("{:06}", rng::derive(0, &auth_id) % 1_000_000)),
        ),
        ("mcc_code", json!(t.mcc.clone().unwrap_or_default())),
        ("merchant_id", json!("")),
        (
            "merchant_name",
            json!(t.merchant_name.clone().unwrap_or_default()),
        ),
        (
            "note",
            json!(
                t.decline_reason
                    .clone()
                    .unwrap_or_else(|| format!("{:?}", t.kind).to_lowercase())
            ),
        ),
        ("transaction_amount", json!(charged.to_string())),
        ("transaction_currency", json!(charged.currency().code())),
        ("transaction_country_code", json!("")),
        ("bill_amount", json!(bill.to_string())),
        ("bill_currency", json!(bill.currency().code())),
        ("fee", json!(positive(&t.fee).to_string())),
        (
            "settled_amount",
            json!(if settlement {
                bill.to_string()
            } else {
                Money::zero(bill.currency().clone()).to_string()
            }),
        ),
        ("base_exchange_rate", json!(rate)),
        ("create_time", json!(settings.time(t.created_at))),
    ]))
}
