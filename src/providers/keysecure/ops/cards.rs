//! Cards: `card/apply` (seed 004's rules), `card/list`, `card/{card_no}/detail` (with the
//! package's fee_detail), `card/{card_no}/private/info` (encrypted PAN, CVV, expiry),
//! `card/active` (physical cards, encrypted CVV), `card/status/update` (Frozen / Activated /
//! Delete), `card/pin/set` (encrypted PIN), and the products: `card/support/bins`
//! (authorization mode, seed 001) and `card/package/list` (credit extension).
//!
//! Lifecycle (Appendix 8.2): Pending (production, `delays.card_production`) → Activated
//! (virtual) or ToActivate (physical, until `card/active`); Fail; Activated ⇄ Frozen; Delete.

use serde_json::{Value, json};

use super::{Context, ISSUER, card, cardholder, millis, require};
use crate::providers::fields::Fields;
use crate::providers::keysecure::section::{IntegrationMode, Rule};
use crate::providers::keysecure::sensitive;
use crate::providers::keysecure::settings::ErrorKind;
use crate::providers::keysecure::wire::{Input, OpError, page_list, page_of, paging};
use crate::providers::strictness::Leniency;
use crate::world::addresses;
use crate::world::timeline::Event;
use crate::world::{Card, CardForm, CardStatus, Currency, Funding, KycStatus, World, ids};

/// Appendix 8.2's name for a status.
pub fn status_name(status: CardStatus) -> &'static str {
    match status {
        CardStatus::Stock | CardStatus::Pending | CardStatus::Activating => "Pending",
        CardStatus::Inactive => "ToActivate",
        CardStatus::Active => "Activated",
        CardStatus::Frozen | CardStatus::Lost => "Frozen",
        CardStatus::Closing | CardStatus::Closed => "Delete",
        CardStatus::Failed => "Fail",
    }
}

/// Appendix 8.3's name for a card's form.
pub fn card_type(card: &Card) -> &'static str {
    match card.form {
        CardForm::Virtual => "Virtual",
        CardForm::Physical => "Physical",
    }
}

/// The last four digits of the card number.
pub fn last_digits(card: &Card) -> String {
    card.pan
        .get(card.pan.len().saturating_sub(4)..)
        .unwrap_or_default()
        .to_owned()
}

/// What a card is made from.
struct Product {
    id: String,
    bin: String,
    length: usize,
    currency: Currency,
    funding: Funding,
}

