//! The reference interpreter: the executable definition of Ward's semantics.
//!
//! It is written for clarity, not speed, and is the oracle that every other
//! engine (the compiled WebAssembly in particular) is tested against. Given
//! a checked [`Program`] and a [`Request`] it guarantees:
//!
//! - **Fail closed on bad requests.** The request is validated against the
//!   whole schema (the principal's and the resource's entity types, their
//!   ancestors, the action, the context, recursively into records and sets)
//!   before any rule runs, whether or not a rule reads the attribute. Every
//!   problem is reported, sorted, with the path of the offending value
//!   (`principal.mfa_age`, `context.device.managed`, `resource.tags[2]`,
//!   `principal.ancestors[0]`, `principal.type`, `action`); the decision is
//!   deny, with no rules, reasons or obligations ([`request`]).
//! - **Fail closed on evaluation errors.** Every rule whose scope matches is
//!   evaluated (clauses and `&&` / `||` short-circuit within it). If any of
//!   them fails (checked arithmetic overflowed) the decision is deny, with
//!   one error per failing rule, naming it (kind `overflow`, message
//!   `integer overflow`, as the decision-module ABI reports it), and
//!   nothing else ([`eval`]).
//! - **Default deny, deny overrides.** Otherwise: any applicable forbid →
//!   deny, determined by the applicable forbids; else any applicable permit
//!   → allow, determined by the applicable permits; else deny, determined by
//!   no rule.
//! - **Order independence.** `rules` are the determining rules' ids, sorted
//!   and deduplicated; `reasons` their `@reason`s in that order, one per id
//!   (rules without a reason contribute nothing; should two rules share an
//!   id and differ in reason, the least reason is taken); `obligations` the
//!   union of their obligations, rendered ([`value::render_const`]), sorted
//!   and deduplicated; `errors` sorted and deduplicated. Permuting the rules
//!   or repeating rules (with the same id or a fresh one) changes nothing
//!   except, for a repeat with a fresh id, that id's presence in `rules`.
//! - **Deterministic evaluation.** Operands are evaluated left to right;
//!   `&&`, `||`, `if` and successive clauses short-circuit; quantifiers
//!   visit a set's elements in ascending order ([`value::Value`]) and stop
//!   at the first that decides, so which overflow is met is well defined.
//!   Only the principal and the resource carry attributes: reading an
//!   attribute of any other entity (an entity-valued attribute, a literal)
//!   is an error of kind `missing_attribute` for the rule, not a guess.
//! - **No panics.** A program that breaks the checker's invariants (say, an
//!   optional attribute read without a `has` guard) is an error for the rule
//!   concerned, hence a deny, never a crash.

pub mod eval;
pub mod pattern;
pub mod request;
pub mod value;

use std::collections::{BTreeMap, BTreeSet};

use ward_types::decision::ObligationArg;
use ward_types::{Decision, DecisionError, ErrorKind, Obligation, Outcome, Request};

use crate::program::{Effect, ObligationUse, Program, Rule};
use eval::Evaluator;

/// Decides a request.
pub fn decide(program: &Program, request: &Request) -> Decision {
    let request = match request::validate(program, request) {
        Ok(request) => request,
        Err(errors) => return Decision::fail_closed(errors),
    };
    let evaluator = Evaluator::new(program, &request);
    let mut permits: Vec<&Rule> = Vec::new();
    let mut forbids: Vec<&Rule> = Vec::new();
    let mut errors: Vec<DecisionError> = Vec::new();
    for rule in &program.rules {
        if !evaluator.scope_matches(&rule.scope) {
            continue;
        }
        match evaluator.conditions_hold(rule) {
            Ok(true) => match rule.effect {
                Effect::Permit => permits.push(rule),
                Effect::Forbid => forbids.push(rule),
            },
            Ok(false) => {}
            Err(e) => errors.push(rule_error(rule, e.kind(), e.message().to_owned())),
        }
    }
    let (outcome, determining) = if !forbids.is_empty() {
        (Outcome::Deny, forbids)
    } else if !permits.is_empty() {
        (Outcome::Allow, permits)
    } else {
        (Outcome::Deny, Vec::new())
    };
    let mut obligations = Vec::new();
    for rule in &determining {
        for used in &rule.obligations {
            match render_obligation(program, used) {
                Some(o) => obligations.push(o),
                None => errors.push(rule_error(
                    rule,
                    ErrorKind::WrongType,
                    "internal error: an obligation does not match its declaration".into(),
                )),
            }
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Decision::fail_closed(errors);
    }
    obligations.sort();
    obligations.dedup();
    // Per id, the least reason among the determining rules with that id.
    let mut by_id: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for rule in &determining {
        let entry = by_id.entry(rule.id.as_str()).or_insert(None);
        if let Some(reason) = rule.reason.as_deref() {
            *entry = Some(entry.map_or(reason, |r: &str| r.min(reason)));
        }
    }
    Decision {
        decision: outcome,
        rules: by_id.keys().map(|id| (*id).to_owned()).collect(),
        reasons: by_id.values().flatten().map(|r| (*r).to_owned()).collect(),
        obligations,
        errors: Vec::new(),
    }
}

/// Decides a request given as JSON text; a document that is not a request
/// is a deny with a `malformed_request` error.
pub fn decide_json(program: &Program, request: &[u8]) -> Decision {
    match Request::from_json(request) {
        Ok(request) => decide(program, &request),
        Err(error) => Decision::fail_closed(vec![error]),
    }
}

fn rule_error(rule: &Rule, kind: ErrorKind, message: String) -> DecisionError {
    DecisionError { kind, path: None, rule: Some(rule.id.clone()), message }
}

/// An obligation with its arguments rendered by parameter name; `None` if
/// it does not match its declaration (not possible in a checked program).
pub fn render_obligation(program: &Program, used: &ObligationUse) -> Option<Obligation> {
    let decl = program.obligations.get(used.obligation.0 as usize)?;
    if decl.params.len() != used.args.len() {
        return None;
    }
    let mut args = BTreeMap::new();
    let mut names = BTreeSet::new();
    for ((name, _), arg) in decl.params.iter().zip(&used.args) {
        if !names.insert(name) {
            return None;
        }
        args.insert(name.clone(), ObligationArg(value::render_const(&program.schema, arg)?));
    }
    Some(Obligation { name: decl.name.clone(), args })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
