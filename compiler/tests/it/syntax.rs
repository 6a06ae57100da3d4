//! Integration tests: syntax — the printer, property tests of the lexer,
//! parser and printer, the repository's `.ward` files, and the diagnostic
//! snapshot corpus (`tests/corpus/diagnostics/`).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path as FsPath, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ward_compiler::span::{FileId, SourceFile, Span};
use ward_compiler::syntax::ast::*;
use ward_compiler::syntax::lexer::{self, KEYWORDS};
use ward_compiler::syntax::parser;
use ward_compiler::syntax::print::{print_expr, print_file};

// ------------------------------------------------------------------ helpers

/// Sets every span in a tree to the default, so that trees can be compared
/// structurally. Destructures exhaustively: a new field is a compile error
/// here rather than a silently ignored difference.
pub(crate) trait Erase {
    fn erase(&mut self);
}

impl<T: Erase> Erase for Vec<T> {
    fn erase(&mut self) {
        self.iter_mut().for_each(Erase::erase);
    }
}

impl<T: Erase> Erase for Option<T> {
    fn erase(&mut self) {
        if let Some(x) = self {
            x.erase();
        }
    }
}

impl<T: Erase> Erase for Box<T> {
    fn erase(&mut self) {
        (**self).erase();
    }
}

impl Erase for Span {
    fn erase(&mut self) {
        *self = Span::default();
    }
}

impl Erase for Ident {
    fn erase(&mut self) {
        let Ident { name: _, span } = self;
        span.erase();
    }
}

impl Erase for Path {
    fn erase(&mut self) {
        let Path { segments, span } = self;
        segments.erase();
        span.erase();
    }
}

impl Erase for StrLit {
    fn erase(&mut self) {
        let StrLit { value: _, span } = self;
        span.erase();
    }
}

impl Erase for File {
    fn erase(&mut self) {
        let File { package, imports, items } = self;
        package.erase();
        imports.erase();
        items.erase();
    }
}

impl Erase for Import {
    fn erase(&mut self) {
        let Import { package, names, alias, span } = self;
        package.erase();
        names.erase();
        alias.erase();
        span.erase();
    }
}

impl Erase for Item {
    fn erase(&mut self) {
        match self {
            Item::Entity(EntityDecl { docs: _, name, parents, attrs, span }) => {
                name.erase();
                parents.erase();
                attrs.erase();
                span.erase();
            }
            Item::Enum(EnumDecl { docs: _, name, values, span })
            | Item::Level(LevelDecl { docs: _, name, values, span }) => {
                name.erase();
                values.erase();
                span.erase();
            }
            Item::Type(TypeDecl { docs: _, name, ty, span }) => {
                name.erase();
                ty.erase();
                span.erase();
            }
            Item::Action(ActionDecl { docs: _, names, principals, resources, span }) => {
                names.erase();
                principals.erase();
                resources.erase();
                span.erase();
            }
            Item::Context(ContextDecl { docs: _, attrs, span }) => {
                attrs.erase();
                span.erase();
            }
            Item::Obligation(ObligationDecl { docs: _, name, params, span }) => {
                name.erase();
                params.erase();
                span.erase();
            }
            Item::Def(DefDecl { docs: _, name, params, ret, body, span }) => {
                name.erase();
                params.erase();
                ret.erase();
                body.erase();
                span.erase();
            }
            Item::Rule(Rule { docs: _, annotations, effect: _, effect_span, scope, conditions, obligations, span }) => {
                annotations.erase();
                effect_span.erase();
                scope.erase();
                conditions.erase();
                obligations.erase();
                span.erase();
            }
            Item::Test(TestDecl { docs: _, name, fields, span }) => {
                name.erase();
                fields.erase();
                span.erase();
            }
            Item::Fixture(FixtureDecl { docs: _, name, value, span }) => {
                name.erase();
                value.erase();
                span.erase();
            }
            Item::Error(span) => span.erase(),
        }
    }
}

impl Erase for DataField {
    fn erase(&mut self) {
        let DataField { name, value } = self;
        name.erase();
        value.erase();
    }
}

impl Erase for Data {
    fn erase(&mut self) {
        let Data { kind, span } = self;
        span.erase();
        match kind {
            DataKind::Bool(_) | DataKind::Int(_) | DataKind::Duration(_) | DataKind::Str(_) | DataKind::Error => {}
            DataKind::Name(p) => p.erase(),
            DataKind::Entity { ty, id, attrs, parents } => {
                ty.erase();
                id.erase();
                attrs.erase();
                for (ty, id) in parents {
                    ty.erase();
                    id.erase();
                }
            }
            DataKind::Call(name, args) => {
                name.erase();
                args.erase();
            }
            DataKind::Set(items) => items.erase(),
            DataKind::Record(fields) => fields.erase(),
            DataKind::With(base, updates) => {
                base.erase();
                for DataUpdate { path, value } in updates {
                    path.erase();
                    value.erase();
                }
            }
            DataKind::Without(base, paths) => {
                base.erase();
                paths.iter_mut().for_each(|p| p.erase());
            }
        }
    }
}

