//! RSA keys from PEM (PKCS#8 or PKCS#1), PKCS#1 v1.5 signatures over SHA-256 or SHA-1, and
//! PKCS#1 v1.5 encryption for wrapping session keys.
//!
//! Keys are parsed once into [`PrivateKey`] and [`PublicKey`] (aws-lc's form of a private key
//! on its first use: start-up does not pay aws-lc's key checks). The private-key work — signing
//! and unwrapping, the expensive half of every envelope — runs in aws-lc (constant-time,
//! assembly-optimised, as fast as OpenSSL); so does verifying. Wrapping cannot: its random
//! padding must come from the caller's seeded stream, so that the same seed and the same
//! requests produce the same bytes, and aws-lc draws its own. [`wrap`] draws the padding as the
//! `rsa` crate does (the tests hold the two byte for byte) and raises it to the public exponent
//! in crypto-bigint's Montgomery arithmetic: 22 µs a wrap, where the `rsa` crate's
//! num-bigint-dig took about 130 µs (a third of a request that wraps one key). PKCS#1 v1.5
//! signatures are deterministic, so aws-lc and the `rsa` crate (kept for SHA-1 signing) give the
//! same bytes.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::rsa::{KeyPair, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{self, RsaPublicKeyComponents};
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
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

/// An RSA private key, parsed once (cheap to clone: the parsed key is shared).
#[derive(Clone)]
pub struct PrivateKey(Arc<Parsed>);

struct Parsed {
    /// Checked when the key is read; also makes SHA-1 signatures, which aws-lc does not make
    /// (only verifies): the legacy profile.
    legacy: RsaPrivateKey,
    public: PublicKey,
    /// aws-lc's forms, made on first use: aws-lc checks a key as it reads it, about 1.4 ms a
    /// key, which start-up should not pay for keys a run may never use.
    fast: OnceLock<Option<Fast>>,
}

struct Fast {
    signing: KeyPair,
    decrypting: Pkcs1PrivateDecryptingKey,
}

/// RSA key sizes aws-lc works with; checked when a key is read, so that its use cannot fail.
const BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

impl Parsed {
    fn fast(&self) -> Option<&Fast> {
        self.fast
            .get_or_init(|| {
                let der = self.legacy.to_pkcs8_der().ok()?;
                let signing = KeyPair::from_pkcs8(der.as_bytes()).ok()?;
                let decrypting = PrivateDecryptingKey::from_pkcs8(der.as_bytes()).ok()?;
                let decrypting = Pkcs1PrivateDecryptingKey::new(decrypting).ok()?;
                Some(Fast {
                    signing,
                    decrypting,
                })
            })
            .as_ref()
    }
}

/// An RSA public key, parsed once.
#[derive(Clone)]
pub struct PublicKey {
    /// Modulus and exponent, big-endian, for verifying and wrapping.
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    /// The modulus's Montgomery parameters, for wrapping.
    montgomery: Arc<BoxedMontyParams>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself: debug output ends up in logs.
        write!(f, "PrivateKey({} bits)", self.0.public.modulus.len() * 8)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({} bits)", self.modulus.len() * 8)
    }
}

impl PrivateKey {
    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.0.public.clone()
    }
}

impl PublicKey {
    fn new(key: &RsaPublicKey) -> Result<PublicKey, CryptoError> {
        let modulus = key.n().to_bytes_be();
        let bits = u32::try_from(modulus.len() * 8)
            .map_err(|_| CryptoError::BadKey("modulus too large".to_owned()))?;
        let odd = BoxedUint::from_be_slice(&modulus, bits)
            .ok()
            .and_then(|n| Option::from(Odd::new(n)))
            .ok_or_else(|| CryptoError::BadKey("the modulus is not an odd number".to_owned()))?;
        Ok(PublicKey {
            montgomery: Arc::new(BoxedMontyParams::new_vartime(odd)),
            exponent: key.e().to_bytes_be(),
            modulus,
        })
    }
}

