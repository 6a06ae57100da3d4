//! Integration tests: the reference interpreter, end to end — Ward source
//! through `compile` to a checked program, then JSON requests through
//! `interp::decide_json` to decisions.
//!
//! - the fail-closed matrix: every class of malformed request, against a
//!   permit-everything and a forbid-everything policy;
//! - authorization invariants as properties over generated requests and rule
//!   subsets (deny overrides, default deny, independence of rule order, of
//!   file order and of fresh-id copies);
//! - obligation collection, overflow and short-circuit, and the expression
//!   forms, through real source.
//!
//! Rules with identical ids cannot be compiled (E0104); repeating a rule
//! under its own id is covered by the unit tests over hand-built programs
//! in `compiler/src/interp/tests.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use ward_compiler::compile;
use ward_compiler::interp::decide_json;
use ward_compiler::program::Program;
use ward_types::{Decision, ErrorKind, Outcome};

const SCHEMA: &str = r#"package t

level Classification = public < internal < confidential < restricted
enum Zone { corp, partner, internet }
type Device = { managed: Bool, patch_age_days: Int[0..]? }

entity Group {}
entity Team in [Group] {}
entity User in [Team] {
  clearance: Classification,
  roles: Set<String>,
  mfa_age: Duration?,
  risk: Int[0..100],
  device: Device,
  manager: User?,
}
entity Agent { owner: User, scopes: Set<Zone> }
entity Model in [Group] { tier: Classification, family: String, tags: Set<String> }
entity Dataset {}

action infer, embed { principal: [User, Agent], resource: Model }
action train { principal: User, resource: Model }
action export { principal: User, resource: Dataset }

context {
  zone: Zone,
  mtls: Bool,
  rpm: Int,
  source_ip: Ip,
  now: Timestamp,
  allowed_net: Cidr?,
  start: TimeOfDay?,
  budget: Duration?,
  limits: Set<Int>?,
}

obligation quarantine(for: Duration)
obligation notify_security
obligation redact(field: String)
obligation audit(level: Classification, zones: Set<Zone>, until: Timestamp, at: TimeOfDay, net: Cidr, n: Int, strict: Bool)
"#;

/// Compiles the schema plus `rules` (one file) into a program.
fn program(rules: &str) -> Program {
    programs(&[rules])
}

/// Compiles the schema plus each text as its own file (`r0.ward`, ...).
fn programs(files: &[&str]) -> Program {
    let mut sources = vec![("schema.ward".to_owned(), SCHEMA.to_owned())];
    for (i, text) in files.iter().enumerate() {
        sources.push((format!("r{i}.ward"), format!("package t\n{text}")));
    }
    let compilation = compile(sources);
    match compilation.program {
        Some(p) => p,
        None => panic!("the policy does not compile: {:#?}", compilation.diagnostics),
    }
}

/// A request that conforms to the schema: alice (in team ml, group staff)
/// infers on model gpt-4o; every optional attribute is absent.
fn good() -> Json {
    json!({
        "principal": {
            "type": "User", "id": "alice",
            "attributes": {
                "clearance": "confidential",
                "roles": ["ml-engineer", "reviewer"],
                "mfa_age": "5m",
                "risk": 10,
                "device": {"managed": true},
            },
            "ancestors": [{"type": "Team", "id": "ml"}, {"type": "Group", "id": "staff"}],
        },
        "action": "infer",
        "resource": {
            "type": "Model", "id": "gpt-4o",
            "attributes": {"tier": "internal", "family": "gpt-4", "tags": ["prod"]},
            "ancestors": [{"type": "Group", "id": "models"}],
        },
        "context": {
            "zone": "corp", "mtls": true, "rpm": 100,
            "source_ip": "10.1.2.3", "now": "2026-01-31T09:30:00Z",
        },
    })
}

fn decide(p: &Program, request: &Json) -> Decision {
    decide_json(p, request.to_string().as_bytes())
}

fn with(edit: impl FnOnce(&mut Json)) -> Json {
    let mut r = good();
    edit(&mut r);
    r
}

fn remove(value: &mut Json, key: &str) {
    value.as_object_mut().expect("an object").remove(key);
}

fn ids(d: &Decision) -> Vec<&str> {
    d.rules.iter().map(String::as_str).collect()
}

fn error_rules(d: &Decision) -> Vec<(ErrorKind, &str)> {
    d.errors.iter().map(|e| (e.kind, e.rule.as_deref().unwrap_or("-"))).collect()
}

/// A fail-closed deny: nothing but errors.
fn assert_fail_closed(d: &Decision) {
    assert_eq!(d.decision, Outcome::Deny, "{d:?}");
    assert!(d.rules.is_empty() && d.reasons.is_empty() && d.obligations.is_empty(), "{d:?}");
    assert!(!d.errors.is_empty(), "{d:?}");
}

// ------------------------------------------------------ fail-closed matrix

type Edit = fn(&mut Json);

