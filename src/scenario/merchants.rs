//! Each merchant's starting world: accounts, cardholders, cards, generated people and the
//! timeline of issuer events, checked value by value with located problems.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde_saphyr::{Location, Spanned};

use super::error::Problems;
use super::model::{
    AccountSection, AddressSection, CardSection, CardholderSection, MerchantSection,
};
use super::values::{amount, check_country, currency, digits_between, generate_pan, valid_id};
use super::{generate, timeline};
use crate::world::bins::BinTable;
use crate::world::card::Limits;
use crate::world::cardholder::plausible_email;
use crate::world::rng::{self, SandboxRng};
use crate::world::{
    Activation, Address, Card, CardForm, CardStatus, Cardholder, Clock, ClockSpec, Currency,
    Expiry, IdDocument, Kyc, KycStatus, Merchant, Money, Phone, World, ids,
};

/// What building every merchant needs to know.
pub(super) struct Setup<'a> {
    pub seed: u64,
    /// The scenario's start instant (or the load time): `created_at` of starting data and the
    /// base of default expiry dates.
    pub start: Timestamp,
    pub bins: &'a BinTable,
    /// The providers a card may name as its issuer.
    pub issuers: Vec<&'static str>,
    /// The FX table and magic values every world follows.
    pub rules: Arc<crate::world::rules::Rules>,
}

/// A merchant's starting world, and where each of its `cards:` is written.
pub(super) fn build_tenant(
    section: MerchantSection,
    context: &Setup<'_>,
    problems: &mut Problems<'_>,
) -> (World, HashMap<String, Location>) {
    let id = section.id.value.clone();
    if !valid_id(&id) {
        problems.at(
            section.id.referenced,
            format!("merchant id `{id}` must be 1–64 of A-Z a-z 0-9 . _ -"),
        );
    }
    let merchant = Merchant {
        name: section.name.clone().unwrap_or_else(|| id.clone()),
        id: id.clone(),
    };
    let mut world = World::new(
        merchant,
        Clock::from_spec(ClockSpec {
            start: Some(context.start),
            frozen: true,
        }),
        context.seed,
    );
    let mut setup_rng = rng::stream(context.seed, &format!("setup:{id}"));

    for account in &section.accounts {
        build_account(account, &mut world.accounts, problems);
    }
    let mut holder_ids = HashSet::new();
    for mut holder in section.cardholders {
        if !holder_ids.insert(holder.id.value.clone()) {
            problems.at(
                holder.id.referenced,
                format!("duplicate cardholder id `{}`", holder.id.value),
            );
            continue;
        }
        let accounts = std::mem::take(&mut holder.accounts);
        if let Some(holder) = build_cardholder(holder, context, problems) {
            let mut balances = BTreeMap::new();
            for account in &accounts {
                build_account(account, &mut balances, problems);
            }
            if !balances.is_empty() {
                world.holder_accounts.insert(holder.id.clone(), balances);
            }
            world.cardholders.insert(holder.id.clone(), holder);
        }
    }
    let mut pan_lines: HashMap<String, u64> = HashMap::new();
    let mut card_locations = HashMap::new();
    for card in section.cards {
        if world.cards().contains_key(&card.id.value) {
            problems.at(
                card.id.referenced,
                format!("duplicate card id `{}`", card.id.value),
            );
            continue;
        }
        let id_location = card.id.referenced;
        let Some(card) = build_card(card, &world, context, &mut setup_rng, problems) else {
            continue;
        };
        match pan_lines.get(&card.pan) {
            Some(first) => problems.at(
                id_location,
                format!(
                    "card number {} is already used by the card at line {first}",
                    card.pan
                ),
            ),
            None => {
                pan_lines.insert(card.pan.clone(), id_location.line());
                card_locations.insert(card.id.clone(), id_location);
                // Ids and PANs were both checked just above, so the insert cannot be refused.
                let _ = world.insert_card(card);
            }
        }
    }
    if let Some(generate) = section.generate {
        generate::run(
            &generate,
            &mut world,
            context.bins,
            &context.issuers,
            context.start,
            &mut setup_rng,
            problems,
        );
    }
    world.rules = context.rules.clone();
    let mut labels = HashSet::new();
    for event in section.timeline {
        timeline::schedule(event, &mut world, context.start, &mut labels, problems);
    }
    (world, card_locations)
}

/// One account of a merchant's (or a cardholder's) `accounts`, into `accounts`.
fn build_account(
    section: &AccountSection,
    accounts: &mut BTreeMap<Currency, Money>,
    problems: &mut Problems<'_>,
) {
    let Some(currency) = currency(&section.currency, problems) else {
        return;
    };
    let Some(balance) = amount(&section.balance, &currency, problems) else {
        return;
    };
    if accounts.contains_key(&currency) {
        problems.at(
            section.currency.referenced,
            format!("duplicate account for {currency}"),
        );
        return;
    }
    accounts.insert(currency, balance);
}

