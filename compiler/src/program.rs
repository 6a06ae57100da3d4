//! The checked program: the typed intermediate representation that the type
//! checker produces and every later phase (the reference interpreter, the
//! decision IR, the language server's queries) consumes.
//!
//! Invariants: every name is resolved, every expression carries its type, no
//! error nodes remain, every optional attribute read is guarded by a `has`
//! test on every path to it, integer literals fit in 64 bits, and `def`s are
//! not recursive. A `Program` exists only for a source set without errors.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ward_types::values::Cidr;

use crate::span::Span;
pub use crate::syntax::ast::Effect;

/// Index into [`Schema::entities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityTypeId(pub u32);
/// Index into [`Schema::enums`] (enum and level types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);
/// Index into [`Schema::actions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub u32);
/// Index into [`Program::obligations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObligationId(pub u32);
/// Index into [`Program::defs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId(pub u32);
/// A local variable (`let`, quantifier or `def` parameter), unique in the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// A whole checked program: schema, functions, obligations and rules.
#[derive(Debug, Clone)]
pub struct Program {
    /// The request schema.
    pub schema: Schema,
    /// Declared obligations.
    pub obligations: Vec<ObligationDecl>,
    /// Functions, referenced by [`ExprKind::Call`].
    pub defs: Vec<Def>,
    /// All rules of all loaded packages, in a deterministic order (by file
    /// name, then position). Decisions do not depend on this order.
    pub rules: Vec<Rule>,
    /// The `test` blocks of the checked files, in file-name order, then
    /// position. They do not affect decisions or compiled modules.
    pub tests: Vec<TestCase>,
}

/// What a request must look like.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Entity types.
    pub entities: Vec<EntityType>,
    /// Enum and level types.
    pub enums: Vec<EnumType>,
    /// Actions.
    pub actions: Vec<ActionDecl>,
    /// The context's attributes (empty if the program declares no context).
    pub context: Record,
}

impl Schema {
    /// The entity type with this id.
    pub fn entity(&self, id: EntityTypeId) -> &EntityType {
        &self.entities[id.0 as usize]
    }

    /// The enum or level type with this id.
    pub fn enum_type(&self, id: EnumId) -> &EnumType {
        &self.enums[id.0 as usize]
    }

    /// The action with this id.
    pub fn action(&self, id: ActionId) -> &ActionDecl {
        &self.actions[id.0 as usize]
    }

    /// Looks an entity type up by the name requests use.
    pub fn entity_by_name(&self, name: &str) -> Option<EntityTypeId> {
        self.entities.iter().position(|e| e.name == name).map(|i| EntityTypeId(i as u32))
    }

    /// Looks an action up by the name requests use.
    pub fn action_by_name(&self, name: &str) -> Option<ActionId> {
        self.actions.iter().position(|a| a.name == name).map(|i| ActionId(i as u32))
    }

    /// Whether an entity of type `child` may have an ancestor of type
    /// `ancestor` (through the declared `in` hierarchy, transitively).
    pub fn can_be_in(&self, child: EntityTypeId, ancestor: EntityTypeId) -> bool {
        let mut seen = vec![false; self.entities.len()];
        let mut stack = self.entity(child).parents.clone();
        while let Some(t) = stack.pop() {
            if t == ancestor {
                return true;
            }
            if !std::mem::replace(&mut seen[t.0 as usize], true) {
                stack.extend(self.entity(t).parents.iter().copied());
            }
        }
        false
    }
}

/// An entity type.
#[derive(Debug, Clone)]
pub struct EntityType {
    /// The name requests use (unqualified; unique in a program).
    pub name: String,
    /// The declaring package.
    pub package: String,
    /// Types an entity of this type can be a direct member of.
    pub parents: Vec<EntityTypeId>,
    /// Attributes.
    pub attrs: Record,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration's name.
    pub span: Span,
}

/// The attributes of an entity type, a record type or the context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Fields in declaration order; names are unique.
    pub fields: Vec<Field>,
}

impl Record {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// May be absent (`?`).
    pub optional: bool,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration.
    pub span: Span,
}

/// An enum or a level type.
#[derive(Debug, Clone)]
pub struct EnumType {
    /// Its name.
    pub name: String,
    /// The declaring package.
    pub package: String,
    /// Values in declaration order; for a level, lowest first.
    pub values: Vec<String>,
    /// `level` (ordered) rather than `enum`.
    pub ordered: bool,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration's name.
    pub span: Span,
}

/// An action and the types it applies to.
#[derive(Debug, Clone)]
pub struct ActionDecl {
    /// The name requests use.
    pub name: String,
    /// Principal types it applies to.
    pub principals: Vec<EntityTypeId>,
    /// Resource types it applies to.
    pub resources: Vec<EntityTypeId>,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration's name.
    pub span: Span,
}

/// A declared obligation.
#[derive(Debug, Clone)]
pub struct ObligationDecl {
    /// Its name.
    pub name: String,
    /// Parameters, in declaration order.
    pub params: Vec<(String, Type)>,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration's name.
    pub span: Span,
}

