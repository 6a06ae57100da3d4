//! Requests built straight into a module's layout: names resolved once to
//! handles, values written where the module reads them as they are set.
//!
//! A [`Request`](crate::Request) is a tree of names and JSON values that
//! every decision validates and encodes afresh, name by name, and whose
//! undeclared attributes are ignored. An enforcement point that knows which
//! attributes it fills resolves their names once, with
//! [`DecisionModule::action`], [`DecisionModule::entity_type`],
//! [`DecisionModule::principal_attribute`],
//! [`DecisionModule::resource_attribute`] and
//! [`DecisionModule::context_attribute`] (a misspelt name fails there), and
//! builds each request with a [`RequestBuilder`]: the same validation (every
//! violation a deny with its path, as from the other paths) without looking
//! names up per request.

use std::fmt;

use serde_json::{Number, Value};
use ward_types::manifest::TypeLayout;
use ward_types::{Decision, DecisionError, ErrorKind};

use crate::answer::Verdict;
use crate::encode::{Encoder, Leaf, Path, put, put_i32, write_ancestors, write_set, write_string};
use crate::module::{DecisionModule, Evaluator};
use crate::schema::{Field, Fields};

/// A name the module does not declare, asked for by a handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was looked for: `action`, `entity type`, `attribute`.
    pub what: &'static str,
    /// The name, as given.
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the decision module declares no {} `{}`", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// An action of one module, resolved by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionHandle {
    module: u64,
    index: u32,
}

/// An entity type of one module, resolved by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityTypeHandle {
    module: u64,
    index: u32,
}

/// The roles whose attributes a builder sets, by position.
const ROLES: [&str; 3] = ["principal", "resource", "context"];

/// An attribute of the principal's or the resource's entity type, or of
/// the context, possibly a field of a record attribute, resolved by its
/// dotted name: where its value goes and how it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeHandle {
    module: u64,
    /// Index into [`ROLES`].
    role: u8,
    /// The entity type, for entity attributes.
    entity: Option<u32>,
    /// Field positions from the container down.
    path: Box<[u32]>,
    /// The flag of each field on the path: its position in the container's
    /// fields listed depth first, records before their own fields.
    flags: Box<[u32]>,
    /// Where the value goes in the request buffer.
    slot: u32,
    /// Where its presence flag is, for an optional attribute.
    present: Option<u32>,
    /// The presence flags of the optional records on the path.
    enclosing: Box<[u32]>,
    /// What the fast paths write.
    kind: Kind,
}

/// The types whose values a builder writes without the general encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int { min: Option<i64>, max: Option<i64> },
    String,
    Enum(u32),
    StringSet,
    Other,
}

/// Resolves a dotted name in `fields` (a container at `base`) into a
/// handle for `role`.
fn resolve(
    fields: &Fields,
    base: u32,
    dotted: &str,
    module: u64,
    role: u8,
    entity: Option<u32>,
) -> Option<AttributeHandle> {
    let (mut path, mut flags, mut enclosing) = (Vec::new(), Vec::new(), Vec::new());
    let (mut flag, mut base) = (0u32, base);
    let mut container = Some(fields);
    let mut last = None;
    for part in dotted.split('.') {
        let fields = container?;
        let i = fields.find(part)?;
        let field = fields.fields.get(i)?;
        flag += fields.fields[..i].iter().map(|f| f.flags).sum::<u32>();
        path.push(i as u32);
        flags.push(flag);
        if let Some((outer, outer_base)) = last {
            let outer: &Field = outer;
            enclosing.extend(outer.present_offset.map(|p| outer_base + p));
            base = outer_base + outer.offset;
        }
        last = Some((field, base));
        container = field.record.as_ref();
        flag += 1;
    }
    let (field, base) = last?;
    let kind = match field.ty {
        TypeLayout::Bool => Kind::Bool,
        TypeLayout::Int { min, max } => Kind::Int { min, max },
        TypeLayout::String => Kind::String,
        TypeLayout::Enum { id } => Kind::Enum(id),
        TypeLayout::Set { ref element } if **element == TypeLayout::String => Kind::StringSet,
        _ => Kind::Other,
    };
    Some(AttributeHandle {
        module,
        role,
        entity,
        path: path.into_boxed_slice(),
        flags: flags.into_boxed_slice(),
        slot: base + field.offset,
        present: field.present_offset.map(|p| base + p),
        enclosing: enclosing.into_boxed_slice(),
        kind,
    })
}

