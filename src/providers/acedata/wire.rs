//! AceData's wire format: request bodies, result bodies and the gateway error shape.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::providers::fields::{Blank, FieldProblem, Fields};

/// `check-1e` answer: `{"result","description","account_bank","account_type"}`.
#[derive(Debug, Serialize)]
pub struct LookupResult {
    pub result: String,
    pub description: String,
    pub account_bank: String,
    /// 1 debit, 2 credit, 3 prepaid, 4 quasi-credit; the section's `failure_account_type`
    /// (-1, as upstream) when nothing was found.
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

/// Why a request body was refused; the text becomes the gateway error's message.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldError(pub String);

impl From<FieldProblem> for FieldError {
    /// The gateway's sentence for a bad field.
    fn from(problem: FieldProblem) -> FieldError {
        FieldError(format!("The field `{}` {}.", problem.field, problem.reason))
    }
}

/// The body, which must be a JSON object: its fields, read one by one so that errors name the
/// field (an empty string is refused, not absent). Unknown fields are ignored, as a gateway in
/// front of a JSON API usually does.
pub fn parse(body: &[u8]) -> Result<Map<String, Value>, FieldError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(body)) => Ok(body),
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

/// How the gateway reads a body's fields.
pub fn fields(body: &Map<String, Value>) -> Fields<'_> {
    Fields::new(body).with_blank(Blank::Refused)
}

/// `encryption` is accepted and not applied (its keys are the caller's own); it must at least
/// have the documented shape: an object or an array of objects.
pub fn check_encryption(fields: &Fields<'_>) -> Result<(), FieldError> {
    match fields.value("encryption") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(()),
        Some(_) => Err(FieldError(
            "The field `encryption` must be an object or an array of objects.".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field() {
        let body = parse(br#"{"bank_card": 6222, "name": "", "cert_type": "0"}"#).unwrap();
        let f = fields(&body);
        let error = |problem: FieldProblem| FieldError::from(problem).0;
        assert_eq!(
            error(f.text("bank_card", 1, usize::MAX).unwrap_err()),
            "The field `bank_card` must be a string."
        );
        assert_eq!(
            error(f.text("name", 1, usize::MAX).unwrap_err()),
            "The field `name` must not be empty."
        );
        assert_eq!(
            error(f.text("phone", 1, usize::MAX).unwrap_err()),
            "The field `phone` is required."
        );
        assert_eq!(
            error(f.optional_number("cert_type").unwrap_err()),
            "The field `cert_type` must be an integer."
        );
        assert!(parse(b"[1]").is_err());
        assert!(parse(b"").unwrap_err().0.contains("empty"));
        assert!(parse(b"{").unwrap_err().0.contains("not valid JSON"));
    }
}
