//! The manifest, checked for consistency and indexed for request encoding.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use ward_types::Obligation;
use ward_types::manifest::{ABI_VERSION, FieldLayout, Manifest, TypeLayout};

use crate::LoadError;

/// Size of an entity block's header: type index, id slot, ancestors slot.
pub(crate) const ENTITY_HEADER: u64 = 24;

/// A manifest that passed [`Schema::new`]'s checks, with the lookup tables
/// that encoding needs, built once.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) manifest: Manifest,
    pub(crate) entity_index: Names,
    pub(crate) action_index: Names,
    pub(crate) enum_index: Vec<Names>,
    /// Interned strings and their ids (`index + 1`).
    pub(crate) strings: Names,
    /// Every obligation of every rule, sorted and distinct, so that a
    /// decision's obligations are sorted as integers.
    pub(crate) obligations: Vec<Obligation>,
    /// Per rule, its obligations as indices into `obligations`.
    pub(crate) rule_obligations: Vec<Vec<u32>>,
    /// Per rule, the rank of its id among the distinct rule ids, so that
    /// rules are sorted by id as integers.
    pub(crate) id_rank: Vec<u32>,
    /// Per entity type, its attributes with their names resolved once.
    pub(crate) entity_fields: Vec<Fields>,
    /// The context's fields, names resolved once.
    pub(crate) context: Fields,
    /// Per action, for the principal and the resource: an entity type laid
    /// out like every type the action allows there, when they all are
    /// alike. Attributes given before their entity's type can then be read
    /// as they come (the type must turn out to be one the action allows).
    pub(crate) attribute_layout: Vec<[Option<u32>; 2]>,
}

/// Sets of more names than this look names up in a hash map; smaller ones
/// compare names in turn, which is faster for a handful.
const LINEAR_LOOKUP: usize = 8;

/// The fields of one container (entity type, record, the context), laid
/// out for encoding: an attribute name is resolved to its field with one
/// lookup, whatever the order the request gives them in.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) fields: Vec<Field>,
    /// Name to position in `fields`.
    names: Names,
}

/// One field of a container.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: Box<str>,
    pub(crate) ty: TypeLayout,
    pub(crate) offset: u32,
    pub(crate) present_offset: Option<u32>,
    /// For a record, its own fields.
    pub(crate) record: Option<Fields>,
}

impl Fields {
    fn new(layout: &[FieldLayout]) -> Fields {
        let fields: Vec<Field> = layout
            .iter()
            .map(|f| Field {
                name: f.name.as_str().into(),
                ty: f.ty.clone(),
                offset: f.offset,
                present_offset: f.present_offset,
                record: match &f.ty {
                    TypeLayout::Record { fields, .. } => Some(Fields::new(fields)),
                    _ => None,
                },
            })
            .collect();
        let names = Names::new(fields.iter().enumerate().map(|(i, f)| (&*f.name, i as u32)));
        Fields { fields, names }
    }

    /// The position of the field called `name`.
    #[inline]
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.get(name).map(|i| i as usize)
    }
}

impl Schema {
    /// Parses and checks a manifest.
    pub(crate) fn from_json(json: &[u8]) -> Result<Schema, LoadError> {
        let manifest: Manifest = serde_json::from_slice(json).map_err(|e| LoadError::InvalidManifest(e.to_string()))?;
        Schema::new(manifest)
    }

    /// Checks a manifest and indexes it.
    pub(crate) fn new(manifest: Manifest) -> Result<Schema, LoadError> {
        if manifest.abi_version != ABI_VERSION {
            return Err(LoadError::UnsupportedAbiVersion {
                module: i64::from(manifest.abi_version),
                supported: ABI_VERSION,
            });
        }
        check(&manifest).map_err(LoadError::InconsistentManifest)?;
        let schema = &manifest.schema;
        let entity_index = index_names(schema.entity_types.iter().map(|t| t.name.as_str()));
        let action_index = index_names(schema.actions.iter().map(|a| a.name.as_str()));
        let enum_index = schema.enums.iter().map(|e| index_names(e.values.iter().map(String::as_str))).collect();
        if i32::try_from(manifest.strings.len()).is_err() {
            return Err(LoadError::InconsistentManifest("too many strings".into()));
        }
        let strings = Names::new(manifest.strings.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32 + 1)));
        let mut obligations: Vec<Obligation> =
            manifest.rules.iter().flat_map(|r| r.obligations.iter().cloned()).collect();
        obligations.sort();
        obligations.dedup();
        let rule_obligations = manifest
            .rules
            .iter()
            .map(|r| r.obligations.iter().filter_map(|o| obligations.binary_search(o).ok()).map(|i| i as u32).collect())
            .collect();
        let mut ids: Vec<&str> = manifest.rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let id_rank =
            manifest.rules.iter().map(|r| ids.binary_search(&r.id.as_str()).map_or(0, |i| i as u32)).collect();
        let entity_fields = schema.entity_types.iter().map(|t| Fields::new(&t.fields)).collect();
        let context = Fields::new(&schema.context);
        let alike = |types: &[u32]| -> Option<u32> {
            let fields = |t: u32| schema.entity_types.get(t as usize).map(|e| &e.fields);
            let (&first, rest) = types.split_first()?;
            rest.iter().all(|&t| fields(t) == fields(first)).then_some(first)
        };
        let attribute_layout = schema.actions.iter().map(|a| [alike(&a.principals), alike(&a.resources)]).collect();
        Ok(Schema {
            attribute_layout,
            obligations,
            rule_obligations,
            id_rank,
            entity_fields,
            context,
            manifest,
            entity_index,
            action_index,
            enum_index,
            strings,
        })
    }
}

