//! `test` blocks and `fixture`s: checked into [`TestCase`]s whose request is
//! the JSON document a gateway would receive.
//!
//! Test data is deliberately not checked against the schema: tests of
//! malformed input must be able to send what the schema forbids. What is
//! checked is everything that would make a test silently meaningless: the
//! fixtures it names, the paths it updates, the rule ids, obligations and
//! error kinds it expects.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};
use ward_types::values::format_duration;
use ward_types::{ErrorKind, Obligation, Outcome};

use super::{Checker, Symbol, closest};
use crate::diagnostics::{Code, Diagnostic};
use crate::program::{Expectation, ExpectedError, TestCase, Type};
use crate::span::Span;
use crate::syntax::ast::{self, Data, DataKind};

/// Test data with fixtures resolved.
#[derive(Debug, Clone)]
enum Val {
    Scalar(Json),
    List(Vec<Val>),
    Record(Vec<(String, Val)>),
    Entity { ty: String, id: String, attrs: Vec<(String, Val)>, parents: Vec<(String, String)> },
}

impl Val {
    fn into_json(self) -> Json {
        let record = |fields: Vec<(String, Val)>| {
            let mut map = Map::new();
            for (name, value) in fields {
                map.insert(name, value.into_json());
            }
            Json::Object(map)
        };
        match self {
            Val::Scalar(json) => json,
            Val::List(items) => Json::Array(items.into_iter().map(Val::into_json).collect()),
            Val::Record(fields) => record(fields),
            Val::Entity { ty, id, attrs, parents } => {
                let mut map = Map::new();
                map.insert("type".into(), Json::String(ty));
                map.insert("id".into(), Json::String(id));
                // Empty parts are left out, so that an entity written as an
                // attribute value is the `{"type", "id"}` reference the
                // request format expects there.
                if !attrs.is_empty() {
                    map.insert("attributes".into(), record(attrs));
                }
                if parents.is_empty() {
                    return Json::Object(map);
                }
                let parents = parents
                    .into_iter()
                    .map(|(ty, id)| {
                        let mut parent = Map::new();
                        parent.insert("type".into(), Json::String(ty));
                        parent.insert("id".into(), Json::String(id));
                        Json::Object(parent)
                    })
                    .collect();
                map.insert("ancestors".into(), Json::Array(parents));
                Json::Object(map)
            }
        }
    }

    /// The fields a path segment can address: a record's, or an entity's
    /// attributes.
    fn fields_mut(&mut self) -> Option<&mut Vec<(String, Val)>> {
        match self {
            Val::Record(fields) | Val::Entity { attrs: fields, .. } => Some(fields),
            Val::Scalar(_) | Val::List(_) => None,
        }
    }
}

/// A fixture and, once evaluated, its value.
#[derive(Debug)]
struct FixtureSlot<'a> {
    decl: &'a ast::FixtureDecl,
    file: usize,
    state: FixtureState,
}

#[derive(Debug, Clone)]
enum FixtureState {
    Pending,
    InProgress,
    /// `None` when the fixture has an error, already reported.
    Done(Option<Val>),
}

/// Fixtures by package and name.
type Fixtures<'a> = HashMap<(String, String), FixtureSlot<'a>>;

const TEST_FIELDS: &[&str] = &["request", "expect", "rules", "obligations", "errors"];