/// Every class of malformed request: an edit of the good request, the
/// error kind and the path expected.
fn malformed() -> Vec<(&'static str, Edit, ErrorKind, &'static str)> {
    use ErrorKind::*;
    vec![
        ("unknown principal type", |r| r["principal"]["type"] = json!("Robot"), UnknownEntityType, "principal.type"),
        ("unknown resource type", |r| r["resource"]["type"] = json!("Robot"), UnknownEntityType, "resource.type"),
        (
            "unknown ancestor type",
            |r| r["principal"]["ancestors"][1]["type"] = json!("Guild"),
            UnknownEntityType,
            "principal.ancestors[1]",
        ),
        ("unknown action", |r| r["action"] = json!("delete"), UnknownAction, "action"),
        (
            "action not for the principal type",
            |r| {
                r["action"] = json!("train");
                r["principal"] = json!({"type": "Agent", "id": "bot", "attributes": {"owner": {"type": "User", "id": "alice"}, "scopes": []}});
            },
            ActionNotApplicable,
            "principal.type",
        ),
        ("action not for the resource type", |r| r["action"] = json!("export"), ActionNotApplicable, "resource.type"),
        (
            "ancestor that cannot contain the entity",
            |r| r["principal"]["ancestors"][0] = json!({"type": "Model", "id": "m"}),
            InvalidAncestor,
            "principal.ancestors[0]",
        ),
        (
            "ancestor of an entity without parents",
            |r| r["resource"]["ancestors"] = json!([{"type": "Team", "id": "ml"}]),
            InvalidAncestor,
            "resource.ancestors[0]",
        ),
        (
            "missing required attribute",
            |r| remove(&mut r["principal"]["attributes"], "clearance"),
            MissingAttribute,
            "principal.clearance",
        ),
        ("missing context attribute", |r| remove(&mut r["context"], "mtls"), MissingAttribute, "context.mtls"),
        (
            "missing nested attribute",
            |r| remove(&mut r["principal"]["attributes"]["device"], "managed"),
            MissingAttribute,
            "principal.device.managed",
        ),
        ("null required attribute", |r| r["principal"]["attributes"]["risk"] = Json::Null, NullValue, "principal.risk"),
        (
            "null optional attribute",
            |r| r["principal"]["attributes"]["mfa_age"] = Json::Null,
            NullValue,
            "principal.mfa_age",
        ),
        ("null optional context attribute", |r| r["context"]["budget"] = Json::Null, NullValue, "context.budget"),
        (
            "null nested optional attribute",
            |r| r["principal"]["attributes"]["device"]["patch_age_days"] = Json::Null,
            NullValue,
            "principal.device.patch_age_days",
        ),
        (
            "null set element",
            |r| r["resource"]["attributes"]["tags"] = json!(["a", null]),
            NullValue,
            "resource.tags[1]",
        ),
        ("wrong type: string for Bool", |r| r["context"]["mtls"] = json!("true"), WrongType, "context.mtls"),
        (
            "wrong type: number for String",
            |r| r["resource"]["attributes"]["family"] = json!(4),
            WrongType,
            "resource.family",
        ),
        ("wrong type: string for Int", |r| r["context"]["rpm"] = json!("100"), WrongType, "context.rpm"),
        (
            "wrong type: scalar for Set",
            |r| r["principal"]["attributes"]["roles"] = json!("admin"),
            WrongType,
            "principal.roles",
        ),
        (
            "wrong type: set element",
            |r| r["resource"]["attributes"]["tags"] = json!(["a", "b", 3]),
            WrongType,
            "resource.tags[2]",
        ),
        (
            "wrong type: array for record",
            |r| r["principal"]["attributes"]["device"] = json!([true]),
            WrongType,
            "principal.device",
        ),
        (
            "wrong type: nested",
            |r| r["principal"]["attributes"]["device"]["managed"] = json!(1),
            WrongType,
            "principal.device.managed",
        ),
        (
            "wrong type: number for Duration",
            |r| r["principal"]["attributes"]["mfa_age"] = json!(300),
            WrongType,
            "principal.mfa_age",
        ),
        (
            "wrong type: entity of another type",
            |r| r["principal"]["attributes"]["manager"] = json!({"type": "Model", "id": "m"}),
            WrongType,
            "principal.manager",
        ),
        (
            "wrong type: string for entity",
            |r| r["principal"]["attributes"]["manager"] = json!("bob"),
            WrongType,
            "principal.manager",
        ),
        ("fraction for Int", |r| r["context"]["rpm"] = json!(1.5), NotAnInteger, "context.rpm"),
        ("float for Int", |r| r["context"]["rpm"] = json!(100.0), NotAnInteger, "context.rpm"),
        (
            "integer above i64",
            |r| r["context"]["rpm"] = json!(9_223_372_036_854_775_808u64),
            IntegerOutOfRange,
            "context.rpm",
        ),
        ("integer beyond 64 bits", |r| r["context"]["rpm"] = json!(1e20), IntegerOutOfRange, "context.rpm"),
        (
            "above the declared range",
            |r| r["principal"]["attributes"]["risk"] = json!(101),
            OutOfDeclaredRange,
            "principal.risk",
        ),
        (
            "below the declared range",
            |r| r["principal"]["attributes"]["device"]["patch_age_days"] = json!(-1),
            OutOfDeclaredRange,
            "principal.device.patch_age_days",
        ),
        (
            "unknown level value",
            |r| r["principal"]["attributes"]["clearance"] = json!("top-secret"),
            UnknownEnumValue,
            "principal.clearance",
        ),
        ("unknown enum value", |r| r["context"]["zone"] = json!("Corp"), UnknownEnumValue, "context.zone"),
        (
            "unparseable duration",
            |r| r["principal"]["attributes"]["mfa_age"] = json!("5 minutes"),
            InvalidValue,
            "principal.mfa_age",
        ),
        ("unparseable timestamp", |r| r["context"]["now"] = json!("2026-01-31 09:30"), InvalidValue, "context.now"),
        ("unparseable time of day", |r| r["context"]["start"] = json!("9:30"), InvalidValue, "context.start"),
        ("unparseable ip", |r| r["context"]["source_ip"] = json!("10.0.0.300"), InvalidValue, "context.source_ip"),
        (
            "unparseable cidr",
            |r| r["context"]["allowed_net"] = json!("10.0.0.0/40"),
            InvalidValue,
            "context.allowed_net",
        ),
        (
            "entity value of unknown type",
            |r| r["principal"]["attributes"]["manager"] = json!({"type": "Boss", "id": "b"}),
            UnknownEntityType,
            "principal.manager",
        ),
    ]
}

