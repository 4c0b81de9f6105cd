//! Cryptographic primitives the providers share: RSA (PKCS#1 v1.5 signatures and key
//! wrapping), AES (ECB and CBC with PKCS#7), and the adapter that lets the RSA crate draw its
//! padding randomness from the sandbox's seeded stream.
//!
//! Only well-kept libraries do the work (aws-lc for private-key RSA, RustCrypto for the rest);
//! this module chooses parameters and turns their errors into [`CryptoError`]. Nothing here
//! knows a provider's envelope.

pub mod aes;
pub mod rsa;

/// Why a cryptographic operation failed. The texts are for journals and error details; they
/// never contain key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not a PEM RSA key: {0}")]
    BadKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("RSA decryption failed (wrong key or corrupted ciphertext)")]
    Unwrap,
    #[error("RSA encryption failed: {0}")]
    Wrap(String),
    #[error("the AES key must be 16, 24 or 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("the ciphertext is not a whole number of blocks or its padding is wrong")]
    Decrypt,
    #[error("not valid {0}")]
    Encoding(&'static str),
}
