//! The semantic index: every declaration, what each name occurrence refers
//! to, and the type of each checked expression. The checker records
//! references as it resolves names, so editors see exactly the compiler's
//! resolution; declarations are read from the AST.

use std::collections::HashMap;

use crate::program::{Schema, Type, VarId};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ast;

/// What kind of thing a declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefKind {
    /// `package a.b`
    Package,
    /// `entity`
    Entity,
    /// `enum`
    Enum,
    /// `level`
    Level,
    /// A value of an enum.
    EnumValue,
    /// A value of a level.
    LevelValue,
    /// `type` alias.
    Alias,
    /// An attribute of an entity, record or the context.
    Attribute,
    /// `action`
    Action,
    /// `context`
    Context,
    /// `obligation`
    Obligation,
    /// A parameter of an obligation or a function.
    Param,
    /// `def`
    Def,
    /// A `let` binding or a quantifier variable.
    Local,
    /// `test "name"`
    Test,
    /// `fixture`
    Fixture,
}

impl DefKind {
    /// The keyword or noun shown to users.
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Package => "package",
            DefKind::Entity => "entity",
            DefKind::Enum => "enum",
            DefKind::Level => "level",
            DefKind::EnumValue => "enum value",
            DefKind::LevelValue => "level value",
            DefKind::Alias => "type",
            DefKind::Attribute => "attribute",
            DefKind::Action => "action",
            DefKind::Context => "context",
            DefKind::Obligation => "obligation",
            DefKind::Param => "parameter",
            DefKind::Def => "function",
            DefKind::Local => "variable",
            DefKind::Test => "test",
            DefKind::Fixture => "fixture",
        }
    }
}

/// One declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The declared name.
    pub name: String,
    /// What it declares.
    pub kind: DefKind,
    /// The name as written: the declaration's identity in the index.
    pub span: Span,
    /// The whole declaration.
    pub full: Span,
    /// Its doc comment.
    pub docs: Option<String>,
    /// Its signature as written, such as `mfa_age: Duration?`.
    pub detail: String,
    /// The enclosing declaration's name (an attribute's entity, a value's
    /// enum), or the package for top-level declarations.
    pub container: Option<String>,
}

/// A name occurrence and the declaration it resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// Where the name is written.
    pub span: Span,
    /// The declaration's name span.
    pub target: Span,
}

/// An attribute read or `has` test: the attribute name and the receiver's type.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// The attribute name after the dot.
    pub name: Span,
    /// The type of the value before the dot.
    pub receiver: Type,
}

/// A rule's span and the types of `principal` and `resource` inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTypes {
    /// The whole rule.
    pub span: Span,
    /// The principal's type.
    pub principal: Type,
    /// The resource's type.
    pub resource: Type,
}

/// The semantic index of one compilation.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Every declaration, in source order per file.
    pub definitions: Vec<Definition>,
    /// Every resolved name occurrence; declarations refer to themselves.
    pub references: Vec<Reference>,
    /// The type of each checked expression.
    pub types: Vec<(Span, Type)>,
    /// Attribute reads, for completion after `.`.
    pub accesses: Vec<Access>,
    /// Rules whose scope resolved.
    pub rules: Vec<RuleTypes>,
    /// The schema as far as it resolved.
    pub schema: Schema,
    values: HashMap<(Span, String), Span>,
    packages: HashMap<String, Span>,
    vars: HashMap<VarId, Span>,
}

impl Index {
    /// The declarations of parsed files.
    pub(super) fn new(sources: &SourceMap, files: &[(FileId, ast::File)]) -> Index {
        let mut index = Index::default();
        for (_, file) in files {
            index.declare_file(sources, file);
        }
        for d in &index.definitions {
            index.references.push(Reference { span: d.span, target: d.span });
        }
        index
    }

