//! Run-time values of the reference interpreter, their equality and order,
//! and the rendering of constants as decision JSON (obligation arguments).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::rc::Rc;

use serde_json::json;
use ward_types::values::{self, Cidr};

use crate::program::{Const, EntityLit, EntityTypeId, EnumId, Schema};

/// The identity of an entity: its type and its id. Two entities are equal
/// exactly when their keys are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    /// The entity type.
    pub ty: EntityTypeId,
    /// The id.
    pub id: String,
}

impl From<&EntityLit> for EntityKey {
    fn from(lit: &EntityLit) -> EntityKey {
        EntityKey { ty: lit.ty, id: lit.id.clone() }
    }
}

/// What the request says about the principal or the resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityRecord {
    /// Validated attribute values; absent optional attributes are missing.
    pub attrs: BTreeMap<String, Value>,
    /// Every (transitive) ancestor.
    pub ancestors: BTreeSet<EntityKey>,
}

/// An entity value. Only the request's principal and resource carry
/// attributes and ancestors (`data`); entity literals and entity-typed
/// attribute values are bare references. Equality and order look at the key
/// only.
#[derive(Debug, Clone)]
pub struct EntityValue {
    /// Type and id.
    pub key: EntityKey,
    /// Attributes and ancestors, for the principal and the resource.
    pub data: Option<Rc<EntityRecord>>,
}

impl PartialEq for EntityValue {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for EntityValue {}
impl PartialOrd for EntityValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for EntityValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A run-time value.
///
/// The derived order is the iteration order of sets, and so the order in
/// which quantifiers visit elements: numbers (Int, Duration, Timestamp,
/// TimeOfDay) ascending, strings by code point (byte-wise UTF-8), enum and
/// level values in declaration order, entities by type (declaration order)
/// then id, addresses and ranges as [`IpAddr`] and [`Cidr`] order them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    /// `Bool`
    Bool(bool),
    /// `Int`
    Int(i64),
    /// `String`
    Str(String),
    /// `Duration`, milliseconds.
    Duration(i64),
    /// `Timestamp`, milliseconds since the Unix epoch.
    Timestamp(i64),
    /// `TimeOfDay`, milliseconds since midnight.
    TimeOfDay(i64),
    /// `Ip`
    Ip(IpAddr),
    /// `Cidr`
    Cidr(Cidr),
    /// An enum or level value: its type and index.
    Enum(EnumId, u32),
    /// An entity.
    Entity(EntityValue),
    /// A set: distinct elements, ordered.
    Set(BTreeSet<Value>),
    /// A record: the present fields.
    Record(BTreeMap<String, Value>),
}

impl Value {
    /// A bare entity reference.
    pub fn entity(ty: EntityTypeId, id: impl Into<String>) -> Value {
        Value::Entity(EntityValue { key: EntityKey { ty, id: id.into() }, data: None })
    }

    /// The value of a constant.
    pub fn from_const(c: &Const) -> Value {
        match c {
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(n) => Value::Int(*n),
            Const::Str(s) => Value::Str(s.clone()),
            Const::Duration(d) => Value::Duration(*d),
            Const::Timestamp(t) => Value::Timestamp(*t),
            Const::TimeOfDay(t) => Value::TimeOfDay(*t),
            Const::Ip(ip) => Value::Ip(*ip),
            Const::Cidr(c) => Value::Cidr(*c),
            Const::Enum(ty, index) => Value::Enum(*ty, *index),
            Const::Entity(lit) => Value::Entity(EntityValue { key: lit.into(), data: None }),
            Const::Set(elements) => Value::Set(elements.iter().map(Value::from_const).collect()),
        }
    }

    /// A short description of the value's kind, for internal error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Str(_) => "String",
            Value::Duration(_) => "Duration",
            Value::Timestamp(_) => "Timestamp",
            Value::TimeOfDay(_) => "TimeOfDay",
            Value::Ip(_) => "Ip",
            Value::Cidr(_) => "Cidr",
            Value::Enum(..) => "enum value",
            Value::Entity(_) => "entity",
            Value::Set(_) => "Set",
            Value::Record(_) => "record",
        }
    }
}

