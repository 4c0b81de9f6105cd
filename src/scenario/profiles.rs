//! Provider profiles shipped as data under `fixtures/profiles/`, parsed with the scenario model
//! so that a scenario section and a profile file are the same shape.

use super::error::ScenarioError;
use super::model::{AceDataSection, KazePayProfileSection};

const ACEDATA_PROFILE: &str = include_str!("../../fixtures/profiles/acedata.yaml");
const ACEDATA_ORIGIN: &str = "<built-in fixtures/profiles/acedata.yaml>";

/// The built-in AceData profile.
pub fn acedata() -> Result<AceDataSection, ScenarioError> {
    serde_saphyr::from_str(ACEDATA_PROFILE)
        .map_err(|e| super::yaml_error(&e, ACEDATA_PROFILE, ACEDATA_ORIGIN))
}

const KAZEPAY_PROFILE: &str = include_str!("../../fixtures/profiles/kazepay.yaml");
const KAZEPAY_ORIGIN: &str = "<built-in fixtures/profiles/kazepay.yaml>";

/// The built-in KazePay profile.
pub fn kazepay() -> Result<KazePayProfileSection, ScenarioError> {
    serde_saphyr::from_str(KAZEPAY_PROFILE)
        .map_err(|e| super::yaml_error(&e, KAZEPAY_PROFILE, KAZEPAY_ORIGIN))
}
