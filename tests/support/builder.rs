//! Drives a `RequestBuilder` from a parsed request, the way an enforcement
//! point with its own request types would: names resolved to handles, each
//! value set through the typed setter its JSON form suggests.

use serde_json::{Map, Value as Json};
use ward_runtime::{AttributeHandle, Decision, DecisionModule, EntityTypeHandle, Evaluator, Request, UnknownName};

/// Builds `request` with a `RequestBuilder` and decides it; `None` when a
/// name it uses (action, entity type) has no handle, so the builder cannot
/// express it. Attributes the module does not declare are left out, as the
/// request format ignores them.
pub fn decide_built(module: &DecisionModule, evaluator: &mut Evaluator, request: &Request) -> Option<Decision> {
    let action = module.action(&request.action).ok()?;
    let (principal, principal_ancestors) = entity(module, &request.principal)?;
    let (resource, resource_ancestors) = entity(module, &request.resource)?;
    let mut builder = evaluator.request();
    builder.action(action);
    builder.principal(principal, &request.principal.id, &principal_ancestors);
    builder.resource(resource, &request.resource.id, &resource_ancestors);
    let resolve_principal = |name: &str| module.principal_attribute(principal, name);
    let resolve_resource = |name: &str| module.resource_attribute(resource, name);
    let resolve_context = |name: &str| module.context_attribute(name);
    set_all(&mut builder, &request.principal.attributes, "", &resolve_principal);
    set_all(&mut builder, &request.resource.attributes, "", &resolve_resource);
    set_all(&mut builder, &request.context, "", &resolve_context);
    Some(builder.evaluate().into_decision())
}

/// An entity's type and ancestors as handles.
#[allow(clippy::type_complexity)]
fn entity<'r>(
    module: &DecisionModule,
    data: &'r ward_types::EntityData,
) -> Option<(EntityTypeHandle, Vec<(EntityTypeHandle, &'r str)>)> {
    let ty = module.entity_type(&data.ty).ok()?;
    let ancestors = data
        .ancestors
        .iter()
        .map(|a| Some((module.entity_type(&a.ty).ok()?, a.id.as_str())))
        .collect::<Option<Vec<_>>>()?;
    Some((ty, ancestors))
}

type Resolve<'a> = dyn Fn(&str) -> Result<AttributeHandle, UnknownName> + 'a;

fn set_all(
    builder: &mut ward_runtime::RequestBuilder<'_>,
    values: &Map<String, Json>,
    prefix: &str,
    resolve: &Resolve<'_>,
) {
    for (name, value) in values {
        let dotted = format!("{prefix}{name}");
        let Ok(handle) = resolve(&dotted) else {
            continue;
        };
        match value {
            Json::Bool(b) => {
                builder.set_bool(&handle, *b);
            }
            Json::Number(n) if n.as_i64().is_some() => {
                builder.set_int(&handle, n.as_i64().unwrap_or(0));
            }
            Json::String(s) => {
                builder.set_str(&handle, s);
            }
            Json::Array(items) if items.iter().all(Json::is_string) => {
                let texts: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
                builder.set_strs(&handle, &texts);
            }
            // A record's fields one by one, when it names any of them;
            // anything else (entities, other sets, empty or foreign
            // objects, nulls, fractions) whole.
            Json::Object(fields) if fields.keys().any(|k| resolve(&format!("{dotted}.{k}")).is_ok()) => {
                set_all(builder, fields, &format!("{dotted}."), resolve);
            }
            other => {
                builder.set_json(&handle, other);
            }
        }
    }
}