/// Renders a constant as decision JSON: Int as a number, String and enum or
/// level values (by name) as strings, Bool, Duration / Timestamp / TimeOfDay
/// in their text formats, Ip and Cidr as text, a set as an array of its
/// rendered elements (in the constant's order), an entity as
/// `{"type", "id"}`. `None` when the constant refers to a type the schema
/// does not have (not possible in a checked program).
pub fn render_const(schema: &Schema, c: &Const) -> Option<serde_json::Value> {
    Some(match c {
        Const::Bool(b) => json!(b),
        Const::Int(n) => json!(n),
        Const::Str(s) => json!(s),
        Const::Duration(d) => json!(values::format_duration(*d)),
        Const::Timestamp(t) => json!(values::format_timestamp(*t)),
        Const::TimeOfDay(t) => json!(values::format_time_of_day(*t)),
        Const::Ip(ip) => json!(ip.to_string()),
        Const::Cidr(c) => json!(c.to_string()),
        Const::Enum(ty, index) => {
            let name = schema.enums.get(ty.0 as usize)?.values.get(*index as usize)?;
            json!(name)
        }
        Const::Entity(lit) => {
            let ty = &schema.entities.get(lit.ty.0 as usize)?.name;
            json!({ "type": ty, "id": lit.id })
        }
        Const::Set(elements) => {
            serde_json::Value::Array(elements.iter().map(|e| render_const(schema, e)).collect::<Option<_>>()?)
        }
    })
}

pub use crate::program::show_type;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::program::{EntityType, EnumType, Type};
    use crate::span::Span;

    fn schema() -> Schema {
        Schema {
            entities: vec![EntityType {
                name: "Group".into(),
                package: "p".into(),
                parents: vec![],
                attrs: Default::default(),
                docs: None,
                span: Span::default(),
            }],
            enums: vec![EnumType {
                name: "Level".into(),
                package: "p".into(),
                values: vec!["low".into(), "high".into()],
                ordered: true,
                docs: None,
                span: Span::default(),
            }],
            ..Schema::default()
        }
    }

    #[test]
    fn entities_compare_by_key_only() {
        let bare = Value::entity(EntityTypeId(0), "a");
        let with_data = Value::Entity(EntityValue {
            key: EntityKey { ty: EntityTypeId(0), id: "a".into() },
            data: Some(Rc::new(EntityRecord {
                attrs: BTreeMap::from([("x".into(), Value::Int(1))]),
                ancestors: BTreeSet::new(),
            })),
        });
        assert_eq!(bare, with_data);
        assert_ne!(bare, Value::entity(EntityTypeId(1), "a"));
        assert_ne!(bare, Value::entity(EntityTypeId(0), "b"));
        let set: BTreeSet<Value> = [bare, with_data].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn sets_compare_as_sets() {
        let a = Value::from_const(&Const::Set(vec![Const::Int(2), Const::Int(1)]));
        let b: BTreeSet<Value> = [Value::Int(1), Value::Int(2), Value::Int(1)].into_iter().collect();
        assert_eq!(a, Value::Set(b));
        assert_ne!(a, Value::from_const(&Const::Set(vec![Const::Int(1)])));
    }

    #[test]
    fn renders_every_kind_of_constant() {
        let s = schema();
        let cases: Vec<(Const, serde_json::Value)> = vec![
            (Const::Bool(true), json!(true)),
            (Const::Int(-7), json!(-7)),
            (Const::Str("email".into()), json!("email")),
            (Const::Duration(900_000), json!("15m")),
            (Const::Duration(0), json!("0s")),
            (Const::Timestamp(1_769_851_800_250), json!("2026-01-31T09:30:00.250Z")),
            (Const::TimeOfDay(34_200_000), json!("09:30")),
            (Const::Ip("10.0.0.1".parse().expect("ip")), json!("10.0.0.1")),
            (Const::Cidr(values::parse_cidr("10.1.0.0/8").expect("cidr")), json!("10.0.0.0/8")),
            (Const::Enum(EnumId(0), 1), json!("high")),
            (Const::Entity(EntityLit { ty: EntityTypeId(0), id: "ml".into() }), json!({"type": "Group", "id": "ml"})),
            (Const::Set(vec![Const::Duration(1000), Const::Duration(60_000)]), json!(["1s", "1m"])),
        ];
        for (c, expected) in cases {
            assert_eq!(render_const(&s, &c), Some(expected), "{c:?}");
        }
        assert_eq!(render_const(&s, &Const::Enum(EnumId(0), 2)), None);
        assert_eq!(render_const(&s, &Const::Enum(EnumId(3), 0)), None);
        assert_eq!(
            render_const(&s, &Const::Set(vec![Const::Entity(EntityLit { ty: EntityTypeId(9), id: "x".into() })])),
            None
        );
    }

    #[test]
    fn shows_types() {
        let s = schema();
        assert_eq!(show_type(&s, &Type::Int { min: Some(0), max: None }), "Int[0..]");
        assert_eq!(show_type(&s, &Type::Int { min: Some(-1), max: Some(5) }), "Int[-1..5]");
        assert_eq!(show_type(&s, &Type::Set(Box::new(Type::Enum(EnumId(0))))), "Set<Level>");
        assert_eq!(show_type(&s, &Type::Entity(vec![EntityTypeId(0)])), "Group");
    }
}
