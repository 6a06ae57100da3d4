//! Deeply nested expressions — a long `||` chain, as generators of policies
//! write allow-lists, or deep parentheses — go through every phase that
//! walks them (checking, formatting, code generation, both engines) without
//! exhausting the stack of a test thread, up to the nesting limit; beyond
//! it they are refused with a diagnostic.

use serde_json::json;
use ward_runtime::Runtime;
use ward_tests::compile_both;

const SCHEMA: &str = r#"package acme.deep

entity User { department: String }
entity Model { family: String }

action infer { principal: User, resource: Model }
context { risk: Int, requests_per_minute: Int }
"#;

/// `context.risk == 0 || context.risk == 3 || …`, left-nested as written.
fn chain(terms: usize) -> String {
    (0..terms).map(|k| format!("context.risk == {}", 3 * k)).collect::<Vec<_>>().join(" || ")
}

/// `(context.requests_per_minute + 1 + (1 + (1 + …)))`, nested to the right.
fn nested(depth: usize) -> String {
    let mut text = "1".to_owned();
    for _ in 0..depth {
        text = format!("(1 + {text})");
    }
    format!("context.requests_per_minute + {text}")
}

#[test]
fn deep_expressions_are_checked_formatted_compiled_and_decided() {
    let source = format!(
        "{SCHEMA}\n@id(\"CHAIN\")\npermit (principal, action, resource)\n  when {};\n\n\
         @id(\"NESTED\")\nforbid (principal, action, resource)\n  when {} > 6000;\n",
        chain(990),
        nested(900)
    );
    let formatted = ward_compiler::format_source(&source).expect("formats");
    assert_eq!(ward_compiler::format_source(&formatted).expect("formats again"), formatted);

    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("deep.ward".into(), source)]);
    let mut outcomes = [0; 3];
    for (risk, rpm) in [(0, 0), (3, 5_099), (4, 0), (2_967, 10), (9, 5_101), (2_970, 0)] {
        let request = json!({
            "principal": {"type": "User", "id": "u", "attributes": {"department": "d"}},
            "action": "infer",
            "resource": {"type": "Model", "id": "m", "attributes": {"family": "f"}},
            "context": {"risk": risk, "requests_per_minute": rpm},
        });
        let text = serde_json::to_vec(&request).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        assert_eq!(compiled.module.decide_json(&text), expected, "{request}");
        let which = match expected.rules.first().map(String::as_str) {
            Some("CHAIN") => 0,
            Some("NESTED") => 1,
            _ => 2,
        };
        outcomes[which] += 1;
    }
    // Allowed by the chain, denied by the nesting, neither.
    assert_eq!(outcomes, [3, 1, 2]);
}

#[test]
fn expressions_nested_beyond_the_limit_are_refused_with_a_diagnostic() {
    for condition in [chain(5_000), format!("{} > 0", nested(5_000))] {
        let source = format!("{SCHEMA}\n@id(\"DEEP\")\npermit (principal, action, resource)\n  when {condition};\n");
        let compilation = ward_compiler::compile(vec![("deep.ward".into(), source.clone())]);
        assert!(compilation.program.is_none());
        let codes: Vec<&str> = compilation.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0013"]);
        assert!(ward_compiler::format_source(&source).is_err());
    }
}
