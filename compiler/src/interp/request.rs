//! Request validation: the request's JSON against the program's schema,
//! converted into typed values. Everything the schema declares for the
//! principal's type, the resource's type and the context is validated,
//! whether or not a rule reads it; every problem is reported (sorted), and
//! any problem means the request is not decided (fail closed).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde_json::{Map, Number, Value as Json};
use ward_types::values;
use ward_types::{DecisionError, EntityData, ErrorKind, Request};

use super::value::{EntityKey, EntityRecord, EntityValue, Value, show_type};
use crate::program::{ActionId, EntityTypeId, Program, Record, Schema, Type};

/// A request that conforms to the schema, as typed values.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    /// The principal, with its attributes and ancestors.
    pub principal: Value,
    /// The action.
    pub action: ActionId,
    /// The resource, with its attributes and ancestors.
    pub resource: Value,
    /// The context, a record.
    pub context: Value,
}

/// Validates a request against the program's schema. The errors are sorted
/// and without duplicates; there is at least one when the result is `Err`.
pub fn validate(program: &Program, request: &Request) -> Result<ValidRequest, Vec<DecisionError>> {
    let schema = &program.schema;
    let mut v = Validator { schema, errors: Vec::new() };
    let principal = v.entity("principal", &request.principal);
    let resource = v.entity("resource", &request.resource);
    let action = match schema.action_by_name(&request.action) {
        Some(id) => Some(id),
        None => {
            v.error(ErrorKind::UnknownAction, "action", format!("unknown action `{}`", request.action));
            None
        }
    };
    if let Some(action) = action {
        let decl = schema.action(action);
        for (role, entity, allowed) in
            [("principal", &principal, &decl.principals), ("resource", &resource, &decl.resources)]
        {
            if let Some((ty, _)) = entity.as_ref().filter(|(ty, _)| !allowed.contains(ty)) {
                let type_name = &schema.entity(*ty).name;
                v.error(
                    ErrorKind::ActionNotApplicable,
                    &format!("{role}.type"),
                    format!("action `{}` does not apply to {role} type `{type_name}`", decl.name),
                );
            }
        }
    }
    let context = v.record(&schema.context, &request.context, "context");
    let mut errors = v.errors;
    match (principal, action, resource) {
        (Some((_, principal)), Some(action), Some((_, resource))) if errors.is_empty() => {
            Ok(ValidRequest { principal, action, resource, context: Value::Record(context) })
        }
        _ => {
            if errors.is_empty() {
                // Not reachable: every failed conversion reports an error.
                errors.push(DecisionError {
                    kind: ErrorKind::MalformedRequest,
                    path: None,
                    rule: None,
                    message: "internal error: the request could not be converted".into(),
                });
            }
            errors.sort();
            errors.dedup();
            Err(errors)
        }
    }
}

struct Validator<'a> {
    schema: &'a Schema,
    errors: Vec<DecisionError>,
}

/// How a JSON value is described in messages.
fn describe(json: &Json) -> String {
    match json {
        Json::Null => "`null`".into(),
        Json::Bool(b) => format!("the boolean `{b}`"),
        Json::Number(n) => format!("the number `{n}`"),
        Json::String(s) => format!("the string {}", Json::String(s.clone())),
        Json::Array(_) => "an array".into(),
        Json::Object(_) => "an object".into(),
    }
}

