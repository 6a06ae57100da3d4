//! The abstract syntax tree: what the parser builds, with spans and raw
//! names. Broken input becomes `Error` nodes, which later phases skip
//! silently (their diagnostic has already been reported).

use crate::span::Span;

/// An identifier with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A dotted name such as `acme.ai` or `data.Classification`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// The segments, at least one.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, segments joined by `.`.
    pub fn dotted(&self) -> String {
        self.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
    }

    /// The last segment.
    pub fn last(&self) -> &Ident {
        // A path is never empty: the grammar builds it from at least one identifier.
        &self.segments[self.segments.len() - 1]
    }
}

/// A string literal with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The value, escapes resolved.
    pub value: String,
    /// Where it was written, quotes included.
    pub span: Span,
}

/// One parsed `.ward` file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// `package a.b`, if present (the checker requires it).
    pub package: Option<Path>,
    /// Imports, in source order.
    pub imports: Vec<Import>,
    /// Declarations and rules, in source order.
    pub items: Vec<Item>,
}

/// `import a.b`, `import a.b as c`, or `import a.b.{x, y}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The imported package.
    pub package: Path,
    /// `.{x, y}`: names brought into scope unqualified.
    pub names: Option<Vec<Ident>>,
    /// `as alias`: the name the package is known by (default: its last segment).
    pub alias: Option<Ident>,
    /// The whole import.
    pub span: Span,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "items are few, built once per file; boxing would only add indirection")]
pub enum Item {
    /// `entity User in [Group] { ... }`
    Entity(EntityDecl),
    /// `enum Zone { corp, partner }`
    Enum(EnumDecl),
    /// `level Classification = public < internal`
    Level(LevelDecl),
    /// `type Device = { ... }`
    Type(TypeDecl),
    /// `action infer, embed { principal: User, resource: Model }`
    Action(ActionDecl),
    /// `context { ... }`
    Context(ContextDecl),
    /// `obligation redact(field: String)`
    Obligation(ObligationDecl),
    /// `def name(params) -> Type = expr;`
    Def(DefDecl),
    /// `permit (...) when ...;`
    Rule(Rule),
    /// `test "name" { request: ..., expect: allow }`
    Test(TestDecl),
    /// `fixture name = data;`
    Fixture(FixtureDecl),
    /// Input the parser could not make sense of; already reported.
    Error(Span),
}

impl Item {
    /// The item's full span.
    pub fn span(&self) -> Span {
        match self {
            Item::Entity(d) => d.span,
            Item::Enum(d) => d.span,
            Item::Level(d) => d.span,
            Item::Type(d) => d.span,
            Item::Action(d) => d.span,
            Item::Context(d) => d.span,
            Item::Obligation(d) => d.span,
            Item::Def(d) => d.span,
            Item::Rule(d) => d.span,
            Item::Test(d) => d.span,
            Item::Fixture(d) => d.span,
            Item::Error(span) => *span,
        }
    }
}

/// Documentation from `///` comments directly above a declaration.
pub type Docs = Option<String>;

/// `entity Name in [Parent, ...] { attrs }`
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The type's name.
    pub name: Ident,
    /// Types this entity can be a member of.
    pub parents: Vec<Path>,
    /// Declared attributes.
    pub attrs: Vec<AttrDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `name: Type` or `name: Type?` in an entity, record or context.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The attribute's name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// `?`: the attribute may be absent.
    pub optional: bool,
    /// The whole declaration.
    pub span: Span,
}

/// `enum Name { a, b, c }`
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The type's name.
    pub name: Ident,
    /// The values, in declaration order.
    pub values: Vec<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// `level Name = low < mid < high`
#[derive(Debug, Clone, PartialEq)]
pub struct LevelDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The type's name.
    pub name: Ident,
    /// The values, lowest first.
    pub values: Vec<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// `type Name = Type`
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The alias.
    pub name: Ident,
    /// What it stands for.
    pub ty: TypeExpr,
    /// The whole declaration.
    pub span: Span,
}

/// `action a, b { principal: [P], resource: [R] }`
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The actions declared together.
    pub names: Vec<Ident>,
    /// Principal types the actions apply to.
    pub principals: Vec<Path>,
    /// Resource types the actions apply to.
    pub resources: Vec<Path>,
    /// The whole declaration.
    pub span: Span,
}

