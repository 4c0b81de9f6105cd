//! `generate:` — seeded fake cardholders (zh_CN or en) and their cards.
//!
//! Names, streets and cities come from the `fake` crate; identity numbers, phones and PANs are
//! built so they pass the checks real services apply (ID checksum, mobile prefix, Luhn).

use fake::Fake;
use fake::faker::address::raw::{BuildingNumber, CityName, StateAbbr, StreetName, ZipCode};
use fake::faker::internet::raw::SafeEmail;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{EN, ZH_CN};
use jiff::Timestamp;
use jiff::civil::Date;
use rand::RngExt;
use serde_saphyr::Spanned;

use super::error::Problems;
use super::model::GenerateSection;
use super::values::{amount, currency, generate_pan};
use crate::world::bins::BinTable;
use crate::world::rng::SandboxRng;
use crate::world::{
    Address, Card, CardForm, CardStatus, Cardholder, Currency, Gender, IdDocument, IdKind, Kyc,
    KycStatus, Money, Phone, World, ids,
};

/// BINs used when `generate.bins` is not given: debit cards of four large banks.
const DEFAULT_BINS: [&str; 4] = ["622202", "622848", "621700", "622588"];

/// Mainland region codes with the province and city they name, for consistent ID + address.
const REGIONS: [(&str, &str, &str, &str); 8] = [
    ("110101", "北京市", "北京市", "100010"),
    ("310101", "上海市", "上海市", "200001"),
    ("440106", "广东省", "广州市", "510630"),
    ("440305", "广东省", "深圳市", "518052"),
    ("330106", "浙江省", "杭州市", "310012"),
    ("320102", "江苏省", "南京市", "210018"),
    ("510104", "四川省", "成都市", "610021"),
    ("420102", "湖北省", "武汉市", "430014"),
];

#[derive(Clone, Copy)]
enum Locale {
    ZhCn,
    En,
}

/// Largest number of cardholders, of cards per cardholder, and of cards in all one `generate:`
/// may ask for: a million cards in one tenant is a supported size (about 0.5 KB a card, and
/// about 1 KB a generated cardholder).
const MAX_CARDHOLDERS: usize = 1_000_000;
const MAX_CARDS_EACH: usize = 1_000;
const MAX_CARDS: usize = 2_000_000;

