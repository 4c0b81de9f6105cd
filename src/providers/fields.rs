//! Reading fields of a JSON object body one by one, so that a provider can answer a bad field
//! with its own error naming the field. Providers map [`FieldProblem`] onto their catalogs.

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
}

impl FieldProblem {
    pub fn invalid(field: &str, reason: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            reason: reason.into(),
            missing: false,
        }
    }

    pub fn missing(field: &str) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            reason: "is required".to_owned(),
            missing: true,
        }
    }
}

/// A JSON object and the path it sits at (for nested objects).
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    /// The top-level object.
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: String::new(),
        }
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
            })),
            Some(_) => Err(FieldProblem::invalid(&self.path(name), "must be an object")),
        }
    }

    /// An optional string of `min..=max` characters; an empty string counts as absent.
    pub fn optional_text(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&'a str>, FieldProblem> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
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
}