/// A function.
#[derive(Debug, Clone)]
pub struct Def {
    /// Its name, qualified by its package.
    pub name: String,
    /// Parameters.
    pub params: Vec<(VarId, Type)>,
    /// The result type.
    pub ret: Type,
    /// The body; refers to parameters only (functions are closed).
    pub body: Expr,
    /// Doc comment.
    pub docs: Option<String>,
    /// The declaration's name.
    pub span: Span,
}

/// A type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `Bool`
    Bool,
    /// `Int` or `Int[lo..hi]`. Ranges constrain request values only; any
    /// arithmetic result is a plain `Int`.
    Int {
        /// Inclusive lower bound, if declared.
        min: Option<i64>,
        /// Inclusive upper bound, if declared.
        max: Option<i64>,
    },
    /// `String`
    String,
    /// `Duration`
    Duration,
    /// `Timestamp`
    Timestamp,
    /// `TimeOfDay`
    TimeOfDay,
    /// `Ip`
    Ip,
    /// `Cidr`
    Cidr,
    /// `Set<T>`
    Set(Box<Type>),
    /// A record type with its fields.
    Record(Box<Record>),
    /// An enum or level type.
    Enum(EnumId),
    /// An entity of one of these types (sorted, non-empty).
    Entity(Vec<EntityTypeId>),
}

impl Eq for Record {}
impl std::hash::Hash for Record {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for f in &self.fields {
            f.name.hash(state);
        }
    }
}

impl Type {
    /// A plain `Int`.
    pub const INT: Type = Type::Int { min: None, max: None };
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `@id`, or `file:line` when absent.
    pub id: String,
    /// `@reason`, if given.
    pub reason: Option<String>,
    /// Permit or forbid.
    pub effect: Effect,
    /// All annotations by name (including `id` and `reason`).
    pub annotations: BTreeMap<String, String>,
    /// Which requests the rule is about.
    pub scope: RuleScope,
    /// `when` (true) and `unless` (false) clauses, evaluated in order with
    /// short-circuit: the rule applies when every `when` holds and no
    /// `unless` does.
    pub conditions: Vec<(bool, Expr)>,
    /// Obligations attached, with constant arguments.
    pub obligations: Vec<ObligationUse>,
    /// The rule's source.
    pub span: Span,
}

/// The scope head, resolved.
#[derive(Debug, Clone, Default)]
pub struct RuleScope {
    /// Constraint on the principal.
    pub principal: EntityScope,
    /// The actions; `None` means any action.
    pub actions: Option<Vec<ActionId>>,
    /// Constraint on the resource.
    pub resource: EntityScope,
}

/// A resolved constraint on the principal or the resource.
#[derive(Debug, Clone, Default)]
pub struct EntityScope {
    /// Allowed types; `None` means any type.
    pub types: Option<Vec<EntityTypeId>>,
    /// `== T::"id"`
    pub eq: Option<EntityLit>,
    /// `in T::"id"` or `in [..]`: the entity is one of these or has one of
    /// them among its ancestors.
    pub within: Option<Vec<EntityLit>>,
}

/// An entity literal `T::"id"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityLit {
    /// Its type.
    pub ty: EntityTypeId,
    /// Its id.
    pub id: String,
}

/// An obligation attached to a rule.
#[derive(Debug, Clone)]
pub struct ObligationUse {
    /// Which obligation.
    pub obligation: ObligationId,
    /// Arguments in the declaration's parameter order.
    pub args: Vec<Const>,
}

