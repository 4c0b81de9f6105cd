//! Cards: `/issuing/card/apply` (seed 002), `query-apply-card-result`, `query-card-info`,
//! `revoke`, and the sandbox's `freeze`, `unfreeze` and `report-loss`.
//!
//! An application creates an order and a card in production at once. The order completes
//! within the call when production takes no time and the holder passed audit; otherwise it
//! stays processing and completes (or fails) later, told by `query-apply-card-result` and the
//! apply-result webhook.

use serde_json::{Map, Value};

use super::holders::{self, ISSUER, Identity};
use super::{Context, account_num_for, card, check_order_no, long, map, object, require, token_of};
use crate::providers::fields::Fields;
use crate::providers::pagsmile::settings::{ErrorKind, Settings, number_of};
use crate::providers::pagsmile::wire::{Answer, OpError};
use crate::world::card::Limits;
use crate::world::ledger::{Posting, TransactionKind, TransactionStatus};
use crate::world::orders::{Order, OrderState};
use crate::world::timeline::{Event, Notification};
use crate::world::{Card, CardStatus, Currency, KycStatus, Money, World, ids};

/// The only card scheme the API accepts ("Fix Value: 3").
const CARD_SCHEME: i64 = 3;

/// The holder of a new card: an existing, approved one, or one to create.
enum Holder {
    Existing(String),
    New(Box<Identity>),
}

/// A checked application.
struct Application {
    order_no: String,
    form: crate::world::CardForm,
    bin: String,
    length: usize,
    share_card: bool,
    shared_account: Option<String>,
    initial_balance: Option<Money>,
    remark: Option<String>,
    limits: Option<Limits>,
    holder: Holder,
}

/// Seed 002's biz_data → the order: `{card_id, holder_id, holder_name, order_no, order_status,
/// order_count, card_token, card_pan, card_scheme, card_type, is_share_card, card_bin}`.
pub fn apply(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let application = read_application(context, world, fields)?;
    let order_key = check_order_no(world, &application.order_no)?;
    let usd = usd()?;
    if let Some(amount) = &application.initial_balance {
        let account = world.account(&usd);
        if account.minor() < amount.minor() {
            return Err(
                OpError::new(ErrorKind::InsufficientBalance).with_reason(format!(
                    "the pay account holds {account}, initial_balance needs {amount}"
                )),
            );
        }
    }
    let pan = world
        .unused_pan(&application.bin, application.length)
        .ok_or_else(|| {
            OpError::new(ErrorKind::Unavailable).with_reason(crate::world::NO_FREE_NUMBER)
        })?;
    // Everything is checked: from here on the application succeeds.
    let holder_id = match application.holder {
        Holder::Existing(id) => id,
        Holder::New(identity) => holders::register(context.settings, world, *identity, None),
    };
    let now = world.now();
    let card_id = loop {
        let candidate = (30_000_000 + world.next_number()).to_string();
        if !world.cards().contains_key(&candidate) {
            break candidate;
        }
    };
    let token = format!("CT{}", ids::digits(world.rng(), 18));
    let cvv = ids::cvv(world.rng());
    let acs_password = ids::digits(world.rng(), 6);
    let account_num = application
        .shared_account
        .clone()
        .unwrap_or_else(|| account_num_for(&card_id));
    world
        .insert_card(Card {
            token: Some(token),
            cardholder_id: Some(holder_id.clone()),
            form: application.form,
            limits: application.limits.map(Box::new),
            ..Card::ordered(card_id.clone(), ISSUER, pan, cvv, usd, now)
        })
        .map_err(|e| OpError::new(ErrorKind::Unavailable).with_reason(format!("{e:?}")))?;
    let funding = match &application.initial_balance {
        Some(amount) => Some(world.start_recharge(&card_id, amount).map_err(|e| {
            OpError::new(ErrorKind::InsufficientBalance).with_reason(e.to_string())
        })?),
        None => None,
    };
    let ready_at = now
        .saturating_add(context.settings.card_production)
        .unwrap_or(now);
    let order_no = application.order_no;
    world.insert_order(Order {
        order_no: order_no.clone(),
        issuer: ISSUER.to_owned(),
        holder_id,
        card_id,
        state: OrderState::Processing,
        count: 1,
        share_card: application.share_card,
        shared_account: application.shared_account,
        pay_account: context.app.credentials.pay_account_num.clone(),
        funding,
        remark: application.remark,
        account_num,
        acs_password,
        failure: None,
        created_at: now,
        finished_at: None,
        ready_at,
    });
    world.use_key(order_key);
    world.schedule(
        ready_at,
        Event::FinishOrder {
            order_no: order_no.clone(),
        },
    );
    if context.settings.card_production.is_zero() {
        // "Synchronous interface": produced within the call when nothing makes it wait.
        world.catch_up();
    }
    let order = &world.orders()[&order_no];
    let card_id = (order.state == OrderState::Completed).then(|| long(&order.card_id));
    let mut answer = map([("card_id", card_id.unwrap_or(Value::Null))]);
    answer.extend(order_fields(context.settings, world, order));
    Ok(Answer::Object(answer))
}