/// Parses a private key in PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM.
pub fn private_key(pem: &str) -> Result<PrivateKey, CryptoError> {
    let key = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::BadKey(e.to_string()))?;
    if !BITS.contains(&key.size().saturating_mul(8)) {
        return Err(CryptoError::BadKey(format!(
            "a {}-bit key; 2048 to 8192 bits are supported",
            key.size() * 8
        )));
    }
    Ok(PrivateKey(Arc::new(Parsed {
        public: PublicKey::new(&key.to_public_key())?,
        legacy: key,
        fast: OnceLock::new(),
    })))
}

/// Parses a public key in SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM.
pub fn public_key(pem: &str) -> Result<PublicKey, CryptoError> {
    let key = RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| CryptoError::BadKey(e.to_string()))?;
    PublicKey::new(&key)
}

/// PKCS#1 v1.5 signature of `message`.
pub fn sign(key: &PrivateKey, hash: SignatureHash, message: &[u8]) -> Vec<u8> {
    if hash == SignatureHash::Sha1 {
        use rsa::signature::{SignatureEncoding, Signer};
        let legacy = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key.0.legacy.clone());
        return legacy.sign(message).to_vec();
    }
    // A key read by `private_key` is one aws-lc takes (the size is checked there).
    let Some(fast) = key.0.fast() else {
        return Vec::new();
    };
    let signing = &fast.signing;
    let mut signature = vec![0; signing.public_modulus_len()];
    // aws-lc ignores the random source for PKCS#1 v1.5 (the padding is fixed); signing with a
    // key it parsed cannot fail.
    let unused = aws_lc_rs::rand::SystemRandom::new();
    if signing
        .sign(
            &signature::RSA_PKCS1_SHA256,
            &unused,
            message,
            &mut signature,
        )
        .is_err()
    {
        signature.clear();
    }
    signature
}

/// Checks a PKCS#1 v1.5 signature of `message`.
pub fn verify(
    key: &PublicKey,
    hash: SignatureHash,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let algorithm = match hash {
        SignatureHash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SignatureHash::Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
    };
    let components = RsaPublicKeyComponents {
        n: &key.modulus,
        e: &key.exponent,
    };
    components
        .verify(algorithm, message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// PKCS#1 v1.5 encryption (RFC 8017 §7.2.1) of `data` (a session key) for `key`'s owner, the
/// padding drawn from `rng`.
pub fn wrap(key: &PublicKey, data: &[u8], rng: &mut ChaCha8Rng) -> Result<Vec<u8>, CryptoError> {
    let size = key.modulus.len();
    if data.len() + 11 > size {
        return Err(CryptoError::Wrap(format!(
            "{} bytes do not fit a {}-bit key",
            data.len(),
            size * 8
        )));
    }
    // EM = 0x00 || 0x02 || PS || 0x00 || M, PS non-zero random bytes: drawn in one go, then
    // each zero redrawn on its own (the order the `rsa` crate draws them in).
    let mut padded = vec![0u8; size];
    padded[1] = 2;
    let padding = &mut padded[2..size - data.len() - 1];
    rand::Rng::fill_bytes(rng, padding);
    for byte in padding.iter_mut() {
        while *byte == 0 {
            rand::Rng::fill_bytes(rng, std::slice::from_mut(byte));
        }
    }
    padded[size - data.len()..].copy_from_slice(data);
    let wrapped = public_power(key, &padded)?;
    // The power is below the modulus: its last `size` bytes, left-padded with zeros.
    Ok(wrapped[wrapped.len() - size..].to_vec())
}

/// `message ^ e mod n`, big-endian, by square-and-multiply over the public exponent's bits
/// (public, so its pattern may show in the timing).
fn public_power(key: &PublicKey, message: &[u8]) -> Result<Box<[u8]>, CryptoError> {
    let precision = key.montgomery.bits_precision();
    let message = BoxedUint::from_be_slice(message, precision)
        .map_err(|e| CryptoError::Wrap(e.to_string()))?;
    let base = BoxedMontyForm::new(message, &key.montgomery);
    let mut bits = key
        .exponent
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| byte >> i & 1 == 1))
        .skip_while(|bit| !bit);
    if bits.next().is_none() {
        return Err(CryptoError::Wrap("the public exponent is zero".to_owned()));
    }
    let mut power = base.clone();
    for bit in bits {
        power = power.square();
        if bit {
            power = power.mul(&base);
        }
    }
    Ok(power.retrieve().to_be_bytes())
}

