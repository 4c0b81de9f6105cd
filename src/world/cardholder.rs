//! Cardholders: the people cards are issued to, with their identity data and KYC state.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A person known to a tenant's world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cardholder {
    pub id: String,
    /// The provider that registered this person (its name); none for people a
    /// scenario declares, whom every provider may serve.
    pub issuer: Option<String>,
    /// The merchant's own reference for the person (a unique number it chose).
    pub merchant_ref: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<Phone>,
    pub id_document: Option<IdDocument>,
    pub birthday: Option<Date>,
    pub gender: Option<Gender>,
    /// ISO 3166 alpha-2.
    pub nationality: Option<String>,
    pub address: Option<Address>,
    pub kyc: Kyc,
    pub created_at: Timestamp,
}

/// A phone number split as issuers want it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Phone {
    /// International calling code, digits only (`86`, `1`).
    pub country_code: String,
    pub number: String,
    /// ISO 3166 alpha-2 country of the number, when the issuer asks for it.
    pub country: Option<String>,
}

/// An identity document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IdDocument {
    pub kind: IdKind,
    pub number: String,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
}

/// Kinds of identity document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    IdCard,
    Passport,
    DriverLicense,
    Other,
}

/// Gender as issuers record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
    Other,
}

/// A postal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: String,
}

/// Where a cardholder's identity check stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Kyc {
    pub status: KycStatus,
    pub reason: Option<String>,
    /// Machine-readable reasons of a rejection (for providers that send codes).
    pub codes: Vec<String>,
    pub decided_at: Option<Timestamp>,
    pub submitted_at: Option<Timestamp>,
    /// Document images (uploaded file ids) of the latest submission.
    pub documents: Vec<String>,
    /// The decision a pending review will reach, and when; `None` when a person or the
    /// control API decides (hosted KYC).
    pub review: Option<Review>,
    /// The secret in the URL of a hosted KYC page, while one is open.
    pub hosted_token: Option<String>,
}

/// A decision waiting on the sandbox clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Review {
    pub decision: KycStatus,
    pub reason: Option<String>,
    pub codes: Vec<String>,
    pub due: Timestamp,
}

impl Kyc {
    /// A submission made `at`, waiting for `review` (or for a person, on a hosted page).
    pub fn submitted(
        at: Timestamp,
        documents: Vec<String>,
        review: Option<Review>,
        hosted_token: Option<String>,
    ) -> Kyc {
        Kyc {
            status: KycStatus::Pending,
            reason: None,
            codes: Vec::new(),
            decided_at: None,
            submitted_at: Some(at),
            documents,
            review,
            hosted_token,
        }
    }

    /// A settled status without a submission history (scenario data).
    pub fn settled(status: KycStatus, reason: Option<String>, at: Timestamp) -> Kyc {
        Kyc {
            status,
            reason,
            codes: Vec::new(),
            decided_at: (status != KycStatus::Pending).then_some(at),
            submitted_at: None,
            documents: Vec::new(),
            review: None,
            hosted_token: None,
        }
    }
}

/// KYC outcome states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KycStatus {
    /// Submitted (or never submitted) and not decided.
    Pending,
    Passed,
    Rejected,
}

impl Cardholder {
    /// A person known by id and name only: no issuer, reference or details yet (set those with
    /// struct update syntax).
    pub fn named(
        id: &str,
        first_name: &str,
        last_name: &str,
        kyc: Kyc,
        at: Timestamp,
    ) -> Cardholder {
        Cardholder {
            id: id.to_owned(),
            issuer: None,
            merchant_ref: None,
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            email: None,
            phone: None,
            id_document: None,
            birthday: None,
            gender: None,
            nationality: None,
            address: None,
            kyc,
            created_at: at,
        }
    }

    /// Whether `issuer`'s API may see this person.
    pub fn serves(&self, issuer: &str) -> bool {
        self.issuer.as_deref().is_none_or(|i| i == issuer)
    }

    /// The name as it is written in the person's script: family name first and unspaced for
    /// Chinese, Japanese and Korean names ("张伟"), "First Last" otherwise.
    pub fn full_name(&self) -> String {
        let cjk = |s: &str| !s.is_empty() && s.chars().all(is_cjk);
        if cjk(&self.first_name) && cjk(&self.last_name) {
            format!("{}{}", self.last_name, self.first_name)
        } else {
            format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_owned()
        }
    }

    /// Whether `name` names this person: ignoring case and extra spaces, Latin names in either
    /// order ("Smith Alice"), CJK names with any spaces removed ("张 伟").
    pub fn is_named(&self, name: &str) -> bool {
        if name.chars().any(is_cjk) {
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            return squeeze(name) == squeeze(&self.full_name());
        }
        let wanted = normalise_name(name);
        let forward = normalise_name(&self.full_name());
        let reversed = normalise_name(&format!("{} {}", self.last_name, self.first_name));
        wanted == forward || wanted == reversed
    }
}

/// Whether `c` is a CJK ideograph, kana or hangul (names written without spaces).
/// Whether `text` looks like an email address: something@domain.tld, no spaces. (Providers
/// check more or less; this is the sandbox's common floor.)
pub fn plausible_email(text: &str) -> bool {
    text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !text.contains(char::is_whitespace)
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(first: &str, last: &str) -> Cardholder {
        let at = Timestamp::UNIX_EPOCH;
        Cardholder::named(
            "ch",
            first,
            last,
            Kyc::settled(KycStatus::Passed, None, at),
            at,
        )
    }

    #[test]
    fn chinese_names_are_family_name_first_without_space() {
        let p = person("伟", "张");
        assert_eq!(p.full_name(), "张伟");
        assert!(p.is_named("张伟"));
        assert!(p.is_named(" 张伟 "));
        assert!(p.is_named("张 伟"));
        assert!(!p.is_named("张三"));
    }

    #[test]
    fn latin_names_match_in_either_order_and_any_case() {
        let p = person("Alice", "Smith");
        assert_eq!(p.full_name(), "Alice Smith");
        assert!(p.is_named("alice  SMITH"));
        assert!(p.is_named("Smith Alice"));
        assert!(!p.is_named("Alice Smyth"));
    }
}
