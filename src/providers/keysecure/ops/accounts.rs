//! Cardholder accounts (credit extension, TUSDT with two decimals): `account/transfer` (In from
//! the merchant, Out back to it; `transfer_unique_no` makes it idempotent),
//! `account/{cardholder_no}/info` and `account/transfer/list`.

use serde_json::{Value, json};

use super::{Context, cardholder, millis, time_window};
use crate::providers::keysecure::settings::ErrorKind;
use crate::providers::keysecure::wire::{Input, OpError, page_of, paging};
use crate::world::holder_accounts::{Direction, HolderTransfer};
use crate::world::ledger::LedgerError;
use crate::world::{Currency, KycStatus, World};

/// The only account currency.
const CURRENCY: &str = "TUSDT";

fn tusdt() -> Result<Currency, OpError> {
    Currency::new(CURRENCY)
        .map_err(|e| OpError::new(ErrorKind::SystemError).with_reason(e.to_string()))
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::In => "In",
        Direction::Out => "Out",
    }
}

fn answer(t: &HolderTransfer) -> Value {
    json!({
        "transfer_no": t.id,
        "transfer_unique_no": t.merchant_ref,
        "before_balance": t.before.to_string(),
        "after_balance": t.after.to_string(),
    })
}

/// `{cardholder_no, transfer_unique_no, type: In|Out, balance}` → `{transfer_no,
/// transfer_unique_no, before_balance, after_balance}`.
pub fn transfer(_: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let body = &input.body;
    let holder_no = body.text("cardholder_no", 1, 64)?;
    let unique_no = body.text("transfer_unique_no", 1, 64)?;
    let direction = match body.text("type", 1, 8)? {
        "In" => Direction::In,
        "Out" => Direction::Out,
        _ => return Err(OpError::field("type", "must be In or Out")),
    };
    let amount = body.amount("balance", &tusdt()?)?;
    let holder = cardholder(world, holder_no)?;
    if let Some(earlier) = world
        .holder_transfers()
        .iter()
        .find(|t| t.merchant_ref == unique_no)
    {
        // The same transfer again answers as the first time; other values are a conflict.
        if earlier.holder_id == holder.id
            && earlier.direction == direction
            && earlier.amount == amount
        {
            return Ok(answer(earlier));
        }
        return Err(OpError::new(ErrorKind::TransferUniqueConflict).with_field(unique_no));
    }
    if holder.kyc.status != KycStatus::Passed {
        return Err(OpError::new(ErrorKind::CardholderNotApproved).with_field(holder_no));
    }
    let holder_id = holder.id.clone();
    let transfer = world
        .transfer_with_holder(&holder_id, direction, &amount, unique_no)
        .map_err(|e| match e {
            LedgerError::InsufficientAccount { .. } => OpError::new(ErrorKind::InsufficientBalance)
                .with_reason(format!("the merchant account: {e}")),
            LedgerError::InsufficientCard { available, needed } => {
                OpError::new(ErrorKind::InsufficientBalance).with_reason(format!(
                    "the cardholder account holds {available}, {needed} needed"
                ))
            }
            other => OpError::new(ErrorKind::SystemError).with_reason(other.to_string()),
        })?;
    Ok(answer(&transfer))
}

/// `GET account/{cardholder_no}/info` → `{cardholder_no, list: [{currency, balance}]}`.
pub fn info(_: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let holder = cardholder(world, input.param())?;
    let currency = tusdt()?;
    let balance = world.holder_account(&holder.id, &currency);
    Ok(json!({
        "cardholder_no": holder.id,
        "list": [{ "currency": currency.code(), "balance": balance.to_string() }],
    }))
}

/// `{cardholder_no?, transfer_unique_no?, type?, start_time, end_time, page, size}` → a page
/// of transfers in the window, oldest first.
pub fn transfers(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let holder = body.optional_text("cardholder_no", 1, 64)?;
    let unique_no = body.optional_text("transfer_unique_no", 1, 64)?;
    let kind = body.optional_text("type", 1, 8)?;
    let (start, end) = time_window(context, input)?;
    let (page, size) = paging(body)?;
    let items: Vec<_> = world
        .holder_transfers()
        .iter()
        .filter(|t| t.at >= start && t.at <= end)
        .filter(|t| holder.is_none_or(|h| t.holder_id == h))
        .filter(|t| unique_no.is_none_or(|u| t.merchant_ref == u))
        .filter(|t| kind.is_none_or(|k| direction_name(t.direction) == k))
        .collect();
    Ok(page_of(items, page, size, |t| {
        json!({
            "transfer_no": t.id,
            "transfer_unique_no": t.merchant_ref,
            "cardholder_no": t.holder_id,
            "type": direction_name(t.direction),
            "balance": t.amount.to_string(),
            "currency": t.amount.currency().code(),
            "before_balance": t.before.to_string(),
            "after_balance": t.after.to_string(),
            "time": millis(t.at),
        })
    }))
}
