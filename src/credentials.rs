//! What each merchant authenticates with, per provider, and the platform's own key pairs.
//!
//! These are loaded from the scenario, used by providers to find a request's tenant, and served
//! by `GET /__admin/credentials` so any client can be configured without reading YAML.

use serde::{Deserialize, Serialize};

use crate::crypto::rsa::SignatureHash;
use crate::providers::kazepay::envelope::KeyWrap;
use crate::world::ratelimit::RateLimit;

/// One merchant's credentials for every provider it is set up for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Credentials {
    pub acedata: Vec<AceDataToken>,
    pub keysecure: Option<KeySecureKey>,
    pub pagsmile: Option<PagsmileApp>,
    pub kazepay: Option<KazePaySystem>,
}

impl Credentials {
    /// Every (provider, credential) pair that names this merchant in requests.
    pub fn claims(&self) -> Vec<(&'static str, String)> {
        let mut claims: Vec<(&'static str, String)> = self
            .acedata
            .iter()
            .map(|t| ("acedata", t.token.clone()))
            .collect();
        claims.extend(
            self.keysecure
                .as_ref()
                .map(|k| ("keysecure", k.api_key.clone())),
        );
        claims.extend(
            self.pagsmile
                .as_ref()
                .map(|p| ("pagsmile", p.app_id.clone())),
        );
        claims.extend(self.kazepay.as_ref().map(|k| ("kazepay", k.sys_id.clone())));
        claims
    }
}

/// An AceData bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AceDataToken {
    pub token: String,
    /// Requests per second allowed on this token; `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The endpoints the token may call (e.g. `check-1e`); `None` means all of them.
    pub apis: Option<Vec<String>>,
}

/// A KeySecure open-platform key and the merchant's settings around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeySecureKey {
    pub api_key: String,
    /// Keys the AES of sensitive fields and the callbacks' HMAC (its UTF-8 bytes).
    pub api_secret: String,
    pub mode: IntegrationMode,
    /// A disabled key answers 1010.
    pub enabled: bool,
    /// From then on the key answers 1011 (sandbox time).
    pub expires_at: Option<jiff::Timestamp>,
    /// Caller addresses allowed (exact IPs, or `*`); others answer 1003.
    pub ip_whitelist: Vec<String>,
    /// Whether card private info may be read (else 1013).
    pub pci_enabled: bool,
    /// Where callbacks (Auth, Consumption, Card_update) go.
    pub callback_url: Option<String>,
    /// Requests per second on this key (1009 beyond); `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
}

/// How a KeySecure merchant funds its cards.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntegrationMode {
    /// The merchant approves each authorization through its Auth callback.
    #[default]
    Authorization,
    /// Cardholders have accounts (TUSDT) the merchant transfers into; cards spend from them.
    CreditExtension,
}

/// A Pagsmile Issuing application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PagsmileApp {
    pub app_id: String,
    pub partner_id: String,
    pub security_key: String,
    pub merchant_public_key: String,
    /// Only for keys the sandbox may hand out (test-only keys), so harnesses can seal requests.
    pub merchant_private_key: Option<String>,
    /// The merchant's issuing account (pays card applications and recharges).
    pub pay_account_num: String,
    pub webhook_url: Option<String>,
}

/// A KazePay system id with the merchant's RSA keys and crypto knobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KazePaySystem {
    pub sys_id: String,
    pub merchant_public_key: String,
    /// Only for keys the sandbox may hand out (test-only keys), so harnesses can seal requests.
    pub merchant_private_key: Option<String>,
    pub sign_hash: SignatureHash,
    pub key_wrap: KeyWrap,
}

/// An RSA key pair in PEM form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyPair {
    pub public_pem: String,
    #[serde(skip)]
    pub private_pem: String,
}

/// The platform's key pairs (the sandbox plays the provider).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlatformKeys {
    pub kazepay: KeyPair,
    pub pagsmile: KeyPair,
}