    fn declare_file(&mut self, sources: &SourceMap, file: &ast::File) {
        let package = file.package.as_ref().map(ast::Path::dotted);
        if let Some(path) = &file.package {
            let name = path.dotted();
            self.packages.entry(name.clone()).or_insert(path.span);
            self.add(name, DefKind::Package, path.span, path.span, None, String::new(), None);
        }
        let snippet = |span: Span| sources.snippet(span).to_owned();
        for item in &file.items {
            match item {
                ast::Item::Entity(d) => {
                    let head = snippet(d.span);
                    let head = head.split('{').next().unwrap_or("").trim().to_owned();
                    self.add(
                        d.name.name.clone(),
                        DefKind::Entity,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        head,
                        package.clone(),
                    );
                    self.attributes(sources, &d.attrs, &d.name.name);
                }
                ast::Item::Enum(d) => {
                    self.values_of(&d.name, &d.values, DefKind::EnumValue);
                    self.add(
                        d.name.name.clone(),
                        DefKind::Enum,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        snippet(d.span),
                        package.clone(),
                    );
                }
                ast::Item::Level(d) => {
                    self.values_of(&d.name, &d.values, DefKind::LevelValue);
                    self.add(
                        d.name.name.clone(),
                        DefKind::Level,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        snippet(d.span),
                        package.clone(),
                    );
                }
                ast::Item::Type(d) => {
                    self.add(
                        d.name.name.clone(),
                        DefKind::Alias,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        snippet(d.span),
                        package.clone(),
                    );
                    self.type_attributes(sources, &d.ty, &d.name.name);
                }
                ast::Item::Action(d) => {
                    for name in &d.names {
                        self.add(
                            name.name.clone(),
                            DefKind::Action,
                            name.span,
                            d.span,
                            d.docs.clone(),
                            snippet(d.span),
                            package.clone(),
                        );
                    }
                }
                ast::Item::Context(d) => {
                    self.attributes(sources, &d.attrs, "context");
                }
                ast::Item::Obligation(d) => {
                    self.add(
                        d.name.name.clone(),
                        DefKind::Obligation,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        snippet(d.span),
                        package.clone(),
                    );
                    for p in &d.params {
                        self.add(
                            p.name.name.clone(),
                            DefKind::Param,
                            p.name.span,
                            p.span,
                            None,
                            snippet(p.span),
                            Some(d.name.name.clone()),
                        );
                    }
                }
                ast::Item::Def(d) => {
                    let head = snippet(d.span);
                    let head = head.split('=').next().unwrap_or("").trim().to_owned();
                    self.add(
                        d.name.name.clone(),
                        DefKind::Def,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        head,
                        package.clone(),
                    );
                    for p in &d.params {
                        self.add(
                            p.name.name.clone(),
                            DefKind::Param,
                            p.name.span,
                            p.span,
                            None,
                            snippet(p.span),
                            Some(d.name.name.clone()),
                        );
                    }
                    self.locals(&d.body);
                }
                ast::Item::Rule(r) => {
                    for c in &r.conditions {
                        self.locals(&c.expr);
                    }
                }
                ast::Item::Test(d) => {
                    let detail = format!("test \"{}\"", d.name.value);
                    self.add(
                        d.name.value.clone(),
                        DefKind::Test,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        detail,
                        package.clone(),
                    );
                }
                ast::Item::Fixture(d) => {
                    let detail = format!("fixture {}", d.name.name);
                    self.add(
                        d.name.name.clone(),
                        DefKind::Fixture,
                        d.name.span,
                        d.span,
                        d.docs.clone(),
                        detail,
                        package.clone(),
                    );
                }
                ast::Item::Error(_) => {}
            }
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one row of the table")]
    fn add(
        &mut self,
        name: String,
        kind: DefKind,
        span: Span,
        full: Span,
        docs: Option<String>,
        detail: String,
        container: Option<String>,
    ) {
        if name.is_empty() {
            return;
        }
        self.definitions.push(Definition { name, kind, span, full, docs, detail, container });
    }

    fn values_of(&mut self, ty: &ast::Ident, values: &[ast::Ident], kind: DefKind) {
        for v in values {
            self.values.entry((ty.span, v.name.clone())).or_insert(v.span);
            let detail = format!("{}.{}", ty.name, v.name);
            self.add(v.name.clone(), kind, v.span, v.span, None, detail, Some(ty.name.clone()));
        }
    }

    fn attributes(&mut self, sources: &SourceMap, attrs: &[ast::AttrDecl], container: &str) {
        for a in attrs {
            let detail = sources.snippet(a.span).trim_end_matches(',').to_owned();
            self.add(
                a.name.name.clone(),
                DefKind::Attribute,
                a.name.span,
                a.span,
                a.docs.clone(),
                detail,
                Some(container.to_owned()),
            );
            self.type_attributes(sources, &a.ty, container);
        }
    }

    fn type_attributes(&mut self, sources: &SourceMap, ty: &ast::TypeExpr, container: &str) {
        match ty {
            ast::TypeExpr::Record(attrs, _) => self.attributes(sources, attrs, container),
            ast::TypeExpr::Set(inner, _) => self.type_attributes(sources, inner, container),
            _ => {}
        }
    }

    fn locals(&mut self, e: &ast::Expr) {
        match &e.kind {
            ast::ExprKind::Let(name, value, body) => {
                let detail = format!("let {}", name.name);
                self.add(name.name.clone(), DefKind::Local, name.span, name.span, None, detail, None);
                self.locals(value);
                self.locals(body);
            }
            ast::ExprKind::Call { callee, args } => {
                self.locals(callee);
                for a in args {
                    match a {
                        ast::Arg::Expr(x) => self.locals(x),
                        ast::Arg::Lambda(name, body) => {
                            let detail = format!("{} =>", name.name);
                            self.add(name.name.clone(), DefKind::Local, name.span, name.span, None, detail, None);
                            self.locals(body);
                        }
                    }
                }
            }
            ast::ExprKind::Entity { ty, .. } => self.locals(ty),
            ast::ExprKind::Set(items) => items.iter().for_each(|x| self.locals(x)),
            ast::ExprKind::Attr(b, _) | ast::ExprKind::Has(b, _) | ast::ExprKind::Like(b, _) => self.locals(b),
            ast::ExprKind::Unary(_, b) => self.locals(b),
            ast::ExprKind::Binary(_, a, b) => {
                self.locals(a);
                self.locals(b);
            }
            ast::ExprKind::If(a, b, c) => {
                self.locals(a);
                self.locals(b);
                self.locals(c);
            }
            _ => {}
        }
    }

    /// Records that the name at `span` refers to the declaration named at `target`.
    pub(super) fn reference(&mut self, span: Span, target: Span) {
        if span != target {
            self.references.push(Reference { span, target });
        }
    }

    /// Records a reference to a value of the enum declared at `ty`.
    pub(super) fn value(&mut self, span: Span, ty: Span, value: &str) {
        if let Some(target) = self.values.get(&(ty, value.to_owned())).copied() {
            self.reference(span, target);
        }
    }

    /// Records a reference to a package.
    pub(super) fn package(&mut self, span: Span, package: &str) {
        if let Some(target) = self.packages.get(package).copied() {
            self.reference(span, target);
        }
    }

    /// Records where a local variable is declared.
    pub(super) fn var(&mut self, var: VarId, span: Span) {
        self.vars.insert(var, span);
    }

    /// Records a use of a local variable.
    pub(super) fn var_use(&mut self, span: Span, var: VarId) {
        if let Some(target) = self.vars.get(&var).copied() {
            self.reference(span, target);
        }
    }

    /// The declaration named at `span`.
    pub fn definition(&self, span: Span) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.span == span)
    }

