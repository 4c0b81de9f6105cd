//! Exact money: integer minor units tagged with a currency.
//!
//! Floats never hold money inside the sandbox. Providers that document a Double on the wire
//! convert at their edge with [`Money::to_f64`]; amounts that arrive as text or numbers are parsed
//! with [`Money::parse`], which refuses more decimals than the currency has.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217-style currency code (three to five upper-case letters, so `TUSDT` fits), held
/// inline: every amount carries one, and a million cards' balances should not each own a
/// string. Ordered as its text is (the code is zero-padded).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 5],
    len: u8,
}

impl Currency {
    /// Validates and wraps a currency code.
    pub fn new(code: &str) -> Result<Currency, MoneyError> {
        let valid = (3..=5).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase());
        if valid {
            let mut inline = [0; 5];
            inline[..code.len()].copy_from_slice(code.as_bytes());
            Ok(Currency {
                code: inline,
                len: code.len() as u8,
            })
        } else {
            Err(MoneyError::InvalidCurrency(code.to_owned()))
        }
    }

    /// The code, e.g. `USD`.
    pub fn code(&self) -> &str {
        // Built from upper-case ASCII only (`new`), so always UTF-8.
        std::str::from_utf8(&self.code[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Number of decimal places of the currency's minor unit.
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({:?})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Read back from its code, validated as [`Currency::new`] does.
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::new(&code).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Z]{3,5}$" })
    }
}

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not a currency code (3 to 5 upper-case letters)")]
    InvalidCurrency(String),
    #[error("`{0}` is not a decimal amount")]
    NotANumber(String),
    #[error("`{amount}` has more than {exponent} decimal places for {currency}")]
    TooPrecise {
        amount: String,
        currency: String,
        exponent: u32,
    },
    #[error("`{0}` is out of range")]
    OutOfRange(String),
    #[error("currency mismatch: {0} vs {1}")]
    CurrencyMismatch(String, String),
}

/// An exact amount of one currency.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// Zero of `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// An amount given in minor units (cents for USD).
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal text such as `100`, `-3.5` or `0.01`.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let exponent = currency.exponent();
        let not_a_number = || MoneyError::NotANumber(text.to_owned());
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || digits.ends_with('.')
        {
            return Err(not_a_number());
        }
        let significant_fraction = fraction.trim_end_matches('0');
        if significant_fraction.len() > exponent as usize {
            return Err(MoneyError::TooPrecise {
                amount: text.to_owned(),
                currency: currency.code().to_owned(),
                exponent,
            });
        }
        let out_of_range = || MoneyError::OutOfRange(text.to_owned());
        let mut minor: i64 = whole.parse().map_err(|_| out_of_range())?;
        minor = minor
            .checked_mul(10_i64.pow(exponent))
            .ok_or_else(out_of_range)?;
        if !significant_fraction.is_empty() {
            let scale = 10_i64.pow(exponent - significant_fraction.len() as u32);
            let fraction_minor: i64 = significant_fraction.parse().map_err(|_| not_a_number())?;
            minor = minor
                .checked_add(fraction_minor * scale)
                .ok_or_else(out_of_range)?;
        }
        Ok(Money {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }

    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// Whether the amount is above zero.
    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// Whether the amount is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// The nearest double, for providers whose wire format documents a Double amount.
    pub fn to_f64(&self) -> f64 {
        self.minor as f64 / 10_f64.powi(self.currency.exponent() as i32)
    }

    /// `self + other`, refusing a currency mismatch or overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| MoneyError::OutOfRange(format!("{self} + {other}")))?;
        Ok(Money::from_minor(minor, self.currency.clone()))
    }

    /// `self - other`, refusing a currency mismatch or overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or_else(|| MoneyError::OutOfRange(format!("{self} - {other}")))?;
        Ok(Money::from_minor(minor, self.currency.clone()))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(
                self.currency.code().to_owned(),
                other.currency.code().to_owned(),
            ))
        }
    }
}

/// Formats the amount alone with exactly the currency's decimals, e.g. `12.50`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{magnitude}");
        }
        let scale = 10_u64.pow(exponent);
        write!(
            f,
            "{sign}{}.{:0width$}",
            magnitude / scale,
            magnitude % scale,
            width = exponent as usize
        )
    }
}

/// Serialises as `{"amount": "12.50", "currency": "USD"}` so JSON readers never see a float.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Money", 2)?;
        s.serialize_field("amount", &self.to_string())?;
        s.serialize_field("currency", &self.currency)?;
        s.end()
    }
}

/// Read back from `{"amount": "12.50", "currency": "USD"}`, as exactly as it was written.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            amount: String,
            currency: Currency,
        }
        let written = Written::deserialize(deserializer)?;
        Money::parse(&written.amount, written.currency).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "amount": { "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$" },
                "currency": { "type": "string", "pattern": "^[A-Z]{3,5}$" }
            },
            "required": ["amount", "currency"],
            "additionalProperties": false
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_back_what_it_writes() {
        for (amount, code) in [
            ("12.50", "USD"),
            ("-0.01", "USD"),
            ("1000", "JPY"),
            ("0.01", "TUSDT"),
        ] {
            let money = Money::parse(amount, Currency::new(code).unwrap()).unwrap();
            let json = serde_json::to_string(&money).unwrap();
            assert_eq!(
                serde_json::from_str::<Money>(&json).unwrap(),
                money,
                "{json}"
            );
        }
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.001","currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Currency>(r#""usd""#).is_err());
    }

    fn usd() -> Currency {
        Currency::new("USD").unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        for (text, minor, shown) in [
            ("100", 10_000, "100.00"),
            ("0.1", 10, "0.10"),
            ("12.50", 1_250, "12.50"),
            ("-3.07", -307, "-3.07"),
            ("0.010", 1, "0.01"),
        ] {
            let money = Money::parse(text, usd()).unwrap();
            assert_eq!(money.minor(), minor, "{text}");
            assert_eq!(money.to_string(), shown, "{text}");
        }
    }

    #[test]
    fn refuses_bad_amounts() {
        for text in ["", "abc", "1.", ".5", "1..2", "1e3", "+1", "1.2.3", " 1"] {
            assert!(
                matches!(Money::parse(text, usd()), Err(MoneyError::NotANumber(_))),
                "{text}"
            );
        }
        assert!(matches!(
            Money::parse("0.001", usd()),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse("99999999999999999999", usd()),
            Err(MoneyError::OutOfRange(_))
        ));
    }

    #[test]
    fn respects_currency_exponent() {
        let yen = Currency::new("JPY").unwrap();
        assert_eq!(Money::parse("500", yen.clone()).unwrap().to_string(), "500");
        assert!(Money::parse("1.5", yen).is_err());
        let dinar = Currency::new("KWD").unwrap();
        assert_eq!(Money::parse("1.5", dinar).unwrap().to_string(), "1.500");
    }

    #[test]
    fn arithmetic_checks_currency() {
        let a = Money::parse("1.25", usd()).unwrap();
        let b = Money::parse("0.75", usd()).unwrap();
        assert_eq!(a.checked_add(&b).unwrap().to_string(), "2.00");
        assert_eq!(b.checked_sub(&a).unwrap().to_string(), "-0.50");
        let cny = Money::zero(Currency::new("CNY").unwrap());
        assert!(a.checked_add(&cny).is_err());
    }

    #[test]
    fn currency_codes_are_validated() {
        assert!(Currency::new("TUSDT").is_ok());
        for bad in ["usd", "US", "DOLLARS", "U$D"] {
            assert!(Currency::new(bad).is_err(), "{bad}");
        }
    }
}
