//! Validation and encoding straight from a request's JSON text, without
//! building a `serde_json::Value` tree: a reader that follows the module's
//! layout writes each attribute into the buffer as it reads it.
//!
//! The text is read by [`crate::scan`]'s reader, strings borrowed from it.
//! The result is the same as parsing the document into a [`Request`] and
//! encoding that (`crate::encode::encode`): every value goes through the
//! same validation, the same errors are found (and sorted alike). Any
//! document this path does not take in one pass — not plain JSON where a
//! value is read (an escape or a fraction in a value the schema declares;
//! values it does not declare are skipped, whatever they hold), not a
//! request, or written unusually (a key given twice) — is left to the
//! general path, which parses it into a `Request` and reports its errors
//! exactly as before.
//!
//! [`Request`]: ward_types::Request

use serde_json::Number;
use ward_types::DecisionError;
use ward_types::manifest::TypeLayout;

use crate::encode::{Encoder, Given, Leaf, Path, Scratch};
use crate::scan::{self, GiveUp, Scanner, Span};
use crate::schema::{Field, Fields, Schema};

/// Buffers the JSON path reuses from one request to the next.
#[derive(Debug, Default)]
pub(crate) struct JsonScratch {
    /// The ancestors of the entity being read: spans of type name and id.
    ancestors: Vec<(Span, Span)>,
    /// The elements of the set being read.
    items: Vec<Item>,
}

/// A set element as read: what [`Encoder::elements`] needs of it.
#[derive(Debug)]
enum Item {
    Null,
    Bool(bool),
    Number(Number),
    Str(Span),
    Array,
    /// An object, with its type's and id's spans when it is an entity
    /// reference (for sets of entities only).
    Object(Option<(Span, Span)>),
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
    let mut js = std::mem::take(&mut scratch.json);
    let mut enc = Encoder::new(schema, buf, scratch);
    let mut s = Scanner::new(text);
    let read = request(&mut s, &mut Reader { enc: &mut enc, js: &mut js }).and_then(|()| s.end()).is_ok();
    let result = enc.finish(scratch);
    scratch.json = js;
    read.then_some(result)
}

/// What the reading functions write to.
struct Reader<'r, 's, 'b> {
    enc: &'r mut Encoder<'s, 'b>,
    js: &'r mut JsonScratch,
}

