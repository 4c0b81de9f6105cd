//! KeySecure's two secrets-based primitives, both keyed with the merchant's apiSecret (UTF-8):
//!
//! - sensitive fields (card private info, an activation CVV, a PIN): Base64 of
//!   AES/ECB/PKCS5Padding, the secret's length choosing AES-128/192/256;
//! - callback signatures (V1): lowercase hex HMAC-SHA256 over `k=v&...` of `appId`,
//!   `timestamp` and every non-null field of `data`, keys in ASCII order, strings as they are
//!   and other values as compact JSON.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::crypto::{CryptoError, aes};

/// Encrypts `plaintext` for the merchant.
pub fn encrypt(secret: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
    Ok(BASE64.encode(aes::ecb_encrypt(secret.as_bytes(), plaintext)?))
}

/// Decrypts a field the merchant encrypted.
pub fn decrypt(secret: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|_| CryptoError::Encoding("Base64"))?;
    aes::ecb_decrypt(secret.as_bytes(), &bytes)
}

/// The string a callback signature covers.
pub fn signing_string(app_id: &str, timestamp: &str, data: &Map<String, Value>) -> String {
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    fields.insert("appId", app_id.to_owned());
    fields.insert("timestamp", timestamp.to_owned());
    for (key, value) in data {
        match value {
            Value::Null => {}
            Value::String(text) => {
                fields.insert(key, text.clone());
            }
            other => {
                fields.insert(key, without_nulls(other).to_string());
            }
        }
    }
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `value` without null members at any depth, as fastjson writes objects by default.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The V1 signature of a callback.
pub fn sign(secret: &str, app_id: &str, timestamp: &str, data: &Map<String, Value>) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(signing_string(app_id, timestamp, data).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "DemoKeySecureApiSecret0123456789";

    #[test]
    fn the_signing_string_sorts_keys_skips_nulls_and_writes_json_for_the_rest() {
        let data = json!({ "status": "Pending", "amount": 12.5, "merchant_info": { "b": 1, "a": "x", "c": null }, "reason": null, "card_no": "C1" });
        assert_eq!(
            signing_string("key", "1716307200000", data.as_object().unwrap()),
            r#"amount=12.5&appId=key&card_no=C1&merchant_info={"b":1,"a":"x"}&status=Pending&timestamp=1716307200000"#
        );
    }

    /// Vectors made with the OpenSSL CLI: see fixtures/vectors/keysecure/make-vectors.sh.
    #[test]
    fn openssl_made_vectors_agree() {
        let vectors: Value = serde_json::from_str(include_str!(
            "../../../fixtures/vectors/keysecure/vectors.json"
        ))
        .unwrap();
        let aes = &vectors["aes"];
        assert_eq!(
            encrypt(SECRET, aes["plaintext"].as_str().unwrap().as_bytes()).unwrap(),
            aes["base64"].as_str().unwrap()
        );
        assert_eq!(
            decrypt(SECRET, aes["base64"].as_str().unwrap()).unwrap(),
            aes["plaintext"].as_str().unwrap().as_bytes()
        );
        let hmac = &vectors["hmac"];
        let data = json!({ "card_no": "C1", "status": "Activated" });
        assert_eq!(
            signing_string(
                "demo-keysecure-api-key",
                "1716307200000",
                data.as_object().unwrap()
            ),
            hmac["message"].as_str().unwrap()
        );
        assert_eq!(
            sign(
                SECRET,
                "demo-keysecure-api-key",
                "1716307200000",
                data.as_object().unwrap()
            ),
            hmac["hex"].as_str().unwrap()
        );
    }

    #[test]
    fn undecryptable_fields_are_errors() {
        assert!(decrypt(SECRET, "!!").is_err());
        assert!(decrypt(SECRET, &BASE64.encode([0u8; 16])).is_err());
    }
}
