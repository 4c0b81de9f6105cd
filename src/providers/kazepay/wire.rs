//! KazePay's wire format: the envelope's head and body, and field-by-field readers of decrypted
//! request bodies whose errors name the field (`PARAM_ERROR`).

use serde::Serialize;
use serde_json::{Map, Value};

use super::settings::ErrorKind;
use crate::world::{Currency, Money};

/// A response head, in the documented field order.
#[derive(Debug, Serialize)]
pub struct Head {
    #[serde(rename = "apiCode")]
    pub api_code: String,
    #[serde(rename = "sysId")]
    pub sys_id: String,
    #[serde(rename = "requestNo")]
    pub request_no: String,
    pub version: String,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign: Option<String>,
    #[serde(rename = "keyEnc", skip_serializing_if = "Option::is_none")]
    pub key_enc: Option<String>,
}

/// A response: `{"head": .., "body": {"encrypt": ..}}`; the body is `{}` for failures sent
/// in clear.
#[derive(Debug, Serialize)]
pub struct Response {
    pub head: Head,
    pub body: Value,
}

/// The head fields of a request, as far as they could be read.
#[derive(Clone, Debug, Default)]
pub struct RequestHead {
    pub api_code: String,
    pub sys_id: String,
    pub request_no: String,
    pub version: String,
    pub sign: String,
    pub key_enc: String,
}

/// A parsed request envelope.
#[derive(Debug)]
pub struct RequestEnvelope {
    pub head: RequestHead,
    pub encrypt: String,
}

/// An envelope that could not be read: what could be read of its head (for the echo) and why.
pub type EnvelopeError = Box<(RequestHead, String)>;