impl Erase for AttrDecl {
    fn erase(&mut self) {
        let AttrDecl { docs: _, name, ty, optional: _, span } = self;
        name.erase();
        ty.erase();
        span.erase();
    }
}

impl Erase for Param {
    fn erase(&mut self) {
        let Param { name, ty, span } = self;
        name.erase();
        ty.erase();
        span.erase();
    }
}

impl Erase for TypeExpr {
    fn erase(&mut self) {
        match self {
            TypeExpr::Named(p) => p.erase(),
            TypeExpr::IntRange { lo: _, hi: _, span } | TypeExpr::Error(span) => span.erase(),
            TypeExpr::Set(t, span) => {
                t.erase();
                span.erase();
            }
            TypeExpr::Record(fields, span) => {
                fields.erase();
                span.erase();
            }
        }
    }
}

impl Erase for Annotation {
    fn erase(&mut self) {
        let Annotation { name, value, span } = self;
        name.erase();
        value.erase();
        span.erase();
    }
}

impl Erase for Scope {
    fn erase(&mut self) {
        let Scope { principal, action, resource, span } = self;
        principal.erase();
        action.erase();
        resource.erase();
        span.erase();
    }
}

impl Erase for EntityScope {
    fn erase(&mut self) {
        let EntityScope { ty, constraint, span } = self;
        ty.erase();
        match constraint {
            Some(ScopeConstraint::Eq(e) | ScopeConstraint::In(e)) => e.erase(),
            None => {}
        }
        span.erase();
    }
}

impl Erase for ActionScope {
    fn erase(&mut self) {
        let ActionScope { actions, list: _, span } = self;
        actions.erase();
        span.erase();
    }
}

impl Erase for Condition {
    fn erase(&mut self) {
        let Condition { when: _, expr, span } = self;
        expr.erase();
        span.erase();
    }
}

impl Erase for ObligationCall {
    fn erase(&mut self) {
        let ObligationCall { name, args, span } = self;
        name.erase();
        args.erase();
        span.erase();
    }
}

impl Erase for NamedArg {
    fn erase(&mut self) {
        let NamedArg { name, value } = self;
        name.erase();
        value.erase();
    }
}

impl Erase for Arg {
    fn erase(&mut self) {
        match self {
            Arg::Expr(e) => e.erase(),
            Arg::Lambda(name, body) => {
                name.erase();
                body.erase();
            }
        }
    }
}

impl Erase for Expr {
    fn erase(&mut self) {
        let Expr { kind, span } = self;
        span.erase();
        match kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Name(_)
            | ExprKind::Principal
            | ExprKind::Resource
            | ExprKind::Context
            | ExprKind::Error => {}
            ExprKind::Entity { ty, id: _ } => ty.erase(),
            ExprKind::Set(elems) => elems.erase(),
            ExprKind::Attr(e, name) | ExprKind::Has(e, name) => {
                e.erase();
                name.erase();
            }
            ExprKind::Call { callee, args } => {
                callee.erase();
                args.erase();
            }
            ExprKind::Like(e, Pattern { parts: _, span }) => {
                e.erase();
                span.erase();
            }
            ExprKind::Unary(_, e) => e.erase(),
            ExprKind::Binary(_, a, b) => {
                a.erase();
                b.erase();
            }
            ExprKind::If(c, a, b) => {
                c.erase();
                a.erase();
                b.erase();
            }
            ExprKind::Let(name, value, body) => {
                name.erase();
                value.erase();
                body.erase();
            }
        }
    }
}

pub(crate) fn erased<T: Erase + Clone>(t: &T) -> T {
    let mut t = t.clone();
    t.erase();
    t
}

/// The repository root (the compiler crate's parent).
pub(crate) fn repo_root() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Parses printed text and checks that it gives back `expected` and prints
/// identically again.
fn assert_round_trip(expected: &File, printed: &str) {
    let parsed = parser::parse(FileId(0), printed);
    assert!(parsed.diagnostics.is_empty(), "printed text does not parse:\n{printed}\n{:#?}", parsed.diagnostics);
    let reparsed = erased(&parsed.file);
    assert_eq!(&reparsed, expected, "round trip changed the tree; printed:\n{printed}");
    assert_eq!(print_file(&parsed.file), printed, "printing is not idempotent");
    for line in printed.lines() {
        assert_eq!(line.trim_end(), line, "trailing whitespace in:\n{printed}");
    }
}

