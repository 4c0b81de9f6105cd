//! An operation's failure in a provider's own catalog: which entry (the provider's `ErrorKind`),
//! the field it concerns and why. Each provider renders it in its wire format.

use super::Failure;
use super::fields::FieldProblem;

/// The catalog entries every provider has for bad fields.
pub trait Catalog: Copy {
    /// A field present but unusable.
    const INVALID_FIELD: Self;
    /// A required field absent (the same entry as `INVALID_FIELD` where the provider has one).
    const MISSING_FIELD: Self;
}

/// A failure: catalog entry, field, reason, and the strict rule that refused, if one did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError<K> {
    pub kind: K,
    pub field: String,
    pub reason: String,
    /// The `relax:` name of the strict rule behind the refusal (for the journal's note; the
    /// wire answer is the provider's own).
    pub rule: Option<String>,
}

impl<K: Catalog> OpError<K> {
    pub fn new(kind: K) -> OpError<K> {
        OpError {
            kind,
            field: String::new(),
            reason: String::new(),
            rule: None,
        }
    }

    /// An unusable value of `field`.
    pub fn field(field: &str, reason: impl Into<String>) -> OpError<K> {
        OpError {
            kind: K::INVALID_FIELD,
            field: field.to_owned(),
            reason: reason.into(),
            rule: None,
        }
    }

    /// The catalog error for a failure the server detected: the body's field error when the
    /// body is to blame, `internal` otherwise (a panic, an injected status).
    pub fn of_failure(failure: &Failure, internal: K) -> OpError<K> {
        if failure.is_the_bodys() {
            OpError::field("body", failure.to_string())
        } else {
            OpError::new(internal)
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> OpError<K> {
        self.field = field.into();
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> OpError<K> {
        self.reason = reason.into();
        self
    }

    /// The refusal comes from the strict rule named `rule` (its `relax:` name).
    pub fn breaking(mut self, rule: impl serde::Serialize) -> OpError<K> {
        self.rule = Some(super::strictness::rule_name(&rule));
        self
    }
}

impl<K: Catalog> From<FieldProblem> for OpError<K> {
    fn from(problem: FieldProblem) -> OpError<K> {
        OpError {
            kind: if problem.missing {
                K::MISSING_FIELD
            } else {
                K::INVALID_FIELD
            },
            field: problem.field,
            reason: problem.reason,
            rule: problem
                .typing_rule
                .then(|| super::fields::TYPING_RULE.to_owned()),
        }
    }
}
