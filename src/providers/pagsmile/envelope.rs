//! The Pagsmile hybrid envelope, both directions (there is no signature; `sign_type: "RSA"`
//! only names the scheme):
//!
//! - `random_key` = Base64 of RSA PKCS#1 v1.5 encryption, under the recipient's public key, of a
//!   16-character ASCII key;
//! - `biz_data` (and a response's `data`) = 16 ASCII hex characters of IV followed by Base64 of
//!   AES-128-CBC/PKCS#7 of the JSON, keyed with the key's ASCII bytes and the IV's ASCII bytes.

use crate::crypto::rsa::{PrivateKey, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngExt;

use crate::crypto::rsa::{unwrap, wrap};
use crate::crypto::{CryptoError, aes};
use crate::world::rng::SandboxRng;

/// The encrypted parts of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// `biz_data` in a request, `data` in a response.
    pub data: String,
    pub random_key: String,
}

/// Which part could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("random_key: {0}")]
    Key(CryptoError),
    #[error("biz_data: {0}")]
    Data(CryptoError),
}

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Encrypts `plaintext` for the holder of `recipient` with a fresh key and IV.
pub fn seal(
    plaintext: &[u8],
    recipient: &PublicKey,
    rng: &mut SandboxRng,
) -> Result<Sealed, CryptoError> {
    let key: String = (0..16)
        .map(|_| char::from(KEY_ALPHABET[rng.random_range(0..KEY_ALPHABET.len())]))
        .collect();
    let iv = hex::encode_upper(rng.random::<[u8; 8]>());
    seal_with(plaintext, recipient, &key, &iv, rng)
}

/// Encrypts with a given ASCII key and 16-character IV (for reproducible vectors).
pub fn seal_with(
    plaintext: &[u8],
    recipient: &PublicKey,
    key: &str,
    iv: &str,
    rng: &mut SandboxRng,
) -> Result<Sealed, CryptoError> {
    let ciphertext = aes::cbc_encrypt(key.as_bytes(), iv.as_bytes(), plaintext)?;
    Ok(Sealed {
        data: format!("{iv}{}", BASE64.encode(ciphertext)),
        random_key: BASE64.encode(wrap(recipient, key.as_bytes(), rng)?),
    })
}

/// Opens a message addressed to the holder of `recipient`.
pub fn open(sealed: &Sealed, recipient: &PrivateKey) -> Result<Vec<u8>, OpenError> {
    let wrapped = BASE64
        .decode(sealed.random_key.trim())
        .map_err(|_| OpenError::Key(CryptoError::Encoding("Base64")))?;
    let key = unwrap(recipient, &wrapped).map_err(OpenError::Key)?;
    let data = sealed.data.trim();
    let (iv, body) = data
        .split_at_checked(16)
        .ok_or(OpenError::Data(CryptoError::Encoding(
            "a 16-character IV followed by Base64",
        )))?;
    let ciphertext = BASE64
        .decode(body)
        .map_err(|_| OpenError::Data(CryptoError::Encoding("Base64")))?;
    aes::cbc_decrypt(&key, iv.as_bytes(), &ciphertext).map_err(OpenError::Data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::{private_key, public_key};
    use crate::world::rng::stream;

    fn platform() -> (PrivateKey, PublicKey) {
        let key = super::super::PLATFORM;
        (
            private_key(key.private_pem).unwrap(),
            public_key(key.public_pem).unwrap(),
        )
    }

    #[test]
    fn seal_then_open_round_trips_with_an_ascii_key_and_hex_iv() {
        let (private, public) = platform();
        let sealed = seal(br#"{"card_token":"x"}"#, &public, &mut stream(1, "t")).unwrap();
        assert!(
            sealed.data[..16]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
        );
        assert_eq!(open(&sealed, &private).unwrap(), br#"{"card_token":"x"}"#);
    }

    #[test]
    fn broken_parts_are_named() {
        let (private, public) = platform();
        let sealed = seal(b"{}", &public, &mut stream(1, "t")).unwrap();
        let broken = |f: fn(&mut Sealed)| {
            let mut copy = sealed.clone();
            f(&mut copy);
            open(&copy, &private).unwrap_err()
        };
        assert!(matches!(
            broken(|s| s.random_key = "!".into()),
            OpenError::Key(_)
        ));
        assert!(matches!(
            broken(|s| s.random_key = BASE64.encode([0u8; 256])),
            OpenError::Key(_)
        ));
        assert!(matches!(
            broken(|s| s.data = "short".into()),
            OpenError::Data(_)
        ));
        assert!(matches!(
            broken(|s| s.data.truncate(20)),
            OpenError::Data(_)
        ));
    }

    /// Made by the OpenSSL CLI alone: see fixtures/vectors/pagsmile/make-requests.sh.
    #[test]
    fn a_request_made_by_openssl_opens() {
        let (private, _) = platform();
        let vector: serde_json::Value = serde_json::from_str(include_str!(
            "../../../fixtures/vectors/pagsmile/request.json"
        ))
        .unwrap();
        let request = &vector["request"];
        let sealed = Sealed {
            data: request["biz_data"].as_str().unwrap().to_owned(),
            random_key: request["random_key"].as_str().unwrap().to_owned(),
        };
        assert_eq!(
            std::str::from_utf8(&open(&sealed, &private).unwrap()).unwrap(),
            vector["plaintext"]
        );
    }
}