const PERMIT_ALL: &str =
    r#"@id("P-ALL") @reason("everything goes") permit (principal, action, resource) obligate notify_security;"#;
const FORBID_ALL: &str =
    r#"@id("F-ALL") @reason("nothing goes") forbid (principal, action, resource) obligate quarantine(for: 15m);"#;

#[test]
fn fail_closed_matrix() {
    let permit_all = program(PERMIT_ALL);
    let forbid_all = program(FORBID_ALL);
    // The good request is decided, so a deny below is the validation's doing.
    assert!(decide(&permit_all, &good()).is_allow());
    let forbidden = decide(&forbid_all, &good());
    assert_eq!((ids(&forbidden), forbidden.obligations.len()), (vec!["F-ALL"], 1));
    for (name, edit, kind, path) in malformed() {
        let request = with(edit);
        for (policy, p) in [("permit-all", &permit_all), ("forbid-all", &forbid_all)] {
            let d = decide(p, &request);
            assert_fail_closed(&d);
            let found: Vec<(ErrorKind, Option<&str>)> = d.errors.iter().map(|e| (e.kind, e.path.as_deref())).collect();
            assert_eq!(found, vec![(kind, Some(path))], "{name} against {policy}");
            assert!(d.errors.iter().all(|e| e.rule.is_none() && !e.message.is_empty()), "{name}: {d:?}");
        }
    }
}

#[test]
fn malformed_documents_fail_closed() {
    let p = program(PERMIT_ALL);
    let mut extra_field = good();
    extra_field["tenant"] = json!("acme");
    let mut no_action = good();
    remove(&mut no_action, "action");
    let mut bad_ancestor = good();
    bad_ancestor["principal"]["ancestors"][0]["name"] = json!("x");
    for text in [
        b"not json".to_vec(),
        b"[]".to_vec(),
        extra_field.to_string().into_bytes(),
        no_action.to_string().into_bytes(),
        bad_ancestor.to_string().into_bytes(),
    ] {
        let d = decide_json(&p, &text);
        assert_fail_closed(&d);
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].kind, ErrorKind::MalformedRequest);
    }
}

#[test]
fn validation_covers_attributes_no_rule_reads_and_reports_them_all() {
    // The rule reads nothing; the request is still validated in full.
    let p = program(PERMIT_ALL);
    let request = with(|r| {
        r["principal"]["attributes"]["risk"] = json!(1000);
        r["resource"]["attributes"]["tags"] = json!([1]);
        r["context"]["zone"] = json!("moon");
        r["context"]["unknown_extra"] = json!(null);
        r["principal"]["attributes"]["not_declared"] = json!({"any": "thing"});
    });
    let d = decide(&p, &request);
    assert_fail_closed(&d);
    let found: Vec<(ErrorKind, &str)> = d.errors.iter().map(|e| (e.kind, e.path.as_deref().unwrap_or(""))).collect();
    assert_eq!(
        found,
        vec![
            (ErrorKind::WrongType, "resource.tags[0]"),
            (ErrorKind::OutOfDeclaredRange, "principal.risk"),
            (ErrorKind::UnknownEnumValue, "context.zone"),
        ]
    );
    // Undeclared attributes are ignored, even null ones.
    let extra = with(|r| {
        r["context"]["unknown_extra"] = json!(null);
        r["principal"]["attributes"]["not_declared"] = json!(1.5);
    });
    assert!(decide(&p, &extra).is_allow());
    // Optional attributes may be absent, or present and valid.
    let optional = with(|r| {
        r["context"]["allowed_net"] = json!("10.0.0.0/8");
        r["context"]["start"] = json!("08:00");
        r["context"]["budget"] = json!("1h");
        r["context"]["limits"] = json!([]);
        r["principal"]["attributes"]["manager"] = json!({"type": "User", "id": "bob"});
        r["principal"]["attributes"]["device"]["patch_age_days"] = json!(3);
    });
    assert!(decide(&p, &optional).is_allow());
}

