//! Located readers of scenario values that are text in the file: currencies, amounts,
//! country codes, ids, digit strings, rate limits, and card numbers drawn on a BIN.

use serde_saphyr::Spanned;

use super::error::Problems;
use super::model::RateLimitSection;
use crate::world::bins::BinTable;
use crate::world::ratelimit::RateLimit;
use crate::world::rng::SandboxRng;
use crate::world::{Currency, Money, ids};

/// `per_second: 0` means unlimited.
pub(super) fn rate_limit(section: RateLimitSection) -> Option<RateLimit> {
    (section.per_second > 0).then(|| RateLimit {
        per_second: section.per_second,
        burst: section.burst.unwrap_or(section.per_second).max(1),
    })
}

/// Draws a PAN on `bin`, whose length comes from the BIN table unless given.
pub(super) fn generate_pan(
    bin: &Spanned<String>,
    length: Option<usize>,
    bins: &BinTable,
    rng: &mut SandboxRng,
    problems: &mut Problems<'_>,
) -> Option<String> {
    let Some(length) = length.or_else(|| bins.lookup(&bin.value).map(|range| range.length)) else {
        problems.at(
            bin.referenced,
            format!(
                "BIN {} is not in the BIN table; add it to the top-level `bins:` or give `length`",
                bin.value
            ),
        );
        return None;
    };
    if !crate::world::bins::valid_range(&bin.value, length) {
        problems.at(
            bin.referenced,
            format!(
                "BIN `{}` with length {length}: a BIN is 4–8 digits, a card 12–19",
                bin.value
            ),
        );
        return None;
    }
    Some(ids::pan(rng, &bin.value, length))
}

pub(super) fn currency(code: &Spanned<String>, problems: &mut Problems<'_>) -> Option<Currency> {
    Currency::new(&code.value)
        .map_err(|e| problems.at(code.referenced, e.to_string()))
        .ok()
}

pub(super) fn amount(
    text: &Spanned<String>,
    currency: &Currency,
    problems: &mut Problems<'_>,
) -> Option<Money> {
    Money::parse(&text.value, currency.clone())
        .map_err(|e| problems.at(text.referenced, e.to_string()))
        .ok()
}

pub(super) fn check_country(code: &Spanned<String>, problems: &mut Problems<'_>) {
    if !is_country_code(&code.value) {
        problems.at(
            code.referenced,
            format!(
                "`{}` is not an ISO 3166 two-letter country code",
                code.value
            ),
        );
    }
}

pub(super) fn is_country_code(code: &str) -> bool {
    crate::world::countries::is_country_code(code)
}

pub(super) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub(super) fn digits_between(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str) -> Spanned<String> {
        serde_saphyr::from_str(&format!("\"{text}\"")).unwrap()
    }

    #[test]
    fn values_are_read_or_located_problems() {
        let mut problems = Problems::new("x");
        let usd = currency(&located("USD"), &mut problems).unwrap();
        assert_eq!(
            amount(&located("12.30"), &usd, &mut problems)
                .unwrap()
                .minor(),
            1230
        );
        assert!(currency(&located("usdollar"), &mut problems).is_none());
        assert!(amount(&located("1.234"), &usd, &mut problems).is_none());
        check_country(&located("CN"), &mut problems);
        check_country(&located("XX"), &mut problems);
        let error = problems.into_error("t");
        assert_eq!(error.problems.len(), 3, "{error}");
        assert!(error.problems[2].message.contains("ISO 3166"), "{error}");
        assert!(valid_id("card-1.a_b") && !valid_id("") && !valid_id("a b"));
        assert!(digits_between("1234", 4, 4) && !digits_between("12a4", 4, 4));
        let unlimited = RateLimitSection {
            per_second: 0,
            burst: None,
        };
        assert_eq!(rate_limit(unlimited), None);
        let burstless = RateLimitSection {
            per_second: 5,
            burst: None,
        };
        assert_eq!(
            rate_limit(burstless),
            Some(RateLimit {
                per_second: 5,
                burst: 5
            })
        );
    }

    #[test]
    fn generated_numbers_follow_the_bin_table_or_the_given_length() {
        let bins = BinTable::builtin().unwrap();
        let mut rng = crate::world::rng::stream(1, "t");
        let mut problems = Problems::new("x");
        let pan = generate_pan(&located("622202"), None, &bins, &mut rng, &mut problems).unwrap();
        assert!(pan.starts_with("622202") && ids::luhn_valid(&pan));
        let given = generate_pan(
            &located("99990000"),
            Some(12),
            &bins,
            &mut rng,
            &mut problems,
        );
        assert_eq!(given.map(|p| p.len()), Some(12));
        assert!(generate_pan(&located("999999"), None, &bins, &mut rng, &mut problems).is_none());
        assert!(generate_pan(&located("12"), Some(16), &bins, &mut rng, &mut problems).is_none());
        assert_eq!(problems.into_error("t").problems.len(), 2);
    }
}
