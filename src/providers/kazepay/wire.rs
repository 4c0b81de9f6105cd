//! KazePay's wire format: the envelope's head and body, and its catalog's error type (decrypted
//! bodies are read with the shared field readers; their problems name the field,
//! `PARAM_ERROR`).

use serde::Serialize;
use serde_json::Value;

use super::settings::ErrorKind;

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
}
