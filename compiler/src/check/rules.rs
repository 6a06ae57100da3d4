//! Function bodies, recursion, and rules: scopes, conditions, annotations,
//! obligations.

use std::collections::{BTreeMap, HashMap};

use super::expr::{Facts, Scope, assignable};
use super::{Checker, Symbol};
use crate::diagnostics::{Code, Diagnostic};
use crate::program::{
    ActionId, Const, DefId, EntityLit, EntityScope, EntityTypeId, Expr, ExprKind, ObligationUse, Rule, RuleScope, Type,
};
use crate::span::Span;
use crate::syntax::ast;
use crate::syntax::depth::{MAX_CALL_DEPTH, too_deep_diagnostic};

impl Checker<'_> {
    /// Checks every function body, then rejects recursion.
    pub(super) fn check_defs(&mut self) {
        for id in 0..self.defs.len() {
            let (file, decl) = (self.defs[id].file, self.defs[id].decl);
            let mut scope = Scope::def(file, DefId(id as u32), &self.defs[id].params);
            let body = self.expr(&decl.body, &mut scope, &Facts::new()).expr;
            if let (Some(body), Some(ret)) = (&body, &self.defs[id].ret)
                && !assignable(&body.ty, ret)
            {
                let expected = format!("`{}` as declared", self.show(ret));
                let found = self.show(&body.ty);
                self.error(
                    Diagnostic::new(Code::TypeMismatch, body.span, format!("expected {expected}, found `{found}`"))
                        .label(format!("the body is of type `{found}`"))
                        .related(decl.ret.span(), "result type declared here"),
                );
                continue;
            }
            self.defs[id].body = body;
        }
        self.reject_recursion();
    }

    fn reject_recursion(&mut self) {
        // The functions on a cycle are those of a component of the call
        // graph with several functions, or one that calls itself. Each is
        // reported with a shortest cycle through it, unless an earlier
        // report's cycle named it. Linear in the call graph's size unless
        // it is full of cycles (each an error).
        let graph: Vec<Vec<usize>> =
            self.defs.iter().map(|d| d.calls.iter().map(|(callee, _)| callee.0 as usize).collect()).collect();
        let component = strongly_connected(&graph);
        let mut members = vec![0usize; graph.len()];
        for &c in &component {
            members[c] += 1;
        }
        let mut reported = vec![false; graph.len()];
        for start in 0..graph.len() {
            let cyclic = members[component[start]] > 1 || graph[start].contains(&start);
            if reported[start] || !cyclic {
                continue;
            }
            let Some(path) = shortest_cycle(&graph, &component, start) else { continue };
            let Some(&node) = path.last() else { continue };
            let names: Vec<String> = path
                .iter()
                .chain(std::iter::once(&start))
                .map(|i| format!("`{}`", self.defs[*i].decl.name.name))
                .collect();
            let decl = self.defs[start].decl;
            let call_span = self.defs[node].calls.iter().find(|(c, _)| c.0 as usize == start).map(|(_, s)| *s);
            let mut d = Diagnostic::new(
                Code::RecursiveDef,
                decl.name.span,
                format!("function `{}` is recursive", decl.name.name),
            )
            .label(if path.len() == 1 {
                "calls itself".to_owned()
            } else {
                format!("calls itself through {}", names.join(" → "))
            })
            .help("functions are inlined and must terminate: rewrite without recursion");
            if let Some(span) = call_span {
                d = d.related(span, "the call that closes the cycle");
            }
            self.error(d);
            for i in &path {
                reported[*i] = true;
            }
        }
        self.limit_call_depth(&graph, &component, &members);
    }

    /// Reports the functions at which chains of calls grow past
    /// [`MAX_CALL_DEPTH`]. Components are numbered callees first, so one
    /// pass in that order sees each callee's depth before its callers.
    fn limit_call_depth(&mut self, graph: &[Vec<usize>], component: &[usize], members: &[usize]) {
        let mut by_component: Vec<usize> = (0..graph.len()).collect();
        by_component.sort_by_key(|&d| component[d]);
        let mut depth = vec![1usize; graph.len()];
        for &def in &by_component {
            // Functions on a cycle are reported already; count them once.
            let acyclic = members[component[def]] == 1 && !graph[def].contains(&def);
            if acyclic {
                depth[def] = 1 + graph[def].iter().map(|&callee| depth[callee]).max().unwrap_or(0);
            }
            if depth[def] == MAX_CALL_DEPTH + 1 {
                let decl = self.defs[def].decl;
                self.error(too_deep_diagnostic(
                    "function's chain of calls",
                    MAX_CALL_DEPTH,
                    decl.name.span,
                    "calls through functions are inlined: call fewer functions in a row",
                ));
            }
        }
    }

    /// Checks every rule and rule ids' uniqueness.
    pub(super) fn check_rules(&mut self) {
        let mut ids: HashMap<String, Span> = HashMap::new();
        for file in 0..self.files.len() {
            for item in &self.files[file].1.items {
                let ast::Item::Rule(rule) = item else { continue };
                let written_id = rule.annotations.iter().find(|a| a.name.name == "id").and_then(|a| a.value.as_ref());
                if let Some(id) = written_id {
                    if let Some(first) = ids.get(&id.value) {
                        self.error(
                            Diagnostic::new(
                                Code::DuplicateRuleId,
                                id.span,
                                format!("rule id `{}` is used twice", id.value),
                            )
                            .label("second rule with this id")
                            .related(*first, "first used here")
                            .help("rule ids name rules in decisions and tests: make each unique"),
                        );
                        continue;
                    }
                    ids.insert(id.value.clone(), id.span);
                }
                let Some(checked) = self.check_rule(file, rule) else { continue };
                self.rules.push(checked);
            }
        }
    }

    fn check_rule(&mut self, file: usize, rule: &ast::Rule) -> Option<Rule> {
        let (annotations, id, reason) = self.annotations(rule);
        let scope = self.rule_scope(file, &rule.scope);
        let conditions = scope.as_ref().and_then(|(resolved, principal, resource)| {
            let _ = resolved;
            self.index.rules.push(super::index::RuleTypes {
                span: rule.span,
                principal: principal.clone(),
                resource: resource.clone(),
            });
            let mut body_scope = Scope::rule(file, principal.clone(), resource.clone());
            let mut facts = Facts::new();
            let mut out = Vec::new();
            let mut ok = true;
            for condition in &rule.conditions {
                let typed = self.condition(&condition.expr, &mut body_scope, &facts);
                let more = if condition.when { typed.t } else { typed.f };
                facts.extend(more);
                match typed.expr {
                    Some(e) => out.push((condition.when, e)),
                    None => ok = false,
                }
            }
            let obligations = self.obligation_uses(file, rule, &mut body_scope, &facts);
            (ok && obligations.is_some()).then(|| (out, obligations.unwrap_or_default()))
        });
        let id = match id {
            Some(id) => id,
            None if rule.annotations.iter().any(|a| a.name.name == "id") => self.location(rule.span),
            None => {
                self.error(
                    Diagnostic::new(Code::MissingId, rule.effect_span, "rule without `@id`")
                        .label("decisions will name this rule by file and line")
                        .help("add a stable id: `@id(\"TEAM-001\")`"),
                );
                self.location(rule.span)
            }
        };
        let (resolved, _, _) = scope?;
        let (conditions, obligations) = conditions?;
        Some(Rule {
            id,
            reason,
            effect: rule.effect,
            annotations,
            scope: resolved,
            conditions,
            obligations,
            span: rule.span,
        })
    }

    /// Annotations by name, with `@id` and `@reason` validated.
    fn annotations(&mut self, rule: &ast::Rule) -> (BTreeMap<String, String>, Option<String>, Option<String>) {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for a in &rule.annotations {
            if let Some(first) = seen.get(a.name.name.as_str()) {
                self.error(
                    Diagnostic::new(
                        Code::InvalidAnnotation,
                        a.span,
                        format!("annotation `@{}` is given twice", a.name.name),
                    )
                    .related(*first, "first given here"),
                );
                continue;
            }
            seen.insert(&a.name.name, a.span);
            let value = a.value.as_ref().map(|v| v.value.clone());
            match (a.name.name.as_str(), &value) {
                ("id" | "reason", None) => {
                    self.error(
                        Diagnostic::new(Code::InvalidAnnotation, a.span, format!("`@{}` needs a string", a.name.name))
                            .help(format!("write `@{}(\"...\")`", a.name.name)),
                    );
                    continue;
                }
                ("id", Some(v)) if v.trim().is_empty() => {
                    self.error(
                        Diagnostic::new(Code::InvalidAnnotation, a.span, "`@id` is empty")
                            .help("give the rule a non-empty id"),
                    );
                    continue;
                }
                _ => {}
            }
            map.insert(a.name.name.clone(), value.unwrap_or_default());
        }
        let id = map.get("id").cloned();
        let reason = map.get("reason").cloned();
        (map, id, reason)
    }

    /// Resolves the scope head; returns it with the types `principal` and
    /// `resource` have in the rule's conditions.
    fn rule_scope(&mut self, file: usize, scope: &ast::Scope) -> Option<(RuleScope, Type, Type)> {
        let mut actions: Option<Vec<ActionId>> = None;
        let mut ok = true;
        if !scope.action.actions.is_empty() {
            let mut list = Vec::new();
            for path in &scope.action.actions {
                match self.resolve_path(file, path, "action") {
                    Some(Symbol::Action(id)) => {
                        if !list.contains(&id) {
                            list.push(id);
                        }
                    }
                    Some(_) => {
                        self.error(
                            Diagnostic::new(
                                Code::UnknownAction,
                                path.span,
                                format!("`{}` is not an action", path.dotted()),
                            )
                            .help("declare it: `action name { principal: P, resource: R }`"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            list.sort();
            actions = Some(list);
        }
        let principal = self.entity_scope(file, &scope.principal, "principal");
        let resource = self.entity_scope(file, &scope.resource, "resource");
        let (principal, resource) = (principal?, resource?);
        if !ok {
            return None;
        }
        let candidates = |role_principal: bool, checker: &Checker<'_>| -> Vec<EntityTypeId> {
            let all: Vec<ActionId> = match &actions {
                Some(list) => list.clone(),
                None => (0..checker.schema.actions.len()).map(|i| ActionId(i as u32)).collect(),
            };
            let mut types: Vec<EntityTypeId> = all
                .iter()
                .flat_map(|a| {
                    let action = checker.schema.action(*a);
                    if role_principal { action.principals.clone() } else { action.resources.clone() }
                })
                .collect();
            types.sort();
            types.dedup();
            types
        };
        let mut slot_types = Vec::new();
        for (role, slot, written) in
            [("principal", &principal, &scope.principal), ("resource", &resource, &scope.resource)]
        {
            let is_principal = role == "principal";
            let applicable = candidates(is_principal, self);
            let types: Vec<EntityTypeId> = match &slot.types {
                Some(named) => {
                    if let Some(list) = &actions {
                        for (action, path) in list.iter().zip(&scope.action.actions) {
                            let action_decl = self.schema.action(*action);
                            let applies = if is_principal { &action_decl.principals } else { &action_decl.resources };
                            if !named.iter().any(|t| applies.contains(t)) {
                                let shown = self.show(&Type::Entity(named.clone()));
                                let expected = self.show(&Type::Entity(applies.clone()));
                                let name = action_decl.name.clone();
                                let ty_span = written.ty.as_ref().map_or(written.span, |p| p.span);
                                self.error(
                                    Diagnostic::new(
                                        Code::ActionNotApplicable,
                                        path.span,
                                        format!("action `{name}` does not apply to {role} type `{shown}`"),
                                    )
                                    .label(format!("applies to {role}s of type `{expected}`"))
                                    .related(ty_span, format!("the rule's {role} is a `{shown}`")),
                                );
                                ok = false;
                            }
                        }
                    }
                    named.clone()
                }
                None => applicable,
            };
            let types: Vec<EntityTypeId> = match &slot.within {
                Some(targets) if slot.types.is_none() => {
                    let target_types: Vec<EntityTypeId> = targets.iter().map(|t| t.ty).collect();
                    let reachable: Vec<EntityTypeId> = types
                        .iter()
                        .copied()
                        .filter(|c| target_types.iter().any(|t| c == t || self.schema.can_be_in(*c, *t)))
                        .collect();
                    if reachable.is_empty() {
                        let span = match &written.constraint {
                            Some(ast::ScopeConstraint::In(e) | ast::ScopeConstraint::Eq(e)) => e.span,
                            None => written.span,
                        };
                        if self.check_reachable(&types, &target_types, span).is_none() {
                            ok = false;
                        }
                    }
                    reachable
                }
                Some(targets) => {
                    let target_types: Vec<EntityTypeId> = targets.iter().map(|t| t.ty).collect();
                    let span = match &written.constraint {
                        Some(ast::ScopeConstraint::In(e) | ast::ScopeConstraint::Eq(e)) => e.span,
                        None => written.span,
                    };
                    if self.check_reachable(&types, &target_types, span).is_none() {
                        ok = false;
                    }
                    types
                }
                None => types,
            };
            slot_types.push(types);
        }
        if !ok {
            return None;
        }
        let resource_types = slot_types.pop().unwrap_or_default();
        let principal_types = slot_types.pop().unwrap_or_default();
        for (role, types) in [("principal", &principal_types), ("resource", &resource_types)] {
            if types.is_empty() {
                self.error(
                    Diagnostic::new(Code::ActionNotApplicable, scope.span, format!("no {role} can match this scope"))
                        .label(format!("no declared action applies to a {role} that satisfies this constraint"))
                        .help("check the scope against the actions' declared principal and resource types"),
                );
                return None;
            }
        }
        let resolved = RuleScope { principal, actions, resource };
        Some((resolved, Type::Entity(principal_types), Type::Entity(resource_types)))
    }

    fn entity_scope(&mut self, file: usize, slot: &ast::EntityScope, role: &str) -> Option<EntityScope> {
        let mut out = EntityScope::default();
        let mut ok = true;
        if let Some(path) = &slot.ty {
            match self.resolve_path(file, path, "type") {
                Some(Symbol::Entity(id)) => out.types = Some(vec![id]),
                Some(_) => {
                    self.error(
                        Diagnostic::new(
                            Code::InvalidScope,
                            path.span,
                            format!("`{}` is not an entity type", path.dotted()),
                        )
                        .label(format!("the {role} must be an entity")),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        match &slot.constraint {
            None => {}
            Some(ast::ScopeConstraint::Eq(e)) => match self.scope_entities(file, e, false) {
                Some(mut list) => {
                    let lit = list.remove(0);
                    if let Some(types) = &out.types
                        && !types.contains(&lit.ty)
                    {
                        let (a, b) = (self.show(&Type::Entity(types.clone())), self.show(&Type::Entity(vec![lit.ty])));
                        self.error(
                            Diagnostic::new(Code::InvalidScope, e.span, format!("a `{a}` can never be a `{b}`"))
                                .label(format!("the {role} is declared a `{a}`")),
                        );
                        ok = false;
                    }
                    out.types = Some(vec![lit.ty]);
                    out.eq = Some(lit);
                }
                None => ok = false,
            },
            Some(ast::ScopeConstraint::In(e)) => match self.scope_entities(file, e, true) {
                Some(list) => out.within = Some(list),
                None => ok = false,
            },
        }
        ok.then_some(out)
    }

    /// An entity literal, or (when `allow_list`) a list of them.
    fn scope_entities(&mut self, file: usize, e: &ast::Expr, allow_list: bool) -> Option<Vec<EntityLit>> {
        let mut scope = Scope::rule(file, Type::Entity(Vec::new()), Type::Entity(Vec::new()));
        let typed = self.expr(e, &mut scope, &Facts::new()).expr?;
        match typed.kind {
            ExprKind::Const(Const::Entity(lit)) => Some(vec![lit]),
            ExprKind::Const(Const::Set(items)) if allow_list => {
                let lits: Option<Vec<EntityLit>> =
                    items.into_iter().map(|c| if let Const::Entity(l) = c { Some(l) } else { None }).collect();
                if lits.is_none() {
                    self.error(
                        Diagnostic::new(Code::InvalidScope, e.span, "expected entities")
                            .help("write entities as `Type::\"id\"`"),
                    );
                }
                lits
            }
            _ => {
                let what = if allow_list { "an entity or a list of entities" } else { "an entity" };
                self.error(
                    Diagnostic::new(Code::InvalidScope, e.span, format!("expected {what}"))
                        .label("the scope takes entity literals only")
                        .help("write `Group::\"admins\"`; move other tests into a `when` clause"),
                );
                None
            }
        }
    }

    fn obligation_uses(
        &mut self,
        file: usize,
        rule: &ast::Rule,
        scope: &mut Scope,
        facts: &Facts,
    ) -> Option<Vec<ObligationUse>> {
        let mut out = Vec::new();
        let mut ok = true;
        for call in &rule.obligations {
            let id = match self.resolve_path(file, &call.name, "obligation") {
                Some(Symbol::Obligation(id)) => id,
                Some(_) => {
                    self.error(
                        Diagnostic::new(
                            Code::UnknownObligation,
                            call.name.span,
                            format!("`{}` is not an obligation", call.name.dotted()),
                        )
                        .help("declare it: `obligation name(param: Type)`"),
                    );
                    ok = false;
                    continue;
                }
                None => {
                    ok = false;
                    continue;
                }
            };
            let decl = self.obligations[id.0 as usize].clone();
            let mut args: Vec<Option<Const>> = vec![None; decl.params.len()];
            for arg in &call.args {
                let Some(index) = decl.params.iter().position(|(name, _)| *name == arg.name.name) else {
                    let names: Vec<String> = decl.params.iter().map(|(n, _)| format!("`{n}`")).collect();
                    self.error(
                        Diagnostic::new(
                            Code::ObligationArguments,
                            arg.name.span,
                            format!("obligation `{}` has no parameter `{}`", decl.name, arg.name.name),
                        )
                        .related(decl.span, "declared here")
                        .help(if names.is_empty() {
                            "it takes no arguments".to_owned()
                        } else {
                            format!("its parameters are {}", names.join(", "))
                        }),
                    );
                    ok = false;
                    continue;
                };
                if args[index].is_some() {
                    self.error(Diagnostic::new(
                        Code::ObligationArguments,
                        arg.name.span,
                        format!("argument `{}` is given twice", arg.name.name),
                    ));
                    ok = false;
                    continue;
                }
                let Some(value) = self.expr(&arg.value, scope, facts).expr else {
                    ok = false;
                    continue;
                };
                let param_ty = &decl.params[index].1;
                if !assignable(&value.ty, param_ty) {
                    let (expected, found) = (self.show(param_ty), self.show(&value.ty));
                    self.error(
                        Diagnostic::new(
                            Code::ObligationArguments,
                            value.span,
                            format!("argument `{}` must be a `{expected}`, found `{found}`", arg.name.name),
                        )
                        .label(format!("this is of type `{found}`"))
                        .related(decl.span, "obligation declared here"),
                    );
                    ok = false;
                    continue;
                }
                match constant(&value) {
                    Some(c) => match check_range(&c, param_ty) {
                        true => args[index] = Some(c),
                        false => {
                            self.error(Diagnostic::new(
                                Code::ObligationArguments,
                                value.span,
                                format!(
                                    "argument `{}` is outside the range of `{}`",
                                    arg.name.name,
                                    self.show(param_ty)
                                ),
                            ));
                            ok = false;
                        }
                    },
                    None => {
                        self.error(
                            Diagnostic::new(
                                Code::NonConstantArgument,
                                value.span,
                                "obligation arguments must be constants",
                            )
                            .label("this depends on the request")
                            .help("use a literal; decisions carry obligations as the rule states them"),
                        );
                        ok = false;
                    }
                }
            }
            let missing: Vec<String> = decl
                .params
                .iter()
                .zip(&args)
                .filter(|(_, a)| a.is_none())
                .map(|((n, _), _)| format!("`{n}`"))
                .collect();
            if ok && !missing.is_empty() {
                self.error(
                    Diagnostic::new(
                        Code::ObligationArguments,
                        call.span,
                        format!(
                            "missing argument{} {} for obligation `{}`",
                            if missing.len() == 1 { "" } else { "s" },
                            missing.join(", "),
                            decl.name
                        ),
                    )
                    .related(decl.span, "declared here"),
                );
                ok = false;
            }
            if ok {
                out.push(ObligationUse { obligation: id, args: args.into_iter().flatten().collect() });
            }
        }
        ok.then_some(out)
    }
}

/// The constant value of an expression, if it has one.
fn constant(e: &Expr) -> Option<Const> {
    match &e.kind {
        ExprKind::Const(c) => Some(c.clone()),
        ExprKind::Neg(inner) => match constant(inner)? {
            Const::Int(n) => n.checked_neg().map(Const::Int),
            Const::Duration(n) => n.checked_neg().map(Const::Duration),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a constant lies within the integer ranges of its type.
fn check_range(c: &Const, ty: &Type) -> bool {
    match (c, ty) {
        (Const::Int(n), Type::Int { min, max }) => min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m),
        (Const::Set(items), Type::Set(element)) => items.iter().all(|i| check_range(i, element)),
        _ => true,
    }
}

/// The strongly connected component of each node of `graph` (edges as
/// adjacency lists), numbered from 0; Tarjan's algorithm without recursion.
fn strongly_connected(graph: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = graph.len();
    let (mut order, mut low, mut component) = (vec![UNSEEN; n], vec![0; n], vec![UNSEEN; n]);
    let (mut on_stack, mut stack) = (vec![false; n], Vec::new());
    let (mut next, mut components) = (0, 0);
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        // Each frame: a node and how many of its edges are followed.
        let mut frames = vec![(root, 0)];
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((node, followed)) = frames.last_mut() {
            let node = *node;
            if let Some(&callee) = graph[node].get(*followed) {
                *followed += 1;
                if order[callee] == UNSEEN {
                    order[callee] = next;
                    low[callee] = next;
                    next += 1;
                    stack.push(callee);
                    on_stack[callee] = true;
                    frames.push((callee, 0));
                } else if on_stack[callee] {
                    low[node] = low[node].min(order[callee]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == order[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = components;
                    if member == node {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

/// A shortest cycle through `start` within its component: the nodes from
/// `start` to the one whose edge closes the cycle.
fn shortest_cycle(graph: &[Vec<usize>], component: &[usize], start: usize) -> Option<Vec<usize>> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &callee in &graph[node] {
            if callee == start {
                let mut path = vec![node];
                while let Some(&p) = parent.get(path.last()?) {
                    path.push(p);
                }
                path.reverse();
                return Some(path);
            }
            if component[callee] == component[start] && !parent.contains_key(&callee) {
                parent.insert(callee, node);
                queue.push_back(callee);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_shortest_cycles_of_a_call_graph() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 3, 4 → 0, 5 ↔ 6.
        let graph = vec![vec![1], vec![2], vec![3, 0], vec![3], vec![0], vec![6], vec![5]];
        let c = strongly_connected(&graph);
        assert!(c[0] == c[1] && c[1] == c[2]);
        assert!(c[3] != c[0] && c[4] != c[0] && c[4] != c[3]);
        assert!(c[5] == c[6] && c[5] != c[0]);
        assert_eq!(shortest_cycle(&graph, &c, 0), Some(vec![0, 1, 2]));
        assert_eq!(shortest_cycle(&graph, &c, 2), Some(vec![2, 0, 1]));
        assert_eq!(shortest_cycle(&graph, &c, 3), Some(vec![3]));
        assert_eq!(shortest_cycle(&graph, &c, 6), Some(vec![6, 5]));
        assert_eq!(shortest_cycle(&graph, &c, 4), None);
    }

    #[test]
    fn a_long_chain_of_functions_is_checked_in_linear_time() {
        // Every function calls the one before it: the former search for
        // cycles started from each function and copied its path at each
        // step, cubic in the chain's length (minutes at a few thousand).
        let graph: Vec<Vec<usize>> = (0..200_000).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect();
        let c = strongly_connected(&graph);
        let mut distinct = c.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), graph.len());
    }
}
