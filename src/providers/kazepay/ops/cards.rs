//! Card lifecycle: `ucardAssign`, `ucardActive`, `cardSetPin`, `queryCard`, `getCardId`,
//! `updCardStatus`, `closeCard`, and the virtual `createCard` / `createCardQuery`.
//!
//! What each status allows is in [`allows`]; processing states (ACTIVE_PROCESSING,
//! CLOSE_PROCESSING, AUDITING) settle after the profile's delays on the sandbox clock.

use serde_json::Value;

use super::{AnswerFields, Context, fields};
use crate::providers::fields::Fields;
use crate::providers::kazepay::settings::ErrorKind;
use crate::providers::kazepay::wire::OpError;
use crate::world::timeline::Event;
use crate::world::{
    Activation, Card, CardForm, CardStatus, Cardholder, Currency, Kyc, KycStatus, World, ids,
};

/// The provider name cards carry as their `issuer`.
pub const ISSUER: &str = "kazepay";

/// Operations a card status permits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardAction {
    Activate,
    SetPin,
    Recharge,
    Freeze,
    Unfreeze,
    Close,
}

/// Whether a card in `status` permits `action`.
pub fn allows(status: CardStatus, action: CardAction) -> bool {
    use CardStatus::*;
    match action {
        CardAction::Activate => status == Inactive,
        CardAction::SetPin => matches!(status, Inactive | Activating | Active | Frozen),
        CardAction::Recharge => matches!(status, Inactive | Activating | Active | Frozen),
        CardAction::Freeze => status == Active,
        CardAction::Unfreeze => status == Frozen,
        CardAction::Close => matches!(status, Inactive | Active | Frozen | Lost),
    }
}

/// A KazePay card of this tenant by `cardID`.
pub fn card<'w>(world: &'w World, body: &Fields<'_>) -> Result<&'w Card, OpError> {
    let id = body.text("cardID", 1, 64)?;
    world
        .cards()
        .get(id)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER) && c.status != CardStatus::Stock)
        .ok_or_else(|| OpError::new(ErrorKind::CardNotFound))
}

/// Refuses `action` on `card` with CARD_STATUS_ERROR naming its status.
pub fn require(context: &Context<'_>, card: &Card, action: CardAction) -> Result<(), OpError> {
    if allows(card.status, action) {
        Ok(())
    } else {
        Err(OpError::new(ErrorKind::InvalidState)
            .with_reason(context.settings.card_status(card.status)))
    }
}

/// `{email, cardNumber, autoActive}` → `{cardID}`: gives a stock physical card to a user.
pub fn assign(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let email = body.text("email", 1, 128)?;
    let number = body.text("cardNumber", 1, 19)?;
    let auto_active = body.flag("autoActive")?;
    let holder = world
        .cardholder_by_email(email, Some(ISSUER))
        .ok_or_else(|| OpError::new(ErrorKind::UserNotFound))?;
    if auto_active && holder.kyc.status != KycStatus::Passed {
        return Err(OpError::new(ErrorKind::KycNotPassed));
    }
    let holder_id = holder.id.clone();
    let card = world
        .card_by_pan(number)
        .filter(|c| {
            c.issuer.as_deref() == Some(ISSUER)
                && c.form == CardForm::Physical
                && c.status == CardStatus::Stock
        })
        .ok_or_else(|| OpError::new(ErrorKind::CardUnavailable).with_field(number))?;
    let card_id = card.id.clone();
    let now = world.now();
    let code = (!auto_active).then(|| ids::digits(world.rng(), 8));
    if let Some(mut card) = world.card_mut(&card_id) {
        card.cardholder_id = Some(holder_id);
        card.activation = code.map(|code| Activation {
            code,
            revealed: false,
        });
    }
    if auto_active {
        world.set_card_status(&card_id, CardStatus::Activating, now);
        settle_later(
            world,
            &card_id,
            context.settings.delays.activation,
            CardStatus::Active,
        );
    } else {
        world.set_card_status(&card_id, CardStatus::Inactive, now);
    }
    Ok(fields([("cardID", Value::String(card_id))]))
}

/// `{cardID, activationCode}` → `{cardID, status: ACTIVE_PROCESSING}`; KYC must have passed.
pub fn activate(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let code = body.text("activationCode", 1, 32)?;
    let card = card(world, body)?;
    require(context, card, CardAction::Activate)?;
    let passed = world
        .holder_of(card)
        .is_some_and(|h| h.kyc.status == KycStatus::Passed);
    if !passed {
        return Err(OpError::new(ErrorKind::KycNotPassed));
    }
    if card.activation.as_ref().is_none_or(|a| a.code != code) {
        return Err(OpError::new(ErrorKind::ActivationCode));
    }
    let card_id = card.id.clone();
    let now = world.now();
    world.set_card_status(&card_id, CardStatus::Activating, now);
    settle_later(
        world,
        &card_id,
        context.settings.delays.activation,
        CardStatus::Active,
    );
    Ok(card_and_status(context, card_id, CardStatus::Activating))
}