/// Seed 004: `{card_bin_no | package_no, cardholder_no, card_type, card_unique_no,
/// address_info?}` → `{card_no, card_unique_no}`; the card is Pending while produced.
pub fn apply(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let form = match body.text("card_type", 1, 16)? {
        "Virtual" => CardForm::Virtual,
        "Physical" => CardForm::Physical,
        _ => return Err(OpError::field("card_type", "must be Virtual or Physical")),
    };
    let holder_no = body.text("cardholder_no", 1, 64)?;
    let unique_no = body.text("card_unique_no", 1, 64)?;
    let bin_no = body.optional_text("card_bin_no", 1, 64)?;
    let package_no = body.optional_text("package_no", 1, 64)?;
    let leniency = &context.key.leniency;
    check_address(body, form, leniency)?;
    let product = match (context.key.mode, bin_no, package_no) {
        (_, Some(_), Some(_)) if !leniency.relaxes(&Rule::OneOfBinOrPackage) => {
            return Err(OpError::field(
                "package_no",
                "must not be given with card_bin_no: provide one of the two (card_bin_no in authorization mode, package_no in credit extension mode)",
            )
            .breaking(Rule::OneOfBinOrPackage));
        }
        (_, None, None) => {
            return Err(OpError::field(
                "card_bin_no",
                "or package_no must be given (card_bin_no in authorization mode, package_no in credit extension mode)",
            ));
        }
        (IntegrationMode::Authorization, None, Some(_)) => {
            return Err(OpError::field(
                "card_bin_no",
                "is required in authorization mode",
            ));
        }
        (IntegrationMode::CreditExtension, Some(_), None) => {
            return Err(OpError::field(
                "package_no",
                "is required in credit extension mode",
            ));
        }
        (IntegrationMode::Authorization, Some(no), _) => bin_product(context, no, form)?,
        (IntegrationMode::CreditExtension, _, Some(no)) => package_product(context, no, form)?,
    };
    let holder = cardholder(world, holder_no)?;
    match holder.kyc.status {
        KycStatus::Passed => {}
        KycStatus::Pending => {
            return Err(OpError::new(ErrorKind::CardholderInReview).with_field(holder_no));
        }
        KycStatus::Rejected => {
            return Err(OpError::new(ErrorKind::CardholderNotApproved).with_field(holder_no));
        }
    }
    let holder_id = holder.id.clone();
    let taken = world
        .cards_with_ref(unique_no)
        .any(|c| c.issuer.as_deref() == Some(ISSUER));
    if taken {
        return Err(OpError::new(ErrorKind::CardUniqueTaken).with_field(unique_no));
    }
    // Everything is checked: the application succeeds.
    let now = world.now();
    // Refused for want of a free number, the request leaves the random stream untouched.
    let (card_no, pan) = world
        .draw_if(|rng, world| {
            let card_no = loop {
                let candidate = format!("KC{}", ids::digits(rng, 16));
                if !world.cards().contains_key(&candidate) {
                    break candidate;
                }
            };
            Some((card_no, world.free_pan(rng, &product.bin, product.length)?))
        })
        .ok_or_else(|| {
            OpError::new(ErrorKind::SystemError).with_reason(crate::world::NO_FREE_NUMBER)
        })?;
    let cvv = ids::cvv(world.rng());
    world
        .insert_card(Card {
            cardholder_id: Some(holder_id),
            form,
            merchant_ref: Some(unique_no.to_owned()),
            product: Some(product.id),
            funding: product.funding,
            ..Card::ordered(card_no.clone(), ISSUER, pan, cvv, product.currency, now)
        })
        .map_err(|e| OpError::new(ErrorKind::SystemError).with_reason(format!("{e:?}")))?;
    let fails = context
        .settings
        .failing_cards
        .iter()
        .any(|pattern| crate::world::glob::matches(pattern, unique_no));
    let produced = match form {
        _ if fails => CardStatus::Failed,
        CardForm::Virtual => CardStatus::Active,
        CardForm::Physical => CardStatus::Inactive,
    };
    let due = now
        .saturating_add(context.settings.card_production)
        .unwrap_or(now);
    world.schedule(
        due,
        Event::SettleCard {
            card_id: card_no.clone(),
            from: CardStatus::Pending,
            to: produced,
        },
    );
    if context.settings.card_production.is_zero() {
        world.catch_up();
    }
    Ok(json!({ "card_no": card_no, "card_unique_no": unique_no }))
}

fn bin_product(context: &Context<'_>, bin_no: &str, form: CardForm) -> Result<Product, OpError> {
    let bin = context
        .settings
        .card_bins
        .iter()
        .find(|b| b.card_bin_no == bin_no)
        .ok_or_else(|| OpError::new(ErrorKind::CardBinNotFound).with_field(bin_no))?;
    let supported = match form {
        CardForm::Virtual => bin.support_virtual,
        CardForm::Physical => bin.support_physical,
    };
    if !supported {
        return Err(OpError::new(ErrorKind::CardTypeNotSupported)
            .with_reason(format!("BIN {bin_no} does not issue {form:?} cards")));
    }
    let code = bin.currencies.first().map_or("USD", String::as_str);
    Ok(Product {
        id: bin.card_bin_no.clone(),
        bin: bin.card_bin.clone(),
        length: bin.length,
        currency: currency(code)?,
        funding: Funding::MerchantAccount,
    })
}

fn package_product(
    context: &Context<'_>,
    package_no: &str,
    form: CardForm,
) -> Result<Product, OpError> {
    let package = context
        .settings
        .packages
        .iter()
        .find(|p| p.package_no == package_no)
        .ok_or_else(|| OpError::new(ErrorKind::PackageNotFound).with_field(package_no))?;
    let wanted = match form {
        CardForm::Virtual => "Virtual",
        CardForm::Physical => "Physical",
    };
    if !package.card_types.iter().any(|t| t == wanted) {
        return Err(
            OpError::new(ErrorKind::CardTypeNotSupported).with_reason(format!(
                "package {package_no} does not issue {wanted} cards"
            )),
        );
    }
    Ok(Product {
        id: package.package_no.clone(),
        bin: package.card_bin.clone(),
        length: package.length,
        currency: currency(&package.currency)?,
        funding: Funding::HolderAccount,
    })
}

fn currency(code: &str) -> Result<Currency, OpError> {
    Currency::new(code).map_err(|e| OpError::new(ErrorKind::SystemError).with_reason(e.to_string()))
}