/// A provider a card or a person names as its issuer must be one whose cards live in worlds.
fn check_issuer(issuer: &Spanned<String>, context: &Setup<'_>, problems: &mut Problems<'_>) {
    if !context.issuers.contains(&issuer.value.as_str()) {
        problems.at(
            issuer.referenced,
            format!(
                "unknown issuer `{}`; one of {}",
                issuer.value,
                context.issuers.join(", ")
            ),
        );
    }
}

fn build_cardholder(
    section: CardholderSection,
    context: &Setup<'_>,
    problems: &mut Problems<'_>,
) -> Option<Cardholder> {
    let id = &section.id;
    if !valid_id(&id.value) {
        problems.at(
            id.referenced,
            format!(
                "cardholder id `{}` must be 1–64 of A-Z a-z 0-9 . _ -",
                id.value
            ),
        );
    }
    if let Some(issuer) = &section.issuer {
        check_issuer(issuer, context, problems);
    }
    // A provider's person is what its API accepted (KeySecure takes no names, Pagsmile keeps
    // the mobile number whole with its `+` code): the file's own rules on names and contact
    // details are for the people it invents.
    let invented = section.issuer.is_none();
    if invented && section.first_name.trim().is_empty() && section.last_name.trim().is_empty() {
        problems.at(
            id.referenced,
            "a cardholder needs a first_name or a last_name",
        );
    }
    if let Some(email) = &section.email
        && invented
        && !plausible_email(&email.value)
    {
        problems.at(
            email.referenced,
            format!("`{}` is not an email address", email.value),
        );
    }
    let phone = section.phone.map(|p| {
        if invented && !digits_between(&p.country_code.value, 1, 4) {
            problems.at(
                p.country_code.referenced,
                "country_code is 1–4 digits, without `+`",
            );
        }
        if invented && !digits_between(&p.number.value, 4, 15) {
            problems.at(p.number.referenced, "a phone number is 4–15 digits");
        }
        if let Some(country) = &p.country {
            check_country(country, problems);
        }
        Phone {
            country_code: p.country_code.value,
            number: p.number.value,
            country: p.country.map(|c| c.value),
        }
    });
    if let Some(nationality) = &section.nationality {
        check_country(nationality, problems);
    }
    let id_document = section.id_document.map(|d| {
        if let (Some(issued), Some(expires)) = (d.issued_on, &d.expires_on)
            && expires.value <= issued
        {
            problems.at(
                expires.referenced,
                format!(
                    "expires_on {} is not after issued_on {issued}",
                    expires.value
                ),
            );
        }
        IdDocument {
            kind: d.kind,
            number: d.number,
            issued_on: d.issued_on,
            expires_on: d.expires_on.map(|e| e.value),
        }
    });
    let address = section.address.map(|a: AddressSection| {
        check_country(&a.country, problems);
        Address {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country: a.country.value,
        }
    });
    let status = section.kyc.unwrap_or(KycStatus::Passed);
    Some(Cardholder {
        id: section.id.value,
        issuer: section.issuer.map(|i| i.value),
        merchant_ref: section.merchant_ref,
        first_name: section.first_name,
        last_name: section.last_name,
        email: section.email.map(|e| e.value),
        phone,
        id_document,
        birthday: section.birthday,
        gender: section.gender,
        nationality: section.nationality.map(|n| n.value),
        address,
        kyc: Kyc {
            codes: section.kyc_codes,
            ..Kyc::settled(status, section.kyc_reason, context.start)
        },
        created_at: context.start,
    })
}

