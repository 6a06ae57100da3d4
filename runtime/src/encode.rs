//! Request validation and encoding, in one pass over the schema: every
//! violation is collected (with its attribute path), and when there is none
//! the buffer holds the request exactly as `spec/abi.md` lays it out.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use serde_json::{Map, Value};
use ward_types::manifest::{FieldLayout, TypeLayout};
use ward_types::values;
use ward_types::{DecisionError, EntityData, ErrorKind, Request};

use crate::schema::Schema;

/// Where a value is in the request, rendered only when reporting an error.
#[derive(Clone, Copy)]
enum Path<'a> {
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
    order: Vec<(i64, u32)>,
}

/// Validates `request` against the schema and encodes it into `buf`
/// (cleared first). On failure, returns every violation, sorted.
pub(crate) fn encode(
    schema: &Schema,
    request: &Request,
    buf: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> Result<(), Vec<DecisionError>> {
    let mut encoder = Encoder { schema, buf, errors: Vec::new(), order: std::mem::take(&mut scratch.order) };
    encoder.request(request);
    scratch.order = encoder.order;
    let mut errors = encoder.errors;
    if errors.is_empty() && encoder.buf.len() > i32::MAX as usize {
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

/// The error for a request that cannot fit in the module's memory.
pub(crate) fn too_large() -> DecisionError {
    DecisionError { kind: ErrorKind::MalformedRequest, path: None, rule: None, message: "request too large".to_owned() }
}

struct Encoder<'s, 'b> {
    schema: &'s Schema,
    buf: &'b mut Vec<u8>,
    errors: Vec<DecisionError>,
    order: Vec<(i64, u32)>,
}

/// Stores `bytes` at `at` when the buffer has room (it always has for a valid
/// request; a request with errors is discarded anyway).
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dest) = at.checked_add(bytes.len()).and_then(|end| buf.get_mut(at..end)) {
        dest.copy_from_slice(bytes);
    }
}

fn put_i32(buf: &mut [u8], at: usize, value: i32) {
    put(buf, at, &value.to_le_bytes());
}

fn put_u64(buf: &mut [u8], at: usize, value: u64) {
    put(buf, at, &value.to_le_bytes());
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
fn describe(ty: &TypeLayout) -> &'static str {
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

/// The integer a JSON number denotes, or why it denotes none.
fn json_integer(value: &Value) -> Result<i64, ErrorKind> {
    let Value::Number(n) = value else {
        return Err(ErrorKind::WrongType);
    };
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

impl<'s> Encoder<'s, '_> {
    fn error(&mut self, kind: ErrorKind, path: &Path<'_>, message: String) {
        self.errors.push(DecisionError { kind, path: Some(path.to_string()), rule: None, message });
    }

    fn request(&mut self, request: &Request) {
        let schema: &'s Schema = self.schema;
        let layout = &schema.manifest.schema;
        self.buf.clear();
        self.buf.resize(layout.fixed_size as usize, 0);

        let principal_path = Path::Root("principal");
        let resource_path = Path::Root("resource");
        // The type and the action's applicability are reported at `<role>.type`.
        let principal_type = Path::Field(&principal_path, "type");
        let resource_type = Path::Field(&resource_path, "type");
        let principal = self.entity_type(&request.principal.ty, &principal_type);
        let resource = self.entity_type(&request.resource.ty, &resource_type);
        let action =
            schema.action_index.get(request.action.as_str()).and_then(|&i| Some((i, layout.actions.get(i as usize)?)));
        match action {
            None => self.error(
                ErrorKind::UnknownAction,
                &Path::Root("action"),
                format!("unknown action `{}`", request.action),
            ),
            Some((index, action)) => {
                put_i32(self.buf, 0, index as i32);
                for (ty, allowed, path, data, role) in [
                    (principal, &action.principals, &principal_type, &request.principal, "principal"),
                    (resource, &action.resources, &resource_type, &request.resource, "resource"),
                ] {
                    if ty.is_some_and(|t| !allowed.contains(&t)) {
                        self.error(
                            ErrorKind::ActionNotApplicable,
                            path,
                            format!("action `{}` does not apply to {role} type `{}`", action.name, data.ty),
                        );
                    }
                }
            }
        }
        self.entity(layout.principal_offset as usize, &request.principal, principal, &principal_path);
        self.entity(layout.resource_offset as usize, &request.resource, resource, &resource_path);
        self.fields(layout.context_offset as usize, &layout.context, &request.context, &Path::Root("context"));
    }

    fn entity_type(&mut self, name: &str, path: &Path<'_>) -> Option<u32> {
        let found = self.schema.entity_index.get(name).copied();
        if found.is_none() {
            self.error(ErrorKind::UnknownEntityType, path, format!("unknown entity type `{name}`"));
        }
        found
    }

    /// An entity block at `base`.
    fn entity(&mut self, base: usize, data: &EntityData, ty: Option<u32>, path: &Path<'_>) {
        let schema: &'s Schema = self.schema;
        if let Some(t) = ty {
            put_i32(self.buf, base, t as i32);
        }
        let info = ty.and_then(|t| schema.manifest.schema.entity_types.get(t as usize));
        self.string(base + 4, &data.id);

        // Ancestors: a set of entity elements.
        let ancestors_path = Path::Field(path, "ancestors");
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        let mut ok = true;
        for (i, ancestor) in data.ancestors.iter().enumerate() {
            let at = Path::Index(&ancestors_path, i);
            let Some(a) = self.entity_type(&ancestor.ty, &at) else {
                ok = false;
                continue;
            };
            if info.is_some_and(|info| !info.ancestor_types.contains(&a)) {
                ok = false;
                self.error(
                    ErrorKind::InvalidAncestor,
                    &at,
                    format!("an entity of type `{}` cannot be in an entity of type `{}`", data.ty, ancestor.ty),
                );
            }
            order.push((i64::from(a), i as u32));
        }
        if ok {
            let id = |i: u32| data.ancestors.get(i as usize).map_or("", |a| a.id.as_str());
            sort_distinct(&mut order, |a, b| a.0.cmp(&b.0).then_with(|| id(a.1).cmp(id(b.1))));
            let start = self.set_array(base + 16, order.len(), 16);
            for (k, &(t, i)) in order.iter().enumerate() {
                let slot = start + 16 * k;
                put_i32(self.buf, slot, t as i32);
                self.string(slot + 4, id(i));
            }
        }
        self.order = order;

        if let Some(info) = info {
            self.fields(base, &info.fields, &data.attributes, path);
        }
    }

    /// The fields of an entity, record or the context, stored relative to `base`.
    fn fields(&mut self, base: usize, fields: &[FieldLayout], values: &Map<String, Value>, path: &Path<'_>) {
        for field in fields {
            let at = Path::Field(path, &field.name);
            match values.get(field.name.as_str()) {
                None => {
                    if field.present_offset.is_none() {
                        self.error(
                            ErrorKind::MissingAttribute,
                            &at,
                            format!("the required attribute `{}` is missing", field.name),
                        );
                    }
                }
                Some(Value::Null) => {
                    self.error(ErrorKind::NullValue, &at, format!("the attribute `{}` is null", field.name));
                }
                Some(value) => {
                    let valid = self.value(base + field.offset as usize, &field.ty, value, &at);
                    if let Some(flag) = field.present_offset.filter(|_| valid) {
                        put_i32(self.buf, base + flag as usize, 1);
                    }
                }
            }
        }
    }

    /// Writes a string slot at `at`, appending the bytes to the variable part.
    fn string(&mut self, at: usize, text: &str) {
        let id = self.schema.strings.get(text).copied().unwrap_or(0);
        let offset = self.buf.len();
        self.buf.extend_from_slice(text.as_bytes());
        put_i32(self.buf, at, id);
        put_i32(self.buf, at + 4, offset as i32);
        put_i32(self.buf, at + 8, text.len() as i32);
    }

    /// Reserves `count` elements of `size` bytes, 8-byte aligned, in the
    /// variable part and writes the set slot at `at`. Returns where the
    /// elements go. An empty set is offset 0, count 0.
    fn set_array(&mut self, at: usize, count: usize, size: usize) -> usize {
        if count == 0 {
            return 0;
        }
        let start = align8(self.buf.len());
        self.buf.resize(start + count * size, 0);
        put_i32(self.buf, at, start as i32);
        put_i32(self.buf, at + 4, count as i32);
        start
    }

    /// A JSON string, or a `wrong_type` error.
    fn text<'v>(&mut self, ty: &TypeLayout, value: &'v Value, path: &Path<'_>) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.error(ErrorKind::WrongType, path, format!("expected {}", describe(ty)));
        }
        text
    }

    /// The `i64` of an integer-like scalar (int, duration, timestamp, time of
    /// day) or an enum's value index.
    fn number(&mut self, ty: &TypeLayout, value: &Value, path: &Path<'_>) -> Option<i64> {
        let parsed = match ty {
            TypeLayout::Int { min, max } => {
                let n = match json_integer(value) {
                    Ok(n) => n,
                    Err(kind) => {
                        let message = match kind {
                            ErrorKind::WrongType => format!("expected {}", describe(ty)),
                            ErrorKind::IntegerOutOfRange => {
                                format!("{value} does not fit in 64 bits")
                            }
                            _ => format!("{value} is not an integer"),
                        };
                        self.error(kind, path, message);
                        return None;
                    }
                };
                if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) {
                    let bound = |b: &Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
                    self.error(
                        ErrorKind::OutOfDeclaredRange,
                        path,
                        format!("{n} is outside the declared range {}..{}", bound(min), bound(max)),
                    );
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
                let index = schema.enum_index.get(*id as usize).and_then(|values| values.get(text));
                if index.is_none() {
                    let name = schema.manifest.schema.enums.get(*id as usize).map_or("", |e| e.name.as_str());
                    self.error(ErrorKind::UnknownEnumValue, path, format!("`{text}` is not a value of `{name}`"));
                }
                return index.map(|&i| i64::from(i));
            }
            _ => return None,
        };
        let (text, parsed) = parsed?;
        if parsed.is_none() {
            self.error(ErrorKind::InvalidValue, path, format!("`{text}` is not {}", describe(ty)));
        }
        parsed
    }

    /// An entity reference `{"type", "id"}` whose type is among `types`.
    fn entity_ref<'v>(
        &mut self,
        ty: &TypeLayout,
        types: &[u32],
        value: &'v Value,
        path: &Path<'_>,
    ) -> Option<(u32, &'v str)> {
        let parts = value.as_object().filter(|o| o.len() == 2).and_then(|o| {
            let t = o.get("type")?.as_str()?;
            let id = o.get("id")?.as_str()?;
            Some((t, id))
        });
        let Some((name, id)) = parts else {
            self.error(ErrorKind::WrongType, path, format!("expected {}", describe(ty)));
            return None;
        };
        let t = self.entity_type(name, path)?;
        if !types.contains(&t) {
            let schema: &'s Schema = self.schema;
            let allowed: Vec<&str> = types
                .iter()
                .filter_map(|&t| schema.manifest.schema.entity_types.get(t as usize).map(|e| e.name.as_str()))
                .collect();
            self.error(
                ErrorKind::WrongType,
                path,
                format!("an entity of type `{name}` is not allowed here (expected {})", allowed.join(" or ")),
            );
            return None;
        }
        Some((t, id))
    }

    /// Validates `value` as a `ty` and writes it at `at`; whether it was valid.
    fn value(&mut self, at: usize, ty: &TypeLayout, value: &Value, path: &Path<'_>) -> bool {
        match ty {
            TypeLayout::Bool => match value.as_bool() {
                Some(b) => {
                    put_i32(self.buf, at, i32::from(b));
                    true
                }
                None => {
                    self.error(ErrorKind::WrongType, path, format!("expected {}", describe(ty)));
                    false
                }
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
                    self.error(ErrorKind::InvalidValue, path, format!("`{text}` is not {}", describe(ty)));
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
                    self.error(ErrorKind::InvalidValue, path, format!("`{text}` is not {}", describe(ty)));
                    return false;
                };
                let (version, high, low) = address_halves(range.network);
                put_i32(self.buf, at, version);
                put_i32(self.buf, at + 4, i32::from(range.prefix));
                put_u64(self.buf, at + 8, high);
                put_u64(self.buf, at + 16, low);
                true
            }
            TypeLayout::Entity { types } => match self.entity_ref(ty, types, value, path) {
                Some((t, id)) => {
                    put_i32(self.buf, at, t as i32);
                    self.string(at + 4, id);
                    true
                }
                None => false,
            },
            TypeLayout::Set { element } => match value.as_array() {
                Some(items) => self.set(at, element, items, path),
                None => {
                    self.error(ErrorKind::WrongType, path, format!("expected {}", describe(ty)));
                    false
                }
            },
            TypeLayout::Record { fields, .. } => match value.as_object() {
                Some(values) => {
                    let before = self.errors.len();
                    self.fields(at, fields, values, path);
                    self.errors.len() == before
                }
                None => {
                    self.error(ErrorKind::WrongType, path, format!("expected {}", describe(ty)));
                    false
                }
            },
        }
    }

    /// A set: elements validated, then written sorted and distinct.
    fn set(&mut self, at: usize, element: &TypeLayout, items: &[Value], path: &Path<'_>) -> bool {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let at = Path::Index(path, i);
            if item.is_null() {
                self.error(ErrorKind::NullValue, &at, "a set element is null".to_owned());
                ok = false;
                continue;
            }
            let key = match element {
                TypeLayout::String => self.text(element, item, &at).map(|_| 0),
                TypeLayout::Entity { types } => self.entity_ref(element, types, item, &at).map(|(t, _)| i64::from(t)),
                _ => self.number(element, item, &at),
            };
            match key {
                Some(key) => order.push((key, i as u32)),
                None => ok = false,
            }
        }
        if ok {
            let text = |i: u32| -> &str {
                let item = items.get(i as usize);
                let item =
                    if matches!(element, TypeLayout::Entity { .. }) { item.and_then(|v| v.get("id")) } else { item };
                item.and_then(Value::as_str).unwrap_or("")
            };
            match element {
                TypeLayout::String | TypeLayout::Entity { .. } => {
                    sort_distinct(&mut order, |a, b| a.0.cmp(&b.0).then_with(|| text(a.1).cmp(text(b.1))));
                }
                _ => sort_distinct(&mut order, |a, b| a.0.cmp(&b.0)),
            }
            let size = element.size() as usize;
            let start = self.set_array(at, order.len(), size);
            for (k, &(key, i)) in order.iter().enumerate() {
                let slot = start + size * k;
                match element {
                    TypeLayout::String => self.string(slot, text(i)),
                    TypeLayout::Entity { .. } => {
                        put_i32(self.buf, slot, key as i32);
                        self.string(slot + 4, text(i));
                    }
                    TypeLayout::Enum { .. } => put_i32(self.buf, slot, key as i32),
                    _ => put(self.buf, slot, &key.to_le_bytes()),
                }
            }
        }
        self.order = order;
        ok
    }
}

/// Sorts and removes duplicates (elements comparing equal).
fn sort_distinct(order: &mut Vec<(i64, u32)>, cmp: impl Fn(&(i64, u32), &(i64, u32)) -> Ordering) {
    order.sort_unstable_by(&cmp);
    order.dedup_by(|a, b| cmp(a, b) == Ordering::Equal);
}
