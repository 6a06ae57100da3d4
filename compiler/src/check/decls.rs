//! Declarations: collecting names, resolving imports, resolving types.

use std::collections::{HashMap, HashSet};

use super::{AliasSlot, Checker, DefSlot, FileScope, Symbol};
use crate::diagnostics::{Code, Diagnostic};
use crate::program::{
    ActionDecl, ActionId, DefId, EntityType, EntityTypeId, EnumId, EnumType, Field, ObligationDecl, ObligationId,
    Record, Type,
};
use crate::span::Span;
use crate::syntax::ast;
use crate::syntax::depth::{MAX_TYPE_DEPTH, TYPE_DEPTH_HELP, too_deep_diagnostic};

/// Names of the built-in types.
pub const BUILTIN_TYPES: &[&str] =
    &["Bool", "Int", "String", "Duration", "Timestamp", "TimeOfDay", "Ip", "Cidr", "Set"];

impl<'a> Checker<'a> {
    /// Collects every declaration's name into its package, with placeholders
    /// in the schema tables.
    pub(super) fn declare(&mut self) {
        for (index, (file_id, file)) in self.files.iter().enumerate() {
            let package = match &file.package {
                Some(p) => p.dotted(),
                None => {
                    let span = Span::new(*file_id, 0, 0);
                    self.error(
                        Diagnostic::new(Code::MissingPackage, span, "missing package declaration")
                            .label("the file should start with `package <name>`")
                            .help("start the file with a line such as `package acme.ai`"),
                    );
                    String::new()
                }
            };
            self.scopes.push(FileScope { package: package.clone(), ..FileScope::default() });
            self.packages.entry(package.clone()).or_default();
            for item in &file.items {
                self.declare_item(index, &package, item);
            }
        }
    }

    fn declare_item(&mut self, file: usize, package: &str, item: &'a ast::Item) {
        match item {
            ast::Item::Entity(d) => {
                if !self.unique_global(&d.name, "entity type", Kind::Entity) {
                    return;
                }
                let id = EntityTypeId(self.schema.entities.len() as u32);
                if self.define(package, &d.name, Symbol::Entity(id)) {
                    self.schema.entities.push(EntityType {
                        name: d.name.name.clone(),
                        package: package.to_owned(),
                        parents: Vec::new(),
                        attrs: Record::default(),
                        docs: d.docs.clone(),
                        span: d.name.span,
                    });
                }
            }
            ast::Item::Enum(d) => self.declare_enum(package, &d.name, &d.values, false, &d.docs, d.span),
            ast::Item::Level(d) => self.declare_enum(package, &d.name, &d.values, true, &d.docs, d.span),
            ast::Item::Type(d) => {
                let id = self.aliases.len();
                if self.define(package, &d.name, Symbol::Alias(id)) {
                    self.aliases.push(AliasSlot { decl: d, file, resolved: None, in_progress: false });
                }
            }
            ast::Item::Action(d) => {
                for name in &d.names {
                    if !self.unique_global(name, "action", Kind::Action) {
                        continue;
                    }
                    let id = ActionId(self.schema.actions.len() as u32);
                    if self.define(package, name, Symbol::Action(id)) {
                        self.schema.actions.push(ActionDecl {
                            name: name.name.clone(),
                            principals: Vec::new(),
                            resources: Vec::new(),
                            docs: d.docs.clone(),
                            span: name.span,
                        });
                    }
                }
            }
            ast::Item::Context(d) => {
                if let Some(first) = self.context_decl {
                    self.error(
                        Diagnostic::new(Code::DuplicateDeclaration, d.span, "the context is declared twice")
                            .label("second declaration")
                            .related(first, "first declared here")
                            .help("a program has one context: merge the attributes into one declaration"),
                    );
                } else {
                    self.context_decl = Some(d.span);
                    self.context_source = Some((file, d));
                }
            }
            ast::Item::Obligation(d) => {
                if !self.unique_global(&d.name, "obligation", Kind::Obligation) {
                    return;
                }
                let id = ObligationId(self.obligations.len() as u32);
                if self.define(package, &d.name, Symbol::Obligation(id)) {
                    self.obligations.push(ObligationDecl {
                        name: d.name.name.clone(),
                        params: Vec::new(),
                        docs: d.docs.clone(),
                        span: d.name.span,
                    });
                }
            }
            ast::Item::Def(d) => {
                let id = DefId(self.defs.len() as u32);
                if self.define(package, &d.name, Symbol::Def(id)) {
                    self.defs.push(DefSlot {
                        decl: d,
                        file,
                        package: package.to_owned(),
                        params: Vec::new(),
                        ret: None,
                        body: None,
                        calls: Vec::new(),
                    });
                }
            }
            ast::Item::Rule(_) | ast::Item::Test(_) | ast::Item::Fixture(_) => {}
            ast::Item::Error(span) => self.poison_names_in(*span),
        }
    }

