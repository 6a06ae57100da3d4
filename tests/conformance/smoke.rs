//! Hand-written requests against a policy that uses most of the language.

use serde_json::json;
use ward_runtime::Runtime;
use ward_tests::compile_both;

const POLICY: &str = include_str!("../corpus/check/sketch-ok.ward");

fn request(rpm: i64, roles: &[&str], mfa: Option<&str>, zone: &str, ip: &str, family: &str) -> serde_json::Value {
    let mut attributes = json!({
        "clearance": "confidential",
        "roles": roles,
        "risk": 10,
        "device": {"managed": true, "patch_age_days": 3},
    });
    if let Some(mfa) = mfa {
        attributes["mfa_age"] = json!(mfa);
    }
    json!({
        "principal": {"type": "User", "id": "alice", "attributes": attributes, "ancestors": [{"type": "Group", "id": "ml-admins"}]},
        "action": "infer",
        "resource": {"type": "Model", "id": "m1", "attributes": {"tier": "internal", "family": family, "owner": "bob"}},
        "context": {"zone": zone, "mtls": true, "risk": 5, "requests_per_minute": rpm, "source_ip": ip, "now": "2026-01-31T09:30:00Z"}
    })
}

#[test]
fn interpreter_and_module_agree_on_the_sketch() {
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("sketch.ward".into(), POLICY.into())]);
    let mut cases = Vec::new();
    for rpm in [10, 150, 700] {
        for roles in [&["lead", "ml-ops"][..], &["intern"][..], &[][..]] {
            for mfa in [None, Some("5m"), Some("1h")] {
                for (zone, ip) in [("corp", "192.168.1.1"), ("internet", "10.1.2.3"), ("partner", "8.8.8.8")] {
                    for family in ["gpt-4", "llama"] {
                        cases.push(request(rpm, roles, mfa, zone, ip, family));
                    }
                }
            }
        }
    }
    cases.push(json!({"principal": {"type": "Nobody", "id": "x"}, "action": "infer", "resource": {"type": "Model", "id": "m"}}));
    let mut allows = 0;
    for case in &cases {
        let text = serde_json::to_vec(case).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        let actual = compiled.module.decide_json(&text);
        assert_eq!(actual.decision, expected.decision, "decision for {case}");
        assert_eq!(actual.rules, expected.rules, "rules for {case}");
        assert_eq!(actual.obligations, expected.obligations, "obligations for {case}");
        assert_eq!(
            actual.errors.is_empty(),
            expected.errors.is_empty(),
            "errors for {case}: {:?} vs {:?}",
            actual.errors,
            expected.errors
        );
        allows += usize::from(expected.is_allow());
    }
    assert!(allows > 0 && allows < cases.len(), "the cases exercise both outcomes ({allows} allows)");
}
