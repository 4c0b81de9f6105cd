//! Cardholders: `cardholder/apply` (create, or update by `cardholder_no`; `cardholder_unique_no`
//! makes a create idempotent), `cardholder/list` (a time window of at most 90 days) and
//! `cardholder/{cardholder_no}/info` (balance, cards, accounts).
//!
//! KYC comes as a Sumsub share token the sandbox cannot read: the review's outcome comes from
//! the scenario's review rules (on the unique number and the token) after their delay, or from
//! the control API.

use serde_json::{Value, json};

use super::{
    Context, ISSUER, cardholder, holder_by_unique_no, holder_status, holder_unique_no, millis,
    status_name, time_window,
};
use crate::providers::keysecure::settings::ErrorKind;
use crate::providers::keysecure::wire::{Input, OpError, page_of, paging};
use crate::world::review::{Applicant, Explained};
use crate::world::timeline::Event;
use crate::world::{Cardholder, Currency, Funding, Kyc, KycStatus, Money, World, ids};

/// `{cardholder_no?, cardholder_unique_no, sumsub_share_token}` → `{cardholder_no,
/// cardholder_unique_no}`.
pub fn apply(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let cardholder_no = body.optional_text("cardholder_no", 1, 64)?;
    let unique_no = body.text("cardholder_unique_no", 1, 64)?;
    let token = body.text("sumsub_share_token", 1, 4096)?;
    if token.len() < 8
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-=".contains(&b))
    {
        return Err(OpError::new(ErrorKind::InvalidKycToken)
            .with_field("sumsub_share_token")
            .with_reason("not a Sumsub share token (8+ of A-Z a-z 0-9 . _ - =)"));
    }
    let owner = holder_by_unique_no(world, unique_no).map(|h| h.id.clone());
    let id = match (cardholder_no, owner) {
        // A create with a known unique number is the same request again.
        (None, Some(existing)) => return Ok(answer(&world.cardholders[&existing])),
        (None, None) => loop {
            let candidate = format!("CH{}", ids::digits(world.rng(), 16));
            if !world.cardholders.contains_key(&candidate) {
                break candidate;
            }
        },
        (Some(no), owner) => {
            let holder = cardholder(world, no)?;
            if owner.as_deref().is_some_and(|o| o != holder.id) {
                return Err(OpError::new(ErrorKind::CardholderUniqueTaken).with_field(unique_no));
            }
            if holder.kyc.status == KycStatus::Pending {
                return Err(OpError::new(ErrorKind::CardholderInReview).with_field(no));
            }
            holder.id.clone()
        }
    };
    submit(context, world, &id, unique_no, token);
    Ok(answer(&world.cardholders[&id]))
}

/// Records the application and starts its review.
fn submit(context: &Context<'_>, world: &mut World, id: &str, unique_no: &str, token: &str) {
    let now = world.now();
    // KeySecure knows no names: magic names match the merchant's reference for the person.
    let applicant = Applicant {
        name: unique_no,
        reference: unique_no,
        token,
        ..Applicant::default()
    };
    let ruling = context
        .settings
        .review
        .decide(&world.rules.reviews, &applicant);
    let due = now.saturating_add(ruling.after).unwrap_or(now);
    let after = ruling.after;
    let review = ruling.review(due, Explained::Rejections);
    let kyc = Kyc::submitted(now, vec![token.to_owned()], Some(review), None);
    if let Some(mut holder) = world.cardholders.get_mut(id) {
        holder.merchant_ref = Some(unique_no.to_owned());
        holder.kyc = kyc;
    } else {
        world.cardholders.insert(
            id.to_owned(),
            Cardholder {
                issuer: Some(ISSUER.to_owned()),
                merchant_ref: Some(unique_no.to_owned()),
                ..Cardholder::named(id, "", "", kyc, now)
            },
        );
    }
    world.schedule(
        due,
        Event::DecideKyc {
            cardholder_id: id.to_owned(),
            submitted_at: now,
        },
    );
    if after.is_zero() {
        world.catch_up();
    }
}

fn answer(holder: &Cardholder) -> Value {
    json!({ "cardholder_no": holder.id, "cardholder_unique_no": holder_unique_no(holder) })
}

/// One cardholder as list items show it.
fn item(holder: &Cardholder) -> Value {
    json!({
        "cardholder_no": holder.id,
        "cardholder_unique_no": holder_unique_no(holder),
        "email": holder.email,
        "fail_reason": if holder.kyc.status == KycStatus::Rejected { holder.kyc.reason.clone() } else { None },
        "status": holder_status(holder.kyc.status),
        "time": millis(holder.created_at),
    })
}

/// `{cardholder_no?, cardholder_unique_no?, start_time, end_time, page, size}` → a page of
/// cardholders created in the window, oldest first.
pub fn list(context: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let body = &input.body;
    let cardholder_no = body.optional_text("cardholder_no", 1, 64)?;
    let unique_no = body.optional_text("cardholder_unique_no", 1, 64)?;
    let (start, end) = time_window(context, input)?;
    let (page, size) = paging(body)?;
    let mut holders: Vec<&Cardholder> = world
        .cardholders
        .values()
        .filter(|h| h.serves(ISSUER) && h.created_at >= start && h.created_at <= end)
        .filter(|h| cardholder_no.is_none_or(|no| h.id == no))
        .filter(|h| unique_no.is_none_or(|u| holder_unique_no(h) == u))
        .collect();
    holders.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(page_of(holders, page, size, item))
}

/// `GET cardholder/{cardholder_no}/info` → the cardholder with its total balance (USD), its
/// cards and its accounts.
pub fn info(_: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let holder = cardholder(world, input.param())?;
    let cards: Vec<Value> = world
        .cards_of_holder(&holder.id)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER))
        .map(|c| {
            json!({
                "card_no": c.id,
                "card_unique_no": c.merchant_ref.clone().unwrap_or_else(|| c.id.clone()),
                "card_type": super::cards::card_type(c),
                "card_last_no": super::cards::last_digits(c),
                "status": status_name(c.status),
            })
        })
        .collect();
    let accounts = world.holder_accounts.get(&holder.id);
    // Balances in USD and USD-pegged TUSDT count one for one; cards on their own balance too.
    let own_cards: i64 = world
        .cards_of_holder(&holder.id)
        .filter(|c| c.funding == Funding::Own)
        .map(|c| c.available.minor())
        .sum();
    let account_total: i64 = accounts.map_or(0, |a| a.values().map(Money::minor).sum());
    let account_list: Vec<Value> = accounts
        .map(|a| {
            a.iter()
                .map(|(currency, balance)| json!({ "currency": currency.code(), "balance": balance.to_string() }))
                .collect()
        })
        .unwrap_or_default();
    let usd = Currency::new("USD")
        .map_err(|e| OpError::new(ErrorKind::SystemError).with_reason(e.to_string()))?;
    Ok(json!({
        "cardholder_no": holder.id,
        "cardholder_unique_no": holder_unique_no(holder),
        "email": holder.email,
        "status": holder_status(holder.kyc.status),
        "total_balance": Money::from_minor(own_cards + account_total, usd).to_string(),
        "time": millis(holder.created_at),
        "card_list": cards,
        "account_list": account_list,
    }))
}
