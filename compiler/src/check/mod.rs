//! Name resolution and type checking: parsed files to a [`Program`].
//!
//! Checking never stops at the first error. A node whose check failed yields
//! no typed node (`None`), and its parents skip their own checks on it, so
//! one mistake produces one diagnostic, not a cascade.

mod decls;
mod expr;
pub mod index;
mod rules;
mod test_blocks;
mod test_index;

pub use decls::BUILTIN_TYPES;

use std::collections::{BTreeMap, HashMap};

use crate::Compilation;
use crate::diagnostics::{self, Code, Diagnostic};
use crate::program::{
    ActionId, Def, DefId, EntityTypeId, EnumId, ObligationDecl, ObligationId, Program, Rule, Schema, Type,
};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::{ast, parser};

/// Parses and checks source files; see [`crate::compile`].
pub fn compile(mut files: Vec<(String, String)>) -> Compilation {
    // Rules are kept in file-name order so that every run numbers them alike.
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sources = SourceMap::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut parsed: Vec<(FileId, ast::File)> = Vec::new();
    for (name, text) in files {
        let id = sources.add(name, text);
        let result = parser::parse(id, &sources.get(id).text);
        diagnostics.extend(result.diagnostics);
        parsed.push((id, result.file));
    }
    load_stdlib(&mut sources, &mut parsed, &mut diagnostics);
    let (program, check_diagnostics, index) = check_indexed(&sources, &parsed);
    diagnostics.extend(check_diagnostics);
    diagnostics::sort(&mut diagnostics);
    let program = if diagnostics.iter().any(Diagnostic::is_error) { None } else { program };
    Compilation { sources, program, diagnostics, index }
}

/// Adds the standard-library files whose packages are imported, directly or
/// through other standard-library files.
fn load_stdlib(sources: &mut SourceMap, parsed: &mut Vec<(FileId, ast::File)>, diagnostics: &mut Vec<Diagnostic>) {
    let mut loaded: Vec<&str> = Vec::new();
    loop {
        let declared: Vec<String> =
            parsed.iter().filter_map(|(_, f)| f.package.as_ref().map(ast::Path::dotted)).collect();
        let wanted: Vec<String> = parsed
            .iter()
            .flat_map(|(_, f)| f.imports.iter().map(|i| i.package.dotted()))
            .filter(|p| !declared.contains(p))
            .collect();
        let mut added = false;
        for (name, text) in crate::stdlib::FILES {
            if loaded.contains(name) {
                continue;
            }
            let package = stdlib_package(text);
            if wanted.iter().any(|w| Some(w.as_str()) == package) {
                loaded.push(name);
                let id = sources.add(format!("{}{name}", crate::stdlib::PREFIX), *text);
                let result = parser::parse(id, &sources.get(id).text);
                diagnostics.extend(result.diagnostics);
                parsed.push((id, result.file));
                added = true;
            }
        }
        if !added {
            return;
        }
    }
}

/// The package a standard-library file declares, read from its first line.
fn stdlib_package(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| l.starts_with("package ")).map(|l| l["package ".len()..].trim())
}

/// Checks parsed files as one program.
pub fn check(sources: &SourceMap, files: &[(FileId, ast::File)]) -> (Option<Program>, Vec<Diagnostic>) {
    let (program, diagnostics, _) = check_indexed(sources, files);
    (program, diagnostics)
}

/// Checks parsed files as one program and indexes what every name refers to.
pub fn check_indexed(
    sources: &SourceMap,
    files: &[(FileId, ast::File)],
) -> (Option<Program>, Vec<Diagnostic>, index::Index) {
    let mut checker = Checker::new(sources, files);
    checker.declare();
    checker.resolve_imports();
    checker.resolve_declarations();
    checker.check_defs();
    checker.check_rules();
    checker.check_tests();
    checker.index_test_data();
    checker.finish()
}

