//! Validation and encoding straight from a request's JSON text, without
//! building a `serde_json::Value` tree: serde drives seeds that follow the
//! module's layout and write each attribute into the buffer as it is read.
//!
//! The text is read by [`crate::scan`]'s reader when it is plain JSON (no
//! escapes, integers only), by `serde_json` otherwise. The result is the same
//! as parsing the document into a [`Request`] and encoding that
//! (`crate::encode::encode`): the readers accept the same documents alike,
//! at the same nesting depths, and every value goes through the same
//! validation. Any document this path does not take in one pass — not a
//! request, or written unusually (a struct as an array, a key given twice) —
//! is left to the general path, which parses it into a `Request` and reports
//! its errors exactly as before.
//!
//! [`Request`]: ward_types::Request

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use serde_json::value::RawValue;
use ward_types::manifest::TypeLayout;
use ward_types::{DecisionError, ErrorKind};

use crate::encode::{Encoder, Given, Leaf, Path, Scratch, write_set};
use crate::scan::Scanner;
use crate::schema::{Field, Fields, Schema};

/// Buffers the JSON path reuses from one request to the next.
#[derive(Debug, Default)]
pub(crate) struct JsonScratch {
    /// The action's name.
    action: String,
    /// The principal's and the resource's type names.
    types: [String; 2],
    /// The entity's id.
    id: String,
    /// Text of set elements and entity references; ranges index it.
    texts: String,
    /// Text of the entity's ancestors (kept while its attributes are read).
    ancestor_texts: String,
    /// Per ancestor: the ranges of its type name and id in `ancestor_texts`.
    ancestors: Vec<(Range, Range)>,
    /// Per set element: the range of its text (string or entity id).
    elements: Vec<Range>,
    /// Attributes given before the entity's type, wrapped to be read again.
    wrapped: Vec<u8>,
}

/// A byte range of [`JsonScratch::texts`].
type Range = (u32, u32);

fn slice(texts: &str, (start, end): Range) -> &str {
    texts.get(start as usize..end as usize).unwrap_or("")
}

/// Validates and encodes the request in `json` into `buf`, as
/// `encode::encode` does for the parsed document. `None` when the document
/// must take the general path (see the module's documentation).
pub(crate) fn encode_json(
    schema: &Schema,
    json: &[u8],
    buf: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> Option<Result<(), Vec<DecisionError>>> {
    // Text checked as UTF-8 once, in one pass, rather than string by string.
    let text = std::str::from_utf8(json).ok()?;
    // Plain JSON is scanned by our own reader; what it gives up on is read
    // again by `serde_json`, which both accept alike.
    encode_with(schema, buf, scratch, |seed| {
        let mut scanner = Scanner::new(text);
        seed.deserialize(&mut scanner).and_then(|()| scanner.end()).is_ok()
    })
    .or_else(|| {
        encode_with(schema, buf, scratch, |seed| {
            let mut de = serde_json::Deserializer::from_str(text);
            seed.deserialize(&mut de).and_then(|()| de.end()).is_ok()
        })
    })
}

/// Encodes with the request read by `read`; `None` when it could not read it.
fn encode_with(
    schema: &Schema,
    buf: &mut Vec<u8>,
    scratch: &mut Scratch,
    read: impl FnOnce(RequestSeed<'_, '_, '_, '_>) -> bool,
) -> Option<Result<(), Vec<DecisionError>>> {
    let mut js = std::mem::take(&mut scratch.json);
    let enc = Encoder::new(schema, buf, scratch);
    let mut d = Decoder { enc, js: &mut js, action: None };
    let read = read(RequestSeed(&mut d));
    let result = d.enc.finish(scratch);
    scratch.json = js;
    read.then_some(result)
}

/// The state every seed works on.
struct Decoder<'s, 'b, 'x> {
    enc: Encoder<'s, 'b>,
    js: &'x mut JsonScratch,
    /// The action's index, once read and known.
    action: Option<u32>,
}

/// The error that sends a document to the general path; its text is never shown.
fn general<E: de::Error>() -> E {
    E::custom("left to the general path")
}

// ------------------------------------------------------------------ strings

/// Reads a string into a buffer (replacing its contents).
struct StrInto<'t>(&'t mut String);

