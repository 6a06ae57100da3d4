//! Unit tests of evaluation and decisions over hand-built programs (no
//! checker needed): expression semantics, overflow, short-circuit, scope
//! matching, decision assembly and its order independence.

use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::json;
use ward_types::{Decision, ErrorKind, Outcome};

use super::eval::{EvalError, Evaluator};
use super::request::{ValidRequest, validate};
use super::value::Value;
use super::*;
use crate::program::*;
use crate::span::Span;
use crate::syntax::ast::PatternPart;

// ---------------------------------------------------------------- fixture

const GROUP: EntityTypeId = EntityTypeId(0);
const USER: EntityTypeId = EntityTypeId(1);
const MODEL: EntityTypeId = EntityTypeId(2);
const LEVEL: EnumId = EnumId(0);

fn field(name: &str, ty: Type, optional: bool) -> Field {
    Field { name: name.into(), ty, optional, docs: None, span: Span::default() }
}

fn entity_type(name: &str, parents: Vec<EntityTypeId>, fields: Vec<Field>) -> EntityType {
    EntityType {
        name: name.into(),
        package: "t".into(),
        parents,
        attrs: Record { fields },
        docs: None,
        span: Span::default(),
    }
}

/// Group {}; User in [Group] { level: Level, mfa: Duration? };
/// Model in [Group] { tier: Level }; infer, embed: User → Model;
/// context { n: Int, m: Int, d: Duration, now: Timestamp, ip: Ip,
/// tags: Set<String>, nums: Set<Int>, name: String, opt: Int?,
/// owner: User? }; obligations log(), quarantine(for: Duration),
/// tag(value: String, n: Int).
fn program(rules: Vec<Rule>, defs: Vec<Def>) -> Program {
    let schema = Schema {
        entities: vec![
            entity_type("Group", vec![], vec![]),
            entity_type(
                "User",
                vec![GROUP],
                vec![field("level", Type::Enum(LEVEL), false), field("mfa", Type::Duration, true)],
            ),
            entity_type("Model", vec![GROUP], vec![field("tier", Type::Enum(LEVEL), false)]),
        ],
        enums: vec![EnumType {
            name: "Level".into(),
            package: "t".into(),
            values: vec!["low".into(), "mid".into(), "high".into()],
            ordered: true,
            docs: None,
            span: Span::default(),
        }],
        actions: ["infer", "embed"]
            .into_iter()
            .map(|name| ActionDecl {
                name: name.into(),
                principals: vec![USER],
                resources: vec![MODEL],
                docs: None,
                span: Span::default(),
            })
            .collect(),
        context: Record {
            fields: vec![
                field("n", Type::INT, false),
                field("m", Type::INT, false),
                field("d", Type::Duration, false),
                field("now", Type::Timestamp, false),
                field("ip", Type::Ip, false),
                field("tags", Type::Set(Box::new(Type::String)), false),
                field("nums", Type::Set(Box::new(Type::INT)), false),
                field("name", Type::String, false),
                field("opt", Type::INT, true),
                field("owner", Type::Entity(vec![USER]), true),
            ],
        },
    };
    let obligation = |name: &str, params: Vec<(&str, Type)>| ObligationDecl {
        name: name.into(),
        params: params.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
        docs: None,
        span: Span::default(),
    };
    let obligations = vec![
        obligation("log", vec![]),
        obligation("quarantine", vec![("for", Type::Duration)]),
        obligation("tag", vec![("value", Type::String), ("n", Type::INT)]),
    ];
    Program { schema, obligations, defs, rules, tests: vec![] }
}

fn request_json(n: i64) -> serde_json::Value {
    json!({
        "principal": {"type": "User", "id": "alice", "attributes": {"level": "mid", "mfa": "5m"},
                      "ancestors": [{"type": "Group", "id": "ml"}, {"type": "Group", "id": "staff"}]},
        "action": "infer",
        "resource": {"type": "Model", "id": "gpt", "attributes": {"tier": "low"}, "ancestors": [{"type": "Group", "id": "public"}]},
        "context": {"n": n, "m": 2, "d": "15m", "now": "2026-01-31T09:30:00Z", "ip": "10.1.2.3",
                    "tags": ["b", "a", "b"], "nums": [3, 1, 2], "name": "gpt-4o", "owner": {"type": "User", "id": "bob"}}
    })
}

fn request(n: i64) -> Request {
    Request::from_value(request_json(n)).expect("request")
}

fn valid(p: &Program, n: i64) -> ValidRequest {
    validate(p, &request(n)).expect("valid request")
}

// ------------------------------------------------------------ expressions

