//! The merchant's side of the Pagsmile envelope, for Rust tests and the `issuer-sandbox
//! pagsmile` commands: seal a business body into a request, open a response (or, to debug a
//! client, open a request as the platform would).
//!
//! ```
//! use issuer_sandbox::providers::pagsmile::client::Client;
//! let mut client = Client::demo();
//! let request = client.seal_request("req-1", &serde_json::json!({"card_token": "CT1"})).unwrap();
//! assert_eq!(request["app_id"], "2017051914172236111");
//! assert_eq!(request["sign_type"], "RSA");
//! ```

use crate::crypto::rsa::{PrivateKey, PublicKey};
use serde_json::{Value, json};

use super::envelope::{OpenError, Sealed, open, seal};
use crate::crypto::CryptoError;
use crate::crypto::rsa::{private_key, public_key};
use crate::scenario::keys::DEMO_MERCHANT;
use crate::world::rng::{self, SandboxRng};

/// The demo app of the default scenario.
pub const DEMO_APP_ID: &str = "2017051914172236111";
/// The demo app's partner_id.
pub const DEMO_PARTNER_ID: &str = "1666000000000001";

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("not a Pagsmile message: {0}")]
    Shape(String),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the decrypted data is not JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A response: its codes and, for a success with data, the decrypted `data`.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub code: String,
    pub msg: String,
    pub sub_code: Option<String>,
    pub sub_msg: Option<String>,
    pub total: Option<u64>,
    pub data: Option<Value>,
}

/// A merchant's identity and keys.
#[derive(Debug)]
pub struct Client {
    app_id: String,
    partner_id: String,
    merchant_private: PrivateKey,
    platform_public: PublicKey,
    rng: SandboxRng,
}

impl Client {
    /// A client from PEM keys (PKCS#8/PKCS#1 private, SPKI/PKCS#1 public).
    pub fn from_pems(
        app_id: &str,
        partner_id: &str,
        merchant_private_pem: &str,
        platform_public_pem: &str,
    ) -> Result<Client, CryptoError> {
        Ok(Client {
            app_id: app_id.to_owned(),
            partner_id: partner_id.to_owned(),
            merchant_private: private_key(merchant_private_pem)?,
            platform_public: public_key(platform_public_pem)?,
            rng: rng::stream(0, "pagsmile-client"),
        })
    }

    /// The default scenario's demo app talking to the built-in platform key.
    pub fn demo() -> Client {
        Client::from_pems(
            DEMO_APP_ID,
            DEMO_PARTNER_ID,
            DEMO_MERCHANT.private_pem,
            super::PLATFORM.public_pem,
        )
        .unwrap_or_else(|e| unreachable!("the built-in test keys parse: {e}"))
    }

    /// Uses another app (a second merchant of a scenario with the same keys, say).
    pub fn with_app(mut self, app_id: &str, partner_id: &str) -> Client {
        self.app_id = app_id.to_owned();
        self.partner_id = partner_id.to_owned();
        self
    }

    /// A ready request: the common envelope around `biz` sealed for the platform, stamped with
    /// the wall clock (the sandbox does not compare it with its own).
    pub fn seal_request(&mut self, request_id: &str, biz: &Value) -> Result<Value, CryptoError> {
        let sealed = seal(
            biz.to_string().as_bytes(),
            &self.platform_public,
            &mut self.rng,
        )?;
        let timestamp = jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string();
        Ok(json!({
            "app_id": self.app_id,
            "partner_id": self.partner_id,
            "sub_partner_id": "",
            "request_id": request_id,
            "timestamp": timestamp,
            "format": "JSON",
            "version": "2.0",
            "sign_type": "RSA",
            "biz_data": sealed.data,
            "random_key": sealed.random_key,
            "language": "en",
        }))
    }

    /// Opens a response the platform sealed for this merchant.
    pub fn open_response(&self, response: &Value) -> Result<Opened, ClientError> {
        let text = |name: &str| {
            response
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let code = text("code").ok_or_else(|| ClientError::Shape("no code".into()))?;
        let data = match (text("data"), text("random_key")) {
            (Some(data), Some(random_key)) => {
                let plaintext = open(&Sealed { data, random_key }, &self.merchant_private)?;
                Some(serde_json::from_slice(&plaintext)?)
            }
            _ => None,
        };
        Ok(Opened {
            code,
            msg: text("msg").unwrap_or_default(),
            sub_code: text("sub_code"),
            sub_msg: text("sub_msg"),
            total: response.get("total").and_then(Value::as_u64),
            data,
        })
    }

    /// Opens a request as the platform would, given the platform's private key: what a
    /// developer runs when the sandbox refuses their envelope.
    pub fn open_request_as_platform(
        &self,
        request: &Value,
        platform_private_pem: &str,
    ) -> Result<Value, ClientError> {
        let text = |name: &str| {
            request
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ClientError::Shape(format!("no {name}")))
        };
        let sealed = Sealed {
            data: text("biz_data")?,
            random_key: text("random_key")?,
        };
        let plaintext = open(&sealed, &private_key(platform_private_pem)?)?;
        Ok(serde_json::from_slice(&plaintext)?)
    }
}