/// Adds the generated cardholders and cards to `world`; problems point at `generate:` unless a
/// more precise value is to blame.
pub(super) fn run(
    spanned: &Spanned<GenerateSection>,
    world: &mut World,
    bins: &BinTable,
    issuers: &[&str],
    start: Timestamp,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) {
    let (section, at) = (&spanned.value, spanned.referenced);
    let locale = match section.locale.as_ref() {
        None => Locale::ZhCn,
        Some(l) if l.value == "zh_CN" => Locale::ZhCn,
        Some(l) if l.value == "en" => Locale::En,
        Some(l) => {
            problems.at(
                l.referenced,
                format!("unknown locale `{}`; zh_CN or en", l.value),
            );
            return;
        }
    };
    let cards_each = section.cards_per_cardholder.unwrap_or(1);
    if section.cardholders > MAX_CARDHOLDERS
        || cards_each > MAX_CARDS_EACH
        || section.cardholders.saturating_mul(cards_each) > MAX_CARDS
    {
        problems.at(
            at,
            format!("generate at most {MAX_CARDHOLDERS} cardholders, {MAX_CARDS_EACH} cards per cardholder and {MAX_CARDS} cards in all"),
        );
        return;
    }
    if let Some(issuer) = &section.issuer
        && !issuers.contains(&issuer.value.as_str())
    {
        problems.at(
            issuer.referenced,
            format!("unknown issuer `{}`", issuer.value),
        );
        return;
    }
    let card_currency = match &section.currency {
        Some(code) => match currency(code, problems) {
            Some(c) => c,
            None => return,
        },
        None => Currency::new("USD").expect("USD is a valid code"),
    };
    let balance = match &section.balance {
        Some(text) => match amount(text, &card_currency, problems) {
            Some(m) => m,
            None => return,
        },
        None => Money::zero(card_currency.clone()),
    };
    let bin_list: Vec<Spanned<String>> = match &section.bins {
        Some(list) => list.clone(),
        None => DEFAULT_BINS
            .iter()
            .map(|b| Spanned::new((*b).to_owned(), at, at))
            .collect(),
    };
    if bin_list.is_empty() {
        problems.at(at, "`bins` is empty; leave it out for the default BINs");
        return;
    }

    world.reserve_cards(section.cardholders * cards_each);
    for n in 1..=section.cardholders {
        let holder = fake_person(locale, format!("gen-{n:04}"), start, rng);
        for c in 1..=cards_each {
            let bin = &bin_list[rng.random_range(0..bin_list.len())];
            let Some(pan) = distinct_pan(bin, world, bins, rng, problems) else {
                return;
            };
            let id = format!("{}-card-{c}", holder.id);
            let card = Card {
                id: id.clone(),
                token: None,
                issuer: section.issuer.as_ref().map(|i| i.value.clone()),
                cardholder_id: Some(holder.id.clone()),
                pan,
                cvv: ids::cvv(rng),
                expiry: crate::world::Expiry::for_new_card(start),
                form: section.form.unwrap_or(CardForm::Virtual),
                status: CardStatus::Active,
                currency: card_currency.clone(),
                available: balance.clone(),
                blocked: Money::zero(card_currency.clone()),
                created_at: start,
                pin: None,
                activation: None,
                limits: None,
                merchant_ref: None,
                product: None,
                funding: crate::world::Funding::Own,
            };
            if world.insert_card(card).is_err() {
                problems.at(
                    at,
                    format!("generated card id `{id}` clashes with a listed card"),
                );
            }
        }
        let id = holder.id.clone();
        if world.cardholders.insert(id.clone(), holder).is_some() {
            problems.at(
                at,
                format!("generated cardholder id `{id}` clashes with a listed cardholder"),
            );
        }
    }
}

/// A PAN on `bin` that no card of the world has yet; a BIN too short to hold that many distinct
/// numbers is reported rather than looped on.
fn distinct_pan(
    bin: &Spanned<String>,
    world: &World,
    bins: &BinTable,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) -> Option<String> {
    const ATTEMPTS: usize = 64;
    for _ in 0..ATTEMPTS {
        let pan = generate_pan(bin, None, bins, rng, problems)?;
        if world.card_by_pan(&pan).is_none() {
            return Some(pan);
        }
    }
    problems.at(
        bin.referenced,
        format!(
            "BIN {} leaves too few card numbers for this many distinct cards",
            bin.value
        ),
    );
    None
}

