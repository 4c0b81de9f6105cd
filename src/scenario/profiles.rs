//! Provider profiles shipped as data under `fixtures/profiles/`, parsed with the scenario model
//! so that a scenario section and a profile file are the same shape.

use serde::de::DeserializeOwned;

use super::error::ScenarioError;
use super::model::{
    AceDataSection, KazePayProfileSection, KeySecureProfileSection, PagsmileProfileSection,
};

/// Parses a built-in profile; its problems are located in the built-in file.
fn load<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, ScenarioError> {
    serde_saphyr::from_str(text).map_err(|e| super::yaml_error(&e, text, origin))
}

/// The built-in AceData profile.
pub fn acedata() -> Result<AceDataSection, ScenarioError> {
    load(
        include_str!("../../fixtures/profiles/acedata.yaml"),
        "<built-in fixtures/profiles/acedata.yaml>",
    )
}

/// The built-in KazePay profile.
pub fn kazepay() -> Result<KazePayProfileSection, ScenarioError> {
    load(
        include_str!("../../fixtures/profiles/kazepay.yaml"),
        "<built-in fixtures/profiles/kazepay.yaml>",
    )
}

/// The built-in Pagsmile profile.
pub fn pagsmile() -> Result<PagsmileProfileSection, ScenarioError> {
    load(
        include_str!("../../fixtures/profiles/pagsmile.yaml"),
        "<built-in fixtures/profiles/pagsmile.yaml>",
    )
}

/// The built-in KeySecure profile.
pub fn keysecure() -> Result<KeySecureProfileSection, ScenarioError> {
    load(
        include_str!("../../fixtures/profiles/keysecure.yaml"),
        "<built-in fixtures/profiles/keysecure.yaml>",
    )
}