    /// Where `package` is declared first.
    pub fn package_span(&self, package: &str) -> Option<Span> {
        self.packages.get(package).copied()
    }

    /// The declarations the name at `offset` of `file` refers to.
    pub fn targets_at(&self, file: FileId, offset: u32) -> Vec<Span> {
        let mut out: Vec<Span> = self
            .references
            .iter()
            .filter(|r| r.span.file == file && r.span.start <= offset && offset <= r.span.end)
            .map(|r| r.target)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Every occurrence of the declaration named at `target`, itself included.
    pub fn references_to(&self, target: Span) -> Vec<Span> {
        let mut out: Vec<Span> = self.references.iter().filter(|r| r.target == target).map(|r| r.span).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The type of the smallest checked expression around `offset`.
    pub fn type_at(&self, file: FileId, offset: u32) -> Option<&(Span, Type)> {
        self.types
            .iter()
            .filter(|(s, _)| s.file == file && s.start <= offset && offset <= s.end)
            .min_by_key(|(s, _)| s.end - s.start)
    }

    /// How a type is shown to users.
    pub fn show(&self, ty: &Type) -> String {
        show(&self.schema, ty)
    }
}

/// How types are written in messages and hover.
pub use crate::program::show_type as show;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str, n: usize) -> u32 {
        text.match_indices(needle).nth(n).map_or(u32::MAX, |(i, _)| i as u32)
    }

