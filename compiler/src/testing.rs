//! Judging decisions against `test` expectations, and comparing the
//! decisions of two engines. The command line runs tests; this module says
//! whether they passed, so that every front end (CLI, language server)
//! judges alike.

use ward_types::{Decision, DecisionError};

use crate::program::{Expectation, ExpectedError};

/// One way a decision differs from what a test expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What differs: `decision`, `rules`, `obligations` or `errors`.
    pub field: &'static str,
    /// The expectation, as a test writes it.
    pub expected: String,
    /// What the decision has, in the same notation.
    pub actual: String,
}

/// Every way `decision` differs from `expect`; empty when the test passes.
pub fn judge(expect: &Expectation, decision: &Decision) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if expect.outcome != decision.decision {
        out.push(Mismatch {
            field: "decision",
            expected: outcome(expect.outcome).into(),
            actual: outcome(decision.decision).into(),
        });
    }
    if let Some(rules) = &expect.rules {
        let mut actual = decision.rules.clone();
        actual.sort();
        if *rules != actual {
            out.push(Mismatch { field: "rules", expected: string_list(rules), actual: string_list(&actual) });
        }
    }
    if let Some(obligations) = &expect.obligations {
        let mut actual = decision.obligations.clone();
        actual.sort();
        if *obligations != actual {
            out.push(Mismatch {
                field: "obligations",
                expected: list(obligations.iter().map(obligation)),
                actual: list(actual.iter().map(obligation)),
            });
        }
    }
    if !errors_match(&expect.errors, &decision.errors) {
        out.push(Mismatch {
            field: "errors",
            expected: list(expect.errors.iter().map(expected_error)),
            actual: list(decision.errors.iter().map(actual_error)),
        });
    }
    out
}

/// Whether two engines' decisions agree: outcome, rules, reasons,
/// obligations, and errors by kind, path and rule. Error messages are
/// explanations for people and may be worded differently.
pub fn engines_agree(a: &Decision, b: &Decision) -> bool {
    let errors = |d: &Decision| {
        let mut e: Vec<_> = d.errors.iter().map(|e| (e.kind, e.path.clone(), e.rule.clone())).collect();
        e.sort();
        e
    };
    a.decision == b.decision
        && a.rules == b.rules
        && a.reasons == b.reasons
        && a.obligations == b.obligations
        && errors(a) == errors(b)
}

/// Each expected error matches a distinct actual error, and no actual error
/// is left over.
fn errors_match(expected: &[ExpectedError], actual: &[DecisionError]) -> bool {
    if expected.len() != actual.len() {
        return false;
    }
    // Most specific expectations first, so that a bare kind does not take
    // the error a path-qualified expectation needs.
    let mut order: Vec<&ExpectedError> = expected.iter().collect();
    order.sort_by_key(|e| std::cmp::Reverse(usize::from(e.path.is_some()) + usize::from(e.rule.is_some())));
    let mut used = vec![false; actual.len()];
    order.into_iter().all(|e| {
        let found = actual.iter().enumerate().position(|(i, a)| {
            !used[i]
                && a.kind == e.kind
                && e.path.as_ref().is_none_or(|p| a.path.as_ref() == Some(p))
                && e.rule.as_ref().is_none_or(|r| a.rule.as_ref() == Some(r))
        });
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

fn outcome(o: ward_types::Outcome) -> &'static str {
    match o {
        ward_types::Outcome::Allow => "allow",
        ward_types::Outcome::Deny => "deny",
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn string_list(items: &[String]) -> String {
    list(items.iter().map(|s| format!("{s:?}")))
}

/// `quarantine(for: 15m)`, in test notation.
fn obligation(o: &ward_types::Obligation) -> String {
    if o.args.is_empty() {
        return o.name.clone();
    }
    let args: Vec<String> = o.args.iter().map(|(name, value)| format!("{name}: {}", value.0)).collect();
    format!("{}({})", o.name, args.join(", "))
}

fn expected_error(e: &ExpectedError) -> String {
    error_text(e.kind, e.path.as_deref(), e.rule.as_deref())
}

fn actual_error(e: &DecisionError) -> String {
    error_text(e.kind, e.path.as_deref(), e.rule.as_deref())
}

fn error_text(kind: ward_types::ErrorKind, path: Option<&str>, rule: Option<&str>) -> String {
    let mut args = Vec::new();
    if let Some(path) = path {
        args.push(format!("path: {path:?}"));
    }
    if let Some(rule) = rule {
        args.push(format!("rule: {rule:?}"));
    }
    if args.is_empty() { kind.as_str().to_owned() } else { format!("{}({})", kind.as_str(), args.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_types::{ErrorKind, Outcome};

    fn decision(outcome: Outcome, rules: &[&str], errors: Vec<DecisionError>) -> Decision {
        Decision {
            decision: outcome,
            rules: rules.iter().map(|s| s.to_string()).collect(),
            reasons: vec![],
            obligations: vec![],
            errors,
        }
    }

    fn error(kind: ErrorKind, path: Option<&str>) -> DecisionError {
        DecisionError { kind, path: path.map(str::to_owned), rule: None, message: "m".into() }
    }

    #[test]
    fn outcome_and_rules_are_compared() {
        let expect =
            Expectation { outcome: Outcome::Deny, rules: Some(vec!["A".into()]), obligations: None, errors: vec![] };
        assert!(judge(&expect, &decision(Outcome::Deny, &["A"], vec![])).is_empty());
        let wrong = judge(&expect, &decision(Outcome::Allow, &["B"], vec![]));
        assert_eq!(wrong.iter().map(|m| m.field).collect::<Vec<_>>(), ["decision", "rules"]);
        assert_eq!(wrong[1].expected, r#"["A"]"#);
        assert_eq!(wrong[1].actual, r#"["B"]"#);
    }

    #[test]
    fn unexpected_errors_fail_a_test_that_lists_none() {
        let expect = Expectation { outcome: Outcome::Deny, rules: None, obligations: None, errors: vec![] };
        let d = decision(Outcome::Deny, &[], vec![error(ErrorKind::InvalidValue, Some("context.risk"))]);
        let m = judge(&expect, &d);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].actual, r#"[invalid_value(path: "context.risk")]"#);
    }

    #[test]
    fn errors_match_by_kind_and_given_details() {
        let d = decision(
            Outcome::Deny,
            &[],
            vec![error(ErrorKind::InvalidValue, Some("a")), error(ErrorKind::InvalidValue, Some("b"))],
        );
        let bare = ExpectedError { kind: ErrorKind::InvalidValue, path: None, rule: None };
        let at_b = ExpectedError { kind: ErrorKind::InvalidValue, path: Some("b".into()), rule: None };
        let expect = |errors| Expectation { outcome: Outcome::Deny, rules: None, obligations: None, errors };
        assert!(judge(&expect(vec![bare.clone(), at_b.clone()]), &d).is_empty());
        assert!(judge(&expect(vec![at_b.clone(), bare.clone()]), &d).is_empty());
        assert_eq!(judge(&expect(vec![at_b.clone()]), &d).len(), 1);
        assert_eq!(judge(&expect(vec![at_b.clone(), at_b]), &d).len(), 1);
    }

    #[test]
    fn engines_agree_ignores_messages_only() {
        let a = decision(Outcome::Deny, &[], vec![error(ErrorKind::WrongType, Some("x"))]);
        let mut b = a.clone();
        b.errors[0].message = "other words".into();
        assert!(engines_agree(&a, &b));
        b.errors[0].path = Some("y".into());
        assert!(!engines_agree(&a, &b));
    }
}