/// `{cardID, pin}` → `{}`; the PIN is exactly six digits.
pub fn set_pin(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let pin = body.text("pin", 1, 6)?;
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OpError::field("pin", "must be a six-digit number"));
    }
    let card = card(world, body)?;
    require(context, card, CardAction::SetPin)?;
    let card_id = card.id.clone();
    if let Some(mut card) = world.card_mut(&card_id) {
        card.pin = Some(pin.to_owned());
    }
    Ok(AnswerFields::new())
}

/// `{cardID}` → the card's number, CVV (virtual cards only), expiry `YYMM`, status, holder
/// contact and billing address.
pub fn query(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let card = card(world, body)?;
    let holder = world.holder_of(card);
    let phone = holder.and_then(|h| h.phone.as_ref());
    let billing = &context.settings.billing;
    let text = |s: &str| Value::String(s.to_owned());
    let mut out = fields([("cardID", text(&card.id)), ("cardNo", text(&card.pan))]);
    if card.form == CardForm::Virtual {
        out.insert("cardCvv".to_owned(), text(&card.cvv));
    }
    out.extend(fields([
        ("expiryDate", text(&card.expiry.yymm())),
        ("currency", text(card.currency.code())),
        (
            "userBankCardStatus",
            text(&context.settings.card_status(card.status)),
        ),
        (
            "cardHolderEmail",
            text(holder.and_then(|h| h.email.as_deref()).unwrap_or_default()),
        ),
        (
            "cardHolderMobileNumber",
            text(phone.map(|p| p.number.as_str()).unwrap_or_default()),
        ),
        (
            "cardHolderMobilePrefix",
            text(phone.map(|p| p.country_code.as_str()).unwrap_or_default()),
        ),
        ("countryCode", text(&billing.country_code)),
        ("billingState", text(&billing.state)),
        ("billingCity", text(&billing.city)),
        ("billingAddress", text(&billing.address)),
        ("billingZipCode", text(&billing.zip_code)),
    ]));
    Ok(out)
}

/// `{cardNo}` → `{cardID, cardNo}`.
pub fn card_id(
    _: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let number = body.text("cardNo", 1, 19)?;
    let card = world
        .card_by_pan(number)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER) && c.status != CardStatus::Stock)
        .ok_or_else(|| OpError::new(ErrorKind::CardNotFound))?;
    Ok(fields([
        ("cardID", Value::String(card.id.clone())),
        ("cardNo", Value::String(card.pan.clone())),
    ]))
}

/// `{cardID, status: ACTIVE|INACTIVE}` → `{cardID, status}`: unfreeze or freeze.
pub fn update_status(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let wanted = body.one_of("status", &["ACTIVE", "INACTIVE"])?;
    let card = card(world, body)?;
    let (action, to) = if wanted == "ACTIVE" {
        (CardAction::Unfreeze, CardStatus::Active)
    } else {
        (CardAction::Freeze, CardStatus::Frozen)
    };
    require(context, card, action)?;
    let card_id = card.id.clone();
    let now = world.now();
    world.set_card_status(&card_id, to, now);
    Ok(card_and_status(context, card_id, to))
}

/// `{cardID}` → `{cardID, status: CLOSE_PROCESSING, refundAmt, currency, txnId}`: the available
/// balance goes back to the merchant account when the close settles. Pending authorizations
/// must clear first.
pub fn close(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let card = card(world, body)?;
    require(context, card, CardAction::Close)?;
    if card.blocked.is_positive() {
        return Err(
            OpError::new(ErrorKind::InvalidState).with_reason("holding pending authorizations")
        );
    }
    let recharging = world
        .transactions()
        .of_card(&card.id)
        .any(|t| t.is_transfer_in_flight());
    if recharging {
        return Err(OpError::new(ErrorKind::InvalidState).with_reason("receiving a recharge"));
    }
    let card_id = card.id.clone();
    let (txn_id, refund) = world
        .start_close_refund(&card_id)
        .map_err(|e| OpError::new(ErrorKind::SystemBusy).with_reason(e.to_string()))?;
    let now = world.now();
    world.set_card_status(&card_id, CardStatus::Closing, now);
    let due = now
        .saturating_add(context.settings.delays.close)
        .unwrap_or(now);
    world.schedule(
        due,
        Event::SettleTransfer {
            transaction_id: txn_id.clone(),
        },
    );
    settle_later(
        world,
        &card_id,
        context.settings.delays.close,
        CardStatus::Closed,
    );
    let mut answer = card_and_status(context, card_id, CardStatus::Closing);
    answer.extend(fields([
        ("refundAmt", Value::String(refund.to_string())),
        (
            "currency",
            Value::String(refund.currency().code().to_owned()),
        ),
        ("txnId", Value::String(txn_id)),
    ]));
    Ok(answer)
}