fn x(kind: ExprKind) -> Expr {
    Expr { kind, ty: Type::Bool, span: Span::default() }
}
fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}
fn lit(c: Const) -> Expr {
    x(ExprKind::Const(c))
}
fn int(n: i64) -> Expr {
    lit(Const::Int(n))
}
fn tt() -> Expr {
    lit(Const::Bool(true))
}
fn ff() -> Expr {
    lit(Const::Bool(false))
}
fn str_(s: &str) -> Expr {
    lit(Const::Str(s.into()))
}
fn ctx(name: &str) -> Expr {
    x(ExprKind::Attr(b(x(ExprKind::Context)), name.into()))
}
fn principal() -> Expr {
    x(ExprKind::Principal)
}
fn resource() -> Expr {
    x(ExprKind::Resource)
}
fn attr(base: Expr, name: &str) -> Expr {
    x(ExprKind::Attr(b(base), name.into()))
}
fn has(base: Expr, name: &str) -> Expr {
    x(ExprKind::Has(b(base), name.into()))
}
fn and(l: Expr, r: Expr) -> Expr {
    x(ExprKind::And(b(l), b(r)))
}
fn or(l: Expr, r: Expr) -> Expr {
    x(ExprKind::Or(b(l), b(r)))
}
fn not(e: Expr) -> Expr {
    x(ExprKind::Not(b(e)))
}
fn eq(l: Expr, r: Expr) -> Expr {
    x(ExprKind::Equal { negated: false, left: b(l), right: b(r) })
}
fn ne(l: Expr, r: Expr) -> Expr {
    x(ExprKind::Equal { negated: true, left: b(l), right: b(r) })
}
fn cmp(op: Ordering, l: Expr, r: Expr) -> Expr {
    x(ExprKind::Compare(op, b(l), b(r)))
}
fn arith(op: ArithOp, l: Expr, r: Expr) -> Expr {
    x(ExprKind::Arith(op, b(l), b(r)))
}
fn add(l: Expr, r: Expr) -> Expr {
    arith(ArithOp::Add, l, r)
}
fn gt(l: Expr, r: Expr) -> Expr {
    cmp(Ordering::Gt, l, r)
}
fn var(v: u32) -> Expr {
    x(ExprKind::Var(VarId(v)))
}
fn entity(ty: EntityTypeId, id: &str) -> Expr {
    lit(Const::Entity(EntityLit { ty, id: id.into() }))
}
fn set(elements: Vec<Expr>) -> Expr {
    x(ExprKind::Set(elements))
}
fn ints(ns: &[i64]) -> Expr {
    set(ns.iter().map(|n| int(*n)).collect())
}
fn strs(ss: &[&str]) -> Expr {
    set(ss.iter().map(|s| str_(s)).collect())
}
/// `i64::MAX + 1`: an overflow.
fn boom() -> Expr {
    gt(add(int(i64::MAX), int(1)), int(0))
}

fn eval_in(p: &Program, e: &Expr) -> Result<Value, EvalError> {
    let request = valid(p, 10);
    Evaluator::new(p, &request).eval_closed(e)
}

fn eval(e: &Expr) -> Result<Value, EvalError> {
    eval_in(&program(vec![], vec![]), e)
}

fn truth(e: &Expr) -> bool {
    match eval(e) {
        Ok(Value::Bool(v)) => v,
        other => panic!("not a boolean: {other:?}"),
    }
}

fn is_overflow(r: Result<Value, EvalError>) -> bool {
    matches!(r, Err(EvalError::Overflow(_)))
}

#[test]
fn reads_the_request() {
    assert_eq!(eval(&ctx("n")), Ok(Value::Int(10)));
    assert_eq!(eval(&ctx("d")), Ok(Value::Duration(900_000)));
    assert_eq!(eval(&attr(principal(), "level")), Ok(Value::Enum(LEVEL, 1)));
    assert_eq!(eval(&attr(resource(), "tier")), Ok(Value::Enum(LEVEL, 0)));
    assert_eq!(eval(&eq(principal(), entity(USER, "alice"))), Ok(Value::Bool(true)));
    assert_eq!(eval(&eq(principal(), entity(USER, "bob"))), Ok(Value::Bool(false)));
    assert_eq!(eval(&eq(ctx("owner"), entity(USER, "bob"))), Ok(Value::Bool(true)));
    assert!(truth(&has(principal(), "mfa")));
    assert!(!truth(&has(x(ExprKind::Context), "opt")));
    assert!(truth(&has(x(ExprKind::Context), "owner")));
}

#[test]
fn absent_or_unknowable_attributes_are_errors_not_panics() {
    let r = eval(&ctx("opt"));
    assert!(matches!(r, Err(EvalError::Internal(ErrorKind::MissingAttribute, _))), "{r:?}");
    // Entity-typed attribute values are references: the request carries no
    // attributes for them.
    let r = eval(&attr(ctx("owner"), "level"));
    assert!(matches!(r, Err(EvalError::Internal(ErrorKind::MissingAttribute, _))), "{r:?}");
    let r = eval(&has(entity(USER, "alice"), "mfa"));
    assert!(matches!(r, Err(EvalError::Internal(..))), "{r:?}");
    // Values of the wrong kind, unbound variables, unknown functions.
    for e in [
        attr(int(1), "x"),
        add(tt(), int(1)),
        and(int(1), tt()),
        var(99),
        x(ExprKind::Call(DefId(7), vec![])),
        cmp(Ordering::Lt, str_("a"), str_("b")),
        cmp(Ordering::Lt, lit(Const::Enum(LEVEL, 0)), lit(Const::Enum(EnumId(1), 0))),
        x(ExprKind::InHierarchy(b(entity(USER, "alice")), b(entity(GROUP, "ml")))),
        x(ExprKind::InHierarchy(b(principal()), b(ints(&[1])))),
    ] {
        let r = eval(&e);
        assert!(matches!(r, Err(EvalError::Internal(..))), "{e:?}: {r:?}");
    }
}

