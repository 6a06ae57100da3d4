//! Real Ward policies, compiled to decision modules: the runtime's decisions
//! must be the reference interpreter's, for valid and invalid requests alike.

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{Value, json};
use ward_compiler::program::Program;
use ward_runtime::{Decision, DecisionModule, Runtime};

const MORE: &str = include_str!("../compiled/more.ward");
const GATEWAY: &str = include_str!("../compiled/gateway.ward");
const SHARED: &str = include_str!("../compiled/shared.ward");

struct Compiled {
    program: Program,
    module: DecisionModule,
}

fn compile(name: &str, source: &str) -> Compiled {
    let compilation = ward_compiler::compile(vec![(name.to_owned(), source.to_owned())]);
    let program = compilation.program.clone().unwrap_or_else(|| {
        panic!("{}", ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false))
    });
    let output = ward_compiler::codegen::build(&program, &compilation.sources);
    let module = Runtime::new().unwrap().load(&output.wasm).unwrap_or_else(|e| panic!("{name}: {e}"));
    Compiled { program, module }
}

/// A decision without error messages (engines word them differently).
fn comparable(decision: &Decision) -> Decision {
    let mut d = decision.clone();
    for e in &mut d.errors {
        e.message.clear();
    }
    d
}

/// Decides with both engines and asserts they agree; returns the decision.
fn agree(compiled: &Compiled, request: &Value) -> Result<Decision, TestCaseError> {
    let text = serde_json::to_vec(request).unwrap();
    let expected = ward_compiler::interp::decide_json(&compiled.program, &text);
    let actual = compiled.module.decide_json(&text);
    prop_assert_eq!(comparable(&actual), comparable(&expected), "request: {}", request);
    Ok(actual)
}

