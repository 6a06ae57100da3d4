//! Rules that differ only in their literals share one compiled function,
//! their template, which each rule's call site gives its own literals:
//! numbers, durations, interned strings, enum values, entity literals and
//! addresses of constant sets, ranges and patterns. Families of such rules
//! must decide exactly as the interpreter does. Dispatch subtrees that
//! several actions share are compiled once, and decide alike too. A rule
//! does not test again what the host has checked: the types its actions
//! allow.

use serde_json::json;
use ward_runtime::Runtime;
use ward_tests::differential::validate_module;
use ward_tests::{code_size, compile_both};

const SCHEMA: &str = r#"package acme.templates

level Classification = public < internal < confidential < restricted
enum Zone { corp, partner, internet }

entity Group {}
entity User in [Group] {
  clearance: Classification,
  roles: Set<String>,
  mfa_age: Duration?,
  department: String,
}
entity Model { tier: Classification, family: String }

action infer, embed { principal: User, resource: Model }
context { zone: Zone, mtls: Bool, risk: Int, requests_per_minute: Int, source_ip: Ip }
obligation redact(field: String)
"#;

const MODELS: [&str; 4] = ["m0", "m1", "m2", "m3"];
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
const ZONES: [&str; 3] = ["corp", "partner", "internet"];
const LEVELS: [&str; 4] = ["public", "internal", "confidential", "restricted"];
const FAMILIES: [&str; 3] = ["gpt-4", "llama-3", "claude"];
const CIDRS: [&str; 3] = ["10.0.0.0/8", "192.168.0.0/16", "8.8.8.0/24"];

/// Six rules of each of four shapes, their literals varied.
fn families() -> String {
    let mut text = String::from(SCHEMA);
    for i in 0..6 {
        let model = MODELS[i % MODELS.len()];
        let zone = ZONES[i % ZONES.len()];
        let group = GROUPS[i % GROUPS.len()];
        let level = LEVELS[i % LEVELS.len()];
        let prefix = &FAMILIES[i % FAMILIES.len()][..3];
        let cidr = CIDRS[i % CIDRS.len()];
        let rpm = 100 * (i + 1);
        let minutes = 5 * (i + 1);
        text.push_str(&format!(
            r#"
@id("FA-{i}") @reason("rate {rpm} in {zone}")
forbid (principal: User, action: infer, resource == Model::"{model}")
  when context.requests_per_minute > {rpm} && context.zone == Zone.{zone}
  when principal has mfa_age && principal.mfa_age > {minutes}m;

@id("FB-{i}")
permit (principal in Group::"{group}", action in [infer, embed], resource: Model)
  when resource.family like "{prefix}*" && principal.roles.contains("role{i}")
  when context.source_ip in cidr("{cidr}") && principal.clearance >= Classification.{level}
  obligate redact(field: "field{i}");

@id("FC-{i}")
permit (principal: User, action: embed, resource)
  when let limit = {rpm}; principal.roles.any(r => r.starts_with("role{i}")) && context.risk * 10 < limit
  when principal.department in ["d{i}", "d{j}"];

@id("FD-{i}")
forbid (principal, action, resource: Model)
  when resource.tier == Classification.{level} && principal.department == "d{i}" && !context.mtls;
"#,
            j = i + 1,
        ));
    }
    text
}

fn request(k: usize) -> serde_json::Value {
    let pick = |n: usize, d: usize| (k / d) % n;
    let mut principal = json!({
        "clearance": LEVELS[pick(4, 1)],
        "roles": [format!("role{}", pick(7, 4)), format!("role{}", pick(7, 11))],
        "department": format!("d{}", pick(8, 3)),
    });
    let action = ["infer", "embed"][pick(2, 13)];
    let source_ip = ["10.1.2.3", "192.168.7.7", "8.8.8.8", "1.1.1.1"][pick(4, 43)];
    if pick(3, 5) > 0 {
        principal["mfa_age"] = json!(format!("{}m", 7 * pick(5, 7)));
    }
    json!({
        "principal": {
            "type": "User", "id": format!("u{k}"), "attributes": principal,
            "ancestors": [{"type": "Group", "id": GROUPS[pick(3, 2)]}],
        },
        "action": action,
        "resource": {
            "type": "Model", "id": MODELS[pick(4, 17)],
            "attributes": {"tier": LEVELS[pick(4, 19)], "family": FAMILIES[pick(3, 23)]},
        },
        "context": {
            "zone": ZONES[pick(3, 29)],
            "mtls": pick(2, 31) == 0,
            "risk": 10 * pick(7, 37) as i64,
            "requests_per_minute": 90 * pick(8, 41) as i64,
            "source_ip": source_ip,
        },
    })
}

