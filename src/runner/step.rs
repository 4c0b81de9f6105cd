//! The written form of a scenario's `steps` (run by `issuer-sandbox test`): requests in
//! plaintext, clock moves, simulations and control calls, with expectations and captures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One step: exactly one thing to do, then what to check and keep.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Shown in the report; default `step N`.
    pub name: Option<String>,
    /// The merchant to act as; default the first.
    pub tenant: Option<String>,
    pub request: Option<RequestStep>,
    /// Moves the sandbox clock (`30s`, `1h`).
    pub advance: Option<String>,
    /// `{kyc | transaction | card-status | production | recharge: {...}}`: an issuer-side
    /// simulation (`POST /__admin/simulate/...`).
    pub simulate: Option<BTreeMap<String, Value>>,
    /// Any control-API call (`{method, path, body?}`), e.g. adding a fault.
    pub admin: Option<AdminStep>,
    /// Checks on the answer: `status`, `code`, `sub_code`, `fields`.
    pub expect: Option<Expect>,
    /// Values to keep from the answer: name → dotted path (`body.card_token`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Checks on the merchant's state (`GET /__admin/state`) after the step: path → value.
    #[serde(default)]
    pub expect_state: BTreeMap<String, Value>,
}

/// A provider request, in plaintext: the runner seals and opens envelopes itself.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// `acedata`, `kazepay`, `pagsmile`, `keysecure`.
    pub provider: String,
    /// AceData endpoint (`check-1e`) or KazePay apiCode (`queryCard`).
    pub operation: Option<String>,
    /// Pagsmile or KeySecure path (`/issuing/card/apply`).
    pub path: Option<String>,
    /// KeySecure only: `GET` or `POST` (default POST).
    pub method: Option<String>,
    /// The plaintext body (KazePay body, Pagsmile biz_data, JSON of the others).
    #[serde(default)]
    pub body: Value,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// A control-API call.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminStep {
    pub method: String,
    /// After `/__admin`, e.g. `/faults`.
    pub path: String,
    #[serde(default)]
    pub body: Value,
}

/// Expectations on an answer, seen as `{status, code, sub_code, body}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status.
    pub status: Option<u16>,
    /// The provider's code (AceData `result` or gateway code, KazePay `head.code`, Pagsmile
    /// `code`, KeySecure `code`), as text.
    pub code: Option<String>,
    /// Pagsmile's `sub_code`.
    pub sub_code: Option<String>,
    /// Dotted path → an exact value, `{like: "glob"}` or `{exists: bool}`.
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// The request gets no answer at all (the connection closes, or nothing comes in time).
    #[serde(default)]
    pub no_answer: bool,
}
