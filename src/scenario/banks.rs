//! The scenario's banks and BIN ranges, added to the built-in BIN table.

use super::error::{Problems, ScenarioError};
use super::model::ScenarioFile;
use super::values::is_country_code;
use crate::world::bins::{Bank, BinTable};

/// The built-in BIN table with the scenario's banks and ranges added.
pub(super) fn build(
    file: &ScenarioFile,
    problems: &mut Problems<'_>,
    origin: &str,
) -> Result<BinTable, ScenarioError> {
    let mut bins = BinTable::builtin()
        .map_err(|e| ScenarioError::unlocated(origin, format!("built-in BIN table: {e}")))?;
    for bank in &file.banks {
        let b = &bank.value;
        let code_ok = !b.code.is_empty()
            && b.code
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
        if !code_ok {
            problems.at(
                bank.referenced,
                format!("bank code `{}` must be A-Z, 0-9 or _", b.code),
            );
        } else if b.name_zh.trim().is_empty() || b.name_en.trim().is_empty() {
            problems.at(
                bank.referenced,
                format!("bank {} needs name_zh and name_en", b.code),
            );
        } else if !is_country_code(&b.country) {
            problems.at(
                bank.referenced,
                format!(
                    "bank {}: `{}` is not an ISO 3166 two-letter country code",
                    b.code, b.country
                ),
            );
        } else {
            bins.add_bank(Bank {
                code: b.code.clone(),
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
                country: b.country.clone(),
            });
        }
    }
    for range in &file.bins {
        let r = &range.value;
        if let Err(e) = bins.add_range(&r.bin, r.length, r.kind, r.scheme, &r.bank) {
            problems.at(range.referenced, e.to_string());
        }
    }
    Ok(bins)
}
