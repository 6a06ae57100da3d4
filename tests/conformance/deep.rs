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

/// `{ a: { a: … Int … } }`: `records` records around `Int`, a type of
/// `records + 1` levels.
fn nested_record_type(records: usize) -> String {
    format!("{}Int{}", "{ a: ".repeat(records), " }".repeat(records))
}

/// `{ a: { a: … value … } }`, as test data or JSON.
fn nested_record(records: usize, value: &str) -> String {
    format!("{}{value}{}", "{ a: ".repeat(records), " }".repeat(records))
}

#[test]
fn records_nested_to_the_type_limit_are_built_loaded_tested_and_decided_alike() {
    // The manifest and the requests of a record type this deep stay within
    // what the runtime's readers accept.
    let records = ward_compiler::syntax::depth::MAX_TYPE_DEPTH - 1;
    let path = ".a".repeat(records);
    let source = format!(
        "package acme.deep\n\nentity User {{}}\nentity Model {{}}\n\naction infer {{ principal: User, resource: Model }}\n\
         context {{ deep: {} }}\n\n@id(\"DEEP\")\npermit (principal, action, resource)\n  when context.deep{path} == 1;\n\n\
         fixture base = {{ principal: User::\"u\", action: infer, resource: Model::\"m\", context: {{ deep: {} }} }};\n\n\
         test \"deep allow\" {{ request: base, expect: allow, rules: [\"DEEP\"] }}\n\n\
         test \"deep deny\" {{ request: base with {{ context.deep{path}: 2 }}, expect: deny }}\n",
        nested_record_type(records),
        nested_record(records, "1"),
    );
    let formatted = ward_compiler::format_source(&source).expect("formats");
    assert_eq!(ward_compiler::format_source(&formatted).expect("formats again"), formatted);

    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("deep.ward".into(), source)]);
    assert_eq!(compiled.program.tests.len(), 2);
    for test in &compiled.program.tests {
        let text = serde_json::to_vec(&test.request).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        let decided = compiled.module.decide_json(&text);
        assert_eq!(decided, expected, "{}", test.name);
        assert_eq!(ward_compiler::testing::judge(&test.expect, &decided), [], "{}", test.name);
    }
}

#[test]
fn types_and_test_data_nested_beyond_their_limits_are_refused_with_a_diagnostic() {
    let limit = ward_compiler::syntax::depth::MAX_TYPE_DEPTH;
    // Written in one piece: refused by the parser, at any depth.
    for records in [limit, 20_000] {
        let source = format!("{SCHEMA}\nentity Device {{ deep: {} }}\n", nested_record_type(records));
        let compilation = ward_compiler::compile(vec![("deep.ward".into(), source.clone())]);
        let codes: Vec<&str> = compilation.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0013"], "{records} records");
        assert!(ward_compiler::format_source(&source).is_err());
    }
    // Built from declared types, each shallow: refused by the checker, once.
    let mut source = format!("{SCHEMA}\ntype T0 = {{ a: Int }}\n");
    for k in 1..=limit + 5 {
        source.push_str(&format!("type T{k} = {{ a: T{} }}\n", k - 1));
    }
    source.push_str(&format!("entity Device {{ deep: T{} }}\n", limit + 5));
    let compilation = ward_compiler::compile(vec![("deep.ward".into(), source)]);
    let refused: Vec<String> =
        compilation.diagnostics.iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect();
    assert_eq!(refused, [format!("E0013 this record type nests more than {limit} levels deep")]);
    // Test data: refused by the parser, at any depth.
    let data_limit = ward_compiler::syntax::depth::MAX_DATA_DEPTH;
    for records in [data_limit, 20_000] {
        let source = format!("{SCHEMA}\nfixture deep = {};\n", nested_record(records, "1"));
        let compilation = ward_compiler::compile(vec![("deep.ward".into(), source.clone())]);
        let codes: Vec<&str> = compilation.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0013"], "{records} records");
        assert!(ward_compiler::format_source(&source).is_err());
    }
}

#[test]
fn long_chains_of_fixtures_are_checked_without_exhausting_the_stack() {
    // Each fixture updates the one before it: checking recurses through
    // the whole chain (a generated test suite can be this long).
    let links = 3_000;
    let mut source = format!(
        "{SCHEMA}\n@id(\"ANY\")\npermit (principal, action, resource);\n\n\
         fixture f0 = {{\n  principal: User::\"u\" {{ department: \"d0\" }},\n  action: infer,\n  \
         resource: Model::\"m\" {{ family: \"f\" }},\n  context: {{ risk: 0, requests_per_minute: 0 }},\n}};\n"
    );
    for k in 1..links {
        source.push_str(&format!("fixture f{k} = f{} with {{ principal.department: \"d{k}\" }};\n", k - 1));
    }
    source.push_str(&format!("test \"last\" {{ request: f{}, expect: allow }}\n", links - 1));
    let compilation = ward_compiler::compile(vec![("chain.ward".into(), source)]);
    let program = compilation.program.expect("checks");
    assert_eq!(program.tests.len(), 1);
    let department = &program.tests[0].request["principal"]["attributes"]["department"];
    assert_eq!(department, &serde_json::json!(format!("d{}", links - 1)));
}

/// `def f0(n: Int) -> Int = n + 1;` and `links - 1` functions each calling
/// the one before, used by one rule.
fn call_chain(links: usize) -> String {
    let mut source = format!("{SCHEMA}\ndef f0(n: Int) -> Int = n + 1;\n");
    for k in 1..links {
        source.push_str(&format!("def f{k}(n: Int) -> Int = f{}(n) + 1;\n", k - 1));
    }
    source.push_str(&format!(
        "\n@id(\"CALLS\")\npermit (principal, action, resource)\n  when f{}(context.risk) == {links};\n",
        links - 1
    ));
    source
}

#[test]
fn chains_of_calls_to_the_limit_are_decided_alike_and_longer_ones_refused() {
    let limit = ward_compiler::syntax::depth::MAX_CALL_DEPTH;
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("calls.ward".into(), call_chain(limit))]);
    for risk in [0, 1] {
        let request = json!({
            "principal": {"type": "User", "id": "u", "attributes": {"department": "d"}},
            "action": "infer",
            "resource": {"type": "Model", "id": "m", "attributes": {"family": "f"}},
            "context": {"risk": risk, "requests_per_minute": 0},
        });
        let text = serde_json::to_vec(&request).expect("json");
        let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
        assert_eq!(compiled.module.decide_json(&text), expected, "{request}");
        assert_eq!(expected.is_allow(), risk == 0, "{request}");
    }
    // Beyond the limit, one diagnostic per chain, at the first function
    // past it (before, 20,000 links built a module with more locals than
    // WebAssembly allows).
    for links in [limit + 1, 20_000] {
        let compilation = ward_compiler::compile(vec![("calls.ward".into(), call_chain(links))]);
        let refused: Vec<String> =
            compilation.diagnostics.iter().map(|d| format!("{} {}", d.code.as_str(), d.message)).collect();
        assert_eq!(refused, [format!("E0013 this function's chain of calls nests more than {limit} levels deep")]);
        let at = compilation.sources.snippet(compilation.diagnostics[0].span());
        assert_eq!(at, format!("f{limit}"));
    }
}