/// Reads an envelope.
pub fn parse_envelope(bytes: &[u8]) -> Result<RequestEnvelope, EnvelopeError> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => {
            return Err(Box::new((
                RequestHead::default(),
                format!("not JSON ({e})"),
            )));
        }
    };
    let head_value = value.get("head").and_then(Value::as_object);
    let text = |name: &str| {
        head_value
            .and_then(|h| h.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let head = RequestHead {
        api_code: text("apiCode"),
        sys_id: text("sysId"),
        request_no: text("requestNo"),
        version: text("version"),
        sign: text("sign"),
        key_enc: text("keyEnc"),
    };
    if head_value.is_none() {
        return Err(Box::new((head, "`head` must be an object".to_owned())));
    }
    for (name, value) in [
        ("apiCode", &head.api_code),
        ("sysId", &head.sys_id),
        ("requestNo", &head.request_no),
        ("sign", &head.sign),
        ("keyEnc", &head.key_enc),
    ] {
        if value.is_empty() {
            let reason = format!("`head.{name}` is required and must be a string");
            return Err(Box::new((head.clone(), reason)));
        }
    }
    let Some(encrypt) = value
        .get("body")
        .and_then(|b| b.get("encrypt"))
        .and_then(Value::as_str)
    else {
        let reason = "`body.encrypt` is required and must be a string".to_owned();
        return Err(Box::new((head, reason)));
    };
    Ok(RequestEnvelope {
        encrypt: encrypt.to_owned(),
        head,
    })
}

/// A failure of an operation in KazePay's catalog.
pub type OpError = crate::providers::failure::OpError<ErrorKind>;

impl crate::providers::failure::Catalog for ErrorKind {
    const INVALID_FIELD: ErrorKind = ErrorKind::InvalidField;
    const MISSING_FIELD: ErrorKind = ErrorKind::InvalidField;
}

/// A decrypted request body.
#[derive(Debug)]
pub struct Body {
    fields: Map<String, Value>,
}

impl Body {
    /// A decrypted body, which must be a JSON object.
    pub fn from_json(json: &Value) -> Result<Body, OpError> {
        match json {
            Value::Object(fields) => Ok(Body {
                fields: fields.clone(),
            }),
            _ => Err(OpError::new(ErrorKind::MalformedBody)),
        }
    }

    /// A required, non-empty string of at most `max` characters.
    pub fn text(&self, name: &str, max: usize) -> Result<&str, OpError> {
        self.optional_text(name, max)?
            .ok_or_else(|| OpError::field(name, "is required"))
    }

    /// An optional string; present means non-empty and at most `max` characters.
    pub fn optional_text(&self, name: &str, max: usize) -> Result<Option<&str>, OpError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(OpError::field(name, "must not be empty"))
            }
            Some(Value::String(s)) if s.chars().count() > max => Err(OpError::field(
                name,
                format!("must be at most {max} characters"),
            )),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(OpError::field(name, "must be a string")),
        }
    }

    /// A required boolean.
    pub fn flag(&self, name: &str) -> Result<bool, OpError> {
        match self.fields.get(name) {
            Some(Value::Bool(b)) => Ok(*b),
            None | Some(Value::Null) => Err(OpError::field(name, "is required")),
            Some(_) => Err(OpError::field(name, "must be true or false")),
        }
    }

    /// An optional integer in `min..=max`, `default` when absent (`10` and `10.0` alike: the
    /// docs' type is Number).
    pub fn number_in(&self, name: &str, min: u64, max: u64, default: u64) -> Result<u64, OpError> {
        let out_of_range =
            || OpError::field(name, format!("must be an integer from {min} to {max}"));
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(default),
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
            Some(_) => Err(OpError::field(name, "must be a number")),
        }
    }

    /// A required positive amount in `currency`, sent as a number (a Double on the wire).
    pub fn amount(&self, name: &str, currency: &Currency) -> Result<Money, OpError> {
        let text = match self.fields.get(name) {
            Some(Value::Number(n)) => n.to_string(),
            None | Some(Value::Null) => return Err(OpError::field(name, "is required")),
            Some(_) => return Err(OpError::field(name, "must be a number")),
        };
        let money = Money::parse(&text, currency.clone())
            .map_err(|e| OpError::field(name, e.to_string()))?;
        if money.is_positive() {
            Ok(money)
        } else {
            Err(OpError::field(name, "must be greater than 0"))
        }
    }

    /// A required value from a fixed set.
    pub fn one_of<'a>(&'a self, name: &str, allowed: &[&str]) -> Result<&'a str, OpError> {
        let value = self.text(name, 64)?;
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(OpError::field(
                name,
                format!("must be one of {}", allowed.join(", ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_errors_say_what_is_missing_and_keep_the_readable_head() {
        let (_, why) = *parse_envelope(b"nope").unwrap_err();
        assert!(why.starts_with("not JSON"));
        let (head, why) =
            *parse_envelope(br#"{"head":{"apiCode":"x","sysId":"s"},"body":{}}"#).unwrap_err();
        assert_eq!(
            (head.api_code.as_str(), why.as_str()),
            ("x", "`head.requestNo` is required and must be a string")
        );
        let ok = br#"{"head":{"apiCode":"a","sysId":"s","requestNo":"1","version":"1.0","sign":"00","keyEnc":"00"},"body":{"encrypt":"AA=="}}"#;
        assert_eq!(parse_envelope(ok).unwrap().encrypt, "AA==");
    }

    #[test]
    fn body_readers_name_the_field() {
        let body = Body::from_json(
            &serde_json::json!({"a":"","b":5,"c":"x","n":0,"amt":"5","neg":-1,"big":1.001}),
        )
        .unwrap();
        assert_eq!(body.text("a", 10).unwrap_err().reason, "must not be empty");
        assert_eq!(body.text("b", 10).unwrap_err().reason, "must be a string");
        assert_eq!(body.text("zz", 10).unwrap_err().field, "zz");
        assert_eq!(
            body.text("c", 0).unwrap_err().reason,
            "must be at most 0 characters"
        );
        assert_eq!(
            body.number_in("n", 1, 10, 5).unwrap_err().reason,
            "must be an integer from 1 to 10"
        );
        assert_eq!(body.number_in("missing", 1, 10, 5), Ok(5));
        let usd = Currency::new("USD").unwrap();
        assert_eq!(
            body.amount("amt", &usd).unwrap_err().reason,
            "must be a number"
        );
        assert_eq!(
            body.amount("neg", &usd).unwrap_err().reason,
            "must be greater than 0"
        );
        assert!(
            body.amount("big", &usd)
                .unwrap_err()
                .reason
                .contains("decimal places")
        );
        assert!(Body::from_json(&serde_json::json!([1])).is_err());
    }
}