fn fake_person(locale: Locale, id: String, start: Timestamp, rng: &mut SandboxRng) -> Cardholder {
    let birthday = Date::new(
        rng.random_range(1960..2005),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
    )
    .unwrap_or(Date::constant(1990, 1, 1));
    let gender = if rng.random_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let (first_name, last_name, phone, id_document, nationality, address) = match locale {
        Locale::ZhCn => {
            let (region, province, city, postal_code) = REGIONS[rng.random_range(0..REGIONS.len())];
            let street: String = StreetName(ZH_CN).fake_with_rng(rng);
            let line1 = format!("{street}{}号", rng.random_range(1..400));
            (
                FirstName(ZH_CN).fake_with_rng(rng),
                LastName(ZH_CN).fake_with_rng(rng),
                Phone {
                    country_code: "86".to_owned(),
                    number: china_mobile(rng),
                    country: Some("CN".to_owned()),
                },
                IdDocument {
                    kind: IdKind::IdCard,
                    number: china_id(region, birthday, gender, rng),
                    issued_on: Some(Date::constant(2018, 6, 1)),
                    expires_on: Some(Date::constant(2038, 6, 1)),
                },
                "CN",
                Address {
                    line1,
                    line2: None,
                    city: city.to_owned(),
                    state: Some(province.to_owned()),
                    postal_code: Some(postal_code.to_owned()),
                    country: "CN".to_owned(),
                },
            )
        }
        Locale::En => {
            let building: String = BuildingNumber(EN).fake_with_rng(rng);
            let street: String = StreetName(EN).fake_with_rng(rng);
            (
                FirstName(EN).fake_with_rng(rng),
                LastName(EN).fake_with_rng(rng),
                Phone {
                    country_code: "1".to_owned(),
                    number: format!("{}{}", rng.random_range(2..10), ids::digits(rng, 9)),
                    country: Some("US".to_owned()),
                },
                IdDocument {
                    kind: IdKind::Passport,
                    number: ids::digits(rng, 9),
                    issued_on: Some(Date::constant(2020, 3, 1)),
                    expires_on: Some(Date::constant(2030, 3, 1)),
                },
                "US",
                Address {
                    line1: format!("{building} {street}"),
                    line2: None,
                    city: CityName(EN).fake_with_rng(rng),
                    state: Some(StateAbbr(EN).fake_with_rng(rng)),
                    postal_code: Some(ZipCode(EN).fake_with_rng(rng)),
                    country: "US".to_owned(),
                },
            )
        }
    };
    Cardholder {
        email: Some(SafeEmail(EN).fake_with_rng(rng)),
        id,
        issuer: None,
        merchant_ref: None,
        first_name,
        last_name,
        phone: Some(phone),
        id_document: Some(id_document),
        birthday: Some(birthday),
        gender: Some(gender),
        nationality: Some(nationality.to_owned()),
        address: Some(address),
        kyc: Kyc::settled(KycStatus::Passed, None, start),
        created_at: start,
    }
}

/// An 11-digit mainland mobile number (1, then 3–9, then nine digits).
fn china_mobile(rng: &mut SandboxRng) -> String {
    format!("1{}{}", rng.random_range(3..10), ids::digits(rng, 9))
}

/// A valid 18-character resident ID: region, birth date, sequence (odd = male), check char.
fn china_id(region: &str, birthday: Date, gender: Gender, rng: &mut SandboxRng) -> String {
    let mut sequence = rng.random_range(0..500) * 2;
    if gender == Gender::Male {
        sequence += 1;
    }
    let first17 = format!("{region}{}{sequence:03}", birthday.strftime("%Y%m%d"));
    let check = ids::china_id_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::rng::stream;

    #[test]
    fn generated_chinese_people_pass_the_checks_real_services_apply() {
        let mut rng = stream(42, "t");
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        for i in 0..50 {
            let p = fake_person(Locale::ZhCn, format!("p{i}"), start, &mut rng);
            let id = p.id_document.as_ref().unwrap();
            assert!(ids::valid_china_id(&id.number), "{}", id.number);
            let sequence_digit = id.number.as_bytes()[16] - b'0';
            assert_eq!(sequence_digit % 2 == 1, p.gender == Some(Gender::Male));
            let phone = p.phone.as_ref().unwrap();
            assert!(phone.number.len() == 11 && phone.number.starts_with('1'));
            assert!(p.first_name.chars().all(crate::world::cardholder::is_cjk));
        }
    }

    #[test]
    fn default_bins_are_in_the_built_in_table() {
        let table = BinTable::builtin().unwrap();
        for bin in DEFAULT_BINS {
            assert!(table.range(bin).is_some(), "{bin}");
        }
    }

    #[test]
    fn same_seed_same_people() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let a = fake_person(Locale::En, "x".into(), start, &mut stream(7, "t"));
        let b = fake_person(Locale::En, "x".into(), start, &mut stream(7, "t"));
        assert_eq!(a, b);
    }
}