#[test]
fn error_messages_are_sentences_with_backticked_names() {
    let p = program(PERMIT_ALL);
    let request = with(|r| {
        remove(&mut r["principal"]["attributes"], "clearance");
        r["action"] = json!("delete");
    });
    let d = decide(&p, &request);
    let messages: Vec<&str> = d.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, vec!["unknown action `delete`", "required attribute `clearance` is missing"]);
}

// ------------------------------------------------------------ obligations

const OBLIGATIONS: &str = r#"
@id("P1") @reason("p1") permit (principal: User, action, resource)
  when context.zone == Zone.corp
  obligate redact(field: "email"), notify_security;
@id("P2") permit (principal: User, action: infer, resource)
  obligate redact(field: "email"), redact(field: "address"),
    audit(level: Classification.internal, zones: [Zone.partner, Zone.corp, Zone.partner], until: timestamp("2026-02-01T00:00:00.5Z"),
          at: time("17:45:30"), net: cidr("10.9.8.7/16"), n: 3, strict: true);
@id("P3") permit (principal: User, action: embed, resource) obligate notify_security;
@id("F1") @reason("partner zone") forbid (principal, action, resource)
  when context.zone == Zone.partner
  obligate quarantine(for: 90m), notify_security;
@id("F2") forbid (principal, action, resource)
  when context.zone != Zone.corp && context.mtls
  obligate quarantine(for: 1h30m);
@id("F3") forbid (principal, action: embed, resource) when context.zone == Zone.internet obligate quarantine(for: 1d);
@id("OV") forbid (principal, action, resource) when context.rpm * 2 < 0 obligate quarantine(for: 5m);
"#;

#[test]
fn obligations_follow_the_determining_rules() {
    let p = program(OBLIGATIONS);
    // Allow: the union of the applicable permits' obligations, rendered,
    // sorted and deduplicated.
    let allow = decide(&p, &good());
    assert!(allow.is_allow(), "{allow:?}");
    assert_eq!(ids(&allow), vec!["P1", "P2"]);
    assert_eq!(allow.reasons, vec!["p1"]);
    let rendered = serde_json::to_value(&allow.obligations).expect("json");
    assert_eq!(
        rendered,
        json!([
            {"name": "audit", "args": {"at": "17:45:30", "level": "internal", "n": 3, "net": "10.9.0.0/16", "strict": true,
                                       "until": "2026-02-01T00:00:00.500Z", "zones": ["corp", "partner"]}},
            {"name": "notify_security", "args": {}},
            {"name": "redact", "args": {"field": "address"}},
            {"name": "redact", "args": {"field": "email"}},
        ])
    );
    // Deny by forbid: the forbids' obligations only, the equal durations
    // once.
    let deny = decide(&p, &with(|r| r["context"]["zone"] = json!("partner")));
    assert_eq!((deny.decision, ids(&deny)), (Outcome::Deny, vec!["F1", "F2"]));
    assert_eq!(deny.reasons, vec!["partner zone"]);
    let rendered = serde_json::to_value(&deny.obligations).expect("json");
    assert_eq!(
        rendered,
        json!([{"name": "notify_security", "args": {}}, {"name": "quarantine", "args": {"for": "1h30m"}}])
    );
    // Only P1 applies to `train` in the corp zone: its obligations alone.
    let train = decide(&p, &with(|r| r["action"] = json!("train")));
    assert_eq!((train.decision, ids(&train)), (Outcome::Allow, vec!["P1"]));
    let rendered = serde_json::to_value(&train.obligations).expect("json");
    assert_eq!(
        rendered,
        json!([{"name": "notify_security", "args": {}}, {"name": "redact", "args": {"field": "email"}}])
    );
    // Default deny: nothing at all.
    let nothing = with(|r| {
        r["action"] = json!("train");
        r["context"]["zone"] = json!("internet");
        r["context"]["mtls"] = json!(false);
    });
    assert_eq!(decide(&p, &nothing), Decision::fail_closed(vec![]));
    // Fail closed: no obligations even though permits and forbids apply.
    let failed = decide(&p, &with(|r| r["context"]["rpm"] = json!(i64::MAX)));
    assert_fail_closed(&failed);
    assert_eq!(error_rules(&failed), vec![(ErrorKind::Overflow, "OV")]);
}

// --------------------------------------------------- overflow, short-circuit

#[test]
fn overflow_in_a_permit_or_a_forbid_fails_closed_naming_the_rule() {
    let p2 = program(
        r#"
@id("OK") permit (principal, action, resource) obligate notify_security;
@id("P-OV") permit (principal, action, resource) when context.rpm + 9223372036854775000 > 0;
@id("F-OV") forbid (principal, action, resource) unless context.rpm * context.rpm >= 0;
"#,
    );
    let d2 = |rpm: i64| decide(&p2, &with(|r| r["context"]["rpm"] = json!(rpm)));
    let fine = d2(100);
    assert_eq!((fine.decision, ids(&fine)), (Outcome::Allow, vec!["OK", "P-OV"]));
    let permit_overflows = d2(1000);
    assert_fail_closed(&permit_overflows);
    assert_eq!(error_rules(&permit_overflows), vec![(ErrorKind::Overflow, "P-OV")]);
    let both = d2(4_000_000_000);
    assert_fail_closed(&both);
    assert_eq!(error_rules(&both), vec![(ErrorKind::Overflow, "F-OV"), (ErrorKind::Overflow, "P-OV")]);
    let forbid_only = d2(-4_000_000_000);
    assert_eq!(error_rules(&forbid_only), vec![(ErrorKind::Overflow, "F-OV")]);
    assert!(forbid_only.errors.iter().all(|e| e.path.is_none() && e.message == "integer overflow"));
}