/// Seed 004's address rules: the whole block for physical cards; for virtual ones, when given,
/// postal_code, country, state, city and address_line1. Digits-only phone_code without `+`;
/// English (ASCII) text; then the country's format ([`check_country_format`]).
fn check_address(
    body: &Fields<'_>,
    form: CardForm,
    leniency: &Leniency<Rule>,
) -> Result<(), OpError> {
    let Some(address) = body.object("address_info")? else {
        return match form {
            CardForm::Physical => Err(OpError::field(
                "address_info",
                "is required for physical cards",
            )),
            CardForm::Virtual => Ok(()),
        };
    };
    let required: &[&str] = match form {
        CardForm::Physical => &[
            "first_name",
            "last_name",
            "phone_code",
            "phone",
            "postal_code",
            "country",
            "state",
            "city",
            "address_line1",
        ],
        CardForm::Virtual => &["postal_code", "country", "state", "city", "address_line1"],
    };
    for &name in [
        "first_name",
        "last_name",
        "phone_code",
        "phone",
        "postal_code",
        "country",
        "state",
        "city",
        "address_line1",
        "address_line2",
    ]
    .iter()
    {
        let max = match name {
            "address_line1" | "address_line2" => 128,
            "postal_code" => 16,
            "phone_code" => 4,
            "phone" | "country" => 20,
            _ => 64,
        };
        let value = if required.contains(&name) {
            Some(address.text(name, 1, max)?)
        } else {
            address.optional_text(name, 1, max)?
        };
        let Some(value) = value else { continue };
        let path = address.path(name);
        match name {
            "phone_code" if !value.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(OpError::field(&path, "must be digits only, without +"));
            }
            "phone" if !value.bytes().all(|b| b.is_ascii_digit()) || value.len() < 4 => {
                return Err(OpError::field(&path, "must be 4 or more digits"));
            }
            "country" => {
                address.country(name)?;
            }
            _ if !value.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) => {
                return Err(OpError::field(&path, "must be written in English"));
            }
            _ => {}
        }
    }
    check_country_format(&address, leniency)
}

/// Seed 004: "Address fields must ... conform to the address format of the relevant country":
/// the postal code fits the country's pattern and the state is one of its subdivisions, where
/// the address data (`world::addresses`) knows them. Countries it does not know, or without
/// postal codes (HK, AE, ...), pass; so do the rules the merchant relaxes.
fn check_country_format(address: &Fields<'_>, leniency: &Leniency<Rule>) -> Result<(), OpError> {
    let Some(country) = address.optional_text("country", 1, 20)? else {
        return Ok(());
    };
    let Some(format) = addresses::format_of(country) else {
        return Ok(());
    };
    if let Some(code) = address.optional_text("postal_code", 1, 16)?
        && !leniency.relaxes(&Rule::PostalCodeFormat)
        && !format.fits_postal_code(code)
    {
        let example = format.postal_examples.first().map_or("", String::as_str);
        return Err(OpError::field(
            &address.path("postal_code"),
            format!("`{code}` is not a postal code of {country} (e.g. {example})"),
        )
        .breaking(Rule::PostalCodeFormat));
    }
    if let Some(state) = address.optional_text("state", 1, 64)?
        && !leniency.relaxes(&Rule::Subdivision)
        && format.is_unknown_subdivision(state)
    {
        return Err(OpError::field(
            &address.path("state"),
            format!(
                "`{state}` is not a state or province of {country} (e.g. {})",
                format.subdivision_hint(state)
            ),
        )
        .breaking(Rule::Subdivision));
    }
    Ok(())
}

/// One card as lists show it.
fn item(card: &Card) -> Value {
    json!({
        "card_no": card.id,
        "card_unique_no": card.merchant_ref.clone().unwrap_or_else(|| card.id.clone()),
        "cardholder_no": card.cardholder_id,
        "card_type": card_type(card),
        "card_last_no": last_digits(card),
        "status": status_name(card.status),
        "time": millis(card.created_at),
    })
}