fn build_card(
    section: CardSection,
    world: &World,
    context: &Setup<'_>,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) -> Option<Card> {
    let id = &section.id;
    if !valid_id(&id.value) {
        problems.at(
            id.referenced,
            format!("card id `{}` must be 1–64 of A-Z a-z 0-9 . _ -", id.value),
        );
    }
    if let Some(holder) = &section.cardholder
        && !world.cardholders.contains_key(&holder.value)
    {
        problems.at(
            holder.referenced,
            format!("no cardholder `{}` in this merchant", holder.value),
        );
    }
    if let Some(issuer) = &section.issuer {
        check_issuer(issuer, context, problems);
    }
    let pan = match (&section.pan, &section.bin) {
        (Some(pan), None) => check_pan(pan, problems)?,
        (None, Some(bin)) => generate_pan(bin, section.length, context.bins, rng, problems)?,
        (Some(pan), Some(_)) => {
            problems.at(pan.referenced, "give either `pan` or `bin`, not both");
            return None;
        }
        (None, None) => {
            problems.at(
                id.referenced,
                format!("card `{}` needs a `pan` or a `bin`", id.value),
            );
            return None;
        }
    };
    let cvv = match &section.cvv {
        Some(cvv) if digits_between(&cvv.value, 3, 4) => cvv.value.clone(),
        Some(cvv) => {
            problems.at(cvv.referenced, "a CVV is 3 or 4 digits");
            return None;
        }
        None => ids::cvv(rng),
    };
    let expiry = match &section.expiry {
        Some(text) => parse_expiry(text, problems)?,
        None => Expiry::for_new_card(context.start),
    };
    let currency = match &section.currency {
        Some(code) => currency(code, problems)?,
        None => Currency::new("USD").ok()?,
    };
    let non_negative = |value: &Option<Spanned<String>>, problems: &mut Problems<'_>| match value {
        None => Some(Money::zero(currency.clone())),
        Some(text) => {
            let money = amount(text, &currency, problems)?;
            if money.is_negative() {
                problems.at(
                    text.referenced,
                    "a card balance or limit cannot be negative",
                );
                return None;
            }
            Some(money)
        }
    };
    let available = non_negative(&section.balance, problems)?;
    let blocked = non_negative(&section.blocked, problems)?;
    let limits = match &section.limits {
        None => None,
        Some(l) => Some(Limits {
            daily_transactions: l.daily_transactions,
            single_amount: non_negative(&Some(l.single_amount.clone()), problems)?,
            daily_amount: non_negative(&Some(l.daily_amount.clone()), problems)?,
            monthly_amount: non_negative(&Some(l.monthly_amount.clone()), problems)?,
            total_amount: match &l.total_amount {
                Some(total) => Some(non_negative(&Some(total.clone()), problems)?),
                None => None,
            },
        }),
    };
    if let Some(token) = &section.token
        && !valid_id(&token.value)
    {
        problems.at(
            token.referenced,
            format!(
                "card token `{}` must be 1–64 of A-Z a-z 0-9 . _ -",
                token.value
            ),
        );
    }
    if let Some(token) = &section.token
        && world.card_by_token(&token.value).is_some()
    {
        problems.at(
            token.referenced,
            format!("card token `{}` is already used", token.value),
        );
    }
    if let Some(pin) = &section.pin
        && !digits_between(&pin.value, 4, 12)
    {
        // ISO 9564: a PIN is 4 to 12 digits; each provider checks its own length when set.
        problems.at(pin.referenced, "a PIN is 4–12 digits");
    }
    let activation = section.activation.map(|a| {
        let code = &a.code.value;
        if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            problems.at(
                a.code.referenced,
                "an activation code is 1–32 letters or digits",
            );
        }
        Activation {
            code: a.code.value,
            revealed: a.revealed,
        }
    });
    Some(Card {
        token: section.token.map(|t| t.value),
        id: section.id.value,
        issuer: section.issuer.map(|i| i.value),
        cardholder_id: section.cardholder.map(|h| h.value),
        pan,
        cvv,
        expiry,
        form: section.form.unwrap_or(CardForm::Virtual),
        status: section.status.unwrap_or(CardStatus::Active),
        currency,
        available,
        blocked,
        created_at: context.start,
        pin: section.pin.map(|p| p.value),
        activation,
        limits: limits.map(Box::new),
        merchant_ref: section.merchant_ref,
        product: section.product,
        funding: crate::world::Funding::Own,
    })
}

fn check_pan(pan: &Spanned<String>, problems: &mut Problems<'_>) -> Option<String> {
    if !digits_between(&pan.value, 12, 19) {
        problems.at(pan.referenced, "a card number is 12–19 digits");
        return None;
    }
    if !ids::luhn_valid(&pan.value) {
        problems.at(
            pan.referenced,
            format!(
                "card number {} fails the Luhn check (a valid last digit would be {})",
                pan.value,
                ids::luhn_check_digit(&pan.value[..pan.value.len() - 1])
            ),
        );
        return None;
    }
    Some(pan.value.clone())
}

fn parse_expiry(text: &Spanned<String>, problems: &mut Problems<'_>) -> Option<Expiry> {
    let parsed = text.value.split_once('-').and_then(|(year, month)| {
        let year: i16 = year.parse().ok().filter(|y| (2000..=2099).contains(y))?;
        let month: i8 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
        (text.value.len() == 7).then_some(Expiry { year, month })
    });
    if parsed.is_none() {
        problems.at(
            text.referenced,
            format!("expiry `{}` is not YYYY-MM", text.value),
        );
    }
    parsed
}
