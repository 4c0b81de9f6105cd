//! Consumptions (card transactions): `card/consume/list` (a time window of at most 90 days) and
//! `card/consume/{consume_no}/info`. Authorizations and direct purchases are `Consumption`,
//! releases `Reversal`, shop refunds `Refund` (Appendix 8.4); statuses Pending / Success /
//! Fail (8.1).

use serde_json::{Value, json};

use super::{Context, ISSUER, millis, time_window};
use crate::providers::keysecure::settings::ErrorKind;
use crate::providers::keysecure::wire::{Input, OpError, page_of, paging};
use crate::world::ledger::{Transaction, TransactionKind, TransactionStatus};
use crate::world::{Money, World};

/// `merchant_info` with what is known (unknown members are left out, not null).
pub fn merchant_info(name: Option<&str>, mcc: Option<&str>) -> Value {
    let mut info = serde_json::Map::new();
    if let Some(name) = name {
        info.insert("merchant_name".to_owned(), json!(name));
    }
    if let Some(mcc) = mcc {
        info.insert("merchant_mcc".to_owned(), json!(mcc));
    }
    Value::Object(info)
}

/// Whether a transaction is a consumption of its own: a clearing of an authorization is that
/// authorization's consumption, settled (it keeps the authorization's consume_no).
fn listed(t: &Transaction) -> bool {
    !(t.kind == TransactionKind::Clearing && t.authorization_id.is_some())
}

/// A card transaction as the API shows it, if it is (part of) a consumption of a KeySecure
/// card: an authorization with its clearing if any, a direct purchase, a reversal, a refund.
pub fn item(world: &World, t: &Transaction) -> Option<Value> {
    let (record, settled) = match (t.kind, t.authorization_id.as_deref()) {
        (TransactionKind::Clearing, Some(authorization)) => {
            (world.transactions().get(authorization)?, Some(t))
        }
        (TransactionKind::Authorization, _) => (t, world.transactions().clearing_of(&t.id)),
        _ => (t, None),
    };
    let card = world
        .cards()
        .get(&record.card_id)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER))?;
    let kind = match record.kind {
        TransactionKind::Authorization | TransactionKind::Clearing => "Consumption",
        TransactionKind::Reversal => "Reversal",
        TransactionKind::Refund => "Refund",
        _ => return None,
    };
    let status = match (settled, record.status) {
        (Some(_), _) => "Success",
        (None, TransactionStatus::Pending) => "Pending",
        (None, TransactionStatus::Success | TransactionStatus::Reversed) => "Success",
        (None, TransactionStatus::Failed) => "Fail",
    };
    let money = settled.unwrap_or(record);
    let positive = |m: &Money| Money::from_minor(m.minor().abs(), m.currency().clone());
    let amount = positive(&money.amount);
    let local = money
        .original_amount
        .as_ref()
        .map_or_else(|| amount.clone(), positive);
    Some(json!({
        "consume_no": record.id,
        "card_no": card.id,
        "cardholder_no": card.cardholder_id,
        "type": kind,
        "amount": amount.to_string(),
        "currency": amount.currency().code(),
        "local_amount": local.to_string(),
        "local_currency": local.currency().code(),
        "fee": positive(&money.fee).to_string(),
        "merchant_info": merchant_info(record.merchant_name.as_deref(), record.mcc.as_deref()),
        "auth_consume_no": if record.kind == TransactionKind::Reversal { record.authorization_id.clone() } else { None },
        "status": status,
        "fail_reason": record.decline_reason,
        "time": millis(record.created_at),
    }))
}

/// `{card_no?, cardholder_no?, type?, status?, start_time, end_time, page, size}` → a page of
/// consumptions in the window, oldest first.
pub fn list(context: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let body = &input.body;
    let card_no = body.optional_text("card_no", 1, 64)?;
    let holder = body.optional_text("cardholder_no", 1, 64)?;
    let kind = body.optional_text("type", 1, 16)?;
    let status = body.optional_text("status", 1, 16)?;
    let (start, end) = time_window(context, input)?;
    let (page, size) = paging(body)?;
    // With a card asked for, only its transactions are looked at.
    let transactions: Box<dyn Iterator<Item = &Transaction>> = match card_no {
        Some(card) => Box::new(world.transactions().of_card(card)),
        None => Box::new(world.transactions().iter()),
    };
    let items: Vec<Value> = transactions
        .filter(|t| listed(t) && t.created_at >= start && t.created_at <= end)
        .filter_map(|t| item(world, t))
        .filter(|i| card_no.is_none_or(|n| i["card_no"] == n))
        .filter(|i| holder.is_none_or(|h| i["cardholder_no"] == h))
        .filter(|i| kind.is_none_or(|k| i["type"] == k))
        .filter(|i| status.is_none_or(|s| i["status"] == s))
        .collect();
    Ok(page_of(items, page, size, |item| item))
}

/// `GET card/consume/{consume_no}/info` → one consumption.
pub fn info(_: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let consume_no = input.param();
    world
        .transactions()
        .get(consume_no)
        .and_then(|t| item(world, t))
        .ok_or_else(|| OpError::new(ErrorKind::ConsumptionNotFound).with_field(consume_no))
}
