//! Request validation and encoding, in one pass over the schema: every
//! violation is collected (with its attribute path), and when there is none
//! the buffer holds the request exactly as `spec/abi.md` lays it out.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use serde_json::{Map, Number, Value};
use ward_types::manifest::TypeLayout;
use ward_types::values;
use ward_types::{DecisionError, EntityData, ErrorKind, Request};

use crate::schema::{Field, Fields, Schema};

/// Where a value is in the request, rendered only when reporting an error.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'static str),
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Buffers reused from one request to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Set elements being sorted: a numeric key (the integer, enum index or
    /// entity type index) and the element's position in the request.
    pub(crate) order: Vec<(i64, u32)>,
    /// What the JSON path keeps between the parts of a request.
    pub(crate) json: crate::json::JsonScratch,
}

/// Validates `request` against the schema and encodes it into `buf`
/// (cleared first). On failure, returns every violation, sorted.
pub(crate) fn encode(
    schema: &Schema,
    request: &Request,
    buf: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> Result<(), Vec<DecisionError>> {
    let mut encoder = Encoder::new(schema, buf, scratch);
    encoder.request(request);
    encoder.finish(scratch)
}

/// The error for a request that cannot fit in the module's memory.
pub(crate) fn too_large() -> DecisionError {
    DecisionError { kind: ErrorKind::MalformedRequest, path: None, rule: None, message: "request too large".to_owned() }
}

/// Which fields of one container a request gave: a mask for a container of
/// up to 64 fields (nearly all), flags beyond.
pub(crate) enum Given {
    Mask(u64),
    Flags(Vec<bool>),
}

impl Given {
    /// A container none of whose fields was given.
    pub(crate) const NONE: Given = Given::Mask(0);

    /// A container of `count` fields, none given yet.
    pub(crate) fn new(count: usize) -> Given {
        if count <= 64 { Given::Mask(0) } else { Given::Flags(vec![false; count]) }
    }

    /// Marks field `i` as given; whether it already was.
    #[inline]
    pub(crate) fn mark(&mut self, i: usize) -> bool {
        match self {
            Given::Mask(mask) => {
                let bit = 1u64 << (i & 63);
                let was = *mask & bit != 0;
                *mask |= bit;
                was
            }
            Given::Flags(flags) => flags.get_mut(i).is_some_and(|flag| std::mem::replace(flag, true)),
        }
    }

    fn has(&self, i: usize) -> bool {
        match self {
            Given::Mask(mask) => i < 64 && mask & 1 << i != 0,
            Given::Flags(flags) => flags.get(i).copied().unwrap_or(false),
        }
    }
}

pub(crate) struct Encoder<'s, 'b> {
    pub(crate) schema: &'s Schema,
    pub(crate) buf: &'b mut Vec<u8>,
    pub(crate) errors: Vec<DecisionError>,
    pub(crate) order: Vec<(i64, u32)>,
}

/// A JSON value that is not an array or an object, or which of those it is:
/// what validating a scalar needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf<'v> {
    Null,
    Bool(bool),
    Number(&'v Number),
    Str(&'v str),
    Array,
    Object,
}

impl<'v> Leaf<'v> {
    fn of(value: &'v Value) -> Leaf<'v> {
        match value {
            Value::Null => Leaf::Null,
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Number(n) => Leaf::Number(n),
            Value::String(s) => Leaf::Str(s),
            Value::Array(_) => Leaf::Array,
            Value::Object(_) => Leaf::Object,
        }
    }

    fn as_str(self) -> Option<&'v str> {
        match self {
            Leaf::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Stores `bytes` at `at` when the buffer has room (it always has for a valid
/// request; a request with errors is discarded anyway).
#[inline]
pub(crate) fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dest) = at.checked_add(bytes.len()).and_then(|end| buf.get_mut(at..end)) {
        dest.copy_from_slice(bytes);
    }
}

#[inline]
pub(crate) fn put_i32(buf: &mut [u8], at: usize, value: i32) {
    put(buf, at, &value.to_le_bytes());
}

#[inline]
fn put_u64(buf: &mut [u8], at: usize, value: u64) {
    put(buf, at, &value.to_le_bytes());
}

/// Writes a string slot at `at` (its interned id, where its bytes are and
/// their length), appending the bytes to the variable part.
#[inline]
pub(crate) fn write_string(schema: &Schema, buf: &mut Vec<u8>, at: usize, text: &str) {
    let id = schema.strings.get(text).unwrap_or(0);
    let offset = buf.len() as u32;
    buf.extend_from_slice(text.as_bytes());
    let slot = u128::from(id) | u128::from(offset) << 32 | (text.len() as u128) << 64;
    put(buf, at, &slot.to_le_bytes()[..12]);
}

/// Writes the ancestors of the entity block at `base`: `order` holds each
/// one's type index and position (ids given by `id`), and is sorted by type
/// and id and made distinct, as the ABI orders them.
pub(crate) fn write_ancestors<'a>(
    schema: &Schema,
    buf: &mut Vec<u8>,
    base: usize,
    order: &mut Vec<(i64, u32)>,
    id: impl Fn(u32) -> &'a str,
) {
    const ANCESTORS: usize = 16;
    const SIZE: usize = 16;
    sort_distinct(order, |a, b| a.0.cmp(&b.0).then_with(|| id(a.1).cmp(id(b.1))));
    let start = reserve_set(buf, base + ANCESTORS, order.len(), SIZE);
    for (k, &(t, i)) in order.iter().enumerate() {
        let slot = start + SIZE * k;
        put_i32(buf, slot, t as i32);
        write_string(schema, buf, slot + 4, id(i));
    }
}

/// Reserves `count` elements of `size` bytes, 8-byte aligned, at the end of
/// `buf` and writes the set slot at `at`: where they start and how many.
/// Returns where the elements go. An empty set is offset 0, count 0.
pub(crate) fn reserve_set(buf: &mut Vec<u8>, at: usize, count: usize, size: usize) -> usize {
    if count == 0 {
        put(buf, at, &[0; 8]);
        return 0;
    }
    let start = align8(buf.len());
    buf.resize(start + count * size, 0);
    put_i32(buf, at, start as i32);
    put_i32(buf, at + 4, count as i32);
    start
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The two 64-bit halves of an address: IPv6 big-endian halves; IPv4 0 and the address.
fn address_halves(addr: IpAddr) -> (i32, u64, u64) {
    match addr {
        IpAddr::V4(a) => (4, 0, u64::from(u32::from(a))),
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            (6, (bits >> 64) as u64, bits as u64)
        }
    }
}

/// How the module reads a type, for messages.
pub(crate) fn describe(ty: &TypeLayout) -> &'static str {
    match ty {
        TypeLayout::Bool => "a boolean",
        TypeLayout::Int { .. } => "an integer",
        TypeLayout::String => "a string",
        TypeLayout::Duration => "a duration (text such as \"15m\")",
        TypeLayout::Timestamp => "a timestamp (RFC 3339 text)",
        TypeLayout::TimeOfDay => "a time of day (\"HH:MM\" or \"HH:MM:SS\")",
        TypeLayout::Ip => "an IP address (text)",
        TypeLayout::Cidr => "an address range (\"address/prefix\")",
        TypeLayout::Enum { .. } => "a value name (a string)",
        TypeLayout::Entity { .. } => "an entity ({\"type\", \"id\"})",
        TypeLayout::Set { .. } => "a set (an array)",
        TypeLayout::Record { .. } => "a record (an object)",
    }
}

/// A JSON number that is a 64-bit integer within `min..=max` (each bound
/// optional): the valid integers, which need no message.
#[inline]
fn in_range(n: &Number, min: Option<i64>, max: Option<i64>) -> Option<i64> {
    n.as_i64().filter(|&n| min.is_none_or(|min| n >= min) && max.is_none_or(|max| n <= max))
}

/// The integer a JSON number denotes, or why it denotes none.
fn json_integer(n: &Number) -> Result<i64, ErrorKind> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    if n.is_u64() {
        return Err(ErrorKind::IntegerOutOfRange);
    }
    // JSON parsers read integers beyond 64 bits as floating point; a whole
    // number that large is out of range, anything else has a fraction or an
    // exponent. (A whole number read from integer text is beyond 64 bits,
    // though it may round to exactly ±2^63.)
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() >= -(i64::MIN as f64) => {
            Err(ErrorKind::IntegerOutOfRange)
        }
        _ => Err(ErrorKind::NotAnInteger),
    }
}

