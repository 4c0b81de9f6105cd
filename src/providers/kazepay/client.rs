//! The merchant's side of the KazePay envelope, for Rust tests and the `issuer-sandbox kazepay`
//! commands: seal a plaintext request, open a sealed response (or, to debug a client, open a
//! request as the platform would).
//!
//! ```
//! use issuer_sandbox::providers::kazepay::client::Client;
//! let mut client = Client::demo();
//! let envelope = client.seal_request("getWebhookUrl", "2024062810200868740754", &serde_json::json!({})).unwrap();
//! assert_eq!(envelope["head"]["sysId"], "202402271432298822660001");
//! ```

use crate::crypto::rsa::{PrivateKey, PublicKey};
use serde_json::{Value, json};

use super::envelope::{Accepted, OpenError, Profile, Sealed, open, seal};
use crate::crypto::CryptoError;
use crate::crypto::rsa::{private_key, public_key};
use crate::scenario::keys::DEMO_MERCHANT;
use crate::world::rng::{self, SandboxRng};

/// The demo merchant's sysId in the default scenario.
pub const DEMO_SYS_ID: &str = "202402271432298822660001";

/// Why a response could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("not a KazePay envelope: {0}")]
    Shape(String),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the decrypted body is not JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// An opened envelope: the head's result and the decrypted body (`None` for clear failures).
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub head: Value,
    pub code: String,
    pub detail: String,
    pub body: Option<Value>,
}

/// A merchant's keys and knobs.
#[derive(Debug)]
pub struct Client {
    sys_id: String,
    merchant_private: PrivateKey,
    merchant_public: PublicKey,
    platform_public: PublicKey,
    profile: Profile,
    rng: SandboxRng,
}

impl Client {
    /// A client from PEM keys (PKCS#8/PKCS#1 private, SPKI/PKCS#1 public).
    pub fn from_pems(
        sys_id: &str,
        merchant_private_pem: &str,
        platform_public_pem: &str,
        profile: Profile,
    ) -> Result<Client, CryptoError> {
        let merchant_private = private_key(merchant_private_pem)?;
        Ok(Client {
            sys_id: sys_id.to_owned(),
            merchant_public: merchant_private.public_key(),
            merchant_private,
            platform_public: public_key(platform_public_pem)?,
            profile,
            rng: rng::stream(0, "kazepay-client"),
        })
    }

    /// The default scenario's demo merchant talking to the built-in platform key.
    pub fn demo() -> Client {
        Client::from_pems(
            DEMO_SYS_ID,
            DEMO_MERCHANT.private_pem,
            super::PLATFORM.public_pem,
            Profile::default(),
        )
        .unwrap_or_else(|e| unreachable!("the built-in test keys parse: {e}"))
    }

    /// Uses another sysId (a second merchant of a scenario with the same keys, say).
    pub fn with_sys_id(mut self, sys_id: &str) -> Client {
        self.sys_id = sys_id.to_owned();
        self
    }

    /// Uses another profile for the requests this client seals.
    pub fn with_profile(mut self, profile: Profile) -> Client {
        self.profile = profile;
        self
    }

    /// A ready request envelope for `api_code` carrying `body`.
    pub fn seal_request(
        &mut self,
        api_code: &str,
        request_no: &str,
        body: &Value,
    ) -> Result<Value, CryptoError> {
        let plaintext = body.to_string();
        let sealed = seal(
            plaintext.as_bytes(),
            &self.merchant_private,
            &self.platform_public,
            self.profile,
            &mut self.rng,
        )?;
        Ok(json!({
            "head": {
                "apiCode": api_code,
                "sysId": self.sys_id,
                "requestNo": request_no,
                "version": "1.0",
                "sign": sealed.sign,
                "keyEnc": sealed.key_enc,
            },
            "body": { "encrypt": sealed.encrypt },
        }))
    }

    /// Opens a response the platform sealed for this merchant.
    pub fn open_response(&self, envelope: &Value) -> Result<Opened, ClientError> {
        open_envelope(envelope, &self.merchant_private, &self.platform_public)
    }

    /// Opens a request as the platform would, given the platform's private key: what a
    /// developer runs when the sandbox refuses their envelope.
    pub fn open_request_as_platform(
        &self,
        envelope: &Value,
        platform_private_pem: &str,
    ) -> Result<Opened, ClientError> {
        open_envelope(
            envelope,
            &private_key(platform_private_pem)?,
            &self.merchant_public,
        )
    }
}

fn open_envelope(
    envelope: &Value,
    recipient: &PrivateKey,
    sender: &PublicKey,
) -> Result<Opened, ClientError> {
    let head = envelope
        .get("head")
        .filter(|h| h.is_object())
        .ok_or_else(|| ClientError::Shape("no head".into()))?;
    let text = |name: &str| {
        head.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (code, detail) = (text("code"), text("detail"));
    let encrypt = envelope
        .get("body")
        .and_then(|b| b.get("encrypt"))
        .and_then(Value::as_str);
    let (Some(encrypt), false) = (encrypt, text("sign").is_empty()) else {
        return Ok(Opened {
            head: head.clone(),
            code,
            detail,
            body: None,
        });
    };
    let sealed = Sealed {
        sign: text("sign"),
        key_enc: text("keyEnc"),
        encrypt: encrypt.to_owned(),
    };
    // The sandbox's own merchant client takes either variant from the platform.
    let (plaintext, _) = open(&sealed, recipient, sender, Accepted::Any)?;
    Ok(Opened {
        head: head.clone(),
        code,
        detail,
        body: Some(serde_json::from_slice(&plaintext)?),
    })
}
