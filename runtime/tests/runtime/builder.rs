//! Requests built through handles (`RequestBuilder`): the same decisions as
//! the request they spell, and clear errors for what they cannot be.

use serde_json::json;
use ward_runtime::{Decision, ErrorKind, Outcome, UnknownName};

use crate::common::{manage, policy, read, request};

/// The errors of a deny, as (kind, path) pairs.
fn errors(decision: &Decision) -> Vec<(ErrorKind, Option<String>)> {
    assert_eq!(decision.decision, Outcome::Deny, "{decision:?}");
    decision.errors.iter().map(|e| (e.kind, e.path.clone())).collect()
}

#[test]
fn a_built_request_decides_like_the_document_it_spells() {
    let module = policy();
    let user = module.entity_type("User").unwrap();
    let group = module.entity_type("Group").unwrap();
    let doc = module.entity_type("Doc").unwrap();
    let admin = module.principal_attribute(user, "admin").unwrap();
    let level = module.principal_attribute(user, "level").unwrap();
    let nick = module.principal_attribute(user, "nick").unwrap();
    let mtls = module.context_attribute("mtls").unwrap();
    let when = module.context_attribute("when").unwrap();
    let at = module.context_attribute("at").unwrap();
    let groups = module.context_attribute("groups").unwrap();
    let tags = module.resource_attribute(doc, "tags").unwrap();
    let owner = module.resource_attribute(doc, "owner").unwrap();
    let class = module.resource_attribute(doc, "class").unwrap();
    let addr = module.resource_attribute(doc, "addr").unwrap();
    let net = module.resource_attribute(doc, "net").unwrap();
    let scores = module.resource_attribute(doc, "scores").unwrap();
    let meta_a = module.resource_attribute(doc, "meta.a").unwrap();
    let mut evaluator = module.evaluator().unwrap();

    // `manage`, for each outcome the test policy gives.
    let manage_action = module.action("manage").unwrap();
    for (is_admin, lvl) in [(true, 5), (true, 11), (false, 5), (true, i64::MAX)] {
        let mut b = evaluator.request();
        b.action(manage_action).principal(user, "alice", &[]).resource(group, "admins", &[]);
        b.set_bool(&admin, is_admin).set_int(&level, lvl);
        b.set_bool(&mtls, true).set_str(&when, "2026-01-31T09:30:00Z");
        let built = b.evaluate().into_decision();
        assert_eq!(built, module.decide(&request(&manage(is_admin, json!(lvl)))), "admin {is_admin}, level {lvl}");
    }

    // `read`, every attribute of the schema (the document's ignored one aside).
    let mut b = evaluator.request();
    b.action(module.action("read").unwrap());
    b.principal(user, "alice", &[(group, "b"), (group, "admins"), (group, "b")]);
    b.set_bool(&admin, true).set_int(&level, 7).set_str(&nick, "x");
    b.resource(doc, "d1", &[]);
    b.set_strs(&tags, &["z", "admins", "z", "a"]).set_entity(&owner, user, "bob").set_str(&class, "secret");
    b.set_str(&addr, "10.1.2.3").set_str(&net, "2001:db8::1/32").set_json(&scores, &json!([50, 3, 50, 0]));
    b.set_bool(&meta_a, true);
    b.set_bool(&mtls, false).set_str(&when, "1970-01-01T00:00:01Z").set_str(&at, "09:30");
    b.set_json(&groups, &json!([{"type": "Group", "id": "g"}]));
    let built = b.evaluate().into_decision();
    assert_eq!(built, module.decide(&request(&read())));
    assert!(built.is_allow());
}

#[test]
fn names_the_module_does_not_declare_have_no_handles() {
    let module = policy();
    let user = module.entity_type("User").unwrap();
    assert_eq!(module.action("delete").unwrap_err(), UnknownName { what: "action", name: "delete".into() });
    assert_eq!(
        module.entity_type("Robot").unwrap_err().to_string(),
        "the decision module declares no entity type `Robot`"
    );
    assert_eq!(module.principal_attribute(user, "admn").unwrap_err().name, "User.admn");
    assert_eq!(module.context_attribute("zone.x").unwrap_err().name, "context.zone.x");
    assert!(module.resource_attribute(module.entity_type("Doc").unwrap(), "meta.c").is_err());
    // Handles are of one module.
    let other = policy();
    assert!(other.principal_attribute(user, "admin").is_err());
}

