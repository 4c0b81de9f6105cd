//! The BIN table: which bank issues a card number, and what kind of card it is.
//!
//! The built-in table is data (`fixtures/banks.csv`, `fixtures/bins.csv`, compiled in); a
//! scenario adds or replaces ranges. Lookups take the longest matching prefix, so an 8-digit
//! range refines a 6-digit one.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

const BUILTIN_BANKS: &str = include_str!("../../fixtures/banks.csv");
const BUILTIN_BINS: &str = include_str!("../../fixtures/bins.csv");

/// Card nature, as bank-card lookups report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    Debit,
    Credit,
    Prepaid,
    QuasiCredit,
}

/// Card network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Unionpay,
    Visa,
    Mastercard,
    Amex,
    Jcb,
    Discover,
}

/// An issuing bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bank {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub country: String,
}

/// One BIN range: every PAN starting with `bin` has `length` digits and belongs to `bank`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinRange {
    pub bin: String,
    pub length: usize,
    pub kind: CardKind,
    pub scheme: Scheme,
    pub bank: Arc<Bank>,
}

/// Why a BIN table could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BinTableError {
    #[error("{file}: {source}")]
    Csv {
        file: &'static str,
        #[source]
        source: csv::Error,
    },
    #[error("bin {bin}: unknown bank code `{bank}`")]
    UnknownBank { bin: String, bank: String },
    #[error("bin {0}: a BIN is 4 to 8 digits and shorter than the card length (12 to 19)")]
    BadRange(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BinRow {
    bin: String,
    length: usize,
    kind: CardKind,
    bank: String,
    scheme: Scheme,
}

/// Banks and BIN ranges, looked up by longest prefix.
#[derive(Clone, Debug, Default)]
pub struct BinTable {
    banks: HashMap<String, Arc<Bank>>,
    ranges: HashMap<String, BinRange>,
}

impl BinTable {
    /// The table compiled into the binary from `fixtures/`.
    pub fn builtin() -> Result<BinTable, BinTableError> {
        let mut table = BinTable::default();
        let mut banks = csv::Reader::from_reader(BUILTIN_BANKS.as_bytes());
        for bank in banks.deserialize::<Bank>() {
            let bank = bank.map_err(|source| BinTableError::Csv {
                file: "fixtures/banks.csv",
                source,
            })?;
            table.add_bank(bank);
        }
        let mut bins = csv::Reader::from_reader(BUILTIN_BINS.as_bytes());
        for row in bins.deserialize::<BinRow>() {
            let row = row.map_err(|source| BinTableError::Csv {
                file: "fixtures/bins.csv",
                source,
            })?;
            table.add_range(&row.bin, row.length, row.kind, row.scheme, &row.bank)?;
        }
        Ok(table)
    }

    /// Adds a bank, or replaces the one with the same code everywhere it is used.
    pub fn add_bank(&mut self, bank: Bank) {
        let bank = Arc::new(bank);
        if self.banks.insert(bank.code.clone(), bank.clone()).is_some() {
            for range in self
                .ranges
                .values_mut()
                .filter(|r| r.bank.code == bank.code)
            {
                range.bank = bank.clone();
            }
        }
    }

    /// The bank with `code`, if known.
    pub fn bank(&self, code: &str) -> Option<&Arc<Bank>> {
        self.banks.get(code)
    }

    /// Adds or replaces a range issued by the bank with code `bank`.
    pub fn add_range(
        &mut self,
        bin: &str,
        length: usize,
        kind: CardKind,
        scheme: Scheme,
        bank: &str,
    ) -> Result<(), BinTableError> {
        if !valid_range(bin, length) {
            return Err(BinTableError::BadRange(bin.to_owned()));
        }
        let bank = self
            .banks
            .get(bank)
            .cloned()
            .ok_or_else(|| BinTableError::UnknownBank {
                bin: bin.to_owned(),
                bank: bank.to_owned(),
            })?;
        let range = BinRange {
            bin: bin.to_owned(),
            length,
            kind,
            scheme,
            bank,
        };
        self.ranges.insert(bin.to_owned(), range);
        Ok(())
    }

    /// The range a card number belongs to: the longest BIN that prefixes it.
    pub fn lookup(&self, pan: &str) -> Option<&BinRange> {
        (4..=8.min(pan.len()))
            .rev()
            .find_map(|n| self.ranges.get(pan.get(..n)?))
    }

    /// The range with exactly this BIN.
    pub fn range(&self, bin: &str) -> Option<&BinRange> {
        self.ranges.get(bin)
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the table has no ranges.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Whether `bin`/`length` describe a usable range.
pub fn valid_range(bin: &str, length: usize) -> bool {
    (4..=8).contains(&bin.len())
        && bin.bytes().all(|b| b.is_ascii_digit())
        && (12..=19).contains(&length)
        && bin.len() < length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads_and_covers_the_major_chinese_banks() {
        let table = BinTable::builtin().unwrap();
        for code in [
            "ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "PSBC", "CITIC", "CEB", "CMBC", "SPDB",
            "CIB", "PAB", "HXB", "CGB",
        ] {
            assert!(table.bank(code).is_some(), "bank {code} missing");
            for kind in [CardKind::Debit, CardKind::Credit] {
                let count = table
                    .ranges
                    .values()
                    .filter(|r| r.bank.code == code && r.kind == kind)
                    .count();
                assert!(count >= 2, "{code} has {count} {kind:?} ranges");
            }
        }
        assert!(table.len() > 60);
    }

    #[test]
    fn longest_prefix_wins() {
        let mut table = BinTable::default();
        table.add_bank(Bank {
            code: "X".into(),
            name_zh: "某银行".into(),
            name_en: "Some Bank".into(),
            country: "CN".into(),
        });
        table
            .add_range("622200", 19, CardKind::Debit, Scheme::Unionpay, "X")
            .unwrap();
        table
            .add_range("62220012", 16, CardKind::Credit, Scheme::Unionpay, "X")
            .unwrap();
        assert_eq!(
            table.lookup("6222001234567890").unwrap().kind,
            CardKind::Credit
        );
        assert_eq!(
            table.lookup("6222009934567890123").unwrap().kind,
            CardKind::Debit
        );
        assert!(table.lookup("4111111111111111").is_none());
        assert!(table.lookup("62").is_none());
    }

    #[test]
    fn rejects_bad_ranges_and_unknown_banks() {
        let mut table = BinTable::default();
        assert!(matches!(
            table.add_range("12a456", 16, CardKind::Debit, Scheme::Visa, "X"),
            Err(BinTableError::BadRange(_))
        ));
        assert!(matches!(
            table.add_range("123456", 16, CardKind::Debit, Scheme::Visa, "NOPE"),
            Err(BinTableError::UnknownBank { .. })
        ));
    }
}