/// A constant value: literals, obligation arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Const {
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A string.
    Str(String),
    /// Milliseconds.
    Duration(i64),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Milliseconds since midnight.
    TimeOfDay(i64),
    /// An address.
    Ip(IpAddr),
    /// A range.
    Cidr(Cidr),
    /// An enum or level value: type and index into its values.
    Enum(EnumId, u32),
    /// An entity.
    Entity(EntityLit),
    /// A set of constants, sorted and without duplicates.
    Set(Vec<Const>),
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of typed expression.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A constant.
    Const(Const),
    /// The request's principal.
    Principal,
    /// The request's resource.
    Resource,
    /// The request's context (a record).
    Context,
    /// A local variable.
    Var(VarId),
    /// Attribute of an entity or record. Optional attributes are read only
    /// where a `has` test guarantees presence.
    Attr(Box<Expr>, String),
    /// Whether an optional attribute is present.
    Has(Box<Expr>, String),
    /// A set built from element expressions.
    Set(Vec<Expr>),
    /// `!e`
    Not(Box<Expr>),
    /// `-e` on `Int` or `Duration`; overflow is an error.
    Neg(Box<Expr>),
    /// `a && b`, short-circuit.
    And(Box<Expr>, Box<Expr>),
    /// `a || b`, short-circuit.
    Or(Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `let v = value; body`
    Let(VarId, Box<Expr>, Box<Expr>),
    /// `==` or `!=` on operands of the same type.
    Equal {
        /// `true` for `!=`.
        negated: bool,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `<`, `<=`, `>`, `>=` on `Int`, `Duration`, `Timestamp`, `TimeOfDay`
    /// or one level type.
    Compare(Ordering, Box<Expr>, Box<Expr>),
    /// Checked arithmetic; overflow is an error.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Hierarchy membership: the entity (`principal` or `resource`) is one
    /// of the targets or has one among its ancestors. The right side is an
    /// entity or a set of entities.
    InHierarchy(Box<Expr>, Box<Expr>),
    /// `elem in set`, the same as `set.contains(elem)`.
    InSet(Box<Expr>, Box<Expr>),
    /// `ip in cidr`
    InRange(Box<Expr>, Box<Expr>),
    /// `s like "pattern"`
    Like(Box<Expr>, Vec<crate::syntax::ast::PatternPart>),
    /// A string method.
    StrOp(StrOp, Box<Expr>, Box<Expr>),
    /// `a.contains_all(b)`: every element of `b` is in `a`.
    ContainsAll(Box<Expr>, Box<Expr>),
    /// `a.contains_any(b)`: some element of `b` is in `a`.
    ContainsAny(Box<Expr>, Box<Expr>),
    /// `s.is_empty()`
    IsEmpty(Box<Expr>),
    /// `s.size()`: the number of distinct elements.
    Size(Box<Expr>),
    /// `s.any(v => body)` (`all == false`) or `s.all(v => body)`; `all` over
    /// an empty set is true, `any` false.
    Quantifier {
        /// `all` rather than `any`.
        all: bool,
        /// The bound variable.
        var: VarId,
        /// The set.
        set: Box<Expr>,
        /// The predicate.
        body: Box<Expr>,
    },
    /// `ts.time_of_day()`: the UTC time of day of a timestamp.
    TimeOfDay(Box<Expr>),
    /// A call of a `def`, arguments in parameter order.
    Call(DefId, Vec<Expr>),
}

/// Ordering comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ordering {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Checked arithmetic operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `Int + Int`, `Duration + Duration`, `Timestamp + Duration`
    Add,
    /// `Int - Int`, `Duration - Duration`, `Timestamp - Duration`,
    /// `Timestamp - Timestamp` (a `Duration`)
    Sub,
    /// `Int * Int`
    Mul,
}

/// String methods with a string argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrOp {
    /// `s.starts_with(p)`
    StartsWith,
    /// `s.ends_with(p)`
    EndsWith,
    /// `s.contains(p)`
    Contains,
}

/// A `test` block, checked: the request as JSON and what the decision must be.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// The test's name, unique in the program.
    pub name: String,
    /// The test's name as written.
    pub span: Span,
    /// The request, as the JSON document a gateway would receive.
    pub request: serde_json::Value,
    /// The expected decision and, where given, its details.
    pub expect: Expectation,
}

/// What a test expects. Fields that are `None` are not checked, except
/// errors: a test that does not list errors expects none.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Allow or deny.
    pub outcome: ward_types::Outcome,
    /// The determining rules' ids, sorted.
    pub rules: Option<Vec<String>>,
    /// The obligations, sorted like a decision's.
    pub obligations: Option<Vec<ward_types::Obligation>>,
    /// The errors, in any order.
    pub errors: Vec<ExpectedError>,
}

/// An error a test expects; `path` and `rule` are compared only when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedError {
    /// The error's kind.
    pub kind: ward_types::ErrorKind,
    /// Where in the request, as the decision reports it (`context.risk`).
    pub path: Option<String>,
    /// The rule whose evaluation failed.
    pub rule: Option<String>,
}

/// A type as messages and hover write it (`Int[0..100]`, `Set<String>`,
/// `User | Agent`).
pub fn show_type(schema: &Schema, ty: &Type) -> String {
    match ty {
        Type::Bool => "Bool".into(),
        Type::Int { min: None, max: None } => "Int".into(),
        Type::Int { min, max } => {
            let lo = min.map(|n| n.to_string()).unwrap_or_default();
            let hi = max.map(|n| n.to_string()).unwrap_or_default();
            format!("Int[{lo}..{hi}]")
        }
        Type::String => "String".into(),
        Type::Duration => "Duration".into(),
        Type::Timestamp => "Timestamp".into(),
        Type::TimeOfDay => "TimeOfDay".into(),
        Type::Ip => "Ip".into(),
        Type::Cidr => "Cidr".into(),
        Type::Set(element) => format!("Set<{}>", show_type(schema, element)),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields
                .iter()
                .map(|f| format!("{}: {}{}", f.name, show_type(schema, &f.ty), if f.optional { "?" } else { "" }))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        Type::Enum(id) => schema.enums.get(id.0 as usize).map_or_else(|| "?".into(), |e| e.name.clone()),
        Type::Entity(ids) if ids.is_empty() => "no entity type".into(),
        Type::Entity(ids) => ids
            .iter()
            .map(|id| schema.entities.get(id.0 as usize).map_or("?", |e| e.name.as_str()))
            .collect::<Vec<_>>()
            .join(" | "),
    }
}
