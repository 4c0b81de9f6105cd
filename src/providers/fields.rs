//! The one reader of request bodies: fields of a JSON object read one by one, so that a
//! provider can answer a bad field with its own error naming the field. Providers map
//! [`FieldProblem`] onto their catalogs (or into their gateway's sentences); how a blank string
//! counts is the provider's choice ([`Blank`]).

use jiff::civil::Date;
use serde_json::{Map, Value};

use crate::world::countries::is_country_code;
use crate::world::{Currency, Money};

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// Dotted path, e.g. `holder.address.city_name`.
    pub field: String,
    pub reason: String,
    /// The field is absent (or null), as opposed to present but invalid.
    pub missing: bool,
    /// Refused only because the reader's typing is [`Typing::Exact`].
    pub typing_rule: bool,
}

impl FieldProblem {
    pub fn invalid(field: &str, reason: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            reason: reason.into(),
            missing: false,
            typing_rule: false,
        }
    }

    pub fn missing(field: &str) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            reason: "is required".to_owned(),
            missing: true,
            typing_rule: false,
        }
    }
}

/// What a string with nothing in it means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Blank {
    /// `""` counts as absent.
    #[default]
    Absent,
    /// `""` is refused ("must not be empty"); spaces are text.
    Refused,
    /// `""` and spaces alone are refused ("must not be empty").
    RefusedWithSpaces,
}

/// The `relax:` name of [`Typing::Exact`] in every provider that applies it.
pub const TYPING_RULE: &str = "json_types";

/// How closely a field's JSON type must follow the provider's documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Typing {
    /// A string of digits reads as an integer (`"3"` for `3`) and a number as an amount
    /// (`100.5` for `"100.50"`).
    #[default]
    Coerced,
    /// Integers only as JSON numbers, amounts only as JSON strings, as documented where an API
    /// types them `integer`/`long` and `string`.
    Exact,
}

/// A JSON object and the path it sits at (for nested objects).
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    blank: Blank,
    typing: Typing,
}