    /// What the name at the `n`th `needle` of `text` resolves to: each
    /// target's text and offset.
    fn targets_of(c: &crate::Compilation, text: &str, needle: &str, n: usize) -> Vec<(String, u32)> {
        let targets = c.index.targets_at(FileId(0), at(text, needle, n));
        targets.into_iter().map(|t| (c.sources.snippet(t).to_owned(), t.start)).collect()
    }

    /// The `n`th `needle` of `text`, as [`targets_of`] gives a target.
    fn declared(text: &str, needle: &str, n: usize) -> (String, u32) {
        (needle.to_owned(), at(text, needle, n))
    }

    #[test]
    fn fixture_names_in_test_data_resolve_to_their_fixtures() {
        let text = "package p\nentity U {}\naction read { principal: U, resource: U }\n\
                    @id(\"r\") permit (principal, action: read, resource);\n\
                    fixture alice = U::\"alice\";\n\
                    fixture req = { principal: alice, action: read, resource: alice, context: {} };\n\
                    test \"t\" { request: req with { action: read }, expect: allow }\n";
        let c = crate::compile(vec![("a.ward".into(), text.into())]);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let targets = |needle: &str, n: usize| targets_of(&c, text, needle, n);
        assert_eq!(targets("alice, action", 0), [declared(text, "alice", 0)]);
        assert_eq!(targets("req with", 0), [declared(text, "req", 0)]);
        let alice = c.index.definitions.iter().find(|d| d.name == "alice").map(|d| d.span).unwrap_or_default();
        // The declaration and both uses.
        assert_eq!(c.index.references_to(alice).len(), 3);
    }

