//! Turning a module's answer (status and rule indices) into a decision.

use ward_types::manifest::{Effect, status};
use ward_types::{Decision, DecisionError, ErrorKind, Outcome};

use crate::schema::Schema;

/// A deny with one error.
pub(crate) fn deny(kind: ErrorKind, message: impl Into<String>) -> Decision {
    Decision::fail_closed(vec![DecisionError { kind, path: None, rule: None, message: message.into() }])
}

/// A deny for a module that answered outside the ABI.
pub(crate) fn invalid_answer(message: impl std::fmt::Display) -> Decision {
    deny(ErrorKind::MalformedRequest, format!("the decision module gave an invalid answer: {message}"))
}

/// Whether `status` comes with rule indices.
pub(crate) fn has_indices(status: i32) -> bool {
    matches!(status, status::ALLOW | status::DENY_FORBID | status::ERROR)
}

/// Checks the indices against the status and sorts them by rule id, then
/// index. On an inconsistent answer, the deny to return instead.
pub(crate) fn check(schema: &Schema, status: i32, indices: &mut Vec<u32>) -> Result<(), Decision> {
    if !has_indices(status) {
        indices.clear();
        return Ok(());
    }
    let rules = &schema.manifest.rules;
    if indices.is_empty() {
        return Err(invalid_answer(format!("status {status} without any rule")));
    }
    for &i in indices.iter() {
        let Some(rule) = rules.get(i as usize) else {
            return Err(invalid_answer(format!("rule index {i} is out of range ({} rules)", rules.len())));
        };
        let expected = match status {
            status::ALLOW => Some(Effect::Permit),
            status::DENY_FORBID => Some(Effect::Forbid),
            _ => None,
        };
        if expected.is_some_and(|e| e != rule.effect) {
            return Err(invalid_answer(format!("status {status} names rule `{}` of the other effect", rule.id)));
        }
    }
    let rank = |i: u32| schema.id_rank.get(i as usize).copied().unwrap_or(0);
    indices.sort_unstable_by_key(|&i| (rank(i), i));
    Ok(())
}

/// The decision for a checked answer (indices as [`check`] leaves them). Obligations are gathered from every
/// indexed rule, then sorted and made distinct; rules and reasons are one
/// per distinct id, sorted by id.
pub(crate) fn decision(schema: &Schema, status: i32, indices: &[u32]) -> Decision {
    let rules = &schema.manifest.rules;
    let id = |i: u32| rules.get(i as usize).map_or("", |r| r.id.as_str());
    let groups = || by_id(schema, indices);
    match status {
        status::ALLOW | status::DENY_FORBID => {
            let mut which: Vec<u32> = Vec::new();
            for &i in indices {
                which.extend(schema.rule_obligations.get(i as usize).into_iter().flatten());
            }
            which.sort_unstable();
            which.dedup();
            let obligations = which.iter().filter_map(|&o| schema.obligations.get(o as usize).cloned()).collect();
            let mut ids = Vec::with_capacity(indices.len());
            let mut reasons = Vec::new();
            for group in groups() {
                ids.push(group.first().map_or("", |&i| id(i)).to_owned());
                // Should rules sharing an id differ in reason, the least one.
                let reason = group.iter().filter_map(|&i| rules.get(i as usize)?.reason.as_deref()).min();
                reasons.extend(reason.map(str::to_owned));
            }
            Decision {
                decision: if status == status::ALLOW { Outcome::Allow } else { Outcome::Deny },
                rules: ids,
                reasons,
                obligations,
                errors: Vec::new(),
            }
        }
        status::DENY_DEFAULT => Decision::fail_closed(Vec::new()),
        status::ERROR => Decision::fail_closed(
            groups()
                .map(|group| DecisionError {
                    kind: ErrorKind::Overflow,
                    path: None,
                    rule: Some(group.first().map_or("", |&i| id(i)).to_owned()),
                    message: "integer overflow".to_owned(),
                })
                .collect(),
        ),
        status::BAD_INPUT => deny(ErrorKind::MalformedRequest, "the decision module could not read the request"),
        other => invalid_answer(format!("unknown status {other}")),
    }
}

/// Checked indices (sorted by id rank) in runs of rules sharing an id,
/// lowest index first.
fn by_id<'a>(schema: &'a Schema, indices: &'a [u32]) -> impl Iterator<Item = &'a [u32]> + 'a {
    let rank = |i: u32| schema.id_rank.get(i as usize).copied().unwrap_or(0);
    indices.chunk_by(move |&a, &b| rank(a) == rank(b))
}

/// A module's answer to one request, before it becomes a [`Decision`]:
/// borrowed from the evaluator, built without allocating when the module
/// answered. For hot paths that look at the outcome and the determining
/// rules (whose obligations are in [`DecisionModule::manifest`]) and build a
/// full decision only when they need one.
///
/// [`DecisionModule::manifest`]: crate::DecisionModule::manifest
#[derive(Debug)]
pub struct Verdict<'e> {
    pub(crate) schema: &'e Schema,
    pub(crate) answer: Result<(i32, &'e [u32]), Decision>,
}

impl Verdict<'_> {
    /// Allow or deny. Anything but a well-formed allow answer is a deny.
    pub fn outcome(&self) -> Outcome {
        if self.is_allow() { Outcome::Allow } else { Outcome::Deny }
    }

    /// Whether the request is allowed (the determining rules' obligations
    /// must then be discharged, or the request denied).
    pub fn is_allow(&self) -> bool {
        matches!(self.answer, Ok((status::ALLOW, _)))
    }

    /// Indices into the manifest's `rules` of the determining rules (or of
    /// the failing rules, for an overflow), sorted by rule id. Empty for a
    /// default deny and for a request that was not evaluated.
    pub fn rule_indices(&self) -> &[u32] {
        match &self.answer {
            Ok((_, indices)) => indices,
            Err(_) => &[],
        }
    }

    /// The ids of the determining rules, distinct and sorted, borrowed from
    /// the manifest: what the decision's `rules` holds, without allocating.
    /// Empty for a deny without determining rules (default, errors).
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> + '_ {
        let indices = match &self.answer {
            Ok((status::ALLOW | status::DENY_FORBID, indices)) => indices,
            _ => &[][..],
        };
        let rules = &self.schema.manifest.rules;
        by_id(self.schema, indices).filter_map(|group| rules.get(*group.first()? as usize).map(|r| r.id.as_str()))
    }

    /// The decision, as [`crate::Evaluator::decide`] returns it.
    pub fn to_decision(&self) -> Decision {
        match &self.answer {
            Ok((status, indices)) => decision(self.schema, *status, indices),
            Err(decision) => decision.clone(),
        }
    }

    /// The decision, consuming the verdict.
    pub fn into_decision(self) -> Decision {
        match self.answer {
            Ok((status, indices)) => decision(self.schema, status, indices),
            Err(decision) => decision,
        }
    }
}