impl DecisionModule {
    /// The action called `name`, for [`RequestBuilder::action`].
    pub fn action(&self, name: &str) -> Result<ActionHandle, UnknownName> {
        let shared = &self.shared;
        match shared.schema.action_index.get(name) {
            Some(index) => Ok(ActionHandle { module: shared.id, index }),
            None => Err(UnknownName { what: "action", name: name.to_owned() }),
        }
    }

    /// The entity type called `name`, for [`RequestBuilder::principal`],
    /// [`RequestBuilder::resource`], their ancestors and entity values.
    pub fn entity_type(&self, name: &str) -> Result<EntityTypeHandle, UnknownName> {
        let shared = &self.shared;
        match shared.schema.entity_index.get(name) {
            Some(index) => Ok(EntityTypeHandle { module: shared.id, index }),
            None => Err(UnknownName { what: "entity type", name: name.to_owned() }),
        }
    }

    /// The attribute `name` of the principal, when it is of type `ty`: a
    /// declared attribute, or a field of a record attribute written with
    /// dots (`meta.b`).
    pub fn principal_attribute(&self, ty: EntityTypeHandle, name: &str) -> Result<AttributeHandle, UnknownName> {
        self.entity_attribute(0, ty, name)
    }

    /// The attribute `name` of the resource, when it is of type `ty`.
    pub fn resource_attribute(&self, ty: EntityTypeHandle, name: &str) -> Result<AttributeHandle, UnknownName> {
        self.entity_attribute(1, ty, name)
    }

    fn entity_attribute(&self, role: u8, ty: EntityTypeHandle, name: &str) -> Result<AttributeHandle, UnknownName> {
        let shared = &self.shared;
        let layout = &shared.schema.manifest.schema;
        let unknown = || {
            let type_name = layout.entity_types.get(ty.index as usize).map_or("?", |t| &t.name);
            UnknownName { what: "attribute", name: format!("{type_name}.{name}") }
        };
        if ty.module != shared.id {
            return Err(unknown());
        }
        let fields = shared.schema.entity_fields.get(ty.index as usize).ok_or_else(unknown)?;
        let base = if role == 0 { layout.principal_offset } else { layout.resource_offset };
        resolve(fields, base, name, shared.id, role, Some(ty.index)).ok_or_else(unknown)
    }

    /// The context attribute `name` (dots for the fields of records).
    pub fn context_attribute(&self, name: &str) -> Result<AttributeHandle, UnknownName> {
        let shared = &self.shared;
        let base = shared.schema.manifest.schema.context_offset;
        resolve(&shared.schema.context, base, name, shared.id, 2, None)
            .ok_or_else(|| UnknownName { what: "attribute", name: format!("context.{name}") })
    }
}

/// Whether a field was set, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Set {
    #[default]
    No,
    /// Some of a record's fields were set one by one.
    Parts,
    /// The value was set whole.
    Whole,
}

/// What a builder keeps between requests.
#[derive(Debug, Default)]
pub(crate) struct BuilderScratch {
    /// Per role, which fields were set (numbered as `Field::flags` counts them).
    set: [Vec<Set>; 3],
    errors: Vec<DecisionError>,
}

/// Builds one request into an evaluator's buffer (from
/// [`Evaluator::request`]) and evaluates it.
///
/// Set the action, the principal and the resource (each with its type, id
/// and ancestors) and the attributes, in any order except that an entity's
/// attributes come after the entity. Each value is checked against the
/// attribute's type as it is set; [`RequestBuilder::evaluate`] then checks
/// that the action applies and that every required attribute was given.
/// Any violation makes the verdict a deny with every error, as the other
/// request paths report them.
pub struct RequestBuilder<'e> {
    evaluator: &'e mut Evaluator,
    scratch: BuilderScratch,
    action: Option<u32>,
    /// The principal's and the resource's entity types.
    entities: [Option<u32>; 2],
}

impl fmt::Debug for RequestBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder").field("action", &self.action).field("entities", &self.entities).finish()
    }
}

impl Evaluator {
    /// A builder for the next request, written into this evaluator's
    /// buffer. Handles come from this evaluator's module.
    pub fn request(&mut self) -> RequestBuilder<'_> {
        let mut scratch = std::mem::take(&mut self.builder);
        let fixed = self.shared.schema.manifest.schema.fixed_size as usize;
        let context = self.shared.schema.context.flags as usize;
        self.buf.clear();
        self.buf.resize(fixed, 0);
        scratch.errors.clear();
        for set in &mut scratch.set {
            set.clear();
        }
        scratch.set[2].resize(context, Set::No);
        RequestBuilder { evaluator: self, scratch, action: None, entities: [None, None] }
    }
}