impl<'de> DeserializeSeed<'de> for StrInto<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for StrInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(())
    }
}

/// Appends a string to a buffer and returns where it is.
struct Append<'t>(&'t mut String);

fn append(texts: &mut String, v: &str) -> Range {
    let start = texts.len() as u32;
    texts.push_str(v);
    (start, texts.len() as u32)
}

impl<'de> DeserializeSeed<'de> for Append<'_> {
    type Value = Range;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Range, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Append<'_> {
    type Value = Range;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Range, E> {
        Ok(append(self.0, v))
    }
}

// ------------------------------------------------------------- any value

/// Reads any JSON value and drops it, parsing it as fully as building a
/// `serde_json::Value` would (numbers included), without allocating.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key, dropped.
struct SkipKey;

impl<'de> DeserializeSeed<'de> for SkipKey {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for SkipKey {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element_seed(Skip)?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_key_seed(SkipKey)?.is_some() {
        map.next_value_seed(Skip)?;
    }
    Ok(())
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        skip_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        skip_map(map)
    }
}

/// An object whose values are dropped (the attributes of an entity of
/// unknown type): still read as a map of JSON values.
struct SkipObject;

impl<'de> DeserializeSeed<'de> for SkipObject {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SkipObject {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        skip_map(map)
    }
}

/// A JSON value whose text is kept when it is a string: the `type` and
/// `id` of an entity reference.
struct MaybeStr<'t>(&'t mut String);