/// The smallest `f64` above every `i64`: 2^63.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl Validator<'_> {
    fn error(&mut self, kind: ErrorKind, path: &str, message: String) {
        self.errors.push(DecisionError { kind, path: Some(path.to_owned()), rule: None, message });
    }

    /// The principal or the resource: its type, ancestors and attributes.
    fn entity(&mut self, role: &str, data: &EntityData) -> Option<(EntityTypeId, Value)> {
        let ty = self.schema.entity_by_name(&data.ty);
        if ty.is_none() {
            self.error(
                ErrorKind::UnknownEntityType,
                &format!("{role}.type"),
                format!("unknown entity type `{}`", data.ty),
            );
        }
        let mut ancestors = BTreeSet::new();
        for (i, ancestor) in data.ancestors.iter().enumerate() {
            let path = format!("{role}.ancestors[{i}]");
            let Some(ancestor_ty) = self.schema.entity_by_name(&ancestor.ty) else {
                self.error(ErrorKind::UnknownEntityType, &path, format!("unknown entity type `{}`", ancestor.ty));
                continue;
            };
            if let Some(ty) = ty.filter(|ty| !self.schema.can_be_in(*ty, ancestor_ty)) {
                let name = &self.schema.entity(ty).name;
                let message = format!("an entity of type `{name}` cannot be in an entity of type `{}`", ancestor.ty);
                self.error(ErrorKind::InvalidAncestor, &path, message);
            }
            ancestors.insert(EntityKey { ty: ancestor_ty, id: ancestor.id.clone() });
        }
        let ty = ty?;
        let attrs = self.record(&self.schema.entity(ty).attrs, &data.attributes, role);
        let record = EntityRecord { attrs, ancestors };
        let key = EntityKey { ty, id: data.id.clone() };
        Some((ty, Value::Entity(EntityValue { key, data: Some(Rc::new(record)) })))
    }

    /// The declared fields of a record; undeclared ones are ignored.
    fn record(&mut self, record: &Record, map: &Map<String, Json>, path: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for field in &record.fields {
            let field_path = format!("{path}.{}", field.name);
            match map.get(&field.name) {
                None if field.optional => {}
                None => self.error(
                    ErrorKind::MissingAttribute,
                    &field_path,
                    format!("required attribute `{}` is missing", field.name),
                ),
                Some(Json::Null) => {
                    let message = if field.optional {
                        format!("attribute `{}` is `null`; leave an absent optional attribute out", field.name)
                    } else {
                        let shown = show_type(self.schema, &field.ty);
                        format!("attribute `{}` is `null`, expected a value of type `{shown}`", field.name)
                    };
                    self.error(ErrorKind::NullValue, &field_path, message);
                }
                Some(json) => {
                    if let Some(value) = self.value(&field.ty, json, &field_path) {
                        out.insert(field.name.clone(), value);
                    }
                }
            }
        }
        out
    }

    /// Converts one JSON value; `None` after reporting at least one error.
    fn value(&mut self, ty: &Type, json: &Json, path: &str) -> Option<Value> {
        let before = self.errors.len();
        let value = self.convert(ty, json, path);
        if value.is_none() && self.errors.len() == before {
            // Not reachable; never let a value vanish without an error.
            let message = "internal error: the value could not be converted".to_owned();
            self.error(ErrorKind::InvalidValue, path, message);
        }
        value
    }

    fn convert(&mut self, ty: &Type, json: &Json, path: &str) -> Option<Value> {
        if json.is_null() {
            let shown = show_type(self.schema, ty);
            self.error(ErrorKind::NullValue, path, format!("`null` is not a value of type `{shown}`"));
            return None;
        }
        match (ty, json) {
            (Type::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
            (Type::Int { min, max }, Json::Number(n)) => {
                let n = self.int(n, path)?;
                if min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi) {
                    let shown = show_type(self.schema, ty);
                    self.error(
                        ErrorKind::OutOfDeclaredRange,
                        path,
                        format!("`{n}` is outside the declared range `{shown}`"),
                    );
                    return None;
                }
                Some(Value::Int(n))
            }
            (Type::String, Json::String(s)) => Some(Value::Str(s.clone())),
            (Type::Duration, Json::String(s)) => {
                self.parse(s, path, "Duration", "such as `15m` or `1h30m`", values::parse_duration).map(Value::Duration)
            }
            (Type::Timestamp, Json::String(s)) => self
                .parse(s, path, "Timestamp", "RFC 3339, such as `2026-01-31T09:30:00Z`", values::parse_timestamp)
                .map(Value::Timestamp),
            (Type::TimeOfDay, Json::String(s)) => self
                .parse(s, path, "TimeOfDay", "such as `09:30` or `09:30:15`", values::parse_time_of_day)
                .map(Value::TimeOfDay),
            (Type::Ip, Json::String(s)) => {
                self.parse(s, path, "Ip", "such as `10.0.0.1` or `2001:db8::1`", values::parse_ip).map(Value::Ip)
            }
            (Type::Cidr, Json::String(s)) => {
                self.parse(s, path, "Cidr", "such as `10.0.0.0/8`", values::parse_cidr).map(Value::Cidr)
            }
            (Type::Enum(id), Json::String(s)) => {
                let Some(decl) = self.schema.enums.get(id.0 as usize) else {
                    self.error(ErrorKind::UnknownEnumValue, path, format!("internal error: no enum type for `{s}`"));
                    return None;
                };
                match decl.values.iter().position(|v| v == s) {
                    Some(index) => Some(Value::Enum(*id, u32::try_from(index).ok()?)),
                    None => {
                        let expected: Vec<String> = decl.values.iter().map(|v| format!("`{v}`")).collect();
                        let message =
                            format!("`{s}` is not a value of `{}` (one of {})", decl.name, expected.join(", "));
                        self.error(ErrorKind::UnknownEnumValue, path, message);
                        None
                    }
                }
            }
            (Type::Set(element), Json::Array(items)) => {
                let mut out = BTreeSet::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.value(element, item, &format!("{path}[{i}]")) {
                        Some(v) => {
                            out.insert(v);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Value::Set(out))
            }
            (Type::Record(record), Json::Object(map)) => {
                let before = self.errors.len();
                let fields = self.record(record, map, path);
                (self.errors.len() == before).then_some(Value::Record(fields))
            }
            (Type::Entity(allowed), Json::Object(map)) => self.entity_ref(allowed, map, path),
            _ => {
                let shown = show_type(self.schema, ty);
                self.error(
                    ErrorKind::WrongType,
                    path,
                    format!("expected a value of type `{shown}`, found {}", describe(json)),
                );
                None
            }
        }
    }

    fn int(&mut self, n: &Number, path: &str) -> Option<i64> {
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        // serde_json reads integers above `i64::MAX` as `u64`, and integers
        // beyond 64 bits as `f64`; those without a fraction are integers
        // out of range, anything else is not an integer.
        let too_big = n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() >= TWO_POW_63);
        if too_big {
            self.error(ErrorKind::IntegerOutOfRange, path, format!("`{n}` does not fit in a 64-bit integer"));
        } else {
            self.error(ErrorKind::NotAnInteger, path, format!("expected an integer, found `{n}`"));
        }
        None
    }

    fn parse<T>(
        &mut self,
        text: &str,
        path: &str,
        ty: &str,
        example: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = parse(text);
        if parsed.is_none() {
            self.error(ErrorKind::InvalidValue, path, format!("`{text}` is not a valid `{ty}` ({example})"));
        }
        parsed
    }

    /// An entity-typed attribute value: `{"type": .., "id": ..}`.
    fn entity_ref(&mut self, allowed: &[EntityTypeId], map: &Map<String, Json>, path: &str) -> Option<Value> {
        let shown = show_type(self.schema, &Type::Entity(allowed.to_vec()));
        let (Some(Json::String(ty)), Some(Json::String(id)), 2) = (map.get("type"), map.get("id"), map.len()) else {
            self.error(
                ErrorKind::WrongType,
                path,
                format!(
                    "expected an entity of type `{shown}`, written `{{\"type\": .., \"id\": ..}}` with two strings"
                ),
            );
            return None;
        };
        let Some(entity_ty) = self.schema.entity_by_name(ty) else {
            self.error(ErrorKind::UnknownEntityType, path, format!("unknown entity type `{ty}`"));
            return None;
        };
        if !allowed.contains(&entity_ty) {
            self.error(
                ErrorKind::WrongType,
                path,
                format!("expected an entity of type `{shown}`, found one of type `{ty}`"),
            );
            return None;
        }
        Some(Value::entity(entity_ty, id.clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::program::{ActionDecl, EntityType, EnumId, EnumType, Field};
    use crate::span::Span;

    fn field(name: &str, ty: Type, optional: bool) -> Field {
        Field { name: name.into(), ty, optional, docs: None, span: Span::default() }
    }

    fn entity(name: &str, parents: Vec<u32>, fields: Vec<Field>) -> EntityType {
        EntityType {
            name: name.into(),
            package: "p".into(),
            parents: parents.into_iter().map(EntityTypeId).collect(),
            attrs: Record { fields },
            docs: None,
            span: Span::default(),
        }
    }

    /// Group {}, User in [Group] {..}, Model {..}; infer: User → Model.
    fn program() -> Program {
        let device = Record {
            fields: vec![
                field("managed", Type::Bool, false),
                field("patch", Type::Int { min: Some(0), max: None }, true),
            ],
        };
        let schema = Schema {
            entities: vec![
                entity("Group", vec![], vec![]),
                entity(
                    "User",
                    vec![0],
                    vec![
                        field("clearance", Type::Enum(EnumId(0)), false),
                        field("roles", Type::Set(Box::new(Type::String)), false),
                        field("mfa_age", Type::Duration, true),
                        field("risk", Type::Int { min: Some(0), max: Some(100) }, false),
                        field("device", Type::Record(Box::new(device)), false),
                        field("manager", Type::Entity(vec![EntityTypeId(1)]), true),
                    ],
                ),
                entity("Model", vec![], vec![field("tier", Type::Enum(EnumId(0)), false)]),
            ],
            enums: vec![EnumType {
                name: "Level".into(),
                package: "p".into(),
                values: vec!["public".into(), "secret".into()],
                ordered: true,
                docs: None,
                span: Span::default(),
            }],
            actions: vec![ActionDecl {
                name: "infer".into(),
                principals: vec![EntityTypeId(1)],
                resources: vec![EntityTypeId(2)],
                docs: None,
                span: Span::default(),
            }],
            context: Record {
                fields: vec![
                    field("n", Type::INT, false),
                    field("now", Type::Timestamp, false),
                    field("at", Type::TimeOfDay, true),
                    field("ip", Type::Ip, true),
                    field("net", Type::Cidr, true),
                    field("durations", Type::Set(Box::new(Type::Duration)), true),
                ],
            },
        };
        Program { schema, obligations: vec![], defs: vec![], rules: vec![], tests: vec![] }
    }

    fn good() -> Json {
        json!({
            "principal": {"type": "User", "id": "alice", "attributes": {
                "clearance": "secret", "roles": ["a", "b", "a"], "risk": 5,
                "device": {"managed": true}, "extra": null
            }, "ancestors": [{"type": "Group", "id": "ml"}]},
            "action": "infer",
            "resource": {"type": "Model", "id": "m", "attributes": {"tier": "public"}},
            "context": {"n": -3, "now": "2026-01-31T09:30:00Z"}
        })
    }

    fn check(request: Json) -> Result<ValidRequest, Vec<(ErrorKind, String)>> {
        let request = Request::from_value(request).map_err(|e| vec![(e.kind, String::new())])?;
        validate(&program(), &request)
            .map_err(|es| es.into_iter().map(|e| (e.kind, e.path.unwrap_or_default())).collect())
    }

    /// Applies `edit` to a good request and returns the errors.
    fn errors(edit: impl FnOnce(&mut Json)) -> Vec<(ErrorKind, String)> {
        let mut r = good();
        edit(&mut r);
        match check(r) {
            Ok(_) => vec![],
            Err(e) => e,
        }
    }

    fn one(kind: ErrorKind, path: &str) -> Vec<(ErrorKind, String)> {
        vec![(kind, path.to_owned())]
    }

    #[test]
    fn converts_a_good_request() {
        let valid = check(good()).expect("valid");
        let Value::Entity(p) = &valid.principal else { panic!("not an entity") };
        let data = p.data.as_ref().expect("data");
        assert_eq!(data.attrs["roles"], Value::Set([Value::Str("a".into()), Value::Str("b".into())].into()));
        assert_eq!(data.attrs["clearance"], Value::Enum(EnumId(0), 1));
        assert_eq!(data.attrs["risk"], Value::Int(5));
        assert_eq!(data.attrs["device"], Value::Record([("managed".to_owned(), Value::Bool(true))].into()));
        assert!(!data.attrs.contains_key("mfa_age"));
        assert!(!data.attrs.contains_key("extra"));
        assert_eq!(data.ancestors, [EntityKey { ty: EntityTypeId(0), id: "ml".into() }].into());
        assert_eq!(valid.action, ActionId(0));
        let Value::Record(ctx) = &valid.context else { panic!("not a record") };
        assert_eq!(ctx["now"], Value::Timestamp(1_769_851_800_000));
        assert_eq!(ctx["n"], Value::Int(-3));
    }

    #[test]
    fn converts_typed_strings() {
        let mut r = good();
        r["context"]["at"] = json!("09:30");
        r["context"]["ip"] = json!("::1");
        r["context"]["net"] = json!("10.1.2.3/8");
        r["context"]["durations"] = json!(["15m", "900s", "1h"]);
        r["principal"]["attributes"]["manager"] = json!({"type": "User", "id": "bob"});
        let valid = check(r).expect("valid");
        let Value::Record(ctx) = &valid.context else { panic!("not a record") };
        assert_eq!(ctx["at"], Value::TimeOfDay(34_200_000));
        assert_eq!(ctx["ip"], Value::Ip("::1".parse().expect("ip")));
        assert_eq!(ctx["net"], Value::Cidr(values::parse_cidr("10.0.0.0/8").expect("cidr")));
        assert_eq!(ctx["durations"], Value::Set([Value::Duration(900_000), Value::Duration(3_600_000)].into()));
        let Value::Entity(p) = &valid.principal else { panic!("not an entity") };
        assert_eq!(p.data.as_ref().expect("data").attrs["manager"], Value::entity(EntityTypeId(1), "bob"));
    }

    #[test]
    fn reports_each_class_with_its_path() {
        use ErrorKind::*;
        type Edit = Box<dyn FnOnce(&mut Json)>;
        let cases: Vec<(Edit, ErrorKind, &str)> = vec![
            (Box::new(|r| r["principal"]["type"] = json!("Robot")), UnknownEntityType, "principal.type"),
            (Box::new(|r| r["resource"]["type"] = json!("Robot")), UnknownEntityType, "resource.type"),
            (
                Box::new(|r| r["principal"]["ancestors"][0]["type"] = json!("Team")),
                UnknownEntityType,
                "principal.ancestors[0]",
            ),
            (
                Box::new(|r| {
                    r["principal"]["ancestors"] = json!([{"type": "Group", "id": "g"}, {"type": "Model", "id": "m"}])
                }),
                InvalidAncestor,
                "principal.ancestors[1]",
            ),
            (
                Box::new(|r| r["resource"]["ancestors"] = json!([{"type": "Group", "id": "g"}])),
                InvalidAncestor,
                "resource.ancestors[0]",
            ),
            (Box::new(|r| r["action"] = json!("train")), UnknownAction, "action"),
            (Box::new(|r| r["principal"]["attributes"]["clearance"] = Json::Null), NullValue, "principal.clearance"),
            (Box::new(|r| r["principal"]["attributes"]["mfa_age"] = Json::Null), NullValue, "principal.mfa_age"),
            (Box::new(|r| r["principal"]["attributes"]["roles"] = json!(["a", null])), NullValue, "principal.roles[1]"),
            (
                Box::new(|r| {
                    r["principal"]["attributes"].as_object_mut().map(|m| m.remove("risk"));
                }),
                MissingAttribute,
                "principal.risk",
            ),
            (
                Box::new(|r| {
                    r["context"].as_object_mut().map(|m| m.remove("now"));
                }),
                MissingAttribute,
                "context.now",
            ),
            (
                Box::new(|r| r["principal"]["attributes"]["device"] = json!({})),
                MissingAttribute,
                "principal.device.managed",
            ),
            (
                Box::new(|r| r["principal"]["attributes"]["device"]["managed"] = json!("yes")),
                WrongType,
                "principal.device.managed",
            ),
            (Box::new(|r| r["principal"]["attributes"]["device"] = json!([true])), WrongType, "principal.device"),
            (Box::new(|r| r["principal"]["attributes"]["roles"] = json!("a")), WrongType, "principal.roles"),
            (
                Box::new(|r| r["principal"]["attributes"]["roles"] = json!(["a", "b", 3])),
                WrongType,
                "principal.roles[2]",
            ),
            (Box::new(|r| r["principal"]["attributes"]["risk"] = json!("5")), WrongType, "principal.risk"),
            (Box::new(|r| r["context"]["now"] = json!(12)), WrongType, "context.now"),
            (Box::new(|r| r["principal"]["attributes"]["risk"] = json!(5.5)), NotAnInteger, "principal.risk"),
            (Box::new(|r| r["principal"]["attributes"]["risk"] = json!(5.0)), NotAnInteger, "principal.risk"),
            (Box::new(|r| r["context"]["n"] = json!(u64::MAX)), IntegerOutOfRange, "context.n"),
            (Box::new(|r| r["context"]["n"] = json!(9_223_372_036_854_775_808u64)), IntegerOutOfRange, "context.n"),
            (Box::new(|r| r["context"]["n"] = json!(1e30)), IntegerOutOfRange, "context.n"),
            (Box::new(|r| r["context"]["n"] = json!(-1e30)), IntegerOutOfRange, "context.n"),
            (Box::new(|r| r["principal"]["attributes"]["risk"] = json!(101)), OutOfDeclaredRange, "principal.risk"),
            (Box::new(|r| r["principal"]["attributes"]["risk"] = json!(-1)), OutOfDeclaredRange, "principal.risk"),
            (
                Box::new(|r| r["principal"]["attributes"]["device"]["patch"] = json!(-1)),
                OutOfDeclaredRange,
                "principal.device.patch",
            ),
            (Box::new(|r| r["resource"]["attributes"]["tier"] = json!("topsecret")), UnknownEnumValue, "resource.tier"),
            (
                Box::new(|r| r["principal"]["attributes"]["mfa_age"] = json!("15 minutes")),
                InvalidValue,
                "principal.mfa_age",
            ),
            (Box::new(|r| r["context"]["now"] = json!("2026-02-30T00:00:00Z")), InvalidValue, "context.now"),
            (Box::new(|r| r["context"]["at"] = json!("24:00")), InvalidValue, "context.at"),
            (Box::new(|r| r["context"]["ip"] = json!("10.0.0.256")), InvalidValue, "context.ip"),
            (Box::new(|r| r["context"]["net"] = json!("10.0.0.0/33")), InvalidValue, "context.net"),
            (Box::new(|r| r["context"]["durations"] = json!(["1m", "2x"])), InvalidValue, "context.durations[1]"),
            (
                Box::new(|r| r["principal"]["attributes"]["manager"] = json!({"type": "Robot", "id": "r"})),
                UnknownEntityType,
                "principal.manager",
            ),
            (
                Box::new(|r| r["principal"]["attributes"]["manager"] = json!({"type": "Model", "id": "m"})),
                WrongType,
                "principal.manager",
            ),
            (
                Box::new(|r| r["principal"]["attributes"]["manager"] = json!({"type": "User"})),
                WrongType,
                "principal.manager",
            ),
            (
                Box::new(|r| r["principal"]["attributes"]["manager"] = json!({"type": "User", "id": 1})),
                WrongType,
                "principal.manager",
            ),
            (Box::new(|r| r["principal"]["attributes"]["manager"] = json!("bob")), WrongType, "principal.manager"),
        ];
        for (edit, kind, path) in cases {
            assert_eq!(errors(edit), one(kind, path), "{kind:?} at {path}");
        }
    }

    #[test]
    fn action_must_apply_to_both_types() {
        let e = errors(|r| {
            r["principal"] = json!({"type": "Model", "id": "m", "attributes": {"tier": "public"}});
            r["resource"] = json!({"type": "User", "id": "u", "attributes": {
                "clearance": "public", "roles": [], "risk": 0, "device": {"managed": false}}});
        });
        assert_eq!(
            e,
            vec![
                (ErrorKind::ActionNotApplicable, "principal.type".to_owned()),
                (ErrorKind::ActionNotApplicable, "resource.type".to_owned()),
            ]
        );
    }

    #[test]
    fn collects_every_error_sorted() {
        let e = errors(|r| {
            r["principal"]["attributes"] = json!({"risk": 500, "roles": [1, 2]});
            r["context"] = json!({"n": 1.5});
            r["action"] = json!("train");
        });
        use ErrorKind::*;
        let expected = vec![
            (UnknownAction, "action"),
            (MissingAttribute, "context.now"),
            (MissingAttribute, "principal.clearance"),
            (MissingAttribute, "principal.device"),
            (WrongType, "principal.roles[0]"),
            (WrongType, "principal.roles[1]"),
            (NotAnInteger, "context.n"),
            (OutOfDeclaredRange, "principal.risk"),
        ];
        let expected: Vec<_> = expected.into_iter().map(|(k, p)| (k, p.to_owned())).collect();
        assert_eq!(e, expected);
    }

    #[test]
    fn unknown_types_skip_their_attributes_but_not_ancestors() {
        let e = errors(|r| {
            r["principal"] = json!({"type": "Robot", "id": "r", "ancestors": [{"type": "Team", "id": "t"}, {"type": "Group", "id": "g"}]});
        });
        assert_eq!(
            e,
            vec![
                (ErrorKind::UnknownEntityType, "principal.ancestors[0]".to_owned()),
                (ErrorKind::UnknownEntityType, "principal.type".to_owned()),
            ]
        );
    }

    #[test]
    fn messages_follow_the_house_style() {
        let mut r = good();
        r["principal"]["attributes"].as_object_mut().map(|m| m.remove("clearance"));
        r["principal"]["attributes"]["risk"] = Json::Null;
        r["principal"]["attributes"]["mfa_age"] = Json::Null;
        r["principal"]["attributes"]["roles"] = json!([null, 1]);
        r["resource"]["attributes"]["tier"] = json!("nope");
        r["context"]["n"] = json!(true);
        r["context"]["now"] = json!("yesterday");
        r["principal"]["ancestors"][0]["type"] = json!("Robot");
        let request = Request::from_value(r).expect("request");
        let es = validate(&program(), &request).expect_err("invalid");
        let messages: Vec<&str> = es.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "unknown entity type `Robot`",
                "required attribute `clearance` is missing",
                "attribute `mfa_age` is `null`; leave an absent optional attribute out",
                "attribute `risk` is `null`, expected a value of type `Int[0..100]`",
                "`null` is not a value of type `String`",
                "expected a value of type `Int`, found the boolean `true`",
                "expected a value of type `String`, found the number `1`",
                "`nope` is not a value of `Level` (one of `public`, `secret`)",
                "`yesterday` is not a valid `Timestamp` (RFC 3339, such as `2026-01-31T09:30:00Z`)",
            ]
        );
        assert!(es.iter().all(|e| e.rule.is_none()));
        assert!(es.iter().all(|e| { e.message.starts_with(|c: char| c == '`' || c.is_lowercase()) }));
    }

    #[test]
    fn serde_json_reads_huge_integers_as_floats() {
        // The distinction `int` relies on.
        let n: Json = serde_json::from_str("100000000000000000000").expect("json");
        assert!(n.is_f64());
        let n: Json = serde_json::from_str("18446744073709551615").expect("json");
        assert!(n.is_u64());
        let mut r = good();
        r["context"]["n"] = n;
        assert_eq!(check(r).err(), Some(one(ErrorKind::IntegerOutOfRange, "context.n")));
        let text = good().to_string().replace("\"n\":-3", "\"n\":-100000000000000000000");
        let request = Request::from_json(text.as_bytes()).expect("request");
        let es = validate(&program(), &request).expect_err("invalid");
        assert_eq!(es[0].kind, ErrorKind::IntegerOutOfRange);
        let text = good().to_string().replace("\"n\":-3", "\"n\":1e3");
        let request = Request::from_json(text.as_bytes()).expect("request");
        let es = validate(&program(), &request).expect_err("invalid");
        assert_eq!(es[0].kind, ErrorKind::NotAnInteger);
    }
}