/// `{cardholder_no?, card_no?, card_unique_no?, status?, page, size}` → a page of cards,
/// oldest first.
pub fn list(_: &Context<'_>, world: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let body = &input.body;
    let holder = body.optional_text("cardholder_no", 1, 64)?;
    let card_no = body.optional_text("card_no", 1, 64)?;
    let unique_no = body.optional_text("card_unique_no", 1, 64)?;
    let status = body.optional_text("status", 1, 16)?;
    if let Some(status) = status
        && ![
            "Pending",
            "ToActivate",
            "Activated",
            "Fail",
            "Frozen",
            "Delete",
        ]
        .contains(&status)
    {
        return Err(OpError::field(
            "status",
            "must be Pending, ToActivate, Activated, Fail, Frozen or Delete",
        ));
    }
    let (page, size) = paging(body)?;
    if holder.is_none() && card_no.is_none() && unique_no.is_none() && status.is_none() {
        // The whole list: its page sliced from the index, only that page rendered.
        let (count, from) = world.issuer_cards(ISSUER, page.saturating_mul(size));
        let items = from.take(size).map(item).collect();
        return Ok(page_list(items, page, size, count));
    }
    // Narrowed by an index where a filter names one, then by the rest.
    let candidates: Vec<&Card> = if let Some(card_no) = card_no {
        world.cards().get(card_no).into_iter().collect()
    } else if let Some(unique_no) = unique_no {
        world.cards_with_ref(unique_no).collect()
    } else if let Some(holder) = holder {
        world.cards_of_holder(holder).collect()
    } else {
        world.issuer_cards(ISSUER, 0).1.collect()
    };
    let mut cards: Vec<&Card> = candidates
        .into_iter()
        .filter(|c| c.issuer.as_deref() == Some(ISSUER))
        .filter(|c| holder.is_none_or(|h| c.cardholder_id.as_deref() == Some(h)))
        .filter(|c| card_no.is_none_or(|n| c.id == n))
        .filter(|c| unique_no.is_none_or(|u| c.merchant_ref.as_deref() == Some(u)))
        .filter(|c| status.is_none_or(|s| status_name(c.status) == s))
        .collect();
    cards.sort_by_key(|c| (c.created_at, &c.id));
    let total = cards.len();
    let items = cards
        .into_iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .map(item)
        .collect();
    Ok(page_list(items, page, size, total))
}

/// `GET card/{card_no}/detail` → the card with its package's names and fee_detail.
pub fn detail(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let card = card(world, input.param())?;
    let product = card.product.as_deref().unwrap_or_default();
    let package = context
        .settings
        .packages
        .iter()
        .find(|p| p.package_no == product);
    let bin = context
        .settings
        .card_bins
        .iter()
        .find(|b| b.card_bin_no == product);
    let organization = package
        .map(|p| p.organization.clone())
        .or_else(|| bin.map(|b| b.organization.clone()));
    let card_name = world
        .holder_of(card)
        .map(|h| h.full_name())
        .filter(|n| !n.is_empty());
    Ok(json!({
        "card_no": card.id,
        "card_unique_no": card.merchant_ref.clone().unwrap_or_else(|| card.id.clone()),
        "cardholder_no": card.cardholder_id,
        "card_name": card_name,
        "package_name_en": package.map(|p| p.package_name_en.clone()),
        "package_name_cn": package.map(|p| p.package_name_cn.clone()),
        "card_type": card_type(card),
        "organization": organization,
        "card_last_no": last_digits(card),
        "fee_detail": package.map(|p| p.fee_detail.clone()),
        "status": status_name(card.status),
        "time": millis(card.created_at),
    }))
}

/// `GET card/{card_no}/private/info` → Base64 AES-ECB (apiSecret) of `{card_no, card_number,
/// cvv, expire_month, expire_year}`, for a produced card that is not deleted.
pub fn private_info(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let card = card(world, input.param())?;
    require(
        card,
        &[
            CardStatus::Inactive,
            CardStatus::Active,
            CardStatus::Frozen,
            CardStatus::Lost,
        ],
    )?;
    let plain = json!({
        "card_no": card.id,
        "card_number": card.pan,
        "cvv": card.cvv,
        "expire_month": format!("{:02}", card.expiry.month),
        "expire_year": card.expiry.year.to_string(),
    });
    let sealed = sensitive::encrypt(&context.key.api_secret, plain.to_string().as_bytes())
        .map_err(|e| OpError::new(ErrorKind::SystemError).with_reason(e.to_string()))?;
    Ok(Value::String(sealed))
}

/// A field the merchant encrypted with its apiSecret, as text.
fn encrypted_field(
    context: &Context<'_>,
    body: &Fields<'_>,
    name: &str,
) -> Result<String, OpError> {
    let text = body.text(name, 1, 256)?;
    sensitive::decrypt(&context.key.api_secret, text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            OpError::new(ErrorKind::InvalidCardParameter)
                .with_field(name)
                .with_reason(
                    "cannot be decrypted with the apiSecret (Base64 of AES/ECB/PKCS5Padding)",
                )
        })
}

