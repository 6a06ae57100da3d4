//! From the module's answer to the decision; the host's defences.

use std::collections::BTreeMap;

use serde_json::json;
use ward_runtime::{Decision, DecisionError, ErrorKind, Limits, Obligation, Outcome};
use ward_types::decision::ObligationArg;

use crate::common::{manage, policy, policy_with, request};

fn obligation(name: &str, args: &[(&str, &str)]) -> Obligation {
    Obligation {
        name: name.to_owned(),
        args: args.iter().map(|(k, v)| ((*k).to_owned(), ObligationArg(json!(v)))).collect::<BTreeMap<_, _>>(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn single_error(decision: &Decision) -> &DecisionError {
    assert_eq!(decision.decision, Outcome::Deny, "{decision:?}");
    assert!(decision.rules.is_empty() && decision.reasons.is_empty() && decision.obligations.is_empty());
    assert_eq!(decision.errors.len(), 1, "{decision:?}");
    &decision.errors[0]
}

#[test]
fn allow_lists_permits_sorted_with_reasons_and_distinct_sorted_obligations() {
    let decision = policy().decide(&request(&manage(true, json!(5))));
    assert_eq!(
        decision,
        Decision {
            decision: Outcome::Allow,
            rules: strings(&["A-admin-too", "P-admin"]),
            reasons: strings(&["admins may"]),
            obligations: vec![
                obligation("log", &[("level", "debug")]),
                obligation("log", &[("level", "info")]),
                obligation("notify", &[]),
            ],
            errors: vec![],
        }
    );
}

#[test]
fn forbid_lists_distinct_rule_ids_and_the_least_reason_of_each() {
    let decision = policy().decide(&request(&manage(true, json!(11))));
    assert_eq!(
        decision,
        Decision {
            decision: Outcome::Deny,
            rules: strings(&["F-level"]),
            reasons: strings(&["duplicate id"]),
            obligations: vec![obligation("notify", &[]), obligation("quarantine", &[("for", "15m")])],
            errors: vec![],
        }
    );
}

#[test]
fn nothing_applicable_is_a_default_deny() {
    let decision = policy().decide(&request(&manage(false, json!(5))));
    assert_eq!(decision, Decision::fail_closed(vec![]));
}

#[test]
fn overflow_is_a_deny_with_one_error_per_rule_sorted_by_id() {
    let decision = policy().decide(&request(&manage(true, json!(i64::MAX))));
    let overflow = |rule: &str| DecisionError {
        kind: ErrorKind::Overflow,
        path: None,
        rule: Some(rule.to_owned()),
        message: "integer overflow".to_owned(),
    };
    assert_eq!(decision, Decision::fail_closed(vec![overflow("A-overflow"), overflow("E-overflow")]));
}

#[test]
fn decide_json_matches_decide_and_refuses_non_requests() {
    let module = policy();
    let value = manage(true, json!(5));
    assert_eq!(module.decide_json(value.to_string().as_bytes()), module.decide(&request(&value)));
    for text in [&b"{"[..], b"[]", br#"{"action":"manage"}"#] {
        assert_eq!(single_error(&module.decide_json(text)).kind, ErrorKind::MalformedRequest);
    }
    let mut extra = manage(true, json!(5));
    extra["surprise"] = json!(1);
    assert_eq!(single_error(&module.decide_json(extra.to_string().as_bytes())).kind, ErrorKind::MalformedRequest);
}

#[test]
fn an_endless_evaluation_runs_out_of_fuel_and_the_evaluator_recovers() {
    let module = policy_with(Limits::default().with_fuel(1_000_000));
    let mut evaluator = module.evaluator().unwrap();
    let start = std::time::Instant::now();
    let error = single_error(&evaluator.decide(&request(&manage(true, json!(99))))).clone();
    assert_eq!(error.kind, ErrorKind::BudgetExceeded, "{error}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert!(evaluator.decide(&request(&manage(true, json!(5)))).is_allow(), "a fresh instance after the failure");
    // The pool recovers too.
    assert_eq!(single_error(&module.decide(&request(&manage(true, json!(99))))).kind, ErrorKind::BudgetExceeded);
    assert!(module.decide(&request(&manage(true, json!(5)))).is_allow());
}

#[test]
fn fuel_is_a_budget_per_decision_not_per_instance() {
    let module = policy_with(Limits::default().with_fuel(2_000));
    let mut evaluator = module.evaluator().unwrap();
    for _ in 0..2_000 {
        assert!(evaluator.decide(&request(&manage(true, json!(5)))).is_allow());
    }
    let tiny = policy_with(Limits::default().with_fuel(5));
    assert_eq!(single_error(&tiny.decide(&request(&manage(true, json!(5))))).kind, ErrorKind::BudgetExceeded);
}

#[test]
fn memory_growth_beyond_the_cap_is_a_deny() {
    let module = policy_with(Limits::default().with_max_memory(2 << 16));
    // `ward_evaluate` tries to grow memory by 2000 pages and traps when it cannot.
    let error = single_error(&module.decide(&request(&manage(true, json!(98))))).clone();
    assert_eq!(error.kind, ErrorKind::MalformedRequest, "{error}");
    assert!(error.message.contains("trapped"), "{error}");
    assert!(module.decide(&request(&manage(true, json!(5)))).is_allow());
}

#[test]
fn the_input_buffer_is_asked_for_again_only_for_a_longer_request() {
    let module = policy();
    let mut evaluator = module.evaluator().unwrap();
    let with_nick = |len: usize, level: i64| {
        let mut value = manage(true, json!(level));
        value["principal"]["attributes"]["nick"] = json!("n".repeat(len));
        request(&value)
    };
    // Short, then long enough to grow memory, then short again: each decided
    // from its own bytes, wherever the buffer is.
    for (len, level) in [(1, 5), (300_000, 5), (2, 11), (400_000, 11), (3, 5)] {
        let expected = if level == 5 { Outcome::Allow } else { Outcome::Deny };
        assert_eq!(evaluator.decide(&with_nick(len, level)).decision, expected, "{len} bytes, level {level}");
    }
}

#[test]
fn a_request_larger_than_the_memory_cap_is_a_malformed_request() {
    let module = policy_with(Limits::default().with_max_memory(2 << 16));
    let with_nick = |len: usize| {
        let mut value = manage(true, json!(5));
        value["principal"]["attributes"]["nick"] = json!("n".repeat(len));
        request(&value)
    };
    // Fits in the cap, not next to the module's own data: `ward_input` cannot grow and returns 0.
    let error = single_error(&module.decide(&with_nick(128_000))).clone();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::MalformedRequest, "request too large"));
    // Larger than the cap: refused before calling the module.
    let error = single_error(&module.decide(&with_nick(200_000))).clone();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::MalformedRequest, "request too large"));
    // A request that fits after growing memory is decided.
    assert!(module.decide(&with_nick(100_000)).is_allow());
}

