//! For the language server: the names written in test data — entity types,
//! attribute names, actions, enum and level values, `with` and `without`
//! paths — indexed as references to their declarations, so that go to
//! definition, find references, hover and rename work in tests as they do in
//! rules.
//!
//! Test data is not checked against the schema (`test_blocks.rs`), so this
//! walk reports nothing: it follows the schema where the data matches it and
//! indexes what resolves. A bare value name (`corp`) resolves only where the
//! schema gives its enum; a fixture is walked where it is used, as what it is
//! used for, and unused fixtures on their own.

use std::collections::{HashMap, HashSet};

use super::{Checker, Symbol};
use crate::program::{EntityTypeId, Record, Type};
use crate::span::Span;
use crate::syntax::ast::{self, Data, DataKind, Ident};

/// What a piece of test data stands for, as far as the schema tells.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Expected {
    /// A request: principal, action, resource, context.
    Request,
    /// An action's name.
    Action,
    /// A value of this type.
    Value(Type),
    /// Nothing known: only what carries its own type (entity literals,
    /// qualified values) resolves.
    Unknown,
}

/// Fixtures by package and name.
type Fixtures<'a> = HashMap<(String, String), (&'a ast::FixtureDecl, usize)>;

impl<'a> Checker<'a> {
    /// Indexes the names in every test's request and every fixture.
    pub(super) fn index_test_data(&mut self) {
        let files = self.files;
        let mut fixtures: Fixtures<'a> = HashMap::new();
        for (file, (_, parsed)) in files.iter().enumerate() {
            for item in &parsed.items {
                if let ast::Item::Fixture(decl) = item {
                    let key = (self.scopes[file].package.clone(), decl.name.name.clone());
                    fixtures.entry(key).or_insert((decl, file));
                }
            }
        }
        let mut walk = Walk { fixtures, seen: HashSet::new(), walked: HashSet::new() };
        for (file, (_, parsed)) in files.iter().enumerate() {
            for item in &parsed.items {
                let ast::Item::Test(decl) = item else { continue };
                for field in decl.fields.iter().filter(|f| f.name.name == "request") {
                    self.index_data(&mut walk, file, &field.value, &Expected::Request);
                }
            }
        }
        let mut unused: Vec<(&'a ast::FixtureDecl, usize)> =
            walk.fixtures.values().copied().filter(|(decl, _)| !walk.walked.contains(&decl.span)).collect();
        unused.sort_by_key(|(decl, _)| decl.span);
        for (decl, file) in unused {
            self.index_fixture(&mut walk, file, decl, &Expected::Unknown);
        }
    }

    fn index_fixture(&mut self, walk: &mut Walk<'a>, file: usize, decl: &'a ast::FixtureDecl, expected: &Expected) {
        // Once per use: fixtures refer to fixtures, possibly in a cycle
        // (reported by the checker).
        walk.walked.insert(decl.span);
        if walk.seen.insert((decl.span, expected.clone())) {
            self.index_data(walk, file, &decl.value, expected);
        }
    }

    fn index_data(&mut self, walk: &mut Walk<'a>, file: usize, data: &Data, expected: &Expected) {
        // Fixtures built on fixtures recurse as deeply as their chain is long.
        crate::stack::grow(|| self.index_data_unguarded(walk, file, data, expected));
    }

    fn index_data_unguarded(&mut self, walk: &mut Walk<'a>, file: usize, data: &Data, expected: &Expected) {
        match &data.kind {
            DataKind::Name(path) => {
                let package = self.scopes[file].package.clone();
                let fixture = walk.fixtures.get(&(package, path.dotted())).copied();
                match fixture.filter(|_| path.segments.len() == 1) {
                    Some((decl, fixture_file)) => self.index_fixture(walk, fixture_file, decl, expected),
                    None => self.index_symbol(file, path, expected),
                }
            }
            DataKind::Entity { ty, attrs, parents, .. } => {
                let entity = self.index_entity_type(file, ty);
                let record = entity.map(|id| self.schema.entity(id).attrs.clone());
                self.index_fields(walk, file, attrs.iter().map(|f| (&f.name, &f.value)), record.as_ref());
                for (parent, _) in parents {
                    self.index_entity_type(file, parent);
                }
            }
            DataKind::Record(fields) => match expected {
                Expected::Request => {
                    for field in fields {
                        let expected = request_part(&field.name.name, &self.schema.context);
                        self.index_data(walk, file, &field.value, &expected);
                    }
                }
                Expected::Value(Type::Record(record)) => {
                    let record = record.as_ref().clone();
                    self.index_fields(walk, file, fields.iter().map(|f| (&f.name, &f.value)), Some(&record));
                }
                _ => {
                    for field in fields {
                        self.index_data(walk, file, &field.value, &Expected::Unknown);
                    }
                }
            },
            DataKind::Set(items) => {
                let element = match expected {
                    Expected::Value(Type::Set(element)) => Expected::Value(element.as_ref().clone()),
                    _ => Expected::Unknown,
                };
                for item in items {
                    self.index_data(walk, file, item, &element);
                }
            }
            DataKind::With(base, updates) => {
                self.index_data(walk, file, base, expected);
                let shape = self.shape(walk, file, base, expected);
                for update in updates {
                    let at_path = self.index_data_path(walk, (base, file), &update.path, &shape);
                    self.index_data(walk, file, &update.value, &at_path);
                }
            }
            DataKind::Without(base, paths) => {
                self.index_data(walk, file, base, expected);
                let shape = self.shape(walk, file, base, expected);
                for path in paths {
                    self.index_data_path(walk, (base, file), path, &shape);
                }
            }
            DataKind::Bool(_)
            | DataKind::Int(_)
            | DataKind::Duration(_)
            | DataKind::Str(_)
            | DataKind::Call(..)
            | DataKind::Error => {}
        }
    }

    /// `name: value` pairs of a record or an entity's attributes, whose
    /// declarations are `record`'s fields when known.
    fn index_fields<'d>(
        &mut self,
        walk: &mut Walk<'a>,
        file: usize,
        fields: impl Iterator<Item = (&'d Ident, &'d Data)>,
        record: Option<&Record>,
    ) {
        for (name, value) in fields {
            let declared = record.and_then(|r| r.field(&name.name));
            if let Some(field) = declared {
                self.index.reference(name.span, field.span);
            }
            let expected = declared.map_or(Expected::Unknown, |f| Expected::Value(f.ty.clone()));
            self.index_data(walk, file, value, &expected);
        }
    }

