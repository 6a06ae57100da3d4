//! Request validation: every class of violation, with paths, all reported.

use serde_json::{Value, json};
use ward_runtime::{Decision, ErrorKind};

use crate::common::{manage, policy, read, request};

/// The (kind, path) pairs of a validation deny.
fn violations(value: &Value) -> Vec<(ErrorKind, String)> {
    let module = policy();
    let decision = module.decide(&request(value));
    assert!(!decision.is_allow());
    assert!(decision.rules.is_empty() && decision.obligations.is_empty() && decision.reasons.is_empty());
    let encoded = module.encode(&request(value)).expect_err("invalid");
    assert_eq!(Decision::fail_closed(encoded), decision, "encode and decide agree");
    assert_eq!(module.decide_json(value.to_string().as_bytes()), decision, "the JSON path agrees: {value}");
    decision.errors.iter().map(|e| (e.kind, e.path.clone().unwrap_or_default())).collect()
}

fn one(value: &Value, kind: ErrorKind, path: &str) {
    assert_eq!(violations(value), vec![(kind, path.to_owned())], "{value}");
}

fn set(mut value: Value, pointer: &str, new: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match value.pointer_mut(parent).unwrap_or_else(|| panic!("{pointer}")) {
        Value::Object(map) => {
            map.insert(key.to_owned(), new);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = new,
        _ => panic!("{pointer}"),
    }
    value
}

fn remove(mut value: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    value.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    value
}

#[test]
fn valid_requests_pass() {
    assert!(policy().encode(&request(&read())).is_ok());
    assert!(policy().encode(&request(&manage(true, json!(1)))).is_ok());
}

#[test]
fn actions_and_entity_types() {
    one(&set(read(), "/action", json!("fly")), ErrorKind::UnknownAction, "action");
    one(&set(read(), "/principal/type", json!("Robot")), ErrorKind::UnknownEntityType, "principal.type");
    one(&set(manage(true, json!(1)), "/resource/type", json!("Robot")), ErrorKind::UnknownEntityType, "resource.type");
    // `manage` applies to Groups, not Docs.
    one(&set(read(), "/action", json!("manage")), ErrorKind::ActionNotApplicable, "resource.type");
    // The principal of `manage` must be a User.
    let group_principal = set(manage(true, json!(1)), "/principal", json!({"type": "Group", "id": "g"}));
    one(&group_principal, ErrorKind::ActionNotApplicable, "principal.type");
}

#[test]
fn ancestors() {
    let value = set(
        read(),
        "/principal/ancestors",
        json!([{"type": "Group", "id": "a"}, {"type": "Nope", "id": "b"}, {"type": "User", "id": "c"}]),
    );
    assert_eq!(
        violations(&value),
        vec![
            (ErrorKind::UnknownEntityType, "principal.ancestors[1]".to_owned()),
            (ErrorKind::InvalidAncestor, "principal.ancestors[2]".to_owned()),
        ]
    );
}

#[test]
fn missing_and_null_attributes() {
    one(&remove(read(), "/principal/attributes/level"), ErrorKind::MissingAttribute, "principal.level");
    one(&remove(read(), "/context/mtls"), ErrorKind::MissingAttribute, "context.mtls");
    one(&remove(read(), "/resource/attributes/meta/a"), ErrorKind::MissingAttribute, "resource.meta.a");
    // Optional attributes may be absent but not null.
    assert!(policy().encode(&request(&remove(read(), "/principal/attributes/nick"))).is_ok());
    one(&set(read(), "/principal/attributes/nick", Value::Null), ErrorKind::NullValue, "principal.nick");
    one(&set(read(), "/resource/attributes/meta/b", Value::Null), ErrorKind::NullValue, "resource.meta.b");
    one(&set(read(), "/resource/attributes/tags/2", Value::Null), ErrorKind::NullValue, "resource.tags[2]");
}

#[test]
fn wrong_json_types() {
    for (pointer, value, path) in [
        ("/principal/attributes/admin", json!("yes"), "principal.admin"),
        ("/principal/attributes/level", json!("7"), "principal.level"),
        ("/principal/attributes/nick", json!(3), "principal.nick"),
        ("/resource/attributes/tags", json!("a"), "resource.tags"),
        ("/resource/attributes/tags/1", json!(1), "resource.tags[1]"),
        ("/resource/attributes/owner", json!("bob"), "resource.owner"),
        ("/resource/attributes/owner", json!({"type": "User"}), "resource.owner"),
        ("/resource/attributes/owner", json!({"type": "User", "id": "b", "x": 1}), "resource.owner"),
        ("/resource/attributes/owner", json!({"type": "Group", "id": "g"}), "resource.owner"),
        ("/resource/attributes/class", json!(2), "resource.class"),
        ("/resource/attributes/addr", json!([10, 0, 0, 1]), "resource.addr"),
        ("/resource/attributes/meta", json!([true]), "resource.meta"),
        ("/resource/attributes/meta/b", json!(900), "resource.meta.b"),
        ("/context/when", json!(1000), "context.when"),
        ("/context/groups/0", json!("g"), "context.groups[0]"),
    ] {
        one(&set(read(), pointer, value), ErrorKind::WrongType, path);
    }
    // An entity of an undeclared type.
    one(
        &set(read(), "/resource/attributes/owner", json!({"type": "Robot", "id": "r"})),
        ErrorKind::UnknownEntityType,
        "resource.owner",
    );
}

#[test]
fn integers() {
    let level = |v: Value| set(read(), "/principal/attributes/level", v);
    for text in ["1.5", "1e3", "1.0", "-0.5"] {
        one(&level(serde_json::from_str(text).unwrap()), ErrorKind::NotAnInteger, "principal.level");
    }
    for text in
        ["9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890"]
    {
        one(&level(serde_json::from_str(text).unwrap()), ErrorKind::IntegerOutOfRange, "principal.level");
    }
    for text in ["9223372036854775807", "-9223372036854775808"] {
        assert!(policy().encode(&request(&level(serde_json::from_str(text).unwrap()))).is_ok(), "{text}");
    }
    one(&set(read(), "/resource/attributes/scores/1", json!(101)), ErrorKind::OutOfDeclaredRange, "resource.scores[1]");
    one(&set(read(), "/resource/attributes/scores/0", json!(-1)), ErrorKind::OutOfDeclaredRange, "resource.scores[0]");
    assert!(policy().encode(&request(&set(read(), "/resource/attributes/scores", json!([100, 0])))).is_ok());
}

#[test]
fn enum_values_and_value_texts() {
    one(&set(read(), "/resource/attributes/class", json!("top")), ErrorKind::UnknownEnumValue, "resource.class");
    one(&set(read(), "/context/zone", json!("Public")), ErrorKind::UnknownEnumValue, "context.zone");
    for (pointer, value, path) in [
        ("/context/when", "yesterday", "context.when"),
        ("/context/when", "2026-02-30T00:00:00Z", "context.when"),
        ("/context/at", "25:00", "context.at"),
        ("/resource/attributes/addr", "10.0.0.256", "resource.addr"),
        ("/resource/attributes/net", "10.0.0.0/33", "resource.net"),
        ("/resource/attributes/net", "10.0.0.0", "resource.net"),
        ("/resource/attributes/meta/b", "15 minutes", "resource.meta.b"),
    ] {
        one(&set(read(), pointer, json!(value)), ErrorKind::InvalidValue, path);
    }
    assert!(policy().encode(&request(&set(read(), "/resource/attributes/meta/b", json!("1h30m")))).is_ok());
}

#[test]
fn every_violation_is_reported_sorted() {
    let mut value = read();
    value["action"] = json!("fly");
    value["principal"]["attributes"] = json!({"admin": null, "level": 1.5});
    value["resource"]["attributes"]["tags"] = json!(["a", 7, null]);
    value["resource"]["attributes"]["class"] = json!("top");
    value["context"] = json!({"when": "now", "at": 930});
    let expected = vec![
        (ErrorKind::UnknownAction, "action"),
        (ErrorKind::MissingAttribute, "context.mtls"),
        (ErrorKind::NullValue, "principal.admin"),
        (ErrorKind::NullValue, "resource.tags[2]"),
        (ErrorKind::WrongType, "context.at"),
        (ErrorKind::WrongType, "resource.tags[1]"),
        (ErrorKind::NotAnInteger, "principal.level"),
        (ErrorKind::UnknownEnumValue, "resource.class"),
        (ErrorKind::InvalidValue, "context.when"),
    ];
    let expected: Vec<(ErrorKind, String)> = expected.into_iter().map(|(k, p)| (k, p.to_owned())).collect();
    assert_eq!(violations(&value), expected);
    // Messages say what is wrong.
    let decision = policy().decide(&request(&value));
    assert!(decision.errors.iter().all(|e| !e.message.is_empty()));
    assert!(decision.errors.iter().any(|e| e.message.contains("fly")));
}

#[test]
fn undeclared_attributes_are_ignored() {
    let mut value = read();
    value["principal"]["attributes"]["extra"] = json!({"anything": [null]});
    value["context"]["extra"] = Value::Null;
    let module = policy();
    assert_eq!(module.encode(&request(&value)).unwrap(), module.encode(&request(&read())).unwrap());
}

#[test]
fn json_number_edge_cases() {
    let level = |text: &str| {
        let mut value = read();
        value["principal"]["attributes"]["level"] = json!("\u{1}");
        serde_json::to_string(&value).unwrap().replace("\"\\u0001\"", text)
    };
    let module = policy();
    let kinds = |text: &str| -> Vec<(ErrorKind, Option<String>)> {
        module.decide_json(level(text).as_bytes()).errors.into_iter().map(|e| (e.kind, e.path)).collect()
    };
    let at = |kind| vec![(kind, Some("principal.level".to_owned()))];
    for text in ["-0", "-0.0", "0.0", "1e3", "1E3", "-1e-3"] {
        assert_eq!(kinds(text), at(ErrorKind::NotAnInteger), "{text}");
    }
    for text in
        ["9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890"]
    {
        assert_eq!(kinds(text), at(ErrorKind::IntegerOutOfRange), "{text}");
    }
    assert_eq!(kinds("1e400"), vec![(ErrorKind::MalformedRequest, None)]);
    assert!(kinds("0").is_empty() && kinds("-9223372036854775808").is_empty());
}

#[test]
fn the_attributes_of_an_entity_of_unknown_type_are_not_examined() {
    let mut value = read();
    value["principal"]["type"] = json!("Robot");
    value["principal"]["attributes"] = json!({"level": "high", "admin": null});
    one(&value, ErrorKind::UnknownEntityType, "principal.type");
}