impl<'a> Fields<'a> {
    /// The top-level object.
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: String::new(),
            blank: Blank::Absent,
            typing: Typing::Coerced,
        }
    }

    /// Reads integers and amounts as `typing` says (nested objects too).
    #[must_use]
    pub fn with_typing(mut self, typing: Typing) -> Fields<'a> {
        self.typing = typing;
        self
    }

    /// Reads blank strings as `blank` says (nested objects too).
    #[must_use]
    pub fn with_blank(mut self, blank: Blank) -> Fields<'a> {
        self.blank = blank;
        self
    }

    /// The dotted path of a field of this object.
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// Whether the field is present and not null.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A nested object, if present.
    pub fn object(&self, name: &str) -> Result<Option<Fields<'a>>, FieldProblem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                map,
                prefix: format!("{}.", self.path(name)),
                blank: self.blank,
                typing: self.typing,
            })),
            Some(_) => Err(FieldProblem::invalid(&self.path(name), "must be an object")),
        }
    }

    /// An optional string of `min..=max` characters; a blank one as [`Blank`] says.
    pub fn optional_text(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&'a str>, FieldProblem> {
        let empty = || FieldProblem::invalid(&self.path(name), "must not be empty");
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() && self.blank == Blank::Absent => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(empty()),
            Some(Value::String(s))
                if self.blank == Blank::RefusedWithSpaces && s.trim().is_empty() =>
            {
                Err(empty())
            }
            Some(Value::String(s)) => {
                let length = s.chars().count();
                if length < min || length > max {
                    let reason = if min == max {
                        format!("must be exactly {max} characters")
                    } else if min <= 1 {
                        format!("must be at most {max} characters")
                    } else {
                        format!("must be {min} to {max} characters")
                    };
                    Err(FieldProblem::invalid(&self.path(name), reason))
                } else {
                    Ok(Some(s))
                }
            }
            Some(_) => Err(FieldProblem::invalid(&self.path(name), "must be a string")),
        }
    }

    /// A required, non-empty string of `min..=max` characters.
    pub fn text(&self, name: &str, min: usize, max: usize) -> Result<&'a str, FieldProblem> {
        self.optional_text(name, min, max)?
            .ok_or_else(|| FieldProblem::missing(&self.path(name)))
    }

    /// An optional integer (a JSON number, or digits in a string as some clients send ids).
    pub fn optional_integer(&self, name: &str) -> Result<Option<i64>, FieldProblem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| FieldProblem::invalid(&self.path(name), "must be an integer")),
            Some(Value::String(s)) if self.typing == Typing::Exact => Err(FieldProblem {
                typing_rule: true,
                ..FieldProblem::invalid(
                    &self.path(name),
                    format!("must be an integer (a JSON number, not the string {s:?})"),
                )
            }),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse()
                .map(Some)
                .map_err(|_| FieldProblem::invalid(&self.path(name), "is too large")),
            Some(_) => Err(FieldProblem::invalid(
                &self.path(name),
                "must be an integer",
            )),
        }
    }

    /// A required integer.
    pub fn integer(&self, name: &str) -> Result<i64, FieldProblem> {
        self.optional_integer(name)?
            .ok_or_else(|| FieldProblem::missing(&self.path(name)))
    }

    /// An optional integer written as a JSON number only.
    pub fn optional_number(&self, name: &str) -> Result<Option<i64>, FieldProblem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| FieldProblem::invalid(&self.path(name), "must be an integer")),
            Some(_) => Err(FieldProblem::invalid(
                &self.path(name),
                "must be an integer",
            )),
        }
    }

    /// A whole count in `min..=max` written as a JSON number (`10` and `10.0` alike, where an
    /// API types it Number); `default` when absent.
    pub fn count(&self, name: &str, min: u64, max: u64, default: u64) -> Result<u64, FieldProblem> {
        let out_of_range = || {
            FieldProblem::invalid(
                &self.path(name),
                format!("must be an integer from {min} to {max}"),
            )
        };
        match self.get(name) {
            None => Ok(default),
            Some(Value::Number(n)) => {
                let value = n.as_u64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= max as f64)
                        .map(|f| f as u64)
                });
                value
                    .filter(|v| (min..=max).contains(v))
                    .ok_or_else(out_of_range)
            }
            Some(_) => Err(FieldProblem::invalid(&self.path(name), "must be a number")),
        }
    }

    /// A required boolean.
    pub fn flag(&self, name: &str) -> Result<bool, FieldProblem> {
        self.optional_flag(name)?
            .ok_or_else(|| FieldProblem::missing(&self.path(name)))
    }

    /// A required value from a fixed set (at most 64 characters).
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<&'a str, FieldProblem> {
        let value = self.text(name, 1, 64)?;
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(FieldProblem::invalid(
                &self.path(name),
                format!("must be one of {}", allowed.join(", ")),
            ))
        }
    }

    /// A field's JSON value as sent (null counts as absent), for shapes the readers above do
    /// not cover.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    /// An optional boolean.
    pub fn optional_flag(&self, name: &str) -> Result<Option<bool>, FieldProblem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(FieldProblem::invalid(
                &self.path(name),
                "must be true or false",
            )),
        }
    }

    /// An optional date written `yyyy-MM-dd`.
    pub fn optional_date(&self, name: &str) -> Result<Option<Date>, FieldProblem> {
        let Some(text) = self.optional_text(name, 1, 10)? else {
            return Ok(None);
        };
        Date::strptime("%Y-%m-%d", text)
            .ok()
            .filter(|_| text.len() == 10)
            .map(Some)
            .ok_or_else(|| FieldProblem::invalid(&self.path(name), "must be a date yyyy-MM-dd"))
    }

    /// A required date written `yyyy-MM-dd`.
    pub fn date(&self, name: &str) -> Result<Date, FieldProblem> {
        self.optional_date(name)?
            .ok_or_else(|| FieldProblem::missing(&self.path(name)))
    }

    /// A required ISO 3166 alpha-2 country code (upper case).
    pub fn country(&self, name: &str) -> Result<&'a str, FieldProblem> {
        let code = self.text(name, 2, 2)?;
        if is_country_code(code) {
            Ok(code)
        } else {
            Err(FieldProblem::invalid(
                &self.path(name),
                "must be an ISO 3166 two-letter country code",
            ))
        }
    }

    /// An optional non-negative amount in `currency`, as a decimal string (or a number); an
    /// empty string counts as absent.
    pub fn optional_amount(
        &self,
        name: &str,
        currency: &Currency,
    ) -> Result<Option<Money>, FieldProblem> {
        let text = match self.get(name) {
            None => return Ok(None),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if self.typing == Typing::Exact => {
                return Err(FieldProblem {
                    typing_rule: true,
                    ..FieldProblem::invalid(
                        &self.path(name),
                        format!(
                            "must be a decimal amount in a JSON string (\"{n}\"), not the number {n}"
                        ),
                    )
                });
            }
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(FieldProblem::invalid(
                    &self.path(name),
                    "must be a decimal amount",
                ));
            }
        };
        let money = Money::parse(text.trim(), currency.clone())
            .map_err(|e| FieldProblem::invalid(&self.path(name), e.to_string()))?;
        if money.is_negative() {
            return Err(FieldProblem::invalid(
                &self.path(name),
                "must not be negative",
            ));
        }
        Ok(Some(money))
    }

    /// A required positive amount written as a JSON number (a Double on the wire).
    pub fn number_amount(&self, name: &str, currency: &Currency) -> Result<Money, FieldProblem> {
        let text = match self.get(name) {
            Some(Value::Number(n)) => n.to_string(),
            None => return Err(FieldProblem::missing(&self.path(name))),
            Some(_) => return Err(FieldProblem::invalid(&self.path(name), "must be a number")),
        };
        let money = Money::parse(&text, currency.clone())
            .map_err(|e| FieldProblem::invalid(&self.path(name), e.to_string()))?;
        if money.is_positive() {
            Ok(money)
        } else {
            Err(FieldProblem::invalid(
                &self.path(name),
                "must be greater than 0",
            ))
        }
    }

    /// A required positive amount.
    pub fn amount(&self, name: &str, currency: &Currency) -> Result<Money, FieldProblem> {
        let money = self
            .optional_amount(name, currency)?
            .ok_or_else(|| FieldProblem::missing(&self.path(name)))?;
        if money.is_positive() {
            Ok(money)
        } else {
            Err(FieldProblem::invalid(
                &self.path(name),
                "must be greater than 0",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_nested_fields_and_tell_missing_from_invalid() {
        let value = serde_json::json!({ "a": "", "n": "12", "x": 1.5, "holder": { "address": { "city_name": "abc" } } });
        let map = value.as_object().unwrap();
        let fields = Fields::new(map);
        assert_eq!(
            fields.text("a", 1, 5).unwrap_err(),
            FieldProblem::missing("a")
        );
        assert_eq!(fields.integer("n"), Ok(12));
        assert_eq!(
            fields.integer("x").unwrap_err().reason,
            "must be an integer"
        );
        let address = fields
            .object("holder")
            .unwrap()
            .unwrap()
            .object("address")
            .unwrap()
            .unwrap();
        let problem = address.text("city_name", 4, 80).unwrap_err();
        assert_eq!(
            (
                problem.field.as_str(),
                problem.reason.as_str(),
                problem.missing
            ),
            (
                "holder.address.city_name",
                "must be 4 to 80 characters",
                false
            )
        );
        let usd = Currency::new("USD").unwrap();
        assert!(fields.amount("missing", &usd).unwrap_err().missing);
        let dated = serde_json::json!({ "d": "2024-02-29", "bad": "2023-02-29", "short": "2024-2-1", "c": "BR", "lower": "br" });
        let dated = Fields::new(dated.as_object().unwrap());
        assert_eq!(dated.date("d"), Ok(Date::constant(2024, 2, 29)));
        assert!(!dated.date("bad").unwrap_err().missing);
        assert!(!dated.date("short").unwrap_err().missing);
        assert_eq!(dated.optional_date("none"), Ok(None));
        assert_eq!(dated.country("c"), Ok("BR"));
        assert!(dated.country("lower").is_err());
    }

    #[test]
    fn exact_typing_refuses_digit_strings_for_integers_and_numbers_for_amounts() {
        let value = serde_json::json!({ "id": "20000001", "n": 3, "amt": 10.5, "text": "10.50",
                                        "nested": { "count": "3" } });
        let usd = Currency::new("USD").unwrap();
        let coerced = Fields::new(value.as_object().unwrap());
        assert_eq!(coerced.integer("id"), Ok(20000001));
        assert!(coerced.optional_amount("amt", &usd).unwrap().is_some());
        let exact = coerced.clone().with_typing(Typing::Exact);
        assert_eq!(exact.integer("n"), Ok(3));
        assert_eq!(
            exact.integer("id").unwrap_err().reason,
            "must be an integer (a JSON number, not the string \"20000001\")"
        );
        assert!(exact.optional_amount("text", &usd).unwrap().is_some());
        let amount = exact.optional_amount("amt", &usd).unwrap_err();
        assert_eq!(
            (amount.field.as_str(), amount.reason.as_str()),
            (
                "amt",
                "must be a decimal amount in a JSON string (\"10.5\"), not the number 10.5"
            )
        );
        let nested = exact.object("nested").unwrap().unwrap();
        assert_eq!(nested.integer("count").unwrap_err().field, "nested.count");
    }

    #[test]
    fn blank_strings_numbers_and_amounts_as_strict_providers_read_them() {
        let value = serde_json::json!({"a":"","s":"  ","b":5,"c":"x","n":0,"amt":"5","neg":-1,"big":1.001,"ten":10.0});
        let body = Fields::new(value.as_object().unwrap()).with_blank(Blank::RefusedWithSpaces);
        assert_eq!(
            body.text("a", 1, 10).unwrap_err().reason,
            "must not be empty"
        );
        assert_eq!(
            body.text("s", 1, 10).unwrap_err().reason,
            "must not be empty"
        );
        let spaces = Fields::new(value.as_object().unwrap()).with_blank(Blank::Refused);
        assert_eq!(spaces.text("s", 1, 10), Ok("  "));
        assert_eq!(
            spaces.text("a", 1, 10).unwrap_err().reason,
            "must not be empty"
        );
        assert_eq!(
            body.text("b", 1, 10).unwrap_err().reason,
            "must be a string"
        );
        assert_eq!(body.text("zz", 1, 10).unwrap_err().field, "zz");
        assert_eq!(
            body.text("c", 0, 0).unwrap_err().reason,
            "must be exactly 0 characters"
        );
        assert_eq!(
            body.count("n", 1, 10, 5).unwrap_err().reason,
            "must be an integer from 1 to 10"
        );
        assert_eq!(body.count("missing", 1, 10, 5), Ok(5));
        assert_eq!(body.count("ten", 1, 10, 5), Ok(10));
        assert_eq!(body.optional_number("b"), Ok(Some(5)));
        assert!(body.optional_number("amt").is_err());
        let usd = Currency::new("USD").unwrap();
        assert_eq!(
            body.number_amount("amt", &usd).unwrap_err().reason,
            "must be a number"
        );
        assert_eq!(
            body.number_amount("neg", &usd).unwrap_err().reason,
            "must be greater than 0"
        );
        assert!(
            body.number_amount("big", &usd)
                .unwrap_err()
                .reason
                .contains("decimal places")
        );
        assert!(body.number_amount("missing", &usd).unwrap_err().missing);
    }
}