/// `{email, mobileNumber, mobilePrefix, cardBin, cardLevel?}` → `{cardID, status: AUDITING}`:
/// a virtual USD card, reviewed for the profile's delay.
pub fn create_virtual(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let email = body.text("email", 1, 128)?;
    let (number, prefix) = super::mobile(body)?;
    let bin = body.text("cardBin", 1, 8)?;
    let length = *context.settings.virtual_card_bins.get(bin).ok_or_else(|| {
        let known: Vec<&str> = context
            .settings
            .virtual_card_bins
            .keys()
            .map(String::as_str)
            .collect();
        OpError::field("cardBin", format!("must be one of {}", known.join(", ")))
    })?;
    // cardLevel (default "01") is checked but has no effect in the sandbox.
    body.optional_text("cardLevel", 1, 8)?;
    let usd = Currency::new("USD")
        .map_err(|e| OpError::new(ErrorKind::SystemBusy).with_reason(e.to_string()))?;
    let pan = world.unused_pan(bin, length).ok_or_else(|| {
        OpError::new(ErrorKind::SystemBusy).with_reason(crate::world::NO_FREE_NUMBER)
    })?;
    // Everything is checked: from here on the card is made.
    let now = world.now();
    let holder_id = match world.cardholder_by_email(email, Some(ISSUER)) {
        Some(holder) => holder.id.clone(),
        None => {
            let id = super::new_user_id(world);
            let phone = crate::world::Phone {
                country_code: prefix.to_owned(),
                number: number.to_owned(),
                country: None,
            };
            world
                .cardholders
                .insert(id.clone(), contact_only(&id, email, phone, now));
            id
        }
    };
    let card_id = loop {
        let candidate = (10_000 + world.next_number()).to_string();
        if !world.cards().contains_key(&candidate) {
            break candidate;
        }
    };
    let card = Card {
        cardholder_id: Some(holder_id),
        ..Card::ordered(
            card_id.clone(),
            ISSUER,
            pan,
            ids::cvv(world.rng()),
            usd,
            now,
        )
    };
    world
        .insert_card(card)
        .map_err(|_| OpError::new(ErrorKind::SystemBusy))?;
    settle_later(
        world,
        &card_id,
        context.settings.delays.virtual_card_review,
        CardStatus::Active,
    );
    Ok(card_and_status(context, card_id, CardStatus::Pending))
}

/// `{cardID}` → `{cardID, status}` of a virtual card under review or done.
pub fn query_virtual(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let card = card(world, body)?;
    Ok(card_and_status(context, card.id.clone(), card.status))
}

/// Schedules `card_id` to settle into `to` after `delay` of sandbox time.
/// Nothing happens if the card's status changes meanwhile (a freeze by the issuer, say).
fn settle_later(world: &mut World, card_id: &str, delay: jiff::SignedDuration, to: CardStatus) {
    let Some(from) = world.cards().get(card_id).map(|c| c.status) else {
        return;
    };
    let now = world.now();
    let due = now.saturating_add(delay).unwrap_or(now);
    world.schedule(
        due,
        Event::SettleCard {
            card_id: card_id.to_owned(),
            from,
            to,
        },
    );
}

/// `{cardID, status}` with the status's wire name.
fn card_and_status(context: &Context<'_>, card_id: String, status: CardStatus) -> AnswerFields {
    fields([
        ("cardID", Value::String(card_id)),
        (
            "status",
            Value::String(context.settings.card_status(status)),
        ),
    ])
}

/// A cardholder known only by contact details (virtual cards need no KYC).
fn contact_only(
    id: &str,
    email: &str,
    phone: crate::world::Phone,
    now: jiff::Timestamp,
) -> Cardholder {
    Cardholder {
        id: id.to_owned(),
        issuer: Some(ISSUER.to_owned()),
        merchant_ref: None,
        first_name: String::new(),
        last_name: String::new(),
        email: Some(email.to_owned()),
        phone: Some(phone),
        id_document: None,
        birthday: None,
        gender: None,
        nationality: None,
        address: None,
        kyc: Kyc::settled(KycStatus::Pending, None, now),
        created_at: now,
    }
}