impl<'de> DeserializeSeed<'de> for MaybeStr<'_> {
    type Value = Option<Range>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Range>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MaybeStr<'_> {
    type Value = Option<Range>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<Range>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<Range>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<Range>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<Range>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Range>, E> {
        Ok(Some(append(self.0, v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Range>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Range>, A::Error> {
        skip_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Range>, A::Error> {
        skip_map(map).map(|()| None)
    }
}

/// The keys of an entity reference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKey {
    Type,
    Id,
    Other,
}

struct RefKeySeed;

impl<'de> DeserializeSeed<'de> for RefKeySeed {
    type Value = RefKey;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RefKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for RefKeySeed {
    type Value = RefKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RefKey, E> {
        Ok(match v {
            "type" => RefKey::Type,
            "id" => RefKey::Id,
            _ => RefKey::Other,
        })
    }
}

/// An object read as an entity reference inside an attribute: the ranges
/// of its type and id when it is exactly those two strings. A key given
/// twice sends the document to the general path.
fn read_ref<'de, A: MapAccess<'de>>(mut map: A, texts: &mut String) -> Result<Option<(Range, Range)>, A::Error> {
    let mut ty: Option<Option<Range>> = None;
    let mut id: Option<Option<Range>> = None;
    let mut others = false;
    while let Some(key) = map.next_key_seed(RefKeySeed)? {
        match key {
            RefKey::Type if ty.is_none() => ty = Some(map.next_value_seed(MaybeStr(texts))?),
            RefKey::Id if id.is_none() => id = Some(map.next_value_seed(MaybeStr(texts))?),
            RefKey::Type | RefKey::Id => return Err(general()),
            RefKey::Other => {
                others = true;
                map.next_value_seed(Skip)?;
            }
        }
    }
    Ok(match (ty, id, others) {
        (Some(Some(ty)), Some(Some(id)), false) => Some((ty, id)),
        _ => None,
    })
}

// ------------------------------------------------------------------ request

/// The top-level fields of a request document.
#[derive(Clone, Copy)]
enum RequestKey {
    Principal,
    Action,
    Resource,
    Context,
    Other,
}

struct RequestKeySeed;

impl<'de> DeserializeSeed<'de> for RequestKeySeed {
    type Value = RequestKey;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RequestKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for RequestKeySeed {
    type Value = RequestKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestKey, E> {
        Ok(match v {
            "principal" => RequestKey::Principal,
            "action" => RequestKey::Action,
            "resource" => RequestKey::Resource,
            "context" => RequestKey::Context,
            _ => RequestKey::Other,
        })
    }
}

const REQUEST_FIELDS: &[&str] = &["principal", "action", "resource", "context"];
const ENTITY_FIELDS: &[&str] = &["type", "id", "attributes", "ancestors"];
const REF_FIELDS: &[&str] = &["type", "id"];

struct RequestSeed<'d, 's, 'b, 'x>(&'d mut Decoder<'s, 'b, 'x>);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Request", REQUEST_FIELDS, self)
    }
}

impl<'de, 's> Visitor<'de> for RequestSeed<'_, 's, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Request")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let d = self.0;
        let schema: &'s Schema = d.enc.schema;
        let layout = &schema.manifest.schema;
        let mut types: [Option<Option<u32>>; 2] = [None, None];
        let (mut action, mut context) = (false, false);
        while let Some(key) = map.next_key_seed(RequestKeySeed)? {
            match key {
                RequestKey::Principal | RequestKey::Resource => {
                    let (role, base) = match key {
                        RequestKey::Principal => (0, layout.principal_offset),
                        _ => (1, layout.resource_offset),
                    };
                    if types[role].is_some() {
                        return Err(general());
                    }
                    types[role] = Some(map.next_value_seed(EntitySeed { d: &mut *d, role, base: base as usize })?);
                }
                RequestKey::Action if !action => {
                    action = true;
                    map.next_value_seed(StrInto(&mut d.js.action))?;
                    d.action = schema.action_index.get(&d.js.action);
                }
                RequestKey::Context if !context => {
                    context = true;
                    let path = Path::Root("context");
                    let base = layout.context_offset as usize;
                    map.next_value_seed(FieldsSeed { d: &mut *d, fields: &schema.context, base, path: &path })?;
                }
                _ => return Err(general()),
            }
        }
        let [Some(principal), Some(resource)] = types else {
            return Err(general());
        };
        if !action {
            return Err(general());
        }
        if !context {
            d.enc.close(&Given::new(0), &schema.context, &Path::Root("context"));
        }
        let Decoder { enc, js, .. } = d;
        enc.action(&js.action, (principal, &js.types[0]), (resource, &js.types[1]));
        Ok(())
    }
}

// ------------------------------------------------------------------- entity

#[derive(Clone, Copy)]
enum EntityKey {
    Type,
    Id,
    Attributes,
    Ancestors,
    Other,
}

struct EntityKeySeed;

impl<'de> DeserializeSeed<'de> for EntityKeySeed {
    type Value = EntityKey;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<EntityKey, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for EntityKeySeed {
    type Value = EntityKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<EntityKey, E> {
        Ok(match v {
            "type" => EntityKey::Type,
            "id" => EntityKey::Id,
            "attributes" => EntityKey::Attributes,
            "ancestors" => EntityKey::Ancestors,
            _ => EntityKey::Other,
        })
    }
}

/// The principal (`role` 0) or the resource (1), its block at `base`.
/// Yields its type's index, when known.
struct EntitySeed<'d, 's, 'b, 'x> {
    d: &'d mut Decoder<'s, 'b, 'x>,
    role: usize,
    base: usize,
}

impl<'de> DeserializeSeed<'de> for EntitySeed<'_, '_, '_, '_> {
    type Value = Option<u32>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_struct("EntityData", ENTITY_FIELDS, self)
    }
}

impl<'de, 's> Visitor<'de> for EntitySeed<'_, 's, '_, '_> {
    type Value = Option<u32>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct EntityData")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u32>, A::Error> {
        let EntitySeed { d, role, base } = self;
        let schema: &'s Schema = d.enc.schema;
        let path = Path::Root(if role == 0 { "principal" } else { "resource" });
        // The type, once read: its index when known.
        let mut ty: Option<Option<u32>> = None;
        let (mut id, mut attributes, mut ancestors) = (false, false, false);
        // Attributes given before the type, read once the type is known.
        let mut pending: Option<&'de RawValue> = None;
        // Or read as they come, laid out as for this type, when the action
        // allows only types laid out alike here.
        let guess = d.action.and_then(|a| schema.attribute_layout.get(a as usize)).and_then(|roles| roles[role]);
        let mut guessed = false;
        d.js.ancestor_texts.clear();
        d.js.ancestors.clear();
        while let Some(key) = map.next_key_seed(EntityKeySeed)? {
            match key {
                EntityKey::Type if ty.is_none() => {
                    map.next_value_seed(StrInto(&mut d.js.types[role]))?;
                    ty = Some(schema.entity_index.get(d.js.types[role].as_str()));
                }
                EntityKey::Id if !id => {
                    id = true;
                    map.next_value_seed(StrInto(&mut d.js.id))?;
                }
                EntityKey::Attributes if !attributes => {
                    attributes = true;
                    match ty {
                        Some(Some(t)) => {
                            let fields = schema.entity_fields.get(t as usize).ok_or_else(general::<A::Error>)?;
                            map.next_value_seed(FieldsSeed { d: &mut *d, fields, base, path: &path })?;
                        }
                        Some(None) => map.next_value_seed(SkipObject)?,
                        None => match guess.and_then(|t| schema.entity_fields.get(t as usize)) {
                            Some(fields) => {
                                guessed = true;
                                map.next_value_seed(FieldsSeed { d: &mut *d, fields, base, path: &path })?;
                            }
                            None => pending = Some(map.next_value()?),
                        },
                    }
                }
                EntityKey::Ancestors if !ancestors => {
                    ancestors = true;
                    map.next_value_seed(AncestorsSeed(&mut *d))?;
                }
                _ => return Err(general()),
            }
        }
        let Some(known) = ty else {
            return Err(general());
        };
        if guessed {
            // The guess holds only for a type the action allows here.
            let allowed = d
                .action
                .and_then(|a| schema.manifest.schema.actions.get(a as usize))
                .map(|a| if role == 0 { &a.principals } else { &a.resources });
            if !known.is_some_and(|t| allowed.is_some_and(|list| list.contains(&t))) {
                return Err(general());
            }
        }
        if !id {
            return Err(general());
        }
        let Decoder { enc, js, .. } = &mut *d;
        let ty_name = js.types[role].as_str();
        let t = enc.entity_type(ty_name, &Path::Field(&path, "type"));
        debug_assert_eq!(t, known);
        let texts = js.ancestor_texts.as_str();
        let list = &js.ancestors;
        enc.entity_header(base, t, ty_name, &js.id, list.len(), &path, |i| {
            list.get(i).map_or(("", ""), |&(ty, id)| (slice(texts, ty), slice(texts, id)))
        });
        let fields = t.and_then(|t| schema.entity_fields.get(t as usize));
        if let Some(raw) = pending {
            reread(d, raw, fields, base, &path).map_err(|_| general::<A::Error>())?;
        } else if let (false, Some(fields)) = (attributes, fields) {
            d.enc.close(&Given::new(0), fields, &path);
        }
        Ok(t)
    }
}