/// `{card_no, cvv}` (cvv encrypted) → `{result: true}`: a physical card waiting for
/// activation becomes Activated.
pub fn activate(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let card_no = body.text("card_no", 1, 64)?;
    let cvv = encrypted_field(context, body, "cvv")?;
    let card = card(world, card_no)?;
    if card.form != CardForm::Physical {
        return Err(OpError::new(ErrorKind::NotPhysicalCard).with_field(card_no));
    }
    require(card, &[CardStatus::Inactive])?;
    if cvv != card.cvv {
        return Err(OpError::new(ErrorKind::WrongCvv));
    }
    let (id, now) = (card.id.clone(), world.now());
    world.set_card_status(&id, CardStatus::Active, now);
    Ok(json!({ "result": true }))
}

/// `{card_no, status}` with status Frozen, Activated or Delete → `{result: true}`, for the
/// transitions the lifecycle allows. Deleting returns a card's own balance to the merchant.
pub fn update_status(
    _: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let card_no = body.text("card_no", 1, 64)?;
    let (to, from): (CardStatus, &[CardStatus]) = match body.text("status", 1, 16)? {
        "Frozen" => (CardStatus::Frozen, &[CardStatus::Active]),
        "Activated" => (CardStatus::Active, &[CardStatus::Frozen, CardStatus::Lost]),
        "Delete" => (
            CardStatus::Closed,
            &[
                CardStatus::Inactive,
                CardStatus::Active,
                CardStatus::Frozen,
                CardStatus::Lost,
            ],
        ),
        _ => {
            return Err(OpError::field(
                "status",
                "must be Frozen, Activated or Delete",
            ));
        }
    };
    let card = card(world, card_no)?;
    require(card, from)?;
    let id = card.id.clone();
    let now = world.now();
    if to == CardStatus::Closed {
        let held = world
            .transactions()
            .of_card(&id)
            .any(|t| t.status == crate::world::ledger::TransactionStatus::Pending);
        if held {
            return Err(OpError::new(ErrorKind::CardStatusNotAllowed)
                .with_reason("Activated, with authorizations pending"));
        }
        if card.funding == Funding::Own && card.available.is_positive() {
            let refused = |e: crate::world::ledger::LedgerError| {
                OpError::new(ErrorKind::SystemError).with_reason(e.to_string())
            };
            let (refund, _) = world.start_close_refund(&id).map_err(refused)?;
            world.settle_transfer(&refund, now).map_err(refused)?;
        }
    }
    world.set_card_status(&id, to, now);
    Ok(json!({ "result": true }))
}

/// `{card_no, pin}` (pin encrypted, 4 to 6 digits) → `{result: true}`.
pub fn set_pin(
    context: &Context<'_>,
    world: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let card_no = body.text("card_no", 1, 64)?;
    let pin = encrypted_field(context, body, "pin")?;
    if !(4..=6).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OpError::new(ErrorKind::InvalidCardParameter)
            .with_field("pin")
            .with_reason("must decrypt to 4 to 6 digits"));
    }
    let card = card(world, card_no)?;
    require(
        card,
        &[CardStatus::Inactive, CardStatus::Active, CardStatus::Frozen],
    )?;
    let id = card.id.clone();
    if let Some(mut card) = world.card_mut(&id) {
        card.pin = Some(pin);
    }
    Ok(json!({ "result": true }))
}

/// Seed 001: `{card_bin_no?, page, size}` → a page of the BINs cards can be issued on.
pub fn support_bins(
    context: &Context<'_>,
    _: &mut World,
    input: &Input<'_>,
) -> Result<Value, OpError> {
    let body = &input.body;
    let wanted = body.optional_text("card_bin_no", 1, 64)?;
    let (page, size) = paging(body)?;
    let bins: Vec<_> = context
        .settings
        .card_bins
        .iter()
        .filter(|b| wanted.is_none_or(|w| b.card_bin_no == w))
        .collect();
    Ok(page_of(bins, page, size, |b| {
        json!({
            "card_bin_no": b.card_bin_no,
            "card_bin": b.card_bin,
            "organization": b.organization,
            "support_physical": b.support_physical,
            "support_virtual": b.support_virtual,
            "currencies": b.currencies,
            "balance_limit": b.balance_limit,
        })
    }))
}

/// `{page, size}` → a page of the card packages (credit extension).
pub fn packages(context: &Context<'_>, _: &mut World, input: &Input<'_>) -> Result<Value, OpError> {
    let (page, size) = paging(&input.body)?;
    let packages: Vec<_> = context.settings.packages.iter().collect();
    Ok(page_of(packages, page, size, |p| {
        json!({
            "package_no": p.package_no,
            "package_name_en": p.package_name_en,
            "package_name_cn": p.package_name_cn,
            "card_bin": p.card_bin,
            "organization": p.organization,
            "card_types": p.card_types,
            "currency": p.currency,
            "fee_detail": p.fee_detail,
        })
    }))
}