#[test]
fn duration_and_timestamp_overflow() {
    let p = program(
        r#"
@id("OK") permit (principal, action, resource);
@id("F-TS") forbid (principal, action, resource) when context.now + 106751991167d > context.now;
@id("F-DUR") forbid (principal, action, resource) when context has budget && context.budget + 106751991167d > 0s;
@id("F-NEG") forbid (principal, action, resource) when -context.rpm > 0;
"#,
    );
    // now + about 292 million years: always out of range.
    let d = decide(&p, &good());
    assert_fail_closed(&d);
    assert_eq!(error_rules(&d), vec![(ErrorKind::Overflow, "F-TS")]);
    let d = decide(
        &p,
        &with(|r| {
            r["context"]["budget"] = json!("1d");
            r["context"]["rpm"] = json!(i64::MIN);
        }),
    );
    assert_eq!(
        error_rules(&d),
        vec![(ErrorKind::Overflow, "F-DUR"), (ErrorKind::Overflow, "F-NEG"), (ErrorKind::Overflow, "F-TS")]
    );
}

#[test]
fn short_circuit_avoids_overflow() {
    let p = program(
        r#"
@id("AND") permit (principal, action, resource) when context.rpm < 0 && context.rpm * context.rpm > 0;
@id("OR") permit (principal, action, resource) when context.rpm > 0 || context.rpm - 9223372036854775807 < 0;
@id("IF") permit (principal, action, resource) when if context.mtls then true else context.rpm * 9223372036854775807 > 0;
@id("CLAUSE") permit (principal, action, resource) when context.rpm < 0 when context.rpm * context.rpm > 0;
@id("UNLESS") permit (principal, action, resource) unless context.rpm > 0 when context.rpm * context.rpm > 0;
"#,
    );
    let huge = decide(&p, &with(|r| r["context"]["rpm"] = json!(i64::MAX)));
    assert!(huge.errors.is_empty(), "{huge:?}");
    assert_eq!(ids(&huge), vec!["IF", "OR"]);
    // Without the short-circuit, the same right operands do overflow.
    let negative = decide(
        &p,
        &with(|r| {
            r["context"]["rpm"] = json!(i64::MIN);
            r["context"]["mtls"] = json!(false);
        }),
    );
    assert_fail_closed(&negative);
    assert_eq!(
        error_rules(&negative),
        vec![
            (ErrorKind::Overflow, "AND"),
            (ErrorKind::Overflow, "CLAUSE"),
            (ErrorKind::Overflow, "IF"),
            (ErrorKind::Overflow, "OR"),
            (ErrorKind::Overflow, "UNLESS")
        ]
    );
}

// ------------------------------------------------------------ expressions

#[test]
fn the_sketch_policy() {
    let p = program(
        r#"
def high_rate(rpm: Int) -> Bool = rpm > 600;

@id("ZT-001") @reason("MFA missing or older than 15 minutes")
forbid (principal: User, action, resource)
  unless principal has mfa_age && principal.mfa_age <= 15m;

@id("AI-010")
permit (principal: User, action in [infer, embed], resource: Model)
  when principal.clearance >= resource.tier && context.mtls
  when context.zone == Zone.corp || context.source_ip in cidr("10.0.0.0/8")
  obligate redact(field: "email");

@id("AI-011")
permit (principal in Team::"ml", action: infer, resource)
  when let max = if principal.roles.contains("lead") then 1000 else 100;
       context.rpm <= max && resource.family like "gpt-*"
  when principal.roles.any(r => r.starts_with("ml-"));

@id("AS-003") @reason("request rate suggests model extraction")
forbid (principal, action: infer, resource: Model)
  when high_rate(context.rpm)
  obligate quarantine(for: 15m);
"#,
    );
    let allow = decide(&p, &good());
    assert_eq!((allow.decision, ids(&allow)), (Outcome::Allow, vec!["AI-010", "AI-011"]));
    assert_eq!(
        serde_json::to_value(&allow.obligations).expect("json"),
        json!([{"name": "redact", "args": {"field": "email"}}])
    );
    let stale = decide(&p, &with(|r| r["principal"]["attributes"]["mfa_age"] = json!("16m")));
    assert_eq!((stale.decision, ids(&stale)), (Outcome::Deny, vec!["ZT-001"]));
    assert_eq!(stale.reasons, vec!["MFA missing or older than 15 minutes"]);
    let no_mfa = decide(&p, &with(|r| remove(&mut r["principal"]["attributes"], "mfa_age")));
    assert_eq!(ids(&no_mfa), vec!["ZT-001"]);
    let fast = decide(
        &p,
        &with(|r| {
            r["context"]["rpm"] = json!(601);
            r["principal"]["attributes"]["mfa_age"] = json!("1h");
        }),
    );
    assert_eq!((ids(&fast), fast.reasons.len()), (vec!["AS-003", "ZT-001"], 2));
    assert_eq!(
        serde_json::to_value(&fast.obligations).expect("json"),
        json!([{"name": "quarantine", "args": {"for": "15m"}}])
    );
    // 100 < rpm <= 600: AI-011 needs the `lead` role, AI-010 still applies.
    let busy = decide(&p, &with(|r| r["context"]["rpm"] = json!(300)));
    assert_eq!(ids(&busy), vec!["AI-010"]);
    let lead = decide(
        &p,
        &with(|r| {
            r["context"]["rpm"] = json!(300);
            r["principal"]["attributes"]["roles"] = json!(["ml-x", "lead"]);
        }),
    );
    assert_eq!(ids(&lead), vec!["AI-010", "AI-011"]);
    // Outside the corp zone and the 10/8 network, with too low a clearance
    // for AI-010, and outside the ml team: default deny.
    let outsider = decide(
        &p,
        &with(|r| {
            r["context"]["zone"] = json!("internet");
            r["context"]["source_ip"] = json!("192.0.2.1");
            r["principal"]["ancestors"] = json!([]);
        }),
    );
    assert_eq!(
        outsider,
        Decision { decision: Outcome::Deny, rules: vec![], reasons: vec![], obligations: vec![], errors: vec![] }
    );
    let partner_net = decide(
        &p,
        &with(|r| {
            r["context"]["zone"] = json!("internet");
            r["principal"]["ancestors"] = json!([]);
        }),
    );
    assert_eq!(ids(&partner_net), vec!["AI-010"]);
}