#[test]
fn families_of_rules_share_templates_and_decide_as_the_interpreter() {
    let runtime = Runtime::new().expect("runtime");
    let source = families();
    let compiled = compile_both(&runtime, vec![("families.ward".into(), source.clone())]);
    let (mut allows, mut forbids, mut determining) = (0, 0, 0);
    for k in 0..2_000 {
        let text = serde_json::to_vec(&request(k)).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        let actual = compiled.module.decide_json(&text);
        assert_eq!(actual, expected, "request {}", String::from_utf8_lossy(&text));
        assert!(expected.errors.is_empty(), "{:?}", expected.errors);
        allows += usize::from(expected.is_allow());
        forbids += usize::from(expected.rules.iter().any(|r| r.starts_with("FA-") || r.starts_with("FD-")));
        determining += expected.rules.len();
    }
    // The requests reach every outcome, with several rules at once.
    assert!(allows > 100 && forbids > 100 && determining > allows + forbids, "{allows} {forbids} {determining}");

    // The 24 rules are four shapes: each rule beyond the first of its shape
    // adds a call with its literals, not a copy of its code.
    let one_each = compile_both(&runtime, vec![("one.ward".into(), one_of_each_shape(&source))]);
    let per_rule = (code_size(&compiled.wasm) - code_size(&one_each.wasm)) / 20;
    assert!(per_rule <= PER_RULE_MAX, "{per_rule} bytes of code per rule of a known shape");
}

/// Bytes of code a rule of a known shape may add: its call with its
/// literals, its share of the dispatch and the recording of its answer.
/// (Copied into the leaves that evaluate them, these rules took 202 bytes
/// each; as calls of their templates, 88.)
const PER_RULE_MAX: u32 = 120;

/// The schema and the first rule of each family.
fn one_of_each_shape(source: &str) -> String {
    let (schema, rules) = source.split_at(SCHEMA.len());
    let first: Vec<&str> = rules.split("\n\n").filter(|r| r.contains("-0\")")).collect();
    format!("{schema}{}\n", first.join("\n\n"))
}

#[test]
fn rules_with_more_literals_than_a_function_may_take_keep_their_own_code() {
    // Five rules of one shape, each with 1,050 literals: more than the
    // 1,000 parameters WebAssembly validators let a function take. They
    // must not become a template, and must decide alike.
    let runtime = Runtime::new().expect("runtime");
    let mut source = String::from(SCHEMA);
    for i in 0..5 {
        let clauses: Vec<String> =
            (0..1_050).map(|k| format!("  when context.requests_per_minute != {}", 7 * k + i)).collect();
        source.push_str(&format!(
            "\n@id(\"BIG-{i}\")\npermit (principal, action: infer, resource)\n{};\n",
            clauses.join("\n")
        ));
    }
    source.push_str("\n@id(\"RISK\")\nforbid (principal, action, resource)\n  when context.risk > 40;\n");
    let compiled = compile_both(&runtime, vec![("big.ward".into(), source)]);
    validate_module(&compiled.wasm).expect("a valid module");
    let mut allows = 0;
    for k in 0..100 {
        let mut request = request(k);
        request["action"] = json!("infer");
        request["context"]["requests_per_minute"] = json!(k as i64);
        request["context"]["risk"] = json!((k % 10) as i64 * 10);
        let text = serde_json::to_vec(&request).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        assert_eq!(compiled.module.decide_json(&text), expected, "request {}", String::from_utf8_lossy(&text));
        allows += usize::from(expected.is_allow());
    }
    assert_eq!(allows, 50);
}

/// Guards over `actions` (each in `action in [...]`), `per_model` on each
/// of eight models, with a rule of each action's own.
fn guards(actions: &[&str], per_model: usize) -> String {
    let mut text = format!(
        "package acme.guards\n\nentity User {{ department: String }}\nentity Model {{ family: String }}\n\n\
         action {} {{ principal: User, resource: Model }}\ncontext {{ risk: Int }}\n",
        actions.join(", ")
    );
    for (i, action) in actions.iter().enumerate() {
        text.push_str(&format!(
            "\n@id(\"P-{action}\")\npermit (principal, action == {action}, resource)\n  when principal.department == \"d{i}\";\n"
        ));
    }
    for model in 0..8 {
        for k in 0..per_model {
            text.push_str(&format!(
                "\n@id(\"G-{model}-{k}\")\nforbid (principal, action in [{}], resource == Model::\"m{model}\")\n  when context.risk > {};\n",
                actions.join(", "),
                (10 * k + model) % 97
            ));
        }
    }
    text
}