/// PKCS#1 v1.5 decryption of a wrapped session key.
pub fn unwrap(key: &PrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let decrypting = &key.0.fast().ok_or(CryptoError::Unwrap)?.decrypting;
    if ciphertext.len() != decrypting.key_size_bytes() {
        return Err(CryptoError::Unwrap);
    }
    let mut plaintext = vec![0; decrypting.min_output_size()];
    let len = decrypting
        .decrypt(ciphertext, &mut plaintext)
        .map_err(|_| CryptoError::Unwrap)?
        .len();
    plaintext.truncate(len);
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::rng::stream;
    use rand_core_06::{CryptoRng, RngCore};

    /// Lends a seeded stream to the `rsa` crate, which speaks `rand_core` 0.6.
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

    #[test]
    fn wrapping_gives_the_rsa_crates_bytes_from_the_same_stream() {
        use rsa::Pkcs1v15Encrypt;
        for (name, pem) in [
            (
                "demo",
                include_str!("../../fixtures/keys/demo-merchant.pub.pem"),
            ),
            (
                "stranger",
                include_str!("../../fixtures/keys/stranger.pub.pem"),
            ),
        ] {
            let reference = RsaPublicKey::from_public_key_pem(pem).unwrap();
            let key = public_key(pem).unwrap();
            // Many seeds, so that padding bytes drawn as zero (and redrawn) occur.
            for seed in 0..200u64 {
                let data = format!("session-key-{seed:04}").into_bytes();
                let mut ours = stream(seed, name);
                let mut theirs = ours.clone();
                let expected = reference
                    .encrypt(&mut SeededRng(&mut theirs), Pkcs1v15Encrypt, &data)
                    .unwrap();
                assert_eq!(
                    wrap(&key, &data, &mut ours).unwrap(),
                    expected,
                    "seed {seed}"
                );
                // Both streams moved alike.
                assert_eq!(
                    rand::Rng::next_u64(&mut ours),
                    rand::Rng::next_u64(&mut theirs)
                );
            }
        }
        let mut rng = stream(1, "t");
        let key = public_key(include_str!("../../fixtures/keys/demo-merchant.pub.pem")).unwrap();
        assert!(matches!(
            wrap(&key, &[7; 246], &mut rng),
            Err(CryptoError::Wrap(_))
        ));
    }

    /// A test-only pair under `fixtures/keys/`.
    fn pair(private_pem: &str, public_pem: &str) -> (PrivateKey, PublicKey) {
        (
            private_key(private_pem).unwrap(),
            public_key(public_pem).unwrap(),
        )
    }

    fn demo() -> (PrivateKey, PublicKey) {
        pair(
            include_str!("../../fixtures/keys/demo-merchant.test-only.pem"),
            include_str!("../../fixtures/keys/demo-merchant.pub.pem"),
        )
    }

    fn stranger() -> (PrivateKey, PublicKey) {
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
    fn keys_aws_lc_would_not_take_are_refused_when_read() {
        use rsa::pkcs8::LineEnding;
        let mut rng = stream(3, "small key");
        let small = RsaPrivateKey::new(&mut SeededRng(&mut rng), 1024).unwrap();
        let pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
        match private_key(&pem) {
            Err(CryptoError::BadKey(why)) => assert!(why.contains("1024-bit"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A key that is read signs and unwraps (aws-lc reads it on first use).
        let (private, public) = demo();
        let signature = sign(&private, SignatureHash::Sha256, b"m");
        assert_eq!(
            verify(&public, SignatureHash::Sha256, b"m", &signature),
            Ok(())
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
