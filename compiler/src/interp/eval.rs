//! Scope matching and expression evaluation over a validated request.
//!
//! Evaluation is strict except where the language says otherwise: `&&`,
//! `||`, `if`, successive rule clauses and quantifiers short-circuit;
//! everything else evaluates its operands left to right. The only errors a
//! checked program can meet are arithmetic overflows; anything else (a
//! value of the wrong kind, an absent attribute, an unbound variable) means
//! the program broke the checker's invariants and is reported as an error
//! too, so that the decision fails closed instead of panicking.

use std::collections::BTreeSet;

use ward_types::ErrorKind;
use ward_types::values::DAY_MS;

use super::pattern;
use super::request::ValidRequest;
use super::value::{EntityKey, EntityValue, Value};
use crate::program::{ArithOp, EntityScope, Expr, ExprKind, Ordering, Program, Rule, RuleScope, StrOp, VarId};

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// Checked arithmetic overflowed: a 64-bit integer, duration or
    /// timestamp result out of range.
    Overflow(String),
    /// The program does not satisfy the checker's invariants (a value of an
    /// unexpected kind, an absent attribute read, an unbound variable).
    Internal(ErrorKind, String),
}

impl EvalError {
    /// The decision error kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EvalError::Overflow(_) => ErrorKind::Overflow,
            EvalError::Internal(kind, _) => *kind,
        }
    }

    /// The message a decision reports. Every overflow is reported as
    /// `integer overflow`, as the decision-module ABI (`spec/abi.md`) has
    /// it, whatever overflowed; [`EvalError::detail`] says more.
    pub fn message(&self) -> &str {
        match self {
            EvalError::Overflow(_) => "integer overflow",
            EvalError::Internal(_, m) => m,
        }
    }

    /// What went wrong, in detail.
    pub fn detail(&self) -> &str {
        match self {
            EvalError::Overflow(m) | EvalError::Internal(_, m) => m,
        }
    }
}

type Result<T> = std::result::Result<T, EvalError>;

fn internal<T>(message: String) -> Result<T> {
    Err(EvalError::Internal(ErrorKind::WrongType, format!("internal error: {message}")))
}

fn unexpected<T>(what: &str, value: &Value) -> Result<T> {
    internal(format!("{what} expects other operands, found a value of kind `{}`", value.kind()))
}

/// Local variables in scope, innermost last.
type Env = Vec<(VarId, Value)>;

