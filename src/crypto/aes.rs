//! AES with PKCS#7 padding, in ECB mode and CBC mode (the envelopes and sensitive fields of
//! several providers). The key length picks AES-128, -192 or -256.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};

use super::CryptoError;

/// AES-ECB encryption with PKCS#7 padding.
pub fn ecb_encrypt(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(match key.len() {
        16 => ecb::Encryptor::<aes::Aes128>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(16))?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        24 => ecb::Encryptor::<aes::Aes192>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(24))?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        32 => ecb::Encryptor::<aes::Aes256>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(32))?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        other => return Err(CryptoError::KeyLength(other)),
    })
}

/// AES-ECB decryption with PKCS#7 padding.
pub fn ecb_decrypt(key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let plaintext = match key.len() {
        16 => ecb::Decryptor::<aes::Aes128>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(16))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        24 => ecb::Decryptor::<aes::Aes192>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(24))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        32 => ecb::Decryptor::<aes::Aes256>::new_from_slice(key)
            .map_err(|_| CryptoError::KeyLength(32))?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        other => return Err(CryptoError::KeyLength(other)),
    };
    plaintext.map_err(|_| CryptoError::Decrypt)
}

/// AES-CBC encryption with PKCS#7 padding; the IV is 16 bytes.
pub fn cbc_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let iv_error = |_| CryptoError::Encoding("a 16-byte IV");
    Ok(match key.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        32 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        other => return Err(CryptoError::KeyLength(other)),
    })
}

/// AES-CBC decryption with PKCS#7 padding.
pub fn cbc_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let iv_error = |_| CryptoError::Encoding("a 16-byte IV");
    let plaintext = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(iv_error)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        other => return Err(CryptoError::KeyLength(other)),
    };
    plaintext.map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors made with the OpenSSL 3.0 CLI:
    //   printf 'hello world' | openssl enc -aes-128-ecb -K 000102030405060708090a0b0c0d0e0f | xxd -p
    //   printf 'hello world' | openssl enc -aes-256-ecb -K 000102..1e1f | xxd -p   (key bytes 0..31)
    const KEY_128: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    #[test]
    fn ecb_matches_openssl() {
        let ciphertext = ecb_encrypt(&KEY_128, b"hello world").unwrap();
        assert_eq!(hex::encode(&ciphertext), OPENSSL_ECB_128);
        assert_eq!(ecb_decrypt(&KEY_128, &ciphertext).unwrap(), b"hello world");
        let key_256: Vec<u8> = (0..32).collect();
        assert_eq!(
            hex::encode(ecb_encrypt(&key_256, b"hello world").unwrap()),
            OPENSSL_ECB_256
        );
    }

    #[test]
    fn bad_keys_and_ciphertexts_are_refused() {
        assert_eq!(ecb_encrypt(&[0; 15], b"x"), Err(CryptoError::KeyLength(15)));
        assert_eq!(ecb_decrypt(&KEY_128, &[0; 15]), Err(CryptoError::Decrypt));
        // A whole block with garbage padding.
        assert_eq!(ecb_decrypt(&KEY_128, &[7; 16]), Err(CryptoError::Decrypt));
    }

    #[test]
    fn cbc_matches_openssl() {
        // printf 'hello world' | openssl enc -aes-128-cbc -K 30313233343536373839616263646566 \
        //   -iv 41314232433344344535463630373138 | xxd -p   (key "0123456789abcdef", IV "A1B2C3D4E5F60718")
        let ciphertext =
            cbc_encrypt(b"0123456789abcdef", b"A1B2C3D4E5F60718", b"hello world").unwrap();
        assert_eq!(hex::encode(&ciphertext), OPENSSL_CBC_128);
        assert_eq!(
            cbc_decrypt(b"0123456789abcdef", b"A1B2C3D4E5F60718", &ciphertext).unwrap(),
            b"hello world"
        );
        assert!(cbc_encrypt(b"0123456789abcdef", b"short", b"x").is_err());
        assert_eq!(
            cbc_decrypt(b"0123456789abcdef", b"A1B2C3D4E5F60718", &[1; 16]),
            Err(CryptoError::Decrypt)
        );
    }

    const OPENSSL_CBC_128: &str = "21384b02e4d8b78f58dd673590ab27d4";
    const OPENSSL_ECB_128: &str = "9276fdf384f38518fa6c8310f191678d";
    const OPENSSL_ECB_256: &str = "af79df073287ee3f511d2556d54dce39";
}