#[test]
fn expression_forms_through_source() {
    let p = program(
        r#"
def in_hours(t: TimeOfDay) -> Bool = t >= time("08:00") && t < time("18:00");
def minus(a: Int, b: Int) -> Int = a - b;

@id("E01") permit (principal: User, action, resource: Model) when resource.tags == ["prod", "prod"];
@id("E02") permit (principal: User, action, resource: Model) when resource.tags.size() == 1 && !resource.tags.is_empty();
@id("E03") permit (principal: User, action, resource: Model) when principal.roles.contains_all(["reviewer"]) && principal.roles.contains_any(["x", "reviewer"]);
@id("E04") permit (principal: User, action, resource: Model) when "reviewer" in principal.roles;
@id("E05") permit (principal: User, action, resource: Model) when resource.family like "gpt*4" && resource.family.ends_with("-4") && resource.family.contains("pt-");
@id("E06") permit (principal: User, action, resource) when in_hours(context.now.time_of_day());
@id("E07") permit (principal: User, action, resource) when minus(context.rpm, 50) == 50 && minus(1, 2) == -1;
@id("E08") permit (principal: User, action, resource) when principal in [Group::"staff", Group::"other"] && principal in Team::"ml";
@id("E09") permit (principal == User::"alice", action, resource) when principal != User::"bob";
@id("E10") permit (principal: User, action, resource) when context.now - timestamp("2026-01-31T09:00:00Z") == 30m;
@id("E11") permit (principal: User, action, resource) when context has budget && context.budget > 1h;
@id("E12") permit (principal: User, action, resource) when principal has manager && principal.manager == User::"bob";
@id("E13") permit (principal: User, action, resource) when principal.device.managed && !(principal.device has patch_age_days);
@id("E14") permit (principal: User, action, resource) when context has limits && context.limits.all(n => n > 0);
@id("E15") permit (principal: User, action, resource) when context has limits && context.limits.any(n => n > 10);
@id("E16") permit (principal: User, action, resource) when context.source_ip in cidr("10.1.0.0/16") && context.source_ip == ip("10.1.2.3");
@id("E17") permit (principal: User, action, resource) when let r = principal.risk; r * 2 + 1 == 21;
@id("E18") permit (principal: User, action, resource) when principal.clearance > Classification.internal && principal.clearance < Classification.restricted;
@id("E19") permit (principal: User, action, resource) when resource in Group::"models";
"#,
    );
    let d = decide(&p, &good());
    assert!(d.errors.is_empty(), "{d:?}");
    let expected =
        vec!["E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10", "E13", "E16", "E17", "E18", "E19"];
    assert_eq!(ids(&d), expected);
    let other = decide(
        &p,
        &with(|r| {
            r["context"]["budget"] = json!("2h");
            r["context"]["limits"] = json!([]);
            r["principal"]["attributes"]["manager"] = json!({"type": "User", "id": "bob"});
            r["principal"]["attributes"]["device"]["patch_age_days"] = json!(1);
            r["context"]["now"] = json!("2026-01-31T19:30:00+01:00");
        }),
    );
    // E06: 18:30 UTC is out of hours; E10: 9.5 hours later; E13: patched
    // device; E14: all over nothing; E15: any over nothing.
    let expected: Vec<&str> =
        vec!["E01", "E02", "E03", "E04", "E05", "E07", "E08", "E09", "E11", "E12", "E14", "E16", "E17", "E18", "E19"];
    assert_eq!(ids(&other), expected);
    let limits = decide(&p, &with(|r| r["context"]["limits"] = json!([5, 20, 5])));
    assert!(ids(&limits).contains(&"E14") && ids(&limits).contains(&"E15"));
    let limits = decide(&p, &with(|r| r["context"]["limits"] = json!([0, 5])));
    assert!(!ids(&limits).contains(&"E14") && !ids(&limits).contains(&"E15"));
}

