//! The decision IR: rules grouped per action and indexed by literal
//! equalities, so that a request evaluates only the rules that could apply
//! to it.
//!
//! A rule can be skipped when a test it evaluates before anything that can
//! fail is false: its scope's `==` on the principal or resource, or an
//! equality of an attribute with a string or enum literal among the leading
//! conjuncts of its conditions that no failing test precedes. Skipping it
//! then changes neither the decision nor the errors.

use std::collections::BTreeMap;

use super::layout::{ENTITY_ID, Layout, record_field};
use crate::program::{Const, DefId, Expr, ExprKind, Program, Rule, Type};

/// Where a key is read: an `i32` at this offset of the request. For a string
/// it is the slot's interned id, for an enum the value's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Offset in the encoded request.
    pub offset: u32,
}

/// A node of the dispatch tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// Evaluate these rules (indices into `Program::rules`).
    Leaf(Vec<usize>),
    /// Evaluate `rest`, then the case whose value the key has, if any.
    Switch {
        /// What to read.
        key: Key,
        /// Values and their rules.
        cases: Vec<(u32, Node)>,
        /// Rules without this key.
        rest: Box<Node>,
    },
}

/// A rule (its index into `Program::rules`) and the values its keys must have.
type RuleKeys = (usize, Vec<(Key, u32)>);

/// Leaves up to this size are not split further.
const LEAF_MAX: usize = 3;
/// Nesting limit for switches.
const MAX_DEPTH: usize = 6;

/// One dispatch tree per action, in action order.
pub fn build(program: &Program, layout: &Layout, string_id: &mut dyn FnMut(&str) -> u32) -> Vec<Node> {
    let mut can_fail_memo: BTreeMap<DefId, bool> = BTreeMap::new();
    let keyed: Vec<Vec<(Key, u32)>> =
        program.rules.iter().map(|rule| rule_keys(program, rule, layout, string_id, &mut can_fail_memo)).collect();
    (0..program.schema.actions.len())
        .map(|a| {
            let action = &program.schema.actions[a];
            let rules: Vec<RuleKeys> = program
                .rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| {
                    let action_ok =
                        rule.scope.actions.as_ref().is_none_or(|list| list.iter().any(|x| x.0 as usize == a));
                    let principal_ok = rule
                        .scope
                        .principal
                        .types
                        .as_ref()
                        .is_none_or(|ts| ts.iter().any(|t| action.principals.contains(t)));
                    let resource_ok = rule
                        .scope
                        .resource
                        .types
                        .as_ref()
                        .is_none_or(|ts| ts.iter().any(|t| action.resources.contains(t)));
                    action_ok && principal_ok && resource_ok
                })
                .map(|(i, _)| (i, keyed[i].clone()))
                .collect();
            split(rules, &mut Vec::new())
        })
        .collect()
}

fn split(rules: Vec<RuleKeys>, used: &mut Vec<Key>) -> Node {
    if rules.len() <= LEAF_MAX || used.len() >= MAX_DEPTH {
        return Node::Leaf(rules.into_iter().map(|(i, _)| i).collect());
    }
    let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
    for (_, keys) in &rules {
        let mut seen: Vec<Key> = Vec::new();
        for (key, _) in keys {
            if !used.contains(key) && !seen.contains(key) {
                seen.push(*key);
                *counts.entry(*key).or_default() += 1;
            }
        }
    }
    let best = counts.iter().max_by_key(|(key, count)| (**count, std::cmp::Reverse(**key))).map(|(k, c)| (*k, *c));
    let Some((key, count)) = best.filter(|(_, c)| *c >= 2) else {
        return Node::Leaf(rules.into_iter().map(|(i, _)| i).collect());
    };
    let _ = count;
    let mut cases: BTreeMap<u32, Vec<RuleKeys>> = BTreeMap::new();
    let mut rest = Vec::new();
    for (index, keys) in rules {
        match keys.iter().find(|(k, _)| *k == key) {
            Some((_, value)) => cases.entry(*value).or_default().push((index, keys)),
            None => rest.push((index, keys)),
        }
    }
    used.push(key);
    let cases = cases.into_iter().map(|(value, group)| (value, split(group, used))).collect();
    let rest = Box::new(split(rest, used));
    used.pop();
    Node::Switch { key, cases, rest }
}

/// The keys a rule can be dispatched on, with their values.
fn rule_keys(
    program: &Program,
    rule: &Rule,
    layout: &Layout,
    string_id: &mut dyn FnMut(&str) -> u32,
    memo: &mut BTreeMap<DefId, bool>,
) -> Vec<(Key, u32)> {
    let schema = &layout.schema;
    let mut keys = Vec::new();
    if let Some(lit) = &rule.scope.principal.eq {
        keys.push((Key { offset: schema.principal_offset + ENTITY_ID }, string_id(&lit.id)));
    }
    if let Some(lit) = &rule.scope.resource.eq {
        keys.push((Key { offset: schema.resource_offset + ENTITY_ID }, string_id(&lit.id)));
    }
    for (when, condition) in &rule.conditions {
        let mut conjuncts = Vec::new();
        if *when {
            flatten_and(condition, &mut conjuncts);
        } else {
            conjuncts.push(condition);
        }
        for c in conjuncts {
            if *when && let Some(key) = equality_key(c, layout, string_id) {
                keys.push(key);
            }
            if can_fail(program, c, memo) {
                return keys;
            }
        }
    }
    keys
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::And(a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        _ => out.push(e),
    }
}