#[test]
fn boolean_operators_and_conditionals() {
    assert!(truth(&and(tt(), tt())));
    assert!(!truth(&and(tt(), ff())));
    assert!(truth(&or(ff(), tt())));
    assert!(!truth(&or(ff(), ff())));
    assert!(truth(&not(ff())));
    assert_eq!(eval(&x(ExprKind::If(b(tt()), b(int(1)), b(int(2))))), Ok(Value::Int(1)));
    assert_eq!(eval(&x(ExprKind::If(b(ff()), b(int(1)), b(int(2))))), Ok(Value::Int(2)));
    let let_ = x(ExprKind::Let(VarId(0), b(ctx("n")), b(add(var(0), var(0)))));
    assert_eq!(eval(&let_), Ok(Value::Int(20)));
    // Shadowing: the innermost binding wins, the outer one returns after.
    let inner = x(ExprKind::Let(VarId(0), b(int(1)), b(var(0))));
    let outer = x(ExprKind::Let(VarId(0), b(int(5)), b(add(inner, var(0)))));
    assert_eq!(eval(&outer), Ok(Value::Int(6)));
}

#[test]
fn short_circuit_skips_errors() {
    assert!(!truth(&and(ff(), boom())));
    assert!(truth(&or(tt(), boom())));
    assert_eq!(eval(&x(ExprKind::If(b(tt()), b(int(1)), b(boom())))), Ok(Value::Int(1)));
    assert!(is_overflow(eval(&and(tt(), boom()))));
    assert!(is_overflow(eval(&or(ff(), boom()))));
    assert!(is_overflow(eval(&and(boom(), ff()))), "the left operand always runs");
    // Strict operators evaluate both sides.
    assert!(is_overflow(eval(&eq(ff(), boom()))));
    assert!(is_overflow(eval(&x(ExprKind::Let(VarId(0), b(boom()), b(tt()))))), "let is strict");
}

#[test]
fn checked_arithmetic() {
    use ArithOp::*;
    let ok = |e: Expr, v: Value| assert_eq!(eval(&e), Ok(v));
    ok(add(int(2), int(3)), Value::Int(5));
    ok(arith(Sub, int(2), int(3)), Value::Int(-1));
    ok(arith(Mul, int(-4), int(3)), Value::Int(-12));
    ok(x(ExprKind::Neg(b(int(i64::MAX)))), Value::Int(-i64::MAX));
    ok(add(lit(Const::Duration(1)), lit(Const::Duration(2))), Value::Duration(3));
    ok(arith(Sub, lit(Const::Timestamp(10)), lit(Const::Duration(3))), Value::Timestamp(7));
    ok(add(lit(Const::Timestamp(10)), lit(Const::Duration(3))), Value::Timestamp(13));
    ok(arith(Sub, lit(Const::Timestamp(10)), lit(Const::Timestamp(30))), Value::Duration(-20));
    ok(x(ExprKind::Neg(b(lit(Const::Duration(5))))), Value::Duration(-5));
    for e in [
        add(int(i64::MAX), int(1)),
        arith(Sub, int(i64::MIN), int(1)),
        arith(Mul, int(i64::MAX), int(2)),
        arith(Mul, int(i64::MIN), int(-1)),
        x(ExprKind::Neg(b(int(i64::MIN)))),
        x(ExprKind::Neg(b(lit(Const::Duration(i64::MIN))))),
        add(lit(Const::Duration(i64::MAX)), lit(Const::Duration(1))),
        arith(Sub, lit(Const::Duration(i64::MIN)), lit(Const::Duration(1))),
        add(lit(Const::Timestamp(i64::MAX)), lit(Const::Duration(1))),
        arith(Sub, lit(Const::Timestamp(i64::MIN)), lit(Const::Duration(1))),
        arith(Sub, lit(Const::Timestamp(i64::MAX)), lit(Const::Timestamp(-1))),
    ] {
        assert!(is_overflow(eval(&e)), "{e:?}");
    }
    // Wrong combinations are internal errors, not silently computed.
    assert!(matches!(
        eval(&arith(Mul, lit(Const::Duration(1)), lit(Const::Duration(2)))),
        Err(EvalError::Internal(..))
    ));
    assert!(matches!(eval(&add(lit(Const::Timestamp(1)), lit(Const::Timestamp(2)))), Err(EvalError::Internal(..))));
}

#[test]
fn comparisons_and_equality() {
    use Ordering::*;
    assert!(truth(&cmp(Lt, int(1), int(2))));
    assert!(truth(&cmp(Le, int(2), int(2))));
    assert!(!truth(&cmp(Gt, int(2), int(2))));
    assert!(truth(&cmp(Ge, int(2), int(2))));
    assert!(truth(&cmp(Gt, lit(Const::Duration(60_000)), lit(Const::Duration(59_999)))));
    assert!(truth(&cmp(Lt, lit(Const::Timestamp(-5)), lit(Const::Timestamp(0)))));
    assert!(truth(&cmp(Ge, lit(Const::TimeOfDay(1)), lit(Const::TimeOfDay(1)))));
    // Levels order by declaration: low < mid < high.
    assert!(truth(&cmp(Ge, attr(principal(), "level"), attr(resource(), "tier"))));
    assert!(!truth(&cmp(Gt, attr(principal(), "level"), lit(Const::Enum(LEVEL, 2)))));
    // Equality is structural; sets compare as sets.
    assert!(truth(&eq(ctx("tags"), strs(&["a", "b"]))));
    assert!(truth(&eq(ctx("tags"), strs(&["b", "a", "a"]))));
    assert!(truth(&ne(ctx("tags"), strs(&["a"]))));
    assert!(truth(&eq(str_("x"), str_("x"))));
    assert!(!truth(&eq(str_("x"), str_("X"))));
    assert!(truth(&ne(entity(USER, "a"), entity(GROUP, "a"))));
    let record = |v: bool| {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("managed".to_owned(), Value::Bool(v));
        Value::Record(fields)
    };
    assert_eq!(record(true), record(true));
    assert_ne!(record(true), record(false));
}