    #[test]
    fn names_in_test_data_resolve_to_their_declarations() {
        let text = "package p\nlevel Tier = low < high\nenum Zone { corp, home }\nentity G {}\n\
                    entity U in [G] { tier: Tier, tags: Set<Tier> }\n\
                    action read { principal: U, resource: U }\ncontext { zone: Zone, device: { zone: Zone } }\n\
                    @id(\"r\") permit (principal, action: read, resource);\n\
                    fixture alice = U::\"alice\" { tier: high, tags: [low] } in [G::\"g\"];\n\
                    fixture req = { principal: alice, action: read, resource: U::\"b\" { tier: Tier.low, tags: [] }, \
                    context: { zone: corp, device: { zone: home } } };\n\
                    fixture lone = U::\"c\" { tier: low, tags: [], unknown: corp };\n\
                    test \"t\" { request: req with { principal.tier: low, context.zone: home } \
                    without [context.device.zone], expect: allow }\n\
                    test \"u\" { request: req with { resource: alice with { tier: low } }, expect: allow }\n";
        let c = crate::compile(vec![("a.ward".into(), text.into())]);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let targets = |needle: &str, n: usize| targets_of(&c, text, needle, n);
        let declared = |needle: &str, n: usize| declared(text, needle, n);
        // Entity types, their attributes and the values of their enums.
        assert_eq!(targets("U::\"alice", 0), [declared("U", 0)]);
        assert_eq!(targets("G::\"g", 0), [declared("G", 0)]);
        assert_eq!(targets("tier: high", 0), [declared("tier", 0)]);
        assert_eq!(targets("high, tags", 0), [declared("high", 0)]);
        assert_eq!(targets("low] }", 0), [declared("low", 0)]);
        assert_eq!(targets("Tier.low", 0), [declared("Tier", 0)]);
        assert_eq!(targets("low, tags: [] }", 0), [declared("low", 0)]);
        // The request: its action, its context's attributes and values.
        assert_eq!(targets("read, resource: U::", 0), [declared("read", 0)]);
        assert_eq!(targets("zone: corp", 0), [declared("zone", 0)]);
        assert_eq!(targets("corp, device: {", 0), [declared("corp", 0)]);
        assert_eq!(targets("device: { zone: home", 0), [declared("device", 0)]);
        assert_eq!(targets("zone: home", 0), [declared("zone", 1)]);
        // Paths of `with` and `without`, through the fixtures they update.
        assert_eq!(targets("tier: low, context", 0), [declared("tier", 0)]);
        assert_eq!(targets("zone: home }", 1), [declared("zone", 0)]);
        assert_eq!(targets("device.zone]", 0), [declared("device", 0)]);
        assert_eq!(targets("zone]", 0), [declared("zone", 1)]);
        assert_eq!(targets("tier: low }", 0), [declared("tier", 0)]);
        // An unused fixture on its own; an undeclared attribute resolves to nothing.
        assert_eq!(targets("low, tags: [], unknown", 0), [declared("low", 0)]);
        assert!(targets("unknown: corp", 0).is_empty());
        assert!(targets("corp }", 0).is_empty());
        // Each written name once, however often its fixture is used.
        let tier = at(text, "tier", 0);
        let uses = c.index.references_to(Span { file: FileId(0), start: tier, end: tier + 4 });
        assert_eq!(uses.len(), 1 + 5, "{uses:?}");
    }

    #[test]
    fn names_resolve_to_their_declarations() {
        let text = "package p\nimport ward.identity\nlevel Tier = low < high\nentity U { tier: Tier }\n\
                    action read { principal: U, resource: U }\n\
                    @id(\"r\") permit (principal: U, action: read, resource)\n  \
                    when let t = principal.tier; t >= Tier.high && identity.mfa_fresh(1m, 2m);\n";
        let c = crate::compile(vec![("a.ward".into(), text.into())]);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let index = &c.index;
        let file = FileId(0);
        let target = |needle: &str, n: usize| -> Vec<String> {
            index
                .targets_at(file, at(text, needle, n))
                .into_iter()
                .map(|t| format!("{}@{}", c.sources.snippet(t), c.sources.get(t.file).name))
                .collect()
        };
        assert_eq!(target("tier;", 0), ["tier@a.ward"]);
        assert_eq!(target("Tier.high", 0), ["Tier@a.ward"]);
        assert_eq!(target("high &&", 0), ["high@a.ward"]);
        assert_eq!(target("t >=", 0), ["t@a.ward"]);
        assert_eq!(target("read,", 0), ["read@a.ward"]);
        assert_eq!(target("U, action", 0), ["U@a.ward"]);
        assert_eq!(target("mfa_fresh", 0), ["mfa_fresh@<stdlib>/identity.ward"]);
        assert_eq!(target("identity.mfa", 0), ["ward.identity@<stdlib>/identity.ward"]);
        let tier = index.definitions.iter().find(|d| d.name == "Tier").map(|d| d.span).unwrap_or_default();
        assert_eq!(index.references_to(tier).len(), 3);
        let (_, ty) = index.type_at(file, at(text, "tier;", 0)).cloned().unwrap_or((Span::default(), Type::Bool));
        assert_eq!(index.show(&ty), "Tier");
        let access = index.accesses.iter().find(|a| a.name.start == at(text, "tier;", 0));
        assert!(access.is_some_and(|a| index.show(&a.receiver) == "U"));
    }
}