fn assert_expr_round_trip(expected: &Expr) {
    let printed = print_expr(expected);
    let (parsed, diagnostics) = parser::parse_expr(FileId(0), &printed);
    assert!(diagnostics.is_empty(), "printed text does not parse:\n{printed}\n{diagnostics:#?}");
    assert_eq!(&erased(&parsed), expected, "round trip changed the tree; printed:\n{printed}");
    assert_eq!(print_expr(&parsed), printed, "printing is not idempotent");
}

fn print_src_expr(src: &str) -> String {
    let (e, diagnostics) = parser::parse_expr(FileId(0), src);
    assert!(diagnostics.is_empty(), "{src}: {diagnostics:#?}");
    print_expr(&e)
}

fn print_src(src: &str) -> String {
    let parsed = parser::parse(FileId(0), src);
    assert!(parsed.diagnostics.is_empty(), "{src}: {:#?}", parsed.diagnostics);
    print_file(&parsed.file)
}

// ------------------------------------------------------------------ printer

#[test]
fn prints_minimal_parentheses() {
    let cases = [
        ("a || b && c", "a || b && c"),
        ("(a || b) && c", "(a || b) && c"),
        ("a || (b || c)", "a || (b || c)"),
        ("(a || b) || c", "a || b || c"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a * (b + c)", "a * (b + c)"),
        ("(a == b) == c", "(a == b) == c"),
        ("a == (b == c)", "a == (b == c)"),
        ("(a has b) has c", "(a has b) has c"),
        ("(a + b) has c", "a + b has c"),
        ("(a < b) like \"x*\"", "(a < b) like \"x*\""),
        ("x in [1, 2]", "x in [1, 2]"),
        ("!(a && b)", "!(a && b)"),
        ("!a.b(c)", "!a.b(c)"),
        ("(a + b).c", "(a + b).c"),
        ("(if a then b else c) || d", "(if a then b else c) || d"),
        ("a || (let x = 1; x)", "a || (let x = 1; x)"),
        ("let x = if a then b else c; let y = x; y", "let x = if a then b else c; let y = x; y"),
        ("f(let x = 1; x, y => y && z)", "f(let x = 1; x, y => y && z)"),
        ("(a || b)::\"id\"", "(a || b)::\"id\""),
        ("data.Group::\"g\"", "data.Group::\"g\""),
    ];
    for (src, want) in cases {
        assert_eq!(print_src_expr(src), want, "{src}");
    }
}

#[test]
fn prints_negative_literals_so_they_read_back() {
    let cases = [
        ("a - -5", "a - -5"),
        ("a - (-5)", "a - -5"),
        ("a * -5", "a * -5"),
        ("-5 * a", "-5 * a"),
        ("- -5", "5"),
        ("-(5)", "-5"),
        ("(-5).x", "(-5).x"),
        ("-5.x", "-5.x"),
        ("- -x", "- -x"),
        ("-(-x)", "- -x"),
        ("!-5", "!-5"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-15m", "-15m"),
        ("(-1h30m).x", "(-1h30m).x"),
        ("90m", "1h30m"),
        ("0ms", "0s"),
        ("1_000", "1000"),
        ("100000000000000000000000d", "8640000000000000000000000000000ms"),
    ];
    for (src, want) in cases {
        assert_eq!(print_src_expr(src), want, "{src}");
        let (e, _) = parser::parse_expr(FileId(0), src);
        assert_expr_round_trip(&erased(&e));
    }
}

#[test]
fn prints_strings_and_patterns_escaped() {
    let cases = [
        (r#""a\"b\\c\n\t\r""#, r#""a\"b\\c\n\t\r""#),
        (r#""\u{1}\u{7f}é*""#, r#""\u{1}\u{7f}é*""#),
        (r#""\*""#, r#""*""#),
        (r#"x like "a*\*b\\""#, r#"x like "a*\*b\\""#),
        (r#"x like "**\u{41}""#, r#"x like "*A""#),
        (r#"x like "\"\n""#, r#"x like "\"\n""#),
    ];
    for (src, want) in cases {
        assert_eq!(print_src_expr(src), want, "{src}");
    }
}

#[test]
fn long_expressions_break_before_operators() {
    let src = "package a\n\npermit (principal, action, resource) when principal.clearance_level_for_models >= resource.classification_of_weights && context.mutual_tls_established || context.break_glass;\n";
    let printed = print_src(src);
    assert_eq!(
        printed,
        "package a\n\npermit (principal, action, resource)\n  when principal.clearance_level_for_models >= resource.classification_of_weights\n      && context.mutual_tls_established\n    || context.break_glass;\n"
    );
    let parsed = parser::parse(FileId(0), src);
    assert_round_trip(&erased(&parsed.file), &printed);
}

#[test]
fn prints_the_sketch_canonically() {
    let src = std::fs::read_to_string(repo_root().join("tests/corpus/parse/sketch.ward")).unwrap();
    insta::assert_snapshot!("sketch_printed", print_src(&src));
}

#[test]
fn prints_every_item_kind() {
    let src = r#"
package acme.ai
import ward.identity as id
import ward.data.{dominates, x} as d
/// Doc.
///
///   indented line
entity Group
entity User in Group { /// c
 c: Int[-5..], device: { /// m
 managed: Bool, p: Int[..3]? }, s: Set<Set<String>> }
enum Empty {}
level L = a
type Rec = { a: { /// deep
 b: Int } }
action a, b { principal: [U, V], resource: R, principal: W }
action c {}
context {}
obligation notify
obligation q(for: Duration, type: String)
def f() -> Bool = let x = 1; x > 0;
@id("x") @flag
forbid (principal == User::"a", action == a, resource: M in [G::"x", G::"y"],)
  obligate notify, q(for: 15m, type: "t");
"#;
    let printed = print_src(src);
    insta::assert_snapshot!("every_item_kind", printed);
    let parsed = parser::parse(FileId(0), src);
    assert_round_trip(&erased(&parsed.file), &printed);
}

#[test]
fn long_constructs_break_readably() {
    let src = r#"
package acme.ai
entity VeryLongEntityTypeName in [FirstParentGroupType, SecondParentGroupType, ThirdParentGroupType] { device: { managed_by_corporate_it: Bool, patch_age_in_days: Int[0..]?, owner: String } }
@id("LONG-001") @reason("a long reason that explains in detail why this rule exists")
permit (principal: VeryLongEntityTypeName in Group::"machine-learning-administrators", action in [infer, embed, fine_tune], resource: Model)
  when let limit = if principal.roles.contains_any(["lead", "manager", "director"]) then 1000 else 100; context.requests_per_minute <= limit
  unless principal.roles.any(role => role.starts_with("suspended-") || role.ends_with("-revoked") || role == "x")
  obligate redact(field: "email", replacement: "[redacted]", reason: "privacy"), notify_security, quarantine(for: 15m);
"#;
    let printed = print_src(src);
    insta::assert_snapshot!("long_constructs", printed);
    let parsed = parser::parse(FileId(0), src);
    assert_round_trip(&erased(&parsed.file), &printed);
    for line in printed.lines() {
        assert!(line.chars().count() <= 100, "line too long: {line}");
    }
}

#[test]
fn prints_error_nodes_visibly() {
    let parsed = parser::parse(
        FileId(0),
        "package a\nentity X { a: , b: Int }\npermit (principal, action, resource) when 1 + ;\n",
    );
    assert!(!parsed.diagnostics.is_empty());
    let printed = print_file(&parsed.file);
    assert!(printed.contains("<error>"), "{printed}");
}

// ------------------------------------------------------------------ generators

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// An identifier that is not a keyword.
fn ident_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["a", "x", "User", "Zone", "corp", "Set", "Int", "_", "_1", "ip"])
            .prop_map(str::to_owned),
        "[A-Za-z_][A-Za-z0-9_]{0,7}".prop_filter("not a keyword", |s| !is_keyword(s)),
        // Long names make lines overflow, so that the layout breaks them.
        "[a-z_]{20,32}",
    ]
}

fn ident() -> impl Strategy<Value = Ident> {
    ident_name().prop_map(|name| Ident { name, span: Span::default() })
}

/// A name where the grammar also accepts keywords (attributes, parameters).
fn any_name() -> impl Strategy<Value = Ident> {
    let soft: Vec<&str> = KEYWORDS.iter().copied().filter(|k| !matches!(*k, "true" | "false")).collect();
    prop_oneof![
        3 => ident_name(),
        1 => prop::sample::select(soft).prop_map(str::to_owned),
    ]
    .prop_map(|name| Ident { name, span: Span::default() })
}

fn path() -> impl Strategy<Value = Path> {
    prop::collection::vec(ident(), 1..=3).prop_map(|segments| Path { segments, span: Span::default() })
}

/// Strings with the characters that need escaping over-represented.
fn string() -> impl Strategy<Value = String> {
    let special =
        prop::sample::select(vec!['"', '\\', '*', '\n', '\t', '\r', '\0', '\u{7f}', '\u{1b}', ' ', 'é', '/', '{', 'u']);
    prop::collection::vec(
        prop_oneof![any::<char>(), special, "[a-z]".prop_map(|s| s.chars().next().unwrap_or('a'))],
        0..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

/// Integers the parser can produce. (`i128::MIN` cannot be written: see
/// `parser_does_not_overflow_on_i128_min`.)
fn int() -> impl Strategy<Value = i128> {
    prop_oneof![
        4 => -1000i128..1000,
        2 => any::<i64>().prop_map(i128::from),
        1 => prop::sample::select(vec![i128::from(i64::MIN), i128::from(i64::MAX), i128::from(i64::MAX) + 1, i128::from(i64::MIN) - 1, i128::MAX, -i128::MAX]),
        1 => (-i128::MAX)..=i128::MAX,
    ]
}

fn docs() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.3,
        prop::collection::vec("[ -~é]{0,12}".prop_map(|l| l.trim_end().to_owned()), 1..=3).prop_map(|ls| ls.join("\n")),
    )
}

fn pattern() -> impl Strategy<Value = Pattern> {
    // `None` is a wildcard. Normalise as the parser does: adjacent literals
    // merge, empty ones vanish, runs of wildcards are one.
    prop::collection::vec(prop::option::weighted(0.6, string()), 0..5).prop_map(|raw| {
        let mut parts: Vec<PatternPart> = Vec::new();
        for part in raw {
            match part {
                None if parts.last() == Some(&PatternPart::Wildcard) => {}
                None => parts.push(PatternPart::Wildcard),
                Some(s) if s.is_empty() => {}
                Some(s) => match parts.last_mut() {
                    Some(PatternPart::Literal(prev)) => prev.push_str(&s),
                    _ => parts.push(PatternPart::Literal(s)),
                },
            }
        }
        Pattern { parts, span: Span::default() }
    })
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn leaf_expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        any::<bool>().prop_map(ExprKind::Bool),
        int().prop_map(ExprKind::Int),
        string().prop_map(ExprKind::Str),
        int().prop_map(ExprKind::Duration),
        ident_name().prop_map(ExprKind::Name),
        Just(ExprKind::Principal),
        Just(ExprKind::Resource),
        Just(ExprKind::Context),
    ]
    .prop_map(e)
}

fn binop() -> impl Strategy<Value = BinOp> {
    use BinOp::*;
    prop::sample::select(vec![Or, And, Eq, Ne, Lt, Le, Gt, Ge, In, Add, Sub, Mul])
}

/// Any expression the parser can produce.
fn expr_strategy(depth: u32, size: u32) -> BoxedStrategy<Expr> {
    leaf_expr()
        .prop_recursive(depth, size, 4, |inner| {
            let arg = prop_oneof![
                3 => inner.clone().prop_map(Arg::Expr),
                1 => (ident(), inner.clone()).prop_map(|(x, b)| Arg::Lambda(x, b)),
            ];
            prop_oneof![
                1 => (inner.clone(), string()).prop_map(|(t, id)| ExprKind::Entity { ty: Box::new(t), id }),
                1 => prop::collection::vec(inner.clone(), 0..4).prop_map(ExprKind::Set),
                1 => (inner.clone(), any_name()).prop_map(|(x, n)| ExprKind::Attr(Box::new(x), n)),
                1 => (inner.clone(), prop::collection::vec(arg, 0..3))
                    .prop_map(|(c, args)| ExprKind::Call { callee: Box::new(c), args }),
                1 => (inner.clone(), any_name()).prop_map(|(x, n)| ExprKind::Has(Box::new(x), n)),
                1 => (inner.clone(), pattern()).prop_map(|(x, p)| ExprKind::Like(Box::new(x), p)),
                // The parser folds `-` on a literal into the literal.
                1 => (any::<bool>(), inner.clone())
                    .prop_map(|(not, x)| match (not, &x.kind) {
                        (false, ExprKind::Int(_) | ExprKind::Duration(_)) => ExprKind::Unary(UnOp::Not, Box::new(x)),
                        (false, _) => ExprKind::Unary(UnOp::Neg, Box::new(x)),
                        (true, _) => ExprKind::Unary(UnOp::Not, Box::new(x)),
                    }),
                3 => (binop(), inner.clone(), inner.clone())
                    .prop_map(|(op, a, b)| ExprKind::Binary(op, Box::new(a), Box::new(b))),
                1 => (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(c, a, b)| ExprKind::If(Box::new(c), Box::new(a), Box::new(b))),
                1 => (ident(), inner.clone(), inner)
                    .prop_map(|(x, v, b)| ExprKind::Let(x, Box::new(v), Box::new(b))),
            ]
            .prop_map(e)
        })
        .boxed()
}

fn expr() -> BoxedStrategy<Expr> {
    expr_strategy(4, 40)
}

fn plain_type() -> BoxedStrategy<TypeExpr> {
    let leaf = prop_oneof![
        3 => path().prop_map(TypeExpr::Named),
        1 => (prop::option::of(int()), prop::option::of(int()))
            .prop_map(|(lo, hi)| TypeExpr::IntRange { lo, hi, span: Span::default() }),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| TypeExpr::Set(Box::new(t), Span::default())),
            prop::collection::vec(attr_with(inner, false), 0..3).prop_map(|fs| TypeExpr::Record(fs, Span::default())),
        ]
    })
    .boxed()
}

fn attr_with(ty: impl Strategy<Value = TypeExpr>, with_docs: bool) -> impl Strategy<Value = AttrDecl> {
    let docs = if with_docs { docs().boxed() } else { Just(None).boxed() };
    (docs, any_name(), ty, any::<bool>()).prop_map(|(docs, name, ty, optional)| AttrDecl {
        docs,
        name,
        ty,
        optional,
        span: Span::default(),
    })
}

/// A type whose records carry doc comments `levels` deep: the parser
/// attaches docs to entity and context attributes and the fields of their
/// record types, and to the fields of a `type` alias's record two deep.
fn type_with_docs(levels: u32) -> BoxedStrategy<TypeExpr> {
    if levels == 0 {
        return plain_type();
    }
    prop_oneof![
        2 => plain_type(),
        1 => prop::collection::vec(attr(levels), 0..3).prop_map(|fs| TypeExpr::Record(fs, Span::default())),
    ]
    .boxed()
}

fn attr(levels: u32) -> BoxedStrategy<AttrDecl> {
    attr_with(type_with_docs(levels.saturating_sub(1)), levels > 0).boxed()
}

fn param() -> impl Strategy<Value = Param> {
    (any_name(), plain_type()).prop_map(|(name, ty)| Param { name, ty, span: Span::default() })
}

fn entity_scope() -> impl Strategy<Value = EntityScope> {
    let constraint = prop::option::of(prop_oneof![
        expr_strategy(2, 6).prop_map(ScopeConstraint::Eq),
        expr_strategy(2, 6).prop_map(ScopeConstraint::In),
    ]);
    (prop::option::of(path()), constraint).prop_map(|(ty, constraint)| EntityScope {
        ty,
        constraint,
        span: Span::default(),
    })
}

fn action_scope() -> impl Strategy<Value = ActionScope> {
    prop_oneof![
        Just((vec![], false)),
        path().prop_map(|p| (vec![p], false)),
        prop::collection::vec(path(), 0..3).prop_map(|ps| (ps, true)),
    ]
    .prop_map(|(actions, list)| ActionScope { actions, list, span: Span::default() })
}

fn rule() -> impl Strategy<Value = Rule> {
    let annotation = (any_name(), prop::option::of(string())).prop_map(|(name, value)| Annotation {
        name,
        value: value.map(|value| StrLit { value, span: Span::default() }),
        span: Span::default(),
    });
    let scope = (entity_scope(), action_scope(), entity_scope()).prop_map(|(principal, action, resource)| Scope {
        principal,
        action,
        resource,
        span: Span::default(),
    });
    let condition = (any::<bool>(), expr()).prop_map(|(when, expr)| Condition { when, expr, span: Span::default() });
    let named_arg = (any_name(), expr_strategy(2, 6)).prop_map(|(name, value)| NamedArg { name, value });
    let call = (path(), prop::collection::vec(named_arg, 0..3)).prop_map(|(name, args)| ObligationCall {
        name,
        args,
        span: Span::default(),
    });
    (
        docs(),
        prop::collection::vec(annotation, 0..3),
        any::<bool>(),
        scope,
        prop::collection::vec(condition, 0..3),
        prop::collection::vec(call, 0..3),
    )
        .prop_map(|(docs, annotations, permit, scope, conditions, obligations)| Rule {
            docs,
            annotations,
            effect: if permit { Effect::Permit } else { Effect::Forbid },
            effect_span: Span::default(),
            scope,
            conditions,
            obligations,
            span: Span::default(),
        })
}

fn item() -> impl Strategy<Value = Item> {
    let s = Span::default();
    prop_oneof![
        1 => (docs(), ident(), prop::collection::vec(path(), 0..3), prop::collection::vec(attr(2), 0..4))
            .prop_map(move |(docs, name, parents, attrs)| Item::Entity(EntityDecl { docs, name, parents, attrs, span: s })),
        1 => (docs(), ident(), prop::collection::vec(ident(), 0..4))
            .prop_map(move |(docs, name, values)| Item::Enum(EnumDecl { docs, name, values, span: s })),
        1 => (docs(), ident(), prop::collection::vec(ident(), 1..4))
            .prop_map(move |(docs, name, values)| Item::Level(LevelDecl { docs, name, values, span: s })),
        1 => (docs(), ident(), type_with_docs(2)).prop_map(move |(docs, name, ty)| Item::Type(TypeDecl { docs, name, ty, span: s })),
        1 => (docs(), prop::collection::vec(ident(), 1..3), prop::collection::vec(path(), 0..3), prop::collection::vec(path(), 0..3))
            .prop_map(move |(docs, names, principals, resources)| Item::Action(ActionDecl {
                docs,
                names,
                principals,
                resources,
                span: s
            })),
        1 => (docs(), prop::collection::vec(attr(2), 0..4)).prop_map(move |(docs, attrs)| Item::Context(ContextDecl { docs, attrs, span: s })),
        1 => (docs(), ident(), prop::collection::vec(param(), 0..3))
            .prop_map(move |(docs, name, params)| Item::Obligation(ObligationDecl { docs, name, params, span: s })),
        1 => (docs(), ident(), prop::collection::vec(param(), 0..3), plain_type(), expr())
            .prop_map(move |(docs, name, params, ret, body)| Item::Def(DefDecl { docs, name, params, ret, body, span: s })),
        3 => rule().prop_map(Item::Rule),
    ]
}

pub(crate) fn file() -> impl Strategy<Value = File> {
    let import = (path(), prop::option::of(prop::collection::vec(ident(), 0..3)), prop::option::of(ident()))
        .prop_map(|(package, names, alias)| Import { package, names, alias, span: Span::default() });
    (prop::option::of(path()), prop::collection::vec(import, 0..3), prop::collection::vec(item(), 0..5))
        .prop_map(|(package, imports, items)| File { package, imports, items })
}

/// Text built from Ward's tokens, good and bad, which reaches deeper into
/// the grammar than arbitrary text.
fn token_soup() -> impl Strategy<Value = String> {
    let mut words: Vec<&'static str> = KEYWORDS.to_vec();
    words.extend([
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ",",
        ";",
        ":",
        "::",
        ".",
        "..",
        "?",
        "@",
        "=",
        "=>",
        "->",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "!",
        "+",
        "-",
        "*",
        "x",
        "User",
        "id",
        "reason",
        "Set",
        "Int",
        "0",
        "42",
        "9223372036854775808",
        "340282366920938463463374607431768211455",
        "99999999999999999999999999999999999999999",
        "15m",
        "1h30m",
        "500ms",
        "0s",
        "12abc",
        "15min",
        "\"s\"",
        "\"a*\\*\"",
        "\"\\q\"",
        "\"\\u{110000}\"",
        "\"open",
        "$",
        "#",
        "//c\n",
        "///d\n",
        "/*c*/",
        "/*",
        "\n",
        "é",
        "\u{0}",
    ]);
    let word = prop::sample::select(words);
    let sep = prop::sample::select(vec![" ", "", "\n"]);
    prop::collection::vec((word, sep), 0..48).prop_map(|ws| ws.into_iter().flat_map(|(w, s)| [w, s]).collect())
}

/// `cases` per property, or `PROPTEST_CASES` when set (for longer runs).
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    ProptestConfig {
        cases,
        // Failures are turned into explicit regression tests in this file.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

fn compile_one(text: &str) -> ward_compiler::Compilation {
    ward_compiler::compile(vec![("fuzz.ward".to_owned(), text.to_owned())])
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn lexer_parser_and_compiler_never_panic_on_arbitrary_text(text in any::<String>()) {
        let _ = lexer::lex(&text);
        let _ = parser::parse(FileId(0), &text);
        let _ = parser::parse_expr(FileId(0), &text);
        let _ = compile_one(&text);
    }

    #[test]
    fn lexer_parser_and_compiler_never_panic_on_token_soup(text in token_soup()) {
        let _ = lexer::lex(&text);
        let parsed = parser::parse(FileId(0), &text);
        let _ = parser::parse_expr(FileId(0), &text);
        let printed = print_file(&parsed.file);
        // The occasional soup that parses cleanly must round-trip too.
        if parsed.diagnostics.is_empty() {
            assert_round_trip(&erased(&parsed.file), &printed);
        }
        let _ = compile_one(&text);
        let package = format!("package fuzz\n{text}");
        let _ = compile_one(&package);
    }

    #[test]
    fn lexer_parser_and_compiler_never_panic_on_printed_trees(f in file()) {
        // Well-formed files exercise the checker beyond the parser.
        let _ = compile_one(&print_file(&f));
    }

    #[test]
    fn printed_files_parse_back_to_the_same_tree(f in file()) {
        assert_round_trip(&f, &print_file(&f));
    }

    #[test]
    fn printed_expressions_parse_back_to_the_same_tree(x in expr_strategy(6, 160)) {
        assert_expr_round_trip(&x);
    }
}

/// Known parser bug: `-(n as i128)` overflows for n = 2^127.
#[test]
fn parser_does_not_overflow_on_i128_min() {
    let _ = parser::parse_expr(FileId(0), "-170141183460469231731687303715884105728");
    let _ = parser::parse(FileId(0), "package a\ntype T = Int[-170141183460469231731687303715884105728..]\n");
}

/// Known parser bug: literals of 2^127 or more wrap around to negative
/// values (`u128 as i128`), so the checker cannot report them as out of range.
#[test]
fn huge_literals_do_not_wrap_to_negative() {
    for src in ["340282366920938463463374607431768211455", "99999999999999999999999999999999999999999d"] {
        let (e, _) = parser::parse_expr(FileId(0), src);
        match e.kind {
            ExprKind::Int(n) | ExprKind::Duration(n) => assert!(n > 0, "{src} parsed as {n}"),
            other => panic!("{src} parsed as {other:?}"),
        }
    }
}

// ------------------------------------------------------------------ repository files

/// Every `.ward` file under these folders of the repository, except the
/// diagnostic corpus, whose files contain errors on purpose.
pub(crate) fn repository_ward_files() -> Vec<PathBuf> {
    fn walk(dir: &FsPath, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "ward") {
                out.push(path);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["tests", "examples", "stdlib", "spec", "runtime"] {
        walk(&root.join(dir), &mut files);
    }
    let skip = root.join("tests/corpus/diagnostics");
    files.retain(|f| !f.starts_with(&skip));
    files.sort();
    files
}

/// Files that announce expected diagnostics with `//~` markers (the checker
/// corpus) may contain syntax errors on purpose; every other file must parse
/// without diagnostics. All files that parse cleanly must round-trip.
#[test]
fn repository_ward_files_parse_and_round_trip() {
    let files = repository_ward_files();
    assert!(!files.is_empty(), "no .ward files found under {}", repo_root().display());
    let mut round_tripped = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = parser::parse(FileId(0), &text);
        if !parsed.diagnostics.is_empty() && text.contains("//~") {
            // Expected errors; the printer must still cope with the tree.
            let _ = print_file(&parsed.file);
            continue;
        }
        assert!(parsed.diagnostics.is_empty(), "{}: {:#?}", path.display(), parsed.diagnostics);
        let printed = print_file(&parsed.file);
        assert_round_trip(&erased(&parsed.file), &printed);
        round_tripped += 1;
    }
    assert!(round_tripped * 2 >= files.len(), "most repository files should round-trip");
}

// ------------------------------------------------------------------ diagnostics corpus

/// Each file of `tests/corpus/diagnostics/` compiled alone; the snapshot
/// shows the source (with line numbers) and the rendered diagnostics.
#[test]
fn diagnostic_corpus() {
    let root = repo_root();
    let dir = root.join("tests/corpus/diagnostics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ward"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let shown_name = format!("tests/corpus/diagnostics/{name}.ward");
        let compilation = ward_compiler::compile(vec![(shown_name.clone(), text.clone())]);
        let rendered = ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false);
        let mut snapshot = format!("--- {shown_name}\n");
        for (i, line) in text.lines().enumerate() {
            let line = format!("{:>3} | {line}", i + 1);
            snapshot.push_str(line.trim_end());
            snapshot.push('\n');
        }
        snapshot.push_str("--- diagnostics\n");
        snapshot.push_str(&rendered);
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("diagnostics", snapshot);
        });
        check_markers(&shown_name, &text);
    }
}

/// `//~ E0010 E0005` at the end of a line (`//~^` for the line above, as in
/// the checker corpus): the diagnostics of the parser (lexical and syntax
/// errors) start exactly on the marked lines, one per marker. Files without markers
/// are not checked.
fn check_markers(name: &str, text: &str) {
    let mut expected: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, rest)) = line.split_once("//~") {
            // `//~^ CODE` points at the line above, as in the checker corpus.
            let (line_no, codes) = match rest.strip_prefix('^') {
                Some(codes) => (i, codes),
                None => (i + 1, rest),
            };
            expected.extend(codes.split_whitespace().map(|c| (line_no, c.to_owned())));
        }
    }
    if expected.is_empty() {
        return;
    }
    // The parser's diagnostics only: what the checker adds on top is in
    // the snapshot.
    let source = SourceFile::new(name, text);
    let mut actual: Vec<(usize, String)> = parser::parse(FileId(0), text)
        .diagnostics
        .iter()
        .map(|d| {
            let (line, _) = source.line_col(d.span().start as usize);
            (line, d.code.as_str().to_owned())
        })
        .collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected, "{name}: syntax diagnostics (line, code) differ from the `//~` markers");
}
