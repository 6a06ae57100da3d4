//! Limits on how deeply trees nest: expressions, types and test data.
//! Every phase after parsing walks them recursively, so a tree thousands of
//! levels deep (a generated chain of `||`, say) must be refused before
//! them, with a diagnostic, rather than exhaust a thread's stack. The check
//! and the disposal of a refused tree are iterative.
//!
//! Types are held lower than expressions: a record type becomes part of a
//! module's manifest and of every request, which readers parse with
//! bounded recursion. The checker holds types to the same limit once
//! declared types are expanded (`check/decls.rs`).

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, Arg, Data, DataKind, Expr, ExprKind, ScopeConstraint, TypeExpr};

/// How many levels an expression may nest.
pub const MAX_EXPR_DEPTH: usize = 1_000;
/// How many levels a type may nest (each record and set adds one).
pub const MAX_TYPE_DEPTH: usize = 32;
/// How many functions a chain of calls may pass through, each calling the
/// next (the checker's limit: functions are inlined, so a chain becomes one
/// piece of code, and WebAssembly bounds a function's locals).
pub const MAX_CALL_DEPTH: usize = 256;
/// How to keep a type within [`MAX_TYPE_DEPTH`].
pub const TYPE_DEPTH_HELP: &str = "flatten the record: move the attributes of inner records up a level";
/// How many levels a piece of test data may nest.
pub const MAX_DATA_DEPTH: usize = 64;

/// Replaces every expression, type and piece of test data of `file` that
/// nests deeper than its limit with an error node, reporting each.
pub fn limit(file: &mut ast::File, diagnostics: &mut Vec<Diagnostic>) {
    for item in &mut file.items {
        match item {
            ast::Item::Entity(d) => d.attrs.iter_mut().for_each(|a| refuse_too_deep(&mut a.ty, diagnostics)),
            ast::Item::Context(d) => d.attrs.iter_mut().for_each(|a| refuse_too_deep(&mut a.ty, diagnostics)),
            ast::Item::Type(d) => refuse_too_deep(&mut d.ty, diagnostics),
            ast::Item::Obligation(d) => d.params.iter_mut().for_each(|p| refuse_too_deep(&mut p.ty, diagnostics)),
            ast::Item::Def(def) => {
                def.params.iter_mut().for_each(|p| refuse_too_deep(&mut p.ty, diagnostics));
                refuse_too_deep(&mut def.ret, diagnostics);
                refuse_too_deep(&mut def.body, diagnostics);
            }
            ast::Item::Rule(rule) => {
                for slot in [&mut rule.scope.principal, &mut rule.scope.resource] {
                    if let Some(ScopeConstraint::Eq(e) | ScopeConstraint::In(e)) = &mut slot.constraint {
                        refuse_too_deep(e, diagnostics);
                    }
                }
                for condition in &mut rule.conditions {
                    refuse_too_deep(&mut condition.expr, diagnostics);
                }
                for call in &mut rule.obligations {
                    for arg in &mut call.args {
                        refuse_too_deep(&mut arg.value, diagnostics);
                    }
                }
            }
            ast::Item::Test(d) => d.fields.iter_mut().for_each(|f| refuse_too_deep(&mut f.value, diagnostics)),
            ast::Item::Fixture(d) => refuse_too_deep(&mut d.value, diagnostics),
            ast::Item::Enum(_) | ast::Item::Level(_) | ast::Item::Action(_) | ast::Item::Error(_) => {}
        }
    }
}

/// Replaces `e` with an error node, reporting it, if it nests deeper than
/// [`MAX_EXPR_DEPTH`].
pub fn limit_expr(e: &mut Expr, diagnostics: &mut Vec<Diagnostic>) {
    refuse_too_deep(e, diagnostics);
}

/// The diagnostic for a tree nested deeper than its limit.
pub fn too_deep_diagnostic(what: &str, limit: usize, span: Span, help: &str) -> Diagnostic {
    let limit = if limit >= 1_000 { format!("{},{:03}", limit / 1_000, limit % 1_000) } else { limit.to_string() };
    Diagnostic::new(Code::NestedTooDeeply, span, format!("this {what} nests more than {limit} levels deep"))
        .label("nested too deeply")
        .help(help)
}