impl<'a> Checker<'a> {
    /// Checks every fixture and test; runs after the rules, whose ids tests
    /// name.
    pub(super) fn check_tests(&mut self) {
        let mut fixtures: Fixtures<'a> = HashMap::new();
        let files = self.files;
        for (file, (_, parsed)) in files.iter().enumerate() {
            for item in &parsed.items {
                let ast::Item::Fixture(decl) = item else { continue };
                let key = (self.scopes[file].package.clone(), decl.name.name.clone());
                if let Some(first) = fixtures.get(&key) {
                    let first = first.decl.name.span;
                    self.error(
                        Diagnostic::new(
                            Code::DuplicateDeclaration,
                            decl.name.span,
                            format!("fixture `{}` is declared twice", decl.name.name),
                        )
                        .label("second declaration")
                        .related(first, "first declared here"),
                    );
                    continue;
                }
                fixtures.insert(key, FixtureSlot { decl, file, state: FixtureState::Pending });
            }
        }
        // Every fixture is checked, used or not.
        let mut keys: Vec<(String, String)> = fixtures.keys().cloned().collect();
        keys.sort();
        for (package, name) in keys {
            self.fixture(&mut fixtures, &package, &name);
        }
        let mut names: HashMap<String, Span> = HashMap::new();
        for (file, (file_id, parsed)) in files.iter().enumerate() {
            // A library's own tests are not its importers' tests.
            if self.sources.get(*file_id).name.starts_with(crate::stdlib::PREFIX) {
                continue;
            }
            for item in &parsed.items {
                let ast::Item::Test(decl) = item else { continue };
                if let Some(first) = names.get(&decl.name.value) {
                    self.error(
                        Diagnostic::new(
                            Code::InvalidTest,
                            decl.name.span,
                            format!("test `{}` is declared twice", decl.name.value),
                        )
                        .label("second test with this name")
                        .related(*first, "first declared here")
                        .help("test names identify tests in reports and `--filter`: make each unique"),
                    );
                    continue;
                }
                names.insert(decl.name.value.clone(), decl.name.span);
                if let Some(test) = self.test(&mut fixtures, file, decl) {
                    self.tests.push(test);
                }
            }
        }
    }

    fn test(&mut self, fixtures: &mut Fixtures<'a>, file: usize, decl: &ast::TestDecl) -> Option<TestCase> {
        let mut fields: HashMap<&str, &ast::DataField> = HashMap::new();
        let mut ok = true;
        for field in &decl.fields {
            let name = field.name.name.as_str();
            if !TEST_FIELDS.contains(&name) {
                let mut d = Diagnostic::new(Code::InvalidTest, field.name.span, format!("unknown test field `{name}`"))
                    .label("not a test field");
                d = match closest(name, TEST_FIELDS.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("a test has `request`, `expect`, and optionally `rules`, `obligations`, `errors`"),
                };
                self.error(d);
                ok = false;
            } else if let Some(first) = fields.insert(name, field) {
                self.error(
                    Diagnostic::new(Code::InvalidTest, field.name.span, format!("test field `{name}` is given twice"))
                        .label("second value")
                        .related(first.name.span, "first given here"),
                );
                ok = false;
            }
        }
        let mut missing = Vec::new();
        for required in ["request", "expect"] {
            if !fields.contains_key(required) {
                missing.push(required);
            }
        }
        if !missing.is_empty() {
            let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ");
            self.error(
                Diagnostic::new(Code::InvalidTest, decl.name.span, format!("test has no {list}"))
                    .label("incomplete test")
                    .help("a test needs `request: <fixture or data>` and `expect: allow` or `expect: deny`"),
            );
            ok = false;
        }
        let request = fields.get("request").and_then(|f| self.request(fixtures, file, &f.value));
        let outcome = fields.get("expect").and_then(|f| self.outcome(&f.value));
        let rules = match fields.get("rules") {
            Some(f) => Some(self.expected_rules(&f.value)?),
            None => None,
        };
        let obligations = match fields.get("obligations") {
            Some(f) => Some(self.expected_obligations(file, &f.value)?),
            None => None,
        };
        let errors = match fields.get("errors") {
            Some(f) => self.expected_errors(&f.value)?,
            None => Vec::new(),
        };
        let (request, outcome) = (request?, outcome?);
        ok.then(|| TestCase {
            name: decl.name.value.clone(),
            span: decl.name.span,
            request,
            expect: Expectation { outcome, rules, obligations, errors },
        })
    }

    /// The request: a record or a fixture naming one.
    fn request(&mut self, fixtures: &mut Fixtures<'a>, file: usize, data: &Data) -> Option<Json> {
        let value = self.record_like(fixtures, file, data, "request")?;
        Some(value.into_json())
    }