#[test]
fn traps_and_answers_outside_the_abi_are_denies() {
    let module = policy();
    let cases = [
        (97, "trapped"),
        (96, "unknown status 7"),
        (95, "could not read the request"),
        (94, "of the other effect"),
        (93, "out of range"),
        (92, "without any rule"),
        (91, "outside the module's memory"),
        (90, "outside the module's memory"),
        (89, "negative rule count"),
    ];
    for (level, message) in cases {
        let decision = module.decide(&request(&manage(true, json!(level))));
        let error = single_error(&decision);
        assert_eq!(error.kind, ErrorKind::MalformedRequest, "level {level}: {error}");
        assert!(error.message.contains(message), "level {level}: {error}");
        assert!(module.decide(&request(&manage(true, json!(5)))).is_allow(), "level {level}: still serving");
    }
}

#[test]
fn an_encoded_request_decides_like_the_request_and_only_for_its_module() {
    let module = policy();
    let value = manage(true, json!(5));
    let encoded = module.encode(&request(&value)).unwrap();
    let mut evaluator = module.evaluator().unwrap();
    assert_eq!(evaluator.decide_encoded(&encoded), module.decide(&request(&value)));
    assert_eq!(module.decide_encoded(&encoded), module.decide(&request(&value)));
    let other = policy();
    assert_eq!(single_error(&other.decide_encoded(&encoded)).kind, ErrorKind::MalformedRequest);
    let invalid = module.encode(&request(&manage(true, json!("five")))).unwrap_err();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0].path.as_deref(), Some("principal.level"));
}

#[test]
fn a_verdict_is_the_decision_before_it_is_built() {
    let module = policy();
    let mut evaluator = module.evaluator().unwrap();
    for (admin, level) in [(true, json!(5)), (true, json!(11)), (false, json!(5)), (true, json!(i64::MAX))] {
        let r = request(&manage(admin, level.clone()));
        let expected = module.decide(&r);
        let verdict = evaluator.evaluate(&r);
        assert_eq!(verdict.is_allow(), expected.is_allow());
        assert_eq!(verdict.outcome(), expected.decision);
        let ids: Vec<&str> = verdict.rule_ids().collect();
        assert_eq!(ids, expected.rules.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(verdict.to_decision(), expected);
        assert_eq!(verdict.into_decision(), expected);
    }
    // Sorted by rule id: "A-admin-too" (4), then "P-admin" (0).
    assert_eq!(evaluator.evaluate(&request(&manage(true, json!(5)))).rule_indices(), [4, 0]);
    assert_eq!(evaluator.evaluate(&request(&manage(true, json!(11)))).rule_indices(), [1, 5]);
    let encoded = module.encode(&request(&manage(true, json!(5)))).unwrap();
    assert!(evaluator.evaluate_encoded(&encoded).is_allow());
    // Requests that are not evaluated, or fail, are denies without rules.
    for r in [manage(true, json!("x")), manage(true, json!(97)), manage(true, json!(94))] {
        let verdict = evaluator.evaluate(&request(&r));
        assert!(!verdict.is_allow());
        assert!(verdict.rule_indices().is_empty());
        assert!(!verdict.into_decision().errors.is_empty());
    }
    assert!(!policy().evaluator().unwrap().evaluate_encoded(&encoded).is_allow());
}

#[test]
fn an_input_buffer_outside_memory_is_a_deny() {
    use crate::common::{manifest, module_bytes, wat};
    let body = r#"
  (func (export "ward_input") (param i32) (result i32) (i32.const 0x7fff0000))
  (func (export "ward_evaluate") (param i32) (result i32) (i32.const 2))
  (func (export "ward_output") (result i32) (i32.const 1024))"#;
    let module =
        ward_runtime::Runtime::new().unwrap().load(&module_bytes(&wat("", 2, body), Some(&manifest()))).unwrap();
    let error = single_error(&module.decide(&request(&manage(true, json!(5))))).clone();
    assert_eq!(error.kind, ErrorKind::MalformedRequest);
    assert!(error.message.contains("outside its memory"), "{error}");
}