#[test]
fn hierarchy_membership() {
    let within = |entity: Expr, target: Expr| truth(&x(ExprKind::InHierarchy(b(entity), b(target))));
    assert!(within(principal(), entity(GROUP, "ml")));
    assert!(within(principal(), entity(GROUP, "staff")));
    assert!(within(principal(), entity(USER, "alice")), "an entity is in itself");
    assert!(!within(principal(), entity(GROUP, "public")));
    assert!(!within(principal(), entity(USER, "ml")), "type and id both count");
    assert!(within(resource(), set(vec![entity(GROUP, "ml"), entity(GROUP, "public")])));
    assert!(!within(resource(), set(vec![entity(GROUP, "ml"), entity(GROUP, "staff")])));
    assert!(within(resource(), set(vec![entity(MODEL, "gpt")])));
}

#[test]
fn set_operations() {
    let s = |e: Expr| eval(&e);
    assert_eq!(s(x(ExprKind::Size(b(ctx("tags"))))), Ok(Value::Int(2)), "distinct elements");
    assert_eq!(s(x(ExprKind::Size(b(ints(&[1, 1, 1]))))), Ok(Value::Int(1)));
    assert!(truth(&x(ExprKind::InSet(b(str_("a")), b(ctx("tags"))))));
    assert!(!truth(&x(ExprKind::InSet(b(str_("c")), b(ctx("tags"))))));
    assert!(truth(&x(ExprKind::ContainsAll(b(ctx("tags")), b(strs(&["a", "b", "a"]))))));
    assert!(!truth(&x(ExprKind::ContainsAll(b(ctx("tags")), b(strs(&["a", "c"]))))));
    assert!(truth(&x(ExprKind::ContainsAny(b(ctx("tags")), b(strs(&["c", "b"]))))));
    assert!(!truth(&x(ExprKind::ContainsAny(b(ctx("tags")), b(strs(&["c", "d"]))))));
    assert!(!truth(&x(ExprKind::IsEmpty(b(ctx("tags"))))));
    assert!(truth(&x(ExprKind::IsEmpty(b(lit(Const::Set(vec![])))))));
    // Sets of entities: equality by type and id.
    assert!(truth(&x(ExprKind::InSet(b(ctx("owner")), b(set(vec![entity(USER, "bob")]))))));
    assert!(!truth(&x(ExprKind::InSet(b(ctx("owner")), b(set(vec![entity(GROUP, "bob")]))))));
}

fn quantifier(all: bool, set: Expr, body: Expr) -> Expr {
    x(ExprKind::Quantifier { all, var: VarId(0), set: b(set), body: b(body) })
}

#[test]
fn quantifiers() {
    let positive = gt(var(0), int(0));
    assert!(truth(&quantifier(true, ctx("nums"), positive.clone())));
    assert!(truth(&quantifier(false, ctx("nums"), eq(var(0), int(2)))));
    assert!(!truth(&quantifier(false, ctx("nums"), eq(var(0), int(9)))));
    assert!(!truth(&quantifier(true, ctx("nums"), gt(var(0), int(1)))));
    let empty = lit(Const::Set(vec![]));
    assert!(truth(&quantifier(true, empty.clone(), ff())), "all over nothing");
    assert!(!truth(&quantifier(false, empty.clone(), tt())), "any over nothing");
    assert_eq!(eval(&quantifier(true, empty, boom())), Ok(Value::Bool(true)));
    // The condition is evaluated for every element: an overflow on any
    // element is an error, even when another element already decides.
    let overflow_on_max = gt(add(var(0), int(1)), int(0));
    let with_max = ints(&[i64::MAX, 1]);
    assert!(is_overflow(eval(&quantifier(false, with_max.clone(), overflow_on_max.clone()))));
    assert!(is_overflow(eval(&quantifier(true, with_max.clone(), overflow_on_max.clone()))));
    let with_min = ints(&[i64::MIN, 5]);
    let overflow_on_min = gt(arith(ArithOp::Sub, var(0), int(1)), int(0));
    assert!(is_overflow(eval(&quantifier(false, with_min.clone(), overflow_on_min.clone()))));
    // Without a failing element, `all` is false as soon as one is false.
    let small = cmp(Ordering::Lt, var(0), int(3));
    assert_eq!(eval(&quantifier(true, ints(&[7, 5, 1]), small)), Ok(Value::Bool(false)));
    // The bound variable is visible in nested scopes and gone afterwards.
    let nested = and(quantifier(true, ctx("nums"), tt()), eq(var(0), int(1)));
    assert!(matches!(eval(&nested), Err(EvalError::Internal(..))));
}

#[test]
fn strings_and_patterns() {
    let op = |op: StrOp, s: &str, a: &str| truth(&x(ExprKind::StrOp(op, b(str_(s)), b(str_(a)))));
    assert!(op(StrOp::StartsWith, "gpt-4o", "gpt-"));
    assert!(!op(StrOp::StartsWith, "gpt-4o", "4o"));
    assert!(op(StrOp::EndsWith, "gpt-4o", "4o"));
    assert!(op(StrOp::Contains, "gpt-4o", "t-4"));
    assert!(op(StrOp::Contains, "gpt-4o", ""));
    assert!(!op(StrOp::Contains, "gpt-4o", "T-4"));
    let like = |parts: Vec<PatternPart>| truth(&x(ExprKind::Like(b(ctx("name")), parts)));
    assert!(like(vec![PatternPart::Literal("gpt-".into()), PatternPart::Wildcard]));
    assert!(!like(vec![PatternPart::Literal("gpt-".into())]));
    assert!(like(vec![PatternPart::Wildcard, PatternPart::Literal("4".into()), PatternPart::Wildcard]));
}