/// `attribute == "literal"`, `attribute == Enum.value` or
/// `principal == T::"id"`, as a key and value.
fn equality_key(e: &Expr, layout: &Layout, string_id: &mut dyn FnMut(&str) -> u32) -> Option<(Key, u32)> {
    let ExprKind::Equal { negated: false, left, right } = &e.kind else { return None };
    let (path, constant) = match (&left.kind, &right.kind) {
        (_, ExprKind::Const(c)) => (left.as_ref(), c),
        (ExprKind::Const(c), _) => (right.as_ref(), c),
        _ => return None,
    };
    match (&path.kind, constant) {
        (ExprKind::Principal, Const::Entity(lit)) => {
            Some((Key { offset: layout.schema.principal_offset + ENTITY_ID }, string_id(&lit.id)))
        }
        (ExprKind::Resource, Const::Entity(lit)) => {
            Some((Key { offset: layout.schema.resource_offset + ENTITY_ID }, string_id(&lit.id)))
        }
        (_, Const::Str(s)) if path.ty == Type::String => {
            Some((Key { offset: path_offset(path, layout)? }, string_id(s)))
        }
        (_, Const::Enum(_, index)) => Some((Key { offset: path_offset(path, layout)? }, *index)),
        _ => None,
    }
}

/// The request offset of an attribute path with one fixed location.
fn path_offset(e: &Expr, layout: &Layout) -> Option<u32> {
    match &e.kind {
        ExprKind::Attr(base, name) => match &base.ty {
            Type::Record(record) => {
                let base_offset = match base.kind {
                    ExprKind::Context => layout.schema.context_offset,
                    _ => path_offset(base, layout)?,
                };
                Some(base_offset + record_field(record, name)?.offset)
            }
            Type::Entity(types) => {
                let block = match base.kind {
                    ExprKind::Principal => layout.schema.principal_offset,
                    ExprKind::Resource => layout.schema.resource_offset,
                    _ => return None,
                };
                let mut offsets = types.iter().map(|t| layout.entity_field(*t, name).map(|f| f.offset));
                let first = offsets.next()??;
                offsets.all(|o| o == Some(first)).then_some(block + first)
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether evaluating the expression can fail (integer overflow).
pub fn can_fail(program: &Program, e: &Expr, memo: &mut BTreeMap<DefId, bool>) -> bool {
    let mut fails = false;
    visit(e, &mut |e| match &e.kind {
        ExprKind::Arith(..) | ExprKind::Neg(_) => fails = true,
        ExprKind::Call(def, _) => {
            let known = memo.get(def).copied();
            let result = match known {
                Some(r) => r,
                None => {
                    // Functions are not recursive, so this terminates.
                    let r = program.defs.get(def.0 as usize).is_none_or(|d| can_fail(program, &d.body, memo));
                    memo.insert(*def, r);
                    r
                }
            };
            fails |= result;
        }
        _ => {}
    });
    fails
}

/// Calls `f` on every subexpression.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    // Deep expressions, and callers that follow calls into the bodies of a
    // long chain of functions, recurse deeply.
    crate::stack::grow(|| visit_unguarded(e, f));
}

fn visit_unguarded(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Const(_) | ExprKind::Principal | ExprKind::Resource | ExprKind::Context | ExprKind::Var(_) => {}
        ExprKind::Attr(a, _)
        | ExprKind::Has(a, _)
        | ExprKind::Not(a)
        | ExprKind::Neg(a)
        | ExprKind::Like(a, _)
        | ExprKind::IsEmpty(a)
        | ExprKind::Size(a)
        | ExprKind::TimeOfDay(a) => visit(a, f),
        ExprKind::Set(items) | ExprKind::Call(_, items) => items.iter().for_each(|i| visit(i, f)),
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Let(_, a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b)
        | ExprKind::InHierarchy(a, b)
        | ExprKind::InSet(a, b)
        | ExprKind::InRange(a, b)
        | ExprKind::StrOp(_, a, b)
        | ExprKind::ContainsAll(a, b)
        | ExprKind::ContainsAny(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        ExprKind::Equal { left, right, .. } => {
            visit(left, f);
            visit(right, f);
        }
        ExprKind::If(a, b, c) => {
            visit(a, f);
            visit(b, f);
            visit(c, f);
        }
        ExprKind::Quantifier { set, body, .. } => {
            visit(set, f);
            visit(body, f);
        }
    }
}