    /// Records the names a declaration the parser could not read seems to
    /// declare (`entity User ...` → `User`), and every name it mentions in
    /// attribute position, so that later phases stay silent about them.
    fn poison_names_in(&mut self, span: Span) {
        let text = self.sources.snippet(span);
        let tokens = crate::syntax::lexer::lex(text).tokens;
        for pair in tokens.windows(2) {
            use crate::syntax::lexer::Tok;
            match (&pair[0].1, &pair[1].1) {
                (
                    Tok::Entity
                    | Tok::Enum
                    | Tok::Level
                    | Tok::Type
                    | Tok::Def
                    | Tok::Obligation
                    | Tok::Action
                    | Tok::Comma,
                    Tok::Ident(name),
                ) => {
                    self.poisoned.insert(name.clone());
                }
                (Tok::Ident(name), Tok::Colon) => {
                    self.poisoned.insert(name.clone());
                }
                _ => {}
            }
        }
    }

    fn declare_enum(
        &mut self,
        package: &str,
        name: &ast::Ident,
        values: &[ast::Ident],
        ordered: bool,
        docs: &ast::Docs,
        span: Span,
    ) {
        let id = EnumId(self.schema.enums.len() as u32);
        if !self.define(package, name, Symbol::Enum(id)) {
            return;
        }
        let mut seen = HashMap::new();
        let mut distinct = Vec::with_capacity(values.len());
        for value in values {
            if !self.is_duplicate(&mut seen, value, "value") {
                distinct.push(value.name.clone());
            }
        }
        if values.is_empty() {
            let kind = if ordered { "level" } else { "enum" };
            self.error(
                Diagnostic::new(Code::InvalidDefinition, span, format!("{kind} `{}` has no values", name.name))
                    .help("declare at least one value"),
            );
        }
        self.schema.enums.push(EnumType {
            name: name.name.clone(),
            package: package.to_owned(),
            values: distinct,
            ordered,
            docs: docs.clone(),
            span: name.span,
        });
    }

    /// Adds a name to a package; reports a duplicate or a built-in name.
    fn define(&mut self, package: &str, name: &ast::Ident, symbol: Symbol) -> bool {
        if BUILTIN_TYPES.contains(&name.name.as_str()) {
            self.error(
                Diagnostic::new(Code::DuplicateDeclaration, name.span, format!("`{}` is a built-in type", name.name))
                    .label("cannot be declared again")
                    .help("choose another name"),
            );
            return false;
        }
        let symbols = &mut self.packages.entry(package.to_owned()).or_default().symbols;
        if let Some((_, first)) = symbols.get(&name.name) {
            let first = *first;
            self.error(
                Diagnostic::new(Code::DuplicateDeclaration, name.span, format!("`{}` is declared twice", name.name))
                    .label("declared again here")
                    .related(first, "first declared here")
                    .help("types, actions, functions and obligations of a package share one namespace"),
            );
            return false;
        }
        symbols.insert(name.name.clone(), (symbol, name.span));
        true
    }