#[test]
fn addresses_and_times() {
    let range = |text: &str| lit(Const::Cidr(ward_types::values::parse_cidr(text).expect("cidr")));
    assert!(truth(&x(ExprKind::InRange(b(ctx("ip")), b(range("10.0.0.0/8"))))));
    assert!(!truth(&x(ExprKind::InRange(b(ctx("ip")), b(range("10.2.0.0/16"))))));
    assert!(!truth(&x(ExprKind::InRange(b(ctx("ip")), b(range("::/0"))))));
    let ip: IpAddr = "10.1.2.3".parse().expect("ip");
    assert!(truth(&eq(ctx("ip"), lit(Const::Ip(ip)))));
    assert_eq!(eval(&x(ExprKind::TimeOfDay(b(ctx("now"))))), Ok(Value::TimeOfDay(34_200_000)));
    // Before the epoch: still the UTC time of day, never negative.
    assert_eq!(eval(&x(ExprKind::TimeOfDay(b(lit(Const::Timestamp(-1_000)))))), Ok(Value::TimeOfDay(86_399_000)));
    assert_eq!(
        eval(&x(ExprKind::TimeOfDay(b(lit(Const::Timestamp(i64::MIN)))))),
        Ok(Value::TimeOfDay(i64::MIN.rem_euclid(86_400_000)))
    );
}

fn def(params: Vec<u32>, body: Expr) -> Def {
    Def {
        name: "t.f".into(),
        params: params.into_iter().map(|v| (VarId(v), Type::INT)).collect(),
        ret: Type::Bool,
        body,
        docs: None,
        span: Span::default(),
    }
}

#[test]
fn calls_bind_parameters_in_a_closed_frame() {
    // def f(a, b) = a - b (VarIds 10, 11)
    let defs = vec![def(vec![10, 11], arith(ArithOp::Sub, var(10), var(11))), def(vec![12], var(0))];
    let p = program(vec![], defs);
    let call = |id: u32, args: Vec<Expr>| x(ExprKind::Call(DefId(id), args));
    assert_eq!(eval_in(&p, &call(0, vec![ctx("n"), int(3)])), Ok(Value::Int(7)));
    // Arguments are evaluated in the caller's scope.
    let let_ = x(ExprKind::Let(VarId(0), b(int(4)), b(call(0, vec![var(0), var(0)]))));
    assert_eq!(eval_in(&p, &let_), Ok(Value::Int(0)));
    // The body does not see the caller's variables.
    let leaky = x(ExprKind::Let(VarId(0), b(int(4)), b(call(1, vec![int(1)]))));
    assert!(matches!(eval_in(&p, &leaky), Err(EvalError::Internal(..))));
    assert!(is_overflow(eval_in(&p, &call(0, vec![int(i64::MIN), int(1)]))));
    assert!(is_overflow(eval_in(&p, &call(0, vec![boom(), int(1)]))));
    assert!(matches!(eval_in(&p, &call(0, vec![int(1)])), Err(EvalError::Internal(..))), "arity");
}

// ------------------------------------------------------------------ rules

fn rule(id: &str, effect: Effect, conditions: Vec<(bool, Expr)>) -> Rule {
    Rule {
        id: id.into(),
        reason: None,
        effect,
        annotations: Default::default(),
        scope: RuleScope::default(),
        conditions,
        obligations: vec![],
        span: Span::default(),
    }
}
fn permit(id: &str, conditions: Vec<(bool, Expr)>) -> Rule {
    rule(id, Effect::Permit, conditions)
}
fn forbid(id: &str, conditions: Vec<(bool, Expr)>) -> Rule {
    rule(id, Effect::Forbid, conditions)
}
fn reason(mut r: Rule, text: &str) -> Rule {
    r.reason = Some(text.into());
    r
}
fn obligate(mut r: Rule, uses: Vec<(u32, Vec<Const>)>) -> Rule {
    r.obligations = uses.into_iter().map(|(o, args)| ObligationUse { obligation: ObligationId(o), args }).collect();
    r
}
fn with_scope(mut r: Rule, scope: RuleScope) -> Rule {
    r.scope = scope;
    r
}

fn decide_n(rules: Vec<Rule>, n: i64) -> Decision {
    decide(&program(rules, vec![]), &request(n))
}

fn when(e: Expr) -> (bool, Expr) {
    (true, e)
}
fn unless(e: Expr) -> (bool, Expr) {
    (false, e)
}

#[test]
fn clauses_when_and_unless() {
    let d = |conds: Vec<(bool, Expr)>| decide_n(vec![permit("P", conds)], 10).decision;
    assert_eq!(d(vec![]), Outcome::Allow);
    assert_eq!(d(vec![when(tt()), when(tt())]), Outcome::Allow);
    assert_eq!(d(vec![when(tt()), when(ff())]), Outcome::Deny);
    assert_eq!(d(vec![unless(ff())]), Outcome::Allow);
    assert_eq!(d(vec![unless(tt())]), Outcome::Deny);
    assert_eq!(d(vec![when(tt()), unless(ff()), when(gt(ctx("n"), int(5)))]), Outcome::Allow);
    // Clauses stop at the first that decides.
    assert_eq!(decide_n(vec![permit("P", vec![when(ff()), when(boom())])], 0).errors, vec![]);
    assert_eq!(decide_n(vec![permit("P", vec![unless(tt()), when(boom())])], 0).errors, vec![]);
    assert_eq!(decide_n(vec![permit("P", vec![when(tt()), when(boom())])], 0).errors.len(), 1);
}

