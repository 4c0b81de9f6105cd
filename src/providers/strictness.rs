//! How strictly a provider holds a merchant to its documents.
//!
//! `strict` (the default) refuses what the documents do not allow, with the provider's own
//! code, because a client bug the sandbox forgives fails in production. `lenient` lets through
//! everything a provider's rules would refuse. Between the two, a merchant may relax single
//! rules by name (`relax: [...]`), where a real provider is known to tolerate something. Each
//! provider names its rules (an enum in its folder) and lists them, with sources, on its page.
//! A provider-wide setting in the provider's section applies to every merchant that does not
//! set its own.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Strict or lenient, for a provider or one merchant of it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strictness {
    /// Refuse what the documents do not allow.
    #[default]
    Strict,
    /// Accept what any of the provider's strict rules would refuse.
    Lenient,
}

/// One merchant's strictness towards a provider whose rules are `R`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leniency<R: Ord> {
    pub strictness: Strictness,
    /// Rules relaxed one by one (under `strict`).
    pub relax: BTreeSet<R>,
}

impl<R: Ord> Leniency<R> {
    pub fn new(strictness: Strictness, relax: impl IntoIterator<Item = R>) -> Leniency<R> {
        Leniency {
            strictness,
            relax: relax.into_iter().collect(),
        }
    }

    /// A merchant's own strictness, else its provider section's, else strict.
    pub fn resolve(
        merchant: Option<Strictness>,
        section: Option<Strictness>,
        relax: impl IntoIterator<Item = R>,
    ) -> Leniency<R> {
        Leniency::new(merchant.or(section).unwrap_or_default(), relax)
    }

    /// Whether this merchant may break `rule`.
    pub fn relaxes(&self, rule: &R) -> bool {
        self.strictness == Strictness::Lenient || self.relax.contains(rule)
    }
}

/// A rule's `relax:` name (its serde name).
pub fn rule_name(rule: &impl Serialize) -> String {
    match serde_json::to_value(rule) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::from("?"),
    }
}

/// The journal's note on a refusal by a strict rule: which rule, and how to relax it.
pub fn refusal_note(provider: &str, rule: &str) -> String {
    format!(
        "refused by {provider}'s strict rule `{rule}`; `relax: [{rule}]` or `strictness: lenient` in the merchant's {provider} credentials accepts it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_relaxes_every_rule_and_strict_only_the_named_ones() {
        let strict = Leniency::new(Strictness::Strict, ["a"]);
        assert!(strict.relaxes(&"a"));
        assert!(!strict.relaxes(&"b"));
        let lenient = Leniency::new(Strictness::Lenient, Vec::<&str>::new());
        assert!(lenient.relaxes(&"b"));
        assert_eq!(Strictness::default(), Strictness::Strict);
        let lenient = Strictness::Lenient;
        let section_wide = Leniency::resolve(None, Some(lenient), Vec::<&str>::new());
        assert_eq!(section_wide.strictness, Strictness::Lenient);
        let own = Leniency::resolve(Some(Strictness::Strict), Some(lenient), Vec::<&str>::new());
        assert_eq!(own.strictness, Strictness::Strict);
        assert_eq!(
            Leniency::<&str>::resolve(None, None, []).strictness,
            Strictness::Strict
        );
    }
}