/// `{order_no}` → the order, with the card once produced.
pub fn query_apply_result(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let order_no = fields.text("order_no", 1, 64)?;
    let order = world
        .orders()
        .get(order_no)
        .filter(|o| o.issuer == ISSUER)
        .ok_or_else(|| OpError::new(ErrorKind::OrderNotFound).with_field(order_no))?;
    let initial = order
        .funding
        .as_ref()
        .and_then(|id| world.transactions().get(id))
        .map_or_else(|| "0.00".to_owned(), |t| t.amount.to_string());
    let mut answer = order_fields(context.settings, world, order);
    answer.extend(map([
        ("pay_account_num", Value::String(order.pay_account.clone())),
        ("initial_balance", Value::String(initial)),
        ("card_remark", Value::from(order.remark.clone())),
    ]));
    Ok(Answer::Object(answer))
}

/// `{card_token}` → the card's details, PAN, CVV and 3-D Secure password included.
pub fn query_info(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let settings = context.settings;
    let card = card(world, fields)?;
    let holder = world.holder_of(card);
    let order = world.order_of_card(&card.id);
    let active_time = order.and_then(|o| o.finished_at).unwrap_or(card.created_at);
    Ok(object([
        (
            "holder_id",
            card.cardholder_id.as_deref().map_or(Value::Null, long),
        ),
        ("holder_name", Value::from(holder.map(|h| h.full_name()))),
        ("card_id", long(&card.id)),
        ("card_scheme", Value::from(CARD_SCHEME)),
        (
            "expired_date",
            Value::String(format!(
                "{:02}/{:02}",
                card.expiry.month,
                card.expiry.year.rem_euclid(100)
            )),
        ),
        ("active_time", Value::String(settings.time(active_time))),
        ("card_type", card_type(settings, card)),
        ("card_token", Value::String(token_of(card).to_owned())),
        ("card_pan", Value::String(card.pan.clone())),
        ("cvv", Value::String(card.cvv.clone())),
        (
            "acs_password",
            Value::from(order.map(|o| o.acs_password.clone())),
        ),
        (
            "card_status",
            Value::from(settings.card_status.code(card.status)),
        ),
        (
            "virtual",
            Value::Bool(card.form == crate::world::CardForm::Virtual),
        ),
    ]))
}