    /// What the base of `with` or `without` is: what was expected of it or,
    /// when that is unknown, the entity it is (written or as a fixture).
    fn shape(&self, walk: &Walk<'a>, file: usize, base: &Data, expected: &Expected) -> Expected {
        if *expected != Expected::Unknown {
            return expected.clone();
        }
        match self.underlying(walk, file, base) {
            Some((Data { kind: DataKind::Entity { ty, .. }, .. }, file)) => match self.lookup_path(file, ty) {
                Some(Symbol::Entity(id)) => Expected::Value(Type::Entity(vec![id])),
                _ => Expected::Unknown,
            },
            _ => Expected::Unknown,
        }
    }

    /// The record or entity literal `data` is written as, through the
    /// fixtures it names and the bases of `with` and `without`, and the file
    /// it is written in.
    fn underlying<'d>(&self, walk: &Walk<'d>, file: usize, data: &'d Data) -> Option<(&'d Data, usize)> {
        let (mut data, mut file) = (data, file);
        // A bounded number of steps: a cycle of fixtures is the checker's
        // to report.
        for _ in 0..64 {
            match &data.kind {
                DataKind::Entity { .. } | DataKind::Record(_) => return Some((data, file)),
                DataKind::With(inner, _) | DataKind::Without(inner, _) => data = inner,
                DataKind::Name(path) if path.segments.len() == 1 => {
                    let key = (self.scopes[file].package.clone(), path.dotted());
                    let (decl, fixture_file) = walk.fixtures.get(&key)?;
                    (data, file) = (&decl.value, *fixture_file);
                }
                _ => return None,
            }
        }
        None
    }

    /// The entity type of a request's `principal` or `resource` (`part`),
    /// as the request `data` gives it.
    fn request_entity(&self, walk: &Walk<'a>, (data, file): (&Data, usize), part: &str) -> Expected {
        let Some((Data { kind: DataKind::Record(fields), .. }, file)) = self.underlying(walk, file, data) else {
            return Expected::Unknown;
        };
        match fields.iter().find(|f| f.name.name == part) {
            Some(field) => self.shape(walk, file, &field.value, &Expected::Unknown),
            None => Expected::Unknown,
        }
    }

    /// A `with` or `without` path from data of the `expected` kind: each
    /// segment that resolves is indexed. Returns what the path leads to.
    fn index_data_path(
        &mut self,
        walk: &Walk<'a>,
        base: (&Data, usize),
        path: &[Ident],
        expected: &Expected,
    ) -> Expected {
        let mut at = expected.clone();
        for segment in path {
            at = match at {
                Expected::Request if matches!(segment.name.as_str(), "principal" | "resource") => {
                    self.request_entity(walk, base, &segment.name)
                }
                Expected::Request => request_part(&segment.name, &self.schema.context),
                Expected::Value(Type::Record(record)) => self.index_field_segment(segment, &record),
                Expected::Value(Type::Entity(ids)) if ids.len() == 1 => {
                    let attrs = self.schema.entity(ids[0]).attrs.clone();
                    self.index_field_segment(segment, &attrs)
                }
                _ => Expected::Unknown,
            };
        }
        at
    }

    /// A path segment naming a field of `record`, indexed if it does.
    fn index_field_segment(&mut self, segment: &Ident, record: &Record) -> Expected {
        match record.field(&segment.name) {
            Some(field) => {
                self.index.reference(segment.span, field.span);
                Expected::Value(field.ty.clone())
            }
            None => Expected::Unknown,
        }
    }

    /// The entity type named by `path`, indexed, if it names one.
    fn index_entity_type(&mut self, file: usize, path: &ast::Path) -> Option<EntityTypeId> {
        let symbol = self.lookup_path(file, path);
        match symbol {
            Some(Symbol::Entity(id)) => {
                self.refer_path(file, path, symbol);
                Some(id)
            }
            _ => None,
        }
    }

    /// A name standing for a symbol: an action, or an enum or level value,
    /// bare where the schema gives its enum, or qualified by it.
    fn index_symbol(&mut self, file: usize, path: &ast::Path, expected: &Expected) {
        match (expected, path.segments.as_slice()) {
            (Expected::Action, _) => {
                let symbol = self.lookup_path(file, path);
                if let Some(Symbol::Action(_)) = symbol {
                    self.refer_path(file, path, symbol);
                }
            }
            (Expected::Value(Type::Enum(id)), [value]) => {
                let span = self.schema.enum_type(*id).span;
                self.index.value(value.span, span, &value.name);
            }
            (_, [.., value]) if path.segments.len() > 1 => {
                // `Zone.corp` or `network.Zone.corp`: the enum, then its value.
                let ty = ast::Path { segments: path.segments[..path.segments.len() - 1].to_vec(), span: path.span };
                let symbol = self.lookup_path(file, &ty);
                let enum_id = match symbol {
                    Some(Symbol::Enum(id)) => Some(id),
                    Some(Symbol::Alias(id)) => match self.alias_type(id) {
                        Some(Type::Enum(id)) => Some(id),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(id) = enum_id {
                    self.refer_path(file, &ty, symbol);
                    let span = self.schema.enum_type(id).span;
                    self.index.value(value.span, span, &value.name);
                }
            }
            _ => {}
        }
    }
}

/// The walk's state: the fixtures, which were walked as what, and which
/// were walked at all.
struct Walk<'a> {
    fixtures: Fixtures<'a>,
    seen: HashSet<(Span, Expected)>,
    walked: HashSet<Span>,
}

/// What a request's part called `name` stands for.
fn request_part(name: &str, context: &Record) -> Expected {
    match name {
        "action" => Expected::Action,
        "context" => Expected::Value(Type::Record(Box::new(context.clone()))),
        // The principal and the resource are entity literals, which carry
        // their type.
        _ => Expected::Unknown,
    }
}