#[test]
fn what_a_builder_cannot_accept_is_a_deny_with_every_error() {
    let module = policy();
    let user = module.entity_type("User").unwrap();
    let group = module.entity_type("Group").unwrap();
    let doc = module.entity_type("Doc").unwrap();
    let level = module.principal_attribute(user, "level").unwrap();
    let admin = module.principal_attribute(user, "admin").unwrap();
    let when = module.context_attribute("when").unwrap();
    let mtls = module.context_attribute("mtls").unwrap();
    let meta_b = module.resource_attribute(doc, "meta.b").unwrap();
    let mut evaluator = module.evaluator().unwrap();

    // Nothing set: no action, principal or resource, and the context's
    // required attributes missing.
    let decision = evaluator.request().evaluate().into_decision();
    assert_eq!(
        errors(&decision),
        [
            (ErrorKind::MalformedRequest, Some("action".into())),
            (ErrorKind::MalformedRequest, Some("principal".into())),
            (ErrorKind::MalformedRequest, Some("resource".into())),
            (ErrorKind::MissingAttribute, Some("context.mtls".into())),
            (ErrorKind::MissingAttribute, Some("context.when".into())),
        ]
    );

    // Values of the wrong type or out of range, an attribute set before its
    // entity, an action that does not apply, a required attribute missing.
    let mut b = evaluator.request();
    b.set_int(&level, 3);
    b.action(module.action("manage").unwrap()).principal(user, "alice", &[]).resource(doc, "d", &[]);
    b.set_str(&level, "high").set_str(&when, "yesterday").set_int(&mtls, 1);
    let decision = b.evaluate().into_decision();
    let found = errors(&decision);
    for expected in [
        (ErrorKind::MalformedRequest, Some("principal".into())),
        (ErrorKind::WrongType, Some("principal.level".into())),
        (ErrorKind::MissingAttribute, Some("principal.admin".into())),
        (ErrorKind::ActionNotApplicable, Some("resource.type".into())),
        (ErrorKind::InvalidValue, Some("context.when".into())),
        (ErrorKind::WrongType, Some("context.mtls".into())),
        (ErrorKind::MissingAttribute, Some("resource.tags".into())),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    let message = &decision.errors.iter().find(|e| e.path.as_deref() == Some("principal")).unwrap().message;
    assert!(message.contains("set the entity first"), "{message}");

    // A field of an optional record makes the record given, and then its
    // required fields are required: `meta.a` is missing.
    let mut b = evaluator.request();
    b.action(module.action("manage").unwrap()).principal(user, "alice", &[]).resource(group, "g", &[]);
    b.set_bool(&admin, true).set_int(&level, 1).set_bool(&mtls, true).set_str(&when, "2026-01-31T09:30:00Z");
    b.set_str(&meta_b, "15m");
    let found = errors(&b.evaluate().into_decision());
    assert_eq!(
        found,
        [(ErrorKind::MalformedRequest, Some("resource".into()))],
        "meta.b is a Doc's, the resource a Group"
    );

    // A handle of another module is refused, never written.
    let other = policy();
    let foreign = other.principal_attribute(other.entity_type("User").unwrap(), "level").unwrap();
    let mut b = evaluator.request();
    b.action(module.action("manage").unwrap()).principal(user, "alice", &[]).resource(group, "g", &[]);
    b.set_bool(&admin, true).set_int(&foreign, 5).set_bool(&mtls, true).set_str(&when, "2026-01-31T09:30:00Z");
    let found = errors(&b.evaluate().into_decision());
    assert!(found.contains(&(ErrorKind::MalformedRequest, None)), "{found:?}");
    assert!(found.contains(&(ErrorKind::MissingAttribute, Some("principal.level".into()))), "{found:?}");

    // The evaluator still serves.
    let mut b = evaluator.request();
    b.action(module.action("manage").unwrap()).principal(user, "alice", &[]).resource(group, "admins", &[]);
    b.set_bool(&admin, true).set_int(&level, 5).set_bool(&mtls, true).set_str(&when, "2026-01-31T09:30:00Z");
    assert!(b.evaluate().is_allow());
}

#[test]
fn a_record_given_in_parts_needs_its_required_fields() {
    let module = policy();
    let user = module.entity_type("User").unwrap();
    let doc = module.entity_type("Doc").unwrap();
    let field = |name: &str| module.resource_attribute(doc, name).unwrap();
    let mut evaluator = module.evaluator().unwrap();
    let build = |evaluator: &mut ward_runtime::Evaluator, meta: &[(&str, serde_json::Value)]| {
        let mut b = evaluator.request();
        b.action(module.action("read").unwrap()).principal(user, "alice", &[]);
        b.set_bool(&module.principal_attribute(user, "admin").unwrap(), true);
        b.set_int(&module.principal_attribute(user, "level").unwrap(), 1);
        b.resource(doc, "d1", &[]);
        b.set_strs(&field("tags"), &[]).set_entity(&field("owner"), user, "bob").set_str(&field("class"), "public");
        b.set_str(&field("net"), "10.0.0.0/8").set_json(&field("scores"), &json!([]));
        for (name, value) in meta {
            b.set_json(&field(name), value);
        }
        b.set_bool(&module.context_attribute("mtls").unwrap(), true);
        b.set_str(&module.context_attribute("when").unwrap(), "2026-01-31T09:30:00Z");
        b.evaluate().into_decision()
    };
    // `meta` is required: missing, then given in parts without `meta.a`,
    // then with it, then whole.
    let missing = build(&mut evaluator, &[]);
    assert_eq!(errors(&missing), [(ErrorKind::MissingAttribute, Some("resource.meta".into()))]);
    let partial = build(&mut evaluator, &[("meta.b", json!("15m"))]);
    assert_eq!(errors(&partial), [(ErrorKind::MissingAttribute, Some("resource.meta.a".into()))]);
    assert!(build(&mut evaluator, &[("meta.b", json!("15m")), ("meta.a", json!(true))]).errors.is_empty());
    assert!(build(&mut evaluator, &[("meta", json!({"a": false}))]).errors.is_empty());
}