/// `{card_token}` → no data. Irreversible: pending authorizations clear first, then the rest
/// of the balance returns to the issuing account and the card is revoked.
pub fn revoke(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let card = card(world, fields)?;
    require(
        context,
        card,
        &[CardStatus::Active, CardStatus::Frozen, CardStatus::Lost],
    )?;
    let card_id = card.id.clone();
    let positive = |m: &Money| Money::from_minor(m.minor().abs(), m.currency().clone());
    // Each pending authorization settles as it was authorized: amount, fee, shop.
    let clearings: Vec<Posting> = world
        .transactions()
        .of_card(&card_id)
        .filter(|t| {
            t.kind == TransactionKind::Authorization && t.status == TransactionStatus::Pending
        })
        .map(|t| Posting {
            card_id: card_id.clone(),
            kind: TransactionKind::Clearing,
            amount: positive(&t.amount),
            original_amount: t.original_amount.clone(),
            fee: positive(&t.fee),
            merchant_name: t.merchant_name.clone(),
            mcc: t.mcc.clone(),
            authorization_id: Some(t.id.clone()),
            id: None,
            declined_by_merchant: None,
        })
        .collect();
    let refused = |e: crate::world::ledger::LedgerError| {
        OpError::new(ErrorKind::Unavailable).with_reason(e.to_string())
    };
    let now = world.now();
    for clearing in clearings {
        let cleared = world.post_transaction(clearing).map_err(refused)?;
        world.notify(
            now,
            Notification::TransactionPosted {
                transaction_id: cleared,
            },
        );
    }
    let (refund, _) = world.start_close_refund(&card_id).map_err(refused)?;
    world.settle_transfer(&refund, now).map_err(refused)?;
    world.set_card_status(&card_id, CardStatus::Closed, now);
    Ok(Answer::Nothing)
}

/// The masked PAN the API shows outside card details: `658704******0112`.
pub fn masked_pan(pan: &str) -> String {
    if pan.len() < 10 {
        return pan.to_owned();
    }
    format!(
        "{}{}{}",
        &pan[..6],
        "*".repeat(pan.len() - 10),
        &pan[pan.len() - 4..]
    )
}

/// The order's common fields; the card's token and PAN only once it is produced.
pub fn order_fields(settings: &Settings, world: &World, order: &Order) -> Map<String, Value> {
    let card = world.cards().get(&order.card_id);
    let holder = world.cardholders.get(&order.holder_id);
    let produced = order.state == OrderState::Completed;
    let shown =
        |value: Option<String>| Value::String(value.filter(|_| produced).unwrap_or_default());
    let status = match order.state {
        OrderState::Processing => settings.order_status.processing,
        OrderState::Completed => settings.order_status.completed,
        OrderState::Failed => settings.order_status.failed,
    };
    map([
        ("holder_id", long(&order.holder_id)),
        ("holder_name", Value::from(holder.map(|h| h.full_name()))),
        ("order_no", Value::String(order.order_no.clone())),
        ("order_status", Value::from(status)),
        ("order_count", Value::from(order.count)),
        ("card_token", shown(card.map(|c| token_of(c).to_owned()))),
        ("card_pan", shown(card.map(|c| masked_pan(&c.pan)))),
        ("card_scheme", Value::from(CARD_SCHEME)),
        (
            "card_type",
            card.map_or(Value::Null, |c| card_type(settings, c)),
        ),
        ("is_share_card", Value::Bool(order.share_card)),
        ("card_bin", Value::from(card.map(|c| card_bin(settings, c)))),
    ])
}

/// The dictionary's number for the card's form.
pub fn card_type(settings: &Settings, card: &Card) -> Value {
    Value::from(number_of(&settings.card_types, &card.form))
}

/// The profile's BIN the card's number starts with (its first six digits otherwise).
fn card_bin(settings: &Settings, card: &Card) -> String {
    settings
        .card_bins
        .keys()
        .find(|bin| card.pan.starts_with(bin.as_str()))
        .cloned()
        .unwrap_or_else(|| card.pan.chars().take(6).collect())
}

/// `{card_token}` → no data: a card in one of `from` goes to `to` (freeze, unfreeze,
/// report loss).
pub fn change_status(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
    from: &[CardStatus],
    to: CardStatus,
) -> Result<Answer, OpError> {
    let card = card(world, fields)?;
    require(context, card, from)?;
    let (id, now) = (card.id.clone(), world.now());
    world.set_card_status(&id, to, now);
    Ok(Answer::Nothing)
}

fn usd() -> Result<Currency, OpError> {
    Currency::new("USD")
        .map_err(|e| OpError::new(ErrorKind::Unavailable).with_reason(e.to_string()))
}