impl<'s, 'b> Encoder<'s, 'b> {
    /// An encoder writing into `buf` (cleared and sized for the fixed part),
    /// with the buffers of `scratch`.
    pub(crate) fn new(schema: &'s Schema, buf: &'b mut Vec<u8>, scratch: &mut Scratch) -> Encoder<'s, 'b> {
        buf.clear();
        buf.resize(schema.manifest.schema.fixed_size as usize, 0);
        Encoder { schema, buf, errors: Vec::new(), order: std::mem::take(&mut scratch.order) }
    }

    /// Hands the buffers back and returns the violations, sorted, if any.
    pub(crate) fn finish(self, scratch: &mut Scratch) -> Result<(), Vec<DecisionError>> {
        scratch.order = self.order;
        let mut errors = self.errors;
        if errors.is_empty() && self.buf.len() > i32::MAX as usize {
            errors.push(too_large());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.sort();
            errors.dedup();
            Err(errors)
        }
    }

    /// Records a violation. Cold and out of line, message included, so that
    /// the encoding paths of valid requests stay small.
    #[cold]
    #[inline(never)]
    pub(crate) fn error(&mut self, kind: ErrorKind, path: &Path<'_>, message: impl FnOnce() -> String) {
        self.errors.push(DecisionError { kind, path: Some(path.to_string()), rule: None, message: message() });
    }

