//! The one review-rule engine: a scenario's rules deciding KYC reviews, cardholder audits and
//! cardholder applications, whichever provider received them. A provider names the facts it
//! has about the applicant; it keeps only its wire words for the outcome.

use jiff::SignedDuration;
use serde::Serialize;

use jiff::Timestamp;

use super::glob;
use super::{KycStatus, Review};

/// A rule: the first whose every given glob (any case) matches the applicant decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewRule {
    pub email: Option<String>,
    /// Against "first last".
    pub name: Option<String>,
    /// Against the identity document's number.
    pub document: Option<String>,
    /// Against the merchant's own reference for the person.
    pub reference: Option<String>,
    /// Against a KYC token from an identity-check service.
    pub token: Option<String>,
    /// `Passed` or `Rejected`.
    pub decision: KycStatus,
    pub reason: Option<String>,
    /// Machine-readable rejection codes, for providers that send them.
    pub codes: Vec<String>,
    /// How long the review takes; default the policy's delay.
    pub after: Option<SignedDuration>,
}

/// What a provider knows about an applicant (empty where it knows nothing).
#[derive(Clone, Copy, Debug, Default)]
pub struct Applicant<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub document: &'a str,
    pub reference: &'a str,
    pub token: &'a str,
}

/// A provider's rules, its decision when none matches, and how long reviews take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewPolicy {
    pub rules: Vec<ReviewRule>,
    pub default: KycStatus,
    pub delay: SignedDuration,
}

/// How a review will end, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruling {
    pub decision: KycStatus,
    pub reason: Option<String>,
    pub codes: Vec<String>,
    pub after: SignedDuration,
}

/// Which rulings keep their reason and codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explained {
    /// Every ruling.
    Always,
    /// Rejections only (an approval carries neither).
    Rejections,
}

impl Ruling {
    /// The review this ruling schedules, due at `due`.
    pub fn review(self, due: Timestamp, explained: Explained) -> Review {
        let keep = explained == Explained::Always || self.decision == KycStatus::Rejected;
        Review {
            decision: self.decision,
            reason: self.reason.filter(|_| keep),
            codes: if keep { self.codes } else { Vec::new() },
            due,
        }
    }
}

impl ReviewRule {
    /// A rule deciding every applicant so (narrow it by setting globs).
    pub fn deciding(decision: KycStatus) -> ReviewRule {
        ReviewRule {
            email: None,
            name: None,
            document: None,
            reference: None,
            token: None,
            decision,
            reason: None,
            codes: Vec::new(),
            after: None,
        }
    }

    fn matches(&self, applicant: &Applicant<'_>) -> bool {
        let hit = |pattern: &Option<String>, value: &str| {
            pattern.as_deref().is_none_or(|p| glob::matches(p, value))
        };
        hit(&self.email, applicant.email)
            && hit(&self.name, applicant.name)
            && hit(&self.document, applicant.document)
            && hit(&self.reference, applicant.reference)
            && hit(&self.token, applicant.token)
    }
}

impl ReviewPolicy {
    /// The ruling for `applicant`: the scenario's magic rules first (they hold for every
    /// provider), then the provider's, then its default.
    pub fn decide(&self, magic: &[ReviewRule], applicant: &Applicant<'_>) -> Ruling {
        magic
            .iter()
            .chain(&self.rules)
            .find(|rule| rule.matches(applicant))
            .map(|rule| Ruling {
                decision: rule.decision,
                reason: rule.reason.clone(),
                codes: rule.codes.clone(),
                after: rule.after.unwrap_or(self.delay),
            })
            .unwrap_or(Ruling {
                decision: self.default,
                reason: None,
                codes: Vec::new(),
                after: self.delay,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_rules_come_first_then_the_providers_then_its_default() {
        let minute = SignedDuration::from_mins(1);
        let policy = ReviewPolicy {
            rules: vec![
                ReviewRule {
                    email: Some("*@reject.test".into()),
                    codes: vec!["1".into()],
                    after: Some(SignedDuration::ZERO),
                    ..ReviewRule::deciding(KycStatus::Rejected)
                },
                ReviewRule {
                    reference: Some("VIP-*".into()),
                    token: Some("ok-*".into()),
                    ..ReviewRule::deciding(KycStatus::Passed)
                },
            ],
            default: KycStatus::Passed,
            delay: minute,
        };
        let magic = [ReviewRule {
            name: Some("REJECT*".into()),
            reason: Some("magic".into()),
            ..ReviewRule::deciding(KycStatus::Rejected)
        }];
        let ruling = |applicant: Applicant<'_>| policy.decide(&magic, &applicant);
        let by_email = ruling(Applicant {
            email: "A@REJECT.test",
            ..Applicant::default()
        });
        assert_eq!(
            (by_email.decision, by_email.codes, by_email.after),
            (
                KycStatus::Rejected,
                vec!["1".to_owned()],
                SignedDuration::ZERO
            )
        );
        let magic_name = ruling(Applicant {
            email: "a@reject.test",
            name: "Reject Me",
            ..Applicant::default()
        });
        assert_eq!(
            (magic_name.reason.as_deref(), magic_name.after),
            (Some("magic"), minute)
        );
        let both = Applicant {
            reference: "VIP-1",
            token: "ok-2",
            ..Applicant::default()
        };
        assert_eq!(ruling(both).decision, KycStatus::Passed);
        let none = ruling(Applicant::default());
        assert_eq!(
            none,
            Ruling {
                decision: KycStatus::Passed,
                reason: None,
                codes: Vec::new(),
                after: minute
            }
        );
    }

    #[test]
    fn reviews_keep_reasons_as_the_provider_explains_them() {
        let due: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let ruling = |decision| Ruling {
            decision,
            reason: Some("why".into()),
            codes: vec!["1".into()],
            after: SignedDuration::ZERO,
        };
        let approved = ruling(KycStatus::Passed).review(due, Explained::Rejections);
        assert_eq!((approved.reason, approved.codes.len()), (None, 0));
        let kept = ruling(KycStatus::Passed).review(due, Explained::Always);
        assert_eq!(kept.reason.as_deref(), Some("why"));
        let rejected = ruling(KycStatus::Rejected).review(due, Explained::Rejections);
        assert_eq!(
            (rejected.reason.as_deref(), rejected.codes.len()),
            (Some("why"), 1)
        );
    }
}