    fn outcome(&mut self, data: &Data) -> Option<Outcome> {
        if let DataKind::Name(path) = &data.kind {
            match path.dotted().as_str() {
                "allow" => return Some(Outcome::Allow),
                "deny" => return Some(Outcome::Deny),
                _ => {}
            }
        }
        self.error(
            Diagnostic::new(Code::InvalidTest, data.span, "expected decision must be `allow` or `deny`")
                .label("not a decision")
                .help("write `expect: allow` or `expect: deny`"),
        );
        None
    }

    fn expected_rules(&mut self, data: &Data) -> Option<Vec<String>> {
        let items = self.list(data, "rules", "a list of rule ids such as `[\"ZT-001\"]`")?;
        let known: Vec<String> = self.rules.iter().map(|r| r.id.clone()).collect();
        let mut ids = Vec::new();
        let mut ok = true;
        for item in items {
            let DataKind::Str(id) = &item.kind else {
                self.error(
                    Diagnostic::new(Code::InvalidTestData, item.span, "a rule id is a string")
                        .label("not a string")
                        .help("write the id as in `@id(\"...\")`, quoted"),
                );
                ok = false;
                continue;
            };
            if !known.contains(id) {
                let mut d = Diagnostic::new(Code::UnknownRuleId, item.span, format!("no rule has the id `{id}`"))
                    .label("unknown rule id");
                if let Some(s) = closest(id, known.iter().map(String::as_str)) {
                    d = d.help(format!("a rule with a similar id exists: `{s}`"));
                }
                self.error(d);
                ok = false;
                continue;
            }
            ids.push(id.clone());
        }
        ids.sort();
        ids.dedup();
        ok.then_some(ids)
    }