fn index_names<'a>(names: impl Iterator<Item = &'a str>) -> Names {
    Names::new(names.enumerate().map(|(i, n)| (n, i as u32)))
}

/// Names resolved to numbers, built once per module: a handful are compared
/// in turn by length and first eight bytes (no hashing, rarely a call to
/// compare bytes), more go through a hash map. Either way a name of a length
/// no entry has is rejected at once.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Few names: each with its first eight bytes, zero-padded, as a number.
    small: Vec<(u64, Box<str>, u32)>,
    /// Many names.
    map: Option<HashMap<Box<str>, u32>>,
    /// Bit `n` is set when a name is `n` bytes long; bit 63 for 63 and more.
    lengths: u64,
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// The first eight bytes, zero-padded, as a number.
#[inline]
fn prefix(bytes: &[u8]) -> u64 {
    if let Some(head) = bytes.first_chunk::<8>() {
        return u64::from_le_bytes(*head);
    }
    // Fewer than eight bytes: assembled one by one (no call to copy them).
    bytes.iter().rev().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

impl Names {
    /// Indexes names (distinct) and their numbers.
    pub(crate) fn new<'a>(names: impl Iterator<Item = (&'a str, u32)>) -> Names {
        let mut small: Vec<(u64, Box<str>, u32)> = Vec::new();
        let mut lengths = 0;
        for (name, value) in names {
            lengths |= length_bit(name.len());
            small.push((prefix(name.as_bytes()), name.into(), value));
        }
        if small.len() <= LINEAR_LOOKUP {
            return Names { small, map: None, lengths };
        }
        let map = small.into_iter().map(|(_, name, value)| (name, value)).collect();
        Names { small: Vec::new(), map: Some(map), lengths }
    }

    /// The number of `name`.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        if self.lengths & length_bit(name.len()) == 0 {
            return None;
        }
        if let Some(map) = &self.map {
            return map.get(name).copied();
        }
        let bytes = name.as_bytes();
        let head = prefix(bytes);
        self.small
            .iter()
            .find(|(h, n, _)| {
                *h == head && n.len() == bytes.len() && (bytes.len() <= 8 || n.as_bytes()[8..] == bytes[8..])
            })
            .map(|&(_, _, value)| value)
    }
}

fn distinct<'a>(names: impl Iterator<Item = &'a str>, what: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(format!("{what} `{name}` is declared twice"));
        }
    }
    Ok(())
}

/// A byte range `[start, end)` and what occupies it.
struct Region {
    start: u64,
    end: u64,
    what: String,
}

/// Fails when two non-empty regions overlap.
fn disjoint(mut regions: Vec<Region>, within: &str) -> Result<(), String> {
    regions.retain(|r| r.end > r.start);
    regions.sort_by_key(|r| (r.start, r.end));
    for pair in regions.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(format!("{} and {} overlap in {within}", pair[0].what, pair[1].what));
        }
    }
    Ok(())
}

struct Checker<'m> {
    manifest: &'m Manifest,
}

