//! Typing expressions, with flow-sensitive facts about optional attributes.
//!
//! Each expression is typed together with two sets of facts: the attribute
//! paths known to be present when it evaluates to true, and when it
//! evaluates to false. `a && b` checks `b` with the true-facts of `a`,
//! `a || b` checks `b` with the false-facts of `a`, `!` swaps them, and an
//! `if` passes them into its branches. Reading an optional attribute requires
//! its path to be among the facts in force.

use std::collections::{BTreeSet, HashMap};

use ward_types::values;

use super::{Checker, Symbol, decls::set_element_type};
use crate::diagnostics::{Code, Diagnostic};
use crate::program::{
    ArithOp, Const, DefId, EntityLit, EntityTypeId, Expr, ExprKind, Field, Ordering, StrOp, Type, VarId,
};
use crate::span::Span;
use crate::syntax::ast::{self, BinOp, UnOp};

/// Where an attribute path starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Root {
    Principal,
    Resource,
    Context,
    Var(VarId),
}

/// An attribute path such as `principal.device.patch_age`.
pub(super) type PathKey = (Root, Vec<String>);
/// Paths known to be present.
pub(super) type Facts = BTreeSet<PathKey>;

/// A local variable in scope.
#[derive(Debug, Clone)]
pub(super) struct Local {
    name: String,
    var: VarId,
    ty: Option<Type>,
}

/// What is in scope while typing an expression.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    pub file: usize,
    locals: Vec<Local>,
    /// The principal's type; `None` inside functions, which are closed.
    pub principal: Option<Type>,
    /// The resource's type; `None` inside functions.
    pub resource: Option<Type>,
    /// Whether `context` is available (not inside functions).
    pub context: bool,
    /// The function being checked, for the call graph.
    pub def: Option<DefId>,
    /// `let` variables bound to attribute paths, so that facts about the
    /// path apply to the variable too.
    aliases: HashMap<VarId, PathKey>,
}

impl Scope {
    /// A rule's scope.
    pub fn rule(file: usize, principal: Type, resource: Type) -> Scope {
        Scope {
            file,
            locals: Vec::new(),
            principal: Some(principal),
            resource: Some(resource),
            context: true,
            def: None,
            aliases: HashMap::new(),
        }
    }

    /// A function body's scope: only the parameters.
    pub fn def(file: usize, def: DefId, params: &[(String, VarId, Option<Type>)]) -> Scope {
        Scope {
            file,
            locals: params
                .iter()
                .map(|(name, var, ty)| Local { name: name.clone(), var: *var, ty: ty.clone() })
                .collect(),
            principal: None,
            resource: None,
            context: false,
            def: Some(def),
            aliases: HashMap::new(),
        }
    }

    fn local(&self, name: &str) -> Option<&Local> {
        self.locals.iter().rev().find(|l| l.name == name)
    }
}

/// A typed expression (absent when its check failed) with its facts.
#[derive(Debug)]
pub(super) struct Typed {
    pub expr: Option<Expr>,
    /// Facts that hold when the expression is true.
    pub t: Facts,
    /// Facts that hold when the expression is false.
    pub f: Facts,
}

impl Typed {
    fn plain(expr: Option<Expr>) -> Typed {
        Typed { expr, t: Facts::new(), f: Facts::new() }
    }

    fn none() -> Typed {
        Typed::plain(None)
    }
}

fn mk(kind: ExprKind, ty: Type, span: Span) -> Option<Expr> {
    Some(Expr { kind, ty, span })
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Joins two types where one value may be either: ranges widen to `Int`,
/// entity types unite.
pub(super) fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Int { .. }, Type::Int { .. }) => Some(Type::INT),
        (Type::Entity(x), Type::Entity(y)) => {
            let mut all: Vec<EntityTypeId> = x.iter().chain(y).copied().collect();
            all.sort();
            all.dedup();
            Some(Type::Entity(all))
        }
        (Type::Set(x), Type::Set(y)) => unify(x, y).map(|t| Type::Set(Box::new(t))),
        _ if a == b => Some(a.clone()),
        _ => None,
    }
}

/// Whether a value of type `value` may be passed where `target` is expected.
pub(super) fn assignable(value: &Type, target: &Type) -> bool {
    match (value, target) {
        (Type::Int { .. }, Type::Int { .. }) => true,
        (Type::Entity(v), Type::Entity(t)) => v.iter().all(|x| t.contains(x)),
        (Type::Set(v), Type::Set(t)) => assignable(v, t),
        _ => value == target,
    }
}