/// Replaces the value at a JSON pointer (or removes it, for `None`).
fn mutate(request: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match (request.pointer_mut(parent), value) {
        (Some(Value::Object(map)), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Some(Value::Object(map)), None) => {
            map.remove(key);
        }
        (Some(Value::Array(items)), v) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                match v {
                    Some(v) => items[i] = v,
                    None => {
                        items.remove(i);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Breaks one part of a request, sometimes: `(pointer, replacement)`.
fn damage(pointers: &'static [&'static str]) -> impl Strategy<Value = Option<(&'static str, Option<Value>)>> {
    let bad = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(json!("bogus"))),
        Just(Some(json!(1.5))),
        Just(Some(json!(-1))),
        Just(Some(json!({}))),
        Just(Some(json!([null]))),
        Just(Some(json!(true))),
        Just(Some(json!({"type": "Nope", "id": "x"}))),
        Just(Some(json!({"type": "Org", "id": "acme"}))),
        Just(Some(json!("10.0.0.0/33"))),
    ];
    prop_oneof![
        3 => Just(None),
        1 => (select(pointers), bad).prop_map(Some),
    ]
}

fn timestamp() -> impl Strategy<Value = Value> {
    select(&["2026-01-31T09:30:00Z", "2026-01-31T23:59:00Z", "2026-01-31T08:45:00+01:00", "1970-01-01T00:00:00Z"][..])
        .prop_map(|s| json!(s))
}

fn entity(ty: &'static str, ids: &'static [&'static str]) -> impl Strategy<Value = Value> {
    select(ids).prop_map(move |id| json!({"type": ty, "id": id}))
}

fn big() -> impl Strategy<Value = i64> {
    select(&[0, 1, 5, 10, 100, 400, -3, i64::MAX, i64::MIN, i64::MAX / 2][..])
}

fn agent() -> impl Strategy<Value = Value> {
    (
        (select(&["low", "mid", "high"][..]), big(), big()),
        subsequence(&["ops", "admin", "dev"][..], 0..=3),
        prop::collection::vec(select(&[0i64, 5, 9, 10, 11, 10_000_000_000_000][..]), 0..4),
        prop::collection::vec(entity("Team", &["core", "a", "b"]), 0..4),
        select(&["10.0.0.0/8", "192.168.1.0/24", "::/0", "2001:db8::/32"][..]),
        prop::option::of(timestamp()),
        (
            select(&["00:00", "09:00", "12:00:30"][..]),
            select(&["08:00", "23:59:59"][..]),
            prop::option::of(any::<bool>()),
        ),
        subsequence(&[("Team", "core"), ("Team", "x"), ("Org", "acme"), ("Org", "other")][..], 0..=4),
    )
        .prop_map(
            |((tier, budget, spent), tags, scores, teams, home, last_seen, (start, end, strict), ancestors)| {
                let mut attributes = json!({
                    "tier": tier, "budget": budget, "spent": spent, "tags": tags, "scores": scores,
                    "teams": teams, "home": home, "window": {"start": start, "end": end},
                });
                if let Some(t) = last_seen {
                    attributes["last_seen"] = t;
                }
                if let Some(strict) = strict {
                    attributes["window"]["strict"] = json!(strict);
                }
                let ancestors: Vec<Value> = ancestors.iter().map(|(t, id)| json!({"type": t, "id": id})).collect();
                json!({"type": "Agent", "id": "agent-1", "attributes": attributes, "ancestors": ancestors})
            },
        )
}

fn tool() -> impl Strategy<Value = Value> {
    (
        select(&["chat", "code", "image"][..]),
        select(&["low", "mid", "high"][..]),
        select(&["svc-a", "x", "svc-"][..]),
        subsequence(&["chat", "code", "image"][..], 0..=3),
        prop::bool::ANY,
    )
        .prop_map(|(kind, min_tier, name, kinds, in_acme)| {
            let ancestors = if in_acme { json!([{"type": "Org", "id": "acme"}]) } else { json!([]) };
            json!({"type": "Tool", "id": "tool-1", "ancestors": ancestors,
                   "attributes": {"kind": kind, "min_tier": min_tier, "name": name, "kinds": kinds}})
        })
}

fn more_request() -> impl Strategy<Value = Value> {
    let principal = prop_oneof![4 => agent(), 1 => entity("Team", &["core", "x"])];
    let resource = prop_oneof![4 => tool(), 1 => entity("Org", &["acme", "other"])];
    let context = (
        select(&["10.1.2.3", "192.168.1.7", "2001:db8::5", "8.8.8.8"][..]),
        timestamp(),
        big(),
        prop::option::of(select(&[0i64, 5, 1000][..])),
        select(&["0s", "-1h", "-30000d", "106751991167d"][..]),
    )
        .prop_map(|(ip, now, cost, limit, tz)| {
            let mut context = json!({"ip": ip, "now": now, "cost": cost, "tz": tz});
            if let Some(limit) = limit {
                context["limit"] = json!(limit);
            }
            context
        });
    let pointers: &'static [&'static str] = &[
        "/action",
        "/principal/type",
        "/principal/attributes/tier",
        "/principal/attributes/budget",
        "/principal/attributes/tags/0",
        "/principal/attributes/scores",
        "/principal/attributes/teams/0",
        "/principal/attributes/home",
        "/principal/attributes/last_seen",
        "/principal/attributes/window/start",
        "/principal/attributes/window/strict",
        "/principal/ancestors/0",
        "/resource/attributes/kind",
        "/resource/attributes/kinds/1",
        "/resource/attributes/name",
        "/context/ip",
        "/context/now",
        "/context/limit",
        "/context/tz",
    ];
    (principal, select(&["call", "inspect", "audit"][..]), resource, context, damage(pointers)).prop_map(
        |(principal, action, resource, context, damage)| {
            let mut request =
                json!({"principal": principal, "action": action, "resource": resource, "context": context});
            if let Some((pointer, value)) = damage {
                mutate(&mut request, pointer, value);
            }
            request
        },
    )
}

fn gateway_request() -> impl Strategy<Value = Value> {
    let client = (
        select(&["spiffe://prod.acme.internal/api", "spiffe://dev.acme.internal/api", "prod.acme.internal"][..]),
        select(&[0i64, 39, 40, 69, 70, 89, 90, 100][..]),
        subsequence(&["admin", "chat", "beta"][..], 0..=3),
    )
        .prop_map(|(spiffe, score, labels)| {
            json!({"type": "Client", "id": "c", "attributes": {"spiffe": spiffe, "score": score, "labels": labels}})
        });
    let endpoint = (
        select(&["/v1/chat", "/admin/users", "/admin", "/v1/embed"][..]),
        any::<bool>(),
        subsequence(&["GET", "POST"][..], 0..=2),
    )
        .prop_map(|(path, public, methods)| {
            json!({"type": "Endpoint", "id": "e", "attributes": {"path": path, "public": public, "methods": methods}})
        });
    let context =
        (select(&["10.0.0.1", "172.20.1.1", "8.8.8.8", "fd00::1", "2001:db8::1"][..]), select(&["GET", "POST"][..]))
            .prop_map(|(source, method)| json!({"source": source, "method": method}));
    let pointers: &'static [&'static str] = &[
        "/principal/attributes/score",
        "/principal/attributes/labels",
        "/resource/attributes/public",
        "/context/source",
    ];
    (client, endpoint, context, damage(pointers)).prop_map(|(principal, resource, context, damage)| {
        let mut request = json!({"principal": principal, "action": "invoke", "resource": resource, "context": context});
        if let Some((pointer, value)) = damage {
            mutate(&mut request, pointer, value);
        }
        request
    })
}

