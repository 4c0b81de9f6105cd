//! The KazePay envelope: `{"head":{..,"sign","keyEnc"},"body":{"encrypt"}}` and its crypto
//! profile, in both directions.
//!
//! Sealing (either side): sign the UTF-8 plaintext with the sender's private key (PKCS#1 v1.5,
//! SHA-256 or SHA-1, lowercase hex → `sign`); draw a fresh AES-128 key; `encrypt` = Base64 of
//! AES-128-ECB/PKCS#7 of the plaintext; `keyEnc` = lowercase hex of the key (raw, or its Base64
//! text) RSA-PKCS#1-v1.5-encrypted for the recipient. Opening reverses it, upper- or
//! lower-case hex, and accepts exactly the sender's profile or, when asked to, either hash and
//! either key form.

use crate::crypto::rsa::{PrivateKey, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::crypto::rsa::{self as rsa_ops, SignatureHash};
use crate::crypto::{CryptoError, aes};
use crate::world::rng::SandboxRng;

/// How the AES key travels inside `keyEnc`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum KeyWrap {
    /// The 16 key bytes themselves.
    #[default]
    Raw,
    /// The key's Base64 text (24 ASCII bytes), as some Java SDKs of this family do.
    Base64,
}

/// The per-merchant knobs of the profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub hash: SignatureHash,
    pub key_wrap: KeyWrap,
}

/// What opening accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The sender's profile only: its hash, its key form.
    Exactly(Profile),
    /// Either hash and either key form.
    Any,
}

/// The three crypto fields of an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// `head.sign`: hex signature of the plaintext.
    pub sign: String,
    /// `head.keyEnc`: hex of the wrapped AES key.
    pub key_enc: String,
    /// `body.encrypt`: Base64 ciphertext.
    pub encrypt: String,
}

/// Which step of opening failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("keyEnc: {0}")]
    KeyEnc(CryptoError),
    #[error("body.encrypt: {0}")]
    Body(CryptoError),
    #[error("sign: {0}")]
    Signature(CryptoError),
}

impl OpenError {
    /// Whether the failure is the signature's (the content decrypted fine).
    pub fn is_signature(&self) -> bool {
        matches!(self, OpenError::Signature(_))
    }
}

/// Seals `plaintext` from the holder of `signer` to the holder of `recipient`.
pub fn seal(
    plaintext: &[u8],
    signer: &PrivateKey,
    recipient: &PublicKey,
    profile: Profile,
    rng: &mut SandboxRng,
) -> Result<Sealed, CryptoError> {
    let key: [u8; 16] = rng.random();
    let wrapped_form = match profile.key_wrap {
        KeyWrap::Raw => key.to_vec(),
        KeyWrap::Base64 => BASE64.encode(key).into_bytes(),
    };
    Ok(Sealed {
        sign: hex::encode(rsa_ops::sign(signer, profile.hash, plaintext)),
        key_enc: hex::encode(rsa_ops::wrap(recipient, &wrapped_form, rng)?),
        encrypt: BASE64.encode(aes::ecb_encrypt(&key, plaintext)?),
    })
}

/// Opens an envelope addressed to the holder of `recipient`, checking it came from the holder
/// of `sender`; returns the plaintext and the hash its signature used.
pub fn open(
    sealed: &Sealed,
    recipient: &PrivateKey,
    sender: &PublicKey,
    accepted: Accepted,
) -> Result<(Vec<u8>, SignatureHash), OpenError> {
    let wrapped = hex::decode(sealed.key_enc.trim())
        .map_err(|_| OpenError::KeyEnc(CryptoError::Encoding("hex")))?;
    let unwrapped = rsa_ops::unwrap(recipient, &wrapped).map_err(OpenError::KeyEnc)?;
    let key = session_key(&unwrapped, accepted).map_err(OpenError::KeyEnc)?;
    let ciphertext = BASE64
        .decode(sealed.encrypt.trim())
        .map_err(|_| OpenError::Body(CryptoError::Encoding("Base64")))?;
    let plaintext = aes::ecb_decrypt(&key, &ciphertext).map_err(OpenError::Body)?;
    let signature = hex::decode(sealed.sign.trim())
        .map_err(|_| OpenError::Signature(CryptoError::Encoding("hex")))?;
    let hashes = match accepted {
        Accepted::Exactly(profile) => vec![profile.hash],
        Accepted::Any => vec![SignatureHash::Sha256, SignatureHash::Sha1],
    };
    let hash = hashes
        .into_iter()
        .find(|hash| rsa_ops::verify(sender, *hash, &plaintext, &signature).is_ok())
        .ok_or(OpenError::Signature(CryptoError::BadSignature))?;
    Ok((plaintext, hash))
}