    fn request(&mut self, request: &Request) {
        let schema: &'s Schema = self.schema;
        let layout = &schema.manifest.schema;
        let principal_path = Path::Root("principal");
        let resource_path = Path::Root("resource");
        // The type and the action's applicability are reported at `<role>.type`.
        let principal = self.entity_type(&request.principal.ty, &Path::Field(&principal_path, "type"));
        let resource = self.entity_type(&request.resource.ty, &Path::Field(&resource_path, "type"));
        self.action(&request.action, (principal, &request.principal.ty), (resource, &request.resource.ty));
        self.entity(layout.principal_offset as usize, &request.principal, principal, &principal_path);
        self.entity(layout.resource_offset as usize, &request.resource, resource, &resource_path);
        self.fields(layout.context_offset as usize, &schema.context, &request.context, &Path::Root("context"));
    }

    /// The action: its index, and whether it applies to the principal's and
    /// the resource's types (each given as its index, when known, and name).
    pub(crate) fn action(&mut self, name: &str, principal: (Option<u32>, &str), resource: (Option<u32>, &str)) {
        let schema: &'s Schema = self.schema;
        let layout = &schema.manifest.schema;
        let action = schema.action_index.get(name).and_then(|i| Some((i, layout.actions.get(i as usize)?)));
        match action {
            None => self.error(ErrorKind::UnknownAction, &Path::Root("action"), || format!("unknown action `{name}`")),
            Some((index, action)) => {
                put_i32(self.buf, 0, index as i32);
                for ((ty, ty_name), allowed, role) in
                    [(principal, &action.principals, "principal"), (resource, &action.resources, "resource")]
                {
                    if ty.is_some_and(|t| !allowed.contains(&t)) {
                        let root = Path::Root(role);
                        self.error(ErrorKind::ActionNotApplicable, &Path::Field(&root, "type"), || {
                            format!("action `{}` does not apply to {role} type `{ty_name}`", action.name)
                        });
                    }
                }
            }
        }
    }

    pub(crate) fn entity_type(&mut self, name: &str, path: &Path<'_>) -> Option<u32> {
        let found = self.schema.entity_index.get(name);
        if found.is_none() {
            self.error(ErrorKind::UnknownEntityType, path, || format!("unknown entity type `{name}`"));
        }
        found
    }

    /// An entity block at `base`.
    fn entity(&mut self, base: usize, data: &EntityData, ty: Option<u32>, path: &Path<'_>) {
        let schema: &'s Schema = self.schema;
        self.entity_header(base, ty, &data.ty, &data.id, data.ancestors.len(), path, |i| {
            data.ancestors.get(i).map_or(("", ""), |a| (a.ty.as_str(), a.id.as_str()))
        });
        if let Some(fields) = ty.and_then(|t| schema.entity_fields.get(t as usize)) {
            self.fields(base, fields, &data.attributes, path);
        }
    }

