//! AceData's wire format: request bodies, result bodies and the gateway error shape.

use serde::Serialize;
use serde_json::{Map, Value};

/// `check-1e` answer: `{"result","description","account_bank","account_type"}`.
#[derive(Debug, Serialize)]
pub struct LookupResult {
    pub result: String,
    pub description: String,
    pub account_bank: String,
    /// 1 debit, 2 credit, 3 prepaid, 4 quasi-credit; -1 when nothing was found (as upstream).
    pub account_type: i64,
}

/// `check-2e/3e/4e` answer: `{"result","description"}`.
#[derive(Debug, Serialize)]
pub struct VerifyResult {
    pub result: String,
    pub description: String,
}

/// A business answer of either kind; serialised as the inner object.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Lookup(LookupResult),
    Verify(VerifyResult),
}

/// Gateway error: `{"success":false,"error":{"code","message"},"trace_id"}`.
#[derive(Debug, Serialize)]
pub struct GatewayErrorBody<'a> {
    pub success: bool,
    pub error: GatewayErrorDetail<'a>,
    pub trace_id: String,
}

#[derive(Debug, Serialize)]
pub struct GatewayErrorDetail<'a> {
    pub code: &'a str,
    pub message: String,
}

/// The request fields the sandbox reads, type-checked one by one so that errors can name the
/// field. Unknown fields are ignored, as a gateway in front of a JSON API usually does.
#[derive(Debug)]
pub struct Fields {
    body: Map<String, Value>,
}

/// Why a request body was refused; the text becomes the gateway error's message.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldError(pub String);

impl Fields {
    /// Parses a body that must be a JSON object.
    pub fn parse(body: &[u8]) -> Result<Fields, FieldError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(body)) => Ok(Fields { body }),
            Ok(_) => Err(FieldError(
                "The request body must be a JSON object.".to_owned(),
            )),
            Err(_) if body.is_empty() => Err(FieldError(
                "The request body is empty; send a JSON object.".to_owned(),
            )),
            Err(e) => Err(FieldError(format!(
                "The request body is not valid JSON: {e}."
            ))),
        }
    }

    /// A required string field.
    pub fn required_str(&self, name: &str) -> Result<&str, FieldError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Err(FieldError(format!("The field `{name}` is required."))),
            Some(Value::String(s)) if s.is_empty() => {
                Err(FieldError(format!("The field `{name}` must not be empty.")))
            }
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(FieldError(format!("The field `{name}` must be a string."))),
        }
    }

    /// An optional string field: absent or null is `None`, anything else must be a string.
    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, FieldError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.required_str(name).map(Some),
        }
    }

    /// An optional integer field (`cert_type`).
    pub fn optional_int(&self, name: &str) -> Result<Option<i64>, FieldError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| FieldError(format!("The field `{name}` must be an integer."))),
            Some(_) => Err(FieldError(format!(
                "The field `{name}` must be an integer."
            ))),
        }
    }

    /// `encryption` is accepted and not applied (its keys are the caller's own); it must at
    /// least have the documented shape: an object or an array of objects.
    pub fn check_encryption(&self) -> Result<(), FieldError> {
        match self.body.get("encryption") {
            None | Some(Value::Null | Value::Object(_)) => Ok(()),
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(()),
            Some(_) => Err(FieldError(
                "The field `encryption` must be an object or an array of objects.".to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field() {
        let f = Fields::parse(br#"{"bank_card": 6222, "name": "", "cert_type": "0"}"#).unwrap();
        assert_eq!(
            f.required_str("bank_card").unwrap_err().0,
            "The field `bank_card` must be a string."
        );
        assert_eq!(
            f.required_str("name").unwrap_err().0,
            "The field `name` must not be empty."
        );
        assert_eq!(
            f.required_str("phone").unwrap_err().0,
            "The field `phone` is required."
        );
        assert!(f.optional_int("cert_type").is_err());
        assert!(Fields::parse(b"[1]").is_err());
        assert!(Fields::parse(b"").unwrap_err().0.contains("empty"));
        assert!(
            Fields::parse(b"{")
                .unwrap_err()
                .0
                .contains("not valid JSON")
        );
    }
}
