//! Scenario-wide rules every tenant's world follows: the fixed FX table that converts a
//! purchase in a shop's currency into the card's, the magic amounts that decline (the Stripe
//! test-card idea: `*.51` declines with "insufficient funds") and the magic names whose
//! reviews end one way.

use std::collections::BTreeMap;

use serde::Serialize;

use super::money::{Currency, Money};

/// A rate: `units / 10^scale` of the quote currency per unit of the base currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rate {
    units: i128,
    scale: u32,
}

impl Rate {
    /// A positive decimal such as `7.1234`.
    pub fn parse(text: &str) -> Option<Rate> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
            || fraction.len() > 12
        {
            return None;
        }
        let units: i128 = format!("{whole}{fraction}").parse().ok()?;
        (units > 0).then_some(Rate {
            units,
            scale: fraction.len() as u32,
        })
    }
}

/// A purchase amount that declines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MagicDecline {
    /// Glob on the amount as text in the card's currency (`*.51`).
    pub amount: String,
    pub reason: String,
}

/// The rules of a scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rules {
    /// (from, to) currency codes → rate.
    pub fx: BTreeMap<(String, String), Rate>,
    pub declines: Vec<MagicDecline>,
    /// Magic names: reviews of matching applicants end so, whichever provider reviews them.
    pub reviews: Vec<super::review::ReviewRule>,
}

impl Rules {
    /// `amount` in `to`, at the table's rate (or its inverse), rounded half away from zero to
    /// `to`'s minor unit; `None` without a rate.
    pub fn convert(&self, amount: &Money, to: &Currency) -> Option<Money> {
        let from = amount.currency();
        if from == to {
            return Some(amount.clone());
        }
        let pair = |a: &Currency, b: &Currency| (a.code().to_owned(), b.code().to_owned());
        let exponents = (from.exponent() as i32, to.exponent() as i32);
        // minor_to = minor_from × num / den × 10^(e_to − e_from)
        let (mut num, mut den) = if let Some(rate) = self.fx.get(&pair(from, to)) {
            (rate.units, 10i128.pow(rate.scale))
        } else {
            let rate = self.fx.get(&pair(to, from))?;
            (10i128.pow(rate.scale), rate.units)
        };
        let shift = exponents.1 - exponents.0;
        if shift >= 0 {
            num *= 10i128.pow(shift as u32);
        } else {
            den *= 10i128.pow((-shift) as u32);
        }
        let product = i128::from(amount.minor()) * num;
        let rounded = (product.abs() * 2 + den) / (2 * den) * product.signum();
        Some(Money::from_minor(i64::try_from(rounded).ok()?, to.clone()))
    }

    /// Why a purchase of `amount` declines by magic, if it does.
    pub fn magic_decline(&self, amount: &Money) -> Option<String> {
        let text = amount.to_string();
        self.declines
            .iter()
            .find(|d| crate::world::glob::matches(&d.amount, &text))
            .map(|d| d.reason.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::new(code).unwrap()).unwrap()
    }

    #[test]
    fn conversion_uses_the_rate_or_its_inverse_and_rounds_half_up() {
        let mut rules = Rules::default();
        rules
            .fx
            .insert(("EUR".into(), "USD".into()), Rate::parse("1.0850").unwrap());
        rules
            .fx
            .insert(("USD".into(), "JPY".into()), Rate::parse("150").unwrap());
        let usd = Currency::new("USD").unwrap();
        assert_eq!(
            rules.convert(&money("10.00", "EUR"), &usd),
            Some(money("10.85", "USD"))
        );
        assert_eq!(
            rules.convert(&money("0.05", "EUR"), &usd),
            Some(money("0.05", "USD"))
        );
        // Inverse: 10.85 USD is 10.00 EUR.
        let eur = Currency::new("EUR").unwrap();
        assert_eq!(
            rules.convert(&money("10.85", "USD"), &eur),
            Some(money("10.00", "EUR"))
        );
        // Exponents differ: 1.23 USD is 184.5 → 185 JPY.
        let jpy = Currency::new("JPY").unwrap();
        assert_eq!(
            rules.convert(&money("1.23", "USD"), &jpy),
            Some(money("185", "JPY"))
        );
        assert_eq!(rules.convert(&money("1.00", "GBP"), &usd), None);
        assert!(
            Rate::parse("0").is_none() && Rate::parse("-1").is_none() && Rate::parse("x").is_none()
        );
    }

    #[test]
    fn magic_amounts_decline() {
        let rules = Rules {
            declines: vec![MagicDecline {
                amount: "*.51".into(),
                reason: "insufficient funds".into(),
            }],
            ..Rules::default()
        };
        assert_eq!(
            rules.magic_decline(&money("12.51", "USD")).as_deref(),
            Some("insufficient funds")
        );
        assert_eq!(rules.magic_decline(&money("12.50", "USD")), None);
    }
}