    /// An entity block's header at `base`: its type (`ty`, the index of
    /// `ty_name` when known), its id and its `count` ancestors, the type's
    /// name and the id of each given by `ancestor`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn entity_header<'a>(
        &mut self,
        base: usize,
        ty: Option<u32>,
        ty_name: &str,
        id: &str,
        count: usize,
        path: &Path<'_>,
        ancestor: impl Fn(usize) -> (&'a str, &'a str),
    ) {
        let schema: &'s Schema = self.schema;
        if let Some(t) = ty {
            put_i32(self.buf, base, t as i32);
        }
        let info = ty.and_then(|t| schema.manifest.schema.entity_types.get(t as usize));
        self.string(base + 4, id);

        // Ancestors: a set of entity elements.
        let ancestors_path = Path::Field(path, "ancestors");
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        let mut ok = true;
        for i in 0..count {
            let (a_ty, _) = ancestor(i);
            let at = Path::Index(&ancestors_path, i);
            let Some(a) = self.entity_type(a_ty, &at) else {
                ok = false;
                continue;
            };
            if info.is_some_and(|info| !info.ancestor_types.contains(&a)) {
                ok = false;
                self.error(ErrorKind::InvalidAncestor, &at, || {
                    format!("an entity of type `{ty_name}` cannot be in an entity of type `{a_ty}`")
                });
            }
            order.push((i64::from(a), i as u32));
        }
        if ok {
            write_ancestors(schema, self.buf, base, &mut order, |i| ancestor(i as usize).1);
        }
        self.order = order;
    }

    /// Reports the required fields of a container that were not given.
    pub(crate) fn close(&mut self, given: &Given, fields: &Fields, path: &Path<'_>) {
        // The mask covers the first 64 fields: all of them, nearly always.
        if let Given::Mask(mask) = given
            && fields.fields.len() <= 64
            && mask & fields.required_mask == fields.required_mask
        {
            return;
        }
        for (i, field) in fields.fields.iter().enumerate() {
            if !given.has(i) {
                self.missing(field, path);
            }
        }
    }

    /// The fields of an entity, record or the context, stored relative to
    /// `base`, in the order the request gives them.
    fn fields(&mut self, base: usize, fields: &'s Fields, values: &Map<String, Value>, path: &Path<'_>) {
        // Each given attribute resolved to its field once, by name.
        let mut given = Given::new(fields.fields.len());
        for (name, value) in values {
            if let Some((i, field)) = fields.find(name).and_then(|i| Some((i, fields.fields.get(i)?))) {
                given.mark(i);
                self.given(base, field, value, path);
            }
        }
        self.close(&given, fields, path);
    }

    /// A field not given: a `missing_attribute` error when it is required.
    fn missing(&mut self, field: &Field, path: &Path<'_>) {
        if field.present_offset.is_none() {
            let at = Path::Field(path, &field.name);
            self.error(ErrorKind::MissingAttribute, &at, || {
                format!("the required attribute `{}` is missing", field.name)
            });
        }
    }

    /// One field of a container at `base`, given `value`.
    #[inline]
    fn given(&mut self, base: usize, field: &'s Field, value: &Value, path: &Path<'_>) {
        let at = base + field.offset as usize;
        let valid = match value {
            Value::Bool(_) | Value::Number(_) | Value::String(_) if self.common(at, &field.ty, Leaf::of(value)) => true,
            _ => self.value(base, field, value, &Path::Field(path, &field.name)),
        };
        self.present(base, field, valid);
    }

    /// Validates `value` as field `field` of a container at `base` and
    /// writes it (not its presence flag); whether it was valid.
    pub(crate) fn value(&mut self, base: usize, field: &'s Field, value: &Value, at: &Path<'_>) -> bool {
        let slot = base + field.offset as usize;
        match value {
            Value::Null => self.null(field, at),
            Value::Object(values) if field.record.is_some() => {
                let before = self.errors.len();
                if let Some(record) = &field.record {
                    self.fields(slot, record, values, at);
                }
                self.errors.len() == before
            }
            Value::Object(o) if matches!(field.ty, TypeLayout::Entity { .. }) => {
                self.entity_slot(slot, &field.ty, object_ref(o), at)
            }
            Value::Array(items) => match &field.ty {
                TypeLayout::Set { element } => self.set(slot, element, items, at),
                ty => self.wrong_type(ty, at),
            },
            other => self.leaf(slot, &field.ty, Leaf::of(other), at),
        }
    }

    /// A `null_value` error for field `field`; `false`.
    #[cold]
    #[inline(never)]
    pub(crate) fn null(&mut self, field: &Field, path: &Path<'_>) -> bool {
        self.error(ErrorKind::NullValue, path, || format!("the attribute `{}` is null", field.name));
        false
    }

    /// Sets the presence flag of an optional field given a valid value.
    pub(crate) fn present(&mut self, base: usize, field: &Field, valid: bool) {
        if let Some(flag) = field.present_offset.filter(|_| valid) {
            put_i32(self.buf, base + flag as usize, 1);
        }
    }

    /// A `wrong_type` error; `false`.
    #[cold]
    #[inline(never)]
    pub(crate) fn wrong_type(&mut self, ty: &TypeLayout, path: &Path<'_>) -> bool {
        self.error(ErrorKind::WrongType, path, || format!("expected {}", describe(ty)));
        false
    }

    /// Writes a string slot at `at`, appending the bytes to the variable part.
    #[inline]
    pub(crate) fn string(&mut self, at: usize, text: &str) {
        write_string(self.schema, self.buf, at, text);
    }

    /// A JSON string, or a `wrong_type` error.
    fn text<'v>(&mut self, ty: &TypeLayout, value: Leaf<'v>, path: &Path<'_>) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.wrong_type(ty, path);
        }
        text
    }

    /// The `i64` of an integer-like scalar (int, duration, timestamp, time of
    /// day) or an enum's value index.
    #[inline]
    pub(crate) fn number(&mut self, ty: &TypeLayout, value: Leaf<'_>, path: &Path<'_>) -> Option<i64> {
        let parsed = match ty {
            TypeLayout::Int { min, max } => {
                let Leaf::Number(number) = value else {
                    self.wrong_type(ty, path);
                    return None;
                };
                let n = match json_integer(number) {
                    Ok(n) => n,
                    Err(kind) => {
                        self.error(kind, path, || match kind {
                            ErrorKind::IntegerOutOfRange => format!("{number} does not fit in 64 bits"),
                            _ => format!("{number} is not an integer"),
                        });
                        return None;
                    }
                };
                if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) {
                    let bound = |b: &Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
                    self.error(ErrorKind::OutOfDeclaredRange, path, || {
                        format!("{n} is outside the declared range {}..{}", bound(min), bound(max))
                    });
                    return None;
                }
                return Some(n);
            }
            TypeLayout::Duration => self.text(ty, value, path).map(|t| (t, values::parse_duration(t))),
            TypeLayout::Timestamp => self.text(ty, value, path).map(|t| (t, values::parse_timestamp(t))),
            TypeLayout::TimeOfDay => self.text(ty, value, path).map(|t| (t, values::parse_time_of_day(t))),
            TypeLayout::Enum { id } => {
                let text = self.text(ty, value, path)?;
                let schema: &'s Schema = self.schema;
                let index = schema.enum_value(*id, text);
                if index.is_none() {
                    let name = schema.manifest.schema.enums.get(*id as usize).map_or("", |e| e.name.as_str());
                    self.error(ErrorKind::UnknownEnumValue, path, || format!("`{text}` is not a value of `{name}`"));
                }
                return index.map(i64::from);
            }
            _ => return None,
        };
        let (text, parsed) = parsed?;
        if parsed.is_none() {
            self.error(ErrorKind::InvalidValue, path, || format!("`{text}` is not {}", describe(ty)));
        }
        parsed
    }

    /// An entity reference whose type is among `types`, given as its type's
    /// name and id when the value is an object of exactly those two strings.
    pub(crate) fn entity_ref(
        &mut self,
        ty: &TypeLayout,
        types: &[u32],
        parts: Option<(&str, &str)>,
        path: &Path<'_>,
    ) -> Option<u32> {
        let Some((name, _)) = parts else {
            self.wrong_type(ty, path);
            return None;
        };
        let t = self.entity_type(name, path)?;
        if !types.contains(&t) {
            let schema: &'s Schema = self.schema;
            let allowed: Vec<&str> = types
                .iter()
                .filter_map(|&t| schema.manifest.schema.entity_types.get(t as usize).map(|e| e.name.as_str()))
                .collect();
            self.error(ErrorKind::WrongType, path, || {
                format!("an entity of type `{name}` is not allowed here (expected {})", allowed.join(" or "))
            });
            return None;
        }
        Some(t)
    }

    /// An entity slot at `at`; whether the reference was valid.
    pub(crate) fn entity_slot(
        &mut self,
        at: usize,
        ty: &TypeLayout,
        parts: Option<(&str, &str)>,
        path: &Path<'_>,
    ) -> bool {
        let TypeLayout::Entity { types } = ty else {
            return self.wrong_type(ty, path);
        };
        match self.entity_ref(ty, types, parts, path) {
            Some(t) => {
                put_i32(self.buf, at, t as i32);
                self.string(at + 4, parts.map_or("", |p| p.1));
                true
            }
            None => false,
        }
    }

    /// Validates a value that is not an array, nor an object given to a
    /// record or an entity, as a `ty` and writes it at `at`; whether it was
    /// valid. (A null is reported before.)
    #[inline]
    pub(crate) fn leaf(&mut self, at: usize, ty: &TypeLayout, value: Leaf<'_>, path: &Path<'_>) -> bool {
        self.common(at, ty, value) || self.other_leaf(at, ty, value, path)
    }

    /// Writes the common valid scalars (booleans, strings, integers in
    /// range, enum values) at once; whether `value` was one.
    #[inline(always)]
    fn common(&mut self, at: usize, ty: &TypeLayout, value: Leaf<'_>) -> bool {
        match (ty, value) {
            (TypeLayout::Bool, Leaf::Bool(b)) => put_i32(self.buf, at, i32::from(b)),
            (TypeLayout::String, Leaf::Str(text)) => self.string(at, text),
            (TypeLayout::Int { min, max }, Leaf::Number(n)) if let Some(n) = in_range(n, *min, *max) => {
                put_u64(self.buf, at, n as u64);
            }
            (TypeLayout::Enum { id }, Leaf::Str(text)) if let Some(index) = self.schema.enum_value(*id, text) => {
                put_i32(self.buf, at, index as i32);
            }
            _ => return false,
        }
        true
    }

    /// [`Encoder::leaf`] for the other types and every invalid value.
    fn other_leaf(&mut self, at: usize, ty: &TypeLayout, value: Leaf<'_>, path: &Path<'_>) -> bool {
        match ty {
            TypeLayout::Bool => match value {
                Leaf::Bool(b) => {
                    put_i32(self.buf, at, i32::from(b));
                    true
                }
                _ => self.wrong_type(ty, path),
            },
            TypeLayout::Int { .. } | TypeLayout::Duration | TypeLayout::Timestamp | TypeLayout::TimeOfDay => {
                match self.number(ty, value, path) {
                    Some(n) => {
                        put(self.buf, at, &n.to_le_bytes());
                        true
                    }
                    None => false,
                }
            }
            TypeLayout::Enum { .. } => match self.number(ty, value, path) {
                Some(n) => {
                    put_i32(self.buf, at, n as i32);
                    true
                }
                None => false,
            },
            TypeLayout::String => match self.text(ty, value, path) {
                Some(text) => {
                    self.string(at, text);
                    true
                }
                None => false,
            },
            TypeLayout::Ip => {
                let Some(text) = self.text(ty, value, path) else {
                    return false;
                };
                let Some(addr) = values::parse_ip(text) else {
                    self.error(ErrorKind::InvalidValue, path, || format!("`{text}` is not {}", describe(ty)));
                    return false;
                };
                let (version, high, low) = address_halves(addr);
                put_i32(self.buf, at, version);
                put_u64(self.buf, at + 8, high);
                put_u64(self.buf, at + 16, low);
                true
            }
            TypeLayout::Cidr => {
                let Some(text) = self.text(ty, value, path) else {
                    return false;
                };
                let Some(range) = values::parse_cidr(text) else {
                    self.error(ErrorKind::InvalidValue, path, || format!("`{text}` is not {}", describe(ty)));
                    return false;
                };
                let (version, high, low) = address_halves(range.network);
                put_i32(self.buf, at, version);
                put_i32(self.buf, at + 4, i32::from(range.prefix));
                put_u64(self.buf, at + 8, high);
                put_u64(self.buf, at + 16, low);
                true
            }
            TypeLayout::Entity { .. } | TypeLayout::Set { .. } | TypeLayout::Record { .. } => self.wrong_type(ty, path),
        }
    }

    /// The key a set element sorts by (its text, for strings and entity
    /// ids, comes separately), or `None` after reporting why it is invalid.
    /// `parts` is the element as an entity reference, for entity elements.
    pub(crate) fn element_key(
        &mut self,
        element: &TypeLayout,
        value: Leaf<'_>,
        parts: Option<(&str, &str)>,
        path: &Path<'_>,
    ) -> Option<i64> {
        if let Leaf::Null = value {
            self.error(ErrorKind::NullValue, path, || "a set element is null".to_owned());
            return None;
        }
        match element {
            TypeLayout::String => self.text(element, value, path).map(|_| 0),
            TypeLayout::Entity { types } => self.entity_ref(element, types, parts, path).map(i64::from),
            _ => self.number(element, value, path),
        }
    }

    /// A set from a JSON array: elements validated, then written sorted and distinct.
    fn set(&mut self, at: usize, element: &TypeLayout, items: &[Value], path: &Path<'_>) -> bool {
        let entity = matches!(element, TypeLayout::Entity { .. });
        let item = |i: usize| {
            let item = items.get(i).unwrap_or(&Value::Null);
            let parts = match item {
                Value::Object(o) if entity => object_ref(o),
                _ => None,
            };
            (Leaf::of(item), parts)
        };
        let text = |i: u32| -> &str {
            let item = items.get(i as usize);
            let item = if entity { item.and_then(|v| v.get("id")) } else { item };
            item.and_then(Value::as_str).unwrap_or("")
        };
        self.elements(at, element, items.len(), path, item, text)
    }

    /// A set of `count` elements, each given by `item` as a leaf value and,
    /// for entity elements, as an entity reference, and by `text` as the
    /// text it is sorted and written by: validated, then written sorted and
    /// distinct; whether every element was valid.
    pub(crate) fn elements<'v>(
        &mut self,
        at: usize,
        element: &TypeLayout,
        count: usize,
        path: &Path<'_>,
        item: impl Fn(usize) -> (Leaf<'v>, Option<(&'v str, &'v str)>),
        text: impl Fn(u32) -> &'v str,
    ) -> bool {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        let mut ok = true;
        for i in 0..count {
            let (value, parts) = item(i);
            match self.element_key(element, value, parts, &Path::Index(path, i)) {
                Some(key) => order.push((key, i as u32)),
                None => ok = false,
            }
        }
        if ok {
            write_set(self.schema, self.buf, at, element, &mut order, text);
        }
        self.order = order;
        ok
    }
}

