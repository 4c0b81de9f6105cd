//! ISO 3166-1 alpha-2 country codes (data: `fixtures/iso3166-alpha2.txt`).

const CODES: &str = include_str!("../../fixtures/iso3166-alpha2.txt");

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && CODES.lines().any(|line| line == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_assigned_codes_only() {
        for code in ["CN", "US", "MY", "FR", "HK", "SG"] {
            assert!(is_country_code(code), "{code}");
        }
        for code in ["ZZ", "XX", "cn", "C", "CHN", ""] {
            assert!(!is_country_code(code), "{code}");
        }
        assert_eq!(CODES.lines().filter(|l| !l.starts_with('#')).count(), 249);
    }
}