/// The request object.
fn request<'de>(s: &mut Scanner<'de>, r: &mut Reader<'_, '_, '_>) -> scan::Result<()> {
    let schema = r.enc.schema;
    let layout = &schema.manifest.schema;
    let mut roles: [Option<(Option<u32>, &'de str)>; 2] = [None, None];
    let mut action: Option<&'de str> = None;
    let mut context = false;
    s.object(|s, key| {
        match key {
            "principal" | "resource" => {
                let (role, base) =
                    if key == "principal" { (0, layout.principal_offset) } else { (1, layout.resource_offset) };
                if roles[role].is_some() {
                    return Err(GiveUp);
                }
                roles[role] = Some(entity(s, r, role, base as usize)?);
            }
            "action" if action.is_none() => action = Some(s.string()?),
            "context" if !context => {
                context = true;
                read_fields(s, r, &schema.context, layout.context_offset as usize, &Path::Root("context"))?;
            }
            _ => return Err(GiveUp),
        }
        Ok(())
    })?;
    let ([Some(principal), Some(resource)], Some(action)) = (roles, action) else {
        return Err(GiveUp);
    };
    if !context {
        r.enc.close(&Given::NONE, &schema.context, &Path::Root("context"));
    }
    r.enc.action(action, principal, resource);
    Ok(())
}

/// An entity (principal or resource, by `role`) whose block is at `base`:
/// its type's index when known, and its type's name.
fn entity<'de>(
    s: &mut Scanner<'de>,
    r: &mut Reader<'_, '_, '_>,
    role: usize,
    base: usize,
) -> scan::Result<(Option<u32>, &'de str)> {
    let schema = r.enc.schema;
    let path = Path::Root(if role == 0 { "principal" } else { "resource" });
    let (mut ty, mut id): (Option<&'de str>, Option<&'de str>) = (None, None);
    // The type's index, looked up once when the type is read.
    let mut index: Option<u32> = None;
    // The attributes: read as they come once the type is known, otherwise
    // skipped and read again from where they start.
    let mut attributes: Option<Option<usize>> = None;
    let mut ancestors = false;
    let fields_of = |index: Option<u32>| index.and_then(|t| schema.entity_fields.get(t as usize));
    r.js.ancestors.clear();
    s.object(|s, key| {
        match key {
            "type" if ty.is_none() => {
                let name = s.string()?;
                ty = Some(name);
                index = schema.entity_index.get(name);
            }
            "id" if id.is_none() => id = Some(s.string()?),
            "attributes" if attributes.is_none() => {
                if s.peek()? != b'{' {
                    return Err(GiveUp);
                }
                match (ty, fields_of(index)) {
                    (Some(_), Some(fields)) => {
                        read_fields(s, r, fields, base, &path)?;
                        attributes = Some(None);
                    }
                    // The attributes of an entity of unknown type are not examined.
                    (Some(_), None) => {
                        s.skip()?;
                        attributes = Some(None);
                    }
                    (None, _) => {
                        attributes = Some(Some(s.position()));
                        s.skip()?;
                    }
                }
            }
            "ancestors" if !ancestors => {
                ancestors = true;
                let list = &mut r.js.ancestors;
                s.array(|s, _| {
                    let (mut ty, mut id) = (None, None);
                    s.object(|s, key| {
                        match key {
                            "type" if ty.is_none() => ty = Some(s.span()?),
                            "id" if id.is_none() => id = Some(s.span()?),
                            _ => return Err(GiveUp),
                        }
                        Ok(())
                    })?;
                    list.push((ty.ok_or(GiveUp)?, id.ok_or(GiveUp)?));
                    Ok(())
                })?;
            }
            _ => return Err(GiveUp),
        }
        Ok(())
    })?;
    let (Some(ty), Some(id)) = (ty, id) else {
        return Err(GiveUp);
    };
    let Reader { enc, js } = r;
    // An unknown type is looked up again, to be reported.
    let t = index.or_else(|| enc.entity_type(ty, &Path::Field(&path, "type")));
    let list = &js.ancestors;
    enc.entity_header(base, t, ty, id, list.len(), &path, |i| {
        list.get(i).map_or(("", ""), |&(ty, id)| (s.slice(ty), s.slice(id)))
    });
    match (attributes, fields_of(t)) {
        (Some(Some(at)), Some(fields)) => read_fields(&mut s.from(at), r, fields, base, &path)?,
        (None, Some(fields)) => r.enc.close(&Given::NONE, fields, &path),
        _ => {}
    }
    Ok((t, ty))
}

/// The fields of an entity, record or the context (an object), stored
/// relative to `base`.
fn read_fields(
    s: &mut Scanner<'_>,
    r: &mut Reader<'_, '_, '_>,
    fields: &Fields,
    base: usize,
    path: &Path<'_>,
) -> scan::Result<()> {
    let mut given = Given::new(fields.fields.len());
    s.object(|s, key| {
        let Some((i, field)) = fields.find(key).and_then(|i| Some((i, fields.fields.get(i)?))) else {
            return s.skip();
        };
        if given.mark(i) {
            // Given twice: the general path keeps the last one.
            return Err(GiveUp);
        }
        let at = Path::Field(path, &field.name);
        let valid = value(s, r, field, base, &at)?;
        r.enc.present(base, field, valid);
        Ok(())
    })?;
    r.enc.close(&given, fields, path);
    Ok(())
}

/// The value of field `field` of a container at `base`: validated and
/// written, as [`Encoder::value`] does; whether it was valid.
fn value(
    s: &mut Scanner<'_>,
    r: &mut Reader<'_, '_, '_>,
    field: &Field,
    base: usize,
    path: &Path<'_>,
) -> scan::Result<bool> {
    let at = base + field.offset as usize;
    let enc = &mut *r.enc;
    Ok(match s.peek()? {
        b'"' => enc.leaf(at, &field.ty, Leaf::Str(s.string()?), path),
        b't' | b'f' => enc.leaf(at, &field.ty, Leaf::Bool(s.boolean()?), path),
        b'n' => {
            s.null()?;
            enc.null(field, path)
        }
        b'{' => {
            if let Some(record) = &field.record {
                let before = enc.errors.len();
                read_fields(s, r, record, at, path)?;
                r.enc.errors.len() == before
            } else if matches!(field.ty, TypeLayout::Entity { .. }) {
                let parts = reference(s)?;
                enc.entity_slot(at, &field.ty, parts.map(|(ty, id)| (s.slice(ty), s.slice(id))), path)
            } else {
                s.skip()?;
                enc.leaf(at, &field.ty, Leaf::Object, path)
            }
        }
        b'[' => match &field.ty {
            TypeLayout::Set { element } => set(s, r, at, element, path)?,
            ty => {
                s.skip()?;
                enc.wrong_type(ty, path)
            }
        },
        _ => enc.leaf(at, &field.ty, Leaf::Number(&s.integer()?), path),
    })
}