#[test]
fn subtrees_shared_by_several_actions_are_compiled_once() {
    let runtime = Runtime::new().expect("runtime");
    let actions = ["infer", "embed", "fine_tune", "export_weights"];
    let four = compile_both(&runtime, vec![("four.ward".into(), guards(&actions, 5))]);
    let one = compile_both(&runtime, vec![("one.ward".into(), guards(&actions[..1], 5))]);
    validate_module(&four.wasm).expect("a valid module");
    for k in 0..400usize {
        let request = json!({
            "principal": {"type": "User", "id": "u", "attributes": {"department": format!("d{}", k % 5)}},
            "action": actions[k % 4],
            "resource": {"type": "Model", "id": format!("m{}", k % 9), "attributes": {"family": "f"}},
            "context": {"risk": (k * 7 % 60) as i64},
        });
        let text = serde_json::to_vec(&request).expect("json");
        let expected = ward_compiler::interp::decide_json(&four.program, &text);
        assert_eq!(four.module.decide_json(&text), expected, "request {request}");
    }
    // The four actions' trees hold the same guards for each model: their
    // leaves are compiled once, so three more actions add little code.
    let (four, one) = (code_size(&four.wasm), code_size(&one.wasm));
    assert!(four * 2 < one * 3, "four actions {four} bytes of code, one action {one}");
}

#[test]
fn many_rules_of_one_template_in_a_leaf_are_one_loop_over_their_literals() {
    // Each model's leaf holds all its guards; forty of them cost no more
    // code than five: the leaf calls the template's loop once, with a table
    // of their literals in data.
    let runtime = Runtime::new().expect("runtime");
    let actions = ["infer", "embed"];
    let many = compile_both(&runtime, vec![("many.ward".into(), guards(&actions, 40))]);
    let few = compile_both(&runtime, vec![("few.ward".into(), guards(&actions, 5))]);
    validate_module(&many.wasm).expect("a valid module");
    let extra_rules = 8 * 35;
    let extra_code = code_size(&many.wasm).saturating_sub(code_size(&few.wasm));
    assert!(extra_code < extra_rules, "{extra_code} more bytes of code for {extra_rules} more guards");
    let (mut several, mut none) = (0, 0);
    for k in 0..600usize {
        let request = json!({
            "principal": {"type": "User", "id": "u", "attributes": {"department": format!("d{}", k % 3)}},
            "action": actions[k % 2],
            "resource": {"type": "Model", "id": format!("m{}", k % 9), "attributes": {"family": "f"}},
            "context": {"risk": (k * 13 % 110) as i64},
        });
        let text = serde_json::to_vec(&request).expect("json");
        let expected = ward_compiler::interp::decide_json(&many.program, &text);
        assert_eq!(many.module.decide_json(&text), expected, "request {request}");
        several += usize::from(expected.rules.len() > 1);
        none += usize::from(expected.rules.is_empty());
    }
    // Some requests are denied by many guards at once, some by none.
    assert!(several > 100 && none > 50, "{several} {none}");
}

#[test]
fn types_the_actions_guarantee_are_not_tested_again() {
    // The host refuses a request whose principal or resource is of a type
    // the action does not apply to, so a scope naming the only types the
    // rule's actions allow needs no test of the type, and an entity literal
    // of the only type allowed is matched by its id alone.
    let runtime = Runtime::new().expect("runtime");
    let compiled = |resources: &str| {
        let text = format!(
            "package acme.types\nentity User {{}}\nentity Model {{}}\nentity Dataset {{}}\n\
             action infer {{ principal: User, resource: {resources} }}\n\
             context {{ n: Int }}\n\
             permit (principal: User, action == infer, resource == Model::\"m0\");\n\
             permit (principal: User, action == infer, resource: Model) when context.n > 1;\n"
        );
        compile_both(&runtime, vec![("types.ward".into(), text)])
    };
    let guaranteed = compiled("Model");
    let tested = compiled("[Model, Dataset]");
    let (small, large) = (code_size(&guaranteed.wasm), code_size(&tested.wasm));
    assert!(small < large, "{small} bytes of code where the types are guaranteed, {large} where not");
    for policy in [&guaranteed, &tested] {
        validate_module(&policy.wasm).expect("a valid module");
        for (ty, id, n) in [("Model", "m0", 0), ("Model", "m0", 2), ("Model", "m1", 2), ("Dataset", "m0", 2)] {
            let request = json!({
                "principal": {"type": "User", "id": "u"},
                "action": "infer",
                "resource": {"type": ty, "id": id},
                "context": {"n": n},
            });
            let text = serde_json::to_vec(&request).expect("json");
            let expected = ward_compiler::interp::decide_json(&policy.program, &text);
            assert_eq!(policy.module.decide_json(&text), expected, "request {request}");
        }
    }
}