impl Checker<'_> {
    fn entity_types(&self) -> usize {
        self.manifest.schema.entity_types.len()
    }

    fn entity_type(&self, index: u32, what: &str) -> Result<(), String> {
        if (index as usize) < self.entity_types() {
            Ok(())
        } else {
            Err(format!("{what} refers to entity type {index}, but there are {}", self.entity_types()))
        }
    }

    /// Checks a type; returns nothing, its size is `TypeLayout::size`.
    fn ty(&self, ty: &TypeLayout, what: &str) -> Result<(), String> {
        match ty {
            TypeLayout::Int { min: Some(min), max: Some(max) } if min > max => {
                Err(format!("{what} has the empty integer range {min}..{max}"))
            }
            TypeLayout::Enum { id } => {
                let count = self.manifest.schema.enums.len();
                if (*id as usize) < count {
                    Ok(())
                } else {
                    Err(format!("{what} refers to enum {id}, but there are {count}"))
                }
            }
            TypeLayout::Entity { types } => {
                if types.is_empty() {
                    return Err(format!("{what} allows no entity type"));
                }
                types.iter().try_for_each(|t| self.entity_type(*t, what))
            }
            TypeLayout::Set { element } => match **element {
                TypeLayout::Int { .. }
                | TypeLayout::Duration
                | TypeLayout::Timestamp
                | TypeLayout::TimeOfDay
                | TypeLayout::Enum { .. }
                | TypeLayout::String
                | TypeLayout::Entity { .. } => self.ty(element, what),
                _ => Err(format!("{what} is a set of elements that ABI version 1 cannot order")),
            },
            TypeLayout::Record { fields, size } => {
                self.fields(fields, &[], Some(u64::from(*size)), what)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Checks fields laid out in one container: names distinct, types valid,
    /// values and presence flags inside `size` (when bounded) and disjoint
    /// from each other and from `reserved`. Returns the end of the last byte used.
    fn fields(
        &self,
        fields: &[FieldLayout],
        reserved: &[(u64, u64, &str)],
        size: Option<u64>,
        what: &str,
    ) -> Result<u64, String> {
        distinct(fields.iter().map(|f| f.name.as_str()), &format!("in {what}, the field"))?;
        let mut regions: Vec<Region> =
            reserved.iter().map(|&(start, end, name)| Region { start, end, what: name.to_owned() }).collect();
        let mut end = reserved.iter().map(|r| r.1).max().unwrap_or(0);
        for field in fields {
            let field_what = format!("{what}, field `{}`", field.name);
            self.ty(&field.ty, &field_what)?;
            let start = u64::from(field.offset);
            let value_end = start + u64::from(field.ty.size());
            regions.push(Region { start, end: value_end, what: format!("field `{}`", field.name) });
            end = end.max(value_end);
            if let Some(flag) = field.present_offset {
                let flag = u64::from(flag);
                regions.push(Region {
                    start: flag,
                    end: flag + 4,
                    what: format!("the presence flag of `{}`", field.name),
                });
                end = end.max(flag + 4);
            }
        }
        if let Some(size) = size.filter(|&size| end > size) {
            return Err(format!("{what} uses {end} bytes but its size is {size}"));
        }
        disjoint(regions, what)?;
        Ok(end)
    }
}

fn check(manifest: &Manifest) -> Result<(), String> {
    let checker = Checker { manifest };
    let schema = &manifest.schema;
    distinct(schema.entity_types.iter().map(|t| t.name.as_str()), "entity type")?;
    distinct(schema.actions.iter().map(|a| a.name.as_str()), "action")?;
    for e in &schema.enums {
        distinct(e.values.iter().map(String::as_str), &format!("in enum `{}`, the value", e.name))?;
    }
    distinct(manifest.strings.iter().map(String::as_str), "the interned string")?;
    distinct(manifest.obligations.iter().map(|o| o.name.as_str()), "obligation")?;

    // Each type's fields, relative to the entity block.
    let header = [(0, ENTITY_HEADER, "the entity header")];
    let mut type_ends = Vec::with_capacity(schema.entity_types.len());
    for t in &schema.entity_types {
        for a in &t.ancestor_types {
            checker.entity_type(*a, &format!("the ancestor types of `{}`", t.name))?;
        }
        type_ends.push(checker.fields(&t.fields, &header, None, &format!("entity type `{}`", t.name))?);
    }
    // A block holds the entity types that can appear there.
    let mut principal_end = ENTITY_HEADER;
    let mut resource_end = ENTITY_HEADER;
    for a in &schema.actions {
        for (types, end, slot) in
            [(&a.principals, &mut principal_end, "principal"), (&a.resources, &mut resource_end, "resource")]
        {
            if types.is_empty() {
                return Err(format!("action `{}` allows no {slot} type", a.name));
            }
            for t in types {
                checker.entity_type(*t, &format!("the {slot} types of action `{}`", a.name))?;
                *end = (*end).max(type_ends[*t as usize]);
            }
        }
    }
    let context_end = checker.fields(&schema.context, &[], None, "the context")?;

    let fixed = u64::from(schema.fixed_size);
    if fixed > i32::MAX as u64 {
        return Err(format!("the fixed part of {fixed} bytes is too large"));
    }
    let parts = [
        (0, 4, "the action index"),
        (u64::from(schema.principal_offset), principal_end, "the principal's block"),
        (u64::from(schema.resource_offset), resource_end, "the resource's block"),
        (u64::from(schema.context_offset), context_end, "the context"),
    ];
    let mut regions = Vec::new();
    for (start, len, what) in parts {
        if start + len > fixed {
            return Err(format!("{what} ends at byte {}, outside the fixed part of {fixed} bytes", start + len));
        }
        regions.push(Region { start, end: start + len, what: what.to_owned() });
    }
    disjoint(regions, "the fixed part")?;

    for rule in &manifest.rules {
        for o in &rule.obligations {
            let Some(declared) = manifest.obligations.iter().find(|d| d.name == o.name) else {
                return Err(format!("rule `{}` has the undeclared obligation `{}`", rule.id, o.name));
            };
            let params: HashSet<&str> = declared.params.iter().map(String::as_str).collect();
            let args: HashSet<&str> = o.args.keys().map(String::as_str).collect();
            if params != args {
                return Err(format!(
                    "rule `{}` gives obligation `{}` the arguments {:?}, but it declares the parameters {:?}",
                    rule.id,
                    o.name,
                    o.args.keys().collect::<Vec<_>>(),
                    declared.params
                ));
            }
        }
    }
    Ok(())
}
