//! The manifest, checked for consistency and indexed for request encoding.

use std::collections::HashSet;

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
}

/// The fields of one container (entity type, record, the context), laid
/// out for encoding: an attribute name is resolved to its field with one
/// lookup, whatever the order the request gives them in.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) fields: Vec<Field>,
    /// Name to position in `fields`.
    names: Names,
    /// The flags of every field, records' fields included (see
    /// [`Field::flags`]).
    pub(crate) flags: u32,
    /// The flag of every required field, records' fields included, with
    /// the flag of the record it is in (required only when that record is
    /// given field by field).
    pub(crate) required: Vec<(u32, Option<u32>)>,
    /// Bit `i` set when field `i` (of this container, not of its records)
    /// is required; meaningful for containers of up to 64 fields.
    pub(crate) required_mask: u64,
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
    /// How many fields this one is, counting a record's fields too: the
    /// fields of a container numbered depth first, records before their
    /// own fields, are what a request builder tracks as given or not.
    pub(crate) flags: u32,
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
                flags: 0,
            })
            .map(|mut f: Field| {
                f.flags = 1 + f.record.as_ref().map_or(0, |r| r.flags);
                f
            })
            .collect();
        let names = Names::new(fields.iter().enumerate().map(|(i, f)| (&*f.name, i as u32)));
        let flags = fields.iter().map(|f| f.flags).sum();
        let mut required = Vec::new();
        required_flags(&fields, 0, None, &mut required);
        let required_mask = fields
            .iter()
            .enumerate()
            .filter(|(i, f)| *i < 64 && f.present_offset.is_none())
            .fold(0, |mask, (i, _)| mask | 1 << i);
        Fields { fields, names, flags, required, required_mask }
    }

    /// The position of the field called `name`.
    #[inline]
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.get(name).map(|i| i as usize)
    }
}

/// Lists the required fields of `fields` (whose flags start at `first`),
/// depth first, with the flag of the record they are in.
fn required_flags(fields: &[Field], first: u32, record: Option<u32>, out: &mut Vec<(u32, Option<u32>)>) {
    let mut flag = first;
    for field in fields {
        if field.present_offset.is_none() {
            out.push((flag, record));
        }
        if let Some(inner) = &field.record {
            required_flags(&inner.fields, flag + 1, Some(flag), out);
        }
        flag += field.flags;
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
        Ok(Schema {
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

impl Schema {
    /// The index of value `name` of enum `id`.
    #[inline]
    pub(crate) fn enum_value(&self, id: u32, name: &str) -> Option<u32> {
        self.enum_index.get(id as usize)?.get(name)
    }
}

fn index_names<'a>(names: impl Iterator<Item = &'a str>) -> Names {
    Names::new(names.enumerate().map(|(i, n)| (n, i as u32)))
}

/// Names resolved to numbers, built once per module: an open-addressing
/// table, at most half full, keyed by a name's length and two words that,
/// with the length, spell a name of up to 16 bytes exactly. A lookup is a
/// hash of those words and, almost always, one slot compared in registers;
/// only names longer than 16 bytes compare their middle bytes too.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Empty slots have `len == EMPTY`.
    slots: Box<[Slot]>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    /// The names, for comparing the middle of long ones.
    names: Vec<Box<str>>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    len: u32,
    value: u32,
    words: (u64, u64),
    /// Index into `Names::names`.
    name: u32,
}

const EMPTY: u32 = u32::MAX;

/// Two words that, with its length, identify a name of up to 16 bytes; for
/// longer names, its first and last eight bytes.
#[inline]
fn words(bytes: &[u8]) -> (u64, u64) {
    let len = bytes.len();
    let word = |at: usize| bytes.get(at..at + 8).map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    let half =
        |at: usize| bytes.get(at..at + 4).map_or(0, |w| u64::from(u32::from_le_bytes(w.try_into().unwrap_or([0; 4]))));
    match len {
        0 => (0, 0),
        1..=3 => {
            let b = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(0));
            (b(0) | b(len / 2) << 8 | b(len - 1) << 16, 0)
        }
        4..=7 => (half(0) | half(len - 4) << 32, 0),
        _ => (word(0), word(len - 8)),
    }
}

#[inline]
fn hash(len: usize, (a, b): (u64, u64)) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    ((a ^ (len as u64)).wrapping_mul(K).rotate_left(29) ^ b).wrapping_mul(K)
}

impl Names {
    /// Indexes names (distinct) and their numbers.
    pub(crate) fn new<'a>(names: impl Iterator<Item = (&'a str, u32)>) -> Names {
        let entries: Vec<(&str, u32)> = names.collect();
        let size = (entries.len() * 2).next_power_of_two().max(2);
        let shift = 64 - size.trailing_zeros();
        let mut slots = vec![Slot { len: EMPTY, value: 0, words: (0, 0), name: 0 }; size].into_boxed_slice();
        let mask = size - 1;
        let mut stored = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            let bytes = name.as_bytes();
            let w = words(bytes);
            let mut at = (hash(bytes.len(), w) >> shift) as usize;
            while slots[at].len != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = Slot { len: bytes.len() as u32, value, words: w, name: stored.len() as u32 };
            stored.push(Box::<str>::from(name));
        }
        Names { slots, shift, names: stored }
    }

    /// The number of `name`.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        let bytes = name.as_bytes();
        let len = bytes.len();
        let w = words(bytes);
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = (hash(len, w) >> self.shift) as usize & mask;
        loop {
            let slot = self.slots.get(at)?;
            if slot.len == EMPTY {
                return None;
            }
            if slot.len as usize == len && slot.words == w {
                if len <= 16 {
                    return Some(slot.value);
                }
                let stored = self.names.get(slot.name as usize)?.as_bytes();
                if stored.get(8..len - 8) == bytes.get(8..len - 8) {
                    return Some(slot.value);
                }
            }
            at = (at + 1) & mask;
        }
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
                _ => Err(format!("{what} is a set of elements that the ABI cannot order")),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    /// Names that share lengths, prefixes, suffixes and middles.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof!["[ab]{0,20}", "[a-z_]{0,12}", "model-[0-9]{1,3}-prod", "aaaaaaaa[xy]{0,3}bbbbbbbb", "é[ab]{0,4}",]
    }

    proptest! {
        #[test]
        fn every_name_is_found_and_no_other(names in prop::collection::btree_set(name(), 0..40), probes in prop::collection::vec(name(), 0..40)) {
            let table = Names::new(names.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32 * 3)));
            for (i, n) in names.iter().enumerate() {
                prop_assert_eq!(table.get(n), Some(i as u32 * 3), "{}", n);
            }
            for probe in &probes {
                let expected = names.iter().position(|n| n == probe).map(|i| i as u32 * 3);
                prop_assert_eq!(table.get(probe), expected, "{}", probe);
            }
        }
    }

    #[test]
    fn an_empty_table_finds_nothing() {
        assert_eq!(Names::default().get(""), None);
        assert_eq!(Names::new(std::iter::empty()).get("a"), None);
        let one = Names::new([("", 7)].into_iter());
        assert_eq!((one.get(""), one.get("a")), (Some(7), None));
    }
}
