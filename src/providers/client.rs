//! The merchant's side of a provider, as the test runner uses it: a [`MerchantClient`] turns a
//! plaintext request step into the provider's wire request (credentials, envelopes,
//! signatures, tokens), sends it through a [`Transport`], and opens the answer into the view
//! steps check (`{status, code, body, ...}`).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::Value;

use crate::scenario::steps::RequestStep;

/// Why a step's request got no answer to check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The request could not be made: the merchant or the step lacks what it needs.
    #[error("{0}")]
    Request(String),
    /// Nothing could be sent (a bad URL, nothing listening).
    #[error("{0}")]
    Unsent(String),
    /// Sent, and no answer came (the connection closed or reset, an empty or late answer).
    #[error("no answer: {0}")]
    NoAnswer(String),
}

impl From<&str> for SendError {
    fn from(why: &str) -> SendError {
        SendError::Request(why.to_owned())
    }
}

/// One merchant's client of one provider; it may keep state between steps (a token).
pub trait MerchantClient {
    /// Sends `step` (the `index`th step of its file, for unique request numbers).
    fn send(
        &mut self,
        step: &RequestStep,
        index: usize,
        transport: &dyn Transport,
    ) -> Result<ClientAnswer, SendError>;
}

/// How a client reaches the sandbox.
pub trait Transport {
    /// One exchange: `path` is appended to the sandbox's base URL.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), SendError>;
}

/// A provider's answer as its client opened it.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientAnswer {
    /// `{status, code, sub_code?, body, ...}`: what steps check.
    Opened(Value),
    /// The answer could not be opened (a broken envelope, an empty or non-JSON body).
    Unopened {
        status: u16,
        raw: Bytes,
        why: String,
    },
}

impl ClientAnswer {
    /// The view of a JSON answer `opened` makes, or why it has none.
    pub fn of(
        status: u16,
        raw: Bytes,
        opened: impl FnOnce(Value) -> Result<Value, String>,
    ) -> ClientAnswer {
        match parse_json(&raw).and_then(opened) {
            Ok(view) => ClientAnswer::Opened(view),
            Err(why) => ClientAnswer::Unopened { status, raw, why },
        }
    }
}

/// `Content-Type: application/json`, which every provider's JSON request sends.
pub fn json_content_type() -> (String, String) {
    ("content-type".to_owned(), "application/json".to_owned())
}

/// The client's own headers with the step's: a step header replaces the client's of the same
/// name (any case), since servers read the first of a repeated header and a step must be able
/// to send a wrong credential.
pub fn with_step_headers(
    mut own: Vec<(String, String)>,
    step: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    own.retain(|(name, _)| !step.keys().any(|k| k.eq_ignore_ascii_case(name)));
    own.extend(step.iter().map(|(k, v)| (k.clone(), v.clone())));
    own
}

/// An answer's JSON, or why it is none.
fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("the answer is empty".to_owned());
    }
    serde_json::from_slice(bytes).map_err(|e| format!("the answer is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_headers_replace_the_clients_of_the_same_name() {
        let own = vec![
            ("authorization".to_owned(), "Bearer right".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        let step = BTreeMap::from([("Authorization".to_owned(), "Bearer wrong".to_owned())]);
        assert_eq!(
            with_step_headers(own, &step),
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), "Bearer wrong".to_owned()),
            ]
        );
    }

    #[test]
    fn answers_that_are_not_json_are_unopened_with_the_reason() {
        let opened = ClientAnswer::of(200, Bytes::from_static(b"{\"a\":1}"), Ok);
        assert_eq!(opened, ClientAnswer::Opened(serde_json::json!({ "a": 1 })));
        let empty = ClientAnswer::of(200, Bytes::new(), Ok);
        assert!(
            matches!(empty, ClientAnswer::Unopened { why, .. } if why == "the answer is empty")
        );
        let text = ClientAnswer::of(502, Bytes::from_static(b"<html>"), Ok);
        assert!(matches!(text, ClientAnswer::Unopened { status: 502, .. }));
    }
}