impl<'e> RequestBuilder<'e> {
    /// Runs `f` with an encoder over the evaluator's buffer, the builder's
    /// errors and the evaluator's scratch.
    fn encode<R>(&mut self, f: impl FnOnce(&mut Encoder<'_, '_>) -> R) -> R {
        let evaluator = &mut *self.evaluator;
        let shared = evaluator.shared.as_ref();
        let mut encoder = Encoder {
            schema: &shared.schema,
            buf: &mut evaluator.buf,
            errors: std::mem::take(&mut self.scratch.errors),
            order: std::mem::take(&mut evaluator.scratch.order),
        };
        let result = f(&mut encoder);
        self.scratch.errors = encoder.errors;
        evaluator.scratch.order = encoder.order;
        result
    }

    /// Records an error of a handle or of the order of calls.
    #[cold]
    fn misuse(&mut self, path: Option<String>, message: String) {
        self.scratch.errors.push(DecisionError { kind: ErrorKind::MalformedRequest, path, rule: None, message });
    }

    fn module_id(&self) -> u64 {
        self.evaluator.shared.id
    }

    /// The request's action.
    pub fn action(&mut self, action: ActionHandle) -> &mut Self {
        if action.module != self.module_id() {
            self.misuse(Some("action".into()), "the action handle is of another decision module".into());
        } else {
            self.action = Some(action.index);
        }
        self
    }

    /// The principal: its type, id and ancestors (every entity it is a
    /// member of, directly or transitively, in any order).
    pub fn principal(&mut self, ty: EntityTypeHandle, id: &str, ancestors: &[(EntityTypeHandle, &str)]) -> &mut Self {
        self.entity(0, ty, id, ancestors)
    }

    /// The resource: its type, id and ancestors.
    pub fn resource(&mut self, ty: EntityTypeHandle, id: &str, ancestors: &[(EntityTypeHandle, &str)]) -> &mut Self {
        self.entity(1, ty, id, ancestors)
    }

    fn entity(
        &mut self,
        role: usize,
        ty: EntityTypeHandle,
        id: &str,
        ancestors: &[(EntityTypeHandle, &str)],
    ) -> &mut Self {
        let name = if role == 0 { "principal" } else { "resource" };
        let module = self.module_id();
        if ty.module != module || ancestors.iter().any(|(a, _)| a.module != module) {
            self.misuse(Some(name.into()), format!("the {name}'s entity type handle is of another decision module"));
            return self;
        }
        let schema = &self.evaluator.shared.schema;
        let layout = &schema.manifest.schema;
        let base = if role == 0 { layout.principal_offset } else { layout.resource_offset } as usize;
        let fields = schema.entity_fields.get(ty.index as usize).map_or(0, |f| f.flags as usize);
        let set = &mut self.scratch.set[role];
        set.clear();
        set.resize(fields, Set::No);
        // A second entity for the role replaces the first, attributes and all.
        let end = if role == 0 { layout.resource_offset } else { layout.context_offset } as usize;
        if self.entities[role].replace(ty.index).is_some()
            && let Some(block) = self.evaluator.buf.get_mut(base..end)
        {
            block.fill(0);
        }
        // Ancestors of types the entity's type may be in are written here,
        // sorted by type and id and distinct as the ABI orders them; any
        // other goes the general way, which reports it.
        let info = layout.entity_types.get(ty.index as usize);
        if ancestors.iter().all(|(a, _)| info.is_some_and(|info| info.ancestor_types.contains(&a.index))) {
            let evaluator = &mut *self.evaluator;
            let schema = &evaluator.shared.schema;
            let buf = &mut evaluator.buf;
            put_i32(buf, base, ty.index as i32);
            write_string(schema, buf, base + 4, id); // the id slot follows the type
            let order = &mut evaluator.scratch.order;
            order.clear();
            order.extend(ancestors.iter().enumerate().map(|(i, (a, _))| (i64::from(a.index), i as u32)));
            write_ancestors(schema, buf, base, order, |i| ancestors.get(i as usize).map_or("", |a| a.1));
            return self;
        }
        self.encode(|encoder| {
            let schema = encoder.schema;
            let type_name =
                |t: u32| schema.manifest.schema.entity_types.get(t as usize).map_or("", |e| e.name.as_str());
            encoder.entity_header(
                base,
                Some(ty.index),
                type_name(ty.index),
                id,
                ancestors.len(),
                &Path::Root(name),
                |i| ancestors.get(i).map_or(("", ""), |(t, id)| (type_name(t.index), *id)),
            );
        });
        self
    }

