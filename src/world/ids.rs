//! Generation and checking of identifiers: Luhn-valid PANs on a BIN, CVVs, UUIDs, digit strings.
//!
//! All randomness comes from the caller's seeded stream (see [`super::rng`]).

use rand::RngExt;

use super::rng::SandboxRng;

/// Whether `digits` (ASCII digits only) passes the Luhn check.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    luhn_sum(digits, false).is_multiple_of(10)
}

/// The digit that makes `partial` + digit Luhn-valid.
pub fn luhn_check_digit(partial: &str) -> char {
    let sum = luhn_sum(partial, true);
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Luhn sum over `digits`; `for_check_digit` means the rightmost given digit is doubled, as it
/// will be once the check digit is appended.
fn luhn_sum(digits: &str, for_check_digit: bool) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let doubled = (i % 2 == 0) == for_check_digit;
            if doubled {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum()
}

/// A random string of `len` ASCII digits.
pub fn digits(rng: &mut SandboxRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A Luhn-valid PAN of `length` digits starting with `bin`.
///
/// Panics if `bin` is not digits or leaves no room for a check digit; callers validate both.
pub fn pan(rng: &mut SandboxRng, bin: &str, length: usize) -> String {
    assert!(bin.bytes().all(|b| b.is_ascii_digit()) && bin.len() < length);
    let mut partial = String::with_capacity(length);
    partial.push_str(bin);
    partial.push_str(&digits(rng, length - bin.len() - 1));
    let check = luhn_check_digit(&partial);
    partial.push(check);
    partial
}

/// A three-digit card verification value.
pub fn cvv(rng: &mut SandboxRng) -> String {
    digits(rng, 3)
}

/// A random (version 4 layout) UUID in its usual hyphenated lower-case form.
pub fn uuid(rng: &mut SandboxRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Weights of the mainland resident ID checksum (GB 11643, ISO 7064 MOD 11-2).
const CHINA_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHINA_ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character of a mainland resident ID given its first 17 digits.
pub fn china_id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(CHINA_ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHINA_ID_CHECK[(sum % 11) as usize])
}

/// Whether `id` is a well-formed 18-character mainland resident ID: digits, a real birth date,
/// and a correct check character (`X` in either case).
pub fn valid_china_id(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (first17, check) = id.split_at(17);
    let birth_date_valid = first17
        .get(6..14)
        .and_then(|d| jiff::civil::Date::strptime("%Y%m%d", d).ok())
        .is_some();
    birth_date_valid
        && china_id_check_char(first17).is_some_and(|c| check.eq_ignore_ascii_case(&c.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::rng::stream;

    #[test]
    fn luhn_accepts_known_good_numbers_and_rejects_altered_ones() {
        // Published test numbers (Visa, Mastercard, UnionPay, Amex).
        for good in [
            "4111111111111111",
            "5555555555554444",
            "6212345678901265",
            "378282246310005",
        ] {
            assert!(luhn_valid(good), "{good}");
        }
        for bad in [
            "4111111111111112",
            "5555555555554440",
            "",
            "1",
            "41111111111111a1",
        ] {
            assert!(!luhn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn check_digit_completes_a_valid_number() {
        assert_eq!(luhn_check_digit("411111111111111"), '1');
        assert_eq!(luhn_check_digit("7992739871"), '3');
    }

    #[test]
    fn generated_pans_sit_on_their_bin_and_pass_luhn() {
        let mut rng = stream(1, "test");
        for (bin, length) in [("622202", 19), ("622588", 16), ("37", 15)] {
            for _ in 0..200 {
                let pan = pan(&mut rng, bin, length);
                assert_eq!(pan.len(), length);
                assert!(pan.starts_with(bin));
                assert!(luhn_valid(&pan), "{pan}");
            }
        }
    }

    #[test]
    fn uuids_have_their_shape() {
        let mut rng = stream(1, "test");
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn checksum_matches_the_standard_example() {
        // The worked example of GB 11643-1999.
        assert_eq!(china_id_check_char("11010519491231002"), Some('X'));
        assert!(valid_china_id("11010519491231002X"));
        assert!(valid_china_id("11010519491231002x"));
        assert!(!valid_china_id("110105194912310021"));
        assert!(!valid_china_id("11010519491331002X"), "month 13");
        assert!(!valid_china_id("1101051949123100"));
    }
}