#[test]
fn scope_matching() {
    let lit = |ty, id: &str| EntityLit { ty, id: id.into() };
    let scope = |principal: EntityScope, actions: Option<Vec<ActionId>>, resource: EntityScope| RuleScope {
        principal,
        actions,
        resource,
    };
    let any = EntityScope::default;
    let typed = |ts: Vec<EntityTypeId>| EntityScope { types: Some(ts), ..EntityScope::default() };
    let is = |l: EntityLit| EntityScope { eq: Some(l), ..EntityScope::default() };
    let within = |ls: Vec<EntityLit>| EntityScope { within: Some(ls), ..EntityScope::default() };
    let allows = |s: RuleScope| decide_n(vec![with_scope(permit("P", vec![]), s)], 0).is_allow();
    assert!(allows(scope(any(), None, any())));
    assert!(allows(scope(typed(vec![USER]), Some(vec![ActionId(0)]), typed(vec![MODEL]))));
    assert!(!allows(scope(typed(vec![GROUP, MODEL]), None, any())));
    assert!(!allows(scope(any(), Some(vec![ActionId(1)]), any())));
    assert!(allows(scope(any(), Some(vec![ActionId(1), ActionId(0)]), any())));
    assert!(allows(scope(is(lit(USER, "alice")), None, is(lit(MODEL, "gpt")))));
    assert!(!allows(scope(is(lit(USER, "bob")), None, any())));
    assert!(!allows(scope(is(lit(GROUP, "alice")), None, any())));
    assert!(allows(scope(within(vec![lit(GROUP, "staff")]), None, any())));
    assert!(allows(scope(within(vec![lit(USER, "alice")]), None, any())), "in itself");
    assert!(allows(scope(within(vec![lit(GROUP, "x"), lit(GROUP, "ml")]), None, within(vec![lit(GROUP, "public")]))));
    assert!(!allows(scope(any(), None, within(vec![lit(GROUP, "ml")]))));
    let mut both = typed(vec![USER]);
    both.within = Some(vec![lit(GROUP, "ml")]);
    assert!(allows(scope(both.clone(), None, any())));
    both.types = Some(vec![GROUP]);
    assert!(!allows(scope(both, None, any())));
    // A rule whose scope does not match is not evaluated at all.
    let out_of_scope = with_scope(permit("P", vec![when(boom())]), scope(any(), Some(vec![ActionId(1)]), any()));
    assert_eq!(decide_n(vec![out_of_scope], 0), Decision::fail_closed(vec![]));
}

#[test]
fn default_deny_and_deny_overrides() {
    let empty = decide_n(vec![], 0);
    assert_eq!(empty, Decision::fail_closed(vec![]));
    let d = decide_n(vec![permit("P1", vec![]), permit("P2", vec![when(ff())])], 0);
    assert_eq!((d.decision, d.rules), (Outcome::Allow, vec!["P1".to_owned()]));
    let d = decide_n(vec![forbid("F1", vec![]), permit("P1", vec![]), forbid("F0", vec![])], 0);
    assert_eq!((d.decision, d.rules), (Outcome::Deny, vec!["F0".to_owned(), "F1".to_owned()]));
    let d = decide_n(vec![forbid("F1", vec![when(ff())]), permit("P1", vec![])], 0);
    assert!(d.is_allow());
    let d = decide_n(vec![forbid("F1", vec![])], 0);
    assert_eq!((d.decision, d.rules), (Outcome::Deny, vec!["F1".to_owned()]));
}

#[test]
fn overflow_fails_closed_naming_every_failing_rule() {
    let rules = vec![
        obligate(permit("P-ok", vec![]), vec![(0, vec![])]),
        permit("P-bad", vec![when(boom())]),
        forbid("F-bad", vec![when(tt()), unless(boom())]),
        forbid("F-false", vec![when(ff()), when(boom())]),
    ];
    let d = decide_n(rules, 0);
    assert_eq!(d.decision, Outcome::Deny);
    assert!(d.rules.is_empty() && d.reasons.is_empty() && d.obligations.is_empty());
    let errors: Vec<(ErrorKind, Option<&str>, Option<&str>)> =
        d.errors.iter().map(|e| (e.kind, e.path.as_deref(), e.rule.as_deref())).collect();
    assert_eq!(errors, vec![(ErrorKind::Overflow, None, Some("F-bad")), (ErrorKind::Overflow, None, Some("P-bad"))]);
    assert!(d.errors[0].message == "integer overflow", "{}", d.errors[0].message);
    // Even an applicable forbid does not hide another rule's error.
    let d = decide_n(vec![forbid("F", vec![]), permit("P", vec![when(boom())])], 0);
    assert_eq!(d.rules, Vec::<String>::new());
    assert_eq!(d.errors.len(), 1);
    // Data-dependent: only requests that overflow fail.
    let rules = || vec![permit("P", vec![when(gt(arith(ArithOp::Mul, ctx("n"), int(4)), int(0)))])];
    assert!(decide_n(rules(), 1).is_allow());
    assert_eq!(decide_n(rules(), i64::MAX / 2).errors.len(), 1);
}