    /// The role (index into [`ROLES`]) of the attribute, or `None` after
    /// recording why it cannot be set.
    fn role_of(&mut self, attribute: &AttributeHandle) -> Option<usize> {
        if attribute.module != self.module_id() {
            self.misuse(None, "the attribute handle is of another decision module".into());
            return None;
        }
        let role = usize::from(attribute.role);
        let Some(ty) = attribute.entity else {
            return Some(role);
        };
        if self.entities.get(role).copied().flatten() == Some(ty) {
            return Some(role);
        }
        let schema = &self.evaluator.shared.schema;
        let type_name = schema.manifest.schema.entity_types.get(ty as usize).map_or("", |e| e.name.as_str());
        let name = ROLES.get(role).copied().unwrap_or("");
        let message = match self.entities.get(role).copied().flatten() {
            None => format!("an attribute of the {name} was set before the {name} (set the entity first)"),
            Some(_) => format!("an attribute of `{type_name}` was set for a {name} of another type"),
        };
        self.misuse(Some(name.into()), message);
        None
    }

    /// Sets one attribute: `write` validates the value and writes it into
    /// its field (given the container's offset); whether it was valid. An
    /// invalid value still counts as given: its error is reported already.
    fn set_with(
        &mut self,
        attribute: &AttributeHandle,
        write: impl for<'s, 'b> FnOnce(&mut Encoder<'s, 'b>, usize, &'s Field, &Path<'_>) -> bool,
    ) -> &mut Self {
        let Some(role) = self.role_of(attribute) else {
            return self;
        };
        let entities = self.entities;
        let valid = self.encode(|encoder| {
            let schema = encoder.schema;
            let layout = &schema.manifest.schema;
            let (base, fields) = match role {
                0 => (layout.principal_offset, entities[0].and_then(|t| schema.entity_fields.get(t as usize))),
                1 => (layout.resource_offset, entities[1].and_then(|t| schema.entity_fields.get(t as usize))),
                _ => (layout.context_offset, Some(&schema.context)),
            };
            fields.is_some_and(|fields| {
                write_field(encoder, fields, base as usize, &attribute.path, &Path::Root(ROLES[role]), write)
            })
        });
        if valid {
            self.given(attribute);
        } else {
            self.mark(attribute);
        }
        self
    }

    /// Whether `attribute` can be written straight away: of this module,
    /// and of the role's entity type as set.
    #[inline]
    fn ready(&self, attribute: &AttributeHandle) -> bool {
        attribute.module == self.evaluator.shared.id
            && match attribute.entity {
                None => true,
                Some(ty) => self.entities.get(usize::from(attribute.role)).copied().flatten() == Some(ty),
            }
    }

    /// Records `attribute` as given: set whole, and the records around it
    /// given in part (so that their required fields are checked).
    fn mark(&mut self, attribute: &AttributeHandle) {
        let Some(set) = self.scratch.set.get_mut(usize::from(attribute.role)) else {
            return;
        };
        if let Some((&last, records)) = attribute.flags.split_last() {
            for &flag in records {
                if let Some(state) = set.get_mut(flag as usize).filter(|s| **s == Set::No) {
                    *state = Set::Parts;
                }
            }
            if let Some(state) = set.get_mut(last as usize) {
                *state = Set::Whole;
            }
        }
    }

    /// Records a valid value as written: [`Self::mark`], and its presence
    /// flag and those of the records around it raised.
    #[inline]
    fn given(&mut self, attribute: &AttributeHandle) {
        let buf = &mut self.evaluator.buf;
        for &present in attribute.enclosing.iter().chain(&attribute.present) {
            put_i32(buf, present as usize, 1);
        }
        self.mark(attribute);
    }

    /// Sets a boolean attribute.
    pub fn set_bool(&mut self, attribute: &AttributeHandle, value: bool) -> &mut Self {
        if attribute.kind == Kind::Bool && self.ready(attribute) {
            put_i32(&mut self.evaluator.buf, attribute.slot as usize, i32::from(value));
            self.given(attribute);
            return self;
        }
        self.set_with(attribute, |encoder, base, field, path| {
            encoder.leaf(base + field.offset as usize, &field.ty, Leaf::Bool(value), path)
        })
    }

