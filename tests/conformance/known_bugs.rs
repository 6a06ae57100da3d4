//! Disagreements the differential tests found, each as the smallest policy
//! and request that showed it, kept as regression tests now that they are
//! fixed. The generator produces these shapes by default;
//! `WARD_DIFF_KNOWN_BUGS` can still narrow a campaign to some of them (see
//! `differential.rs`).

use ward_runtime::Runtime;
use ward_tests::compile_both;
use ward_tests::differential::compare;
use ward_types::{Decision, ErrorKind, Outcome};

/// Decides `request` with both engines; the module must agree with the
/// interpreter, whose decision is returned.
fn both(policy: &str, request: &str) -> (Decision, Decision) {
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("policy.ward".into(), policy.into())]);
    let interp = ward_compiler::interp::decide_json(&compiled.program, request.as_bytes());
    let module = compiled.module.decide_json(request.as_bytes());
    (interp, module)
}

fn assert_agree(policy: &str, request: &str) -> Decision {
    let (interp, module) = both(policy, request);
    if let Err(e) = compare(&interp, &module, false) {
        panic!(
            "{e}\n  interpreter: {}\n  module:      {}",
            serde_json::to_string(&interp).unwrap_or_default(),
            serde_json::to_string(&module).unwrap_or_default()
        );
    }
    interp
}

const TWO_TYPES: &str = r#"package t
entity U { n: Int }
entity V { n: Int? }
action go { principal: [U, V], resource: U }
@id("P") permit (principal, action, resource);
"#;

/// The runtime (`runtime/src/encode.rs`) reports an unknown or inapplicable
/// principal or resource type at the path `principal` / `resource`; the
/// interpreter at `principal.type` / `resource.type`.
#[test]
fn runtime_names_the_type_in_entity_type_error_paths() {
    for request in [
        r#"{"principal": {"type": "Nobody", "id": "a"}, "action": "go", "resource": {"type": "U", "id": "r", "attributes": {"n": 1}}}"#,
        r#"{"principal": {"type": "U", "id": "a", "attributes": {"n": 1}}, "action": "go", "resource": {"type": "V", "id": "r"}}"#,
    ] {
        let d = assert_agree(TWO_TYPES, request);
        assert!(d.errors.iter().any(|e| e.path.as_deref().is_some_and(|p| p.ends_with(".type"))), "{d:?}");
    }
}

/// `has` on an attribute that is required (for the type, or for one of the
/// possible types) compiles (warning W0002) and the interpreter says true;
/// the module reads the first four bytes of the value as the presence flag,
/// so `0`, `false` or a string that is not a literal of the policy make it
/// false.
#[test]
fn has_on_a_required_attribute_is_true() {
    let policy = r#"package t
entity U { n: Int, s: String }
entity V { n: Int? }
action go { principal: [U, V], resource: U }
context { flag: Bool }
@id("HAS-N") permit (principal: U, action, resource) when principal has n;
@id("HAS-UNION") permit (principal, action, resource) when principal has n;
@id("HAS-S") permit (principal: U, action, resource) when principal has s;
@id("HAS-CTX") permit (principal, action, resource) when context has flag;
"#;
    let request = r#"{"principal": {"type": "U", "id": "a", "attributes": {"n": 0, "s": "not a literal"}}, "action": "go",
        "resource": {"type": "U", "id": "r", "attributes": {"n": 1, "s": "x"}}, "context": {"flag": false}}"#;
    let d = assert_agree(policy, request);
    assert_eq!(d.rules, ["HAS-CTX", "HAS-N", "HAS-S", "HAS-UNION"]);
}

/// Quantifiers evaluate their condition for every element, so an overflow
/// on any element fails the rule whatever order the elements are visited
/// in (the module visits a set literal in written order, the interpreter in
/// ascending order; they used to stop at different elements).
#[test]
fn quantifiers_fail_on_any_failing_element_whatever_the_order() {
    let policy = r#"package t
entity U {}
action go { principal: U, resource: U }
context { big: Int, small: Int }
@id("ALL") permit (principal, action, resource) when [context.big, context.small].all(v => v * 2 > 0);
"#;
    let request = r#"{"principal": {"type": "U", "id": "a"}, "action": "go", "resource": {"type": "U", "id": "r"},
        "context": {"big": 9223372036854775807, "small": -1}}"#;
    let d = assert_agree(policy, request);
    assert_eq!((d.decision, d.errors.len()), (Outcome::Deny, 1));
    assert_eq!(d.errors[0].kind, ErrorKind::Overflow);
}

/// A function whose body is a set literal with computed elements builds the
/// set in one memory area per literal, shared by all its calls: two live
/// results of the same function are the same set in the module.
#[test]
fn each_call_of_a_set_building_function_has_its_own_set() {
    let policy = r#"package t
entity U {}
action go { principal: U, resource: U }
context { s: String }
def pair(a: String) -> Set<String> = [a, "k"];
@id("EQ") permit (principal, action, resource) when pair(context.s) == pair("other");
"#;
    let request = r#"{"principal": {"type": "U", "id": "a"}, "action": "go", "resource": {"type": "U", "id": "r"}, "context": {"s": "x"}}"#;
    let d = assert_agree(policy, request);
    assert_eq!((d.decision, d.rules.len()), (Outcome::Deny, 0));
}

/// Both engines: an integer just below `i64::MIN` (such as
/// `-9223372036854775809`) parses as the float `-2^63`, which is in range,
/// so both report `not_an_integer`; `spec/abi.md` says an integer outside 64
/// bits is `integer_out_of_range` (as it is just above `i64::MAX`).
#[test]
fn integers_just_below_i64_are_out_of_range() {
    let policy = r#"package t
entity U {}
action go { principal: U, resource: U }
context { n: Int }
@id("P") permit (principal, action, resource);
"#;
    let request = r#"{"principal": {"type": "U", "id": "a"}, "action": "go", "resource": {"type": "U", "id": "r"}, "context": {"n": -9223372036854775809}}"#;
    let (interp, module) = both(policy, request);
    for d in [interp, module] {
        let kinds: Vec<ErrorKind> = d.errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [ErrorKind::IntegerOutOfRange], "{d:?}");
    }
}