/// Reads attributes given before their entity's type, now that it is known
/// (`fields`, or `None` for a type that is not), at the depth they had in
/// the document (two levels down, as in a request's entity).
fn reread(
    d: &mut Decoder<'_, '_, '_>,
    raw: &RawValue,
    fields: Option<&Fields>,
    base: usize,
    path: &Path<'_>,
) -> Result<(), serde_json::Error> {
    let mut wrapped = std::mem::take(&mut d.js.wrapped);
    wrapped.clear();
    wrapped.extend_from_slice(b"[[");
    wrapped.extend_from_slice(raw.get().as_bytes());
    wrapped.extend_from_slice(b"]]");
    let result = {
        let mut de = serde_json::Deserializer::from_slice(&wrapped);
        Nest { d: &mut *d, fields, base, path, depth: 2 }.deserialize(&mut de).and_then(|()| de.end())
    };
    d.js.wrapped = wrapped;
    result
}

/// `depth` arrays around the attributes object.
struct Nest<'d, 'p, 's, 'b, 'x> {
    d: &'d mut Decoder<'s, 'b, 'x>,
    fields: Option<&'d Fields>,
    base: usize,
    path: &'d Path<'p>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Nest<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match (self.depth, self.fields) {
            (0, Some(fields)) => d.deserialize_map(FieldsSeed { d: self.d, fields, base: self.base, path: self.path }),
            (0, None) => d.deserialize_map(SkipObject),
            _ => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Nest<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Nest { depth: self.depth - 1, ..self };
        seq.next_element_seed(inner)?.ok_or_else(general)
    }
}

/// An entity's ancestors, kept until the entity ends.
struct AncestorsSeed<'d, 's, 'b, 'x>(&'d mut Decoder<'s, 'b, 'x>);

