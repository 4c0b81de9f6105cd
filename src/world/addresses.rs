//! Postal-address formats by country: the postal-code pattern, the fields a country requires
//! and the accepted spellings of its states or provinces (data: `fixtures/address_formats.csv`,
//! generated from Google's address metadata; provenance in `fixtures/address_formats.SOURCES.md`).
//!
//! The table is parsed on first use and each country's pattern compiled on its first lookup,
//! so a sandbox that never checks an address pays nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

const FORMATS: &str = include_str!("../../fixtures/address_formats.csv");

/// One country's address format.
#[derive(Debug)]
pub struct AddressFormat {
    pub country: String,
    postal_pattern: String,
    /// Compiled on first use; `None` if the pattern does not compile (a test rules that out).
    postal: OnceLock<Option<Regex>>,
    /// Postal codes the dataset gives as examples.
    pub postal_examples: Vec<String>,
    /// The dataset's required-field letters (`A` street, `C` city, `S` state, `Z` postal code).
    pub requires: String,
    /// Every accepted spelling of the state or province; empty when the country has no list
    /// (then any state is accepted).
    pub subdivisions: Vec<String>,
}

/// A well-formed row of the CSV.
#[derive(serde::Deserialize)]
struct Row {
    country: String,
    postal_pattern: String,
    postal_examples: String,
    requires: String,
    subdivisions: String,
}

impl AddressFormat {
    /// Whether `code` is a postal code of this country: the whole code fits the pattern,
    /// letters in either case. A pattern that does not compile accepts everything.
    pub fn fits_postal_code(&self, code: &str) -> bool {
        let compiled = self.postal.get_or_init(|| {
            RegexBuilder::new(&format!("^(?:{})$", self.postal_pattern))
                .case_insensitive(true)
                .unicode(false)
                .build()
                .ok()
        });
        match compiled {
            Some(pattern) => code.is_ascii() && pattern.is_match(code),
            None => true,
        }
    }

    /// Whether the country has a list of states and `state` is not one of its spellings
    /// (compared ignoring case and surrounding spaces).
    pub fn is_unknown_subdivision(&self, state: &str) -> bool {
        let state = state.trim();
        !self.subdivisions.is_empty()
            && !self
                .subdivisions
                .iter()
                .any(|known| known.eq_ignore_ascii_case(state))
    }

    /// A few accepted state spellings for a refusal's message: names sharing the refused
    /// text's first letter first, codes of digits never.
    pub fn subdivision_hint(&self, refused: &str) -> String {
        let initial = refused
            .trim()
            .chars()
            .next()
            .map(|c| c.to_ascii_lowercase());
        let names = self
            .subdivisions
            .iter()
            .filter(|s| !s.bytes().all(|b| b.is_ascii_digit()));
        let (alike, others): (Vec<&String>, Vec<&String>) =
            names.partition(|s| s.chars().next().map(|c| c.to_ascii_lowercase()) == initial);
        let mut shown: Vec<&str> = alike
            .into_iter()
            .chain(others)
            .take(4)
            .map(String::as_str)
            .collect();
        shown.push("…");
        shown.join(", ")
    }
}

/// The format of `country` (an upper-case alpha-2 code), if the dataset gives it a postal-code
/// pattern. Countries without postal codes (e.g. HK, AE) have none.
pub fn format_of(country: &str) -> Option<&'static AddressFormat> {
    table().get(country)
}

/// Every country in the table, sorted by code.
pub fn all() -> Vec<&'static AddressFormat> {
    let mut formats: Vec<&AddressFormat> = table().values().collect();
    formats.sort_by(|a, b| a.country.cmp(&b.country));
    formats
}

fn table() -> &'static HashMap<String, AddressFormat> {
    static TABLE: OnceLock<HashMap<String, AddressFormat>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let split = |text: &str| -> Vec<String> {
            text.split('|')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        // A malformed row is skipped rather than failing every request; a test reads them all.
        csv::Reader::from_reader(FORMATS.as_bytes())
            .deserialize::<Row>()
            .filter_map(Result::ok)
            .map(|row| {
                let format = AddressFormat {
                    postal_pattern: row.postal_pattern,
                    postal: OnceLock::new(),
                    postal_examples: split(&row.postal_examples),
                    requires: row.requires,
                    subdivisions: split(&row.subdivisions),
                    country: row.country.clone(),
                };
                (row.country, format)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_reads_and_every_pattern_compiles() {
        let rows = csv::Reader::from_reader(FORMATS.as_bytes())
            .deserialize::<Row>()
            .count();
        assert_eq!(table().len(), rows);
        assert!(rows >= 180, "{rows}");
        for format in all() {
            assert!(
                !format.postal_examples.is_empty(),
                "{} has no example",
                format.country
            );
            format.fits_postal_code("0");
            assert!(
                matches!(format.postal.get(), Some(Some(_))),
                "{}: pattern does not compile",
                format.country
            );
        }
    }

    /// A valid and an invalid postal code for every country in the table.
    #[test]
    fn every_country_accepts_its_examples_and_refuses_malformed_codes() {
        for format in all() {
            for example in &format.postal_examples {
                assert!(
                    format.fits_postal_code(example),
                    "{}: {example}",
                    format.country
                );
                assert!(
                    format.fits_postal_code(&example.to_lowercase()),
                    "{}: {example} in lower case",
                    format.country
                );
                let broken = format!("{example}!");
                assert!(
                    !format.fits_postal_code(&broken),
                    "{}: {broken}",
                    format.country
                );
            }
            assert!(!format.fits_postal_code("ABC!!"), "{}", format.country);
            assert!(!format.fits_postal_code(""), "{}", format.country);
        }
    }

    #[test]
    fn known_shapes_by_country() {
        let us = format_of("US").unwrap();
        for ok in ["95014", "22162-1010", "22162 1010"] {
            assert!(us.fits_postal_code(ok), "{ok}");
        }
        for bad in ["9501", "950145", "ABC!!", "95014-10", "٩٥٠١٤"] {
            assert!(!us.fits_postal_code(bad), "{bad}");
        }
        let gb = format_of("GB").unwrap();
        assert!(gb.fits_postal_code("SW1A 1AA") && gb.fits_postal_code("sw1a 1aa"));
        assert!(!gb.fits_postal_code("12345"));
        assert!(format_of("CN").unwrap().fits_postal_code("100010"));
        assert!(format_of("HK").is_none() && format_of("AE").is_none());
        assert!(!us.is_unknown_subdivision("CA") && !us.is_unknown_subdivision(" california "));
        assert!(us.is_unknown_subdivision("Cali"));
        let br = format_of("BR").unwrap();
        assert!(!br.is_unknown_subdivision("Sao Paulo") && !br.is_unknown_subdivision("SP"));
        let cn = format_of("CN").unwrap();
        assert!(!cn.is_unknown_subdivision("Beijing") && !cn.is_unknown_subdivision("Beijing Shi"));
        assert!(cn.is_unknown_subdivision("Peking"));
        assert_eq!(
            us.subdivision_hint("Cali"),
            "CA, California, CO, Colorado, …"
        );
        assert_eq!(
            cn.subdivision_hint("Peking"),
            "Anhui Sheng, Anhui, Macau, Beijing Shi, …"
        );
        // Malaysia does not require a state, so any is accepted.
        assert!(!format_of("MY").unwrap().is_unknown_subdivision("anything"));
    }
}