    /// Sets an integer attribute (its declared range is checked).
    pub fn set_int(&mut self, attribute: &AttributeHandle, value: i64) -> &mut Self {
        if let Kind::Int { min, max } = attribute.kind {
            let in_range = min.is_none_or(|min| value >= min) && max.is_none_or(|max| value <= max);
            if in_range && self.ready(attribute) {
                put(&mut self.evaluator.buf, attribute.slot as usize, &value.to_le_bytes());
                self.given(attribute);
                return self;
            }
        }
        let number = Number::from(value);
        self.set_with(attribute, |encoder, base, field, path| {
            encoder.leaf(base + field.offset as usize, &field.ty, Leaf::Number(&number), path)
        })
    }

    /// Sets an attribute given as text: a string, an enum or level value's
    /// name, a duration, a timestamp, a time of day, an address or a range,
    /// in the text forms of the JSON request format.
    pub fn set_str(&mut self, attribute: &AttributeHandle, value: &str) -> &mut Self {
        if self.ready(attribute) {
            let shared = self.evaluator.shared.as_ref();
            let at = attribute.slot as usize;
            match attribute.kind {
                Kind::String => {
                    write_string(&shared.schema, &mut self.evaluator.buf, at, value);
                    self.given(attribute);
                    return self;
                }
                Kind::Enum(id) => {
                    if let Some(index) = shared.schema.enum_value(id, value) {
                        put_i32(&mut self.evaluator.buf, at, index as i32);
                        self.given(attribute);
                        return self;
                    }
                }
                _ => {}
            }
        }
        self.set_with(attribute, |encoder, base, field, path| {
            encoder.leaf(base + field.offset as usize, &field.ty, Leaf::Str(value), path)
        })
    }

    /// Sets an entity-valued attribute.
    pub fn set_entity(&mut self, attribute: &AttributeHandle, ty: EntityTypeHandle, id: &str) -> &mut Self {
        if ty.module != self.module_id() {
            self.misuse(None, "the entity type handle is of another decision module".into());
            return self;
        }
        self.set_with(attribute, |encoder, base, field, path| {
            let schema = encoder.schema;
            let name = schema.manifest.schema.entity_types.get(ty.index as usize).map_or("", |e| e.name.as_str());
            encoder.entity_slot(base + field.offset as usize, &field.ty, Some((name, id)), path)
        })
    }

    /// Sets a set attribute whose elements are given as text (strings, or
    /// the names of enum or level values).
    pub fn set_strs(&mut self, attribute: &AttributeHandle, values: &[&str]) -> &mut Self {
        if attribute.kind == Kind::StringSet && self.ready(attribute) {
            let evaluator = &mut *self.evaluator;
            let order = &mut evaluator.scratch.order;
            order.clear();
            order.extend((0..values.len()).map(|i| (0, i as u32)));
            let text = |i: u32| values.get(i as usize).copied().unwrap_or("");
            let (schema, buf) = (&evaluator.shared.schema, &mut evaluator.buf);
            write_set(schema, buf, attribute.slot as usize, &TypeLayout::String, order, text);
            self.given(attribute);
            return self;
        }
        self.set_with(attribute, |encoder, base, field, path| {
            let TypeLayout::Set { element } = &field.ty else {
                return encoder.wrong_type(&field.ty, path);
            };
            let text = |i: u32| values.get(i as usize).copied().unwrap_or("");
            let item = |i: usize| (Leaf::Str(text(i as u32)), None);
            encoder.elements(base + field.offset as usize, element, values.len(), path, item, text)
        })
    }

    /// Sets any attribute from its JSON form, as the request format gives
    /// it: sets of entities, whole records and everything else.
    pub fn set_json(&mut self, attribute: &AttributeHandle, value: &Value) -> &mut Self {
        self.set_with(attribute, |encoder, base, field, path| encoder.value(base, field, value, path))
    }

