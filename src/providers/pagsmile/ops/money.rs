//! Money on cards: `query-card-balance`, `query-remaining-limit`, `recharge` (the pay account
//! tops a card up) and `recharge-return` (part of the balance goes back). Both transfers are
//! immediate; every one goes through the world's ledger, which keeps the money invariant.

use jiff::civil::Date;
use serde_json::Value;

use super::{Context, account_num_for, card, check_order_no, map, object, require, token_of};
use crate::providers::fields::Fields;
use crate::providers::pagsmile::settings::ErrorKind;
use crate::providers::pagsmile::wire::{Answer, OpError};
use crate::world::ledger::LedgerError;
use crate::world::{Card, CardStatus, Currency, Money, World};

/// Card statuses money may move on.
const FUNDABLE: &[CardStatus] = &[CardStatus::Active, CardStatus::Frozen];

/// `{card_token}` → a list of the card's accounts (one) with balances, and `total`.
pub fn balance(_: &Context<'_>, world: &mut World, fields: &Fields<'_>) -> Result<Answer, OpError> {
    let card = card(world, fields)?;
    let balance = card
        .available
        .checked_add(&card.blocked)
        .unwrap_or_else(|_| card.available.clone());
    let name = world
        .holder_of(card)
        .map_or_else(|| token_of(card).to_owned(), |h| h.full_name());
    Ok(Answer::List(vec![Value::Object(map([
        ("account_name", Value::String(name)),
        ("account_num", Value::String(account_num(world, card))),
        ("currency", Value::String(card.currency.code().to_owned())),
        ("balance", Value::String(balance.to_string())),
        (
            "available_balance",
            Value::String(card.available.to_string()),
        ),
        ("block_amount", Value::String(card.blocked.to_string())),
    ]))]))
}

/// `{card_token, stat_date?}` → what the card used of its limits on that day (default today,
/// on the sandbox clock) and in its month, and what remains (`null` where no limit is set).
pub fn remaining_limit(
    _: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let card = card(world, fields)?;
    let today: Date = world.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let day = fields.optional_date("stat_date")?.unwrap_or(today);
    let usage = world.limit_usage(&card.id, day);
    let used =
        |minor: i64| Value::String(Money::from_minor(minor, card.currency.clone()).to_string());
    let remaining = |limit: Option<&Money>, spent: i64| {
        limit.map_or(Value::Null, |l| used((l.minor() - spent).max(0)))
    };
    let limits = card.limits.as_ref();
    let account = account_num(world, card);
    Ok(object([
        ("card_token", Value::String(token_of(card).to_owned())),
        ("account_num", Value::String(mask(&account))),
        (
            "daily_used_transactions",
            Value::from(usage.daily_transactions),
        ),
        ("daily_used_amount", used(usage.daily_amount)),
        ("monthly_used_amount", used(usage.monthly_amount)),
        ("total_used_amount", used(usage.total_amount)),
        (
            "daily_remaining_transactions",
            limits.map_or(Value::Null, |l| {
                Value::from(
                    l.daily_transactions
                        .saturating_sub(usage.daily_transactions),
                )
            }),
        ),
        (
            "daily_remaining_amount",
            remaining(limits.map(|l| &l.daily_amount), usage.daily_amount),
        ),
        (
            "monthly_remaining_amount",
            remaining(limits.map(|l| &l.monthly_amount), usage.monthly_amount),
        ),
        (
            "total_remaining_amount",
            remaining(
                limits.and_then(|l| l.total_amount.as_ref()),
                usage.total_amount,
            ),
        ),
    ]))
}

/// `{pay_account_num, card_token, order_no, amount, currency, reference}` → `{transaction_id}`:
/// the pay account's money reaches the card at once.
pub fn recharge(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let transfer = Transfer::read(context, world, fields, "pay_account_num")?;
    let available = world.account(transfer.amount.currency());
    if available.minor() < transfer.amount.minor() {
        return Err(
            OpError::new(ErrorKind::InsufficientBalance).with_reason(format!(
                "the pay account holds {available}, {} needed",
                transfer.amount
            )),
        );
    }
    let now = world.now();
    let id = world
        .start_recharge(&transfer.card_id, &transfer.amount)
        .and_then(|id| world.settle_transfer(&id, now).map(|()| id))
        .map_err(refused)?;
    world.use_key(transfer.order_key);
    Ok(object([("transaction_id", Value::String(id))]))
}

/// `{payee_account_num, card_token, order_no, amount, currency, reference}` →
/// `{transaction_id}`: part of the card's available balance goes back to the account at once.
pub fn recharge_return(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let transfer = Transfer::read(context, world, fields, "payee_account_num")?;
    let id = world
        .return_to_merchant(&transfer.card_id, &transfer.amount)
        .map_err(refused)?;
    world.use_key(transfer.order_key);
    Ok(object([("transaction_id", Value::String(id))]))
}

/// The checked fields of a recharge or a return.
struct Transfer {
    card_id: String,
    amount: Money,
    order_key: String,
}

impl Transfer {
    fn read(
        context: &Context<'_>,
        world: &World,
        fields: &Fields<'_>,
        account_field: &str,
    ) -> Result<Transfer, OpError> {
        // Every field is read before anything is looked up: a missing one is told first.
        let account = fields.optional_text(account_field, 1, 64)?;
        fields.text("card_token", 1, 64)?;
        let order_no = fields.text("order_no", 1, 64)?;
        let currency = Currency::new(fields.text("currency", 3, 3)?)
            .map_err(|e| OpError::field("currency", e.to_string()))?;
        let amount = fields.amount("amount", &currency)?;
        fields.optional_text("reference", 1, 128)?;
        if let Some(account) = account
            && account != context.app.credentials.pay_account_num
        {
            return Err(OpError::new(ErrorKind::AccountNotFound).with_field(account));
        }
        let card = card(world, fields)?;
        if currency != card.currency {
            return Err(OpError::field(
                "currency",
                format!("must be the card's currency, {}", card.currency.code()),
            ));
        }
        require(context, card, FUNDABLE)?;
        let order_key = check_order_no(world, order_no)?;
        Ok(Transfer {
            card_id: card.id.clone(),
            amount,
            order_key,
        })
    }
}

/// A refused movement: not enough money, or (which checks should have prevented) a status.
fn refused(error: LedgerError) -> OpError {
    match error {
        LedgerError::InsufficientAccount { .. } | LedgerError::InsufficientCard { .. } => {
            OpError::new(ErrorKind::InsufficientBalance).with_reason(error.to_string())
        }
        other => OpError::new(ErrorKind::CardStatus).with_reason(other.to_string()),
    }
}

/// The card's account number: its order's, or one made from its id.
fn account_num(world: &World, card: &Card) -> String {
    world
        .order_of_card(&card.id)
        .map_or_else(|| account_num_for(&card.id), |o| o.account_num.clone())
}

/// `CA30000001` → `CA30****01`: the first four and last two characters.
fn mask(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= 6 {
        return account.to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}