impl Checker<'_> {
    /// How a type is shown in messages.
    pub(super) fn show(&self, ty: &Type) -> String {
        super::index::show(&self.schema, ty)
    }

    fn mismatch(&mut self, span: Span, expected: &str, found: &Type) {
        let found = self.show(found);
        self.error(
            Diagnostic::new(Code::TypeMismatch, span, format!("expected {expected}, found `{found}`"))
                .label(format!("this is of type `{found}`")),
        );
    }

    /// Types an expression that must be a boolean condition.
    pub(super) fn condition(&mut self, e: &ast::Expr, scope: &mut Scope, facts: &Facts) -> Typed {
        let typed = self.expr(e, scope, facts);
        if let Some(expr) = &typed.expr
            && expr.ty != Type::Bool
        {
            let found = self.show(&expr.ty);
            self.error(
                Diagnostic::new(
                    Code::NonBoolCondition,
                    e.span,
                    format!("expected a condition of type `Bool`, found `{found}`"),
                )
                .label(format!("this is of type `{found}`")),
            );
            return Typed::none();
        }
        typed
    }

    /// Types an expression and indexes its type.
    pub(super) fn expr(&mut self, e: &ast::Expr, scope: &mut Scope, facts: &Facts) -> Typed {
        let typed = crate::stack::grow(|| self.expr_unindexed(e, scope, facts));
        if let Some(x) = &typed.expr {
            self.index.types.push((x.span, x.ty.clone()));
        }
        typed
    }

    fn expr_unindexed(&mut self, e: &ast::Expr, scope: &mut Scope, facts: &Facts) -> Typed {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Error => Typed::none(),
            ast::ExprKind::Bool(b) => Typed::plain(mk(ExprKind::Const(Const::Bool(*b)), Type::Bool, span)),
            ast::ExprKind::Int(n) => match i64::try_from(*n) {
                Ok(n) => Typed::plain(mk(ExprKind::Const(Const::Int(n)), Type::INT, span)),
                Err(_) => {
                    self.error(
                        Diagnostic::new(Code::IntegerOutOfRange, span, "integer literal out of range")
                            .label("does not fit in a 64-bit signed integer"),
                    );
                    Typed::none()
                }
            },
            ast::ExprKind::Duration(n) => match i64::try_from(*n) {
                Ok(n) => Typed::plain(mk(ExprKind::Const(Const::Duration(n)), Type::Duration, span)),
                Err(_) => {
                    self.error(
                        Diagnostic::new(Code::IntegerOutOfRange, span, "duration literal out of range")
                            .label("more milliseconds than a 64-bit signed integer holds"),
                    );
                    Typed::none()
                }
            },
            ast::ExprKind::Str(s) => Typed::plain(mk(ExprKind::Const(Const::Str(s.clone())), Type::String, span)),
            ast::ExprKind::Principal => match &scope.principal {
                Some(t) => Typed::plain(mk(ExprKind::Principal, t.clone(), span)),
                None => self.closed_function(span, "principal"),
            },
            ast::ExprKind::Resource => match &scope.resource {
                Some(t) => Typed::plain(mk(ExprKind::Resource, t.clone(), span)),
                None => self.closed_function(span, "resource"),
            },
            ast::ExprKind::Context => {
                if scope.context {
                    let record = Type::Record(Box::new(self.schema.context.clone()));
                    Typed::plain(mk(ExprKind::Context, record, span))
                } else {
                    self.closed_function(span, "context")
                }
            }
            ast::ExprKind::Name(name) => self.name(name, span, scope),
            ast::ExprKind::Entity { ty, id } => Typed::plain(self.entity_literal(ty, id, span, scope)),
            ast::ExprKind::Set(elements) => Typed::plain(self.set_literal(elements, span, scope, facts)),
            ast::ExprKind::Attr(base, name) => Typed::plain(self.attr(e, base, name, scope, facts)),
            ast::ExprKind::Has(base, name) => self.has(base, name, span, scope, facts),
            ast::ExprKind::Call { callee, args } => Typed::plain(self.call(callee, args, span, scope, facts)),
            ast::ExprKind::Like(base, pattern) => {
                let base = self.expr(base, scope, facts).expr;
                let Some(base) = base else { return Typed::none() };
                if base.ty != Type::String {
                    self.mismatch(base.span, "a `String` to match with `like`", &base.ty);
                    return Typed::none();
                }
                Typed::plain(mk(ExprKind::Like(boxed(base), pattern.parts.clone()), Type::Bool, span))
            }
            ast::ExprKind::Unary(UnOp::Not, inner) => {
                let typed = self.condition(inner, scope, facts);
                let Some(inner) = typed.expr else { return Typed::none() };
                Typed { expr: mk(ExprKind::Not(boxed(inner)), Type::Bool, span), t: typed.f, f: typed.t }
            }
            ast::ExprKind::Unary(UnOp::Neg, inner) => {
                let Some(inner) = self.expr(inner, scope, facts).expr else { return Typed::none() };
                match inner.ty {
                    Type::Int { .. } => Typed::plain(mk(ExprKind::Neg(boxed(inner)), Type::INT, span)),
                    Type::Duration => Typed::plain(mk(ExprKind::Neg(boxed(inner)), Type::Duration, span)),
                    _ => {
                        let found = self.show(&inner.ty);
                        self.error(
                            Diagnostic::new(
                                Code::OperatorTypes,
                                span,
                                format!("cannot negate a value of type `{found}`"),
                            )
                            .help("`-` applies to `Int` and `Duration`"),
                        );
                        Typed::none()
                    }
                }
            }
            ast::ExprKind::Binary(BinOp::And, a, b) => {
                let left = self.condition(a, scope, facts);
                let mut inner = facts.clone();
                inner.extend(left.t.iter().cloned());
                let right = self.condition(b, scope, &inner);
                let t = left.t.union(&right.t).cloned().collect();
                let f = left.f.intersection(&right.f).cloned().collect();
                let expr = match (left.expr, right.expr) {
                    (Some(l), Some(r)) => mk(ExprKind::And(boxed(l), boxed(r)), Type::Bool, span),
                    _ => None,
                };
                Typed { expr, t, f }
            }
            ast::ExprKind::Binary(BinOp::Or, a, b) => {
                let left = self.condition(a, scope, facts);
                let mut inner = facts.clone();
                inner.extend(left.f.iter().cloned());
                let right = self.condition(b, scope, &inner);
                let t = left.t.intersection(&right.t).cloned().collect();
                let f = left.f.union(&right.f).cloned().collect();
                let expr = match (left.expr, right.expr) {
                    (Some(l), Some(r)) => mk(ExprKind::Or(boxed(l), boxed(r)), Type::Bool, span),
                    _ => None,
                };
                Typed { expr, t, f }
            }
            ast::ExprKind::Binary(op, a, b) => {
                let left = self.expr(a, scope, facts).expr;
                let right = self.expr(b, scope, facts).expr;
                let (Some(left), Some(right)) = (left, right) else { return Typed::none() };
                Typed::plain(self.binary(*op, left, right, span))
            }
            ast::ExprKind::If(c, a, b) => {
                let cond = self.condition(c, scope, facts);
                let mut then_facts = facts.clone();
                then_facts.extend(cond.t.iter().cloned());
                let mut else_facts = facts.clone();
                else_facts.extend(cond.f.iter().cloned());
                let then = self.expr(a, scope, &then_facts);
                let other = self.expr(b, scope, &else_facts);
                let on = |c: &Facts, branch: &Facts| -> Facts { c.union(branch).cloned().collect() };
                let t = on(&cond.t, &then.t).intersection(&on(&cond.f, &other.t)).cloned().collect();
                let f = on(&cond.t, &then.f).intersection(&on(&cond.f, &other.f)).cloned().collect();
                let (Some(c), Some(a), Some(b)) = (cond.expr, then.expr, other.expr) else { return Typed::none() };
                match unify(&a.ty, &b.ty) {
                    Some(ty) => Typed { expr: mk(ExprKind::If(boxed(c), boxed(a), boxed(b)), ty, span), t, f },
                    None => {
                        let (ta, tb) = (self.show(&a.ty), self.show(&b.ty));
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                b.span,
                                format!("the branches of `if` have different types: `{ta}` and `{tb}`"),
                            )
                            .label(format!("this is of type `{tb}`"))
                            .related(a.span, format!("this is of type `{ta}`")),
                        );
                        Typed::none()
                    }
                }
            }
            ast::ExprKind::Let(name, value, body) => {
                let value = self.expr(value, scope, facts).expr;
                let var = self.fresh_var();
                self.index.var(var, name.span);
                if let Some(path) = value.as_ref().and_then(|v| self.path_of(v, scope)) {
                    scope.aliases.insert(var, path);
                }
                scope.locals.push(Local { name: name.name.clone(), var, ty: value.as_ref().map(|v| v.ty.clone()) });
                let body = self.expr(body, scope, facts);
                scope.locals.pop();
                let (Some(value), Some(inner)) = (value, body.expr) else { return Typed::none() };
                let ty = inner.ty.clone();
                Typed { expr: mk(ExprKind::Let(var, boxed(value), boxed(inner)), ty, span), t: body.t, f: body.f }
            }
        }
    }

    fn closed_function(&mut self, span: Span, what: &str) -> Typed {
        self.error(
            Diagnostic::new(Code::UnknownName, span, format!("`{what}` is not available in a function"))
                .label("functions see only their parameters")
                .help(format!("pass what the function needs as a parameter, such as `{what}.attribute`")),
        );
        Typed::none()
    }

    /// The attribute path an expression reads, if it is one.
    fn path_of(&self, e: &Expr, scope: &Scope) -> Option<PathKey> {
        match &e.kind {
            ExprKind::Principal => Some((Root::Principal, Vec::new())),
            ExprKind::Resource => Some((Root::Resource, Vec::new())),
            ExprKind::Context => Some((Root::Context, Vec::new())),
            ExprKind::Var(v) => Some(scope.aliases.get(v).cloned().unwrap_or((Root::Var(*v), Vec::new()))),
            ExprKind::Attr(base, name) => {
                let (root, mut path) = self.path_of(base, scope)?;
                path.push(name.clone());
                Some((root, path))
            }
            _ => None,
        }
    }

    fn name(&mut self, name: &str, span: Span, scope: &Scope) -> Typed {
        if let Some(local) = scope.local(name) {
            self.index.var_use(span, local.var);
            let Some(ty) = local.ty.clone() else { return Typed::none() };
            return Typed::plain(mk(ExprKind::Var(local.var), ty, span));
        }
        let found = self.lookup(scope.file, name);
        if let Some(symbol) = found {
            self.refer(span, symbol);
        } else {
            self.refer_alias(scope.file, span, name);
        }
        let message = match found {
            Some(Symbol::Def(_)) => {
                Some((format!("`{name}` is a function, not a value"), format!("call it: `{name}(...)`")))
            }
            Some(Symbol::Enum(id)) => {
                let first = self.schema.enum_type(id).values.first().cloned().unwrap_or_default();
                Some((
                    format!("`{name}` is a type, not a value"),
                    format!("write a value of the type, such as `{name}.{first}`"),
                ))
            }
            Some(Symbol::Entity(_)) => {
                Some((format!("`{name}` is a type, not a value"), format!("write an entity, such as `{name}::\"id\"`")))
            }
            Some(Symbol::Alias(_)) => {
                Some((format!("`{name}` is a type, not a value"), "types are not values".to_owned()))
            }
            Some(Symbol::Action(_)) => Some((
                format!("`{name}` is an action, not a value"),
                format!("match actions in the rule's scope: `action: {name}` or `action in [{name}, ...]`"),
            )),
            Some(Symbol::Obligation(_)) => Some((
                format!("`{name}` is an obligation, not a value"),
                format!("attach it to the rule: `obligate {name}(...)`"),
            )),
            None if self.scopes[scope.file].aliases.contains_key(name) => Some((
                format!("`{name}` is a package, not a value"),
                format!("refer to a declaration in it: `{name}.something`"),
            )),
            None => None,
        };
        match message {
            Some((message, help)) => self.error(Diagnostic::new(Code::NotAValue, span, message).help(help)),
            None if self.poisoned(name) => {}
            None => {
                let mut candidates: Vec<String> = scope.locals.iter().map(|l| l.name.clone()).collect();
                if let Some(p) = self.packages.get(&self.scopes[scope.file].package) {
                    candidates.extend(p.symbols.keys().cloned());
                }
                let mut d = Diagnostic::new(Code::UnknownName, span, format!("unknown name `{name}`"))
                    .label("not a variable, parameter, function or package in scope");
                if let Some(s) = super::closest(name, candidates.iter().map(String::as_str)) {
                    d = d.help(format!("a name with a similar spelling exists: `{s}`"));
                } else if ["principal", "resource", "context"].iter().any(|k| k.eq_ignore_ascii_case(name)) {
                    d = d.help(format!("write `{}` in lower case", name.to_lowercase()));
                }
                self.error(d);
            }
        }
        Typed::none()
    }

    /// The names of a dotted expression such as `Zone.corp` or
    /// `data.Classification.public`, when its root is not a local variable.
    fn name_path<'e>(&self, e: &'e ast::Expr, scope: &Scope) -> Option<Vec<(&'e str, Span)>> {
        match &e.kind {
            ast::ExprKind::Name(n) if scope.local(n).is_none() => Some(vec![(n.as_str(), e.span)]),
            ast::ExprKind::Attr(base, name) => {
                let mut path = self.name_path(base, scope)?;
                path.push((name.name.as_str(), name.span));
                Some(path)
            }
            _ => None,
        }
    }

    fn entity_literal(&mut self, ty: &ast::Expr, id: &str, span: Span, scope: &Scope) -> Option<Expr> {
        let Some(path) = self.name_path(ty, scope) else {
            self.error(
                Diagnostic::new(Code::InvalidDefinition, ty.span, "expected an entity type before `::`")
                    .help("write an entity as `Type::\"id\"`"),
            );
            return None;
        };
        let symbol = match path.as_slice() {
            [(name, _)] => self.lookup(scope.file, name),
            [(alias, alias_span), (name, _)] => {
                self.refer_alias(scope.file, *alias_span, alias);
                self.lookup_qualified(scope.file, alias, name)
            }
            _ => None,
        };
        if let (Some(symbol), Some((_, last))) = (symbol, path.last()) {
            self.refer(*last, symbol);
        }
        match symbol {
            Some(Symbol::Entity(t)) => {
                let lit = EntityLit { ty: t, id: id.to_owned() };
                mk(ExprKind::Const(Const::Entity(lit)), Type::Entity(vec![t]), span)
            }
            Some(_) => {
                self.error(
                    Diagnostic::new(
                        Code::InvalidDefinition,
                        ty.span,
                        format!("`{}` is not an entity type", self.sources.snippet(ty.span)),
                    )
                    .label("only entity types have entities"),
                );
                None
            }
            None if path.iter().any(|(name, _)| self.poisoned(name)) => None,
            None => {
                self.error(
                    Diagnostic::new(
                        Code::UnknownType,
                        ty.span,
                        format!("unknown entity type `{}`", self.sources.snippet(ty.span)),
                    )
                    .label("not declared or imported"),
                );
                None
            }
        }
    }

    fn set_literal(&mut self, elements: &[ast::Expr], span: Span, scope: &mut Scope, facts: &Facts) -> Option<Expr> {
        if elements.is_empty() {
            self.error(
                Diagnostic::new(Code::EmptySet, span, "empty set literal")
                    .label("the element type of `[]` is unknown")
                    .help("test for emptiness with `.is_empty()`"),
            );
            return None;
        }
        let typed: Vec<Option<Expr>> = elements.iter().map(|e| self.expr(e, scope, facts).expr).collect();
        let typed: Vec<Expr> = typed.into_iter().collect::<Option<_>>()?;
        let mut ty = typed[0].ty.clone();
        for element in &typed[1..] {
            match unify(&ty, &element.ty) {
                Some(t) => ty = t,
                None => {
                    let (expected, found) = (self.show(&ty), self.show(&element.ty));
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            element.span,
                            format!("set elements must have one type: expected `{expected}`, found `{found}`"),
                        )
                        .related(typed[0].span, format!("the first element is of type `{expected}`")),
                    );
                    return None;
                }
            }
        }
        if !set_element_type(&ty) {
            let shown = self.show(&ty);
            self.error(
                Diagnostic::new(Code::InvalidElementType, span, format!("sets cannot hold values of type `{shown}`"))
                    .help("sets hold strings, integers, durations, enum or level values, or entities"),
            );
            return None;
        }
        let set_ty = Type::Set(Box::new(ty));
        let constants: Option<Vec<Const>> =
            typed.iter().map(|e| if let ExprKind::Const(c) = &e.kind { Some(c.clone()) } else { None }).collect();
        match constants {
            Some(mut values) => {
                values.sort();
                values.dedup();
                mk(ExprKind::Const(Const::Set(values)), set_ty, span)
            }
            None => mk(ExprKind::Set(typed), set_ty, span),
        }
    }

    /// The field `name` of a value of type `ty`, or a reported error.
    fn field(&mut self, ty: &Type, name: &ast::Ident, base_span: Span) -> Option<Field> {
        match ty {
            Type::Record(record) => match record.field(&name.name) {
                Some(f) => {
                    self.index.reference(name.span, f.span);
                    Some(f.clone())
                }
                None => {
                    let candidates: Vec<String> = record.fields.iter().map(|f| f.name.clone()).collect();
                    let what = if record.as_ref() == &self.schema.context {
                        "the context".to_owned()
                    } else {
                        "this record".to_owned()
                    };
                    self.unknown_attribute(name, &what, candidates.iter().map(String::as_str).collect());
                    None
                }
            },
            Type::Entity(ids) => {
                let mut found: Option<Field> = None;
                for id in ids {
                    let entity = self.schema.entity(*id);
                    match entity.attrs.field(&name.name) {
                        Some(f) => {
                            self.index.reference(name.span, f.span);
                            found = match found {
                                None => Some(f.clone()),
                                Some(prev) => match unify(&prev.ty, &f.ty) {
                                    Some(ty) => Some(Field { ty, optional: prev.optional || f.optional, ..prev }),
                                    None => {
                                        let (a, b) = (self.show(&prev.ty), self.show(&f.ty));
                                        self.error(
                                            Diagnostic::new(Code::UnknownAttribute, name.span, format!("attribute `{}` has different types on the possible entity types: `{a}` and `{b}`", name.name))
                                                .help("narrow the scope to one type, such as `principal: User`"),
                                        );
                                        return None;
                                    }
                                },
                            }
                        }
                        None => {
                            let candidates: Vec<String> = entity.attrs.fields.iter().map(|f| f.name.clone()).collect();
                            let what = format!("entity type `{}`", entity.name);
                            let several = ids.len() > 1;
                            self.unknown_attribute(name, &what, candidates.iter().map(String::as_str).collect());
                            if several && let Some(d) = self.diags.last_mut() {
                                d.help = Some("the value may be of several entity types; narrow the scope, such as `principal: User`".to_owned());
                            }
                            return None;
                        }
                    }
                }
                if found.is_none() {
                    self.error(
                        Diagnostic::new(
                            Code::UnknownAttribute,
                            name.span,
                            format!("unknown attribute `{}`", name.name),
                        )
                        .label("no entity type is possible here: no declared action applies"),
                    );
                }
                found
            }
            other => {
                let shown = self.show(other);
                self.error(
                    Diagnostic::new(
                        Code::AttributeOnNonRecord,
                        name.span,
                        format!("a value of type `{shown}` has no attributes"),
                    )
                    .related(base_span, format!("this is of type `{shown}`")),
                );
                None
            }
        }
    }

    /// Only the principal and the resource come with their attributes; other
    /// entities in a request are references (type and id).
    fn entity_reference_attribute(&mut self, base: &Expr, name: &ast::Ident) {
        let text = self.sources.snippet(base.span).to_owned();
        self.error(
            Diagnostic::new(Code::AttributeOnNonRecord, name.span, format!("the attributes of `{text}` are not in the request"))
                .label("an entity reference carries only its type and id")
                .help("compare the entity with `==`, or declare the attribute you need on the principal, the resource or the context"),
        );
    }

    fn unknown_attribute(&mut self, name: &ast::Ident, what: &str, candidates: Vec<&str>) {
        // A broken declaration already explains a missing attribute.
        if self.poisoned(&name.name) || self.poisoned("") {
            return;
        }
        let mut d = Diagnostic::new(Code::UnknownAttribute, name.span, format!("unknown attribute `{}`", name.name))
            .label(format!("not declared on {what}"));
        if let Some(s) = super::closest(&name.name, candidates) {
            d = d.help(format!("a declared attribute has a similar name: `{s}`"));
        } else {
            d = d.help(format!("declare the attribute on {what} before using it"));
        }
        self.error(d);
    }

    fn attr(
        &mut self,
        whole: &ast::Expr,
        base: &ast::Expr,
        name: &ast::Ident,
        scope: &mut Scope,
        facts: &Facts,
    ) -> Option<Expr> {
        // `Zone.corp`, `data.Classification.public`: names, not attribute reads.
        if let Some(path) = self.name_path(whole, scope) {
            return self.qualified_value(&path, whole.span, scope);
        }
        let base = self.expr(base, scope, facts).expr?;
        self.index.accesses.push(super::index::Access { name: name.span, receiver: base.ty.clone() });
        if matches!(base.ty, Type::Entity(_)) && !matches!(base.kind, ExprKind::Principal | ExprKind::Resource) {
            self.entity_reference_attribute(&base, name);
            return None;
        }
        let field = self.field(&base.ty, name, base.span)?;
        if field.optional {
            let present = self.path_of(&base, scope).is_some_and(|(root, mut path)| {
                path.push(name.name.clone());
                facts.contains(&(root, path))
            });
            if !present {
                let base_text = self.sources.snippet(base.span).to_owned();
                self.error(
                    Diagnostic::new(
                        Code::UnguardedOptional,
                        whole.span,
                        format!("`{}` may be absent", self.sources.snippet(whole.span)),
                    )
                    .label("optional attribute read without a `has` test")
                    .related(field.span, "declared optional here")
                    .help(format!("test it first: `{base_text} has {} && ...`", name.name)),
                );
                return None;
            }
        }
        mk(ExprKind::Attr(boxed(base), name.name.clone()), field.ty, whole.span)
    }

    /// A dotted name in value position: an enum or level value.
    fn qualified_value(&mut self, path: &[(&str, Span)], span: Span, scope: &Scope) -> Option<Expr> {
        let file = scope.file;
        let (type_symbol, value) = match path {
            [(ty, ty_span), value] => {
                let found = self.lookup(file, ty);
                if let Some(symbol) = found {
                    self.refer(*ty_span, symbol);
                }
                (found.map(|s| (s, *ty)), *value)
            }
            [(alias, alias_span), (ty, _), value] => {
                if !self.scopes[file].aliases.contains_key(*alias) {
                    self.error(
                        Diagnostic::new(Code::UnknownName, *alias_span, format!("unknown name `{alias}`"))
                            .label("not a variable, package or type in scope"),
                    );
                    return None;
                }
                self.refer_alias(file, *alias_span, alias);
                let found = self.lookup_qualified(file, alias, ty);
                if let (Some(symbol), Some((_, ty_span))) = (found, path.get(1)) {
                    self.refer(*ty_span, symbol);
                }
                (found.map(|s| (s, *ty)), *value)
            }
            _ => {
                let (root, root_span) = path[0];
                if self.scopes[file].aliases.contains_key(root) || self.lookup(file, root).is_some() {
                    self.error(Diagnostic::new(
                        Code::NotAValue,
                        span,
                        format!("`{}` is not a value", self.sources.snippet(span)),
                    ));
                } else {
                    self.error(
                        Diagnostic::new(Code::UnknownName, root_span, format!("unknown name `{root}`"))
                            .label("not a variable, package or type in scope"),
                    );
                }
                return None;
            }
        };
        let (root, root_span) = path[0];
        if path.iter().any(|(name, _)| self.poisoned(name)) && type_symbol.is_none() {
            return None;
        }
        // Aliases are transparent: `type Effect = agents.SideEffect` makes
        // `Effect.read` a value of the aliased enum.
        let type_symbol = match type_symbol {
            Some((Symbol::Alias(id), name)) => match self.alias_type(id) {
                Some(Type::Enum(id)) => Some((Symbol::Enum(id), name)),
                Some(_) => type_symbol,
                None => return None,
            },
            other => other,
        };
        match type_symbol {
            Some((Symbol::Enum(id), ty_name)) => {
                let enum_span = self.schema.enum_type(id).span;
                self.index.value(value.1, enum_span, value.0);
                let enum_type = self.schema.enum_type(id);
                match enum_type.values.iter().position(|v| v == value.0) {
                    Some(index) => mk(ExprKind::Const(Const::Enum(id, index as u32)), Type::Enum(id), span),
                    None => {
                        let suggestion = super::closest(value.0, enum_type.values.iter().map(String::as_str));
                        let values = enum_type.values.join(", ");
                        let mut d = Diagnostic::new(
                            Code::UnknownValue,
                            value.1,
                            format!("`{ty_name}` has no value `{}`", value.0),
                        )
                        .label(format!("the values are: {values}"));
                        if let Some(s) = suggestion {
                            d = d.help(format!("did you mean `{ty_name}.{s}`?"));
                        }
                        self.error(d);
                        None
                    }
                }
            }
            Some((Symbol::Def(_), name)) => {
                self.error(
                    Diagnostic::new(Code::NotAValue, span, format!("`{name}` is a function, not a value"))
                        .help("call it with arguments: `f(...)`"),
                );
                None
            }
            Some(_) => {
                self.error(Diagnostic::new(
                    Code::NotAValue,
                    span,
                    format!("`{}` is not a value", self.sources.snippet(span)),
                ));
                None
            }
            None if path.len() == 2 && self.scopes[file].aliases.contains_key(root) => {
                self.error(
                    Diagnostic::new(
                        Code::UnknownName,
                        path[1].1,
                        format!("package `{root}` has no declaration `{}`", path[1].0),
                    )
                    .label("not declared in that package"),
                );
                None
            }
            None => {
                let mut d = Diagnostic::new(Code::UnknownName, root_span, format!("unknown name `{root}`"))
                    .label("not a variable, package or type in scope");
                if let Some(s) = self.suggest(file, root) {
                    d = d.help(format!("a name with a similar spelling exists: `{s}`"));
                }
                self.error(d);
                None
            }
        }
    }

    fn has(&mut self, base: &ast::Expr, name: &ast::Ident, span: Span, scope: &mut Scope, facts: &Facts) -> Typed {
        let Some(base) = self.expr(base, scope, facts).expr else { return Typed::none() };
        self.index.accesses.push(super::index::Access { name: name.span, receiver: base.ty.clone() });
        if matches!(base.ty, Type::Entity(_)) && !matches!(base.kind, ExprKind::Principal | ExprKind::Resource) {
            self.entity_reference_attribute(&base, name);
            return Typed::none();
        }
        let Some(field) = self.field(&base.ty, name, base.span) else { return Typed::none() };
        if !field.optional {
            self.error(
                Diagnostic::new(
                    Code::RedundantHas,
                    span,
                    format!("`{}` is required, so this test is always true", name.name),
                )
                .related(field.span, "declared without `?` here"),
            );
        }
        let mut t = Facts::new();
        if let Some((root, mut path)) = self.path_of(&base, scope) {
            path.push(name.name.clone());
            t.insert((root, path));
        }
        Typed { expr: mk(ExprKind::Has(boxed(base), name.name.clone()), Type::Bool, span), t, f: Facts::new() }
    }

    fn binary(&mut self, op: BinOp, left: Expr, right: Expr, span: Span) -> Option<Expr> {
        let (lt, rt) = (left.ty.clone(), right.ty.clone());
        match op {
            BinOp::Eq | BinOp::Ne => {
                if matches!(lt, Type::Record(_)) || matches!(rt, Type::Record(_)) {
                    self.error(
                        Diagnostic::new(Code::OperatorTypes, span, "records cannot be compared with `==`")
                            .help("compare their attributes one by one"),
                    );
                    return None;
                }
                if unify(&lt, &rt).is_none() {
                    self.incompatible(op, &left, &right, span);
                    return None;
                }
                let negated = op == BinOp::Ne;
                mk(ExprKind::Equal { negated, left: boxed(left), right: boxed(right) }, Type::Bool, span)
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ordering = match op {
                    BinOp::Lt => Ordering::Lt,
                    BinOp::Le => Ordering::Le,
                    BinOp::Gt => Ordering::Gt,
                    _ => Ordering::Ge,
                };
                let ordered = |t: &Type, schema: &crate::program::Schema| match t {
                    Type::Int { .. } | Type::Duration | Type::Timestamp | Type::TimeOfDay => true,
                    Type::Enum(id) => schema.enum_type(*id).ordered,
                    _ => false,
                };
                if unify(&lt, &rt).is_none() {
                    self.incompatible(op, &left, &right, span);
                    return None;
                }
                if !ordered(&lt, &self.schema) {
                    let shown = self.show(&lt);
                    let mut d =
                        Diagnostic::new(Code::OperatorTypes, span, format!("values of type `{shown}` have no order"))
                            .label(format!("`{}` needs ordered operands", op.symbol()));
                    d = if matches!(lt, Type::Enum(_)) {
                        d.help(format!("declare `{shown}` as a `level` to order its values"))
                    } else {
                        d.help("order applies to `Int`, `Duration`, `Timestamp`, `TimeOfDay` and levels")
                    };
                    self.error(d);
                    return None;
                }
                mk(ExprKind::Compare(ordering, boxed(left), boxed(right)), Type::Bool, span)
            }
            BinOp::In => self.membership(left, right, span),
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let result = match (op, &lt, &rt) {
                    (_, Type::Int { .. }, Type::Int { .. }) => Some(Type::INT),
                    (BinOp::Add | BinOp::Sub, Type::Duration, Type::Duration) => Some(Type::Duration),
                    (BinOp::Add | BinOp::Sub, Type::Timestamp, Type::Duration) => Some(Type::Timestamp),
                    (BinOp::Sub, Type::Timestamp, Type::Timestamp) => Some(Type::Duration),
                    _ => None,
                };
                let Some(ty) = result else {
                    let (a, b) = (self.show(&lt), self.show(&rt));
                    self.error(
                        Diagnostic::new(Code::OperatorTypes, span, format!("`{}` is not defined for `{a}` and `{b}`", op.symbol()))
                            .related(left.span, format!("`{a}`"))
                            .related(right.span, format!("`{b}`"))
                            .help("arithmetic: Int with Int; Duration with Duration; Timestamp plus or minus Duration; Timestamp minus Timestamp"),
                    );
                    return None;
                };
                let arith = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    _ => ArithOp::Mul,
                };
                mk(ExprKind::Arith(arith, boxed(left), boxed(right)), ty, span)
            }
            BinOp::And | BinOp::Or => None, // handled with facts by the caller
        }
    }

    fn incompatible(&mut self, op: BinOp, left: &Expr, right: &Expr, span: Span) {
        let (a, b) = (self.show(&left.ty), self.show(&right.ty));
        let levels = match (&left.ty, &right.ty) {
            (Type::Enum(x), Type::Enum(y)) => self.schema.enum_type(*x).ordered && self.schema.enum_type(*y).ordered,
            _ => false,
        };
        let (code, message, help) = if levels {
            (
                Code::LevelMismatch,
                format!("levels of different types compared: `{a}` and `{b}`"),
                "levels are ordered only within their own `level` type".to_owned(),
            )
        } else {
            (
                Code::TypeMismatch,
                format!("cannot compare `{a}` with `{b}`"),
                format!("both sides of `{}` must have the same type", op.symbol()),
            )
        };
        self.error(
            Diagnostic::new(code, span, message)
                .related(left.span, format!("this is of type `{a}`"))
                .related(right.span, format!("this is of type `{b}`"))
                .help(help),
        );
    }

    fn membership(&mut self, left: Expr, right: Expr, span: Span) -> Option<Expr> {
        let (lt, rt) = (left.ty.clone(), right.ty.clone());
        match (&lt, &rt) {
            (Type::Ip, Type::Cidr) => mk(ExprKind::InRange(boxed(left), boxed(right)), Type::Bool, span),
            (Type::Entity(children), Type::Entity(targets)) => {
                if !matches!(left.kind, ExprKind::Principal | ExprKind::Resource) {
                    self.error(
                        Diagnostic::new(
                            Code::InvalidHierarchyTest,
                            left.span,
                            "hierarchy membership is known only for `principal` and `resource`",
                        )
                        .label("the request carries no ancestors for this entity")
                        .help("compare entities with `==`, or test membership in a set: `e in [A::\"a\", A::\"b\"]`"),
                    );
                    return None;
                }
                self.check_reachable(children, targets, right.span)?;
                mk(ExprKind::InHierarchy(boxed(left), boxed(right)), Type::Bool, span)
            }
            (Type::Entity(children), Type::Set(element)) if matches!(element.as_ref(), Type::Entity(_)) => {
                let Type::Entity(targets) = element.as_ref() else { return None };
                if matches!(left.kind, ExprKind::Principal | ExprKind::Resource) {
                    self.check_reachable(children, targets, right.span)?;
                    mk(ExprKind::InHierarchy(boxed(left), boxed(right)), Type::Bool, span)
                } else {
                    mk(ExprKind::InSet(boxed(left), boxed(right)), Type::Bool, span)
                }
            }
            (_, Type::Set(element)) => {
                if unify(&lt, element).is_none() {
                    let (a, b) = (self.show(&lt), self.show(&rt));
                    self.error(
                        Diagnostic::new(Code::TypeMismatch, span, format!("a `{a}` can never be in a `{b}`"))
                            .related(left.span, format!("this is of type `{a}`"))
                            .related(right.span, format!("this is of type `{b}`")),
                    );
                    return None;
                }
                mk(ExprKind::InSet(boxed(left), boxed(right)), Type::Bool, span)
            }
            _ => {
                let (a, b) = (self.show(&lt), self.show(&rt));
                self.error(
                    Diagnostic::new(Code::OperatorTypes, span, format!("`in` is not defined for `{a}` and `{b}`"))
                        .related(left.span, format!("`{a}`"))
                        .related(right.span, format!("`{b}`"))
                        .help("`in` tests hierarchy membership of `principal` or `resource`, membership in a set, or an `Ip` in a `Cidr`"),
                );
                None
            }
        }
    }

    /// Reports a hierarchy test that can never be true.
    pub(super) fn check_reachable(
        &mut self,
        children: &[EntityTypeId],
        targets: &[EntityTypeId],
        span: Span,
    ) -> Option<()> {
        let possible = children.iter().any(|c| targets.iter().any(|t| c == t || self.schema.can_be_in(*c, *t)));
        if possible || children.is_empty() {
            return Some(());
        }
        let (a, b) = (self.show(&Type::Entity(children.to_vec())), self.show(&Type::Entity(targets.to_vec())));
        self.error(
            Diagnostic::new(Code::InvalidHierarchyTest, span, format!("a `{a}` can never be in a `{b}`"))
                .label("no declared hierarchy leads there")
                .help(format!("declare the membership: `entity {a} in [{b}]`")),
        );
        None
    }

    fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Arg],
        span: Span,
        scope: &mut Scope,
        facts: &Facts,
    ) -> Option<Expr> {
        match &callee.kind {
            ast::ExprKind::Name(name) if scope.local(name).is_none() => {
                if let Some(constructor) = self.constructor(name, args, span) {
                    return constructor;
                }
                let found = self.lookup(scope.file, name);
                if let Some(symbol) = found {
                    self.refer(callee.span, symbol);
                }
                match found {
                    Some(Symbol::Def(id)) => self.def_call(id, name, args, span, scope, facts),
                    Some(_) => {
                        self.error(Diagnostic::new(
                            Code::UnknownFunction,
                            callee.span,
                            format!("`{name}` is not a function"),
                        ));
                        None
                    }
                    None if self.poisoned(name) => None,
                    None => {
                        let mut d =
                            Diagnostic::new(Code::UnknownFunction, callee.span, format!("unknown function `{name}`"))
                                .label("no function of this name is declared or imported");
                        let mut candidates: Vec<String> =
                            ["ip", "cidr", "timestamp", "time"].iter().map(|s| (*s).to_owned()).collect();
                        if let Some(p) = self.packages.get(&self.scopes[scope.file].package) {
                            candidates.extend(p.symbols.keys().cloned());
                        }
                        if let Some(s) = super::closest(name, candidates.iter().map(String::as_str)) {
                            d = d.help(format!("a function with a similar name exists: `{s}`"));
                        }
                        self.error(d);
                        None
                    }
                }
            }
            ast::ExprKind::Attr(receiver, method) => {
                if let Some(path) = self.name_path(receiver, scope)
                    && let [(alias, alias_span)] = path.as_slice()
                    && self.scopes[scope.file].aliases.contains_key(*alias)
                {
                    self.refer_alias(scope.file, *alias_span, alias);
                    let found = self.lookup_qualified(scope.file, alias, &method.name);
                    if let Some(symbol) = found {
                        self.refer(method.span, symbol);
                    }
                    return match found {
                        Some(Symbol::Def(id)) => self.def_call(id, &method.name, args, span, scope, facts),
                        Some(_) => {
                            self.error(Diagnostic::new(
                                Code::UnknownFunction,
                                callee.span,
                                format!("`{alias}.{}` is not a function", method.name),
                            ));
                            None
                        }
                        None => {
                            self.error(
                                Diagnostic::new(
                                    Code::UnknownFunction,
                                    method.span,
                                    format!("package `{alias}` has no function `{}`", method.name),
                                )
                                .related(*alias_span, "this package"),
                            );
                            None
                        }
                    };
                }
                let receiver = self.expr(receiver, scope, facts).expr?;
                self.method(receiver, method, args, span, scope, facts)
            }
            _ => {
                self.error(
                    Diagnostic::new(Code::UnknownFunction, callee.span, "this expression cannot be called")
                        .help("call a function by name, or a method on a value: `s.starts_with(\"x\")`"),
                );
                None
            }
        }
    }

    /// `ip("...")`, `cidr("...")`, `timestamp("...")`, `time("...")`.
    fn constructor(&mut self, name: &str, args: &[ast::Arg], span: Span) -> Option<Option<Expr>> {
        type Parse = fn(&str) -> Option<(Const, Type)>;
        let (parse, example): (Parse, &str) = match name {
            "ip" => (|s| values::parse_ip(s).map(|a| (Const::Ip(a), Type::Ip)), "ip(\"10.0.0.1\")"),
            "cidr" => (|s| values::parse_cidr(s).map(|c| (Const::Cidr(c), Type::Cidr)), "cidr(\"10.0.0.0/8\")"),
            "timestamp" => (
                |s| values::parse_timestamp(s).map(|t| (Const::Timestamp(t), Type::Timestamp)),
                "timestamp(\"2026-01-31T09:30:00Z\")",
            ),
            "time" => {
                (|s| values::parse_time_of_day(s).map(|t| (Const::TimeOfDay(t), Type::TimeOfDay)), "time(\"09:30\")")
            }
            _ => return None,
        };
        let text = match args {
            [ast::Arg::Expr(ast::Expr { kind: ast::ExprKind::Str(s), span: arg_span })] => (s, *arg_span),
            _ => {
                self.error(
                    Diagnostic::new(Code::InvalidLiteral, span, format!("`{name}` takes one string literal"))
                        .help(format!("write, for example, `{example}`")),
                );
                return Some(None);
            }
        };
        match parse(text.0) {
            Some((value, ty)) => Some(mk(ExprKind::Const(value), ty, span)),
            None => {
                self.error(
                    Diagnostic::new(Code::InvalidLiteral, text.1, format!("invalid `{name}` literal"))
                        .label(format!("`{}` cannot be read as a value of this kind", text.0))
                        .help(format!("write, for example, `{example}`")),
                );
                Some(None)
            }
        }
    }

    fn def_call(
        &mut self,
        id: DefId,
        name: &str,
        args: &[ast::Arg],
        span: Span,
        scope: &mut Scope,
        facts: &Facts,
    ) -> Option<Expr> {
        if let Some(caller) = scope.def {
            self.defs[caller.0 as usize].calls.push((id, span));
        }
        let params: Vec<Option<Type>> = self.defs[id.0 as usize].params.iter().map(|(_, _, t)| t.clone()).collect();
        let ret = self.defs[id.0 as usize].ret.clone();
        let decl_span = self.defs[id.0 as usize].decl.name.span;
        if args.len() != params.len() {
            self.error(
                Diagnostic::new(
                    Code::ArgumentCount,
                    span,
                    format!("`{name}` takes {} argument{}, {} given", params.len(), plural(params.len()), args.len()),
                )
                .related(decl_span, "declared here"),
            );
            return None;
        }
        let mut typed = Vec::new();
        let mut ok = true;
        for (arg, param) in args.iter().zip(&params) {
            let ast::Arg::Expr(arg) = arg else {
                self.lambda_outside_quantifier(arg_span(arg));
                ok = false;
                continue;
            };
            let value = self.expr(arg, scope, facts).expr;
            match (value, param) {
                (Some(value), Some(param)) => {
                    if assignable(&value.ty, param) {
                        typed.push(value);
                    } else {
                        let expected = format!("`{}`", self.show(param));
                        self.mismatch(value.span, &expected, &value.ty);
                        ok = false;
                    }
                }
                _ => ok = false,
            }
        }
        let ret = ret?;
        if !ok {
            return None;
        }
        mk(ExprKind::Call(id, typed), ret, span)
    }

    fn lambda_outside_quantifier(&mut self, span: Span) {
        self.error(
            Diagnostic::new(
                Code::TypeMismatch,
                span,
                "a function argument `x => ...` is only allowed in `any` and `all`",
            )
            .help("write `set.any(x => condition)` or `set.all(x => condition)`"),
        );
    }

    fn method(
        &mut self,
        receiver: Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        scope: &mut Scope,
        facts: &Facts,
    ) -> Option<Expr> {
        let name = method.name.as_str();
        let arity = |checker: &mut Checker<'_>, n: usize| -> bool {
            if args.len() == n {
                return true;
            }
            checker.error(Diagnostic::new(
                Code::ArgumentCount,
                span,
                format!("`{name}` takes {n} argument{}, {} given", plural(n), args.len()),
            ));
            false
        };
        let ty = receiver.ty.clone();
        match (&ty, name) {
            (Type::String, "starts_with" | "ends_with" | "contains") => {
                if !arity(self, 1) {
                    return None;
                }
                let arg = self.plain_arg(&args[0], scope, facts)?;
                if arg.ty != Type::String {
                    self.mismatch(arg.span, "a `String`", &arg.ty);
                    return None;
                }
                let op = match name {
                    "starts_with" => StrOp::StartsWith,
                    "ends_with" => StrOp::EndsWith,
                    _ => StrOp::Contains,
                };
                mk(ExprKind::StrOp(op, boxed(receiver), boxed(arg)), Type::Bool, span)
            }
            (Type::Set(element), "contains") => {
                if !arity(self, 1) {
                    return None;
                }
                let arg = self.plain_arg(&args[0], scope, facts)?;
                if unify(&arg.ty, element).is_none() {
                    let expected = format!("an element of type `{}`", self.show(element));
                    self.mismatch(arg.span, &expected, &arg.ty);
                    return None;
                }
                mk(ExprKind::InSet(boxed(arg), boxed(receiver)), Type::Bool, span)
            }
            (Type::Set(_), "contains_all" | "contains_any") => {
                if !arity(self, 1) {
                    return None;
                }
                let arg = self.plain_arg(&args[0], scope, facts)?;
                if unify(&arg.ty, &ty).is_none() {
                    let expected = format!("a `{}`", self.show(&ty));
                    self.mismatch(arg.span, &expected, &arg.ty);
                    return None;
                }
                let kind = if name == "contains_all" {
                    ExprKind::ContainsAll(boxed(receiver), boxed(arg))
                } else {
                    ExprKind::ContainsAny(boxed(receiver), boxed(arg))
                };
                mk(kind, Type::Bool, span)
            }
            (Type::Set(_), "is_empty") => {
                arity(self, 0).then(|| mk(ExprKind::IsEmpty(boxed(receiver)), Type::Bool, span)).flatten()
            }
            (Type::Set(_), "size") => {
                arity(self, 0).then(|| mk(ExprKind::Size(boxed(receiver)), Type::INT, span)).flatten()
            }
            (Type::Set(element), "any" | "all") => {
                if !arity(self, 1) {
                    return None;
                }
                let ast::Arg::Lambda(var_name, body) = &args[0] else {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            arg_span(&args[0]),
                            format!("`{name}` takes a condition on each element"),
                        )
                        .help(format!("write `set.{name}(x => condition on x)`")),
                    );
                    return None;
                };
                let var = self.fresh_var();
                self.index.var(var, var_name.span);
                scope.locals.push(Local { name: var_name.name.clone(), var, ty: Some(element.as_ref().clone()) });
                let body = self.condition(body, scope, facts).expr;
                scope.locals.pop();
                let body = body?;
                let all = name == "all";
                mk(ExprKind::Quantifier { all, var, set: boxed(receiver), body: boxed(body) }, Type::Bool, span)
            }
            (Type::Timestamp, "time_of_day") => {
                arity(self, 0).then(|| mk(ExprKind::TimeOfDay(boxed(receiver)), Type::TimeOfDay, span)).flatten()
            }
            _ => {
                let shown = self.show(&ty);
                let known: &[&str] = match ty {
                    Type::String => &["starts_with", "ends_with", "contains"],
                    Type::Set(_) => &["contains", "contains_all", "contains_any", "is_empty", "size", "any", "all"],
                    Type::Timestamp => &["time_of_day"],
                    _ => &[],
                };
                let mut d = Diagnostic::new(
                    Code::UnknownFunction,
                    method.span,
                    format!("no method `{name}` on a value of type `{shown}`"),
                );
                d = match super::closest(name, known.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if known.is_empty() => d.help(format!("values of type `{shown}` have no methods")),
                    None => d.help(format!("the methods of `{shown}` are: {}", known.join(", "))),
                };
                self.error(d);
                None
            }
        }
    }

    fn plain_arg(&mut self, arg: &ast::Arg, scope: &mut Scope, facts: &Facts) -> Option<Expr> {
        match arg {
            ast::Arg::Expr(e) => self.expr(e, scope, facts).expr,
            ast::Arg::Lambda(..) => {
                self.lambda_outside_quantifier(arg_span(arg));
                None
            }
        }
    }
}

fn arg_span(arg: &ast::Arg) -> Span {
    match arg {
        ast::Arg::Expr(e) => e.span,
        ast::Arg::Lambda(name, body) => name.span.to(body.span),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