/// `context { attrs }`
#[derive(Debug, Clone, PartialEq)]
pub struct ContextDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The context's attributes.
    pub attrs: Vec<AttrDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// `obligation name(param: Type, ...)`
#[derive(Debug, Clone, PartialEq)]
pub struct ObligationDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The obligation's name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// The whole declaration.
    pub span: Span,
}

/// `name: Type` in a parameter list.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// The whole parameter.
    pub span: Span,
}

/// `def name(params) -> Type = body;`
#[derive(Debug, Clone, PartialEq)]
pub struct DefDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The function's name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// The declared result type.
    pub ret: TypeExpr,
    /// The body.
    pub body: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// A built-in or declared type by name.
    Named(Path),
    /// `Int[lo..hi]`, either bound optional.
    IntRange {
        /// Lower bound, inclusive.
        lo: Option<i128>,
        /// Upper bound, inclusive.
        hi: Option<i128>,
        /// The whole type.
        span: Span,
    },
    /// `Set<T>`
    Set(Box<TypeExpr>, Span),
    /// `{ a: T, b: U? }`
    Record(Vec<AttrDecl>, Span),
    /// Unparseable; already reported.
    Error(Span),
}

impl TypeExpr {
    /// The type's span.
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(p) => p.span,
            TypeExpr::IntRange { span, .. }
            | TypeExpr::Set(_, span)
            | TypeExpr::Record(_, span)
            | TypeExpr::Error(span) => *span,
        }
    }
}

/// `permit` or `forbid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Allows, unless a forbid applies.
    Permit,
    /// Denies, whatever else applies.
    Forbid,
}

impl Effect {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        }
    }
}

/// A rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Doc comment.
    pub docs: Docs,
    /// `@id("...")`, `@reason("...")` and others.
    pub annotations: Vec<Annotation>,
    /// `permit` or `forbid`.
    pub effect: Effect,
    /// Span of the effect keyword.
    pub effect_span: Span,
    /// The scope head.
    pub scope: Scope,
    /// `when` and `unless` clauses, in order.
    pub conditions: Vec<Condition>,
    /// `obligate ...` calls.
    pub obligations: Vec<ObligationCall>,
    /// The whole rule.
    pub span: Span,
}

/// `@name("value")` or `@name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The annotation's name.
    pub name: Ident,
    /// Its value.
    pub value: Option<StrLit>,
    /// The whole annotation.
    pub span: Span,
}

/// `(principal ..., action ..., resource ...)`
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Constraint on the principal.
    pub principal: EntityScope,
    /// Constraint on the action.
    pub action: ActionScope,
    /// Constraint on the resource.
    pub resource: EntityScope,
    /// The parenthesised head.
    pub span: Span,
}

/// `principal`, `principal: User`, `principal in Group::"g"`,
/// `principal: User in Group::"g"` or `principal == User::"u"`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityScope {
    /// `: Type`
    pub ty: Option<Path>,
    /// `in E` or `== E`.
    pub constraint: Option<ScopeConstraint>,
    /// The whole slot.
    pub span: Span,
}

/// The part of a scope slot after the type.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeConstraint {
    /// `== Type::"id"`
    Eq(Expr),
    /// `in Type::"id"` or `in [Type::"a", Type::"b"]`
    In(Expr),
}

/// `action`, `action: a`, `action == a` or `action in [a, b]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionScope {
    /// The named actions; empty means any action.
    pub actions: Vec<Path>,
    /// Written as a list (`in [..]`) rather than a single action.
    pub list: bool,
    /// The whole slot.
    pub span: Span,
}

/// `when e` or `unless e`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `true` for `when`, `false` for `unless`.
    pub when: bool,
    /// The condition.
    pub expr: Expr,
    /// The whole clause.
    pub span: Span,
}

/// `name(arg: value, ...)` after `obligate`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObligationCall {
    /// The obligation.
    pub name: Path,
    /// Named arguments.
    pub args: Vec<NamedArg>,
    /// The whole call.
    pub span: Span,
}