/// A tree whose depth is limited.
trait Tree: Sized {
    /// How many levels it may nest.
    const LIMIT: usize;
    /// What it is, for the diagnostic.
    const WHAT: &'static str;
    /// How to avoid the depth, for the diagnostic.
    const HELP: &'static str;
    fn span(&self) -> Span;
    /// The node left where a refused tree was.
    fn error(span: Span) -> Self;
    /// Calls `f` on each child of the node.
    fn children<'t>(&'t mut self, f: &mut dyn FnMut(&'t mut Self));
}

/// Replaces `tree` with an error node, reporting it, if it nests deeper
/// than its limit.
fn refuse_too_deep<T: Tree>(tree: &mut T, diagnostics: &mut Vec<Diagnostic>) {
    if !too_deep(tree) {
        return;
    }
    let span = tree.span();
    diagnostics.push(too_deep_diagnostic(T::WHAT, T::LIMIT, span, T::HELP));
    let refused = std::mem::replace(tree, T::error(span));
    dismantle(refused);
}

fn too_deep<T: Tree>(root: &mut T) -> bool {
    let mut stack = vec![(root, 1)];
    while let Some((node, depth)) = stack.pop() {
        if depth > T::LIMIT {
            return true;
        }
        node.children(&mut |child| stack.push((child, depth + 1)));
    }
    false
}

/// Drops a tree of any depth: each node's children are taken out (an error
/// node left in their place) before it is dropped, so no drop recurses.
fn dismantle<T: Tree>(root: T) {
    let mut stack = vec![root];
    while let Some(mut node) = stack.pop() {
        let span = node.span();
        node.children(&mut |child| stack.push(std::mem::replace(child, T::error(span))));
    }
}

impl Tree for Expr {
    const LIMIT: usize = MAX_EXPR_DEPTH;
    const WHAT: &'static str = "expression";
    const HELP: &'static str = "an allow-list written as a chain of `||` can be a set: `x in [a, b, c]`";

    fn span(&self) -> Span {
        self.span
    }

    fn error(span: Span) -> Expr {
        Expr { kind: ExprKind::Error, span }
    }

    fn children<'t>(&'t mut self, f: &mut dyn FnMut(&'t mut Expr)) {
        match &mut self.kind {
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
}

impl Tree for TypeExpr {
    const LIMIT: usize = MAX_TYPE_DEPTH;
    const WHAT: &'static str = "type";
    const HELP: &'static str = TYPE_DEPTH_HELP;

    fn span(&self) -> Span {
        TypeExpr::span(self)
    }

    fn error(span: Span) -> TypeExpr {
        TypeExpr::Error(span)
    }

    fn children<'t>(&'t mut self, f: &mut dyn FnMut(&'t mut TypeExpr)) {
        match self {
            TypeExpr::Set(element, _) => f(element),
            TypeExpr::Record(attrs, _) => attrs.iter_mut().for_each(|a| f(&mut a.ty)),
            TypeExpr::Named(_) | TypeExpr::IntRange { .. } | TypeExpr::Error(_) => {}
        }
    }
}

impl Tree for Data {
    const LIMIT: usize = MAX_DATA_DEPTH;
    const WHAT: &'static str = "test value";
    const HELP: &'static str = "a valid test value nests about as deeply as its type, and types nest at most 32 levels";

    fn span(&self) -> Span {
        self.span
    }

    fn error(span: Span) -> Data {
        Data { kind: DataKind::Error, span }
    }

    fn children<'t>(&'t mut self, f: &mut dyn FnMut(&'t mut Data)) {
        match &mut self.kind {
            DataKind::Entity { attrs: fields, .. } | DataKind::Call(_, fields) | DataKind::Record(fields) => {
                fields.iter_mut().for_each(|field| f(&mut field.value));
            }
            DataKind::Set(items) => items.iter_mut().for_each(f),
            DataKind::With(base, updates) => {
                f(base);
                updates.iter_mut().for_each(|update| f(&mut update.value));
            }
            DataKind::Without(base, _) => f(base),
            DataKind::Bool(_)
            | DataKind::Int(_)
            | DataKind::Duration(_)
            | DataKind::Str(_)
            | DataKind::Name(_)
            | DataKind::Error => {}
        }
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
        let kept = parse(FileId(0), &chain(MAX_EXPR_DEPTH));
        assert!(kept.diagnostics.is_empty(), "{:?}", kept.diagnostics);
        let refused = parse(FileId(0), &chain(MAX_EXPR_DEPTH + 1));
        let codes: Vec<Code> = refused.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::NestedTooDeeply]);
        assert_eq!(refused.diagnostics[0].message, "this expression nests more than 1,000 levels deep");
    }

    #[test]
    fn types_and_test_data_at_their_limits_are_kept_and_one_level_more_refused() {
        // `records` records around `Int` or `1` nest `records + 1` levels.
        let ty = |records: usize| {
            format!("package p\nentity E {{ a: {}Int{} }}\n", "{ a: ".repeat(records), " }".repeat(records))
        };
        let data =
            |records: usize| format!("package p\nfixture f = {}1{};\n", "{ a: ".repeat(records), " }".repeat(records));
        for (text, limit) in [(&ty as &dyn Fn(usize) -> String, MAX_TYPE_DEPTH), (&data, MAX_DATA_DEPTH)] {
            let kept = parse(FileId(0), &text(limit - 1));
            assert!(kept.diagnostics.is_empty(), "{:?}", kept.diagnostics);
            let refused = parse(FileId(0), &text(limit));
            let codes: Vec<Code> = refused.diagnostics.iter().map(|d| d.code).collect();
            assert_eq!(codes, [Code::NestedTooDeeply]);
        }
    }

    #[test]
    fn a_refused_tree_of_any_depth_is_dropped_without_recursion() {
        // Deep enough that a recursive drop would exhaust a test thread's stack.
        let refused = parse(FileId(0), &chain(200_000));
        assert_eq!(refused.diagnostics.len(), 1);
    }
}
