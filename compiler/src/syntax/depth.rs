//! A limit on how deeply expressions nest. Every phase after parsing walks
//! expressions recursively, so a tree thousands of levels deep (a generated
//! chain of `||`, say) must be refused before them, with a diagnostic,
//! rather than exhaust a thread's stack. The check and the disposal of a
//! refused tree are iterative.

use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{self, Arg, Expr, ExprKind, ScopeConstraint};

/// How many levels an expression may nest.
pub const MAX_DEPTH: usize = 1_000;

/// Replaces every expression of `file` that nests deeper than
/// [`MAX_DEPTH`] with an error node, reporting each.
pub fn limit(file: &mut ast::File, diagnostics: &mut Vec<Diagnostic>) {
    for item in &mut file.items {
        match item {
            ast::Item::Def(def) => limit_expr(&mut def.body, diagnostics),
            ast::Item::Rule(rule) => {
                for slot in [&mut rule.scope.principal, &mut rule.scope.resource] {
                    if let Some(ScopeConstraint::Eq(e) | ScopeConstraint::In(e)) = &mut slot.constraint {
                        limit_expr(e, diagnostics);
                    }
                }
                for condition in &mut rule.conditions {
                    limit_expr(&mut condition.expr, diagnostics);
                }
                for call in &mut rule.obligations {
                    for arg in &mut call.args {
                        limit_expr(&mut arg.value, diagnostics);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Replaces `e` with an error node, reporting it, if it nests deeper than
/// [`MAX_DEPTH`].
pub fn limit_expr(e: &mut Expr, diagnostics: &mut Vec<Diagnostic>) {
    if !too_deep(e) {
        return;
    }
    diagnostics.push(
        Diagnostic::new(
            Code::NestedTooDeeply,
            e.span,
            format!("this expression nests more than {MAX_DEPTH} levels deep"),
        )
        .label("nested too deeply")
        .help("an allow-list written as a chain of `||` can be a set: `x in [a, b, c]`"),
    );
    let refused = std::mem::replace(e, Expr { kind: ExprKind::Error, span: e.span });
    dismantle(refused);
}

fn too_deep(root: &mut Expr) -> bool {
    let mut stack = vec![(root, 1)];
    while let Some((e, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return true;
        }
        operands(e, &mut |operand| stack.push((operand, depth + 1)));
    }
    false
}

/// Calls `f` on each operand of `e`.
fn operands<'e>(e: &'e mut Expr, f: &mut dyn FnMut(&'e mut Expr)) {
    match &mut e.kind {
        ExprKind::Entity { ty: a, .. }
        | ExprKind::Attr(a, _)
        | ExprKind::Has(a, _)
        | ExprKind::Like(a, _)
        | ExprKind::Unary(_, a) => f(a),
        ExprKind::Binary(_, a, b) | ExprKind::Let(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::If(a, b, c) => {
            f(a);
            f(b);
            f(c);
        }
        ExprKind::Set(items) => items.iter_mut().for_each(f),
        ExprKind::Call { callee, args } => {
            f(callee);
            for arg in args {
                match arg {
                    Arg::Expr(e) | Arg::Lambda(_, e) => f(e),
                }
            }
        }
        ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Str(_)
        | ExprKind::Duration(_)
        | ExprKind::Name(_)
        | ExprKind::Principal
        | ExprKind::Resource
        | ExprKind::Context
        | ExprKind::Error => {}
    }
}

/// Drops a tree of any depth: each node's operands are taken out (an error
/// node left in their place) before it is dropped, so no drop recurses.
fn dismantle(root: Expr) {
    let mut stack = vec![root];
    while let Some(mut e) = stack.pop() {
        let span = e.span;
        operands(&mut e, &mut |operand| {
            stack.push(std::mem::replace(operand, Expr { kind: ExprKind::Error, span }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;
    use crate::syntax::parser::parse;

    /// A condition `depth` levels deep: `terms - 1` nested `||` over terms
    /// of three levels (`==`, `.n`, `context`).
    fn chain(depth: usize) -> String {
        let terms = depth - 2;
        let body = (0..terms).map(|k| format!("context.n == {k}")).collect::<Vec<_>>().join(" || ");
        format!("package p\ncontext {{ n: Int }}\npermit (principal, action, resource) when {body};\n")
    }

    #[test]
    fn an_expression_at_the_limit_is_kept_and_one_beyond_it_refused() {
        let kept = parse(FileId(0), &chain(MAX_DEPTH));
        assert!(kept.diagnostics.is_empty(), "{:?}", kept.diagnostics);
        let refused = parse(FileId(0), &chain(MAX_DEPTH + 1));
        let codes: Vec<Code> = refused.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::NestedTooDeeply]);
    }

    #[test]
    fn a_refused_tree_of_any_depth_is_dropped_without_recursion() {
        // Deep enough that a recursive drop would exhaust a test thread's stack.
        let refused = parse(FileId(0), &chain(200_000));
        assert_eq!(refused.diagnostics.len(), 1);
    }
}