impl<'de> DeserializeSeed<'de> for AncestorsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AncestorsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let js = &mut *self.0.js;
        while let Some(pair) = seq.next_element_seed(AncestorSeed(&mut js.ancestor_texts))? {
            js.ancestors.push(pair);
        }
        Ok(())
    }
}

/// One ancestor: `{"type", "id"}`.
struct AncestorSeed<'t>(&'t mut String);

impl<'de> DeserializeSeed<'de> for AncestorSeed<'_> {
    type Value = (Range, Range);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(Range, Range), D::Error> {
        d.deserialize_struct("EntityRef", REF_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for AncestorSeed<'_> {
    type Value = (Range, Range);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct EntityRef")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(Range, Range), A::Error> {
        let (mut ty, mut id) = (None, None);
        while let Some(key) = map.next_key_seed(RefKeySeed)? {
            match key {
                RefKey::Type if ty.is_none() => ty = Some(map.next_value_seed(Append(&mut *self.0))?),
                RefKey::Id if id.is_none() => id = Some(map.next_value_seed(Append(&mut *self.0))?),
                _ => return Err(general()),
            }
        }
        ty.zip(id).ok_or_else(general)
    }
}

// ------------------------------------------------------------------- fields

/// The fields of a container at `base`.
struct FieldsSeed<'d, 'p, 's, 'b, 'x> {
    d: &'d mut Decoder<'s, 'b, 'x>,
    fields: &'d Fields,
    base: usize,
    path: &'d Path<'p>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        fields_map(self.d, self.fields, self.base, self.path, map)
    }
}

/// A field name: its position among the container's fields.
struct FieldKey<'f>(&'f Fields);

impl<'de> DeserializeSeed<'de> for FieldKey<'_> {
    type Value = Option<usize>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldKey<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.find(v))
    }
}

fn fields_map<'de, A: MapAccess<'de>>(
    d: &mut Decoder<'_, '_, '_>,
    fields: &Fields,
    base: usize,
    path: &Path<'_>,
    mut map: A,
) -> Result<(), A::Error> {
    let mut given = Given::new(fields.fields.len());
    while let Some(key) = map.next_key_seed(FieldKey(fields))? {
        let Some(field) = key.and_then(|i| fields.fields.get(i)) else {
            map.next_value_seed(Skip)?;
            continue;
        };
        if key.is_some_and(|i| given.mark(i)) {
            // Given twice: the general path keeps the last one.
            return Err(general());
        }
        let at = Path::Field(path, &field.name);
        let valid = map.next_value_seed(ValueSeed { d: &mut *d, field, base, path: &at })?;
        d.enc.present(base, field, valid);
    }
    d.enc.close(&given, fields, path);
    Ok(())
}

