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

/// A request builder reused for another request, or told twice, keeps only
/// the last word: a replaced principal takes its optional attributes with
/// it, and a value set again replaces the earlier one (sets included).
#[test]
fn a_request_builder_keeps_only_the_last_word() {
    const SOURCE: &str = r#"package builder.last
entity User { nick: String?, tags: Set<String> }
entity Doc {}
action read { principal: User, resource: Doc }

@id("NICK") permit (principal, action == read, resource)
  when principal has nick;

@id("TAGGED") permit (principal, action == read, resource)
  when principal.tags.contains("x");
"#;
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("last.ward".into(), SOURCE.into())]);
    let module = &compiled.module;
    let user = module.entity_type("User").expect("User");
    let doc = module.entity_type("Doc").expect("Doc");
    let read = module.action("read").expect("read");
    let nick = module.principal_attribute(user, "nick").expect("nick");
    let tags = module.principal_attribute(user, "tags").expect("tags");
    let mut evaluator = module.evaluator().expect("evaluator");
    let rules = |evaluator: &mut ward_runtime::Evaluator, f: &dyn Fn(&mut ward_runtime::RequestBuilder<'_>)| {
        let mut b = evaluator.request();
        b.action(read).resource(doc, "d", &[]);
        f(&mut b);
        let decision = b.evaluate().into_decision();
        assert!(decision.errors.is_empty(), "{decision:?}");
        decision.rules
    };
    assert_eq!(
        rules(&mut evaluator, &|b| {
            b.principal(user, "a", &[]).set_str(&nick, "n").set_strs(&tags, &["x", "y", "x"]);
        }),
        ["NICK", "TAGGED"]
    );
    // The second principal has neither the first one's nick nor its tags.
    assert!(
        rules(&mut evaluator, &|b| {
            b.principal(user, "a", &[]).set_str(&nick, "n").set_strs(&tags, &["x"]);
            b.principal(user, "b", &[]).set_strs(&tags, &[]);
        })
        .is_empty()
    );
    // Tags set again: only the last set counts, the empty one too.
    assert!(
        rules(&mut evaluator, &|b| {
            b.principal(user, "a", &[]).set_strs(&tags, &["x"]).set_strs(&tags, &[]);
        })
        .is_empty()
    );
    assert_eq!(
        rules(&mut evaluator, &|b| {
            b.principal(user, "a", &[]).set_json(&tags, &json!(["y"])).set_strs(&tags, &["x"]);
        }),
        ["TAGGED"]
    );
    // Nothing of the last request leaks into the next.
    assert!(
        rules(&mut evaluator, &|b| {
            b.principal(user, "c", &[]).set_strs(&tags, &["z"]);
        })
        .is_empty()
    );
}

/// Containers of more than 64 attributes are tracked apart from the usual
/// mask of given fields: a required attribute beyond the 64th is required
/// all the same, on every request path.
#[test]
fn required_attributes_beyond_the_64th_are_required() {
    let attributes: Vec<String> = (0..70).map(|i| format!("a{i}: Int{}", if i % 10 == 9 { "?" } else { "" })).collect();
    let source = format!(
        "package wide\n\nentity User {{ {} }}\nentity Doc {{}}\n\naction read {{ principal: User, resource: Doc }}\n\n\
         @id(\"WIDE\") permit (principal, action == read, resource)\n  when principal.a68 == 68;\n",
        attributes.join(", ")
    );
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("wide.ward".into(), source)]);
    let request = |skip: &[usize]| {
        let attributes: serde_json::Map<String, serde_json::Value> =
            (0..70).filter(|i| !skip.contains(i)).map(|i| (format!("a{i}"), json!(i))).collect();
        json!({
            "principal": {"type": "User", "id": "u", "attributes": attributes},
            "action": "read",
            "resource": {"type": "Doc", "id": "d"}
        })
    };
    let decide = |value: &serde_json::Value| {
        let text = serde_json::to_vec(value).expect("json");
        let parsed = ward_types::Request::from_json(&text).expect("a request");
        let from_json = compiled.module.decide_json(&text);
        assert_eq!(compiled.module.decide(&parsed), from_json, "{value}");
        let where_ = |d: &ward_types::Decision| d.errors.iter().map(|e| (e.kind, e.path.clone())).collect::<Vec<_>>();
        let interpreted = ward_compiler::interp::decide_json(&compiled.program, &text);
        assert_eq!(where_(&interpreted), where_(&from_json), "{value}");
        from_json
    };
    let all = decide(&request(&[]));
    assert!(all.is_allow(), "{all:?}");
    // Optional ones (a9, a69) may be left out; required ones may not, before or after the 64th.
    assert!(decide(&request(&[9, 69])).is_allow());
    let missing = decide(&request(&[3, 66, 69]));
    let paths: Vec<_> = missing.errors.iter().map(|e| (e.kind, e.path.as_deref())).collect();
    assert_eq!(
        paths,
        [
            (ward_types::ErrorKind::MissingAttribute, Some("principal.a3")),
            (ward_types::ErrorKind::MissingAttribute, Some("principal.a66")),
        ]
    );
}