    fn expected_obligations(&mut self, file: usize, data: &Data) -> Option<Vec<Obligation>> {
        let items = self.list(data, "obligations", "a list such as `[quarantine(for: 15m)]`")?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let Some((name, args)) = self.call_form(item, "an expected obligation is written `name(arg: value)`")
            else {
                ok = false;
                continue;
            };
            match self.expected_obligation(file, name, args, item.span) {
                Some(o) => out.push(o),
                None => ok = false,
            }
        }
        out.sort();
        out.dedup();
        ok.then_some(out)
    }

    fn expected_obligation(
        &mut self,
        file: usize,
        name: &ast::Path,
        args: &[ast::DataField],
        span: Span,
    ) -> Option<Obligation> {
        let Some(Symbol::Obligation(id)) = self.resolve_path(file, name, "obligation") else {
            return None;
        };
        let decl = self.obligations.get(id.0 as usize)?.clone();
        let mut rendered = std::collections::BTreeMap::new();
        let mut ok = true;
        for arg in args {
            let Some((_, ty)) = decl.params.iter().find(|(p, _)| *p == arg.name.name) else {
                self.error(
                    Diagnostic::new(
                        Code::ObligationArguments,
                        arg.name.span,
                        format!("obligation `{}` has no parameter `{}`", decl.name, arg.name.name),
                    )
                    .label("unknown parameter"),
                );
                ok = false;
                continue;
            };
            match self.constant(ty, &arg.value) {
                Some(json) => {
                    rendered.insert(arg.name.name.clone(), ward_types::decision::ObligationArg(json));
                }
                None => ok = false,
            }
        }
        let missing: Vec<&str> =
            decl.params.iter().map(|(p, _)| p.as_str()).filter(|p| !args.iter().any(|a| a.name.name == *p)).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
            self.error(
                Diagnostic::new(Code::ObligationArguments, span, format!("missing arguments {list}"))
                    .label(format!("`{}` takes every parameter by name", decl.name)),
            );
            ok = false;
        }
        ok.then(|| Obligation { name: decl.name.clone(), args: rendered })
    }

    /// An obligation argument as a decision renders it.
    fn constant(&mut self, ty: &Type, data: &Data) -> Option<Json> {
        match (ty, &data.kind) {
            (Type::Bool, DataKind::Bool(b)) => Some(Json::Bool(*b)),
            (Type::Int { .. }, DataKind::Int(n)) => self.int(*n, data.span),
            (Type::Duration, DataKind::Duration(ms)) => self.duration(*ms, data.span),
            (Type::String | Type::Timestamp | Type::TimeOfDay | Type::Ip | Type::Cidr, DataKind::Str(s)) => {
                Some(Json::String(s.clone()))
            }
            (Type::Enum(id), DataKind::Name(path)) => {
                let value = &path.last().name;
                let decl = self.schema.enums.get(id.0 as usize)?;
                if !decl.values.contains(value) {
                    let d = Diagnostic::new(
                        Code::UnknownValue,
                        path.span,
                        format!("`{}` has no value `{value}`", decl.name),
                    )
                    .label("unknown value")
                    .help(format!("the values are {}", decl.values.join(", ")));
                    self.error(d);
                    return None;
                }
                Some(Json::String(value.clone()))
            }
            _ => {
                self.error(
                    Diagnostic::new(Code::InvalidTestData, data.span, "this value does not fit the parameter's type")
                        .label(format!("expected a `{}`", self.show(ty))),
                );
                None
            }
        }
    }

    fn expected_errors(&mut self, data: &Data) -> Option<Vec<ExpectedError>> {
        let items = self.list(data, "errors", "a list such as `[invalid_value(path: \"context.risk\")]`")?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let expected = "an expected error is written `kind` or `kind(path: \"...\", rule: \"...\")`";
            let Some((name, args)) = self.call_form(item, expected) else {
                ok = false;
                continue;
            };
            let Some(kind) = ErrorKind::ALL.iter().copied().find(|k| k.as_str() == name.dotted()) else {
                self.error(
                    Diagnostic::new(
                        Code::InvalidTestData,
                        name.span,
                        format!("`{}` is not an error kind", name.dotted()),
                    )
                    .label("unknown error kind")
                    .help(format!("the kinds are {}", error_kinds().join(", "))),
                );
                ok = false;
                continue;
            };
            let mut expected = ExpectedError { kind, path: None, rule: None };
            for arg in args {
                let slot = match arg.name.name.as_str() {
                    "path" => &mut expected.path,
                    "rule" => &mut expected.rule,
                    other => {
                        self.error(
                            Diagnostic::new(Code::InvalidTestData, arg.name.span, format!("an error has no `{other}`"))
                                .label("unknown field")
                                .help("an expected error may give `path` and `rule`"),
                        );
                        ok = false;
                        continue;
                    }
                };
                match &arg.value.kind {
                    DataKind::Str(s) => *slot = Some(s.clone()),
                    _ => {
                        self.error(
                            Diagnostic::new(Code::InvalidTestData, arg.value.span, "expected a string")
                                .label("not a string"),
                        );
                        ok = false;
                    }
                }
            }
            out.push(expected);
        }
        ok.then_some(out)
    }

    /// `name(args)`, or a bare `name` without arguments.
    fn call_form<'d>(&mut self, item: &'d Data, expected: &str) -> Option<(&'d ast::Path, &'d [ast::DataField])> {
        match &item.kind {
            DataKind::Call(name, args) => Some((name, args.as_slice())),
            DataKind::Name(name) => Some((name, &[][..])),
            _ => {
                self.error(Diagnostic::new(Code::InvalidTestData, item.span, expected).label("not written as a call"));
                None
            }
        }
    }

    /// The elements of a list literal.
    fn list<'d>(&mut self, data: &'d Data, field: &str, example: &str) -> Option<&'d [Data]> {
        if let DataKind::Set(items) = &data.kind {
            return Some(items);
        }
        self.error(
            Diagnostic::new(Code::InvalidTestData, data.span, format!("`{field}` is a list"))
                .label("not a list")
                .help(format!("write {example}")),
        );
        None
    }

    // -------------------------------------------------------------- data

    /// Data that must be a record or an entity: a bare name here must be a
    /// fixture.
    fn record_like(&mut self, fixtures: &mut Fixtures<'a>, file: usize, data: &Data, what: &str) -> Option<Val> {
        if let DataKind::Name(path) = &data.kind {
            let package = self.scopes[file].package.clone();
            let found = path.segments.len() == 1 && fixtures.contains_key(&(package.clone(), path.dotted()));
            if !found {
                let names = fixtures.keys().filter(|(p, _)| *p == package).map(|(_, n)| n.as_str());
                let mut d =
                    Diagnostic::new(Code::UnknownFixture, path.span, format!("unknown fixture `{}`", path.dotted()))
                        .label("no fixture of this name in this package");
                if let Some(s) = closest(&path.dotted(), names) {
                    d = d.help(format!("a fixture with a similar name exists: `{s}`"));
                }
                self.error(d);
                return None;
            }
        }
        let mut value = self.data(fixtures, file, data)?;
        if value.fields_mut().is_none() {
            self.error(
                Diagnostic::new(Code::InvalidTestData, data.span, format!("the {what} must be a record or an entity"))
                    .label("not a record"),
            );
            return None;
        }
        Some(value)
    }

    fn data(&mut self, fixtures: &mut Fixtures<'a>, file: usize, data: &Data) -> Option<Val> {
        // Fixtures built on fixtures recurse as deeply as their chain is long.
        crate::stack::grow(|| self.data_unguarded(fixtures, file, data))
    }

    fn data_unguarded(&mut self, fixtures: &mut Fixtures<'a>, file: usize, data: &Data) -> Option<Val> {
        match &data.kind {
            DataKind::Bool(b) => Some(Val::Scalar(Json::Bool(*b))),
            DataKind::Int(n) => self.int(*n, data.span).map(Val::Scalar),
            DataKind::Duration(ms) => self.duration(*ms, data.span).map(Val::Scalar),
            DataKind::Str(s) => Some(Val::Scalar(Json::String(s.clone()))),
            DataKind::Name(path) => {
                let package = self.scopes[file].package.clone();
                if let Some(slot) = fixtures.get(&(package.clone(), path.dotted())).filter(|_| path.segments.len() == 1)
                {
                    // For the language server: the name refers to the fixture.
                    self.index.reference(path.span, slot.decl.name.span);
                    return self.fixture(fixtures, &package, &path.dotted());
                }
                // `null`, for tests of input that carries it; otherwise a
                // symbol: an enum or level value, or an action.
                if path.dotted() == "null" {
                    return Some(Val::Scalar(Json::Null));
                }
                Some(Val::Scalar(Json::String(path.last().name.clone())))
            }
            DataKind::Entity { ty, id, attrs, parents } => {
                let attrs = self.fields(fixtures, file, attrs)?;
                let parents = parents.iter().map(|(ty, id)| (ty.last().name.clone(), id.value.clone())).collect();
                Some(Val::Entity { ty: ty.last().name.clone(), id: id.value.clone(), attrs, parents })
            }
            DataKind::Call(..) => {
                self.error(
                    Diagnostic::new(Code::InvalidTestData, data.span, "`name(...)` is not request data")
                        .label("only expected obligations and errors are written as calls"),
                );
                None
            }
            DataKind::Set(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.data(fixtures, file, item));
                }
                out.into_iter().collect::<Option<Vec<_>>>().map(Val::List)
            }
            DataKind::Record(fields) => self.fields(fixtures, file, fields).map(Val::Record),
            DataKind::With(base, updates) => {
                let mut value = self.record_like(fixtures, file, base, "base of `with`")?;
                let mut ok = true;
                for update in updates {
                    let Some(new) = self.data(fixtures, file, &update.value) else {
                        ok = false;
                        continue;
                    };
                    ok &= self.update(&mut value, &update.path, Some(new));
                }
                ok.then_some(value)
            }
            DataKind::Without(base, paths) => {
                let mut value = self.record_like(fixtures, file, base, "base of `without`")?;
                let mut ok = true;
                for path in paths {
                    ok &= self.update(&mut value, path, None);
                }
                ok.then_some(value)
            }
            DataKind::Error => None,
        }
    }

    /// Sets (`Some`) or removes (`None`) the value at `path`. Every segment
    /// but the last must exist; removing needs the last one to exist too.
    fn update(&mut self, value: &mut Val, path: &[ast::Ident], new: Option<Val>) -> bool {
        let Some((last, init)) = path.split_last() else { return false };
        let mut at = value;
        for segment in init {
            let Some(fields) = at.fields_mut() else { return self.not_a_record(segment) };
            match fields.iter_mut().find(|(n, _)| *n == segment.name) {
                Some((_, next)) => at = next,
                None => return self.no_such_field(segment),
            }
        }
        let Some(fields) = at.fields_mut() else { return self.not_a_record(last) };
        let position = fields.iter().position(|(n, _)| *n == last.name);
        match (new, position) {
            (Some(new), Some(i)) => fields[i].1 = new,
            (Some(new), None) => fields.push((last.name.clone(), new)),
            (None, Some(i)) => {
                fields.remove(i);
            }
            (None, None) => return self.no_such_field(last),
        }
        true
    }

    fn not_a_record(&mut self, segment: &ast::Ident) -> bool {
        self.error(
            Diagnostic::new(Code::InvalidTestData, segment.span, format!("cannot reach `{}`", segment.name))
                .label("the value before it is not a record or an entity"),
        );
        false
    }

    fn no_such_field(&mut self, segment: &ast::Ident) -> bool {
        self.error(
            Diagnostic::new(Code::InvalidTestData, segment.span, format!("the data has no field `{}`", segment.name))
                .label("no such field")
                .help("check the spelling; `with` can add a new last field, but not the fields leading to it"),
        );
        false
    }

    fn fields(
        &mut self,
        fixtures: &mut Fixtures<'a>,
        file: usize,
        fields: &[ast::DataField],
    ) -> Option<Vec<(String, Val)>> {
        let mut out: Vec<(String, Val)> = Vec::with_capacity(fields.len());
        let mut seen: Vec<&ast::Ident> = Vec::new();
        let mut ok = true;
        for field in fields {
            if let Some(first) = seen.iter().find(|s| s.name == field.name.name) {
                let first = first.span;
                self.error(
                    Diagnostic::new(
                        Code::InvalidTestData,
                        field.name.span,
                        format!("field `{}` is given twice", field.name.name),
                    )
                    .label("second value")
                    .related(first, "first given here"),
                );
                ok = false;
                continue;
            }
            seen.push(&field.name);
            match self.data(fixtures, file, &field.value) {
                Some(v) => out.push((field.name.name.clone(), v)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A fixture's value, evaluated once.
    fn fixture(&mut self, fixtures: &mut Fixtures<'a>, package: &str, name: &str) -> Option<Val> {
        let key = (package.to_owned(), name.to_owned());
        let slot = fixtures.get_mut(&key)?;
        match &slot.state {
            FixtureState::Done(value) => return value.clone(),
            FixtureState::InProgress => {
                let span = slot.decl.name.span;
                slot.state = FixtureState::Done(None);
                self.error(
                    Diagnostic::new(Code::RecursiveFixture, span, format!("fixture `{name}` refers to itself"))
                        .label("its value uses this fixture, directly or through others"),
                );
                return None;
            }
            FixtureState::Pending => slot.state = FixtureState::InProgress,
        }
        let (decl, file) = (slot.decl, slot.file);
        let value = self.data(fixtures, file, &decl.value);
        let slot = fixtures.get_mut(&key)?;
        // A cycle through this fixture has already marked it failed.
        if matches!(slot.state, FixtureState::InProgress) {
            slot.state = FixtureState::Done(value.clone());
            value
        } else {
            None
        }
    }

    fn int(&mut self, n: i128, span: Span) -> Option<Json> {
        if let Ok(n) = i64::try_from(n) {
            return Some(Json::from(n));
        }
        if let Ok(n) = u64::try_from(n) {
            return Some(Json::from(n));
        }
        self.error(
            Diagnostic::new(Code::InvalidTestData, span, "integer too large for test data").label("beyond 64 bits"),
        );
        None
    }

    fn duration(&mut self, ms: i128, span: Span) -> Option<Json> {
        match i64::try_from(ms) {
            Ok(ms) if ms != i64::MIN => Some(Json::String(format_duration(ms))),
            _ => {
                self.error(
                    Diagnostic::new(Code::InvalidTestData, span, "duration too large for test data")
                        .label("beyond 64 bits of milliseconds"),
                );
                None
            }
        }
    }
}

/// Every error kind's name, as decisions write it.
fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.as_str()).collect()
}
