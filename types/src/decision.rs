//! The decision format: allow or deny, the rules that determined it, their
//! reasons, the obligations of the winning effect, and any errors.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// At least one permit applied and no forbid did, without errors.
    Allow,
    /// Anything else.
    Deny,
}

/// A decision, as every engine reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Allow or deny.
    pub decision: Outcome,
    /// Ids of the determining rules (the applicable permits of an allow, the
    /// applicable forbids of a deny), sorted, without duplicates.
    pub rules: Vec<String>,
    /// The `@reason` texts of the determining rules, in the order of `rules`.
    pub reasons: Vec<String>,
    /// Obligations of the determining rules, sorted, without duplicates. The
    /// enforcement point must discharge every one or deny.
    pub obligations: Vec<Obligation>,
    /// Why the request could not be decided; non-empty means deny.
    pub errors: Vec<DecisionError>,
}

impl Decision {
    /// A deny because of errors: no rules, no obligations.
    pub fn fail_closed(errors: Vec<DecisionError>) -> Decision {
        Decision { decision: Outcome::Deny, rules: Vec::new(), reasons: Vec::new(), obligations: Vec::new(), errors }
    }

    /// Whether the decision allows.
    pub fn is_allow(&self) -> bool {
        self.decision == Outcome::Allow
    }
}

/// An obligation with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Obligation {
    /// The obligation's name.
    pub name: String,
    /// Arguments by parameter name. Durations are written as duration text
    /// (`"15m"`), timestamps as RFC 3339 text, enum and level values by name.
    pub args: BTreeMap<String, ObligationArg>,
}

/// An obligation argument: a JSON value with a total order, so that
/// obligations sort deterministically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObligationArg(pub Value);

impl PartialOrd for ObligationArg {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObligationArg {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Compact JSON text is canonical for the values obligations carry
        // (no floats; object keys are never produced).
        self.0.to_string().cmp(&other.0.to_string())
    }
}

/// Why a request could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DecisionError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The attribute path concerned, such as `principal.mfa_age` or
    /// `context.device.managed`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The rule whose evaluation failed, for evaluation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// A sentence for humans.
    pub message: String,
}

impl fmt::Display for DecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, &self.rule) {
            (Some(path), _) => write!(f, "{path}: {}", self.message),
            (None, Some(rule)) => write!(f, "rule {rule}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// The classes of decision errors. Each is a deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The document is not a request (bad JSON, missing fields).
    MalformedRequest,
    /// The principal, resource or an ancestor has a type the schema does not declare.
    UnknownEntityType,
    /// The action is not declared.
    UnknownAction,
    /// The action does not apply to the principal's or resource's type.
    ActionNotApplicable,
    /// An ancestor's type cannot contain the entity.
    InvalidAncestor,
    /// A required attribute is absent.
    MissingAttribute,
    /// An attribute is `null`.
    NullValue,
    /// An attribute has the wrong JSON type.
    WrongType,
    /// A number where an integer is required has a fraction or exponent.
    NotAnInteger,
    /// An integer does not fit in 64 bits.
    IntegerOutOfRange,
    /// An integer is outside the range its type declares (`Int[0..100]`).
    OutOfDeclaredRange,
    /// A string is not a value of the enum or level type.
    UnknownEnumValue,
    /// A string is not valid for its type (duration, timestamp, address, range).
    InvalidValue,
    /// Arithmetic overflowed while evaluating a rule.
    Overflow,
    /// The evaluation budget ran out (engines with a budget only).
    BudgetExceeded,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::MalformedRequest,
        ErrorKind::UnknownEntityType,
        ErrorKind::UnknownAction,
        ErrorKind::ActionNotApplicable,
        ErrorKind::InvalidAncestor,
        ErrorKind::MissingAttribute,
        ErrorKind::NullValue,
        ErrorKind::WrongType,
        ErrorKind::NotAnInteger,
        ErrorKind::IntegerOutOfRange,
        ErrorKind::OutOfDeclaredRange,
        ErrorKind::UnknownEnumValue,
        ErrorKind::InvalidValue,
        ErrorKind::Overflow,
        ErrorKind::BudgetExceeded,
    ];

    /// The kind's name as decisions write it (`invalid_value`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::MalformedRequest => "malformed_request",
            ErrorKind::UnknownEntityType => "unknown_entity_type",
            ErrorKind::UnknownAction => "unknown_action",
            ErrorKind::ActionNotApplicable => "action_not_applicable",
            ErrorKind::InvalidAncestor => "invalid_ancestor",
            ErrorKind::MissingAttribute => "missing_attribute",
            ErrorKind::NullValue => "null_value",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::NotAnInteger => "not_an_integer",
            ErrorKind::IntegerOutOfRange => "integer_out_of_range",
            ErrorKind::OutOfDeclaredRange => "out_of_declared_range",
            ErrorKind::UnknownEnumValue => "unknown_enum_value",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::Overflow => "overflow",
            ErrorKind::BudgetExceeded => "budget_exceeded",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_kind_names_match_serde() {
        for kind in super::ErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::Value::String(kind.as_str().into())));
        }
    }
}
