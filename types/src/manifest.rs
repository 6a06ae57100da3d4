//! The manifest a decision module carries in its `ward.manifest` custom
//! section: everything a host needs to validate and encode a request, call
//! the module and turn its answer into a [`crate::Decision`]. `spec/abi.md`
//! is the normative description; this is its Rust form.

use serde::{Deserialize, Serialize};

/// The ABI version this crate describes. A host refuses a module whose
/// manifest or `ward_abi_version` export says otherwise.
pub const ABI_VERSION: u32 = 2;

/// The name of the custom section that holds the manifest (JSON, UTF-8).
pub const MANIFEST_SECTION: &str = "ward.manifest";

/// The module's description of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// ABI version; see [`ABI_VERSION`].
    pub abi_version: u32,
    /// The packages compiled into the module, sorted.
    pub packages: Vec<String>,
    /// SHA-256 of the sources, hexadecimal (see `spec/abi.md` for what is hashed).
    pub source_hash: String,
    /// The request schema, with the memory layout of each part.
    pub schema: SchemaLayout,
    /// Interned strings: a request string equal to `strings[i]` is encoded
    /// with id `i + 1`; any other string with id 0.
    pub strings: Vec<String>,
    /// Declared obligations.
    pub obligations: Vec<ObligationInfo>,
    /// Rules, in the order the module's answers index them.
    pub rules: Vec<RuleInfo>,
}

/// The request schema and its layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaLayout {
    /// Entity types; their index is the type's number in encoded requests.
    pub entity_types: Vec<EntityTypeInfo>,
    /// Enum and level types; values are encoded by their index.
    pub enums: Vec<EnumInfo>,
    /// Actions; their index is the action's number in encoded requests.
    pub actions: Vec<ActionInfo>,
    /// Offset of the principal's entity block in the request.
    pub principal_offset: u32,
    /// Offset of the resource's entity block in the request.
    pub resource_offset: u32,
    /// Offset of the context record in the request.
    pub context_offset: u32,
    /// The context's fields, offsets relative to `context_offset`.
    pub context: Vec<FieldLayout>,
    /// Size of the fixed part of a request; variable data (string bytes,
    /// set elements) follows it.
    pub fixed_size: u32,
}

/// An entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityTypeInfo {
    /// The name requests use.
    pub name: String,
    /// Every entity type an entity of this type may have as an ancestor
    /// (the transitive closure of the declared hierarchy), sorted.
    pub ancestor_types: Vec<u32>,
    /// Attributes, offsets relative to the entity block.
    pub fields: Vec<FieldLayout>,
}

/// An enum or level type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumInfo {
    /// Its name.
    pub name: String,
    /// Values, by index.
    pub values: Vec<String>,
}

/// An action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionInfo {
    /// The name requests use.
    pub name: String,
    /// Entity types (indices) the principal may have.
    pub principals: Vec<u32>,
    /// Entity types (indices) the resource may have.
    pub resources: Vec<u32>,
}

/// An attribute and where it is encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldLayout {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeLayout,
    /// Offset of the value.
    pub offset: u32,
    /// For an optional attribute: offset of its presence flag (`i32`, 1 when
    /// present). Absent for required attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present_offset: Option<u32>,
}

/// A type and its encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeLayout {
    /// `i32`, 0 or 1.
    Bool,
    /// `i64`, within the bounds when given.
    Int {
        /// Inclusive lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Inclusive upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// A string slot: id `i32`, offset `i32`, length `i32`.
    String,
    /// `i64` milliseconds.
    Duration,
    /// `i64` milliseconds since the Unix epoch.
    Timestamp,
    /// `i64` milliseconds since midnight.
    TimeOfDay,
    /// An address slot of 24 bytes.
    Ip,
    /// A range slot of 24 bytes.
    Cidr,
    /// `i32` index into the enum's values.
    Enum {
        /// Index into [`SchemaLayout::enums`].
        #[serde(rename = "enum")]
        id: u32,
    },
    /// An entity slot: type `i32`, then a string slot for the id.
    Entity {
        /// Allowed entity types.
        types: Vec<u32>,
    },
    /// A set slot: offset `i32`, count `i32`; elements sorted, distinct.
    Set {
        /// The element type.
        element: Box<TypeLayout>,
    },
    /// Fields inline, offsets relative to the record's start.
    Record {
        /// The fields.
        fields: Vec<FieldLayout>,
        /// Bytes the record occupies.
        size: u32,
    },
}

impl TypeLayout {
    /// Bytes a value of this type occupies in its slot (and as a set element).
    pub fn size(&self) -> u32 {
        match self {
            TypeLayout::Bool | TypeLayout::Enum { .. } => 4,
            TypeLayout::Int { .. } | TypeLayout::Duration | TypeLayout::Timestamp | TypeLayout::TimeOfDay => 8,
            TypeLayout::String => 12,
            TypeLayout::Entity { .. } => 16,
            TypeLayout::Set { .. } => 8,
            TypeLayout::Ip | TypeLayout::Cidr => 24,
            TypeLayout::Record { size, .. } => *size,
        }
    }

    /// Alignment of the slot.
    pub fn align(&self) -> u32 {
        match self {
            TypeLayout::Int { .. }
            | TypeLayout::Duration
            | TypeLayout::Timestamp
            | TypeLayout::TimeOfDay
            | TypeLayout::Ip
            | TypeLayout::Cidr
            | TypeLayout::Record { .. } => 8,
            _ => 4,
        }
    }
}

/// A declared obligation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObligationInfo {
    /// Its name.
    pub name: String,
    /// Parameter names, in order.
    pub params: Vec<String>,
}

/// A rule as decisions report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The rule's id.
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: Effect,
    /// The `@reason`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Obligations with their arguments, already rendered.
    pub obligations: Vec<crate::Obligation>,
}

/// A rule's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Allows unless forbidden.
    Permit,
    /// Denies.
    Forbid,
}

/// Status codes returned by `ward_evaluate`.
pub mod status {
    /// At least one permit applied, no forbid, no error: indices are the permits.
    pub const ALLOW: i32 = 0;
    /// At least one forbid applied, no error: indices are the forbids.
    pub const DENY_FORBID: i32 = 1;
    /// Nothing applied: no indices.
    pub const DENY_DEFAULT: i32 = 2;
    /// Evaluation of a rule failed (overflow): indices are the failing rules.
    pub const ERROR: i32 = 3;
    /// The request could not be read (too large for the module's memory).
    pub const BAD_INPUT: i32 = 4;
}