#[test]
fn entity_valued_attributes_are_references() {
    let p = program(
        r#"
@id("SCOPE") permit (principal: Agent, action, resource) when principal.scopes.contains(Zone.corp) && principal.owner == User::"alice";
"#,
    );
    let agent = |action: &str, owner: &str| {
        with(|r| {
            r["action"] = json!(action);
            r["principal"] = json!({"type": "Agent", "id": "bot", "attributes": {
                "owner": {"type": "User", "id": owner}, "scopes": ["corp", "partner", "corp"]}});
        })
    };
    let d = decide(&p, &agent("infer", "alice"));
    assert_eq!((d.decision, ids(&d)), (Outcome::Allow, vec!["SCOPE"]));
    let d = decide(&p, &agent("infer", "bob"));
    assert_eq!(d.decision, Outcome::Deny);
    // The request carries attributes for the principal and the resource
    // only, so the checker rejects reading an attribute of another entity.
    let compilation = ward_compiler::compile(vec![(
        "refs.ward".to_owned(),
        format!(
            "{SCHEMA}\n@id(\"OWNER\") permit (principal: Agent, action: embed, resource) when principal.owner.clearance >= resource.tier;"
        ),
    )]);
    assert!(compilation.diagnostics.iter().any(|d| d.code.as_str() == "E0218"));
}

// ------------------------------------------------------------- properties

/// Rule templates: (id, effect is forbid, text). Some read optional
/// attributes, some overflow for large counters.
const POOL: &[(&str, bool, &str)] = &[
    (
        "ZT-1",
        true,
        r#"@id("ZT-1") @reason("stale MFA") forbid (principal: User, action, resource) unless principal has mfa_age && principal.mfa_age <= 15m;"#,
    ),
    (
        "AI-1",
        false,
        r#"@id("AI-1") permit (principal: User, action in [infer, embed], resource: Model) when principal.clearance >= resource.tier && context.mtls when context.zone == Zone.corp obligate redact(field: "email");"#,
    ),
    (
        "AS-1",
        true,
        r#"@id("AS-1") @reason("rate") forbid (principal, action: infer, resource: Model) when context.rpm > 600 obligate quarantine(for: 15m);"#,
    ),
    (
        "RK-1",
        true,
        r#"@id("RK-1") forbid (principal: User, action, resource) when principal.risk > 80 obligate notify_security;"#,
    ),
    (
        "ML-1",
        false,
        r#"@id("ML-1") @reason("ml team") permit (principal: User in Team::"ml", action: embed, resource) obligate notify_security;"#,
    ),
    (
        "GP-1",
        false,
        r#"@id("GP-1") permit (principal: User, action, resource: Model) when resource.family like "gpt-*" && principal.roles.any(r => r.starts_with("ml-"));"#,
    ),
    (
        "OV-1",
        false,
        r#"@id("OV-1") permit (principal, action, resource) when context.rpm + 9223372036854775000 > 0 obligate redact(field: "ov");"#,
    ),
    ("OV-2", true, r#"@id("OV-2") forbid (principal, action, resource) when context.rpm < 0 && context.rpm * 4 < 0;"#),
    (
        "ZN-1",
        true,
        r#"@id("ZN-1") forbid (principal, action, resource) when context.zone == Zone.internet unless context.mtls;"#,
    ),
    (
        "AD-1",
        false,
        r#"@id("AD-1") @reason("admins") permit (principal: User, action, resource) when "admin" in principal.roles obligate audit(level: Classification.public, zones: [Zone.corp], until: timestamp("2030-01-01T00:00:00Z"), at: time("00:00"), net: cidr("0.0.0.0/0"), n: 0, strict: false);"#,
    ),
];

fn is_forbid(id: &str) -> bool {
    POOL.iter().any(|(i, forbid, _)| *i == id.trim_end_matches("-copy") && *forbid)
}

fn request_strategy() -> impl Strategy<Value = Json> {
    let levels = prop_oneof![Just("public"), Just("internal"), Just("confidential"), Just("restricted")];
    let rpm = prop_oneof![
        0i64..1000,
        Just(i64::MAX),
        Just(i64::MIN),
        Just(-5i64),
        Just(2_305_843_009_213_693_952i64),
        any::<i64>()
    ];
    (
        (levels.clone(), levels, proptest::option::of(0i64..40), 0i64..=100),
        (prop_oneof![Just("corp"), Just("partner"), Just("internet")], any::<bool>(), rpm),
        (
            proptest::sample::subsequence(vec!["admin", "ml-engineer", "reviewer", "lead"], 0..=4),
            any::<bool>(),
            prop_oneof![Just("gpt-4"), Just("claude"), Just("gpt-")],
        ),
        prop_oneof![Just("infer"), Just("embed"), Just("train")],
    )
        .prop_map(|((clearance, tier, mfa_minutes, risk), (zone, mtls, rpm), (roles, in_ml, family), action)| {
            with(|r| {
                let attrs = &mut r["principal"]["attributes"];
                attrs["clearance"] = json!(clearance);
                attrs["risk"] = json!(risk);
                attrs["roles"] = json!(roles);
                match mfa_minutes {
                    Some(m) => attrs["mfa_age"] = json!(format!("{m}m")),
                    None => remove(attrs, "mfa_age"),
                }
                if !in_ml {
                    r["principal"]["ancestors"] = json!([{"type": "Group", "id": "staff"}]);
                }
                r["resource"]["attributes"]["tier"] = json!(tier);
                r["resource"]["attributes"]["family"] = json!(family);
                r["context"]["zone"] = json!(zone);
                r["context"]["mtls"] = json!(mtls);
                r["context"]["rpm"] = json!(rpm);
                r["action"] = json!(action);
            })
        })
}

fn subset_strategy() -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence((0..POOL.len()).collect::<Vec<_>>(), 0..=POOL.len()).prop_shuffle()
}