/// What a name in a package refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Entity(EntityTypeId),
    Enum(EnumId),
    Alias(usize),
    Def(DefId),
    Obligation(ObligationId),
    Action(ActionId),
}

/// Declarations of one package.
#[derive(Debug, Default)]
struct Package {
    symbols: HashMap<String, (Symbol, Span)>,
}

/// Names visible in one file besides its own package's.
#[derive(Debug, Default)]
struct FileScope {
    package: String,
    /// `import a.b` / `as c`: alias → package.
    aliases: HashMap<String, String>,
    /// `import a.b.{x}`: name → symbol.
    imported: HashMap<String, Symbol>,
}

/// A `type` alias being resolved.
#[derive(Debug)]
struct AliasSlot<'a> {
    decl: &'a ast::TypeDecl,
    file: usize,
    resolved: Option<Option<Type>>,
    in_progress: bool,
}

/// A `def` with its signature and, once checked, its body.
#[derive(Debug)]
struct DefSlot<'a> {
    decl: &'a ast::DefDecl,
    file: usize,
    package: String,
    /// Parameter types; `None` where the type did not resolve.
    params: Vec<(String, crate::program::VarId, Option<Type>)>,
    ret: Option<Type>,
    body: Option<crate::program::Expr>,
    calls: Vec<(DefId, Span)>,
}

struct Checker<'a> {
    sources: &'a SourceMap,
    files: &'a [(FileId, ast::File)],
    scopes: Vec<FileScope>,
    packages: BTreeMap<String, Package>,
    diags: Vec<Diagnostic>,
    schema: Schema,
    obligations: Vec<ObligationDecl>,
    aliases: Vec<AliasSlot<'a>>,
    defs: Vec<DefSlot<'a>>,
    rules: Vec<Rule>,
    tests: Vec<crate::program::TestCase>,
    /// Where each entity type, action and obligation was declared, for
    /// program-wide uniqueness.
    entity_decls: HashMap<String, Span>,
    action_decls: HashMap<String, Span>,
    obligation_decls: HashMap<String, Span>,
    context_decl: Option<Span>,
    next_var: u32,
    /// What names resolve to, for editors.
    index: index::Index,
    /// For each context declaration found: file index and declaration.
    context_source: Option<(usize, &'a ast::ContextDecl)>,
    /// Names that declarations the parser could not read would have
    /// declared, and attributes whose declaration is broken: their absence
    /// is a consequence of an error already reported, not a new one.
    poisoned: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Checker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").field("diagnostics", &self.diags.len()).finish()
    }
}