    /// Validates what was not checked as it was set (the action and its
    /// applicability, the required attributes), calls the module and
    /// returns its verdict.
    pub fn evaluate(mut self) -> Verdict<'e> {
        if let Some(action) = self.complete() {
            put_i32(&mut self.evaluator.buf, 0, action as i32);
            let evaluator = self.evaluator;
            evaluator.builder = self.scratch;
            return evaluator.evaluate_built();
        }
        let given = [self.action.is_some(), self.entities[0].is_some(), self.entities[1].is_some()];
        for (given, name) in given.into_iter().zip(["action", "principal", "resource"]) {
            if !given {
                self.misuse(Some(name.into()), format!("the request has no {name}"));
            }
        }
        let action = self.action;
        let entities = self.entities;
        let sets = std::mem::take(&mut self.scratch.set);
        self.encode(|encoder| {
            let schema = encoder.schema;
            let layout = &schema.manifest.schema;
            let type_name =
                |t: Option<u32>| t.and_then(|t| layout.entity_types.get(t as usize)).map_or("", |e| e.name.as_str());
            if let Some(action) = action.and_then(|a| layout.actions.get(a as usize)) {
                encoder.action(
                    &action.name,
                    (entities[0], type_name(entities[0])),
                    (entities[1], type_name(entities[1])),
                );
            }
            for (role, name) in [(0, "principal"), (1, "resource")] {
                if let Some(fields) = entities[role].and_then(|t| schema.entity_fields.get(t as usize)) {
                    required(encoder, fields, &sets[role], 0, &Path::Root(name));
                }
            }
            required(encoder, &schema.context, &sets[2], 0, &Path::Root("context"));
        });
        self.scratch.set = sets;
        let errors = std::mem::take(&mut self.scratch.errors);
        let evaluator = self.evaluator;
        evaluator.builder = self.scratch;
        if errors.is_empty() {
            evaluator.evaluate_built()
        } else {
            let mut errors = errors;
            errors.sort();
            errors.dedup();
            evaluator.verdict(Err(Decision::fail_closed(errors)))
        }
    }

    /// The action's index when the request is complete and valid: no error
    /// so far, the action applies to both entities' types, and every
    /// required attribute was given. Otherwise the general check reports why.
    fn complete(&self) -> Option<u32> {
        if !self.scratch.errors.is_empty() {
            return None;
        }
        let schema = &self.evaluator.shared.schema;
        let (action, principal, resource) = (self.action?, self.entities[0]?, self.entities[1]?);
        let applies = schema.manifest.schema.actions.get(action as usize)?;
        if !applies.principals.contains(&principal) || !applies.resources.contains(&resource) {
            return None;
        }
        let given = |fields: &Fields, set: &[Set]| {
            let state = |flag: u32| set.get(flag as usize).copied().unwrap_or(Set::No);
            fields
                .required
                .iter()
                .all(|&(flag, record)| record.is_some_and(|r| state(r) != Set::Parts) || state(flag) != Set::No)
        };
        let [p, r, c] = &self.scratch.set;
        (given(schema.entity_fields.get(principal as usize)?, p)
            && given(schema.entity_fields.get(resource as usize)?, r)
            && given(&schema.context, c))
        .then_some(action)
    }
}

/// Reports the required fields of `fields` (flags from `first`) not set,
/// and those of the records set field by field.
fn required(encoder: &mut Encoder<'_, '_>, fields: &Fields, set: &[Set], first: usize, path: &Path<'_>) {
    let mut flag = first;
    for field in &fields.fields {
        let state = set.get(flag).copied().unwrap_or(Set::No);
        let at = Path::Field(path, &field.name);
        if state == Set::No && field.present_offset.is_none() {
            encoder.error(ErrorKind::MissingAttribute, &at, || {
                format!("the required attribute `{}` is missing", field.name)
            });
        }
        if let (Set::Parts, Some(record)) = (state, &field.record) {
            required(encoder, record, set, flag + 1, &at);
        }
        flag += field.flags as usize;
    }
}

/// Walks down an attribute's path (field positions) from `fields` at
/// `base`, then clears the field's slot (the last value set wins) and writes
/// the value with `write`; whether it was valid.
fn write_field<'a>(
    encoder: &mut Encoder<'a, '_>,
    fields: &'a Fields,
    base: usize,
    positions: &[u32],
    path: &Path<'_>,
    write: impl for<'s, 'b> FnOnce(&mut Encoder<'s, 'b>, usize, &'s Field, &Path<'_>) -> bool,
) -> bool {
    let Some((field, below)) =
        positions.split_first().and_then(|(&i, below)| Some((fields.fields.get(i as usize)?, below)))
    else {
        return false;
    };
    let at = Path::Field(path, &field.name);
    if let Some(record) = field.record.as_ref().filter(|_| !below.is_empty()) {
        return write_field(encoder, record, base + field.offset as usize, below, &at, write);
    }
    let slot = base + field.offset as usize;
    if let Some(old) = encoder.buf.get_mut(slot..slot + field.ty.size() as usize) {
        old.fill(0);
    }
    write(encoder, base, field, &at)
}