/// The AES key from an unwrapped `keyEnc`, in the accepted form: raw key bytes, or the Base64
/// text of a key. Either form is told apart by trying Base64 first (24 random bytes are
/// practically never valid Base64 of 16).
fn session_key(unwrapped: &[u8], accepted: Accepted) -> Result<Vec<u8>, CryptoError> {
    let aes_size = |key: &[u8]| matches!(key.len(), 16 | 24 | 32);
    let from_base64 = || BASE64.decode(unwrapped).ok().filter(|key| aes_size(key));
    let key = match accepted {
        Accepted::Exactly(Profile {
            key_wrap: KeyWrap::Base64,
            ..
        }) => from_base64(),
        Accepted::Exactly(Profile {
            key_wrap: KeyWrap::Raw,
            ..
        }) => Some(unwrapped.to_vec()).filter(|key| aes_size(key)),
        Accepted::Any => from_base64().or_else(|| Some(unwrapped.to_vec()).filter(|k| aes_size(k))),
    };
    key.ok_or(CryptoError::KeyLength(unwrapped.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::keys::DEMO_MERCHANT;
    use crate::scenario::section::BuiltinKey;
    use crate::world::rng::stream;

    fn keys(key: BuiltinKey) -> (PrivateKey, PublicKey) {
        (
            rsa_ops::private_key(key.private_pem).unwrap(),
            rsa_ops::public_key(key.public_pem).unwrap(),
        )
    }

    #[test]
    fn seal_then_open_round_trips_for_every_profile() {
        let (merchant_private, merchant_public) = keys(DEMO_MERCHANT);
        let (platform_private, platform_public) = keys(super::super::PLATFORM);
        let plaintext = br#"{"email":"kyc@kazepay.io"}"#;
        for hash in [SignatureHash::Sha256, SignatureHash::Sha1] {
            for key_wrap in [KeyWrap::Raw, KeyWrap::Base64] {
                let profile = Profile { hash, key_wrap };
                let sealed = seal(
                    plaintext,
                    &merchant_private,
                    &platform_public,
                    profile,
                    &mut stream(1, "t"),
                )
                .unwrap();
                assert_eq!((sealed.sign.len(), sealed.key_enc.len()), (512, 512));
                let exactly = Accepted::Exactly(profile);
                for accepted in [exactly, Accepted::Any] {
                    let (opened, used) =
                        open(&sealed, &platform_private, &merchant_public, accepted).unwrap();
                    assert_eq!((opened.as_slice(), used), (&plaintext[..], hash));
                }
                // Any other profile refuses it: the other hash, or the other key form.
                let other_hash = Profile {
                    hash: if hash == SignatureHash::Sha1 {
                        SignatureHash::Sha256
                    } else {
                        SignatureHash::Sha1
                    },
                    key_wrap,
                };
                let other_wrap = Profile {
                    hash,
                    key_wrap: if key_wrap == KeyWrap::Raw {
                        KeyWrap::Base64
                    } else {
                        KeyWrap::Raw
                    },
                };
                let refused = |profile| {
                    open(
                        &sealed,
                        &platform_private,
                        &merchant_public,
                        Accepted::Exactly(profile),
                    )
                    .unwrap_err()
                };
                assert!(refused(other_hash).is_signature());
                assert!(
                    !refused(other_wrap).is_signature(),
                    "the key or body fails first"
                );
            }
        }
    }

    #[test]
    fn each_broken_part_is_named() {
        let (merchant_private, merchant_public) = keys(DEMO_MERCHANT);
        let (platform_private, platform_public) = keys(super::super::PLATFORM);
        let sealed = seal(
            b"{}",
            &merchant_private,
            &platform_public,
            Profile::default(),
            &mut stream(1, "t"),
        )
        .unwrap();
        let broken = |f: fn(&mut Sealed)| {
            let mut copy = sealed.clone();
            f(&mut copy);
            open(&copy, &platform_private, &merchant_public, Accepted::Any).unwrap_err()
        };
        assert!(matches!(
            broken(|s| s.key_enc = "zz".into()),
            OpenError::KeyEnc(_)
        ));
        assert!(matches!(
            broken(|s| s.key_enc.replace_range(0..2, "00")),
            OpenError::KeyEnc(_)
        ));
        assert!(matches!(
            broken(|s| s.encrypt = "!!".into()),
            OpenError::Body(_)
        ));
        assert!(matches!(
            broken(|s| s.encrypt = BASE64.encode([0u8; 16])),
            OpenError::Body(_)
        ));
        assert!(broken(|s| s.sign.replace_range(0..2, "00")).is_signature());
        // Addressed to the platform, so the merchant's own private key cannot open it.
        assert!(matches!(
            open(&sealed, &merchant_private, &merchant_public, Accepted::Any),
            Err(OpenError::KeyEnc(_))
        ));
    }
}

/// The requests in `fixtures/vectors/kazepay/` were made by the OpenSSL CLI alone
/// (`make-requests.sh`); opening them proves this code reads the profile as OpenSSL writes it.
#[cfg(test)]
mod openssl_vectors {
    use super::*;
    use crate::scenario::keys::DEMO_MERCHANT;

    #[test]
    fn requests_made_by_openssl_open_with_the_platform_key() {
        let platform = rsa_ops::private_key(super::super::PLATFORM.private_pem).unwrap();
        let merchant = rsa_ops::public_key(DEMO_MERCHANT.public_pem).unwrap();
        for (file, hash) in [
            (
                include_str!("../../../fixtures/vectors/kazepay/request-sha256-raw.json"),
                SignatureHash::Sha256,
            ),
            (
                include_str!("../../../fixtures/vectors/kazepay/request-sha1-base64.json"),
                SignatureHash::Sha1,
            ),
        ] {
            let vector: serde_json::Value = serde_json::from_str(file).unwrap();
            let head = &vector["request"]["head"];
            let sealed = Sealed {
                sign: head["sign"].as_str().unwrap().to_owned(),
                key_enc: head["keyEnc"].as_str().unwrap().to_owned(),
                encrypt: vector["request"]["body"]["encrypt"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            };
            let (plaintext, used) = open(&sealed, &platform, &merchant, Accepted::Any).unwrap();
            assert_eq!(
                std::str::from_utf8(&plaintext).unwrap(),
                vector["plaintext"]
            );
            assert_eq!(used, hash);
        }
    }
}
