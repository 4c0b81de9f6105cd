//! Money: `cardBalance`, `cardRecharge` (PENDING, credited after the profile's delay) and
//! `queryTransactions` (the card's ledger, newest first, paged and filtered).

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde_json::{Value, json};

use super::cards::{CardAction, card, require};
use super::{Answer, Context, fields};
use crate::providers::fields::Fields;
use crate::providers::kazepay::settings::{ErrorKind, Settings};
use crate::providers::kazepay::wire::OpError;
use crate::world::ledger::{LedgerError, Transaction, TransactionKind, TransactionStatus};
use crate::world::timeline::Event;
use crate::world::{Card, Currency, Money, World};

/// `{cardID, currency}` → `{cardID, currency, avaBalance, blockBalance}` (Doubles).
pub fn balance(_: &Context<'_>, world: &mut World, body: &Fields<'_>) -> Result<Answer, OpError> {
    let card = card(world, body)?;
    check_currency(body, card)?;
    Ok(Answer::Object(fields([
        ("cardID", Value::String(card.id.clone())),
        ("currency", Value::String(card.currency.code().to_owned())),
        ("avaBalance", json!(card.available.to_f64())),
        ("blockBalance", json!(card.blocked.to_f64())),
    ])))
}

/// `{cardID, currency, amount}` → `{cardID, currency, transactionId, transactionStatus:
/// PENDING, sendAmount}`: the merchant account is debited now, the card credited later.
pub fn recharge(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<Answer, OpError> {
    let card = card(world, body)?;
    check_currency(body, card)?;
    let amount = body.number_amount("amount", &card.currency)?;
    require(context, card, CardAction::Recharge)?;
    let card_id = card.id.clone();
    let transaction_id = world
        .start_recharge(&card_id, &amount)
        .map_err(|e| match e {
            LedgerError::InsufficientAccount { available, .. } => {
                OpError::new(ErrorKind::InsufficientBalance)
                    .with_reason(format!("the merchant account holds {available}"))
            }
            other => OpError::new(ErrorKind::InvalidState).with_reason(other.to_string()),
        })?;
    let now = world.now();
    let due = now
        .saturating_add(context.settings.delays.recharge)
        .unwrap_or(now);
    world.schedule(
        due,
        Event::SettleTransfer {
            transaction_id: transaction_id.clone(),
        },
    );
    Ok(Answer::Object(fields([
        ("cardID", Value::String(card_id)),
        (
            "currency",
            Value::String(amount.currency().code().to_owned()),
        ),
        ("transactionId", Value::String(transaction_id)),
        ("transactionStatus", Value::String("PENDING".to_owned())),
        ("sendAmount", Value::String(amount.to_string())),
    ])))
}

/// `{cardID, transactionId?, pageSize 1–100 (10), pageNum 1–10 (1), transactionStartTime?,
/// transactionEndTime?}` → a JSON array of transactions, newest first.
pub fn transactions(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<Answer, OpError> {
    let card = card(world, body)?;
    let size = body.count("pageSize", 1, 100, 10)? as usize;
    let page = body.count("pageNum", 1, 10, 1)? as usize;
    let id = body.optional_text("transactionId", 1, 64)?;
    let offset = context.settings.utc_offset;
    let time = |name: &str| -> Result<Option<Timestamp>, OpError> {
        body.optional_text(name, 1, 19)?
            .map(|text| {
                DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
                    .ok()
                    .and_then(|dt| offset.to_timestamp(dt).ok())
                    .ok_or_else(|| OpError::field(name, "must be yyyy-MM-dd HH:mm:ss"))
            })
            .transpose()
    };
    let (start, end) = (time("transactionStartTime")?, time("transactionEndTime")?);
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(OpError::field(
            "transactionEndTime",
            "must not be before transactionStartTime",
        ));
    }
    let items: Vec<Value> = world
        .transactions()
        .of_card(&card.id)
        .rev()
        .filter(|t| id.is_none_or(|id| t.id == id))
        .filter(|t| {
            start.is_none_or(|s| t.created_at >= s) && end.is_none_or(|e| t.created_at <= e)
        })
        .skip((page - 1) * size)
        .take(size)
        .map(|t| item(context.settings, t))
        .collect();
    Ok(Answer::List(items))
}

/// One `queryTransactions` item, with the documented fields.
pub fn item(settings: &Settings, t: &Transaction) -> Value {
    let original = t.original_amount.as_ref().unwrap_or(&t.amount);
    let original = if t.amount.is_negative() && !original.is_negative() {
        Money::from_minor(-original.minor(), original.currency().clone())
    } else {
        original.clone()
    };
    let (code, description) = match t.status {
        TransactionStatus::Failed => (
            "000051",
            t.decline_reason
                .as_deref()
                .unwrap_or("DECLINED")
                .to_uppercase(),
        ),
        _ => ("000000", "SUCCESS".to_owned()),
    };
    json!({
        "cardID": t.card_id,
        "transactionId": t.id,
        "transactionTime": t.created_at.to_zoned(jiff::tz::TimeZone::fixed(settings.utc_offset)).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        "cardCurrency": t.amount.currency().code(),
        "cardCurrencyAmt": t.amount.to_f64(),
        "transCurrency": original.currency().code(),
        "transCurrencyAmt": original.to_f64(),
        "feeCurrency": t.fee.currency().code(),
        "fee": t.fee.to_f64(),
        "transStatus": status_name(t.status),
        "transType": type_name(t.kind),
        "merchantName": t.merchant_name.clone().unwrap_or_default(),
        "respCode": code,
        "respCodeDesc": description,
    })
}

/// Transaction statuses as the docs print them (`Pending`).
fn status_name(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Pending => "Pending",
        TransactionStatus::Success => "Success",
        TransactionStatus::Failed => "Failed",
        TransactionStatus::Reversed => "Reversed",
    }
}

/// Transaction types (`Expenditure` in the docs; the others are the sandbox's).
fn type_name(kind: TransactionKind) -> &'static str {
    match kind {
        TransactionKind::Authorization | TransactionKind::Clearing => "Expenditure",
        TransactionKind::Reversal => "Reversal",
        TransactionKind::Refund => "Refund",
        TransactionKind::Recharge => "Recharge",
        TransactionKind::CloseRefund => "CloseRefund",
        TransactionKind::Return => "Return",
    }
}

/// `currency` (required; "default USD" in the docs is the cards' currency) must be the card's.
fn check_currency(body: &Fields<'_>, card: &Card) -> Result<(), OpError> {
    let code = body.text("currency", 1, 5)?;
    if Currency::new(code).ok().as_ref() == Some(&card.currency) {
        Ok(())
    } else {
        Err(OpError::field(
            "currency",
            format!("the card's currency is {}", card.currency),
        ))
    }
}