    /// Entity types, actions and obligations are named in requests and
    /// decisions without their package, so their names are unique program-wide.
    fn unique_global(&mut self, name: &ast::Ident, what: &str, kind: Kind) -> bool {
        let table = match kind {
            Kind::Entity => &mut self.entity_decls,
            Kind::Action => &mut self.action_decls,
            Kind::Obligation => &mut self.obligation_decls,
        };
        if let Some(first) = table.get(&name.name) {
            let first = *first;
            self.error(
                Diagnostic::new(Code::DuplicateDeclaration, name.span, format!("{what} `{}` is declared twice", name.name))
                    .label("declared again here")
                    .related(first, "first declared here")
                    .help(format!("requests and decisions name {what}s without their package, so the name must be unique in the program")),
            );
            return false;
        }
        table.insert(name.name.clone(), name.span);
        true
    }

    /// Resolves `import` lines into each file's scope.
    pub(super) fn resolve_imports(&mut self) {
        for (index, (_, file)) in self.files.iter().enumerate() {
            for import in &file.imports {
                let package = import.package.dotted();
                self.index.package(import.package.span, &package);
                if let Some(alias) = &import.alias {
                    self.index.package(alias.span, &package);
                }
                if !self.packages.contains_key(&package) {
                    self.error(
                        Diagnostic::new(
                            Code::UnknownPackage,
                            import.package.span,
                            format!("unknown package `{package}`"),
                        )
                        .label("no loaded file or standard-library module declares this package")
                        .help("check the name, or pass the files that declare it to the command"),
                    );
                    continue;
                }
                match &import.names {
                    Some(names) => {
                        if let Some(alias) = &import.alias {
                            self.error(
                                Diagnostic::new(
                                    Code::UnexpectedToken,
                                    alias.span,
                                    "an import of names cannot be renamed",
                                )
                                .help("import the package under an alias, or import names, not both"),
                            );
                        }
                        for name in names {
                            let found =
                                self.packages.get(&package).and_then(|p| p.symbols.get(&name.name)).map(|(s, _)| *s);
                            match found {
                                Some(symbol) => {
                                    self.refer(name.span, symbol);
                                    self.scopes[index].imported.insert(name.name.clone(), symbol);
                                }
                                None => self.error(
                                    Diagnostic::new(
                                        Code::UnknownName,
                                        name.span,
                                        format!("package `{package}` has no declaration `{}`", name.name),
                                    )
                                    .label("not declared in that package"),
                                ),
                            }
                        }
                    }
                    None => {
                        let alias = import.alias.as_ref().unwrap_or_else(|| import.package.last());
                        self.scopes[index].aliases.insert(alias.name.clone(), package);
                    }
                }
            }
        }
    }

