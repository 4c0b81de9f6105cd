//! Provider profiles shipped as data under `fixtures/profiles/`, parsed with the scenario model
//! so that a scenario section and a profile file are the same shape.

use super::error::ScenarioError;
use super::model::{AceDataSection, KazePayProfileSection, PagsmileProfileSection};

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

const PAGSMILE_PROFILE: &str = include_str!("../../fixtures/profiles/pagsmile.yaml");
const PAGSMILE_ORIGIN: &str = "<built-in fixtures/profiles/pagsmile.yaml>";

/// The built-in Pagsmile profile.
pub fn pagsmile() -> Result<PagsmileProfileSection, ScenarioError> {
    serde_saphyr::from_str(PAGSMILE_PROFILE)
        .map_err(|e| super::yaml_error(&e, PAGSMILE_PROFILE, PAGSMILE_ORIGIN))
}
