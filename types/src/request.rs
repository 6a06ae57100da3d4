//! The request format: who (principal) wants to do what (action) to which
//! resource, in which context. Attribute values stay JSON until an engine
//! validates them against its schema.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decision::{DecisionError, ErrorKind};

/// A request for a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Who is asking.
    pub principal: EntityData,
    /// The action's name.
    pub action: String,
    /// What the action is on.
    pub resource: EntityData,
    /// Facts about the request: network, time, detector verdicts, counters.
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// An entity as the request carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityData {
    /// The entity type's name.
    #[serde(rename = "type")]
    pub ty: String,
    /// The entity's id.
    pub id: String,
    /// Attribute values; attributes the schema does not declare are ignored.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Every entity this one is a member of, directly or transitively.
    #[serde(default)]
    pub ancestors: Vec<EntityRef>,
}

/// A reference to an entity: its type and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRef {
    /// The entity type's name.
    #[serde(rename = "type")]
    pub ty: String,
    /// The entity's id.
    pub id: String,
}

impl Request {
    /// Parses a request from JSON text. A document that is not a request is
    /// an error that a decision reports (fail closed), not a crash.
    pub fn from_json(text: &[u8]) -> Result<Request, DecisionError> {
        serde_json::from_slice(text).map_err(|e| DecisionError {
            kind: ErrorKind::MalformedRequest,
            path: None,
            rule: None,
            message: format!("the request is not a valid request document: {e}"),
        })
    }

    /// Parses a request from a JSON value.
    pub fn from_value(value: Value) -> Result<Request, DecisionError> {
        serde_json::from_value(value).map_err(|e| DecisionError {
            kind: ErrorKind::MalformedRequest,
            path: None,
            rule: None,
            message: format!("the request is not a valid request document: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_and_defaults_optional_parts() {
        let r = Request::from_json(
            br#"{"principal":{"type":"User","id":"alice"},"action":"infer","resource":{"type":"Model","id":"m","attributes":{"tier":"public"}}}"#,
        )
        .expect("valid request");
        assert_eq!(r.principal.ty, "User");
        assert!(r.principal.ancestors.is_empty());
        assert!(r.context.is_empty());
        assert_eq!(r.resource.attributes["tier"], "public");
    }

    #[test]
    fn rejects_malformed_documents() {
        for text in [
            &b"not json"[..],
            br#"{"action":"infer"}"#,
            br#"[1]"#,
            br#"{"principal":{"type":"U","id":"a","atributes":{}},"action":"x","resource":{"type":"M","id":"m"}}"#,
        ] {
            let e = Request::from_json(text).expect_err("malformed");
            assert_eq!(e.kind, ErrorKind::MalformedRequest);
        }
    }
}