#[test]
fn absent_attribute_read_fails_closed() {
    let d = decide_n(vec![permit("P", vec![when(gt(ctx("opt"), int(0)))])], 0);
    assert_eq!(d.decision, Outcome::Deny);
    assert_eq!(d.errors.len(), 1);
    assert_eq!((d.errors[0].kind, d.errors[0].rule.as_deref()), (ErrorKind::MissingAttribute, Some("P")));
    // Guarded, it is fine.
    let guarded = and(has(x(ExprKind::Context), "opt"), gt(ctx("opt"), int(0)));
    assert_eq!(decide_n(vec![permit("P", vec![when(guarded)])], 0), Decision::fail_closed(vec![]));
}

#[test]
fn invalid_requests_fail_closed_before_any_rule() {
    let p = program(vec![permit("P", vec![])], vec![]);
    let mut r = request_json(0);
    r["context"]["n"] = json!("ten");
    let d = decide_json(&p, r.to_string().as_bytes());
    assert_eq!(d.decision, Outcome::Deny);
    assert!(d.rules.is_empty() && d.obligations.is_empty());
    assert_eq!(d.errors.len(), 1);
    assert_eq!((d.errors[0].kind, d.errors[0].path.as_deref()), (ErrorKind::WrongType, Some("context.n")));
    let d = decide_json(&p, b"{\"principal\": 1}");
    assert_eq!(d.errors.len(), 1);
    assert_eq!(d.errors[0].kind, ErrorKind::MalformedRequest);
    assert!(!d.is_allow());
}

#[test]
fn reasons_follow_the_sorted_ids() {
    let rules = vec![
        reason(forbid("Z", vec![]), "z reason"),
        forbid("M", vec![]),
        reason(forbid("A", vec![]), "a reason"),
        reason(permit("P", vec![]), "not determining"),
    ];
    let d = decide_n(rules, 0);
    assert_eq!(d.rules, vec!["A", "M", "Z"]);
    assert_eq!(d.reasons, vec!["a reason", "z reason"]);
    // Identical ids: one entry; differing reasons: the least.
    let rules = vec![reason(permit("X", vec![]), "second"), reason(permit("X", vec![]), "first"), permit("X", vec![])];
    let d = decide_n(rules, 0);
    assert_eq!((d.rules, d.reasons), (vec!["X".to_owned()], vec!["first".to_owned()]));
}

fn obligation(name: &str, args: serde_json::Value) -> ward_types::Obligation {
    serde_json::from_value(json!({"name": name, "args": args})).expect("obligation")
}

#[test]
fn obligations_of_the_determining_rules_only() {
    let quarantine = |ms: i64| (1, vec![Const::Duration(ms)]);
    let tag = |s: &str, n: i64| (2, vec![Const::Str(s.into()), Const::Int(n)]);
    let rules = |permit_when: bool, forbid_when: bool, overflow: bool| {
        vec![
            obligate(
                permit("P1", vec![when(lit(Const::Bool(permit_when)))]),
                vec![tag("b", 1), (0, vec![]), tag("a", 10)],
            ),
            obligate(permit("P2", vec![when(lit(Const::Bool(permit_when)))]), vec![(0, vec![]), tag("a", 2)]),
            obligate(permit("P3", vec![when(ff())]), vec![tag("never", 0)]),
            obligate(
                forbid("F1", vec![when(lit(Const::Bool(forbid_when)))]),
                vec![quarantine(900_000), quarantine(60_000)],
            ),
            obligate(forbid("F2", vec![when(lit(Const::Bool(forbid_when)))]), vec![quarantine(60_000)]),
            permit("E", vec![when(if overflow { boom() } else { ff() })]),
        ]
    };
    let allow = decide_n(rules(true, false, false), 0);
    assert!(allow.is_allow());
    assert_eq!(
        allow.obligations,
        vec![
            obligation("log", json!({})),
            obligation("tag", json!({"n": 1, "value": "b"})),
            obligation("tag", json!({"n": 10, "value": "a"})),
            obligation("tag", json!({"n": 2, "value": "a"})),
        ],
        "sorted by name, then arguments by parameter name and compact JSON text; deduplicated"
    );
    let deny = decide_n(rules(true, true, false), 0);
    assert_eq!(deny.rules, vec!["F1", "F2"]);
    assert_eq!(
        deny.obligations,
        vec![obligation("quarantine", json!({"for": "15m"})), obligation("quarantine", json!({"for": "1m"}))]
    );
    assert_eq!(decide_n(rules(false, false, false), 0), Decision::fail_closed(vec![]));
    let failed = decide_n(rules(true, false, true), 0);
    assert!(failed.obligations.is_empty() && failed.rules.is_empty() && !failed.errors.is_empty());
}

#[test]
fn mismatched_obligations_fail_closed() {
    let bad = obligate(permit("P", vec![]), vec![(1, vec![])]);
    let d = decide_n(vec![bad], 0);
    assert_eq!(d.decision, Outcome::Deny);
    assert_eq!(d.errors.len(), 1);
    assert_eq!(d.errors[0].rule.as_deref(), Some("P"));
    let unknown = obligate(permit("P", vec![]), vec![(9, vec![])]);
    assert_eq!(decide_n(vec![unknown], 0).errors.len(), 1);
}

// ------------------------------------------------------------- properties

