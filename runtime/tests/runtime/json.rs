//! Deciding from JSON text (validated and encoded without building a
//! `Request`) gives exactly the decision of the parsed document, errors and
//! messages included, however the document is written.

use serde_json::{Value, json};
use ward_runtime::{Decision, Request};

use crate::common::{manage, policy, read};

/// The decision of the parsed document, as `decide_json` gave it before
/// it read JSON directly.
fn reference(module: &ward_runtime::DecisionModule, text: &str) -> Decision {
    match Request::from_json(text.as_bytes()) {
        Ok(request) => module.decide(&request),
        Err(error) => Decision::fail_closed(vec![error]),
    }
}

fn agree(texts: &[String]) {
    let module = policy();
    let mut evaluator = module.evaluator().unwrap();
    for text in texts {
        let expected = reference(&module, text);
        assert_eq!(evaluator.decide_json(text.as_bytes()), expected, "{text}");
        assert_eq!(module.decide_json(text.as_bytes()), expected, "{text}");
        // Twice on one evaluator: nothing is left over from the last request.
        assert_eq!(evaluator.decide_json(text.as_bytes()), expected, "{text}");
        let verdict = evaluator.evaluate_json(text.as_bytes());
        assert_eq!(verdict.is_allow(), expected.is_allow(), "{text}");
    }
}

/// A document with its keys in reverse order at every level.
fn reversed(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let parts: Vec<String> =
                map.iter().rev().map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed(v))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(reversed).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[test]
fn valid_documents_in_any_key_order() {
    let mut texts = Vec::new();
    for value in [read(), manage(true, json!(1)), manage(false, json!(11)), manage(true, json!(4611686018427387904i64))]
    {
        texts.push(value.to_string());
        texts.push(reversed(&value));
        texts.push(serde_json::to_string_pretty(&value).unwrap());
    }
    agree(&texts);
}

#[test]
fn violations_match_the_parsed_document() {
    let mut cases: Vec<Value> = Vec::new();
    let edits: Vec<(&str, Value)> = vec![
        ("/action", json!("fly")),
        ("/action", json!("manage")),
        ("/principal/type", json!("Robot")),
        ("/principal/type", json!("Group")),
        ("/principal/ancestors", json!([{"type": "Robot", "id": "r"}, {"type": "User", "id": "u"}])),
        ("/principal/ancestors", json!([])),
        ("/principal/attributes/admin", json!(null)),
        ("/principal/attributes/admin", json!("yes")),
        ("/principal/attributes/level", json!(1.5)),
        ("/principal/attributes/level", json!(u64::MAX)),
        ("/principal/attributes/level", json!([1])),
        ("/principal/attributes/level", json!({"n": 1})),
        ("/principal/attributes/nick", json!(null)),
        ("/principal/attributes/nick", json!(3)),
        ("/resource/attributes/tags", json!(["a", null, 3, ["x"], {"a": 1}])),
        ("/resource/attributes/tags", json!("a")),
        ("/resource/attributes/tags", json!({"a": 1})),
        ("/resource/attributes/owner", json!({"type": "Group", "id": "g"})),
        ("/resource/attributes/owner", json!({"type": "Robot", "id": "g"})),
        ("/resource/attributes/owner", json!({"type": "User", "id": "g", "x": 1})),
        ("/resource/attributes/owner", json!({"type": "User", "id": 5})),
        ("/resource/attributes/owner", json!({"type": "User"})),
        ("/resource/attributes/owner", json!(["User", "g"])),
        ("/resource/attributes/owner", json!("User::g")),
        ("/resource/attributes/class", json!("top")),
        ("/resource/attributes/class", json!(2)),
        ("/resource/attributes/addr", json!("10.1.2")),
        ("/resource/attributes/addr", json!(null)),
        ("/resource/attributes/net", json!("10.1.2.3/33")),
        ("/resource/attributes/scores", json!([101, -1, 5, 5.5, "1", null])),
        ("/resource/attributes/scores", json!([])),
        ("/resource/attributes/meta", json!({"a": "no", "b": "xx"})),
        ("/resource/attributes/meta", json!({"b": "15m"})),
        ("/resource/attributes/meta", json!([true])),
        ("/resource/attributes/meta", json!(null)),
        ("/context/mtls", json!(null)),
        ("/context/when", json!("yesterday")),
        ("/context/at", json!("25:00")),
        ("/context/zone", json!("public")),
        ("/context/groups", json!([{"type": "Group", "id": "g"}, {"type": "User", "id": "u"}, null, 1])),
        ("/context/extra", json!({"deep": [[[[1e300]]]]})),
    ];
    for (pointer, new) in edits {
        let mut value = read();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        value.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_owned(), new);
        cases.push(value);
    }
    for pointer in
        ["/context", "/principal/attributes", "/resource/attributes", "/principal/ancestors", "/context/mtls"]
    {
        let mut value = read();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        value.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
        cases.push(value);
    }
    let mut texts = Vec::new();
    for value in &cases {
        texts.push(value.to_string());
        texts.push(reversed(value));
    }
    agree(&texts);
}