fn texts(picks: &[usize]) -> Vec<&'static str> {
    picks.iter().map(|i| POOL[*i].2).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Deny overrides, default deny, and the shape of each kind of decision.
    #[test]
    fn decisions_are_well_formed(picks in subset_strategy(), request in request_strategy()) {
        let rules = texts(&picks);
        let d = decide(&program(&rules.join("\n")), &request);
        match d.decision {
            Outcome::Allow => {
                // An explicit permit, and no forbid, determined it.
                prop_assert!(!d.rules.is_empty() && d.errors.is_empty());
                prop_assert!(d.rules.iter().all(|id| !is_forbid(id)));
            }
            Outcome::Deny if !d.errors.is_empty() => {
                prop_assert!(d.rules.is_empty() && d.reasons.is_empty() && d.obligations.is_empty());
                prop_assert!(d.errors.iter().all(|e| e.kind == ErrorKind::Overflow && e.rule.is_some()));
            }
            Outcome::Deny => {
                prop_assert!(d.rules.iter().all(|id| is_forbid(id)));
                if d.rules.is_empty() {
                    prop_assert!(d.obligations.is_empty() && d.reasons.is_empty());
                }
            }
        }
        let mut sorted = d.rules.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(&sorted, &d.rules);
        let mut obligations = d.obligations.clone();
        obligations.sort();
        obligations.dedup();
        prop_assert_eq!(&obligations, &d.obligations);

        // Forbids alone never allow: an explicit permit is needed.
        let forbids: Vec<&str> = picks.iter().filter(|i| POOL[**i].1).map(|i| POOL[*i].2).collect();
        prop_assert!(!decide(&program(&forbids.join("\n")), &request).is_allow());
        // Adding a forbid that applies turns any decision into a deny.
        let mut more = rules.clone();
        more.push(FORBID_ALL);
        let d2 = decide(&program(&more.join("\n")), &request);
        prop_assert_eq!(d2.decision, Outcome::Deny);
        if d.errors.is_empty() {
            prop_assert!(d2.rules.contains(&"F-ALL".to_owned()));
            prop_assert!(d2.rules.iter().all(|id| is_forbid(id) || id == "F-ALL"));
        } else {
            prop_assert_eq!(&d2.errors, &d.errors);
        }
        // Adding a permit never undoes a deny by forbid.
        let mut permissive = rules.clone();
        permissive.push(PERMIT_ALL);
        let d3 = decide(&program(&permissive.join("\n")), &request);
        if d.decision == Outcome::Deny && !d.rules.is_empty() {
            prop_assert_eq!(d3, d);
        } else if d.errors.is_empty() {
            prop_assert!(d3.is_allow());
        }
    }

    /// The order of rules, their spread over files, and copies under fresh
    /// ids do not change the decision.
    #[test]
    fn order_files_and_copies_do_not_matter(picks in subset_strategy(), request in request_strategy(), split in 0usize..10, copy in 0usize..10) {
        let rules = texts(&picks);
        let d = decide(&program(&rules.join("\n")), &request);
        let mut reversed = rules.clone();
        reversed.reverse();
        prop_assert_eq!(&decide(&program(&reversed.join("\n")), &request), &d);
        let split = split.min(rules.len());
        let (a, b) = rules.split_at(split);
        let (a, b) = (a.join("\n"), b.join("\n"));
        prop_assert_eq!(&decide(&programs(&[&b, &a]), &request), &d);
        if let Some(&pick) = picks.get(copy % picks.len().max(1)) {
            let (id, _, text) = POOL[pick];
            let copied = text.replace(&format!("@id(\"{id}\")"), &format!("@id(\"{id}-copy\")"));
            let mut more = rules.clone();
            more.insert(0, &copied);
            let d2 = decide(&program(&more.join("\n")), &request);
            prop_assert_eq!(d2.decision, d.decision);
            prop_assert_eq!(&d2.obligations, &d.obligations);
            let copy_id = format!("{id}-copy");
            let without = |ids: &[String]| ids.iter().filter(|i| **i != copy_id).cloned().collect::<Vec<_>>();
            prop_assert_eq!(without(&d2.rules), d.rules.clone());
            prop_assert_eq!(d2.rules.contains(&copy_id), d.rules.iter().any(|i| i == id));
            let error_ids = |d: &Decision| d.errors.iter().filter_map(|e| e.rule.clone()).filter(|i| *i != copy_id).collect::<Vec<_>>();
            prop_assert_eq!(error_ids(&d2), error_ids(&d));
        }
    }
}