/// A pool of rules over `context.n`: a few permits and forbids that apply
/// on thresholds, some with obligations and reasons, some that overflow for
/// large `n`.
fn pool() -> Vec<Rule> {
    let n = || ctx("n");
    vec![
        obligate(reason(permit("P-pos", vec![when(gt(n(), int(0)))]), "positive"), vec![(0, vec![])]),
        obligate(
            permit("P-even", vec![when(eq(arith(ArithOp::Mul, int(2), int(0)), int(0))), unless(gt(n(), int(50)))]),
            vec![(1, vec![Const::Duration(1000)])],
        ),
        permit("P-any", vec![]),
        reason(forbid("F-big", vec![when(gt(n(), int(100)))]), "too big"),
        obligate(
            forbid("F-neg", vec![when(cmp(Ordering::Lt, n(), int(-5)))]),
            vec![(2, vec![Const::Str("neg".into()), Const::Int(-1)])],
        ),
        forbid("F-zero", vec![when(eq(n(), int(0)))]),
        permit("P-mul", vec![when(gt(arith(ArithOp::Mul, n(), int(3)), int(30)))]),
        forbid("F-add", vec![when(cmp(Ordering::Lt, add(n(), int(i64::MAX / 2)), int(0)))]),
    ]
}

fn n_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![-10i64..=120, Just(i64::MAX), Just(i64::MIN), Just(i64::MAX / 2), Just(i64::MIN / 2), any::<i64>()]
}

fn subset_strategy() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..pool().len(), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The decision agrees with the definition, rule by rule.
    #[test]
    fn decision_follows_the_definition(picks in subset_strategy(), n in n_strategy()) {
        let pool = pool();
        let rules: Vec<Rule> = picks.iter().map(|i| pool[*i].clone()).collect();
        let p = program(rules.clone(), vec![]);
        let validated = valid(&p, n);
        let evaluator = Evaluator::new(&p, &validated);
        let outcomes: Vec<(&Rule, Result<bool, EvalError>)> = rules.iter().map(|r| (r, evaluator.applies(r))).collect();
        let d = decide(&p, &request(n));
        let failing: std::collections::BTreeSet<&str> = outcomes.iter().filter(|(_, o)| o.is_err()).map(|(r, _)| r.id.as_str()).collect();
        let applicable = |effect: Effect| -> std::collections::BTreeSet<&str> {
            outcomes.iter().filter(|(r, o)| r.effect == effect && *o == Ok(true)).map(|(r, _)| r.id.as_str()).collect()
        };
        let (permits, forbids) = (applicable(Effect::Permit), applicable(Effect::Forbid));
        if !failing.is_empty() {
            prop_assert_eq!(d.decision, Outcome::Deny);
            prop_assert!(d.rules.is_empty() && d.obligations.is_empty() && d.reasons.is_empty());
            let named: std::collections::BTreeSet<&str> = d.errors.iter().filter_map(|e| e.rule.as_deref()).collect();
            prop_assert_eq!(named, failing);
            prop_assert!(d.errors.iter().all(|e| e.kind == ErrorKind::Overflow));
        } else if !forbids.is_empty() {
            // Forbid wins over permit.
            prop_assert_eq!(d.decision, Outcome::Deny);
            prop_assert_eq!(d.rules.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), forbids);
        } else if !permits.is_empty() {
            prop_assert_eq!(d.decision, Outcome::Allow);
            prop_assert_eq!(d.rules.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), permits);
        } else {
            // No permit, no allow.
            prop_assert_eq!(d, Decision::fail_closed(vec![]));
        }
    }

    /// Permuting and repeating rules (same ids) changes nothing.
    #[test]
    fn order_and_duplicates_do_not_matter(picks in subset_strategy(), n in n_strategy(), seed in any::<u64>(), dups in proptest::collection::vec(0usize..8, 0..4)) {
        let pool = pool();
        let rules: Vec<Rule> = picks.iter().map(|i| pool[*i].clone()).collect();
        let mut shuffled = rules.clone();
        for d in &dups {
            if let Some(r) = rules.get(*d % rules.len().max(1)) {
                shuffled.push(r.clone());
            }
        }
        // A deterministic shuffle from the seed.
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(decide_n(rules, n), decide_n(shuffled, n));
    }

    /// A copy of a rule under a fresh id changes only the listed ids (and
    /// the errors that name them).
    #[test]
    fn fresh_id_copies_only_add_their_id(picks in subset_strategy(), n in n_strategy(), which in 0usize..8) {
        let pool = pool();
        let rules: Vec<Rule> = picks.iter().map(|i| pool[*i].clone()).collect();
        prop_assume!(!rules.is_empty());
        let original = rules[which % rules.len()].clone();
        let mut copy = original.clone();
        copy.id = format!("{}-copy", original.id);
        let before = decide_n(rules.clone(), n);
        let mut more = rules;
        more.push(copy.clone());
        let after = decide_n(more, n);
        prop_assert_eq!(before.decision, after.decision);
        prop_assert_eq!(&before.obligations, &after.obligations);
        let strip = |ids: &[String]| ids.iter().filter(|id| **id != copy.id).cloned().collect::<Vec<_>>();
        prop_assert_eq!(strip(&after.rules), before.rules.clone());
        prop_assert_eq!(after.rules.contains(&copy.id), before.rules.contains(&original.id));
        let names = |d: &Decision| d.errors.iter().filter_map(|e| e.rule.clone()).filter(|id| *id != copy.id).collect::<Vec<_>>();
        prop_assert_eq!(names(&before), names(&after));
    }
}