/// `text` with the first of `patterns` found replaced (key order depends on
/// how serde_json was built), asserting one was.
fn sub(text: &str, patterns: &[&str], with: &str) -> String {
    let found = patterns.iter().find(|p| text.contains(*p)).unwrap_or_else(|| panic!("none of {patterns:?} in {text}"));
    text.replace(found, with)
}

#[test]
fn documents_written_unusually_or_malformed() {
    let good = read().to_string();
    let bob = ["{\"type\":\"User\",\"id\":\"bob\"}", "{\"id\":\"bob\",\"type\":\"User\"}"];
    let group_b = ["{\"type\":\"Group\",\"id\":\"b\"}", "{\"id\":\"b\",\"type\":\"Group\"}"];
    let mut texts: Vec<String> = vec![
        String::new(),
        "null".into(),
        "[]".into(),
        "{}".into(),
        good.clone() + " ",
        good.clone() + " x",
        good.replacen('{', "{\"action\":\"read\",", 1),
        good.replacen('{', "{\"extra\":1,", 1),
        sub(&good, &["\"id\":\"alice\""], "\"id\":\"alice\",\"id\":\"bob\""),
        sub(&good, &["\"id\":\"alice\""], "\"id\":\"alice\",\"unknown\":1"),
        sub(&good, &["\"admin\":true"], "\"admin\":false,\"admin\":true"),
        sub(&good, &["\"admin\":true"], "\"admin\":null,\"admin\":true"),
        sub(&good, &["\"admin\":true"], "\"admin\":true,\"x\":1e400"),
        sub(&good, &["\"admin\":true"], "\"admin\":true,\"x\":[1e-400,{\"a\":-0}]"),
        sub(&good, &["\"admin\":true"], "\"adm\\u0069n\":true"),
        sub(&good, &["\"nick\":\"x\""], "\"nick\":\"\\u0078\""),
        sub(&good, &["\"nick\":\"x\""], "\"nick\":\"\\ud800\""),
        sub(&good, &bob, "{\"type\":\"User\",\"type\":\"User\",\"id\":\"bob\"}"),
        sub(&good, &bob, "{\"type\":\"User\",\"id\":\"b\\u006fb\"}"),
        sub(&good, &group_b, "[\"Group\",\"b\"]"),
        sub(&good, &group_b, "{\"type\":\"Group\"}"),
        sub(&good, &group_b, "{\"type\":\"Group\",\"id\":\"b\",\"x\":1}"),
        sub(&good, &group_b, "{\"type\":\"Group\",\"id\":\"b\",\"id\":\"c\"}"),
        sub(&good, &["\"action\":\"read\""], "\"action\":7"),
        sub(&good, &["\"action\":\"read\""], "\"action\":\"re\\u0061d\""),
        sub(&good, &["\"context\":{"], "\"context\":null,\"c\":{"),
    ];
    // The same request as an array of its parts, which serde also accepts.
    let value = read();
    texts.push(json!([value["principal"], value["action"], value["resource"], value["context"]]).to_string());
    // Nesting near and beyond the parser's depth limit, in attributes read
    // as they come (type first) and read again (type last).
    for depth in [120, 123, 124, 125, 126, 127, 128] {
        let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let mut value = manage(true, json!(1));
        value["principal"]["attributes"]["deep"] = json!(null);
        value["context"]["deep"] = json!(null);
        for text in [value.to_string(), reversed(&value)] {
            texts.push(text.replacen("null", &deep, 1));
            texts.push(text.replace("null", &deep));
        }
    }
    agree(&texts);
}