/// An object read as an entity reference: the spans of its type and id
/// when it is exactly those two strings. A key given twice sends the
/// document to the general path.
fn reference(s: &mut Scanner<'_>) -> scan::Result<Option<(Span, Span)>> {
    let (mut ty, mut id): (Option<Option<Span>>, Option<Option<Span>>) = (None, None);
    let mut others = false;
    s.object(|s, key| {
        let slot = match key {
            "type" => &mut ty,
            "id" => &mut id,
            _ => {
                others = true;
                return s.skip();
            }
        };
        if slot.is_some() {
            return Err(GiveUp);
        }
        *slot = Some(if s.peek()? == b'"' { Some(s.span()?) } else { s.skip().map(|()| None)? });
        Ok(())
    })?;
    Ok(match (ty, id, others) {
        (Some(Some(ty)), Some(Some(id)), false) => Some((ty, id)),
        _ => None,
    })
}

/// A set of `element`s (an array) at `at`: read, then validated and written
/// by [`Encoder::elements`]; whether every element was valid.
fn set(
    s: &mut Scanner<'_>,
    r: &mut Reader<'_, '_, '_>,
    at: usize,
    element: &TypeLayout,
    path: &Path<'_>,
) -> scan::Result<bool> {
    let entity = matches!(element, TypeLayout::Entity { .. });
    let items = &mut r.js.items;
    items.clear();
    s.array(|s, _| {
        let item = match s.peek()? {
            b'"' => Item::Str(s.span()?),
            b't' | b'f' => Item::Bool(s.boolean()?),
            b'n' => {
                s.null()?;
                Item::Null
            }
            b'[' => {
                s.skip()?;
                Item::Array
            }
            b'{' if entity => Item::Object(reference(s)?),
            b'{' => {
                s.skip()?;
                Item::Object(None)
            }
            _ => Item::Number(s.integer()?),
        };
        items.push(item);
        Ok(())
    })?;
    let items = &r.js.items;
    let text = |span: Span| s.slice(span);
    let item = |i: usize| match items.get(i) {
        Some(Item::Bool(b)) => (Leaf::Bool(*b), None),
        Some(Item::Number(n)) => (Leaf::Number(n), None),
        Some(Item::Str(span)) => (Leaf::Str(text(*span)), None),
        Some(Item::Array) => (Leaf::Array, None),
        Some(Item::Object(parts)) => (Leaf::Object, parts.map(|(ty, id)| (text(ty), text(id)))),
        Some(Item::Null) | None => (Leaf::Null, None),
    };
    let id_or_text = |i: u32| match items.get(i as usize) {
        Some(Item::Str(span) | Item::Object(Some((_, span)))) => text(*span),
        _ => "",
    };
    Ok(r.enc.elements(at, element, items.len(), path, item, id_or_text))
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

    type Encoded = Result<(), Vec<DecisionError>>;

    /// The JSON path's result (`None`: the general path) and the general path's.
    fn both(schema: &Schema, text: &str) -> (Option<Encoded>, Encoded) {
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
            GOOD.replace(r#""level": 3"#, r#""level": "3", "nick": null"#).replace(r#""b": "15m""#, r#""b": "x""#);
        // Undeclared attributes are skipped, whatever they hold.
        let undeclared = GOOD.replace(r#""level": 3"#, r#""level": 3, "note": {"x": [1.5, -0.25], "y": "a\"b\u00e9"}"#);
        for text in [GOOD.to_owned(), value.to_string(), type_last, invalid, undeclared] {
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
            GOOD.replace(r#""level": 3"#, r#""level": 1.5"#),
            GOOD.replace(r#""id": "alice""#, r#""id": "al\u0069ce""#),
            GOOD.replace(r#"{"type": "User", "id": "bob"}"#, r#"{"type": "User", "id": "bob", "id": "b"}"#),
            "[1]".to_owned(),
            "{".to_owned(),
        ] {
            let (fast, _) = both(&schema, &text);
            assert_eq!(fast, None, "{text}");
        }
    }
}