#[test]
fn both_policies_compile_and_load() {
    for (name, source) in [("more.ward", MORE), ("gateway.ward", GATEWAY), ("shared.ward", SHARED)] {
        let compiled = compile(name, source);
        assert!(!compiled.module.manifest().rules.is_empty());
    }
}

#[test]
fn hand_picked_requests_agree() {
    let compiled = compile("more.ward", MORE);
    let request = json!({
        "principal": {"type": "Agent", "id": "a", "ancestors": [{"type": "Team", "id": "core"}],
            "attributes": {"tier": "high", "budget": 100, "spent": 5, "tags": ["ops"], "scores": [1, 2],
                "teams": [], "home": "10.0.0.0/8", "window": {"start": "00:00", "end": "23:59"}}},
        "action": "inspect",
        "resource": {"type": "Tool", "id": "t", "attributes": {"kind": "code", "min_tier": "low", "name": "svc-a", "kinds": []}},
        "context": {"ip": "10.1.2.3", "now": "2026-01-31T09:30:00Z", "cost": 1, "tz": "0s"}
    });
    let decision = agree(&compiled, &request).unwrap();
    assert!(decision.is_allow(), "{decision:?}");
    assert_eq!(decision.rules, ["R-tags", "R-team"]);
    // Overflow in a quantifier and in an addition: both rules fail.
    let mut overflow = request.clone();
    overflow["principal"]["attributes"]["scores"] = json!([10_000_000_000_000i64]);
    overflow["action"] = json!("call");
    overflow["principal"]["attributes"]["spent"] = json!(i64::MAX);
    let decision = agree(&compiled, &overflow).unwrap();
    assert!(!decision.is_allow() && !decision.errors.is_empty(), "{decision:?}");
}

/// Rules of several actions, both inlined into their leaves (small ones)
/// and called from them (large ones), decide as the interpreter does for
/// every action, resource and risk band.
#[test]
fn rules_of_several_actions_decide_alike_inlined_or_called() {
    let compiled = compile("shared.ward", SHARED);
    let mut outcomes = std::collections::BTreeSet::new();
    for action in ["read", "write", "share", "purge"] {
        for doc in ["d1", "d2", "d3"] {
            for (owner, region) in [("public", "eu"), ("alice", "eu"), ("alice", "quarantine")] {
                for tags in [json!(["staff"]), json!(["suspended"]), json!([])] {
                    for risk in [0, 30, 90] {
                        let request = json!({
                            "principal": {"type": "User", "id": "u",
                                "attributes": {"level": 5, "tags": tags, "region": "eu"}},
                            "action": action,
                            "resource": {"type": "Doc", "id": doc,
                                "attributes": {"owner": owner, "level": 4, "region": region}},
                            "context": {"risk": risk}
                        });
                        let decision = agree(&compiled, &request).unwrap();
                        outcomes.insert(decision.rules.clone());
                    }
                }
            }
        }
    }
    // Every rule but the level-10 purge decided some request.
    let decided: std::collections::BTreeSet<String> = outcomes.into_iter().flatten().collect();
    assert_eq!(decided.into_iter().collect::<Vec<_>>(), ["S-owner", "S-public", "S-risk"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_module_decides_as_the_interpreter_on_more(request in more_request()) {
        thread_local!(static COMPILED: Compiled = compile("more.ward", MORE));
        COMPILED.with(|compiled| agree(compiled, &request))?;
    }

    #[test]
    fn the_module_decides_as_the_interpreter_on_the_gateway(request in gateway_request()) {
        thread_local!(static COMPILED: Compiled = compile("gateway.ward", GATEWAY));
        COMPILED.with(|compiled| agree(compiled, &request))?;
    }
}

/// The generators reach every outcome: allow, forbid, default deny, errors.
#[test]
fn the_generated_requests_cover_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let compiled = compile("more.ward", MORE);
    let mut runner = TestRunner::deterministic();
    let (mut allow, mut forbid, mut default, mut overflow, mut invalid) = (0, 0, 0, 0, 0);
    for _ in 0..400 {
        let request = more_request().new_tree(&mut runner).unwrap().current();
        let d = agree(&compiled, &request).unwrap();
        match (d.is_allow(), d.rules.is_empty(), d.errors.first().map(|e| e.kind)) {
            (true, _, _) => allow += 1,
            (false, false, _) => forbid += 1,
            (false, true, None) => default += 1,
            (false, true, Some(ward_runtime::ErrorKind::Overflow)) => overflow += 1,
            (false, true, Some(_)) => invalid += 1,
        }
    }
    let counts = [allow, forbid, default, overflow, invalid];
    assert!(counts.iter().all(|&c| c > 0), "allow, forbid, default, overflow, invalid: {counts:?}");
}
