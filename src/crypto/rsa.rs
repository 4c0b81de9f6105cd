//! RSA keys from PEM (PKCS#8 or PKCS#1), PKCS#1 v1.5 signatures over SHA-256 or SHA-1, and
//! PKCS#1 v1.5 encryption for wrapping session keys.
//!
//! Encryption padding is random; it is drawn from the caller's seeded stream (through
//! [`SeededRng`]: a ChaCha stream the caller seeded) so that the same seed and the same requests produce the same bytes.

use rand_core_06::{CryptoRng, RngCore};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use super::CryptoError;
use chacha20::ChaCha8Rng;

/// The hash under a PKCS#1 v1.5 signature.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum SignatureHash {
    #[default]
    #[serde(rename = "SHA-256", alias = "sha256", alias = "SHA256")]
    Sha256,
    #[serde(rename = "SHA-1", alias = "sha1", alias = "SHA1")]
    Sha1,
}

/// Parses a private key in PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM.
pub fn private_key(pem: &str) -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::BadKey(e.to_string()))
}

/// Parses a public key in SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::BadKey(e.to_string()))
}

/// PKCS#1 v1.5 signature of `message`.
pub fn sign(key: &RsaPrivateKey, hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    match hash {
        SignatureHash::Sha256 => SigningKey::<sha2::Sha256>::new(key.clone())
            .sign(message)
            .to_vec(),
        SignatureHash::Sha1 => SigningKey::<sha1::Sha1>::new(key.clone())
            .sign(message)
            .to_vec(),
    }
}

/// Checks a PKCS#1 v1.5 signature of `message`.
pub fn verify(
    key: &RsaPublicKey,
    hash: SignatureHash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let signature = Signature::try_from(signature).map_err(|_| CryptoError::BadSignature)?;
    let verified = match hash {
        SignatureHash::Sha256 => {
            VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(message, &signature)
        }
        SignatureHash::Sha1 => {
            VerifyingKey::<sha1::Sha1>::new(key.clone()).verify(message, &signature)
        }
    };
    verified.map_err(|_| CryptoError::BadSignature)
}

/// PKCS#1 v1.5 encryption of `data` (a session key) for `key`'s owner.
pub fn wrap(key: &RsaPublicKey, data: &[u8], rng: &mut ChaCha8Rng) -> Result<Vec<u8>, CryptoError> {
    key.encrypt(&mut SeededRng(rng), Pkcs1v15Encrypt, data)
        .map_err(|e| CryptoError::Wrap(e.to_string()))
}

/// PKCS#1 v1.5 decryption of a wrapped session key.
pub fn unwrap(key: &RsaPrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    key.decrypt(Pkcs1v15Encrypt, ciphertext)
        .map_err(|_| CryptoError::Unwrap)
}

/// Lends the sandbox's seeded stream to the `rsa` crate, which speaks `rand_core` 0.6.
///
/// ChaCha8 is not a vetted CSPRNG for real keys; the sandbox only pads session keys under
/// test-only key pairs, where reproducibility matters more.
struct SeededRng<'a>(&'a mut ChaCha8Rng);

impl RngCore for SeededRng<'_> {
    fn next_u32(&mut self) -> u32 {
        rand::Rng::next_u32(self.0)
    }

    fn next_u64(&mut self) -> u64 {
        rand::Rng::next_u64(self.0)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::Rng::fill_bytes(self.0, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for SeededRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::rng::stream;

    /// A test-only pair under `fixtures/keys/`.
    fn pair(private_pem: &str, public_pem: &str) -> (RsaPrivateKey, RsaPublicKey) {
        (
            private_key(private_pem).unwrap(),
            public_key(public_pem).unwrap(),
        )
    }

    fn demo() -> (RsaPrivateKey, RsaPublicKey) {
        pair(
            include_str!("../../fixtures/keys/demo-merchant.test-only.pem"),
            include_str!("../../fixtures/keys/demo-merchant.pub.pem"),
        )
    }

    fn stranger() -> (RsaPrivateKey, RsaPublicKey) {
        pair(
            include_str!("../../fixtures/keys/stranger.test-only.pem"),
            include_str!("../../fixtures/keys/stranger.pub.pem"),
        )
    }

    #[test]
    fn signatures_verify_with_the_same_hash_only() {
        let (private, public) = demo();
        for hash in [SignatureHash::Sha256, SignatureHash::Sha1] {
            let signature = sign(&private, hash, b"hello");
            assert_eq!(signature.len(), 256);
            assert_eq!(verify(&public, hash, b"hello", &signature), Ok(()));
            assert_eq!(
                verify(&public, hash, b"hellO", &signature),
                Err(CryptoError::BadSignature)
            );
        }
        let sha1 = sign(&private, SignatureHash::Sha1, b"hello");
        assert!(verify(&public, SignatureHash::Sha256, b"hello", &sha1).is_err());
        assert!(verify(&public, SignatureHash::Sha256, b"hello", b"short").is_err());
    }

    #[test]
    fn wrapped_keys_unwrap_with_the_matching_private_key_only() {
        let (private, public) = stranger();
        let (other_private, _) = demo();
        let mut rng = stream(1, "t");
        let wrapped = wrap(&public, b"0123456789abcdef", &mut rng).unwrap();
        assert_eq!(wrapped.len(), 256);
        assert_eq!(unwrap(&private, &wrapped).unwrap(), b"0123456789abcdef");
        assert_eq!(unwrap(&other_private, &wrapped), Err(CryptoError::Unwrap));
        // Same stream position, same bytes.
        assert_eq!(
            wrap(&public, b"0123456789abcdef", &mut stream(1, "t")).unwrap(),
            wrapped
        );
    }

    #[test]
    fn bad_pem_is_refused() {
        assert!(matches!(
            private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(CryptoError::BadKey(_))
        ));
        assert!(matches!(
            public_key("nonsense"),
            Err(CryptoError::BadKey(_))
        ));
    }
}