/// The value of a declared field: validated and written; whether it was valid.
struct ValueSeed<'d, 'p, 's, 'b, 'x> {
    d: &'d mut Decoder<'s, 'b, 'x>,
    field: &'d Field,
    base: usize,
    path: &'d Path<'p>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, '_, '_, '_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl ValueSeed<'_, '_, '_, '_, '_> {
    fn at(&self) -> usize {
        self.base + self.field.offset as usize
    }

    fn leaf(self, leaf: Leaf<'_>) -> bool {
        let at = self.at();
        self.d.enc.leaf(at, &self.field.ty, leaf, self.path)
    }

    fn null(self) -> bool {
        let name = &self.field.name;
        self.d.enc.error(ErrorKind::NullValue, self.path, || format!("the attribute `{name}` is null"));
        false
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_, '_, '_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(self.leaf(Leaf::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(self.leaf(Leaf::Number(&Number::from(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(self.leaf(Leaf::Number(&Number::from(v))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        // As in a `serde_json::Value`, a number without a representation is null.
        Ok(match Number::from_f64(v) {
            Some(n) => self.leaf(Leaf::Number(&n)),
            None => self.null(),
        })
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(self.leaf(Leaf::Str(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(self.null())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let at = self.at();
        let ValueSeed { d, field, path, .. } = self;
        let TypeLayout::Set { element } = &field.ty else {
            d.enc.wrong_type(&field.ty, path);
            skip_seq(seq)?;
            return Ok(false);
        };
        let mut order = std::mem::take(&mut d.enc.order);
        order.clear();
        d.js.texts.clear();
        d.js.elements.clear();
        let mut ok = true;
        let mut i = 0u32;
        loop {
            let at = Path::Index(path, i as usize);
            let Some((key, text)) = seq.next_element_seed(ElementSeed { d: &mut *d, element, path: &at })? else {
                break;
            };
            d.js.elements.push(text);
            match key {
                Some(key) => order.push((key, i)),
                None => ok = false,
            }
            i += 1;
        }
        if ok {
            let Decoder { enc, js, .. } = &mut *d;
            let (texts, elements) = (js.texts.as_str(), &js.elements);
            write_set(enc.schema, enc.buf, at, element, &mut order, |i| {
                elements.get(i as usize).map_or("", |&range| slice(texts, range))
            });
        }
        d.enc.order = order;
        Ok(ok)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let at = self.at();
        let ValueSeed { d, field, path, .. } = self;
        if let Some(record) = &field.record {
            let before = d.enc.errors.len();
            fields_map(&mut *d, record, at, path, map)?;
            return Ok(d.enc.errors.len() == before);
        }
        if !matches!(field.ty, TypeLayout::Entity { .. }) {
            d.enc.wrong_type(&field.ty, path);
            skip_map(map)?;
            return Ok(false);
        }
        d.js.texts.clear();
        let parts = read_ref(map, &mut d.js.texts)?;
        let Decoder { enc, js, .. } = &mut *d;
        let texts = js.texts.as_str();
        Ok(enc.entity_slot(at, &field.ty, parts.map(|(ty, id)| (slice(texts, ty), slice(texts, id))), path))
    }
}

/// A set element: its key (`None` when invalid) and the range of its text.
struct ElementSeed<'d, 'p, 's, 'b, 'x> {
    d: &'d mut Decoder<'s, 'b, 'x>,
    element: &'d TypeLayout,
    path: &'d Path<'p>,
}

type Element = (Option<i64>, Range);

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_, '_, '_, '_> {
    type Value = Element;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(self)
    }
}

impl ElementSeed<'_, '_, '_, '_, '_> {
    fn leaf(self, leaf: Leaf<'_>) -> Element {
        (self.d.enc.element_key(self.element, leaf, None, self.path), (0, 0))
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_, '_, '_, '_, '_> {
    type Value = Element;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Element, E> {
        Ok(self.leaf(Leaf::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Element, E> {
        Ok(self.leaf(Leaf::Number(&Number::from(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Element, E> {
        Ok(self.leaf(Leaf::Number(&Number::from(v))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Element, E> {
        Ok(match Number::from_f64(v) {
            Some(n) => self.leaf(Leaf::Number(&n)),
            None => self.leaf(Leaf::Null),
        })
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element, E> {
        let range = append(&mut self.d.js.texts, v);
        Ok((self.d.enc.element_key(self.element, Leaf::Str(v), None, self.path), range))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(self.leaf(Leaf::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
        skip_seq(seq)?;
        Ok(self.leaf(Leaf::Array))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
        if !matches!(self.element, TypeLayout::Entity { .. }) {
            skip_map(map)?;
            return Ok(self.leaf(Leaf::Object));
        }
        let ElementSeed { d, element, path } = self;
        let parts = read_ref(map, &mut d.js.texts)?;
        let Decoder { enc, js, .. } = &mut *d;
        let texts = js.texts.as_str();
        let key =
            enc.element_key(element, Leaf::Object, parts.map(|(ty, id)| (slice(texts, ty), slice(texts, id))), path);
        Ok((key, parts.map_or((0, 0), |(_, id)| id)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::encode::{Scratch, encode};

    /// A user with a bool, an int and an optional string; a document with a
    /// set of strings, an entity and a record; a context with a set of groups.
    const MANIFEST: &str = r#"{
        "abi_version": 2, "packages": [], "source_hash": "00",
        "schema": {
            "entity_types": [
                {"name": "User", "ancestor_types": [1], "fields": [
                    {"name": "admin", "type": {"kind": "bool"}, "offset": 24},
                    {"name": "level", "type": {"kind": "int"}, "offset": 32},
                    {"name": "nick", "type": {"kind": "string"}, "offset": 40, "present_offset": 52}
                ]},
                {"name": "Group", "ancestor_types": [], "fields": []},
                {"name": "Doc", "ancestor_types": [1], "fields": [
                    {"name": "tags", "type": {"kind": "set", "element": {"kind": "string"}}, "offset": 24},
                    {"name": "owner", "type": {"kind": "entity", "types": [0]}, "offset": 32},
                    {"name": "meta", "type": {"kind": "record", "size": 16, "fields": [
                        {"name": "a", "type": {"kind": "bool"}, "offset": 0},
                        {"name": "b", "type": {"kind": "duration"}, "offset": 8, "present_offset": 4}
                    ]}, "offset": 48}
                ]}
            ],
            "enums": [],
            "actions": [{"name": "read", "principals": [0], "resources": [2]}],
            "principal_offset": 8, "resource_offset": 72, "context_offset": 144,
            "context": [
                {"name": "groups", "type": {"kind": "set", "element": {"kind": "entity", "types": [1]}}, "offset": 0}
            ],
            "fixed_size": 160
        },
        "strings": ["admins"], "obligations": [], "rules": []
    }"#;

    const GOOD: &str = r#"{"principal": {"type": "User", "id": "alice", "attributes": {"admin": true, "level": 3},
        "ancestors": [{"type": "Group", "id": "admins"}]},
        "action": "read",
        "resource": {"type": "Doc", "id": "d", "attributes": {"tags": ["b", "a", "b"],
            "owner": {"type": "User", "id": "bob"}, "meta": {"a": false, "b": "15m"}}},
        "context": {"groups": [{"type": "Group", "id": "g"}]}}"#;

    fn schema() -> Schema {
        Schema::from_json(MANIFEST.as_bytes()).expect("the test manifest")
    }

    /// The JSON path's result (`None`: the general path) and the general path's.
    fn both(schema: &Schema, text: &str) -> (Option<Result<(), Vec<DecisionError>>>, Result<(), Vec<DecisionError>>) {
        let mut scratch = Scratch::default();
        let mut buf = Vec::new();
        let fast = encode_json(schema, text.as_bytes(), &mut buf, &mut scratch);
        let general = match ward_types::Request::from_json(text.as_bytes()) {
            Ok(request) => encode(schema, &request, &mut Vec::new(), &mut scratch),
            Err(error) => Err(vec![error]),
        };
        (fast, general)
    }

    #[test]
    fn ordinary_documents_take_the_json_path() {
        let schema = schema();
        let value: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let type_last =
            GOOD.replace(r#""type": "User", "id": "alice", "attributes""#, r#""id": "alice", "attributes""#).replace(
                r#""ancestors": [{"type": "Group", "id": "admins"}]}"#,
                r#""ancestors": [{"type": "Group", "id": "admins"}], "type": "User"}"#,
            );
        assert_ne!(type_last, GOOD);
        let invalid =
            GOOD.replace(r#""level": 3"#, r#""level": 1.5, "nick": null"#).replace(r#""b": "15m""#, r#""b": "x""#);
        for text in [GOOD.to_owned(), value.to_string(), type_last, invalid] {
            let (fast, general) = both(&schema, &text);
            assert_eq!(fast.as_ref(), Some(&general), "{text}");
        }
        let (fast, _) = both(&schema, GOOD);
        assert_eq!(fast, Some(Ok(())));
    }

    #[test]
    fn unusual_documents_take_the_general_path() {
        let schema = schema();
        for text in [
            GOOD.replace(r#""admin": true"#, r#""admin": true, "admin": false"#),
            GOOD.replace(r#""action": "read""#, r#""action": "read", "action": "read""#),
            GOOD.replace(r#"{"type": "Group", "id": "admins"}"#, r#"["Group", "admins"]"#),
            GOOD.replace(r#""action": "read""#, r#""action": "read", "extra": 1"#),
            GOOD.replace(r#"{"type": "User", "id": "bob"}"#, r#"{"type": "User", "id": "bob", "id": "b"}"#),
            "[1]".to_owned(),
            "{".to_owned(),
        ] {
            let (fast, _) = both(&schema, &text);
            assert_eq!(fast, None, "{text}");
        }
    }
}