/// Evaluates rules of one program against one validated request.
#[derive(Debug)]
pub struct Evaluator<'a> {
    program: &'a Program,
    request: &'a ValidRequest,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for this request.
    pub fn new(program: &'a Program, request: &'a ValidRequest) -> Evaluator<'a> {
        Evaluator { program, request }
    }

    /// Whether the rule's scope head matches the request. Never fails.
    pub fn scope_matches(&self, scope: &RuleScope) -> bool {
        entity_matches(&scope.principal, &self.request.principal)
            && scope.actions.as_ref().is_none_or(|actions| actions.contains(&self.request.action))
            && entity_matches(&scope.resource, &self.request.resource)
    }

    /// Whether a rule whose scope matches applies: every `when` clause holds
    /// and no `unless` clause does, in order, stopping at the first clause
    /// that decides.
    pub fn conditions_hold(&self, rule: &Rule) -> Result<bool> {
        for (when, condition) in &rule.conditions {
            if self.bool(condition, &mut Vec::new())? != *when {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a rule applies: its scope matches and its conditions hold.
    pub fn applies(&self, rule: &Rule) -> Result<bool> {
        if !self.scope_matches(&rule.scope) {
            return Ok(false);
        }
        self.conditions_hold(rule)
    }

    /// Evaluates a closed expression (no free variables).
    pub fn eval_closed(&self, e: &Expr) -> Result<Value> {
        self.eval(e, &mut Vec::new())
    }

    fn bool(&self, e: &Expr, env: &mut Env) -> Result<bool> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(b),
            other => unexpected("a condition", &other),
        }
    }

    fn set(&self, e: &Expr, env: &mut Env) -> Result<BTreeSet<Value>> {
        match self.eval(e, env)? {
            Value::Set(s) => Ok(s),
            other => unexpected("a set operation", &other),
        }
    }

    fn string(&self, e: &Expr, env: &mut Env) -> Result<String> {
        match self.eval(e, env)? {
            Value::Str(s) => Ok(s),
            other => unexpected("a string operation", &other),
        }
    }

    /// Evaluates `body` with `var` bound to `value`.
    fn with_var<T>(
        &self,
        env: &mut Env,
        var: VarId,
        value: Value,
        body: impl FnOnce(&mut Env) -> Result<T>,
    ) -> Result<T> {
        env.push((var, value));
        let result = body(env);
        env.pop();
        result
    }

    fn eval(&self, e: &Expr, env: &mut Env) -> Result<Value> {
        crate::stack::grow(|| self.eval_kind(e, env))
    }

    fn eval_kind(&self, e: &Expr, env: &mut Env) -> Result<Value> {
        match &e.kind {
            ExprKind::Const(c) => Ok(Value::from_const(c)),
            ExprKind::Principal => Ok(self.request.principal.clone()),
            ExprKind::Resource => Ok(self.request.resource.clone()),
            ExprKind::Context => Ok(self.request.context.clone()),
            ExprKind::Var(var) => match env.iter().rev().find(|(v, _)| v == var) {
                Some((_, value)) => Ok(value.clone()),
                None => internal(format!("variable {} is not bound", var.0)),
            },
            ExprKind::Attr(base, name) => {
                let base = self.eval(base, env)?;
                match attribute(&base, name)? {
                    Some(value) => Ok(value.clone()),
                    None => Err(EvalError::Internal(
                        ErrorKind::MissingAttribute,
                        format!("internal error: attribute `{name}` is absent and was read without a `has` test"),
                    )),
                }
            }
            ExprKind::Has(base, name) => {
                let base = self.eval(base, env)?;
                Ok(Value::Bool(attribute(&base, name)?.is_some()))
            }
            ExprKind::Set(elements) => {
                let mut set = BTreeSet::new();
                for element in elements {
                    set.insert(self.eval(element, env)?);
                }
                Ok(Value::Set(set))
            }
            ExprKind::Not(inner) => Ok(Value::Bool(!self.bool(inner, env)?)),
            ExprKind::Neg(inner) => match self.eval(inner, env)? {
                Value::Int(n) => n.checked_neg().map(Value::Int).ok_or_else(|| overflow("integer", "unary `-`")),
                Value::Duration(d) => {
                    d.checked_neg().map(Value::Duration).ok_or_else(|| overflow("duration", "unary `-`"))
                }
                other => unexpected("unary `-`", &other),
            },
            ExprKind::And(a, b) => Ok(Value::Bool(self.bool(a, env)? && self.bool(b, env)?)),
            ExprKind::Or(a, b) => Ok(Value::Bool(self.bool(a, env)? || self.bool(b, env)?)),
            ExprKind::If(c, a, b) => {
                if self.bool(c, env)? {
                    self.eval(a, env)
                } else {
                    self.eval(b, env)
                }
            }
            ExprKind::Let(var, value, body) => {
                let value = self.eval(value, env)?;
                self.with_var(env, *var, value, |env| self.eval(body, env))
            }
            ExprKind::Equal { negated, left, right } => {
                let left = self.eval(left, env)?;
                let right = self.eval(right, env)?;
                Ok(Value::Bool((left == right) != *negated))
            }
            ExprKind::Compare(op, left, right) => {
                let left = self.eval(left, env)?;
                let right = self.eval(right, env)?;
                let order = match (&left, &right) {
                    (Value::Int(a), Value::Int(b))
                    | (Value::Duration(a), Value::Duration(b))
                    | (Value::Timestamp(a), Value::Timestamp(b))
                    | (Value::TimeOfDay(a), Value::TimeOfDay(b)) => a.cmp(b),
                    (Value::Enum(t, a), Value::Enum(u, b)) if t == u => a.cmp(b),
                    _ => return unexpected("an ordering comparison", &left),
                };
                Ok(Value::Bool(match op {
                    Ordering::Lt => order.is_lt(),
                    Ordering::Le => order.is_le(),
                    Ordering::Gt => order.is_gt(),
                    Ordering::Ge => order.is_ge(),
                }))
            }
            ExprKind::Arith(op, left, right) => {
                let left = self.eval(left, env)?;
                let right = self.eval(right, env)?;
                arith(*op, &left, &right)
            }
            ExprKind::InHierarchy(entity, targets) => {
                let entity = self.eval(entity, env)?;
                let targets = self.eval(targets, env)?;
                in_hierarchy(&entity, &targets).map(Value::Bool)
            }
            ExprKind::InSet(element, set) => {
                let element = self.eval(element, env)?;
                let set = self.set(set, env)?;
                Ok(Value::Bool(set.contains(&element)))
            }
            ExprKind::InRange(ip, range) => match (self.eval(ip, env)?, self.eval(range, env)?) {
                (Value::Ip(ip), Value::Cidr(range)) => Ok(Value::Bool(range.contains(ip))),
                (other, _) => unexpected("`in` on an address", &other),
            },
            ExprKind::Like(text, parts) => {
                let text = self.string(text, env)?;
                Ok(Value::Bool(pattern::matches(parts, &text)))
            }
            ExprKind::StrOp(op, text, arg) => {
                let text = self.string(text, env)?;
                let arg = self.string(arg, env)?;
                Ok(Value::Bool(match op {
                    StrOp::StartsWith => text.starts_with(&arg),
                    StrOp::EndsWith => text.ends_with(&arg),
                    StrOp::Contains => text.contains(&arg),
                }))
            }
            ExprKind::ContainsAll(a, b) => {
                let a = self.set(a, env)?;
                let b = self.set(b, env)?;
                Ok(Value::Bool(b.is_subset(&a)))
            }
            ExprKind::ContainsAny(a, b) => {
                let a = self.set(a, env)?;
                let b = self.set(b, env)?;
                Ok(Value::Bool(!a.is_disjoint(&b)))
            }
            ExprKind::IsEmpty(s) => Ok(Value::Bool(self.set(s, env)?.is_empty())),
            ExprKind::Size(s) => {
                let size = self.set(s, env)?.len();
                match i64::try_from(size) {
                    Ok(n) => Ok(Value::Int(n)),
                    Err(_) => Err(overflow("integer", "`size()`")),
                }
            }
            ExprKind::Quantifier { all, var, set, body } => {
                // The body is evaluated for every element, so that whether
                // an element fails does not depend on the order of elements.
                let mut result = *all;
                for element in self.set(set, env)? {
                    let holds = self.with_var(env, *var, element, |env| self.bool(body, env))?;
                    if holds != *all {
                        result = holds;
                    }
                }
                Ok(Value::Bool(result))
            }
            ExprKind::TimeOfDay(ts) => match self.eval(ts, env)? {
                Value::Timestamp(t) => Ok(Value::TimeOfDay(t.rem_euclid(DAY_MS))),
                other => unexpected("`time_of_day()`", &other),
            },
            ExprKind::Call(def, args) => {
                let Some(def) = self.program.defs.get(def.0 as usize) else {
                    return internal(format!("no function with index {}", def.0));
                };
                if def.params.len() != args.len() {
                    return internal(format!(
                        "`{}` takes {} arguments, given {}",
                        def.name,
                        def.params.len(),
                        args.len()
                    ));
                }
                // Functions are closed: the body sees its parameters only.
                let mut frame = Env::new();
                for ((var, _), arg) in def.params.iter().zip(args) {
                    frame.push((*var, self.eval(arg, env)?));
                }
                self.eval(&def.body, &mut frame)
            }
        }
    }
}