impl<'a> Checker<'a> {
    fn new(sources: &'a SourceMap, files: &'a [(FileId, ast::File)]) -> Checker<'a> {
        Checker {
            sources,
            files,
            scopes: Vec::new(),
            packages: BTreeMap::new(),
            diags: Vec::new(),
            schema: Schema::default(),
            obligations: Vec::new(),
            aliases: Vec::new(),
            defs: Vec::new(),
            rules: Vec::new(),
            tests: Vec::new(),
            entity_decls: HashMap::new(),
            action_decls: HashMap::new(),
            obligation_decls: HashMap::new(),
            context_decl: None,
            next_var: 0,
            context_source: None,
            index: index::Index::new(sources, files),
            poisoned: std::collections::HashSet::new(),
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    fn fresh_var(&mut self) -> crate::program::VarId {
        self.next_var += 1;
        crate::program::VarId(self.next_var - 1)
    }

    fn finish(mut self) -> (Option<Program>, Vec<Diagnostic>, index::Index) {
        self.index.schema = self.schema.clone();
        let has_errors = self.diags.iter().any(Diagnostic::is_error);
        let mut defs = Vec::with_capacity(self.defs.len());
        let mut complete = !has_errors;
        for slot in std::mem::take(&mut self.defs) {
            let params: Option<Vec<_>> = slot.params.iter().map(|(_, v, t)| t.clone().map(|t| (*v, t))).collect();
            match (params, slot.ret, slot.body) {
                (Some(params), Some(ret), Some(body)) => defs.push(Def {
                    name: format!("{}.{}", slot.package, slot.decl.name.name),
                    params,
                    ret,
                    body,
                    docs: slot.decl.docs.clone(),
                    span: slot.decl.name.span,
                }),
                _ => complete = false,
            }
        }
        let program = complete.then(|| Program {
            schema: std::mem::take(&mut self.schema),
            obligations: std::mem::take(&mut self.obligations),
            defs,
            rules: std::mem::take(&mut self.rules),
            tests: std::mem::take(&mut self.tests),
        });
        (program, self.diags, self.index)
    }

    /// A short location such as `policy.ward:12`, for default rule ids.
    fn location(&self, span: Span) -> String {
        let file = self.sources.get(span.file);
        let (line, _) = file.line_col(span.start as usize);
        let name = file.name.rsplit(['/', '\\']).next().unwrap_or(&file.name);
        format!("{name}:{line}")
    }

    /// Looks up a name as written in file `file`: its own package first, then
    /// names imported with `import p.{name}`.
    fn lookup(&self, file: usize, name: &str) -> Option<Symbol> {
        let scope = &self.scopes[file];
        if let Some((symbol, _)) = self.packages.get(&scope.package).and_then(|p| p.symbols.get(name)) {
            return Some(*symbol);
        }
        scope.imported.get(name).copied()
    }

    /// Looks up `alias.name`.
    fn lookup_qualified(&self, file: usize, alias: &str, name: &str) -> Option<Symbol> {
        let package = self.scopes[file].aliases.get(alias)?;
        self.packages.get(package)?.symbols.get(name).map(|(s, _)| *s)
    }

    /// What a path (`name` or `alias.name`) names, without reporting anything.
    fn lookup_path(&self, file: usize, path: &ast::Path) -> Option<Symbol> {
        match path.segments.as_slice() {
            [name] => self.lookup(file, &name.name),
            [alias, name] => self.lookup_qualified(file, &alias.name, &name.name),
            _ => None,
        }
    }

    /// Where the declaration a symbol names is written.
    fn symbol_span(&self, symbol: Symbol) -> Option<Span> {
        Some(match symbol {
            Symbol::Entity(id) => self.schema.entities.get(id.0 as usize)?.span,
            Symbol::Enum(id) => self.schema.enums.get(id.0 as usize)?.span,
            Symbol::Alias(id) => self.aliases.get(id)?.decl.name.span,
            Symbol::Def(id) => self.defs.get(id.0 as usize)?.decl.name.span,
            Symbol::Obligation(id) => self.obligations.get(id.0 as usize)?.span,
            Symbol::Action(id) => self.schema.actions.get(id.0 as usize)?.span,
        })
    }

    /// Indexes a name written at `span` that resolved to `symbol`.
    fn refer(&mut self, span: Span, symbol: Symbol) {
        if let Some(target) = self.symbol_span(symbol) {
            self.index.reference(span, target);
        }
    }

    /// Indexes a package alias written at `span` in file `file`.
    fn refer_alias(&mut self, file: usize, span: Span, alias: &str) {
        if let Some(package) = self.scopes[file].aliases.get(alias).cloned() {
            self.index.package(span, &package);
        }
    }

    /// Indexes a resolved path: its package alias, if any, and its name.
    fn refer_path(&mut self, file: usize, path: &ast::Path, symbol: Option<Symbol>) {
        if let [alias, _] = path.segments.as_slice() {
            self.refer_alias(file, alias.span, &alias.name);
        }
        if let Some(symbol) = symbol {
            self.refer(path.last().span, symbol);
        }
    }

    /// Whether a missing name is explained by an earlier error.
    fn poisoned(&self, name: &str) -> bool {
        self.poisoned.contains(name)
    }

    /// Resolves a dotted path naming a declaration; reports what is wrong.
    fn resolve_path(&mut self, file: usize, path: &ast::Path, what: &str) -> Option<Symbol> {
        let found = self.resolve_path_unindexed(file, path, what);
        self.refer_path(file, path, found);
        found
    }

    fn resolve_path_unindexed(&mut self, file: usize, path: &ast::Path, what: &str) -> Option<Symbol> {
        if path.segments.iter().any(|s| self.poisoned(&s.name)) {
            return self.lookup_path(file, path);
        }
        let code = match what {
            "type" => Code::UnknownType,
            "action" => Code::UnknownAction,
            "obligation" => Code::UnknownObligation,
            _ => Code::UnknownName,
        };
        match path.segments.as_slice() {
            [name] => {
                let found = self.lookup(file, &name.name);
                if found.is_none() {
                    let suggestion = self.suggest(file, &name.name);
                    let mut d = Diagnostic::new(code, name.span, format!("unknown {what} `{}`", name.name))
                        .label(format!("no {what} of this name is declared or imported"));
                    if let Some(s) = suggestion {
                        d = d.help(format!("a declaration with a similar name exists: `{s}`"));
                    }
                    self.error(d);
                }
                found
            }
            [alias, name] => {
                if !self.scopes[file].aliases.contains_key(&alias.name) {
                    self.error(
                        Diagnostic::new(Code::UnknownName, alias.span, format!("unknown package `{}`", alias.name))
                            .label("no package is imported under this name")
                            .help(format!("import the package first: `import ward.{}`", alias.name)),
                    );
                    return None;
                }
                let found = self.lookup_qualified(file, &alias.name, &name.name);
                if found.is_none() {
                    self.error(
                        Diagnostic::new(
                            code,
                            name.span,
                            format!("package `{}` has no {what} `{}`", alias.name, name.name),
                        )
                        .label("not declared in that package"),
                    );
                }
                found
            }
            _ => {
                self.error(
                    Diagnostic::new(code, path.span, format!("unknown {what} `{}`", path.dotted()))
                        .help("qualify a name with the package's import name only, as in `identity.mfa_fresh`"),
                );
                None
            }
        }
    }

    /// A declared or imported name close to `name`, for "did you mean".
    fn suggest(&self, file: usize, name: &str) -> Option<String> {
        let scope = &self.scopes[file];
        let mut candidates: Vec<&str> = Vec::new();
        if let Some(p) = self.packages.get(&scope.package) {
            candidates.extend(p.symbols.keys().map(String::as_str));
        }
        candidates.extend(scope.imported.keys().map(String::as_str));
        closest(name, candidates)
    }
}

/// The candidate closest to `name` by edit distance, if close enough.
fn closest<'s>(name: &str, candidates: impl IntoIterator<Item = &'s str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb { previous } else { 1 + previous.min(row[j]).min(row[j + 1]) };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("clearence", ["clearance", "roles"]), Some("clearance".to_owned()));
        assert_eq!(closest("x", ["clearance"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_large_enum_is_checked_with_its_duplicates_reported_once() {
        // Duplicates were found by comparing each value with every earlier
        // one: 50,000 values took seconds.
        let values: Vec<String> = (0..50_000).map(|i| format!("v{i}")).collect();
        let text = format!(
            "package p\nenum E {{ {}, v7 }}\nentity U {{ e: E }}\naction go {{ principal: U, resource: U }}\n\
             @id(\"r\") permit (principal, action: go, resource) when principal.e == E.v49999;\n",
            values.join(", ")
        );
        let c = crate::compile(vec![("a.ward".into(), text)]);
        let found: Vec<(&str, &str)> = c.diagnostics.iter().map(|d| (d.code.as_str(), d.message.as_str())).collect();
        assert_eq!(found, [("E0103", "duplicate value `v7`")]);
    }
}
