//! Pagsmile's wire format: the common request envelope, operation answers and failures.
//!
//! Request: `{app_id, partner_id, sub_partner_id, request_id, timestamp, format, version,
//! sign_type, biz_data, random_key, language}`. Success: `{"code":"10000","msg":"Success",
//! "data":<sealed>,"total"?,"random_key","sign_type":"RSA","app_id"}`, or just `code`/`msg`
//! when there is no data. Failure: `{code, msg, sub_code, sub_msg}` in clear.

use jiff::civil::DateTime;
use serde::Serialize;
use serde_json::{Map, Value};

use super::settings::ErrorKind;
use crate::providers::fields::Fields;

/// The envelope fields the gateway acts on, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestEnvelope {
    pub app_id: String,
    pub partner_id: String,
    pub request_id: String,
    pub biz_data: String,
    pub random_key: String,
}

/// Reads and checks the common envelope.
pub fn parse_envelope(bytes: &[u8]) -> Result<RequestEnvelope, OpError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| OpError::field("body", format!("is not JSON ({e})")))?;
    let map = value
        .as_object()
        .ok_or_else(|| OpError::field("body", "must be a JSON object"))?;
    let fields = Fields::new(map);
    let app_id = fields.text("app_id", 1, 64)?;
    let partner_id = fields.text("partner_id", 1, 64)?;
    fields.optional_text("sub_partner_id", 1, 64)?;
    let request_id = fields.text("request_id", 1, 64)?;
    let timestamp = fields.text("timestamp", 1, 19)?;
    if DateTime::strptime("%Y-%m-%d %H:%M:%S", timestamp).is_err() || timestamp.len() != 19 {
        return Err(OpError::field("timestamp", "must be yyyy-MM-dd HH:mm:ss"));
    }
    if let Some(format) = fields.optional_text("format", 1, 8)?
        && !format.eq_ignore_ascii_case("JSON")
    {
        return Err(OpError::field("format", "must be JSON"));
    }
    let version = fields.text("version", 1, 8)?;
    if !matches!(version, "1.0" | "2.0") {
        return Err(OpError::field("version", "must be 1.0 or 2.0"));
    }
    if fields.text("sign_type", 1, 8)? != "RSA" {
        return Err(OpError::field("sign_type", "must be RSA"));
    }
    fields.optional_text("language", 1, 16)?;
    let biz_data = fields.text("biz_data", 1, usize::MAX)?;
    let random_key = fields.text("random_key", 1, 4096)?;
    Ok(RequestEnvelope {
        app_id: app_id.to_owned(),
        partner_id: partner_id.to_owned(),
        request_id: request_id.to_owned(),
        biz_data: biz_data.to_owned(),
        random_key: random_key.to_owned(),
    })
}

/// A failure of an operation in Pagsmile's catalog.
pub type OpError = crate::providers::failure::OpError<ErrorKind>;

impl crate::providers::failure::Catalog for ErrorKind {
    const INVALID_FIELD: ErrorKind = ErrorKind::InvalidArgument;
    const MISSING_FIELD: ErrorKind = ErrorKind::MissingArgument;
}

/// A successful operation's `data`.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Object(Map<String, Value>),
    /// A list, sent with `total`.
    List(Vec<Value>),
    /// No `data` at all (revoke, freeze, ...).
    Nothing,
}

/// A success with sealed data, in the documented field order.
#[derive(Debug, Serialize)]
pub struct SealedSuccess<'a> {
    pub code: &'a str,
    pub msg: &'a str,
    pub data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    pub random_key: String,
    pub sign_type: &'static str,
    pub app_id: &'a str,
}

/// A success without data.
#[derive(Debug, Serialize)]
pub struct BareSuccess<'a> {
    pub code: &'a str,
    pub msg: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Value {
        json!({
            "app_id": "2017051914172236111", "partner_id": "1666000000000001", "sub_partner_id": "",
            "request_id": "r1", "timestamp": "2026-01-01 10:00:00", "format": "JSON",
            "version": "2.0", "sign_type": "RSA", "biz_data": "x", "random_key": "y", "language": "en"
        })
    }

    fn parse(value: &Value) -> Result<RequestEnvelope, OpError> {
        parse_envelope(value.to_string().as_bytes())
    }

    #[test]
    fn a_documented_envelope_reads() {
        let read = parse(&envelope()).unwrap();
        assert_eq!(
            (read.app_id.as_str(), read.request_id.as_str()),
            ("2017051914172236111", "r1")
        );
        let mut v1 = envelope();
        v1["version"] = json!("1.0");
        v1.as_object_mut().unwrap().remove("format");
        assert!(parse(&v1).is_ok());
    }

    #[test]
    fn each_bad_field_is_named_with_missing_told_from_invalid() {
        let cases = [
            ("app_id", Value::Null, ErrorKind::MissingArgument),
            ("request_id", json!(""), ErrorKind::MissingArgument),
            ("random_key", Value::Null, ErrorKind::MissingArgument),
            (
                "timestamp",
                json!("2026-01-01T10:00:00"),
                ErrorKind::InvalidArgument,
            ),
            (
                "timestamp",
                json!("2026-13-01 10:00:00"),
                ErrorKind::InvalidArgument,
            ),
            ("version", json!("3.0"), ErrorKind::InvalidArgument),
            ("sign_type", json!("RSA2"), ErrorKind::InvalidArgument),
            ("format", json!("XML"), ErrorKind::InvalidArgument),
            ("partner_id", json!(16), ErrorKind::InvalidArgument),
        ];
        for (field, value, kind) in cases {
            let mut bad = envelope();
            bad[field] = value;
            let error = parse(&bad).unwrap_err();
            assert_eq!((error.kind, error.field.as_str()), (kind, field), "{field}");
        }
        let error = parse_envelope(b"[1]").unwrap_err();
        assert_eq!(error.field, "body");
        assert_eq!(parse_envelope(b"{").unwrap_err().field, "body");
    }
}