    /// Resolves the types in every declaration.
    pub(super) fn resolve_declarations(&mut self) {
        for index in 0..self.files.len() {
            let file = &self.files[index].1;
            for item in &file.items {
                match item {
                    ast::Item::Entity(d) => self.resolve_entity(index, d),
                    ast::Item::Action(d) => self.resolve_action(index, d),
                    ast::Item::Obligation(d) => self.resolve_obligation(index, d),
                    ast::Item::Type(d) => {
                        if let Some(Symbol::Alias(id)) = self.lookup(index, &d.name.name) {
                            self.alias_type(id);
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some((file, decl)) = self.context_source {
            let record = self.resolve_record(file, &decl.attrs);
            self.schema.context = record;
        }
        for id in 0..self.defs.len() {
            let (file, decl) = (self.defs[id].file, self.defs[id].decl);
            let mut params = Vec::new();
            let mut seen = HashMap::new();
            for param in &decl.params {
                self.is_duplicate(&mut seen, &param.name, "parameter");
                let ty = self.resolve_type(file, &param.ty);
                let var = self.fresh_var();
                self.index.var(var, param.name.span);
                params.push((param.name.name.clone(), var, ty));
            }
            let ret = self.resolve_type(file, &decl.ret);
            self.defs[id].params = params;
            self.defs[id].ret = ret;
        }
    }

    fn resolve_entity(&mut self, file: usize, decl: &ast::EntityDecl) {
        let Some(Symbol::Entity(id)) = self.lookup(file, &decl.name.name) else { return };
        if self.schema.entity(id).span != decl.name.span {
            return;
        }
        let mut parents = Vec::new();
        for parent in &decl.parents {
            match self.resolve_path(file, parent, "type") {
                Some(Symbol::Entity(p)) => parents.push(p),
                Some(_) => self.error(
                    Diagnostic::new(
                        Code::InvalidDefinition,
                        parent.span,
                        format!("`{}` is not an entity type", parent.dotted()),
                    )
                    .label("an entity can only be a member of entity types"),
                ),
                None => {}
            }
        }
        let attrs = self.resolve_record(file, &decl.attrs);
        let entity = &mut self.schema.entities[id.0 as usize];
        entity.parents = parents;
        entity.attrs = attrs;
    }

    fn resolve_action(&mut self, file: usize, decl: &ast::ActionDecl) {
        let principals = self.entity_list(file, &decl.principals, "principal");
        let resources = self.entity_list(file, &decl.resources, "resource");
        if decl.principals.is_empty() || decl.resources.is_empty() {
            let missing = if decl.principals.is_empty() { "principal" } else { "resource" };
            self.error(
                Diagnostic::new(Code::InvalidDefinition, decl.span, format!("the action declares no {missing} types"))
                    .help("write `principal: Type` and `resource: Type` inside the braces"),
            );
        }
        for name in &decl.names {
            if let Some(Symbol::Action(id)) = self.lookup(file, &name.name) {
                let action = &mut self.schema.actions[id.0 as usize];
                if action.span == name.span {
                    action.principals = principals.clone();
                    action.resources = resources.clone();
                }
            }
        }
    }

    fn entity_list(&mut self, file: usize, paths: &[ast::Path], role: &str) -> Vec<EntityTypeId> {
        let mut out = Vec::new();
        for path in paths {
            match self.resolve_path(file, path, "type") {
                Some(Symbol::Entity(id)) if out.contains(&id) => {}
                Some(Symbol::Entity(id)) => out.push(id),
                Some(_) => self.error(
                    Diagnostic::new(
                        Code::InvalidDefinition,
                        path.span,
                        format!("`{}` is not an entity type", path.dotted()),
                    )
                    .label(format!("a {role} must be an entity type")),
                ),
                None => {}
            }
        }
        out.sort();
        out
    }

    /// Reports `name` when `seen` already holds it; otherwise records it.
    /// Whether `name` is in `seen` (names and where each was first
    /// declared), reporting it if so; adds it otherwise.
    fn is_duplicate<'n>(&mut self, seen: &mut HashMap<&'n str, Span>, name: &'n ast::Ident, what: &str) -> bool {
        if let Some(&first) = seen.get(name.name.as_str()) {
            self.error(
                Diagnostic::new(Code::DuplicateDeclaration, name.span, format!("duplicate {what} `{}`", name.name))
                    .related(first, "first declared here"),
            );
            return true;
        }
        seen.insert(&name.name, name.span);
        false
    }

    fn resolve_obligation(&mut self, file: usize, decl: &ast::ObligationDecl) {
        let Some(Symbol::Obligation(id)) = self.lookup(file, &decl.name.name) else { return };
        if self.obligations[id.0 as usize].span != decl.name.span {
            return;
        }
        let mut params: Vec<(String, Type)> = Vec::new();
        let mut seen = HashMap::new();
        for param in &decl.params {
            if self.is_duplicate(&mut seen, &param.name, "parameter") {
                continue;
            }
            if let Some(ty) = self.resolve_type(file, &param.ty) {
                if !obligation_param_type(&ty) {
                    self.error(
                        Diagnostic::new(Code::InvalidDefinition, param.ty.span(), "this type cannot be an obligation parameter")
                            .help("obligation parameters are scalars (Bool, Int, String, Duration, Timestamp, TimeOfDay, Ip, Cidr, enums, levels, entities) or sets of them"),
                    );
                }
                params.push((param.name.name.clone(), ty));
            }
        }
        self.obligations[id.0 as usize].params = params;
    }

    /// The type an alias stands for, resolving it on first use.
    pub(super) fn alias_type(&mut self, id: usize) -> Option<Type> {
        if let Some(resolved) = &self.aliases[id].resolved {
            return resolved.clone();
        }
        if self.aliases[id].in_progress {
            let decl = self.aliases[id].decl;
            self.error(
                Diagnostic::new(
                    Code::InvalidRecursion,
                    decl.name.span,
                    format!("type `{}` refers to itself", decl.name.name),
                )
                .help("records cannot contain themselves; break the cycle"),
            );
            self.aliases[id].resolved = Some(None);
            return None;
        }
        self.aliases[id].in_progress = true;
        let (file, decl) = (self.aliases[id].file, self.aliases[id].decl);
        let ty = self.resolve_type(file, &decl.ty);
        self.aliases[id].in_progress = false;
        if self.aliases[id].resolved.is_none() {
            self.aliases[id].resolved = Some(ty.clone());
        }
        self.aliases[id].resolved.clone().flatten()
    }

    /// Resolves a written type; `None` after reporting a problem.
    pub(super) fn resolve_type(&mut self, file: usize, ty: &ast::TypeExpr) -> Option<Type> {
        match ty {
            ast::TypeExpr::Named(path) => {
                if let [name] = path.segments.as_slice() {
                    let builtin = match name.name.as_str() {
                        "Bool" => Some(Type::Bool),
                        "Int" => Some(Type::INT),
                        "String" => Some(Type::String),
                        "Duration" => Some(Type::Duration),
                        "Timestamp" => Some(Type::Timestamp),
                        "TimeOfDay" => Some(Type::TimeOfDay),
                        "Ip" => Some(Type::Ip),
                        "Cidr" => Some(Type::Cidr),
                        "Set" => {
                            self.error(
                                Diagnostic::new(Code::UnknownType, path.span, "`Set` needs an element type")
                                    .help("write `Set<String>`"),
                            );
                            return None;
                        }
                        _ => None,
                    };
                    if builtin.is_some() {
                        return builtin;
                    }
                }
                match self.resolve_type_path(file, path)? {
                    Symbol::Entity(id) => Some(Type::Entity(vec![id])),
                    Symbol::Enum(id) => Some(Type::Enum(id)),
                    Symbol::Alias(id) => self.alias_type(id),
                    _ => {
                        self.error(
                            Diagnostic::new(Code::UnknownType, path.span, format!("`{}` is not a type", path.dotted()))
                                .label("this names an action, function or obligation"),
                        );
                        None
                    }
                }
            }
            ast::TypeExpr::IntRange { lo, hi, span } => {
                let lo64 = lo.map(i64::try_from);
                let hi64 = hi.map(i64::try_from);
                match (lo64, hi64) {
                    (Some(Err(_)), _) | (_, Some(Err(_))) => {
                        self.error(Diagnostic::new(Code::InvalidRange, *span, "range bound outside 64 bits"));
                        None
                    }
                    (lo, hi) => {
                        let min = lo.and_then(Result::ok);
                        let max = hi.and_then(Result::ok);
                        if let (Some(a), Some(b)) = (min, max)
                            && a > b
                        {
                            self.error(
                                Diagnostic::new(
                                    Code::InvalidRange,
                                    *span,
                                    format!("empty range: {a} is greater than {b}"),
                                )
                                .help("write the lower bound first"),
                            );
                            return None;
                        }
                        Some(Type::Int { min, max })
                    }
                }
            }
            ast::TypeExpr::Set(element, span) => {
                let element = self.resolve_type(file, element)?;
                if !set_element_type(&element) {
                    self.error(
                        Diagnostic::new(Code::InvalidElementType, *span, "sets cannot hold this type")
                            .help("sets hold strings, integers, durations, enum or level values, or entities"),
                    );
                    return None;
                }
                Some(Type::Set(Box::new(element)))
            }
            ast::TypeExpr::Record(attrs, span) => {
                let record = Type::Record(Box::new(self.resolve_record(file, attrs)));
                // Declared types inside can make it deeper than written.
                if type_depth(&record) > MAX_TYPE_DEPTH {
                    self.error(too_deep_diagnostic("record type", MAX_TYPE_DEPTH, *span, TYPE_DEPTH_HELP));
                    return None;
                }
                Some(record)
            }
            ast::TypeExpr::Error(_) => None,
        }
    }

    fn resolve_type_path(&mut self, file: usize, path: &ast::Path) -> Option<Symbol> {
        let found = self.lookup_path(file, path);
        self.refer_path(file, path, found);
        if found.is_none() && !path.segments.iter().any(|s| self.poisoned(&s.name)) {
            let mut d = Diagnostic::new(Code::UnknownType, path.span, format!("unknown type `{}`", path.dotted()))
                .label("not a built-in type, nor declared or imported");
            if path.segments.len() == 1 {
                let builtins = BUILTIN_TYPES.iter().copied();
                if let Some(s) = super::closest(&path.dotted(), builtins).or_else(|| self.suggest(file, &path.dotted()))
                {
                    d = d.help(format!("a type with a similar name exists: `{s}`"));
                }
            }
            self.error(d);
        }
        found
    }

    /// Resolves attribute declarations; duplicate names are reported and dropped.
    pub(super) fn resolve_record(&mut self, file: usize, attrs: &[ast::AttrDecl]) -> Record {
        let mut fields: Vec<Field> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for attr in attrs {
            if attr.name.name.is_empty() {
                // A parse error, already reported: the attribute's name is
                // lost, so no read of this record reports a missing attribute.
                self.poisoned.insert(String::new());
                continue;
            }
            if !seen.insert(&attr.name.name) {
                let first = fields.iter().find(|f| f.name == attr.name.name).map(|f| f.span).unwrap_or(attr.span);
                self.error(
                    Diagnostic::new(
                        Code::DuplicateDeclaration,
                        attr.name.span,
                        format!("attribute `{}` is declared twice", attr.name.name),
                    )
                    .label("declared again here")
                    .related(first, "first declared here"),
                );
                continue;
            }
            let ty = self.resolve_type(file, &attr.ty);
            if ty.is_none() {
                self.poisoned.insert(attr.name.name.clone());
            }
            if let Some(ty) = ty {
                fields.push(Field {
                    name: attr.name.name.clone(),
                    ty,
                    optional: attr.optional,
                    docs: attr.docs.clone(),
                    span: attr.name.span,
                });
            }
        }
        Record { fields }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Entity,
    Action,
    Obligation,
}

/// How many levels a type nests, as [`MAX_TYPE_DEPTH`] counts them.
fn type_depth(ty: &Type) -> usize {
    match ty {
        Type::Set(element) => 1 + type_depth(element),
        Type::Record(record) => 1 + record.fields.iter().map(|f| type_depth(&f.ty)).max().unwrap_or(0),
        _ => 1,
    }
}

/// Whether a type may be a set's element type.
pub(super) fn set_element_type(ty: &Type) -> bool {
    matches!(ty, Type::Int { .. } | Type::String | Type::Duration | Type::Enum(_) | Type::Entity(_))
}

fn obligation_param_type(ty: &Type) -> bool {
    match ty {
        Type::Record(_) => false,
        Type::Set(element) => obligation_param_type(element),
        _ => true,
    }
}
