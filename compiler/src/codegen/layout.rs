//! Where each part of a request lives in the encoded buffer: the layout the
//! manifest publishes and the generated code reads. `spec/abi.md` describes
//! the encoding; this computes the offsets.

use std::collections::HashMap;

use ward_types::manifest::{ActionInfo, EntityTypeInfo, EnumInfo, FieldLayout, SchemaLayout, TypeLayout};

use crate::program::{EntityTypeId, Record, Schema, Type};

/// Size of an entity block's header: type, id slot, ancestors slot.
pub const ENTITY_HEADER: u32 = 24;
/// Offset of the id's string slot in an entity block or entity slot.
pub const ENTITY_ID: u32 = 4;
/// Offset of the ancestors' set slot in an entity block.
pub const ENTITY_ANCESTORS: u32 = 16;

fn align(n: u32, to: u32) -> u32 {
    n.div_ceil(to) * to
}

/// The layout of a type.
pub fn type_layout(ty: &Type) -> TypeLayout {
    match ty {
        Type::Bool => TypeLayout::Bool,
        Type::Int { min, max } => TypeLayout::Int { min: *min, max: *max },
        Type::String => TypeLayout::String,
        Type::Duration => TypeLayout::Duration,
        Type::Timestamp => TypeLayout::Timestamp,
        Type::TimeOfDay => TypeLayout::TimeOfDay,
        Type::Ip => TypeLayout::Ip,
        Type::Cidr => TypeLayout::Cidr,
        Type::Enum(id) => TypeLayout::Enum { id: id.0 },
        Type::Entity(ids) => TypeLayout::Entity { types: ids.iter().map(|t| t.0).collect() },
        Type::Set(element) => TypeLayout::Set { element: Box::new(type_layout(element)) },
        Type::Record(record) => {
            let (fields, size) = record_fields(record);
            TypeLayout::Record { fields, size }
        }
    }
}

/// Lays out one field at the end of a block, advancing `end`.
fn place(name: &str, ty: &Type, optional: bool, end: &mut u32) -> FieldLayout {
    let layout = type_layout(ty);
    let present_offset = optional.then(|| {
        let at = align(*end, 4);
        *end = at + 4;
        at
    });
    let offset = align(*end, layout.align());
    *end = offset + layout.size();
    FieldLayout { name: name.to_owned(), ty: layout, offset, present_offset }
}

/// The fields of a record, in declaration order, and the record's size.
pub fn record_fields(record: &Record) -> (Vec<FieldLayout>, u32) {
    let mut end = 0;
    let fields = record.fields.iter().map(|f| place(&f.name, &f.ty, f.optional, &mut end)).collect();
    (fields, align(end, 8))
}

/// The request layout of a program's schema.
#[derive(Debug, Clone)]
pub struct Layout {
    /// What the manifest publishes.
    pub schema: SchemaLayout,
    /// Per entity type, its fields by name.
    entity_fields: HashMap<(EntityTypeId, String), FieldLayout>,
}

impl Layout {
    /// Computes the layout.
    pub fn new(schema: &Schema) -> Layout {
        // All entity types share one block layout: a field gets its own slot
        // per (name, type, optional) so that types with the same attribute
        // agree on where it is.
        let mut slots: HashMap<(String, String, bool), FieldLayout> = HashMap::new();
        let mut end = ENTITY_HEADER;
        let mut entity_fields = HashMap::new();
        let mut entity_types = Vec::new();
        for (index, entity) in schema.entities.iter().enumerate() {
            let id = EntityTypeId(index as u32);
            let mut fields = Vec::new();
            for field in &entity.attrs.fields {
                let key = (field.name.clone(), format!("{:?}", type_layout(&field.ty)), field.optional);
                let layout =
                    slots.entry(key).or_insert_with(|| place(&field.name, &field.ty, field.optional, &mut end)).clone();
                entity_fields.insert((id, field.name.clone()), layout.clone());
                fields.push(layout);
            }
            let mut ancestor_types: Vec<u32> =
                (0..schema.entities.len() as u32).filter(|a| schema.can_be_in(id, EntityTypeId(*a))).collect();
            ancestor_types.sort_unstable();
            entity_types.push(EntityTypeInfo { name: entity.name.clone(), ancestor_types, fields });
        }
        let block = align(end, 8);
        let principal_offset = 8;
        let resource_offset = principal_offset + block;
        let context_offset = resource_offset + block;
        let (context, context_size) = record_fields(&schema.context);
        let fixed_size = context_offset + context_size;
        let enums = schema.enums.iter().map(|e| EnumInfo { name: e.name.clone(), values: e.values.clone() }).collect();
        let actions = schema
            .actions
            .iter()
            .map(|a| ActionInfo {
                name: a.name.clone(),
                principals: a.principals.iter().map(|t| t.0).collect(),
                resources: a.resources.iter().map(|t| t.0).collect(),
            })
            .collect();
        Layout {
            schema: SchemaLayout {
                entity_types,
                enums,
                actions,
                principal_offset,
                resource_offset,
                context_offset,
                context,
                fixed_size,
            },
            entity_fields,
        }
    }

    /// Where entities of type `ty` keep the attribute `name`.
    pub fn entity_field(&self, ty: EntityTypeId, name: &str) -> Option<&FieldLayout> {
        self.entity_fields.get(&(ty, name.to_owned()))
    }
}

/// Where a record keeps the attribute `name`.
pub fn record_field(record: &Record, name: &str) -> Option<FieldLayout> {
    record_fields(record).0.into_iter().find(|f| f.name == name)
}