/// Checks every field of an application (nothing changes yet).
fn read_application(
    context: &Context<'_>,
    world: &World,
    fields: &Fields<'_>,
) -> Result<Application, OpError> {
    let settings = context.settings;
    let order_no = fields.text("order_no", 1, 64)?.to_owned();
    if fields.integer("card_scheme")? != CARD_SCHEME {
        return Err(OpError::field("card_scheme", "must be 3"));
    }
    let card_type = fields.integer("card_type")?;
    let form = *settings.card_types.get(&card_type).ok_or_else(|| {
        let known: Vec<String> = settings.card_types.keys().map(i64::to_string).collect();
        OpError::field("card_type", format!("must be one of {}", known.join(", ")))
    })?;
    let bin = fields
        .optional_text("card_bin", 1, 8)?
        .unwrap_or(&settings.default_bin)
        .to_owned();
    let length = *settings.card_bins.get(&bin).ok_or_else(|| {
        let known: Vec<&str> = settings.card_bins.keys().map(String::as_str).collect();
        OpError::field("card_bin", format!("must be one of {}", known.join(", ")))
    })?;
    let share_card = fields.optional_flag("is_share_card")?.unwrap_or(false);
    let shared_account = fields
        .optional_text("shared_account_num", 1, 64)?
        .map(str::to_owned);
    if shared_account.is_some() && !share_card {
        return Err(OpError::field(
            "shared_account_num",
            "is only for share cards (is_share_card true)",
        ));
    }
    if let Some(account) = fields.optional_text("pay_account_num", 1, 64)?
        && account != context.app.credentials.pay_account_num
    {
        return Err(OpError::new(ErrorKind::AccountNotFound).with_field(account));
    }
    let usd = usd()?;
    let initial_balance = fields
        .optional_amount("initial_balance", &usd)?
        .filter(Money::is_positive);
    let remark = fields
        .optional_text("card_remark", 1, 256)?
        .map(str::to_owned);
    let limits = match fields.object("card_limit")? {
        None => None,
        Some(limit) => Some(Limits {
            daily_transactions: u32::try_from(limit.integer("daily_transactions")?).map_err(
                |_| OpError::field("card_limit.daily_transactions", "must be 0 to 4294967295"),
            )?,
            single_amount: limit_amount(&limit, "single_amount", &usd)?,
            daily_amount: limit_amount(&limit, "daily_amount", &usd)?,
            monthly_amount: limit_amount(&limit, "monthly_amount", &usd)?,
            total_amount: limit.optional_amount("total_amount", &usd)?,
        }),
    };
    let holder = match (
        fields.optional_integer("holder_id")?,
        fields.object("holder")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(OpError::field(
                "holder",
                "give holder_id or holder, not both",
            ));
        }
        (Some(id), None) => {
            let holder = holders::holder(world, id)?;
            if holder.kyc.status != KycStatus::Passed {
                return Err(OpError::new(ErrorKind::HolderNotApproved)
                    .with_field(id.to_string())
                    .with_reason(format!("{:?}", holder.kyc.status).to_lowercase()));
            }
            Holder::Existing(holder.id.clone())
        }
        (None, Some(inline)) => {
            let identity = Identity::read(settings, world, &inline)?;
            identity.check_unique(world, None)?;
            Holder::New(Box::new(identity))
        }
        (None, None) => {
            return Err(OpError::new(ErrorKind::MissingArgument).with_field("holder_id"));
        }
    };
    Ok(Application {
        order_no,
        form,
        bin,
        length,
        share_card,
        shared_account,
        initial_balance,
        remark,
        limits,
        holder,
    })
}

/// A required limit amount (zero allowed: it forbids spending).
fn limit_amount(limit: &Fields<'_>, name: &str, usd: &Currency) -> Result<Money, OpError> {
    limit
        .optional_amount(name, usd)?
        .ok_or_else(|| crate::providers::fields::FieldProblem::missing(&limit.path(name)).into())
}

#[cfg(test)]
mod tests {
    use super::masked_pan;

    #[test]
    fn pans_are_masked_as_in_the_webhook_example() {
        assert_eq!(masked_pan("6587040000000112"), "658704******0112");
        assert_eq!(masked_pan("123"), "123");
    }
}
