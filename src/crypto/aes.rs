//! AES with PKCS#7 padding, in ECB mode (KazePay, KeySecure) and CBC mode (Pagsmile). The key
//! length picks AES-128, -192 or -256.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit};

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

    const OPENSSL_ECB_128: &str = "9276fdf384f38518fa6c8310f191678d";
    const OPENSSL_ECB_256: &str = "af79df073287ee3f511d2556d54dce39";
}