/// Sorts the valid elements of a set of `element`s (key and position, the
/// text of each given by `text`), drops duplicates and writes them, with the
/// set's slot at `at`.
pub(crate) fn write_set<'t>(
    schema: &Schema,
    buf: &mut Vec<u8>,
    at: usize,
    element: &TypeLayout,
    order: &mut Vec<(i64, u32)>,
    text: impl Fn(u32) -> &'t str,
) {
    match element {
        TypeLayout::String | TypeLayout::Entity { .. } => {
            sort_distinct(order, |a, b| a.0.cmp(&b.0).then_with(|| text(a.1).cmp(text(b.1))));
        }
        _ => sort_distinct(order, |a, b| a.0.cmp(&b.0)),
    }
    let size = element.size() as usize;
    let start = reserve_set(buf, at, order.len(), size);
    for (k, &(key, i)) in order.iter().enumerate() {
        let slot = start + size * k;
        match element {
            TypeLayout::String => write_string(schema, buf, slot, text(i)),
            TypeLayout::Entity { .. } => {
                put_i32(buf, slot, key as i32);
                write_string(schema, buf, slot + 4, text(i));
            }
            TypeLayout::Enum { .. } => put_i32(buf, slot, key as i32),
            _ => put(buf, slot, &key.to_le_bytes()),
        }
    }
}

/// An object as an entity reference: exactly the strings `type` and `id`.
fn object_ref(o: &Map<String, Value>) -> Option<(&str, &str)> {
    if o.len() != 2 {
        return None;
    }
    Some((o.get("type")?.as_str()?, o.get("id")?.as_str()?))
}

/// Sorts and removes duplicates (elements comparing equal).
fn sort_distinct(order: &mut Vec<(i64, u32)>, cmp: impl Fn(&(i64, u32), &(i64, u32)) -> Ordering) {
    order.sort_unstable_by(&cmp);
    order.dedup_by(|a, b| cmp(a, b) == Ordering::Equal);
}