fn overflow(what: &str, op: &str) -> EvalError {
    EvalError::Overflow(format!("{what} overflow in {op}: the result does not fit in 64 bits"))
}

/// The attribute of a record or of the principal or resource: `Ok(None)`
/// when it is absent.
fn attribute<'v>(base: &'v Value, name: &str) -> Result<Option<&'v Value>> {
    match base {
        Value::Record(fields) => Ok(fields.get(name)),
        Value::Entity(EntityValue { data: Some(data), .. }) => Ok(data.attrs.get(name)),
        Value::Entity(EntityValue { key, data: None }) => Err(EvalError::Internal(
            ErrorKind::MissingAttribute,
            format!(
                "the request carries no attributes of entity `{}` (only of the principal and the resource)",
                key.id
            ),
        )),
        other => unexpected("an attribute read", other),
    }
}

/// `entity in targets`: the entity is a target or has one among its ancestors.
fn in_hierarchy(entity: &Value, targets: &Value) -> Result<bool> {
    let Value::Entity(EntityValue { key, data: Some(data) }) = entity else {
        return internal("hierarchy membership is known only for the principal and the resource".into());
    };
    let is_within = |target: &EntityKey| target == key || data.ancestors.contains(target);
    match targets {
        Value::Entity(target) => Ok(is_within(&target.key)),
        Value::Set(set) => {
            let mut any = false;
            for target in set {
                match target {
                    Value::Entity(target) => any = any || is_within(&target.key),
                    other => return unexpected("`in` on an entity", other),
                }
            }
            Ok(any)
        }
        other => unexpected("`in` on an entity", other),
    }
}

/// Checked arithmetic.
pub fn arith(op: ArithOp, left: &Value, right: &Value) -> Result<Value> {
    let symbol = match op {
        ArithOp::Add => "`+`",
        ArithOp::Sub => "`-`",
        ArithOp::Mul => "`*`",
    };
    let f = |a: i64, b: i64| match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
    };
    match (op, left, right) {
        (_, Value::Int(a), Value::Int(b)) => f(*a, *b).map(Value::Int).ok_or_else(|| overflow("integer", symbol)),
        (ArithOp::Add | ArithOp::Sub, Value::Duration(a), Value::Duration(b)) => {
            f(*a, *b).map(Value::Duration).ok_or_else(|| overflow("duration", symbol))
        }
        (ArithOp::Add | ArithOp::Sub, Value::Timestamp(a), Value::Duration(b)) => {
            f(*a, *b).map(Value::Timestamp).ok_or_else(|| overflow("timestamp", symbol))
        }
        (ArithOp::Sub, Value::Timestamp(a), Value::Timestamp(b)) => {
            f(*a, *b).map(Value::Duration).ok_or_else(|| overflow("duration", symbol))
        }
        _ => internal(format!("{symbol} is not defined on `{}` and `{}`", left.kind(), right.kind())),
    }
}

fn entity_matches(scope: &EntityScope, entity: &Value) -> bool {
    let Value::Entity(EntityValue { key, data }) = entity else {
        return false;
    };
    let is_within = |lit: &crate::program::EntityLit| {
        let target = EntityKey::from(lit);
        target == *key || data.as_ref().is_some_and(|d| d.ancestors.contains(&target))
    };
    scope.types.as_ref().is_none_or(|types| types.contains(&key.ty))
        && scope.eq.as_ref().is_none_or(|lit| EntityKey::from(lit) == *key)
        && scope.within.as_ref().is_none_or(|lits| lits.iter().any(is_within))
}