/// `name: value`
#[derive(Debug, Clone, PartialEq)]
pub struct NamedArg {
    /// The parameter.
    pub name: Ident,
    /// The value.
    pub value: Expr,
}

/// `test "name" { field: data, ... }`: a named test case.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The test's name.
    pub name: StrLit,
    /// `request`, `expect`, `rules`, `obligations`, `errors`; the checker
    /// validates the names.
    pub fields: Vec<DataField>,
    /// The whole test.
    pub span: Span,
}

/// `fixture name = data;`: a named piece of test data.
#[derive(Debug, Clone, PartialEq)]
pub struct FixtureDecl {
    /// Doc comment.
    pub docs: Docs,
    /// The fixture's name.
    pub name: Ident,
    /// Its value.
    pub value: Data,
    /// The whole declaration.
    pub span: Span,
}

/// `name: data` in a record, an entity's attributes or a call.
#[derive(Debug, Clone, PartialEq)]
pub struct DataField {
    /// The field's name.
    pub name: Ident,
    /// Its value.
    pub value: Data,
}

/// `a.b.c: data` in `with { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataUpdate {
    /// Where to set the value; at least one segment.
    pub path: Vec<Ident>,
    /// The value.
    pub value: Data,
}

/// Test data: JSON-like values written in Ward's literal syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// What kind of value.
    pub kind: DataKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of test data.
#[derive(Debug, Clone, PartialEq)]
pub enum DataKind {
    /// `true`, `false`
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A duration, in milliseconds.
    Duration(i128),
    /// A string.
    Str(String),
    /// A fixture's name, or else a symbol: an enum or level value or an
    /// action, possibly qualified (`Zone.corp`).
    Name(Path),
    /// `Type::"id" { attrs } in [Parent::"id"]`
    Entity {
        /// The entity type.
        ty: Path,
        /// The entity id.
        id: StrLit,
        /// Attribute values.
        attrs: Vec<DataField>,
        /// Every entity it is a member of.
        parents: Vec<(Path, StrLit)>,
    },
    /// `name(arg: value)`: an expected obligation or error.
    Call(Path, Vec<DataField>),
    /// `[a, b]`
    Set(Vec<Data>),
    /// `{ name: value }`
    Record(Vec<DataField>),
    /// `base with { path: value }`
    With(Box<Data>, Vec<DataUpdate>),
    /// `base without [path]`
    Without(Box<Data>, Vec<Vec<Ident>>),
    /// Unusable; already reported.
    Error,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true`, `false`
    Bool(bool),
    /// An integer literal; the checker rejects values outside 64 bits.
    Int(i128),
    /// A string literal.
    Str(String),
    /// A duration literal, in milliseconds; the checker rejects values
    /// outside 64 bits.
    Duration(i128),
    /// A name: a variable, parameter, `let` binding, package alias or type.
    Name(String),
    /// `principal`
    Principal,
    /// `resource`
    Resource,
    /// `context`
    Context,
    /// `Type::"id"`; the type part is a name or a dotted path of names.
    Entity {
        /// The expression before `::`, which must be a (dotted) type name.
        ty: Box<Expr>,
        /// The entity id.
        id: String,
    },
    /// `[a, b, c]`
    Set(Vec<Expr>),
    /// `e.name`
    Attr(Box<Expr>, Ident),
    /// `callee(args)`: a function, a built-in, or a method on a value.
    Call {
        /// What is called; resolution decides.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `e has name`
    Has(Box<Expr>, Ident),
    /// `e like "pattern"`
    Like(Box<Expr>, Pattern),
    /// A unary operator.
    Unary(UnOp, Box<Expr>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `let name = value; body`
    Let(Ident, Box<Expr>, Box<Expr>),
    /// Unparseable; already reported.
    Error,
}

/// A call argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A plain expression.
    Expr(Expr),
    /// `x => body`, for `any` and `all`.
    Lambda(Ident, Expr),
}

/// A glob pattern: literal text and `*` wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern's parts.
    pub parts: Vec<PatternPart>,
    /// The pattern literal.
    pub span: Span,
}

/// Part of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternPart {
    /// Text that must match exactly.
    Literal(String),
    /// `*`: any sequence of characters, possibly empty.
    Wildcard,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
        }
    }
}
